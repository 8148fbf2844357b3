/*
 * EL2 exception vectors and the guest entry/exit path.
 *
 * arch_vcpu_enter(regs) saves the hypervisor's callee-saved registers on its
 * stack, loads the guest's and erets. An exception from the guest comes back
 * on the same SP_EL2: the guest's registers are stored into *regs (found in
 * TPIDR_EL2) and arch_vcpu_enter returns the exit kind. The layout of
 * struct arch_regs comes from arch/regs.h, which ties it to the C struct.
 */
#include "macros.inc"
#include <arch/regs.h>

#define EXIT_SYNC 0
#define EXIT_IRQ 1
#define EXIT_FIQ 2
#define EXIT_SERROR 3

/*
 * x2..x30 of a struct arch_regs at \base, one instruction pair each:
 * \pair is stp (save) or ldp (load), \single str or ldr. x0 and x1 are
 * left to the caller, which needs them as scratch registers.
 */
	.macro regs_x2_to_x30, pair, single, base
	\pair	x2, x3, [\base, #(ARCH_REGS_X_OFFSET + 2 * 8)]
	\pair	x4, x5, [\base, #(ARCH_REGS_X_OFFSET + 4 * 8)]
	\pair	x6, x7, [\base, #(ARCH_REGS_X_OFFSET + 6 * 8)]
	\pair	x8, x9, [\base, #(ARCH_REGS_X_OFFSET + 8 * 8)]
	\pair	x10, x11, [\base, #(ARCH_REGS_X_OFFSET + 10 * 8)]
	\pair	x12, x13, [\base, #(ARCH_REGS_X_OFFSET + 12 * 8)]
	\pair	x14, x15, [\base, #(ARCH_REGS_X_OFFSET + 14 * 8)]
	\pair	x16, x17, [\base, #(ARCH_REGS_X_OFFSET + 16 * 8)]
	\pair	x18, x19, [\base, #(ARCH_REGS_X_OFFSET + 18 * 8)]
	\pair	x20, x21, [\base, #(ARCH_REGS_X_OFFSET + 20 * 8)]
	\pair	x22, x23, [\base, #(ARCH_REGS_X_OFFSET + 22 * 8)]
	\pair	x24, x25, [\base, #(ARCH_REGS_X_OFFSET + 24 * 8)]
	\pair	x26, x27, [\base, #(ARCH_REGS_X_OFFSET + 26 * 8)]
	\pair	x28, x29, [\base, #(ARCH_REGS_X_OFFSET + 28 * 8)]
	\single	x30, [\base, #(ARCH_REGS_X_OFFSET + 30 * 8)]
	.endm

/* ELR_EL2 and SPSR_EL2 into the struct arch_regs at \base (x1 scratch). */
	.macro save_elr_spsr, base
	mrs	x1, elr_el2
	str	x1, [\base, #ARCH_REGS_PC_OFFSET]
	mrs	x1, spsr_el2
	str	x1, [\base, #ARCH_REGS_PSTATE_OFFSET]
	.endm

	.macro ventry, target
	.balign 0x80
	b	\target
	.endm

	.section .text.vectors, "ax"
	.balign 0x800
	.global el2_vectors
el2_vectors:
	ventry	el2_exception		/* current EL, SP_EL0 */
	ventry	el2_exception
	ventry	el2_exception
	ventry	el2_exception
	ventry	el2_exception		/* current EL, SP_ELx: sync */
	ventry	el2_exception		/* irq (masked at EL2) */
	ventry	el2_exception
	ventry	el2_exception
	ventry	lower_sync		/* lower EL, AArch64 */
	ventry	lower_irq
	ventry	lower_fiq
	ventry	lower_serror
	ventry	el2_exception		/* lower EL, AArch32: never enabled */
	ventry	el2_exception
	ventry	el2_exception
	ventry	el2_exception

	.text
	.global arch_vcpu_enter
arch_vcpu_enter:
	stp	x29, x30, [sp, #-96]!
	stp	x19, x20, [sp, #16]
	stp	x21, x22, [sp, #32]
	stp	x23, x24, [sp, #48]
	stp	x25, x26, [sp, #64]
	stp	x27, x28, [sp, #80]
	msr	tpidr_el2, x0
	ldr	x1, [x0, #ARCH_REGS_PC_OFFSET]
	msr	elr_el2, x1
	ldr	x1, [x0, #ARCH_REGS_PSTATE_OFFSET]
	msr	spsr_el2, x1
	regs_x2_to_x30 ldp, ldr, x0
	ldp	x0, x1, [x0, #ARCH_REGS_X_OFFSET]
	eret
	dsb	nsh
	isb

	.macro guest_exit, kind
	stp	x0, x1, [sp, #-16]!
	mrs	x0, tpidr_el2
	regs_x2_to_x30 stp, str, x0
	ldp	x2, x3, [sp], #16
	stp	x2, x3, [x0, #ARCH_REGS_X_OFFSET]
	save_elr_spsr x0
	mov	x0, #\kind
	b	vcpu_exit_common
	.endm

lower_sync:
	guest_exit EXIT_SYNC
lower_irq:
	guest_exit EXIT_IRQ
lower_fiq:
	guest_exit EXIT_FIQ
lower_serror:
	guest_exit EXIT_SERROR

vcpu_exit_common:
	ldp	x19, x20, [sp, #16]
	ldp	x21, x22, [sp, #32]
	ldp	x23, x24, [sp, #48]
	ldp	x25, x26, [sp, #64]
	ldp	x27, x28, [sp, #80]
	ldp	x29, x30, [sp], #96
	ret

/* An exception taken at EL2 itself: save everything and panic. */
el2_exception:
	sub	sp, sp, #ARCH_FRAME_SIZE
	stp	x0, x1, [sp, #ARCH_REGS_X_OFFSET]
	regs_x2_to_x30 stp, str, sp
	save_elr_spsr sp
	mov	x0, sp
	bl	panic_el2_exception
1:	wfi
	b	1b
