/*
 * Notifications and interrupted waits (scenario tests/scenarios/notify.dts).
 * Roles by partition name:
 *   nrecv  (ID 1, vCPUs on CPUs 0 and 1): an interrupt-driven receiver
 *          that never polls: it sleeps in WFI; its notification pending
 *          interrupt handler GETs and records what arrived;
 *   nsend  (ID 2): suite "notify": FEATURES, errors, 100,000 global
 *          notifications, per-vCPU ones across CPUs, RX buffer full; then
 *          it serves nsched's interrupt tests;
 *   nsched (ID 3, nrecv's scheduler): suite "interrupt": MSG_WAIT ended
 *          by the schedule receiver interrupt (FFA_INTERRUPT) and resumed
 *          with FFA_RUN or FFA_MSG_WAIT; a direct request ended so, its
 *          response coming before and after the FFA_RUN that resumes it;
 *          delayed schedule receiver interrupts (FFA_MSG_SEND2 and SET),
 *          raised only when nsend gives its CPU back (FFA_YIELD, WFI, its
 *          partition stopping); the scheduler's flow: INFO_GET lists
 *          nrecv's vCPU, FFA_RUN has it take its notification.
 * They meet in a shared page (struct board); nsched's steps are nsend's
 * (board->step), each waiting for the other where the order matters.
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
#define BIT_UNBIND 34u	       /* bound, then unbound by nrecv */
#define CMD_INTR   0x494e5452u /* "INTR": nsched's direct request */
#define RESPONSE   0x1234u
#define SPIN_LOOPS 2000000u

/* What a vCPU of nrecv does when it next wakes (board->cmd) */
#define RECV_GET    1u /* FFA_NOTIFICATION_GET of its own */
#define RECV_UNBIND 2u /* UNBIND BIT_UNBIND, twice */

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
	/* nrecv: NPIs left for FFA_RUN (hold_npi), per vCPU; commands for
	 * its vCPUs, their count done and results */
	volatile uint32_t hold_npi;
	volatile uint32_t npi_held[2];
	volatile uint32_t cmd[2];
	volatile uint32_t cmd_done[2];
	volatile int32_t cmd_err[2][2];
	/* nsched's later steps (see serve_sched) */
	volatile uint32_t step;
	volatile uint32_t sent;
	volatile int32_t send_err;
	volatile uint32_t sched_checked;
	volatile uint32_t yielded;
	volatile uint32_t woke;
	volatile uint32_t ping_ok;
	volatile uint32_t resp_done;
	volatile uint32_t sched_running;
	volatile uint32_t resp_sent;
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

/* GETs what is pending for nrecv's vCPU `vcpu` and records it. */
static int32_t recv_get(unsigned int vcpu)
{
	struct ffa_notifications n;
	int32_t err =
	    ffa_notification_get(ID_RECV, (uint16_t)vcpu,
				 FFA_NOTIFY_GET_VM | FFA_NOTIFY_GET_HYP, &n);

	if (err != 0) {
		return err;
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
	return 0;
}

static void recv_irq(uint32_t intid, void *arg)
{
	unsigned int vcpu = guest_vcpu_index();

	(void)arg;
	npi_taken[vcpu % 2]++;
	if (intid != FFA_NOTIFY_NPI_INTID) {
		return;
	}
	if (board->hold_npi) {
		/* left pending for the scheduler to find (INFO_GET) */
		__atomic_add_fetch(&board->npi_held[vcpu % 2], 1,
				   __ATOMIC_RELEASE);
		return;
	}
	recv_get(vcpu);
}

/* What nrecv's vCPU `vcpu` was asked to do (by whoever then woke it with
 * FFA_RUN), if anything. */
static void recv_command(unsigned int vcpu)
{
	uint32_t cmd = __atomic_load_n(&board->cmd[vcpu], __ATOMIC_ACQUIRE);

	if (cmd == 0) {
		return;
	}
	board->cmd[vcpu] = 0;
	if (cmd == RECV_GET) {
		board->cmd_err[vcpu][0] = recv_get(vcpu);
	} else if (cmd == RECV_UNBIND) {
		board->cmd_err[vcpu][0] = ffa_notification_unbind(
		    ID_SEND, ID_RECV, 1ull << BIT_UNBIND);
		board->cmd_err[vcpu][1] = ffa_notification_unbind(
		    ID_SEND, ID_RECV, 1ull << BIT_UNBIND);
	}
	__atomic_add_fetch(&board->cmd_done[vcpu], 1, __ATOMIC_RELEASE);
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
	unsigned int vcpu = guest_vcpu_index() % 2;

	/* masked while looking, so the interrupt cannot come between the
	 * look and the WFI (which wakes for it masked or not); an FFA_RUN
	 * between the look and the WFI has the WFI return at once */
	guest_irq_mask_all();
	while (!quit) {
		recv_command(vcpu);
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
				  1ull << BIT_QUIT | 1ull << BIT_UNBIND);
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
	/* a per-vCPU bit in a global SET (DEN0077: INVALID_PARAMETERS) */
	EXPECT_EQ(FFA_INVALID_PARAMETERS,
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

/* Has nrecv's vCPU `vcpu` do `cmd` (waking it with FFA_RUN); true once it
 * did. */
static bool recv_do(uint16_t vcpu, uint32_t cmd)
{
	uint32_t done = board->cmd_done[vcpu];

	__atomic_store_n(&board->cmd[vcpu], cmd, __ATOMIC_RELEASE);
	if (ffa_run(ID_RECV, vcpu) != 0) {
		return false;
	}
	wait_for(&board->cmd_done[vcpu], done + 1);
	return true;
}

TEST(notify, unbind_then_set_is_denied)
{
	EXPECT_EQ(
	    0, ffa_notification_set(ID_SEND, ID_RECV, 0, 1ull << BIT_UNBIND));
	wait_for(&board->count[BIT_UNBIND], 1);
	ASSERT_TRUE(recv_do(0, RECV_UNBIND));
	EXPECT_EQ(0, board->cmd_err[0][0]);
	/* UNBIND of a bit no longer bound to that sender */
	EXPECT_EQ(FFA_DENIED, board->cmd_err[0][1]);
	/* SET of an unbound bit: DENIED, and nothing arrives */
	EXPECT_EQ(FFA_DENIED, ffa_notification_set(ID_SEND, ID_RECV, 0,
						   1ull << BIT_UNBIND));
	EXPECT_EQ(FFA_DENIED, ffa_notification_set(ID_SEND, ID_RECV,
						   FFA_NOTIFY_FLAG_DELAY_SRI,
						   1ull << BIT_UNBIND));
	spin();
	EXPECT_EQ(1, board->count[BIT_UNBIND]);
}

/* FFA_MSG_SEND2 of `text` to `receiver` with the delay-SRI flag. */
static int32_t send_delayed(uint16_t receiver, const char *text, uint32_t size)
{
	struct ffa_msg msg = {
	    .sender = mb.self, .receiver = receiver, .size = size};
	uint32_t offset = ffa_msg_header_write(mb.tx, &msg, mb.version);

	memcpy(mb.tx + offset, text, size);
	return ffa_msg_send2(FFA_MSG_SEND2_DELAY_SRI);
}

/* Waits for nsched to ask for step `n` (board->step). */
static void step(uint32_t n)
{
	wait_for(&board->step, n);
}

/* Step `n`'s call made (its result `err`): nsched looks that no SRI came
 * yet, then says so. */
static void sent_then_wait_check(uint32_t n, int32_t err)
{
	board->send_err = err;
	__atomic_store_n(&board->sent, n, __ATOMIC_RELEASE);
	wait_for(&board->sched_checked, n);
}

/* The one message nsched sent: true when it is `text` (`size` bytes). */
static bool got_message(struct ffa_value r, const char *text, uint32_t size)
{
	struct ffa_msg msg;
	const void *payload;
	bool ok = ffa_value_is(&r, FFA_RUN) &&
		  ffa_msg_get(&mb, &msg, &payload) == 0 &&
		  msg.sender == ID_SCHED && msg.size == size &&
		  memcmp(payload, text, size) == 0;

	ffa_rx_release();
	return ok;
}

/* Phase B: nsched's interrupt tests (see sched_*), in their order. */
static void serve_sched(void)
{
	struct ffa_value r;
	uint64_t resp[5] = {RESPONSE};

	board->phase_b = 1;
	/* 1: MSG_WAIT interrupted, resumed by FFA_RUN; a message ends it */
	wait_for(&board->sched_waiting, 1);
	spin();
	ffa_notification_set(ID_SEND, ID_RECV, 0, 1ull << BIT_SRI);
	wait_for(&board->sched_resumed, 1);
	spin();
	ffa_msg_send(&mb, ID_SCHED, "resume", 7);
	/* 2: the same, resumed by a new MSG_WAIT */
	wait_for(&board->sched_waiting, 2);
	spin();
	ffa_notification_set(ID_SEND, ID_RECV, 0, 1ull << BIT_SRI);
	wait_for(&board->sched_resumed, 2);
	spin();
	ffa_msg_send(&mb, ID_SCHED, "again", 6);
	/* 3: a direct request whose requester is interrupted; the response
	 * goes before its FFA_RUN: nsched waits for resp_done, set once
	 * the wait after the response returned (for nsched's "ping") */
	r = ffa_msg_wait(0);
	if (ffa_value_is(&r, FFA_MSG_SEND_DIRECT_REQ_64) &&
	    r.x[3] == CMD_INTR) {
		ffa_notification_set(ID_SEND, ID_RECV, 0, 1ull << BIT_SRI);
		wait_for(&board->sched_interrupted, 1);
		r = ffa_direct_resp(&r, resp);
		board->ping_ok = got_message(r, "ping", 5);
	}
	__atomic_store_n(&board->resp_done, 1, __ATOMIC_RELEASE);
	/* 4: the same, the response only after nsched is in FFA_RUN */
	r = ffa_msg_wait(0);
	if (ffa_value_is(&r, FFA_MSG_SEND_DIRECT_REQ_64) &&
	    r.x[3] == CMD_INTR) {
		ffa_notification_set(ID_SEND, ID_RECV, 0, 1ull << BIT_SRI);
		wait_for(&board->sched_running, 1);
		spin();
		spin();
		__atomic_store_n(&board->resp_sent, 1, __ATOMIC_RELEASE);
		resp[0] = RESPONSE + 1;
		r = ffa_direct_resp(&r, resp);
		got_message(r, "done", 5);
	}
	/* 5: FFA_MSG_SEND2 to nrecv delaying the SRI; then FFA_YIELD */
	step(5);
	sent_then_wait_check(5, send_delayed(ID_RECV, "hello", 6));
	ffa_yield();
	__atomic_store_n(&board->yielded, 5, __ATOMIC_RELEASE);
	/* 6: SET delaying the SRI; then WFI (nsched wakes us, FFA_RUN) */
	step(6);
	sent_then_wait_check(6, ffa_notification_set(ID_SEND, ID_RECV,
						     FFA_NOTIFY_FLAG_DELAY_SRI,
						     1ull << BIT_SRI));
	__asm__ volatile("dsb sy; wfi" ::: "memory");
	__atomic_store_n(&board->woke, 6, __ATOMIC_RELEASE);
	/* 7: a per-vCPU notification nsched finds by INFO_GET */
	step(7);
	board->send_err = ffa_notification_set(
	    ID_SEND, ID_RECV, FFA_NOTIFY_FLAG_PER_VCPU | 1u << 16,
	    1ull << BIT_VCPU1);
	__atomic_store_n(&board->sent, 7, __ATOMIC_RELEASE);
	/* 8: QUIT to nrecv delaying the SRI; then nsend stops (main
	 * returns: PSCI SYSTEM_OFF), which raises it */
	step(8);
	sent_then_wait_check(8, ffa_notification_set(ID_SEND, ID_RECV,
						     FFA_NOTIFY_FLAG_DELAY_SRI,
						     1ull << BIT_QUIT));
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

static uint64_t now_ms(void)
{
	uint64_t count;
	uint64_t hz;

	__asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(count));
	__asm__ volatile("mrs %0, cntfrq_el0" : "=r"(hz));
	return count / (hz / 1000);
}

/* Waits until nsched took `n` SRIs in all, for SRI_WAIT_MS at most (one
 * that never comes fails the test, which then says how many came). */
#define SRI_WAIT_MS 5000u
static void wait_sri(uint32_t n)
{
	uint64_t until = now_ms() + SRI_WAIT_MS;

	while (__atomic_load_n(&sri_taken, __ATOMIC_ACQUIRE) < n &&
	       now_ms() < until) {
		guest_cpu_relax();
	}
}

TEST(interrupt, msg_wait_returns_ffa_interrupt_and_msg_wait_resumes)
{
	struct ffa_value r;
	struct ffa_msg msg;
	const void *payload;
	uint32_t sri = sri_taken;

	guest_irq_mask_all();
	board->sched_waiting = 2;
	r = ffa_msg_wait(0);
	EXPECT_EQ(FFA_INTERRUPT, (uint32_t)r.x[0]);
	EXPECT_EQ((uint32_t)ID_SCHED << 16, r.x[1]);
	guest_irq_unmask();
	EXPECT_EQ(sri + 1, sri_taken);
	board->sched_resumed = 2;
	r = ffa_msg_wait(0); /* the wait again, not FFA_RUN */
	EXPECT_EQ(FFA_RUN, (uint32_t)r.x[0]);
	EXPECT_EQ((uint32_t)ID_SCHED << 16, r.x[1]);
	ASSERT_EQ(0, ffa_msg_get(&mb, &msg, &payload));
	EXPECT_EQ(ID_SEND, msg.sender);
	EXPECT_EQ(6, msg.size);
	EXPECT_EQ(0, memcmp(payload, "again", 6));
	EXPECT_EQ(0, ffa_rx_release());
	/* the MSG_WAIT ended the interrupted one: nothing for FFA_RUN */
	r = (struct ffa_value){{FFA_RUN, (uint32_t)ID_SCHED << 16}};
	r = ffa_call(&r);
	EXPECT_EQ(FFA_INVALID_PARAMETERS, ffa_value_error(&r));
}

/* nsched's direct request to nsend, ended by FFA_INTERRUPT (nsend holds
 * it, nsched's SRI is pending): checks that and takes the SRI. */
static void interrupted_direct_request(void)
{
	uint64_t words[5] = {CMD_INTR};
	struct ffa_value r;
	uint32_t sri = sri_taken;

	guest_irq_mask_all();
	r = ffa_direct_req(ID_SCHED, ID_SEND, words, true);
	EXPECT_EQ(FFA_INTERRUPT, (uint32_t)r.x[0]);
	EXPECT_EQ((uint32_t)ID_SCHED << 16, r.x[1]);
	guest_irq_unmask();
	EXPECT_EQ(sri + 1, sri_taken);
}

/* FFA_RUN of nsched's own vCPU 0: resumes the wait FFA_INTERRUPT ended. */
static struct ffa_value run_self(void)
{
	struct ffa_value r = {{FFA_RUN, (uint32_t)ID_SCHED << 16}};

	return ffa_call(&r);
}

TEST(interrupt, direct_request_interrupted_response_before_run)
{
	struct ffa_value r;

	interrupted_direct_request();
	board->sched_interrupted = 1;
	/* nsend answers, then its wait returns for this message: once it
	 * says so (resp_done) the response is in, before FFA_RUN */
	EXPECT_EQ(0, ffa_msg_send(&mb, ID_SEND, "ping", 5));
	wait_for(&board->resp_done, 1);
	EXPECT_EQ(1, board->ping_ok);
	r = run_self();
	EXPECT_EQ(FFA_MSG_SEND_DIRECT_RESP_64, (uint32_t)r.x[0]);
	EXPECT_EQ(ffa_endpoints(ID_SEND, ID_SCHED), r.x[1]);
	EXPECT_EQ(RESPONSE, r.x[3]);
}

TEST(interrupt, direct_request_interrupted_run_waits_for_the_response)
{
	struct ffa_value r;

	interrupted_direct_request();
	/* nsend answers only after this says it calls FFA_RUN */
	EXPECT_EQ(0, board->resp_sent);
	__atomic_store_n(&board->sched_running, 1, __ATOMIC_RELEASE);
	r = run_self();
	EXPECT_EQ(1, board->resp_sent);
	EXPECT_EQ(FFA_MSG_SEND_DIRECT_RESP_64, (uint32_t)r.x[0]);
	EXPECT_EQ(ffa_endpoints(ID_SEND, ID_SCHED), r.x[1]);
	EXPECT_EQ(RESPONSE + 1, r.x[3]);
	EXPECT_EQ(0, ffa_msg_send(&mb, ID_SEND, "done", 5));
}

/* Asks nsend for step `n`; once its call is made (with result 0) and
 * `arrived` (nrecv took it) reaches `want`, no SRI has come while nsend
 * keeps its CPU; then nsend goes on and gives its CPU back, which raises
 * exactly one. */
static void delayed_step(uint32_t n, volatile uint32_t *arrived, uint32_t want)
{
	uint32_t sri = sri_taken;

	guest_irq_unmask();
	__atomic_store_n(&board->step, n, __ATOMIC_RELEASE);
	wait_for(&board->sent, n);
	EXPECT_EQ(0, board->send_err);
	if (arrived != NULL) {
		wait_for(arrived, want);
	}
	spin();
	EXPECT_EQ(sri, sri_taken);
	__atomic_store_n(&board->sched_checked, n, __ATOMIC_RELEASE);
	wait_sri(sri + 1);
	spin();
	EXPECT_EQ(sri + 1, sri_taken);
}

TEST(interrupt, msg_send2_delayed_sri_comes_when_the_sender_yields)
{
	delayed_step(5, &board->rx_full, board->rx_full + 1);
	wait_for(&board->yielded, 5);
}

TEST(interrupt, set_delayed_sri_comes_when_the_sender_idles_in_wfi)
{
	delayed_step(6, &board->count[BIT_SRI], board->count[BIT_SRI] + 1);
	/* nsend is still in its WFI (nothing else it does raises the SRI
	 * meanwhile); FFA_RUN wakes it */
	EXPECT_EQ(0, ffa_run(ID_SEND, 0));
	wait_for(&board->woke, 6);
}

TEST(interrupt, scheduler_lists_by_info_get_and_runs_the_vcpu)
{
	uint32_t sri = sri_taken;
	uint32_t held = board->npi_held[1];
	uint32_t got = board->count[BIT_VCPU1];
	uint32_t done = board->cmd_done[1];
	struct ffa_value r;

	guest_irq_unmask();
	board->hold_npi = 1;
	__atomic_store_n(&board->step, 7, __ATOMIC_RELEASE);
	wait_for(&board->sent, 7);
	EXPECT_EQ(0, board->send_err);
	wait_sri(sri + 1);
	wait_for(&board->npi_held[1], held + 1);
	/* nrecv's vCPU 1 has a per-vCPU notification: one list, nrecv's ID
	 * and vCPU 1 */
	r = ffa_notification_info_get(true);
	EXPECT_EQ(FFA_SUCCESS_64, (uint32_t)r.x[0]);
	EXPECT_EQ(1u << FFA_NOTIFY_INFO_LISTS_SHIFT |
		      1u << FFA_NOTIFY_INFO_LIST_SIZE_SHIFT,
		  r.x[2]);
	EXPECT_EQ((uint64_t)ID_RECV | 1ull << 16, r.x[3]);
	r = ffa_notification_info_get(true); /* listed once */
	EXPECT_EQ(FFA_NO_DATA, ffa_value_error(&r));
	EXPECT_EQ(got, board->count[BIT_VCPU1]);
	/* run that vCPU: it GETs its notification */
	board->hold_npi = 0;
	__atomic_store_n(&board->cmd[1], RECV_GET, __ATOMIC_RELEASE);
	EXPECT_EQ(0, ffa_run(ID_RECV, 1));
	wait_for(&board->cmd_done[1], done + 1);
	EXPECT_EQ(0, board->cmd_err[1][0]);
	EXPECT_EQ(got + 1, board->count[BIT_VCPU1]);
	EXPECT_EQ(1, board->vcpu_of[BIT_VCPU1]);
}

TEST(interrupt, delayed_sri_comes_when_the_sender_stops)
{
	delayed_step(8, NULL, 0);
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
