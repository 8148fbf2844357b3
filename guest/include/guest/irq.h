/*
 * Minimal virtual interrupts for bare-metal partitions: the GICv3 CPU
 * interface (ICC_* system registers, group 1), SGIs and PPIs of the
 * calling vCPU enabled in its redistributor frame, and one handler called
 * from the IRQ vector with each acknowledged INTID (then EOI).
 *
 *   guest_irq_init(0x080a0000);                 // the board's GICR base
 *   guest_irq_set_handler(on_irq);
 *   guest_irq_enable(FFA_NOTIFY_NPI_INTID);     // on this vCPU
 *   guest_irq_unmask();
 */
#pragma once

#include <guest/guest.h>

/* The interrupts a vCPU takes arrive in `fn(intid)`; IRQs stay masked
 * (PSTATE.I) in it. */
typedef void (*guest_irq_handler)(uint32_t intid);

/* On each vCPU that takes interrupts: its CPU interface on (SRE, priority
 * mask open, group 1 enabled); its redistributor frame is the
 * `gicr_base` + vCPU index * 128 KiB. */
void guest_irq_init(uint64_t gicr_base);
void guest_irq_set_handler(guest_irq_handler fn);

/* Enables or disables SGI/PPI `intid` (< 32) of the calling vCPU. */
void guest_irq_enable(uint32_t intid);
void guest_irq_disable(uint32_t intid);

static inline void guest_irq_unmask(void)
{
	__asm__ volatile("msr daifclr, #2" ::: "memory");
}

static inline void guest_irq_mask(void)
{
	__asm__ volatile("msr daifset, #2" ::: "memory");
}

/* Interrupts taken on this vCPU since it started (the handler's calls). */
uint64_t guest_irq_count(void);
