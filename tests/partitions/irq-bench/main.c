/*
 * Interrupt path lengths (make bench-irq), counted as the FF-A benchmarks
 * are (docs/testing.md): under QEMU -icount shift=0 with the hypervisor
 * built with CONFIG_PMU_COUNT_EL2, vCPU 0's counter 0 counts every
 * instruction of the machine (EL1 and EL2, both CPUs), each vCPU's
 * counter 1 its own EL1 instructions. That holds while the CPUs run
 * strictly in turn: a CPU that waits must halt (WFI at EL2, its vCPU
 * idle), never spin at EL1, or the other's instructions are counted as
 * its EL1 ones too. So every wait here is a WFI, except vtimer_irq's spin
 * (vCPU 1 is idle throughout).
 *
 * Partition "bench-irq": vCPU 0 (CPU 0) drives, vCPU 1 (CPU 1) answers.
 * vCPU 0 prints, per benchmark,
 *   BENCH name=<n> iterations=<N> total=<T> el1=<E1 of vCPU 0>
 *         el1_peer=<E1 of vCPU 1>
 * and tests/bench_irq.py turns that into EL2 instructions per iteration.
 *
 *   vtimer_irq       the virtual timer fires while vCPU 0 runs (spins):
 *                    physical PPI 27 taken at EL2 to the guest's handler,
 *                    which stops the timer and ends the interrupt
 *                    (hardware-linked: the EOI does not exit)
 *   vtimer_irq_idle  the same while vCPU 0 waits in WFI (its WFI exit,
 *                    idling and waking included)
 *   sgi_ipi          an SGI from one vCPU to the other, which is idle:
 *                    vCPU 0 and vCPU 1 play ping-pong, each waiting in
 *                    WFI; one iteration is one SGI: the sender's trapped
 *                    ICC_SGI1R_EL1 write and its WFI exit, the physical
 *                    kick, the receiver's wake-up and entry with the
 *                    virtual SGI
 */
#include <guest/irq.h>
#include <guest/pmu.h>

#define ITERATIONS  2000
#define TIMER_DELTA 4 /* counter ticks */
#define SGI_BENCH   1
#define SGI_REPORT  2

static volatile uint32_t receiver_ready;
static volatile uint32_t receiver_stop;
static volatile uint32_t received;     /* SGI_BENCH on vCPU 1 */
static volatile uint64_t receiver_el1; /* its counter 1 at the last report */
static volatile uint32_t ticks;

/* --- vCPU 1: the receiver --------------------------------------------------
 */

/* vCPU 1: SGI_BENCH is answered with SGI_BENCH */
static void on_bench(uint32_t intid, void *arg)
{
	(void)intid;
	(void)arg;
	received++;
	guest_sgi_send(SGI_BENCH, 1u << 0);
}

/* vCPU 1: its EL1 count so far, answered with SGI_REPORT */
static void on_report(uint32_t intid, void *arg)
{
	(void)intid;
	(void)arg;
	receiver_el1 = pmu_count_el1();
	guest_sgi_send(SGI_REPORT, 1u << 0);
}

/* vCPU 0: the answers */
static volatile uint32_t answers;
static volatile uint32_t report_answers;

static void on_answer(uint32_t intid, void *arg)
{
	(void)arg;
	if (intid == SGI_BENCH) {
		answers++;
	} else {
		report_answers++;
	}
}

void secondary_main(unsigned int vcpu)
{
	(void)vcpu;
	pmu_count_start();
	guest_irq_init();
	guest_irq_register(SGI_BENCH, on_bench, NULL);
	guest_irq_register(SGI_REPORT, on_report, NULL);
	guest_irq_enable(SGI_BENCH);
	guest_irq_enable(SGI_REPORT);
	guest_irq_unmask();
	receiver_ready = 1;
	while (!receiver_stop) {
		__asm__ volatile("wfi" ::: "memory");
	}
}

/* vCPU 1's EL1 instructions since the previous call (waiting in WFI). */
static uint32_t receiver_el1_since(void)
{
	static uint64_t last;
	uint32_t delta;

	guest_sgi_send(SGI_REPORT, 1u << 1);
	guest_irq_wait_count(&report_answers, report_answers + 1);
	delta = (uint32_t)(receiver_el1 - last);
	last = receiver_el1;
	return delta;
}

/* --- vCPU 0: the driver ------------------------------------------------- */

struct sample {
	uint32_t all;
	uint32_t el1;
};

static struct sample sample(void)
{
	return (struct sample){(uint32_t)pmu_count_all(),
			       (uint32_t)pmu_count_el1()};
}

static void report(const char *name, uint32_t iterations, struct sample a,
		   struct sample b, uint32_t el1_peer)
{
	guest_printf("BENCH name=%s iterations=%u total=%u el1=%u "
		     "el1_peer=%u\n",
		     name, iterations, b.all - a.all, b.el1 - a.el1, el1_peer);
}

static void on_tick(uint32_t intid, void *arg)
{
	(void)intid;
	(void)arg;
	guest_timer_stop(); /* the line drops before the end */
	ticks++;
}

static void bench_vtimer(const char *name, bool idle)
{
	struct sample a;
	struct sample b;

	ticks = 0;
	receiver_el1_since(); /* and vCPU 1 is idle from here */
	a = sample();
	for (uint32_t i = 1; i <= ITERATIONS; i++) {
		guest_timer_arm_in(TIMER_DELTA);
		if (idle) {
			guest_irq_wait_count(&ticks, i);
		} else {
			while (ticks < i) {
				guest_cpu_relax();
			}
		}
	}
	b = sample();
	report(name, ITERATIONS, a, b, receiver_el1_since());
}

/* ITERATIONS round trips: 2 x ITERATIONS SGIs */
static void bench_sgi(void)
{
	struct sample a;
	struct sample b;

	answers = 0;
	receiver_el1_since();
	a = sample();
	for (uint32_t i = 1; i <= ITERATIONS; i++) {
		guest_sgi_send(SGI_BENCH, 1u << 1);
		guest_irq_wait_count(&answers, i);
	}
	b = sample();
	report("sgi_ipi", 2 * ITERATIONS, a, b, receiver_el1_since());
}

int main(void)
{
	pmu_count_start();
	guest_irq_init();
	guest_irq_register(GUEST_IRQ_VTIMER, on_tick, NULL);
	guest_irq_enable(GUEST_IRQ_VTIMER);
	guest_irq_register(SGI_BENCH, on_answer, NULL);
	guest_irq_register(SGI_REPORT, on_answer, NULL);
	guest_irq_enable(SGI_BENCH);
	guest_irq_enable(SGI_REPORT);
	guest_cpu_on(1);
	while (!receiver_ready) {
		guest_cpu_relax();
	}
	guest_irq_unmask();
	bench_vtimer("vtimer_irq", false);
	bench_vtimer("vtimer_irq_idle", true);
	bench_sgi();
	receiver_stop = 1;
	guest_sgi_send(SGI_REPORT, 1u << 1);
	return 0;
}
