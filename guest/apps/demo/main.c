/*
 * Demo partition "control": says who it is, starts each of its other vCPUs
 * with PSCI CPU_ON and waits for them to switch off again. Then FF-A:
 * discovers every partition with PARTITION_INFO_GET, sends the logger an
 * indirect message, asks it with direct requests (CPU 0 -> CPU 3) how
 * many messages it has logged until the sensor's have arrived. Then
 * memory: lends the logger a page to fill, shares one page read-only with
 * the sensor and the logger, tries a donation the manifest does not
 * grant, tells both to quit and powers off.
 */
#include <bulkhead/psci.h>
#include <guest/ffa.h>
#include <string.h>

#include "../demo-ring.h"

#define SENSOR		  2
#define LOGGER		  3
#define EXPECTED_MESSAGES 4 /* 3 from sensor, 1 from us */

static uint8_t lend_page[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static uint8_t share_page[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static uint8_t tx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static uint8_t rx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static struct ffa_mailbox mb;

static void hello(const char *role)
{
	struct guest_self me = guest_self();

	guest_printf("hello from %s: partition %u, vCPU %u of %u on physical "
		     "CPU %u, memory %#lx-%#lx (%s)\n",
		     me.name, me.id, me.vcpu, me.vcpu_count, me.cpu,
		     me.mem_base, me.mem_base + me.mem_size, role);
}

void secondary_main(unsigned int vcpu)
{
	(void)vcpu;
	hello("secondary vCPU, started with CPU_ON");
}

static void discover(void)
{
	uint32_t count = 0;
	uint32_t size = 0;
	int32_t err = ffa_partition_info_get(NULL, 0, &count, &size);

	if (err != 0) {
		guest_printf("PARTITION_INFO_GET failed: %d\n", err);
		return;
	}
	guest_printf("PARTITION_INFO_GET: %u partitions\n", count);
	for (uint32_t i = 0; i < count; i++) {
		struct ffa_partition_info d;
		char uuid[37];

		ffa_partition_info_read(&d, rx + i * size, mb.version);
		ffa_uuid_format(uuid, d.uuid);
		guest_printf(
		    "  partition %u: %u vCPU(s), uuid %s, "
		    "properties %#x (%s%s%s)\n",
		    d.id, d.exec_context_count, uuid, d.properties,
		    d.properties & FFA_PROP_DIRECT_REQ_RECV
			? "receives direct, "
			: "",
		    d.properties & FFA_PROP_DIRECT_REQ_SEND ? "sends direct, "
							    : "",
		    d.properties & FFA_PROP_INDIRECT_MSG ? "indirect" : "-");
	}
	ffa_rx_release();
}

/* Sends an indirect message, retrying while the logger's RX is full. */
static void send_text(const char *text)
{
	int32_t err;

	do {
		err = ffa_msg_send(&mb, LOGGER, text, (uint32_t)strlen(text));
	} while (err == FFA_BUSY);
	if (err != 0) {
		guest_printf("MSG_SEND2 failed: %d\n", err);
	}
}

static void talk_to_logger(void)
{
	uint64_t words[5] = {DEMO_COUNT_REQUEST};
	struct ffa_value r;
	uint64_t logged = 0;

	send_text("hello logger, this is control");
	guest_printf("sent an indirect message to partition %u\n", LOGGER);
	while (logged < EXPECTED_MESSAGES) {
		r = ffa_direct_req(mb.self, LOGGER, words, true);
		if (ffa_is_error(&r, FFA_BUSY)) {
			continue; /* logger is busy, not in MSG_WAIT */
		}
		if (!ffa_value_is(&r, FFA_MSG_SEND_DIRECT_RESP_64)) {
			guest_printf("direct request failed: %d\n",
				     ffa_value_error(&r));
			return;
		}
		logged = r.x[3];
	}
	guest_printf("direct response from partition %u: %lu messages logged "
		     "(request %lu)\n",
		     ffa_sender(r.x[1]), logged, r.x[4]);
}

/* A direct request with a command and a handle, retried while the
 * receiver is busy; returns the FF-A status it answers with. */
static int32_t ask(uint16_t to, uint64_t command, uint64_t handle)
{
	uint64_t words[5] = {command, handle};
	struct ffa_value r;

	do {
		r = ffa_direct_req(mb.self, to, words, true);
	} while (ffa_is_error(&r, FFA_BUSY));
	return ffa_value_is(&r, FFA_ERROR) ? ffa_value_error(&r)
					   : (int32_t)r.x[3];
}

static void memory_demo(void)
{
	struct ffa_mem_constituent page = {(uintptr_t)share_page, 1, 0};
	struct ffa_mem_receiver both[2] = {
	    {.id = SENSOR, .permissions = FFA_MEM_DATA_RO},
	    {.id = LOGGER, .permissions = FFA_MEM_DATA_RO}};
	static const char greeting[] = "hello from control, shared read-only";
	uint64_t handle = 0;
	int32_t err;

	/* lend: logger fills the page, relinquishes; we reclaim and read */
	err = ffa_mem_lend(&mb, LOGGER, lend_page, 1, FFA_MEM_DATA_RW, &handle);
	guest_printf("MEM_LEND of page %#lx to partition %u: %d, handle %#lx\n",
		     (uint64_t)(uintptr_t)lend_page, LOGGER, err, handle);
	if (err == 0) {
		err = ask(LOGGER, DEMO_FILL_REQUEST, handle);
		err = err != 0 ? err : ffa_mem_reclaim(handle, 0);
		guest_printf("reclaimed the lent page (%d): \"%s\"\n", err,
			     (const char *)lend_page);
	}
	/* share one page with two partitions at once */
	memcpy(share_page, greeting, sizeof(greeting));
	err = ffa_mem_send(&mb, FFA_MEM_SHARE_64, &page, 1, both, 2, 0, 0,
			   &handle);
	guest_printf("MEM_SHARE of page %#lx with partitions %u and %u: %d\n",
		     page.address, SENSOR, LOGGER, err);
	if (err == 0) {
		int32_t s = ask(SENSOR, DEMO_SHOW_REQUEST, handle);
		int32_t l = ask(LOGGER, DEMO_SHOW_REQUEST, handle);

		guest_printf("both relinquished (%d, %d); MEM_RECLAIM: %d\n", s,
			     l, ffa_mem_reclaim(handle, 0));
	}
	/* the manifest grants logger no donation */
	err = ffa_mem_donate(&mb, LOGGER, lend_page, 1, &handle);
	guest_printf("MEM_DONATE to partition %u: %d (%s)\n", LOGGER, err,
		     err == FFA_DENIED ? "DENIED: not in the manifest's grants"
				       : "unexpected");
}

int main(void)
{
	struct guest_self me = guest_self();
	int32_t err;

	hello("boot vCPU");
	for (unsigned int v = 1; v < me.vcpu_count; v++) {
		int64_t ret = guest_cpu_on(v);

		guest_printf("CPU_ON vCPU %u: %ld\n", v, ret);
		while (psci_affinity_info(v, 0) != PSCI_AFFINITY_OFF) {
			guest_cpu_relax();
		}
		guest_printf("vCPU %u is off again (AFFINITY_INFO)\n", v);
	}
	err = ffa_mailbox_init(&mb, tx, rx, 1, FFA_VERSION_1_2);
	if (err != 0) {
		guest_printf("RXTX_MAP failed: %d\n", err);
		return 1;
	}
	discover();
	talk_to_logger();
	memory_demo();
	send_text("quit");
	do {
		err = ffa_msg_send(&mb, SENSOR, "quit", 4);
	} while (err == FFA_BUSY);
	guest_printf("%s: done, SYSTEM_OFF\n", me.name);
	return 0;
}
