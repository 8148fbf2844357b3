/*
 * What the core needs from the architecture (arch/aarch64 implements it),
 * and the few entry points the architecture's assembly calls in the core.
 */
#pragma once

#include <arch/regs.h>
#include <core/types.h>

enum arch_exit_kind {
	ARCH_EXIT_SYNC = 0,
	ARCH_EXIT_IRQ = 1,
	ARCH_EXIT_FIQ = 2,
	ARCH_EXIT_SERROR = 3,
};

/* Why a synchronous exit happened, as the core sees it. */
enum arch_trap {
	ARCH_TRAP_HVC,
	ARCH_TRAP_SMC,
	ARCH_TRAP_WFX,
	ARCH_TRAP_DATA_ABORT,
	ARCH_TRAP_INSN_ABORT,
	/* a system register the partition sees as reading zero and ignoring
	 * writes (ACTLR_EL1, the RAS error records) */
	ARCH_TRAP_SYSREG_RAZ_WI,
	/* data cache maintenance by set/way: meaningless to a partition (the
	 * caches are coherent and shared with others), done as nothing */
	ARCH_TRAP_CACHE_SET_WAY,
	/* a write of ICC_SGI1R_EL1 (value in the register `reg`): an SGI to
	 * the partition's vCPUs */
	ARCH_TRAP_SGI,
	/* any other trapped instruction: undefined to the partition */
	ARCH_TRAP_OTHER,
};

struct arch_trap_info {
	enum arch_trap kind;
	uint64_t esr;
	uint64_t far;	    /* faulting VA */
	ipaddr_t fault_ipa; /* for stage-2 aborts, if fault_ipa_valid */
	/* aborts: a translation, access-flag or permission fault of stage 2,
	 * the only kinds that report the IPA; anything else (an external
	 * abort, a TLB conflict) goes to the partition as it is */
	bool fault_ipa_valid;
	uint16_t imm;	     /* HVC/SMC immediate */
	bool write;	     /* data aborts; system register writes */
	bool syndrome_valid; /* data aborts: ISV, the access can be emulated */
	uint8_t access_size; /* bytes */
	uint8_t reg;	     /* register number (aborts, sysregs); 31 = xzr */
	bool sign_extend;
	bool reg64;
};

void arch_mmu_build(void);
void arch_mmu_enable(void);

/* Runs the vCPU until it exits to EL2. */
enum arch_exit_kind arch_vcpu_enter(struct arch_regs *regs);

/* Decodes the last synchronous exit of this CPU. */
void arch_trap_decode(struct arch_trap_info *info);

/* What the EL2 controls of a vCPU depend on. */
struct arch_vcpu_config {
	paddr_t stage2_root;
	uint16_t vmid;
	uint16_t vcpu_index; /* the vCPU's virtual MPIDR affinity */
};

/* EL2 controls for running a vCPU on this CPU (stage 2, traps, MPIDR). */
void arch_vcpu_load(const struct arch_vcpu_config *config);

/* Resets this CPU's EL1 state (system registers, FP/SIMD, timers,
 * debug and PMU state) and `regs` for a vCPU starting at `pc`, so nothing
 * of an earlier boot of the partition on this CPU survives. */
void arch_vcpu_reset(struct arch_regs *regs, uint64_t pc, uint64_t arg);

/* Injects a synchronous abort at the guest's EL1, as hardware would. */
void arch_inject_abort(struct arch_regs *regs, const struct arch_trap_info *t);

/* Injects an Undefined Instruction exception (EC 0) for the trapped
 * instruction at the guest's EL1. */
void arch_inject_undef(struct arch_regs *regs, const struct arch_trap_info *t);

/* Skips the trapped instruction. */
void arch_skip_instruction(struct arch_regs *regs);

void arch_wait_for_interrupt(void);
uint64_t arch_cpu_mpidr(void);

/* CONFIG_BENCH_BOOT_COUNT: the raw counters of instructions this CPU
 * retired at EL2 and at EL1/EL0 since its vCPU was first loaded (they may
 * be 32 bits wide and wrap: read them more often than 2^32 instructions). */
void arch_boot_count(uint64_t *el2, uint64_t *guest);

/* The EL2 physical timer of this CPU (its PPI): the hypervisor's own
 * deadlines, counted in arch_counter_hz() ticks of the system counter. */
#define ARCH_HYP_TIMER_PPI 26
uint64_t arch_counter_now(void);
uint64_t arch_counter_hz(void);
void arch_hyp_timer_arm(uint64_t deadline);
void arch_hyp_timer_stop(void);

/* Firmware PSCI, over SMC. */
int64_t arch_psci_cpu_on(uint64_t mpidr, paddr_t entry, uint64_t context);
_Noreturn void arch_psci_system_off(void);

/* Cleans [va, va + size) to the point of coherency, then makes
 * instruction fetches see it. */
void arch_sync_memory_for_guest(void *va, size_t size);

/* Zeroes [va, va + size) and makes the zeros visible to a guest whose
 * MMU and caches are off (as memset + arch_sync_memory_for_guest, with
 * the architecture's block zeroing where it may be used). */
void arch_zero_for_guest(void *va, size_t size);

/* Address of the secondary CPU entry point (head.S). */
paddr_t arch_secondary_entry(void);

/*
 * Line `index` (from 0) of a register dump of `regs`, written to `buf`;
 * returns its length, 0 past the last line.
 */
size_t arch_regs_line(const struct arch_regs *regs, unsigned int index,
		      char *buf, size_t size);

/*
 * Return addresses of the frame records (x29 chain), innermost first:
 * from an exception frame when given (its pc first), else from the
 * caller. Stops at `max`, or where the chain leaves the hypervisor's
 * stacks or does not grow upwards. Returns how many it wrote.
 */
size_t arch_backtrace(const struct arch_regs *frame, uint64_t *addrs,
		      size_t max);

/* Stops the machine reporting failure: semihosting SYS_EXIT(1) where a
 * simulator offers it (QEMU -semihosting-config enable=on), else PSCI
 * SYSTEM_OFF. */
_Noreturn void arch_power_off_failure(void);

/* The syndrome and fault address of the exception this CPU took at EL2. */
void arch_el2_fault(uint64_t *syndrome, uint64_t *fault_address);

/*
 * The virtual CPU interface of this CPU (GICv3 list registers). An LR
 * holds one interrupt: pending, active or both. A hardware-linked one
 * (`hw`) deactivates the physical interrupt of the same INTID when the
 * guest deactivates it; `eoi_notify` asks for a maintenance interrupt
 * then instead.
 */
struct arch_lr {
	uint32_t vintid;
	uint8_t priority;
	bool pending;
	bool active;
	bool hw;
	bool eoi_notify;
};

/* How many list registers the CPU has (at most 16). */
unsigned int arch_vgic_lr_count(void);
void arch_vgic_read_lr(unsigned int i, struct arch_lr *lr);
/* Writes LR `i`; NULL (or neither pending nor active) empties it. */
void arch_vgic_write_lr(unsigned int i, const struct arch_lr *lr);
/* Enables the virtual interface; with `underflow`, a maintenance
 * interrupt comes when at most one LR still holds an interrupt. */
void arch_vgic_control(bool underflow);
/* The guest's priority mask (ICC_PMR_EL1 as it set it). */
uint8_t arch_vgic_priority_mask(void);
/* Whether the guest enabled group 1 interrupts (ICC_IGRPEN1_EL1). */
bool arch_vgic_group1_enabled(void);
/* Empties the LRs, no active priorities, the guest's interface at its
 * reset values (for a vCPU starting). */
void arch_vgic_reset(void);

/*
 * Entry points the architecture's assembly calls in the core:
 * boot_primary (boot CPU, loader's DTB address), boot_secondary (a CPU
 * started with CPU_ON, its index) and panic_el2_exception (an exception
 * taken at EL2 itself, with the registers it interrupted).
 */
_Noreturn void boot_primary(uint64_t dtb);
_Noreturn void boot_secondary(uint64_t index);
_Noreturn void panic_el2_exception(const struct arch_regs *frame);
