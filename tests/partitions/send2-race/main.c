/*
 * FFA_MSG_SEND2 reads its header once: "racer" (two vCPUs) keeps one
 * message header in TX whose UUID vCPU 1 flips between the receiver's
 * UUID and another, while vCPU 0 sends it again and again; "target"
 * checks that every message it gets names its own UUID (the hypervisor
 * delivers the header it checked, never a second read of TX).
 */
#include <bulkhead/psci.h>
#include <guest/ffa.h>
#include <guest/test.h>
#include <string.h>

#define ID_RACER   1
#define ID_TARGET  2
#define DELIVERIES 50	  /* at least this many got through */
#define ATTEMPTS   200000 /* at most this many sends */

/* "7a26e700-0000-0000-0000-000000000001": four words, little-endian */
static const uint8_t target_uuid[16] = {0x00, 0xe7, 0x26, 0x7a, 0, 0, 0, 0,
					0,    0,    0,	  0,	1, 0, 0, 0};
static const uint8_t other_uuid[16] = {0xee, 0xee, 0xee, 0xee, 0xee, 0xee,
				       0xee, 0xee, 0xee, 0xee, 0xee, 0xee,
				       0xee, 0xee, 0xee, 0xee};

static uint8_t tx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static uint8_t rx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static struct ffa_mailbox mb;
static volatile bool stop_flipping;
static volatile bool flipper_running;

/* The UUID field of a v1.2 header in TX (ffa_msg_header_write). */
static volatile uint8_t *tx_uuid(void)
{
	static const struct ffa_msg probe = {.sender = 1, .receiver = 2};
	static uint8_t scratch[64] __attribute__((aligned(8)));
	struct ffa_msg marked = probe;

	/* find the field by writing a header with a marked UUID */
	marked.uuid[0] = 0xa5;
	ffa_msg_header_write(scratch, &marked, FFA_VERSION_1_2);
	for (uint32_t i = 0; i < sizeof(scratch); i++) {
		if (scratch[i] == 0xa5) {
			return &tx[i];
		}
	}
	return NULL;
}

void secondary_main(unsigned int vcpu)
{
	/* the UUID field is 8-byte aligned: two stores switch it whole,
	 * then it stays for a while, so sends see either UUID */
	volatile uint64_t *uuid = (volatile uint64_t *)(uintptr_t)tx_uuid();
	uint64_t mine[2];
	uint64_t other[2];
	bool flip = false;

	(void)vcpu;
	memcpy(mine, target_uuid, 16);
	memcpy(other, other_uuid, 16);
	flipper_running = true;
	while (!stop_flipping) {
		const uint64_t *u = flip ? mine : other;

		uuid[0] = u[0];
		uuid[1] = u[1];
		flip = !flip;
		for (int i = 0; i < 200; i++) {
			guest_cpu_relax();
		}
	}
}

static uint32_t delivered;
static uint32_t refused;

TEST(race, every_send_is_refused_or_delivered_as_checked)
{
	struct ffa_msg msg = {
	    .sender = ID_RACER, .receiver = ID_TARGET, .size = 8};
	uint8_t payload[8] = "payload";

	memcpy(msg.uuid, target_uuid, 16);
	msg.offset = ffa_msg_header_write(tx, &msg, FFA_VERSION_1_2);
	memcpy(tx + msg.offset, payload, sizeof(payload));
	ASSERT_EQ(PSCI_SUCCESS, guest_cpu_on(1));
	while (!flipper_running) {
		guest_cpu_relax();
	}
	for (int i = 0; i < ATTEMPTS && delivered < DELIVERIES; i++) {
		int32_t err;

		do {
			err = ffa_msg_send2(0);
		} while (err == FFA_BUSY);
		if (err == 0) {
			delivered++;
		} else {
			EXPECT_EQ(FFA_INVALID_PARAMETERS, err);
			refused++;
		}
	}
	stop_flipping = true;
	guest_printf("race: %u delivered, %u refused\n", delivered, refused);
	/* both happened: the race was real */
	EXPECT_EQ(DELIVERIES, delivered);
	EXPECT_TRUE(refused > 0);
	/* tell the target how many to expect */
	{
		uint64_t words[5] = {delivered};
		struct ffa_value r;

		do { /* BUSY while it still reads the last message */
			r = ffa_direct_req(ID_RACER, ID_TARGET, words, true);
		} while (ffa_is_error(&r, FFA_BUSY));
		EXPECT_EQ(FFA_MSG_SEND_DIRECT_RESP_64, r.x[0]);
		EXPECT_EQ(0, r.x[3]); /* messages with a foreign UUID */
		EXPECT_EQ(delivered, r.x[4]);
	}
	/* and let it go */
	while (ffa_msg_send(&mb, ID_TARGET, "quit", 4) == FFA_BUSY) {
	}
}

/* target: counts messages and those whose UUID is not its own */
static void target_main(void)
{
	uint32_t got = 0;
	uint32_t foreign = 0;

	for (;;) {
		struct ffa_value r = ffa_msg_wait(0);

		if (ffa_value_is(&r, FFA_RUN)) {
			struct ffa_msg msg;
			const void *payload;

			if (ffa_msg_get(&mb, &msg, &payload) == 0) {
				got++;
				foreign +=
				    memcmp(msg.uuid, target_uuid, 16) != 0;
			}
			continue;
		}
		if (ffa_value_is(&r, FFA_MSG_SEND_DIRECT_REQ_64)) {
			uint64_t resp[5] = {foreign, got};

			/* the count; the next message (quit) ends it */
			r = ffa_direct_resp(&r, resp);
			if (ffa_value_is(&r, FFA_RUN)) {
				return;
			}
		}
	}
}

int main(void)
{
	struct guest_self me = guest_self();

	ffa_mailbox_init(&mb, tx, rx, 1, FFA_VERSION_1_2);
	if (me.id == ID_TARGET) {
		target_main();
		return 0;
	}
	return test_run_suite("race");
}
