/*
 * Partition "isolated" of the FF-A Linux product: no grant and no
 * messaging permission let Linux reach it (the self-test module's refused
 * cases aim at it). It waits for the service's "quit", answers "bye" and
 * powers off.
 */
#include <guest/ffa.h>
#include <string.h>

static uint8_t tx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static uint8_t rx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static struct ffa_mailbox mb;

static void no_direct(struct ffa_service *s, const struct ffa_value *req,
		      uint64_t *resp)
{
	(void)s;
	guest_printf("unexpected direct request from partition %u\n",
		     ffa_sender(req->x[1]));
	resp[0] = 0;
}

static enum ffa_service_action on_message(struct ffa_service *s,
					  const struct ffa_msg *msg,
					  const void *payload)
{
	static const char reply[] = "bye";
	char text[17];
	int32_t err = FFA_BUSY;

	(void)s;
	ffa_msg_text(msg, payload, text, sizeof(text));
	if (strcmp(text, "quit") != 0) {
		guest_printf("message from partition %u: \"%s\"\n", msg->sender,
			     text);
		return FFA_SERVICE_CONTINUE;
	}
	for (int tries = 0; err == FFA_BUSY && tries < 1000; tries++) {
		err = ffa_msg_send(&mb, msg->sender, reply, sizeof(reply) - 1);
	}
	guest_printf("quit from partition %u; \"bye\" sent: %d\n", msg->sender,
		     err);
	return FFA_SERVICE_STOP;
}

int main(void)
{
	struct guest_self me = guest_self();
	struct ffa_service service = {
	    .mb = &mb, .direct = no_direct, .indirect = on_message};
	int32_t err = ffa_mailbox_init(&mb, tx, rx, 1, FFA_VERSION_1_2);

	if (err != 0) {
		guest_printf("RXTX_MAP failed: %d\n", err);
		return 1;
	}
	guest_printf("isolated: partition %u, waiting\n", me.id);
	err = ffa_service_loop(&service);
	guest_printf("isolated: done (%d)\n", err);
	return 0;
}
