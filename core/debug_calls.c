/*
 * Debug-only hypercalls (CONFIG_DEBUG_CALLS, default n: absent from
 * products). BULKHEAD_DEBUG_PANIC makes the hypervisor panic two calls
 * below the dispatcher, so tests can check that the crash report's
 * backtrace names real functions.
 */
#include <core/debug_calls.h>
#include <core/log.h>
#include <core/vm.h>

#ifdef CONFIG_DEBUG_CALLS

static __attribute__((noinline)) _Noreturn void
debug_panic_report(const struct vcpu *v)
{
	panic("BULKHEAD_DEBUG_PANIC from partition %s", v->part->m->name);
}

__attribute__((noinline)) _Noreturn void debug_call_panic(const struct vcpu *v)
{
	debug_panic_report(v);
}

#endif
