/* Crash-report test partition: asks the hypervisor to panic with the
 * debug-only call BULKHEAD_DEBUG_PANIC (a product built with
 * CONFIG_DEBUG_CALLS, tests/board/panic.dts). Without that option the call
 * is unknown and returns NOT_SUPPORTED, which this partition prints. */
#include <bulkhead/hypercall.h>
#include <guest/guest.h>

int main(void)
{
	struct smccc_res r;

	guest_printf("crasher: asking the hypervisor to panic\n");
	r = hvc_call(BULKHEAD_DEBUG_PANIC, 0, 0, 0, 0, 0, 0, 0);
	guest_printf("crasher: the call returned %ld\n", (long)r.x[0]);
	return 0;
}
