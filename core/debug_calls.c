/*
 * Debug-only hypercalls (CONFIG_DEBUG_CALLS, default n: unreachable, and
 * dropped by the linker, in products). BULKHEAD_DEBUG_PANIC makes the
 * hypervisor panic two calls below the dispatcher, so tests can check that the
 * crash report's backtrace names real functions.
 */
#include <core/debug_calls.h>
#include <core/log.h>
#include <core/partition.h>

static __attribute__((noinline)) _Noreturn void
debug_panic_report(const struct vcpu *v)
{
	panic("BULKHEAD_DEBUG_PANIC from partition %s", v->part->m->name);
}

__attribute__((noinline)) _Noreturn void debug_call_panic(const struct vcpu *v)
{
	debug_panic_report(v);
}
