/*
 * The fuzzer: boot (first boot or after its own SYSTEM_RESET), the main
 * loop on vCPU 0, bursts on vCPU 1, blocking waits woken by the checker,
 * the scheduled resets, every call's checks and the result table.
 *
 * The run is reproducible from the seed as far as vCPU 0's choices go
 * (its PRNG state lives in fuzz_state, so a reset continues the same
 * sequence); each of vCPU 1's bursts follows from the seed and the
 * context ID vCPU 0 drew for its CPU_ON, and interleaves with vCPU 0 as
 * the machine schedules them.
 */
#include "fuzz.h"

#include <bulkhead/fmt.h>
#include <bulkhead/hypercall.h>
#include <bulkhead/psci.h>
#include <bulkhead/smccc.h>
#include <string.h>

void guest_smccc(uint64_t regs[18], int use_smc);

#define PROGRESS_EVERY	5000  /* calls between progress lines */
#define MILESTONE_EVERY 1000  /* calls between the checker's rounds */
#define RESET_EVERY	30000 /* calls between SYSTEM_RESETs */
#define ANOMALIES_SHOWN 20

static struct fuzz_state *const st = (struct fuzz_state *)FUZZSTATE;

static uint64_t rng_vcpu1;
static uint32_t boot_version;
static volatile uint32_t burst_running;
static volatile uint32_t reset_requested; /* vCPU 1: reset now */
/* What each vCPU did last (read with a debugger after a crash). */
volatile uint32_t fz_last_step[2];
struct ffa_value fz_last_call[2];

/* The context IDs of the last CPU_ONs that may start vCPU 1 (see
 * fz_cpu_on_before). */
#define CONTEXTS 8
static volatile uint32_t contexts[CONTEXTS];
static uint32_t context_next;

static bool expected_context(uint32_t context)
{
	for (uint32_t i = 0; i < CONTEXTS; i++) {
		if (contexts[i] == context) {
			return true;
		}
	}
	return false;
}

/* --- random choices ------------------------------------------------------- */

static uint64_t splitmix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x != 0 ? x : 0x2545f4914f6cdd1dull;
}

uint64_t fz_rand(struct fuzzer *f)
{
	uint64_t x = *f->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*f->rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

uint32_t fz_below(struct fuzzer *f, uint32_t n)
{
	return (uint32_t)(((fz_rand(f) >> 32) * n) >> 32);
}

bool fz_chance(struct fuzzer *f, uint32_t percent)
{
	return fz_below(f, 100) < percent;
}

uint64_t fz_pick(struct fuzzer *f, const uint64_t *values, uint32_t count)
{
	return values[fz_below(f, count)];
}

uint16_t fz_partition_id(struct fuzzer *f)
{
	switch (fz_below(f, 10)) {
	case 0:
	case 1:
		return ID_VICTIM;
	case 2:
	case 3:
		return ID_CHECKER;
	case 4:
		return ID_FUZZER;
	case 5:
		return 0; /* the hypervisor */
	case 6:
		return (uint16_t)FZ_PICK(f, 4, 0x7fff, 0x8000, 0x8001, 0xffff);
	case 7:
		return (uint16_t)fz_rand(f);
	default:
		return (uint16_t)(1 + fz_below(f, 4));
	}
}

/* Regions whose addresses calls name (never the fuzzer's own image,
 * data or stacks: a buffer mapped there would be overwritten). */
static const struct {
	uint64_t base;
	uint64_t size;
} regions[] = {
    {ARENA, ARENA_SIZE}, /* (twice: named twice as often) */
    {ARENA, ARENA_SIZE},
    {VICTIM_RAM, RAM_SIZE},
    {VICTIM_PATTERN, VICTIM_PATTERN_SIZE},
    {CHECKER_RAM, RAM_SIZE},
    {CHECKER_OFFER, CHECKER_OFFER_SIZE},
    {HYP_RAM, HYP_RAM_SIZE},
    {0x40000000, 0x200000},   /* RAM below the hypervisor */
    {0x08000000, 0x10000},    /* GIC distributor */
    {0x080a0000, 0x80000},    /* GIC redistributors */
    {0x08080000, 0x20000},    /* GIC ITS */
    {0x09000000, 0x1000},     /* the console (emulated) */
    {0x09010000, 0x1000},     /* RTC */
    {0x09020000, 0x1000},     /* fw_cfg (bus master) */
    {0x09030000, 0x1000},     /* GPIO */
    {0x0a000000, 0x4000},     /* virtio-mmio */
    {0x10000000, 0x100000},   /* PCIe MMIO window */
    {0x3eff0000, 0x10000},    /* PCIe I/O window */
    {0x00000000, 0x8000000},  /* flash */
    {FUZZSTATE, 0x4000},      /* shared with the checker */
    {SYNC, 0x1000},	      /* the victim's and the checker's */
    {0x44c00000, 0x400000},   /* RAM nobody has */
    {0x7ffff000, 0x1000},     /* the last page of RAM */
    {0x80000000, 0x10000000}, /* beyond RAM */
};

uint64_t fz_address(struct fuzzer *f)
{
	uint32_t i = fz_below(f, sizeof(regions) / sizeof(regions[0]));
	uint64_t a = regions[i].base + (fz_rand(f) % regions[i].size);

	switch (fz_below(f, 8)) {
	case 0:
		return a; /* any byte */
	case 1:
		return a & ~7ull;
	case 2:
		return FZ_PICK(f, 0xfffffffffffff000ull, 0x8000000000000000ull,
			       0x0000fffffffff000ull, 0x100000000ull,
			       0xffffffff00000000ull | (a & ~0xfffull));
	default:
		return a & ~0xfffull;
	}
}

uint64_t fz_arena_page(struct fuzzer *f)
{
	return ARENA + (uint64_t)fz_below(f, ARENA_PAGES) * FFA_PAGE_SIZE;
}

uint64_t fz_value(struct fuzzer *f)
{
	switch (fz_below(f, 12)) {
	case 0:
		return 0;
	case 1:
		return 1;
	case 2:
		return ~0ull;
	case 3:
		return FZ_PICK(f, 0x7fffffffull, 0x80000000ull, 0xffffffffull,
			       0x100000000ull, 1ull << 63, ~0ull >> 1,
			       0xfffffffffffff000ull, 0x10002, 0x10001);
	case 4:
		return fz_below(f, 64);
	case 5:
		return fz_partition_id(f);
	case 6:
		return fz_address(f);
	case 7:
		return fz_handle(f);
	case 8:
		return (uint64_t)fz_partition_id(f) << 16 | fz_below(f, 3);
	case 9:
		return fz_rand(f) & 0xffffffffull;
	default:
		return fz_rand(f);
	}
}

/* --- the result table and the checks -------------------------------------- */

void fz_anomaly(struct fuzzer *f, const char *what, uint64_t a, uint64_t b)
{
	uint64_t n = __atomic_add_fetch(&st->anomalies, 1, __ATOMIC_RELAXED);

	if (n <= ANOMALIES_SHOWN) {
		guest_printf("ANOMALY %lu (vCPU %u, call %lu): %s: %#lx %#lx\n",
			     n, f->vcpu, st->calls, what, a, b);
	}
}

static void count(enum row row, uint32_t col)
{
	__atomic_add_fetch(&st->table[row][col], 1, __ATOMIC_RELAXED);
}

void fz_count_probe(enum row row, enum probe_col col)
{
	__atomic_add_fetch(&st->probes, 1, __ATOMIC_RELAXED);
	count(row, col);
}

uint32_t fz_ffa_fn(enum row row)
{
	static const uint32_t ids[] = {
	    FFA_ERROR,
	    FFA_SUCCESS_32,
	    FFA_SUCCESS_64,
	    FFA_INTERRUPT,
	    FFA_VERSION,
	    FFA_FEATURES,
	    FFA_RX_RELEASE,
	    FFA_RXTX_MAP_32,
	    FFA_RXTX_MAP_64,
	    FFA_RXTX_UNMAP,
	    FFA_PARTITION_INFO_GET,
	    FFA_ID_GET,
	    FFA_MSG_POLL,
	    FFA_MSG_WAIT,
	    FFA_YIELD,
	    FFA_RUN,
	    FFA_MSG_SEND,
	    FFA_MSG_SEND_DIRECT_REQ_32,
	    FFA_MSG_SEND_DIRECT_REQ_64,
	    FFA_MSG_SEND_DIRECT_RESP_32,
	    FFA_MSG_SEND_DIRECT_RESP_64,
	    FFA_MEM_DONATE_32,
	    FFA_MEM_DONATE_64,
	    FFA_MEM_LEND_32,
	    FFA_MEM_LEND_64,
	    FFA_MEM_SHARE_32,
	    FFA_MEM_SHARE_64,
	    FFA_MEM_RETRIEVE_REQ_32,
	    FFA_MEM_RETRIEVE_REQ_64,
	    FFA_MEM_RETRIEVE_RESP,
	    FFA_MEM_RELINQUISH,
	    FFA_MEM_RECLAIM,
	    FFA_MEM_FRAG_RX,
	    FFA_MEM_FRAG_TX,
	    FFA_SPM_ID_GET,
	    FFA_MSG_SEND2,
	    FFA_CONSOLE_LOG_32,
	    FFA_CONSOLE_LOG_64,
	    FFA_PARTITION_INFO_GET_REGS,
	    FFA_MSG_SEND_DIRECT_REQ2,
	    FFA_MSG_SEND_DIRECT_RESP2,
	    FFA_NOTIFICATION_BIND,
	    FFA_NOTIFICATION_UNBIND,
	    FFA_NOTIFICATION_SET,
	    FFA_NOTIFICATION_GET,
	    FFA_NOTIFICATION_INFO_GET_32,
	    FFA_NOTIFICATION_INFO_GET_64,
	};
	_Static_assert(sizeof(ids) / sizeof(ids[0]) == ROW_FFA_OTHER,
		       "one row per named FF-A function");

	return ids[row];
}

enum row fz_ffa_row(uint32_t fn)
{
	for (uint32_t i = 0; i < ROW_FFA_OTHER; i++) {
		if (fz_ffa_fn((enum row)i) == fn) {
			return (enum row)i;
		}
	}
	return ROW_FFA_OTHER;
}

static bool is_answer(uint32_t x0, uint32_t a, uint32_t b)
{
	return x0 == a || x0 == b;
}

/* The non-error answers an FF-A function may give (FFA_ERROR aside). */
static bool ffa_answer_allowed(enum row row, uint32_t x0)
{
	switch (row) {
	case ROW_FFA_FEATURES:
	case ROW_FFA_RX_RELEASE:
	case ROW_FFA_RXTX_MAP_32:
	case ROW_FFA_RXTX_MAP_64:
	case ROW_FFA_RXTX_UNMAP:
	case ROW_FFA_PARTITION_INFO_GET:
	case ROW_FFA_ID_GET:
	case ROW_FFA_YIELD:
	case ROW_FFA_NOTIFICATION_BIND:
	case ROW_FFA_NOTIFICATION_UNBIND:
	case ROW_FFA_NOTIFICATION_SET:
	case ROW_FFA_NOTIFICATION_GET:
	case ROW_FFA_NOTIFICATION_INFO_GET_32:
	case ROW_FFA_RUN:
	case ROW_FFA_MSG_SEND2:
	case ROW_FFA_CONSOLE_LOG_32:
	case ROW_FFA_CONSOLE_LOG_64:
	case ROW_FFA_MEM_RELINQUISH:
	case ROW_FFA_MEM_RECLAIM:
		return x0 == FFA_SUCCESS_32;
	case ROW_FFA_PARTITION_INFO_GET_REGS:
	case ROW_FFA_NOTIFICATION_INFO_GET_64:
		return x0 == FFA_SUCCESS_64;
	case ROW_FFA_MEM_DONATE_32:
	case ROW_FFA_MEM_DONATE_64:
	case ROW_FFA_MEM_LEND_32:
	case ROW_FFA_MEM_LEND_64:
	case ROW_FFA_MEM_SHARE_32:
	case ROW_FFA_MEM_SHARE_64:
	case ROW_FFA_MEM_FRAG_TX:
		return is_answer(x0, FFA_SUCCESS_32, FFA_MEM_FRAG_RX);
	case ROW_FFA_MEM_RETRIEVE_REQ_32:
	case ROW_FFA_MEM_RETRIEVE_REQ_64:
		return x0 == FFA_MEM_RETRIEVE_RESP;
	case ROW_FFA_MEM_FRAG_RX:
		return x0 == FFA_MEM_FRAG_TX;
	case ROW_FFA_DIRECT_REQ_32:
		return x0 == FFA_MSG_SEND_DIRECT_RESP_32 || x0 == FFA_INTERRUPT;
	case ROW_FFA_DIRECT_REQ_64:
		return x0 == FFA_MSG_SEND_DIRECT_RESP_64 || x0 == FFA_INTERRUPT;
	case ROW_FFA_DIRECT_REQ2:
		/* a virtual interrupt may end the wait (FFA_INTERRUPT) */
		return x0 == FFA_MSG_SEND_DIRECT_RESP2 || x0 == FFA_INTERRUPT;
	case ROW_FFA_MSG_WAIT:
		return x0 == FFA_RUN || x0 == FFA_INTERRUPT ||
		       x0 == FFA_MSG_SEND_DIRECT_REQ_32 ||
		       x0 == FFA_MSG_SEND_DIRECT_REQ_64 ||
		       x0 == FFA_MSG_SEND_DIRECT_REQ2;
	default:
		/* answers, obsolete calls, responses nobody asked for, the
		 * SPM's ID, unknown IDs: errors only */
		return false;
	}
}

/* Whether the answer to `fn` defines x8..x17 (v1.2 extended calls). */
static bool extended(uint32_t fn)
{
	return fn == FFA_PARTITION_INFO_GET_REGS ||
	       fn == FFA_MSG_SEND_DIRECT_REQ2 ||
	       fn == FFA_MSG_SEND_DIRECT_RESP2;
}

static uint32_t ffa_column(struct fuzzer *f, enum row row,
			   const struct ffa_value *in,
			   const struct ffa_value *out)
{
	uint32_t fn = (uint32_t)in->x[0];
	uint64_t x0 = out->x[0];

	if (x0 == FFA_ERROR) {
		int64_t code = (int32_t)out->x[2];
		bool clean = out->x[1] == 0 && (out->x[2] >> 32) == 0;

		for (int i = 3; i < 8; i++) {
			clean &= out->x[i] == 0;
		}
		for (int i = 8; extended(fn) && i < 18; i++) {
			clean &= out->x[i] == 0;
		}
		if (!clean) {
			fz_anomaly(f, "FFA_ERROR with unused registers set", fn,
				   out->x[1] | out->x[3]);
		}
		if (code > -1 || code < -9) {
			fz_anomaly(f, "FF-A error code out of range", fn,
				   out->x[2]);
			return COL_OTHER;
		}
		if (row == ROW_FFA_OTHER && code != FFA_NOT_SUPPORTED) {
			fz_anomaly(f, "unknown FF-A function not refused", fn,
				   out->x[2]);
		}
		return (uint32_t)-code;
	}
	if (row == ROW_FFA_VERSION) {
		if (x0 == FFA_VERSION_IMPLEMENTED) {
			return COL_OK;
		}
		if (x0 == 0xffffffffull) {
			/* NOT_SUPPORTED, not wrapped in ERROR: a 32-bit
			 * result, upper half zero (FF-A's rule) */
			return 1;
		}
		fz_anomaly(f, "FFA_VERSION answer", in->x[1], x0);
		return COL_OTHER;
	}
	if ((x0 >> 32) != 0 || !ffa_answer_allowed(row, (uint32_t)x0)) {
		fz_anomaly(f, "FF-A answer not allowed for the call", fn, x0);
		return COL_OTHER;
	}
	return COL_OK;
}

/* PSCI, SMCCC and vendor calls: x0 a value, -1..-9 an error; unknown
 * calls answer -1 with x1..x3 zero. */
static uint32_t value_column(struct fuzzer *f, enum row row,
			     const struct ffa_value *in,
			     const struct ffa_value *out)
{
	int64_t v = (int64_t)out->x[0];
	bool must_refuse =
	    row == ROW_PSCI_OTHER || row == ROW_SMCCC_ARCH_OTHER ||
	    row == ROW_VENDOR_OTHER || row == ROW_SMCCC_OTHER_OWNER ||
	    row == ROW_SMCCC_YIELDING || row == ROW_SMCCC_IMMEDIATE;

	if (v < 0 && (out->x[1] | out->x[2] | out->x[3]) != 0) {
		fz_anomaly(f, "error with x1..x3 set", in->x[0], out->x[1]);
	}
	if (must_refuse && v != -1) {
		fz_anomaly(f, "unknown call not refused", in->x[0], out->x[0]);
		return COL_OTHER;
	}
	if (v >= 0) {
		return COL_OK;
	}
	if (v < -9) {
		fz_anomaly(f, "return code out of range", in->x[0], out->x[0]);
		return COL_OTHER;
	}
	return (uint32_t)-v;
}

static bool conduit_smc(struct fuzzer *f)
{
	return fz_chance(f, 30);
}

void fz_record(struct fuzzer *f, enum row row, const struct ffa_value *in,
	       const struct ffa_value *out)
{
	uint32_t col;

	__atomic_add_fetch(&st->calls, 1, __ATOMIC_RELAXED);
	if (f->vcpu != 0) {
		__atomic_add_fetch(&st->calls_vcpu1, 1, __ATOMIC_RELAXED);
	}
	if (row <= ROW_FFA_LAST) {
		fz_note_mailbox(in, out);
		col = ffa_column(f, row, in, out);
	} else {
		col = value_column(f, row, in, out);
	}
	count(row, col);
}

void fz_call_via(struct fuzzer *f, enum row row, struct ffa_value *regs,
		 bool smc)
{
	struct ffa_value in = *regs;

	fz_last_call[f->vcpu] = in;
	guest_smccc(regs->x, smc);
	fz_record(f, row, &in, regs);
}

void fz_call(struct fuzzer *f, enum row row, struct ffa_value *regs)
{
	fz_call_via(f, row, regs, conduit_smc(f));
}

/* --- calls that end the vCPU or the partition ----------------------------- */

/* A call that does not return: counted before it is made. */
static void count_final(struct fuzzer *f, enum row row)
{
	__atomic_add_fetch(&st->calls, 1, __ATOMIC_RELAXED);
	if (f->vcpu != 0) {
		__atomic_add_fetch(&st->calls_vcpu1, 1, __ATOMIC_RELAXED);
	}
	count(row, COL_OK);
}

static _Noreturn void make_final(struct fuzzer *f, uint32_t fn)
{
	struct ffa_value r = {{fn}};

	for (int i = 1; i < 18; i++) {
		r.x[i] = fz_chance(f, 50) ? fz_value(f) : 0;
	}
	guest_smccc(r.x, conduit_smc(f));
	fz_anomaly(f, "PSCI call returned", fn, r.x[0]);
	for (;;) {
		psci_system_off();
	}
}

static _Noreturn void final_call(struct fuzzer *f, enum row row, uint32_t fn)
{
	count_final(f, row);
	make_final(f, fn);
}

static void reset_now(struct fuzzer *f)
{
	st->resets++;
	final_call(f, ROW_PSCI_SYSTEM_RESET, PSCI_SYSTEM_RESET);
}

/* --- the second vCPU ------------------------------------------------------ */

uint64_t fz_secondary_entry(void)
{
	return (uintptr_t)guest_secondary_entry;
}

bool fz_secondary_running(void)
{
	return burst_running != 0;
}

static uint32_t affinity(uint64_t vcpu)
{
	return (uint32_t)psci_affinity_info(vcpu, 0);
}

static void step(struct fuzzer *f);

void fuzzer_secondary(unsigned int context)
{
	struct fuzzer f = {
	    .vcpu = 1, .rng = &rng_vcpu1, .version = boot_version};
	uint32_t n;

	/* each burst's sequence follows from the seed and the context
	 * vCPU 0 drew for it */
	rng_vcpu1 = splitmix(st->seed ^ ((uint64_t)context << 17));
	if (!expected_context(context)) {
		fz_anomaly(&f, "CPU_ON context ID", contexts[0], context);
	}
	fz_probe_init(1);
	n = 100 + fz_below(&f, 1900);
	for (uint32_t i = 0; i < n && !st->final; i++) {
		if (reset_requested) {
			reset_now(&f);
		}
		if (fz_chance(&f, 3)) {
			/* scribble over the header in TX while vCPU 0 may be
			 * sending (never over addresses: they could come to
			 * name the fuzzer's own pages) */
			fz_tx()[fz_below(&f, FFA_MEM_HEADER_SIZE)] =
			    (uint8_t)fz_rand(&f);
			continue;
		}
		step(&f);
	}
	burst_running = 0;
	final_call(&f, ROW_PSCI_CPU_OFF, PSCI_CPU_OFF);
}

/*
 * Only vCPU 0 starts vCPU 1, only at the fuzzer's entry. Every context it
 * may start vCPU 1 with goes into a ring first, which vCPU 1 checks its
 * own against: "is vCPU 1 running" is only a hint here (vCPU 1 clears it
 * just before its CPU_OFF, and this vCPU may still read the old value
 * when its CPU_ON finds vCPU 1 off).
 */
int fz_cpu_on_before(struct fuzzer *f, const struct ffa_value *r)
{
	uint64_t mask =
	    ((uint32_t)r->x[0] & SMCCC_64BIT) ? ~0ull : 0xffffffffull;
	bool was_running = burst_running;

	if (f->vcpu != 0 || ((r->x[1] & mask) & 0xff00ffffffull) != 1 ||
	    (r->x[2] & mask) != fz_secondary_entry()) {
		return 0;
	}
	contexts[context_next++ % CONTEXTS] = (uint32_t)r->x[3];
	burst_running = 1;
	return was_running ? 2 : 1;
}

void fz_cpu_on_after(int token, const struct ffa_value *r)
{
	if (token != 0 && r->x[0] == PSCI_SUCCESS) {
		st->bursts++;
	} else if (token == 1) {
		/* it was still going off after its burst */
		burst_running = 0;
	}
}

static void start_burst(struct fuzzer *f)
{
	struct ffa_value r = {
	    {fz_chance(f, 50) ? PSCI_CPU_ON_64 : PSCI_CPU_ON_32, 1,
	     fz_secondary_entry(), fz_rand(f)}};
	int token;

	if (burst_running || affinity(1) != PSCI_AFFINITY_OFF) {
		return;
	}
	token = fz_cpu_on_before(f, &r);
	fz_call(f, ROW_PSCI_CPU_ON, &r);
	if (r.x[0] != PSCI_SUCCESS) {
		fz_anomaly(f, "CPU_ON of the off vCPU 1", 1, r.x[0]);
	}
	fz_cpu_on_after(token, &r);
}

/* --- blocking waits, woken by the checker --------------------------------- */

static void wake_checker(void)
{
	hvc_call(FFA_RUN, ffa_endpoints(ID_CHECKER, 0), 0, 0, 0, 0, 0, 0);
}

/*
 * Blocks in FFA_MSG_WAIT (the checker sends an indirect message) or in
 * WFI (the checker calls FFA_RUN): the fuzzer rings the doorbell first,
 * and only while vCPU 1 is off, so nothing can unmap RX meanwhile.
 */
static void block(struct fuzzer *f)
{
	bool message = fz_chance(f, 60);
	struct ffa_value r = {{FFA_MSG_WAIT}};

	if (burst_running || affinity(1) != PSCI_AFFINITY_OFF) {
		return;
	}
	if (message) {
		fz_mailbox_ensure(f);
		if (fz_mb.pages == 0) {
			return;
		}
		hvc_call(FFA_RX_RELEASE, 0, 0, 0, 0, 0, 0, 0);
	}
	st->doorbell_kind = message ? DOORBELL_MESSAGE : DOORBELL_RUN;
	__atomic_store_n(&st->doorbell_waiting, st->doorbell + 1,
			 __ATOMIC_RELEASE);
	__atomic_store_n(&st->doorbell, st->doorbell + 1, __ATOMIC_RELEASE);
	wake_checker();
	if (message) {
		struct ffa_msg msg;

		fz_call(f, ROW_FFA_MSG_WAIT, &r);
		if (r.x[0] != FFA_RUN) {
			fz_anomaly(f, "MSG_WAIT woke without a message", r.x[0],
				   r.x[2]);
		} else if (ffa_msg_parse(fz_rx(), fz_rx_size(), f->version,
					 &msg) != 0 ||
			   msg.sender != ID_CHECKER ||
			   msg.receiver != ID_FUZZER) {
			fz_anomaly(f, "the checker's message in RX", 0,
				   *(uint64_t *)fz_rx());
		}
		hvc_call(FFA_RX_RELEASE, 0, 0, 0, 0, 0, 0, 0);
	} else {
		__asm__ volatile("wfi" ::: "memory");
	}
	__atomic_store_n(&st->doorbell_waiting, 0, __ATOMIC_RELEASE);
	st->waits++;
}

/* --- one step ------------------------------------------------------------- */

static void step(struct fuzzer *f)
{
	uint32_t r = fz_below(f, 1000);

	fz_last_step[f->vcpu] = r;
	f->alone = f->vcpu == 0 && !fz_secondary_running();

	if (r < 90) {
		fz_ffa_random(f);
	} else if (r < 140) {
		fz_ffa_wild(f);
	} else if (r < 165) {
		fz_ffa_direct(f);
	} else if (r < 195) {
		fz_ffa_msg_send2(f);
	} else if (r < 200) {
		fz_ffa_console(f);
	} else if (r < 225) {
		fz_ffa_mailbox(f);
	} else if (r < 385) {
		fz_mem_send(f);
	} else if (r < 455) {
		fz_mem_retrieve(f);
	} else if (r < 495) {
		fz_mem_relinquish(f);
	} else if (r < 545) {
		fz_mem_reclaim(f);
	} else if (r < 575) {
		fz_mem_frag(f);
	} else if (r < 655) {
		fz_psci(f);
	} else if (r < 735) {
		fz_smccc(f);
	} else if (r < 755) {
		fz_immediate(f);
	} else if (r < 835) {
		fz_sysreg(f);
	} else if (r < 965) {
		fz_mmio(f);
	} else if (r < 985) {
		fz_exec(f);
	} else if (f->vcpu == 0 && r < 995) {
		start_burst(f);
	} else if (f->vcpu == 0 && r < 998) {
		block(f);
	} else {
		fz_ffa_random(f);
	}
}

/* --- the summary ---------------------------------------------------------- */

static const char *const row_names[ROW_COUNT] = {
    "FFA_ERROR",
    "FFA_SUCCESS_32",
    "FFA_SUCCESS_64",
    "FFA_INTERRUPT",
    "FFA_VERSION",
    "FFA_FEATURES",
    "FFA_RX_RELEASE",
    "FFA_RXTX_MAP_32",
    "FFA_RXTX_MAP_64",
    "FFA_RXTX_UNMAP",
    "FFA_PARTITION_INFO_GET",
    "FFA_ID_GET",
    "FFA_MSG_POLL",
    "FFA_MSG_WAIT",
    "FFA_YIELD",
    "FFA_RUN",
    "FFA_MSG_SEND",
    "FFA_MSG_SEND_DIRECT_REQ_32",
    "FFA_MSG_SEND_DIRECT_REQ_64",
    "FFA_MSG_SEND_DIRECT_RESP_32",
    "FFA_MSG_SEND_DIRECT_RESP_64",
    "FFA_MEM_DONATE_32",
    "FFA_MEM_DONATE_64",
    "FFA_MEM_LEND_32",
    "FFA_MEM_LEND_64",
    "FFA_MEM_SHARE_32",
    "FFA_MEM_SHARE_64",
    "FFA_MEM_RETRIEVE_REQ_32",
    "FFA_MEM_RETRIEVE_REQ_64",
    "FFA_MEM_RETRIEVE_RESP",
    "FFA_MEM_RELINQUISH",
    "FFA_MEM_RECLAIM",
    "FFA_MEM_FRAG_RX",
    "FFA_MEM_FRAG_TX",
    "FFA_SPM_ID_GET",
    "FFA_MSG_SEND2",
    "FFA_CONSOLE_LOG_32",
    "FFA_CONSOLE_LOG_64",
    "FFA_PARTITION_INFO_GET_REGS",
    "FFA_MSG_SEND_DIRECT_REQ2",
    "FFA_MSG_SEND_DIRECT_RESP2",
    "FFA_NOTIFICATION_BIND",
    "FFA_NOTIFICATION_UNBIND",
    "FFA_NOTIFICATION_SET",
    "FFA_NOTIFICATION_GET",
    "FFA_NOTIFICATION_INFO_GET_32",
    "FFA_NOTIFICATION_INFO_GET_64",
    "FFA (other IDs)",
    "PSCI_VERSION",
    "PSCI_CPU_SUSPEND",
    "PSCI_CPU_OFF",
    "PSCI_CPU_ON",
    "PSCI_AFFINITY_INFO",
    "PSCI_MIGRATE_INFO_TYPE",
    "PSCI_SYSTEM_OFF",
    "PSCI_SYSTEM_RESET",
    "PSCI_FEATURES",
    "PSCI (other IDs)",
    "SMCCC_VERSION",
    "SMCCC_ARCH_FEATURES",
    "SMCCC arch (other IDs)",
    "Bulkhead vendor calls",
    "vendor hyp (other IDs)",
    "other owners",
    "yielding calls",
    "HVC/SMC #imm != 0",
    "probe: MRS",
    "probe: MSR",
    "probe: SYS",
    "probe: MMIO load",
    "probe: MMIO store",
    "probe: console",
    "probe: GIC",
    "probe: execute",
};

static uint64_t row_total(uint32_t row)
{
	uint64_t t = 0;

	for (uint32_t c = 0; c < RESULT_COLS; c++) {
		t += st->table[row][c];
	}
	return t;
}

static void print_table(const char *title, const char *header,
			const uint32_t *cols, uint32_t ncols, uint32_t first,
			uint32_t last)
{
	uint64_t sum[RESULT_COLS + 1] = {0};

	guest_printf("fuzzer: %s\n", title);
	guest_printf("  %-28s %8s%s\n", "call", "total", header);
	for (uint32_t row = first; row <= last; row++) {
		uint64_t total = row_total(row);
		char line[160];
		size_t len = 0;

		if (total == 0) {
			continue;
		}
		sum[RESULT_COLS] += total;
		for (uint32_t i = 0; i < ncols; i++) {
			uint32_t c = st->table[row][cols[i]];

			sum[cols[i]] += c;
			len += (size_t)fmt_snprintf(
			    line + len, sizeof(line) - len, " %8u", c);
		}
		guest_printf("  %-28s %8lu%s\n", row_names[row], total, line);
	}
	{
		char line[160];
		size_t len = 0;

		for (uint32_t i = 0; i < ncols; i++) {
			len +=
			    (size_t)fmt_snprintf(line + len, sizeof(line) - len,
						 " %8lu", sum[cols[i]]);
		}
		guest_printf("  %-28s %8lu%s\n", "all", sum[RESULT_COLS], line);
	}
}

static void summary(void)
{
	static const uint32_t all[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
	static const uint32_t smccc[] = {0, 1, 10};
	static const uint32_t probe[] = {PROBE_DONE, PROBE_UNDEF, PROBE_DABT,
					 PROBE_IABT, PROBE_OTHER};
	uint64_t ticks = guest_timer_now() - st->start_count;
	uint64_t ms = ticks * 1000 / (st->frequency ? st->frequency : 1);

	print_table("FF-A calls by answer",
		    "       OK  NOT_SUP  INVALID   NO_MEM     BUSY  INTERPT"
		    "   DENIED    RETRY  ABORTED  NO_DATA    other",
		    all, 11, 0, ROW_FFA_LAST);
	print_table("PSCI calls by return code",
		    "       OK  NOT_SUP  INVALID   DENIED   ALR_ON  ON_PEND"
		    "  INT_ERR  NOT_PRS  DISABLD  INV_ADR    other",
		    all, 11, ROW_FFA_LAST + 1, ROW_PSCI_LAST);
	print_table("SMCCC and vendor calls by return code",
		    "       OK  NOT_SUP    other", smccc, 3, ROW_PSCI_LAST + 1,
		    ROW_SMCCC_LAST);
	print_table("probes by outcome",
		    "     done    undef  d-abort  i-abort    other", probe, 5,
		    ROW_SMCCC_LAST + 1, ROW_COUNT - 1);
	guest_printf("fuzzer: memory: %lu sends succeeded, %lu retrieves, %lu "
		     "fragments; %lu direct requests answered; %lu waits "
		     "woken; %lu vCPU 1 bursts\n",
		     st->sends_ok, st->retrieves_ok, st->fragments,
		     st->direct_ok, st->waits, st->bursts);
	guest_printf("fuzzer: done: seed %#lx, %lu calls (%lu by vCPU 1), %lu "
		     "probes, %lu boots, %lu anomalies in %lu.%03lu s: %lu "
		     "calls/s\n",
		     st->seed, st->calls, st->calls_vcpu1, st->probes,
		     st->boots, st->anomalies, ms / 1000, ms % 1000,
		     ms ? st->calls * 1000 / ms : 0);
}

/* --- boot ----------------------------------------------------------------- */

static uint32_t choose_version(struct fuzzer *f)
{
	uint32_t r = fz_below(f, 10);

	return r < 6   ? FFA_VERSION_1_2
	       : r < 9 ? FFA_VERSION_1_1
		       : FFA_VERSION_1_0;
}

/* The checker zeroed the state before it said go. */
static void first_boot(void)
{
	st->seed = fuzz_config_seed;
	st->target = fuzz_config_calls;
	st->rng = splitmix(st->seed);
	st->next_reset = RESET_EVERY;
	st->start_count = guest_timer_now();
	st->frequency = guest_timer_freq();
	st->boots = 1;
	__atomic_store_n(&st->magic, FUZZ_MAGIC, __ATOMIC_RELEASE);
	guest_printf("fuzzer: seed %#lx, %lu calls to make\n", st->seed,
		     st->target);
}

int fuzzer_main(void)
{
	struct fuzzer f = {.vcpu = 0, .rng = &st->rng};
	struct ffa_value r;
	uint64_t progress;
	uint64_t milestone;

	while (!__atomic_load_n(&st->go, __ATOMIC_ACQUIRE)) {
		guest_cpu_relax();
	}
	if (st->magic != FUZZ_MAGIC) {
		first_boot();
	} else {
		st->boots++;
		guest_printf("fuzzer: boot %lu (after SYSTEM_RESET %lu), "
			     "going on from call %lu\n",
			     st->boots, st->resets, st->calls);
	}
	fz_probe_init(0);
	fz_mem_boot();
	f.version = boot_version = choose_version(&f);
	r = (struct ffa_value){{FFA_VERSION, f.version}};
	fz_call(&f, ROW_FFA_VERSION, &r);
	fz_mb.pages = 0;
	fz_mailbox_ensure(&f);
	progress = st->calls / PROGRESS_EVERY;
	milestone = st->calls / MILESTONE_EVERY;
	while (st->calls < st->target) {
		step(&f);
		if (st->calls / MILESTONE_EVERY != milestone) {
			milestone = st->calls / MILESTONE_EVERY;
			wake_checker();
		}
		if (st->calls / PROGRESS_EVERY != progress) {
			progress = st->calls / PROGRESS_EVERY;
			guest_printf("progress: %lu of %lu calls, %lu probes, "
				     "%lu anomalies\n",
				     st->calls, st->target, st->probes,
				     st->anomalies);
		}
		if (st->calls >= st->next_reset && st->calls < st->target) {
			st->next_reset += RESET_EVERY;
			if (burst_running && fz_chance(&f, 50)) {
				/* vCPU 1 resets the partition, while this
				 * one goes on */
				reset_requested = 1;
			} else {
				reset_now(&f);
			}
		}
		if (reset_requested && !burst_running) {
			reset_now(&f);
		}
	}
	/* the last call: power off with whatever is still sent, half-sent
	 * and retrieved (the hypervisor ends it all); counted first, so the
	 * summary has it */
	count_final(&f, ROW_PSCI_SYSTEM_OFF);
	summary();
	__atomic_store_n(&st->final, 1, __ATOMIC_RELEASE);
	wake_checker();
	make_final(&f, PSCI_SYSTEM_OFF);
}
