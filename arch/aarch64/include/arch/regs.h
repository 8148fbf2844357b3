/* A vCPU's general-purpose state, saved on every exit to EL2. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct arch_regs {
	uint64_t x[31];
	uint64_t pc;
	uint64_t pstate;
};

#define ARCH_REGS_PC_OFFSET	(31 * 8)
#define ARCH_REGS_PSTATE_OFFSET (32 * 8)

/* ESR_EL2 of an HVC #0 from AArch64 (EC 0x16, IL 1, immediate 0). */
#define ARCH_ESR_HVC0 0x5a000000ull

/* Whether the last synchronous exit of this CPU was an HVC #0: the fast
 * path for hypercalls, before any full decode. */
static inline bool arch_trap_is_hvc0(void)
{
	uint64_t esr;

	__asm__ volatile("mrs %0, esr_el2" : "=r"(esr));
	return esr == ARCH_ESR_HVC0;
}
