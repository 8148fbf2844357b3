/* EL2 controls for vCPUs, trap decoding, abort injection, PSCI to firmware. */
#include <arch/sysreg.h>
#include <bulkhead/fmt.h>
#include <bulkhead/psci.h>
#include <core/arch.h>

#define SCTLR_EL1_RESET	   0x30d00800ull
#define CNTHCTL_EL1PCTEN   (1ull << 0)
#define CNTHCTL_EL1PCEN	   (1ull << 1)
#define VMPIDR_RES1	   (1ull << 31)
#define VECTOR_CURRENT_SP0 0x000
#define VECTOR_CURRENT_SPX 0x200
#define VECTOR_LOWER_A64   0x400

extern char secondary_entry[];

void arch_vcpu_load(const struct arch_vcpu_config *config)
{
	write_sysreg(hcr_el2, HCR_VM | HCR_SWIO | HCR_FMO | HCR_IMO | HCR_AMO |
				  HCR_TWI | HCR_TSC | HCR_RW);
	write_sysreg(vttbr_el2, pa_addr(config->stage2_root) |
				    ((uint64_t)config->vmid << 48));
	write_sysreg(vmpidr_el2, VMPIDR_RES1 | config->vcpu_index);
	write_sysreg(vpidr_el2, read_sysreg(midr_el1));
	write_sysreg(cnthctl_el2, CNTHCTL_EL1PCTEN | CNTHCTL_EL1PCEN);
	write_sysreg(cntvoff_el2, 0);
	/* Guests may use every PMU counter. Counting at EL2 is prohibited
	 * (HPMD, HCCD) unless the benchmark configuration asks for it. */
	write_sysreg(
	    mdcr_el2,
	    ((read_sysreg(pmcr_el0) >> 11) & 0x1f) |
		(IS_ENABLED(CONFIG_PMU_COUNT_EL2) ? 0 : MDCR_HPMD | MDCR_HCCD));
	write_sysreg(cptr_el2, 0x33ff); /* RES1 bits; FP/SIMD not trapped */
	isb();
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
	write_sysreg(par_el1, 0);
	isb();
	for (int i = 0; i < 31; i++) {
		regs->x[i] = 0;
	}
	regs->x[0] = arg;
	regs->pc = pc;
	regs->pstate = PSR_DAIF | PSR_MODE_EL1H;
}

void arch_trap_decode(struct arch_trap_info *t)
{
	uint64_t esr = read_sysreg(esr_el2);
	uint64_t hpfar;

	t->esr = esr;
	t->kind = ARCH_TRAP_OTHER;
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
		hpfar = read_sysreg(hpfar_el2);
		t->fault_ipa =
		    ipa_init(((hpfar >> 4) << 12) | (t->far & (PAGE_SIZE - 1)));
		t->write = (esr & ESR_ISS_WNR) && !(esr & ESR_ISS_S1PTW);
		t->syndrome_valid =
		    t->kind == ARCH_TRAP_DATA_ABORT && (esr & ESR_ISS_ISV);
		t->access_size = 1 << ESR_ISS_SAS(esr);
		t->reg = ESR_ISS_SRT(esr);
		t->sign_extend = esr & ESR_ISS_SSE;
		t->reg64 = esr & ESR_ISS_SF;
		break;
	default:
		break;
	}
}

void arch_inject_abort(struct arch_regs *regs, const struct arch_trap_info *t)
{
	uint64_t mode = regs->pstate & PSR_MODE_MASK;
	bool from_el0 = mode == PSR_MODE_EL0T;
	bool insn = t->kind == ARCH_TRAP_INSN_ABORT;
	uint64_t ec = insn ? (from_el0 ? ESR_EC_IABT_LOWER : ESR_EC_IABT_CUR)
			   : (from_el0 ? ESR_EC_DABT_LOWER : ESR_EC_DABT_CUR);
	uint64_t esr =
	    (ec << ESR_EC_SHIFT) | (t->esr & ESR_IL) | ESR_FSC_SYNC_EXTERNAL;
	uint64_t offset = from_el0		  ? VECTOR_LOWER_A64
			  : mode == PSR_MODE_EL1T ? VECTOR_CURRENT_SP0
						  : VECTOR_CURRENT_SPX;

	if (!insn && t->write) {
		esr |= ESR_ISS_WNR;
	}
	write_sysreg(esr_el1, esr);
	write_sysreg(far_el1, t->far);
	write_sysreg(elr_el1, regs->pc);
	write_sysreg(spsr_el1, regs->pstate);
	regs->pc = read_sysreg(vbar_el1) + offset;
	regs->pstate = PSR_DAIF | PSR_MODE_EL1H;
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
