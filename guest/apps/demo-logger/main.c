/*
 * Demo partition "logger": discovers the other partitions, then serves
 * FF-A messages. Indirect messages are printed; a direct request is
 * answered with how many messages it has logged. An indirect "quit" ends
 * the service and powers the partition off.
 */
#include <guest/ffa.h>
#include <string.h>

#include "../demo-ring.h"

static uint8_t tx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static uint8_t rx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static struct ffa_mailbox mb;
static uint32_t logged;
static uint32_t requests;

/* FILL: the lent page is ours for a while: write into it, give it back. */
static int32_t fill(uint64_t handle, uint16_t owner)
{
	uint64_t page = demo_retrieve(&mb, handle, owner, FFA_MEM_DATA_RW);
	static const char text[] = "filled in by logger on CPU 3";

	if (page == 0) {
		return FFA_ABORTED;
	}
	memcpy((void *)(uintptr_t)page, text, sizeof(text));
	guest_printf("retrieved lent page %#lx, wrote \"%s\", relinquishing\n",
		     page, text);
	return ffa_mem_relinquish(&mb, handle, 0);
}

/* SHOW: a page shared read-only with us and the sensor. */
static int32_t show(uint64_t handle, uint16_t owner)
{
	uint64_t page = demo_retrieve(&mb, handle, owner, FFA_MEM_DATA_RO);

	if (page == 0) {
		return FFA_ABORTED;
	}
	guest_printf("shared page %#lx says \"%s\"\n", page,
		     (const char *)(uintptr_t)page);
	return ffa_mem_relinquish(&mb, handle, 0);
}

static void answer(struct ffa_service *s, const struct ffa_value *req,
		   uint64_t *resp)
{
	uint16_t from = ffa_sender(req->x[1]);

	(void)s;
	if (req->x[3] == DEMO_FILL_REQUEST) {
		resp[0] = (uint32_t)fill(req->x[4], from);
		return;
	}
	if (req->x[3] == DEMO_SHOW_REQUEST) {
		resp[0] = (uint32_t)show(req->x[4], from);
		return;
	}
	requests++;
	guest_printf("direct request from partition %u (word %#lx): "
		     "answering %u messages logged\n",
		     ffa_sender(req->x[1]), req->x[3], logged);
	resp[0] = req->x[3] == DEMO_COUNT_REQUEST ? logged : 0;
	resp[1] = requests;
}

static enum ffa_service_action log_message(struct ffa_service *s,
					   const struct ffa_msg *msg,
					   const void *payload)
{
	char text[81];

	(void)s;
	ffa_msg_text(msg, payload, text, sizeof(text));
	if (strcmp(text, "quit") == 0) {
		const struct demo_ring *ring =
		    (const struct demo_ring *)(uintptr_t)DEMO_RING_ADDR;

		guest_printf("quit from partition %u after %u messages\n",
			     msg->sender, logged);
		guest_printf(
		    "ring in static shared memory holds %u readings:\n",
		    ring->head);
		for (uint32_t i = 0; i < ring->head && i < DEMO_RING_ENTRIES;
		     i++) {
			guest_printf("  ring[%u] = \"%s\"\n", i,
				     ring->entries[i]);
		}
		return FFA_SERVICE_STOP;
	}
	logged++;
	guest_printf("indirect message %u from partition %u: \"%s\"\n", logged,
		     msg->sender, text);
	return FFA_SERVICE_CONTINUE;
}

int main(void)
{
	struct guest_self me = guest_self();
	struct ffa_service service = {
	    .mb = &mb, .direct = answer, .indirect = log_message};
	int32_t err;

	guest_printf("hello from %s: partition %u, vCPU %u of %u on physical "
		     "CPU %u, memory %#lx-%#lx (FF-A v%u.%u)\n",
		     me.name, me.id, me.vcpu, me.vcpu_count, me.cpu,
		     me.mem_base, me.mem_base + me.mem_size,
		     (unsigned)ffa_version(FFA_VERSION_1_2) >> 16,
		     (unsigned)ffa_version(FFA_VERSION_1_2) & 0xffff);
	err = ffa_mailbox_init(&mb, tx, rx, 1, FFA_VERSION_1_2);
	if (err != 0) {
		guest_printf("RXTX_MAP failed: %d\n", err);
		return 1;
	}
	guest_printf("waiting for messages (FFA_MSG_WAIT)\n");
	err = ffa_service_loop(&service);
	guest_printf("%s: done (%d), SYSTEM_OFF\n", me.name, err);
	return 0;
}
