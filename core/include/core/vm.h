/*
 * Partitions and their vCPUs. Each vCPU is pinned to one physical CPU, so
 * its EL1 state lives in that CPU's registers and is never switched.
 *
 * Locking: `struct partition.lock` guards the partition's state, its
 * vCPUs' `state`/`start_*` fields and its stage-2 table. Lock order:
 * partition locks in ID order, then the console lock (core/log.c) last.
 * A function that needs the lock held takes a `struct partition_locked`.
 */
#pragma once

#include <arch/regs.h>
#include <bulkhead/manifest.h>
#include <core/mm.h>
#include <core/spinlock.h>

enum vcpu_state {
	VCPU_OFF,
	VCPU_ON_PENDING, /* CPU_ON accepted; its CPU has not started it yet */
	VCPU_ON,
};

enum partition_state {
	PARTITION_RUNNING,
	PARTITION_STOPPING,  /* SYSTEM_OFF: vCPUs are being stopped */
	PARTITION_RESETTING, /* SYSTEM_RESET: stop all, reload, boot again */
	PARTITION_OFF,
};

/* Registers of the emulated PL011 that a driver writes and reads back. */
struct vconsole {
	uint32_t cr;
	uint32_t lcr_h;
	uint32_t ibrd;
	uint32_t fbrd;
	uint32_t ifls;
	uint32_t imsc;
	uint32_t dmacr;
};

struct partition;

struct vcpu {
	struct partition *part;
	uint16_t index;
	uint8_t cpu; /* physical CPU it is pinned to */
	enum vcpu_state state;
	uint64_t start_pc;
	uint64_t start_arg;
	/* below: touched only by the vCPU's own physical CPU */
	struct arch_regs regs;
	uint32_t line_len;
	char line[CONFIG_CONSOLE_LINE_MAX];
};

struct partition {
	struct spinlock lock;
	const struct manifest_partition *m;
	uint16_t index;
	struct mm_ptable ptable;
	enum partition_state state;
	uint32_t boot_count;
	uint32_t fault_count;
	struct vconsole console;
	struct vcpu vcpus[CONFIG_MAX_CPUS];
};

/* Proof that the caller holds `p->lock`. */
struct partition_locked {
	struct partition *p;
};

struct cpu {
	uint8_t index;
	uint64_t mpidr;
	struct vcpu *vcpu; /* pinned vCPU, or NULL */
};

extern struct partition partitions[CONFIG_MAX_PARTITIONS];
extern uint32_t partition_count;
extern struct cpu cpus[CONFIG_MAX_CPUS];

struct partition_locked partition_lock(struct partition *p);
void partition_unlock(struct partition_locked *locked);

/* Builds every partition from the manifest: stage 2, image, boot vCPU. */
void vm_init_all(struct mpool *pool, const void *payload);

/* Whether this CPU's vCPU should run now; applies pending stop, reset and
 * start requests first (EL1 state is reset on this CPU). */
bool vm_vcpu_ready(struct vcpu *v);

/* Wakes physical CPU `cpu` to look at its vCPU again. */
void vm_kick_cpu(uint8_t cpu);

/* PSCI from a guest; return values are PSCI's. */
int64_t vm_cpu_on(struct vcpu *caller, uint64_t target, uint64_t pc,
		  uint64_t arg);
int64_t vm_affinity_info(struct vcpu *caller, uint64_t target,
			 uint64_t lowest_level);
void vm_cpu_off(struct vcpu *v);
void vm_system_off(struct vcpu *v);
void vm_system_reset(struct vcpu *v);

/* Whether `ipa` of `p` is mapped now with every access in `mode`. */
bool vm_access_allowed(struct partition *p, ipaddr_t ipa, uint32_t mode);

/* Whether [begin, begin + size) lies in the partition's RAM. */
bool vm_in_ram(const struct partition *p, uint64_t begin, uint64_t size);

/* Called once per CPU; runs the pinned vCPU forever. */
_Noreturn void cpu_main(struct cpu *c);
