/* FF-A in the core: call entry points and the result registers they set
 * (core/ffa.c, core/ffa_mem.c). */
#pragma once

#include <bulkhead/ffa.h>
#include <core/vm.h>

/* The result of a call in x0..x3, x4..x7 zero (unused results are zero). */
static inline void ffa_set_result(struct arch_regs *r, uint64_t x0, uint64_t x1,
				  uint64_t x2, uint64_t x3)
{
	r->x[0] = x0;
	r->x[1] = x1;
	r->x[2] = x2;
	r->x[3] = x3;
	r->x[4] = 0;
	r->x[5] = 0;
	r->x[6] = 0;
	r->x[7] = 0;
}

/* FFA_ERROR with `code` in w2. */
static inline void ffa_set_error(struct arch_regs *r, int32_t code)
{
	ffa_set_result(r, FFA_ERROR, 0, (uint32_t)code, 0);
}

/* Handles the FF-A call in the vCPU's registers. */
void ffa_handle(struct vcpu *v);

/* The memory-transaction calls (FFA_MEM_*); any other `fn` gets
 * FFA_ERROR(NOT_SUPPORTED). */
void ffa_mem_handle(struct vcpu *v, uint32_t fn);

/*
 * Partition `locked` has stopped (every vCPU off) and is about to be
 * reloaded or left off: memory it retrieved is relinquished on its
 * behalf, sends it left half-done are dropped, and what it sent goes home
 * (zeroed) now if no borrower holds it, else at the last relinquish.
 */
void ffa_mem_partition_stopped(struct partition_locked locked);

/* For a vCPU waiting for a direct response: if the receiver went off,
 * ends the wait with FFA_ERROR(ABORTED). Takes the locks itself. */
void ffa_check_request_aborted(struct vcpu *v);
