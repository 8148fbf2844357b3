/*
 * The virtual GICv3 (see core/include/core/vgic.h): distributor and
 * redistributor emulation, SGIs between a partition's vCPUs, physical
 * interrupts handed to their owner, and the list registers.
 *
 * Locks: the partition's lock guards all of it (core/include/core/
 * partition.h); the list registers belong to the vCPU's physical CPU and
 * are touched only there.
 */
#include <core/irqchip.h>
#include <core/log.h>
#include <core/vcpu.h>
#include <core/vgic.h>
#include <bulkhead/gicv3.h>

/* Distributor registers */

/* 10 INTID bits (no LPIs), no extended SPIs, no message-based SPIs */
#define GICD_TYPER_IDBITS (9u << 19)

/* Redistributor: RD_base, then SGI_base 64 KiB above */
#define SGI_CONFIG_EDGE	 0xaaaaaaaau /* SGIs: always edge */
#define DEFAULT_PRIORITY 0xa0

/* ICC_SGI1R_EL1 fields */
#define SGIR_TARGETS(v) ((uint32_t)(v)&0xffffu)
#define SGIR_AFF1(v)	(((v) >> 16) & 0xff)
#define SGIR_INTID(v)	((uint32_t)((v) >> 24) & 0xfu)
#define SGIR_AFF2(v)	(((v) >> 32) & 0xff)
#define SGIR_IRM	(1ull << 40)
#define SGIR_RS(v)	(((v) >> 44) & 0xf)
#define SGIR_AFF3(v)	(((v) >> 48) & 0xff)

/* The partition owning each physical SPI linked to a virtual one. */
static struct partition *spi_owner[1020];

static uint32_t bit(uint32_t n)
{
	return 1u << n;
}

/* The lowest set bit of `m` (not 0): map loops visit set bits only. */
static uint32_t lowest(uint32_t m)
{
	return (uint32_t)__builtin_ctz(m);
}

/* Slot of SPI `intid` in the partition's table, or -1. */
static int spi_slot(const struct vgic *g, uint32_t intid)
{
	for (uint32_t i = 0; i < g->spi_count; i++) {
		if (g->intid[i] == intid) {
			return (int)i;
		}
	}
	return -1;
}

static uint64_t cpu_mpidr_of(const struct partition *p, uint16_t vcpu)
{
	return cpus[p->vcpus[vcpu].cpu].mpidr;
}

/* Recomputes which SPIs each vCPU has routed to it. */
static void update_routes(struct partition *p)
{
	for (uint16_t v = 0; v < p->m->vcpu_count; v++) {
		p->vcpus[v].vgic.spi_mine = 0;
	}
	for (uint32_t i = 0; i < p->vgic.spi_count; i++) {
		p->vcpus[p->vgic.target[i]].vgic.spi_mine |= bit(i);
	}
}

/* Makes vCPU `t` look at its interrupts again before it next runs: now
 * if it is on this CPU, else its CPU is kicked; one idling in WFI with
 * something to take wakes. */
static void touch(struct vcpu *t)
{
	t->vgic.dirty = true;
	if (t->wait == VCPU_WAIT_IDLE) {
		vcpu_resume(t);
	} else {
		cpu_kick(t->cpu);
	}
}

/*
 * Makes SPI slots `slots` of `p` pending. One a list register holds is
 * marked to be pending again, as folding that list register back would
 * otherwise overwrite the new edge with what the guest did with the old
 * one.
 */
/* The SPI slots of `p` some vCPU's list register holds. */
static uint32_t spis_in_lr(const struct partition *p)
{
	uint32_t held = 0;

	for (uint16_t i = 0; i < p->m->vcpu_count; i++) {
		held |= p->vcpus[i].vgic.spi_in_lr;
	}
	return held;
}

static void pend_spis(struct partition *p, uint32_t slots)
{
	struct vgic *g = &p->vgic;

	g->repend |= slots & spis_in_lr(p);
	g->pending |= slots;
}

/*
 * ISACTIVER (`active`) or ICACTIVER of interrupts `held` that list
 * registers hold: the guest may have acknowledged or ended them there
 * since, so the state is changed when those LRs are folded back
 * (apply_active_marks, told by the holder's `active_marks`), the later of
 * two writes winning.
 */
static void mark_active(uint32_t *set, uint32_t *clear, uint32_t held,
			bool active)
{
	if (active) {
		*set |= held;
		*clear &= ~held;
	} else {
		*clear |= held;
		*set &= ~held;
	}
}

/* The same for SPI slots `slots` of `p`, marked at the vCPU whose LR
 * holds each: those an LR holds, returned. */
static uint32_t mark_spis_active(struct partition *p, uint32_t slots,
				 bool active)
{
	uint32_t held = 0;

	for (uint16_t i = 0; i < p->m->vcpu_count; i++) {
		struct vgic_cpu *c = &p->vcpus[i].vgic;
		uint32_t h = slots & c->spi_in_lr;

		if (h != 0) {
			c->active_marks = true;
			mark_active(&c->spi_set_active, &c->spi_clear_active, h,
				    active);
			held |= h;
		}
	}
	return held;
}

/* The same for private INTIDs `bits` of vCPU `t`. */
static void mark_private_active(struct vcpu *t, uint32_t bits, bool active)
{
	struct vgic_cpu *c = &t->vgic;

	if ((bits & c->in_lr) != 0) {
		c->active_marks = true;
		mark_active(&c->set_active, &c->clear_active, bits & c->in_lr,
			    active);
	}
}

/* The same for private INTIDs `bits` of vCPU `t`. */
static void pend_private(struct vcpu *t, uint32_t bits)
{
	t->vgic.repend |= bits & t->vgic.in_lr;
	t->vgic.pending |= bits;
}

void vgic_init(struct partition *p)
{
	const struct manifest_partition *m = p->m;
	struct vgic *g = &p->vgic;
	uint32_t max = 31;

	g->spi_count = m->spi_count;
	for (uint32_t i = 0; i < m->spi_count; i++) {
		g->intid[i] = m->spis[i].intid;
		if (m->spis[i].flags & MANIFEST_SPI_HW) {
			spi_owner[m->spis[i].intid] = p;
		}
		max = MAX(max, m->spis[i].intid);
	}
	g->it_lines = max / 32;
}

void vgic_partition_reset(struct partition_locked locked)
{
	struct partition *p = locked.p;
	const struct manifest_partition *m = p->m;
	struct vgic *g = &p->vgic;

	for (uint32_t i = 0; i < g->spi_count; i++) {
		if (m->spis[i].flags & MANIFEST_SPI_HW) {
			irqchip_disable(g->intid[i], 0);
			irqchip_clear_active(g->intid[i], 0);
			irqchip_set_edge(g->intid[i],
					 m->spis[i].flags & MANIFEST_SPI_EDGE);
			irqchip_route(g->intid[i], cpu_mpidr_of(p, 0));
		}
		g->priority[i] = DEFAULT_PRIORITY;
		g->irouter[i] = 0;
		g->target[i] = 0;
	}
	g->ctlr = 0;
	g->enabled = 0;
	g->pending = 0;
	g->active = 0;
	g->repend = 0;
	g->edge = 0;
	g->hw = 0;
	for (uint32_t i = 0; i < g->spi_count; i++) {
		g->edge |= (m->spis[i].flags & MANIFEST_SPI_EDGE) ? bit(i) : 0;
		g->hw |= (m->spis[i].flags & MANIFEST_SPI_HW) ? bit(i) : 0;
	}
	/* an emulated line keeps its level (the console's input) */
	update_routes(p);
}

void vgic_vcpu_reset(struct vcpu *v)
{
	struct vgic_cpu *c = &v->vgic;

	/* the timer may have fired after the guest last ran (its compare
	 * value is reset now): left active, it would never fire again */
	irqchip_clear_active(VGIC_INTID_VTIMER, cpus[v->cpu].mpidr);
	c->enabled = 0;
	c->pending = 0;
	c->active = 0;
	c->repend = 0;
	c->set_active = 0;
	c->clear_active = 0;
	c->spi_set_active = 0;
	c->spi_clear_active = 0;
	c->active_marks = false;
	c->in_lr = 0;
	c->spi_in_lr = 0;
	c->edge = 0xffff; /* SGIs */
	for (uint32_t i = 0; i < VGIC_PRIVATE; i++) {
		c->priority[i] = DEFAULT_PRIORITY;
	}
	c->waker = GICR_WAKER_SLEEP;
	c->lr_used = 0;
	c->dirty = false;
	arch_vgic_reset();
}

/* --- MMIO -------------------------------------------------------------- */

/* Which register frame `ipa` is in. */
enum frame { FRAME_NONE, FRAME_GICD, FRAME_GICR };

static enum frame frame_of(const struct partition *p, uint64_t ipa,
			   uint64_t *offset, uint16_t *vcpu)
{
	const struct manifest_platform *plat = &bulkhead_manifest.platform;
	uint64_t gicr_size = VGIC_GICR_FRAME_SIZE * p->m->vcpu_count;

	if (ipa - plat->gicd_base < VGIC_GICD_SIZE) {
		*offset = ipa - plat->gicd_base;
		return FRAME_GICD;
	}
	if (ipa - plat->gicr_base < gicr_size) {
		*offset = (ipa - plat->gicr_base) % VGIC_GICR_FRAME_SIZE;
		*vcpu =
		    (uint16_t)((ipa - plat->gicr_base) / VGIC_GICR_FRAME_SIZE);
		return FRAME_GICR;
	}
	return FRAME_NONE;
}

bool vgic_claims(const struct partition *p, ipaddr_t ipa)
{
	uint64_t offset;
	uint16_t vcpu;

	return frame_of(p, ipa_addr(ipa), &offset, &vcpu) != FRAME_NONE;
}

/* The 32 bits of a one-bit-per-INTID register bank for INTIDs
 * [32 * word, 32 * word + 32) of the SPIs, from SPI map `map`. */
static uint32_t spi_bits(const struct vgic *g, uint32_t map, uint32_t word)
{
	uint32_t value = 0;

	for (uint32_t i = 0; i < g->spi_count; i++) {
		if (g->intid[i] / 32 == word && (map & bit(i))) {
			value |= bit(g->intid[i] % 32);
		}
	}
	return value;
}

/* The SPI slots named by the set bits of `value` in bank word `word`. */
static uint32_t spi_slots_of(const struct vgic *g, uint32_t value,
			     uint32_t word)
{
	uint32_t slots = 0;

	for (uint32_t i = 0; i < g->spi_count; i++) {
		if (g->intid[i] / 32 == word &&
		    (value & bit(g->intid[i] % 32))) {
			slots |= bit(i);
		}
	}
	return slots;
}

/* Enables or disables the physical SPIs of `slots` that are linked. */
static void physical_enable(struct partition *p, uint32_t slots, bool on)
{
	struct vgic *g = &p->vgic;

	for (uint32_t i = 0; i < g->spi_count; i++) {
		if ((slots & g->hw & bit(i)) == 0) {
			continue;
		}
		if (on) {
			irqchip_enable(g->intid[i], 0);
		} else {
			irqchip_disable(g->intid[i], 0);
		}
	}
}

/* vCPUs that must look at SPIs `slots` again (they changed). */
static void touch_spi_targets(struct partition *p, uint32_t slots)
{
	for (uint32_t i = 0; i < p->vgic.spi_count; i++) {
		if (slots & bit(i)) {
			touch(&p->vcpus[p->vgic.target[i]]);
		}
	}
}

/* A write to a set/clear bank (ISENABLER.. ICACTIVER) of the SPIs. */
static void spi_bank_write(struct partition *p, uint64_t bank, uint32_t word,
			   uint32_t value)
{
	struct vgic *g = &p->vgic;
	uint32_t slots = spi_slots_of(g, value, word);

	switch (bank) {
	case GICD_ISENABLER:
		physical_enable(p, slots & ~g->enabled, true);
		g->enabled |= slots;
		break;
	case GICD_ICENABLER:
		physical_enable(p, slots & g->enabled, false);
		g->enabled &= ~slots;
		break;
	case GICD_ISPENDR:
		pend_spis(p, slots & ~g->hw); /* linked ones: the device's */
		break;
	case GICD_ICPENDR:
		/* a linked one the hypervisor holds active for the guest: let
		 * the device signal again */
		for (uint32_t i = 0; i < g->spi_count; i++) {
			if (slots & g->hw & g->pending & bit(i)) {
				irqchip_clear_active(g->intid[i], 0);
			}
		}
		g->pending &= ~slots;
		break;
	case GICD_ISACTIVER:
		g->active |= slots & ~g->hw;
		mark_spis_active(p, slots & ~g->hw, true);
		break;
	case GICD_ICACTIVER: {
		uint32_t held = mark_spis_active(p, slots, false);

		/* a linked one: the physical one is let go here, or when its
		 * LR is folded if the guest has it active there */
		for (uint32_t i = 0; i < g->spi_count; i++) {
			if (slots & g->hw & g->active & ~held & bit(i)) {
				irqchip_clear_active(g->intid[i], 0);
			}
		}
		g->active &= ~slots;
		break;
	}
	default:
		return;
	}
	touch_spi_targets(p, slots);
}

static uint32_t spi_bank_read(const struct vgic *g, uint64_t bank,
			      uint32_t word)
{
	switch (bank) {
	case GICD_IGROUPR:
		return spi_bits(g, ~0u, word); /* group 1, owned ones */
	case GICD_ISENABLER:
	case GICD_ICENABLER:
		return spi_bits(g, g->enabled, word);
	case GICD_ISPENDR:
	case GICD_ICPENDR:
		return spi_bits(g, g->pending, word);
	case GICD_ISACTIVER:
	case GICD_ICACTIVER:
		return spi_bits(g, g->active, word);
	default:
		return 0;
	}
}

/* GICD_ICFGR word `word` (16 INTIDs, 2 bits each; bit 1 = edge). */
static uint32_t spi_config_read(const struct vgic *g, uint32_t word)
{
	uint32_t value = 0;

	for (uint32_t i = 0; i < g->spi_count; i++) {
		if (g->intid[i] / 16 == word && (g->edge & bit(i))) {
			value |= 2u << (2 * (g->intid[i] % 16));
		}
	}
	return value;
}

static void spi_config_write(struct partition *p, uint32_t word, uint32_t value)
{
	struct vgic *g = &p->vgic;

	for (uint32_t i = 0; i < g->spi_count; i++) {
		bool edge;

		if (g->intid[i] / 16 != word) {
			continue;
		}
		edge = (value >> (2 * (g->intid[i] % 16))) & 2;
		g->edge = edge ? g->edge | bit(i) : g->edge & ~bit(i);
		if (g->hw & bit(i)) {
			irqchip_set_edge(g->intid[i], edge);
		}
	}
}

/* GICD_IROUTER<intid>: the vCPU it names (Aff0 = vCPU index; others 0),
 * vCPU 0 for "any" (IRM) or a vCPU the partition does not have. */
static void spi_route(struct partition *p, uint32_t slot, uint64_t value)
{
	struct vgic *g = &p->vgic;
	uint64_t aff = value & GICD_IROUTER_AFF_MASK;
	uint16_t target = 0;

	if (!(value & GICD_IROUTER_IRM) && aff < p->m->vcpu_count) {
		target = (uint16_t)aff;
	}
	g->irouter[slot] = value & (GICD_IROUTER_AFF_MASK | GICD_IROUTER_IRM);
	if (target != g->target[slot]) {
		touch(&p->vcpus[g->target[slot]]);
		g->target[slot] = target;
		update_routes(p);
		touch(&p->vcpus[target]);
	}
	if (g->hw & bit(slot)) {
		irqchip_route(g->intid[slot], cpu_mpidr_of(p, target));
	}
}

/* Byte `n` of a priority register bank for INTID `intid`: the byte lane
 * of the partition's own interrupt, else RAZ/WI. */
static uint8_t *priority_byte(struct vcpu *v, uint16_t frame_vcpu,
			      uint32_t intid)
{
	struct partition *p = v->part;
	int slot;

	if (intid < VGIC_PRIVATE) {
		return &p->vcpus[frame_vcpu].vgic.priority[intid];
	}
	slot = spi_slot(&p->vgic, intid);
	return slot < 0 ? NULL : &p->vgic.priority[slot];
}

static uint64_t priority_read(struct vcpu *v, uint16_t frame_vcpu,
			      uint32_t first, uint32_t bytes)
{
	uint64_t value = 0;

	for (uint32_t i = 0; i < bytes; i++) {
		uint8_t *b = priority_byte(v, frame_vcpu, first + i);

		value |= (uint64_t)(b != NULL ? *b : 0) << (8 * i);
	}
	return value;
}

static void priority_write(struct vcpu *v, uint16_t frame_vcpu, uint32_t first,
			   uint32_t bytes, uint64_t value)
{
	for (uint32_t i = 0; i < bytes; i++) {
		uint8_t *b = priority_byte(v, frame_vcpu, first + i);

		if (b != NULL) {
			*b = (uint8_t)(value >> (8 * i));
		}
	}
}

static uint64_t gicd_read(struct vcpu *v, uint64_t off, uint32_t size)
{
	struct vgic *g = &v->part->vgic;

	if (off >= GICD_IPRIORITYR && off < GICD_IPRIORITYR + 1024) {
		uint32_t first = (uint32_t)(off - GICD_IPRIORITYR);

		/* SPIs only: private ones live in the redistributors */
		return first < VGIC_PRIVATE ? 0
					    : priority_read(v, 0, first, size);
	}
	if (off >= GICD_IROUTER + 8 * VGIC_PRIVATE &&
	    off < GICD_IROUTER + 8 * 1020) {
		int slot = spi_slot(g, (uint32_t)((off - GICD_IROUTER) / 8));
		uint64_t r = slot < 0 ? 0 : g->irouter[slot];

		return (off & 4) ? r >> 32 : r;
	}
	if (off >= GICD_IGROUPR && off < GICD_ICACTIVER + 128) {
		uint32_t word = (uint32_t)(off % 128) / 4;

		return word == 0 ? 0 : spi_bank_read(g, off & ~127ull, word);
	}
	if (off >= GICD_ICFGR && off < GICD_ICFGR + 256) {
		return spi_config_read(g, (uint32_t)(off - GICD_ICFGR) / 4);
	}
	switch (off) {
	case GICD_CTLR:
		return g->ctlr | GICD_CTLR_ARE | GICD_CTLR_DS;
	case GICD_TYPER:
		return GICD_TYPER_IDBITS | g->it_lines;
	case GICD_PIDR2:
		return GIC_PIDR2_ARCH_V3;
	default:
		return 0; /* IIDR, TYPER2, the rest: RAZ */
	}
}

static void gicd_write(struct vcpu *v, uint64_t off, uint32_t size,
		       uint64_t value)
{
	struct partition *p = v->part;
	struct vgic *g = &p->vgic;

	if (off >= GICD_IPRIORITYR && off < GICD_IPRIORITYR + 1024) {
		uint32_t first = (uint32_t)(off - GICD_IPRIORITYR);

		if (first >= VGIC_PRIVATE) {
			priority_write(v, 0, first, size, value);
		}
		return;
	}
	if (off >= GICD_IROUTER + 8 * VGIC_PRIVATE &&
	    off < GICD_IROUTER + 8 * 1020) {
		int slot = spi_slot(g, (uint32_t)((off - GICD_IROUTER) / 8));

		if (slot >= 0) {
			uint64_t r = g->irouter[slot];

			if (size == 8) {
				r = value;
			} else if (off & 4) {
				r = (r & 0xffffffffull) | (value << 32);
			} else {
				r = (r & ~0xffffffffull) | (uint32_t)value;
			}
			spi_route(p, (uint32_t)slot, r);
		}
		return;
	}
	if (off >= GICD_ISENABLER && off < GICD_ICACTIVER + 128) {
		uint32_t word = (uint32_t)(off % 128) / 4;

		if (word != 0) {
			spi_bank_write(p, off & ~127ull, word, (uint32_t)value);
		}
		return;
	}
	if (off >= GICD_ICFGR + 8 && off < GICD_ICFGR + 256) {
		spi_config_write(p, (uint32_t)(off - GICD_ICFGR) / 4,
				 (uint32_t)value);
		return;
	}
	if (off == GICD_CTLR) {
		g->ctlr = (uint32_t)value & GICD_CTLR_ENABLE_G1A;
		touch_spi_targets(p, ~0u);
	}
	/* the rest (group, modifier, SGIR, ...): WI */
}

/* The redistributor of vCPU `n`'s frames. */
static uint64_t gicr_read(struct vcpu *v, uint16_t n, uint64_t off,
			  uint32_t size)
{
	struct partition *p = v->part;
	struct vgic_cpu *c = &p->vcpus[n].vgic;

	if (off >= GICR_SGI_BASE + GICD_IPRIORITYR &&
	    off < GICR_SGI_BASE + GICD_IPRIORITYR + VGIC_PRIVATE) {
		return priority_read(
		    v, n, (uint32_t)(off - GICR_SGI_BASE - GICD_IPRIORITYR),
		    size);
	}
	switch (off) {
	case GICR_TYPER: /* Aff0 = vCPU index, processor number, Last */
		return ((uint64_t)n << 32) | ((uint64_t)n << 8) |
		       (n + 1u == p->m->vcpu_count ? GICR_TYPER_LAST : 0);
	case GICR_TYPER + 4:
		return n;
	case GICR_WAKER:
		return c->waker |
		       ((c->waker & GICR_WAKER_SLEEP) ? GICR_WAKER_ASLEEP : 0);
	case GICR_PIDR2:
		return GIC_PIDR2_ARCH_V3;
	case GICR_SGI_BASE + GICD_IGROUPR:
		return ~0u;
	case GICR_SGI_BASE + GICD_ISENABLER:
	case GICR_SGI_BASE + GICD_ICENABLER:
		return c->enabled;
	case GICR_SGI_BASE + GICD_ISPENDR:
	case GICR_SGI_BASE + GICD_ICPENDR:
		return c->pending;
	case GICR_SGI_BASE + GICD_ISACTIVER:
	case GICR_SGI_BASE + GICD_ICACTIVER:
		return c->active;
	case GICR_SGI_BASE + GICR_ICFGR0:
		return SGI_CONFIG_EDGE;
	case GICR_SGI_BASE + GICR_ICFGR1: {
		uint32_t value = 0;

		for (uint32_t i = 16; i < VGIC_PRIVATE; i++) {
			value |= (c->edge & bit(i)) ? 2u << (2 * (i - 16)) : 0;
		}
		return value;
	}
	default:
		return 0; /* CTLR, IIDR, STATUSR, PROPBASER, ...: RAZ */
	}
}

static void gicr_write(struct vcpu *v, uint16_t n, uint64_t off, uint32_t size,
		       uint64_t value)
{
	struct partition *p = v->part;
	struct vcpu *t = &p->vcpus[n];
	struct vgic_cpu *c = &t->vgic;
	uint32_t w = (uint32_t)value;

	if (off >= GICR_SGI_BASE + GICD_IPRIORITYR &&
	    off < GICR_SGI_BASE + GICD_IPRIORITYR + VGIC_PRIVATE) {
		priority_write(
		    v, n, (uint32_t)(off - GICR_SGI_BASE - GICD_IPRIORITYR),
		    size, value);
		return;
	}
	switch (off) {
	case GICR_WAKER:
		c->waker = w & GICR_WAKER_SLEEP;
		return;
	case GICR_SGI_BASE + GICD_ISENABLER:
		c->enabled |= w;
		break;
	case GICR_SGI_BASE + GICD_ICENABLER:
		c->enabled &= ~w;
		break;
	case GICR_SGI_BASE + GICD_ISPENDR:
		pend_private(t, w & ~bit(VGIC_INTID_VTIMER));
		break;
	case GICR_SGI_BASE + GICD_ICPENDR:
		if (w & c->pending & bit(VGIC_INTID_VTIMER)) {
			irqchip_clear_active(VGIC_INTID_VTIMER,
					     cpus[t->cpu].mpidr);
		}
		c->pending &= ~w;
		break;
	case GICR_SGI_BASE + GICD_ISACTIVER:
		c->active |= w & ~bit(VGIC_INTID_VTIMER);
		mark_private_active(t, w & ~bit(VGIC_INTID_VTIMER), true);
		break;
	case GICR_SGI_BASE + GICD_ICACTIVER:
		if (w & c->active & ~c->in_lr & bit(VGIC_INTID_VTIMER)) {
			irqchip_clear_active(VGIC_INTID_VTIMER,
					     cpus[t->cpu].mpidr);
		}
		c->active &= ~w;
		mark_private_active(t, w, false);
		break;
	case GICR_SGI_BASE + GICR_ICFGR1:
		for (uint32_t i = 16; i < VGIC_PRIVATE; i++) {
			bool edge = (w >> (2 * (i - 16))) & 2;

			c->edge = edge ? c->edge | bit(i) : c->edge & ~bit(i);
		}
		return;
	default:
		return;
	}
	touch(t);
}

void vgic_mmio(struct vcpu *v, const struct arch_trap_info *t)
{
	struct partition *p = v->part;
	struct partition_locked locked;
	uint64_t *reg = t->reg < 31 ? &v->regs.x[t->reg] : NULL;
	uint32_t size = t->access_size;
	uint64_t offset = 0;
	uint16_t n = 0;
	enum frame f = frame_of(p, ipa_addr(t->fault_ipa), &offset, &n);

	locked = partition_lock(p);
	if (t->write) {
		uint64_t value = reg != NULL ? *reg : 0;

		if (size < 8) {
			value &= (1ull << (8 * size)) - 1;
		}
		if (f == FRAME_GICD) {
			gicd_write(v, offset, size, value);
		} else {
			gicr_write(v, n, offset, size, value);
		}
	} else {
		uint64_t value = f == FRAME_GICD
				     ? gicd_read(v, offset, size)
				     : gicr_read(v, n, offset, size);

		if (size < 8) {
			value &= (1ull << (8 * size)) - 1;
		}
		if (reg != NULL) {
			*reg = t->reg64 ? value : (uint32_t)value;
		}
	}
	partition_unlock(&locked);
	arch_skip_instruction(&v->regs);
}

/* --- interrupts arriving ------------------------------------------------- */

void vgic_send_sgi(struct vcpu *v, uint64_t value)
{
	struct partition *p = v->part;
	struct partition_locked locked = partition_lock(p);
	uint32_t intid = SGIR_INTID(value);

	for (uint16_t i = 0; i < p->m->vcpu_count; i++) {
		struct vcpu *t = &p->vcpus[i];
		bool hit;

		if (value & SGIR_IRM) {
			hit = t != v; /* every other vCPU */
		} else {
			uint32_t aff0 = (uint32_t)SGIR_RS(value) * 16;

			/* a target's vMPIDR: Aff0 = its index, Aff1-3 = 0 */
			hit = SGIR_AFF1(value) == 0 && SGIR_AFF2(value) == 0 &&
			      SGIR_AFF3(value) == 0 && i >= aff0 &&
			      i < aff0 + 16 &&
			      (SGIR_TARGETS(value) & bit(i - aff0));
		}
		if (hit) {
			vgic_pend_private(t, intid);
		}
	}
	partition_unlock(&locked);
}

void vgic_pend_private(struct vcpu *t, uint32_t intid)
{
	if (intid >= VGIC_PRIVATE) {
		return;
	}
	pend_private(t, bit(intid));
	touch(t);
}

bool vgic_hw_interrupt(struct vcpu *here, uint32_t intid)
{
	struct partition_locked locked;
	struct partition *p;
	struct vcpu *t;
	int slot;

	if (intid == VGIC_INTID_VTIMER) {
		if (here == NULL) {
			return false;
		}
		/* its own vCPU, on this CPU: nothing to kick */
		locked = partition_lock(here->part);
		pend_private(here, bit(intid));
		here->vgic.dirty = true;
		if (here->wait == VCPU_WAIT_IDLE) {
			vcpu_resume(here);
		}
		partition_unlock(&locked);
		return true;
	}
	if (intid < VGIC_PRIVATE || intid >= ARRAY_SIZE(spi_owner) ||
	    spi_owner[intid] == NULL) {
		return false;
	}
	p = spi_owner[intid];
	locked = partition_lock(p);
	slot = spi_slot(&p->vgic, intid);
	t = &p->vcpus[p->vgic.target[slot]];
	pend_spis(p, bit((uint32_t)slot));
	touch(t);
	partition_unlock(&locked);
	return true;
}

void vgic_set_level(struct partition *p, uint32_t intid, bool level)
{
	struct partition_locked locked = partition_lock(p);
	struct vgic *g = &p->vgic;
	int slot = spi_slot(g, intid);
	uint32_t b;

	if (slot < 0) {
		partition_unlock(&locked);
		return;
	}
	b = bit((uint32_t)slot);
	if (((g->line & b) != 0) != level) {
		g->line = level ? g->line | b : g->line & ~b;
		g->pending = level ? g->pending | b : g->pending & ~b;
		touch(&p->vcpus[g->target[slot]]);
	}
	partition_unlock(&locked);
}

/* --- list registers ----------------------------------------------------- */

/* SPIs `v` may be given now: its own, enabled, the distributor on. */
static uint32_t spi_candidates(const struct vcpu *v, bool with_active)
{
	const struct vgic *g = &v->part->vgic;
	uint32_t pend =
	    (g->ctlr & GICD_CTLR_ENABLE_G1A) ? g->pending & g->enabled : 0;

	return (pend | (with_active ? g->active : 0)) & v->vgic.spi_mine;
}

/* The priority of the best of `priv` (private INTIDs) and `spis` (slots)
 * of `v`; 0x100 when both are empty. */
static uint32_t best_priority(const struct vcpu *v, uint32_t priv,
			      uint32_t spis)
{
	const struct vgic *g = &v->part->vgic;
	uint32_t best = 0x100;

	for (uint32_t m = priv; m != 0; m &= m - 1) {
		best = MIN(best, (uint32_t)v->vgic.priority[lowest(m)]);
	}
	for (uint32_t m = spis; m != 0; m &= m - 1) {
		best = MIN(best, (uint32_t)g->priority[lowest(m)]);
	}
	return best;
}

bool vgic_deliverable(const struct vcpu *v)
{
	const struct vgic_cpu *c = &v->vgic;
	const struct vgic *g = &v->part->vgic;
	uint32_t pending;
	uint32_t running;

	if (!arch_vgic_group1_enabled()) {
		return false;
	}
	pending =
	    best_priority(v, c->pending & c->enabled, spi_candidates(v, false));
	/* it must beat the priority mask and whatever the vCPU is handling */
	running = best_priority(v, c->active, g->active & c->spi_mine);
	return pending < arch_vgic_priority_mask() && pending < running;
}

/*
 * After the fold of `v`'s list registers: the ISACTIVER/ICACTIVER marks
 * written while they held the interrupts replace what the LRs said. A
 * linked one the guest had active that ICACTIVER ended: its physical one
 * is let go.
 */
static __attribute__((noinline)) void apply_active_marks(struct vcpu *v)
{
	struct vgic_cpu *c = &v->vgic;
	struct vgic *g = &v->part->vgic;
	uint32_t spis = c->spi_clear_active & g->active & g->hw;

	if (c->clear_active & c->active & bit(VGIC_INTID_VTIMER)) {
		irqchip_clear_active(VGIC_INTID_VTIMER, cpus[v->cpu].mpidr);
	}
	c->active = (c->active & ~c->clear_active) | c->set_active;
	for (uint32_t i = 0; i < g->spi_count; i++) {
		if (spis & bit(i)) {
			irqchip_clear_active(g->intid[i], 0);
		}
	}
	g->active = (g->active & ~c->spi_clear_active) | c->spi_set_active;
	c->set_active = 0;
	c->clear_active = 0;
	c->spi_set_active = 0;
	c->spi_clear_active = 0;
	c->active_marks = false;
}

/* Folds list register `i` (holding `intid`) back into the state. */
static void fold_lr(struct vcpu *v, unsigned int i, uint32_t intid)
{
	struct vgic_cpu *c = &v->vgic;
	struct vgic *g = &v->part->vgic;
	struct arch_lr lr;

	arch_vgic_read_lr(i, &lr);
	if (intid < VGIC_PRIVATE) {
		uint32_t b = bit(intid);
		/* still pending unless GICR_ICPENDR0 cleared it meanwhile */
		bool pend = (lr.pending && (c->pending & b)) || (c->repend & b);

		c->pending = pend ? c->pending | b : c->pending & ~b;
		c->active = lr.active ? c->active | b : c->active & ~b;
		c->repend &= ~b;
		c->in_lr &= ~b;
	} else {
		int slot = spi_slot(g, intid);
		uint32_t b;
		bool pend;

		if (slot < 0) {
			return;
		}
		b = bit((uint32_t)slot);
		if (!(g->edge & b) && !(g->hw & b)) {
			/* an emulated level source: pending while it is high */
			pend = (g->line & b) != 0;
		} else {
			pend =
			    (lr.pending && (g->pending & b)) || (g->repend & b);
		}
		g->pending = pend ? g->pending | b : g->pending & ~b;
		g->active = lr.active ? g->active | b : g->active & ~b;
		g->repend &= ~b;
		c->spi_in_lr &= ~b;
	}
}

/* The list register contents for `intid` of `v`. */
static void make_lr(const struct vcpu *v, uint32_t intid, struct arch_lr *lr)
{
	const struct vgic_cpu *c = &v->vgic;
	const struct vgic *g = &v->part->vgic;

	if (intid < VGIC_PRIVATE) {
		uint32_t b = bit(intid);

		*lr = (struct arch_lr){
		    .vintid = intid,
		    .priority = c->priority[intid],
		    .pending = (c->pending & b) != 0,
		    .active = (c->active & b) != 0,
		    .hw = intid == VGIC_INTID_VTIMER,
		};
	} else {
		int slot = spi_slot(g, intid);
		uint32_t b = bit((uint32_t)slot);

		*lr = (struct arch_lr){
		    .vintid = intid,
		    .priority = g->priority[slot],
		    .pending = (g->pending & b) != 0,
		    .active = (g->active & b) != 0,
		    .hw = (g->hw & b) != 0,
		    /* an emulated level line: look again when it is done */
		    .eoi_notify = !(g->hw & b) && !(g->edge & b),
		};
	}
}

/* The candidate with the best claim on a list register: active ones
 * first, then the highest priority (lowest value), then the lowest
 * INTID. UINT32_MAX when none is left. */
static uint32_t best_candidate(const struct vcpu *v, uint32_t priv,
			       uint32_t spis)
{
	const struct vgic_cpu *c = &v->vgic;
	const struct vgic *g = &v->part->vgic;
	uint32_t best = UINT32_MAX;
	uint32_t best_key = UINT32_MAX;

	/* (in INTID order: a tie keeps the lower INTID) */
	for (uint32_t m = priv; m != 0; m &= m - 1) {
		uint32_t i = lowest(m);
		uint32_t key =
		    ((c->active & bit(i)) ? 0 : 0x100u) | c->priority[i];

		if (key < best_key) {
			best_key = key;
			best = i;
		}
	}
	for (uint32_t m = spis; m != 0; m &= m - 1) {
		uint32_t i = lowest(m);
		uint32_t key =
		    ((g->active & bit(i)) ? 0 : 0x100u) | g->priority[i];

		if (key < best_key || (key == best_key && g->intid[i] < best)) {
			best_key = key;
			best = g->intid[i];
		}
	}
	return best;
}

void vgic_sync(struct vcpu *v)
{
	struct partition_locked locked = partition_lock(v->part);
	struct vgic_cpu *c = &v->vgic;
	struct vgic *g = &v->part->vgic;
	unsigned int lrs = arch_vgic_lr_count();
	uint32_t priv;
	uint32_t spis;
	uint16_t used = 0;

	c->dirty = false;
	/* what the guest did with the interrupts it was given */
	for (uint32_t m = c->lr_used; m != 0; m &= m - 1) {
		fold_lr(v, lowest(m), c->lr_intid[lowest(m)]);
	}
	if (c->active_marks) {
		apply_active_marks(v);
	}
	/* the best of what is pending or active, each in one LR */
	priv = (c->pending & c->enabled) | c->active;
	spis = spi_candidates(v, true);
	for (unsigned int i = 0; i < lrs && (priv | spis) != 0; i++) {
		/* (a single private one, the common case, needs no search) */
		uint32_t intid = spis == 0 && (priv & (priv - 1)) == 0
				     ? lowest(priv)
				     : best_candidate(v, priv, spis);
		struct arch_lr lr;

		make_lr(v, intid, &lr);
		arch_vgic_write_lr(i, &lr);
		c->lr_intid[i] = intid;
		used |= (uint16_t)(1u << i);
		if (intid < VGIC_PRIVATE) {
			priv &= ~bit(intid);
			c->in_lr |= bit(intid);
		} else {
			int slot = spi_slot(g, intid);

			spis &= ~bit((uint32_t)slot);
			c->spi_in_lr |= bit((uint32_t)slot);
		}
	}
	for (uint32_t m = c->lr_used & ~(uint32_t)used; m != 0; m &= m - 1) {
		arch_vgic_write_lr(lowest(m), NULL);
	}
	c->lr_used = used;
	/* more than fit: a maintenance interrupt when they run low */
	arch_vgic_control(priv != 0 || spis != 0);
	partition_unlock(&locked);
}
