/*
 * Notifications and interrupted waits (scenario tests/scenarios/notify.dts).
 * Roles by partition name:
 *   nrecv  (ID 1, vCPUs on CPUs 0 and 1): an interrupt-driven receiver
 *          that never polls: it sleeps in WFI; its notification pending
 *          interrupt handler GETs and records what arrived;
 *   nsend  (ID 2): suite "notify": FEATURES, errors, 100,000 global
 *          notifications, per-vCPU ones across CPUs, RX buffer full; then
 *          it serves nsched's interrupt tests;
 *   nsched (ID 3, nrecv's scheduler): suite "interrupt": MSG_WAIT and a
 *          direct request ended by the schedule receiver interrupt
 *          (FFA_INTERRUPT), each resumed with FFA_RUN.
 * They meet in a shared page (struct board).
 */
#include <guest/ffa_notify.h>
#include <guest/irq.h>
#include <guest/test.h>
#include <string.h>

#define ID_RECV	 1
#define ID_SEND	 2
#define ID_SCHED 3

#define BOARD_ADDR 0x4f000000ull
#define MANY	   100000u
#define MANY_BITS  30u /* bits 0..29 carry the 100,000 */
#define BIT_SRI	   30u /* a SET whose point is nsched's SRI */
#define BIT_QUIT   31u
#define BIT_VCPU0  32u /* per-vCPU */
#define BIT_VCPU1  33u
#define CMD_INTR   0x494e5452u /* "INTR": nsched's direct request */
#define RESPONSE   0x1234u
#define SPIN_LOOPS 2000000u

struct board {
	volatile uint32_t count[64]; /* nrecv: times each bit arrived */
	volatile uint32_t vcpu_of[64];
	volatile uint32_t total;
	volatile uint32_t rx_full; /* framework notifications seen */
	volatile uint32_t rx_ok;   /* with the expected message in RX */
	volatile uint32_t empty;   /* GETs after an earlier GET took all */
	volatile uint32_t recv_ready;
	volatile uint32_t phase_b; /* nsend serves nsched now */
	volatile uint32_t sched_waiting;
	volatile uint32_t sched_resumed;
	volatile uint32_t sched_interrupted;
	volatile uint32_t sched_done;
};

static struct board *const board = (struct board *)BOARD_ADDR;
static uint8_t tx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static uint8_t rx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static struct ffa_mailbox mb;
static volatile bool quit;
static volatile uint32_t sri_taken;
static volatile uint32_t npi_taken[2]; /* nrecv's, per vCPU */

static void spin(void)
{
	for (volatile uint32_t i = 0; i < SPIN_LOOPS; i++) {
	}
}

static void wait_for(volatile uint32_t *flag, uint32_t value)
{
	while (__atomic_load_n(flag, __ATOMIC_ACQUIRE) != value) {
		guest_cpu_relax();
	}
}

/* --- nrecv --------------------------------------------------------------- */

static void recv_irq(uint32_t intid, void *arg)
{
	unsigned int vcpu = guest_vcpu_index();
	struct ffa_notifications n;

	(void)arg;
	npi_taken[vcpu % 2]++;
	if (intid != FFA_NOTIFY_NPI_INTID ||
	    ffa_notification_get(ID_RECV, (uint16_t)vcpu,
				 FFA_NOTIFY_GET_VM | FFA_NOTIFY_GET_HYP,
				 &n) != 0) {
		return;
	}
	if (n.from_vm == 0 && n.hyp_framework == 0) {
		board->empty++;
	}
	for (uint64_t rest = n.from_vm; rest != 0; rest &= rest - 1) {
		unsigned int bit = (unsigned int)__builtin_ctzll(rest);

		board->count[bit]++;
		board->vcpu_of[bit] = vcpu;
		if (bit == BIT_QUIT) {
			quit = true;
		}
		if (bit < MANY_BITS) {
			__atomic_add_fetch(&board->total, 1, __ATOMIC_RELEASE);
		}
	}
	if (n.hyp_framework & FFA_FRAMEWORK_RX_FULL) {
		struct ffa_msg msg;
		const void *payload;

		if (ffa_msg_get(&mb, &msg, &payload) == 0 &&
		    msg.sender == ID_SEND && msg.size == 6 &&
		    memcmp(payload, "hello", 6) == 0) {
			board->rx_ok++;
		}
		ffa_rx_release();
		__atomic_add_fetch(&board->rx_full, 1, __ATOMIC_RELEASE);
	}
}

/* The calling vCPU takes its notification pending interrupt (the boot
 * vCPU first: it turns the distributor on). */
static void recv_irq_init(void)
{
	guest_irq_init();
	guest_irq_register(FFA_NOTIFY_NPI_INTID, recv_irq, NULL);
	guest_irq_enable(FFA_NOTIFY_NPI_INTID);
}

static void recv_sleep(void)
{
	/* masked while looking, so the interrupt cannot come between the
	 * look and the WFI (which wakes for it masked or not) */
	guest_irq_mask_all();
	while (!quit) {
		__asm__ volatile("dsb sy; wfi" ::: "memory");
		guest_irq_unmask();
		__asm__ volatile("isb" ::: "memory");
		guest_irq_mask_all();
	}
}

void secondary_main(unsigned int vcpu)
{
	(void)vcpu;
	recv_irq_init();
	__atomic_add_fetch(&board->recv_ready, 1, __ATOMIC_RELEASE);
	recv_sleep();
}

/* --- nrecv: suite "receiver" --------------------------------------------- */

/* nrecv has bitmaps, may notify no one and schedules no one. */
TEST(receiver, features)
{
	static const uint32_t offered[] = {FFA_NOTIFICATION_BIND,
					   FFA_NOTIFICATION_UNBIND,
					   FFA_NOTIFICATION_GET};
	static const uint32_t not_offered[] = {
	    FFA_FEATURE_SRI, FFA_NOTIFICATION_SET, FFA_NOTIFICATION_INFO_GET_32,
	    FFA_NOTIFICATION_INFO_GET_64};
	uint32_t w2 = 1;
	uint32_t w3 = 1;

	EXPECT_EQ(0, ffa_features(FFA_FEATURE_NPI, &w2, &w3));
	EXPECT_EQ(FFA_NOTIFY_NPI_INTID, w2);
	EXPECT_EQ(0, w3);
	for (size_t i = 0; i < sizeof(offered) / sizeof(offered[0]); i++) {
		EXPECT_EQ(0, ffa_features(offered[i], &w2, &w3));
		EXPECT_EQ(0, w2);
	}
	for (size_t i = 0; i < sizeof(not_offered) / sizeof(not_offered[0]);
	     i++) {
		EXPECT_EQ(FFA_NOT_SUPPORTED,
			  ffa_features(not_offered[i], &w2, &w3));
	}
}

static void recv_main(void)
{
	test_run_suite("receiver");
	recv_irq_init();
	ffa_mailbox_init(&mb, tx, rx, 1, FFA_VERSION_1_2);
	ffa_notification_bind(ID_SEND, ID_RECV, 0,
			      ((1ull << MANY_BITS) - 1) | 1ull << BIT_SRI |
				  1ull << BIT_QUIT);
	ffa_notification_bind(ID_SEND, ID_RECV, FFA_NOTIFY_FLAG_PER_VCPU,
			      1ull << BIT_VCPU0 | 1ull << BIT_VCPU1);
	guest_cpu_on(1);
	wait_for(&board->recv_ready, 1);
	__atomic_add_fetch(&board->recv_ready, 1, __ATOMIC_RELEASE);
	recv_sleep();
	guest_printf("nrecv: %u notifications, %u RX full, %u empty GETs, "
		     "%u interrupts on vCPU 0\n",
		     board->total, board->rx_full, board->empty, npi_taken[0]);
}

/* --- nsend: suite "notify" ----------------------------------------------- */

/* FFA_FEATURES answers what the caller's manifest gives it: nsend has no
 * bitmaps and schedules no one, but may notify nrecv. */
TEST(notify, features)
{
	static const uint32_t not_for_nsend[] = {
	    FFA_FEATURE_NPI,
	    FFA_FEATURE_SRI,
	    FFA_FEATURE_MEI,
	    FFA_NOTIFICATION_BIND,
	    FFA_NOTIFICATION_UNBIND,
	    FFA_NOTIFICATION_GET,
	    FFA_NOTIFICATION_INFO_GET_32,
	    FFA_NOTIFICATION_INFO_GET_64,
	    /* the hypervisor makes the bitmaps: not a partition's call */
	    FFA_NOTIFICATION_BITMAP_CREATE,
	    FFA_NOTIFICATION_BITMAP_DESTROY,
	};
	uint32_t w2 = 0;
	uint32_t w3 = 0;
	struct ffa_value in = {{FFA_NOTIFICATION_BITMAP_CREATE, ID_SEND, 1}};

	for (size_t i = 0; i < sizeof(not_for_nsend) / sizeof(not_for_nsend[0]);
	     i++) {
		EXPECT_EQ(FFA_NOT_SUPPORTED,
			  ffa_features(not_for_nsend[i], &w2, &w3));
	}
	EXPECT_EQ(0, ffa_features(FFA_NOTIFICATION_SET, &w2, &w3));
	EXPECT_EQ(0, w2);
	EXPECT_EQ(0, w3);
	EXPECT_EQ(FFA_NOT_SUPPORTED, (int32_t)ffa_call(&in).x[2]);
}

TEST(notify, errors)
{
	struct ffa_notifications n;

	wait_for(&board->recv_ready, 2);
	/* nsched declares no notifications; nrecv has no bit 40 bound */
	EXPECT_EQ(FFA_DENIED, ffa_notification_set(ID_SEND, ID_SCHED, 0, 1));
	EXPECT_EQ(FFA_DENIED,
		  ffa_notification_set(ID_SEND, ID_RECV, 0, 1ull << 40));
	EXPECT_EQ(FFA_DENIED,
		  ffa_notification_set(ID_SEND, ID_RECV, 0, 1ull << BIT_VCPU0));
	EXPECT_EQ(FFA_INVALID_PARAMETERS,
		  ffa_notification_set(ID_RECV, ID_RECV, 0, 1));
	EXPECT_EQ(FFA_INVALID_PARAMETERS,
		  ffa_notification_set(ID_SEND, ID_RECV,
				       FFA_NOTIFY_FLAG_PER_VCPU | 2u << 16,
				       1ull << BIT_VCPU0));
	/* nsend has no bitmaps of its own */
	EXPECT_EQ(FFA_NOT_SUPPORTED,
		  ffa_notification_get(ID_SEND, 0, FFA_NOTIFY_GET_VM, &n));
	EXPECT_EQ(FFA_NOT_SUPPORTED,
		  ffa_notification_bind(ID_RECV, ID_SEND, 0, 1));
}

TEST(notify, hundred_thousand_none_lost_or_doubled)
{
	uint32_t start = board->total;

	ASSERT_EQ(0, start);
	for (uint32_t i = 0; i < MANY; i++) {
		int32_t err;

		/* bit i % MANY_BITS was last set MANY_BITS earlier: each GET
		 * takes every bit set before it, so what arrived is a prefix
		 * of what was set, and that one arrived once the total is
		 * past it (else the two SETs would be one notification) */
		while (i >= MANY_BITS &&
		       __atomic_load_n(&board->total, __ATOMIC_ACQUIRE) <=
			   i - MANY_BITS) {
			guest_cpu_relax();
		}
		if (i % 20000 == 0) {
			guest_printf("%u notifications so far\n", i);
		}
		err = ffa_notification_set(ID_SEND, ID_RECV, 0,
					   1ull << (i % MANY_BITS));
		if (err != 0) {
			ASSERT_EQ(0, err);
		}
	}
	wait_for(&board->total, MANY);
	spin(); /* a doubled one would arrive meanwhile */
	for (uint32_t bit = 0; bit < MANY_BITS; bit++) {
		EXPECT_EQ(MANY / MANY_BITS + (bit < MANY % MANY_BITS),
			  board->count[bit]);
	}
	EXPECT_EQ(MANY, board->total);
}

TEST(notify, per_vcpu_across_cpus)
{
	EXPECT_EQ(0, ffa_notification_set(ID_SEND, ID_RECV,
					  FFA_NOTIFY_FLAG_PER_VCPU | 1u << 16,
					  1ull << BIT_VCPU1));
	EXPECT_EQ(0, ffa_notification_set(ID_SEND, ID_RECV,
					  FFA_NOTIFY_FLAG_PER_VCPU | 0u << 16,
					  1ull << BIT_VCPU0));
	wait_for(&board->count[BIT_VCPU1], 1);
	wait_for(&board->count[BIT_VCPU0], 1);
	EXPECT_EQ(1, board->vcpu_of[BIT_VCPU1]);
	EXPECT_EQ(0, board->vcpu_of[BIT_VCPU0]);
}

TEST(notify, rx_buffer_full_framework_notification)
{
	EXPECT_EQ(0, ffa_msg_send(&mb, ID_RECV, "hello", 6));
	wait_for(&board->rx_full, 1);
	EXPECT_EQ(1, board->rx_ok);
}

/* Phase B: nsched's interrupt tests (see sched_*). */
static void serve_sched(void)
{
	struct ffa_value r;
	uint64_t resp[5] = {RESPONSE};

	board->phase_b = 1;
	/* 1: MSG_WAIT interrupted, resumed; then a message ends it */
	wait_for(&board->sched_waiting, 1);
	spin();
	ffa_notification_set(ID_SEND, ID_RECV, 0, 1ull << BIT_SRI);
	wait_for(&board->sched_resumed, 1);
	spin();
	ffa_msg_send(&mb, ID_SCHED, "resume", 7);
	/* 2: a direct request whose requester is interrupted */
	r = ffa_msg_wait(0);
	if (ffa_value_is(&r, FFA_MSG_SEND_DIRECT_REQ_64) &&
	    r.x[3] == CMD_INTR) {
		ffa_notification_set(ID_SEND, ID_RECV, 0, 1ull << BIT_SRI);
		wait_for(&board->sched_interrupted, 1);
		r = ffa_direct_resp(&r, resp);
	}
	/* r: nsched's "done" message */
	ffa_rx_release();
	ffa_notification_set(ID_SEND, ID_RECV, 0, 1ull << BIT_QUIT);
}

static void send_main(void)
{
	ffa_mailbox_init(&mb, tx, rx, 1, FFA_VERSION_1_2);
	test_run_suite("notify");
	serve_sched();
}

/* --- nsched: suite "interrupt" ------------------------------------------- */

static void sched_irq(uint32_t intid, void *arg)
{
	(void)arg;
	if (intid == FFA_NOTIFY_SRI_INTID) {
		sri_taken++;
	}
}

/* nsched schedules nrecv, has no bitmaps and may notify no one. */
TEST(interrupt, scheduler_features)
{
	static const uint32_t not_offered[] = {
	    FFA_FEATURE_NPI, FFA_NOTIFICATION_BIND, FFA_NOTIFICATION_UNBIND,
	    FFA_NOTIFICATION_GET, FFA_NOTIFICATION_SET};
	uint32_t w2 = 1;
	uint32_t w3 = 1;

	EXPECT_EQ(0, ffa_features(FFA_FEATURE_SRI, &w2, &w3));
	EXPECT_EQ(FFA_NOTIFY_SRI_INTID, w2);
	EXPECT_EQ(0, w3);
	EXPECT_EQ(0, ffa_features(FFA_NOTIFICATION_INFO_GET_32, &w2, &w3));
	EXPECT_EQ(0, w2);
	EXPECT_EQ(0, ffa_features(FFA_NOTIFICATION_INFO_GET_64, &w2, &w3));
	for (size_t i = 0; i < sizeof(not_offered) / sizeof(not_offered[0]);
	     i++) {
		EXPECT_EQ(FFA_NOT_SUPPORTED,
			  ffa_features(not_offered[i], &w2, &w3));
	}
}

TEST(interrupt, msg_wait_returns_ffa_interrupt_and_run_resumes)
{
	struct ffa_value r;
	struct ffa_msg msg;
	const void *payload;

	wait_for(&board->phase_b, 1);
	/* the SRIs nsend's earlier SETs raised: taken and forgotten */
	guest_irq_unmask();
	spin();
	guest_irq_mask_all();
	sri_taken = 0;
	board->sched_waiting = 1;
	r = ffa_msg_wait(0);
	EXPECT_EQ(FFA_INTERRUPT, (uint32_t)r.x[0]);
	EXPECT_EQ((uint32_t)ID_SCHED << 16, r.x[1]);
	EXPECT_EQ(0, r.x[2]);
	guest_irq_unmask(); /* the SRI is taken here */
	EXPECT_EQ(1, sri_taken);
	board->sched_resumed = 1;
	r = (struct ffa_value){{FFA_RUN, (uint32_t)ID_SCHED << 16}};
	r = ffa_call(&r);
	EXPECT_EQ(FFA_RUN, (uint32_t)r.x[0]);
	ASSERT_EQ(0, ffa_msg_get(&mb, &msg, &payload));
	EXPECT_EQ(ID_SEND, msg.sender);
	EXPECT_EQ(0, memcmp(payload, "resume", 7));
	EXPECT_EQ(0, ffa_rx_release());
	/* FFA_RUN of itself with no interrupted wait */
	r = (struct ffa_value){{FFA_RUN, (uint32_t)ID_SCHED << 16}};
	r = ffa_call(&r);
	EXPECT_EQ(FFA_INVALID_PARAMETERS, ffa_value_error(&r));
}

TEST(interrupt, direct_request_returns_ffa_interrupt_and_run_resumes)
{
	uint64_t words[5] = {CMD_INTR};
	struct ffa_value r;

	guest_irq_mask_all();
	r = ffa_direct_req(ID_SCHED, ID_SEND, words, true);
	EXPECT_EQ(FFA_INTERRUPT, (uint32_t)r.x[0]);
	EXPECT_EQ((uint32_t)ID_SCHED << 16, r.x[1]);
	board->sched_interrupted = 1;
	guest_irq_unmask();
	EXPECT_EQ(2, sri_taken);
	r = (struct ffa_value){{FFA_RUN, (uint32_t)ID_SCHED << 16}};
	r = ffa_call(&r);
	EXPECT_EQ(FFA_MSG_SEND_DIRECT_RESP_64, (uint32_t)r.x[0]);
	EXPECT_EQ(ffa_endpoints(ID_SEND, ID_SCHED), r.x[1]);
	EXPECT_EQ(RESPONSE, r.x[3]);
	EXPECT_EQ(0, ffa_msg_send(&mb, ID_SEND, "done", 5));
}

static void sched_main(void)
{
	ffa_mailbox_init(&mb, tx, rx, 1, FFA_VERSION_1_2);
	guest_irq_init();
	guest_irq_register(FFA_NOTIFY_SRI_INTID, sched_irq, NULL);
	guest_irq_enable(FFA_NOTIFY_SRI_INTID);
	test_run_suite("interrupt");
	guest_irq_mask_all();
}

int main(void)
{
	struct guest_self me = guest_self();

	if (strcmp(me.name, "nrecv") == 0) {
		recv_main();
	} else if (strcmp(me.name, "nsend") == 0) {
		send_main();
	} else if (strcmp(me.name, "nsched") == 0) {
		sched_main();
	}
	return 0;
}
