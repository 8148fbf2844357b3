/*
 * A vCPU's general-purpose state, saved on every exit to EL2. The offsets
 * are shared with the exception vectors (vectors.S), and tied to the C
 * layout by the static assertions below.
 */
#pragma once

#define ARCH_REGS_X_OFFSET	0
#define ARCH_REGS_PC_OFFSET	(31 * 8)
#define ARCH_REGS_PSTATE_OFFSET (32 * 8)
#define ARCH_REGS_SIZE		(33 * 8)
/* struct arch_regs rounded up to keep SP_EL2 16-byte aligned */
#define ARCH_FRAME_SIZE (34 * 8)

/* ESR_EL2 of an HVC #0 from AArch64 (EC 0x16, IL 1, immediate 0). */
#define ARCH_ESR_HVC0 0x5a000000

#ifndef __ASSEMBLY__

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arch_regs {
	uint64_t x[31];
	uint64_t pc;
	uint64_t pstate;
};

_Static_assert(offsetof(struct arch_regs, x) == ARCH_REGS_X_OFFSET,
	       "vectors.S stores x0 at ARCH_REGS_X_OFFSET");
_Static_assert(offsetof(struct arch_regs, pc) == ARCH_REGS_PC_OFFSET,
	       "vectors.S stores ELR_EL2 at ARCH_REGS_PC_OFFSET");
_Static_assert(offsetof(struct arch_regs, pstate) == ARCH_REGS_PSTATE_OFFSET,
	       "vectors.S stores SPSR_EL2 at ARCH_REGS_PSTATE_OFFSET");
_Static_assert(sizeof(struct arch_regs) == ARCH_REGS_SIZE,
	       "struct arch_regs has no padding");
_Static_assert(ARCH_FRAME_SIZE >= ARCH_REGS_SIZE && ARCH_FRAME_SIZE % 16 == 0,
	       "an EL2 exception frame holds struct arch_regs, 16-aligned");

/* Whether the last synchronous exit of this CPU was an HVC #0: the fast
 * path for hypercalls, before any full decode. */
static inline bool arch_trap_is_hvc0(void)
{
	uint64_t esr;

	__asm__ volatile("mrs %0, esr_el2" : "=r"(esr));
	return esr == ARCH_ESR_HVC0;
}

#endif /* __ASSEMBLY__ */
