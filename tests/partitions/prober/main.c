/*
 * Isolation: touches what its stage 2 does not map and checks the abort the
 * hypervisor injects. The victim partition's RAM follows prober's directly;
 * a shared page (0x4f000000) says when prober is done.
 */
#include <guest/test.h>

#define HYPERVISOR	0x40200000ull
#define GIC_DISTRIBUTOR 0x08000000ull
#define GIC_ITS		0x08080000ull
/* the redistributor frame after prober's one vCPU's (0x080a0000) */
#define GICR_NOT_MINE	0x080c0000ull
#define UNASSIGNED_GPIO 0x09030000ull
#define PASSED_RTC	0x09010000ull
#define SHARED_FLAG	0x4f000000ull
#define DONE_MAGIC	0xd0d0d0d0ull

static uint64_t victim_base(void)
{
	struct guest_self me = guest_self();

	return me.mem_base + me.mem_size;
}

static void expect_data_abort(const struct guest_abort *a, uint64_t addr,
			      bool write)
{
	EXPECT_TRUE(a->taken);
	EXPECT_EQ(ESR_EC_DABT_CUR, ESR_EC(a->esr));
	EXPECT_EQ(0x10, ESR_FSC(a->esr)); /* synchronous external abort */
	EXPECT_EQ(write ? ESR_WNR : 0, a->esr & ESR_WNR);
	EXPECT_EQ(addr, a->far);
}

TEST(isolation, read_other_partition)
{
	struct guest_abort a;
	uint64_t addr = victim_base() + 0x100000;

	EXPECT_FALSE(guest_probe_read(addr, NULL, &a));
	expect_data_abort(&a, addr, false);
}

TEST(isolation, write_other_partition)
{
	struct guest_abort a;
	uint64_t addr = victim_base() + 0x100000;

	EXPECT_FALSE(guest_probe_write(addr, 0xbadbadbadull, &a));
	expect_data_abort(&a, addr, true);
}

TEST(isolation, execute_other_partition)
{
	struct guest_abort a;
	uint64_t addr = victim_base();

	EXPECT_FALSE(guest_probe_exec(addr, &a));
	EXPECT_EQ(ESR_EC_IABT_CUR, ESR_EC(a.esr));
	EXPECT_EQ(addr, a.far);
}

TEST(isolation, read_and_write_hypervisor)
{
	struct guest_abort a;

	EXPECT_FALSE(guest_probe_read(HYPERVISOR + 0x1008, NULL, &a));
	expect_data_abort(&a, HYPERVISOR + 0x1008, false);
	EXPECT_FALSE(guest_probe_write(HYPERVISOR, 0, &a));
	expect_data_abort(&a, HYPERVISOR, true);
}

TEST(isolation, unassigned_devices)
{
	struct guest_abort a;

	EXPECT_FALSE(guest_probe_read(GIC_ITS, NULL, &a));
	expect_data_abort(&a, GIC_ITS, false);
	EXPECT_FALSE(guest_probe_read(GICR_NOT_MINE, NULL, &a));
	expect_data_abort(&a, GICR_NOT_MINE, false);
	EXPECT_FALSE(guest_probe_write(UNASSIGNED_GPIO + 0x400, 1, &a));
	expect_data_abort(&a, UNASSIGNED_GPIO + 0x400, true);
}

/* The GIC distributor and its own redistributor frame are emulated: a
 * GICv3 (PIDR2.ArchRev 3) of its own, with its vCPU's frame last. */
TEST(isolation, gic_is_its_own_view)
{
	struct guest_abort a;
	uint64_t value = 0;

	EXPECT_TRUE(guest_probe_read(GIC_DISTRIBUTOR + 0xffe8, &value, &a));
	EXPECT_EQ(3, (value >> 4) & 0xf);
	EXPECT_TRUE(guest_probe_read(0x080a0000ull + 0x8, &value, &a));
	EXPECT_EQ(1u << 4, value & (1u << 4)); /* GICR_TYPER.Last */
}

TEST(isolation, passthrough_device_and_own_memory_work)
{
	struct guest_abort a;
	struct guest_self me = guest_self();
	uint64_t last = me.mem_base + me.mem_size - 8;
	uint64_t value = 0;

	/* PL031 peripheral ID 0 reads 0x31 */
	EXPECT_TRUE(guest_probe_read(PASSED_RTC + 0xfe0, &value, &a));
	EXPECT_EQ(0x31, value & 0xff);
	EXPECT_TRUE(guest_probe_write(last, 0x1122334455667788ull, &a));
	EXPECT_TRUE(guest_probe_read(last, &value, &a));
	EXPECT_EQ(0x1122334455667788ull, value);
}

int main(void)
{
	test_run_all();
	*(volatile uint64_t *)SHARED_FLAG = DONE_MAGIC;
	return 0;
}
