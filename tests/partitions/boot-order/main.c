/*
 * The boot order and waits for readiness (tests/scenarios/boot-order.dts).
 * Roles by partition name:
 *   early (no boot-order): suite "bootorder": a direct request to slow
 *          before slow is ready waits for it; one to never fails ABORTED
 *          after never's ready-timeout-ms;
 *   slow  (boot-order 0): a slow starter, 500 ms before its first
 *          MSG_WAIT; then answers direct requests;
 *   late  (boot-order 1): starts only once slow is ready, says so, stops;
 *   never (boot-order 2, ready-timeout-ms 300): never calls MSG_WAIT.
 */
#include <guest/ffa.h>
#include <guest/test.h>
#include <string.h>

#define ID_EARLY 1
#define ID_SLOW	 2
#define ID_NEVER 4

#define BOARD_ADDR 0x4f000000ull
#define SLOW_MS	   500u
#define QUIT	   0x51554954u /* "QUIT" */

struct board {
	volatile uint32_t slow_ready;
	volatile uint32_t late_started;
	volatile uint32_t early_done;
};

static struct board *const board = (struct board *)BOARD_ADDR;

static uint64_t now_ms(void)
{
	uint64_t count;
	uint64_t hz;

	__asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(count));
	__asm__ volatile("mrs %0, cntfrq_el0" : "=r"(hz));
	return count / (hz / 1000);
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

static void early_main(void)
{
	uint64_t words[5] = {QUIT};

	test_run_suite("bootorder");
	ffa_direct_req(ID_EARLY, ID_SLOW, words, true);
	board->early_done = 1;
}

static void slow_main(void)
{
	uint64_t until = now_ms() + SLOW_MS;
	struct ffa_value r;

	while (now_ms() < until) {
		guest_cpu_relax();
	}
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

int main(void)
{
	struct guest_self me = guest_self();

	if (strcmp(me.name, "early") == 0) {
		early_main();
	} else if (strcmp(me.name, "slow") == 0) {
		slow_main();
	} else if (strcmp(me.name, "late") == 0) {
		board->late_started = 1;
		guest_printf("late: started, slow ready: %u\n",
			     board->slow_ready);
	} else if (strcmp(me.name, "never") == 0) {
		while (!board->early_done) {
			guest_cpu_relax();
		}
	}
	return 0;
}
