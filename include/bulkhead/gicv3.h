/*
 * GICv3 (Arm IHI 0069) memory-mapped registers: offsets and bits of the
 * distributor (GICD) and of a redistributor's two 64 KiB frames (RD_base,
 * then SGI_base), as the hypervisor's driver (drivers/gicv3.c), its
 * virtual GIC (core/vgic.c), the guest SDK (guest/irq.c) and the unit
 * tests use them. Architecture facts only; no code.
 */
#pragma once

/* --- Distributor ---------------------------------------------------------- */
#define GICD_CTLR	0x0000
#define GICD_TYPER	0x0004
#define GICD_IIDR	0x0008
#define GICD_TYPER2	0x000c
#define GICD_IGROUPR	0x0080
#define GICD_ISENABLER	0x0100
#define GICD_ICENABLER	0x0180
#define GICD_ISPENDR	0x0200
#define GICD_ICPENDR	0x0280
#define GICD_ISACTIVER	0x0300
#define GICD_ICACTIVER	0x0380
#define GICD_IPRIORITYR 0x0400
#define GICD_ICFGR	0x0c00
#define GICD_IROUTER	0x6000
#define GICD_PIDR2	0xffe8

/* GICD_CTLR, in the view of a GIC with one security state (DS = 1) or of
 * the non-secure side: bit 1 enables group 1 (EnableGrp1/EnableGrp1A),
 * bit 4 turns affinity routing on (ARE/ARE_NS). */
#define GICD_CTLR_ENABLE_G0  (1u << 0)
#define GICD_CTLR_ENABLE_G1A (1u << 1)
#define GICD_CTLR_ARE	     (1u << 4)
#define GICD_CTLR_DS	     (1u << 6)
#define GICD_CTLR_RWP	     (1u << 31)

/* GICD_IROUTER<n>: Interrupt_Routing_Mode, and the affinity fields */
#define GICD_IROUTER_IRM      (1ull << 31)
#define GICD_IROUTER_AFF_MASK 0xff00ffffffull

/* GICD_PIDR2 / GICR_PIDR2 ArchRev field for GICv3 */
#define GIC_PIDR2_ARCH_V3 0x3b

/* --- Redistributor ------------------------------------------------------- */
#define GICR_FRAME_SIZE 0x20000 /* RD_base + SGI_base */
#define GICR_SGI_BASE	0x10000 /* SGI_base above RD_base */

/* RD_base frame */
#define GICR_CTLR	  0x0000
#define GICR_IIDR	  0x0004
#define GICR_TYPER	  0x0008
#define GICR_WAKER	  0x0014
#define GICR_PIDR2	  0xffe8
#define GICR_CTLR_RWP	  (1u << 3)
#define GICR_TYPER_LAST	  (1ull << 4)
#define GICR_WAKER_SLEEP  (1u << 1)
#define GICR_WAKER_ASLEEP (1u << 2)

/* SGI_base frame: SGIs and PPIs at the distributor's offsets for INTIDs
 * 0..31 (GICR_IGROUPR0 = GICD_IGROUPR and so on), and: */
#define GICR_ICFGR0 0x0c00
#define GICR_ICFGR1 0x0c04
