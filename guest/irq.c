/* Interrupts for bare-metal partitions (see guest/include/guest/irq.h). */
#include <guest/dt.h>
#include <guest/irq.h>
#include <string.h>

#define ICC_SRE_SRE	  (1ull << 0)
#define ICC_SRE_DFB	  (1ull << 1)
#define ICC_SRE_DIB	  (1ull << 2)
#define ICC_CTLR_EOIMODE  (1ull << 1)
#define SGI1R_INTID_SHIFT 24
#define SGI1R_IRM	  (1ull << 40)
#define CNTV_CTL_ENABLE	  (1ull << 0)

struct handler {
	guest_irq_handler fn;
	void *arg;
};

/* SGIs and PPIs: each vCPU's own; SPIs: the partition's. */
static struct handler private_handlers[CONFIG_MAX_CPUS][GUEST_IRQ_PRIVATE];
static struct handler spi_handlers[GUEST_IRQ_MAX - GUEST_IRQ_PRIVATE];
static uint32_t unhandled;

static uint64_t gicd = GUEST_GICD_DEFAULT;
static uint64_t gicr = GUEST_GICR_DEFAULT;
static volatile bool distributor_on;

/* --- where the GIC is ------------------------------------------------------
 */

struct gic_search {
	const struct fdt *tree;
	bool found;
};

/* A child of "/" that is a GICv3: its first two reg regions. */
static void gic_child(const char *name, size_t len, void *ctx)
{
	static const char prefix[] = "interrupt-controller@";
	struct gic_search *s = ctx;
	char path[GUEST_DT_PATH_MAX];
	const uint8_t *value;
	uint32_t vlen;
	uint32_t cell = 0;
	uint64_t dist, dist_size, redist;

	if (s->found || len < sizeof(prefix) - 1 || len + 2 > sizeof(path) ||
	    memcmp(name, prefix, sizeof(prefix) - 1) != 0) {
		return;
	}
	path[0] = '/';
	memcpy(path + 1, name, len);
	path[len + 1] = '\0';
	if (!guest_dt_prop(s->tree, path, "compatible", &value, &vlen) ||
	    !fdt_stringlist_has(value, vlen, "arm,gic-v3") ||
	    !guest_dt_prop(s->tree, path, "reg", &value, &vlen)) {
		return;
	}
	/* the root's #address-cells and #size-cells are 2 */
	if (fdt_read_number(value, vlen, &cell, 2, &dist) &&
	    fdt_read_number(value, vlen, &cell, 2, &dist_size) &&
	    fdt_read_number(value, vlen, &cell, 2, &redist)) {
		gicd = dist;
		gicr = redist;
		s->found = true;
	}
}

static void find_gic(void)
{
	struct fdt tree;
	const char *error;
	struct gic_search s = {&tree, false};

	if (guest_dt(&tree, &error)) {
		guest_dt_children(&tree, "/", gic_child, &s);
	}
}

uint64_t guest_gicd_base(void)
{
	return gicd;
}

uint64_t guest_gicr_sgi_base(unsigned int vcpu)
{
	return gicr + vcpu * GICR_FRAME_SIZE + GICR_SGI_BASE;
}

static uint64_t gicr_rd_base(unsigned int vcpu)
{
	return gicr + vcpu * GICR_FRAME_SIZE;
}

static uint32_t read32(uint64_t addr)
{
	return *(volatile uint32_t *)(uintptr_t)addr;
}

static void write32(uint64_t addr, uint32_t value)
{
	*(volatile uint32_t *)(uintptr_t)addr = value;
}

/* --- the CPU interface -----------------------------------------------------
 */

void guest_irq_init(void)
{
	unsigned int me = guest_vcpu_index();
	uint64_t sre;

	guest_irq_mask_all();
	if (!distributor_on) {
		/* the boot vCPU calls first (the others start after it) */
		find_gic();
		write32(gicd + GICD_CTLR, GICD_CTLR_ARE | GICD_CTLR_ENABLE_G1A);
		distributor_on = true;
	}
	write32(gicr_rd_base(me) + GICR_WAKER,
		read32(gicr_rd_base(me) + GICR_WAKER) & ~GICR_WAKER_SLEEP);
	while (read32(gicr_rd_base(me) + GICR_WAKER) & GICR_WAKER_ASLEEP) {
		guest_cpu_relax();
	}
	__asm__ volatile("mrs %0, icc_sre_el1" : "=r"(sre));
	__asm__ volatile("msr icc_sre_el1, %0; isb" ::"r"(
	    sre | ICC_SRE_SRE | ICC_SRE_DFB | ICC_SRE_DIB));
	__asm__ volatile("msr icc_pmr_el1, %0" ::"r"(0xffull));
	__asm__ volatile("msr icc_bpr1_el1, %0" ::"r"(0ull));
	__asm__ volatile("mrs %0, icc_ctlr_el1" : "=r"(sre));
	__asm__ volatile("msr icc_ctlr_el1, %0" ::"r"(sre & ~ICC_CTLR_EOIMODE));
	__asm__ volatile("msr icc_igrpen1_el1, %0; isb" ::"r"(1ull));
}

static struct handler *handler_of(uint32_t intid)
{
	if (intid < GUEST_IRQ_PRIVATE) {
		return &private_handlers[guest_vcpu_index() % CONFIG_MAX_CPUS]
					[intid];
	}
	return intid < GUEST_IRQ_MAX ? &spi_handlers[intid - GUEST_IRQ_PRIVATE]
				     : NULL;
}

bool guest_irq_register(uint32_t intid, guest_irq_handler fn, void *arg)
{
	struct handler *h = handler_of(intid);

	if (h == NULL) {
		return false;
	}
	h->fn = NULL; /* no handler runs with half of the pair */
	__asm__ volatile("" ::: "memory");
	h->arg = arg;
	__asm__ volatile("" ::: "memory");
	h->fn = fn;
	return true;
}

/* Entered from guest_exception() for an IRQ: every interrupt pending. */
void guest_irq_dispatch(void);

void guest_irq_dispatch(void)
{
	for (;;) {
		uint64_t iar;
		uint32_t intid;
		struct handler *h;

		__asm__ volatile("mrs %0, icc_iar1_el1" : "=r"(iar)::"memory");
		intid = (uint32_t)iar & 0xffffff;
		if (intid >= GUEST_IRQ_MAX) {
			return; /* spurious: nothing (more) pending */
		}
		h = handler_of(intid);
		if (h->fn != NULL) {
			h->fn(intid, h->arg);
		} else {
			unhandled++;
		}
		__asm__ volatile("msr icc_eoir1_el1, %0; isb" ::"r"(iar)
				 : "memory");
	}
}

uint32_t guest_irq_unhandled(void)
{
	return unhandled;
}

/* --- distributor and redistributor ------------------------------------------
 */

/* The register of bank `bank` (one bit per INTID) holding `intid`. */
static uint64_t bank_reg(uint64_t bank, uint32_t intid)
{
	if (intid < GUEST_IRQ_PRIVATE) {
		return guest_gicr_sgi_base(guest_vcpu_index()) + bank;
	}
	return gicd + bank + 4 * (intid / 32);
}

void guest_irq_enable(uint32_t intid)
{
	write32(bank_reg(GICD_ISENABLER, intid), 1u << (intid % 32));
}

void guest_irq_disable(uint32_t intid)
{
	write32(bank_reg(GICD_ICENABLER, intid), 1u << (intid % 32));
}

bool guest_irq_enabled(uint32_t intid)
{
	return (read32(bank_reg(GICD_ISENABLER, intid)) >> (intid % 32)) & 1;
}

void guest_irq_set_pending(uint32_t intid)
{
	write32(bank_reg(GICD_ISPENDR, intid), 1u << (intid % 32));
}

static volatile uint8_t *priority_reg(uint32_t intid)
{
	uint64_t base = intid < GUEST_IRQ_PRIVATE
			    ? guest_gicr_sgi_base(guest_vcpu_index())
			    : gicd;

	return (volatile uint8_t *)(uintptr_t)(base + GICD_IPRIORITYR + intid);
}

void guest_irq_set_priority(uint32_t intid, uint8_t priority)
{
	*priority_reg(intid) = priority;
}

uint8_t guest_irq_priority(uint32_t intid)
{
	return *priority_reg(intid);
}

void guest_irq_set_edge(uint32_t intid, bool edge)
{
	uint64_t reg =
	    (intid < GUEST_IRQ_PRIVATE ? guest_gicr_sgi_base(guest_vcpu_index())
				       : gicd) +
	    GICD_ICFGR + 4 * (intid / 16);
	uint32_t field = 2u << (2 * (intid % 16));
	uint32_t v = read32(reg);

	write32(reg, edge ? v | field : v & ~field);
}

void guest_irq_route(uint32_t intid, unsigned int vcpu)
{
	*(volatile uint64_t *)(uintptr_t)(gicd + GICD_IROUTER + 8ull * intid) =
	    vcpu & 0xff;
}

uint64_t guest_irq_router(uint32_t intid)
{
	return *(volatile uint64_t *)(uintptr_t)(gicd + GICD_IROUTER +
						 8ull * intid);
}

/* --- SGIs and the priority mask ------------------------------------------ */

void guest_sgi_write(uint64_t sgi1r)
{
	__asm__ volatile("dsb ishst; msr icc_sgi1r_el1, %0; isb" ::"r"(sgi1r)
			 : "memory");
}

void guest_sgi_send(uint32_t intid, uint16_t targets)
{
	guest_sgi_write(((uint64_t)(intid & 0xf) << SGI1R_INTID_SHIFT) |
			targets);
}

void guest_sgi_send_others(uint32_t intid)
{
	guest_sgi_write(((uint64_t)(intid & 0xf) << SGI1R_INTID_SHIFT) |
			SGI1R_IRM);
}

void guest_irq_set_mask(uint8_t pmr)
{
	__asm__ volatile("msr icc_pmr_el1, %0; isb" ::"r"((uint64_t)pmr)
			 : "memory");
}

uint8_t guest_irq_mask(void)
{
	uint64_t pmr;

	__asm__ volatile("mrs %0, icc_pmr_el1" : "=r"(pmr));
	return (uint8_t)pmr;
}

uint32_t guest_irq_wait_count(const volatile uint32_t *counter, uint32_t value)
{
	uint32_t wfis = 0;

	/* masked while looking, so an interrupt that comes between the
	 * check and the WFI ends the WFI instead of being missed */
	guest_irq_mask_all();
	while (*counter < value) {
		__asm__ volatile("dsb sy; wfi" ::: "memory");
		wfis++;
		guest_irq_unmask();
		__asm__ volatile("isb" ::: "memory");
		guest_irq_mask_all();
	}
	guest_irq_unmask();
	return wfis;
}

/* --- the virtual timer -----------------------------------------------------
 */

uint64_t guest_timer_now(void)
{
	uint64_t v;

	__asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(v)::"memory");
	return v;
}

uint64_t guest_timer_freq(void)
{
	uint64_t v;

	__asm__ volatile("mrs %0, cntfrq_el0" : "=r"(v));
	return v;
}

void guest_timer_arm_at(uint64_t cval)
{
	__asm__ volatile(
	    "msr cntv_cval_el0, %0; msr cntv_ctl_el0, %1; isb" ::"r"(cval),
	    "r"(CNTV_CTL_ENABLE)
	    : "memory");
}

void guest_timer_arm_in(uint64_t ticks)
{
	guest_timer_arm_at(guest_timer_now() + ticks);
}

void guest_timer_stop(void)
{
	__asm__ volatile("msr cntv_ctl_el0, xzr; isb" ::: "memory");
}
