/*
 * FP/SIMD state of the vCPU on this CPU, reset to zero before a vCPU
 * (re)starts. The hypervisor's C code never touches these registers
 * (-mgeneral-regs-only), so this is the only place that does.
 */
	.arch	armv8-a+fp+simd

	.text
	.global arch_fpsimd_reset
arch_fpsimd_reset:
	movi	v0.2d, #0
	movi	v1.2d, #0
	movi	v2.2d, #0
	movi	v3.2d, #0
	movi	v4.2d, #0
	movi	v5.2d, #0
	movi	v6.2d, #0
	movi	v7.2d, #0
	movi	v8.2d, #0
	movi	v9.2d, #0
	movi	v10.2d, #0
	movi	v11.2d, #0
	movi	v12.2d, #0
	movi	v13.2d, #0
	movi	v14.2d, #0
	movi	v15.2d, #0
	movi	v16.2d, #0
	movi	v17.2d, #0
	movi	v18.2d, #0
	movi	v19.2d, #0
	movi	v20.2d, #0
	movi	v21.2d, #0
	movi	v22.2d, #0
	movi	v23.2d, #0
	movi	v24.2d, #0
	movi	v25.2d, #0
	movi	v26.2d, #0
	movi	v27.2d, #0
	movi	v28.2d, #0
	movi	v29.2d, #0
	movi	v30.2d, #0
	movi	v31.2d, #0
	msr	fpcr, xzr
	msr	fpsr, xzr
	ret

/* SVE state beyond the V registers (whose writes above zero the rest of
 * the Z registers): the predicates and the first-fault register. Only
 * called when the CPU has SVE and CPTR_EL2 does not trap it. */
	.arch	armv8-a+sve
	.global arch_sve_reset
arch_sve_reset:
	pfalse	p0.b
	pfalse	p1.b
	pfalse	p2.b
	pfalse	p3.b
	pfalse	p4.b
	pfalse	p5.b
	pfalse	p6.b
	pfalse	p7.b
	pfalse	p8.b
	pfalse	p9.b
	pfalse	p10.b
	pfalse	p11.b
	pfalse	p12.b
	pfalse	p13.b
	pfalse	p14.b
	pfalse	p15.b
	wrffr	p0.b
	ret
