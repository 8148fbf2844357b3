/* GICv3 with affinity routing; the hypervisor's interrupts are group 1. */
#include <arch/sysreg.h>
#include <core/irqchip.h>

#define GICD_CTLR	    0x0000
#define GICD_CTLR_RWP	    (1u << 31)
#define GICD_CTLR_ENABLE_G0 (1u << 0)
#define GICD_CTLR_ENABLE_G1 (1u << 1)
#define GICD_CTLR_ARE	    (1u << 4)

#define GICR_FRAME_SIZE	  0x20000
#define GICR_WAKER	  0x0014
#define GICR_TYPER	  0x0008
#define GICR_TYPER_LAST	  (1ull << 4)
#define GICR_WAKER_SLEEP  (1u << 1)
#define GICR_WAKER_ASLEEP (1u << 2)
#define GICR_SGI_BASE	  0x10000
#define GICR_IGROUPR0	  0x0080
#define GICR_ISENABLER0	  0x0100

#define ICC_SRE_SRE    (1ull << 0)
#define ICC_SRE_ENABLE (1ull << 3)

static uint64_t gicd;
static uint64_t gicr;
static uint64_t gicr_end;

static inline volatile uint32_t *mmio32(uint64_t addr)
{
	return (volatile uint32_t *)(uintptr_t)addr;
}

void irqchip_init(uint64_t gicd_base, uint64_t gicr_base, uint64_t gicr_size)
{
	gicd = gicd_base;
	gicr = gicr_base;
	gicr_end = gicr_base + gicr_size;
	*mmio32(gicd + GICD_CTLR) = 0;
	while (*mmio32(gicd + GICD_CTLR) & GICD_CTLR_RWP) {
	}
	*mmio32(gicd + GICD_CTLR) =
	    GICD_CTLR_ARE | GICD_CTLR_ENABLE_G1 | GICD_CTLR_ENABLE_G0;
	while (*mmio32(gicd + GICD_CTLR) & GICD_CTLR_RWP) {
	}
}

static uint64_t find_redistributor(uint64_t mpidr)
{
	uint32_t aff =
	    (uint32_t)((mpidr & 0xffffff) | ((mpidr >> 32) & 0xff) << 24);

	for (uint64_t frame = gicr; frame < gicr_end;
	     frame += GICR_FRAME_SIZE) {
		uint64_t typer =
		    *(volatile uint64_t *)(uintptr_t)(frame + GICR_TYPER);

		if ((uint32_t)(typer >> 32) == aff) {
			return frame;
		}
		if (typer & GICR_TYPER_LAST) {
			break;
		}
	}
	return 0;
}

void irqchip_init_cpu(uint64_t mpidr)
{
	uint64_t rd = find_redistributor(mpidr);

	if (rd != 0) {
		*mmio32(rd + GICR_WAKER) &= ~GICR_WAKER_SLEEP;
		while (*mmio32(rd + GICR_WAKER) & GICR_WAKER_ASLEEP) {
		}
		*mmio32(rd + GICR_SGI_BASE + GICR_IGROUPR0) = 0xffffffff;
		*mmio32(rd + GICR_SGI_BASE + GICR_ISENABLER0) = 0xffff;
	}
	write_sysreg(S3_4_C12_C9_5, ICC_SRE_SRE | ICC_SRE_ENABLE); /* SRE_EL2 */
	isb();
	write_sysreg(S3_0_C4_C6_0, 0xff); /* ICC_PMR_EL1 */
	write_sysreg(S3_0_C12_C12_3, 0);  /* ICC_BPR1_EL1 */
	write_sysreg(S3_0_C12_C12_4, 0);  /* ICC_CTLR_EL1: EOI deactivates */
	write_sysreg(S3_0_C12_C12_7, 1);  /* ICC_IGRPEN1_EL1 */
	isb();
}

void irqchip_send_sgi(uint64_t mpidr, uint32_t intid)
{
	uint64_t aff0 = mpidr & 0xff;
	uint64_t value =
	    (1ull << (aff0 & 0xf)) | (((mpidr >> 8) & 0xff) << 16) |
	    ((uint64_t)(intid & 0xf) << 24) | (((mpidr >> 16) & 0xff) << 32) |
	    ((aff0 >> 4) << 44) | (((mpidr >> 32) & 0xff) << 48);

	dsb(ishst);
	write_sysreg(S3_0_C12_C11_5, value); /* ICC_SGI1R_EL1 */
	isb();
}

uint32_t irqchip_ack(void)
{
	return (uint32_t)read_sysreg(S3_0_C12_C12_0) & 0xffffff; /* IAR1 */
}

void irqchip_eoi(uint32_t intid)
{
	write_sysreg(S3_0_C12_C12_1, intid); /* ICC_EOIR1_EL1 */
	isb();
}
