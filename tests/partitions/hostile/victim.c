/*
 * The victim: keeps a 2 MiB pattern in its RAM, serves direct requests
 * and indirect messages from anyone who may send them, takes part in the
 * checker's memory transactions, and at the end proves its pattern and
 * its image intact. Requests from the fuzzer are echoed (common.h);
 * commands are taken from the checker only (the hypervisor vouches for
 * the sender in w1 and in the message header).
 */
#include "common.h"

#include <guest/test.h>
#include <string.h>

#define MAX_RANGES 8
#define RX_TRIES   100

extern char _start[];
extern char __start_guest_tests[];

static uint8_t tx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static uint8_t rx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static struct ffa_mailbox mb;
static uint64_t image_sum;

static struct {
	uint64_t from_checker;
	uint64_t from_fuzzer; /* direct requests */
	uint64_t messages;    /* indirect messages from the fuzzer */
	uint64_t anomalies;
} seen;

/* What V_HOLD keeps. */
static uint64_t held_handle;
static struct ffa_mem_constituent held[MAX_RANGES];
static uint32_t held_count;

static void anomaly(const char *what, uint64_t a, uint64_t b)
{
	if (++seen.anomalies <= 10) {
		guest_printf("victim: ANOMALY %s: %#lx %#lx\n", what, a, b);
	}
}

static uint64_t image_checksum(void)
{
	uint64_t sum = 0;

	for (const uint64_t *p = (const uint64_t *)_start;
	     p < (const uint64_t *)__start_guest_tests; p++) {
		sum = (sum ^ *p) * 0x100000001b3ull;
	}
	return sum;
}

static uint64_t *pattern_page(uint32_t i)
{
	return (uint64_t *)(uintptr_t)(VICTIM_PATTERN +
				       (uint64_t)i * FFA_PAGE_SIZE);
}

static void write_pattern(void)
{
	for (uint32_t i = 0; i < VICTIM_PATTERN_PAGES; i++) {
		uint64_t *w = pattern_page(i);

		for (uint32_t k = 0; k < FFA_PAGE_SIZE / 8; k++) {
			w[k] = pattern_word((uintptr_t)&w[k], KEY_VICTIM);
		}
	}
}

static uint32_t pattern_pages_intact(void)
{
	uint32_t intact = 0;

	for (uint32_t i = 0; i < VICTIM_PATTERN_PAGES; i++) {
		const uint64_t *w = pattern_page(i);
		bool ok = true;

		for (uint32_t k = 0; k < FFA_PAGE_SIZE / 8; k++) {
			ok &=
			    w[k] == pattern_word((uintptr_t)&w[k], KEY_VICTIM);
		}
		intact += ok;
	}
	return intact;
}

/* --- the checker's memory ------------------------------------------------- */

static int32_t retrieve(uint64_t handle, uint32_t type,
			struct ffa_mem_transaction *t,
			struct ffa_mem_constituent *ranges)
{
	int32_t err = FFA_BUSY;

	/* the fuzzer keeps RX full of messages: drop them and try again */
	for (int tries = 0; err == FFA_BUSY && tries < RX_TRIES; tries++) {
		if (tries > 0) {
			ffa_rx_release();
		}
		err = ffa_mem_retrieve(&mb, handle, ID_CHECKER, 0, type, 0, 0,
				       t, ranges, MAX_RANGES);
	}
	return err;
}

/* The checker's pattern in each page (first and last word); returns the
 * pages that differ. */
static uint32_t check_checker_pattern(const struct ffa_mem_constituent *r,
				      uint32_t count)
{
	uint32_t bad = 0;

	for (uint32_t i = 0; i < count; i++) {
		bad +=
		    page_ends_wrong(r[i].address, r[i].page_count, KEY_CHECKER);
	}
	return bad;
}

static void write_lent_pattern(const struct ffa_mem_constituent *r,
			       uint32_t count)
{
	for (uint32_t i = 0; i < count; i++) {
		page_ends_write(r[i].address, r[i].page_count, KEY_LENT);
	}
}

/* V_RETRIEVE and V_HOLD: x4 handle, x5 type -> x3 status, x4 pages. */
static void take(const struct ffa_value *req, uint64_t *resp, bool hold)
{
	struct ffa_mem_transaction t;
	struct ffa_mem_constituent r[MAX_RANGES];
	uint32_t type = (uint32_t)req->x[5];
	int32_t err;
	uint32_t bad;

	if (hold && held_handle != 0) {
		resp[0] = (uint64_t)(int64_t)FFA_DENIED;
		return;
	}
	err = retrieve(req->x[4], type, &t, r);
	if (err != 0) {
		resp[0] = (uint64_t)(int64_t)err;
		return;
	}
	bad = check_checker_pattern(r, t.constituent_count);
	if (type == FFA_MEM_TYPE_LEND &&
	    (t.receivers[0].permissions & FFA_MEM_DATA_MASK) ==
		FFA_MEM_DATA_RW) {
		write_lent_pattern(r, t.constituent_count);
	}
	resp[1] = t.page_count;
	if (hold) {
		held_handle = req->x[4];
		held_count = t.constituent_count;
		memcpy(held, r, sizeof(r));
	} else {
		err = ffa_mem_relinquish(&mb, req->x[4], 0);
	}
	resp[0] = err != 0 ? (uint64_t)(int64_t)err : bad;
}

static void checker_command(const struct ffa_value *req, uint64_t *resp)
{
	seen.from_checker++;
	switch ((uint32_t)req->x[3]) {
	case V_PING:
		resp[0] = 0;
		resp[1] = req->x[4] + 1;
		break;
	case V_RETRIEVE:
		take(req, resp, false);
		break;
	case V_HOLD:
		take(req, resp, true);
		break;
	case V_RELEASE:
		if (held_handle == 0 || held_handle != req->x[4]) {
			resp[0] = (uint64_t)(int64_t)FFA_INVALID_PARAMETERS;
			break;
		}
		resp[0] =
		    (uint64_t)(int64_t)ffa_mem_relinquish(&mb, held_handle, 0);
		if (resp[0] == 0) {
			held_handle = 0;
		}
		break;
	case V_SHARE: {
		uint64_t handle = 0;
		uint32_t first = (uint32_t)req->x[4];
		uint32_t pages = (uint32_t)req->x[5];

		if (first >= VICTIM_PATTERN_PAGES || pages == 0 ||
		    pages > VICTIM_PATTERN_PAGES - first) {
			resp[0] = (uint64_t)(int64_t)FFA_INVALID_PARAMETERS;
			break;
		}
		resp[0] = (uint64_t)(int64_t)ffa_mem_share(
		    &mb, ID_CHECKER, pattern_page(first), pages,
		    FFA_MEM_DATA_RO, &handle);
		resp[1] = handle;
		break;
	}
	case V_RECLAIM:
		resp[0] = (uint64_t)(int64_t)ffa_mem_reclaim(req->x[4], 0);
		break;
	case V_VERIFY:
		resp[0] = 0;
		resp[1] = pattern_pages_intact();
		resp[2] = image_checksum() == image_sum;
		resp[3] = seen.from_fuzzer;
		resp[4] = seen.anomalies;
		break;
	default:
		resp[0] = (uint64_t)(int64_t)FFA_NOT_SUPPORTED;
		break;
	}
}

/* --- requests and messages ------------------------------------------------ */

static void direct(struct ffa_service *s, const struct ffa_value *req,
		   uint64_t *resp)
{
	uint32_t fn = (uint32_t)req->x[0];
	uint16_t sender = ffa_sender(req->x[1]);
	bool req2 = fn == FFA_MSG_SEND_DIRECT_REQ2;

	(void)s;
	if (ffa_receiver(req->x[1]) != ID_VICTIM ||
	    (sender != ID_FUZZER && sender != ID_CHECKER)) {
		anomaly("request's endpoints", req->x[0], req->x[1]);
	}
	if (!req2) {
		/* what the hypervisor delivers: no flags, 32-bit requests
		 * their low halves only, nothing past x7 */
		bool clean = req->x[2] == 0;

		for (int i = 3; i < 8 && fn == FFA_MSG_SEND_DIRECT_REQ_32;
		     i++) {
			clean &= (req->x[i] >> 32) == 0;
		}
		for (int i = 8; i < 18; i++) {
			clean &= req->x[i] == 0;
		}
		if (!clean) {
			anomaly("request registers", fn, req->x[2]);
		}
	}
	if (sender == ID_CHECKER && !req2) {
		checker_command(req, resp);
		return;
	}
	seen.from_fuzzer++;
	if (req2) {
		resp[0] = ECHO_TAG;
		for (int i = 1; i < 14; i++) {
			resp[i] = ~req->x[4 + i];
		}
		return;
	}
	resp[0] = ECHO_TAG;
	for (int i = 1; i < 5; i++) {
		resp[i] = ~req->x[3 + i];
	}
}

static enum ffa_service_action
indirect(struct ffa_service *s, const struct ffa_msg *msg, const void *payload)
{
	(void)s;
	if (msg->receiver != ID_VICTIM || msg->size > mb.size ||
	    (msg->sender != ID_FUZZER && msg->sender != ID_CHECKER)) {
		anomaly("message header", msg->sender, msg->size);
		return FFA_SERVICE_CONTINUE;
	}
	if (msg->sender == ID_CHECKER && msg->size == 8) {
		uint64_t word;

		memcpy(&word, payload, 8);
		if (word == QUIT_MAGIC) {
			return FFA_SERVICE_STOP;
		}
	}
	seen.messages++;
	return FFA_SERVICE_CONTINUE;
}

TEST(victim, survives_the_fuzzer_with_memory_intact)
{
	EXPECT_EQ(VICTIM_PATTERN_PAGES, pattern_pages_intact());
	EXPECT_EQ(image_sum, image_checksum());
	EXPECT_EQ(0, held_handle);
	EXPECT_EQ(0, seen.anomalies);
	EXPECT_TRUE(seen.from_fuzzer > 0);
	EXPECT_TRUE(seen.from_checker > 0);
}

int victim_main(void)
{
	struct ffa_service service = {
	    .mb = &mb, .direct = direct, .indirect = indirect};
	int32_t err;

	image_sum = image_checksum();
	write_pattern();
	ffa_mailbox_init(&mb, tx, rx, 1, FFA_VERSION_1_2);
	__atomic_store_n(&sync_state()->victim_ready, 1, __ATOMIC_RELEASE);
	while ((err = ffa_service_loop(&service)) != 0) {
		anomaly("service loop ended", (uint64_t)(int64_t)err, 0);
	}
	guest_printf("victim: done: %u of %u pattern pages intact, image %s, "
		     "%lu requests from the fuzzer, %lu messages, %lu from the "
		     "checker, %lu anomalies\n",
		     pattern_pages_intact(), VICTIM_PATTERN_PAGES,
		     image_checksum() == image_sum ? "intact" : "CHANGED",
		     seen.from_fuzzer, seen.messages, seen.from_checker,
		     seen.anomalies);
	test_run_suite("victim");
	return 0;
}
