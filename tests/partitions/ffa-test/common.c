#include "common.h"

uint8_t tx_buf[BUF_PAGES * FFA_PAGE_SIZE] __attribute__((aligned(4096)));
uint8_t rx_buf[BUF_PAGES * FFA_PAGE_SIZE] __attribute__((aligned(4096)));
struct ffa_mailbox mb;

void mailbox_setup(uint32_t version)
{
	int32_t err = ffa_mailbox_init(&mb, tx_buf, rx_buf, 1, version);

	if (err != 0) {
		guest_printf("RXTX_MAP failed: %d\n", err);
	}
}

int32_t receive_message(struct ffa_msg *msg, const void **payload)
{
	struct ffa_value r = ffa_msg_wait(0);

	if (!ffa_value_is(&r, FFA_RUN)) {
		guest_printf("MSG_WAIT returned %#llx %#llx\n",
			     (unsigned long long)r.x[0],
			     (unsigned long long)r.x[2]);
		return FFA_ABORTED;
	}
	return ffa_msg_get(&mb, msg, payload);
}
