/* Virtual interrupts for bare-metal partitions (guest/include/guest/irq.h). */
#include <guest/irq.h>

#define ICC_PMR_EL1	S3_0_C4_C6_0
#define ICC_IAR1_EL1	S3_0_C12_C12_0
#define ICC_EOIR1_EL1	S3_0_C12_C12_1
#define ICC_BPR1_EL1	S3_0_C12_C12_3
#define ICC_SRE_EL1	S3_0_C12_C12_5
#define ICC_IGRPEN1_EL1 S3_0_C12_C12_7

#define GICR_FRAME_SIZE	  0x20000ull
#define GICR_SGI_BASE	  0x10000ull
#define GICR_ISENABLER0	  0x100
#define GICR_ICENABLER0	  0x180
#define INTID_SPURIOUS	  1020u
#define ICC_IAR_INTID_MAX 0xffffffu

#define SYSREG_WRITE(reg, value) SYSREG_WRITE_(reg, value)
#define SYSREG_WRITE_(reg, value)                                              \
	do {                                                                   \
		uint64_t v_ = (uint64_t)(value);                               \
		__asm__ volatile("msr " #reg ", %0" ::"r"(v_) : "memory");     \
	} while (0)
#define SYSREG_READ(reg) SYSREG_READ_(reg)
#define SYSREG_READ_(reg)                                                      \
	({                                                                     \
		uint64_t v_;                                                   \
		__asm__ volatile("mrs %0, " #reg : "=r"(v_)::"memory");        \
		v_;                                                            \
	})

static uint64_t frames[CONFIG_MAX_CPUS];
static volatile guest_irq_handler handler;
static volatile uint64_t taken[CONFIG_MAX_CPUS];

/* Entered from vectors.S for an IRQ. */
void guest_irq(void);

void guest_irq_init(uint64_t gicr_base)
{
	unsigned int vcpu = guest_vcpu_index();

	frames[vcpu] = gicr_base + vcpu * GICR_FRAME_SIZE;
	SYSREG_WRITE(ICC_SRE_EL1, 0x7);
	__asm__ volatile("isb");
	SYSREG_WRITE(ICC_PMR_EL1, 0xff);
	SYSREG_WRITE(ICC_BPR1_EL1, 0);
	SYSREG_WRITE(ICC_IGRPEN1_EL1, 1);
	__asm__ volatile("isb");
}

void guest_irq_set_handler(guest_irq_handler fn)
{
	handler = fn;
}

static void write_bank(uint32_t offset, uint32_t intid)
{
	volatile uint32_t *reg =
	    (volatile uint32_t *)(uintptr_t)(frames[guest_vcpu_index()] +
					     GICR_SGI_BASE + offset);

	*reg = 1u << (intid & 31);
	__asm__ volatile("dsb sy" ::: "memory");
}

void guest_irq_enable(uint32_t intid)
{
	write_bank(GICR_ISENABLER0, intid);
}

void guest_irq_disable(uint32_t intid)
{
	write_bank(GICR_ICENABLER0, intid);
}

uint64_t guest_irq_count(void)
{
	return taken[guest_vcpu_index()];
}

void guest_irq(void)
{
	unsigned int vcpu = guest_vcpu_index();
	uint64_t iar;

	while (((iar = SYSREG_READ(ICC_IAR1_EL1)) & ICC_IAR_INTID_MAX) <
	       INTID_SPURIOUS) {
		guest_irq_handler fn = handler;

		taken[vcpu]++;
		if (fn != NULL) {
			fn((uint32_t)(iar & ICC_IAR_INTID_MAX));
		}
		SYSREG_WRITE(ICC_EOIR1_EL1, iar);
	}
}
