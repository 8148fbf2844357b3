/*
 * Indirect messages across FF-A versions (core/ffa.c) on the host: what
 * the receiver's RX buffer and registers hold for each pair of sender and
 * receiver versions, FFA_MSG_SEND and FFA_MSG_POLL (v1.0) with their
 * errors, and which versions may call them.
 *
 * Partitions 1 (v1.0), 2 (v1.2) and 3 (v1.1) declare indirect messaging
 * and may message each other; 4 (v1.0) declares nothing and may message
 * 1. Each has one vCPU and a one-page RX/TX pair in host memory (IPA ==
 * PA == host address, as the hypervisor identity maps).
 */
#include <string.h>

#include <bulkhead/smccc.h>
#include <core/console.h>
#include <core/ffa.h>

#include "fake_arch.h"
#include "unit.h"

#define NPARTS 4

static struct manifest_partition parts[NPARTS];
static uint8_t tx[NPARTS][FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static uint8_t rx[NPARTS][FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static const uint32_t versions[NPARTS] = {FFA_VERSION_1_0, FFA_VERSION_1_2,
					  FFA_VERSION_1_1, FFA_VERSION_1_0};

/* FFA_CONSOLE_LOG's destination (core/vconsole.c), unused here. */
void vconsole_putc(struct vcpu *v, char c)
{
	(void)v;
	(void)c;
}

static void setup(void)
{
	memset(tx, 0, sizeof(tx));
	memset(rx, 0xee, sizeof(rx));
	for (uint16_t i = 0; i < NPARTS; i++) {
		parts[i] = (struct manifest_partition){.id = (uint16_t)(i + 1),
						       .vcpu_count = 1};
		parts[i].scheduler = parts[i].id;
		parts[i].ffa_properties = i == 3 ? 0 : FFA_PROP_INDIRECT_MSG;
		for (uint16_t j = 0; j < 3; j++) {
			if (j != i) {
				parts[i].messaging[parts[i].messaging_count++] =
				    (uint16_t)(j + 1);
			}
		}
		partitions[i] = (struct partition){.m = &parts[i], .index = i};
		partitions[i].state = PARTITION_RUNNING;
		partitions[i].ffa_ready = true;
		partitions[i].ffa_version = versions[i] | FFA_VERSION_FIXED;
		partitions[i].mailbox =
		    (struct ffa_mailbox){.tx = ipa_init((uintptr_t)tx[i]),
					 .rx = ipa_init((uintptr_t)rx[i]),
					 .page_count = 1,
					 .rx_owner = FFA_RX_HYPERVISOR};
		partitions[i].vcpus[0] = (struct vcpu){
		    .part = &partitions[i], .index = 0, .state = VCPU_ON};
	}
	parts[3].messaging_count = 1;
	parts[3].messaging[0] = 1;
	partition_count = NPARTS;
	for (uint16_t i = 0; i < NPARTS; i++) {
		ffa_partition_init(&partitions[i]);
	}
}

static struct vcpu *vcpu_of(uint16_t id)
{
	return &partitions[id - 1].vcpus[0];
}

/* Makes call `fn` as partition `id`'s vCPU; its registers afterwards. */
static struct ffa_value call(uint16_t id, uint32_t fn, uint64_t x1, uint64_t x2,
			     uint64_t x3, uint64_t x4)
{
	struct vcpu *v = vcpu_of(id);
	struct ffa_value r;

	memset(&v->regs, 0, sizeof(v->regs));
	v->regs.x[0] = fn;
	v->regs.x[1] = x1;
	v->regs.x[2] = x2;
	v->regs.x[3] = x3;
	v->regs.x[4] = x4;
	ffa_handle(v);
	memcpy(r.x, v->regs.x, sizeof(r.x));
	return r;
}

/* x0..x7 are exactly fn, x1, x2, x3 and zeros. */
static void expect_regs(const struct ffa_value *r, uint64_t x0, uint64_t x1,
			uint64_t x2, uint64_t x3)
{
	EXPECT_EQ(x0, r->x[0]);
	EXPECT_EQ(x1, r->x[1]);
	EXPECT_EQ(x2, r->x[2]);
	EXPECT_EQ(x3, r->x[3]);
	for (int i = 4; i < 8; i++) {
		EXPECT_EQ(0, r->x[i]);
	}
}

static void expect_error(const struct ffa_value *r, int32_t code)
{
	expect_regs(r, FFA_ERROR, 0, (uint32_t)code, 0);
}

/* FFA_MSG_SEND of `size` bytes of TX from `from` to `to`. */
static struct ffa_value send_v10(uint16_t from, uint16_t to, uint32_t size)
{
	return call(from, FFA_MSG_SEND, ffa_endpoints(from, to), 0, size, 0);
}

/* A v1.1 (20-byte) or v1.2 (40-byte) header and payload in `from`'s TX,
 * then FFA_MSG_SEND2. */
static struct ffa_value send2(uint16_t from, uint16_t to, const char *text)
{
	struct ffa_msg msg = {
	    .sender = from, .receiver = to, .size = (uint32_t)strlen(text)};
	uint32_t offset =
	    ffa_msg_header_write(tx[from - 1], &msg, versions[from - 1]);

	memcpy(tx[from - 1] + offset, text, msg.size);
	return call(from, FFA_MSG_SEND2, 0, 0, 0, 0);
}

static uint32_t word_at(const uint8_t *b, uint32_t offset)
{
	uint32_t w;

	memcpy(&w, b + offset, 4);
	return w;
}

/* A v1.0 sender's message reaches a v1.2 receiver as from MSG_SEND2: the
 * 40-byte header (flags, reserved, offset 40, endpoints, size, reserved,
 * nil UUID), the payload at 40, FFA_RUN from its MSG_WAIT. */
UNIT(ffa_msg_v10_to_v12_gets_v12_header)
{
	struct ffa_value r;

	setup();
	memcpy(tx[0], "hello v1.2", 10);
	r = send_v10(1, 2, 10);
	expect_regs(&r, FFA_SUCCESS_32, 0, 0, 0);
	EXPECT_EQ(0, word_at(rx[1], 0));
	EXPECT_EQ(0, word_at(rx[1], 4));
	EXPECT_EQ(40, word_at(rx[1], 8));
	EXPECT_EQ(0x00010002, word_at(rx[1], 12));
	EXPECT_EQ(10, word_at(rx[1], 16));
	for (uint32_t i = 20; i < 40; i += 4) {
		EXPECT_EQ(0, word_at(rx[1], i));
	}
	EXPECT_EQ(0, memcmp(rx[1] + 40, "hello v1.2", 10));
	EXPECT_EQ(0xee, rx[1][50]);
	EXPECT_EQ(FFA_RX_PARTITION, partitions[1].mailbox.rx_owner);
	r = call(2, FFA_MSG_WAIT, 0, FFA_MSG_WAIT_RETAIN_RX, 0, 0);
	expect_regs(&r, FFA_RUN, 0x00020000, 0, 0);
}

/* ... and a v1.1 receiver the 20-byte header, payload at 24. */
UNIT(ffa_msg_v10_to_v11_gets_v11_header)
{
	struct ffa_value r;

	setup();
	memcpy(tx[0], "v11", 3);
	r = send_v10(1, 3, 3);
	expect_regs(&r, FFA_SUCCESS_32, 0, 0, 0);
	EXPECT_EQ(0, word_at(rx[2], 0));
	EXPECT_EQ(0, word_at(rx[2], 4));
	EXPECT_EQ(24, word_at(rx[2], 8));
	EXPECT_EQ(0x00010003, word_at(rx[2], 12));
	EXPECT_EQ(3, word_at(rx[2], 16));
	EXPECT_EQ(0, memcmp(rx[2] + 24, "v11", 3));
}

/* A v1.2 sender's MSG_SEND2 reaches a v1.0 receiver in v1.0's form: the
 * payload at RX offset 0, nothing else written; its MSG_WAIT returns
 * FFA_MSG_SEND, w1 = sender << 16 | receiver, w3 = size. */
UNIT(ffa_msg_v12_to_v10_payload_at_0)
{
	struct ffa_value r;

	setup();
	r = send2(2, 1, "to the old one");
	expect_regs(&r, FFA_SUCCESS_32, 0, 0, 0);
	EXPECT_EQ(0, memcmp(rx[0], "to the old one", 14));
	EXPECT_EQ(0xee, rx[0][14]);
	EXPECT_EQ(FFA_RX_PARTITION, partitions[0].mailbox.rx_owner);
	r = call(1, FFA_MSG_WAIT, 0, 0, 0, 0);
	expect_regs(&r, FFA_MSG_SEND, 0x00020001, 0, 14);
	/* reported once: the next wait blocks */
	r = call(1, FFA_MSG_WAIT, 0, 0, 0, 0);
	EXPECT_EQ(VCPU_WAIT_MESSAGE, vcpu_of(1)->wait);
}

/* A v1.0 receiver already in MSG_WAIT returns at once with FFA_MSG_SEND;
 * a v1.1 sender's header is not copied. */
UNIT(ffa_msg_v11_to_waiting_v10)
{
	struct ffa_value r;

	setup();
	call(1, FFA_MSG_WAIT, 0, 0, 0, 0);
	EXPECT_EQ(VCPU_WAIT_MESSAGE, vcpu_of(1)->wait);
	r = send2(3, 1, "abc");
	expect_regs(&r, FFA_SUCCESS_32, 0, 0, 0);
	EXPECT_EQ(VCPU_RUNNABLE, vcpu_of(1)->wait);
	memcpy(r.x, vcpu_of(1)->regs.x, sizeof(r.x));
	expect_regs(&r, FFA_MSG_SEND, 0x00030001, 0, 3);
	EXPECT_EQ(0, memcmp(rx[0], "abc", 3));
	/* the message was reported: MSG_POLL has nothing more */
	r = call(1, FFA_MSG_POLL, 0, 0, 0, 0);
	expect_error(&r, FFA_RETRY);
}

UNIT(ffa_msg_poll)
{
	struct ffa_value r;

	setup();
	r = call(1, FFA_MSG_POLL, 0, 0, 0, 0);
	expect_error(&r, FFA_RETRY);
	memcpy(tx[3], "xy", 2);
	r = send_v10(4, 1, 0);
	/* 4 declares no indirect messaging: DENIED */
	expect_error(&r, FFA_DENIED);
	r = send2(2, 1, "polled");
	expect_regs(&r, FFA_SUCCESS_32, 0, 0, 0);
	r = call(1, FFA_MSG_POLL, 0, 0, 0, 0);
	expect_regs(&r, FFA_MSG_SEND, 0x00020001, 0, 6);
	EXPECT_EQ(VCPU_RUNNABLE, vcpu_of(1)->wait);
	r = call(1, FFA_MSG_POLL, 0, 0, 0, 0);
	expect_error(&r, FFA_RETRY);
	r = call(1, FFA_MSG_POLL, 1, 0, 0, 0);
	expect_error(&r, FFA_INVALID_PARAMETERS);
}

/* The receiver's RX stays full until it releases it: BUSY until then. */
UNIT(ffa_msg_send_busy_until_released)
{
	struct ffa_value r;

	setup();
	r = send2(2, 1, "one");
	expect_regs(&r, FFA_SUCCESS_32, 0, 0, 0);
	r = send2(2, 1, "two");
	expect_error(&r, FFA_BUSY);
	/* 1's own sends do not depend on its RX */
	r = send_v10(1, 2, 1);
	expect_regs(&r, FFA_SUCCESS_32, 0, 0, 0);
	r = send_v10(1, 2, 1);
	expect_error(&r, FFA_BUSY);
	r = call(1, FFA_RX_RELEASE, 0, 0, 0, 0);
	expect_regs(&r, FFA_SUCCESS_32, 0, 0, 0);
	r = send2(2, 1, "two");
	expect_regs(&r, FFA_SUCCESS_32, 0, 0, 0);
	r = call(1, FFA_MSG_POLL, 0, 0, 0, 0);
	expect_regs(&r, FFA_MSG_SEND, 0x00020001, 0, 3);
	EXPECT_EQ(0, memcmp(rx[0], "two", 3));
}

/* FFA_MSG_SEND's arguments: the sender is the caller, w2 MBZ, the size at
 * most the TX buffer, w4 bit 0 only, a known receiver other than itself. */
UNIT(ffa_msg_send_arguments)
{
	struct ffa_value r;

	setup();
	r = call(1, FFA_MSG_SEND, ffa_endpoints(3, 2), 0, 4, 0);
	expect_error(&r, FFA_INVALID_PARAMETERS);
	r = call(1, FFA_MSG_SEND, ffa_endpoints(1, 2), 1, 4, 0);
	expect_error(&r, FFA_INVALID_PARAMETERS);
	r = call(1, FFA_MSG_SEND, ffa_endpoints(1, 2), 0, 4, 2);
	expect_error(&r, FFA_INVALID_PARAMETERS);
	r = call(1, FFA_MSG_SEND, ffa_endpoints(1, 2), 0, 4, 1u << 31);
	expect_error(&r, FFA_INVALID_PARAMETERS);
	r = call(1, FFA_MSG_SEND, ffa_endpoints(1, 1), 0, 4, 0);
	expect_error(&r, FFA_INVALID_PARAMETERS);
	r = call(1, FFA_MSG_SEND, ffa_endpoints(1, 9), 0, 4, 0);
	expect_error(&r, FFA_INVALID_PARAMETERS);
	r = send_v10(1, 2, FFA_PAGE_SIZE + 1);
	expect_error(&r, FFA_INVALID_PARAMETERS);
	EXPECT_EQ(FFA_RX_HYPERVISOR, partitions[1].mailbox.rx_owner);
	/* the whole TX to a v1.0 receiver (payload at 0) fits ... */
	memset(tx[0], 0x5a, FFA_PAGE_SIZE);
	r = call(1, FFA_MSG_SEND, ffa_endpoints(1, 4), 0, FFA_PAGE_SIZE, 0);
	/* ... but 1 may not message 4 */
	expect_error(&r, FFA_DENIED);
	/* ... not behind a v1.2 receiver's 40-byte header */
	r = send_v10(1, 2, FFA_PAGE_SIZE);
	expect_error(&r, FFA_INVALID_PARAMETERS);
	r = send_v10(1, 2, FFA_PAGE_SIZE - 40);
	expect_regs(&r, FFA_SUCCESS_32, 0, 0, 0);
	EXPECT_EQ(0x5a, rx[1][FFA_PAGE_SIZE - 1]);
	/* bit 0 (the caller must not be blocked) is accepted */
	r = call(1, FFA_MSG_SEND, ffa_endpoints(1, 3), 0, 4, 1);
	expect_regs(&r, FFA_SUCCESS_32, 0, 0, 0);
	/* without a TX buffer: DENIED */
	partitions[0].mailbox = (struct ffa_mailbox){0};
	r = send_v10(1, 3, 4);
	expect_error(&r, FFA_DENIED);
}

/* A v1.2 sender's largest MSG_SEND2 payload (4096 - 40) fits a v1.0
 * receiver (payload at 0); a v1.0 sender may fill its whole TX. */
UNIT(ffa_msg_sizes_to_v10)
{
	struct ffa_value r;

	setup();
	memset(tx[0], 0x33, FFA_PAGE_SIZE);
	parts[3].ffa_properties = FFA_PROP_INDIRECT_MSG;
	parts[0].messaging[parts[0].messaging_count++] = 4;
	ffa_partition_init(&partitions[0]);
	r = send_v10(1, 4, FFA_PAGE_SIZE);
	expect_regs(&r, FFA_SUCCESS_32, 0, 0, 0);
	EXPECT_EQ(0x33, rx[3][0]);
	EXPECT_EQ(0x33, rx[3][FFA_PAGE_SIZE - 1]);
	r = call(4, FFA_MSG_POLL, 0, 0, 0, 0);
	expect_regs(&r, FFA_MSG_SEND, 0x00010004, 0, FFA_PAGE_SIZE);
}

/* FFA_MSG_SEND and FFA_MSG_POLL exist for v1.0 callers only, and
 * FFA_FEATURES says so; FFA_MSG_SEND2 for v1.1+ only. */
UNIT(ffa_msg_calls_per_version)
{
	static const uint32_t v10_only[] = {FFA_MSG_SEND, FFA_MSG_POLL};
	struct ffa_value r;

	setup();
	for (unsigned int i = 0; i < 2; i++) {
		r = call(1, FFA_FEATURES, v10_only[i], 0, 0, 0);
		expect_regs(&r, FFA_SUCCESS_32, 0, 0, 0);
		for (uint16_t id = 2; id <= 3; id++) {
			r = call(id, FFA_FEATURES, v10_only[i], 0, 0, 0);
			expect_error(&r, FFA_NOT_SUPPORTED);
		}
	}
	r = call(1, FFA_FEATURES, FFA_MSG_SEND2, 0, 0, 0);
	expect_error(&r, FFA_NOT_SUPPORTED);
	r = call(2, FFA_FEATURES, FFA_MSG_SEND2, 0, 0, 0);
	expect_regs(&r, FFA_SUCCESS_32, 0, 0, 0);
	r = call(2, FFA_MSG_SEND, ffa_endpoints(2, 1), 0, 4, 0);
	expect_error(&r, FFA_NOT_SUPPORTED);
	r = call(3, FFA_MSG_POLL, 0, 0, 0, 0);
	expect_error(&r, FFA_NOT_SUPPORTED);
	r = call(1, FFA_MSG_SEND2, 0, 0, 0, 0);
	expect_error(&r, FFA_NOT_SUPPORTED);
	/* the 64-bit IDs do not exist */
	r = call(1, FFA_FEATURES, FFA_MSG_SEND | SMCCC_64BIT, 0, 0, 0);
	expect_error(&r, FFA_NOT_SUPPORTED);
}

/* While handling a direct request, a v1.0 partition owes a response:
 * MSG_SEND and MSG_POLL are DENIED. */
UNIT(ffa_msg_v10_denied_while_serving)
{
	struct ffa_value r;

	setup();
	vcpu_of(1)->serving = vcpu_of(2);
	r = send_v10(1, 2, 1);
	expect_error(&r, FFA_DENIED);
	r = call(1, FFA_MSG_POLL, 0, 0, 0, 0);
	expect_error(&r, FFA_DENIED);
}
