/*
 * Partition life cycle: building partitions from the manifest, starting
 * and stopping vCPUs (PSCI from the guests), SYSTEM_OFF and SYSTEM_RESET
 * of one partition, and powering the machine off when the last partition
 * is off. The only caller of the FF-A life-cycle hooks (core/ffa.h).
 */
#pragma once

#include <core/partition.h>

/* Builds every partition from the manifest: stage 2, image, boot vCPU.
 * `payload` is where the partition images follow the hypervisor. */
void lifecycle_init(struct mpool *pool, const void *payload);

/* Whether this CPU's vCPU should run now; applies pending stop, reset and
 * start requests first (EL1 state is reset on this CPU). */
bool lifecycle_vcpu_ready(struct vcpu *v);

/* PSCI from a guest; return values are PSCI's. */
int64_t lifecycle_cpu_on(struct vcpu *caller, uint64_t target, uint64_t pc,
			 uint64_t arg);
int64_t lifecycle_affinity_info(struct vcpu *caller, uint64_t target,
				uint64_t lowest_level);
void lifecycle_cpu_off(struct vcpu *v);
void lifecycle_system_off(struct vcpu *v);
void lifecycle_system_reset(struct vcpu *v);
