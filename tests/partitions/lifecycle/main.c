/*
 * SYSTEM_OFF and SYSTEM_RESET of one partition. One image, three roles by
 * partition name: "resetter" resets itself once and checks that it came
 * back with fresh memory; "observer" keeps running through it all;
 * "quitter" powers off at once. The shared page 0x4f000000 carries the
 * resetter's boot count and its done flag across the reset.
 */
#include <guest/ffa.h>
#include <guest/test.h>

#define SHARED	   ((volatile uint64_t *)0x4f000000ull)
#define DONE_MAGIC 0xd0d0d0d0ull

static uint64_t data_var = 42;
static uint64_t bss_var;

static volatile uint64_t *ram_marker(void)
{
	struct guest_self me = guest_self();

	return (volatile uint64_t *)(uintptr_t)(me.mem_base + me.mem_size -
						0x1000);
}

static bool named(const char *want)
{
	struct guest_self me = guest_self();

	for (int i = 0; i < 16; i++) {
		if (me.name[i] != want[i]) {
			return false;
		}
		if (want[i] == '\0') {
			return true;
		}
	}
	return true;
}

TEST(resetter, came_back_for_a_second_boot)
{
	EXPECT_EQ(1, SHARED[0]);
}

TEST(resetter, data_section_is_fresh)
{
	EXPECT_EQ(42, data_var);
}

TEST(resetter, bss_is_zero)
{
	EXPECT_EQ(0, bss_var);
}

TEST(resetter, ram_is_cleared)
{
	EXPECT_EQ(0, *ram_marker());
}

TEST(observer, kept_running_through_the_reset)
{
	unsigned long spins = 0;

	*ram_marker() = 0x0b5e0b5eull;
	while (SHARED[1] != DONE_MAGIC) {
		if (++spins % 3000000 == 0) {
			guest_printf("observer still running\n");
		}
	}
	EXPECT_EQ(1, SHARED[0]);
	EXPECT_EQ(0x0b5e0b5eull, *ram_marker());
}

int main(void)
{
	if (named("quitter")) {
		guest_printf("quitter: SYSTEM_OFF now\n");
		return 0;
	}
	if (named("observer")) {
		/* FFA_RUN of a partition that is off is DENIED: start the
		 * tests only once quitter (ID 3) has powered off. */
		while (ffa_run(3, 0) != FFA_DENIED) {
			guest_cpu_relax();
		}
		guest_printf("observer: quitter is off\n");
		test_run_suite("observer");
		return 0;
	}
	if (SHARED[0] == 0) {
		data_var = 99;
		bss_var = 77;
		*ram_marker() = 0xfeedfaceull;
		SHARED[0] = 1;
		guest_printf("resetter: first boot, SYSTEM_RESET\n");
		psci_system_reset();
	}
	guest_printf("resetter: second boot\n");
	test_run_suite("resetter");
	SHARED[1] = DONE_MAGIC;
	return 0;
}
