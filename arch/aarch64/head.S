/*
 * Entry at EL2. The image starts with an arm64 Image header, so a loader
 * (QEMU -kernel, U-Boot booti) places it at RAM base + text_offset and
 * passes the DTB address in x0; as an ELF it is loaded at its link address.
 */
#include "macros.inc"

#define STACK_SIZE (CONFIG_STACK_PAGES * 4096)

	.section .text.head, "ax"
	.global _start
_start:
	b	primary_entry		/* code0 */
	.long	0			/* code1 */
	.quad	__text_offset		/* text_offset from RAM base */
	.quad	__image_size		/* image_size, bss included */
	.quad	0x2			/* flags: little endian, 4 KiB pages */
	.quad	0, 0, 0			/* res2..res4 */
	.ascii	"ARM\x64"		/* magic */
	.long	0			/* res5 */

primary_entry:
	msr	daifset, #0xf
	mov	x19, x0			/* DTB address, or 0 */
	mrs	x1, CurrentEL
	cmp	x1, #(2 << 2)
	b.ne	not_el2
	adr_l	x1, el2_vectors
	msr	vbar_el2, x1
	/* zero bss (it lies beyond the partition payload) */
	adr_l	x1, __bss_start
	adr_l	x2, __bss_end
1:	cmp	x1, x2
	b.hs	2f
	str	xzr, [x1], #8
	b	1b
2:	adr_l	x1, boot_stack
	add	sp, x1, #STACK_SIZE
	bl	arch_mmu_build
	bl	arch_mmu_enable
	mov	x0, x19
	bl	boot_primary
	b	halt

/* Secondary CPUs, started by PSCI CPU_ON with x0 = physical CPU index. */
	.global secondary_entry
secondary_entry:
	msr	daifset, #0xf
	mov	x19, x0
	adr_l	x1, el2_vectors
	msr	vbar_el2, x1
	adr_l	x1, cpu_stacks
	mov	x2, #STACK_SIZE
	madd	x1, x0, x2, x1
	add	sp, x1, x2
	bl	arch_mmu_enable
	mov	x0, x19
	bl	boot_secondary
	b	halt

not_el2:
halt:
	wfi
	b	halt

	.section .bss.stacks, "aw", %nobits
	.balign 4096
	.global boot_stack
boot_stack:
	.space	STACK_SIZE
	.global cpu_stacks
cpu_stacks:
	.space	STACK_SIZE * CONFIG_MAX_CPUS
