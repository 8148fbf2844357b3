/*
 * The boot order and waits for readiness (tests/scenarios/boot-order.dts).
 * Roles by partition name:
 *   early (no boot-order): suite "bootorder": a direct request to slow
 *          before slow is ready waits for it; an indirect message to late
 *          before late is ready waits for it; a direct request and an
 *          indirect message to never fail ABORTED after never's
 *          ready-timeout-ms;
 *   slow  (boot-order 0): a slow starter, 500 ms before its first
 *          MSG_WAIT; then answers direct requests;
 *   never (boot-order 2, ready-timeout-ms 300): never calls MSG_WAIT;
 *   late  (boot-order 3): starts only once slow is ready and never given
 *          up on (300 ms later), says so; once early's message is on its
 *          way, its first MSG_WAIT gets it; stops.
 */
#include <guest/ffa.h>
#include <guest/test.h>
#include <string.h>

#define ID_EARLY 1
#define ID_SLOW	 2
#define ID_LATE	 3
#define ID_NEVER 4

#define BOARD_ADDR  0x4f000000ull
#define SLOW_MS	    500u
#define LATE_LAG_MS 50u
#define QUIT	    0x51554954u /* "QUIT" */

struct board {
	volatile uint32_t slow_ready;
	volatile uint32_t late_started;
	volatile uint32_t early_done;
	volatile uint32_t send_started;	 /* early's message to late */
	volatile uint32_t late_waiting;	 /* late is about to MSG_WAIT */
	volatile uint32_t late_got;	 /* ... and got it */
	volatile uint32_t late_rx_early; /* it was in RX before that */
};

static struct board *const board = (struct board *)BOARD_ADDR;
static uint8_t tx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static uint8_t rx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static struct ffa_mailbox mb;

static uint64_t now_ms(void)
{
	uint64_t count;
	uint64_t hz;

	__asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(count));
	__asm__ volatile("mrs %0, cntfrq_el0" : "=r"(hz));
	return count / (hz / 1000);
}

static void wait_ms(uint64_t ms)
{
	uint64_t until = now_ms() + ms;

	while (now_ms() < until) {
		guest_cpu_relax();
	}
}

TEST(bootorder, request_to_a_slow_starter_waits_until_it_is_ready)
{
	uint64_t words[5] = {7};
	uint64_t start = now_ms();
	struct ffa_value r = ffa_direct_req(ID_EARLY, ID_SLOW, words, true);

	EXPECT_EQ(FFA_MSG_SEND_DIRECT_RESP_64, (uint32_t)r.x[0]);
	EXPECT_EQ(8, r.x[3]);
	EXPECT_EQ(1, board->slow_ready);
	/* it waited (slow spends SLOW_MS before it is ready) */
	EXPECT_TRUE(now_ms() - start >= SLOW_MS / 4);
}

TEST(bootorder, message_to_a_later_starter_waits_until_it_is_ready)
{
	uint64_t start = now_ms();
	int32_t err;
	uint64_t took;

	/* late starts 300 ms after slow was ready (never is given up on
	 * first), and is ready (its first MSG_WAIT) only LATE_LAG_MS after
	 * this says it sends: not before, so the message waits */
	EXPECT_EQ(0, board->late_waiting);
	__atomic_store_n(&board->send_started, 1, __ATOMIC_RELEASE);
	err = ffa_msg_send(&mb, ID_LATE, "hello late", 11);
	took = now_ms() - start;
	EXPECT_EQ(0, err);
	EXPECT_EQ(1, board->late_waiting);
	EXPECT_TRUE(took >= LATE_LAG_MS);
	while (!__atomic_load_n(&board->late_got, __ATOMIC_ACQUIRE)) {
		guest_cpu_relax();
	}
	EXPECT_EQ(0, board->late_rx_early);
}

TEST(bootorder, request_to_one_never_ready_fails_aborted_after_its_timeout)
{
	uint64_t words[5] = {1};
	uint64_t start = now_ms();
	struct ffa_value r = ffa_direct_req(ID_EARLY, ID_NEVER, words, true);
	uint64_t took = now_ms() - start;

	EXPECT_EQ(FFA_ABORTED, ffa_value_error(&r));
	EXPECT_TRUE(took >= 300);
	EXPECT_TRUE(took < 5000);
}

TEST(bootorder, message_to_one_never_ready_fails_aborted_after_its_timeout)
{
	uint64_t start = now_ms();
	int32_t err = ffa_msg_send(&mb, ID_NEVER, "never", 6);
	uint64_t took = now_ms() - start;

	EXPECT_EQ(FFA_ABORTED, err);
	EXPECT_TRUE(took >= 300);
	EXPECT_TRUE(took < 5000);
}

static void early_main(void)
{
	uint64_t words[5] = {QUIT};

	ffa_mailbox_init(&mb, tx, rx, 1, FFA_VERSION_1_2);
	test_run_suite("bootorder");
	ffa_direct_req(ID_EARLY, ID_SLOW, words, true);
	board->early_done = 1;
}

static void slow_main(void)
{
	struct ffa_value r;

	wait_ms(SLOW_MS);
	guest_printf("slow: ready after %u ms, late started: %u\n", SLOW_MS,
		     board->late_started);
	board->slow_ready = 1;
	r = ffa_msg_wait(0);
	while (ffa_value_is(&r, FFA_MSG_SEND_DIRECT_REQ_64)) {
		uint64_t words[5] = {r.x[3] + 1};

		if (r.x[3] == QUIT) {
			return; /* off: the requester's wait ends ABORTED */
		}
		r = ffa_direct_resp(&r, words);
	}
}

static void late_main(void)
{
	struct ffa_value r;
	struct ffa_msg msg;
	const void *payload;
	char text[16];

	board->late_started = 1;
	guest_printf("late: started, slow ready: %u\n", board->slow_ready);
	ffa_mailbox_init(&mb, tx, rx, 1, FFA_VERSION_1_2);
	while (!__atomic_load_n(&board->send_started, __ATOMIC_ACQUIRE)) {
		guest_cpu_relax();
	}
	wait_ms(LATE_LAG_MS);
	/* not delivered before it is ready */
	board->late_rx_early =
	    ffa_msg_get(&mb, &msg, &payload) == 0 && msg.sender == ID_EARLY;
	board->late_waiting = 1;
	r = ffa_msg_wait(0);
	if (ffa_value_is(&r, FFA_RUN) &&
	    ffa_msg_get(&mb, &msg, &payload) == 0) {
		ffa_msg_text(&msg, payload, text, sizeof(text));
		guest_printf("late: message from %u: %s\n", msg.sender, text);
		ffa_rx_release();
		__atomic_store_n(&board->late_got, 1, __ATOMIC_RELEASE);
	}
}

int main(void)
{
	struct guest_self me = guest_self();

	if (strcmp(me.name, "early") == 0) {
		early_main();
	} else if (strcmp(me.name, "slow") == 0) {
		slow_main();
	} else if (strcmp(me.name, "late") == 0) {
		late_main();
	} else if (strcmp(me.name, "never") == 0) {
		while (!board->early_done) {
			guest_cpu_relax();
		}
	}
	return 0;
}
