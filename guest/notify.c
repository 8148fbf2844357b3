/* FF-A notification calls (guest/include/guest/ffa_notify.h). */
#include <guest/ffa_notify.h>

static struct ffa_value call(uint32_t fn, uint64_t a1, uint64_t a2, uint64_t a3,
			     uint64_t a4)
{
	struct ffa_value in = {{fn, a1, a2, a3, a4}};

	return ffa_call(&in);
}

int32_t ffa_notification_bind(uint16_t sender, uint16_t self, uint32_t flags,
			      uint64_t bitmap)
{
	struct ffa_value r =
	    call(FFA_NOTIFICATION_BIND, ffa_endpoints(sender, self), flags,
		 (uint32_t)bitmap, bitmap >> 32);

	return ffa_value_error(&r);
}

int32_t ffa_notification_unbind(uint16_t sender, uint16_t self, uint64_t bitmap)
{
	struct ffa_value r =
	    call(FFA_NOTIFICATION_UNBIND, ffa_endpoints(sender, self), 0,
		 (uint32_t)bitmap, bitmap >> 32);

	return ffa_value_error(&r);
}

int32_t ffa_notification_set(uint16_t self, uint16_t receiver, uint32_t flags,
			     uint64_t bitmap)
{
	struct ffa_value r =
	    call(FFA_NOTIFICATION_SET, ffa_endpoints(self, receiver), flags,
		 (uint32_t)bitmap, bitmap >> 32);

	return ffa_value_error(&r);
}

int32_t ffa_notification_get(uint16_t self, uint16_t vcpu, uint32_t flags,
			     struct ffa_notifications *out)
{
	struct ffa_value r =
	    call(FFA_NOTIFICATION_GET, ffa_endpoints(vcpu, self), flags, 0, 0);
	int32_t err = ffa_value_error(&r);

	if (err == 0 && out != NULL) {
		*out = (struct ffa_notifications){
		    .from_sp = (uint32_t)r.x[2] | (uint64_t)(uint32_t)r.x[3]
						      << 32,
		    .from_vm = (uint32_t)r.x[4] | (uint64_t)(uint32_t)r.x[5]
						      << 32,
		    .spm_framework = (uint32_t)r.x[6],
		    .hyp_framework = (uint32_t)r.x[7]};
	}
	return err;
}

struct ffa_value ffa_notification_info_get(bool wide)
{
	return call(wide ? FFA_NOTIFICATION_INFO_GET_64
			 : FFA_NOTIFICATION_INFO_GET_32,
		    0, 0, 0, 0);
}
