/* ffa-setup scenario: version, features, IDs, discovery, RX/TX buffers,
 * console, YIELD and RUN, from a v1.2 partition ("client"), a v1.1 one
 * ("v11") and a v1.0 one ("v10"). */
#include "common.h"
#include <bulkhead/hypercall.h>
#include <string.h>

#define SETUP_PARTITIONS 4
#define PEER_RAM	 0x44400000ull
#define DEVICE_PAGE	 0x09010000ull /* the client's pass-through RTC */
#define SHARED_PAGE	 0x4f000000ull /* shared with peer */

static const uint8_t uuid_client[16] = {0x01, 0x00, 0x00, 0xc1, 0x02, 0x00,
					0x03, 0x00, 0x04, 0x00, 0x05, 0x00,
					0x06, 0x00, 0x00, 0x00};
static const uint8_t uuid_peer[16] = {0x01, 0x00, 0x00, 0xc2, 0x02, 0x00,
				      0x03, 0x00, 0x04, 0x00, 0x05, 0x00,
				      0x06, 0x00, 0x00, 0x00};

static struct ffa_value raw(uint32_t fn, uint64_t a1, uint64_t a2, uint64_t a3,
			    uint64_t a4, uint64_t a5)
{
	struct ffa_value in = {{fn, a1, a2, a3, a4, a5}};

	return ffa_call(&in);
}

static void expect_unused_zero(const struct ffa_value *r, int first)
{
	for (int i = first; i < 8; i++) {
		EXPECT_EQ(0, r->x[i]);
	}
}

/* --- version (run first: no other FF-A call before it) ------------------ */

TEST(version, renegotiate_before_other_calls)
{
	struct ffa_value r = raw(FFA_VERSION, FFA_VERSION_1_1, 0, 0, 0, 0);

	EXPECT_EQ(FFA_VERSION_1_2, r.x[0]);
	expect_unused_zero(&r, 1);
	EXPECT_EQ(FFA_VERSION_1_2, ffa_version(FFA_VERSION_1_2));
}

/* DEN0077 "FFA_VERSION": NOT_SUPPORTED is w0 = -1, a 32-bit result like
 * every SMC32 call's: x0 = 0x00000000ffffffff, not sign-extended. */
TEST(version, bad_versions_not_supported)
{
	struct ffa_value r = raw(FFA_VERSION, 0x20000, 0, 0, 0, 0);

	EXPECT_EQ(0xffffffffull, r.x[0]);
	expect_unused_zero(&r, 1);
	EXPECT_EQ(FFA_NOT_SUPPORTED, ffa_version(0x10003));
	EXPECT_EQ(FFA_NOT_SUPPORTED, ffa_version(0x80010002u));
	EXPECT_EQ(FFA_NOT_SUPPORTED, ffa_version(0));
	EXPECT_EQ(FFA_NOT_SUPPORTED, ffa_version(0x7fff0002));
}

TEST(version, fixed_after_other_calls)
{
	uint16_t id;

	ASSERT_EQ(0, ffa_id_get(&id));
	EXPECT_EQ(FFA_NOT_SUPPORTED, ffa_version(FFA_VERSION_1_1));
	EXPECT_EQ(FFA_NOT_SUPPORTED, ffa_version(FFA_VERSION_1_0));
	EXPECT_EQ(FFA_VERSION_1_2, ffa_version(FFA_VERSION_1_2));
}

/* --- features ------------------------------------------------------------ */

static const uint32_t supported[] = {
    FFA_ERROR,
    FFA_SUCCESS_32,
    FFA_SUCCESS_64,
    FFA_INTERRUPT,
    FFA_VERSION,
    FFA_FEATURES,
    FFA_RX_RELEASE,
    FFA_RXTX_UNMAP,
    FFA_PARTITION_INFO_GET,
    FFA_PARTITION_INFO_GET_REGS,
    FFA_ID_GET,
    FFA_MSG_WAIT,
    FFA_YIELD,
    FFA_RUN,
    FFA_MSG_SEND2,
    FFA_MSG_SEND_DIRECT_REQ_32,
    FFA_MSG_SEND_DIRECT_REQ_64,
    FFA_MSG_SEND_DIRECT_RESP_32,
    FFA_MSG_SEND_DIRECT_RESP_64,
    FFA_MSG_SEND_DIRECT_REQ2,
    FFA_MSG_SEND_DIRECT_RESP2,
    FFA_CONSOLE_LOG_32,
    FFA_CONSOLE_LOG_64,
    FFA_MEM_SHARE_32,
    FFA_MEM_SHARE_64,
    FFA_MEM_LEND_32,
    FFA_MEM_LEND_64,
    FFA_MEM_DONATE_32,
    FFA_MEM_DONATE_64,
    FFA_MEM_RETRIEVE_RESP,
    FFA_MEM_RELINQUISH,
    FFA_MEM_RECLAIM,
    FFA_MEM_FRAG_RX,
    FFA_MEM_FRAG_TX,
};

TEST(features, supported_calls)
{
	for (size_t i = 0; i < sizeof(supported) / sizeof(supported[0]); i++) {
		struct ffa_value r =
		    raw(FFA_FEATURES, supported[i], 0, 0, 0, 0);

		EXPECT_EQ(FFA_SUCCESS_32, r.x[0]);
		EXPECT_EQ(0, r.x[2]);
		EXPECT_EQ(0, r.x[3]);
		expect_unused_zero(&r, 4);
		EXPECT_EQ(0, r.x[1]);
	}
}

TEST(features, rxtx_map_properties)
{
	uint32_t w2 = 1;
	uint32_t w3 = 1;

	EXPECT_EQ(0, ffa_features(FFA_RXTX_MAP_64, &w2, &w3));
	EXPECT_EQ((uint32_t)CONFIG_FFA_RXTX_MAX_PAGES << 16, w2);
	EXPECT_EQ(0, w3);
	EXPECT_EQ(0, ffa_features(FFA_RXTX_MAP_32, &w2, &w3));
	EXPECT_EQ((uint32_t)CONFIG_FFA_RXTX_MAX_PAGES << 16, w2);
}

/* DEN0077 "FFA_FEATURES" for FFA_MEM_RETRIEVE_REQ: input w2 bit 1 = the
 * caller handles the NS bit (from v1.1 a secure partition must say so; a
 * non-secure endpoint like this one gets the same answer either way, as
 * Arm's compliance suite expects), output w2 bit 0 = its own buffer (no),
 * bit 1 = NS bit set in responses, bit 2 = retrieval by a hypervisor
 * (none); w3[7:0] = 0, one retrieval at a time. */
TEST(features, mem_retrieve_req_properties)
{
	static const uint32_t ids[] = {FFA_MEM_RETRIEVE_REQ_32,
				       FFA_MEM_RETRIEVE_REQ_64};

	for (size_t i = 0; i < 2; i++) {
		struct ffa_value r = raw(FFA_FEATURES, ids[i], 2, 0, 0, 0);

		EXPECT_EQ(FFA_SUCCESS_32, r.x[0]);
		EXPECT_EQ(0, r.x[1]);
		EXPECT_EQ(2, r.x[2]);
		EXPECT_EQ(0, r.x[3]);
		expect_unused_zero(&r, 4);
		r = raw(FFA_FEATURES, ids[i], 0, 0, 0, 0);
		EXPECT_EQ(FFA_SUCCESS_32, r.x[0]);
		EXPECT_EQ(2, r.x[2]);
		EXPECT_EQ(0, r.x[3]);
		r = raw(FFA_FEATURES, ids[i], 3, 0, 0, 0);
		EXPECT_EQ(FFA_INVALID_PARAMETERS, ffa_value_error(&r));
	}
}

TEST(features, unsupported_calls_and_features)
{
	static const uint32_t ids[] = {
	    FFA_SPM_ID_GET,
	    FFA_MSG_SEND,
	    FFA_MSG_POLL,
	    0x8400007d /* NOTIFICATION_BITMAP_CREATE: the hypervisor's */,
	    0x840000f0,
	    BULKHEAD_SELF_INFO,
	    BULKHEAD_CALL_UID,
	    0x84000000 /* PSCI_VERSION */,
	    3 /* MEI (NPI and SRI: tests/partitions/notify-test) */,
	    0x7fffffff,
	    0x84000078 /* MEM_OP_PAUSE */,
	    0x84000084 /* RX_ACQUIRE */,
	    0xc4000087 /* SECONDARY_EP_REGISTER */,
	    0x84000088 /* MEM_PERM_GET */,
	    0x8400008c /* EL3_INTR_HANDLE */,
	};

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		struct ffa_value r = raw(FFA_FEATURES, ids[i], 0, 0, 0, 0);

		EXPECT_EQ(FFA_ERROR, r.x[0]);
		EXPECT_EQ((uint32_t)FFA_NOT_SUPPORTED, r.x[2]);
		EXPECT_EQ(0, r.x[1]);
		EXPECT_EQ(0, r.x[3]);
		expect_unused_zero(&r, 4);
	}
}

/* Input properties where DEN0077 defines none: INVALID_PARAMETERS for a
 * supported call; an unsupported one stays NOT_SUPPORTED whatever w2. */
TEST(features, input_properties_must_be_zero)
{
	struct ffa_value r = raw(FFA_FEATURES, FFA_VERSION, 1, 0, 0, 0);

	EXPECT_EQ(FFA_INVALID_PARAMETERS, ffa_value_error(&r));
	r = raw(FFA_FEATURES, FFA_SPM_ID_GET, 1, 0, 0, 0);
	EXPECT_EQ(FFA_NOT_SUPPORTED, ffa_value_error(&r));
	r = raw(FFA_FEATURES, FFA_NOTIFICATION_BIND, 1, 0, 0, 0);
	EXPECT_EQ(FFA_NOT_SUPPORTED, ffa_value_error(&r));
}

/* --- IDs ------------------------------------------------------------------ */

TEST(id, get)
{
	struct ffa_value r = raw(FFA_ID_GET, 0, 0, 0, 0, 0);

	EXPECT_EQ(FFA_SUCCESS_32, r.x[0]);
	EXPECT_EQ(0, r.x[1]);
	EXPECT_EQ(ID_CLIENT, r.x[2]);
	expect_unused_zero(&r, 3);
}

TEST(id, same_over_smc)
{
	uint16_t id = 0;

	ffa_use_smc(true);
	EXPECT_EQ(0, ffa_id_get(&id));
	ffa_use_smc(false);
	EXPECT_EQ(ID_CLIENT, id);
}

TEST(id, spm_id_get_not_supported)
{
	struct ffa_value r = raw(FFA_SPM_ID_GET, 0, 0, 0, 0, 0);

	EXPECT_EQ(FFA_ERROR, r.x[0]);
	EXPECT_EQ((uint32_t)FFA_NOT_SUPPORTED, r.x[2]);
}

TEST(id, unknown_ffa_function_not_supported)
{
	struct ffa_value r = raw(0x840000f0, 0, 0, 0, 0, 0);

	EXPECT_EQ(FFA_ERROR, r.x[0]);
	EXPECT_EQ((uint32_t)FFA_NOT_SUPPORTED, r.x[2]);
	expect_unused_zero(&r, 3);
}

/* --- discovery ------------------------------------------------------------ */

TEST(info, count_only)
{
	uint32_t count = 0;
	uint32_t size = 0;

	EXPECT_EQ(0, ffa_partition_info_get(NULL, FFA_PARTITION_INFO_COUNT_ONLY,
					    &count, &size));
	EXPECT_EQ(SETUP_PARTITIONS, count);
	EXPECT_EQ(FFA_PARTITION_INFO_SIZE, size);
	EXPECT_EQ(0, ffa_partition_info_get(uuid_peer,
					    FFA_PARTITION_INFO_COUNT_ONLY,
					    &count, &size));
	EXPECT_EQ(1, count);
}

TEST(info, without_rx_buffer_busy)
{
	uint32_t count;
	uint32_t size;

	EXPECT_EQ(FFA_BUSY, ffa_partition_info_get(NULL, 0, &count, &size));
}

static void check_descriptor(const struct ffa_partition_info *d, uint16_t id,
			     uint16_t vcpus, uint32_t props,
			     const uint8_t *uuid)
{
	EXPECT_EQ(id, d->id);
	EXPECT_EQ(vcpus, d->exec_context_count);
	EXPECT_EQ(props, d->properties);
	if (uuid != NULL) {
		EXPECT_EQ(0, memcmp(uuid, d->uuid, 16));
	}
}

/* client sends (messaging = <&peer>), peer receives, v11/v10 do neither. */
#define PROPS_CLIENT 0x506u
#define PROPS_PEER   0x305u
#define PROPS_QUIET  0x100u

TEST(info, all_descriptors)
{
	struct ffa_partition_info d[SETUP_PARTITIONS];
	uint32_t count = 0;
	uint32_t size = 0;

	mailbox_setup(FFA_VERSION_1_2);
	ASSERT_EQ(0, ffa_partition_info_get(NULL, 0, &count, &size));
	ASSERT_EQ(SETUP_PARTITIONS, count);
	EXPECT_EQ(24, size);
	for (uint32_t i = 0; i < count; i++) {
		ffa_partition_info_read(&d[i], rx_buf + i * size,
					FFA_VERSION_1_2);
	}
	check_descriptor(&d[0], ID_CLIENT, 1, PROPS_CLIENT, uuid_client);
	check_descriptor(&d[1], ID_PEER, 1, PROPS_PEER, uuid_peer);
	check_descriptor(&d[2], ID_V11, 1, PROPS_QUIET, NULL);
	check_descriptor(&d[3], ID_V10, 1, PROPS_QUIET, NULL);
	EXPECT_EQ(0, ffa_rx_release());
}

TEST(info, one_uuid)
{
	struct ffa_partition_info d;
	uint32_t count = 0;
	uint32_t size = 0;

	ASSERT_EQ(0, ffa_partition_info_get(uuid_peer, 0, &count, &size));
	EXPECT_EQ(1, count);
	ffa_partition_info_read(&d, rx_buf, FFA_VERSION_1_2);
	check_descriptor(&d, ID_PEER, 1, PROPS_PEER, uuid_peer);
	EXPECT_EQ(0, ffa_rx_release());
}

TEST(info, unknown_uuid_invalid)
{
	static const uint8_t unknown[16] = {0xde, 0xad};
	uint32_t count;
	uint32_t size;

	EXPECT_EQ(FFA_INVALID_PARAMETERS,
		  ffa_partition_info_get(unknown, 0, &count, &size));
	EXPECT_EQ(FFA_INVALID_PARAMETERS,
		  ffa_partition_info_get(unknown, FFA_PARTITION_INFO_COUNT_ONLY,
					 &count, &size));
}

TEST(info, rx_not_released_busy)
{
	uint32_t count;
	uint32_t size;

	ASSERT_EQ(0, ffa_partition_info_get(NULL, 0, &count, &size));
	EXPECT_EQ(FFA_BUSY, ffa_partition_info_get(NULL, 0, &count, &size));
	EXPECT_EQ(0, ffa_rx_release());
	EXPECT_EQ(0, ffa_partition_info_get(NULL, 0, &count, &size));
	EXPECT_EQ(0, ffa_rx_release());
	EXPECT_EQ(FFA_DENIED, ffa_rx_release());
}

TEST(info, flags_must_be_zero)
{
	uint32_t count;
	uint32_t size;

	EXPECT_EQ(FFA_INVALID_PARAMETERS,
		  ffa_partition_info_get(NULL, 2, &count, &size));
}

TEST(info, regs_all)
{
	struct ffa_partition_info d[5];
	struct ffa_value r = raw(FFA_PARTITION_INFO_GET_REGS, 0, 0, 0, 0, 0);
	uint32_t filled = 0;
	uint16_t last = 0;

	EXPECT_EQ(FFA_SUCCESS_64, r.x[0]);
	EXPECT_EQ(0, r.x[1]);
	/* last 3, current 3, tag 0, size 24 */
	EXPECT_EQ(3ull | 3ull << 16 | 24ull << 48, r.x[2]);
	for (int i = 15; i < 18; i++) {
		EXPECT_EQ(0, r.x[i]); /* the fifth slot is empty */
	}
	ASSERT_EQ(0, ffa_partition_info_get_regs(NULL, 0, d, &filled, &last));
	EXPECT_EQ(4, filled);
	EXPECT_EQ(3, last);
	check_descriptor(&d[0], ID_CLIENT, 1, PROPS_CLIENT, uuid_client);
	check_descriptor(&d[1], ID_PEER, 1, PROPS_PEER, uuid_peer);
	check_descriptor(&d[3], ID_V10, 1, PROPS_QUIET, NULL);
}

TEST(info, regs_start_index_and_tag)
{
	struct ffa_partition_info d[5];
	uint32_t filled = 0;
	uint16_t last = 0;
	struct ffa_value r;

	ASSERT_EQ(0, ffa_partition_info_get_regs(NULL, 2, d, &filled, &last));
	EXPECT_EQ(2, filled);
	EXPECT_EQ(ID_V11, d[0].id);
	EXPECT_EQ(FFA_INVALID_PARAMETERS,
		  ffa_partition_info_get_regs(NULL, 4, d, &filled, &last));
	r = raw(FFA_PARTITION_INFO_GET_REGS, 0, 0, 1u << 16, 0, 0);
	EXPECT_EQ(FFA_INVALID_PARAMETERS, ffa_value_error(&r));
	ASSERT_EQ(0,
		  ffa_partition_info_get_regs(uuid_peer, 0, d, &filled, &last));
	EXPECT_EQ(1, filled);
	EXPECT_EQ(ID_PEER, d[0].id);
}

/* --- RX/TX buffers -------------------------------------------------------- */

static uint8_t big[8 * FFA_PAGE_SIZE] __attribute__((aligned(4096)));

TEST(rxtx, already_mapped_denied)
{
	EXPECT_EQ(FFA_DENIED, ffa_rxtx_map(tx_buf, rx_buf, 1));
}

TEST(rxtx, unmap_then_remap)
{
	EXPECT_EQ(0, ffa_rxtx_unmap());
	EXPECT_EQ(FFA_INVALID_PARAMETERS, ffa_rxtx_unmap());
	EXPECT_EQ(0, ffa_rxtx_map(tx_buf, rx_buf, 1));
	EXPECT_EQ(0, ffa_rxtx_unmap());
	EXPECT_EQ(0, ffa_rxtx_map_32(tx_buf, rx_buf, 1));
}

TEST(rxtx, several_pages)
{
	uint32_t count;
	uint32_t size;

	ASSERT_EQ(0, ffa_rxtx_unmap());
	EXPECT_EQ(0, ffa_rxtx_map(big, big + 4 * FFA_PAGE_SIZE, 4));
	EXPECT_EQ(0, ffa_partition_info_get(NULL, 0, &count, &size));
	EXPECT_EQ(ID_PEER, *(uint16_t *)(big + 4 * FFA_PAGE_SIZE + 24));
	EXPECT_EQ(0, ffa_rx_release());
	EXPECT_EQ(0, ffa_rxtx_unmap());
	EXPECT_EQ(0, ffa_rxtx_map(tx_buf, rx_buf, 1));
}

/* Each failure with nothing mapped, then the pair is mapped again. */
static int32_t map_unmapped(uint64_t tx, uint64_t rx, uint32_t pages)
{
	struct ffa_value r;

	ffa_rxtx_unmap();
	r = raw(FFA_RXTX_MAP_64, tx, rx, pages, 0, 0);
	ffa_rxtx_map(tx_buf, rx_buf, 1);
	return ffa_value_error(&r);
}

#define TX ((uint64_t)(uintptr_t)tx_buf)
#define RX ((uint64_t)(uintptr_t)rx_buf)

/* DEN0077 "FFA_RXTX_MAP": buffers that are not the caller's memory are
 * INVALID_PARAMETERS (a device page it owns is not memory). */
TEST(rxtx, device_page_invalid)
{
	EXPECT_EQ(FFA_INVALID_PARAMETERS, map_unmapped(TX, DEVICE_PAGE, 1));
}

TEST(rxtx, unaligned_invalid)
{
	EXPECT_EQ(FFA_INVALID_PARAMETERS, map_unmapped(TX + 8, RX, 1));
	EXPECT_EQ(FFA_INVALID_PARAMETERS, map_unmapped(TX, RX + 0x800, 1));
}

TEST(rxtx, same_page_invalid)
{
	EXPECT_EQ(FFA_INVALID_PARAMETERS, map_unmapped(TX, TX, 1));
}

TEST(rxtx, overlapping_invalid)
{
	uint64_t b = (uintptr_t)big;

	EXPECT_EQ(FFA_INVALID_PARAMETERS,
		  map_unmapped(b, b + FFA_PAGE_SIZE, 2));
	EXPECT_EQ(FFA_INVALID_PARAMETERS,
		  map_unmapped(b + 3 * FFA_PAGE_SIZE, b, 4));
}

/* DEN0077 "FFA_RXTX_MAP": pages outside the caller's memory are
 * INVALID_PARAMETERS. */
TEST(rxtx, outside_own_memory_invalid)
{
	EXPECT_EQ(FFA_INVALID_PARAMETERS, map_unmapped(PEER_RAM, RX, 1));
	EXPECT_EQ(FFA_INVALID_PARAMETERS, map_unmapped(TX, SHARED_PAGE, 1));
	EXPECT_EQ(FFA_INVALID_PARAMETERS,
		  map_unmapped(TX, 0x40200000, 1)); /* hyp */
	/* straddles the end of the client's RAM */
	EXPECT_EQ(FFA_INVALID_PARAMETERS,
		  map_unmapped(TX, PEER_RAM - FFA_PAGE_SIZE, 2));
}

TEST(rxtx, zero_and_too_many_pages_invalid)
{
	EXPECT_EQ(FFA_INVALID_PARAMETERS, map_unmapped(TX, RX, 0));
	EXPECT_EQ(FFA_INVALID_PARAMETERS,
		  map_unmapped(TX, RX, CONFIG_FFA_RXTX_MAX_PAGES + 1));
	EXPECT_EQ(FFA_INVALID_PARAMETERS, map_unmapped(TX, RX, 0x41));
}

TEST(rxtx, rx_release_of_empty_buffer_denied)
{
	EXPECT_EQ(FFA_DENIED, ffa_rx_release());
}

TEST(rxtx, foreign_id_in_w1_invalid)
{
	struct ffa_value r =
	    raw(FFA_RXTX_UNMAP, (uint32_t)ID_PEER << 16, 0, 0, 0, 0);

	EXPECT_EQ(FFA_INVALID_PARAMETERS, ffa_value_error(&r));
	r = raw(FFA_RX_RELEASE, 1, 0, 0, 0, 0);
	EXPECT_EQ(FFA_INVALID_PARAMETERS, ffa_value_error(&r));
	r = raw(FFA_RXTX_UNMAP, (uint32_t)ID_CLIENT << 16, 0, 0, 0, 0);
	EXPECT_EQ(0, ffa_value_error(&r)); /* own ID: as Linux sends it */
	EXPECT_EQ(0, ffa_rxtx_map(tx_buf, rx_buf, 1));
}

/* --- console, YIELD, RUN -------------------------------------------------- */

TEST(console, log_32_and_64)
{
	static const char line[] = "hello over FFA_CONSOLE_LOG\n";
	struct ffa_value r =
	    raw(FFA_CONSOLE_LOG_32, 6, 'F' | 'F' << 8 | 'A' << 16 | '-' << 24,
		'3' | '2' << 8, 0, 0);

	EXPECT_EQ(FFA_SUCCESS_32, r.x[0]);
	expect_unused_zero(&r, 1);
	EXPECT_EQ(0, ffa_console_log(" ", 1));
	EXPECT_EQ(0, ffa_console_log(line, sizeof(line) - 1));
}

TEST(console, bad_counts_invalid)
{
	struct ffa_value r = raw(FFA_CONSOLE_LOG_32, 0, 'x', 0, 0, 0);

	EXPECT_EQ(FFA_INVALID_PARAMETERS, ffa_value_error(&r));
	r = raw(FFA_CONSOLE_LOG_32, 25, 'x', 0, 0, 0);
	EXPECT_EQ(FFA_INVALID_PARAMETERS, ffa_value_error(&r));
	r = raw(FFA_CONSOLE_LOG_64, 129, 'x', 0, 0, 0);
	EXPECT_EQ(FFA_INVALID_PARAMETERS, ffa_value_error(&r));
}

TEST(sched, yield_returns)
{
	EXPECT_EQ(0, ffa_yield());
}

TEST(sched, run_bad_targets_invalid)
{
	EXPECT_EQ(FFA_INVALID_PARAMETERS, ffa_run(ID_CLIENT, 0));
	EXPECT_EQ(FFA_INVALID_PARAMETERS, ffa_run(ID_PEER, 1));
	EXPECT_EQ(FFA_INVALID_PARAMETERS, ffa_run(0x77, 0));
}

TEST(sched, run_of_a_partition_it_may_not_message_denied)
{
	/* v11 runs, but client's manifest does not let it message v11 */
	EXPECT_EQ(FFA_DENIED, ffa_run(ID_V11, 0));
}

TEST(sched, run_of_an_off_partition_denied)
{
	int32_t err = 0;

	/* peer powers off right after boot */
	for (int i = 0; i < 100000 && err != FFA_DENIED; i++) {
		err = ffa_run(ID_PEER, 0);
	}
	EXPECT_EQ(FFA_DENIED, err);
}

void client_setup_main(void)
{
	static const char *const order[] = {"version", "features", "id",
					    "info",    "rxtx",	   "console",
					    "sched",   NULL};

	test_run_suites(order);
}

/* --- v1.1 and v1.0 callers ------------------------------------------------ */

TEST(v11, negotiates)
{
	EXPECT_EQ(FFA_VERSION_1_2, ffa_version(FFA_VERSION_1_1));
}

TEST(v11, v12_calls_not_supported)
{
	uint32_t w2 = 1;
	struct ffa_value r;

	EXPECT_EQ(FFA_NOT_SUPPORTED,
		  ffa_features(FFA_MSG_SEND_DIRECT_REQ2, NULL, NULL));
	EXPECT_EQ(FFA_NOT_SUPPORTED,
		  ffa_features(FFA_PARTITION_INFO_GET_REGS, NULL, NULL));
	EXPECT_EQ(FFA_NOT_SUPPORTED,
		  ffa_features(FFA_CONSOLE_LOG_64, NULL, NULL));
	EXPECT_EQ(0, ffa_features(FFA_MSG_SEND2, NULL, NULL));
	/* v1.0's indirect messaging, deprecated by v1.1 */
	EXPECT_EQ(FFA_NOT_SUPPORTED, ffa_features(FFA_MSG_SEND, NULL, NULL));
	EXPECT_EQ(FFA_NOT_SUPPORTED, ffa_features(FFA_MSG_POLL, NULL, NULL));
	EXPECT_EQ(FFA_NOT_SUPPORTED, ffa_msg_send_v10(ID_V11, ID_PEER, 4, 0));
	r = ffa_msg_poll();
	EXPECT_EQ(FFA_NOT_SUPPORTED, ffa_value_error(&r));
	EXPECT_EQ(0, ffa_features(FFA_RXTX_MAP_64, &w2, NULL));
	EXPECT_EQ(0, w2); /* no max-pages field before v1.2 */
	r = raw(FFA_PARTITION_INFO_GET_REGS, 0, 0, 0, 0, 0);
	EXPECT_EQ(FFA_NOT_SUPPORTED, ffa_value_error(&r));
}

TEST(v11, partition_info_layout)
{
	struct ffa_partition_info d;
	uint32_t count = 0;
	uint32_t size = 0;

	mailbox_setup(FFA_VERSION_1_1);
	ASSERT_EQ(0, ffa_partition_info_get(NULL, 0, &count, &size));
	EXPECT_EQ(SETUP_PARTITIONS, count);
	EXPECT_EQ(24, size);
	ffa_partition_info_read(&d, rx_buf, FFA_VERSION_1_1);
	/* bit 10 (direct request 2) is not a v1.1 property */
	check_descriptor(&d, ID_CLIENT, 1, PROPS_CLIENT & 0x1ff, uuid_client);
	EXPECT_EQ(0, ffa_rx_release());
}

TEST(v11, msg_wait_retain_flag_invalid)
{
	struct ffa_value r = ffa_msg_wait(FFA_MSG_WAIT_RETAIN_RX);

	EXPECT_EQ(FFA_INVALID_PARAMETERS, ffa_value_error(&r));
}

TEST(v10, negotiates)
{
	EXPECT_EQ(FFA_VERSION_1_2, ffa_version(FFA_VERSION_1_0));
}

TEST(v10, partition_info_8_byte_descriptors)
{
	struct ffa_partition_info d;
	uint32_t count = 0;
	uint32_t size = 1;

	mailbox_setup(FFA_VERSION_1_0);
	ASSERT_EQ(0, ffa_partition_info_get(NULL, 0, &count, &size));
	EXPECT_EQ(SETUP_PARTITIONS, count);
	EXPECT_EQ(0, size); /* w3 is reserved in v1.0 */
	ffa_partition_info_read(&d, rx_buf + 8, FFA_VERSION_1_0);
	check_descriptor(&d, ID_PEER, 1, PROPS_PEER & 0x7, NULL);
	ffa_partition_info_read(&d, rx_buf + 24, FFA_VERSION_1_0);
	check_descriptor(&d, ID_V10, 1, 0, NULL);
	EXPECT_EQ(0, ffa_rx_release());
}

/* v1.0's indirect messaging is FFA_MSG_SEND / FFA_MSG_POLL, not v1.1's
 * FFA_MSG_SEND2. v10 may message no one (no `messaging`): DENIED. */
TEST(v10, indirect_messages_v10_calls)
{
	struct ffa_value r;

	EXPECT_EQ(FFA_NOT_SUPPORTED, ffa_features(FFA_MSG_SEND2, NULL, NULL));
	EXPECT_EQ(FFA_NOT_SUPPORTED, ffa_msg_send2(0));
	EXPECT_EQ(0, ffa_features(FFA_MSG_SEND, NULL, NULL));
	EXPECT_EQ(0, ffa_features(FFA_MSG_POLL, NULL, NULL));
	r = ffa_msg_poll();
	EXPECT_EQ(FFA_ERROR, r.x[0]);
	EXPECT_EQ((uint32_t)FFA_RETRY, r.x[2]);
	EXPECT_EQ(FFA_DENIED, ffa_msg_send_v10(ID_V10, ID_PEER, 4, 0));
	EXPECT_EQ(FFA_INVALID_PARAMETERS,
		  ffa_msg_send_v10(ID_PEER, ID_CLIENT, 4, 0));
}

/* v1.0 memory calls exist (with v1.0 descriptors); a v1.0 caller chooses
 * with FFA_FEATURES whether retrieve responses carry the NS bit. */
TEST(v10, memory_calls_and_ns_bit_choice)
{
	static const uint32_t ids[] = {
	    FFA_MEM_SHARE_32,	   FFA_MEM_SHARE_64,   FFA_MEM_LEND_32,
	    FFA_MEM_LEND_64,	   FFA_MEM_DONATE_32,  FFA_MEM_DONATE_64,
	    FFA_MEM_RETRIEVE_RESP, FFA_MEM_RELINQUISH, FFA_MEM_RECLAIM,
	    FFA_MEM_FRAG_RX,	   FFA_MEM_FRAG_TX,
	};
	struct ffa_value r;

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		r = raw(FFA_FEATURES, ids[i], 0, 0, 0, 0);
		EXPECT_EQ(FFA_SUCCESS_32, r.x[0]);
		EXPECT_EQ(0, r.x[2]);
	}
	r = raw(FFA_FEATURES, FFA_MEM_RETRIEVE_REQ_64, 0, 0, 0, 0);
	EXPECT_EQ(FFA_SUCCESS_32, r.x[0]);
	EXPECT_EQ(0, r.x[2]);
	r = raw(FFA_FEATURES, FFA_MEM_RETRIEVE_REQ_64, 2, 0, 0, 0);
	EXPECT_EQ(FFA_SUCCESS_32, r.x[0]);
	EXPECT_EQ(2, r.x[2]);
}
