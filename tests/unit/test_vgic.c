/*
 * Host tests of the virtual GICv3's state machine (core/vgic.c) on fake
 * partitions, a fake virtual CPU interface (list registers, priority mask,
 * group enable) and a fake physical interrupt controller that records its
 * calls (tests/unit/fake_arch.c).
 *
 * The guest is played by the helpers below: it acknowledges an interrupt
 * (its LR goes from pending to active) and ends it (the LR empties, or
 * stays pending if it was pending and active), as the hardware's virtual
 * CPU interface would. The tests run "on" the physical CPU of the vCPU
 * they sync (fake_vgic.mpidr).
 */
#include <string.h>

#include <core/irqchip.h>
#include <core/vcpu.h>
#include <core/vgic.h>
#include <bulkhead/gicv3.h>

#include "fake_arch.h"
#include "unit.h"

#define GICD                                                                   \
	0x08000000ull /* bulkhead_manifest.platform (test_ffa_mem_tx.c)        \
		       */
#define GICR 0x080a0000ull

/* ICC_SGI1R_EL1 */
#define SGIR(intid, targets) (((uint64_t)(intid) << 24) | (targets))
#define SGIR_AFF1(a)	     ((uint64_t)(a) << 16)
#define SGIR_IRM	     (1ull << 40)
#define SGIR_RS(rs)	     ((uint64_t)(rs) << 44)
#define PRIO_DEFAULT	     0xa0
#define CONSOLE_SPI	     33 /* emulated, level */
#define LEVEL_SPI	     48 /* pass-through, level */
#define EDGE_SPI	     49 /* pass-through, edge */
#define B_SPI		     50 /* partition b's pass-through SPI */
#define UNOWNED_SPI	     51
#define MPIDR(cpu)	     (0x100ull + (cpu))
#define GICR_SGI(n)	     (GICR + (uint64_t)(n)*VGIC_GICR_FRAME_SIZE + GICR_SGI_BASE)
#define GICR_RD(n)	     (GICR + (uint64_t)(n)*VGIC_GICR_FRAME_SIZE)

/* Partition a: two vCPUs on CPUs 0 and 1, the console's receive line and
 * two pass-through SPIs. Partition b: three vCPUs on CPUs 2..4, one
 * pass-through SPI. */
static const struct manifest_partition ma = {
    .id = 1,
    .vcpu_count = 2,
    .name = "a",
    .cpus = {0, 1},
    .spi_count = 3,
    .spis = {{CONSOLE_SPI, MANIFEST_SPI_CONSOLE_RX},
	     {LEVEL_SPI, MANIFEST_SPI_HW},
	     {EDGE_SPI, MANIFEST_SPI_HW | MANIFEST_SPI_EDGE}},
};

static const struct manifest_partition mb = {
    .id = 2,
    .vcpu_count = 3,
    .name = "b",
    .cpus = {2, 3, 4},
    .spi_count = 1,
    .spis = {{B_SPI, MANIFEST_SPI_HW | MANIFEST_SPI_EDGE}},
};

static struct partition pa;
static struct partition pb;

static void partition_setup(struct partition *p,
			    const struct manifest_partition *m)
{
	struct partition_locked locked;

	p->m = m;
	p->lock = (struct spinlock)SPINLOCK_INIT;
	p->state = PARTITION_RUNNING;
	for (uint16_t i = 0; i < m->vcpu_count; i++) {
		struct vcpu *v = &p->vcpus[i];

		v->part = p;
		v->index = i;
		v->cpu = m->cpus[i];
		v->state = VCPU_ON;
		v->wait = VCPU_RUNNABLE;
		cpus[v->cpu] = (struct cpu){
		    .index = v->cpu, .mpidr = MPIDR(v->cpu), .vcpu = v};
	}
	vgic_init(p);
	locked = partition_lock(p);
	vgic_partition_reset(locked);
	partition_unlock(&locked);
	for (uint16_t i = 0; i < m->vcpu_count; i++) {
		vgic_vcpu_reset(&p->vcpus[i]);
	}
}

/* Both partitions booted; the test runs on CPU 0 (a's vCPU 0), whose
 * guest enabled group 1 with the priority mask fully open; nothing
 * recorded yet. */
static void setup(void)
{
	partition_setup(&pa, &ma);
	partition_setup(&pb, &mb);
	fake_vgic.mpidr = MPIDR(0);
	fake_vgic.group1 = true;
	fake_vgic.pmr = 0xff;
	fake_vgic.underflow = -1;
	fake_irqchip.count = 0;
}

/* --- trapped accesses -------------------------------------------------- */

static struct arch_trap_info access(uint64_t addr, uint8_t size, bool write)
{
	return (struct arch_trap_info){
	    .kind = ARCH_TRAP_DATA_ABORT,
	    .fault_ipa = ipa_init(addr),
	    .fault_ipa_valid = true,
	    .write = write,
	    .syndrome_valid = true,
	    .access_size = size,
	    .reg = 3,
	    .reg64 = size == 8,
	};
}

static uint64_t rd(struct vcpu *v, uint64_t addr, uint8_t size)
{
	struct arch_trap_info t = access(addr, size, false);
	uint64_t pc = v->regs.pc;

	EXPECT_TRUE(vgic_claims(v->part, ipa_init(addr)));
	v->regs.x[3] = 0x5555555555555555ull;
	vgic_mmio(v, &t);
	EXPECT_EQ(pc + 4, v->regs.pc); /* the access was skipped */
	return v->regs.x[3];
}

static void wr(struct vcpu *v, uint64_t addr, uint64_t value, uint8_t size)
{
	struct arch_trap_info t = access(addr, size, true);

	EXPECT_TRUE(vgic_claims(v->part, ipa_init(addr)));
	v->regs.x[3] = value;
	vgic_mmio(v, &t);
}

static uint32_t bit(uint32_t n)
{
	return 1u << n;
}

/* Bit of SPI `intid` in its 32-bit bank word. */
static uint32_t spi_bit(uint32_t intid)
{
	return bit(intid % 32);
}

static uint64_t bank(uint64_t reg, uint32_t intid)
{
	return GICD + reg + 4 * (intid / 32);
}

static void enable_distributor(struct vcpu *v)
{
	wr(v, GICD + GICD_CTLR, 2, 4); /* EnableGrp1A */
}

static void set_priority_private(struct vcpu *v, uint32_t intid, uint8_t prio)
{
	wr(v, GICR_SGI(v->index) + GICD_IPRIORITYR + intid, prio, 1);
}

/* --- the guest's side of the list registers ------------------------------ */

/* The LR holding `intid`, or -1. */
static int lr_of(uint32_t intid)
{
	for (unsigned int i = 0; i < fake_vgic.lr_count; i++) {
		const struct arch_lr *lr = &fake_vgic.lr[i];

		if ((lr->pending || lr->active) && lr->vintid == intid) {
			return (int)i;
		}
	}
	return -1;
}

static unsigned int lrs_in_use(void)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < fake_vgic.lr_count; i++) {
		n += fake_vgic.lr[i].pending || fake_vgic.lr[i].active;
	}
	return n;
}

/* The guest acknowledges `intid` (ICC_IAR1_EL1): pending -> active. */
static void guest_ack(uint32_t intid)
{
	int i = lr_of(intid);

	EXPECT_TRUE(i >= 0);
	EXPECT_TRUE(fake_vgic.lr[i].pending);
	fake_vgic.lr[i].pending = false;
	fake_vgic.lr[i].active = true;
}

/* The guest ends `intid` (ICC_EOIR1_EL1, EOImode 0). */
static void guest_eoi(uint32_t intid)
{
	int i = lr_of(intid);

	EXPECT_TRUE(i >= 0);
	EXPECT_TRUE(fake_vgic.lr[i].active);
	fake_vgic.lr[i].active = false;
	if (!fake_vgic.lr[i].pending) {
		fake_vgic.lr[i] = (struct arch_lr){0};
	}
}

/* The argument of the last recorded `op` call for `intid`. */
static uint64_t last_arg(enum fake_irq_op op, uint32_t intid)
{
	for (unsigned int i = fake_irqchip.count; i-- > 0;) {
		if (fake_irqchip.calls[i].op == op &&
		    fake_irqchip.calls[i].intid == intid) {
			return fake_irqchip.calls[i].arg;
		}
	}
	EXPECT_TRUE(false); /* no such call */
	return 0;
}

/* --- tests -----------------------------------------------------------------
 */

UNIT(vgic_sgi_pending_active_then_done)
{
	struct vcpu *v = &pa.vcpus[0];
	int i;

	setup();
	wr(v, GICR_SGI(0) + GICD_ISENABLER, bit(3), 4);
	vgic_pend_private(v, 3);
	EXPECT_TRUE(v->vgic.dirty);
	EXPECT_EQ(bit(3), rd(v, GICR_SGI(0) + GICD_ISPENDR, 4));
	vgic_sync(v);
	EXPECT_FALSE(v->vgic.dirty);
	i = lr_of(3);
	EXPECT_EQ(0, i);
	EXPECT_TRUE(fake_vgic.lr[i].pending);
	EXPECT_FALSE(fake_vgic.lr[i].active);
	EXPECT_FALSE(fake_vgic.lr[i].hw);
	EXPECT_EQ(PRIO_DEFAULT, fake_vgic.lr[i].priority);
	EXPECT_EQ(0, fake_vgic.underflow);

	/* taken: active, no longer pending */
	guest_ack(3);
	vgic_sync(v);
	EXPECT_EQ(0, rd(v, GICR_SGI(0) + GICD_ISPENDR, 4));
	EXPECT_EQ(bit(3), rd(v, GICR_SGI(0) + GICD_ISACTIVER, 4));
	i = lr_of(3);
	EXPECT_TRUE(i >= 0); /* an active one keeps its LR */
	EXPECT_FALSE(fake_vgic.lr[i].pending);
	EXPECT_TRUE(fake_vgic.lr[i].active);

	/* ended: nothing left anywhere */
	guest_eoi(3);
	vgic_sync(v);
	EXPECT_EQ(0, rd(v, GICR_SGI(0) + GICD_ISPENDR, 4));
	EXPECT_EQ(0, rd(v, GICR_SGI(0) + GICD_ISACTIVER, 4));
	EXPECT_EQ(0, lrs_in_use());
	EXPECT_EQ(0, v->vgic.in_lr);

	/* a disabled SGI is never given, but stays pending */
	wr(v, GICR_SGI(0) + GICD_ICENABLER, bit(3), 4);
	vgic_pend_private(v, 3);
	vgic_sync(v);
	EXPECT_EQ(0, lrs_in_use());
	EXPECT_EQ(bit(3), rd(v, GICR_SGI(0) + GICD_ISPENDR, 4));
	wr(v, GICR_SGI(0) + GICD_ISENABLER, bit(3), 4);
	vgic_sync(v);
	EXPECT_EQ(0, lr_of(3));
	/* cleared while pending in an LR: its LR is withdrawn */
	wr(v, GICR_SGI(0) + GICD_ICPENDR, bit(3), 4);
	EXPECT_EQ(0, rd(v, GICR_SGI(0) + GICD_ISPENDR, 4));
	EXPECT_TRUE(v->vgic.dirty);
	vgic_sync(v);
	EXPECT_EQ(-1, lr_of(3));
	EXPECT_EQ(0, rd(v, GICR_SGI(0) + GICD_ISPENDR, 4));
	/* the same for an SPI */
	enable_distributor(v);
	wr(v, bank(GICD_ISENABLER, LEVEL_SPI), spi_bit(LEVEL_SPI), 4);
	EXPECT_TRUE(vgic_hw_interrupt(v, LEVEL_SPI));
	vgic_sync(v);
	EXPECT_TRUE(lr_of(LEVEL_SPI) >= 0);
	wr(v, bank(GICD_ICPENDR, LEVEL_SPI), spi_bit(LEVEL_SPI), 4);
	/* the physical one, held active for the guest, is let go */
	EXPECT_EQ(1, fake_irq_calls(FAKE_IRQ_CLEAR_ACTIVE, LEVEL_SPI));
	vgic_sync(v);
	EXPECT_EQ(-1, lr_of(LEVEL_SPI));
	EXPECT_EQ(0, rd(v, bank(GICD_ISPENDR, LEVEL_SPI), 4));
}

/* ISACTIVER/ICACTIVER of an interrupt a list register holds: the write
 * stands even though the LR's own active bit says otherwise when it is
 * folded back (the guest acknowledged it in the LR meanwhile). */
UNIT(vgic_active_written_while_in_lr_is_kept)
{
	struct vcpu *v = &pa.vcpus[0];
	int i;

	setup();
	/* an SGI the guest has taken (active in its LR) is ended by
	 * GICR_ICACTIVER0: gone after the fold, LR withdrawn */
	wr(v, GICR_SGI(0) + GICD_ISENABLER, bit(3), 4);
	vgic_pend_private(v, 3);
	vgic_sync(v);
	guest_ack(3);
	wr(v, GICR_SGI(0) + GICD_ICACTIVER, bit(3), 4);
	EXPECT_EQ(0, rd(v, GICR_SGI(0) + GICD_ISACTIVER, 4));
	vgic_sync(v);
	EXPECT_EQ(0, rd(v, GICR_SGI(0) + GICD_ISACTIVER, 4));
	EXPECT_EQ(0, rd(v, GICR_SGI(0) + GICD_ISPENDR, 4));
	EXPECT_EQ(-1, lr_of(3));

	/* one pending in its LR made active by GICR_ISACTIVER0: active
	 * and pending after the fold, the LR says both */
	vgic_pend_private(v, 3);
	vgic_sync(v);
	EXPECT_TRUE(lr_of(3) >= 0);
	wr(v, GICR_SGI(0) + GICD_ISACTIVER, bit(3), 4);
	vgic_sync(v);
	EXPECT_EQ(bit(3), rd(v, GICR_SGI(0) + GICD_ISACTIVER, 4));
	EXPECT_EQ(bit(3), rd(v, GICR_SGI(0) + GICD_ISPENDR, 4));
	i = lr_of(3);
	EXPECT_TRUE(i >= 0);
	EXPECT_TRUE(fake_vgic.lr[i].active);
	EXPECT_TRUE(fake_vgic.lr[i].pending);

	/* a pass-through SPI the guest has taken, ended by ICACTIVER: the
	 * physical one is let go once, when its LR is folded */
	enable_distributor(v);
	wr(v, bank(GICD_ISENABLER, LEVEL_SPI), spi_bit(LEVEL_SPI), 4);
	EXPECT_TRUE(vgic_hw_interrupt(v, LEVEL_SPI));
	vgic_sync(v);
	guest_ack(LEVEL_SPI);
	wr(v, bank(GICD_ICACTIVER, LEVEL_SPI), spi_bit(LEVEL_SPI), 4);
	EXPECT_EQ(0, fake_irq_calls(FAKE_IRQ_CLEAR_ACTIVE, LEVEL_SPI));
	vgic_sync(v);
	EXPECT_EQ(1, fake_irq_calls(FAKE_IRQ_CLEAR_ACTIVE, LEVEL_SPI));
	EXPECT_EQ(0, rd(v, bank(GICD_ISACTIVER, LEVEL_SPI), 4));
	EXPECT_EQ(-1, lr_of(LEVEL_SPI));
}

UNIT(vgic_lrs_filled_active_first_then_priority_then_intid)
{
	struct vcpu *v = &pa.vcpus[0];
	/* SGIs 0..7 and SPI 48 pending; SGI 2 also active */
	static const uint8_t prio[8] = {0x80, 0x40, 0x80, 0x20,
					0x40, 0x60, 0x10, 0x60};
	static const uint32_t want[4] = {2, 6, 3, 1};

	setup();
	enable_distributor(v);
	wr(v, GICR_SGI(0) + GICD_ISENABLER, 0xff, 4);
	for (uint32_t i = 0; i < 8; i++) {
		set_priority_private(v, i, prio[i]);
	}
	wr(v, GICD + GICD_IPRIORITYR + LEVEL_SPI, 0x40, 1);
	EXPECT_EQ(0x40, rd(v, GICD + GICD_IPRIORITYR + LEVEL_SPI, 1));
	wr(v, bank(GICD_ISENABLER, LEVEL_SPI), spi_bit(LEVEL_SPI), 4);
	EXPECT_EQ(1, fake_irq_calls(FAKE_IRQ_ENABLE, LEVEL_SPI));
	wr(v, GICR_SGI(0) + GICD_ISACTIVER, bit(2), 4);
	EXPECT_TRUE(vgic_hw_interrupt(v, LEVEL_SPI));
	for (uint32_t i = 0; i < 8; i++) {
		vgic_pend_private(v, i);
	}
	vgic_sync(v);
	for (uint32_t i = 0; i < 4; i++) {
		EXPECT_EQ(want[i], fake_vgic.lr[i].vintid);
		EXPECT_EQ(i == 0 ? 0x80 : prio[want[i]],
			  fake_vgic.lr[i].priority);
	}
	EXPECT_TRUE(fake_vgic.lr[0].active && fake_vgic.lr[0].pending);
	EXPECT_EQ(1, fake_vgic.underflow); /* 5 more wait */

	/* the four are done: next SGI 4 (0x40, beating SPI 48's 0x40 on
	 * INTID), SPI 48, then 5 and 7 (0x60) */
	for (uint32_t i = 0; i < 4; i++) {
		if (want[i] == 2) {
			guest_eoi(2); /* active and pending: pending again */
			guest_ack(2);
			guest_eoi(2);
		} else {
			guest_ack(want[i]);
			guest_eoi(want[i]);
		}
	}
	EXPECT_EQ(0, lrs_in_use());
	vgic_sync(v);
	EXPECT_EQ(4, fake_vgic.lr[0].vintid);
	EXPECT_EQ(LEVEL_SPI, fake_vgic.lr[1].vintid);
	EXPECT_TRUE(fake_vgic.lr[1].hw);
	EXPECT_EQ(5, fake_vgic.lr[2].vintid);
	EXPECT_EQ(7, fake_vgic.lr[3].vintid);
	EXPECT_EQ(1, fake_vgic.underflow); /* SGI 0 waits */
}

UNIT(vgic_refill_underflow_only_while_candidates_remain)
{
	struct vcpu *v = &pa.vcpus[0];

	setup();
	wr(v, GICR_SGI(0) + GICD_ISENABLER, 0xffff, 4);
	/* exactly as many as LRs: no underflow interrupt */
	for (uint32_t i = 0; i < 4; i++) {
		vgic_pend_private(v, i);
	}
	vgic_sync(v);
	EXPECT_EQ(4, lrs_in_use());
	EXPECT_EQ(0, fake_vgic.underflow);

	/* two more: the LRs stay full, the two wait for the underflow */
	vgic_pend_private(v, 8);
	vgic_pend_private(v, 9);
	vgic_sync(v);
	EXPECT_EQ(4, lrs_in_use());
	EXPECT_EQ(-1, lr_of(8));
	EXPECT_EQ(-1, lr_of(9));
	EXPECT_EQ(1, fake_vgic.underflow);

	/* the guest ends two: both waiting ones get an LR, none remains */
	guest_ack(0);
	guest_eoi(0);
	guest_ack(1);
	guest_eoi(1);
	vgic_sync(v);
	EXPECT_EQ(4, lrs_in_use());
	EXPECT_TRUE(lr_of(2) >= 0 && lr_of(3) >= 0);
	EXPECT_TRUE(lr_of(8) >= 0 && lr_of(9) >= 0);
	EXPECT_EQ(0, fake_vgic.underflow);
	EXPECT_EQ(bit(2) | bit(3) | bit(8) | bit(9),
		  rd(v, GICR_SGI(0) + GICD_ISPENDR, 4));

	/* one more than fits again, then all done */
	vgic_pend_private(v, 10);
	vgic_sync(v);
	EXPECT_EQ(1, fake_vgic.underflow);
	guest_ack(2);
	guest_eoi(2);
	vgic_sync(v);
	EXPECT_TRUE(lr_of(10) >= 0);
	EXPECT_EQ(0, fake_vgic.underflow);
	for (uint32_t i = 0; i < 4; i++) {
		uint32_t intid = fake_vgic.lr[i].vintid;

		guest_ack(intid);
		guest_eoi(intid);
	}
	vgic_sync(v);
	EXPECT_EQ(0, lrs_in_use());
	EXPECT_EQ(0, fake_vgic.underflow);
	EXPECT_EQ(0, rd(v, GICR_SGI(0) + GICD_ISPENDR, 4));
	EXPECT_EQ(0, rd(v, GICR_SGI(0) + GICD_ISACTIVER, 4));
}

/* An edge that arrives while the guest handles the previous one (its LR
 * active, or already ended but not yet folded back) is delivered again:
 * folding the LR must not overwrite it with "not pending". */
UNIT(vgic_new_edge_while_in_lr_is_not_lost)
{
	struct vcpu *v0 = &pa.vcpus[0];
	struct vcpu *v1 = &pa.vcpus[1];

	setup();
	enable_distributor(v0);
	wr(v0, GICR_SGI(0) + GICD_ISENABLER, bit(5) | bit(20), 4);

	/* SGI 5 from vCPU 1, taken; another while active */
	vgic_send_sgi(v1, SGIR(5, 1));
	vgic_sync(v0);
	guest_ack(5);
	vgic_send_sgi(v1, SGIR(5, 1));
	guest_eoi(5);
	vgic_sync(v0);
	EXPECT_TRUE(lr_of(5) >= 0);
	EXPECT_TRUE(fake_vgic.lr[lr_of(5)].pending);
	guest_ack(5);
	guest_eoi(5);
	vgic_sync(v0); /* and only twice */
	EXPECT_EQ(-1, lr_of(5));
	EXPECT_EQ(0, rd(v0, GICR_SGI(0) + GICD_ISPENDR, 4));

	/* SGI 5 taken and ended before the fold, then a new one */
	vgic_send_sgi(v1, SGIR(5, 1));
	vgic_sync(v0);
	guest_ack(5);
	guest_eoi(5);
	vgic_send_sgi(v1, SGIR(5, 1));
	vgic_sync(v0);
	EXPECT_TRUE(lr_of(5) >= 0);
	guest_ack(5);
	guest_eoi(5);

	/* PPI 20 made pending through GICR_ISPENDR0 while active */
	wr(v0, GICR_SGI(0) + GICD_ISPENDR, bit(20), 4);
	vgic_sync(v0);
	guest_ack(20);
	wr(v0, GICR_SGI(0) + GICD_ISPENDR, bit(20), 4);
	guest_eoi(20);
	vgic_sync(v0);
	EXPECT_TRUE(lr_of(20) >= 0);
	guest_ack(20);
	guest_eoi(20);

	/* the edge-triggered device: its LR ended (deactivating the
	 * physical interrupt), the device's next edge comes before the
	 * fold: the lost virtio interrupt that hung Linux */
	wr(v0, bank(GICD_ISENABLER, EDGE_SPI), spi_bit(EDGE_SPI), 4);
	EXPECT_TRUE(vgic_hw_interrupt(v0, EDGE_SPI));
	vgic_sync(v0);
	EXPECT_TRUE(fake_vgic.lr[lr_of(EDGE_SPI)].hw);
	guest_ack(EDGE_SPI);
	guest_eoi(EDGE_SPI);
	EXPECT_TRUE(vgic_hw_interrupt(v0, EDGE_SPI));
	vgic_sync(v0);
	EXPECT_TRUE(lr_of(EDGE_SPI) >= 0);
	EXPECT_TRUE(fake_vgic.lr[lr_of(EDGE_SPI)].pending);
	guest_ack(EDGE_SPI);
	guest_eoi(EDGE_SPI);
	vgic_sync(v0);
	EXPECT_EQ(0, lrs_in_use());
	EXPECT_EQ(0, rd(v0, bank(GICD_ISPENDR, EDGE_SPI), 4));

	/* GICD_ISPENDR of a linked SPI: the device's business, ignored */
	wr(v0, bank(GICD_ISPENDR, EDGE_SPI), spi_bit(EDGE_SPI), 4);
	EXPECT_EQ(0, rd(v0, bank(GICD_ISPENDR, EDGE_SPI), 4));
}

UNIT(vgic_emulated_level_line_pending_exactly_while_high)
{
	struct vcpu *v = &pa.vcpus[0];
	int i;

	setup();
	enable_distributor(v);
	wr(v, bank(GICD_ISENABLER, CONSOLE_SPI), spi_bit(CONSOLE_SPI), 4);
	EXPECT_EQ(0, fake_irq_calls(FAKE_IRQ_ENABLE, CONSOLE_SPI));
	/* level-sensitive as configured */
	EXPECT_EQ(0, rd(v, GICD + GICD_ICFGR + 4 * (CONSOLE_SPI / 16), 4));

	vgic_set_level(&pa, CONSOLE_SPI, true);
	EXPECT_TRUE(v->vgic.dirty);
	EXPECT_EQ(spi_bit(CONSOLE_SPI),
		  rd(v, bank(GICD_ISPENDR, CONSOLE_SPI), 4));
	vgic_sync(v);
	i = lr_of(CONSOLE_SPI);
	EXPECT_TRUE(i >= 0);
	EXPECT_FALSE(fake_vgic.lr[i].hw);
	EXPECT_TRUE(fake_vgic.lr[i].eoi_notify); /* look again at its end */

	/* handled, but the line is still high: pending again */
	guest_ack(CONSOLE_SPI);
	guest_eoi(CONSOLE_SPI);
	vgic_sync(v);
	EXPECT_TRUE(lr_of(CONSOLE_SPI) >= 0);
	EXPECT_TRUE(fake_vgic.lr[lr_of(CONSOLE_SPI)].pending);

	/* the handler drains the device (line low) before its EOI */
	guest_ack(CONSOLE_SPI);
	vgic_set_level(&pa, CONSOLE_SPI, false);
	EXPECT_EQ(0, rd(v, bank(GICD_ISPENDR, CONSOLE_SPI), 4));
	guest_eoi(CONSOLE_SPI);
	vgic_sync(v);
	EXPECT_EQ(-1, lr_of(CONSOLE_SPI));
	EXPECT_EQ(0, rd(v, bank(GICD_ISPENDR, CONSOLE_SPI), 4));
	EXPECT_EQ(0, rd(v, bank(GICD_ISACTIVER, CONSOLE_SPI), 4));

	/* high then low before the guest took it: withdrawn */
	vgic_set_level(&pa, CONSOLE_SPI, true);
	vgic_sync(v);
	EXPECT_TRUE(lr_of(CONSOLE_SPI) >= 0);
	vgic_set_level(&pa, CONSOLE_SPI, false);
	vgic_sync(v);
	EXPECT_EQ(-1, lr_of(CONSOLE_SPI));
	EXPECT_EQ(0, rd(v, bank(GICD_ISPENDR, CONSOLE_SPI), 4));

	/* the same level twice changes nothing (no kick) */
	vgic_sync(v);
	vgic_set_level(&pa, CONSOLE_SPI, false);
	EXPECT_FALSE(v->vgic.dirty);
	/* not the partition's line: nothing happens */
	vgic_set_level(&pb, CONSOLE_SPI, true);
	EXPECT_EQ(0, pb.vgic.pending);
}

UNIT(vgic_irouter_routes_spis_to_vcpus)
{
	struct vcpu *v0 = &pa.vcpus[0];
	struct vcpu *v1 = &pa.vcpus[1];
	uint64_t router = GICD + GICD_IROUTER + 8 * LEVEL_SPI;
	uint32_t slot = 1; /* LEVEL_SPI in ma.spis */

	setup();
	/* at boot: every SPI on vCPU 0, linked ones routed to its CPU */
	EXPECT_EQ(0x7, v0->vgic.spi_mine);
	EXPECT_EQ(0, v1->vgic.spi_mine);
	fake_irqchip.count = 0;

	wr(v0, router, 1, 8);
	EXPECT_EQ(1, rd(v0, router, 8));
	EXPECT_EQ(bit(slot), v1->vgic.spi_mine);
	EXPECT_EQ(0x7 & ~bit(slot), v0->vgic.spi_mine);
	EXPECT_EQ(1, fake_irq_calls(FAKE_IRQ_ROUTE, LEVEL_SPI));
	EXPECT_EQ(MPIDR(1), last_arg(FAKE_IRQ_ROUTE, LEVEL_SPI));

	/* the device fires: vCPU 1 must look, its CPU is kicked; vCPU 0
	 * (this CPU) does not get it */
	enable_distributor(v0);
	wr(v0, bank(GICD_ISENABLER, LEVEL_SPI), spi_bit(LEVEL_SPI), 4);
	fake_irqchip.count = 0;
	v1->vgic.dirty = false;
	EXPECT_TRUE(vgic_hw_interrupt(v0, LEVEL_SPI));
	EXPECT_TRUE(v1->vgic.dirty);
	EXPECT_EQ(1, fake_irq_calls(FAKE_IRQ_SEND_SGI, IRQCHIP_SGI_KICK));
	EXPECT_EQ(MPIDR(1), fake_irqchip.calls[0].arg);
	vgic_sync(v0);
	EXPECT_EQ(-1, lr_of(LEVEL_SPI));

	/* "any" (IRM): vCPU 0; the value reads back */
	fake_irqchip.count = 0;
	wr(v0, router, GICD_IROUTER_IRM, 8);
	EXPECT_EQ(GICD_IROUTER_IRM, rd(v0, router, 8));
	EXPECT_EQ(0x7, v0->vgic.spi_mine);
	EXPECT_EQ(MPIDR(0), last_arg(FAKE_IRQ_ROUTE, LEVEL_SPI));
	vgic_sync(v0);
	EXPECT_EQ(0, lr_of(LEVEL_SPI)); /* now it is vCPU 0's */

	/* 32-bit halves; a vCPU it does not have (Aff0 7, or Aff1 set)
	 * reads back as written and goes to vCPU 0 */
	wr(v0, router, 1, 4);
	EXPECT_EQ(1, rd(v0, router, 4));
	EXPECT_EQ(bit(slot), v1->vgic.spi_mine);
	wr(v0, router + 4, 0, 4);
	EXPECT_EQ(1, rd(v0, router, 8));
	wr(v0, router, 0x7, 8);
	EXPECT_EQ(0x7, rd(v0, router, 8));
	EXPECT_EQ(0, v1->vgic.spi_mine);
	wr(v0, router, 0x101, 8);
	EXPECT_EQ(0x101, rd(v0, router, 8));
	EXPECT_EQ(0, v1->vgic.spi_mine);
	EXPECT_EQ(MPIDR(0), last_arg(FAKE_IRQ_ROUTE, LEVEL_SPI));
	/* the emulated line is routed the same way, without a physical
	 * route */
	fake_irqchip.count = 0;
	wr(v0, GICD + GICD_IROUTER + 8 * CONSOLE_SPI, 1, 8);
	EXPECT_EQ(bit(0), v1->vgic.spi_mine);
	EXPECT_EQ(0, fake_irq_calls(FAKE_IRQ_ROUTE, UINT32_MAX));
}

/* Partition b reaches for a's SPIs: reads are zero, writes change
 * nothing and call nothing physical; a's interrupts keep working. */
UNIT(vgic_foreign_intids_raz_wi)
{
	struct vcpu *b0 = &pb.vcpus[0];
	struct vcpu *a0 = &pa.vcpus[0];
	const uint32_t spis[] = {CONSOLE_SPI, LEVEL_SPI, EDGE_SPI, UNOWNED_SPI};
	uint64_t cfg;

	setup();
	fake_vgic.mpidr = MPIDR(2);
	enable_distributor(b0);
	for (unsigned int k = 0; k < sizeof(spis) / sizeof(spis[0]); k++) {
		uint32_t s = spis[k];

		wr(b0, bank(GICD_ISENABLER, s), spi_bit(s), 4);
		wr(b0, bank(GICD_ISPENDR, s), spi_bit(s), 4);
		wr(b0, bank(GICD_ISACTIVER, s), spi_bit(s), 4);
		wr(b0, bank(GICD_ICACTIVER, s), spi_bit(s), 4);
		wr(b0, bank(GICD_ICENABLER, s), spi_bit(s), 4);
		wr(b0, GICD + GICD_IPRIORITYR + s, 0x10, 1);
		cfg = GICD + GICD_ICFGR + 4 * (s / 16);
		wr(b0, cfg, rd(b0, cfg, 4) | 2u << (2 * (s % 16)), 4);
		wr(b0, GICD + GICD_IROUTER + 8 * s, 2, 8);
		EXPECT_EQ(0, rd(b0, GICD + GICD_IPRIORITYR + s, 1));
		EXPECT_EQ(0, rd(b0, GICD + GICD_IROUTER + 8 * s, 8));
		EXPECT_EQ(0, rd(b0, bank(GICD_ISPENDR, s), 4) & spi_bit(s));
		EXPECT_EQ(0, rd(b0, bank(GICD_ISENABLER, s), 4) & spi_bit(s));
		EXPECT_EQ(0, rd(b0, bank(GICD_ISACTIVER, s), 4) & spi_bit(s));
	}
	for (unsigned int i = 0; i < fake_irqchip.count; i++) {
		EXPECT_EQ(B_SPI, fake_irqchip.calls[i].intid);
	}
	EXPECT_FALSE(vgic_hw_interrupt(b0, UNOWNED_SPI));
	/* b's own SPI in the same ICFGR word kept its configuration */
	EXPECT_EQ(2u << (2 * (B_SPI % 16)),
		  rd(b0, GICD + GICD_ICFGR + 4 * (B_SPI / 16), 4));

	/* a is untouched: default priority, no route, nothing pending */
	EXPECT_EQ(PRIO_DEFAULT, rd(a0, GICD + GICD_IPRIORITYR + LEVEL_SPI, 1));
	EXPECT_EQ(0, rd(a0, GICD + GICD_IROUTER + 8 * LEVEL_SPI, 8));
	EXPECT_EQ(0, pa.vgic.pending | pa.vgic.enabled | pa.vgic.active);
	EXPECT_EQ(2u << (2 * (EDGE_SPI % 16)),
		  rd(a0, GICD + GICD_ICFGR + 4 * (EDGE_SPI / 16), 4));

	/* b's own SPI works, its enable is the physical one */
	wr(b0, bank(GICD_ISENABLER, B_SPI), spi_bit(B_SPI), 4);
	EXPECT_EQ(1, fake_irq_calls(FAKE_IRQ_ENABLE, B_SPI));
	EXPECT_EQ(spi_bit(B_SPI), rd(b0, bank(GICD_ISENABLER, B_SPI), 4));

	/* and a's still does, on a's vCPU */
	fake_vgic.mpidr = MPIDR(0);
	enable_distributor(a0);
	wr(a0, bank(GICD_ISENABLER, LEVEL_SPI), spi_bit(LEVEL_SPI), 4);
	EXPECT_EQ(1, fake_irq_calls(FAKE_IRQ_ENABLE, LEVEL_SPI));
	EXPECT_TRUE(vgic_hw_interrupt(a0, LEVEL_SPI));
	vgic_sync(a0);
	EXPECT_TRUE(lr_of(LEVEL_SPI) >= 0);
	EXPECT_EQ(0, pb.vgic.pending);

	/* no redistributor frame past a partition's own vCPUs; the
	 * private state of b's frames is b's */
	EXPECT_FALSE(vgic_claims(&pa, ipa_init(GICR_RD(2))));
	EXPECT_TRUE(vgic_claims(&pb, ipa_init(GICR_RD(2))));
	EXPECT_FALSE(vgic_claims(&pb, ipa_init(GICR_RD(3))));
	EXPECT_FALSE(vgic_claims(&pa, ipa_init(GICD - 4)));
	wr(b0, GICR_SGI(1) + GICD_ISPENDR, bit(1), 4);
	EXPECT_EQ(bit(1), pb.vcpus[1].vgic.pending);
	EXPECT_EQ(0, pa.vcpus[1].vgic.pending);
	/* the virtual timer's pending and active state is the hardware's */
	wr(b0, GICR_SGI(0) + GICD_ISPENDR, bit(VGIC_INTID_VTIMER), 4);
	wr(b0, GICR_SGI(0) + GICD_ISACTIVER, bit(VGIC_INTID_VTIMER), 4);
	EXPECT_EQ(0, pb.vcpus[0].vgic.pending | pb.vcpus[0].vgic.active);
}

UNIT(vgic_sgi_target_list_irm_and_affinity)
{
	struct vcpu *b0 = &pb.vcpus[0];

	setup();
	fake_vgic.mpidr = MPIDR(2); /* b's vCPU 0 sends */

	/* target list: vCPUs 0 and 2; only vCPU 2's CPU is kicked */
	vgic_send_sgi(b0, SGIR(3, 0x5));
	EXPECT_EQ(bit(3), pb.vcpus[0].vgic.pending);
	EXPECT_EQ(0, pb.vcpus[1].vgic.pending);
	EXPECT_EQ(bit(3), pb.vcpus[2].vgic.pending);
	EXPECT_EQ(1, fake_irqchip.count);
	EXPECT_EQ(FAKE_IRQ_SEND_SGI, fake_irqchip.calls[0].op);
	EXPECT_EQ(MPIDR(4), fake_irqchip.calls[0].arg);

	/* IRM: every other vCPU */
	vgic_send_sgi(b0, SGIR(4, 0) | SGIR_IRM);
	EXPECT_EQ(bit(3), pb.vcpus[0].vgic.pending);
	EXPECT_EQ(bit(4), pb.vcpus[1].vgic.pending);
	EXPECT_EQ(bit(3) | bit(4), pb.vcpus[2].vgic.pending);

	/* affinities nobody has: Aff1 1, range selector 1 (vCPUs 16..31),
	 * a target bit past the last vCPU */
	fake_irqchip.count = 0;
	vgic_send_sgi(b0, SGIR(5, 0x7) | SGIR_AFF1(1));
	vgic_send_sgi(b0, SGIR(6, 0xffff) | SGIR_RS(1));
	vgic_send_sgi(b0, SGIR(7, 0x8));
	vgic_send_sgi(b0, SGIR(8, 0x7) | (1ull << 32)); /* Aff2 */
	vgic_send_sgi(b0, SGIR(9, 0x7) | (1ull << 48)); /* Aff3 */
	EXPECT_EQ(bit(3), pb.vcpus[0].vgic.pending);
	EXPECT_EQ(bit(4), pb.vcpus[1].vgic.pending);
	EXPECT_EQ(bit(3) | bit(4), pb.vcpus[2].vgic.pending);
	EXPECT_EQ(0, fake_irqchip.count);

	/* the INTID field is 4 bits: SGIs only */
	vgic_send_sgi(b0, (0x1full << 24) | 0x2);
	EXPECT_EQ(bit(4) | bit(15), pb.vcpus[1].vgic.pending);

	/* never another partition's vCPUs */
	EXPECT_EQ(0, pa.vcpus[0].vgic.pending | pa.vcpus[1].vgic.pending);
	vgic_send_sgi(&pa.vcpus[1], SGIR(2, 0x7) | SGIR_IRM);
	EXPECT_EQ(bit(2), pa.vcpus[0].vgic.pending);
	EXPECT_EQ(0, pa.vcpus[1].vgic.pending);
	EXPECT_EQ(bit(3), pb.vcpus[0].vgic.pending);
	/* a vCPU idling in WFI is woken */
	pb.vcpus[1].wait = VCPU_WAIT_IDLE;
	vgic_send_sgi(b0, SGIR(1, 0x2));
	EXPECT_EQ(VCPU_RUNNABLE, pb.vcpus[1].wait);
}

UNIT(vgic_deliverable_honours_mask_group_and_running_priority)
{
	struct vcpu *v = &pa.vcpus[0];

	setup();
	wr(v, GICR_SGI(0) + GICD_ISENABLER, bit(1) | bit(2), 4);
	set_priority_private(v, 1, 0x80);
	set_priority_private(v, 2, 0x40);
	EXPECT_FALSE(vgic_deliverable(v));
	vgic_pend_private(v, 1);
	EXPECT_TRUE(vgic_deliverable(v));
	fake_vgic.group1 = false;
	EXPECT_FALSE(vgic_deliverable(v));
	fake_vgic.group1 = true;
	fake_vgic.pmr = 0x80; /* must be strictly above the mask */
	EXPECT_FALSE(vgic_deliverable(v));
	fake_vgic.pmr = 0x81;
	EXPECT_TRUE(vgic_deliverable(v));

	/* SGI 2 (0x40) being handled: 1 (0x80) waits for it */
	fake_vgic.pmr = 0xff;
	vgic_pend_private(v, 2);
	vgic_sync(v);
	guest_ack(2);
	vgic_sync(v);
	EXPECT_FALSE(vgic_deliverable(v));
	guest_eoi(2);
	vgic_sync(v);
	EXPECT_TRUE(vgic_deliverable(v));

	/* disabled: not deliverable; a disabled distributor holds SPIs */
	wr(v, GICR_SGI(0) + GICD_ICENABLER, bit(1), 4);
	EXPECT_FALSE(vgic_deliverable(v));
	wr(v, bank(GICD_ISENABLER, LEVEL_SPI), spi_bit(LEVEL_SPI), 4);
	EXPECT_TRUE(vgic_hw_interrupt(v, LEVEL_SPI));
	EXPECT_FALSE(vgic_deliverable(v));
	vgic_sync(v);
	EXPECT_EQ(-1, lr_of(LEVEL_SPI));
	enable_distributor(v);
	EXPECT_TRUE(vgic_deliverable(v));
	vgic_sync(v);
	EXPECT_TRUE(lr_of(LEVEL_SPI) >= 0);
	/* disabling a linked SPI disables the physical one */
	wr(v, bank(GICD_ICENABLER, LEVEL_SPI), spi_bit(LEVEL_SPI), 4);
	EXPECT_EQ(1, fake_irq_calls(FAKE_IRQ_DISABLE, LEVEL_SPI));
}

UNIT(vgic_id_registers_describe_the_view)
{
	struct vcpu *b0 = &pb.vcpus[0];

	setup();
	/* b: SPIs up to 50 -> ITLinesNumber 1, 10 INTID bits */
	EXPECT_EQ((9u << 19) | 1, rd(b0, GICD + GICD_TYPER, 4));
	for (uint16_t n = 0; n < 3; n++) {
		uint64_t typer = rd(b0, GICR_RD(n) + GICR_TYPER, 8);

		EXPECT_EQ(n, typer >> 32);	     /* Aff0 = vCPU index */
		EXPECT_EQ(n, (typer >> 8) & 0xffff); /* processor number */
		EXPECT_EQ(n == 2, (typer >> 4) & 1); /* Last */
	}
	/* SGIs are edge; PPIs level until configured */
	EXPECT_EQ(0xaaaaaaaa, rd(b0, GICR_SGI(0) + GICD_ICFGR, 4));
	EXPECT_EQ(0, rd(b0, GICR_SGI(0) + GICD_ICFGR + 4, 4));
	wr(b0, GICR_SGI(0) + GICD_ICFGR + 4, 2u << (2 * (20 - 16)), 4);
	EXPECT_EQ(2u << (2 * (20 - 16)),
		  rd(b0, GICR_SGI(0) + GICD_ICFGR + 4, 4));
	/* priorities: byte and word access of the same bytes */
	wr(b0, GICR_SGI(0) + GICD_IPRIORITYR + 4, 0x10203040, 4);
	EXPECT_EQ(0x20, rd(b0, GICR_SGI(0) + GICD_IPRIORITYR + 6, 1));
	EXPECT_EQ(PRIO_DEFAULT, rd(b0, GICR_SGI(1) + GICD_IPRIORITYR + 6, 1));
}
