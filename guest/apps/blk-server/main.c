/*
 * Demo "block device" server: serves reads and writes of a 64 KiB disk in
 * its own RAM through buffers the client shares with it (shared-memory pool,
 * either back-end). A request whose buffer is not inside a block the client
 * gave it is refused (INVALID_PARAMETERS).
 */
#include <guest/shpool.h>
#include <string.h>

#include "../blk.h"

static uint8_t tx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static uint8_t rx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static uint8_t disk[BLK_SECTORS][BLK_SECTOR];
static struct ffa_mailbox mb;
static struct shpool_peer peer;
static uint32_t served;

static int32_t transfer(const struct ffa_value *req, bool write)
{
	uint64_t buffer = req->x[4];
	uint64_t first = req->x[5];
	uint64_t count = req->x[6];
	uint64_t bytes = count * BLK_SECTOR;

	if (count == 0 || first >= BLK_SECTORS || count > BLK_SECTORS - first ||
	    !shpool_peer_holds(&peer, buffer, bytes)) {
		return FFA_INVALID_PARAMETERS;
	}
	if (write) {
		memcpy(disk[first], (const void *)(uintptr_t)buffer, bytes);
	} else {
		memcpy((void *)(uintptr_t)buffer, disk[first], bytes);
	}
	served++;
	return 0;
}

static void serve(struct ffa_service *s, const struct ffa_value *req,
		  uint64_t *resp)
{
	struct guest_abort abort = {0};
	uint64_t value;

	(void)s;
	if (shpool_peer_handle(&peer, req, resp)) {
		return;
	}
	switch ((uint32_t)req->x[3]) {
	case BLK_READ:
	case BLK_WRITE:
		resp[0] =
		    (uint32_t)transfer(req, (uint32_t)req->x[3] == BLK_WRITE);
		break;
	case BLK_PROBE:
		resp[1] = !guest_probe_read(req->x[4], &value, &abort);
		resp[2] = abort.far;
		guest_printf("block server: old buffer %#lx %s\n", req->x[4],
			     resp[1] ? "now faults" : "is still mapped");
		break;
	default:
		resp[0] = (uint32_t)FFA_NOT_SUPPORTED;
	}
}

int main(void)
{
	struct ffa_service s = {.mb = &mb,
				.direct = serve,
				.indirect = ffa_service_stop_on_message};

	for (uint32_t i = 0; i < BLK_SECTORS; i++) {
		memset(disk[i], (int)i, BLK_SECTOR);
	}
	ffa_mailbox_init(&mb, tx, rx, 1, FFA_VERSION_1_2);
	shpool_peer_init(&peer, &mb);
	ffa_service_loop(&s);
	{
		uint32_t shared = 0;

		for (uint32_t i = 0; i < peer.count; i++) {
			shared += peer.blocks[i].handle != 0;
		}
		guest_printf("block server: %u requests served, %u shared "
			     "block(s) still held\n",
			     served, shared);
	}
	return 0;
}
