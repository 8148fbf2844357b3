/*
 * Partitions and their vCPUs. Each vCPU is pinned to one physical CPU, so
 * its EL1 state lives in that CPU's registers and is never switched.
 *
 * Lock order (every lock of the hypervisor, outermost first):
 *   1. partition locks (`struct partition.lock`), two at once only in
 *      partition ID order (partition_lock_pair);
 *   2. the memory-transaction table (core/ffa_mem.c, mem_table_lock);
 *   3. a page pool (`struct mpool.lock`; a transaction's private reserve
 *      is never locked);
 *   4. the console input ring (core/vconsole.c);
 *   5. the console output lock (core/log.c): nothing is taken while it is
 *      held.
 * A lock may be taken while holding only locks above it in this list.
 * A function that needs a partition's lock held takes a `struct
 * partition_locked`; one that needs the transaction table locked takes a
 * `struct mem_table_locked` (core/ffa_mem.c).
 *
 * `struct partition.lock` guards the partition's state, its vCPUs'
 * `state`/`start_*`/wait and FF-A fields, its mailbox and its stage-2
 * table.
 */
#pragma once

#include <arch/regs.h>
#include <bulkhead/manifest.h>
#include <core/deadline.h>
#include <core/mm.h>
#include <core/spinlock.h>
#include <core/vgic.h>

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
	ipaddr_t tx;	     /* the TX buffer; 0 when none is mapped */
	ipaddr_t rx;	     /* the RX buffer */
	uint32_t page_count; /* of each buffer */
	enum ffa_rx_owner rx_owner;
	bool msg_unseen; /* RX holds a message no MSG_WAIT has reported yet */
};

/* Whether the partition has an RX/TX pair mapped. */
static inline bool mailbox_mapped(const struct ffa_mailbox *mb)
{
	return ipa_addr(mb->tx) != 0;
}

/* Whether the hypervisor may write a message into RX now. */
static inline bool rx_free(const struct ffa_mailbox *mb)
{
	return mailbox_mapped(mb) && mb->rx_owner == FFA_RX_HYPERVISOR;
}

/* Bytes in each of the two buffers: at most CONFIG_FFA_RXTX_MAX_PAGES
 * pages (FFA_RXTX_MAP refuses more), so the size fits 32 bits. */
_Static_assert(UINT32_MAX / PAGE_SIZE >= CONFIG_FFA_RXTX_MAX_PAGES,
	       "an RX/TX buffer's size must fit 32 bits");
static inline uint32_t mailbox_size(const struct ffa_mailbox *mb)
{
	return mb->page_count * (uint32_t)PAGE_SIZE;
}

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
	/* FF-A waits beyond `wait` (core/ffa.c, the partition's lock): what
	 * an FFA_INTERRUPT ended (FFA_RUN of itself resumes it), and whether
	 * it waits for a partition in the boot order to be ready */
	uint8_t ffa_resume;
	bool ffa_ready_wait;
	/* it delayed schedule receiver interrupts that it raises when it
	 * next gives its CPU back (MSG_WAIT, YIELD, a direct message, WFI,
	 * CPU_OFF, its partition stopping): ffa_sri_owed says whether any,
	 * ffa_sri_to at which schedulers (bit i: partitions[i]);
	 * core/ffa_notify.c, its own CPU (or with every vCPU of it off) */
	bool ffa_sri_owed;
	uint64_t ffa_sri_to[(CONFIG_MAX_PARTITIONS + 63) / 64];
	/* its SGIs and PPIs, what its list registers hold (partition lock) */
	struct vgic_cpu vgic;
	/* below: touched only by the vCPU's own physical CPU */
	struct arch_regs regs;
	uint32_t line_len;
	uint32_t line_checked; /* line_len when the quiet timer last looked */
	char line[CONFIG_CONSOLE_LINE_MAX];
};

struct partition {
	struct spinlock lock;
	const struct manifest_partition *m;
	uint16_t index;
	struct mm_ptable ptable;
	/* where its stage-2 table pages come from: its own reserve once
	 * partition_take_reserve gave it one (the shared pool before) */
	struct mpool *pool;
	struct mpool reserve;
	enum partition_state state;
	uint32_t boot_count;
	uint32_t fault_count;
	struct vconsole console;
	/* FF-A */
	uint32_t ffa_version;	 /* negotiated (v1.2 until FFA_VERSION), with
				    FFA_VERSION_FIXED once another call was
				    made; atomic (core/ffa.c) */
	uint32_t ffa_properties; /* partition information properties */
	/* what it may do to each partition (by index), from the manifest's
	 * `messaging` lists and both sides' `messaging-method`: FFA_SENDS_* */
	uint8_t ffa_sends[CONFIG_MAX_PARTITIONS];
	/* a v1.0 partition asked (FFA_FEATURES of FFA_MEM_RETRIEVE_REQ,
	 * input bit 1) for the NS bit in retrieve responses; later versions
	 * always get it */
	bool ffa_mem_ns;
	/* ready for messages: in the boot order (`boot-order`), once it
	 * called FFA_MSG_WAIT or went off since it booted; always for one
	 * that is not (core/ffa.c; written with its lock, read without) */
	bool ffa_ready;
	/* FF-A notifications (core/ffa_notify.c, its lock; the rest of their
	 * state is there): the hypervisor framework notifications pending
	 * (FFA_FRAMEWORK_*), and whether global or framework ones are pending
	 * that FFA_NOTIFICATION_INFO_GET has not listed yet. Here so that a
	 * message's delivery marks "RX buffer full" in two stores. */
	uint8_t ffa_framework;
	bool ffa_notify_unreported;
	struct ffa_mailbox mailbox;
	struct vgic vgic; /* its distributor and SPIs */
	struct vcpu vcpus[CONFIG_MAX_CPUS];
};

/* partition.ffa_sends bits (core/ffa.c): it may... */
#define FFA_SENDS_MESSAGE  0x1u /* message it at all (`messaging`): FFA_RUN */
#define FFA_SENDS_DIRECT   0x2u /* send it direct requests (32/64) */
#define FFA_SENDS_DIRECT2  0x4u /* send it FFA_MSG_SEND_DIRECT_REQ2 */
#define FFA_SENDS_INDIRECT 0x8u /* send it indirect messages */

/* Set in `ffa_version` by the partition's first FF-A call other than
 * FFA_VERSION: the version cannot change any more. */
#define FFA_VERSION_FIXED (1u << 31)

/* The partition's negotiated FF-A version. Stable once the partition has
 * made any other FF-A call (which every mailbox or memory call is). */
static inline uint32_t partition_ffa_version(const struct partition *p)
{
	return __atomic_load_n(&p->ffa_version, __ATOMIC_ACQUIRE) &
	       ~FFA_VERSION_FIXED;
}

/* Proof that the caller holds `p->lock`. */
struct partition_locked {
	struct partition *p;
};

/* A physical CPU and the vCPU pinned to it. */
struct cpu {
	uint8_t index;
	uint64_t mpidr;
	struct vcpu *vcpu;		/* pinned vCPU, or NULL */
	struct cpu_deadlines deadlines; /* its timer's (core/deadline.c) */
	/* CONFIG_BENCH_BOOT_COUNT: instructions at EL2 and EL1/EL0 until
	 * its last exit, and the raw counters then (bench_boot_sample) */
	uint64_t count_el2;
	uint64_t count_guest;
	uint32_t raw_el2;
	uint32_t raw_guest;
};

extern struct partition partitions[CONFIG_MAX_PARTITIONS];
extern uint32_t partition_count;
extern struct cpu cpus[CONFIG_MAX_CPUS];

/*
 * Sets up the partition and CPU tables from the manifest (no stage 2, no
 * image): IDs, vCPUs and the physical CPUs they are pinned to, locks.
 * `pool` supplies every stage-2 table page.
 */
void partition_table_init(struct mpool *pool);

struct partition_locked partition_lock(struct partition *p);
void partition_unlock(struct partition_locked *locked);

/* Locks two different partitions in ID order. */
void partition_lock_pair(struct partition *a, struct partition *b,
			 struct partition_locked *la,
			 struct partition_locked *lb);

/* The most partitions one operation locks at once: a memory transaction's
 * owner and its borrowers. */
#define PARTITION_LOCK_SET_MAX (1 + CONFIG_FFA_MEM_MAX_BORROWERS)

/* Partitions locked together in ID order (partition_lock_set). */
struct partition_lock_set {
	struct partition_locked locked[PARTITION_LOCK_SET_MAX];
	uint32_t count;
};

/*
 * Locks the `count` partitions of `parts` (duplicates allowed, at most
 * PARTITION_LOCK_SET_MAX different ones) in ID order.
 */
void partition_lock_set(struct partition_lock_set *set,
			struct partition *const *parts, uint32_t count);
void partition_unlock_set(struct partition_lock_set *set);

/* The partition with FF-A ID `id`, or NULL. */
struct partition *partition_find(uint16_t id);

/* The page pool that supplies `p`'s stage-2 table pages. */
struct mpool *partition_pool(const struct partition *p);

/*
 * Moves `pages` pages from the shared pool into `p`'s own reserve, which
 * supplies every later change of its stage 2 (its sends' splits, what it
 * retrieves), so no partition can use up another's. False (nothing
 * moved) when the shared pool has too few.
 */
bool partition_take_reserve(struct partition *p, size_t pages);

/* Free stage-2 table pages: the shared pool and every partition's
 * reserve. */
size_t partition_pages_free(void);

/* Whether [begin, begin + size) lies in the partition's RAM. */
bool partition_in_ram(const struct partition *p, ipaddr_t begin, uint64_t size);

/* Whether `ipa` of `p` is mapped now with every access in `mode`. */
bool partition_access_allowed(struct partition *p, ipaddr_t ipa, uint32_t mode);

/*
 * The hypervisor's view of a partition's memory at `ipa`. Partition RAM
 * is identity mapped (IPA == PA) and the hypervisor maps all RAM, so this
 * is a pure conversion; callers have checked that the range is the
 * partition's.
 */
static inline void *partition_va(ipaddr_t ipa)
{
	return va_from_pa(pa_from_ipa(ipa));
}
