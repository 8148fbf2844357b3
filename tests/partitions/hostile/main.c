/* The hostile scenario's image: the role comes from the partition's name
 * (common.h). */
#include "common.h"

#include <bulkhead/hypercall.h>
#include <string.h>

struct pool_info pool_info(void)
{
	struct smccc_res r = hvc_call(BULKHEAD_POOL_INFO, 0, 0, 0, 0, 0, 0, 0);

	return (struct pool_info){r.x[1], r.x[2], r.x[3]};
}

void secondary_main(unsigned int context)
{
	/* only the fuzzer has a second vCPU */
	fuzzer_secondary(context);
}

int main(void)
{
	struct guest_self me = guest_self();

	if (strcmp(me.name, "fuzzer") == 0) {
		return fuzzer_main();
	}
	if (strcmp(me.name, "victim") == 0) {
		return victim_main();
	}
	if (strcmp(me.name, "checker") == 0) {
		return checker_main();
	}
	guest_printf("hostile: no role for partition %s\n", me.name);
	return 1;
}
