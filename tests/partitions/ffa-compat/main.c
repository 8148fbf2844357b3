/*
 * ffa-compat scenario: "old" (CPU 0) negotiates FF-A v1.0, as Linux 6.1's
 * driver does, and runs the tests; "new" (CPU 1) negotiates v1.2 and
 * serves direct requests. They share, lend and donate memory both ways,
 * each in its own version's descriptor layout; "old"'s first page is
 * read-only memory (its manifest's read-only-memory), which it may only
 * send read-only. Indirect messages go both ways: "old" with v1.0's
 * FFA_MSG_SEND / FFA_MSG_POLL, "new" with FFA_MSG_SEND2, each receiving in
 * its own version's form.
 */
#include <guest/ffa.h>
#include <guest/test.h>
#include <string.h>

#define ID_OLD 1
#define ID_NEW 2

/* Direct requests to "new": x3 = command, x4.. arguments; the response
 * x3 = FF-A status, x4.. results. */
enum new_cmd {
	N_RETRIEVE = 0x4e450001,  /* x4 handle, x5 perms -> x4 address,
				     x5 attributes, x6 flags */
	N_SAME_AS_OWN_FIRST_PAGE, /* x4 address -> x4 differing bytes */
	N_WRITE,		  /* x4 address, x5 byte -> x4 aborted */
	N_READ,			  /* x4 address -> x4 byte */
	N_RELINQUISH,		  /* x4 handle */
	N_LEND,			  /* x4 pages of its own, filled with x5 ->
				     x4 handle, x5 address */
	N_RECLAIM,		  /* x4 handle */
	N_OFF,			  /* SYSTEM_OFF (the request is ABORTED) */
	N_SEND2,		  /* x4 payload bytes (little-endian), x5
				     size (<= 8): FFA_MSG_SEND2 to "old" */
	N_RECEIVED,		  /* x4 offset -> x4..x7 the 32 bytes from
				     there of the last message's RX bytes */
	N_FEATURES,		  /* x4 ID -> x3 FFA_FEATURES status */
};

/* "new": the first bytes of its RX as its last indirect message left
 * them (header and payload; zero past the payload). */
static uint8_t received[64];

static uint8_t tx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static uint8_t rx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static uint8_t pages[4][FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static struct ffa_mailbox mb;

/* --- "new": the v1.2 side ------------------------------------------------ */

static void serve(struct ffa_service *s, const struct ffa_value *req,
		  uint64_t *resp)
{
	struct ffa_mem_transaction t;
	struct ffa_mem_constituent range;
	struct guest_abort abort = {0};
	const uint8_t *own = (const uint8_t *)(uintptr_t)guest_self().mem_base;
	uint64_t handle = 0;
	uint64_t value = 0;

	(void)s;
	switch ((uint32_t)req->x[3]) {
	case N_RETRIEVE:
		resp[0] = (uint32_t)ffa_mem_retrieve(&mb, req->x[4], ID_OLD, 0,
						     0, (uint8_t)req->x[5], 0,
						     &t, &range, 1);
		resp[1] = range.address;
		resp[2] = t.attributes;
		resp[3] = t.flags;
		break;
	case N_SAME_AS_OWN_FIRST_PAGE:
		for (uint32_t i = 0; i < FFA_PAGE_SIZE; i++) {
			resp[1] += ((const volatile uint8_t *)(uintptr_t)
					req->x[4])[i] != own[i];
		}
		break;
	case N_WRITE:
		resp[1] = !guest_probe_write(req->x[4], req->x[5], &abort);
		break;
	case N_READ:
		resp[1] = guest_probe_read(req->x[4], &value, &abort)
			      ? value & 0xff
			      : 0x100;
		break;
	case N_RELINQUISH:
		resp[0] = (uint32_t)ffa_mem_relinquish(&mb, req->x[4], 0);
		break;
	case N_LEND:
		memset(pages[0], (int)req->x[5], FFA_PAGE_SIZE);
		resp[0] = (uint32_t)ffa_mem_lend(&mb, ID_OLD, pages[0], 1,
						 FFA_MEM_DATA_RW, &handle);
		resp[1] = handle;
		resp[2] = (uintptr_t)pages[0];
		break;
	case N_RECLAIM:
		resp[0] = (uint32_t)ffa_mem_reclaim(req->x[4], 0);
		break;
	case N_SEND2:
		resp[0] = (uint32_t)ffa_msg_send(&mb, ID_OLD, &req->x[4],
						 (uint32_t)req->x[5]);
		break;
	case N_RECEIVED:
		if (req->x[4] <= sizeof(received) - 32) {
			memcpy(&resp[1], received + req->x[4], 32);
		} else {
			resp[0] = 0xbad;
		}
		break;
	case N_FEATURES:
		resp[0] =
		    (uint32_t)ffa_features((uint32_t)req->x[4], NULL, NULL);
		break;
	case N_OFF:
		psci_system_off();
	default:
		resp[0] = 0xbad;
	}
}

/* Keeps the RX bytes of the message (header and payload) for N_RECEIVED. */
static enum ffa_service_action
keep(struct ffa_service *s, const struct ffa_msg *msg, const void *payload)
{
	uint32_t end = msg->offset + msg->size;

	(void)payload;
	memset(received, 0, sizeof(received));
	memcpy(received, s->mb->rx,
	       end < sizeof(received) ? end : sizeof(received));
	return FFA_SERVICE_CONTINUE;
}

static void new_main(void)
{
	struct ffa_service s = {.mb = &mb, .direct = serve, .indirect = keep};

	ffa_version(FFA_VERSION_1_2);
	ffa_mailbox_init(&mb, tx, rx, 1, FFA_VERSION_1_2);
	ffa_service_loop(&s);
}

/* --- "old": the v1.0 side and the tests ---------------------------------- */

static struct ffa_value cmd(uint64_t c, uint64_t a, uint64_t b)
{
	uint64_t words[5] = {c, a, b, 0, 0};
	struct ffa_value r;

	do {
		r = ffa_direct_req(mb.self, ID_NEW, words, true);
	} while (ffa_is_error(&r, FFA_BUSY));
	return r;
}

static int32_t status_of(struct ffa_value r)
{
	return ffa_value_is(&r, FFA_ERROR) ? ffa_value_error(&r)
					   : (int32_t)r.x[3];
}

TEST(compat, v10_shares_with_v12)
{
	struct ffa_value r;
	uint64_t h = 0;

	memset(pages[1], 0x5c, FFA_PAGE_SIZE);
	/* the SDK writes the v1.0 layout: 32-byte header, 16-byte access
	 * descriptors */
	ASSERT_EQ(0,
		  ffa_mem_share(&mb, ID_NEW, pages[1], 1, FFA_MEM_DATA_RW, &h));
	r = cmd(N_RETRIEVE, h, 0);
	ASSERT_EQ(0, status_of(r));
	EXPECT_EQ((uintptr_t)pages[1], r.x[4]);
	/* a v1.2 response: NS set */
	EXPECT_EQ(FFA_MEM_ATTR_NORMAL_WB_IS | FFA_MEM_ATTR_NS, r.x[5]);
	EXPECT_EQ(FFA_MEM_TYPE_SHARE << FFA_MEM_RETRIEVE_TYPE_SHIFT, r.x[6]);
	EXPECT_EQ(0x5c, cmd(N_READ, (uintptr_t)pages[1] + 77, 0).x[4]);
	EXPECT_EQ(0, cmd(N_WRITE, (uintptr_t)pages[1] + 5, 0x21).x[4]);
	EXPECT_EQ(0x21, pages[1][5]);
	EXPECT_EQ(0, status_of(cmd(N_RELINQUISH, h, 0)));
	EXPECT_EQ(0, ffa_mem_reclaim(h, 0));
}

/*
 * The bytes Linux 6.1's arm_ffa driver writes for FFA_MEM_LEND_64 at
 * v1.0: struct ffa_mem_region with the attributes it also sets on a lend
 * (normal, write-back, inner shareable), ep_mem_access[0] at 32 with
 * composite_off 48, the composite and one address range; x3 = x4 = 0 (the
 * TX buffer). The handle comes back in w2/w3.
 */
TEST(compat, linux_6_1_lend_descriptor_accepted)
{
	uint8_t *d = tx;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	struct ffa_value in = {{FFA_MEM_LEND_64, 80, 80}};
	struct ffa_value r;
	uint64_t h;

	memset(tx, 0, sizeof(tx));
	u16 = ID_OLD;
	memcpy(d + 0, &u16, 2);
	u16 = FFA_MEM_ATTR_NORMAL_WB_IS;
	memcpy(d + 2, &u16, 2);
	u32 = 1; /* ep_count */
	memcpy(d + 28, &u32, 4);
	u16 = ID_NEW;
	memcpy(d + 32, &u16, 2);
	d[34] = FFA_MEM_DATA_RW;
	u32 = 48; /* composite_off */
	memcpy(d + 36, &u32, 4);
	u32 = 1; /* total_pg_cnt, then addr_range_cnt */
	memcpy(d + 48, &u32, 4);
	memcpy(d + 52, &u32, 4);
	u64 = (uintptr_t)pages[2];
	memcpy(d + 64, &u64, 8);
	memcpy(d + 72, &u32, 4); /* pg_cnt */
	pages[2][0] = 0x6b;
	r = ffa_call(&in);
	ASSERT_EQ(FFA_SUCCESS_32, r.x[0]);
	h = (uint32_t)r.x[2] | r.x[3] << 32;
	EXPECT_EQ(1ull << 63, h & (1ull << 63));
	r = cmd(N_RETRIEVE, h, 0);
	ASSERT_EQ(0, status_of(r));
	EXPECT_EQ(0x6b, cmd(N_READ, (uintptr_t)pages[2], 0).x[4]);
	EXPECT_EQ(0, status_of(cmd(N_RELINQUISH, h, 0)));
	EXPECT_EQ(0, ffa_mem_reclaim(h, 0));
}

TEST(compat, v12_lends_to_v10)
{
	struct ffa_mem_transaction t;
	struct ffa_mem_constituent range;
	struct ffa_value r = cmd(N_LEND, 1, 0x3d);
	uint64_t h;
	uint32_t w2 = 0;

	ASSERT_EQ(0, status_of(r));
	h = r.x[4];
	/* the v1.0 request and response layouts; no NS bit unless asked */
	ASSERT_EQ(0,
		  ffa_mem_retrieve(&mb, h, ID_NEW, 0, 0, 0, 0, &t, &range, 1));
	EXPECT_EQ(ID_NEW, t.sender);
	EXPECT_EQ(FFA_MEM_ATTR_NORMAL_WB_IS, t.attributes);
	EXPECT_EQ(1, t.receiver_count);
	EXPECT_EQ(ID_OLD, t.receivers[0].id);
	EXPECT_EQ(FFA_MEM_DATA_RW | FFA_MEM_INSTR_NX,
		  t.receivers[0].permissions);
	EXPECT_EQ(r.x[5], range.address);
	EXPECT_EQ(0x3d, *(volatile uint8_t *)(uintptr_t)range.address);
	ASSERT_EQ(0, ffa_mem_relinquish(&mb, h, 0));
	/* a v1.0 partition asks for the NS bit with FFA_FEATURES */
	{
		struct ffa_value in = {{FFA_FEATURES, FFA_MEM_RETRIEVE_REQ_64,
					FFA_FEATURES_MEM_RETRIEVE_NS}};
		struct ffa_value f = ffa_call(&in);

		EXPECT_EQ(FFA_SUCCESS_32, f.x[0]);
		w2 = (uint32_t)f.x[2];
	}
	EXPECT_EQ(FFA_FEATURES_MEM_RETRIEVE_NS, w2);
	ASSERT_EQ(0,
		  ffa_mem_retrieve(&mb, h, ID_NEW, 0, 0, 0, 0, &t, &range, 1));
	EXPECT_EQ(FFA_MEM_ATTR_NORMAL_WB_IS | FFA_MEM_ATTR_NS, t.attributes);
	ASSERT_EQ(0, ffa_mem_relinquish(&mb, h, 0));
	EXPECT_EQ(0, status_of(cmd(N_RECLAIM, h, 0)));
}

/* read-only-memory: the first page of "old" holds its code (the same
 * bytes as "new"'s first page: one position-independent image). */
TEST(compat, read_only_memory_sent_read_only)
{
	struct guest_self me = guest_self();
	void *first = (void *)(uintptr_t)me.mem_base;
	struct guest_abort abort;
	struct ffa_value r;
	uint64_t h = 0;

	EXPECT_FALSE(guest_probe_write(me.mem_base + 64, 0, &abort));
	EXPECT_EQ(me.mem_base + 64, abort.far);
	EXPECT_EQ(FFA_DENIED,
		  ffa_mem_lend(&mb, ID_NEW, first, 1, FFA_MEM_DATA_RW, &h));
	EXPECT_EQ(FFA_DENIED,
		  ffa_mem_share(&mb, ID_NEW, first, 1, FFA_MEM_DATA_RW, &h));
	ASSERT_EQ(0, ffa_mem_lend(&mb, ID_NEW, first, 1, FFA_MEM_DATA_RO, &h));
	r = cmd(N_RETRIEVE, h, FFA_MEM_DATA_RW);
	EXPECT_EQ(FFA_DENIED, status_of(r));
	r = cmd(N_RETRIEVE, h, 0);
	ASSERT_EQ(0, status_of(r));
	EXPECT_EQ(0, cmd(N_SAME_AS_OWN_FIRST_PAGE, me.mem_base, 0).x[4]);
	EXPECT_EQ(1, cmd(N_WRITE, me.mem_base + 8, 0).x[4]);
	EXPECT_EQ(0, status_of(cmd(N_RELINQUISH, h, 0)));
	EXPECT_EQ(FFA_DENIED, ffa_mem_reclaim(h, FFA_MEM_RECLAIM_ZERO));
	EXPECT_EQ(0, ffa_mem_reclaim(h, 0));
	/* its own code still runs and is still read-only */
	EXPECT_FALSE(guest_probe_write(me.mem_base, 0, &abort));
	/* an RX/TX buffer must be writable */
	EXPECT_EQ(0, ffa_rxtx_unmap());
	EXPECT_EQ(FFA_DENIED, ffa_rxtx_map(first, rx, 1));
	EXPECT_EQ(0, ffa_rxtx_map(tx, rx, 1));
}

/* --- Indirect messages between v1.0 and v1.2 ------------------------------ */

/* FFA_MSG_SEND's answer: FFA_SUCCESS_32, every other register zero. */
static void expect_success_regs(const struct ffa_value *r)
{
	EXPECT_EQ(FFA_SUCCESS_32, r->x[0]);
	for (int i = 1; i < 8; i++) {
		EXPECT_EQ(0, r->x[i]);
	}
}

/* FFA_ERROR with `code`, every other register zero. */
static void expect_error_regs(const struct ffa_value *r, int32_t code)
{
	EXPECT_EQ(FFA_ERROR, r->x[0]);
	EXPECT_EQ(0, r->x[1]);
	EXPECT_EQ((uint32_t)code, r->x[2]);
	for (int i = 3; i < 8; i++) {
		EXPECT_EQ(0, r->x[i]);
	}
}

/* How a v1.0 receiver learns of a message: FFA_MSG_SEND, w1 = sender <<
 * 16 | receiver, w3 = size, the rest zero. */
static void expect_msg_send_regs(const struct ffa_value *r, uint32_t size)
{
	EXPECT_EQ(FFA_MSG_SEND, r->x[0]);
	EXPECT_EQ(((uint32_t)ID_NEW << 16) | ID_OLD, r->x[1]);
	EXPECT_EQ(0, r->x[2]);
	EXPECT_EQ(size, r->x[3]);
	for (int i = 4; i < 8; i++) {
		EXPECT_EQ(0, r->x[i]);
	}
}

static struct ffa_value msg_send_raw(uint32_t w1, uint32_t size, uint32_t flags)
{
	struct ffa_value in = {{FFA_MSG_SEND, w1, 0, size, flags}};

	return ffa_call(&in);
}

/* "new" (v1.2) gets "old"'s FFA_MSG_SEND as from FFA_MSG_SEND2: the
 * 40-byte header, the payload at 40. */
TEST(compat, v10_msg_send_to_v12)
{
	struct ffa_value r;
	uint64_t word;

	memcpy(tx, "v1.0 says hi", 12);
	r = msg_send_raw(((uint32_t)ID_OLD << 16) | ID_NEW, 12, 0);
	expect_success_regs(&r);
	r = cmd(N_RECEIVED, 0, 0);
	ASSERT_EQ(0, status_of(r));
	EXPECT_EQ(0, r.x[4]);			       /* flags, reserved */
	EXPECT_EQ(40 | 0x0001000200000000ull, r.x[5]); /* offset, 1 -> 2 */
	EXPECT_EQ(12, r.x[6]);			       /* size, reserved */
	EXPECT_EQ(0, r.x[7]);			       /* nil UUID */
	r = cmd(N_RECEIVED, 32, 0);
	ASSERT_EQ(0, status_of(r));
	EXPECT_EQ(0, r.x[4]); /* nil UUID */
	memcpy(&word, "v1.0 say", 8);
	EXPECT_EQ(word, r.x[5]);
	word = 0;
	memcpy(&word, "s hi", 4);
	EXPECT_EQ(word, r.x[6]);
	EXPECT_EQ(0, r.x[7]);
	/* the SDK's ffa_msg_send takes the v1.0 way for a v1.0 mailbox */
	ASSERT_EQ(0, ffa_msg_send(&mb, ID_NEW, "sdk", 3));
	r = cmd(N_RECEIVED, 0, 0);
	EXPECT_EQ(40 | 0x0001000200000000ull, r.x[5]);
	EXPECT_EQ(3, r.x[6]);
	r = cmd(N_RECEIVED, 32, 0);
	EXPECT_EQ(0x6b6473, r.x[5]);
}

/* "new"'s FFA_MSG_SEND2 reaches "old" in v1.0's form: the payload at RX
 * offset 0, MSG_WAIT returning FFA_MSG_SEND; RX stays "old"'s until it
 * releases it (BUSY until then). */
TEST(compat, v12_msg_send2_to_v10)
{
	struct ffa_value r;
	struct ffa_msg msg;
	const void *payload;

	memset(rx, 0xcc, 16);
	r = cmd(N_SEND2, 0x0807060504030201ull, 7);
	ASSERT_EQ(0, status_of(r));
	r = ffa_msg_wait(0);
	expect_msg_send_regs(&r, 7);
	EXPECT_EQ(0, memcmp(rx, "\x01\x02\x03\x04\x05\x06\x07\xcc", 8));
	ASSERT_EQ(0, ffa_msg_get_v10(&mb, &r, &msg, &payload));
	EXPECT_EQ(ID_NEW, msg.sender);
	EXPECT_EQ(ID_OLD, msg.receiver);
	EXPECT_EQ(7, msg.size);
	EXPECT_EQ((uintptr_t)rx, (uintptr_t)payload);
	/* v1.0's MSG_WAIT did not release RX */
	EXPECT_EQ(FFA_BUSY, status_of(cmd(N_SEND2, 0x55, 1)));
	ASSERT_EQ(0, ffa_rx_release());
	EXPECT_EQ(0, status_of(cmd(N_SEND2, 0x55, 1)));
	r = ffa_msg_poll();
	expect_msg_send_regs(&r, 1);
	EXPECT_EQ(0x55, rx[0]);
	EXPECT_EQ(0x02, rx[1]);
	ASSERT_EQ(0, ffa_rx_release());
}

/* MSG_POLL never blocks: RETRY without a message, FFA_MSG_SEND with one
 * (once). */
TEST(compat, v10_msg_poll)
{
	struct ffa_value r = ffa_msg_poll();

	expect_error_regs(&r, FFA_RETRY);
	ASSERT_EQ(0, status_of(cmd(N_SEND2, 0x4c4c4f50, 4)));
	r = ffa_msg_poll();
	expect_msg_send_regs(&r, 4);
	EXPECT_EQ(0, memcmp(rx, "POLL", 4));
	r = ffa_msg_poll();
	expect_error_regs(&r, FFA_RETRY);
	ASSERT_EQ(0, ffa_rx_release());
	r = ffa_msg_poll();
	expect_error_regs(&r, FFA_RETRY);
}

TEST(compat, v10_msg_send_errors)
{
	struct ffa_value r;

	/* Arm's compliance suite: one byte more than the TX buffer */
	r = msg_send_raw(((uint32_t)ID_OLD << 16) | ID_NEW, FFA_PAGE_SIZE + 1,
			 0);
	expect_error_regs(&r, FFA_INVALID_PARAMETERS);
	/* the sender must be the caller */
	r = msg_send_raw(((uint32_t)ID_NEW << 16) | ID_OLD, 4, 0);
	expect_error_regs(&r, FFA_INVALID_PARAMETERS);
	r = msg_send_raw(((uint32_t)3 << 16) | ID_NEW, 4, 0);
	expect_error_regs(&r, FFA_INVALID_PARAMETERS);
	/* flags: bit 0 only */
	r = msg_send_raw(((uint32_t)ID_OLD << 16) | ID_NEW, 4, 2);
	expect_error_regs(&r, FFA_INVALID_PARAMETERS);
	/* no such receiver */
	r = msg_send_raw(((uint32_t)ID_OLD << 16) | 9, 4, 0);
	expect_error_regs(&r, FFA_INVALID_PARAMETERS);
	/* bit 0 (do not block) is accepted */
	memcpy(tx, "nb", 2);
	r = msg_send_raw(((uint32_t)ID_OLD << 16) | ID_NEW, 2, 1);
	expect_success_regs(&r);
	r = cmd(N_RECEIVED, 32, 0);
	EXPECT_EQ(0x626e, r.x[5]);
}

/* FFA_FEATURES answers SUCCESS exactly for the calls of each version. */
TEST(compat, msg_features_per_version)
{
	uint32_t w2 = 1;
	uint32_t w3 = 1;

	EXPECT_EQ(0, ffa_features(FFA_MSG_SEND, &w2, &w3));
	EXPECT_EQ(0, w2);
	EXPECT_EQ(0, w3);
	EXPECT_EQ(0, ffa_features(FFA_MSG_POLL, NULL, NULL));
	EXPECT_EQ(0, ffa_features(FFA_MSG_WAIT, NULL, NULL));
	EXPECT_EQ(FFA_NOT_SUPPORTED, ffa_features(FFA_MSG_SEND2, NULL, NULL));
	EXPECT_EQ(FFA_NOT_SUPPORTED,
		  status_of(cmd(N_FEATURES, FFA_MSG_SEND, 0)));
	EXPECT_EQ(FFA_NOT_SUPPORTED,
		  status_of(cmd(N_FEATURES, FFA_MSG_POLL, 0)));
	EXPECT_EQ(0, status_of(cmd(N_FEATURES, FFA_MSG_SEND2, 0)));
	EXPECT_EQ(0, status_of(cmd(N_FEATURES, FFA_MSG_WAIT, 0)));
}

/* The v1.0 partition information descriptors: bit 2 (indirect messages)
 * set for both, which may each receive them. */
TEST(compat, v10_partition_info_indirect_bit)
{
	struct ffa_partition_info d;
	uint32_t count = 0;
	uint32_t size = 1;

	ASSERT_EQ(0, ffa_partition_info_get(NULL, 0, &count, &size));
	EXPECT_EQ(2, count);
	EXPECT_EQ(0, size);
	ffa_partition_info_read(&d, rx, FFA_VERSION_1_0);
	EXPECT_EQ(ID_OLD, d.id);
	EXPECT_EQ(FFA_PROP_DIRECT_REQ_RECV | FFA_PROP_DIRECT_REQ_SEND |
		      FFA_PROP_INDIRECT_MSG,
		  d.properties);
	ffa_partition_info_read(&d, rx + 8, FFA_VERSION_1_0);
	EXPECT_EQ(ID_NEW, d.id);
	EXPECT_EQ(FFA_PROP_DIRECT_REQ_RECV | FFA_PROP_DIRECT_REQ_SEND |
		      FFA_PROP_INDIRECT_MSG,
		  d.properties);
	EXPECT_EQ(0, ffa_rx_release());
}

int main(void)
{
	struct guest_self me = guest_self();
	struct ffa_value r;

	if (me.id != ID_OLD) {
		new_main();
		return 0;
	}
	/* before any other FF-A call, as Linux 6.1 does */
	if (ffa_version(FFA_VERSION_1_0) != (int32_t)FFA_VERSION_1_2) {
		guest_printf("FFA_VERSION(1.0) failed\n");
	}
	ffa_mailbox_init(&mb, tx, rx, 1, FFA_VERSION_1_0);
	test_run_suite("compat");
	r = cmd(N_OFF, 0, 0);
	(void)r;
	return 0;
}
