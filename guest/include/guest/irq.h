/*
 * Interrupts for bare-metal partitions: the GICv3 the partition sees
 * (Bulkhead's virtual distributor and one redistributor frame per vCPU,
 * emulated; the CPU interface is the hardware's, through ICC_*_EL1) and
 * the EL1 virtual timer.
 *
 *   guest_irq_init();                       (on every vCPU that takes any)
 *   guest_irq_register(GUEST_IRQ_VTIMER, tick, NULL);
 *   guest_irq_enable(GUEST_IRQ_VTIMER);
 *   guest_timer_arm_in(guest_timer_freq() / 1000);
 *   guest_irq_unmask();
 *
 * A handler runs in the exception vector with interrupts masked (no
 * nesting), after the interrupt was acknowledged (ICC_IAR1_EL1); the SDK
 * ends it (ICC_EOIR1_EL1, which also deactivates it: EOImode 0) when the
 * handler returns. A level-sensitive device's handler must clear the
 * device's request before returning, or it comes again at once.
 *
 * INTIDs: SGIs 0-15 and PPIs 16-31 are the calling vCPU's own (enabling
 * one enables it on the calling vCPU); SPIs 32-1019 are the partition's,
 * those the manifest gives it (its console's receive line and its
 * devices'); the others read as zero and ignore writes.
 */
#pragma once

#include <bulkhead/gicv3.h>

#include <guest/guest.h>

#define GUEST_IRQ_SGI_COUNT 16
#define GUEST_IRQ_PRIVATE   32
#define GUEST_IRQ_MAX	    1020 /* INTIDs 0..1019 */
#define GUEST_IRQ_VTIMER    27	 /* the EL1 virtual timer's PPI */
#define GUEST_IRQ_SPURIOUS  1023

/* The GIC's addresses as the partition sees them (the distributor, the
 * first vCPU's redistributor frame): from the partition's device tree at
 * the first guest_irq_init(), else QEMU virt's. */
#define GUEST_GICD_DEFAULT 0x08000000ull
#define GUEST_GICR_DEFAULT 0x080a0000ull
uint64_t guest_gicd_base(void);
/* The SGI_base frame of vCPU `vcpu`'s redistributor. */
uint64_t guest_gicr_sgi_base(unsigned int vcpu);

typedef void (*guest_irq_handler)(uint32_t intid, void *arg);

/*
 * The calling vCPU's CPU interface: system registers on (ICC_SRE_EL1),
 * its redistributor awake, priority mask open (0xff), EOImode 0, group 1
 * on. The first call also turns the distributor on (group 1, affinity
 * routing). Interrupts stay masked at the CPU (PSTATE.I) until
 * guest_irq_unmask().
 */
void guest_irq_init(void);

/*
 * `fn(intid, arg)` handles `intid` from now on; NULL removes it. An SGI or
 * PPI's handler is the calling vCPU's own; an SPI's is the partition's
 * (whichever vCPU it is routed to). False for an INTID past 1019.
 */
bool guest_irq_register(uint32_t intid, guest_irq_handler fn, void *arg);

/* Enables / disables `intid` (GICR_ISENABLER0 of the calling vCPU, or
 * GICD_ISENABLER<n>). */
void guest_irq_enable(uint32_t intid);
void guest_irq_disable(uint32_t intid);
/* Whether it reads back enabled. */
bool guest_irq_enabled(uint32_t intid);
/* Makes it pending (GICR_ISPENDR0 / GICD_ISPENDR<n>). */
void guest_irq_set_pending(uint32_t intid);
/* Its priority (0 highest; the CPU interface may drop low bits: use
 * multiples of 8). */
void guest_irq_set_priority(uint32_t intid, uint8_t priority);
uint8_t guest_irq_priority(uint32_t intid);
/* A PPI or SPI edge-triggered (else level-sensitive). */
void guest_irq_set_edge(uint32_t intid, bool edge);
/* SPI `intid` to vCPU `vcpu` (GICD_IROUTER: Aff0 = the vCPU's index). */
void guest_irq_route(uint32_t intid, unsigned int vcpu);
/* GICD_IROUTER<intid> as it reads back. */
uint64_t guest_irq_router(uint32_t intid);

/* SGI `intid` (0..15) to the vCPUs in `targets` (bit n: vCPU n, n < 16),
 * or to every vCPU but the caller: ICC_SGI1R_EL1 (trapped and emulated by
 * the hypervisor, which keeps it inside the partition). */
void guest_sgi_send(uint32_t intid, uint16_t targets);
void guest_sgi_send_others(uint32_t intid);
/* The raw ICC_SGI1R_EL1 write (affinity fields, range selector, IRM). */
void guest_sgi_write(uint64_t sgi1r);

/* The priority mask (ICC_PMR_EL1): only interrupts of a priority value
 * below it are signalled. */
void guest_irq_set_mask(uint8_t pmr);
uint8_t guest_irq_mask(void);

/* PSTATE.I: the CPU takes interrupts / does not. */
static inline void guest_irq_unmask(void)
{
	__asm__ volatile("msr daifclr, #2" ::: "memory");
}

static inline void guest_irq_mask_all(void)
{
	__asm__ volatile("msr daifset, #2" ::: "memory");
}

/* Waits (WFI, the vCPU idles) until *counter >= value; interrupts are
 * unmasked on return. Returns how many WFIs it executed. */
uint32_t guest_irq_wait_count(const volatile uint32_t *counter, uint32_t value);

/* Interrupts the SDK took that had no handler (acknowledged and ended). */
uint32_t guest_irq_unhandled(void);

/* --- the EL1 virtual timer (PPI 27) --------------------------------------- */
uint64_t guest_timer_now(void);	 /* CNTVCT_EL0 */
uint64_t guest_timer_freq(void); /* CNTFRQ_EL0, ticks per second */
/* Fires (PPI 27 pending) once CNTVCT_EL0 >= `cval`. */
void guest_timer_arm_at(uint64_t cval);
void guest_timer_arm_in(uint64_t ticks);
/* No more interrupts from it (disabled). */
void guest_timer_stop(void);
