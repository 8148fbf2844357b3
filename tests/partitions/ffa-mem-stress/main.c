/*
 * FF-A memory stress: three single-vCPU partitions ("ms1".."ms3") on three
 * CPUs run random valid and invalid memory transactions against each other
 * at the same time, OPS_PER_PARTITION each.
 *
 * Each partition starts with POOL_PAGES pages of its own RAM. Offers go
 * through a board in a static shared region: lane [owner][borrower] has
 * SLOTS slots; a slot's first half is written only by the owner (the
 * handle, the pages, then `offer` with a release store), its second half
 * only by the borrower (`held` while it holds the memory, `done` when it
 * has relinquished it or taken a donation). Borrowers retrieve, check the
 * contents, write their own pattern when they may, hold the memory a
 * while, relinquish; owners reclaim (sometimes too early: DENIED) and
 * check what the borrower wrote. Donated pages change hands for good.
 *
 * Invalid calls are interleaved, each with the exact error it must get.
 * Afterwards every page of the three pools must be writable by exactly
 * one partition - the one that believes it owns it - the transaction
 * table must be empty and the page pool back at its starting count.
 */
#include <bulkhead/hypercall.h>
#include <guest/ffa.h>
#include <guest/test.h>
#include <string.h>

#define NPART		  3
#define POOL_PAGES	  64
#define TOTAL_PAGES	  (NPART * POOL_PAGES)
#define POOL_OFFSET	  0x200000ull /* pool pages: RAM base + 2 MiB */
#define OPS_PER_PARTITION 6700
#define PROGRESS_OPS	  1000 /* a progress line every this many calls */
#define SLOTS		  8
#define MAX_TX_PAGES	  4
#define BOARD_BASE	  0x4f000000ull
#define PATTERN_OWNER	  0x4f00000000000000ull
#define PATTERN_BORROWER  0x4200000000000000ull

struct slot {
	/* written by the owner */
	uint64_t handle;
	uint32_t type;
	uint32_t perms; /* data access sent */
	uint32_t zeroed;
	uint32_t page_count;
	uint64_t pages[MAX_TX_PAGES];
	uint64_t pattern;
	uint32_t borrowers; /* 1 or 2 */
	uint32_t offer;
	/* written by the borrower */
	uint32_t held;
	uint32_t done;
	uint32_t wrote; /* the borrower wrote its pattern for this offer */
	uint32_t pad;
};

struct board {
	struct slot lanes[NPART][NPART][SLOTS];
	uint32_t phase[NPART];
	uint32_t ops_done[NPART]; /* no more random calls */
	uint32_t finished[NPART]; /* every page home, nothing outstanding */
	uint32_t ops[NPART];
	uint32_t valid[NPART];
	uint32_t errors[NPART];
	uint64_t pool_before;
	uint8_t owner_view[NPART][TOTAL_PAGES];
	uint8_t can_write[NPART][TOTAL_PAGES];
};

_Static_assert(sizeof(struct board) <= 0x2000, "board fits the region");

static struct board *const board = (struct board *)BOARD_BASE;
static uint8_t tx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static uint8_t rx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static uint8_t spare[CONFIG_FFA_MEM_MAX_TRANSACTIONS + 1][FFA_PAGE_SIZE]
    __attribute__((aligned(4096)));
static struct ffa_mailbox mb;
static int me; /* 0..2 */
static uint64_t rng;
static uint32_t errors;
static uint32_t ops;
static uint32_t valid_sends;
static uint32_t invalid_calls;
static uint64_t last_reclaimed;

/* Pages this partition owns. */
static struct {
	uint64_t addr;
	bool sent;
} owned[TOTAL_PAGES];
static uint32_t owned_count;

/* Transactions this partition sent and has not finished. */
struct outstanding {
	bool used;
	bool reclaimed;
	uint64_t handle;
	uint32_t type;
	uint32_t page_count;
	uint64_t pages[MAX_TX_PAGES];
	uint64_t pattern;
	uint32_t nb;
	int borrower[2];
	int slot[2];
	uint32_t offer[2];
};
/* Each partition's quota (`mem-transactions` in the scenario); at most one
 * less live at once, so a send never meets a full quota (tested
 * elsewhere). */
#define QUOTA		10
#define MAX_OUTSTANDING (QUOTA - 1)
static struct outstanding out[MAX_OUTSTANDING];
static bool slot_busy[NPART][SLOTS]; /* my lanes, by borrower */
static uint32_t offer_seq;

/* Offers to me: where each slot stands, by owner. */
static struct {
	uint32_t handled; /* last offer finished */
	bool holding;
	uint32_t hold;
} incoming[NPART][SLOTS];

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			errors++;                                              \
			if (errors < 20) {                                     \
				guest_printf("memstress: line %d: %s\n",       \
					     __LINE__, #cond);                 \
			}                                                      \
		}                                                              \
	} while (0)

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static uint16_t id_of(int index)
{
	return (uint16_t)(index + 1);
}

static uint64_t pool_page(int part, int i)
{
	return 0x44000000ull + 0x400000ull * (unsigned int)part + POOL_OFFSET +
	       (uint64_t)i * FFA_PAGE_SIZE;
}

static int page_index(uint64_t addr)
{
	for (int p = 0; p < NPART; p++) {
		uint64_t base = pool_page(p, 0);

		if (addr >= base && addr < base + POOL_PAGES * FFA_PAGE_SIZE) {
			return p * POOL_PAGES +
			       (int)((addr - base) / FFA_PAGE_SIZE);
		}
	}
	return -1;
}

static volatile uint64_t *word(uint64_t addr, int which)
{
	return (volatile uint64_t *)(uintptr_t)(addr + (which
							    ? FFA_PAGE_SIZE - 8
							    : 0));
}

static uint32_t load(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void store(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static void barrier(uint32_t n)
{
	store(&board->phase[me], n);
	for (int k = 0; k < NPART; k++) {
		while (load(&board->phase[k]) < n) {
			guest_cpu_relax();
		}
	}
}

static bool aborts_on_read(uint64_t addr)
{
	struct guest_abort abort = {0};
	uint64_t value;

	return !guest_probe_read(addr, &value, &abort) && abort.far == addr;
}

/* --- owner side ----------------------------------------------------------- */

static int free_slot_to(int b)
{
	for (int s = 0; s < SLOTS; s++) {
		if (!slot_busy[b][s]) {
			return s;
		}
	}
	return -1;
}

static struct outstanding *free_record(void)
{
	for (size_t i = 0; i < sizeof(out) / sizeof(out[0]); i++) {
		if (!out[i].used) {
			return &out[i];
		}
	}
	return NULL;
}

/* Puts pages[] (and their indexes idx[] in owned[]) in address order
 * (insertion sort: at most MAX_TX_PAGES of them). */
static void sort_pages(uint64_t *pages, int *idx, uint32_t n)
{
	for (uint32_t i = 1; i < n; i++) {
		for (uint32_t j = i; j > 0 && pages[j - 1] > pages[j]; j--) {
			uint64_t t = pages[j];
			int ti = idx[j];

			pages[j] = pages[j - 1];
			idx[j] = idx[j - 1];
			pages[j - 1] = t;
			idx[j - 1] = ti;
		}
	}
}

/* Up to `want` unsent pages, in address order; returns how many. */
static uint32_t pick_pages(uint32_t want, uint64_t *pages, int *idx)
{
	uint32_t n = 0;
	uint32_t start = owned_count ? rnd(owned_count) : 0;

	for (uint32_t k = 0; k < owned_count && n < want; k++) {
		uint32_t i = (start + k) % owned_count;

		if (!owned[i].sent) {
			idx[n] = (int)i;
			pages[n++] = owned[i].addr;
		}
	}
	sort_pages(pages, idx, n);
	return n;
}

static int32_t send_raw(uint32_t fn, const uint64_t *pages, uint32_t n,
			const uint16_t *to, const uint8_t *perms, uint32_t nb,
			uint32_t flags, uint64_t *handle)
{
	struct ffa_mem_constituent cons[MAX_TX_PAGES + 1];
	struct ffa_mem_receiver r[2];

	for (uint32_t i = 0; i < n; i++) {
		cons[i] = (struct ffa_mem_constituent){pages[i], 1, 0};
	}
	for (uint32_t i = 0; i < nb; i++) {
		r[i] = (struct ffa_mem_receiver){.id = to[i],
						 .permissions = perms[i]};
	}
	return ffa_mem_send(&mb, fn, cons, n, r, nb, flags, 0, handle);
}

/* Drops page `addr` from this partition's set (it was donated away). */
static void disown(uint64_t addr)
{
	for (uint32_t i = 0; i < owned_count; i++) {
		if (owned[i].addr == addr) {
			owned[i] = owned[--owned_count];
			return;
		}
	}
	CHECK(false);
}

/*
 * Sends one transaction of `kind` (0 share, 1 lend, 2 donate) of the
 * `page_count` pages at pages[] (address order; owned[idx[i]]) to `nb`
 * borrowers[] with perms[], and posts it in their lanes. False when no
 * lane slot or record was free (nothing sent).
 */
static bool offer(uint32_t kind, const uint64_t *pages, const int *idx,
		  uint32_t page_count, const int *borrowers,
		  const uint8_t *perms, uint32_t nb, uint32_t flags)
{
	static const uint32_t fns[] = {FFA_MEM_SHARE_64, FFA_MEM_LEND_64,
				       FFA_MEM_DONATE_64};
	static const uint32_t types[] = {FFA_MEM_TYPE_SHARE, FFA_MEM_TYPE_LEND,
					 FFA_MEM_TYPE_DONATE};
	struct outstanding *o = free_record();
	uint16_t to[2];
	int32_t err;

	if (o == NULL || page_count == 0) {
		return false;
	}
	memset(o, 0, sizeof(*o));
	o->nb = nb;
	for (uint32_t k = 0; k < nb; k++) {
		o->borrower[k] = borrowers[k];
		o->slot[k] = free_slot_to(borrowers[k]);
		if (o->slot[k] < 0) {
			return false; /* that lane is full: later */
		}
		to[k] = id_of(borrowers[k]);
	}
	o->page_count = page_count;
	memcpy(o->pages, pages, page_count * sizeof(*pages));
	o->pattern = PATTERN_OWNER | (uint64_t)me << 48 | ++offer_seq;
	for (uint32_t i = 0; i < page_count; i++) {
		*word(pages[i], 0) = o->pattern;
		*word(pages[i], 1) = o->pattern;
	}
	err = send_raw(fns[kind], pages, page_count, to, perms, nb, flags,
		       &o->handle);
	if (err != 0 && errors < 20) {
		guest_printf("memstress: send of %u pages failed: %d\n",
			     page_count, err);
	}
	CHECK(err == 0);
	if (err != 0) {
		return true;
	}
	valid_sends++;
	o->used = true;
	o->type = types[kind];
	for (uint32_t i = 0; i < page_count; i++) {
		owned[idx[i]].sent = true;
	}
	if (kind != 0) {
		/* lent or donated: no access for the owner any more */
		CHECK(aborts_on_read(pages[0]));
	}
	if (kind == 2) {
		/* donated: gone for good (they may even come back to this
		 * partition before the borrower says it is done) */
		for (uint32_t i = 0; i < page_count; i++) {
			disown(pages[i]);
		}
	}
	for (uint32_t k = 0; k < nb; k++) {
		struct slot *sl = &board->lanes[me][o->borrower[k]][o->slot[k]];

		slot_busy[o->borrower[k]][o->slot[k]] = true;
		sl->handle = o->handle;
		sl->type = o->type;
		sl->perms = perms[k];
		sl->zeroed = flags != 0;
		sl->page_count = page_count;
		memcpy(sl->pages, pages, sizeof(sl->pages));
		sl->pattern = o->pattern;
		sl->borrowers = nb;
		o->offer[k] = load(&sl->offer) + 1;
		store(&sl->offer, o->offer[k]);
	}
	return true;
}

static bool valid_send(void)
{
	/* donate less when poor, more when rich, so that no partition
	 * runs out of pages to send */
	uint32_t donate = owned_count < POOL_PAGES / 2 ? 0
			  : owned_count > POOL_PAGES   ? 4
						       : 2;
	uint32_t pick = rnd(10);
	uint32_t kind = pick < donate			    ? 2
			: pick < donate + (10 - donate) / 2 ? 0
							    : 1;
	uint32_t nb = kind != 2 && rnd(4) == 0 ? 2 : 1;
	uint32_t flags = kind != 0 && rnd(4) == 0 ? FFA_MEM_SEND_ZERO : 0;
	int borrowers[2];
	uint8_t perms[2];
	uint64_t pages[MAX_TX_PAGES];
	int idx[MAX_TX_PAGES];
	uint32_t n = pick_pages(1 + rnd(MAX_TX_PAGES), pages, idx);

	for (uint32_t k = 0; k < nb; k++) {
		borrowers[k] =
		    (me + 1 + (int)k + (nb == 1 ? (int)rnd(2) : 0)) % NPART;
		perms[k] = kind == 2	 ? FFA_MEM_DATA_NONE
			   : nb == 2	 ? FFA_MEM_DATA_RO
			   : rnd(2) == 0 ? FFA_MEM_DATA_RO
					 : FFA_MEM_DATA_RW;
	}
	return offer(kind, pages, idx, n, borrowers, perms, nb, flags);
}

/* Donates up to MAX_TX_PAGES pages that came from one other partition's
 * pool back to it; false when there are none (or no slot yet). */
static bool send_home(void)
{
	uint64_t pages[MAX_TX_PAGES];
	int idx[MAX_TX_PAGES];
	uint8_t none = FFA_MEM_DATA_NONE;
	uint32_t n = 0;
	int home = -1;

	for (uint32_t i = 0; i < owned_count && n < MAX_TX_PAGES; i++) {
		int h = page_index(owned[i].addr) / POOL_PAGES;

		if (h != me && !owned[i].sent && (home < 0 || h == home)) {
			home = h;
			idx[n] = (int)i;
			pages[n++] = owned[i].addr;
		}
	}
	sort_pages(pages, idx, n);
	return n > 0 && offer(2, pages, idx, n, &home, &none, 1, 0);
}

static bool foreign_pages(void)
{
	for (uint32_t i = 0; i < owned_count; i++) {
		if (page_index(owned[i].addr) / POOL_PAGES != me) {
			return true;
		}
	}
	return false;
}

static void unsend(uint64_t addr)
{
	for (uint32_t i = 0; i < owned_count; i++) {
		if (owned[i].addr == addr) {
			owned[i].sent = false;
			return;
		}
	}
	CHECK(false);
}

static void check_returned(const struct outstanding *o)
{
	const struct slot *sl = &board->lanes[me][o->borrower[0]][o->slot[0]];
	uint64_t expect = o->pattern;

	if (o->nb == 1 && load(&sl->wrote) == o->offer[0]) {
		expect = PATTERN_BORROWER | (uint64_t)o->borrower[0] << 48 |
			 o->offer[0];
	} else if (sl->zeroed) {
		expect = 0;
	}
	for (uint32_t i = 0; i < o->page_count; i++) {
		CHECK(*word(o->pages[i], 0) == expect);
		CHECK(*word(o->pages[i], 1) == expect);
	}
}

static void progress(void)
{
	for (size_t r = 0; r < sizeof(out) / sizeof(out[0]); r++) {
		struct outstanding *o = &out[r];
		bool all_done = true;
		bool held = false;

		if (!o->used) {
			continue;
		}
		for (uint32_t k = 0; k < o->nb; k++) {
			struct slot *sl =
			    &board->lanes[me][o->borrower[k]][o->slot[k]];

			all_done &= load(&sl->done) == o->offer[k];
			held |= load(&sl->held) == o->offer[k];
		}
		if (o->type == FFA_MEM_TYPE_DONATE) {
			if (!all_done) {
				continue;
			}
			/* retrieved: the transaction is over */
			CHECK(ffa_mem_reclaim(o->handle, 0) ==
			      FFA_INVALID_PARAMETERS);
		} else if (!o->reclaimed &&
			   (all_done || (held && o->nb == 1 && rnd(4) == 0))) {
			/* early (while held: DENIED, unless it let go
			 * meanwhile) or once every borrower is done */
			int32_t err = ffa_mem_reclaim(o->handle, 0);

			CHECK(err == 0 || (!all_done && err == FFA_DENIED));
			if (err == 0) {
				o->reclaimed = true;
				check_returned(o);
				for (uint32_t i = 0; i < o->page_count; i++) {
					unsend(o->pages[i]);
				}
				last_reclaimed = o->handle;
			}
		}
		if (!all_done) {
			continue;
		}
		for (uint32_t k = 0; k < o->nb; k++) {
			slot_busy[o->borrower[k]][o->slot[k]] = false;
		}
		o->used = false;
	}
}

/* One invalid call with the error it must get; false if the one picked
 * did not apply (nothing called). */
static bool invalid_call(void)
{
	bool called = true;

	uint16_t peer = id_of((me + 1 + (int)rnd(2)) % NPART);
	uint16_t self = id_of(me);
	uint8_t rw = FFA_MEM_DATA_RW;
	uint16_t two[2] = {id_of((me + 1) % NPART), id_of((me + 2) % NPART)};
	uint64_t h = 0;
	uint64_t page = 0;
	int idx[MAX_TX_PAGES];
	uint64_t pages[2];

	if (pick_pages(1, &page, idx) == 0) {
		page = (uintptr_t)spare[0];
	}
	switch (rnd(11)) {
	case 0: /* a page already sent, if there is one */
		called = false;
		for (uint32_t i = 0; i < owned_count; i++) {
			if (owned[i].sent) {
				CHECK(send_raw(FFA_MEM_SHARE_64, &owned[i].addr,
					       1, &peer, &rw, 1, 0,
					       &h) == FFA_DENIED);
				called = true;
				break;
			}
		}
		break;
	case 1: { /* a page of someone else's pool that is not mine */
		int p = (me + 1 + (int)rnd(2)) % NPART;
		uint64_t a = pool_page(p, (int)rnd(POOL_PAGES));
		bool mine = false;

		for (uint32_t i = 0; i < owned_count; i++) {
			mine |= owned[i].addr == a;
		}
		called = !mine;
		if (!mine) {
			CHECK(send_raw(FFA_MEM_LEND_64, &a, 1, &peer, &rw, 1, 0,
				       &h) == FFA_DENIED);
		}
		break;
	}
	case 2: /* unaligned */
		pages[0] = page + 0x100;
		CHECK(send_raw(FFA_MEM_SHARE_64, pages, 1, &peer, &rw, 1, 0,
			       &h) == FFA_INVALID_PARAMETERS);
		break;
	case 3: /* share with the zero flag */
		CHECK(send_raw(FFA_MEM_SHARE_64, &page, 1, &peer, &rw, 1,
			       FFA_MEM_SEND_ZERO,
			       &h) == FFA_INVALID_PARAMETERS);
		break;
	case 4: { /* donate to two */
		uint8_t none[2] = {0, 0};

		CHECK(send_raw(FFA_MEM_DONATE_64, &page, 1, two, none, 2, 0,
			       &h) == FFA_INVALID_PARAMETERS);
		break;
	}
	case 5: /* a stale handle */
		called = last_reclaimed != 0;
		if (called) {
			CHECK(ffa_mem_reclaim(last_reclaimed, 0) ==
			      FFA_INVALID_PARAMETERS);
		}
		break;
	case 6: { /* retrieve a handle nobody gave out */
		struct ffa_mem_transaction t;
		struct ffa_mem_constituent c[MAX_TX_PAGES];

		CHECK(ffa_mem_retrieve(&mb, FFA_MEM_HANDLE_HYPERVISOR | 0xffff,
				       peer, 0, 0, 0, 0, &t, c,
				       MAX_TX_PAGES) == FFA_INVALID_PARAMETERS);
		break;
	}
	case 7: /* relinquish what was never retrieved here */
		called = last_reclaimed != 0;
		if (called) {
			CHECK(ffa_mem_relinquish(&mb, last_reclaimed, 0) ==
			      FFA_INVALID_PARAMETERS);
		}
		break;
	case 8: /* the same page twice */
		pages[0] = pages[1] = page;
		CHECK(send_raw(FFA_MEM_SHARE_64, pages, 2, &peer, &rw, 1, 0,
			       &h) == FFA_INVALID_PARAMETERS);
		break;
	case 9: /* to myself */
		CHECK(send_raw(FFA_MEM_LEND_64, &page, 1, &self, &rw, 1, 0,
			       &h) == FFA_INVALID_PARAMETERS);
		break;
	default: { /* reclaim someone else's live transaction */
		int o = (me + 1 + (int)rnd(2)) % NPART;
		int b = (o + 1 + (int)rnd(2)) % NPART;
		struct slot *sl = &board->lanes[o][b][rnd(SLOTS)];
		uint64_t handle = sl->handle;

		called = handle != 0;
		if (called) {
			/* live or stale: never this partition's */
			CHECK(ffa_mem_reclaim(handle, 0) ==
			      FFA_INVALID_PARAMETERS);
		}
		break;
	}
	}
	return called;
}

/* --- borrower side -------------------------------------------------------- */

static void take_offer(int o, int s, struct slot *sl, uint32_t offer)
{
	struct ffa_mem_transaction t;
	struct ffa_mem_constituent ranges[MAX_TX_PAGES];
	uint16_t owner = id_of(o);
	uint8_t ask = 0;
	uint64_t expect;
	int32_t err;

	if (sl->perms == FFA_MEM_DATA_RO && rnd(8) == 0) {
		/* wider than sent */
		CHECK(ffa_mem_retrieve(&mb, sl->handle, owner, 0, 0,
				       FFA_MEM_DATA_RW, 0, &t, ranges,
				       MAX_TX_PAGES) == FFA_DENIED);
	}
	if (rnd(16) == 0) {
		CHECK(ffa_mem_retrieve(&mb, sl->handle, owner, 7, 0, 0, 0, &t,
				       ranges, MAX_TX_PAGES) ==
		      FFA_INVALID_PARAMETERS); /* wrong tag */
	}
	if (sl->type == FFA_MEM_TYPE_DONATE) {
		/* executable, like the rest of this partition's RAM, so
		 * donated pages can be sent on together with its own */
		ask = FFA_MEM_DATA_RW | FFA_MEM_INSTR_X;
	} else if (sl->perms == FFA_MEM_DATA_RW && rnd(3) == 0) {
		ask = FFA_MEM_DATA_RO; /* narrower: fine */
	}
	err = ffa_mem_retrieve(&mb, sl->handle, owner, 0,
			       rnd(2) ? sl->type : FFA_MEM_TYPE_ANY, ask, 0, &t,
			       ranges, MAX_TX_PAGES);
	CHECK(err == 0);
	if (err != 0) {
		store(&sl->done, offer);
		incoming[o][s].handled = offer;
		return;
	}
	CHECK(t.constituent_count == sl->page_count);
	expect = sl->zeroed ? 0 : sl->pattern;
	for (uint32_t i = 0; i < t.constituent_count && i < MAX_TX_PAGES; i++) {
		CHECK(ranges[i].address == sl->pages[i]);
		CHECK(*word(ranges[i].address, 0) == expect);
		CHECK(*word(ranges[i].address, 1) == expect);
	}
	if (sl->type == FFA_MEM_TYPE_DONATE) {
		/* mine now, for good */
		for (uint32_t i = 0; i < sl->page_count; i++) {
			owned[owned_count].addr = sl->pages[i];
			owned[owned_count++].sent = false;
		}
		store(&sl->done, offer);
		incoming[o][s].handled = offer;
		return;
	}
	if (sl->perms == FFA_MEM_DATA_RW && ask == 0) {
		uint64_t mine = PATTERN_BORROWER | (uint64_t)me << 48 | offer;

		for (uint32_t i = 0; i < sl->page_count; i++) {
			*word(sl->pages[i], 0) = mine;
			*word(sl->pages[i], 1) = mine;
		}
		store(&sl->wrote, offer);
	} else {
		struct guest_abort abort = {0};

		CHECK(!guest_probe_write(sl->pages[0], 1, &abort));
	}
	store(&sl->held, offer);
	incoming[o][s].holding = true;
	incoming[o][s].hold = rnd(3);
}

static void let_go(int o, int s, struct slot *sl, uint32_t offer)
{
	CHECK(ffa_mem_relinquish(&mb, sl->handle, 0) == 0);
	CHECK(aborts_on_read(sl->pages[0]));
	incoming[o][s].holding = false;
	incoming[o][s].handled = offer;
	store(&sl->done, offer);
}

static void serve(bool draining)
{
	for (int o = 0; o < NPART; o++) {
		for (int s = 0; s < SLOTS && o != me; s++) {
			struct slot *sl = &board->lanes[o][me][s];
			uint32_t offer = load(&sl->offer);

			if (offer == incoming[o][s].handled) {
				continue;
			}
			if (!incoming[o][s].holding) {
				take_offer(o, s, sl, offer);
			} else if (draining || incoming[o][s].hold-- == 0) {
				let_go(o, s, sl, offer);
			}
		}
	}
}

static bool nothing_incoming(void)
{
	for (int o = 0; o < NPART; o++) {
		for (int s = 0; s < SLOTS && o != me; s++) {
			if (load(&board->lanes[o][me][s].offer) !=
			    incoming[o][s].handled) {
				return false;
			}
		}
	}
	return true;
}

static bool nothing_outstanding(void)
{
	for (size_t r = 0; r < sizeof(out) / sizeof(out[0]); r++) {
		if (out[r].used) {
			return false;
		}
	}
	return true;
}

static bool all_set(const uint32_t *flags)
{
	for (int k = 0; k < NPART; k++) {
		if (!load(&flags[k])) {
			return false;
		}
	}
	return true;
}

/*
 * Random calls until OPS_PER_PARTITION were made; then, once everyone is
 * done with those, donated pages go home; then serve the others until all
 * three are finished.
 */
TEST(memstress, random_transactions_against_each_other)
{
	uint32_t reported = 0;

	for (;;) {
		bool random_phase = ops < OPS_PER_PARTITION;

		serve(!random_phase);
		progress();
		if (random_phase) {
			/* about three valid sends for two invalid calls */
			if (3 * invalid_calls < 2 * valid_sends) {
				bool called = invalid_call();

				invalid_calls += called;
				ops += called;
			} else {
				ops += valid_send();
			}
			if (ops / PROGRESS_OPS != reported) {
				reported = ops / PROGRESS_OPS;
				guest_printf("progress: %u of %u calls\n", ops,
					     OPS_PER_PARTITION);
			}
		} else if (!load(&board->ops_done[me])) {
			if (nothing_outstanding()) {
				store(&board->ops_done[me], 1);
			}
		} else if (!all_set(board->ops_done)) {
			continue;
		} else if (foreign_pages()) {
			send_home();
		} else if (nothing_outstanding()) {
			store(&board->finished[me], 1);
			if (all_set(board->finished) && nothing_incoming()) {
				break;
			}
		}
	}
	board->ops[me] = ops;
	board->valid[me] = valid_sends;
	board->errors[me] = errors;
	EXPECT_EQ(0, errors);
	guest_printf("memstress: %u calls (%u valid sends, %u invalid calls), "
		     "%u pages owned\n",
		     ops, valid_sends, invalid_calls, owned_count);
}

TEST(memstress, every_page_writable_by_its_owner_only)
{
	barrier(3);
	for (uint32_t i = 0; i < owned_count; i++) {
		int k = page_index(owned[i].addr);

		EXPECT_FALSE(owned[i].sent);
		if (k >= 0) {
			board->owner_view[me][k] = 1;
		}
	}
	for (int k = 0; k < TOTAL_PAGES; k++) {
		struct guest_abort abort = {0};
		uint64_t a = pool_page(k / POOL_PAGES, k % POOL_PAGES);

		board->can_write[me][k] = guest_probe_write(a, 0, &abort);
		if (!board->can_write[me][k]) {
			EXPECT_EQ(a, abort.far);
		}
		/* what this partition thinks and what stage 2 says agree */
		EXPECT_EQ(board->owner_view[me][k], board->can_write[me][k]);
	}
	barrier(4);
}

/* ms1 only: the global views, the table and the pool. */
TEST(memstress_final, each_page_has_exactly_one_owner)
{
	uint32_t total = 0;
	uint32_t valid = 0;
	int bad = 0;

	for (int k = 0; k < TOTAL_PAGES; k++) {
		int writers = 0;

		for (int p = 0; p < NPART; p++) {
			writers += board->can_write[p][k];
		}
		bad += writers != 1;
	}
	EXPECT_EQ(0, bad);
	for (int p = 0; p < NPART; p++) {
		total += board->ops[p];
		valid += board->valid[p];
		EXPECT_EQ(0, board->errors[p]);
	}
	EXPECT_TRUE(total >= 20000);
	guest_printf("memstress: %u transactions (%u valid sends) by %d "
		     "partitions; every page has one owner\n",
		     total, valid, NPART);
}

TEST(memstress_final, table_empty_and_pool_back)
{
	uint64_t h[QUOTA + 1];
	int n = 0;
	int32_t err = 0;

	/* every slot of the table is free again, and all of the quota */
	EXPECT_EQ(0, hvc_call(BULKHEAD_POOL_INFO, 0, 0, 0, 0, 0, 0, 0).x[3]);
	while (n <= QUOTA) {
		err =
		    ffa_mem_share(&mb, 2, spare[n], 1, FFA_MEM_DATA_RO, &h[n]);
		if (err != 0) {
			break;
		}
		n++;
	}
	EXPECT_EQ(QUOTA, n);
	EXPECT_EQ(FFA_NO_MEMORY, err);
	for (int i = 0; i < n; i++) {
		EXPECT_EQ(0, ffa_mem_reclaim(h[i], 0));
	}
	EXPECT_EQ(board->pool_before,
		  hvc_call(BULKHEAD_POOL_INFO, 0, 0, 0, 0, 0, 0, 0).x[1]);
}

int main(void)
{
	struct guest_self self = guest_self();

	me = self.id - 1;
	rng = 0x9e3779b97f4a7c15ull * (uint64_t)self.id;
	ffa_mailbox_init(&mb, tx, rx, 1, FFA_VERSION_1_2);
	for (int i = 0; i < POOL_PAGES; i++) {
		owned[owned_count].addr = pool_page(me, i);
		owned[owned_count++].sent = false;
	}
	barrier(1);
	if (me == 0) {
		board->pool_before =
		    hvc_call(BULKHEAD_POOL_INFO, 0, 0, 0, 0, 0, 0, 0).x[1];
	}
	barrier(2); /* nobody sends before the pool is counted */
	test_run_suite("memstress");
	if (me == 0) {
		test_run_suite("memstress_final");
	}
	return 0;
}
