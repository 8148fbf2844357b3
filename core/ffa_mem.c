/*
 * FF-A memory transactions: MEM_SHARE, MEM_LEND, MEM_DONATE, MEM_RETRIEVE_REQ,
 * MEM_RELINQUISH and MEM_RECLAIM, within the manifest's memory grants.
 *
 * Every call validates everything first, then prepares every stage-2
 * change (reserving the page-table pages it may need), then commits; a
 * commit cannot fail, so a rejected call changes nothing.
 *
 * Descriptors longer than the TX buffer arrive in fragments (MEM_FRAG_TX
 * after MEM_FRAG_RX); a retrieve response longer than the RX buffer leaves
 * in fragments (MEM_FRAG_RX from the borrower, answered MEM_FRAG_TX).
 * Fragments after the first hold whole constituents. Everything the first
 * fragment holds (receivers, grants, permissions, the page count) is
 * checked when it arrives, so a sender without a grant never holds a
 * slot; a sender drops its half-sent descriptor with MEM_RECLAIM.
 *
 * Quotas: a partition may own at most its manifest `mem_transactions`
 * slots (sending or live); beyond that its sends get NO_MEMORY, whatever
 * room the table has for others.
 *
 * Locks (order in core/include/core/partition.h): the partitions a call
 * involves, in ID order, then the transaction table (mem_table_lock: slot
 * states, handles, the grants' counters and the per-owner counts); a
 * function that needs the table locked takes a `struct mem_table_locked`.
 * A transaction is changed only with its owner's lock held as well, so a
 * call that holds the owner's lock may drop the table lock while it
 * zeroes pages (zero_pages): no other partition waits on the global lock
 * for that.
 *
 * Page states in the owner's stage 2 (the manifest maps RAM RWX, owned,
 * exclusive): a page may be sent when it is owned, exclusive, valid,
 * normal memory, readable and writable, and not an RX/TX buffer. While
 * shared the owner keeps its access (MM_MODE_SHARED); while lent or
 * donated-but-not-retrieved it has none (MM_MODE_INVALID, still owned).
 *
 * When a partition stops or restarts (ffa_mem_partition_stopped), every
 * transaction it owns ends at once: borrowers lose their access, the pages
 * are zeroed and go home; its half-sent descriptors are dropped; memory it
 * borrowed is relinquished on its behalf with the flags its retrieve asked
 * for. A restarted partition never sees data written after the restart
 * began, and nothing outlives the transactions' last holder.
 */
#include <bulkhead/ffa.h>
#include <core/arch.h>
#include <core/ffa.h>
#include <core/log.h>
#include <string.h>

enum mem_type {
	MEM_SHARE = FFA_MEM_TYPE_SHARE,
	MEM_LEND = FFA_MEM_TYPE_LEND,
	MEM_DONATE = FFA_MEM_TYPE_DONATE,
};

struct mem_borrower {
	struct partition *part;
	uint8_t permissions; /* as sent */
	uint8_t flags;
	uint32_t impdef[4]; /* as sent (v1.2 descriptors) */
	bool retrieved;
	uint8_t granted;      /* permissions retrieved */
	uint16_t attributes;  /* memory attributes retrieved */
	bool zero_after;      /* zero the pages if it stops holding them */
	uint32_t mode;	      /* stage-2 mode while retrieved */
	uint32_t frag_offset; /* next response fragment; 0: none pending */
	const struct manifest_grant *grant;
};

enum tx_state {
	TX_FREE,
	TX_SENDING, /* claimed by a send still being checked or fragmented */
	TX_LIVE,
	TX_DONATED, /* retrieved by its new owner; response fragments left */
};

struct mem_transaction {
	enum tx_state state;
	uint32_t generation;
	uint32_t slot; /* its index in the table (set when claimed) */
	enum mem_type type;
	struct partition *owner;
	uint32_t owner_mode; /* the pages' mode before the send */
	uint16_t attributes;
	uint32_t flags;
	uint64_t tag;
	bool dirty;	   /* written by a borrower since the send zeroed it */
	bool zero_pending; /* zero once no borrower holds the pages */
	uint32_t borrower_count;
	struct mem_borrower borrowers[CONFIG_FFA_MEM_MAX_BORROWERS];
	uint32_t page_count;
	uint32_t constituent_count;
	/* while TX_SENDING: the parsed first fragment, the bytes so far */
	struct ffa_mem_transaction desc;
	uint32_t total_length;
	uint32_t received_length;
	uint32_t received; /* constituents so far */
	/* in address order once the send is complete */
	struct ffa_mem_constituent
	    constituents[CONFIG_FFA_MEM_MAX_CONSTITUENTS];
};

static struct spinlock mem_lock = SPINLOCK_INIT;

/* Proof that the caller holds the transaction table's lock. */
struct mem_table_locked {
	struct spinlock *lock;
};

static struct mem_table_locked mem_table_lock(void)
{
	sl_lock(&mem_lock);
	return (struct mem_table_locked){&mem_lock};
}

static void mem_table_unlock(struct mem_table_locked *locked)
{
	sl_unlock(locked->lock);
	locked->lock = NULL;
}

static struct mem_transaction transactions[CONFIG_FFA_MEM_MAX_TRANSACTIONS];
/* Pages outstanding per grant (index into bulkhead_manifest.grants). */
static uint32_t grant_outstanding[CONFIG_MAX_GRANTS + 1];
/* Slots each partition owns (index = partition index), against its
 * manifest quota. */
static uint32_t owner_slots[CONFIG_MAX_PARTITIONS];

#define HANDLE_SLOT_MASK	0xffffull
#define HANDLE_GENERATION_SHIFT 16

static uint64_t handle_of(const struct mem_transaction *tx)
{
	return FFA_MEM_HANDLE_HYPERVISOR |
	       ((uint64_t)tx->generation << HANDLE_GENERATION_SHIFT) | tx->slot;
}

/* The transaction `handle` names in `state`, or NULL. */
static struct mem_transaction *find_in(struct mem_table_locked table,
				       uint64_t handle, enum tx_state state)
{
	uint64_t slot = handle & HANDLE_SLOT_MASK;
	struct mem_transaction *tx;

	(void)table;
	if (!(handle & FFA_MEM_HANDLE_HYPERVISOR) ||
	    slot >= CONFIG_FFA_MEM_MAX_TRANSACTIONS) {
		return NULL;
	}
	tx = &transactions[slot];
	if (tx->state != state || handle != handle_of(tx)) {
		return NULL;
	}
	return tx;
}

static struct mem_transaction *find(struct mem_table_locked table,
				    uint64_t handle)
{
	return find_in(table, handle, TX_LIVE);
}

/*
 * A free slot for a send by `owner`, marked TX_SENDING and counted
 * against its quota; NULL (NO_MEMORY) when the owner's quota or the table
 * is full.
 */
static struct mem_transaction *claim(struct mem_table_locked table,
				     struct partition *owner)
{
	(void)table;
	if (owner_slots[owner->index] >= owner->m->mem_transactions) {
		return NULL;
	}
	for (uint32_t i = 0; i < CONFIG_FFA_MEM_MAX_TRANSACTIONS; i++) {
		struct mem_transaction *tx = &transactions[i];

		if (tx->state == TX_FREE) {
			tx->slot = i;
			tx->owner = owner;
			tx->state = TX_SENDING;
			owner_slots[owner->index]++;
			return tx;
		}
	}
	return NULL;
}

/* Ends a transaction: its slot is free and its handle stale. */
static void release(struct mem_table_locked table, struct mem_transaction *tx)
{
	(void)table;
	owner_slots[tx->owner->index]--;
	tx->state = TX_FREE;
	tx->generation++;
}

/* --- helpers -------------------------------------------------------------- */

typedef struct ffa_value (*caller_op)(struct vcpu *v,
				      struct mem_table_locked *table,
				      uint32_t version);

/* Runs `op` for a call on the caller's own transactions, with the
 * caller's lock and then the table's held. */
static inline __attribute__((always_inline)) struct ffa_value
with_caller_locked(struct vcpu *v, caller_op op, uint32_t version)
{
	struct partition_locked locked = partition_lock(v->part);
	struct mem_table_locked table = mem_table_lock();
	struct ffa_value ret = op(v, &table, version);

	mem_table_unlock(&table);
	partition_unlock(&locked);
	return ret;
}

/* The handle a call passes in w1 (low half) and w2 (high half). */
static uint64_t handle_arg(const struct vcpu *v)
{
	return (uint32_t)v->regs.x[1] | (uint64_t)(uint32_t)v->regs.x[2] << 32;
}

static uint64_t range_end(const struct ffa_mem_constituent *c)
{
	return c->address + (uint64_t)c->page_count * FFA_PAGE_SIZE;
}

static bool overlaps(uint64_t a, uint64_t a_end, uint64_t b, uint64_t b_end)
{
	return a < b_end && b < a_end;
}

static bool touches_mailbox(const struct partition *p, uint64_t begin,
			    uint64_t end)
{
	const struct ffa_mailbox *mb = &p->mailbox;
	uint64_t tx = ipa_addr(mb->tx);
	uint64_t rx = ipa_addr(mb->rx);

	return mailbox_mapped(mb) &&
	       (overlaps(begin, end, tx, tx + mailbox_size(mb)) ||
		overlaps(begin, end, rx, rx + mailbox_size(mb)));
}

static uint32_t perms_to_mode(uint8_t perms)
{
	uint32_t mode = MM_MODE_R;

	if ((perms & FFA_MEM_DATA_MASK) == FFA_MEM_DATA_RW) {
		mode |= MM_MODE_W;
	}
	if ((perms & FFA_MEM_INSTR_MASK) == FFA_MEM_INSTR_X) {
		mode |= MM_MODE_X;
	}
	return mode;
}

/* A receiver's implementation-defined value (4-byte aligned in struct
 * ffa_mem_receiver): copied and compared as words, not bytes. */
#define IMPDEF(r) __builtin_assume_aligned((r)->impdef, 4)

static void impdef_get(uint32_t words[4], const struct ffa_mem_receiver *r)
{
	memcpy(words, IMPDEF(r), 4 * sizeof(uint32_t));
}

static bool impdef_equal(const uint32_t words[4],
			 const struct ffa_mem_receiver *r)
{
	uint32_t w[4];

	impdef_get(w, r);
	return ((w[0] ^ words[0]) | (w[1] ^ words[1]) | (w[2] ^ words[2]) |
		(w[3] ^ words[3])) == 0;
}

/* The grant from `owner` to `borrower`, or NULL (then nothing may be
 * sent). Its index is grant - bulkhead_manifest.grants. */
static const struct manifest_grant *grant_for(const struct partition *owner,
					      const struct partition *borrower)
{
	for (uint32_t i = 0; i < bulkhead_manifest.grant_count; i++) {
		const struct manifest_grant *g = &bulkhead_manifest.grants[i];

		if (g->sender == owner->m->id &&
		    g->receiver == borrower->m->id) {
			return g;
		}
	}
	return NULL;
}

static uint32_t *outstanding(const struct manifest_grant *g)
{
	return &grant_outstanding[g - bulkhead_manifest.grants];
}

static bool inside_grant_ranges(const struct manifest_grant *g,
				const struct ffa_mem_constituent *c)
{
	if (g->range_count == 0) {
		return true;
	}
	for (uint32_t i = 0; i < g->range_count; i++) {
		const struct manifest_region *r = &g->ranges[i];

		if (c->address >= r->base &&
		    range_end(c) <= r->base + r->size) {
			return true;
		}
	}
	return false;
}

/* Applies `mode` to every constituent of `tx` in `p`'s stage 2, all or
 * nothing: prepare both tables first with prepare_changes, then commit. */
struct s2_update {
	struct partition *p;
	struct mm_change changes[CONFIG_FFA_MEM_MAX_CONSTITUENTS];
	size_t count;
	struct mpool reserve;
};

/* Each CPU's two stage-2 updates (a call needs at most owner + borrower;
 * too large for the EL2 stack). */
static struct s2_update cpu_updates[CONFIG_MAX_CPUS][2];

static struct s2_update *cpu_update(const struct vcpu *v, int which)
{
	return &cpu_updates[v->cpu][which];
}

static void s2_init(struct s2_update *u, struct partition *p,
		    const struct mem_transaction *tx, uint32_t mode)
{
	u->p = p;
	u->count = tx->constituent_count;
	mpool_init(&u->reserve);
	for (uint32_t i = 0; i < tx->constituent_count; i++) {
		const struct ffa_mem_constituent *c = &tx->constituents[i];

		u->changes[i] = (struct mm_change){
		    ipa_init(c->address), ipa_init(range_end(c)), mode};
	}
}

static bool s2_prepare(struct s2_update *u)
{
	return mm_prepare(&u->p->ptable, u->changes, u->count,
			  partition_pool(u->p), &u->reserve);
}

static void s2_abandon(struct s2_update *u)
{
	mpool_give_all(partition_pool(u->p), &u->reserve);
}

static void s2_commit(struct s2_update *u)
{
	mm_commit(&u->p->ptable, u->changes, u->count, &u->reserve);
	if (u->reserve.count != 0) { /* private: no lock needed to look */
		mpool_give_all(partition_pool(u->p), &u->reserve);
	}
}

/*
 * Zeroes the pages of `tx` (and makes the zeros visible to guests). The
 * caller holds the owner's lock, so nobody else acts on `tx` meanwhile:
 * the table lock is dropped for the time it takes and taken again.
 */
static void zero_pages(struct mem_table_locked *table,
		       const struct mem_transaction *tx)
{
	mem_table_unlock(table);
	for (uint32_t i = 0; i < tx->constituent_count; i++) {
		const struct ffa_mem_constituent *c = &tx->constituents[i];
		void *va = partition_va(ipa_init(c->address));
		size_t size = (size_t)c->page_count * FFA_PAGE_SIZE;

		arch_zero_for_guest(va, size);
	}
	*table = mem_table_lock();
}

/* Copies `len` bytes of the caller's TX buffer to `copy`. Caller holds
 * p's lock. */
static int32_t read_tx(struct vcpu *v, void *copy, uint32_t len)
{
	const struct ffa_mailbox *mb = &v->part->mailbox;

	if (!mailbox_mapped(mb)) {
		return FFA_DENIED;
	}
	if (len == 0 || len > mailbox_size(mb)) {
		return FFA_INVALID_PARAMETERS;
	}
	memcpy(copy, partition_va(mb->tx), len);
	return 0;
}

/* The first fragment of a send or the whole retrieve request: w1 = total
 * length, w2 = fragment length (equal for a retrieve request). */
static int32_t read_descriptor(struct vcpu *v, uint8_t *copy,
			       bool fragments_allowed, uint32_t *len,
			       uint32_t *total)
{
	*total = (uint32_t)v->regs.x[1];
	*len = (uint32_t)v->regs.x[2];
	if (v->regs.x[3] != 0 || (uint32_t)v->regs.x[4] != 0) {
		/* a buffer of the caller's (x3, w4): FEATURES reports no
		 * support for it */
		return FFA_NOT_SUPPORTED;
	}
	if (*len > *total || (*len != *total && !fragments_allowed)) {
		return FFA_INVALID_PARAMETERS;
	}
	return read_tx(v, copy, *len);
}

/* One descriptor's worth of scratch per CPU (descriptors are copied out of
 * the guest's TX before they are checked). */
static uint8_t scratch[CONFIG_MAX_CPUS][CONFIG_FFA_RXTX_MAX_PAGES * 4096]
    __attribute__((aligned(16)));

static uint8_t *cpu_scratch(const struct vcpu *v)
{
	return scratch[v->cpu];
}

/* --- send ----------------------------------------------------------------- */

static int32_t check_send_header(enum mem_type type,
				 const struct ffa_mem_transaction *d,
				 const struct partition *owner)
{
	if (d->sender != owner->m->id) {
		return FFA_DENIED; /* not the caller's to send */
	}
	if (d->handle != 0 || (d->flags & ~FFA_MEM_SEND_ZERO) != 0 ||
	    (d->attributes &
	     ~(FFA_MEM_ATTR_SHARE_MASK | FFA_MEM_ATTR_CACHE_MASK |
	       FFA_MEM_ATTR_TYPE_MASK)) != 0) {
		return FFA_INVALID_PARAMETERS;
	}
	if ((d->flags & FFA_MEM_SEND_ZERO) && type == MEM_SHARE) {
		return FFA_INVALID_PARAMETERS;
	}
	if (type == MEM_DONATE && d->receiver_count != 1) {
		return FFA_INVALID_PARAMETERS;
	}
	if (d->receiver_count > CONFIG_FFA_MEM_MAX_BORROWERS) {
		return FFA_NO_MEMORY;
	}
	switch (type) {
	case MEM_SHARE:
		/* normal, write-back, inner shareable, specified */
		return d->attributes == FFA_MEM_ATTR_NORMAL_WB_IS
			   ? 0
			   : FFA_INVALID_PARAMETERS;
	case MEM_LEND:
		return d->attributes == FFA_MEM_ATTR_NORMAL_WB_IS ||
			       (d->attributes == 0 && d->receiver_count == 1)
			   ? 0
			   : FFA_INVALID_PARAMETERS;
	case MEM_DONATE:
	default:
		return d->attributes == 0 ? 0 : FFA_INVALID_PARAMETERS;
	}
}

/*
 * Receivers: known, not the sender, permissions of the fact sheet, and
 * within a grant for this operation, with room for the descriptor's
 * declared page count (else DENIED), each of the first `count`
 * constituents inside the grant's ranges. Fills tx->borrowers. Runs on the
 * first fragment (the constituents so far) and again on the whole.
 */
static int32_t check_receivers(enum mem_type type,
			       const struct ffa_mem_transaction *d,
			       struct mem_transaction *tx, uint32_t count)
{
	uint32_t op = type == MEM_SHARE	 ? MANIFEST_OP_SHARE
		      : type == MEM_LEND ? MANIFEST_OP_LEND
					 : MANIFEST_OP_DONATE;

	for (uint32_t i = 0; i < d->receiver_count; i++) {
		const struct ffa_mem_receiver *r = &d->receivers[i];
		struct partition *b = partition_find(r->id);
		uint8_t data = r->permissions & FFA_MEM_DATA_MASK;
		const struct manifest_grant *g;

		if (b == NULL || b == tx->owner ||
		    (r->permissions & FFA_MEM_INSTR_MASK) !=
			FFA_MEM_INSTR_NONE) {
			return FFA_INVALID_PARAMETERS;
		}
		for (uint32_t j = 0; j < i; j++) {
			if (d->receivers[j].id == r->id) {
				return FFA_INVALID_PARAMETERS;
			}
		}
		if (type == MEM_DONATE ? data != FFA_MEM_DATA_NONE
				       : (data != FFA_MEM_DATA_RO &&
					  data != FFA_MEM_DATA_RW)) {
			return FFA_INVALID_PARAMETERS;
		}
		g = grant_for(tx->owner, b);
		if (g == NULL || !(g->operations & op) ||
		    (data == FFA_MEM_DATA_RW &&
		     !(g->max_access & MANIFEST_ACCESS_W)) ||
		    (uint64_t)*outstanding(g) + d->page_count > g->max_pages) {
			return FFA_DENIED;
		}
		for (uint32_t k = 0; k < count; k++) {
			if (!inside_grant_ranges(g, &tx->constituents[k])) {
				return FFA_DENIED;
			}
		}
		tx->borrowers[i] = (struct mem_borrower){
		    .part = b,
		    .permissions = r->permissions,
		    .flags = r->flags,
		    .grant = g,
		};
		impdef_get(tx->borrowers[i].impdef, r);
	}
	tx->borrower_count = d->receiver_count;
	return 0;
}

/* Whether constituents [first, first + count) of `tx` lie inside every
 * borrower's grant ranges (fragments after the first). */
static bool inside_all_grants(const struct mem_transaction *tx, uint32_t first,
			      uint32_t count)
{
	for (uint32_t i = 0; i < tx->borrower_count; i++) {
		for (uint32_t k = first; k < first + count; k++) {
			if (!inside_grant_ranges(tx->borrowers[i].grant,
						 &tx->constituents[k])) {
				return false;
			}
		}
	}
	return true;
}

/* Constituents (disjoint): all owned by the sender in one sendable state
 * (readable; read-only memory of its manifest too), not RX/TX buffers.
 * Sets tx->owner_mode. */
static int32_t check_pages(struct mem_transaction *tx)
{
	struct partition *p = tx->owner;

	for (uint32_t i = 0; i < tx->constituent_count; i++) {
		const struct ffa_mem_constituent *c = &tx->constituents[i];
		uint32_t mode;

		/* ownership is the stage-2 state (donated pages move) */
		if (touches_mailbox(p, c->address, range_end(c)) ||
		    !mm_get_mode(&p->ptable, ipa_init(c->address),
				 ipa_init(range_end(c)), &mode)) {
			return FFA_DENIED;
		}
		if ((mode & (MM_MODE_INVALID | MM_MODE_UNOWNED |
			     MM_MODE_SHARED | MM_MODE_D)) != 0 ||
		    !(mode & MM_MODE_R) || (i > 0 && mode != tx->owner_mode)) {
			return FFA_DENIED;
		}
		tx->owner_mode = mode;
	}
	return 0;
}

/* The sender cannot give what it does not have: of read-only memory, no
 * receiver may be sent write access, and it may not be zeroed (DENIED). */
static int32_t check_owner_access(const struct mem_transaction *tx,
				  const struct ffa_mem_transaction *d)
{
	if (tx->owner_mode & MM_MODE_W) {
		return 0;
	}
	if (d->flags & FFA_MEM_SEND_ZERO) {
		return FFA_DENIED;
	}
	for (uint32_t i = 0; i < d->receiver_count; i++) {
		if ((d->receivers[i].permissions & FFA_MEM_DATA_MASK) ==
		    FFA_MEM_DATA_RW) {
			return FFA_DENIED;
		}
	}
	return 0;
}

static bool address_before(const struct ffa_mem_constituent *a,
			   const struct ffa_mem_constituent *b)
{
	return a->address < b->address;
}

static void sift_down(struct ffa_mem_constituent *c, uint32_t root, uint32_t n)
{
	for (;;) {
		uint32_t child = 2 * root + 1;
		struct ffa_mem_constituent t;

		if (child >= n) {
			return;
		}
		if (child + 1 < n && address_before(&c[child], &c[child + 1])) {
			child++;
		}
		if (!address_before(&c[root], &c[child])) {
			return;
		}
		t = c[root];
		c[root] = c[child];
		c[child] = t;
		root = child;
	}
}

/* Heap sort by address: O(n log n) for any order a guest may send. */
static void sort_constituents(struct ffa_mem_constituent *c, uint32_t n)
{
	for (uint32_t i = n / 2; i-- > 0;) {
		sift_down(c, i, n);
	}
	for (uint32_t end = n; end-- > 1;) {
		struct ffa_mem_constituent t = c[0];

		c[0] = c[end];
		c[end] = t;
		sift_down(c, 0, end);
	}
}

/*
 * A send whose descriptor has arrived whole (tx is TX_SENDING): puts the
 * constituents in address order, checks them, the receivers and the
 * pages, and commits (the pages are zeroed first if asked). Caller holds
 * the owner's lock; on error nothing has changed and the caller releases
 * the slot.
 */
static int32_t complete_send(struct vcpu *v, struct mem_table_locked *table,
			     struct mem_transaction *tx,
			     const struct ffa_mem_transaction *d)
{
	struct s2_update *u = cpu_update(v, 0);
	uint64_t sum = 0;
	int32_t err;

	sort_constituents(tx->constituents, tx->constituent_count);
	for (uint32_t i = 0; i < tx->constituent_count; i++) {
		const struct ffa_mem_constituent *c = &tx->constituents[i];

		if (i > 0 && c->address < range_end(&tx->constituents[i - 1])) {
			return FFA_INVALID_PARAMETERS; /* overlap */
		}
		sum += c->page_count;
	}
	if (sum != d->page_count) {
		return FFA_INVALID_PARAMETERS;
	}
	tx->page_count = d->page_count;
	err = check_receivers(tx->type, d, tx, tx->constituent_count);
	if (err == 0) {
		err = check_pages(tx);
	}
	if (err == 0) {
		err = check_owner_access(tx, d);
	}
	if (err != 0) {
		return err;
	}
	s2_init(u, tx->owner, tx,
		tx->type == MEM_SHARE ? tx->owner_mode | MM_MODE_SHARED
				      : tx->owner_mode | MM_MODE_INVALID);
	if (!s2_prepare(u)) {
		return FFA_NO_MEMORY;
	}
	/* From here nothing can fail. */
	s2_commit(u);
	if (d->flags & FFA_MEM_SEND_ZERO) {
		zero_pages(table,
			   tx); /* lend/donate: the owner has no access */
	}
	for (uint32_t i = 0; i < tx->borrower_count; i++) {
		*outstanding(tx->borrowers[i].grant) += tx->page_count;
	}
	tx->attributes = d->attributes;
	tx->flags = d->flags;
	tx->tag = d->tag;
	tx->dirty = false;
	tx->zero_pending = false;
	tx->state = TX_LIVE;
	return 0;
}

static struct ffa_value send_done(const struct mem_transaction *tx)
{
	return ffa_result(FFA_SUCCESS_32, 0, (uint32_t)handle_of(tx),
			  handle_of(tx) >> 32);
}

/* Asks the sender for the next fragment, at byte `received_length`. */
static struct ffa_value want_fragment(const struct mem_transaction *tx)
{
	uint64_t handle = handle_of(tx);

	return ffa_result(FFA_MEM_FRAG_RX, (uint32_t)handle, handle >> 32,
			  tx->received_length);
}

/*
 * MEM_SHARE/LEND/DONATE. The first fragment is checked as far as it goes
 * (header, receivers, grants, declared page count, the constituents it
 * holds) before a slot is claimed; the slot counts against the sender's
 * quota until the transaction ends.
 */
static struct ffa_value call_send(struct vcpu *v, enum mem_type type,
				  uint32_t version)
{
	struct partition *p = v->part;
	uint8_t *buf = cpu_scratch(v);
	struct ffa_mem_transaction d;
	struct mem_transaction *tx = NULL;
	struct partition_locked locked = partition_lock(p);
	struct mem_table_locked table = mem_table_lock();
	struct ffa_value ret;
	uint32_t len = 0;
	uint32_t total = 0;
	int32_t err = read_descriptor(v, buf, true, &len, &total);

	if (err == 0) {
		err = ffa_mem_parse_first(buf, len, total, version, &d);
	}
	if (err == 0) {
		err = check_send_header(type, &d, p);
	}
	if (err == 0 && d.constituent_count > CONFIG_FFA_MEM_MAX_CONSTITUENTS) {
		err = FFA_NO_MEMORY;
	}
	if (err == 0 && p->m->mem_transactions == 0) {
		err = FFA_DENIED; /* no quota: it has no grant to send with */
	}
	if (err == 0) {
		tx = claim(table, p);
		err = tx == NULL ? FFA_NO_MEMORY : 0;
	}
	if (err != 0) {
		goto out;
	}
	tx->type = type;
	tx->constituent_count = d.constituent_count;
	tx->received = d.constituents_here;
	for (uint32_t i = 0; i < d.constituents_here; i++) {
		tx->constituents[i] = ffa_mem_constituent(buf, &d, i);
	}
	if (len < total) {
		/* the rest comes with MEM_FRAG_TX: check what is here */
		err = check_receivers(type, &d, tx, tx->received);
		if (err == 0) {
			tx->desc = d;
			tx->total_length = total;
			tx->received_length = len;
			ret = want_fragment(tx);
		}
	} else {
		err = complete_send(v, &table, tx, &d);
		ret = send_done(tx);
	}
	if (err != 0) {
		release(table, tx);
	}
out:
	mem_table_unlock(&table);
	partition_unlock(&locked);
	return err != 0 ? ffa_error(err) : ret;
}

/*
 * FFA_MEM_FRAG_TX: w1/w2 = handle, w3 = fragment length (whole
 * constituents), w4 = 0. Only the sender of a transaction still being
 * sent; any error ends that transaction (nothing was changed for it).
 */
static struct ffa_value frag_tx(struct vcpu *v, struct mem_table_locked *table,
				uint32_t version)
{
	struct partition *p = v->part;
	uint64_t handle = handle_arg(v);
	uint32_t len = (uint32_t)v->regs.x[3];
	struct mem_transaction *tx = find_in(*table, handle, TX_SENDING);
	uint32_t count = len / FFA_MEM_CONSTITUENT_SIZE;
	struct ffa_value ret;
	int32_t err;

	(void)version;
	if (tx == NULL || tx->owner != p || (uint32_t)v->regs.x[4] != 0) {
		/* not this caller's send: leave it alone */
		return ffa_error(FFA_INVALID_PARAMETERS);
	}
	if (len % FFA_MEM_CONSTITUENT_SIZE != 0 ||
	    len > tx->total_length - tx->received_length) {
		err = FFA_INVALID_PARAMETERS;
	} else {
		err = read_tx(v, &tx->constituents[tx->received], len);
	}
	for (uint32_t i = 0; err == 0 && i < count; i++) {
		if (!ffa_mem_constituent_valid(
			&tx->constituents[tx->received + i])) {
			err = FFA_INVALID_PARAMETERS;
		}
	}
	if (err == 0 && !inside_all_grants(tx, tx->received, count)) {
		err = FFA_DENIED;
	}
	if (err == 0) {
		tx->received += count;
		tx->received_length += len;
		if (tx->received_length < tx->total_length) {
			ret = want_fragment(tx);
		} else {
			err = complete_send(v, table, tx, &tx->desc);
			ret = send_done(tx);
		}
	}
	if (err != 0) {
		release(*table, tx);
		return ffa_error(err);
	}
	return ret;
}

/* --- retrieve ------------------------------------------------------------- */

static struct mem_borrower *borrower_of(struct mem_transaction *tx, uint16_t id)
{
	for (uint32_t i = 0; i < tx->borrower_count; i++) {
		if (tx->borrowers[i].part->m->id == id) {
			return &tx->borrowers[i];
		}
	}
	return NULL;
}

/*
 * The flags of a retrieve request (DEN0077 "Flags usage in
 * FFA_MEM_RETRIEVE_REQ"): zero-before (bit 0), zero-after (bit 2), the
 * transaction type (bits [4:3], 0 or the transaction's) and, from v1.1,
 * bypass-multiple-borrower-check (bit 10); time slicing and the address
 * range hint are not supported (INVALID_PARAMETERS). Zero flags are
 * INVALID_PARAMETERS on shared memory; zero-before means "retrieve only
 * if the sender had the memory zeroed", so without the sender's zero
 * flag it is DENIED.
 */
static int32_t check_retrieve_flags(const struct mem_transaction *tx,
				    uint32_t flags, uint32_t version)
{
	uint32_t type =
	    (flags & FFA_MEM_RETRIEVE_TYPE_MASK) >> FFA_MEM_RETRIEVE_TYPE_SHIFT;
	uint32_t known =
	    FFA_MEM_RETRIEVE_ZERO_BEFORE | FFA_MEM_RETRIEVE_ZERO_AFTER |
	    FFA_MEM_RETRIEVE_TYPE_MASK |
	    (version >= FFA_VERSION_1_1 ? FFA_MEM_RETRIEVE_BYPASS_MULTI_CHECK
					: 0);

	if ((flags & ~known) != 0 || (type != 0 && type != tx->type)) {
		return FFA_INVALID_PARAMETERS;
	}
	if (tx->type == MEM_SHARE && (flags & (FFA_MEM_RETRIEVE_ZERO_BEFORE |
					       FFA_MEM_RETRIEVE_ZERO_AFTER))) {
		return FFA_INVALID_PARAMETERS;
	}
	if ((flags & FFA_MEM_RETRIEVE_ZERO_BEFORE) &&
	    !(tx->flags & FFA_MEM_SEND_ZERO)) {
		return FFA_DENIED;
	}
	return 0;
}

/*
 * The permissions the retriever gets: it may narrow what was sent, never
 * widen it (DENIED). Instruction access must be left unspecified for
 * shared memory and memory lent to several (INVALID_PARAMETERS; it is
 * mapped not executable); execute only for a lone borrower of lent or
 * donated memory whose grant allows it. Donated memory is retrieved up to
 * the grant's data access, and read-only if the sender had it read-only.
 */
static int32_t retrieve_permissions(const struct mem_transaction *tx,
				    const struct mem_borrower *b, uint8_t asked,
				    uint8_t *granted)
{
	uint8_t sent = b->permissions & FFA_MEM_DATA_MASK;
	uint8_t data = asked & FFA_MEM_DATA_MASK;
	uint8_t instr = asked & FFA_MEM_INSTR_MASK;

	if ((asked & FFA_MEM_PERM_MBZ) != 0 || data == 3 ||
	    instr == (3u << 2)) {
		return FFA_INVALID_PARAMETERS;
	}
	if (instr != FFA_MEM_INSTR_NONE &&
	    (tx->type == MEM_SHARE || tx->borrower_count > 1)) {
		return FFA_INVALID_PARAMETERS;
	}
	if (tx->type == MEM_DONATE) {
		if (data == FFA_MEM_DATA_NONE) {
			return FFA_INVALID_PARAMETERS;
		}
		sent = (b->grant->max_access & MANIFEST_ACCESS_W) &&
			       (tx->owner_mode & MM_MODE_W)
			   ? FFA_MEM_DATA_RW
			   : FFA_MEM_DATA_RO;
	}
	if (data == FFA_MEM_DATA_NONE) {
		data = sent;
	}
	if (data == FFA_MEM_DATA_RW && sent != FFA_MEM_DATA_RW) {
		return FFA_DENIED;
	}
	if (instr == FFA_MEM_INSTR_X &&
	    !(b->grant->max_access & MANIFEST_ACCESS_X)) {
		return FFA_DENIED;
	}
	if (instr == FFA_MEM_INSTR_NONE) {
		instr = FFA_MEM_INSTR_NX;
	}
	*granted = data | instr;
	return 0;
}

/*
 * The memory attributes a retrieve request asks for (0: as sent, normal
 * write-back inner shareable). DEN0077 lets a borrower ask for the same
 * or less permissive; Bulkhead maps normal write-back inner shareable or
 * Device-nGnRE, so other valid encodings are DENIED, reserved ones (and
 * the NS bit, which is the response's) INVALID_PARAMETERS.
 */
static int32_t retrieve_attributes(uint16_t asked, uint16_t *got)
{
	uint16_t type = asked & FFA_MEM_ATTR_TYPE_MASK;
	uint16_t cache = asked & FFA_MEM_ATTR_CACHE_MASK;
	uint16_t share = asked & FFA_MEM_ATTR_SHARE_MASK;

	if ((asked & ~(FFA_MEM_ATTR_SHARE_MASK | FFA_MEM_ATTR_CACHE_MASK |
		       FFA_MEM_ATTR_TYPE_MASK)) != 0) {
		return FFA_INVALID_PARAMETERS;
	}
	switch (type) {
	case 0:
		*got = FFA_MEM_ATTR_NORMAL_WB_IS;
		return asked == 0 ? 0 : FFA_INVALID_PARAMETERS;
	case FFA_MEM_ATTR_TYPE_NORMAL:
		if (cache == 0 || cache == (2u << 2) || share == 1) {
			return FFA_INVALID_PARAMETERS;
		}
		*got = asked;
		return asked == FFA_MEM_ATTR_NORMAL_WB_IS ? 0 : FFA_DENIED;
	case FFA_MEM_ATTR_TYPE_DEVICE:
		if (share != 0) {
			return FFA_INVALID_PARAMETERS;
		}
		*got = asked;
		return asked == FFA_MEM_ATTR_DEVICE_NGNRE ? 0 : FFA_DENIED;
	default:
		return FFA_INVALID_PARAMETERS;
	}
}

static uint32_t borrower_mode(const struct mem_transaction *tx, uint8_t perms,
			      uint16_t attributes)
{
	uint32_t mode = perms_to_mode(perms);

	if ((attributes & FFA_MEM_ATTR_TYPE_MASK) == FFA_MEM_ATTR_TYPE_DEVICE) {
		mode |= MM_MODE_D;
	}

	switch (tx->type) {
	case MEM_SHARE:
		return mode | MM_MODE_SHARED | MM_MODE_UNOWNED;
	case MEM_LEND:
		return mode | MM_MODE_UNOWNED |
		       (tx->borrower_count > 1 ? MM_MODE_SHARED : 0);
	case MEM_DONATE:
	default:
		return mode;
	}
}

/* The retrieve response for `b` (FF-A `version` layout) from byte
 * `offset` on, as much as fits in its RX; its whole length goes to
 * *total. */
static uint32_t write_response(const struct mem_transaction *tx,
			       const struct mem_borrower *b, uint32_t version,
			       uint32_t offset, uint32_t *total)
{
	struct partition *p = b->part;
	struct ffa_mem_transaction d; /* only what the builder reads */

	d.sender = tx->owner->m->id;
	/* as mapped; the memory is non-secure: NS set from v1.1 on, and for
	 * a v1.0 partition that asked for it with FFA_FEATURES */
	d.attributes = b->attributes;
	if (version >= FFA_VERSION_1_1 || p->ffa_mem_ns) {
		d.attributes |= FFA_MEM_ATTR_NS;
	}
	/* bit 0: the sender had it zeroed before anyone retrieved it */
	d.flags =
	    (uint32_t)tx->type << FFA_MEM_RETRIEVE_TYPE_SHIFT |
	    (tx->flags & FFA_MEM_SEND_ZERO ? FFA_MEM_RETRIEVE_ZERO_BEFORE : 0);
	d.handle = handle_of(tx);
	d.tag = tx->tag;
	d.receiver_count = tx->borrower_count;
	d.constituent_count = tx->constituent_count;
	for (uint32_t i = 0; i < tx->borrower_count; i++) {
		const struct mem_borrower *o = &tx->borrowers[i];

		d.receivers[i].id = o->part->m->id;
		d.receivers[i].permissions =
		    o == b ? b->granted : o->permissions;
		d.receivers[i].flags = o->flags;
		memcpy(IMPDEF(&d.receivers[i]), o->impdef, sizeof(o->impdef));
	}
	return ffa_mem_build_fragment(partition_va(p->mailbox.rx),
				      mailbox_size(&p->mailbox), version, &d,
				      tx->constituents, offset, total);
}

/*
 * The owner of the live transaction `handle` names, if `caller` is one of
 * its borrowers; else NULL. Read under the table lock, before any
 * partition lock: a stranger guessing a handle takes nobody's lock (the
 * caller then locks the partitions and looks the handle up again).
 */
static struct partition *owner_for_borrower(uint64_t handle,
					    const struct partition *caller)
{
	struct mem_table_locked table = mem_table_lock();
	struct mem_transaction *tx = find(table, handle);
	struct partition *owner = NULL;

	if (tx != NULL && borrower_of(tx, caller->m->id) != NULL) {
		owner = tx->owner;
	}
	mem_table_unlock(&table);
	return owner;
}

/* Whether a borrower other than `b` holds the pages of `tx`. */
static bool held_by_another(const struct mem_transaction *tx,
			    const struct mem_borrower *b)
{
	for (uint32_t i = 0; i < tx->borrower_count; i++) {
		if (&tx->borrowers[i] != b && tx->borrowers[i].retrieved) {
			return true;
		}
	}
	return false;
}

/*
 * Checks a retrieve request against the transaction: sender (DENIED),
 * tag, attributes, flags, the endpoints it lists (each a borrower, with
 * the implementation-defined value the sender gave it when both used
 * v1.2 descriptors) and the access the caller asks for. Sets *b, *granted
 * and *attributes.
 */
static int32_t check_retrieve(const struct vcpu *v,
			      const struct ffa_mem_transaction *d,
			      struct mem_transaction *tx, uint32_t version,
			      struct mem_borrower **b, uint8_t *granted,
			      uint16_t *attributes)
{
	const struct partition *p = v->part;
	const struct ffa_mem_receiver *asked = NULL;
	/* attributes Bulkhead cannot map are DENIED, after the checks for
	 * malformed requests */
	int32_t attr_err = retrieve_attributes(d->attributes, attributes);
	int32_t err;

	if (d->sender != tx->owner->m->id) {
		return FFA_DENIED;
	}
	if (d->tag != tx->tag || attr_err == FFA_INVALID_PARAMETERS) {
		return FFA_INVALID_PARAMETERS;
	}
	err = check_retrieve_flags(tx, d->flags, version);
	if (err != 0) {
		return err;
	}
	for (uint32_t i = 0; i < d->receiver_count; i++) {
		const struct mem_borrower *o =
		    borrower_of(tx, d->receivers[i].id);

		/* a send in v1.0/v1.1 descriptors gave the value zero */
		if (o == NULL || (version >= FFA_VERSION_1_2 &&
				  !impdef_equal(o->impdef, &d->receivers[i]))) {
			return FFA_INVALID_PARAMETERS;
		}
		if (d->receivers[i].id == p->m->id) {
			asked = &d->receivers[i];
		}
	}
	*b = borrower_of(tx, p->m->id);
	if (*b == NULL || asked == NULL) {
		return FFA_INVALID_PARAMETERS;
	}
	if ((*b)->retrieved) {
		return FFA_DENIED;
	}
	err = retrieve_permissions(tx, *b, asked->permissions, granted);
	if (err != 0) {
		return err;
	}
	if (attr_err != 0) {
		return attr_err;
	}
	if ((*granted & FFA_MEM_INSTR_MASK) == FFA_MEM_INSTR_X &&
	    (*attributes & FFA_MEM_ATTR_TYPE_MASK) ==
		FFA_MEM_ATTR_TYPE_DEVICE) {
		return FFA_DENIED; /* no execution from device memory */
	}
	if ((d->flags &
	     (FFA_MEM_RETRIEVE_ZERO_BEFORE | FFA_MEM_RETRIEVE_ZERO_AFTER)) &&
	    (*granted & FFA_MEM_DATA_MASK) != FFA_MEM_DATA_RW) {
		return FFA_DENIED; /* clearing needs write access */
	}
	return 0;
}

static struct ffa_value retrieve(struct vcpu *v, struct mem_table_locked *table,
				 const void *request,
				 struct mem_transaction *tx, uint32_t version)
{
	const struct ffa_mem_transaction *d = request;
	struct s2_update *bu = cpu_update(v, 0);
	struct s2_update *ou = cpu_update(v, 1);
	struct partition *p = v->part;
	struct mem_borrower *b = NULL;
	uint16_t attributes = 0;
	uint8_t granted = 0;
	uint32_t mode;
	uint32_t len;
	uint32_t total;
	int32_t err =
	    check_retrieve(v, d, tx, version, &b, &granted, &attributes);

	if (err != 0) {
		return ffa_error(err);
	}
	for (uint32_t i = 0; i < tx->constituent_count; i++) {
		const struct ffa_mem_constituent *c = &tx->constituents[i];

		if (!mm_get_mode(&p->ptable, ipa_init(c->address),
				 ipa_init(range_end(c)), &mode) ||
		    mode != MM_MODE_ABSENT) {
			return ffa_error(FFA_DENIED);
		}
	}
	if (!rx_free(&p->mailbox)) {
		return ffa_error(FFA_BUSY);
	}
	mode = borrower_mode(tx, granted, attributes);
	s2_init(bu, p, tx, mode);
	if (!s2_prepare(bu)) {
		return ffa_error(FFA_NO_MEMORY);
	}
	if (tx->type == MEM_DONATE) {
		s2_init(ou, tx->owner, tx, MM_MODE_ABSENT);
		if (!s2_prepare(ou)) {
			s2_abandon(bu);
			return ffa_error(FFA_NO_MEMORY);
		}
	}
	/* From here nothing can fail (the header always fits in RX). The
	 * sender's zero flag cleared the pages before anyone could map them;
	 * if a borrower wrote them since (lent, relinquished, retrieved
	 * again) and nobody else holds them now, clear them again before
	 * this mapping exists. */
	if ((d->flags & FFA_MEM_RETRIEVE_ZERO_BEFORE) && tx->dirty &&
	    !held_by_another(tx, b)) {
		zero_pages(table, tx);
		tx->dirty = false;
	}
	s2_commit(bu);
	if (tx->type == MEM_DONATE) {
		s2_commit(ou);
	}
	b->retrieved = true;
	b->granted = granted;
	b->attributes = attributes;
	b->zero_after = (d->flags & FFA_MEM_RETRIEVE_ZERO_AFTER) != 0;
	b->mode = mode;
	if (mode & MM_MODE_W) {
		tx->dirty = true;
	}
	len = write_response(tx, b, version, 0, &total);
	/* the rest, if any, with MEM_FRAG_RX */
	b->frag_offset = len < total ? len : 0;
	p->mailbox.rx_owner = FFA_RX_PARTITION;
	if (tx->type == MEM_DONATE) {
		/* ownership moved: the transaction is complete once the
		 * response has been delivered */
		*outstanding(b->grant) -= tx->page_count;
		if (b->frag_offset != 0) {
			tx->state = TX_DONATED;
		} else {
			release(*table, tx);
		}
	}
	return ffa_result(FFA_MEM_RETRIEVE_RESP, total, len, 0);
}

typedef struct ffa_value (*transaction_op)(struct vcpu *v,
					   struct mem_table_locked *table,
					   const void *request,
					   struct mem_transaction *tx,
					   uint32_t version);

/*
 * Runs `op` on the live transaction `handle` names for a call of one of
 * its borrowers: finds its owner (refusing a caller that is not a
 * borrower before taking any partition's lock), locks owner and caller in
 * ID order, then the table, and looks the handle up again (it may have
 * ended meanwhile). Unknown handles, and others' transactions, are
 * INVALID_PARAMETERS.
 */
static struct ffa_value on_transaction(struct vcpu *v, uint64_t handle,
				       transaction_op op, const void *request,
				       uint32_t version)
{
	struct partition *p = v->part;
	struct partition *owner = owner_for_borrower(handle, p);
	struct partition_locked lp;
	struct partition_locked lo;
	struct mem_table_locked table;
	struct mem_transaction *tx;
	struct ffa_value ret;

	if (owner == NULL || owner == p) {
		return ffa_error(FFA_INVALID_PARAMETERS);
	}
	partition_lock_pair(p, owner, &lp, &lo);
	table = mem_table_lock();
	tx = find(table, handle);
	ret = tx == NULL || tx->owner != owner
		  ? ffa_error(FFA_INVALID_PARAMETERS)
		  : op(v, &table, request, tx, version);
	mem_table_unlock(&table);
	partition_unlock(&lo);
	partition_unlock(&lp);
	return ret;
}

static struct ffa_value call_retrieve(struct vcpu *v, uint32_t version)
{
	struct partition *p = v->part;
	uint8_t *buf = cpu_scratch(v);
	struct ffa_mem_transaction d;
	struct partition_locked lp;
	uint32_t len = 0;
	uint32_t total = 0;
	int32_t err;

	lp = partition_lock(p);
	err = read_descriptor(v, buf, false, &len, &total);
	partition_unlock(&lp);
	if (err == 0) {
		err = ffa_mem_parse(buf, len, version, false, &d);
	}
	if (err != 0) {
		return ffa_error(err);
	}
	return on_transaction(v, d.handle, retrieve, &d, version);
}

/*
 * FFA_MEM_FRAG_RX from a borrower: w1/w2 = handle, w3 = offset (the bytes
 * of the response it has so far), w4 = 0 → MEM_FRAG_TX(handle, length)
 * with the next fragment in its RX, which it must have released.
 */
static struct ffa_value frag_rx(struct vcpu *v, struct mem_table_locked *table,
				uint32_t version)
{
	struct partition *p = v->part;
	uint64_t handle = handle_arg(v);
	uint32_t offset = (uint32_t)v->regs.x[3];
	struct mem_transaction *tx = find(*table, handle);
	struct mem_borrower *b = NULL;
	uint32_t len;
	uint32_t total;

	if (tx == NULL) {
		tx = find_in(*table, handle, TX_DONATED);
	}
	if (tx != NULL) {
		b = borrower_of(tx, p->m->id);
	}
	if (b == NULL || !b->retrieved || b->frag_offset == 0 ||
	    offset != b->frag_offset || (uint32_t)v->regs.x[4] != 0) {
		return ffa_error(FFA_INVALID_PARAMETERS);
	}
	if (!rx_free(&p->mailbox)) {
		return ffa_error(FFA_BUSY);
	}
	len = write_response(tx, b, version, offset, &total);
	b->frag_offset = offset + len < total ? offset + len : 0;
	p->mailbox.rx_owner = FFA_RX_PARTITION;
	if (tx->state == TX_DONATED && b->frag_offset == 0) {
		release(*table, tx);
	}
	return ffa_result(FFA_MEM_FRAG_TX, (uint32_t)handle, handle >> 32, len);
}

/* --- relinquish and reclaim ----------------------------------------------- */

static bool held(const struct mem_transaction *tx)
{
	for (uint32_t i = 0; i < tx->borrower_count; i++) {
		if (tx->borrowers[i].retrieved) {
			return true;
		}
	}
	return false;
}

/*
 * Ends a transaction no borrower holds: the owner's pages get their mode
 * back (zeroed first if asked, so the owner never sees them unzeroed) and
 * the grants' counts fall. False (nothing changed) when the page pool
 * cannot supply the tables. Caller holds the owner's lock.
 */
static bool give_back(struct mem_table_locked *table, struct s2_update *u,
		      struct mem_transaction *tx, bool zero)
{
	s2_init(u, tx->owner, tx, tx->owner_mode);
	if (!s2_prepare(u)) {
		return false;
	}
	if (zero) {
		zero_pages(table, tx);
	}
	s2_commit(u);
	for (uint32_t i = 0; i < tx->borrower_count; i++) {
		*outstanding(tx->borrowers[i].grant) -= tx->page_count;
	}
	release(*table, tx);
	return true;
}

/*
 * Unmaps the pages from borrower `b` (which retrieved them). With `zero`
 * they are zeroed once no borrower holds them any more: at once for the
 * last (or only) one, else when the last other borrower lets go, however
 * it asks (DEN0077: memory lent to several is cleared if any borrower
 * asked). False (nothing changed) when the page pool cannot supply the
 * tables. Caller holds the owner's and the borrower's locks.
 */
static bool unmap_borrower(struct mem_table_locked *table, struct s2_update *u,
			   struct mem_transaction *tx, struct mem_borrower *b,
			   bool zero)
{
	s2_init(u, b->part, tx, MM_MODE_ABSENT);
	if (!s2_prepare(u)) {
		return false;
	}
	s2_commit(u);
	b->retrieved = false;
	b->frag_offset = 0;
	tx->zero_pending |= zero;
	if (tx->zero_pending && !held(tx)) {
		zero_pages(table, tx);
		tx->zero_pending = false;
		tx->dirty = false;
	}
	return true;
}

static struct ffa_value relinquish(struct vcpu *v,
				   struct mem_table_locked *table,
				   const void *request,
				   struct mem_transaction *tx, uint32_t version)
{
	const struct ffa_mem_relinquish *r = request;
	struct mem_borrower *b = borrower_of(tx, v->part->m->id);

	(void)version;
	if (r->endpoint != v->part->m->id || b == NULL) {
		return ffa_error(FFA_INVALID_PARAMETERS);
	}
	if (!b->retrieved) {
		return ffa_error(FFA_DENIED);
	}
	if (r->flags & FFA_MEM_RELINQUISH_ZERO) {
		if (tx->type == MEM_SHARE) {
			return ffa_error(FFA_INVALID_PARAMETERS);
		}
		if (!(b->mode & MM_MODE_W)) {
			return ffa_error(FFA_DENIED);
		}
	}
	/* the relinquish's own flag decides, overriding the zero-after its
	 * retrieve asked for (which stands if the borrower stops instead) */
	if (!unmap_borrower(table, cpu_update(v, 0), tx, b,
			    (r->flags & FFA_MEM_RELINQUISH_ZERO) != 0)) {
		return ffa_error(FFA_NO_MEMORY);
	}
	return ffa_success(0, 0);
}

static struct ffa_value call_relinquish(struct vcpu *v, uint32_t version)
{
	struct partition *p = v->part;
	struct ffa_mem_relinquish r;
	struct partition_locked lp;
	int32_t err;

	lp = partition_lock(p);
	err = !mailbox_mapped(&p->mailbox)
		  ? FFA_DENIED
		  : ffa_mem_relinquish_parse(partition_va(p->mailbox.tx),
					     FFA_MEM_RELINQUISH_SIZE, &r);
	partition_unlock(&lp);
	if (err != 0) {
		return ffa_error(err);
	}
	return on_transaction(v, r.handle, relinquish, &r, version);
}

/*
 * FFA_MEM_RECLAIM: w1/w2 = handle, w3 = flags. The owner takes back memory
 * no borrower holds (zeroed first with w3 bit 0). On a send still coming
 * in fragments it drops the half-sent descriptor instead: nothing was
 * shared yet, and the slot is free again.
 */
static struct ffa_value reclaim(struct vcpu *v, struct mem_table_locked *table,
				uint32_t version)
{
	uint64_t handle = handle_arg(v);
	uint32_t flags = (uint32_t)v->regs.x[3];
	struct mem_transaction *tx = find(*table, handle);

	(void)version;
	if ((flags & ~FFA_MEM_RECLAIM_ZERO) != 0) {
		return ffa_error(FFA_INVALID_PARAMETERS);
	}
	if (tx == NULL) {
		tx = find_in(*table, handle, TX_SENDING);
		if (tx != NULL && tx->owner == v->part) {
			release(*table, tx);
			return ffa_success(0, 0);
		}
		return ffa_error(FFA_INVALID_PARAMETERS);
	}
	if (tx->owner != v->part) {
		return ffa_error(FFA_INVALID_PARAMETERS);
	}
	if (held(tx) ||
	    ((flags & FFA_MEM_RECLAIM_ZERO) && !(tx->owner_mode & MM_MODE_W))) {
		return ffa_error(FFA_DENIED); /* held; or read-only memory */
	}
	if (!give_back(table, cpu_update(v, 0), tx,
		       flags & FFA_MEM_RECLAIM_ZERO)) {
		return ffa_error(FFA_NO_MEMORY);
	}
	return ffa_success(0, 0);
}

/* --- debug checker (CONFIG_FFA_MEM_CHECKER) ------------------------------- */

/* Whether [begin, end) of `p` has one mode throughout; *mode set. */
static bool range_mode(const struct partition *p, uint64_t begin, uint64_t end,
		       uint32_t *mode)
{
	return mm_get_mode(&p->ptable, ipa_init(begin), ipa_init(end), mode);
}

/* Whether some partition owns all of [begin, end) with one mode. */
static bool owned_whole(uint64_t begin, uint64_t end)
{
	for (uint32_t i = 0; i < partition_count; i++) {
		uint32_t mode;

		if (range_mode(&partitions[i], begin, end, &mode) &&
		    !(mode & MM_MODE_UNOWNED)) {
			return true;
		}
	}
	return false;
}

/* Every page of [begin, end) has an owner: whole ranges where one
 * partition owns them uniformly, halves (down to pages) elsewhere. */
static void check_covered(uint64_t begin, uint64_t end)
{
	uint64_t mid;

	if (owned_whole(begin, end)) {
		return;
	}
	if (end - begin <= PAGE_SIZE) {
		panic("memory checker: page %#lx of partition RAM has no owner",
		      begin);
	}
	mid = begin + align_down((end - begin) / 2, PAGE_SIZE);
	check_covered(begin, mid);
	check_covered(mid, end);
}

struct owner_walk {
	const struct partition *p;
};

/* A leaf `p` owns: nobody else may own any page of it. */
static void check_sole_owner(void *ctx, uint64_t begin, uint64_t end,
			     uint32_t mode)
{
	const struct partition *p = ((struct owner_walk *)ctx)->p;

	if (mode & MM_MODE_UNOWNED) {
		return;
	}
	for (uint32_t i = 0; i < partition_count; i++) {
		const struct partition *o = &partitions[i];
		uint32_t m;

		if (o == p) {
			continue;
		}
		if (range_mode(o, begin, end, &m)) {
			if (!(m & MM_MODE_UNOWNED)) {
				panic("memory checker: %#lx-%#lx owned by both "
				      "%s and %s",
				      begin, end, p->m->name, o->m->name);
			}
			continue;
		}
		/* mixed modes in the other: page by page */
		for (uint64_t a = begin; a < end; a += PAGE_SIZE) {
			if (range_mode(o, a, a + PAGE_SIZE, &m) &&
			    !(m & MM_MODE_UNOWNED)) {
				panic("memory checker: page %#lx owned by both "
				      "%s and %s",
				      a, p->m->name, o->m->name);
			}
		}
	}
}

/* Each page has exactly one owner: no page owned twice (each
 * partition's owned leaves against the others), and none of any
 * partition's manifest RAM without an owner. */
static void check_owners(void)
{
	for (uint32_t i = 0; i < partition_count; i++) {
		struct owner_walk w = {&partitions[i]};

		mm_walk_leaves(&partitions[i].ptable, check_sole_owner, &w);
	}
	for (uint32_t i = 0; i < partition_count; i++) {
		const struct manifest_partition *m = partitions[i].m;

		for (uint32_t r = 0; r < m->mem_count; r++) {
			check_covered(m->mem[r].base,
				      m->mem[r].base + m->mem[r].size);
		}
	}
}

/* Every live transaction's pages are mapped as the table says: the
 * owner's (shared: access kept; lent, donated: none), each borrower's
 * (retrieved: its mode; else absent). */
static void check_transactions(void)
{
	for (uint32_t i = 0; i < CONFIG_FFA_MEM_MAX_TRANSACTIONS; i++) {
		const struct mem_transaction *tx = &transactions[i];
		uint32_t owner_want;

		if (tx->state != TX_LIVE) {
			continue;
		}
		owner_want = tx->type == MEM_SHARE
				 ? tx->owner_mode | MM_MODE_SHARED
				 : tx->owner_mode | MM_MODE_INVALID;
		for (uint32_t c = 0; c < tx->constituent_count; c++) {
			const struct ffa_mem_constituent *k =
			    &tx->constituents[c];
			uint32_t mode;

			if (!range_mode(tx->owner, k->address, range_end(k),
					&mode) ||
			    mode != owner_want) {
				panic("memory checker: handle %#lx: owner %s "
				      "maps %#lx wrongly",
				      handle_of(tx), tx->owner->m->name,
				      k->address);
			}
			for (uint32_t j = 0; j < tx->borrower_count; j++) {
				const struct mem_borrower *b =
				    &tx->borrowers[j];
				uint32_t want =
				    b->retrieved ? b->mode : MM_MODE_ABSENT;

				if (!range_mode(b->part, k->address,
						range_end(k), &mode) ||
				    mode != want) {
					panic("memory checker: handle %#lx: "
					      "borrower %s maps %#lx wrongly",
					      handle_of(tx), b->part->m->name,
					      k->address);
				}
			}
		}
	}
}

/* Runs both checks with every partition, then the table, locked. */
static void check_memory(void)
{
	struct partition_locked locked[CONFIG_MAX_PARTITIONS];
	struct mem_table_locked table;

	if (!IS_ENABLED(CONFIG_FFA_MEM_CHECKER)) {
		return;
	}
	/* partitions[] is in manifest order; the compiler sorts by ID */
	for (uint32_t i = 0; i < partition_count; i++) {
		locked[i] = partition_lock(&partitions[i]);
	}
	table = mem_table_lock();
	check_transactions();
	check_owners();
	mem_table_unlock(&table);
	for (uint32_t i = partition_count; i-- > 0;) {
		partition_unlock(&locked[i]);
	}
}

/* --- a partition stops ---------------------------------------------------- */

/*
 * Ends what the stopping partition `p` has to do with transaction `tx`
 * (every partition `tx` involves locked, and the table); `u` is the
 * stopping CPU's stage-2 update.
 */
static void stop_transaction(struct mem_table_locked *table,
			     struct s2_update *u, struct partition *p,
			     struct mem_transaction *tx)
{
	struct mem_borrower *b = borrower_of(tx, p->m->id);

	if (tx->owner == p) {
		if (tx->state == TX_SENDING) {
			release(*table, tx); /* the rest will never come */
			return;
		}
		if (tx->state != TX_LIVE) {
			return; /* donated: the pages are the new owner's */
		}
		/* every borrower loses its access, then the pages go home,
		 * zeroed */
		for (uint32_t i = 0; i < tx->borrower_count; i++) {
			struct mem_borrower *o = &tx->borrowers[i];

			if (o->retrieved &&
			    !unmap_borrower(table, u, tx, o, false)) {
				WARN("partition %s: could not unmap memory "
				     "%s borrowed from it (page pool empty)",
				     p->m->name, o->part->m->name);
				return;
			}
		}
		if (!give_back(table, u, tx, true)) {
			WARN("partition %s: memory it sent stays sent (page "
			     "pool empty)",
			     p->m->name);
		}
		return;
	}
	if (tx->state == TX_DONATED) {
		release(*table, tx); /* fragments nobody will ask for */
		return;
	}
	if (tx->state == TX_LIVE && b->retrieved &&
	    !unmap_borrower(table, u, tx, b, b->zero_after)) {
		WARN("partition %s: could not unmap memory it borrowed (page "
		     "pool empty)",
		     p->m->name);
	}
}

void ffa_mem_partition_stopped(struct vcpu *last)
{
	struct partition *p = last->part;

	for (uint32_t i = 0; i < CONFIG_FFA_MEM_MAX_TRANSACTIONS; i++) {
		struct mem_transaction *tx = &transactions[i];
		struct partition *parts[PARTITION_LOCK_SET_MAX];
		struct partition_lock_set set;
		struct mem_table_locked table = mem_table_lock();
		uint32_t generation = tx->generation;
		uint32_t n = 0;

		if (tx->state == TX_FREE ||
		    (tx->owner != p && borrower_of(tx, p->m->id) == NULL)) {
			mem_table_unlock(&table);
			continue;
		}
		/* lock everyone involved in ID order, then look again */
		parts[n++] = tx->owner;
		for (uint32_t j = 0; j < tx->borrower_count; j++) {
			parts[n++] = tx->borrowers[j].part;
		}
		mem_table_unlock(&table);
		partition_lock_set(&set, parts, n);
		table = mem_table_lock();
		if (tx->generation == generation && tx->state != TX_FREE) {
			stop_transaction(&table, cpu_update(last, 0), p, tx);
		}
		mem_table_unlock(&table);
		partition_unlock_set(&set);
	}
	check_memory();
}

uint32_t ffa_mem_slots_in_use(void)
{
	struct mem_table_locked table = mem_table_lock();
	uint32_t used = 0;

	for (uint32_t i = 0; i < CONFIG_FFA_MEM_MAX_TRANSACTIONS; i++) {
		used += transactions[i].state != TX_FREE;
	}
	mem_table_unlock(&table);
	return used;
}

static struct ffa_value dispatch(struct vcpu *v, uint32_t fn, uint32_t version)
{
	switch (fn) {
	case FFA_MEM_SHARE_32:
	case FFA_MEM_SHARE_64:
		return call_send(v, MEM_SHARE, version);
	case FFA_MEM_LEND_32:
	case FFA_MEM_LEND_64:
		return call_send(v, MEM_LEND, version);
	case FFA_MEM_DONATE_32:
	case FFA_MEM_DONATE_64:
		return call_send(v, MEM_DONATE, version);
	case FFA_MEM_RETRIEVE_REQ_32:
	case FFA_MEM_RETRIEVE_REQ_64:
		return call_retrieve(v, version);
	case FFA_MEM_RELINQUISH:
		return call_relinquish(v, version);
	case FFA_MEM_RECLAIM:
		return with_caller_locked(v, reclaim, version);
	case FFA_MEM_FRAG_TX:
		return with_caller_locked(v, frag_tx, version);
	case FFA_MEM_FRAG_RX:
		return with_caller_locked(v, frag_rx, version);
	default:
		return ffa_error(FFA_NOT_SUPPORTED);
	}
}

struct ffa_value ffa_mem_handle(struct vcpu *v, uint32_t fn, uint32_t version)
{
	struct ffa_value r = dispatch(v, fn, version);

	check_memory();
	return r;
}
