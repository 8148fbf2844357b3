#pragma once

#include <core/mm.h>

/* What the fake TLB saw. */
struct fake_tlb {
	unsigned long calls;
	uint16_t last_vmid;
	uint64_t last_begin;
	uint64_t last_end;
	/* invalidations issued while the range was still mapped valid */
	unsigned long live_at_invalidate;
	const struct mm_ptable *table; /* watched for break-before-make */
};

extern struct fake_tlb fake_tlb;

#include <core/arch.h>

/* The virtual CPU interface of the one CPU the vGIC tests run on: its
 * list registers (as the guest left them), what it asked for last. */
struct fake_vgic {
	unsigned int lr_count; /* 4 unless a test sets it (QEMU has 4) */
	struct arch_lr lr[16];
	uint8_t pmr;	      /* ICH_VMCR_EL2.VPMR */
	bool group1;	      /* ICH_VMCR_EL2.VENG1 */
	int underflow;	      /* last arch_vgic_control(): 0, 1; -1 none */
	unsigned long resets; /* arch_vgic_reset() calls */
	uint64_t mpidr;	      /* arch_cpu_mpidr(): the CPU the test runs on */
};

extern struct fake_vgic fake_vgic;

/* One call of the physical interrupt controller (core/irqchip.h). */
enum fake_irq_op {
	FAKE_IRQ_ENABLE,
	FAKE_IRQ_DISABLE,
	FAKE_IRQ_CLEAR_ACTIVE,
	FAKE_IRQ_SET_EDGE,
	FAKE_IRQ_ROUTE,
	FAKE_IRQ_SEND_SGI,
};

struct fake_irq_call {
	enum fake_irq_op op;
	uint32_t intid;
	uint64_t arg; /* mpidr (route, SGI, PPI), edge flag */
};

#define FAKE_IRQ_CALLS_MAX 64
struct fake_irqchip {
	unsigned int count;
	struct fake_irq_call calls[FAKE_IRQ_CALLS_MAX];
};

extern struct fake_irqchip fake_irqchip;

/* How many recorded calls match `op` and `intid` (any intid: UINT32_MAX). */
unsigned int fake_irq_calls(enum fake_irq_op op, uint32_t intid);

/* arch_counter_now()'s value (1 MHz), set by the tests; the deadline the
 * hypervisor timer was last armed with (0: stopped). */
extern uint64_t fake_counter;
extern uint64_t fake_timer_deadline;
