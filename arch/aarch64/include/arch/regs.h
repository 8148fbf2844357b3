/* A vCPU's general-purpose state, saved on every exit to EL2. */
#pragma once

#include <stdint.h>

struct arch_regs {
	uint64_t x[31];
	uint64_t pc;
	uint64_t pstate;
};

#define ARCH_REGS_PC_OFFSET	(31 * 8)
#define ARCH_REGS_PSTATE_OFFSET (32 * 8)
