/* Borrowers b1, b2 and outsider: serve commands from memowner. */
#include "common.h"
#include <string.h>

static uint8_t tx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static uint8_t rx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static struct ffa_mailbox mb;
/* The ranges of the last retrieve. */
#define MAX_RANGES 1024
static struct ffa_mem_constituent ranges[MAX_RANGES];
static uint32_t range_count;

static int32_t retrieve(uint64_t handle, uint16_t owner, uint8_t perms,
			uint32_t type, uint32_t flags, uint64_t *address)
{
	struct ffa_mem_transaction t;
	int32_t err = ffa_mem_retrieve(&mb, handle, owner, 0, type, perms,
				       flags, &t, ranges, MAX_RANGES);

	if (err == 0) {
		*address = ranges[0].address;
		range_count = t.constituent_count;
	}
	return err;
}

static uint64_t check_ranges(uint64_t first, uint32_t count)
{
	uint64_t bad = range_count != count;

	for (uint32_t i = 0; i < count && i < range_count; i++) {
		uint64_t a = first + (uint64_t)i * FFA_PAGE_SIZE;

		bad += ranges[i].address != a || ranges[i].page_count != 1 ||
		       *(volatile uint8_t *)(uintptr_t)a != (uint8_t)i;
	}
	return bad;
}

static struct ffa_value raw(uint32_t fn, uint64_t a1, uint64_t a2, uint64_t a3)
{
	struct ffa_value v = {{fn, a1, a2, a3}};

	return ffa_call(&v);
}

/* Checks MEM_FRAG_RX by hand; bit n of the result = check n failed. */
static uint64_t frag_protocol(uint64_t handle)
{
	struct ffa_mem_transaction t = {
	    .sender = ID_OWNER, .handle = handle, .receiver_count = 1};
	uint32_t lo = (uint32_t)handle;
	uint32_t hi = (uint32_t)(handle >> 32);
	uint64_t failed = 0;
	uint32_t len;
	uint32_t total;
	struct ffa_value r;

	t.receivers[0].id = mb.self;
	len = ffa_mem_build(tx, sizeof(tx), FFA_VERSION_1_2, &t, NULL);
	r = raw(FFA_MEM_RETRIEVE_REQ_64, len, len, 0);
	total = (uint32_t)r.x[1];
	len = (uint32_t)r.x[2];
	failed |= (uint64_t)(!ffa_value_is(&r, FFA_MEM_RETRIEVE_RESP) ||
			     len >= total || len > sizeof(rx))
		  << 0;
	/* RX not released yet */
	r = raw(FFA_MEM_FRAG_RX, lo, hi, len);
	failed |= (uint64_t)!ffa_is_error(&r, FFA_BUSY) << 1;
	ffa_rx_release();
	/* not where the last fragment ended */
	r = raw(FFA_MEM_FRAG_RX, lo, hi, len + 16);
	failed |= (uint64_t)!ffa_is_error(&r, FFA_INVALID_PARAMETERS) << 2;
	r = raw(FFA_MEM_FRAG_RX, lo, hi, 0);
	failed |= (uint64_t)!ffa_is_error(&r, FFA_INVALID_PARAMETERS) << 3;
	/* the next fragments: whole constituents, as many as fit in RX */
	while (len < total) {
		uint32_t want =
		    total - len < sizeof(rx) ? total - len : sizeof(rx);

		r = raw(FFA_MEM_FRAG_RX, lo, hi, len);
		failed |= (uint64_t)(!ffa_value_is(&r, FFA_MEM_FRAG_TX) ||
				     (uint32_t)r.x[1] != lo ||
				     (uint32_t)r.x[2] != hi || r.x[3] != want)
			  << 4;
		ffa_rx_release();
		if (r.x[3] == 0) {
			break;
		}
		len += (uint32_t)r.x[3];
	}
	/* nothing left to fetch */
	r = raw(FFA_MEM_FRAG_RX, lo, hi, total);
	failed |= (uint64_t)!ffa_is_error(&r, FFA_INVALID_PARAMETERS) << 5;
	failed |= (uint64_t)(ffa_mem_relinquish(&mb, handle, 0) != 0) << 6;
	return failed;
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
		resp[0] = (uint32_t)retrieve(req->x[4], (uint16_t)req->x[5],
					     (uint8_t)req->x[6], 0,
					     (uint32_t)req->x[7], &resp[1]);
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
	case B_LEND:
		resp[0] = (uint32_t)ffa_mem_lend(
		    &mb, (uint16_t)req->x[6], (void *)(uintptr_t)req->x[4],
		    (uint32_t)req->x[5], FFA_MEM_DATA_RW, &handle);
		resp[1] = handle;
		break;
	case B_SHARE:
		resp[0] = (uint32_t)ffa_mem_share(
		    &mb, (uint16_t)req->x[6], (void *)(uintptr_t)req->x[4],
		    (uint32_t)req->x[5], FFA_MEM_DATA_RW, &handle);
		resp[1] = handle;
		break;
	case B_EXEC:
		resp[2] = !guest_probe_exec(req->x[4], &abort);
		resp[3] = abort.esr;
		break;
	case B_RECLAIM:
		resp[0] = (uint32_t)ffa_mem_reclaim(req->x[4], 0);
		break;
	case B_RANGES:
		resp[1] = check_ranges(req->x[4], (uint32_t)req->x[5]);
		resp[2] = range_count;
		break;
	case B_FRAG_PROTOCOL:
		resp[1] = frag_protocol(req->x[4]);
		break;
	case B_RESET:
		psci_system_reset();
	default:
		resp[0] = 0xbad;
	}
}

/* "spin" requests run here (so the sender keeps running); anything else
 * ends the service loop. */
static enum ffa_service_action
indirect(struct ffa_service *s, const struct ffa_msg *msg, const void *payload)
{
	struct spin_request r;

	(void)s;
	if (msg->size != sizeof(r)) {
		return FFA_SERVICE_STOP;
	}
	memcpy(&r, payload, sizeof(r));
	if (r.magic != SPIN_MAGIC) {
		return FFA_SERVICE_STOP;
	}
	for (uint32_t i = 0; i < r.count; i++) {
		__atomic_fetch_add((uint64_t *)(uintptr_t)r.address, 1,
				   __ATOMIC_RELAXED);
	}
	__atomic_store_n((uint64_t *)(uintptr_t)(r.address + 8), 1,
			 __ATOMIC_RELEASE);
	return FFA_SERVICE_CONTINUE;
}

void borrower_main(void)
{
	struct ffa_service s = {
	    .mb = &mb, .direct = serve, .indirect = indirect};

	ffa_mailbox_init(&mb, tx, rx, 1, FFA_VERSION_1_2);
	ffa_service_loop(&s);
}
