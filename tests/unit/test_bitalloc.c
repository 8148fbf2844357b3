/* Host tests of the shared-memory pool's allocator (lib/bitalloc.c). */
#include <stdlib.h>
#include <string.h>

#include <bulkhead/bitalloc.h>

#include "unit.h"

UNIT(bitalloc_first_fit_alignment_and_coalescing)
{
	uint64_t bits[4];
	struct bitalloc a;

	bitalloc_init(&a, bits, 200);
	EXPECT_EQ(0, bitalloc_alloc(&a, 3, 1));
	EXPECT_EQ(8, bitalloc_alloc(&a, 8, 8)); /* aligned past 0..2 */
	EXPECT_EQ(3, bitalloc_alloc(&a, 2, 1)); /* first fit: the gap */
	EXPECT_EQ(13, a.used);
	EXPECT_TRUE(bitalloc_free(&a, 0, 3));
	EXPECT_TRUE(bitalloc_free(&a, 3, 2));
	/* the two freed runs are one again */
	EXPECT_EQ(0, bitalloc_alloc(&a, 5, 1));
	EXPECT_TRUE(bitalloc_free(&a, 0, 5));
	EXPECT_TRUE(bitalloc_free(&a, 8, 8));
	EXPECT_EQ(0, a.used);
	EXPECT_TRUE(bitalloc_is_free(&a, 0, 200));
	/* larger than a word, and the whole region */
	EXPECT_EQ(0, bitalloc_alloc(&a, 130, 1));
	EXPECT_EQ(-1, bitalloc_alloc(&a, 71, 1));
	EXPECT_EQ(130, bitalloc_alloc(&a, 70, 1));
	EXPECT_EQ(-1, bitalloc_alloc(&a, 1, 1));
	EXPECT_TRUE(bitalloc_free(&a, 0, 130));
	EXPECT_TRUE(bitalloc_free(&a, 130, 70));
	EXPECT_EQ(0, bitalloc_alloc(&a, 200, 1));
	EXPECT_TRUE(bitalloc_free(&a, 0, 200));
	/* alignment larger than a word */
	EXPECT_EQ(0, bitalloc_alloc(&a, 1, 1));
	EXPECT_EQ(128, bitalloc_alloc(&a, 10, 128));
	EXPECT_EQ(-1, bitalloc_alloc(&a, 80, 128));
}

UNIT(bitalloc_skewed_alignment)
{
	uint64_t bits[2];
	struct bitalloc a;

	bitalloc_init(&a, bits, 100);
	/* unit 0 sits at 3 (mod 8): the first 8-aligned address is unit 5 */
	EXPECT_EQ(5, bitalloc_alloc_skewed(&a, 4, 8, 3));
	EXPECT_EQ(13, bitalloc_alloc_skewed(&a, 4, 8, 3));
	EXPECT_EQ(0, bitalloc_alloc_skewed(&a, 5, 1, 3));
	EXPECT_EQ(21, bitalloc_alloc_skewed(&a, 8, 8, 3));
	EXPECT_EQ(-1, bitalloc_alloc_skewed(&a, 80, 8, 3));
}

UNIT(bitalloc_refuses_bad_requests_and_frees)
{
	uint64_t bits[1];
	struct bitalloc a;

	bitalloc_init(&a, bits, 64);
	EXPECT_EQ(-1, bitalloc_alloc(&a, 0, 1));
	EXPECT_EQ(-1, bitalloc_alloc(&a, 1, 3));  /* not a power of two */
	EXPECT_EQ(-1, bitalloc_alloc(&a, 65, 1)); /* more than there is */
	EXPECT_EQ(0, bitalloc_alloc(&a, 4, 1));
	EXPECT_FALSE(bitalloc_free(&a, 2, 4));	 /* partly free */
	EXPECT_FALSE(bitalloc_free(&a, 60, 10)); /* past the end */
	EXPECT_EQ(4, a.used);
	EXPECT_TRUE(bitalloc_free(&a, 0, 4));
	EXPECT_FALSE(bitalloc_free(&a, 0, 4)); /* twice */
}

/* Random allocations and frees against a shadow map: no unit handed out
 * twice, every free returns exactly its units, nothing leaks. */
UNIT(bitalloc_random_against_a_shadow)
{
	enum { UNITS = 1000, LIVE = 64 };
	static uint64_t bits[(UNITS + 63) / 64];
	static int owner[UNITS];
	struct {
		int64_t index;
		uint32_t count;
	} live[LIVE];
	struct bitalloc a;
	unsigned int seed = 4711;
	uint32_t used = 0;

	bitalloc_init(&a, bits, UNITS);
	memset(owner, -1, sizeof(owner));
	for (int i = 0; i < LIVE; i++) {
		live[i].index = -1;
	}
	for (int step = 0; step < 20000; step++) {
		int k = rand_r(&seed) % LIVE;

		if (live[k].index < 0) {
			uint32_t count = 1 + rand_r(&seed) % 40;
			uint32_t align = 1u << (rand_r(&seed) % 5);
			uint32_t skew = rand_r(&seed) % 16;
			int64_t at =
			    bitalloc_alloc_skewed(&a, count, align, skew);

			if (at < 0) {
				continue;
			}
			EXPECT_EQ(0, (at + skew) % align);
			for (uint32_t u = 0; u < count; u++) {
				EXPECT_EQ((unsigned long long)-1,
					  (unsigned long long)owner[at + u]);
				owner[at + u] = k;
			}
			live[k].index = at;
			live[k].count = count;
			used += count;
		} else {
			EXPECT_TRUE(bitalloc_free(&a, (uint32_t)live[k].index,
						  live[k].count));
			for (uint32_t u = 0; u < live[k].count; u++) {
				owner[live[k].index + u] = -1;
			}
			used -= live[k].count;
			live[k].index = -1;
		}
		EXPECT_EQ(used, a.used);
	}
	for (int k = 0; k < LIVE; k++) {
		if (live[k].index >= 0) {
			EXPECT_TRUE(bitalloc_free(&a, (uint32_t)live[k].index,
						  live[k].count));
		}
	}
	EXPECT_EQ(0, a.used);
	EXPECT_EQ(0, bitalloc_alloc(&a, UNITS, 1));
}
