/*
 * Partition start-up at EL1. The image begins with an arm64 Image header
 * whose image_size covers bss, so the manifest compiler can check that the
 * partition fits. The image is position independent: the boot vCPU applies
 * its own R_AARCH64_RELATIVE relocations before anything else.
 */
#include "asm.inc"

	.section .text.head, "ax"
	.global _start
_start:
	b	boot_entry
	.long	0
	.quad	0			/* text_offset */
	.quad	__guest_image_size	/* image_size, bss included */
	.quad	0x2			/* little endian, 4 KiB pages */
	.quad	0, 0, 0
	.ascii	"ARM\x64"
	.long	0

/* x0 = the device tree's address (kept in x0 until guest_boot(x0)). */
boot_entry:
	msr	daifset, #0xf
	adr	x9, _start
	adr_l	x10, __rela_start
	adr_l	x11, __rela_end
1:	cmp	x10, x11
	b.hs	2f
	ldp	x12, x13, [x10], #16	/* r_offset, r_info */
	ldr	x14, [x10], #8		/* r_addend */
	cmp	x13, #R_AARCH64_RELATIVE
	b.ne	1b
	add	x14, x14, x9
	str	x14, [x9, x12]
	b	1b
2:	adr_l	x1, __bss_start
	adr_l	x2, __bss_end
3:	cmp	x1, x2
	b.hs	4f
	str	xzr, [x1], #8
	b	3b
4:	adr_l	x1, guest_stacks
	add	sp, x1, #GUEST_STACK_SIZE
	bl	guest_boot
5:	wfi
	b	5b

/* Secondary vCPUs: started by guest_cpu_on() with x0 = vCPU index (any
 * other CPU_ON context ID is passed on to secondary_main as it is). The
 * stack is the one of the vCPU's own index, from its MPIDR, so a context
 * ID cannot make it land on another vCPU's stack. */
	.global guest_secondary_entry
guest_secondary_entry:
	msr	daifset, #0xf
	mrs	x3, mpidr_el1
	and	x3, x3, #0xff
	adr_l	x1, guest_stacks
	mov	x2, #GUEST_STACK_SIZE
	madd	x1, x3, x2, x1
	add	sp, x1, x2
	bl	guest_secondary_boot
6:	wfi
	b	6b
