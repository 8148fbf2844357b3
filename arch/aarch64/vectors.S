/*
 * EL2 exception vectors and the guest entry/exit path.
 *
 * arch_vcpu_enter(regs) saves the hypervisor's callee-saved registers on its
 * stack, loads the guest's and erets. An exception from the guest comes back
 * on the same SP_EL2: the guest's registers are stored into *regs (found in
 * TPIDR_EL2) and arch_vcpu_enter returns the exit kind.
 */
#include "macros.inc"

#define EXIT_SYNC 0
#define EXIT_IRQ 1
#define EXIT_FIQ 2
#define EXIT_SERROR 3

#define REGS_PC (31 * 8)
#define REGS_PSTATE (32 * 8)
#define FRAME_SIZE (34 * 8)

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
	ldr	x1, [x0, #REGS_PC]
	msr	elr_el2, x1
	ldr	x1, [x0, #REGS_PSTATE]
	msr	spsr_el2, x1
	ldp	x2, x3, [x0, #16]
	ldp	x4, x5, [x0, #32]
	ldp	x6, x7, [x0, #48]
	ldp	x8, x9, [x0, #64]
	ldp	x10, x11, [x0, #80]
	ldp	x12, x13, [x0, #96]
	ldp	x14, x15, [x0, #112]
	ldp	x16, x17, [x0, #128]
	ldp	x18, x19, [x0, #144]
	ldp	x20, x21, [x0, #160]
	ldp	x22, x23, [x0, #176]
	ldp	x24, x25, [x0, #192]
	ldp	x26, x27, [x0, #208]
	ldp	x28, x29, [x0, #224]
	ldr	x30, [x0, #240]
	ldp	x0, x1, [x0]
	eret
	dsb	nsh
	isb

	.macro guest_exit, kind
	stp	x0, x1, [sp, #-16]!
	mrs	x0, tpidr_el2
	stp	x2, x3, [x0, #16]
	stp	x4, x5, [x0, #32]
	stp	x6, x7, [x0, #48]
	stp	x8, x9, [x0, #64]
	stp	x10, x11, [x0, #80]
	stp	x12, x13, [x0, #96]
	stp	x14, x15, [x0, #112]
	stp	x16, x17, [x0, #128]
	stp	x18, x19, [x0, #144]
	stp	x20, x21, [x0, #160]
	stp	x22, x23, [x0, #176]
	stp	x24, x25, [x0, #192]
	stp	x26, x27, [x0, #208]
	stp	x28, x29, [x0, #224]
	str	x30, [x0, #240]
	ldp	x2, x3, [sp], #16
	stp	x2, x3, [x0]
	mrs	x1, elr_el2
	str	x1, [x0, #REGS_PC]
	mrs	x1, spsr_el2
	str	x1, [x0, #REGS_PSTATE]
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
	sub	sp, sp, #FRAME_SIZE
	stp	x0, x1, [sp, #0]
	stp	x2, x3, [sp, #16]
	stp	x4, x5, [sp, #32]
	stp	x6, x7, [sp, #48]
	stp	x8, x9, [sp, #64]
	stp	x10, x11, [sp, #80]
	stp	x12, x13, [sp, #96]
	stp	x14, x15, [sp, #112]
	stp	x16, x17, [sp, #128]
	stp	x18, x19, [sp, #144]
	stp	x20, x21, [sp, #160]
	stp	x22, x23, [sp, #176]
	stp	x24, x25, [sp, #192]
	stp	x26, x27, [sp, #208]
	stp	x28, x29, [sp, #224]
	str	x30, [sp, #240]
	mrs	x1, elr_el2
	str	x1, [sp, #REGS_PC]
	mrs	x1, spsr_el2
	str	x1, [sp, #REGS_PSTATE]
	mov	x0, sp
	bl	arch_el2_exception
1:	wfi
	b	1b
