/*
 * Interrupts of bare-metal partitions (scenario tests/scenarios/
 * interrupts.dts). One image, two roles by partition name:
 *   irq-owner  two vCPUs: SGIs between them, the virtual timer, priority
 *              order with more pending interrupts than list registers,
 *              INTIDs it does not own, and its pass-through PL031 RTC
 *              (owner.c); vCPU 1 serves SGIs and takes the RTC's
 *              interrupt, which the owner routes to it;
 *   intruder   one vCPU: reaches for the owner's interrupt (intruder.c).
 * Besides the TEST results, each test prints a summary line that
 * tests/test_interrupts.py checks.
 */
#include <bulkhead/psci.h>

#include "common.h"

volatile uint32_t sgi_count[2][16];
volatile uint32_t secondary_ready;

static bool named(const char *want)
{
	struct guest_self me = guest_self();

	for (int i = 0; i < 17; i++) {
		if (me.name[i] != want[i]) {
			return false;
		}
		if (want[i] == '\0') {
			return true;
		}
	}
	return false;
}

uint32_t poll_until(const volatile uint32_t *v, uint32_t want, uint32_t ms)
{
	uint64_t end = guest_timer_now() + guest_timer_freq() / 1000 * ms;

	guest_irq_unmask();
	while (*v < want && guest_timer_now() < end) {
		guest_cpu_relax();
	}
	return *v;
}

/* Every SGI either vCPU takes is counted; vCPU 1 answers each (but the
 * stop) with SGI_REPLY to vCPU 0. */
static void count_sgi(uint32_t intid, void *arg)
{
	unsigned int me = guest_vcpu_index();

	(void)arg;
	sgi_count[me][intid]++;
	if (me == 1 && intid != SGI_STOP) {
		guest_sgi_send(SGI_REPLY, 1u << 0);
	}
}

static void sgi_setup(void)
{
	for (uint32_t i = 0; i < GUEST_IRQ_SGI_COUNT; i++) {
		guest_irq_register(i, count_sgi, NULL);
		guest_irq_enable(i);
	}
}

void secondary_main(unsigned int vcpu)
{
	if (vcpu != 1) {
		return;
	}
	guest_irq_init();
	sgi_setup();
	__atomic_store_n(&secondary_ready, 1, __ATOMIC_RELEASE);
	/* idle in WFI, taking SGIs and the RTC's interrupt, until stopped */
	guest_irq_wait_count(&sgi_count[1][SGI_STOP], 1);
}

static const char *const owner_suites[] = {"sgi",	"timer", "priority",
					   "ownership", "rtc",	 NULL};

int main(void)
{
	if (named("intruder")) {
		guest_irq_init();
		guest_irq_unmask();
		test_run_suite("intruder");
		SHARED[SHARED_INTRUDER_DONE] = 1;
		return 0;
	}
	guest_irq_init();
	sgi_setup();
	guest_cpu_on(1);
	while (!__atomic_load_n(&secondary_ready, __ATOMIC_ACQUIRE)) {
		guest_cpu_relax();
	}
	guest_irq_unmask();
	test_run_suites(owner_suites);
	guest_sgi_send(SGI_STOP, 1u << 1);
	for (int i = 0; i < 10000000; i++) {
		if (psci_affinity_info(1, 0) == PSCI_AFFINITY_OFF) {
			break;
		}
	}
	return 0;
}
