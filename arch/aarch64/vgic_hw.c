/*
 * The GICv3 virtual CPU interface of this CPU (ICH_*_EL2): list
 * registers, its control and the state a vCPU (re)starts with.
 */
#include <arch/sysreg.h>
#include <core/arch.h>

#define ICH_HCR_EL2  S3_4_C12_C11_0
#define ICH_VTR_EL2  S3_4_C12_C11_1
#define ICH_VMCR_EL2 S3_4_C12_C11_7

#define ICH_HCR_EN  (1ull << 0)
#define ICH_HCR_UIE (1ull << 1) /* maintenance when (nearly) no LR valid */

#define ICH_VMCR_VENG1	    (1ull << 1)
#define ICH_VMCR_VPMR(v)    (((v) >> 24) & 0xff)
#define ICH_VTR_LISTREGS(v) (((v)&0x1f) + 1)

#define LR_STATE_PENDING  (1ull << 62)
#define LR_STATE_ACTIVE	  (1ull << 63)
#define LR_HW		  (1ull << 61)
#define LR_GROUP1	  (1ull << 60)
#define LR_EOI		  (1ull << 41) /* HW = 0: maintenance on deactivation */
#define LR_PINTID_SHIFT	  32
#define LR_PRIORITY_SHIFT 48

/* ICH_LR<n>_EL2 and ICH_AP1R<n>_EL2 are not indexable: one case each. */
#define LR_CASES(op)                                                           \
	op(0, S3_4_C12_C12_0) op(1, S3_4_C12_C12_1) op(2, S3_4_C12_C12_2)      \
	    op(3, S3_4_C12_C12_3) op(4, S3_4_C12_C12_4) op(5, S3_4_C12_C12_5)  \
		op(6, S3_4_C12_C12_6) op(7, S3_4_C12_C12_7)                    \
		    op(8, S3_4_C12_C13_0) op(9, S3_4_C12_C13_1)                \
			op(10, S3_4_C12_C13_2) op(11, S3_4_C12_C13_3)          \
			    op(12, S3_4_C12_C13_4) op(13, S3_4_C12_C13_5)      \
				op(14, S3_4_C12_C13_6) op(15, S3_4_C12_C13_7)

static unsigned int lr_count;

unsigned int arch_vgic_lr_count(void)
{
	if (lr_count == 0) {
		lr_count = ICH_VTR_LISTREGS(read_sysreg(ICH_VTR_EL2));
	}
	return lr_count;
}

static uint64_t read_lr(unsigned int i)
{
#define READ_CASE(n, reg)                                                      \
	case n:                                                                \
		return read_sysreg(reg);
	switch (i) {
		LR_CASES(READ_CASE)
	default:
		return 0;
	}
#undef READ_CASE
}

static void write_lr(unsigned int i, uint64_t value)
{
#define WRITE_CASE(n, reg)                                                     \
	case n:                                                                \
		write_sysreg(reg, value);                                      \
		break;
	switch (i) {
		LR_CASES(WRITE_CASE)
	default:
		break;
	}
#undef WRITE_CASE
}

void arch_vgic_write_lr(unsigned int i, const struct arch_lr *lr)
{
	uint64_t value = 0;

	if (lr != NULL && (lr->pending || lr->active)) {
		value = lr->vintid | LR_GROUP1 |
			((uint64_t)lr->priority << LR_PRIORITY_SHIFT) |
			(lr->pending ? LR_STATE_PENDING : 0) |
			(lr->active ? LR_STATE_ACTIVE : 0);
		if (lr->hw) {
			value |=
			    LR_HW | ((uint64_t)lr->vintid << LR_PINTID_SHIFT);
		} else if (lr->eoi_notify) {
			value |= LR_EOI;
		}
	}
	write_lr(i, value);
}

void arch_vgic_read_lr(unsigned int i, struct arch_lr *lr)
{
	uint64_t value = read_lr(i);

	*lr = (struct arch_lr){
	    .vintid = (uint32_t)value,
	    .priority = (uint8_t)(value >> LR_PRIORITY_SHIFT),
	    .pending = (value & LR_STATE_PENDING) != 0,
	    .active = (value & LR_STATE_ACTIVE) != 0,
	    .hw = (value & LR_HW) != 0,
	    .eoi_notify = (value & LR_EOI) != 0,
	};
}

void arch_vgic_control(bool underflow)
{
	/* with a single list register, "at most one valid" always holds:
	 * the refill then waits for the next exit */
	bool uie = underflow && arch_vgic_lr_count() > 1;

	write_sysreg(ICH_HCR_EL2, ICH_HCR_EN | (uie ? ICH_HCR_UIE : 0));
}

uint8_t arch_vgic_priority_mask(void)
{
	return (uint8_t)ICH_VMCR_VPMR(read_sysreg(ICH_VMCR_EL2));
}

bool arch_vgic_group1_enabled(void)
{
	return (read_sysreg(ICH_VMCR_EL2) & ICH_VMCR_VENG1) != 0;
}

void arch_vgic_reset(void)
{
	unsigned int n = arch_vgic_lr_count();

	for (unsigned int i = 0; i < n; i++) {
		write_lr(i, 0);
	}
	/* no virtual interrupt active at any priority; the interface at its
	 * reset values (groups off, priority mask 0) */
	write_sysreg(S3_4_C12_C9_0, 0); /* ICH_AP1R0_EL2 */
	write_sysreg(S3_4_C12_C8_0, 0); /* ICH_AP0R0_EL2 */
	write_sysreg(ICH_VMCR_EL2, 0);
	write_sysreg(ICH_HCR_EL2, ICH_HCR_EN);
	isb();
}
