/*
 * Waking and idling vCPUs across physical CPUs. A vCPU that is not
 * runnable has its physical CPU idle in WFI (core/cpu.c); whoever makes it
 * runnable again writes its result registers first, then marks it
 * runnable and sends its CPU an SGI.
 */
#pragma once

#include <core/partition.h>

/* Makes a waiting vCPU of a locked partition run again and wakes its CPU. */
void vcpu_resume(struct vcpu *v);

/* Wakes physical CPU `cpu` to look at its vCPU again (no-op for self). */
void cpu_kick(uint8_t cpu);

/*
 * Lock-free check on the vCPU's own CPU that it may simply be entered
 * again: on, not waiting, partition running. Anything that changes this
 * from another CPU does so before sending this CPU an SGI, which makes
 * the guest exit and the loop look again (then lifecycle_vcpu_ready
 * decides).
 */
static inline bool vcpu_runnable_now(const struct vcpu *v)
{
	return __atomic_load_n(&v->wait, __ATOMIC_ACQUIRE) == VCPU_RUNNABLE &&
	       __atomic_load_n(&v->state, __ATOMIC_RELAXED) == VCPU_ON &&
	       __atomic_load_n(&v->part->state, __ATOMIC_RELAXED) ==
		   PARTITION_RUNNING;
}
