/*
 * Demo partition "control": says who it is, starts each of its other vCPUs
 * with PSCI CPU_ON and waits for them to switch off again. Then FF-A:
 * discovers every partition with PARTITION_INFO_GET, sends the logger an
 * indirect message, asks it with direct requests (CPU 0 -> CPU 3) how
 * many messages it has logged until the sensor's have arrived, tells it
 * to quit, and powers off.
 */
#include <bulkhead/psci.h>
#include <guest/ffa.h>
#include <string.h>

#define LOGGER		   3
#define DEMO_COUNT_REQUEST 0x434e543fu /* "CNT?" */
#define EXPECTED_MESSAGES  4	       /* 3 from sensor, 1 from us */

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
	send_text("quit");
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
	guest_printf("%s: done, SYSTEM_OFF\n", me.name);
	return 0;
}
