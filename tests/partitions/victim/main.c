/* Isolation victim: keeps a pattern in its RAM while prober attacks it,
 * keeps running, and checks the pattern once prober says it is done. */
#include <guest/test.h>

#define SHARED_FLAG 0x4f000000ull
#define DONE_MAGIC  0xd0d0d0d0ull
#define PATTERN	    0x5a5a5a5a5a5a5a5aull

static volatile uint64_t *pattern_slot(void)
{
	struct guest_self me = guest_self();

	return (volatile uint64_t *)(uintptr_t)(me.mem_base + 0x100000);
}

TEST(victim, keeps_running_and_memory_intact)
{
	unsigned long spins = 0;

	while (*(volatile uint64_t *)SHARED_FLAG != DONE_MAGIC) {
		if (++spins % 2000000 == 0) {
			guest_printf("victim still running\n");
		}
	}
	EXPECT_EQ(PATTERN, *pattern_slot());
}

int main(void)
{
	*pattern_slot() = PATTERN;
	guest_printf("victim: pattern written\n");
	test_run_all();
	return 0;
}
