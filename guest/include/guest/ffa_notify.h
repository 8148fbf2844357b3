/*
 * FF-A notification calls for bare-metal partitions (guest/notify.c).
 * Return 0 or a negative FF-A error code, as the rest of <guest/ffa.h>.
 */
#pragma once

#include <bulkhead/ffa_notify.h>
#include <guest/ffa.h>

/* FFA_NOTIFICATION_BIND / UNBIND of `bitmap` from `sender` to `self`
 * (flags: FFA_NOTIFY_FLAG_PER_VCPU). */
int32_t ffa_notification_bind(uint16_t sender, uint16_t self, uint32_t flags,
			      uint64_t bitmap);
int32_t ffa_notification_unbind(uint16_t sender, uint16_t self,
				uint64_t bitmap);

/* FFA_NOTIFICATION_SET from `self` to `receiver`; flags as the call's w2
 * (per-vCPU, delay SRI, vCPU << FFA_NOTIFY_VCPU_SHIFT). */
int32_t ffa_notification_set(uint16_t self, uint16_t receiver, uint32_t flags,
			     uint64_t bitmap);

/* What FFA_NOTIFICATION_GET returns. */
struct ffa_notifications {
	uint64_t from_sp;
	uint64_t from_vm;
	uint32_t spm_framework;
	uint32_t hyp_framework;
};

/* FFA_NOTIFICATION_GET for `self`'s vCPU `vcpu` (flags FFA_NOTIFY_GET_*). */
int32_t ffa_notification_get(uint16_t self, uint16_t vcpu, uint32_t flags,
			     struct ffa_notifications *out);

/* FFA_NOTIFICATION_INFO_GET_32/64: the raw answer (x2 flags and counts,
 * IDs from x3). */
struct ffa_value ffa_notification_info_get(bool wide);
