/*
 * Service partition of the FF-A Linux product (manifests/
 * qemu-virt-linux-ffa.dts): answers the Linux self-test module
 * (guest/linux/bulkhead-ffa-test, protocol.h) over direct requests: echo,
 * retrieve-check-answer-relinquish of shared or lent memory, holding a
 * share until told to let it go, and quit (which it passes on to its peer
 * "isolated", whose "bye" ends the service). One line per request shows
 * its view of the exchange.
 */
#include <guest/ffa.h>
#include <string.h>

#include "../../linux/bulkhead-ffa-test/protocol.h"

#define MAX_RANGES 8

static uint8_t tx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static uint8_t rx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static struct ffa_mailbox mb;
static uint16_t peer; /* the partition "isolated" */
static uint64_t held; /* handle retrieved by HOLD, 0 if none */
static uint32_t requests;

/* isolated: 9c4e21b7-3d58-4a06-b1f2-6e7d8c9a0b13, as FF-A carries it */
static const uint8_t isolated_uuid[16] = {0xb7, 0x21, 0x4e, 0x9c, 0x06, 0x4a,
					  0x58, 0x3d, 0x7d, 0x6e, 0xf2, 0xb1,
					  0x13, 0x0b, 0x9a, 0x8c};

static uint64_t page_fnv(const volatile uint8_t *p)
{
	uint64_t h = BFT_FNV_OFFSET;

	for (uint32_t i = 0; i < FFA_PAGE_SIZE; i++) {
		h = (h ^ p[i]) * BFT_FNV_PRIME;
	}
	return h;
}

struct check {
	uint64_t sum;
	uint64_t bad;
	uint64_t pages;
};

/* Checksums the ranges, counts bytes off the pattern of `seed`, then
 * writes the pattern of `seed ^ BFT_ANSWER_XOR` over them. */
static struct check check_and_answer(const struct ffa_mem_constituent *r,
				     uint32_t count, uint64_t seed)
{
	struct check c = {0, 0, 0};

	for (uint32_t i = 0; i < count; i++) {
		for (uint32_t pg = 0; pg < r[i].page_count; pg++) {
			uint64_t base =
			    r[i].address + (uint64_t)pg * FFA_PAGE_SIZE;
			volatile uint8_t *p =
			    (volatile uint8_t *)(uintptr_t)base;

			c.sum += page_fnv(p);
			for (uint32_t b = 0; b < FFA_PAGE_SIZE; b++) {
				c.bad += p[b] != bft_pattern(seed, base + b);
				p[b] = bft_pattern(seed ^ BFT_ANSWER_XOR,
						   base + b);
			}
			c.pages++;
		}
	}
	return c;
}

static const char *type_name(uint32_t type)
{
	return type == FFA_MEM_TYPE_SHARE  ? "share"
	       : type == FFA_MEM_TYPE_LEND ? "lend"
					   : "?";
}

static void check(uint16_t owner, const struct ffa_value *req, uint64_t *resp)
{
	uint64_t handle = req->x[4];
	uint32_t pages = (uint32_t)req->x[6];
	uint32_t type = (uint32_t)(req->x[6] >> BFT_TYPE_SHIFT);
	struct ffa_mem_constituent ranges[MAX_RANGES];
	struct ffa_mem_transaction t;
	struct check c;
	int32_t err;

	err = ffa_mem_retrieve(&mb, handle, owner, req->x[5], type, 0, 0, &t,
			       ranges, MAX_RANGES);
	if (err != 0) {
		guest_printf("CHECK %s handle %#lx from partition %u: retrieve "
			     "failed: %d\n",
			     type_name(type), handle, owner, err);
		resp[0] = (uint64_t)(int64_t)err;
		return;
	}
	c = check_and_answer(ranges, t.constituent_count, req->x[7]);
	err = ffa_mem_relinquish(&mb, handle, 0);
	guest_printf("CHECK %s handle %#lx from partition %u: %lu pages "
		     "(%u announced) in %u constituents, checksum %#lx, %lu "
		     "bytes off the pattern, answer written, relinquish %d\n",
		     type_name(type), handle, owner, c.pages, pages,
		     t.constituent_count, c.sum, c.bad, err);
	resp[0] = (uint64_t)(int64_t)err;
	resp[1] = c.sum;
	resp[2] = c.bad;
	resp[3] = c.pages;
	resp[4] = t.constituent_count;
}

static void hold(uint16_t owner, const struct ffa_value *req, uint64_t *resp)
{
	uint32_t type = (uint32_t)(req->x[6] >> BFT_TYPE_SHIFT);
	struct ffa_mem_constituent ranges[MAX_RANGES];
	struct ffa_mem_transaction t;
	int32_t err;

	if (held != 0) {
		resp[0] = (uint64_t)(int64_t)FFA_BUSY;
		return;
	}
	err = ffa_mem_retrieve(&mb, req->x[4], owner, req->x[5], type, 0, 0, &t,
			       ranges, MAX_RANGES);
	guest_printf("HOLD %s handle %#lx from partition %u: retrieve %d, %u "
		     "pages held\n",
		     type_name(type), req->x[4], owner, err,
		     err == 0 ? t.page_count : 0);
	if (err == 0) {
		held = req->x[4];
		resp[1] = t.page_count;
	}
	resp[0] = (uint64_t)(int64_t)err;
}

static void release(const struct ffa_value *req, uint64_t *resp)
{
	int32_t err = held != 0 && held == req->x[4]
			  ? ffa_mem_relinquish(&mb, held, 0)
			  : FFA_INVALID_PARAMETERS;

	guest_printf("RELEASE handle %#lx: relinquish %d\n", req->x[4], err);
	if (err == 0) {
		held = 0;
	}
	resp[0] = (uint64_t)(int64_t)err;
}

/* A retrieve request naming partition `other` as the receiver (the
 * service's own ID nowhere in it); relinquished should it succeed. */
static void retrieve_as(uint16_t owner, const struct ffa_value *req,
			uint64_t *resp)
{
	uint32_t type = (uint32_t)(req->x[6] >> BFT_TYPE_SHIFT);
	uint16_t other = (uint16_t)req->x[7];
	struct ffa_mem_transaction t = {
	    .sender = owner,
	    .flags = type << FFA_MEM_RETRIEVE_TYPE_SHIFT,
	    .handle = req->x[4],
	    .tag = req->x[5],
	    .receiver_count = 1,
	};
	struct ffa_value args = {{0}};
	struct ffa_value r;
	int32_t err;

	t.receivers[0].id = other;
	t.receivers[0].permissions = FFA_MEM_DATA_RW;
	args.x[0] = FFA_MEM_RETRIEVE_REQ_64;
	args.x[1] = ffa_mem_build(mb.tx, mb.size, mb.version, &t, NULL);
	args.x[2] = args.x[1];
	r = ffa_call(&args);
	err = ffa_value_is(&r, FFA_MEM_RETRIEVE_RESP) ? 0
	      : ffa_value_error(&r) != 0	      ? ffa_value_error(&r)
						      : FFA_INVALID_PARAMETERS;
	if (err == 0) {
		ffa_rx_release();
		ffa_mem_relinquish(&mb, req->x[4], 0);
	}
	guest_printf("RETRIEVE_AS handle %#lx of partition %u naming partition "
		     "%u as the receiver: %d\n",
		     req->x[4], owner, other, err);
	resp[0] = (uint64_t)(int64_t)err;
}

static void quit(uint16_t from, uint64_t *resp)
{
	static const char text[] = "quit";
	int32_t err = FFA_BUSY;

	for (int tries = 0; err == FFA_BUSY && tries < 1000; tries++) {
		err = ffa_msg_send(&mb, peer, text, sizeof(text) - 1);
	}
	guest_printf("QUIT from partition %u after %u requests; told partition "
		     "%u: %d\n",
		     from, requests, peer, err);
	resp[0] = (uint64_t)(int64_t)err;
}

static void answer(struct ffa_service *s, const struct ffa_value *req,
		   uint64_t *resp)
{
	uint16_t from = ffa_sender(req->x[1]);

	(void)s;
	requests++;
	switch ((uint32_t)req->x[3]) {
	case BFT_CMD_ECHO:
		for (int i = 1; i <= 4; i++) {
			resp[i] = ~req->x[3 + i];
		}
		resp[0] = 0;
		guest_printf("ECHO from partition %u: %#lx %#lx %#lx %#lx\n",
			     from, req->x[4], req->x[5], req->x[6], req->x[7]);
		break;
	case BFT_CMD_CHECK:
		check(from, req, resp);
		break;
	case BFT_CMD_HOLD:
		hold(from, req, resp);
		break;
	case BFT_CMD_RELEASE:
		release(req, resp);
		break;
	case BFT_CMD_RETRIEVE_AS:
		retrieve_as(from, req, resp);
		break;
	case BFT_CMD_QUIT:
		quit(from, resp);
		break;
	default:
		resp[0] = BFT_STATUS_UNKNOWN;
		guest_printf("unknown command %#lx from partition %u\n",
			     req->x[3], from);
		break;
	}
}

static enum ffa_service_action
bye(struct ffa_service *s, const struct ffa_msg *msg, const void *payload)
{
	char text[17];

	(void)s;
	ffa_msg_text(msg, payload, text, sizeof(text));
	guest_printf("message from partition %u: \"%s\"\n", msg->sender, text);
	return msg->sender == peer && strcmp(text, "bye") == 0
		   ? FFA_SERVICE_STOP
		   : FFA_SERVICE_CONTINUE;
}

int main(void)
{
	struct guest_self me = guest_self();
	struct ffa_service service = {
	    .mb = &mb, .direct = answer, .indirect = bye};
	struct ffa_partition_info info;
	uint32_t count;
	uint32_t size;
	int32_t err;

	err = ffa_mailbox_init(&mb, tx, rx, 1, FFA_VERSION_1_2);
	if (err == 0) {
		err = ffa_partition_info_get(isolated_uuid, 0, &count, &size);
	}
	if (err != 0) {
		guest_printf("FF-A set-up failed: %d\n", err);
		return 1;
	}
	ffa_partition_info_read(&info, rx, mb.version);
	ffa_rx_release();
	peer = info.id;
	guest_printf("service: partition %u, peer \"isolated\" is partition "
		     "%u; waiting for requests\n",
		     me.id, peer);
	err = ffa_service_loop(&service);
	guest_printf("service: done (%d), %u requests, %s\n", err, requests,
		     held != 0 ? "a share still held" : "nothing held");
	return 0;
}
