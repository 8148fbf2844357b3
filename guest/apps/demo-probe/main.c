/*
 * Demo partition: says who it is, then reads the page just past its own
 * RAM (another partition's in the demo manifest) and prints the abort the
 * hypervisor injected instead of the data. Then finds the logger by its
 * UUID (FFA_PARTITION_INFO_GET) and sends it three indirect messages.
 */
#include <bulkhead/fmt.h>
#include <guest/ffa.h>
#include <string.h>

#include "../demo-ring.h"

#define LOGGER 3

static uint8_t tx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static uint8_t rx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static struct ffa_mailbox mb;

/* Finds the logger by its UUID and sends it three readings. */
static void report_readings(void)
{
	static const uint8_t logger_uuid[16] = {
	    0xd4, 0xc2, 0xe1, 0xa3, 0x9a, 0x4b, 0x60, 0x7f,
	    0x2f, 0x1e, 0x5d, 0x8c, 0x6d, 0x5c, 0x4b, 0x3a};
	struct ffa_partition_info d;
	struct demo_ring *ring = (struct demo_ring *)(uintptr_t)DEMO_RING_ADDR;
	uint32_t count;
	uint32_t size;
	char text[48];

	if (ffa_mailbox_init(&mb, tx, rx, 1, FFA_VERSION_1_2) != 0 ||
	    ffa_partition_info_get(logger_uuid, 0, &count, &size) != 0) {
		guest_printf("FF-A set-up failed\n");
		return;
	}
	ffa_partition_info_read(&d, rx, mb.version);
	ffa_rx_release();
	guest_printf("found the logger by UUID: partition %u\n", d.id);
	for (int i = 1; i <= 3; i++) {
		int32_t err;

		fmt_snprintf(text, sizeof(text), "reading %d: %d.%d C", i,
			     20 + i, (i * 7) % 10);
		/* also into the ring in static shared memory */
		memcpy(ring->entries[ring->head], text, strlen(text) + 1);
		ring->head = ring->head + 1;
		do {
			err = ffa_msg_send(&mb, d.id, text,
					   (uint32_t)strlen(text));
		} while (err == FFA_BUSY);
		guest_printf("sent \"%s\" (MSG_SEND2: %d)\n", text, err);
	}
}

/* SHOW: control shares a page read-only with us and the logger. */
static void answer(struct ffa_service *s, const struct ffa_value *req,
		   uint64_t *resp)
{
	uint64_t handle = req->x[4];
	uint64_t page;

	(void)s;
	if (req->x[3] != DEMO_SHOW_REQUEST) {
		resp[0] = (uint32_t)FFA_INVALID_PARAMETERS;
		return;
	}
	page =
	    demo_retrieve(&mb, handle, ffa_sender(req->x[1]), FFA_MEM_DATA_RO);
	if (page == 0) {
		resp[0] = (uint32_t)FFA_ABORTED;
		return;
	}
	guest_printf("shared page %#lx says \"%s\"\n", page,
		     (const char *)(uintptr_t)page);
	resp[0] = (uint32_t)ffa_mem_relinquish(&mb, handle, 0);
}

static void serve_until_quit(void)
{
	struct ffa_service service = {.mb = &mb,
				      .direct = answer,
				      .indirect = ffa_service_stop_on_message};

	ffa_service_loop(&service);
}

int main(void)
{
	struct guest_self me = guest_self();
	uint64_t target = me.mem_base + me.mem_size;
	struct guest_abort abort;
	uint64_t value;

	guest_printf("hello from %s: partition %u, vCPU %u on physical CPU %u, "
		     "memory %#lx-%#lx\n",
		     me.name, me.id, me.vcpu, me.cpu, me.mem_base, target);
	guest_printf("reading %#lx, outside my memory...\n", target);
	if (guest_probe_read(target, &value, &abort)) {
		guest_printf("read %#lx: no abort - isolation is broken!\n",
			     value);
		return 1;
	}
	guest_printf("data abort: ESR_EL1 %#lx (EC %#lx, FSC %#lx) FAR_EL1 "
		     "%#lx at pc %#lx\n",
		     abort.esr, ESR_EC(abort.esr), ESR_FSC(abort.esr),
		     abort.far, abort.elr);
	report_readings();
	serve_until_quit();
	guest_printf("%s: done, SYSTEM_OFF\n", me.name);
	return 0;
}
