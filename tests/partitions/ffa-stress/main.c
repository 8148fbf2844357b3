/*
 * FF-A stress: three single-vCPU partitions on three CPUs each send
 * STRESS_COUNT indirect messages and STRESS_COUNT direct requests to each
 * of the other two. Every message carries a sequence number; receivers
 * check that each arrives once and in order.
 *
 * Indirect phase: all three send to both others at once (so pairs send to
 * each other at the same moment), polling their RX buffer between sends,
 * and wait in MSG_WAIT once they have nothing left to send. A partition
 * whose sends all got BUSY and whose RX was empty does not ask again at
 * once: it idles in WFI until a message arrives or a peer that released
 * its RX wakes it with FFA_RUN. (Asking again at once kept the receiver's
 * lock busy with BUSY answers, millions of them, and kept the host CPU
 * the receiver needed to empty its RX: under QEMU's multi-threaded TCG
 * neither YIELD nor WFE gives a host CPU away, only WFI does.)
 *
 * Direct phase: rounds. In round r partition r % 3 serves (waits in
 * MSG_WAIT) while the other two send it ROUND_REQUESTS direct requests
 * each, at the same time, then an indirect ROUND_DONE. A partition only
 * waits as a server, and its clients keep running until they have sent it
 * everything, so a wait always ends.
 */
#include <guest/ffa.h>
#include <guest/test.h>

#define STRESS_COUNT   10000
#define PARTITIONS     3
#define ROUND_REQUESTS 100
#define ROUNDS	       (PARTITIONS * STRESS_COUNT / ROUND_REQUESTS)
/* A progress line every this many messages received (indirect phase) and
 * rounds (direct phase), so that a slow run is visibly alive. */
#define PROGRESS_MESSAGES 2000
#define PROGRESS_ROUNDS	  30

enum kind { DATA = 0x44415441, ROUND_DONE };

struct payload {
	uint32_t kind;
	uint32_t seq;
};

struct peer {
	uint32_t ind_sent, dir_sent; /* next sequence numbers to send */
	uint32_t ind_recv, dir_recv; /* next sequence numbers expected */
	uint32_t rounds_done;	     /* ROUND_DONE received */
	uint32_t busy_indirect, busy_direct;
};

static uint8_t tx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static uint8_t rx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static struct ffa_mailbox mb;
static struct peer peers[PARTITIONS + 1]; /* by partition ID 1..3 */
static uint32_t errors;

static struct peer *peer(uint16_t id)
{
	if (id == 0 || id > PARTITIONS || id == mb.self) {
		errors++;
		return &peers[0];
	}
	return &peers[id];
}

/* After the n-th BUSY in a row, wait longer each time (up to a limit)
 * before asking again, so that retries do not crowd out the receiver's own
 * calls on its lock. */
static void backoff(uint32_t n)
{
	uint32_t spins = 64u << (n < 8 ? n : 8);

	for (uint32_t i = 0; i < spins; i++) {
		guest_cpu_relax();
	}
}

static int32_t send(uint16_t to, enum kind kind, uint32_t seq)
{
	struct payload m = {kind, seq};

	return ffa_msg_send(&mb, to, &m, sizeof(m));
}

static void indirect_progress(void)
{
	uint32_t received = 0;

	for (uint16_t id = 1; id <= PARTITIONS; id++) {
		received += id != mb.self ? peers[id].ind_recv : 0;
	}
	if (received % PROGRESS_MESSAGES == 0) {
		guest_printf("progress: %u of %u indirect messages received\n",
			     received, (PARTITIONS - 1) * STRESS_COUNT);
	}
}

/* Wakes the peers that may still send to this partition and may be idling
 * after a BUSY answer from it, now that its RX is free again (FFA_RUN: a
 * vCPU idling in WFI wakes, a running one's next WFI returns at once). */
static void wake_senders(void)
{
	for (uint16_t id = 1; id <= PARTITIONS; id++) {
		if (id != mb.self && peers[id].ind_recv < STRESS_COUNT) {
			errors += ffa_run(id, 0) != 0;
		}
	}
}

/* Handles the message in RX, if there is one, and releases RX; true if
 * there was one. */
static bool poll_rx(void)
{
	struct ffa_msg_header *h = (struct ffa_msg_header *)rx;
	const struct payload *m;
	struct ffa_msg msg;
	const void *data;
	struct peer *p;

	if (__atomic_load_n(&h->endpoints, __ATOMIC_ACQUIRE) == 0) {
		return false;
	}
	if (ffa_msg_get(&mb, &msg, &data) != 0 ||
	    msg.size != sizeof(struct payload)) {
		errors++;
		goto release;
	}
	m = data;
	p = peer(msg.sender);
	if (m->kind == DATA) {
		errors += m->seq != p->ind_recv;
		p->ind_recv = m->seq + 1;
		indirect_progress();
	} else if (m->kind == ROUND_DONE) {
		p->rounds_done++;
	} else {
		errors++;
	}
release:
	h->endpoints = 0;
	errors += ffa_rx_release() != 0;
	wake_senders();
	return true;
}

/* Waits once; serves direct requests until an indirect message comes. */
static void wait_and_handle(void)
{
	struct ffa_value r = ffa_msg_wait(0);

	for (;;) {
		if (ffa_value_is(&r, FFA_MSG_SEND_DIRECT_REQ_64)) {
			struct peer *p = peer(ffa_sender(r.x[1]));
			uint64_t resp[5] = {r.x[3] + 1, r.x[4]};

			errors += r.x[3] != p->dir_recv;
			p->dir_recv = (uint32_t)r.x[3] + 1;
			r = ffa_direct_resp(&r, resp);
		} else if (ffa_value_is(&r, FFA_RUN)) {
			poll_rx();
			return;
		} else {
			errors++;
			return;
		}
	}
}

/* Guest WFI: the hypervisor idles this vCPU until a message arrives in RX
 * or a peer calls FFA_RUN on it (at once if either happened already). */
static void idle_until_woken(void)
{
	__asm__ volatile("dsb sy\n\twfi" ::: "memory");
}

static void indirect_phase(void)
{
	bool sending = true;
	bool receiving = true;

	while (sending || receiving) {
		bool moved = false;

		sending = receiving = false;
		for (uint16_t id = 1; id <= PARTITIONS; id++) {
			struct peer *p = &peers[id];
			int32_t err;

			if (id == mb.self) {
				continue;
			}
			if (p->ind_sent < STRESS_COUNT) {
				err = send(id, DATA, p->ind_sent);
				p->ind_sent += err == 0;
				p->busy_indirect += err == FFA_BUSY;
				errors += err != 0 && err != FFA_BUSY;
				moved |= err == 0;
			}
			sending |= p->ind_sent < STRESS_COUNT;
		}
		moved |= poll_rx();
		/* what poll_rx just took may have been the last message:
		 * wait only for one still to come (nobody may send again) */
		for (uint16_t id = 1; id <= PARTITIONS; id++) {
			receiving |=
			    id != mb.self && peers[id].ind_recv < STRESS_COUNT;
		}
		if (!sending && receiving) {
			wait_and_handle();
		} else if (sending && !moved) {
			/* every send got BUSY: the receivers' RX buffers are
			 * full (or not mapped yet); each wakes us once it has
			 * emptied its RX, or sends us a message */
			idle_until_woken();
		}
	}
}

static void serve_round(uint32_t round)
{
	for (;;) {
		bool more = false;

		for (uint16_t id = 1; id <= PARTITIONS; id++) {
			/* each client finishes its requests, then ROUND_DONE */
			if (id != mb.self &&
			    peers[id].rounds_done < round / PARTITIONS + 1) {
				more = true;
			}
		}
		if (!more) {
			return;
		}
		wait_and_handle();
	}
}

static void request_round(uint16_t server)
{
	struct peer *p = &peers[server];

	for (int k = 0; k < ROUND_REQUESTS; k++) {
		uint64_t words[5] = {p->dir_sent, 0x5354};
		struct ffa_value r;

		for (uint32_t tries = 0;; tries++) {
			r = ffa_direct_req(mb.self, server, words, true);
			if (!ffa_is_error(&r, FFA_BUSY)) {
				break;
			}
			p->busy_direct++;
			backoff(tries);
		}
		errors += !ffa_value_is(&r, FFA_MSG_SEND_DIRECT_RESP_64) ||
			  r.x[3] != p->dir_sent + 1;
		p->dir_sent++;
	}
	for (uint32_t tries = 0; send(server, ROUND_DONE, 0) == FFA_BUSY;
	     tries++) {
		backoff(tries);
	}
}

static void direct_phase(void)
{
	for (uint32_t round = 0; round < ROUNDS; round++) {
		uint16_t server = (uint16_t)(round % PARTITIONS + 1);

		if (server == mb.self) {
			serve_round(round);
		} else {
			request_round(server);
		}
		if ((round + 1) % PROGRESS_ROUNDS == 0) {
			guest_printf("progress: %u of %u direct rounds\n",
				     round + 1, ROUNDS);
		}
	}
}

TEST(stress, exchange_in_order)
{
	indirect_phase();
	direct_phase();
	EXPECT_EQ(0, errors);
	for (uint16_t id = 1; id <= PARTITIONS; id++) {
		struct peer *p = &peers[id];

		if (id == mb.self) {
			continue;
		}
		EXPECT_EQ(STRESS_COUNT, p->ind_sent);
		EXPECT_EQ(STRESS_COUNT, p->ind_recv);
		EXPECT_EQ(STRESS_COUNT, p->dir_sent);
		EXPECT_EQ(STRESS_COUNT, p->dir_recv);
		guest_printf("with %u: %u indirect and %u direct messages each "
			     "way (%u/%u BUSY answers)\n",
			     id, p->ind_recv, p->dir_recv, p->busy_indirect,
			     p->busy_direct);
	}
}

int main(void)
{
	if (ffa_mailbox_init(&mb, tx, rx, 1, FFA_VERSION_1_2) != 0) {
		guest_printf("RXTX_MAP failed\n");
		return 0;
	}
	test_run_all();
	return 0;
}
