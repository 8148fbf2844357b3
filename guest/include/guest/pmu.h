/*
 * Instruction counting with the PMU, as the benchmarks do (docs/testing.md).
 *
 * pmu_count_start() programs two event counters for retired instructions
 * (event 0x08), EL0 excluded:
 *   counter 0  EL1 and EL2: with the hypervisor built with
 *              CONFIG_PMU_COUNT_EL2 and QEMU run with -icount shift=0,
 *              the instructions the hypervisor runs for this vCPU count
 *              here too (on QEMU, every CPU's)
 *   counter 1  this vCPU's own EL1 instructions
 * Both counters are 32 bits wide: take differences modulo 2^32
 * (pmu_since()).
 */
#ifndef GUEST_PMU_H
#define GUEST_PMU_H

#include <stdint.h>

#define PMU_EVTYPER_U	     (1ull << 30) /* do not count EL0 */
#define PMU_EVTYPER_NSH	     (1ull << 27) /* count EL2 */
#define PMU_EVT_INST_RETIRED 0x08

static inline void pmu_count_start(void)
{
	__asm__ volatile("msr pmevtyper0_el0, %0" ::"r"(
	    PMU_EVTYPER_U | PMU_EVTYPER_NSH | PMU_EVT_INST_RETIRED));
	__asm__ volatile("msr pmevtyper1_el0, %0" ::"r"(PMU_EVTYPER_U |
							PMU_EVT_INST_RETIRED));
	__asm__ volatile("msr pmcntenset_el0, %0" ::"r"(3ull));
	__asm__ volatile("msr pmcr_el0, %0; isb" ::"r"(0x7ull)); /* E|P|C */
}

/* Counter 0: EL1 and EL2 instructions. */
static inline uint64_t pmu_count_all(void)
{
	uint64_t v;

	__asm__ volatile("isb; mrs %0, pmevcntr0_el0" : "=r"(v));
	return v;
}

/* Counter 1: this vCPU's EL1 instructions. */
static inline uint64_t pmu_count_el1(void)
{
	uint64_t v;

	__asm__ volatile("isb; mrs %0, pmevcntr1_el0" : "=r"(v));
	return v;
}

/* now - before of a 32-bit counter. */
static inline uint32_t pmu_since(uint64_t now, uint64_t before)
{
	return (uint32_t)(now - before);
}

#endif
