/* The EL2 physical timer as the hypervisor's one-shot wake-up
 * (core/include/core/arch_timer.h). */
#include <arch/sysreg.h>
#include <core/arch_timer.h>

#define CNTHP_CTL_ENABLE (1u << 0)

uint64_t arch_timer_now(void)
{
	isb();
	return read_sysreg(cntpct_el0);
}

uint64_t arch_timer_hz(void)
{
	return read_sysreg(cntfrq_el0);
}

void arch_timer_wake_at(uint64_t deadline)
{
	write_sysreg(cnthp_cval_el2, deadline);
	write_sysreg(cnthp_ctl_el2, CNTHP_CTL_ENABLE);
	isb();
}

void arch_timer_stop(void)
{
	write_sysreg(cnthp_ctl_el2, 0);
	isb();
}
