/*
 * The physical interrupt controller, as the core uses it. A driver in
 * drivers/ implements this interface for the board's controller
 * (drivers/gicv3.c today); the build picks one, so calls are direct.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* The SGI the hypervisor sends to make another CPU look at its vCPU. */
#define IRQCHIP_SGI_KICK 1
/* What irqchip_ack returns when nothing is pending. */
#define IRQCHIP_SPURIOUS 1023

/* Once, on the boot CPU: the distributor at `dist_base`, CPU interfaces
 * (redistributors) in [cpu_base, cpu_base + cpu_size). */
void irqchip_init(uint64_t dist_base, uint64_t cpu_base, uint64_t cpu_size);

/* On each CPU (the one with `mpidr`): its own interface, SGIs enabled. */
void irqchip_init_cpu(uint64_t mpidr);

/* Sends SGI `intid` to the CPU with affinity `target_mpidr`. */
void irqchip_send_sgi(uint64_t target_mpidr, uint32_t intid);

/* Acknowledges the highest-priority pending interrupt of this CPU;
 * IRQCHIP_SPURIOUS when none is. */
uint32_t irqchip_ack(void);

/* Ends the handling of an acknowledged interrupt. */
void irqchip_eoi(uint32_t intid);

/* With EOImode 1, irqchip_eoi only drops the running priority; this
 * deactivates an acknowledged interrupt (one nobody else will). */
void irqchip_deactivate(uint32_t intid);

/*
 * Interrupts linked to virtual ones. `intid` is an SPI, or a PPI of the
 * CPU with affinity `mpidr` (ignored for SPIs).
 */
void irqchip_enable(uint32_t intid, uint64_t mpidr);
/* Disables it and waits until the distributor has. */
void irqchip_disable(uint32_t intid, uint64_t mpidr);
/* Deactivates it (a guest that was handling it is gone). */
void irqchip_clear_active(uint32_t intid, uint64_t mpidr);
/* SPI `intid`: edge-triggered, else level-sensitive. */
void irqchip_set_edge(uint32_t intid, bool edge);
/* SPI `intid` goes to the CPU with affinity `mpidr`. */
void irqchip_route(uint32_t intid, uint64_t mpidr);
