/*
 * The hypervisor's own one-shot timer on each physical CPU (the EL2
 * physical timer, arch/aarch64/timer.c): a vCPU that waits with a
 * deadline has its CPU woken then. Times are system counter ticks.
 */
#pragma once

#include <core/types.h>

/* The interrupt it raises (a PPI), taken by cpu_main's loop. */
#define ARCH_TIMER_HYP_INTID 26u

/* The system counter now, and its ticks per second. */
uint64_t arch_timer_now(void);
uint64_t arch_timer_hz(void);

/* Raises ARCH_TIMER_HYP_INTID on this CPU at `deadline` (at once if it
 * has passed), replacing any earlier deadline. The caller has enabled
 * that PPI at this CPU's interrupt controller. */
void arch_timer_wake_at(uint64_t deadline);

/* No more wake-up on this CPU (also what its interrupt handler does: the
 * timer's output is a level that stays high until then). */
void arch_timer_stop(void);
