/* Service roles of the ffa-msg scenario: echo, relay and bystander. */
#include "common.h"
#include <string.h>

static uint32_t anomalies;
static uint32_t requests_seen;

/* Sends an indirect message, retrying while the receiver's RX is full. */
static int32_t send_retry(uint16_t to, const void *data, uint32_t size)
{
	for (uint32_t tries = 0; tries < 10000000; tries++) {
		int32_t err = ffa_msg_send(&mb, to, data, size);

		if (err != FFA_BUSY) {
			return err;
		}
		ffa_yield();
	}
	return FFA_BUSY;
}

/* Direct request, retrying while the receiver is not waiting. */
static struct ffa_value request_retry(uint16_t to, const uint64_t payload[5])
{
	struct ffa_value r;

	do {
		r = ffa_direct_req(mb.self, to, payload, true);
	} while (ffa_is_error(&r, FFA_BUSY));
	return r;
}

/* What a direct request must look like on arrival: flags and unused
 * registers zero, 32-bit payload without upper halves. */
static void check_request(const struct ffa_value *req)
{
	uint32_t fn = (uint32_t)req->x[0];

	requests_seen++;
	if (fn == FFA_MSG_SEND_DIRECT_REQ2) {
		return;
	}
	if (req->x[2] != 0) {
		anomalies++;
	}
	for (int i = 8; i < 18; i++) {
		if (req->x[i] != 0) {
			anomalies++;
		}
	}
	if (fn == FFA_MSG_SEND_DIRECT_REQ_32) {
		for (int i = 3; i < 8; i++) {
			if (req->x[i] >> 32 != 0) {
				anomalies++;
			}
		}
	}
}

/* Misuse while serving a request: every call must be refused. */
static void self_checks(const struct ffa_value *req, uint64_t *resp)
{
	uint16_t requester = ffa_sender(req->x[1]);
	struct ffa_value in = {
	    {FFA_MSG_SEND_DIRECT_RESP_64, ffa_endpoints(mb.self, ID_RELAY)}};
	struct ffa_value r = ffa_call(&in);

	resp[0] = (uint32_t)ffa_value_error(&r); /* wrong receiver */
	r = ffa_msg_wait(0);
	resp[1] = (uint32_t)ffa_value_error(&r); /* wait before responding */
	in = (struct ffa_value){
	    {FFA_MSG_SEND_DIRECT_RESP2, ffa_endpoints(mb.self, requester)}};
	r = ffa_call(&in);
	resp[2] = (uint32_t)ffa_value_error(&r); /* RESP2 to a REQ */
	in = (struct ffa_value){
	    {FFA_MSG_SEND_DIRECT_RESP_64, ffa_endpoints(ID_RELAY, requester)}};
	r = ffa_call(&in);
	resp[3] = (uint32_t)ffa_value_error(&r); /* spoofed sender */
}

static void echo_direct(struct ffa_service *s, const struct ffa_value *req,
			uint64_t *resp)
{
	(void)s;
	check_request(req);
	if (ffa_value_is(req, FFA_MSG_SEND_DIRECT_REQ2)) {
		for (int i = 0; i < 14; i++) {
			resp[i] = req->x[4 + i];
		}
		return;
	}
	switch ((uint32_t)req->x[3]) {
	case CMD_UNMAP_RX:
		resp[0] = (uint32_t)ffa_rxtx_unmap();
		return;
	case CMD_MAP_RX:
		resp[0] = (uint32_t)ffa_rxtx_map(tx_buf, rx_buf, 1);
		return;
	case CMD_SELF_CHECKS:
		self_checks(req, resp);
		return;
	case CMD_STATS:
		resp[0] = anomalies;
		resp[1] = requests_seen;
		return;
	case CMD_POWER_OFF:
		/* the requester must get ABORTED, not hang */
		guest_printf("echo: stopping after %u requests, %u anomalies\n",
			     requests_seen, anomalies);
		psci_system_off();
	default:
		for (int i = 0; i < 5; i++) {
			resp[i] = req->x[3 + i];
		}
		return;
	}
}

static enum ffa_service_action echo_indirect(struct ffa_service *s,
					     const struct ffa_msg *msg,
					     const void *payload)
{
	struct cmd_msg m = {0};
	uint64_t words[5] = {0};
	struct ffa_value r;

	(void)s;
	memcpy(&m, payload, msg->size < sizeof(m) ? msg->size : sizeof(m));
	/* RX is reused by the sends below: release it first. */
	ffa_rx_release();
	switch (m.cmd) {
	case CMD_ECHO:
		send_retry(msg->sender, &m, msg->size);
		break;
	case CMD_FORWARD:
		m.hops++;
		send_retry(m.origin, &m, sizeof(m));
		break;
	case CMD_CALLBACK:
		/* Direct request to the sender, once it waits; then an
		 * indirect message with the response's first word. */
		words[0] = m.seq;
		r = request_retry(msg->sender, words);
		m.seq = (uint32_t)r.x[3];
		m.cmd = CMD_ECHO;
		send_retry(msg->sender, &m, sizeof(m));
		break;
	case CMD_QUIT:
		return FFA_SERVICE_STOP;
	default:
		anomalies++;
		break;
	}
	return FFA_SERVICE_CONTINUE;
}

void echo_main(void)
{
	struct ffa_service s = {
	    .mb = &mb, .direct = echo_direct, .indirect = echo_indirect};

	mailbox_setup(FFA_VERSION_1_2);
	ffa_service_loop(&s);
}

static enum ffa_service_action relay_indirect(struct ffa_service *s,
					      const struct ffa_msg *msg,
					      const void *payload)
{
	volatile uint32_t *flag = (volatile uint32_t *)HOLD_FLAG_ADDR;
	struct cmd_msg m = {0};

	(void)s;
	memcpy(&m, payload, msg->size < sizeof(m) ? msg->size : sizeof(m));
	switch (m.cmd) {
	case CMD_FORWARD:
		ffa_rx_release();
		m.hops++;
		send_retry(ID_ECHO, &m, sizeof(m));
		break;
	case CMD_HOLD:
		/* Keep RX full and stay busy until the client lets go. */
		*flag = HOLD_SPINNING;
		while (*flag != HOLD_RELEASE) {
			guest_cpu_relax();
		}
		ffa_rx_release();
		break;
	case CMD_QUIT:
		ffa_rx_release();
		send_retry(ID_BYSTANDER, &m, sizeof(m));
		return FFA_SERVICE_STOP;
	default:
		ffa_rx_release();
		break;
	}
	return FFA_SERVICE_CONTINUE;
}

static void plain_echo(struct ffa_service *s, const struct ffa_value *req,
		       uint64_t *resp)
{
	(void)s;
	for (int i = 0; i < 5; i++) {
		resp[i] = req->x[3 + i];
	}
}

void relay_main(void)
{
	struct ffa_service s = {
	    .mb = &mb, .direct = plain_echo, .indirect = relay_indirect};

	mailbox_setup(FFA_VERSION_1_2);
	ffa_service_loop(&s);
}

static enum ffa_service_action
quit_only(struct ffa_service *s, const struct ffa_msg *msg, const void *payload)
{
	const struct cmd_msg *m = payload;

	(void)s;
	return msg->size >= 4 && m->cmd == CMD_QUIT ? FFA_SERVICE_STOP
						    : FFA_SERVICE_CONTINUE;
}

void bystander_main(void)
{
	struct ffa_service s = {
	    .mb = &mb, .direct = plain_echo, .indirect = quit_only};

	mailbox_setup(FFA_VERSION_1_2);
	ffa_service_loop(&s);
}
