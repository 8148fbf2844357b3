/*
 * FF-A path-length benchmarks (make bench). Partition "bench-a" (CPU 0)
 * drives; "bench-b" (CPU 1) serves. Run under QEMU -icount shift=0 with
 * the hypervisor built with CONFIG_PMU_COUNT_EL2 so that:
 *   counter 0 counts instructions at EL1 and EL2 - on bench-a's CPU it
 *            sees every instruction of the machine (docs/testing.md),
 *   counter 1 counts this CPU's EL1 instructions only.
 * bench-a prints, per benchmark,
 *   BENCH name=<n> iterations=<N> total=<T> el1=<E1 of a> el1_peer=<E1 of b>
 * and tests/bench_ffa.py turns that into EL2 and total instructions per
 * iteration.
 */
#include <bulkhead/hypercall.h>
#include <guest/ffa.h>
#include <guest/ffa_notify.h>
#include <guest/irq.h>
#include <guest/pmu.h>
#include <guest/shpool.h>
#include <string.h>

#define ITERATIONS     10000
#define PEER	       2
#define REPORT	       0x52505254u /* "RPRT": peer's EL1 count since last */
#define CYCLE	       0x4359434cu /* "CYCL": retrieve + relinquish x4/x5 */
#define PEAK	       0x5045414bu /* "PEAK": the same, reporting pool use */
#define MEM_ITERATIONS 1000
#define GIB	       (1ull << 30)
#define BIG_REGION     0x80000000ull /* bench-a's second region: 1 GiB */

static uint8_t tx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static uint8_t rx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static struct ffa_mailbox mb;

struct sample {
	uint64_t all;
	uint64_t el1;
};

static struct sample sample(void)
{
	struct sample s;

	s.all = pmu_count_all();
	s.el1 = pmu_count_el1();
	return s;
}

static uint64_t peer_el1(void)
{
	uint64_t words[5] = {REPORT};

	return ffa_direct_req(mb.self, PEER, words, true).x[3];
}

static void report(const char *name, uint32_t iterations, struct sample a,
		   struct sample b, uint64_t el1_peer)
{
	guest_printf("BENCH name=%s iterations=%u total=%u el1=%u "
		     "el1_peer=%lu\n",
		     name, iterations, pmu_since(b.all, a.all),
		     pmu_since(b.el1, a.el1), el1_peer);
}

static void bench_null_call(const char *name, uint32_t fn)
{
	struct ffa_value in = {{fn, FFA_VERSION_1_2}};
	struct sample a;
	struct sample b;

	peer_el1(); /* reset the peer's count */
	a = sample();
	for (int i = 0; i < ITERATIONS; i++) {
		struct ffa_value r = ffa_call(&in);

		(void)r;
	}
	b = sample();
	report(name, ITERATIONS, a, b, peer_el1());
}

static void bench_direct(void)
{
	uint64_t words[5] = {1, 2, 3, 4, 5};
	struct sample a;
	struct sample b;

	peer_el1();
	a = sample();
	for (int i = 0; i < ITERATIONS; i++) {
		ffa_direct_req(mb.self, PEER, words, true);
	}
	b = sample();
	report("direct_req_resp", ITERATIONS, a, b, peer_el1());
}

/* Ping-pong of 64-byte messages: each is sent, received (MSG_WAIT returns)
 * and released; one iteration of the loop is two messages. */
static void bench_send2(void)
{
	uint8_t payload[64];
	struct sample a;
	struct sample b;

	memset(payload, 0x5a, sizeof(payload));
	peer_el1();
	a = sample();
	for (int i = 0; i < ITERATIONS / 2; i++) {
		ffa_msg_send(&mb, PEER, payload, sizeof(payload));
		ffa_msg_wait(0);
		ffa_rx_release();
	}
	b = sample();
	report("msg_send2_64b", ITERATIONS, a, b, peer_el1());
}

static uint8_t scratch_pages[32][FFA_PAGE_SIZE] __attribute__((aligned(4096)));

static int32_t cycle_once(uint32_t fn, const struct ffa_mem_constituent *cons,
			  uint32_t count, uint64_t command, uint64_t *peak)
{
	struct ffa_mem_receiver r = {.id = PEER,
				     .permissions = FFA_MEM_DATA_RW};
	uint64_t handle = 0;
	uint64_t words[5] = {command};
	struct ffa_value resp;
	int32_t err = ffa_mem_send(&mb, fn, cons, count, &r, 1, 0, 0, &handle);

	if (err != 0) {
		return err;
	}
	words[1] = handle;
	resp = ffa_direct_req(mb.self, PEER, words, true);
	if ((uint32_t)resp.x[3] != 0) {
		return (int32_t)resp.x[3];
	}
	*peak = resp.x[4];
	return ffa_mem_reclaim(handle, 0);
}

/* share -> retrieve (peer) -> relinquish (peer) -> reclaim */
static void bench_mem(const char *name, uint32_t fn,
		      const struct ffa_mem_constituent *cons, uint32_t count)
{
	struct smccc_res info =
	    hvc_call(BULKHEAD_POOL_INFO, 0, 0, 0, 0, 0, 0, 0);
	uint64_t pool_total = info.x[2];
	uint64_t before = info.x[1];
	uint64_t peak = 0;
	struct sample a;
	struct sample b;
	int32_t err = cycle_once(fn, cons, count, PEAK, &peak);

	peer_el1();
	a = sample();
	for (int i = 0; i < MEM_ITERATIONS && err == 0; i++) {
		uint64_t ignored;

		err = cycle_once(fn, cons, count, CYCLE, &ignored);
	}
	b = sample();
	if (err != 0) {
		guest_printf("BENCH %s failed: %d\n", name, err);
		return;
	}
	report(name, MEM_ITERATIONS, a, b, peer_el1());
	guest_printf("BENCH-POOL name=%s pool_pages=%lu in_use_before=%lu "
		     "in_use_peak=%lu\n",
		     name, pool_total, pool_total - before, pool_total - peak);
}

static void bench_memory(void)
{
	static struct ffa_mem_constituent sixteen[16];

	for (int i = 0; i < 16; i++) {
		sixteen[i] = (struct ffa_mem_constituent){
		    (uintptr_t)&scratch_pages[2 * i], 1, 0};
	}
	bench_mem("mem_share_cycle_1p", FFA_MEM_SHARE_64, sixteen, 1);
	bench_mem("mem_lend_cycle_1p", FFA_MEM_LEND_64, sixteen, 1);
	bench_mem("mem_share_cycle_16x1p", FFA_MEM_SHARE_64, sixteen, 16);
	bench_mem("mem_share_cycle_2m", FFA_MEM_SHARE_64,
		  &(struct ffa_mem_constituent){BIG_REGION, 512, 0}, 1);
	bench_mem("mem_share_cycle_1g", FFA_MEM_SHARE_64,
		  &(struct ffa_mem_constituent){BIG_REGION, GIB / 4096, 0}, 1);
}

#define POOL_HEAP_PAGES 16 /* = SHPOOL_MAX_BLOCKS one-granule blocks */
#define REFILL_ROUNDS	8

static uint8_t pool_heap[POOL_HEAP_PAGES][FFA_PAGE_SIZE]
    __attribute__((aligned(4096)));
static struct shpool pool;

/* One alloc + free from a pool that already has room: no FF-A call, so
 * its EL2 count must be 0. */
static void bench_pool_warm(void)
{
	struct sample a;
	struct sample b;
	void *buf;

	shpool_init_dynamic(&pool, &mb, PEER, pool_heap, sizeof(pool_heap), 0);
	buf = shpool_alloc(&pool, 256, 0); /* the one refill */
	shpool_free(&pool, buf, 256);
	peer_el1();
	a = sample();
	for (int i = 0; i < ITERATIONS; i++) {
		buf = shpool_alloc(&pool, 256, 0);
		shpool_free(&pool, buf, 256);
	}
	b = sample();
	report("pool_alloc_free_warm", ITERATIONS, a, b, peer_el1());
	shpool_destroy(&pool);
}

/* One refill of one granule: heap block, share, announce, the peer's
 * retrieve. Each round fills a pool (16 refills), then unshares it
 * outside the count. */
static void bench_pool_refill(void)
{
	struct sample total = {0, 0};
	struct sample zero = {0, 0};
	uint64_t peer = 0;
	int failed = 0;

	shpool_init_dynamic(&pool, &mb, PEER, pool_heap, sizeof(pool_heap), 0);
	for (int round = 0; round < REFILL_ROUNDS; round++) {
		struct sample a;
		struct sample b;

		peer_el1();
		a = sample();
		for (int i = 0; i < POOL_HEAP_PAGES; i++) {
			failed += shpool_alloc(&pool, FFA_PAGE_SIZE, 0) == NULL;
		}
		b = sample();
		peer += peer_el1();
		total.all += pmu_since(b.all, a.all);
		total.el1 += pmu_since(b.el1, a.el1);
		failed += shpool_unshare_all(&pool) != 0;
	}
	shpool_destroy(&pool);
	if (failed != 0) {
		guest_printf("BENCH pool_refill failed\n");
		return;
	}
	report("pool_refill", REFILL_ROUNDS * POOL_HEAP_PAGES, zero, total,
	       peer);
}

/* --- notification_set_get ---------------------------------------------
 * bench-a SETs notification 0 to bench-b, which waits in MSG_WAIT: the
 * pending interrupt ends the wait (FFA_INTERRUPT), its handler GETs and
 * SETs one back, and bench-a, in WFI, takes its own pending interrupt and
 * GETs. One round is two SET + GET pairs. */
#define NOTIFY_ROUNDS (ITERATIONS / 2)

static volatile uint32_t notified;
static bool is_driver;

static void notify_irq(uint32_t intid, void *arg)
{
	struct ffa_notifications n;

	(void)arg;
	if (intid != FFA_NOTIFY_NPI_INTID ||
	    ffa_notification_get(mb.self, 0, FFA_NOTIFY_GET_VM, &n) != 0 ||
	    n.from_vm == 0) {
		return;
	}
	if (is_driver) {
		notified++;
	} else {
		ffa_notification_set(mb.self, (uint16_t)(3 - mb.self), 0, 1);
	}
}

static void notify_setup(void)
{
	ffa_notification_bind((uint16_t)(3 - mb.self), mb.self, 0, 1);
	guest_irq_init();
	guest_irq_register(FFA_NOTIFY_NPI_INTID, notify_irq, NULL);
	guest_irq_enable(FFA_NOTIFY_NPI_INTID);
	guest_irq_unmask();
}

static void bench_notify(void)
{
	struct sample a;
	struct sample b;
	int32_t err = 0;

	is_driver = true;
	notify_setup();
	peer_el1();
	a = sample();
	for (uint32_t i = 0; i < NOTIFY_ROUNDS && err == 0; i++) {
		err = ffa_notification_set(mb.self, PEER, 0, 1);
		if (err == 0) {
			guest_irq_wait_count(&notified, i + 1);
		}
	}
	b = sample();
	if (err != 0) {
		guest_printf("BENCH notification_set_get failed: %d\n", err);
		return;
	}
	report("notification_set_get", 2 * NOTIFY_ROUNDS, a, b, peer_el1());
}

static void driver(void)
{
	uint64_t words[5] = {0};
	struct ffa_value r;

	/* wait until the peer serves */
	do {
		r = ffa_direct_req(mb.self, PEER, words, true);
	} while (ffa_is_error(&r, FFA_BUSY));
	bench_null_call("ffa_version", FFA_VERSION);
	bench_null_call("ffa_id_get", FFA_ID_GET);
	bench_send2();
	bench_direct();
	bench_memory();
	bench_pool_warm();
	bench_pool_refill();
	bench_notify();
	ffa_msg_send(&mb, PEER, "quit", 4);
	guest_printf("BENCH done\n");
}

static struct shpool_peer pool_peer;

static void server(void)
{
	struct ffa_value r;

	shpool_peer_init(&pool_peer, &mb);
	notify_setup();
	r = ffa_msg_wait(0);
	uint64_t base = pmu_count_el1();

	for (;;) {
		if (ffa_value_is(&r, FFA_MSG_SEND_DIRECT_REQ_64)) {
			uint64_t resp[5] = {0};

			if (shpool_peer_handle(&pool_peer, &r, resp)) {
				/* announce / give back */
			} else if ((uint32_t)r.x[3] == REPORT) {
				uint64_t now = pmu_count_el1();

				resp[0] = pmu_since(now, base);
				base = now;
			} else if ((uint32_t)r.x[3] == CYCLE ||
				   (uint32_t)r.x[3] == PEAK) {
				struct ffa_mem_transaction t;
				struct ffa_mem_constituent ranges[16];
				int32_t err = ffa_mem_retrieve(
				    &mb, r.x[4], ffa_sender(r.x[1]), 0,
				    FFA_MEM_TYPE_ANY, 0, 0, &t, ranges, 16);

				if ((uint32_t)r.x[3] == PEAK) {
					resp[1] = hvc_call(BULKHEAD_POOL_INFO,
							   0, 0, 0, 0, 0, 0, 0)
						      .x[1];
				}
				if (err == 0) {
					err =
					    ffa_mem_relinquish(&mb, r.x[4], 0);
				}
				resp[0] = (uint32_t)err;
			}
			r = ffa_direct_resp(&r, resp);
		} else if (ffa_value_is(&r, FFA_RUN)) {
			struct ffa_msg msg;
			const void *data;

			if (ffa_msg_get(&mb, &msg, &data) != 0 ||
			    msg.size == 4) {
				return; /* quit */
			}
			ffa_rx_release();
			ffa_msg_send(&mb, msg.sender, data, msg.size);
			r = ffa_msg_wait(0);
		} else if (ffa_value_is(&r, FFA_INTERRUPT)) {
			/* notify_irq ran: back to waiting */
			r = ffa_msg_wait(0);
		} else {
			guest_printf("unexpected %#lx\n", r.x[0]);
			return;
		}
	}
}

int main(void)
{
	struct guest_self me = guest_self();

	pmu_count_start();
	if (ffa_mailbox_init(&mb, tx, rx, 1, FFA_VERSION_1_2) != 0) {
		guest_printf("RXTX_MAP failed\n");
		return 1;
	}
	if (strcmp(me.name, "bench-a") == 0) {
		driver();
	} else {
		server();
	}
	return 0;
}
