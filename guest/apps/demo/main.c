/*
 * Demo partition: says who it is, starts each of its other vCPUs with
 * PSCI CPU_ON, waits for them to switch off again, and powers off.
 */
#include <bulkhead/psci.h>
#include <guest/guest.h>

static void hello(const char *role)
{
	struct guest_self me = guest_self();

	guest_printf("hello from %s: partition %u, vCPU %u of %u on physical "
		     "CPU %u, memory %#lx-%#lx (%s)\n",
		     me.name, me.id, me.vcpu, me.vcpu_count, me.cpu,
		     me.mem_base, me.mem_base + me.mem_size, role);
}

void secondary_main(unsigned int vcpu)
{
	(void)vcpu;
	hello("secondary vCPU, started with CPU_ON");
}

int main(void)
{
	struct guest_self me = guest_self();

	hello("boot vCPU");
	for (unsigned int v = 1; v < me.vcpu_count; v++) {
		int64_t ret = guest_cpu_on(v);

		guest_printf("CPU_ON vCPU %u: %ld\n", v, ret);
		while (psci_affinity_info(v, 0) != PSCI_AFFINITY_OFF) {
			guest_cpu_relax();
		}
		guest_printf("vCPU %u is off again (AFFINITY_INFO)\n", v);
	}
	guest_printf("%s: done, SYSTEM_OFF\n", me.name);
	return 0;
}
