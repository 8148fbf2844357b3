/* ffa-msg scenario, client side: indirect and direct messages with echo
 * (CPU 1), relay (CPU 2) and bystander (CPU 3, not in our messaging list). */
#include "common.h"
#include <string.h>

static uint32_t next_seq = 1;

static struct cmd_msg make(enum cmd cmd, const char *text)
{
	struct cmd_msg m = {.cmd = cmd, .origin = ID_CLIENT, .seq = next_seq++};

	m.len = (uint32_t)strlen(text);
	memcpy(m.data, text, m.len);
	return m;
}

/* The raw TX header for hand-made (bad) messages. */
static void write_header(uint32_t flags, uint32_t offset, uint16_t sender,
			 uint16_t receiver, uint32_t size)
{
	struct ffa_msg_header h = {.flags = flags,
				   .offset = offset,
				   .endpoints = ffa_endpoints(sender, receiver),
				   .size = size};

	memcpy(tx_buf, &h, sizeof(h));
}

/* --- indirect ------------------------------------------------------------- */

TEST(indirect, echo)
{
	struct cmd_msg m = make(CMD_ECHO, "ping over MSG_SEND2");
	struct ffa_msg got;
	const void *payload;
	struct ffa_msg_header h;

	ASSERT_EQ(0, ffa_msg_send(&mb, ID_ECHO, &m, sizeof(m)));
	ASSERT_EQ(0, receive_message(&got, &payload));
	EXPECT_EQ(ID_ECHO, got.sender);
	EXPECT_EQ(ID_CLIENT, got.receiver);
	EXPECT_EQ(sizeof(m), got.size);
	EXPECT_EQ(0, memcmp(&m, payload, sizeof(m)));
	memcpy(&h, rx_buf, sizeof(h));
	EXPECT_EQ(FFA_MSG_HEADER_SIZE_1_2, h.offset);
	EXPECT_EQ(0, h.flags);
	EXPECT_EQ(0, h.reserved0);
	EXPECT_EQ(0, h.reserved1);
}

TEST(indirect, relay_through_three_partitions)
{
	struct cmd_msg m = make(CMD_FORWARD, "via relay and echo");
	const struct cmd_msg *back;
	struct ffa_msg got;
	const void *payload;

	ASSERT_EQ(0, ffa_msg_send(&mb, ID_RELAY, &m, sizeof(m)));
	ASSERT_EQ(0, receive_message(&got, &payload));
	back = payload;
	EXPECT_EQ(ID_ECHO, got.sender);
	EXPECT_EQ(2, back->hops);
	EXPECT_EQ(m.seq, back->seq);
	EXPECT_EQ(0, memcmp(m.data, back->data, m.len));
}

static volatile uint32_t *hold_flag(void)
{
	return (volatile uint32_t *)HOLD_FLAG_ADDR;
}

TEST(indirect, second_send_before_read_busy)
{
	struct cmd_msg hold = make(CMD_HOLD, "hold");
	struct cmd_msg fwd = make(CMD_FORWARD, "after the hold");
	uint64_t words[5] = {1, 2, 3, 4, 5};
	struct ffa_value r;
	struct ffa_msg got;
	const void *payload;
	int32_t err;

	*hold_flag() = 0;
	ASSERT_EQ(0, ffa_msg_send(&mb, ID_RELAY, &hold, sizeof(hold)));
	while (*hold_flag() != HOLD_SPINNING) {
		guest_cpu_relax();
	}
	/* relay's RX still holds the first message */
	EXPECT_EQ(FFA_BUSY, ffa_msg_send(&mb, ID_RELAY, &fwd, sizeof(fwd)));
	/* and relay is running, not waiting for direct requests */
	r = ffa_direct_req(ID_CLIENT, ID_RELAY, words, true);
	EXPECT_EQ(FFA_BUSY, ffa_value_error(&r));
	*hold_flag() = HOLD_RELEASE;
	do {
		err = ffa_msg_send(&mb, ID_RELAY, &fwd, sizeof(fwd));
	} while (err == FFA_BUSY);
	ASSERT_EQ(0, err);
	ASSERT_EQ(0, receive_message(&got, &payload));
	EXPECT_EQ(fwd.seq, ((const struct cmd_msg *)payload)->seq);
}

static uint64_t echo_command(enum cmd cmd)
{
	uint64_t words[5] = {cmd};
	struct ffa_value r = ffa_direct_req(ID_CLIENT, ID_ECHO, words, true);

	return ffa_value_is(&r, FFA_MSG_SEND_DIRECT_RESP_64) ? r.x[3] : 0xbad;
}

TEST(indirect, receiver_without_rx_busy)
{
	struct cmd_msg m = make(CMD_ECHO, "to a receiver without RX");
	struct ffa_msg got;
	const void *payload;

	ASSERT_EQ(0, echo_command(CMD_UNMAP_RX));
	EXPECT_EQ(FFA_BUSY, ffa_msg_send(&mb, ID_ECHO, &m, sizeof(m)));
	/* remapping after an unmap works */
	ASSERT_EQ(0, echo_command(CMD_MAP_RX));
	ASSERT_EQ(0, ffa_msg_send(&mb, ID_ECHO, &m, sizeof(m)));
	ASSERT_EQ(0, receive_message(&got, &payload));
	EXPECT_EQ(m.seq, ((const struct cmd_msg *)payload)->seq);
}

TEST(indirect, sender_without_tx_denied)
{
	ASSERT_EQ(0, ffa_rxtx_unmap());
	EXPECT_EQ(FFA_DENIED, ffa_msg_send2(0));
	mailbox_setup(FFA_VERSION_1_2);
}

TEST(indirect, spoofed_sender_invalid)
{
	write_header(0, 40, ID_RELAY, ID_ECHO, 8);
	EXPECT_EQ(FFA_INVALID_PARAMETERS, ffa_msg_send2(0));
}

TEST(indirect, to_self_invalid)
{
	write_header(0, 40, ID_CLIENT, ID_CLIENT, 8);
	EXPECT_EQ(FFA_INVALID_PARAMETERS, ffa_msg_send2(0));
}

TEST(indirect, unknown_receiver_invalid)
{
	write_header(0, 40, ID_CLIENT, 0x99, 8);
	EXPECT_EQ(FFA_INVALID_PARAMETERS, ffa_msg_send2(0));
}

TEST(indirect, size_too_large_invalid)
{
	write_header(0, 40, ID_CLIENT, ID_ECHO, FFA_PAGE_SIZE - 40 + 1);
	EXPECT_EQ(FFA_INVALID_PARAMETERS, ffa_msg_send2(0));
}

TEST(indirect, offset_size_overflow_invalid)
{
	write_header(0, 0xfffffff0u, ID_CLIENT, ID_ECHO, 0x20);
	EXPECT_EQ(FFA_INVALID_PARAMETERS, ffa_msg_send2(0));
	write_header(0, 40, ID_CLIENT, ID_ECHO, 0xffffffffu);
	EXPECT_EQ(FFA_INVALID_PARAMETERS, ffa_msg_send2(0));
	/* payload overlapping the header */
	write_header(0, 16, ID_CLIENT, ID_ECHO, 8);
	EXPECT_EQ(FFA_INVALID_PARAMETERS, ffa_msg_send2(0));
}

TEST(indirect, flags_must_be_zero)
{
	write_header(1, 40, ID_CLIENT, ID_ECHO, 8);
	EXPECT_EQ(FFA_INVALID_PARAMETERS, ffa_msg_send2(0));
	write_header(0, 40, ID_CLIENT, ID_ECHO, 8);
	EXPECT_EQ(FFA_INVALID_PARAMETERS, ffa_msg_send2(1));
}

TEST(indirect, not_permitted_by_manifest_denied)
{
	struct cmd_msg m = make(CMD_ECHO, "to bystander");
	uint64_t words[5] = {0};
	struct ffa_value r;

	EXPECT_EQ(FFA_DENIED, ffa_msg_send(&mb, ID_BYSTANDER, &m, sizeof(m)));
	r = ffa_direct_req(ID_CLIENT, ID_BYSTANDER, words, true);
	EXPECT_EQ(FFA_DENIED, ffa_value_error(&r));
}

/* The echo partition direct-requests us once we wait, then sends an
 * indirect message with our response's first word. */
static void callback_round(uint32_t wait_flags, int32_t expect_release)
{
	struct cmd_msg m = make(CMD_CALLBACK, "call me back");
	uint32_t count;
	uint32_t size;
	uint64_t resp[5] = {0};
	struct ffa_value r;

	/* we own RX after PARTITION_INFO_GET */
	ASSERT_EQ(0, ffa_partition_info_get(NULL, 0, &count, &size));
	ASSERT_EQ(0, ffa_msg_send(&mb, ID_ECHO, &m, sizeof(m)));
	r = ffa_msg_wait(wait_flags);
	ASSERT_EQ(FFA_MSG_SEND_DIRECT_REQ_64, r.x[0]);
	EXPECT_EQ(ffa_endpoints(ID_ECHO, ID_CLIENT), r.x[1]);
	EXPECT_EQ(m.seq, r.x[3]);
	EXPECT_EQ(expect_release, ffa_rx_release());
	resp[0] = m.seq + 1000;
	r = ffa_direct_resp(&r, resp);
	/* the response wait ends with echo's indirect message */
	ASSERT_EQ(FFA_RUN, r.x[0]);
	EXPECT_EQ(ffa_endpoints(ID_CLIENT, 0), r.x[1]);
	EXPECT_EQ(m.seq + 1000, ((const struct cmd_msg *)(rx_buf + 40))->seq);
	EXPECT_EQ(0, ffa_rx_release());
}

TEST(indirect, msg_wait_releases_rx)
{
	callback_round(0, FFA_DENIED);
}

TEST(indirect, msg_wait_retain_flag_keeps_rx)
{
	callback_round(FFA_MSG_WAIT_RETAIN_RX, 0);
}

TEST(indirect, wfi_idles_until_a_message_arrives)
{
	struct cmd_msg m = make(CMD_ECHO, "wake my WFI");
	struct ffa_value r;

	ASSERT_EQ(0, ffa_msg_send(&mb, ID_ECHO, &m, sizeof(m)));
	/* trapped: idles until the echo is in our RX (or returns at once if
	 * it already is) */
	__asm__ volatile("wfi" ::: "memory");
	/* the message is reported, not lost: MSG_WAIT returns at once */
	r = ffa_msg_wait(0);
	ASSERT_EQ(FFA_RUN, r.x[0]);
	EXPECT_EQ(m.seq, ((const struct cmd_msg *)(rx_buf + 40))->seq);
	EXPECT_EQ(0, ffa_rx_release());
}

/* --- direct --------------------------------------------------------------- */

TEST(direct, echo_64_all_registers)
{
	struct ffa_value in = {{FFA_MSG_SEND_DIRECT_REQ_64,
				ffa_endpoints(ID_CLIENT, ID_ECHO), 0,
				0x1111111111111111ull, 0x2222222222222222ull,
				0x3333333333333333ull, 0x4444444444444444ull,
				0x5555555555555555ull}};
	struct ffa_value r;

	/* junk in x8..x17 must not reach the receiver */
	for (int i = 8; i < 18; i++) {
		in.x[i] = 0xdead0000ull + (unsigned int)i;
	}
	r = ffa_call(&in);
	EXPECT_EQ(FFA_MSG_SEND_DIRECT_RESP_64, r.x[0]);
	EXPECT_EQ(ffa_endpoints(ID_ECHO, ID_CLIENT), r.x[1]);
	EXPECT_EQ(0, r.x[2]);
	for (int i = 3; i < 8; i++) {
		EXPECT_EQ(in.x[i], r.x[i]);
	}
	for (int i = 8; i < 18; i++) {
		EXPECT_EQ(0, r.x[i]);
	}
}

TEST(direct, echo_32_low_halves_only)
{
	struct ffa_value in = {{FFA_MSG_SEND_DIRECT_REQ_32,
				ffa_endpoints(ID_CLIENT, ID_ECHO), 0,
				0xaaaaaaaa00000001ull, 0xbbbbbbbb00000002ull,
				0xcccccccc00000003ull, 0xdddddddd00000004ull,
				0xeeeeeeee00000005ull}};
	struct ffa_value r = ffa_call(&in);

	EXPECT_EQ(FFA_MSG_SEND_DIRECT_RESP_32, r.x[0]);
	EXPECT_EQ(ffa_endpoints(ID_ECHO, ID_CLIENT), r.x[1]);
	EXPECT_EQ(0, r.x[2]);
	for (int i = 3; i < 8; i++) {
		EXPECT_EQ((uint32_t)in.x[i], r.x[i]);
	}
}

TEST(direct, req2_all_registers)
{
	uint64_t payload[14];
	struct ffa_value r;

	for (int i = 0; i < 14; i++) {
		payload[i] = 0x0101010101010101ull * (unsigned int)(i + 1);
	}
	r = ffa_direct_req2(ID_CLIENT, ID_ECHO, NULL, payload);
	EXPECT_EQ(FFA_MSG_SEND_DIRECT_RESP2, r.x[0]);
	EXPECT_EQ(ffa_endpoints(ID_ECHO, ID_CLIENT), r.x[1]);
	EXPECT_EQ(0, r.x[2]);
	EXPECT_EQ(0, r.x[3]);
	for (int i = 0; i < 14; i++) {
		EXPECT_EQ(payload[i], r.x[4 + i]);
	}
}

TEST(direct, req2_wrong_uuid_invalid)
{
	static const uint8_t other[16] = {9, 9, 9};
	uint64_t payload[14] = {0};
	struct ffa_value r =
	    ffa_direct_req2(ID_CLIENT, ID_ECHO, other, payload);

	EXPECT_EQ(FFA_INVALID_PARAMETERS, ffa_value_error(&r));
}

TEST(direct, response_from_a_partition_not_serving_denied)
{
	struct ffa_value in = {
	    {FFA_MSG_SEND_DIRECT_RESP_64, ffa_endpoints(ID_CLIENT, ID_ECHO)}};
	struct ffa_value r = ffa_call(&in);

	EXPECT_EQ(FFA_DENIED, ffa_value_error(&r));
	in.x[0] = FFA_MSG_SEND_DIRECT_RESP2;
	r = ffa_call(&in);
	EXPECT_EQ(FFA_DENIED, ffa_value_error(&r));
}

TEST(direct, misuse_while_serving_rejected)
{
	uint64_t words[5] = {CMD_SELF_CHECKS};
	struct ffa_value r = ffa_direct_req(ID_CLIENT, ID_ECHO, words, true);

	ASSERT_EQ(FFA_MSG_SEND_DIRECT_RESP_64, r.x[0]);
	EXPECT_EQ((uint32_t)FFA_INVALID_PARAMETERS, r.x[3]); /* to relay */
	EXPECT_EQ((uint32_t)FFA_DENIED, r.x[4]);	     /* MSG_WAIT */
	EXPECT_EQ((uint32_t)FFA_DENIED, r.x[5]);	     /* RESP2 */
	EXPECT_EQ((uint32_t)FFA_INVALID_PARAMETERS, r.x[6]); /* spoofed */
}

TEST(direct, bad_requests_rejected)
{
	uint64_t words[5] = {0};
	struct ffa_value in = {
	    {FFA_MSG_SEND_DIRECT_REQ_64, ffa_endpoints(ID_CLIENT, ID_ECHO), 1}};
	struct ffa_value r = ffa_call(&in);

	EXPECT_EQ(FFA_INVALID_PARAMETERS, ffa_value_error(&r)); /* flags */
	r = ffa_direct_req(ID_RELAY, ID_ECHO, words, true);
	EXPECT_EQ(FFA_INVALID_PARAMETERS, ffa_value_error(&r)); /* spoofed */
	r = ffa_direct_req(ID_CLIENT, ID_CLIENT, words, true);
	EXPECT_EQ(FFA_INVALID_PARAMETERS, ffa_value_error(&r)); /* self */
	r = ffa_direct_req(ID_CLIENT, 0x99, words, false);
	EXPECT_EQ(FFA_INVALID_PARAMETERS, ffa_value_error(&r)); /* unknown */
}

TEST(direct, receiver_saw_clean_registers)
{
	uint64_t words[5] = {CMD_STATS};
	struct ffa_value r = ffa_direct_req(ID_CLIENT, ID_ECHO, words, true);

	ASSERT_EQ(FFA_MSG_SEND_DIRECT_RESP_64, r.x[0]);
	EXPECT_EQ(0, r.x[3]);	  /* anomalies */
	EXPECT_TRUE(r.x[4] >= 8); /* requests it checked */
}

TEST(direct, run_leaves_a_waiting_partition_waiting)
{
	uint64_t words[5] = {7, 6, 5, 4, 3};
	struct ffa_value r;

	EXPECT_EQ(0, ffa_run(ID_ECHO, 0));
	EXPECT_EQ(FFA_INVALID_PARAMETERS, ffa_run(ID_ECHO, 3));
	r = ffa_direct_req(ID_CLIENT, ID_ECHO, words, true);
	EXPECT_EQ(FFA_MSG_SEND_DIRECT_RESP_64, r.x[0]);
	EXPECT_EQ(7, r.x[3]);
}

/* Waits until partition `id` is in MSG_WAIT (its mailbox is mapped). */
static void wait_until_serving(uint16_t id)
{
	uint64_t words[5] = {0};
	struct ffa_value r;

	do {
		r = ffa_direct_req(ID_CLIENT, id, words, true);
	} while (ffa_is_error(&r, FFA_BUSY));
}

/* Runs last: echo is gone afterwards. */
TEST(direct, receiver_powering_off_aborts_the_request)
{
	uint64_t words[5] = {CMD_POWER_OFF};
	struct ffa_value r = ffa_direct_req(ID_CLIENT, ID_ECHO, words, true);

	EXPECT_EQ(FFA_ERROR, r.x[0]);
	EXPECT_EQ((uint32_t)FFA_ABORTED, r.x[2]);
	EXPECT_EQ(0, r.x[1]);
	EXPECT_EQ(0, r.x[3]);
	/* and a partition that is off takes no more requests */
	r = ffa_direct_req(ID_CLIENT, ID_ECHO, words, true);
	EXPECT_EQ(FFA_BUSY, ffa_value_error(&r));
}

void client_msg_main(void)
{
	static const char *const order[] = {"indirect", "direct", NULL};
	struct cmd_msg quit = make(CMD_QUIT, "");

	mailbox_setup(FFA_VERSION_1_2);
	wait_until_serving(ID_ECHO);
	wait_until_serving(ID_RELAY);
	test_run_suites(order);
	while (ffa_msg_send(&mb, ID_RELAY, &quit, sizeof(quit)) == FFA_BUSY) {
	}
}
