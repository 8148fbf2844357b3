/* Borrowers b1, b2 and outsider: serve commands from memowner. */
#include "common.h"
#include <string.h>

static uint8_t tx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static uint8_t rx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static struct ffa_mailbox mb;

static int32_t retrieve(uint64_t handle, uint16_t owner, uint8_t perms,
			uint32_t type, uint32_t flags, uint64_t *address)
{
	struct ffa_mem_transaction t;
	int32_t err =
	    ffa_mem_retrieve(&mb, handle, owner, 0, type, perms, flags, &t);

	if (err == 0) {
		*address = ffa_mem_constituent(rx, &t, 0).address;
		ffa_rx_release();
	}
	return err;
}

static void serve(struct ffa_service *s, const struct ffa_value *req,
		  uint64_t *resp)
{
	struct guest_abort abort = {0};
	uint64_t value = 0;
	uint64_t handle = 0;

	(void)s;
	switch ((uint32_t)req->x[3]) {
	case B_RETRIEVE:
		resp[0] = (uint32_t)retrieve(
		    req->x[4], ID_OWNER, (uint8_t)req->x[5],
		    (uint32_t)req->x[6], (uint32_t)req->x[7], &resp[1]);
		break;
	case B_RETRIEVE_FROM:
		resp[0] =
		    (uint32_t)retrieve(req->x[4], (uint16_t)req->x[5],
				       (uint8_t)req->x[6], 0, 0, &resp[1]);
		if (resp[0] == 0) {
			/* the first word of what it received */
			resp[2] = *(volatile uint64_t *)(uintptr_t)resp[1];
		}
		break;
	case B_READ:
		resp[2] = !guest_probe_read(req->x[4], &value, &abort);
		resp[1] = value & 0xff;
		resp[3] = abort.far;
		break;
	case B_WRITE:
		resp[2] = !guest_probe_write(req->x[4], req->x[5], &abort);
		resp[3] = abort.far;
		break;
	case B_FILL:
		memset((void *)(uintptr_t)req->x[4], (int)req->x[6],
		       (size_t)req->x[5]);
		break;
	case B_RELINQUISH:
		resp[0] = (uint32_t)ffa_mem_relinquish(&mb, req->x[4],
						       (uint32_t)req->x[5]);
		break;
	case B_DONATE:
		resp[0] = (uint32_t)ffa_mem_donate(
		    &mb, (uint16_t)req->x[6], (void *)(uintptr_t)req->x[4],
		    (uint32_t)req->x[5], &handle);
		resp[1] = handle;
		break;
	case B_RESET:
		psci_system_reset();
	default:
		resp[0] = 0xbad;
	}
}

static enum ffa_service_action
quit(struct ffa_service *s, const struct ffa_msg *msg, const void *payload)
{
	(void)s;
	(void)msg;
	(void)payload;
	return FFA_SERVICE_STOP;
}

void borrower_main(void)
{
	struct ffa_service s = {.mb = &mb, .direct = serve, .indirect = quit};

	ffa_mailbox_init(&mb, tx, rx, 1, FFA_VERSION_1_2);
	ffa_service_loop(&s);
}
