/*
 * Memory transactions: descriptors built valid, then corrupted every way
 * the layout allows (header, endpoint access descriptors, composite,
 * constituents, lengths), sent whole or in fragments (fragments with
 * wrong handles, lengths and contents, sends left half-way or dropped);
 * retrieve requests, relinquish descriptors, reclaims and fragment calls
 * naming handles the fuzzer owns, was offered, saw leaked, saw end, or
 * guesses.
 *
 * What must hold: the fuzzer retrieves nothing but the checker's offers
 * to it, reclaims nothing but its own sends, and a successful send's
 * pages are out of its reach (lend, donate) or still its own (share).
 */
#include "fuzz.h"

#include <string.h>

#define SEND_PAGES	 (ARENA_PAGES - BUFFER_PAGES)
#define MAX_CONSTITUENTS 1100 /* beyond CONFIG_FFA_MEM_MAX_CONSTITUENTS */
#define DESC_SIZE                                                              \
	(FFA_MEM_HEADER_SIZE +                                                 \
	 FFA_MEM_RECEIVERS_MAX * FFA_MEM_ACCESS_SIZE_1_2 +                     \
	 FFA_MEM_COMPOSITE_SIZE +                                              \
	 MAX_CONSTITUENTS * FFA_MEM_CONSTITUENT_SIZE + 64)
#define OFFER_TAG 0x6f66666572ull /* the checker's offers ("offer") */

/* Per vCPU: the descriptor being built and its constituents. */
static uint8_t desc[2][DESC_SIZE] __attribute__((aligned(16)));
static struct ffa_mem_constituent cons[2][MAX_CONSTITUENTS];

/* What the fuzzer knows about handles (this boot; racy between its two
 * vCPUs, which is fine: they are guesses to try). */
#define LIVE  16
#define STALE 32
static struct {
	uint64_t live[LIVE]; /* its completed sends */
	uint64_t half[LIVE]; /* its sends waiting for MEM_FRAG_TX */
	uint64_t held[LIVE]; /* offers it retrieved */
	uint64_t stale[STALE];
	uint32_t stale_next;
	uint32_t max_generation;
} known;

void fz_mem_boot(void)
{
	memset(&known, 0, sizeof(known));
}

static void remember(uint64_t *list, uint64_t handle)
{
	uint32_t generation = (uint32_t)(handle >> 16) & 0xffffffu;

	if (generation > known.max_generation && generation < 0x100000) {
		known.max_generation = generation;
	}
	for (uint32_t i = 0; i < LIVE; i++) {
		if (list[i] == handle) {
			return;
		}
	}
	for (uint32_t i = 0; i < LIVE; i++) {
		if (list[i] == 0) {
			list[i] = handle;
			return;
		}
	}
	list[handle % LIVE] = handle;
}

static bool forget(uint64_t *list, uint64_t handle)
{
	for (uint32_t i = 0; i < LIVE; i++) {
		if (list[i] == handle) {
			list[i] = 0;
			return true;
		}
	}
	return false;
}

static void ended(uint64_t handle)
{
	forget(known.live, handle);
	forget(known.half, handle);
	forget(known.held, handle);
	known.stale[known.stale_next++ % STALE] = handle;
}

static uint64_t any_of(struct fuzzer *f, const uint64_t *list, uint32_t n)
{
	uint32_t start = fz_below(f, n);

	for (uint32_t i = 0; i < n; i++) {
		if (list[(start + i) % n] != 0) {
			return list[(start + i) % n];
		}
	}
	return 0;
}

static uint64_t offer_handle(struct fuzzer *f, uint32_t *index)
{
	uint32_t i = fz_below(f, FUZZ_OFFERS);

	*index = i;
	return __atomic_load_n(&fuzz_state()->offers[i].handle,
			       __ATOMIC_ACQUIRE);
}

/* Whether `handle` is one the checker published (its transactions with
 * the victim, its offers): never the fuzzer's to reclaim. */
static bool is_checkers(uint64_t handle)
{
	const struct fuzz_state *s = fuzz_state();

	for (uint32_t i = 0; i < FUZZ_LEAKS; i++) {
		if (s->leaked[i] == handle) {
			return true;
		}
	}
	for (uint32_t i = 0; i < FUZZ_OFFERS; i++) {
		if (s->offers[i].handle == handle) {
			return true;
		}
	}
	return false;
}

uint64_t fz_handle(struct fuzzer *f)
{
	uint64_t h = 0;
	uint32_t i;

	switch (fz_below(f, 12)) {
	case 0:
	case 1:
		h = any_of(f, known.live, LIVE);
		break;
	case 2:
		h = any_of(f, known.half, LIVE);
		break;
	case 3:
		h = offer_handle(f, &i);
		break;
	case 4:
	case 5:
		h = fuzz_state()->leaked[fz_below(f, FUZZ_LEAKS)];
		break;
	case 6:
		h = any_of(f, known.stale, STALE);
		break;
	case 7:
		h = any_of(f, known.held, LIVE);
		break;
	case 8:
		return FZ_PICK(f, 0, ~0ull, 1ull << 63, 1, fz_rand(f),
			       (1ull << 63) | 0xffff,
			       (1ull << 63) | CONFIG_FFA_MEM_MAX_TRANSACTIONS);
	default:
		break;
	}
	if (h == 0) {
		/* a guess: a slot (some beyond the table) and a recent
		 * generation */
		h = FFA_MEM_HANDLE_HYPERVISOR |
		    (uint64_t)fz_below(f, known.max_generation + 4) << 16 |
		    fz_below(f, CONFIG_FFA_MEM_MAX_TRANSACTIONS + 2);
	}
	return h;
}

/* No constituent (nor any other aligned word) of a descriptor names the
 * fuzzer's own image or its RX/TX buffer pages: lending those would take
 * its code, data, stacks or buffers away. */
static void keep_own_pages_out(uint8_t *buf, uint32_t len, uint32_t capacity)
{
	if (len > capacity) {
		len = capacity;
	}
	for (uint32_t at = 0; at + 8 <= len; at += 8) {
		uint64_t w;

		memcpy(&w, buf + at, 8);
		if (w >= FUZZER_RAM &&
		    w < ARENA + BUFFER_PAGES * FFA_PAGE_SIZE) {
			w = VICTIM_PATTERN + (w & 0x1ff000);
			memcpy(buf + at, &w, 8);
		}
	}
}

static void put32(uint8_t *buf, uint64_t at, uint32_t limit, uint32_t v)
{
	if (at + 4 <= limit) {
		memcpy(buf + at, &v, 4);
	}
}

static void put64(uint8_t *buf, uint64_t at, uint32_t limit, uint64_t v)
{
	if (at + 8 <= limit) {
		memcpy(buf + at, &v, 8);
	}
}

/* --- send ----------------------------------------------------------------- */

struct send_plan {
	uint32_t fn;
	uint32_t layout; /* descriptor version */
	struct ffa_mem_transaction t;
	uint32_t count;
	uint32_t len; /* built length */
};

static uint32_t type_of(uint32_t fn)
{
	switch (fn) {
	case FFA_MEM_SHARE_32:
	case FFA_MEM_SHARE_64:
		return FFA_MEM_TYPE_SHARE;
	case FFA_MEM_LEND_32:
	case FFA_MEM_LEND_64:
		return FFA_MEM_TYPE_LEND;
	default:
		return FFA_MEM_TYPE_DONATE;
	}
}

static uint32_t constituent_count(struct fuzzer *f)
{
	uint32_t r = fz_below(f, 100);

	if (r < 55) {
		return 1 + fz_below(f, 3);
	}
	if (r < 80) {
		return 4 + fz_below(f, 29);
	}
	if (r < 93) {
		return 100 + fz_below(f, 201);
	}
	if (r < 98) {
		return 600 + fz_below(f, 425);
	}
	return 1025 + fz_below(f, MAX_CONSTITUENTS - 1025);
}

/* Ranges in the arena (disjoint when they fit), some foreign. */
static void choose_constituents(struct fuzzer *f, struct ffa_mem_constituent *c,
				uint32_t n)
{
	uint32_t stride = 1 + fz_below(f, 3);
	uint32_t pages = 1 + fz_below(f, stride);
	uint32_t span = n * stride;
	uint32_t start = span < SEND_PAGES ? fz_below(f, SEND_PAGES - span + 1)
					   : fz_below(f, SEND_PAGES);
	uint32_t foreign = fz_chance(f, 85) ? 0 : 1 + fz_below(f, 10);

	for (uint32_t i = 0; i < n; i++) {
		uint32_t page = (start + i * stride) % SEND_PAGES;

		c[i] = (struct ffa_mem_constituent){
		    ARENA + (uint64_t)(BUFFER_PAGES + page) * FFA_PAGE_SIZE,
		    page + pages <= SEND_PAGES ? pages : 1, 0};
	}
	for (uint32_t k = 0; k < foreign; k++) {
		uint32_t i = fz_below(f, n);

		c[i].address =
		    fz_chance(f, 50)
			? VICTIM_PATTERN +
			      (uint64_t)fz_below(f, VICTIM_PATTERN_PAGES) *
				  FFA_PAGE_SIZE
			: fz_address(f) & ~0xfffull;
	}
	if (n > 1 && fz_chance(f, 20)) {
		/* any order: the hypervisor sorts */
		for (uint32_t i = n - 1; i > 0; i--) {
			uint32_t j = fz_below(f, i + 1);
			struct ffa_mem_constituent t = c[i];

			c[i] = c[j];
			c[j] = t;
		}
	}
}

static uint8_t send_permissions(struct fuzzer *f, uint32_t type)
{
	if (fz_chance(f, 12)) {
		return (uint8_t)fz_rand(f);
	}
	if (type == FFA_MEM_TYPE_DONATE) {
		return FFA_MEM_DATA_NONE;
	}
	return fz_chance(f, 50) ? FFA_MEM_DATA_RO : FFA_MEM_DATA_RW;
}

static void plan_send(struct fuzzer *f, struct send_plan *p,
		      struct ffa_mem_constituent *c)
{
	static const uint32_t fns[] = {FFA_MEM_SHARE_64,  FFA_MEM_SHARE_64,
				       FFA_MEM_SHARE_32,  FFA_MEM_LEND_64,
				       FFA_MEM_LEND_64,	  FFA_MEM_LEND_32,
				       FFA_MEM_DONATE_64, FFA_MEM_DONATE_32};
	struct ffa_mem_transaction *t = &p->t;
	uint32_t type;
	uint32_t r = fz_below(f, 100);

	p->fn = fns[fz_below(f, sizeof(fns) / sizeof(fns[0]))];
	type = type_of(p->fn);
	p->layout = f->version == FFA_VERSION_1_0 || fz_chance(f, 8)
			? (fz_chance(f, 50) ? FFA_VERSION_1_1 : FFA_VERSION_1_2)
			: f->version;
	memset(t, 0, sizeof(*t));
	t->sender = fz_chance(f, 95) ? ID_FUZZER : fz_partition_id(f);
	t->receiver_count = r < 75 ? 1 : r < 90 ? 2 : 3 + fz_below(f, 6);
	for (uint32_t i = 0; i < t->receiver_count; i++) {
		struct ffa_mem_receiver *rc = &t->receivers[i];

		rc->id = fz_chance(f, 75)
			     ? (fz_chance(f, 60) ? ID_VICTIM : ID_CHECKER)
			     : fz_partition_id(f);
		rc->permissions = send_permissions(f, type);
		rc->flags = fz_chance(f, 90) ? 0 : (uint8_t)fz_rand(f);
		if (fz_chance(f, 5)) {
			rc->impdef[fz_below(f, 16)] = (uint8_t)fz_rand(f);
		}
	}
	if (fz_chance(f, 88)) {
		t->attributes = type == FFA_MEM_TYPE_DONATE ? 0
				: type == FFA_MEM_TYPE_LEND &&
					t->receiver_count == 1 &&
					fz_chance(f, 50)
				    ? 0
				    : FFA_MEM_ATTR_NORMAL_WB_IS;
	} else {
		t->attributes = (uint16_t)FZ_PICK(
		    f, FFA_MEM_ATTR_TYPE_DEVICE, FFA_MEM_ATTR_NS,
		    FFA_MEM_ATTR_NORMAL_WB_IS | FFA_MEM_ATTR_NS, 0xffff,
		    fz_rand(f));
	}
	if (type != FFA_MEM_TYPE_SHARE && fz_chance(f, 25)) {
		t->flags = FFA_MEM_SEND_ZERO;
	}
	if (fz_chance(f, 6)) {
		t->flags = (uint32_t)fz_value(f);
	}
	t->tag = fz_chance(f, 50) ? 0 : fz_value(f);
	p->count = constituent_count(f);
	t->constituent_count = p->count;
	choose_constituents(f, c, p->count);
}

/* One corruption of the built descriptor buf[0, *len). */
static void corrupt_send(struct fuzzer *f, struct send_plan *p, uint8_t *buf,
			 uint32_t *len)
{
	uint32_t access = ffa_mem_access_size(p->layout);
	uint32_t nrecv = p->t.receiver_count;
	uint64_t comp = p->t.composite_offset;
	uint32_t recv_at = FFA_MEM_HEADER_SIZE + fz_below(f, nrecv) * access;
	uint64_t cons_at =
	    comp + FFA_MEM_COMPOSITE_SIZE +
	    (uint64_t)fz_below(f, p->count) * FFA_MEM_CONSTITUENT_SIZE;
	uint32_t limit = DESC_SIZE;

	switch (fz_below(f, 23)) {
	case 0: /* sender */
		put32(buf, 0, limit,
		      fz_partition_id(f) | (uint32_t)p->t.attributes << 16);
		break;
	case 1: /* attributes */
		buf[2] = (uint8_t)fz_rand(f);
		buf[3] = (uint8_t)FZ_PICK(f, 0, 0, 1, 0x80, fz_rand(f));
		break;
	case 2: /* flags */
		put32(buf, 4, limit,
		      (uint32_t)FZ_PICK(f, FFA_MEM_SEND_ZERO,
					FFA_MEM_SEND_TIME_SLICE, 4, 0x80000000,
					fz_rand(f)));
		break;
	case 3: /* handle */
		put64(buf, 8, limit, fz_handle(f));
		break;
	case 4: /* endpoint access descriptor size */
		put32(buf, 24, limit,
		      (uint32_t)FZ_PICK(f, 0, 8, 16, 24, 32, 48, ~0ull));
		break;
	case 5: /* endpoint count */
		put32(buf, 28, limit,
		      (uint32_t)FZ_PICK(f, 0, nrecv + 1, nrecv - 1, 9,
					0x80000000, ~0ull, fz_rand(f)));
		break;
	case 6: /* endpoint offset */
		put32(buf, 32, limit,
		      (uint32_t)FZ_PICK(f, 0, 16, 47, 56, 64, comp, *len, ~0ull,
					0xfffffff0));
		break;
	case 7: /* reserved header bytes */
		buf[36 + fz_below(f, 12)] = (uint8_t)(1 + fz_below(f, 255));
		break;
	case 8: /* receiver */
		put32(buf, recv_at, limit,
		      fz_partition_id(f) | (uint32_t)buf[recv_at + 2] << 16 |
			  (uint32_t)buf[recv_at + 3] << 24);
		break;
	case 9: /* permissions */
		buf[recv_at + 2] = (uint8_t)FZ_PICK(
		    f, FFA_MEM_DATA_RW | FFA_MEM_INSTR_X, FFA_MEM_INSTR_NX, 3,
		    0x10, 0xff, fz_rand(f));
		break;
	case 10: /* endpoint flags */
		buf[recv_at + 3] = (uint8_t)(1 + fz_below(f, 255));
		break;
	case 11: /* composite offset */
		put32(buf, recv_at + 4, limit,
		      (uint32_t)FZ_PICK(f, 0, comp + 8, comp + 16, comp - 16, 4,
					48, *len, ~0ull, comp + 4));
		break;
	case 12: /* implementation defined / reserved endpoint bytes */
		buf[recv_at + 8 + fz_below(f, access - 8)] =
		    (uint8_t)(1 + fz_below(f, 255));
		break;
	case 13: /* composite page count */
		put32(buf, comp, limit,
		      (uint32_t)FZ_PICK(f, 0, 1, ~0ull, fz_rand(f),
					p->t.page_count + 1,
					p->t.page_count - 1));
		break;
	case 14: /* composite constituent count */
		put32(buf, comp + 4, limit,
		      (uint32_t)FZ_PICK(f, 0, 1, ~0ull, fz_rand(f),
					p->count + 1, p->count - 1,
					0x10000000));
		break;
	case 15: /* composite reserved */
		buf[comp + 8 + fz_below(f, 8)] =
		    (uint8_t)(1 + fz_below(f, 255));
		break;
	case 16: /* a constituent's address */
		put64(buf, cons_at, limit,
		      FZ_PICK(f, fz_address(f) & ~0xfffull, fz_address(f),
			      VICTIM_PATTERN, CHECKER_RAM, HYP_RAM, 0,
			      0xfffffffffffff000ull, ARENA + 0x10800));
		break;
	case 17: /* a constituent's page count */
		put32(buf, cons_at + 8, limit,
		      (uint32_t)FZ_PICK(f, 0, ~0ull, 0x100000, 0x80000,
					fz_rand(f), 513));
		break;
	case 18: /* a constituent's reserved word */
		put32(buf, cons_at + 12, limit, (uint32_t)fz_value(f) | 1);
		break;
	case 19: { /* two constituents overlap (or are the same) */
		uint64_t other =
		    comp + FFA_MEM_COMPOSITE_SIZE +
		    (uint64_t)fz_below(f, p->count) * FFA_MEM_CONSTITUENT_SIZE;
		uint64_t a;

		if (other + 16 > limit || cons_at + 16 > limit) {
			break;
		}
		memcpy(&a, buf + other, 8);
		put64(buf, cons_at, limit,
		      a + (fz_chance(f, 50) ? 0 : FFA_PAGE_SIZE));
		put32(buf, cons_at + 8, limit, 1 + fz_below(f, 3));
		break;
	}
	case 20: /* any byte */
		if (*len > 0) {
			buf[fz_below(f, *len)] = (uint8_t)fz_rand(f);
		}
		break;
	case 21: { /* shorter (it may already be short) */
		uint32_t cut = 1 + fz_below(f, 15);

		*len = fz_chance(f, 50) ? fz_below(f, *len + 1)
		       : *len > cut	? *len - cut
					: 0;
		break;
	}
	default: /* longer, with garbage after */
		for (uint32_t i = fz_below(f, 64) + 1; i > 0; i--) {
			if (*len < DESC_SIZE) {
				buf[(*len)++] = (uint8_t)fz_rand(f);
			}
		}
		break;
	}
}

static uint64_t handle_in(const struct ffa_value *r)
{
	return (uint32_t)r->x[1] | (uint64_t)(uint32_t)r->x[2] << 32;
}

/* After a successful send: its pages are out of the owner's reach (lend,
 * donate) or still its own (share). `buf` holds the descriptor as sent,
 * unless a fragment was changed in TX (then nothing is checked), and
 * only while vCPU 1 is off (it may reclaim meanwhile). */
static void check_sent(struct fuzzer *f, const struct send_plan *p,
		       const uint8_t *buf, uint32_t total, uint64_t handle)
{
	struct ffa_mem_transaction t;
	struct ffa_mem_constituent k;
	struct guest_abort abort;
	uint64_t value;
	bool readable;

	if (!(handle & FFA_MEM_HANDLE_HYPERVISOR) ||
	    (handle & 0xffff) >= CONFIG_FFA_MEM_MAX_TRANSACTIONS) {
		fz_anomaly(f, "handle of a send", p->fn, handle);
	}
	if (!f->alone || ffa_mem_parse(buf, total, p->layout, true, &t) != 0) {
		return;
	}
	k = ffa_mem_constituent(buf, &t, 0);
	if (k.address < ARENA ||
	    k.address >= ARENA + ARENA_PAGES * FFA_PAGE_SIZE) {
		fz_anomaly(f, "a send of memory not the fuzzer's", p->fn,
			   k.address);
		return;
	}
	readable = guest_probe_read(k.address, &value, &abort);
	if (readable != (type_of(p->fn) == FFA_MEM_TYPE_SHARE)) {
		fz_anomaly(f, "owner's access after the send", p->fn,
			   k.address);
	}
}

/* MEM_FRAG_TX until the send completes, fails, or is left. */
static void send_fragments(struct fuzzer *f, const struct send_plan *p,
			   const uint8_t *buf, uint32_t total,
			   struct ffa_value r, uint32_t sent)
{
	bool changed = false; /* a fragment in TX differs from buf */

	for (int steps = 0; steps < 100 && r.x[0] == FFA_MEM_FRAG_RX; steps++) {
		uint64_t handle = handle_in(&r);
		uint64_t used = handle;
		uint32_t offset = (uint32_t)r.x[3];
		uint32_t room = fz_tx_size();
		uint32_t len;
		uint32_t choice = fz_below(f, 100);

		remember(known.half, handle);
		if (offset != sent) {
			fz_anomaly(f, "MEM_FRAG_RX offset", sent, offset);
			return;
		}
		if (choice < 4) {
			return; /* leave it half-sent (it holds a slot) */
		}
		if (choice < 8) {
			r = (struct ffa_value){{FFA_MEM_RECLAIM,
						(uint32_t)handle, handle >> 32,
						0}};
			fz_call(f, ROW_FFA_MEM_RECLAIM, &r);
			if (r.x[0] != FFA_SUCCESS_32 && f->alone) {
				/* (else the other vCPU may end it meanwhile) */
				fz_anomaly(f, "reclaim of a half-sent send",
					   handle, r.x[2]);
			}
			ended(handle);
			return;
		}
		len = total - offset;
		if (len > room) {
			len = (room / FFA_MEM_CONSTITUENT_SIZE) *
			      FFA_MEM_CONSTITUENT_SIZE;
		}
		if (fz_chance(f, 30) && len > FFA_MEM_CONSTITUENT_SIZE) {
			len = FFA_MEM_CONSTITUENT_SIZE *
			      (1 + fz_below(f, len / FFA_MEM_CONSTITUENT_SIZE));
		}
		memcpy(fz_tx(), buf + offset, len < room ? len : room);
		r = (struct ffa_value){
		    {FFA_MEM_FRAG_TX, (uint32_t)handle, handle >> 32, len}};
		switch (choice < 85 ? 0 : 1 + fz_below(f, 5)) {
		case 1: /* not whole constituents, or too many */
			r.x[3] = FZ_PICK(f, 0, len + 1, len - 1, 8,
					 total - offset + 16, ~0ull);
			break;
		case 2: /* someone else's send, or a guess */
			used = fz_handle(f);
			r.x[1] = (uint32_t)used;
			r.x[2] = used >> 32;
			break;
		case 3: /* w4 must be zero */
			r.x[4] = fz_value(f) | 1;
			break;
		case 4: /* constituents that are wrong in this fragment */
			if (len >= FFA_MEM_CONSTITUENT_SIZE) {
				uint64_t a =
				    FZ_PICK(f, VICTIM_PATTERN, fz_address(f),
					    ARENA + 0x10010);

				memcpy(fz_tx() + FFA_MEM_CONSTITUENT_SIZE *
						     fz_below(f, len / 16),
				       &a, 8);
				keep_own_pages_out(fz_tx(), len, fz_tx_size());
				changed = true;
			}
			break;
		default: /* x3 with bits above the 32 bits w3 has */
			if (choice >= 85) {
				r.x[3] |= fz_rand(f) << 32;
			}
			break;
		}
		__atomic_add_fetch(&fuzz_state()->fragments, 1,
				   __ATOMIC_RELAXED);
		fz_call(f, ROW_FFA_MEM_FRAG_TX, &r);
		if (r.x[0] == FFA_MEM_FRAG_RX) {
			sent = (uint32_t)r.x[3];
			continue;
		}
		if (r.x[0] == FFA_SUCCESS_32) {
			uint64_t h =
			    (uint32_t)r.x[2] | (uint64_t)(uint32_t)r.x[3] << 32;

			forget(known.half, used);
			remember(known.live, h);
			__atomic_add_fetch(&fuzz_state()->sends_ok, 1,
					   __ATOMIC_RELAXED);
			if (used == handle && !changed) {
				check_sent(f, p, buf, total, h);
			}
			return;
		}
		/* refused: the send it named is over if it was the
		 * fuzzer's; its own stays half-sent if it named another */
		forget(known.half, used);
		if (used == handle) {
			ended(handle);
		}
		return;
	}
}

void fz_mem_send(struct fuzzer *f)
{
	struct send_plan p;
	uint8_t *buf = desc[f->vcpu];
	struct ffa_mem_constituent *c = cons[f->vcpu];
	uint32_t total;
	uint32_t first;
	uint32_t room;
	uint32_t head;
	struct ffa_value r;

	if (fz_chance(f, 92)) {
		fz_mailbox_ensure(f);
	}
	plan_send(f, &p, c);
	p.len = ffa_mem_build_fragment(buf, DESC_SIZE, p.layout, &p.t, c, 0,
				       &total);
	if (p.len == 0 || p.len != total) {
		return;
	}
	for (uint32_t n = fz_chance(f, 55) ? 1 + fz_below(f, 3) : 0; n > 0;
	     n--) {
		corrupt_send(f, &p, buf, &p.len);
	}
	keep_own_pages_out(buf, p.len, DESC_SIZE);
	if (type_of(p.fn) == FFA_MEM_TYPE_SHARE && fz_mb.pages != 0 &&
	    p.count > 0 && fz_chance(f, 3)) {
		/* the TX buffer itself (a share leaves the owner its
		 * access, so a wrong acceptance costs nothing) */
		put64(buf,
		      p.t.composite_offset + FFA_MEM_COMPOSITE_SIZE +
			  (uint64_t)fz_below(f, p.count) *
			      FFA_MEM_CONSTITUENT_SIZE,
		      p.len, fz_mb.tx);
	}
	total = p.len;
	room = fz_tx_size();
	head = p.t.composite_offset + FFA_MEM_COMPOSITE_SIZE;
	first = total;
	if (total > room || (fz_chance(f, 15) && total > head + 16)) {
		/* the header, access descriptors, composite and as many
		 * whole constituents as fit (or fewer) */
		uint32_t fit = room > head ? (room - head) / 16 : 0;
		uint32_t left = total > head ? (total - head) / 16 : 0;

		if (fit >= left) {
			fit = left > 0 ? left - 1 : 0;
		}
		if (fit > 0 && fz_chance(f, 20)) {
			fit = fz_below(f, fit + 1);
		}
		first = head + fit * FFA_MEM_CONSTITUENT_SIZE;
	}
	r = (struct ffa_value){{p.fn, total, first}};
	if (fz_chance(f, 12)) {
		switch (fz_below(f, 6)) {
		case 0:
			r.x[2] = FZ_PICK(f, 0, first + 1, first - 8,
					 room + FFA_PAGE_SIZE, ~0ull);
			break;
		case 1:
			r.x[1] = FZ_PICK(f, 0, first - 16, first + 8, ~0ull,
					 total + 16);
			break;
		case 2:
			r.x[3] = fz_value(f) | 1; /* a buffer address */
			break;
		case 3:
			r.x[4] = fz_value(f) | 1; /* its page count */
			break;
		case 4:
			r.x[1] |= fz_rand(f) << 32;
			r.x[2] |= fz_rand(f) << 32;
			break;
		default:
			r.x[1] = r.x[2] = fz_value(f);
			break;
		}
	}
	memcpy(fz_tx(), buf, first < room ? first : room);
	fz_call(f, fz_ffa_row(p.fn), &r);
	if (r.x[0] == FFA_SUCCESS_32) {
		uint64_t h = (uint32_t)r.x[2] | (uint64_t)(uint32_t)r.x[3]
						    << 32;

		remember(known.live, h);
		__atomic_add_fetch(&fuzz_state()->sends_ok, 1,
				   __ATOMIC_RELAXED);
		check_sent(f, &p, buf, total, h);
	} else if (r.x[0] == FFA_MEM_FRAG_RX) {
		send_fragments(f, &p, buf, total, r, first);
	}
}

/* --- retrieve ------------------------------------------------------------- */

/* The retrieve response in RX: well formed, for `handle` from the
 * checker; then the first page is read, and written if granted. */
static void check_retrieved(struct fuzzer *f, uint64_t handle,
			    const struct ffa_value *r)
{
	struct ffa_mem_transaction t;
	struct ffa_mem_constituent k;
	uint32_t total = (uint32_t)r->x[1];
	uint32_t len = (uint32_t)r->x[2];
	struct guest_abort abort;
	uint64_t value;
	bool rw = false;

	if (!f->alone || len > fz_rx_size()) {
		/* the other vCPU may release RX and something else land
		 * there; the response may be longer than the buffer pages */
		return;
	}
	if (ffa_mem_parse_first(fz_rx(), len, total, f->version, &t) != 0 ||
	    t.handle != handle || t.sender != ID_CHECKER ||
	    t.constituents_here == 0) {
		fz_anomaly(f, "retrieve response", handle, len);
		return;
	}
	k = ffa_mem_constituent(fz_rx(), &t, 0);
	if (k.address < CHECKER_OFFER ||
	    k.address >= CHECKER_OFFER + CHECKER_OFFER_PAGES * FFA_PAGE_SIZE) {
		fz_anomaly(f, "retrieved memory is not an offer", handle,
			   k.address);
		return;
	}
	for (uint32_t i = 0; i < t.receiver_count; i++) {
		if (t.receivers[i].id == ID_FUZZER) {
			rw = (t.receivers[i].permissions & FFA_MEM_DATA_MASK) ==
			     FFA_MEM_DATA_RW;
		}
	}
	if (!guest_probe_read(k.address, &value, &abort)) {
		fz_anomaly(f, "retrieved page not readable", handle, k.address);
	}
	if (guest_probe_write(k.address + 8 * fz_below(f, 512), fz_rand(f),
			      &abort) != rw) {
		fz_anomaly(f, "retrieved page's write access", handle, rw);
	}
}

/*
 * The rest of a retrieve response that did not fit RX: MEM_FRAG_RX with
 * the bytes it has (mostly), RX released first (mostly); each MEM_FRAG_TX
 * answer must name the handle and carry whole constituents within what
 * is left.
 */
static void response_fragments(struct fuzzer *f, uint64_t handle, uint32_t have,
			       uint32_t total)
{
	for (int steps = 0; steps < 40 && have < total; steps++) {
		uint64_t h = fz_chance(f, 92) ? handle : fz_handle(f);
		uint32_t offset =
		    fz_chance(f, 85)
			? have
			: (uint32_t)FZ_PICK(f, 0, have + 16, have - 16, total,
					    fz_value(f));
		uint64_t w4 = fz_chance(f, 95) ? 0 : fz_value(f) | 1;
		bool right = h == handle && offset == have && w4 == 0;
		struct ffa_value r;

		if (fz_chance(f, 90)) {
			r = (struct ffa_value){{FFA_RX_RELEASE}};
			fz_call(f, ROW_FFA_RX_RELEASE, &r);
		}
		r = (struct ffa_value){
		    {FFA_MEM_FRAG_RX, (uint32_t)h, h >> 32, offset, w4}};
		fz_call(f, ROW_FFA_MEM_FRAG_RX, &r);
		if (r.x[0] != FFA_MEM_FRAG_TX) {
			/* BUSY (RX not released) is fine; refusing the
			 * right request is not (unless vCPU 1 let go of the
			 * memory meanwhile) */
			if (right && f->alone &&
			    ffa_is_error(&r, FFA_INVALID_PARAMETERS)) {
				fz_anomaly(f,
					   "MEM_FRAG_RX refused (handle, "
					   "offset << 32 | total)",
					   handle,
					   (uint64_t)offset << 32 | total);
				return;
			}
			continue; /* a wrong request changes nothing */
		}
		if (handle_in(&r) != h || r.x[3] == 0 ||
		    r.x[3] % FFA_MEM_CONSTITUENT_SIZE != 0 ||
		    r.x[3] > total - offset) {
			fz_anomaly(f, "MEM_FRAG_TX answer", h, r.x[3]);
			return;
		}
		have = offset + (uint32_t)r.x[3];
	}
}

void fz_mem_retrieve(struct fuzzer *f)
{
	uint8_t *buf = desc[f->vcpu];
	struct ffa_mem_transaction t;
	struct ffa_value r;
	uint32_t offer_index = 0;
	uint64_t handle = 0;
	bool offer = fz_chance(f, 50);
	uint32_t type;
	uint32_t len;

	if (fz_chance(f, 92)) {
		fz_mailbox_ensure(f);
	}
	if (offer) {
		handle = offer_handle(f, &offer_index);
	}
	if (handle == 0) {
		offer = false;
		handle = fz_handle(f);
	}
	type = offer ? fuzz_state()->offers[offer_index].type : 0;
	memset(&t, 0, sizeof(t));
	t.sender = offer && fz_chance(f, 90) ? ID_CHECKER : fz_partition_id(f);
	t.handle = handle;
	t.tag = offer && fz_chance(f, 90) ? OFFER_TAG : fz_value(f);
	switch (fz_below(f, 10)) {
	case 0:
	case 1:
	case 2:
		t.flags = type << FFA_MEM_RETRIEVE_TYPE_SHIFT;
		break;
	case 3:
		t.flags = (uint32_t)fz_below(f, 4)
			  << FFA_MEM_RETRIEVE_TYPE_SHIFT;
		break;
	case 4:
		t.flags = (uint32_t)FZ_PICK(
		    f, FFA_MEM_RETRIEVE_ZERO_BEFORE,
		    FFA_MEM_RETRIEVE_ZERO_AFTER, FFA_MEM_RETRIEVE_TIME_SLICE,
		    1u << 5, FFA_MEM_RETRIEVE_BYPASS_MULTI_CHECK, 1u << 11,
		    fz_rand(f));
		break;
	default:
		t.flags = 0;
		break;
	}
	t.receiver_count = 1;
	t.receivers[0].id = fz_chance(f, 92) ? ID_FUZZER : fz_partition_id(f);
	t.receivers[0].permissions = (uint8_t)FZ_PICK(
	    f, 0, 0, FFA_MEM_DATA_RO, FFA_MEM_DATA_RW,
	    FFA_MEM_DATA_RW | FFA_MEM_INSTR_X, FFA_MEM_INSTR_NX, 3, fz_rand(f));
	if (fz_chance(f, 12)) {
		/* more endpoints: named borrowers or not */
		t.receiver_count = 2 + fz_below(f, 3);
		for (uint32_t i = 1; i < t.receiver_count; i++) {
			t.receivers[i].id = fz_partition_id(f);
			t.receivers[i].permissions = FFA_MEM_DATA_RO;
		}
		if (fz_chance(f, 50)) {
			struct ffa_mem_receiver x = t.receivers[0];

			t.receivers[0] = t.receivers[1];
			t.receivers[1] = x;
		}
	}
	len = ffa_mem_build(buf, DESC_SIZE,
			    f->version == FFA_VERSION_1_1 ? FFA_VERSION_1_1
							  : FFA_VERSION_1_2,
			    &t, NULL);
	if (len == 0) {
		return;
	}
	if (fz_chance(f, 25)) {
		switch (fz_below(f, 5)) {
		case 0: /* a composite where a request has none */
			put32(buf, FFA_MEM_HEADER_SIZE + 4, DESC_SIZE,
			      (uint32_t)FZ_PICK(f, len, 64, 16, ~0ull));
			break;
		case 1:
			put32(buf, 24, DESC_SIZE,
			      (uint32_t)FZ_PICK(f, 0, 8, 48));
			break;
		case 2:
			put32(buf, 28, DESC_SIZE,
			      (uint32_t)FZ_PICK(f, 0, 9, 2, ~0ull));
			break;
		case 3:
			buf[fz_below(f, len)] = (uint8_t)fz_rand(f);
			break;
		default:
			len = fz_below(f, len);
			break;
		}
	}
	keep_own_pages_out(buf, len, DESC_SIZE);
	memcpy(fz_tx(), buf, len < fz_tx_size() ? len : fz_tx_size());
	r = (struct ffa_value){{fz_chance(f, 80) ? FFA_MEM_RETRIEVE_REQ_64
						 : FFA_MEM_RETRIEVE_REQ_32,
				len, len}};
	if (fz_chance(f, 10)) {
		r.x[FZ_PICK(f, 1, 2, 3, 4)] = fz_value(f);
	}
	fz_call(f, fz_ffa_row((uint32_t)r.x[0]), &r);
	if (r.x[0] != FFA_MEM_RETRIEVE_RESP) {
		return;
	}
	__atomic_add_fetch(&fuzz_state()->retrieves_ok, 1, __ATOMIC_RELAXED);
	remember(known.held, handle);
	check_retrieved(f, handle, &r);
	if ((uint32_t)r.x[2] < (uint32_t)r.x[1]) {
		response_fragments(f, handle, (uint32_t)r.x[2],
				   (uint32_t)r.x[1]);
	}
	if (fz_chance(f, 70)) {
		r = (struct ffa_value){{FFA_RX_RELEASE}};
		fz_call(f, ROW_FFA_RX_RELEASE, &r);
	}
}

/* --- relinquish, reclaim, fragments out of turn --------------------------- */

void fz_mem_relinquish(struct fuzzer *f)
{
	uint64_t handle = fz_chance(f, 50) ? any_of(f, known.held, LIVE) : 0;
	struct ffa_mem_relinquish d;
	struct ffa_value r = {{FFA_MEM_RELINQUISH}};
	uint8_t *tx;

	if (fz_chance(f, 92)) {
		fz_mailbox_ensure(f);
	}
	tx = fz_tx();
	if (handle == 0) {
		handle = fz_handle(f);
	}
	d = (struct ffa_mem_relinquish){
	    handle, fz_chance(f, 85) ? 0 : (uint32_t)FZ_PICK(f, 1, 2, ~0ull),
	    fz_chance(f, 90) ? ID_FUZZER : fz_partition_id(f)};
	ffa_mem_relinquish_build(tx, &d);
	if (fz_chance(f, 10)) {
		uint32_t count = (uint32_t)FZ_PICK(f, 0, 2, 9, ~0ull);

		memcpy(tx + 12, &count, 4);
	}
	for (int i = 1; i < 8 && fz_chance(f, 10); i++) {
		r.x[i] = fz_value(f);
	}
	fz_call(f, ROW_FFA_MEM_RELINQUISH, &r);
	if (r.x[0] == FFA_SUCCESS_32) {
		forget(known.held, handle);
	}
}

void fz_mem_reclaim(struct fuzzer *f)
{
	uint32_t pick = fz_below(f, 10);
	uint64_t handle = pick < 5   ? any_of(f, known.live, LIVE)
			  : pick < 7 ? any_of(f, known.half, LIVE)
				     : 0;
	struct ffa_value r;
	bool theirs;

	if (handle == 0) {
		handle = fz_handle(f);
	}
	r = (struct ffa_value){{FFA_MEM_RECLAIM, (uint32_t)handle, handle >> 32,
				fz_chance(f, 80)   ? 0
				: fz_chance(f, 50) ? FFA_MEM_RECLAIM_ZERO
						   : fz_value(f)}};
	if (fz_chance(f, 5)) {
		r.x[1] |= fz_rand(f) << 32;
	}
	theirs = is_checkers(handle);
	fz_call(f, ROW_FFA_MEM_RECLAIM, &r);
	if (r.x[0] == FFA_SUCCESS_32) {
		if (theirs) {
			fz_anomaly(f, "reclaimed the checker's transaction",
				   handle, 0);
		}
		ended(handle);
	}
}

void fz_mem_frag(struct fuzzer *f)
{
	uint64_t handle = fz_chance(f, 40) ? any_of(f, known.half, LIVE) : 0;
	struct ffa_value r;

	if (handle == 0) {
		handle = fz_handle(f);
	}
	if (fz_chance(f, 50)) {
		r = (struct ffa_value){
		    {FFA_MEM_FRAG_TX, (uint32_t)handle, handle >> 32,
		     FZ_PICK(f, 0, 16, 17, 4096, 4112, fz_value(f)),
		     fz_chance(f, 85) ? 0 : fz_value(f)}};
		keep_own_pages_out(fz_tx(), fz_tx_size(), fz_tx_size());
		fz_call(f, ROW_FFA_MEM_FRAG_TX, &r);
		if (r.x[0] == FFA_SUCCESS_32) {
			remember(known.live,
				 (uint32_t)r.x[2] | (uint64_t)(uint32_t)r.x[3]
							<< 32);
			forget(known.half, handle);
		} else if (r.x[0] == FFA_ERROR) {
			/* an error ends the caller's own send */
			forget(known.half, handle);
		}
	} else {
		r = (struct ffa_value){
		    {FFA_MEM_FRAG_RX, (uint32_t)handle, handle >> 32,
		     FZ_PICK(f, 0, 16, 48, 4096, fz_value(f)),
		     fz_chance(f, 85) ? 0 : fz_value(f)}};
		fz_call(f, ROW_FFA_MEM_FRAG_RX, &r);
		/* only a response it retrieved (an offer) has fragments */
		if (r.x[0] == FFA_MEM_FRAG_TX && !is_checkers(handle)) {
			fz_anomaly(f, "MEM_FRAG_RX answered", handle, r.x[3]);
		}
	}
}
