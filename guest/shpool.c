/* Shared-memory pool (guest/include/guest/shpool.h). */
#include <guest/shpool.h>
#include <string.h>

/* Pools guest_handover() unshares before it jumps. */
#define MAX_LIVE_POOLS 4
static struct shpool *live_pools[MAX_LIVE_POOLS];

/* Asks the peer (retrying while it is busy elsewhere); the reply's x3 is
 * the peer's status, x4 its value. */
#define PEER_TRIES 100000

static int32_t ask_peer(const struct shpool *p, uint32_t msg, uint64_t a,
			uint64_t b, uint64_t *value)
{
	uint64_t words[5] = {msg, a, b, 0, 0};
	struct ffa_value r;

	for (int i = 0; i < PEER_TRIES; i++) {
		r = ffa_direct_req(p->mb->self, p->peer, words, true);
		if (!ffa_is_error(&r, FFA_BUSY)) {
			break;
		}
		guest_cpu_relax();
	}
	if (ffa_value_is(&r, FFA_ERROR)) {
		return ffa_value_error(&r);
	}
	if (value != NULL) {
		*value = r.x[4];
	}
	return (int32_t)r.x[3];
}

/* The granule FFA_FEATURES(RXTX_MAP) reports: w2[1:0]. */
static size_t discover_granule(void)
{
	static const size_t sizes[4] = {0x1000, 0x10000, 0x4000, 0x1000};
	uint32_t w2 = 0;
	uint32_t w3 = 0;

	if (ffa_features(FFA_RXTX_MAP_64, &w2, &w3) != 0) {
		return 0x1000;
	}
	return sizes[w2 & 3];
}

static void register_pool(struct shpool *p)
{
	guest_handover_hook = shpool_unshare_everything;
	for (int i = 0; i < MAX_LIVE_POOLS; i++) {
		if (live_pools[i] == NULL || live_pools[i] == p) {
			live_pools[i] = p;
			return;
		}
	}
}

static void forget_pool(struct shpool *p)
{
	for (int i = 0; i < MAX_LIVE_POOLS; i++) {
		if (live_pools[i] == p) {
			live_pools[i] = NULL;
		}
	}
}

static void common_init(struct shpool *p, struct ffa_mailbox *mb, uint16_t peer,
			enum shpool_backend backend)
{
	memset(p, 0, sizeof(*p));
	p->mb = mb;
	p->peer = peer;
	p->backend = backend;
	p->granule = discover_granule();
	p->live = true;
	register_pool(p);
}

int32_t shpool_init_dynamic(struct shpool *p, struct ffa_mailbox *mb,
			    uint16_t peer, void *heap, size_t heap_size,
			    size_t min_block)
{
	size_t units;

	common_init(p, mb, peer, SHPOOL_DYNAMIC);
	units = heap_size / p->granule;
	if ((uintptr_t)heap % p->granule != 0 || units == 0 ||
	    units > SHPOOL_MAX_HEAP_UNITS) {
		shpool_destroy(p);
		return FFA_INVALID_PARAMETERS;
	}
	p->heap_base = (uintptr_t)heap;
	bitalloc_init(&p->heap, p->heap_bits, (uint32_t)units);
	p->min_block = min_block < p->granule ? p->granule : min_block;
	p->min_block = (p->min_block + p->granule - 1) & ~(p->granule - 1);
	if (p->min_block > SHPOOL_MAX_BLOCK_SIZE) {
		p->min_block = SHPOOL_MAX_BLOCK_SIZE;
	}
	return 0;
}

static struct shpool_block *add_block(struct shpool *p, uintptr_t base,
				      size_t size, uint64_t handle)
{
	struct shpool_block *b = &p->blocks[p->block_count++];

	b->base = base;
	b->size = size;
	b->handle = handle;
	bitalloc_init(&b->alloc, b->bits, (uint32_t)(size / SHPOOL_UNIT));
	return b;
}

int32_t shpool_init_static(struct shpool *p, struct ffa_mailbox *mb,
			   uint16_t peer, void *region, size_t size)
{
	int32_t err;

	common_init(p, mb, peer, SHPOOL_STATIC);
	size = size > SHPOOL_MAX_BLOCK_SIZE ? SHPOOL_MAX_BLOCK_SIZE : size;
	if ((uintptr_t)region % SHPOOL_UNIT != 0 || size < SHPOOL_UNIT) {
		shpool_destroy(p);
		return FFA_INVALID_PARAMETERS;
	}
	err = ask_peer(p, SHPOOL_MSG_STATIC, (uintptr_t)region, size, NULL);
	if (err != 0) {
		shpool_destroy(p);
		return err;
	}
	add_block(p, (uintptr_t)region, size, 0);
	return 0;
}

static void *alloc_in(struct shpool_block *b, uint32_t units, uint32_t align)
{
	/* aligned addresses: the block's base need not be aligned */
	int64_t at = bitalloc_alloc_skewed(&b->alloc, units, align,
					   (uint32_t)(b->base / SHPOOL_UNIT));

	return at < 0 ? NULL : (void *)(b->base + (uint64_t)at * SHPOOL_UNIT);
}

/* A new block for at least `size` bytes aligned to `align`: from the heap,
 * shared and announced in one go; NULL (nothing kept) on failure. */
static struct shpool_block *refill(struct shpool *p, size_t size, size_t align)
{
	size_t need = (size + p->granule - 1) & ~(p->granule - 1);
	size_t bytes = need > p->min_block ? need : p->min_block;
	uint32_t align_units =
	    align > p->granule ? (uint32_t)(align / p->granule) : 1;
	int64_t at = -1;
	uint64_t handle = 0;
	uint64_t where = 0;
	uintptr_t base;
	int32_t err;

	if (p->block_count == SHPOOL_MAX_BLOCKS ||
	    need > SHPOOL_MAX_BLOCK_SIZE) {
		return NULL;
	}
	at = bitalloc_alloc(&p->heap, (uint32_t)(bytes / p->granule),
			    align_units);
	if (at < 0 && bytes > need) {
		bytes = need; /* the heap is low: just enough */
		at = bitalloc_alloc(&p->heap, (uint32_t)(bytes / p->granule),
				    align_units);
	}
	if (at < 0) {
		return NULL; /* heap exhausted */
	}
	base = p->heap_base + (uint64_t)at * p->granule;
	err = ffa_mem_share(p->mb, p->peer, (void *)base,
			    (uint32_t)(bytes / FFA_PAGE_SIZE), FFA_MEM_DATA_RW,
			    &handle);
	if (err == 0) {
		p->stats.transactions++;
		err = ask_peer(p, SHPOOL_MSG_ANNOUNCE, handle, bytes, &where);
		if (err != 0 || where != base) {
			/* the peer did not take it: take it back */
			ffa_mem_reclaim(handle, 0);
			p->stats.transactions++;
			err = err != 0 ? err : FFA_INVALID_PARAMETERS;
		}
	}
	if (err != 0) {
		bitalloc_free(&p->heap, (uint32_t)at,
			      (uint32_t)(bytes / p->granule));
		return NULL;
	}
	p->stats.refills++;
	return add_block(p, base, bytes, handle);
}

void *shpool_alloc(struct shpool *p, size_t size, size_t align)
{
	uint32_t units;
	uint32_t align_units;
	struct shpool_block *b;
	void *ptr = NULL;

	if (!p->live || size == 0 || size > SHPOOL_MAX_BLOCK_SIZE ||
	    (align & (align - 1)) != 0) {
		return NULL;
	}
	units = (uint32_t)((size + SHPOOL_UNIT - 1) / SHPOOL_UNIT);
	align_units = align > SHPOOL_UNIT ? (uint32_t)(align / SHPOOL_UNIT) : 1;
	for (uint32_t i = 0; i < p->block_count && ptr == NULL; i++) {
		if (p->blocks[i].size != 0) {
			ptr = alloc_in(&p->blocks[i], units, align_units);
		}
	}
	if (ptr == NULL && p->backend == SHPOOL_DYNAMIC) {
		b = refill(p, size, align);
		ptr = b != NULL ? alloc_in(b, units, align_units) : NULL;
	}
	if (ptr != NULL) {
		p->stats.allocs++;
	}
	return ptr;
}

bool shpool_free(struct shpool *p, void *ptr, size_t size)
{
	uintptr_t a = (uintptr_t)ptr;

	for (uint32_t i = 0; i < p->block_count && size != 0; i++) {
		struct shpool_block *b = &p->blocks[i];

		if (b->size != 0 && a >= b->base && a < b->base + b->size &&
		    (a - b->base) % SHPOOL_UNIT == 0) {
			return bitalloc_free(
			    &b->alloc, (uint32_t)((a - b->base) / SHPOOL_UNIT),
			    (uint32_t)((size + SHPOOL_UNIT - 1) / SHPOOL_UNIT));
		}
	}
	return false;
}

int32_t shpool_unshare_all(struct shpool *p)
{
	int32_t first = 0;
	uint32_t kept = 0;

	p->failed_handle = 0;
	for (uint32_t i = 0; i < p->block_count; i++) {
		struct shpool_block *b = &p->blocks[i];
		int32_t err = 0;

		if (b->handle == 0) {
			continue; /* the static region: nothing to undo */
		}
		/* the peer lets go first; then it is ours again (a reclaim
		 * also works if the peer never retrieved it) */
		err = ask_peer(p, SHPOOL_MSG_GIVE_BACK, b->handle, 0, NULL);
		if (err == 0) {
			err = ffa_mem_reclaim(b->handle, 0);
		} else if (ffa_mem_reclaim(b->handle, 0) == 0) {
			err = 0;
		}
		if (err == 0) {
			p->stats.transactions++;
			bitalloc_free(
			    &p->heap,
			    (uint32_t)((b->base - p->heap_base) / p->granule),
			    (uint32_t)(b->size / p->granule));
			continue;
		}
		guest_printf("shpool: peer %u kept handle %#lx (error %d); "
			     "it stays shared\n",
			     p->peer, b->handle, err);
		if (first == 0) {
			first = err;
			p->failed_handle = b->handle;
		}
		/* still shared: out of use, but remembered for a retry */
		bitalloc_init(&b->alloc, b->bits, 0);
		p->blocks[kept++] = *b;
	}
	/* the static region stays the pool, empty again */
	for (uint32_t i = 0; i < p->block_count; i++) {
		if (p->blocks[i].handle == 0) {
			bitalloc_init(
			    &p->blocks[i].alloc, p->blocks[i].bits,
			    (uint32_t)(p->blocks[i].size / SHPOOL_UNIT));
			p->blocks[kept++] = p->blocks[i];
		}
	}
	p->block_count = kept;
	return first;
}

int32_t shpool_destroy(struct shpool *p)
{
	int32_t err = p->live ? shpool_unshare_all(p) : 0;

	p->live = false;
	forget_pool(p);
	return err;
}

int32_t shpool_unshare_everything(void)
{
	int32_t first = 0;

	for (int i = 0; i < MAX_LIVE_POOLS; i++) {
		if (live_pools[i] != NULL) {
			int32_t err = shpool_unshare_all(live_pools[i]);

			first = first != 0 ? first : err;
		}
	}
	return first;
}

/* --- The peer's side ----------------------------------------------------- */

void shpool_peer_init(struct shpool_peer *peer, struct ffa_mailbox *mb)
{
	memset(peer, 0, sizeof(*peer));
	peer->mb = mb;
}

static int32_t peer_retrieve(struct shpool_peer *peer, uint16_t owner,
			     uint64_t handle, uint64_t *where)
{
	struct ffa_mem_transaction t;
	struct ffa_mem_constituent range;
	int32_t err;

	if (peer->count == SHPOOL_MAX_BLOCKS) {
		return FFA_NO_MEMORY;
	}
	/* a pool block is one range */
	err = ffa_mem_retrieve(peer->mb, handle, owner, 0, FFA_MEM_TYPE_SHARE,
			       FFA_MEM_DATA_RW, 0, &t, &range, 1);
	if (err != 0) {
		return err;
	}
	peer->blocks[peer->count++] = (struct shpool_peer_block){
	    handle, range.address, (size_t)range.page_count * FFA_PAGE_SIZE};
	*where = range.address;
	return 0;
}

static int32_t peer_give_back(struct shpool_peer *peer, uint64_t handle)
{
	for (uint32_t i = 0; i < peer->count; i++) {
		if (peer->blocks[i].handle == handle && handle != 0) {
			int32_t err;

			if (peer->refuse_give_back) {
				return FFA_DENIED;
			}
			err = ffa_mem_relinquish(peer->mb, handle, 0);
			if (err == 0) {
				peer->blocks[i] = peer->blocks[--peer->count];
			}
			return err;
		}
	}
	return FFA_INVALID_PARAMETERS;
}

bool shpool_peer_handle(struct shpool_peer *peer, const struct ffa_value *req,
			uint64_t *resp)
{
	uint16_t owner = ffa_sender(req->x[1]);
	uint64_t where = 0;

	switch ((uint32_t)req->x[3]) {
	case SHPOOL_MSG_ANNOUNCE:
		resp[0] =
		    (uint32_t)peer_retrieve(peer, owner, req->x[4], &where);
		resp[1] = where;
		return true;
	case SHPOOL_MSG_STATIC:
		if (peer->count == SHPOOL_MAX_BLOCKS) {
			resp[0] = (uint32_t)FFA_NO_MEMORY;
			return true;
		}
		peer->blocks[peer->count++] =
		    (struct shpool_peer_block){0, req->x[4], req->x[5]};
		resp[0] = 0;
		return true;
	case SHPOOL_MSG_GIVE_BACK:
		resp[0] = (uint32_t)peer_give_back(peer, req->x[4]);
		return true;
	default:
		return false;
	}
}

bool shpool_peer_holds(const struct shpool_peer *peer, uint64_t addr,
		       uint64_t len)
{
	for (uint32_t i = 0; i < peer->count; i++) {
		const struct shpool_peer_block *b = &peer->blocks[i];

		if (addr >= b->base && len <= b->size &&
		    addr - b->base <= b->size - len) {
			return true;
		}
	}
	return false;
}
