/*
 * PSCI, SMCCC and vendor calls, HVC/SMC with non-zero immediates, and
 * probes: system registers (reads anywhere in the encoding space, writes
 * only where the hypervisor must trap or where the state is the
 * partition's own), loads, stores, atomics and cache operations on MMIO
 * and memory that must abort, and execution where nothing may run.
 *
 * Probes run small stubs written at run time into a code page of the
 * vCPU's own, through guest_probe_exec, which catches the exception a
 * stub takes. Each stub loads x1 (address), x0, x2, x3 (values) from the
 * vCPU's data block, runs one instruction, and stores x0, x2, x3 back.
 */
#include "fuzz.h"

#include <bulkhead/hypercall.h>
#include <bulkhead/psci.h>
#include <bulkhead/smccc.h>
#include <string.h>

/* --- code pages ----------------------------------------------------------- */

#define STUB_WORDS 16 /* instructions per stub slot */

struct probe_data {
	uint64_t in[8];	 /* x1, x0, x2, x3 (HVC stubs: x0..x7) */
	uint64_t out[4]; /* x0, x2, x3 (HVC stubs: x0..x3) */
};

enum access {
	A_LDRB,
	A_LDRH,
	A_LDRW,
	A_LDRX,
	A_LDRSB,
	A_LDRSH,
	A_LDRSW,
	A_LDP,
	A_LDXR,
	A_LDAR,
	A_LDR_PRE, /* with writeback: no syndrome */
	A_PRFM,	   /* never faults */
	A_DC_CIVAC,
	A_DC_CVAC,
	A_DC_IVAC,
	A_LOADS, /* the rest write */
	A_STRB = A_LOADS,
	A_STRH,
	A_STRW,
	A_STRX,
	A_STP,
	A_STXR,
	A_STLR,
	A_LDADD,
	A_SWP,
	A_CAS,
	A_DC_ZVA,
	A_COUNT,
};

static const uint32_t access_insn[A_COUNT] = {
    [A_LDRB] = 0x39400020,     [A_LDRH] = 0x79400020,
    [A_LDRW] = 0xb9400020,     [A_LDRX] = 0xf9400020,
    [A_LDRSB] = 0x39800020,    [A_LDRSH] = 0x79800020,
    [A_LDRSW] = 0xb9800020,    [A_LDP] = 0xa9400820,
    [A_LDXR] = 0xc85f7c20,     [A_LDAR] = 0xc8dffc20,
    [A_LDR_PRE] = 0xf8408c20,  [A_PRFM] = 0xf9800020,
    [A_DC_CIVAC] = 0xd50b7e21, [A_DC_CVAC] = 0xd50b7a21,
    [A_DC_IVAC] = 0xd5087621,  [A_STRB] = 0x39000020,
    [A_STRH] = 0x79000020,     [A_STRW] = 0xb9000020,
    [A_STRX] = 0xf9000020,     [A_STP] = 0xa9000820,
    [A_STXR] = 0xc8037c20,     [A_STLR] = 0xc89ffc20,
    [A_LDADD] = 0xf8200020,    [A_SWP] = 0xf8208020,
    [A_CAS] = 0xc8a07c22,      [A_DC_ZVA] = 0xd50b7421,
};

#define SLOT_DYNAMIC A_COUNT	   /* MRS/MSR/SYS: rewritten per probe */
#define SLOT_HVC     (A_COUNT + 1) /* HVC/SMC #imm: rewritten per probe */
#define SLOTS	     (A_COUNT + 2)

static uint32_t code[2][1024] __attribute__((aligned(4096)));
static struct probe_data data[2] __attribute__((aligned(64)));

_Static_assert(SLOTS *STUB_WORDS <= 1024, "stubs fit a page");

static uint32_t ldr_literal(const uint32_t *at, const void *literal,
			    unsigned int rt)
{
	int64_t offset = (const uint8_t *)literal - (const uint8_t *)at;

	return 0x58000000u | (((uint32_t)(offset >> 2) & 0x7ffff) << 5) | rt;
}

static uint32_t adr(const uint32_t *at, const void *target, unsigned int rd)
{
	int64_t offset = (const uint8_t *)target - (const uint8_t *)at;

	return 0x10000000u | ((uint32_t)(offset & 3) << 29) |
	       (((uint32_t)(offset >> 2) & 0x7ffff) << 5) | rd;
}

/* Makes the instructions at [start, start + bytes) visible to fetches. */
static void sync_code(const void *start, size_t bytes)
{
	uint64_t ctr;
	uint64_t dline;
	uint64_t iline;
	uint64_t a;
	uint64_t end = (uintptr_t)start + bytes;

	__asm__ volatile("mrs %0, ctr_el0" : "=r"(ctr));
	dline = 4ull << ((ctr >> 16) & 0xf);
	iline = 4ull << (ctr & 0xf);
	for (a = (uintptr_t)start & ~(dline - 1); a < end; a += dline) {
		__asm__ volatile("dc cvau, %0" ::"r"(a) : "memory");
	}
	__asm__ volatile("dsb ish" ::: "memory");
	for (a = (uintptr_t)start & ~(iline - 1); a < end; a += iline) {
		__asm__ volatile("ic ivau, %0" ::"r"(a) : "memory");
	}
	__asm__ volatile("dsb ish; isb" ::: "memory");
}

/* A stub: x1, x0, x2, x3 from data, `insn`, x0, x2, x3 to data, ret. */
static void write_stub(unsigned int vcpu, uint32_t slot, uint32_t insn)
{
	uint32_t *c = &code[vcpu][slot * STUB_WORDS];
	struct probe_data *d = &data[vcpu];

	c[0] = ldr_literal(&c[0], &d->in[0], 1);
	c[1] = ldr_literal(&c[1], &d->in[1], 0);
	c[2] = ldr_literal(&c[2], &d->in[2], 2);
	c[3] = ldr_literal(&c[3], &d->in[3], 3);
	c[4] = insn;
	c[5] = adr(&c[5], &d->out[0], 9);
	c[6] = 0xf9000120; /* str x0, [x9] */
	c[7] = 0xf9000522; /* str x2, [x9, #8] */
	c[8] = 0xf9000923; /* str x3, [x9, #16] */
	c[9] = 0xd65f03c0; /* ret */
	sync_code(c, 10 * 4);
}

/* x0..x7 from data, HVC or SMC #imm, x0..x3 to data, ret. */
static void write_call_stub(unsigned int vcpu, uint32_t insn)
{
	uint32_t *c = &code[vcpu][SLOT_HVC * STUB_WORDS];
	struct probe_data *d = &data[vcpu];

	for (unsigned int i = 0; i < 8; i++) {
		c[i] = ldr_literal(&c[i], &d->in[i], i);
	}
	c[8] = insn;
	c[9] = adr(&c[9], &d->out[0], 9);
	c[10] = 0xa9000520; /* stp x0, x1, [x9] */
	c[11] = 0xa9010d22; /* stp x2, x3, [x9, #16] */
	c[12] = 0xd65f03c0; /* ret */
	sync_code(c, 13 * 4);
}

void fz_probe_init(unsigned int vcpu)
{
	for (uint32_t a = 0; a < A_COUNT; a++) {
		write_stub(vcpu, a, access_insn[a]);
	}
}

/* Runs a stub; the outcome's column, the abort in *abort. */
static enum probe_col run_stub(unsigned int vcpu, uint32_t slot,
			       struct guest_abort *abort)
{
	uint64_t entry = (uintptr_t)&code[vcpu][slot * STUB_WORDS];

	*abort = (struct guest_abort){0};
	if (guest_probe_exec(entry, abort)) {
		return PROBE_DONE;
	}
	switch (ESR_EC(abort->esr)) {
	case 0x00:
		return PROBE_UNDEF;
	case ESR_EC_DABT_CUR:
		return PROBE_DABT;
	case ESR_EC_IABT_CUR:
		return PROBE_IABT;
	default:
		return PROBE_OTHER;
	}
}

/* --- PSCI ----------------------------------------------------------------- */

static enum row psci_row(uint32_t fn)
{
	switch (fn) {
	case PSCI_VERSION:
		return ROW_PSCI_VERSION;
	case PSCI_CPU_SUSPEND_32:
	case PSCI_CPU_SUSPEND_64:
		return ROW_PSCI_CPU_SUSPEND;
	case PSCI_CPU_ON_32:
	case PSCI_CPU_ON_64:
		return ROW_PSCI_CPU_ON;
	case PSCI_AFFINITY_INFO_32:
	case PSCI_AFFINITY_INFO_64:
		return ROW_PSCI_AFFINITY_INFO;
	case PSCI_MIGRATE_INFO_TYPE:
		return ROW_PSCI_MIGRATE_INFO_TYPE;
	case PSCI_FEATURES:
		return ROW_PSCI_FEATURES;
	default:
		return ROW_PSCI_OTHER;
	}
}

/* PSCI function numbers the random picks leave out: they end the vCPU
 * or the partition (made on schedule, fuzz.c), or would block it if a
 * later hypervisor implemented them (CPU_FREEZE, CPU_DEFAULT_SUSPEND,
 * SYSTEM_SUSPEND, SYSTEM_RESET2, SYSTEM_OFF2). */
static bool psci_ends_or_blocks(uint32_t number)
{
	return number == 0x02 || number == 0x08 || number == 0x09 ||
	       number == 0x0b || number == 0x0c || number == 0x0e ||
	       number == 0x12 || number == 0x15;
}

/* Entry points for CPU_ON and CPU_SUSPEND: the right one, or addresses
 * that must be refused (never other code of the fuzzer's). */
static uint64_t entry_point(struct fuzzer *f)
{
	uint64_t a = fz_address(f);

	if (a >= FUZZER_RAM && a < FUZZER_RAM + RAM_SIZE) {
		a = VICTIM_RAM;
	}
	return FZ_PICK(f, fz_secondary_entry(), fz_secondary_entry(),
		       fz_secondary_entry() + 2, a, 0, ~0ull, HYP_RAM,
		       FUZZER_RAM + RAM_SIZE);
}

static uint64_t mpidr_target(struct fuzzer *f)
{
	return FZ_PICK(f, 0, 1, 1, 2, 3, 0x100, 0x10000, 0x100000000ull,
		       0x80000001ull, 1ull << 40, fz_rand(f), fz_value(f));
}

void fz_psci(struct fuzzer *f)
{
	bool wide = fz_chance(f, 50);
	uint32_t base = wide ? 0xc4000000u : 0x84000000u;
	struct ffa_value r = {{0}};
	int token = 0;
	enum row row;

	for (int i = 1; i < 8; i++) {
		r.x[i] = fz_chance(f, 50) ? 0 : fz_value(f);
	}
	switch (fz_below(f, 12)) {
	case 0:
		r.x[0] = PSCI_VERSION;
		break;
	case 1:
		r.x[0] = PSCI_FEATURES;
		r.x[1] = FZ_PICK(f, PSCI_CPU_ON_64, PSCI_SYSTEM_OFF,
				 PSCI_SYSTEM_RESET, 0x84000012, 0xc4000012,
				 0x8400000e, SMCCC_VERSION, FFA_VERSION,
				 0x84000000 | fz_below(f, 32), fz_value(f));
		break;
	case 2:
		r.x[0] = base | 0x01; /* CPU_SUSPEND */
		r.x[1] = FZ_PICK(f, 0, 1, 0x10000, 0x40000000, fz_rand(f));
		r.x[2] = entry_point(f);
		r.x[3] = fz_rand(f);
		break;
	case 3:
	case 4:
	case 5:
		r.x[0] = base | 0x03; /* CPU_ON */
		r.x[1] = mpidr_target(f);
		r.x[2] = entry_point(f);
		r.x[3] = fz_rand(f);
		break;
	case 6:
	case 7:
		r.x[0] = base | 0x04; /* AFFINITY_INFO */
		r.x[1] = mpidr_target(f);
		r.x[2] = FZ_PICK(f, 0, 0, 0, 1, 2, 3, fz_value(f));
		break;
	case 8:
		r.x[0] = PSCI_MIGRATE_INFO_TYPE;
		break;
	default: {
		uint32_t number;

		do {
			number = fz_below(f, 0x20);
		} while (psci_ends_or_blocks(number));
		r.x[0] =
		    (fz_chance(f, 50) ? 0x84000000u : 0xc4000000u) | number;
		break;
	}
	}
	row = psci_row((uint32_t)r.x[0]);
	if (row == ROW_PSCI_CPU_ON || row == ROW_PSCI_CPU_SUSPEND) {
		/* a 32-bit call uses the low half: that must not be other
		 * code of the fuzzer's either */
		uint64_t mask =
		    ((uint32_t)r.x[0] & SMCCC_64BIT) ? ~0ull : 0xffffffffull;
		uint64_t entry = r.x[2] & mask;

		if (entry >= FUZZER_RAM && entry < FUZZER_RAM + RAM_SIZE &&
		    entry != fz_secondary_entry()) {
			r.x[2] = VICTIM_RAM;
		}
	}
	if (row == ROW_PSCI_CPU_ON) {
		token = fz_cpu_on_before(f, &r);
	}
	{
		uint64_t x1 = r.x[1];

		fz_call(f, row, &r);
		if (row == ROW_PSCI_CPU_ON) {
			fz_cpu_on_after(token, &r);
		}
		if ((row == ROW_PSCI_VERSION && r.x[0] != PSCI_VERSION_1_1) ||
		    (row == ROW_PSCI_MIGRATE_INFO_TYPE &&
		     r.x[0] != PSCI_MIGRATE_NOT_REQUIRED) ||
		    (row == ROW_PSCI_CPU_SUSPEND && r.x[0] != PSCI_SUCCESS)) {
			fz_anomaly(f, "PSCI answer's value", x1, r.x[0]);
		}
	}
}

/* --- SMCCC, vendor calls, other owners ------------------------------------ */

static uint32_t smccc_id(bool fast, bool wide, uint32_t owner, uint32_t number)
{
	return (fast ? SMCCC_FAST_CALL : 0) | (wide ? SMCCC_64BIT : 0) |
	       (owner & SMCCC_OWNER_MASK) << SMCCC_OWNER_SHIFT |
	       (number & 0xffff);
}

static bool bulkhead_call(uint32_t fn)
{
	return fn == BULKHEAD_CALL_UID || fn == BULKHEAD_REVISION ||
	       fn == BULKHEAD_SELF_INFO || fn == BULKHEAD_POOL_INFO;
}

/* What the implemented vendor calls must answer. */
static void check_vendor(struct fuzzer *f, const struct ffa_value *r,
			 uint32_t fn)
{
	bool ok = true;

	switch (fn) {
	case BULKHEAD_CALL_UID:
		ok = r->x[0] == BULKHEAD_UID_0 && r->x[1] == BULKHEAD_UID_1 &&
		     r->x[2] == BULKHEAD_UID_2 && r->x[3] == BULKHEAD_UID_3;
		break;
	case BULKHEAD_REVISION:
		ok = r->x[0] == BULKHEAD_REVISION_MAJOR &&
		     r->x[1] == BULKHEAD_REVISION_MINOR;
		break;
	case BULKHEAD_SELF_INFO:
		ok = r->x[0] == 0 && r->x[1] == ID_FUZZER &&
		     r->x[2] == f->vcpu && r->x[4] == FUZZER_RAM &&
		     r->x[5] == RAM_SIZE && r->x[8] == 2;
		break;
	default: /* BULKHEAD_POOL_INFO */
		ok = r->x[0] == 0 && r->x[2] == CONFIG_PAGE_POOL_PAGES &&
		     r->x[1] <= r->x[2] &&
		     r->x[3] <= CONFIG_FFA_MEM_MAX_TRANSACTIONS;
		break;
	}
	if (!ok) {
		fz_anomaly(f, "vendor call answer", fn, r->x[0]);
	}
}

void fz_smccc(struct fuzzer *f)
{
	bool wide = fz_chance(f, 50);
	struct ffa_value r = {{0}};
	enum row row;
	uint32_t fn;

	for (int i = 1; i < 18; i++) {
		r.x[i] = fz_chance(f, 50) ? 0 : fz_value(f);
	}
	switch (fz_below(f, 9)) {
	case 0:
		fn = SMCCC_VERSION;
		row = ROW_SMCCC_VERSION;
		break;
	case 1:
		fn = SMCCC_ARCH_FEATURES;
		row = ROW_SMCCC_ARCH_FEATURES;
		r.x[1] = FZ_PICK(f, SMCCC_VERSION, SMCCC_ARCH_FEATURES,
				 0x80008000, 0x80007fff, 0x80003fff, 0x80000002,
				 PSCI_CPU_ON_64, FFA_VERSION, fz_value(f));
		break;
	case 2: /* other Arm architecture calls (workarounds, SOC_ID) */
		fn = smccc_id(true, wide, SMCCC_OWNER_ARCH,
			      (uint32_t)FZ_PICK(f, 2, 0x3fff, 0x7fff, 0x8000,
						2 + fz_below(f, 0xfffe)));
		row = ROW_SMCCC_ARCH_OTHER;
		break;
	case 3:
	case 4:
		fn = (uint32_t)FZ_PICK(f, BULKHEAD_CALL_UID, BULKHEAD_REVISION,
				       BULKHEAD_SELF_INFO, BULKHEAD_POOL_INFO);
		row = ROW_VENDOR_BULKHEAD;
		break;
	case 5: /* the rest of the hypervisor vendor range, the debug-only
		   panic call included: none of it exists in a product */
		do {
			fn = (uint32_t)FZ_PICK(
			    f, BULKHEAD_DEBUG_PANIC, 0x8600ff00, 0x8600ff02,
			    smccc_id(true, wide, SMCCC_OWNER_VENDOR_HYP,
				     fz_below(f, 0x10000)));
		} while (bulkhead_call(fn));
		row = ROW_VENDOR_OTHER;
		break;
	case 6: { /* other owners: CPU, SiP, OEM, standard hypervisor,
		     reserved, trusted applications and OSes */
		uint32_t owner;

		do {
			owner = fz_below(f, 64);
		} while (owner == SMCCC_OWNER_ARCH ||
			 owner == SMCCC_OWNER_STANDARD ||
			 owner == SMCCC_OWNER_VENDOR_HYP);
		fn = smccc_id(true, wide, owner, (uint32_t)fz_rand(f));
		row = ROW_SMCCC_OTHER_OWNER;
		break;
	}
	case 7: /* standard secure service outside PSCI and FF-A: SDEI,
		   TRNG, ... */
		fn = smccc_id(true, wide, SMCCC_OWNER_STANDARD,
			      0x20 + fz_below(f, 0x40));
		row = ROW_SMCCC_OTHER_OWNER;
		break;
	default: /* yielding (standard) calls: none exist */
		fn = smccc_id(false, wide, fz_below(f, 64),
			      (uint32_t)fz_rand(f));
		row = ROW_SMCCC_YIELDING;
		break;
	}
	r.x[0] = fn;
	if (fz_chance(f, 5)) {
		r.x[0] |= fz_rand(f) << 32; /* w0 is the function ID */
	}
	{
		uint32_t feature = (uint32_t)r.x[1]; /* a 32-bit call */

		fz_call(f, row, &r);
		if (row == ROW_VENDOR_BULKHEAD) {
			check_vendor(f, &r, fn);
		} else if ((row == ROW_SMCCC_VERSION &&
			    r.x[0] != SMCCC_VERSION_1_2) ||
			   (row == ROW_SMCCC_ARCH_FEATURES &&
			    r.x[0] != ((feature == SMCCC_VERSION ||
					feature == SMCCC_ARCH_FEATURES)
					   ? 0
					   : (uint64_t)SMCCC_NOT_SUPPORTED))) {
			fz_anomaly(f, "SMCCC answer's value", feature, r.x[0]);
		}
	}
}

/* HVC or SMC with a non-zero immediate: refused (-1, x1..x3 zero)
 * whatever x0 asks for, even SYSTEM_OFF. */
void fz_immediate(struct fuzzer *f)
{
	bool smc = fz_chance(f, 50);
	uint32_t imm = 1 + fz_below(f, 0xffff);
	struct probe_data *d = &data[f->vcpu];
	struct ffa_value in = {{0}};
	struct ffa_value out = {{0}};
	struct guest_abort abort;

	in.x[0] = FZ_PICK(f, FFA_VERSION, FFA_ID_GET, PSCI_VERSION,
			  PSCI_SYSTEM_OFF, PSCI_SYSTEM_RESET, PSCI_CPU_OFF,
			  BULKHEAD_SELF_INFO, FFA_MSG_WAIT, fz_value(f));
	for (int i = 1; i < 8; i++) {
		in.x[i] = fz_chance(f, 50) ? 0 : fz_value(f);
	}
	memcpy(d->in, in.x, sizeof(d->in));
	write_call_stub(f->vcpu, (smc ? 0xd4000003u : 0xd4000002u) | imm << 5);
	if (run_stub(f->vcpu, SLOT_HVC, &abort) != PROBE_DONE) {
		fz_anomaly(f, "HVC/SMC with an immediate faulted", imm,
			   abort.esr);
		return;
	}
	memcpy(out.x, d->out, sizeof(d->out));
	fz_record(f, ROW_SMCCC_IMMEDIATE, &in, &out);
}

/* --- system registers ----------------------------------------------------- */

struct sysreg {
	uint32_t op0, op1, crn, crm, op2;
};

#define SR(a, b, c, d, e) ((struct sysreg){a, b, c, d, e})

static uint32_t sysreg_enc(struct sysreg s)
{
	return (uint32_t)s.op0 << 19 | (uint32_t)s.op1 << 16 |
	       (uint32_t)s.crn << 12 | (uint32_t)s.crm << 8 |
	       (uint32_t)s.op2 << 5;
}

/* Registers that read as zero and ignore writes: ACTLR_EL1 (trapped,
 * HCR_EL2.TACR) and ERRIDR_EL1 (trapped, HCR_EL2.TERR; read-only). */
#define SYS_ACTLR_EL1  SR(3, 0, 1, 0, 1)
#define SYS_ERRIDR_EL1 SR(3, 0, 5, 3, 0)
static const struct sysreg raz[] = {SYS_ACTLR_EL1, SYS_ERRIDR_EL1};

/* The RAS error record registers: trapped (HCR_EL2.TERR) and read as zero
 * where the CPU has them, undefined where it has none (QEMU 7.2: only
 * ERRIDR_EL1, with no records). Never a value. */
static const struct sysreg ras_records[] = {
    SR(3, 0, 5, 3, 1), /* ERRSELR_EL1 */
    SR(3, 0, 5, 4, 1), /* ERXCTLR_EL1 */
    SR(3, 0, 5, 4, 2), /* ERXSTATUS_EL1 */
    SR(3, 0, 5, 4, 3), /* ERXADDR_EL1 */
    SR(3, 0, 5, 5, 0), /* ERXMISC0_EL1 */
    SR(3, 0, 5, 5, 1), /* ERXMISC1_EL1 */
    SR(3, 0, 5, 4, 0), /* ERXFR_EL1 (read-only) */
};

static bool same(struct sysreg a, struct sysreg b)
{
	return a.op0 == b.op0 && a.op1 == b.op1 && a.crn == b.crn &&
	       a.crm == b.crm && a.op2 == b.op2;
}

/* Registers a partition may write freely: its own timer, PMU, debug and
 * thread state, which the hypervisor resets when a vCPU starts. */
static const struct sysreg own_state[] = {
    SR(3, 3, 14, 3, 1),	 /* CNTV_CTL_EL0 */
    SR(3, 3, 14, 3, 2),	 /* CNTV_CVAL_EL0 */
    SR(3, 3, 14, 2, 1),	 /* CNTP_CTL_EL0 */
    SR(3, 3, 14, 2, 2),	 /* CNTP_CVAL_EL0 */
    SR(3, 0, 14, 1, 0),	 /* CNTKCTL_EL1 */
    SR(3, 3, 9, 12, 0),	 /* PMCR_EL0 */
    SR(3, 3, 9, 12, 1),	 /* PMCNTENSET_EL0 */
    SR(3, 0, 9, 14, 1),	 /* PMINTENSET_EL1 */
    SR(3, 3, 9, 14, 3),	 /* PMOVSSET_EL0 */
    SR(3, 3, 9, 12, 5),	 /* PMSELR_EL0 */
    SR(3, 3, 14, 15, 7), /* PMCCFILTR_EL0 */
    SR(3, 3, 14, 12, 0), /* PMEVTYPER0_EL0 */
    SR(3, 3, 9, 14, 0),	 /* PMUSERENR_EL0 */
    SR(2, 0, 0, 2, 2),	 /* MDSCR_EL1 (debug exceptions stay masked) */
    SR(2, 0, 0, 0, 4),	 /* DBGBVR0_EL1 */
    SR(2, 0, 0, 0, 5),	 /* DBGBCR0_EL1 */
    SR(2, 0, 0, 0, 6),	 /* DBGWVR0_EL1 */
    SR(2, 0, 0, 0, 7),	 /* DBGWCR0_EL1 */
    SR(3, 3, 13, 0, 2),	 /* TPIDR_EL0 */
    SR(3, 3, 13, 0, 3),	 /* TPIDRRO_EL0 */
    SR(3, 0, 13, 0, 1),	 /* CONTEXTIDR_EL1 */
    SR(3, 0, 5, 1, 0),	 /* AFSR0_EL1 */
    SR(3, 0, 10, 3, 0),	 /* AMAIR_EL1 */
};

/* Registers that are undefined to a partition: the debug ROM address
 * (HCR_EL2.TDRA... MDCR_EL2.TDRA), EL2 and EL3 registers. */
static const struct sysreg undefined_regs[] = {
    SR(2, 0, 1, 0, 0),	/* MDRAR_EL1 */
    SR(3, 4, 1, 1, 0),	/* HCR_EL2 */
    SR(3, 4, 2, 1, 0),	/* VTTBR_EL2 */
    SR(3, 4, 1, 0, 0),	/* SCTLR_EL2 */
    SR(3, 4, 12, 0, 0), /* VBAR_EL2 */
    SR(3, 4, 0, 0, 5),	/* VMPIDR_EL2 */
    SR(3, 6, 1, 1, 0),	/* SCR_EL3 */
    SR(3, 6, 1, 0, 0),	/* SCTLR_EL3 */
};

static struct sysreg random_sysreg(struct fuzzer *f)
{
	return SR(2 + fz_below(f, 2), fz_below(f, 8), fz_below(f, 16),
		  fz_below(f, 16), fz_below(f, 8));
}

/* An IMPLEMENTATION DEFINED encoding (op0 = 3, CRn = 11 or 15), trapped
 * by HCR_EL2.TIDCP. */
static struct sysreg impdef_sysreg(struct fuzzer *f)
{
	return SR(3, fz_below(f, 8), fz_chance(f, 50) ? 11 : 15,
		  fz_below(f, 16), fz_below(f, 8));
}

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Runs `insn` (MRS, MSR or SYS on x0) in the vCPU's dynamic slot. */
static enum probe_col run_dynamic(struct fuzzer *f, uint32_t insn,
				  struct guest_abort *abort)
{
	write_stub(f->vcpu, SLOT_DYNAMIC, insn);
	return run_stub(f->vcpu, SLOT_DYNAMIC, abort);
}

/* MRS x0, `s` with x0 random beforehand (a read that leaves x0 alone
 * shows); the value in data[vcpu].out[0]. */
static enum probe_col read_sysreg(struct fuzzer *f, struct sysreg s,
				  struct guest_abort *abort)
{
	data[f->vcpu].in[1] = fz_rand(f);
	return run_dynamic(f, 0xd5200000u | sysreg_enc(s), abort);
}

static void sysreg_read(struct fuzzer *f)
{
	uint32_t kind = fz_below(f, 10);
	struct sysreg s;
	struct probe_data *d = &data[f->vcpu];
	struct guest_abort abort;
	enum probe_col col;
	bool ok = true;

	s = kind < 4	? random_sysreg(f)
	    : kind == 4 ? raz[fz_below(f, COUNT_OF(raz))]
	    : kind == 5 ? ras_records[fz_below(f, COUNT_OF(ras_records))]
	    : kind < 8	? undefined_regs[fz_below(f, COUNT_OF(undefined_regs))]
			: impdef_sysreg(f);
	col = read_sysreg(f, s, &abort);
	fz_count_probe(ROW_PROBE_SYSREG_READ, col);
	if (kind == 4) {
		ok = col == PROBE_DONE && d->out[0] == 0;
	} else if (kind == 5) {
		ok =
		    (col == PROBE_DONE && d->out[0] == 0) || col == PROBE_UNDEF;
	} else if (kind >= 6 && kind < 8) {
		ok = col == PROBE_UNDEF;
	}
	if (!ok) {
		fz_anomaly(f, "register read (encoding, value or ESR)",
			   sysreg_enc(s),
			   col == PROBE_DONE ? d->out[0] : abort.esr);
	}
}

/* A read of `s` after a write to it: zero or undefined. */
static bool reads_zero(struct fuzzer *f, struct sysreg s, bool may_be_undef)
{
	struct guest_abort abort;
	enum probe_col col = read_sysreg(f, s, &abort);

	return (col == PROBE_DONE && data[f->vcpu].out[0] == 0) ||
	       (may_be_undef && col == PROBE_UNDEF);
}

static void sysreg_write(struct fuzzer *f)
{
	uint32_t kind = fz_below(f, 10);
	struct sysreg s;
	struct probe_data *d = &data[f->vcpu];
	struct guest_abort abort;
	enum probe_col col;
	bool ok = true;

	s = kind < 2   ? raz[fz_below(f, COUNT_OF(raz))]
	    : kind < 4 ? ras_records[fz_below(f, COUNT_OF(ras_records))]
	    : kind < 7 ? own_state[fz_below(f, COUNT_OF(own_state))]
	    : kind < 8 ? undefined_regs[fz_below(f, COUNT_OF(undefined_regs))]
		       : impdef_sysreg(f);
	d->in[1] = fz_value(f);
	if (s.op0 == 2 && s.crm == 2 && s.op2 == 2) {
		d->in[1] &= ~(1ull << 13); /* MDSCR_EL1.KDE stays clear */
	}
	col = run_dynamic(f, 0xd5000000u | sysreg_enc(s), &abort);
	fz_count_probe(ROW_PROBE_SYSREG_WRITE, col);
	if (kind < 2) {
		/* ACTLR_EL1: ignored, still zero; ERRIDR_EL1: read-only */
		ok = same(s, SYS_ACTLR_EL1)
			 ? col == PROBE_DONE && reads_zero(f, s, false)
			 : col == PROBE_UNDEF && reads_zero(f, s, false);
	} else if (kind < 4) {
		ok = col == PROBE_UNDEF ||
		     (col == PROBE_DONE && reads_zero(f, s, true));
	} else if (kind < 7) {
		ok = col == PROBE_DONE;
	} else if (kind == 7) {
		ok = col == PROBE_UNDEF;
	}
	if (!ok) {
		fz_anomaly(f, "register write (encoding, outcome)",
			   sysreg_enc(s), col);
	}
}

/* SYS instructions: set/way cache maintenance (trapped, done as nothing)
 * and IMPLEMENTATION DEFINED ones (undefined). */
static void sys_op(struct fuzzer *f)
{
	static const struct sysreg set_way[] = {
	    SR(1, 0, 7, 6, 2),	/* DC ISW */
	    SR(1, 0, 7, 10, 2), /* DC CSW */
	    SR(1, 0, 7, 14, 2), /* DC CISW */
	};
	struct probe_data *d = &data[f->vcpu];
	bool impdef = fz_chance(f, 40);
	struct sysreg s =
	    impdef ? SR(1, fz_below(f, 8), fz_chance(f, 50) ? 11 : 15,
			fz_below(f, 16), fz_below(f, 8))
		   : set_way[fz_below(f, 3)];
	struct guest_abort abort;
	enum probe_col col;

	d->in[0] = fz_value(f);
	col = run_dynamic(f, 0xd5000001u | sysreg_enc(s), &abort);
	fz_count_probe(ROW_PROBE_SYS_OP, col);
	if (col != (impdef ? PROBE_UNDEF : PROBE_DONE)) {
		fz_anomaly(f, "SYS instruction", sysreg_enc(s), col);
	}
}

void fz_sysreg(struct fuzzer *f)
{
	uint32_t r = fz_below(f, 10);

	if (r < 5) {
		sysreg_read(f);
	} else if (r < 8) {
		sysreg_write(f);
	} else {
		sys_op(f);
	}
}

/* --- MMIO and memory that must abort
 * ------------------------------------------ */

/* The fuzzer's own virtual GIC (core/vgic.c): the distributor and the
 * redistributor frames (RD_base and SGI_base, 128 KiB) of its two vCPUs;
 * the frames of vCPUs it does not have must abort. */
#define GICD_BASE 0x08000000ull
#define GICD_SIZE 0x10000ull
#define GICR_BASE 0x080a0000ull

/* Where every access must abort (the console page and the fuzzer's own
 * GIC aside). */
static const struct {
	uint64_t base;
	uint64_t size;
} forbidden[] = {
    {VICTIM_RAM, RAM_SIZE},
    {VICTIM_PATTERN, VICTIM_PATTERN_SIZE},
    {HYP_RAM, HYP_RAM_SIZE},
    {0x40000000, 0x200000},
    {GICR_BASE + 2 * GICR_FRAME_SIZE, 2 * GICR_FRAME_SIZE},
    {0x08080000, 0x20000},
    {0x09010000, 0x1000},
    {0x09020000, 0x1000},
    {0x09030000, 0x1000},
    {0x0a000000, 0x4000},
    {0x10000000, 0x100000},
    {0x3eff0000, 0x10000},
    {0x00000000, 0x8000000},
    {SYNC, 0x1000},
    {0x44c00000, 0x400000},
    {0x7ffff000, 0x1000},
    {0x80000000, 0x10000000},
};

static const uint32_t access_size[A_COUNT] = {
    [A_LDRB] = 1,      [A_LDRH] = 2,	 [A_LDRW] = 4,	   [A_LDRX] = 8,
    [A_LDRSB] = 1,     [A_LDRSH] = 2,	 [A_LDRSW] = 4,	   [A_LDP] = 16,
    [A_LDXR] = 8,      [A_LDAR] = 8,	 [A_LDR_PRE] = 8,  [A_PRFM] = 8,
    [A_DC_CIVAC] = 64, [A_DC_CVAC] = 64, [A_DC_IVAC] = 64, [A_STRB] = 1,
    [A_STRH] = 2,      [A_STRW] = 4,	 [A_STRX] = 8,	   [A_STP] = 16,
    [A_STXR] = 8,      [A_STLR] = 8,	 [A_LDADD] = 8,	   [A_SWP] = 8,
    [A_CAS] = 8,       [A_DC_ZVA] = 64,
};

/* Instructions the architecture (or QEMU) lets complete without a
 * translation: prefetches and clean/invalidate by VA. */
static bool may_complete(enum access a)
{
	return a == A_PRFM || a == A_DC_CIVAC || a == A_DC_CVAC ||
	       a == A_DC_IVAC;
}

static void console_probe(struct fuzzer *f, enum access a)
{
	struct probe_data *d = &data[f->vcpu];
	uint64_t offset;
	struct guest_abort abort;
	enum probe_col col;

	if (a >= A_LOADS) {
		/* any register but DR (output has its budget elsewhere),
		 * aligned or not; a block (DC ZVA) from 0x400 */
		offset = 0x10 + fz_below(f, 0x1000 - 0x10 - 16);
		if (fz_chance(f, 85)) {
			offset &= ~(uint64_t)7;
		}
		if (a == A_DC_ZVA) {
			offset = 0x400;
		}
	} else {
		offset = FZ_PICK(f, 0x000, 0x018, 0xfe0, 0x030,
				 fz_below(f, 0x1000 - 16));
		if (access_size[a] <= 8 && fz_chance(f, 85)) {
			offset &= ~(uint64_t)(access_size[a] - 1);
		}
	}
	d->in[0] = 0x09000000 + offset;
	d->in[1] = d->in[2] = d->in[3] = fz_value(f);
	col = run_stub(f->vcpu, a, &abort);
	fz_count_probe(ROW_PROBE_CONSOLE, col);
	if (col == PROBE_DONE && a == A_LDRW && offset == 0xfe0 &&
	    d->out[0] != 0x11) {
		fz_anomaly(f, "PL011 peripheral ID 0", offset, d->out[0]);
	}
	if (col == PROBE_DONE && a == A_LDRW && offset == 0x018 &&
	    (d->out[0] & 0x90) != 0x90) {
		fz_anomaly(f, "PL011 flags", offset, d->out[0]);
	}
}

/* Whether the hypervisor can emulate access `a` to a device: a load or
 * store of one register without writeback and not exclusive, the only
 * kind whose abort carries a syndrome (ESR ISV). */
static bool has_syndrome(enum access a)
{
	switch (a) {
	case A_LDRB:
	case A_LDRH:
	case A_LDRW:
	case A_LDRX:
	case A_LDRSB:
	case A_LDRSH:
	case A_LDRSW:
	case A_LDAR:
	case A_STRB:
	case A_STRH:
	case A_STRW:
	case A_STRX:
	case A_STLR:
		return true;
	default:
		return false;
	}
}

/* Reads and random writes of the fuzzer's own GIC registers: an aligned
 * access with a syndrome completes (the hypervisor emulates it), one
 * without aborts; the identification registers read what a GICv3's do
 * and each redistributor says which vCPU it is and whether it is the
 * last. (Writes may enable and pend the fuzzer's own interrupts: its
 * vCPUs run with IRQs masked, a pending one only ends a WFI early.) */
static void gic_probe(struct fuzzer *f, enum access a)
{
	struct probe_data *d = &data[f->vcpu];
	uint32_t frame = fz_below(f, 2);
	uint64_t base =
	    fz_chance(f, 40) ? GICD_BASE : GICR_BASE + frame * GICR_FRAME_SIZE;
	uint64_t size = base == GICD_BASE ? GICD_SIZE : GICR_FRAME_SIZE;
	uint64_t offset =
	    FZ_PICK(f, 0x0, 0x4, GICR_TYPER, 0x14, 0x80, 0x100, 0x200, 0x400,
		    0x6000, 0x10100, 0x10200, 0x10400, 0x10c00, GICD_PIDR2,
		    fz_rand(f) % size, fz_rand(f) % size) %
	    size;
	bool aligned;
	struct guest_abort abort;
	enum probe_col col;

	if (fz_chance(f, 90)) {
		offset &= ~(uint64_t)(access_size[a] - 1);
	}
	aligned = (offset & (access_size[a] - 1)) == 0;
	d->in[0] = base + offset;
	d->in[1] = d->in[2] = d->in[3] = fz_value(f);
	col = run_stub(f->vcpu, a, &abort);
	fz_count_probe(ROW_PROBE_GIC, col);
	if (has_syndrome(a) && aligned && col != PROBE_DONE) {
		fz_anomaly(f, "GIC access with a syndrome not emulated",
			   d->in[0], a);
	}
	if (!has_syndrome(a) && !may_complete(a) && col == PROBE_DONE &&
	    !(a == A_STXR && (uint32_t)d->out[2] != 0)) {
		fz_anomaly(f, "GIC access without a syndrome completed",
			   d->in[0], a);
	}
	if (col != PROBE_DONE || (a != A_LDRW && a != A_LDRX)) {
		return;
	}
	if (offset == GICD_PIDR2 && (d->out[0] & 0xf0) != 0x30) {
		fz_anomaly(f, "GIC PIDR2 is not a GICv3's", d->in[0],
			   d->out[0]);
	}
	if (base != GICD_BASE && offset == GICR_TYPER && a == A_LDRX &&
	    ((d->out[0] >> 32) != frame ||
	     ((d->out[0] >> 8) & 0xffff) != frame ||
	     ((d->out[0] >> 4) & 1) != (frame == 1))) {
		fz_anomaly(f, "GICR_TYPER of the fuzzer's vCPU", frame,
			   d->out[0]);
	}
}

void fz_mmio(struct fuzzer *f)
{
	enum access a = (enum access)fz_below(f, A_COUNT);
	uint32_t i;
	uint64_t address;
	struct probe_data *d = &data[f->vcpu];
	struct guest_abort abort;
	enum probe_col col;

	if (fz_chance(f, 15)) {
		console_probe(f, a);
		return;
	}
	if (fz_chance(f, 15)) {
		gic_probe(f, a);
		return;
	}
	i = fz_below(f, sizeof(forbidden) / sizeof(forbidden[0]));
	address = forbidden[i].base + fz_rand(f) % forbidden[i].size;
	if (fz_chance(f, 90)) {
		address &= ~(uint64_t)(access_size[a] - 1);
	}
	if ((a == A_LDRX || a == A_STRX || a == A_LDP || a == A_STP) &&
	    fz_chance(f, 10)) {
		/* straddling the end of the fuzzer's RAM into the victim's */
		address = VICTIM_RAM - 4;
	}
	d->in[0] = address;
	d->in[1] = d->in[2] = d->in[3] = fz_value(f);
	col = run_stub(f->vcpu, a, &abort);
	fz_count_probe(a < A_LOADS ? ROW_PROBE_MMIO_READ : ROW_PROBE_MMIO_WRITE,
		       col);
	/* a store-exclusive without a load-exclusive before it may
	 * complete without storing: its status (w3) says it failed */
	if (col == PROBE_DONE && !may_complete(a) &&
	    !(a == A_STXR && (uint32_t)d->out[2] != 0)) {
		fz_anomaly(f, "access that must abort completed", address, a);
	}
}

/* --- execute -------------------------------------------------------------- */

void fz_exec(struct fuzzer *f)
{
	uint32_t i = fz_below(f, sizeof(forbidden) / sizeof(forbidden[0]) + 3);
	uint64_t address;
	struct guest_abort abort;
	enum probe_col col;

	if (i >= sizeof(forbidden) / sizeof(forbidden[0])) {
		/* the checker's RAM (retrieved pages are never executable),
		 * the shared state, the console */
		address = FZ_PICK(f, CHECKER_RAM, CHECKER_OFFER, FUZZSTATE,
				  0x09000000);
	} else {
		address = forbidden[i].base +
			  (fz_rand(f) % forbidden[i].size & ~3ull);
	}
	if (fz_chance(f, 30)) {
		address = FZ_PICK(f, VICTIM_RAM, HYP_RAM, VICTIM_PATTERN,
				  HYP_RAM + 0x1000);
	}
	col = PROBE_OTHER;
	if (!guest_probe_exec(address, &abort)) {
		col = ESR_EC(abort.esr) == ESR_EC_IABT_CUR   ? PROBE_IABT
		      : ESR_EC(abort.esr) == 0		     ? PROBE_UNDEF
		      : ESR_EC(abort.esr) == ESR_EC_DABT_CUR ? PROBE_DABT
							     : PROBE_OTHER;
	} else {
		col = PROBE_DONE;
	}
	fz_count_probe(ROW_PROBE_EXEC, col);
	if (col != PROBE_IABT) {
		fz_anomaly(f, "execution where nothing may run", address,
			   abort.esr);
	}
}
