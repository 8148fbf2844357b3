/*
 * The virtual GICv3 each partition sees (core/vgic.c): a distributor and
 * one redistributor frame per vCPU, emulated by trapping their MMIO at the
 * board's GIC addresses; the CPU interface is the hardware's (list
 * registers, arch_vgic_* in core/arch.h), the guest's ICC_* accesses land
 * on ICV_*. SGIs (trapped ICC_SGI1R_EL1 writes) reach only vCPUs of the
 * same partition.
 *
 * What a partition owns: SGIs and PPIs of its own vCPUs (the virtual timer
 * PPI 27 is linked to the physical one), and the SPIs the manifest gives
 * it (its console's receive interrupt, emulated, and its pass-through
 * devices' interrupts, linked to the physical SPIs, which are routed to
 * the physical CPU of the vCPU the guest targets). Everything else reads
 * as zero and ignores writes.
 *
 * The state lives in bitmaps (bit n: private INTID n, or the partition's
 * SPI slot n) and is guarded by the partition's lock. List registers are
 * written only on the vCPU's own physical CPU (vgic_sync, before it
 * enters the guest); others mark the vCPU dirty and kick its CPU.
 */
#pragma once

#include <bulkhead/gicv3.h>
#include <core/arch.h>
#include <core/types.h>

#define VGIC_PRIVATE	       32
#define VGIC_SGIS	       16
#define VGIC_INTID_MAINTENANCE 25
#define VGIC_INTID_VTIMER      27
#define VGIC_GICD_SIZE	       0x10000ull
#define VGIC_GICR_FRAME_SIZE   ((uint64_t)GICR_FRAME_SIZE)
#define VGIC_MAX_LRS	       16

_Static_assert(CONFIG_MAX_PARTITION_SPIS <= 32,
	       "SPI state is kept in 32-bit maps");

/* Per vCPU: its SGIs and PPIs, and what its list registers hold. */
struct vgic_cpu {
	uint32_t enabled;
	uint32_t pending;
	uint32_t active;
	uint32_t edge;	 /* configured edge-triggered */
	uint32_t repend; /* a new edge came while it was in an LR */
	/* ISACTIVER0/ICACTIVER0 written while it was in an LR: applied when
	 * that LR is folded back (the LR's own active bit is stale then) */
	uint32_t set_active;
	uint32_t clear_active;
	uint32_t spi_set_active; /* the same for SPI slots in its LRs */
	uint32_t spi_clear_active;
	bool active_marks; /* any of the four is set */
	uint32_t in_lr;	   /* private INTIDs in a list register */
	uint32_t spi_in_lr;
	uint32_t spi_mine; /* the partition's SPIs routed to this vCPU */
	uint8_t priority[VGIC_PRIVATE];
	uint32_t waker; /* GICR_WAKER.ProcessorSleep */
	uint16_t lr_used;
	uint32_t lr_intid[VGIC_MAX_LRS];
	bool dirty; /* state changed: vgic_sync before entering */
};

/* Per partition: the distributor and the SPIs it owns (slot n). */
struct vgic {
	uint32_t ctlr;
	uint32_t spi_count;
	uint32_t intid[CONFIG_MAX_PARTITION_SPIS];
	uint8_t priority[CONFIG_MAX_PARTITION_SPIS];
	uint64_t irouter[CONFIG_MAX_PARTITION_SPIS];
	uint16_t target[CONFIG_MAX_PARTITION_SPIS]; /* vCPU index */
	uint32_t enabled;
	uint32_t pending;
	uint32_t active;
	uint32_t edge;
	uint32_t hw;   /* linked to the physical SPI of the same INTID */
	uint32_t line; /* emulated level sources: the line is high */
	uint32_t repend;
	uint32_t it_lines; /* GICD_TYPER.ITLinesNumber of this view */
};

struct partition;
struct partition_locked;
struct vcpu;

/* Once, before the first boot: the SPIs from the manifest, the physical
 * SPIs' owners. */
void vgic_init(struct partition *p);

/* The partition (locked) boots again: distributor and SPIs reset; its
 * pass-through SPIs disabled and deactivated physically. */
void vgic_partition_reset(struct partition_locked locked);

/* vCPU `v` starts (on its own CPU, partition locked): its private state,
 * list registers and virtual CPU interface reset; a linked virtual timer
 * interrupt it left active is deactivated. */
void vgic_vcpu_reset(struct vcpu *v);

/* Whether `ipa` is in the partition's view of the distributor or its
 * redistributors. */
bool vgic_claims(const struct partition *p, ipaddr_t ipa);

/* Emulates one trapped access to them (skips the instruction). */
void vgic_mmio(struct vcpu *v, const struct arch_trap_info *t);

/* A trapped ICC_SGI1R_EL1 write of `value` by `v`. */
void vgic_send_sgi(struct vcpu *v, uint64_t value);

/* Makes SGI or PPI `intid` pending for vCPU `t` (its partition locked by
 * the caller) and kicks its CPU: the hypervisor's own interrupts for a
 * partition (FF-A's notification pending and schedule receiver SGIs). */
void vgic_pend_private(struct vcpu *t, uint32_t intid);

/*
 * A physical interrupt the hypervisor took on this CPU (priority dropped,
 * still active): the virtual timer PPI for the vCPU pinned here, or a
 * pass-through SPI. False when nobody owns it (the caller deactivates).
 */
bool vgic_hw_interrupt(struct vcpu *here, uint32_t intid);

/* An emulated level-sensitive source of partition `p` (the console's
 * receive line) is now at `level`. Takes the partition's lock. */
void vgic_set_level(struct partition *p, uint32_t intid, bool level);

/* Whether vCPU `v` (on its own CPU, partition locked) has an interrupt it
 * could take now (pending, enabled, above its priority mask): a WFI
 * returns. */
bool vgic_deliverable(const struct vcpu *v);

/* On the vCPU's own CPU, before entering it: folds what the list
 * registers say back into the state and fills them with the highest
 * priority pending and the active interrupts. Takes the partition's
 * lock. */
void vgic_sync(struct vcpu *v);
