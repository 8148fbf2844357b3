/*
 * ffa-compat scenario: "old" (CPU 0) negotiates FF-A v1.0, as Linux 6.1's
 * driver does, and runs the tests; "new" (CPU 1) negotiates v1.2 and
 * serves direct requests. They share, lend and donate memory both ways,
 * each in its own version's descriptor layout; "old"'s first page is
 * read-only memory (its manifest's read-only-memory), which it may only
 * send read-only.
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
};

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
	case N_OFF:
		psci_system_off();
	default:
		resp[0] = 0xbad;
	}
}

static void new_main(void)
{
	struct ffa_service s = {.mb = &mb,
				.direct = serve,
				.indirect = ffa_service_stop_on_message};

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
