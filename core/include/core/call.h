/* Guest HVC/SMC calls: PSCI, SMCCC and Bulkhead's vendor calls. */
#pragma once

#include <core/vm.h>

/* Handles the call in the vCPU's registers; results go to x0..x3. */
void call_handle(struct vcpu *v);
