/*
 * The hypervisor's own deadlines on each physical CPU (core/deadline.c).
 * One EL2 physical timer per CPU (ARCH_HYP_TIMER_PPI) serves them all:
 * each purpose keeps one deadline, the timer is armed for the earliest,
 * and when it fires, cpu_main's loop runs the purposes whose deadline
 * passed and the timer is armed again for the rest. Times are system
 * counter ticks (arch_counter_now). Every function runs on the CPU whose
 * deadlines it touches, with interrupts masked (in the loop), so no lock.
 */
#pragma once

#include <core/types.h>

enum deadline_purpose {
	/* the pinned vCPU's unfinished console line is shown after a quiet
	 * time (core/vconsole.c) */
	DEADLINE_CONSOLE_QUIET,
	/* the pinned vCPU waits for a partition to be ready, or its start
	 * is held back by the boot order (core/ffa.c) */
	DEADLINE_FFA_READY,
	DEADLINE_PURPOSES,
};

/* Per CPU (in struct cpu): 0 = no deadline. */
struct cpu_deadlines {
	uint64_t at[DEADLINE_PURPOSES];
	uint64_t armed; /* what the timer is armed for, 0 = stopped */
};

struct cpu;

/* Sets (replaces) `purpose`'s deadline on CPU `c` to `when` (not 0). */
void deadline_set(struct cpu *c, enum deadline_purpose purpose, uint64_t when);

/* `purpose` has no deadline on CPU `c` any more. */
void deadline_clear(struct cpu *c, enum deadline_purpose purpose);

/* The counter `ms` milliseconds from now. */
uint64_t deadline_after_ms(uint32_t ms);

/*
 * The timer's interrupt was taken on CPU `c`: the timer stops, the
 * deadlines that have passed are removed and returned (bit n for purpose
 * n), and the timer is armed for the earliest one left.
 */
uint32_t deadline_expired(struct cpu *c);
