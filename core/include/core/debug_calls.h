/* Debug-only hypercalls: compiled in with CONFIG_DEBUG_CALLS. */
#pragma once

struct vcpu;

/* BULKHEAD_DEBUG_PANIC: the hypervisor panics; never returns. */
_Noreturn void debug_call_panic(const struct vcpu *v);
