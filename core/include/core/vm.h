/*
 * Partitions and their vCPUs. Each vCPU is pinned to one physical CPU, so
 * its EL1 state lives in that CPU's registers and is never switched.
 *
 * Locking: `struct partition.lock` guards the partition's state, its
 * vCPUs' `state`/`start_*`/FF-A fields, its mailbox and its stage-2 table.
 * Lock order: partition locks in ID order (partition_lock_pair), then the
 * console lock (core/log.c) last.
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

/* Why a vCPU that is on is not running (guarded by its partition's lock). */
enum vcpu_wait {
	VCPU_RUNNABLE,
	VCPU_WAIT_IDLE,	    /* guest WFI: until something is pending for it */
	VCPU_WAIT_MESSAGE,  /* FFA_MSG_WAIT or a direct response: receiving */
	VCPU_WAIT_RESPONSE, /* sent a direct request; waiting for the answer */
};

/* Which call family a direct request came in (its response must match). */
enum ffa_direct_kind {
	FFA_DIRECT_NONE,
	FFA_DIRECT_REQ, /* MSG_SEND_DIRECT_REQ_32/64 */
	FFA_DIRECT_REQ2,
};

/* A partition's FF-A RX/TX buffer pair (guarded by its partition's lock). */
enum ffa_rx_owner {
	FFA_RX_HYPERVISOR, /* empty: the hypervisor may write a message */
	FFA_RX_PARTITION,  /* full: the partition reads it, then releases */
};

struct ffa_mailbox {
	uint64_t tx; /* address of the TX buffer; 0 when none is mapped */
	uint64_t rx; /* address of the RX buffer */
	uint32_t page_count; /* of each buffer */
	enum ffa_rx_owner rx_owner;
	bool msg_unseen; /* RX holds a message no MSG_WAIT has reported yet */
};

struct partition;

struct vcpu {
	struct partition *part;
	uint16_t index;
	uint8_t cpu; /* physical CPU it is pinned to */
	enum vcpu_state state;
	uint64_t start_pc;
	uint64_t start_arg;
	/* FF-A blocking and direct messaging */
	enum vcpu_wait wait;
	bool wake_pending;     /* an event came while it was running (WFI) */
	uint32_t generation;   /* bumped each time the vCPU goes off */
	struct vcpu *awaiting; /* receiver of our outstanding direct request */
	uint32_t awaiting_generation;
	struct vcpu *serving; /* requester whose direct request we handle */
	uint32_t serving_generation;
	enum ffa_direct_kind serving_kind;
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
	/* FF-A */
	uint32_t ffa_version;	 /* negotiated (v1.2 until FFA_VERSION) */
	bool ffa_version_locked; /* another FF-A call was made: fixed */
	uint32_t ffa_properties; /* partition information properties */
	struct ffa_mailbox mailbox;
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

/* Locks two different partitions in ID order. */
void partition_lock_pair(struct partition *a, struct partition *b,
			 struct partition_locked *la,
			 struct partition_locked *lb);

/* The partition with FF-A ID `id`, or NULL. */
struct partition *vm_find(uint16_t id);

/* Builds every partition from the manifest: stage 2, image, boot vCPU. */
void vm_init_all(struct mpool *pool, const void *payload);

/* Whether this CPU's vCPU should run now; applies pending stop, reset and
 * start requests first (EL1 state is reset on this CPU). */
bool vm_vcpu_ready(struct vcpu *v);

/* Makes a waiting vCPU of a locked partition run again and wakes its CPU. */
void vm_vcpu_resume(struct vcpu *v);

/* Guest WFI: idles the vCPU until something is pending for it. */
void vm_vcpu_idle(struct vcpu *v);

/*
 * Lock-free check on the vCPU's own CPU that it may simply be entered
 * again: on, not waiting, partition running. Anything that changes this
 * from another CPU does so before sending this CPU an SGI, which makes
 * the guest exit and the loop look again (then vm_vcpu_ready decides).
 */
static inline bool vm_vcpu_runnable_now(const struct vcpu *v)
{
	return __atomic_load_n(&v->wait, __ATOMIC_ACQUIRE) == VCPU_RUNNABLE &&
	       __atomic_load_n(&v->state, __ATOMIC_RELAXED) == VCPU_ON &&
	       __atomic_load_n(&v->part->state, __ATOMIC_RELAXED) ==
		   PARTITION_RUNNING;
}

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

/* The page pool every stage-2 table page comes from. */
struct mpool *vm_pool(void);

/* Called once per CPU; runs the pinned vCPU forever. */
_Noreturn void cpu_main(struct cpu *c);
