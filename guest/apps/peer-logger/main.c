/*
 * Peer partition "logger" of the Linux product: prints what its device
 * tree says, then serves FF-A messages: prints indirect ones, answers a
 * direct request with how many it logged; "quit" powers it off.
 */
#include <guest/ffa.h>

#include "../peer.h"

static uint8_t tx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static uint8_t rx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static struct ffa_mailbox mb;
static uint32_t logged;

static void answer(struct ffa_service *s, const struct ffa_value *req,
		   uint64_t *resp)
{
	(void)s;
	resp[0] = req->x[3] == PEER_COUNT_REQUEST ? logged : 0;
	guest_printf("direct request from partition %u: %u message(s) "
		     "logged\n",
		     ffa_sender(req->x[1]), logged);
}

static enum ffa_service_action log_message(struct ffa_service *s,
					   const struct ffa_msg *msg,
					   const void *payload)
{
	char text[81];

	(void)s;
	ffa_msg_text(msg, payload, text, sizeof(text));
	if (strcmp(text, "quit") == 0) {
		guest_printf("quit from partition %u after %u message(s)\n",
			     msg->sender, logged);
		return FFA_SERVICE_STOP;
	}
	logged++;
	guest_printf("message %u from partition %u: \"%s\"\n", logged,
		     msg->sender, text);
	return FFA_SERVICE_CONTINUE;
}

int main(void)
{
	struct guest_self me = guest_self();
	struct ffa_service service = {
	    .mb = &mb, .direct = answer, .indirect = log_message};
	int32_t err;

	guest_printf("hello from %s: partition %u on physical CPU %u\n",
		     me.name, me.id, me.cpu);
	peer_print_device_tree();
	err = ffa_mailbox_init(&mb, tx, rx, 1, FFA_VERSION_1_2);
	if (err != 0) {
		guest_printf("RXTX_MAP failed: %d\n", err);
		return 1;
	}
	err = ffa_service_loop(&service);
	guest_printf("%s: done (%d), SYSTEM_OFF\n", me.name, err);
	return 0;
}
