/*
 * FF-A in the core: the call entry point, the result every handler
 * returns, and the hooks the partition life cycle calls (core/ffa.c,
 * core/ffa_mem.c).
 */
#pragma once

#include <bulkhead/ffa.h>
#include <bulkhead/smccc.h>
#include <core/partition.h>

/* Result registers a v1.2 extended call may set (x0..x17). */
#define FFA_VALUE_REGS 18

/*
 * Every handler returns the result of its call as a struct ffa_value
 * (include/bulkhead/ffa.h: x0..x17 as the caller will see them), and the
 * dispatcher writes it to the caller's registers once (ffa_value_write).
 * A result defines x0..x7; only FFA_PARTITION_INFO_GET_REGS returns data
 * in x8..x17, and it defines all eighteen (ffa_value_write_full). x0 ==
 * FFA_VALUE_BLOCKED means the caller now waits (MSG_WAIT, a direct request):
 * whoever ends the wait writes its registers. Results are built element by
 * element: an aggregate initialiser would clear all 144 bytes (a memset call)
 * on every call.
 */
_Static_assert(sizeof(struct ffa_value) == FFA_VALUE_REGS * sizeof(uint64_t),
	       "struct ffa_value holds x0..x17");

#define FFA_VALUE_BLOCKED 0u

/* The result x0..x3, x4..x7 zero (x8..x17 undefined, see above). */
static inline struct ffa_value ffa_result(uint64_t x0, uint64_t x1, uint64_t x2,
					  uint64_t x3)
{
	struct ffa_value r;

	r.x[0] = x0;
	r.x[1] = x1;
	r.x[2] = x2;
	r.x[3] = x3;
	r.x[4] = 0;
	r.x[5] = 0;
	r.x[6] = 0;
	r.x[7] = 0;
	return r;
}

/* FFA_SUCCESS_32 with w2 and w3. */
static inline struct ffa_value ffa_success(uint32_t w2, uint32_t w3)
{
	return ffa_result(FFA_SUCCESS_32, 0, w2, w3);
}

/* FFA_ERROR with `code` in w2. */
static inline struct ffa_value ffa_error(int32_t code)
{
	return ffa_result(FFA_ERROR, 0, (uint32_t)code, 0);
}

static inline struct ffa_value ffa_blocked(void)
{
	return ffa_result(FFA_VALUE_BLOCKED, 0, 0, 0);
}

/* Calls whose results reach past x7 (FF-A v1.2 over SMCCC 1.2): x8..x17
 * of their callers are written too (zero where unused). */
static inline bool ffa_value_extended(uint32_t fn)
{
	return fn == FFA_MSG_SEND_DIRECT_REQ2 ||
	       fn == FFA_MSG_SEND_DIRECT_RESP2 ||
	       fn == FFA_PARTITION_INFO_GET_REGS || fn == FFA_CONSOLE_LOG_64;
}

/* Copies registers [first, first + count) of `from` to `to`, unrolled:
 * with -mstrict-align a block copy would become a byte loop. */
#define FFA_COPY_REGS(to, from, first, count)                                  \
	do {                                                                   \
		_Pragma("GCC unroll 18") for (int i_ = (first);                \
					      i_ < (first) + (count); i_++)    \
		{                                                              \
			(to)[i_] = (from)[i_];                                 \
		}                                                              \
	} while (0)

/* Zeroes registers [first, first + count), unrolled. */
#define FFA_ZERO_REGS(to, first, count)                                        \
	do {                                                                   \
		_Pragma("GCC unroll 18") for (int i_ = (first);                \
					      i_ < (first) + (count); i_++)    \
		{                                                              \
			(to)[i_] = 0;                                          \
		}                                                              \
	} while (0)

/* Writes `r` to the registers of a vCPU that made call `fn`: x0..x7, and
 * for the extended calls x8..x17 zero. */
static inline void ffa_value_write(struct arch_regs *regs, uint32_t fn,
				   const struct ffa_value *r)
{
	FFA_COPY_REGS(regs->x, r->x, 0, 8);
	if ((fn & SMCCC_64BIT) && ffa_value_extended(fn)) {
		FFA_ZERO_REGS(regs->x, 8, FFA_VALUE_REGS - 8);
	}
}

/* The same for a result that defines all of x0..x17
 * (FFA_PARTITION_INFO_GET_REGS). */
static inline void ffa_value_write_full(struct arch_regs *regs,
					const struct ffa_value *r)
{
	FFA_COPY_REGS(regs->x, r->x, 0, FFA_VALUE_REGS);
}

/* Writes a result that ends another vCPU's wait: x0..x17 all, from `r`
 * whose x8..x17 are defined when `r_full`, else zero. */
static inline void ffa_value_deliver(struct arch_regs *regs,
				     const struct ffa_value *r, bool r_full)
{
	FFA_COPY_REGS(regs->x, r->x, 0, 8);
	if (r_full) {
		FFA_COPY_REGS(regs->x, r->x, 8, FFA_VALUE_REGS - 8);
	} else {
		FFA_ZERO_REGS(regs->x, 8, FFA_VALUE_REGS - 8);
	}
}

/* Handles the FF-A call in the vCPU's registers. */
void ffa_handle(struct vcpu *v);

/* The memory-transaction calls (FFA_MEM_*) of a partition whose
 * negotiated version is `version`; any other `fn` gets
 * FFA_ERROR(NOT_SUPPORTED). */
struct ffa_value ffa_mem_handle(struct vcpu *v, uint32_t fn, uint32_t version);

/*
 * Life-cycle hooks (called by core/lifecycle.c only).
 *
 * ffa_partition_init: once, before the first boot: FF-A properties from
 * the manifest.
 *
 * ffa_partition_boot: the locked partition is about to (re)boot: FF-A
 * version and mailbox at their reset values.
 *
 * ffa_vcpu_stopped: vCPU `v` of the locked partition is going off; a
 * requester whose direct request it was serving is woken to find the
 * request aborted. (The schedule receiver interrupts it delayed are not
 * raised here, under its partition's lock, but by lifecycle_cpu_off
 * before it or by ffa_partition_stopped after.)
 *
 * ffa_partition_stopped: every vCPU of `last`'s partition is off (`last`
 * went off last, on this CPU) and it is about to be reloaded or left off;
 * called with no lock held (it takes, in order, those of every partition
 * it touches). The schedule receiver interrupts its vCPUs delayed are
 * raised; memory transactions involving the partition end (see
 * core/ffa_mem.c).
 *
 * ffa_vcpu_check_wait: on the CPU of a vCPU in MSG_WAIT or awaiting a
 * direct response that was woken: ends the wait with FFA_ERROR(ABORTED)
 * if the receiver went off, FFA_INTERRUPT if a virtual interrupt it can
 * take is pending; a wait for a partition to be ready (boot order) makes
 * its call again once it is, or fails ABORTED after the deadline. Takes
 * the locks itself.
 *
 * ffa_vcpu_may_start: vCPU `v` (its partition locked) is about to start:
 * false while it is a boot vCPU that the boot order holds back (core/ffa.c).
 */
void ffa_partition_init(struct partition *p);
void ffa_partition_boot(struct partition_locked locked);
void ffa_vcpu_stopped(struct vcpu *v);
void ffa_partition_stopped(struct vcpu *last);
void ffa_vcpu_check_wait(struct vcpu *v);
bool ffa_vcpu_may_start(struct vcpu *v);

/*
 * Whether cpu_main's loop looks at the FF-A wait of `v` (its partition
 * locked; `wait` as read then), which is not runnable: one awaiting a
 * direct response (or a partition's readiness) always; one in MSG_WAIT
 * only when a virtual interrupt may have come to end it. Whoever makes
 * one pending marks the vCPU dirty and kicks its CPU, and one pending
 * before the wait began made it dirty then (core/ffa.c, wait_begins).
 */
static inline bool ffa_vcpu_wait_needs_check(const struct vcpu *v,
					     enum vcpu_wait wait)
{
	return wait == VCPU_WAIT_RESPONSE ||
	       (wait == VCPU_WAIT_MESSAGE && v->vgic.dirty);
}

/* Memory-transaction slots in use (sending or live), for the vendor call
 * BULKHEAD_POOL_INFO. */
uint32_t ffa_mem_slots_in_use(void);

/* The memory side of ffa_partition_stopped. */
void ffa_mem_partition_stopped(struct vcpu *last);
