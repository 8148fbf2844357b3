/* Guest calls over HVC or SMC: PSCI 1.1, SMCCC 1.2, FF-A (core/ffa.c) and
 * Bulkhead vendor calls. Unknown calls return NOT_SUPPORTED (-1) with x1..x3
 * zero. */
#include <bulkhead/ffa.h>
#include <bulkhead/hypercall.h>
#include <bulkhead/psci.h>
#include <bulkhead/smccc.h>
#include <core/call.h>
#include <core/debug_calls.h>
#include <core/ffa.h>
#include <core/lifecycle.h>
#include <core/log.h>

struct call_result {
	uint64_t x[9];
	int count; /* result registers written (the rest keep their value) */
};

static struct call_result ret1(int64_t value)
{
	return (struct call_result){.x = {(uint64_t)value}, .count = 4};
}

static bool psci_function_supported(uint32_t fn)
{
	switch (fn) {
	case PSCI_VERSION:
	case PSCI_CPU_SUSPEND_32:
	case PSCI_CPU_SUSPEND_64:
	case PSCI_CPU_OFF:
	case PSCI_CPU_ON_32:
	case PSCI_CPU_ON_64:
	case PSCI_AFFINITY_INFO_32:
	case PSCI_AFFINITY_INFO_64:
	case PSCI_MIGRATE_INFO_TYPE:
	case PSCI_SYSTEM_OFF:
	case PSCI_SYSTEM_RESET:
	case PSCI_FEATURES:
	case SMCCC_VERSION:
		return true;
	default:
		return false;
	}
}

static uint64_t pack_name(const char *name, int offset)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++) {
		char c = name[offset + i];

		if (c == '\0') {
			break;
		}
		v |= (uint64_t)(uint8_t)c << (8 * i);
		if (offset + i + 1 >= MANIFEST_NAME_MAX) {
			break;
		}
	}
	return v;
}

static struct call_result self_info(const struct vcpu *v)
{
	const struct manifest_partition *m = v->part->m;
	size_t len = 0;

	while (len < 8 && m->name[len] != '\0') {
		len++;
	}
	return (struct call_result){
	    .x = {0, m->id, v->index, v->cpu, m->mem[0].base, m->mem[0].size,
		  pack_name(m->name, 0), len == 8 ? pack_name(m->name, 8) : 0,
		  m->vcpu_count},
	    .count = 9};
}

/* Returns true when the vCPU must not be resumed (it went off). */
static bool dispatch(struct vcpu *v, uint32_t fn, const uint64_t *a,
		     struct call_result *r)
{
	switch (fn) {
	case PSCI_VERSION:
		*r = ret1(PSCI_VERSION_1_1);
		break;
	case PSCI_FEATURES:
		*r = ret1(psci_function_supported((uint32_t)a[1])
			      ? PSCI_SUCCESS
			      : PSCI_NOT_SUPPORTED);
		break;
	case PSCI_CPU_SUSPEND_32:
	case PSCI_CPU_SUSPEND_64:
		/* No virtual wake-up sources: the suspend ends at once, as
		 * PSCI allows for a state left early. */
		*r = ret1(PSCI_SUCCESS);
		break;
	case PSCI_CPU_ON_32:
	case PSCI_CPU_ON_64:
		*r = ret1(lifecycle_cpu_on(v, a[1], a[2], a[3]));
		break;
	case PSCI_AFFINITY_INFO_32:
	case PSCI_AFFINITY_INFO_64:
		*r = ret1(lifecycle_affinity_info(v, a[1], a[2]));
		break;
	case PSCI_MIGRATE_INFO_TYPE:
		*r = ret1(PSCI_MIGRATE_NOT_REQUIRED);
		break;
	case PSCI_CPU_OFF:
		lifecycle_cpu_off(v);
		return true;
	case PSCI_SYSTEM_OFF:
		INFO("partition %s: SYSTEM_OFF", v->part->m->name);
		lifecycle_system_off(v);
		return true;
	case PSCI_SYSTEM_RESET:
		INFO("partition %s: SYSTEM_RESET", v->part->m->name);
		lifecycle_system_reset(v);
		return true;
	case SMCCC_VERSION:
		*r = ret1(SMCCC_VERSION_1_2);
		break;
	case SMCCC_ARCH_FEATURES:
		*r = ret1(((uint32_t)a[1] == SMCCC_VERSION ||
			   (uint32_t)a[1] == SMCCC_ARCH_FEATURES)
			      ? 0
			      : SMCCC_NOT_SUPPORTED);
		break;
	case BULKHEAD_CALL_UID:
		*r = (struct call_result){.x = {BULKHEAD_UID_0, BULKHEAD_UID_1,
						BULKHEAD_UID_2, BULKHEAD_UID_3},
					  .count = 4};
		break;
	case BULKHEAD_REVISION:
		*r = (struct call_result){
		    .x = {BULKHEAD_REVISION_MAJOR, BULKHEAD_REVISION_MINOR},
		    .count = 4};
		break;
	case BULKHEAD_SELF_INFO:
		*r = self_info(v);
		break;
	case BULKHEAD_POOL_INFO:
		*r = (struct call_result){.x = {0, partition_pages_free(),
						CONFIG_PAGE_POOL_PAGES,
						ffa_mem_slots_in_use()},
					  .count = 4};
		break;
	case BULKHEAD_DEBUG_PANIC:
		if (IS_ENABLED(CONFIG_DEBUG_CALLS)) {
			debug_call_panic(v);
		}
		*r = ret1(SMCCC_NOT_SUPPORTED);
		break;
	default:
		*r = ret1(SMCCC_NOT_SUPPORTED);
		break;
	}
	return false;
}

/* PSCI, SMCCC and vendor calls (everything but FF-A); kept out of line so
 * that the FF-A path through call_handle sets up no frame. */
static __attribute__((noinline)) void other_call(struct vcpu *v, uint32_t fn)
{
	uint64_t args[8];
	struct call_result r;

	for (int i = 0; i < 8; i++) {
		args[i] = v->regs.x[i];
		if (!(fn & SMCCC_64BIT)) {
			args[i] = (uint32_t)args[i];
		}
	}
	if (dispatch(v, fn, args, &r)) {
		return;
	}
	for (int i = 0; i < r.count; i++) {
		v->regs.x[i] = r.x[i];
	}
}

void call_handle(struct vcpu *v)
{
	uint32_t fn = (uint32_t)v->regs.x[0];

	if (ffa_is_function_id(fn)) {
		ffa_handle(v);
	} else {
		other_call(v, fn);
	}
}
