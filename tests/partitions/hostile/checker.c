/*
 * The checker: an honest partition beside the fuzzer.
 *
 * It counts the page pool and the transaction table before anyone starts,
 * then sleeps in WFI; the fuzzer wakes it every MILESTONE calls (and when
 * it rings the doorbell before a blocking wait). Each wake-up it serves
 * the doorbell, and every milestone it makes one honest round: pings the
 * victim, shares or lends it pages (and lets it hold some a while), takes
 * a share of the victim's pattern, and keeps up to FUZZ_OFFERS pages
 * offered to the fuzzer. The handles of its transactions with the victim
 * are published (leaked) for the fuzzer to try. Every honest call must
 * succeed: a refusal caused by the fuzzer (NO_MEMORY above all) is an
 * error.
 *
 * Once the fuzzer has powered itself off, it waits for the fuzzer's
 * transactions to end, takes its offers back, and checks: the table
 * empty, the pool back at its boot count, the victim answering with its
 * memory intact.
 */
#include "common.h"

#include <guest/test.h>
#include <string.h>

#define MILESTONE      1000 /* fuzzer calls per honest round */
#define OFFER_TAG      0x6f66666572ull
#define OFFER_ROUNDS   3 /* an offer stays at least this many rounds */
#define ERRORS_SHOWN   12
#define SETTLE_SECONDS 20 /* for the fuzzer's transactions to end */
#define RX_TRIES       100

static uint8_t tx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static uint8_t rx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static struct ffa_mailbox mb;
static struct fuzz_state *const st = (struct fuzz_state *)FUZZSTATE;

static struct {
	struct pool_info boot;
	struct pool_info end;
	uint64_t rounds;
	uint64_t shares; /* to the victim, retrieved and returned */
	uint64_t holds;	 /* kept by the victim a while */
	uint64_t taken;	 /* the victim's pattern, retrieved here */
	uint64_t offers; /* to the fuzzer */
	uint64_t big_offers;
	uint64_t doorbells;
	uint64_t messages; /* from the fuzzer, dropped */
	uint64_t errors;
	uint64_t no_memory;
	uint64_t calls; /* the fuzzer's, at the end */
	uint64_t target;
	uint64_t anomalies;
	bool settled;
	struct ffa_value verify;
	bool verified;
} run;

static uint32_t offer_age[FUZZ_OFFERS];
static uint64_t hold_handle;
static uint32_t hold_rounds;
static uint32_t next_page; /* of CHECKER_SHARE, round robin */

static void error(const char *what, int64_t a, uint64_t b)
{
	if (a == FFA_NO_MEMORY) {
		run.no_memory++;
	}
	if (++run.errors <= ERRORS_SHOWN) {
		guest_printf("checker: ERROR %s: %ld %#lx\n", what, a, b);
	}
}

static uint64_t seconds(uint64_t n)
{
	return n * guest_timer_freq();
}

static void leak(uint64_t handle)
{
	for (uint32_t i = 0; i < FUZZ_LEAKS; i++) {
		if (st->leaked[i] == 0) {
			st->leaked[i] = handle;
			return;
		}
	}
	st->leaked[handle % FUZZ_LEAKS] = handle;
}

static void unleak(uint64_t handle)
{
	for (uint32_t i = 0; i < FUZZ_LEAKS; i++) {
		if (st->leaked[i] == handle) {
			st->leaked[i] = 0;
		}
	}
}

/* A direct request to the victim, retried while it is busy (with the
 * fuzzer's requests). */
static struct ffa_value ask_victim(uint64_t cmd, uint64_t a, uint64_t b,
				   uint64_t c)
{
	uint64_t payload[5] = {cmd, a, b, c, 0};
	uint64_t deadline = guest_timer_now() + seconds(10);
	struct ffa_value r;

	do {
		r = ffa_direct_req(ID_CHECKER, ID_VICTIM, payload, true);
	} while (ffa_is_error(&r, FFA_BUSY) && guest_timer_now() < deadline);
	if (!ffa_value_is(&r, FFA_MSG_SEND_DIRECT_RESP_64)) {
		error("request to the victim", ffa_value_error(&r), cmd);
		r.x[3] = (uint64_t)-1;
	}
	return r;
}

/* Drops whatever the fuzzer left in RX. */
static void drop_messages(void)
{
	if (ffa_rx_release() == 0) {
		run.messages++;
	}
}

static uint64_t take_pages(uint32_t pages)
{
	uint64_t address;

	if (next_page + pages > CHECKER_SHARE_PAGES) {
		next_page = 0;
	}
	address = CHECKER_SHARE + (uint64_t)next_page * FFA_PAGE_SIZE;
	next_page += pages;
	return address;
}

/* Share or lend pages to the victim, which retrieves, checks, writes
 * (lent read-write) and relinquishes them; then reclaim and check. */
static void share_round(void)
{
	bool lend = run.rounds % 2 == 1;
	uint8_t perms = run.rounds % 4 < 2 ? FFA_MEM_DATA_RW : FFA_MEM_DATA_RO;
	uint32_t pages = 1 + (uint32_t)(run.rounds % 4);
	uint64_t address = take_pages(pages);
	uint64_t handle = 0;
	struct ffa_value r;
	int32_t err;

	page_ends_write(address, pages, KEY_CHECKER);
	err = lend ? ffa_mem_lend(&mb, ID_VICTIM, (void *)(uintptr_t)address,
				  pages, perms, &handle)
		   : ffa_mem_share(&mb, ID_VICTIM, (void *)(uintptr_t)address,
				   pages, perms, &handle);
	if (err != 0) {
		error("share or lend to the victim", err, pages);
		return;
	}
	leak(handle);
	r = ask_victim(V_RETRIEVE, handle,
		       lend ? FFA_MEM_TYPE_LEND : FFA_MEM_TYPE_SHARE, pages);
	if (r.x[3] != 0 || r.x[4] != pages) {
		error("the victim's retrieve", (int64_t)r.x[3], handle);
	}
	err = ffa_mem_reclaim(handle, 0);
	if (err != 0) {
		error("reclaim from the victim", err, handle);
		return;
	}
	unleak(handle);
	if (lend && perms == FFA_MEM_DATA_RW && r.x[3] == 0) {
		uint64_t *w = (uint64_t *)(uintptr_t)address;

		if (*w != pattern_word((uintptr_t)w, KEY_LENT)) {
			error("the victim's writes to lent memory", 0, *w);
		}
	}
	run.shares++;
}

/* Every fifth round the victim keeps a share for a few rounds (the
 * fuzzer may try it meanwhile). */
static void hold_round(void)
{
	struct ffa_value r;
	int32_t err;

	if (hold_handle != 0) {
		if (++hold_rounds < 3) {
			return;
		}
		r = ask_victim(V_RELEASE, hold_handle, 0, 0);
		if (r.x[3] != 0) {
			error("the victim's release", (int64_t)r.x[3],
			      hold_handle);
		}
		err = ffa_mem_reclaim(hold_handle, 0);
		if (err != 0) {
			error("reclaim of a hold", err, hold_handle);
			return;
		}
		unleak(hold_handle);
		hold_handle = 0;
		run.holds++;
		return;
	}
	if (run.rounds % 5 != 0) {
		return;
	}
	{
		uint64_t address = take_pages(2);
		uint64_t handle;

		page_ends_write(address, 2, KEY_CHECKER);
		err = ffa_mem_share(&mb, ID_VICTIM, (void *)(uintptr_t)address,
				    2, FFA_MEM_DATA_RW, &handle);
		if (err != 0) {
			error("share for a hold", err, 2);
			return;
		}
		leak(handle);
		r = ask_victim(V_HOLD, handle, FFA_MEM_TYPE_SHARE, 0);
		if (r.x[3] != 0) {
			error("the victim's hold", (int64_t)r.x[3], handle);
		}
		hold_handle = handle;
		hold_rounds = 0;
	}
}

/* The victim shares pattern pages read-only; retrieve, check,
 * relinquish, and have it reclaim them. */
static void take_round(void)
{
	uint32_t first =
	    (uint32_t)(run.rounds * 7 % (VICTIM_PATTERN_PAGES - 4));
	uint32_t pages = 1 + (uint32_t)(run.rounds % 3);
	struct ffa_mem_transaction t;
	struct ffa_mem_constituent ranges[4];
	struct ffa_value r = ask_victim(V_SHARE, first, pages, 0);
	uint64_t handle = r.x[4];
	int32_t err;

	if (r.x[3] != 0) {
		error("the victim's share", (int64_t)r.x[3], pages);
		return;
	}
	leak(handle);
	/* the fuzzer keeps RX full of messages: drop them and try again */
	err = FFA_BUSY;
	for (int tries = 0; err == FFA_BUSY && tries < RX_TRIES; tries++) {
		drop_messages();
		err = ffa_mem_retrieve(&mb, handle, ID_VICTIM, 0,
				       FFA_MEM_TYPE_SHARE, 0, 0, &t, ranges, 4);
	}
	if (err != 0) {
		error("retrieve of the victim's share", err, handle);
	} else {
		const uint64_t *w =
		    (const uint64_t *)(uintptr_t)ranges[0].address;

		if (t.page_count != pages ||
		    ranges[0].address !=
			VICTIM_PATTERN + (uint64_t)first * FFA_PAGE_SIZE ||
		    w[5] != pattern_word((uintptr_t)&w[5], KEY_VICTIM)) {
			error("the victim's shared pattern", t.page_count,
			      ranges[0].address);
		}
		err = ffa_mem_relinquish(&mb, handle, 0);
		if (err != 0) {
			error("relinquish of the victim's share", err, handle);
		}
	}
	r = ask_victim(V_RECLAIM, handle, 0, 0);
	if (r.x[3] != 0) {
		error("the victim's reclaim", (int64_t)r.x[3], handle);
	}
	unleak(handle);
	run.taken++;
}

/* Offers to the fuzzer: slot 0 one page, slot 1 one page or, every
 * other time, BIG_OFFER_PAGES separate pages (a retrieve response longer
 * than the fuzzer's RX); each kept at least OFFER_ROUNDS rounds, taken
 * back once the fuzzer has let go (or never took it). */
static struct ffa_mem_constituent big[BIG_OFFER_PAGES];

static void offer_round(void)
{
	for (uint32_t i = 0; i < FUZZ_OFFERS; i++) {
		struct fuzz_offer *o = &st->offers[i];
		struct ffa_mem_receiver to = {.id = ID_FUZZER,
					      .permissions = FFA_MEM_DATA_RW};
		/* even pages: the big offer has the odd ones */
		struct ffa_mem_constituent one = {
		    CHECKER_OFFER + 2ull * i * FFA_PAGE_SIZE, 1, 0};
		bool lend = (run.offers + i) % 2 == 1;
		bool is_big = i == 1 && run.offers % 4 < 2;
		uint64_t handle;
		int32_t err;

		if (o->handle != 0) {
			if (++offer_age[i] < OFFER_ROUNDS) {
				continue;
			}
			err = ffa_mem_reclaim(o->handle, 0);
			if (err == FFA_DENIED) {
				continue; /* the fuzzer holds it */
			}
			if (err != 0) {
				error("reclaim of an offer", err, o->handle);
			}
			__atomic_store_n(&o->handle, 0, __ATOMIC_RELEASE);
			continue;
		}
		for (uint32_t k = 0; k < BIG_OFFER_PAGES; k++) {
			big[k] = (struct ffa_mem_constituent){
			    CHECKER_OFFER + (2ull * k + 1) * FFA_PAGE_SIZE, 1,
			    0};
		}
		err = ffa_mem_send(
		    &mb, lend ? FFA_MEM_LEND_64 : FFA_MEM_SHARE_64,
		    is_big ? big : &one, is_big ? BIG_OFFER_PAGES : 1, &to, 1,
		    0, OFFER_TAG, &handle);
		if (err != 0) {
			error("offer to the fuzzer", err, i);
			continue;
		}
		o->address = is_big ? big[0].address : one.address;
		o->type = lend ? FFA_MEM_TYPE_LEND : FFA_MEM_TYPE_SHARE;
		o->pages = is_big ? BIG_OFFER_PAGES : 1;
		__atomic_store_n(&o->handle, handle, __ATOMIC_RELEASE);
		offer_age[i] = 0;
		run.offers++;
		run.big_offers += is_big;
	}
}

static void honest_round(void)
{
	struct ffa_value r = ask_victim(V_PING, run.rounds, 0, 0);

	if (r.x[3] != 0 || r.x[4] != run.rounds + 1) {
		error("ping", (int64_t)r.x[3], r.x[4]);
	}
	share_round();
	hold_round();
	if (run.rounds % 2 == 0) {
		take_round();
	}
	offer_round();
	run.rounds++;
}

/* The fuzzer asked to be woken from a blocking wait. */
static void serve_doorbell(void)
{
	uint32_t ring = __atomic_load_n(&st->doorbell, __ATOMIC_ACQUIRE);
	uint64_t deadline;
	uint64_t word = 0x77616b65; /* "wake" */
	int32_t err;

	if (ring == st->doorbell_done) {
		return;
	}
	if (st->doorbell_kind == DOORBELL_RUN) {
		err = ffa_run(ID_FUZZER, 0);
	} else {
		deadline = guest_timer_now() + seconds(10);
		do {
			err = ffa_msg_send(&mb, ID_FUZZER, &word, sizeof(word));
		} while (err == FFA_BUSY && guest_timer_now() < deadline);
	}
	/* refused only matters while the fuzzer still waits: a WFI may end
	 * early (a RUN that came while it ran, its own interrupts), and the
	 * fuzzer may then be resetting itself when this RUN comes (DENIED) */
	if (err != 0 &&
	    __atomic_load_n(&st->doorbell_waiting, __ATOMIC_ACQUIRE) == ring) {
		error("waking the fuzzer", err, st->doorbell_kind);
	}
	st->doorbell_done = ring;
	run.doorbells++;
}

/* After the fuzzer is off: its offers back (relinquished for it), the
 * victim's hold returned, and the table settled. */
static void settle(void)
{
	uint64_t deadline = guest_timer_now() + seconds(SETTLE_SECONDS);

	if (hold_handle != 0) {
		hold_rounds = 3;
		hold_round();
	}
	do {
		bool offers_back = true;

		for (uint32_t i = 0; i < FUZZ_OFFERS; i++) {
			struct fuzz_offer *o = &st->offers[i];
			int32_t err;

			if (o->handle == 0) {
				continue;
			}
			err = ffa_mem_reclaim(o->handle, 0);
			if (err == 0) {
				o->handle = 0;
			} else {
				offers_back = false;
			}
		}
		if (offers_back && pool_info().slots_in_use == 0 &&
		    pool_info().free_pages == run.boot.free_pages) {
			run.settled = true;
			break;
		}
	} while (guest_timer_now() < deadline);
	run.end = pool_info();
}

TEST(checker, honest_calls_were_never_refused)
{
	EXPECT_EQ(0, run.no_memory);
	EXPECT_EQ(0, run.errors);
	EXPECT_TRUE(run.rounds >= run.target / MILESTONE / 2);
	EXPECT_TRUE(run.shares > 0);
	EXPECT_TRUE(run.taken > 0);
	EXPECT_TRUE(run.offers > 0);
	EXPECT_TRUE(run.big_offers > 0);
}

TEST(checker, fuzzer_made_its_calls_without_anomalies)
{
	EXPECT_TRUE(run.calls >= run.target);
	EXPECT_EQ(0, run.anomalies);
}

TEST(checker, fuzzers_transactions_ended)
{
	EXPECT_TRUE(run.settled);
	for (uint32_t i = 0; i < FUZZ_OFFERS; i++) {
		EXPECT_EQ(0, st->offers[i].handle);
	}
}

TEST(checker, transaction_table_empty)
{
	EXPECT_EQ(0, run.boot.slots_in_use);
	EXPECT_EQ(0, run.end.slots_in_use);
}

TEST(checker, page_pool_back_at_boot_count)
{
	EXPECT_EQ(run.boot.free_pages, run.end.free_pages);
	EXPECT_EQ(run.boot.pool_pages, run.end.pool_pages);
}

TEST(checker, victim_answers_with_memory_intact)
{
	struct ffa_value r = ask_victim(V_PING, 41, 0, 0);

	EXPECT_EQ(0, r.x[3]);
	EXPECT_EQ(42, r.x[4]);
	ASSERT_TRUE(run.verified);
	EXPECT_EQ(0, run.verify.x[3]);
	EXPECT_EQ(VICTIM_PATTERN_PAGES, run.verify.x[4]);
	EXPECT_EQ(1, run.verify.x[5]);
	EXPECT_TRUE(run.verify.x[6] > 0); /* the fuzzer reached it */
	EXPECT_EQ(0, run.verify.x[7]);
}

int checker_main(void)
{
	uint64_t milestone = 0;
	uint64_t quit = QUIT_MAGIC;
	uint64_t deadline;
	int32_t err;

	memset(st, 0, sizeof(*st));
	ffa_mailbox_init(&mb, tx, rx, 1, FFA_VERSION_1_2);
	while (
	    !__atomic_load_n(&sync_state()->victim_ready, __ATOMIC_ACQUIRE)) {
		guest_cpu_relax();
	}
	run.boot = pool_info();
	guest_printf("checker: at the start the page pool has %lu of %lu "
		     "pages free, %lu transaction slots in use\n",
		     run.boot.free_pages, run.boot.pool_pages,
		     run.boot.slots_in_use);
	__atomic_store_n(&st->go, 1, __ATOMIC_RELEASE);
	/* Look for work before each sleep: what the fuzzer asks for is in
	 * the shared state before its FFA_RUN, so a RUN that came during a
	 * round (while this vCPU waited for a direct response, when the
	 * hypervisor does not keep it) loses nothing. */
	for (;;) {
		drop_messages();
		serve_doorbell();
		if (__atomic_load_n(&st->final, __ATOMIC_ACQUIRE)) {
			break;
		}
		if (st->calls / MILESTONE != milestone) {
			milestone = st->calls / MILESTONE;
			honest_round();
			continue;
		}
		__asm__ volatile("wfi" ::: "memory");
	}
	/* the fuzzer's last calls: its summary, then SYSTEM_OFF */
	run.calls = st->calls;
	run.target = st->target;
	run.anomalies = st->anomalies;
	settle();
	run.verify = ask_victim(V_VERIFY, 0, 0, 0);
	run.verified = ffa_value_is(&run.verify, FFA_MSG_SEND_DIRECT_RESP_64);
	guest_printf("checker: done: %lu rounds (%lu shares, %lu holds, %lu "
		     "taken, %lu offers, %lu big, %lu doorbells, %lu messages "
		     "dropped), %lu errors\n",
		     run.rounds, run.shares, run.holds, run.taken, run.offers,
		     run.big_offers, run.doorbells, run.messages, run.errors);
	guest_printf("checker: table %lu slots in use, pool %lu of %lu pages "
		     "free (%lu at boot); victim: %lu of %u pages intact\n",
		     run.end.slots_in_use, run.end.free_pages,
		     run.end.pool_pages, run.boot.free_pages, run.verify.x[4],
		     VICTIM_PATTERN_PAGES);
	test_run_suite("checker");
	deadline = guest_timer_now() + seconds(10);
	do {
		err = ffa_msg_send(&mb, ID_VICTIM, &quit, sizeof(quit));
	} while (err == FFA_BUSY && guest_timer_now() < deadline);
	if (err != 0) {
		guest_printf("checker: the victim did not take the quit: %d\n",
			     err);
	}
	return 0;
}
