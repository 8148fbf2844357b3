/* Guest HVC/SMC calls: PSCI, SMCCC, FF-A and Bulkhead's vendor calls. */
#pragma once

#include <core/partition.h>

/* Handles the call in the vCPU's registers and writes its results. */
void call_handle(struct vcpu *v);
