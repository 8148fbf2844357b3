/*
 * No partition can starve another of memory transactions
 * (tests/scenarios/mem-starve.dts): one image, four roles by partition ID.
 *
 *   attacker (1)   quota 16, a grant to honest-b only
 *   honest-a (2)   quota 8, shares with honest-b, lends the attacker two
 *                  pages it will not get back until the attacker is gone
 *   honest-b (3)   quota 8, shares with honest-a
 *   nogrant  (4)   no grant at all (quota 0)
 *
 * Phases (a barrier in the shared board between them):
 *   1  honest-a counts the page pool and the table (nothing in use)
 *   2  attacker: the original attack, 28 first fragments of a 300-range
 *      share to a partition that does not exist: refused, no slot held
 *   3  nogrant: the same, and whole sends: refused, no slot held
 *   4  honest-a lends the attacker two pages
 *   5  attacker fills its quota every way: half-sent fragments, live
 *      shares and lends to honest-b (which never retrieves them), and
 *      retrieves honest-a's two pages and never relinquishes them
 *   6  honest-a and honest-b share with each other (some sends in
 *      fragments) HONEST_SENDS times each, and must never be refused;
 *      meanwhile the attacker keeps trying to send (NO_MEMORY: its own
 *      quota) and churns its half-sent slots, and nogrant names guessed
 *      handles in every memory call (INVALID_PARAMETERS)
 *   7  attacker: MEM_RECLAIM drops one of its half-sent sends, then it
 *      powers off holding everything else; honest-a gets its pages back
 *      (relinquished for the attacker) and finds the table empty and the
 *      pool at its phase-1 count
 */
#include <bulkhead/hypercall.h>
#include <guest/ffa.h>
#include <guest/irq.h>
#include <guest/test.h>
#include <string.h>

#define ID_ATTACKER 1
#define ID_A	    2
#define ID_B	    3
#define ID_NOGRANT  4
#define NOBODY	    0x7ff0 /* no such partition */
#define PARTITIONS  4

#define ATTACKER_QUOTA 16
#define HONEST_QUOTA   8
#define LONG_RANGES    300 /* the long descriptor of the attack */
#define ATTACK_REPEATS 28
#define HALF_SENT      6
#define LIVE_SHARES    6
#define LIVE_LENDS     4 /* HALF_SENT + LIVE_SHARES + LIVE_LENDS = quota */
#define TO_ATTACKER    2 /* honest-a's pages lent to the attacker */
#define HONEST_SENDS   200
#define SLOTS	       4 /* an honest partition's sends outstanding */
#define POOL_PAGES     64
#define POOL_OFFSET    0x100000ull /* pages sent: RAM base + 1 MiB */
#define SETTLE_SECONDS 10

_Static_assert(HALF_SENT + LIVE_SHARES + LIVE_LENDS == ATTACKER_QUOTA,
	       "the attacker fills its quota exactly");
_Static_assert(SLOTS + TO_ATTACKER <= HONEST_QUOTA,
	       "an honest partition stays within its own quota");

struct slot {
	uint64_t handle;
	uint64_t address;
	uint32_t pages;
	uint32_t lend;
	uint32_t seq;  /* owner: posted */
	uint32_t done; /* borrower: relinquished (= seq) */
	uint32_t wrote;
	uint32_t pad;
};

struct board {
	uint32_t phase[PARTITIONS];
	uint32_t honest_done[2];
	uint32_t attacker_off;
	uint32_t attacker_tries; /* sends it tried while full */
	uint64_t to_attacker[TO_ATTACKER];
	uint64_t pool_boot;
	struct slot lanes[2][SLOTS]; /* [honest-a, honest-b][slot] */
};

static struct board *const board = (struct board *)0x4f000000ull;
static uint8_t tx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static uint8_t rx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static struct ffa_mailbox mb;
static struct guest_self me;
static struct ffa_mem_constituent ranges[LONG_RANGES];

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
	store(&board->phase[me.id - 1], n);
	for (int k = 0; k < PARTITIONS; k++) {
		while (load(&board->phase[k]) < n) {
			guest_cpu_relax();
		}
	}
}

static uint64_t seconds(uint64_t n)
{
	return n * guest_timer_freq();
}

static uint64_t slots_in_use(void)
{
	return hvc_call(BULKHEAD_POOL_INFO, 0, 0, 0, 0, 0, 0, 0).x[3];
}

static uint64_t pool_free(void)
{
	return hvc_call(BULKHEAD_POOL_INFO, 0, 0, 0, 0, 0, 0, 0).x[1];
}

static uint64_t page(uint32_t i)
{
	return me.mem_base + POOL_OFFSET + (uint64_t)i * FFA_PAGE_SIZE;
}

static struct ffa_value call(uint32_t fn, uint64_t a1, uint64_t a2, uint64_t a3)
{
	struct ffa_value in = {{fn, a1, a2, a3}};

	return ffa_call(&in);
}

static uint64_t handle_of(const struct ffa_value *r)
{
	return (uint32_t)r->x[1] | (uint64_t)(uint32_t)r->x[2] << 32;
}

/*
 * The first fragment (as much as fits TX) of a share of LONG_RANGES
 * separate pages of the caller's to `to`, total length in w1: the rest is
 * never sent. Returns the answer.
 */
static struct ffa_value first_fragment(uint16_t to)
{
	struct ffa_mem_transaction t = {
	    .sender = me.id,
	    .attributes = FFA_MEM_ATTR_NORMAL_WB_IS,
	    .receiver_count = 1,
	    .constituent_count = LONG_RANGES,
	};
	uint32_t total;
	uint32_t len;

	t.receivers[0] =
	    (struct ffa_mem_receiver){.id = to, .permissions = FFA_MEM_DATA_RW};
	for (uint32_t i = 0; i < LONG_RANGES; i++) {
		ranges[i] = (struct ffa_mem_constituent){
		    me.mem_base + POOL_OFFSET + (uint64_t)i * FFA_PAGE_SIZE, 1,
		    0};
	}
	len = ffa_mem_build_fragment(tx, sizeof(tx), FFA_VERSION_1_2, &t,
				     ranges, 0, &total);
	return call(FFA_MEM_SHARE_64, total, len, 0);
}

/* --- phases 1-3: nothing in use, the original attack refused -------------- */

TEST(attacker, first_fragments_to_nobody_hold_no_slot)
{
	barrier(1);
	barrier(2);
	for (int i = 0; i < ATTACK_REPEATS; i++) {
		struct ffa_value r = first_fragment(NOBODY);

		EXPECT_TRUE(ffa_is_error(&r, FFA_INVALID_PARAMETERS));
		EXPECT_EQ(0, slots_in_use());
	}
	/* and to a partition it has no grant for */
	{
		struct ffa_value r = first_fragment(ID_A);

		EXPECT_TRUE(ffa_is_error(&r, FFA_DENIED));
	}
	EXPECT_EQ(0, slots_in_use());
	barrier(3);
	barrier(4);
}

TEST(nogrant, first_fragments_and_sends_hold_no_slot)
{
	uint64_t h;

	barrier(1);
	barrier(3);
	for (int i = 0; i < ATTACK_REPEATS; i++) {
		struct ffa_value r = first_fragment(NOBODY);

		/* no quota: refused before anything else */
		EXPECT_TRUE(ffa_is_error(&r, FFA_DENIED));
		EXPECT_EQ(0, slots_in_use());
	}
	EXPECT_EQ(FFA_DENIED,
		  ffa_mem_share(&mb, ID_A, (void *)(uintptr_t)page(0), 1,
				FFA_MEM_DATA_RO, &h));
	EXPECT_EQ(FFA_DENIED,
		  ffa_mem_lend(&mb, ID_B, (void *)(uintptr_t)page(0), 1,
			       FFA_MEM_DATA_RW, &h));
	EXPECT_EQ(FFA_DENIED,
		  ffa_mem_donate(&mb, ID_B, (void *)(uintptr_t)page(0), 1, &h));
	EXPECT_EQ(0, slots_in_use());
	barrier(4);
}

/* --- phases 4-5: the attacker fills its quota ----------------------------- */

static uint64_t half_sent[HALF_SENT];
static uint64_t live[LIVE_SHARES + LIVE_LENDS];

TEST(attacker, fills_its_quota_every_way)
{
	struct ffa_mem_transaction t;
	struct ffa_mem_constituent got[2];
	uint64_t h = 0;
	int n = 0;

	barrier(5); /* honest-a's two pages are posted */
	for (int i = 0; i < HALF_SENT; i++) {
		struct ffa_value r = first_fragment(ID_B);

		EXPECT_TRUE(ffa_value_is(&r, FFA_MEM_FRAG_RX));
		half_sent[i] = handle_of(&r);
	}
	for (int i = 0; i < LIVE_SHARES + LIVE_LENDS; i++) {
		/* pages past the long descriptor's */
		void *p = (void *)(uintptr_t)page(LONG_RANGES + (uint32_t)i);

		EXPECT_EQ(0, i < LIVE_SHARES
				 ? ffa_mem_share(&mb, ID_B, p, 1,
						 FFA_MEM_DATA_RO, &live[i])
				 : ffa_mem_lend(&mb, ID_B, p, 1,
						FFA_MEM_DATA_RW, &live[i]));
	}
	/* the quota is full, whatever is sent and to whom */
	EXPECT_EQ(FFA_NO_MEMORY,
		  ffa_mem_share(&mb, ID_B, (void *)(uintptr_t)page(400), 1,
				FFA_MEM_DATA_RO, &h));
	{
		struct ffa_value r = first_fragment(ID_B);

		EXPECT_TRUE(ffa_is_error(&r, FFA_NO_MEMORY));
	}
	/* honest-a's pages: retrieved, never relinquished */
	for (int i = 0; i < TO_ATTACKER; i++) {
		if (ffa_mem_retrieve(&mb, board->to_attacker[i], ID_A, 0,
				     FFA_MEM_TYPE_LEND, 0, 0, &t, got,
				     2) == 0) {
			n++;
		}
	}
	EXPECT_EQ(TO_ATTACKER, n);
	/* its 16, honest-a's 2: nothing else is live yet */
	EXPECT_EQ(ATTACKER_QUOTA + TO_ATTACKER, slots_in_use());
	barrier(6);
}

TEST(honest, nothing_in_use_before_anyone_sends)
{
	if (me.id == ID_A) {
		board->pool_boot = pool_free();
		EXPECT_EQ(0, slots_in_use());
	}
	barrier(1);
}

TEST(honest, lends_the_attacker_two_pages)
{
	uint64_t handle;

	barrier(4);
	for (uint32_t i = 0; me.id == ID_A && i < TO_ATTACKER; i++) {
		EXPECT_EQ(0,
			  ffa_mem_lend(&mb, ID_ATTACKER,
				       (void *)(uintptr_t)page(POOL_PAGES + i),
				       1, FFA_MEM_DATA_RW, &handle));
		board->to_attacker[i] = handle;
	}
	barrier(5);
	barrier(6); /* the attacker has filled its quota */
}

/* --- phase 6: honest sharing while the attacker keeps trying -------------- */

static struct {
	uint32_t sent;
	uint32_t refused; /* NO_MEMORY */
	uint32_t errors;
	uint32_t fragmented;
	bool busy[POOL_PAGES];
	uint32_t next;
	uint32_t handled[SLOTS];  /* borrower: last seq served */
	uint32_t pages[SLOTS][4]; /* owner: the pages of each send */
	uint32_t count[SLOTS];
} h;

static void check_err(const char *what, int32_t err, int line)
{
	if (err == FFA_NO_MEMORY) {
		h.refused++;
	}
	if (err != 0 && ++h.errors <= 10) {
		guest_printf("honest: %s: %d (line %d)\n", what, err, line);
	}
}

#define CHECK_ERR(what, err) check_err(what, err, __LINE__)
#define DATA_WRONG	     (-100) /* not an FF-A code */

static uint64_t word_for(uint64_t address, uint32_t seq, uint16_t who)
{
	return address ^ ((uint64_t)seq << 32) ^ ((uint64_t)who << 48);
}

/*
 * Shares or lends 1..4 free pages of the pool (one range each, some sends
 * in fragments) to the other honest partition and posts the send in a
 * free slot of its lane: handle and details first, then the sequence
 * number (release), which the borrower polls.
 */
static void send_one(int lane, uint16_t other)
{
	struct ffa_mem_constituent c[4];
	struct ffa_mem_receiver r = {.id = other,
				     .permissions = FFA_MEM_DATA_RW};
	uint32_t want = 1 + h.sent % 4;
	bool lend = h.sent % 3 == 1;
	uint32_t seq = h.sent + 1;
	uint64_t handle = 0;
	int slot = -1;
	uint32_t n = 0;
	int32_t err;

	for (int i = 0; i < SLOTS && slot < 0; i++) {
		slot = board->lanes[lane][i].seq == 0 ? i : -1;
	}
	if (slot < 0) {
		return;
	}
	for (uint32_t k = 0; k < POOL_PAGES && n < want; k++) {
		uint32_t i = (h.next + k) % POOL_PAGES;

		if (!h.busy[i]) {
			h.pages[slot][n] = i;
			c[n++] = (struct ffa_mem_constituent){page(i), 1, 0};
		}
	}
	/* in address order */
	for (uint32_t i = 1; i < n; i++) {
		for (uint32_t j = i; j > 0 && c[j - 1].address > c[j].address;
		     j--) {
			struct ffa_mem_constituent t = c[j];

			c[j] = c[j - 1];
			c[j - 1] = t;
		}
	}
	for (uint32_t i = 0; i < n; i++) {
		*(volatile uint64_t *)(uintptr_t)c[i].address =
		    word_for(c[i].address, seq, me.id);
	}
	mb.max_fragment = h.sent % 4 == 3
			      ? FFA_MEM_HEADER_SIZE + FFA_MEM_ACCESS_SIZE_1_2 +
				    FFA_MEM_COMPOSITE_SIZE +
				    FFA_MEM_CONSTITUENT_SIZE
			      : 0;
	h.fragmented += mb.max_fragment != 0 && n > 1;
	err = ffa_mem_send(&mb, lend ? FFA_MEM_LEND_64 : FFA_MEM_SHARE_64, c, n,
			   &r, 1, 0, 0, &handle);
	mb.max_fragment = 0;
	CHECK_ERR("send", err);
	h.sent++;
	h.next = (h.next + n) % POOL_PAGES;
	if (err != 0) {
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		h.busy[h.pages[slot][i]] = true;
	}
	h.count[slot] = n;
	board->lanes[lane][slot] = (struct slot){.handle = handle,
						 .address = c[0].address,
						 .pages = n,
						 .lend = lend};
	store(&board->lanes[lane][slot].seq, seq);
}

/* The other's sends: retrieve, check, write (lent), relinquish, done. */
static void serve(int lane, uint16_t owner)
{
	for (int i = 0; i < SLOTS; i++) {
		struct slot *s = &board->lanes[lane][i];
		uint32_t seq = load(&s->seq);
		struct ffa_mem_transaction t;
		struct ffa_mem_constituent got[4];
		int32_t err;

		if (seq == 0 || seq == h.handled[i]) {
			continue;
		}
		err = ffa_mem_retrieve(&mb, s->handle, owner, 0,
				       s->lend ? FFA_MEM_TYPE_LEND
					       : FFA_MEM_TYPE_SHARE,
				       0, 0, &t, got, 4);
		CHECK_ERR("retrieve", err);
		for (uint32_t k = 0; err == 0 && k < t.constituent_count; k++) {
			volatile uint64_t *w =
			    (volatile uint64_t *)(uintptr_t)got[k].address;

			if (*w != word_for(got[k].address, seq, owner)) {
				CHECK_ERR("the owner's data", DATA_WRONG);
			}
			if (s->lend) {
				*w = word_for(got[k].address, seq, me.id);
			}
		}
		if (err == 0) {
			CHECK_ERR("relinquish",
				  ffa_mem_relinquish(&mb, s->handle, 0));
		}
		h.handled[i] = seq;
		store(&s->done, seq);
	}
}

/* The owner's sends the other has finished with: reclaim, check what
 * the borrower left, free the pages and the slot. */
static void reclaim_done(int lane, uint16_t other)
{
	for (int i = 0; i < SLOTS; i++) {
		struct slot *s = &board->lanes[lane][i];
		uint64_t w;

		if (s->seq == 0 || load(&s->done) != s->seq) {
			continue;
		}
		CHECK_ERR("reclaim", ffa_mem_reclaim(s->handle, 0));
		w = *(volatile uint64_t *)(uintptr_t)s->address;
		if (w !=
		    word_for(s->address, s->seq, s->lend ? other : me.id)) {
			CHECK_ERR("the borrower's data", DATA_WRONG);
		}
		for (uint32_t k = 0; k < h.count[i]; k++) {
			h.busy[h.pages[i][k]] = false;
		}
		store(&s->seq, 0);
	}
}

static bool nothing_out(int lane)
{
	for (int i = 0; i < SLOTS; i++) {
		if (board->lanes[lane][i].seq != 0) {
			return false;
		}
	}
	return true;
}

TEST(honest, never_refused_while_the_attacker_fills_the_table)
{
	int mine = me.id == ID_A ? 0 : 1;
	uint16_t other = me.id == ID_A ? ID_B : ID_A;

	while (
	    !(load(&board->honest_done[0]) && load(&board->honest_done[1]))) {
		serve(1 - mine, other);
		reclaim_done(mine, other);
		if (h.sent < HONEST_SENDS) {
			send_one(mine, other);
		} else if (nothing_out(mine)) {
			store(&board->honest_done[mine], 1);
		}
	}
	EXPECT_EQ(0, h.refused);
	EXPECT_EQ(0, h.errors);
	EXPECT_EQ(HONEST_SENDS, h.sent);
	EXPECT_TRUE(h.fragmented > 0);
	guest_printf("honest: %u sends, %u in fragments, none refused while "
		     "the attacker tried %u times\n",
		     h.sent, h.fragmented, load(&board->attacker_tries));
	barrier(7);
}

TEST(attacker, keeps_trying_while_the_honest_ones_share)
{
	uint32_t tries = 0;
	uint32_t wrong = 0;
	uint64_t handle;

	while (
	    !(load(&board->honest_done[0]) && load(&board->honest_done[1]))) {
		struct ffa_value r = first_fragment(ID_B);

		wrong +=
		    ffa_mem_share(&mb, ID_B, (void *)(uintptr_t)page(400), 1,
				  FFA_MEM_DATA_RO, &handle) != FFA_NO_MEMORY;
		wrong += !ffa_is_error(&r, FFA_NO_MEMORY);
		if (++tries % 16 == 0) {
			/* churn: drop a half-sent send, take the slot again */
			uint32_t k = tries / 16 % HALF_SENT;

			wrong += ffa_mem_reclaim(half_sent[k], 0) != 0;
			r = first_fragment(ID_B);
			wrong += !ffa_value_is(&r, FFA_MEM_FRAG_RX);
			half_sent[k] = handle_of(&r);
		}
		store(&board->attacker_tries, tries);
	}
	EXPECT_EQ(0, wrong);
	EXPECT_TRUE(tries > 0);
	barrier(7);
}

TEST(nogrant, guessed_handles_get_nothing)
{
	uint32_t wrong = 0;
	uint32_t calls = 0;

	barrier(6);
	while (
	    !(load(&board->honest_done[0]) && load(&board->honest_done[1]))) {
		for (uint32_t slot = 0; slot < 34; slot++) {
			for (uint32_t gen = 0; gen < 4; gen++) {
				uint64_t g = FFA_MEM_HANDLE_HYPERVISOR |
					     (uint64_t)gen << 16 | slot;
				struct ffa_value r = call(
				    FFA_MEM_FRAG_TX, (uint32_t)g, g >> 32, 16);
				struct ffa_mem_transaction t;
				struct ffa_mem_constituent c[2];

				wrong +=
				    !ffa_is_error(&r, FFA_INVALID_PARAMETERS);
				wrong += ffa_mem_reclaim(g, 0) !=
					 FFA_INVALID_PARAMETERS;
				wrong += ffa_mem_retrieve(
					     &mb, g, (uint16_t)(1 + slot % 3),
					     0, 0, 0, 0, &t, c,
					     2) != FFA_INVALID_PARAMETERS;
				wrong += ffa_mem_relinquish(&mb, g, 0) !=
					 FFA_INVALID_PARAMETERS;
				calls += 4;
			}
		}
	}
	EXPECT_EQ(0, wrong);
	EXPECT_TRUE(calls > 0);
	guest_printf("nogrant: %u calls on guessed handles, all refused\n",
		     calls);
	barrier(7);
}

/* --- phase 7: the attacker's end ------------------------------------------ */

TEST(attacker, reclaim_drops_a_half_sent_send)
{
	uint64_t dropped = half_sent[0];
	uint64_t handle;
	struct ffa_value r;

	EXPECT_EQ(0, ffa_mem_reclaim(dropped, 0));
	r = call(FFA_MEM_FRAG_TX, (uint32_t)dropped, dropped >> 32, 16);
	EXPECT_TRUE(ffa_is_error(&r, FFA_INVALID_PARAMETERS));
	EXPECT_EQ(FFA_INVALID_PARAMETERS, ffa_mem_reclaim(dropped, 0));
	/* its slot is free again: one send fits, the next does not */
	EXPECT_EQ(0, ffa_mem_share(&mb, ID_B, (void *)(uintptr_t)page(400), 1,
				   FFA_MEM_DATA_RO, &handle));
	EXPECT_EQ(FFA_NO_MEMORY,
		  ffa_mem_share(&mb, ID_B, (void *)(uintptr_t)page(401), 1,
				FFA_MEM_DATA_RO, &handle));
	/* powering off with 5 half-sent sends, 11 live ones and honest-a's
	 * two pages: the hypervisor ends them all */
	store(&board->attacker_off, 1);
}

TEST(honest, gets_its_pages_back_once_the_attacker_is_off)
{
	uint64_t deadline = guest_timer_now() + seconds(SETTLE_SECONDS);
	int back = 0;

	while (me.id == ID_A && !load(&board->attacker_off)) {
		guest_cpu_relax();
	}
	for (uint32_t i = 0; me.id == ID_A && i < TO_ATTACKER; i++) {
		int32_t err;

		/* DENIED while the attacker holds them */
		while ((err = ffa_mem_reclaim(board->to_attacker[i], 0)) ==
			   FFA_DENIED &&
		       guest_timer_now() < deadline) {
			guest_cpu_relax();
		}
		EXPECT_EQ(0, err);
		back += err == 0;
	}
	EXPECT_EQ(me.id == ID_A ? TO_ATTACKER : 0, back);
}

TEST(honest, table_empty_and_pool_back)
{
	uint64_t deadline = guest_timer_now() + seconds(SETTLE_SECONDS);

	if (me.id != ID_A) {
		return;
	}
	while ((slots_in_use() != 0 || pool_free() != board->pool_boot) &&
	       guest_timer_now() < deadline) {
		guest_cpu_relax();
	}
	EXPECT_EQ(0, slots_in_use());
	EXPECT_EQ(board->pool_boot, pool_free());
}

int main(void)
{
	me = guest_self();
	ffa_mailbox_init(&mb, tx, rx, 1, FFA_VERSION_1_2);
	test_run_suite(me.id == ID_ATTACKER  ? "attacker"
		       : me.id == ID_NOGRANT ? "nogrant"
					     : "honest");
	return 0;
}
