/*
 * The hypervisor's own stage-1 translation at EL2 (identity map, 4 KiB
 * granule, 4 GiB of VA from level 1): the first GiB (MMIO) as device
 * nGnRnE, execute-never; board RAM below 4 GiB as normal write-back.
 * Also the stage-2 control register every CPU shares.
 * Runs before the MMU is on, so it uses no atomics and aligned accesses
 * (the hypervisor is built without -mstrict-align; these functions ask
 * for it).
 */
#include <arch/sysreg.h>
#include <bulkhead/manifest.h>
#include <core/arch.h>

#define L1_ENTRIES 4
#define GIB	   (1ull << 30)

#define DESC_BLOCK	 0x1ull
#define DESC_ATTR_IDX(i) ((uint64_t)(i) << 2)
#define DESC_SH_INNER	 (3ull << 8)
#define DESC_AF		 (1ull << 10)
#define DESC_XN		 (1ull << 54) /* EL2 regime: XN only */

#define MAIR_IDX_DEVICE 0
#define MAIR_IDX_NORMAL 1
#define MAIR_VALUE	(0x00ull | (0xffull << 8))

#define TCR_EL2_RES1   ((1ull << 31) | (1ull << 23))
#define TCR_T0SZ_4G    32
#define TCR_IRGN0_WBWA (1ull << 8)
#define TCR_ORGN0_WBWA (1ull << 10)
#define TCR_SH0_INNER  (3ull << 12)
#define TCR_PS_40BIT   (2ull << 16)

#define SCTLR_EL2_RES1 0x30c50830ull
#define SCTLR_M	       (1ull << 0)
#define SCTLR_A	       (1ull << 1)
#define SCTLR_C	       (1ull << 2)
#define SCTLR_SA       (1ull << 3)
#define SCTLR_I	       (1ull << 12)

/* Stage 2: 39-bit IPA from level 1, 4 KiB granule, inner shareable WB. */
#define VTCR_RES1	(1ull << 31)
#define VTCR_T0SZ_39	25
#define VTCR_SL0_LEVEL1 (1ull << 6)
#define VTCR_IRGN0_WBWA (1ull << 8)
#define VTCR_ORGN0_WBWA (1ull << 10)
#define VTCR_SH0_INNER	(3ull << 12)
#define VTCR_PS_40BIT	(2ull << 16)

static uint64_t el2_l1_table[512] __attribute__((aligned(4096)));

__attribute__((target("strict-align"))) void arch_mmu_build(void)
{
	const struct manifest_platform *plat = &bulkhead_manifest.platform;

	el2_l1_table[0] =
	    0 | DESC_BLOCK | DESC_AF | DESC_XN | DESC_ATTR_IDX(MAIR_IDX_DEVICE);
	for (uint64_t gib = 1; gib < L1_ENTRIES; gib++) {
		uint64_t base = gib * GIB;

		if (base + GIB > plat->ram_base &&
		    base < plat->ram_base + plat->ram_size) {
			el2_l1_table[gib] = base | DESC_BLOCK | DESC_AF |
					    DESC_SH_INNER |
					    DESC_ATTR_IDX(MAIR_IDX_NORMAL);
		}
	}
	dsb(sy);
}

__attribute__((target("strict-align"))) void arch_mmu_enable(void)
{
	write_sysreg(mair_el2, MAIR_VALUE);
	write_sysreg(tcr_el2, TCR_EL2_RES1 | TCR_T0SZ_4G | TCR_IRGN0_WBWA |
				  TCR_ORGN0_WBWA | TCR_SH0_INNER |
				  TCR_PS_40BIT);
	write_sysreg(ttbr0_el2, (uint64_t)(uintptr_t)el2_l1_table);
	write_sysreg(vtcr_el2, VTCR_RES1 | VTCR_T0SZ_39 | VTCR_SL0_LEVEL1 |
				   VTCR_IRGN0_WBWA | VTCR_ORGN0_WBWA |
				   VTCR_SH0_INNER | VTCR_PS_40BIT);
	isb();
	__asm__ volatile("tlbi alle2" ::: "memory");
	dsb(sy);
	isb();
	write_sysreg(sctlr_el2,
		     SCTLR_EL2_RES1 | SCTLR_M | SCTLR_C | SCTLR_SA | SCTLR_I);
	/* implementation defined: zero gives EL1 no access to the core's
	 * own control registers */
	write_sysreg(actlr_el2, 0);
	isb();
}
