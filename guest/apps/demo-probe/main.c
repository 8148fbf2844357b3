/*
 * Demo partition: says who it is, then reads the page just past its own
 * RAM (another partition's in the demo manifest) and prints the abort the
 * hypervisor injected instead of the data.
 */
#include <guest/guest.h>

int main(void)
{
	struct guest_self me = guest_self();
	uint64_t target = me.mem_base + me.mem_size;
	struct guest_abort abort;
	uint64_t value;

	guest_printf("hello from %s: partition %u, vCPU %u on physical CPU %u, "
		     "memory %#lx-%#lx\n",
		     me.name, me.id, me.vcpu, me.cpu, me.mem_base, target);
	guest_printf("reading %#lx, outside my memory...\n", target);
	if (guest_probe_read(target, &value, &abort)) {
		guest_printf("read %#lx: no abort - isolation is broken!\n",
			     value);
		return 1;
	}
	guest_printf("data abort: ESR_EL1 %#lx (EC %#lx, FSC %#lx) FAR_EL1 "
		     "%#lx at pc %#lx\n",
		     abort.esr, ESR_EC(abort.esr), ESR_FSC(abort.esr),
		     abort.far, abort.elr);
	guest_printf("%s: done, SYSTEM_OFF\n", me.name);
	return 0;
}
