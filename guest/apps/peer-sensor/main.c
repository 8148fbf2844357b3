/*
 * Peer partition "sensor" of the Linux product: prints what its device
 * tree says, finds the logger by its UUID, sends it three readings as
 * indirect messages, asks how many it logged (direct request), tells it
 * to quit, and powers off.
 */
#include <bulkhead/fmt.h>
#include <guest/ffa.h>

#include "../peer.h"

static uint8_t tx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static uint8_t rx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static struct ffa_mailbox mb;

static int32_t send_text(uint16_t to, const char *text)
{
	int32_t err;

	do {
		err = ffa_msg_send(&mb, to, text, (uint32_t)strlen(text));
	} while (err == FFA_BUSY);
	return err;
}

/* Asks the logger (direct request) until it has logged `want` messages;
 * returns its last count (short of `want` after ten million tries). */
static uint64_t logged_by(uint16_t logger, uint64_t want)
{
	uint64_t words[5] = {PEER_COUNT_REQUEST};
	uint64_t logged = 0;

	for (long tries = 0; tries < 10000000 && logged < want; tries++) {
		struct ffa_value r =
		    ffa_direct_req(mb.self, logger, words, true);

		if (ffa_is_error(&r, FFA_BUSY)) {
			continue; /* not in MSG_WAIT yet */
		}
		if (!ffa_value_is(&r, FFA_MSG_SEND_DIRECT_RESP_64)) {
			guest_printf("direct request failed: %d\n",
				     ffa_value_error(&r));
			break;
		}
		logged = r.x[3];
	}
	return logged;
}

int main(void)
{
	struct guest_self me = guest_self();
	struct ffa_partition_info logger;
	uint32_t count;
	uint32_t size;
	char text[48];
	int32_t err;

	guest_printf("hello from %s: partition %u on physical CPU %u\n",
		     me.name, me.id, me.cpu);
	peer_print_device_tree();
	err = ffa_mailbox_init(&mb, tx, rx, 1, FFA_VERSION_1_2);
	if (err == 0) {
		err =
		    ffa_partition_info_get(peer_logger_uuid, 0, &count, &size);
	}
	if (err != 0) {
		guest_printf("FF-A set-up failed: %d\n", err);
		return 1;
	}
	ffa_partition_info_read(&logger, rx, mb.version);
	ffa_rx_release();
	guest_printf("found the logger by UUID: partition %u\n", logger.id);
	for (int i = 1; i <= 3; i++) {
		fmt_snprintf(text, sizeof(text), "reading %d: %d.%d C", i,
			     20 + i, (i * 3) % 10);
		err = send_text(logger.id, text);
		guest_printf("sent \"%s\" (MSG_SEND2: %d)\n", text, err);
	}
	guest_printf("the logger has logged %lu message(s)\n",
		     logged_by(logger.id, 3));
	err = send_text(logger.id, "quit");
	guest_printf("%s: done (quit sent: %d), SYSTEM_OFF\n", me.name, err);
	return 0;
}
