/* GICv3 with affinity routing; the hypervisor's interrupts are group 1. */
#include <arch/sysreg.h>
#include <core/irqchip.h>
#include <bulkhead/gicv3.h>

/* the same offsets in GICD (SPIs) and in a redistributor's SGI_base */
#define GIC_IGROUPR   0x0080
#define GIC_ISENABLER 0x0100
#define GIC_ICENABLER 0x0180
#define GIC_ICACTIVER 0x0380
#define GIC_ICFGR     0x0c00

/* The PPIs the hypervisor takes: the virtual interface's maintenance
 * interrupt and the virtual timer (handed to the vCPU pinned there). */
#define PPI_MAINTENANCE 25
#define PPI_VTIMER	27
#define PPI_HYP_TIMER	26

#define ICC_CTLR_EOIMODE (1ull << 1)
#define ICC_SRE_SRE	 (1ull << 0)
#define ICC_SRE_ENABLE	 (1ull << 3)

static uint64_t gicd;
static uint64_t gicr;
static uint64_t gicr_end;

static inline volatile uint32_t *mmio32(uint64_t addr)
{
	return (volatile uint32_t *)(uintptr_t)addr;
}

static void wait_distributor(void)
{
	while (*mmio32(gicd + GICD_CTLR) & GICD_CTLR_RWP) {
	}
}

void irqchip_init(uint64_t gicd_base, uint64_t gicr_base, uint64_t gicr_size)
{
	uint32_t lines;

	gicd = gicd_base;
	gicr = gicr_base;
	gicr_end = gicr_base + gicr_size;
	*mmio32(gicd + GICD_CTLR) = 0;
	wait_distributor();
	/* every SPI group 1, disabled until a partition enables its own */
	lines = 32 * ((*mmio32(gicd + GICD_TYPER) & 0x1f) + 1);
	for (uint32_t i = 32; i < lines; i += 32) {
		*mmio32(gicd + GIC_ICENABLER + i / 8) = 0xffffffff;
		*mmio32(gicd + GIC_ICACTIVER + i / 8) = 0xffffffff;
		*mmio32(gicd + GIC_IGROUPR + i / 8) = 0xffffffff;
	}
	wait_distributor();
	*mmio32(gicd + GICD_CTLR) =
	    GICD_CTLR_ARE | GICD_CTLR_ENABLE_G1A | GICD_CTLR_ENABLE_G0;
	wait_distributor();
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
		*mmio32(rd + GICR_SGI_BASE + GIC_IGROUPR) = 0xffffffff;
		*mmio32(rd + GICR_SGI_BASE + GIC_ICENABLER) = 0xffff0000;
		*mmio32(rd + GICR_SGI_BASE + GIC_ICACTIVER) = 0xffffffff;
		*mmio32(rd + GICR_SGI_BASE + GIC_ISENABLER) =
		    0xffff | (1u << PPI_MAINTENANCE) | (1u << PPI_VTIMER) |
		    (1u << PPI_HYP_TIMER);
	}
	write_sysreg(S3_4_C12_C9_5, ICC_SRE_SRE | ICC_SRE_ENABLE); /* SRE_EL2 */
	isb();
	write_sysreg(S3_0_C4_C6_0, 0xff); /* ICC_PMR_EL1 */
	write_sysreg(S3_0_C12_C12_3, 0);  /* ICC_BPR1_EL1 */
	/* EOI drops the priority; deactivation is separate (an interrupt
	 * handed to a guest stays active until the guest deactivates it) */
	write_sysreg(S3_0_C12_C12_4, ICC_CTLR_EOIMODE); /* ICC_CTLR_EL1 */
	write_sysreg(S3_0_C12_C12_7, 1);		/* ICC_IGRPEN1_EL1 */
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

void irqchip_deactivate(uint32_t intid)
{
	write_sysreg(S3_0_C12_C11_1, intid); /* ICC_DIR_EL1 */
	isb();
}

/* The frame holding the registers of `intid`: GICD for an SPI, the
 * SGI_base of the CPU's redistributor for a PPI (0 if it has none). */
static uint64_t frame_of(uint32_t intid, uint64_t mpidr)
{
	uint64_t rd;

	if (intid >= 32) {
		return gicd;
	}
	rd = find_redistributor(mpidr);
	return rd == 0 ? 0 : rd + GICR_SGI_BASE;
}

static void write_bit(uint32_t intid, uint64_t mpidr, uint32_t bank)
{
	uint64_t base = frame_of(intid, mpidr);

	if (base != 0 && intid < 1020) {
		*mmio32(base + bank + 4 * (intid / 32)) = 1u << (intid % 32);
	}
}

void irqchip_enable(uint32_t intid, uint64_t mpidr)
{
	write_bit(intid, mpidr, GIC_ISENABLER);
}

void irqchip_disable(uint32_t intid, uint64_t mpidr)
{
	write_bit(intid, mpidr, GIC_ICENABLER);
	if (intid >= 32) {
		wait_distributor();
	} else {
		uint64_t rd = find_redistributor(mpidr);

		while (rd != 0 && (*mmio32(rd + GICR_CTLR) & GICR_CTLR_RWP)) {
		}
	}
}

void irqchip_clear_active(uint32_t intid, uint64_t mpidr)
{
	write_bit(intid, mpidr, GIC_ICACTIVER);
}

/* One ICFGR word holds 16 SPIs, perhaps of different partitions: its
 * read-modify-write is serialised. */
static uint32_t icfgr_lock;

void irqchip_set_edge(uint32_t intid, bool edge)
{
	volatile uint32_t *cfg;
	uint32_t shift = 2 * (intid % 16) + 1;
	uint32_t old;

	if (intid < 32 || intid >= 1020) {
		return;
	}
	cfg = mmio32(gicd + GIC_ICFGR + 4 * (intid / 16));
	while (__atomic_exchange_n(&icfgr_lock, 1, __ATOMIC_ACQUIRE)) {
	}
	old = *cfg;
	if (((old >> shift) & 1) != (uint32_t)edge) {
		*cfg = (old & ~(1u << shift)) | ((uint32_t)edge << shift);
	}
	__atomic_store_n(&icfgr_lock, 0, __ATOMIC_RELEASE);
}

void irqchip_route(uint32_t intid, uint64_t mpidr)
{
	if (intid < 32 || intid >= 1020) {
		return;
	}
	*(volatile uint64_t *)(uintptr_t)(gicd + GICD_IROUTER + 8 * intid) =
	    mpidr & 0xff00ffffffull;
}
