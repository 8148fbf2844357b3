/* Host stand-ins for the hypervisor's arch hooks, log and GIC. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <core/arch_mm.h>
#include <core/irqchip.h>
#include <core/log.h>

#include "fake_arch.h"

struct fake_tlb fake_tlb;

void arch_mm_sync_table_writes(void)
{
}

void arch_mm_zero_table(pte_t *table)
{
	memset(table, 0, PAGE_SIZE);
}

void arch_mm_invalidate_stage2(const struct mm_ptable *t, ipaddr_t begin,
			       ipaddr_t end)
{
	uint32_t mode;

	fake_tlb.calls++;
	fake_tlb.last_vmid = t->vmid;
	fake_tlb.last_begin = ipa_addr(begin);
	fake_tlb.last_end = ipa_addr(end);
	/* Break-before-make: by now the old translation must be gone. */
	if (fake_tlb.table != NULL &&
	    mm_get_mode(fake_tlb.table, begin, end, &mode) &&
	    !(mode & MM_MODE_INVALID)) {
		fake_tlb.live_at_invalidate++;
	}
}

void log_line(int level, const char *format, ...)
{
	va_list ap;

	(void)level;
	va_start(ap, format);
	vfprintf(stderr, format, ap);
	va_end(ap);
	fputc('\n', stderr);
}

_Noreturn void panic(const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	vfprintf(stderr, format, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* --- the GIC: virtual CPU interface and physical controller --------------- */

struct fake_vgic fake_vgic = {.lr_count = 4, .underflow = -1};
struct fake_irqchip fake_irqchip;

static void record(enum fake_irq_op op, uint32_t intid, uint64_t arg)
{
	if (fake_irqchip.count == FAKE_IRQ_CALLS_MAX) {
		panic("fake irqchip: more than %d calls", FAKE_IRQ_CALLS_MAX);
	}
	fake_irqchip.calls[fake_irqchip.count++] =
	    (struct fake_irq_call){op, intid, arg};
}

unsigned int fake_irq_calls(enum fake_irq_op op, uint32_t intid)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < fake_irqchip.count; i++) {
		const struct fake_irq_call *c = &fake_irqchip.calls[i];

		n += c->op == op && (intid == UINT32_MAX || c->intid == intid);
	}
	return n;
}

unsigned int arch_vgic_lr_count(void)
{
	return fake_vgic.lr_count;
}

void arch_vgic_read_lr(unsigned int i, struct arch_lr *lr)
{
	if (i >= fake_vgic.lr_count) {
		panic("fake vgic: read of LR %u of %u", i, fake_vgic.lr_count);
	}
	*lr = fake_vgic.lr[i];
}

void arch_vgic_write_lr(unsigned int i, const struct arch_lr *lr)
{
	if (i >= fake_vgic.lr_count) {
		panic("fake vgic: write of LR %u of %u", i, fake_vgic.lr_count);
	}
	/* as the hardware: neither pending nor active is an empty LR */
	if (lr == NULL || (!lr->pending && !lr->active)) {
		fake_vgic.lr[i] = (struct arch_lr){0};
	} else {
		fake_vgic.lr[i] = *lr;
	}
}

void arch_vgic_control(bool underflow)
{
	fake_vgic.underflow = underflow;
}

uint8_t arch_vgic_priority_mask(void)
{
	return fake_vgic.pmr;
}

bool arch_vgic_group1_enabled(void)
{
	return fake_vgic.group1;
}

void arch_vgic_reset(void)
{
	memset(fake_vgic.lr, 0, sizeof(fake_vgic.lr));
	fake_vgic.pmr = 0;
	fake_vgic.group1 = false;
	fake_vgic.resets++;
}

void arch_skip_instruction(struct arch_regs *regs)
{
	regs->pc += 4;
}

uint64_t arch_cpu_mpidr(void)
{
	return fake_vgic.mpidr;
}

void irqchip_send_sgi(uint64_t target_mpidr, uint32_t intid)
{
	record(FAKE_IRQ_SEND_SGI, intid, target_mpidr);
}

void irqchip_enable(uint32_t intid, uint64_t mpidr)
{
	record(FAKE_IRQ_ENABLE, intid, mpidr);
}

void irqchip_disable(uint32_t intid, uint64_t mpidr)
{
	record(FAKE_IRQ_DISABLE, intid, mpidr);
}

void irqchip_clear_active(uint32_t intid, uint64_t mpidr)
{
	record(FAKE_IRQ_CLEAR_ACTIVE, intid, mpidr);
}

void irqchip_set_edge(uint32_t intid, bool edge)
{
	record(FAKE_IRQ_SET_EDGE, intid, edge);
}

void irqchip_route(uint32_t intid, uint64_t mpidr)
{
	record(FAKE_IRQ_ROUTE, intid, mpidr);
}

/* The system counter and the hypervisor timer (core/deadline.c): a
 * counter the tests advance themselves; the timer is only recorded. */
uint64_t fake_counter;
uint64_t fake_timer_deadline;

uint64_t arch_counter_now(void)
{
	return fake_counter;
}

uint64_t arch_counter_hz(void)
{
	return 1000000;
}

void arch_hyp_timer_arm(uint64_t deadline)
{
	fake_timer_deadline = deadline;
}

void arch_hyp_timer_stop(void)
{
	fake_timer_deadline = 0;
}
