/*
 * An FFA_RUN that comes while its target waits for a direct response
 * (tests/scenarios/run-wake.dts):
 *
 *   sleeper  sends server a direct request and waits for the response
 *   server   on the request, waits until waker has called FFA_RUN on the
 *            sleeper (the sleeper is in its request all that time), then
 *            answers
 *   sleeper  then executes WFI: the RUN it got meanwhile must end it at
 *            once
 *   waker    if the sleeper has not woken BACKUP_SECONDS after the
 *            response, it runs the sleeper again (so the test ends) and
 *            says so in the board: the first RUN was lost
 */
#include <guest/ffa.h>
#include <guest/irq.h>
#include <guest/test.h>

#define ID_WAKER       1
#define ID_SLEEPER     2
#define ID_SERVER      3
#define BACKUP_SECONDS 3
#define WAIT_SECONDS   20

struct board {
	uint32_t serving;     /* server: the sleeper's request is here */
	uint32_t run_sent;    /* waker: FFA_RUN(sleeper) made */
	uint32_t answered;    /* sleeper: the response came, WFI next */
	uint32_t backup;      /* waker: a second RUN was needed */
	uint32_t woken;	      /* sleeper: WFI returned */
	uint32_t backup_seen; /* sleeper: ... after the second RUN */
};

static struct board *const board = (struct board *)0x4f000000ull;
static uint8_t tx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static uint8_t rx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static struct ffa_mailbox mb;

static uint32_t load(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void store(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static uint64_t seconds(uint64_t n)
{
	return n * guest_timer_freq();
}

/* Waits (bounded) until *flag is set; returns whether it was. */
static bool wait_for(const uint32_t *flag, uint64_t limit)
{
	uint64_t deadline = guest_timer_now() + limit;

	while (!load(flag) && guest_timer_now() < deadline) {
		guest_cpu_relax();
	}
	return load(flag) != 0;
}

TEST(run, a_run_during_a_direct_request_ends_the_next_wfi)
{
	uint64_t payload[5] = {1, 2, 3, 4, 5};
	uint64_t deadline = guest_timer_now() + seconds(WAIT_SECONDS);
	struct ffa_value r;

	do { /* BUSY until the server waits for messages */
		r = ffa_direct_req(ID_SLEEPER, ID_SERVER, payload, true);
	} while (ffa_is_error(&r, FFA_BUSY) && guest_timer_now() < deadline);
	ASSERT_TRUE(ffa_value_is(&r, FFA_MSG_SEND_DIRECT_RESP_64));
	store(&board->answered, 1);
	__asm__ volatile("wfi" ::: "memory");
	store(&board->backup_seen, load(&board->backup));
	store(&board->woken, 1);
	/* 0: the RUN that came during the request ended the WFI; 1: it was
	 * lost, and only the waker's second RUN did */
	EXPECT_EQ(0, load(&board->backup_seen));
}

TEST(waker, runs_the_sleeper_while_it_waits_for_a_response)
{
	uint64_t quit = 1;
	uint64_t deadline;
	int32_t err;

	EXPECT_TRUE(wait_for(&board->serving, seconds(WAIT_SECONDS)));
	EXPECT_EQ(0, ffa_run(ID_SLEEPER, 0));
	store(&board->run_sent, 1);
	EXPECT_TRUE(wait_for(&board->answered, seconds(WAIT_SECONDS)));
	if (!wait_for(&board->woken, seconds(BACKUP_SECONDS))) {
		store(&board->backup, 1);
		EXPECT_EQ(0, ffa_run(ID_SLEEPER, 0));
	}
	EXPECT_TRUE(wait_for(&board->woken, seconds(WAIT_SECONDS)));
	deadline = guest_timer_now() + seconds(WAIT_SECONDS);
	do { /* the server goes off on any message */
		err = ffa_msg_send(&mb, ID_SERVER, &quit, sizeof(quit));
	} while (err == FFA_BUSY && guest_timer_now() < deadline);
	EXPECT_EQ(0, err);
}

static void direct(struct ffa_service *s, const struct ffa_value *req,
		   uint64_t *resp)
{
	(void)s;
	store(&board->serving, 1);
	/* hold the request until the waker has run the sleeper */
	resp[0] = wait_for(&board->run_sent, seconds(WAIT_SECONDS));
	resp[1] = req->x[3];
}

int main(void)
{
	struct guest_self me = guest_self();
	struct ffa_service service = {
	    .mb = &mb,
	    .direct = direct,
	    .indirect = ffa_service_stop_on_message,
	};

	ffa_mailbox_init(&mb, tx, rx, 1, FFA_VERSION_1_2);
	if (me.id == ID_SERVER) {
		ffa_service_loop(&service);
	} else {
		test_run_suite(me.id == ID_SLEEPER ? "run" : "waker");
	}
	return 0;
}
