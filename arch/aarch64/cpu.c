/* EL2 controls for vCPUs, trap decoding, abort injection, PSCI to firmware. */
#include <arch/sysreg.h>
#include <bulkhead/fmt.h>
#include <bulkhead/psci.h>
#include <core/arch.h>
#include <string.h>

#define SCTLR_EL1_RESET	   0x30d00800ull
#define CNTHCTL_EL1PCTEN   (1ull << 0)
#define CNTHCTL_EL1PCEN	   (1ull << 1)
#define VMPIDR_RES1	   (1ull << 31)
#define VECTOR_CURRENT_SP0 0x000
#define VECTOR_CURRENT_SPX 0x200
#define VECTOR_LOWER_A64   0x400

#define PMCR_P		   (1ull << 1) /* reset the event counters */
#define PMCR_C		   (1ull << 2) /* reset the cycle counter */
#define PMCR_N(pmcr)	   (((pmcr) >> 11) & 0x1f)
#define PMEVT_INST_RETIRED 0x08
#define PMEVT_EXCLUDE_EL1  (1ull << 31)
#define PMEVT_EXCLUDE_EL0  (1ull << 30)
#define PMEVT_INCLUDE_EL2  (1ull << 27)

/* CONFIG_BENCH_BOOT_COUNT: the two highest event counters are the
 * hypervisor's (MDCR_EL2.HPMN below them); the partitions get the rest. */
#define BOOT_COUNTERS (IS_ENABLED(CONFIG_BENCH_BOOT_COUNT) ? 2u : 0u)

static uint64_t guest_counters(void)
{
	return PMCR_N(read_sysreg(pmcr_el0)) - BOOT_COUNTERS;
}

/* Starts this CPU's two boot counters (instructions retired at EL2, and
 * at EL1 and EL0) unless they already run. */
static void boot_count_start(void)
{
	uint64_t n = guest_counters();

	if (read_sysreg(pmcntenset_el0) & (1ull << (n + 1))) {
		return;
	}
	write_sysreg(pmselr_el0, n);
	isb();
	write_sysreg(pmxevtyper_el0, PMEVT_INST_RETIRED | PMEVT_EXCLUDE_EL1 |
					 PMEVT_EXCLUDE_EL0 | PMEVT_INCLUDE_EL2);
	write_sysreg(pmxevcntr_el0, 0);
	write_sysreg(pmselr_el0, n + 1);
	isb();
	write_sysreg(pmxevtyper_el0, PMEVT_INST_RETIRED); /* EL1 and EL0 */
	write_sysreg(pmxevcntr_el0, 0);
	write_sysreg(pmcntenset_el0, 3ull << n);
	isb();
}

void arch_boot_count(uint64_t *el2, uint64_t *guest)
{
	uint64_t n = guest_counters();
	uint64_t sel = read_sysreg(pmselr_el0); /* the partition's */

	write_sysreg(pmselr_el0, n);
	isb();
	*el2 = read_sysreg(pmxevcntr_el0);
	write_sysreg(pmselr_el0, n + 1);
	isb();
	*guest = read_sysreg(pmxevcntr_el0);
	write_sysreg(pmselr_el0, sel);
}
#define DFR0_BRPS(dfr0) (((dfr0) >> 12) & 0xf) /* breakpoints - 1 */
#define DFR0_WRPS(dfr0) (((dfr0) >> 20) & 0xf) /* watchpoints - 1 */

/* The EL1 system registers a partition sees as read-as-zero,
 * writes-ignored when they trap (HCR_EL2.TACR, TERR). */
#define SYS_ACTLR_EL1	SYS_ENC(3, 0, 1, 0, 1)
#define SYS_ERRIDR_EL1	SYS_ENC(3, 0, 5, 3, 0)
#define SYS_ERRSELR_EL1 SYS_ENC(3, 0, 5, 3, 1)
#define SYS_ERX_FIRST	SYS_ENC(3, 0, 5, 4, 0) /* ERXFR_EL1 */
#define SYS_ERX_LAST	SYS_ENC(3, 0, 5, 5, 7) /* up to ERXMISC3_EL1 */
/* The SGI generation registers: group 1 (the partition's, emulated), the
 * other security state's and group 0 (a partition has neither: ignored) */
#define SYS_ICC_SGI1R_EL1  SYS_ENC(3, 0, 12, 11, 5)
#define SYS_ICC_ASGI1R_EL1 SYS_ENC(3, 0, 12, 11, 6)
#define SYS_ICC_SGI0R_EL1  SYS_ENC(3, 0, 12, 11, 7)
/* DC ISW, DC CSW, DC CISW */
#define SYS_DC_ISW  SYS_ENC(1, 0, 7, 6, 2)
#define SYS_DC_CSW  SYS_ENC(1, 0, 7, 10, 2)
#define SYS_DC_CISW SYS_ENC(1, 0, 7, 14, 2)

/* Features partitions may use that EL2 must stop trapping */
#define PFR0_SVE(r)	  (((r) >> 32) & 0xf)
#define PFR1_SME(r)	  (((r) >> 24) & 0xf)
#define ISAR1_PAUTH(r)	  (((r) >> 4) & 0xff00ff) /* APA, API, GPA, GPI */
#define ISAR2_PAUTH(r)	  (((r) >> 8) & 0xff)	  /* GPA3, APA3 */
#define ZCR_EL2		  S3_4_C1_C2_0
#define ZCR_EL1		  S3_0_C1_C2_0
#define SMCR_EL2	  S3_4_C1_C2_6
#define SMCR_EL1	  S3_0_C1_C2_6
#define SVCR		  S3_3_C4_C2_2
#define SMPRI_EL1	  S3_0_C1_C2_4
#define TPIDR2_EL0	  S3_3_C13_C0_5
#define VECTOR_LENGTH_MAX 0xf /* ZCR/SMCR LEN: as long as the CPU has */

extern char secondary_entry[];

void arch_fpsimd_reset(void);
void arch_sve_reset(void);

/* Which of SVE, SME and pointer authentication the CPU has (each CPU
 * reads its own ID registers; they are the same on all CPUs here). */
struct features {
	bool sve;
	bool sme;
	bool pauth;
};

static struct features cpu_features(void)
{
	return (struct features){
	    .sve = PFR0_SVE(read_sysreg(id_aa64pfr0_el1)) != 0,
	    .sme = PFR1_SME(read_sysreg(id_aa64pfr1_el1)) != 0,
	    .pauth = ISAR1_PAUTH(read_sysreg(id_aa64isar1_el1)) != 0 ||
		     ISAR2_PAUTH(read_sysreg(S3_0_C0_C6_2)) != 0,
	};
}

void arch_vcpu_load(const struct arch_vcpu_config *config)
{
	struct features f = cpu_features();
	uint64_t cptr = CPTR_RES1 | CPTR_TZ | CPTR_TSM;

	/* Pointer authentication, SVE and SME are the partition's to use:
	 * its CPUs are its own, nothing of it is switched. */
	write_sysreg(hcr_el2, HCR_VM | HCR_SWIO | HCR_FMO | HCR_IMO | HCR_AMO |
				  HCR_TWI | HCR_TSC | HCR_TIDCP | HCR_TACR |
				  HCR_TSW | HCR_RW | HCR_TERR |
				  (f.pauth ? HCR_API | HCR_APK : 0));
	write_sysreg(vttbr_el2, pa_addr(config->stage2_root) |
				    ((uint64_t)config->vmid << 48));
	write_sysreg(vmpidr_el2, VMPIDR_RES1 | config->vcpu_index);
	write_sysreg(vpidr_el2, read_sysreg(midr_el1));
	write_sysreg(cnthctl_el2, CNTHCTL_EL1PCTEN | CNTHCTL_EL1PCEN);
	write_sysreg(cntvoff_el2, 0);
	/* Guests may use every PMU counter. Counting at EL2 is prohibited
	 * (HPMD, HCCD) unless the benchmark configuration asks for it. The
	 * debug ROM address (no external debugger belongs to a partition)
	 * traps and is undefined to it. */
	write_sysreg(
	    mdcr_el2,
	    guest_counters() | MDCR_TDRA |
		(IS_ENABLED(CONFIG_PMU_COUNT_EL2) ? 0 : MDCR_HPMD | MDCR_HCCD) |
		(BOOT_COUNTERS ? MDCR_HPME | MDCR_HLP : 0));
	if (BOOT_COUNTERS) {
		boot_count_start();
	}
	if (f.sve) {
		cptr &= ~CPTR_TZ;
	}
	if (f.sme) {
		cptr &= ~CPTR_TSM;
	}
	write_sysreg(cptr_el2, cptr); /* FP/SIMD never trapped */
	isb();
	if (f.sve) {
		write_sysreg(ZCR_EL2, VECTOR_LENGTH_MAX);
	}
	if (f.sme) {
		write_sysreg(SMCR_EL2, VECTOR_LENGTH_MAX);
	}
	isb();
}

/* Pointer authentication keys, SVE and SME state back to zero. */
static void reset_extensions(void)
{
	struct features f = cpu_features();

	if (f.sme) {
		write_sysreg(SVCR, 0); /* streaming mode and ZA off */
		write_sysreg(SMCR_EL1, 0);
		write_sysreg(SMPRI_EL1, 0);
		write_sysreg(TPIDR2_EL0, 0);
	}
	if (f.sve) {
		isb();
		arch_sve_reset();
		write_sysreg(ZCR_EL1, 0);
	}
	if (f.pauth) {
		write_sysreg(S3_0_C2_C1_0, 0); /* APIAKeyLo_EL1 */
		write_sysreg(S3_0_C2_C1_1, 0); /* APIAKeyHi_EL1 */
		write_sysreg(S3_0_C2_C1_2, 0); /* APIBKeyLo_EL1 */
		write_sysreg(S3_0_C2_C1_3, 0); /* APIBKeyHi_EL1 */
		write_sysreg(S3_0_C2_C2_0, 0); /* APDAKeyLo_EL1 */
		write_sysreg(S3_0_C2_C2_1, 0); /* APDAKeyHi_EL1 */
		write_sysreg(S3_0_C2_C2_2, 0); /* APDBKeyLo_EL1 */
		write_sysreg(S3_0_C2_C2_3, 0); /* APDBKeyHi_EL1 */
		write_sysreg(S3_0_C2_C3_0, 0); /* APGAKeyLo_EL1 */
		write_sysreg(S3_0_C2_C3_1, 0); /* APGAKeyHi_EL1 */
	}
}

/* Breakpoint and watchpoint `n`: the registers are not indexable. */
static void clear_debug_pair(unsigned int n, bool watchpoint)
{
#define CLEAR_PAIR(i)                                                          \
	case i:                                                                \
		if (watchpoint) {                                              \
			write_sysreg(dbgwcr##i##_el1, 0);                      \
			write_sysreg(dbgwvr##i##_el1, 0);                      \
		} else {                                                       \
			write_sysreg(dbgbcr##i##_el1, 0);                      \
			write_sysreg(dbgbvr##i##_el1, 0);                      \
		}                                                              \
		break
	switch (n) {
		CLEAR_PAIR(0);
		CLEAR_PAIR(1);
		CLEAR_PAIR(2);
		CLEAR_PAIR(3);
		CLEAR_PAIR(4);
		CLEAR_PAIR(5);
		CLEAR_PAIR(6);
		CLEAR_PAIR(7);
		CLEAR_PAIR(8);
		CLEAR_PAIR(9);
		CLEAR_PAIR(10);
		CLEAR_PAIR(11);
		CLEAR_PAIR(12);
		CLEAR_PAIR(13);
		CLEAR_PAIR(14);
		CLEAR_PAIR(15);
	default:
		break;
	}
#undef CLEAR_PAIR
}

/* Debug state: no breakpoint, watchpoint or single step left armed. */
static void reset_debug(void)
{
	uint64_t dfr0 = read_sysreg(id_aa64dfr0_el1);

	write_sysreg(mdscr_el1, 0);
	for (unsigned int i = 0; i <= DFR0_BRPS(dfr0); i++) {
		clear_debug_pair(i, false);
	}
	for (unsigned int i = 0; i <= DFR0_WRPS(dfr0); i++) {
		clear_debug_pair(i, true);
	}
}

/* PMU state: counters stopped, zeroed, no overflow or interrupt. */
static void reset_pmu(void)
{
	uint64_t counters = guest_counters();
	/* the partition's counters and the cycle counter (PMCR_EL0.P at
	 * EL2 would also reset the hypervisor's boot counters) */
	uint64_t mine = (1ull << 31) | ((1ull << counters) - 1);

	write_sysreg(pmcr_el0, PMCR_C | (BOOT_COUNTERS ? 0 : PMCR_P));
	write_sysreg(pmcntenclr_el0, mine);
	write_sysreg(pmintenclr_el1, mine);
	write_sysreg(pmovsclr_el0, mine);
	write_sysreg(pmuserenr_el0, 0);
	for (uint64_t i = 0; i < counters; i++) {
		write_sysreg(pmselr_el0, i);
		isb();
		write_sysreg(pmxevtyper_el0, 0);
		write_sysreg(pmxevcntr_el0, 0);
	}
	write_sysreg(pmselr_el0, 0);
	write_sysreg(pmccfiltr_el0, 0);
}

void arch_vcpu_reset(struct arch_regs *regs, uint64_t pc, uint64_t arg)
{
	write_sysreg(sctlr_el1, SCTLR_EL1_RESET);
	write_sysreg(ttbr0_el1, 0);
	write_sysreg(ttbr1_el1, 0);
	write_sysreg(tcr_el1, 0);
	write_sysreg(mair_el1, 0);
	write_sysreg(vbar_el1, 0);
	write_sysreg(cpacr_el1, 0);
	write_sysreg(sp_el1, 0);
	write_sysreg(sp_el0, 0);
	write_sysreg(elr_el1, 0);
	write_sysreg(spsr_el1, 0);
	write_sysreg(esr_el1, 0);
	write_sysreg(far_el1, 0);
	write_sysreg(tpidr_el1, 0);
	write_sysreg(tpidr_el0, 0);
	write_sysreg(tpidrro_el0, 0);
	write_sysreg(contextidr_el1, 0);
	write_sysreg(cntkctl_el1, 0);
	write_sysreg(cntv_ctl_el0, 0);
	write_sysreg(cntp_ctl_el0, 0);
	write_sysreg(cntv_cval_el0, 0);
	write_sysreg(cntp_cval_el0, 0);
	write_sysreg(par_el1, 0);
	write_sysreg(afsr0_el1, 0);
	write_sysreg(afsr1_el1, 0);
	write_sysreg(amair_el1, 0);
	write_sysreg(csselr_el1, 0);
	reset_debug();
	reset_pmu();
	reset_extensions();
	arch_fpsimd_reset();
	isb();
	for (int i = 0; i < 31; i++) {
		regs->x[i] = 0;
	}
	regs->x[0] = arg;
	regs->pc = pc;
	regs->pstate = PSR_DAIF | PSR_MODE_EL1H;
}

/* A trapped MSR/MRS/SYS (EC 0x18): what the core is to do with it. */
static enum arch_trap classify_sysreg(uint64_t esr)
{
	uint32_t enc = ESR_SYS_ENC(esr);

	if (enc == SYS_DC_ISW || enc == SYS_DC_CSW || enc == SYS_DC_CISW) {
		return ARCH_TRAP_CACHE_SET_WAY;
	}
	if (enc == SYS_ICC_SGI1R_EL1 && !(esr & ESR_SYS_READ)) {
		return ARCH_TRAP_SGI;
	}
	if (enc == SYS_ICC_ASGI1R_EL1 || enc == SYS_ICC_SGI0R_EL1 ||
	    enc == SYS_ACTLR_EL1 || enc == SYS_ERRIDR_EL1 ||
	    enc == SYS_ERRSELR_EL1 ||
	    (enc >= SYS_ERX_FIRST && enc <= SYS_ERX_LAST)) {
		return ARCH_TRAP_SYSREG_RAZ_WI;
	}
	return ARCH_TRAP_OTHER;
}

/* Whether a stage-2 abort's status code reports the IPA in HPFAR_EL2:
 * translation, access flag and permission faults (levels 0..3). */
static bool fsc_reports_ipa(uint64_t esr)
{
	uint64_t fsc = ESR_ISS_FSC(esr);

	return fsc >= 0x04 && fsc <= 0x0f;
}

void arch_trap_decode(struct arch_trap_info *t)
{
	uint64_t esr = read_sysreg(esr_el2);
	uint64_t hpfar;

	*t = (struct arch_trap_info){.esr = esr, .kind = ARCH_TRAP_OTHER};
	switch (ESR_EC(esr)) {
	case ESR_EC_HVC64:
		t->kind = ARCH_TRAP_HVC;
		t->imm = esr & 0xffff;
		break;
	case ESR_EC_SMC64:
		t->kind = ARCH_TRAP_SMC;
		t->imm = esr & 0xffff;
		break;
	case ESR_EC_WFX:
		t->kind = ARCH_TRAP_WFX;
		break;
	case ESR_EC_DABT_LOWER:
	case ESR_EC_IABT_LOWER:
		t->kind = ESR_EC(esr) == ESR_EC_DABT_LOWER
			      ? ARCH_TRAP_DATA_ABORT
			      : ARCH_TRAP_INSN_ABORT;
		t->far = read_sysreg(far_el2);
		t->fault_ipa_valid = fsc_reports_ipa(esr);
		if (t->fault_ipa_valid) {
			hpfar = read_sysreg(hpfar_el2);
			t->fault_ipa = ipa_init(((hpfar >> 4) << 12) |
						(t->far & (PAGE_SIZE - 1)));
		}
		t->write = (esr & ESR_ISS_WNR) && !(esr & ESR_ISS_S1PTW);
		t->syndrome_valid =
		    t->kind == ARCH_TRAP_DATA_ABORT && (esr & ESR_ISS_ISV);
		t->access_size = 1 << ESR_ISS_SAS(esr);
		t->reg = ESR_ISS_SRT(esr);
		t->sign_extend = esr & ESR_ISS_SSE;
		t->reg64 = esr & ESR_ISS_SF;
		break;
	case ESR_EC_SYSREG:
		t->kind = classify_sysreg(esr);
		t->reg = ESR_SYS_RT(esr);
		t->write = !(esr & ESR_SYS_READ);
		break;
	default:
		break;
	}
}

/* Takes a synchronous exception to the guest's EL1 with `esr` (and
 * `far`, for aborts), as hardware would from the guest's state. */
static void enter_el1(struct arch_regs *regs, uint64_t esr, uint64_t far,
		      bool set_far)
{
	uint64_t mode = regs->pstate & PSR_MODE_MASK;
	uint64_t offset = mode == PSR_MODE_EL0T	  ? VECTOR_LOWER_A64
			  : mode == PSR_MODE_EL1T ? VECTOR_CURRENT_SP0
						  : VECTOR_CURRENT_SPX;

	write_sysreg(esr_el1, esr);
	if (set_far) {
		write_sysreg(far_el1, far);
	}
	write_sysreg(elr_el1, regs->pc);
	write_sysreg(spsr_el1, regs->pstate);
	regs->pc = read_sysreg(vbar_el1) + offset;
	regs->pstate = PSR_DAIF | PSR_MODE_EL1H;
}

void arch_inject_undef(struct arch_regs *regs, const struct arch_trap_info *t)
{
	enter_el1(regs, (ESR_EC_UNKNOWN << ESR_EC_SHIFT) | (t->esr & ESR_IL), 0,
		  false);
}

void arch_inject_abort(struct arch_regs *regs, const struct arch_trap_info *t)
{
	bool from_el0 = (regs->pstate & PSR_MODE_MASK) == PSR_MODE_EL0T;
	bool insn = t->kind == ARCH_TRAP_INSN_ABORT;
	uint64_t ec = insn ? (from_el0 ? ESR_EC_IABT_LOWER : ESR_EC_IABT_CUR)
			   : (from_el0 ? ESR_EC_DABT_LOWER : ESR_EC_DABT_CUR);
	uint64_t esr =
	    (ec << ESR_EC_SHIFT) | (t->esr & ESR_IL) | ESR_FSC_SYNC_EXTERNAL;

	if (!insn && t->write) {
		esr |= ESR_ISS_WNR;
	}
	enter_el1(regs, esr, t->far, true);
}

void arch_skip_instruction(struct arch_regs *regs)
{
	regs->pc += 4;
}

void arch_wait_for_interrupt(void)
{
	dsb(sy);
	__asm__ volatile("wfi" ::: "memory");
}

uint64_t arch_counter_now(void)
{
	isb();
	return read_sysreg(cntpct_el0);
}

uint64_t arch_counter_hz(void)
{
	return read_sysreg(cntfrq_el0);
}

void arch_hyp_timer_arm(uint64_t deadline)
{
	write_sysreg(cnthp_cval_el2, deadline);
	write_sysreg(cnthp_ctl_el2, 1); /* enabled, not masked */
	isb();
}

void arch_hyp_timer_stop(void)
{
	write_sysreg(cnthp_ctl_el2, 0);
	isb();
}

uint64_t arch_cpu_mpidr(void)
{
	return read_sysreg(mpidr_el1) & MPIDR_AFFINITY_MASK;
}

static uint64_t smc(uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3)
{
	register uint64_t x0 __asm__("x0") = fn;
	register uint64_t x1 __asm__("x1") = a1;
	register uint64_t x2 __asm__("x2") = a2;
	register uint64_t x3 __asm__("x3") = a3;

	__asm__ volatile("smc #0"
			 : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)
			 :
			 : "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11",
			   "x12", "x13", "x14", "x15", "x16", "x17", "memory");
	return x0;
}

int64_t arch_psci_cpu_on(uint64_t mpidr, paddr_t entry, uint64_t context)
{
	return (int64_t)smc(PSCI_CPU_ON_64, mpidr & MPIDR_AFFINITY_MASK,
			    pa_addr(entry), context);
}

_Noreturn void arch_psci_system_off(void)
{
	smc(PSCI_SYSTEM_OFF, 0, 0, 0);
	for (;;) {
		arch_wait_for_interrupt();
	}
}

void arch_sync_memory_for_guest(void *va, size_t size)
{
	uint64_t line = 4u << ((read_sysreg(ctr_el0) >> 16) & 0xf);
	uint64_t end = (uintptr_t)va + size;

	for (uint64_t a = align_down((uintptr_t)va, line); a < end; a += line) {
		__asm__ volatile("dc cvac, %0" ::"r"(a) : "memory");
	}
	dsb(ish);
	__asm__ volatile("ic ialluis" ::: "memory");
	dsb(ish);
	isb();
}

void arch_zero_for_guest(void *va, size_t size)
{
	uint64_t dczid = read_sysreg(dczid_el0);
	uint64_t block = 4u << (dczid & 0xf);
	uintptr_t a = (uintptr_t)va;
	uintptr_t end = a + size;

	/* DC ZVA zeroes a whole block per instruction (unless prohibited) */
	if (!(dczid & (1u << 4)) && ((a | end) & (block - 1)) == 0) {
		for (; a < end; a += block) {
			__asm__ volatile("dc zva, %0" ::"r"(a) : "memory");
		}
	} else {
		memset(va, 0, size);
	}
	arch_sync_memory_for_guest(va, size);
}

paddr_t arch_secondary_entry(void)
{
	return pa_from_va(secondary_entry);
}

size_t arch_regs_line(const struct arch_regs *regs, unsigned int index,
		      char *buf, size_t size)
{
	unsigned int i = 2 * index;
	int len;

	if (i < 30) {
		len = fmt_snprintf(buf, size, "  x%-2u %016lx  x%-2u %016lx", i,
				   regs->x[i], i + 1, regs->x[i + 1]);
	} else if (i == 30) {
		len = fmt_snprintf(buf, size,
				   "  x30 %016lx  pc  %016lx  pstate %08lx",
				   regs->x[30], regs->pc, regs->pstate);
	} else {
		return 0;
	}
	return len < 0 ? 0 : MIN((size_t)len, size);
}

void arch_el2_fault(uint64_t *syndrome, uint64_t *fault_address)
{
	*syndrome = read_sysreg(esr_el2);
	*fault_address = read_sysreg(far_el2);
}
