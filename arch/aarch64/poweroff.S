/*
 * arch_power_off_failure: stop the machine reporting a failure.
 *
 * First semihosting SYS_EXIT (0x18, AArch64 form: x1 points to {reason,
 * exit code}) with ADP_Stopped_ApplicationExit and code 1: QEMU started
 * with -semihosting-config enable=on exits with status 1. Without
 * semihosting the HLT is an undefined instruction: the exception lands in
 * the private vectors below, as does a return from the call, and the CPU
 * asks PSCI for SYSTEM_OFF (QEMU then exits 0; a board powers off).
 */
#include "macros.inc"

#define SEMIHOSTING_SYS_EXIT	0x18
#define PSCI_SYSTEM_OFF		0x84000008

	.text
	.global arch_power_off_failure
arch_power_off_failure:
	msr	daifset, #0xf
	adr_l	x0, poweroff_vectors
	msr	vbar_el2, x0
	isb
	adr_l	x1, exit_block
	mov	x0, #SEMIHOSTING_SYS_EXIT
	hlt	#0xf000
poweroff_psci:
	ldr	x0, =PSCI_SYSTEM_OFF
	smc	#0
1:	wfi
	b	1b

	.balign	0x800
poweroff_vectors:
	.rept	16
	.balign	0x80
	b	poweroff_psci
	.endr

	.section .rodata
	.balign	8
exit_block:
	.quad	0x20026		/* ADP_Stopped_ApplicationExit */
	.quad	1		/* exit status */
