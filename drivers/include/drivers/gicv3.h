/* GICv3: the hypervisor uses SGIs to wake and stop CPUs. */
#pragma once

#include <stdint.h>

#define GIC_SGI_KICK 1
#define GIC_SPURIOUS 1023

void gicv3_init_distributor(uint64_t gicd_base, uint64_t gicr_base,
			    uint64_t gicr_size);
/* Per CPU: wakes this CPU's redistributor, enables the CPU interface. */
void gicv3_init_cpu(uint64_t mpidr);
void gicv3_send_sgi(uint64_t target_mpidr, uint32_t intid);
/* Acknowledges the highest pending interrupt; GIC_SPURIOUS if none. */
uint32_t gicv3_ack(void);
void gicv3_eoi(uint32_t intid);
