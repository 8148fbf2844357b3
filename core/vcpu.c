/* Waking and idling vCPUs (see core/include/core/vcpu.h). */
#include <core/arch.h>
#include <core/irqchip.h>
#include <core/vcpu.h>

void vcpu_resume(struct vcpu *v)
{
	/* Release: the result registers written before are seen by the
	 * vCPU's CPU once it sees RUNNABLE (vcpu_runnable_now). */
	__atomic_store_n(&v->wait, VCPU_RUNNABLE, __ATOMIC_RELEASE);
	cpu_kick(v->cpu);
}

void cpu_kick(uint8_t cpu)
{
	if (cpus[cpu].mpidr != arch_cpu_mpidr()) {
		irqchip_send_sgi(cpus[cpu].mpidr, IRQCHIP_SGI_KICK);
	}
}
