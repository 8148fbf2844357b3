/* Host unit tests of the page pool and the stage-2 page-table code. */
#include <stdlib.h>
#include <string.h>

#include <core/arch_mm.h>
#include <core/mm.h>

#include "fake_arch.h"
#include "unit.h"

#define POOL_PAGES 64
#define MB	   (1ull << 20)
#define GB	   (1ull << 30)
#define RAM	   0x40000000ull
#define RW	   (MM_MODE_R | MM_MODE_W)

static struct mpool pool;
static void *pool_mem;
static struct mm_table_info *pool_info;

/* A pool of `pages`, its tables tracked (as the hypervisor's are) or not. */
static void setup_pool(size_t pages, bool track)
{
	free(pool_mem);
	free(pool_info);
	pool_mem = aligned_alloc(PAGE_SIZE, pages * PAGE_SIZE);
	pool_info = calloc(pages, sizeof(*pool_info));
	mpool_init(&pool);
	mpool_add(&pool, pool_mem, pages * PAGE_SIZE);
	mm_track_tables(pool_mem, track ? pages : 0, pool_info);
	memset(&fake_tlb, 0, sizeof(fake_tlb));
}

static void setup(size_t pages)
{
	setup_pool(pages, true);
}

static ipaddr_t ipa(uint64_t a)
{
	return ipa_init(a);
}

static uint32_t mode_of(const struct mm_ptable *t, uint64_t b, uint64_t e)
{
	uint32_t mode = 0xdead;

	EXPECT_TRUE(mm_get_mode(t, ipa(b), ipa(e), &mode));
	return mode;
}

/* Serialises the whole tree, so "nothing changed" can be compared. */
static size_t snapshot(const pte_t *table, uint8_t level, pte_t *out,
		       size_t pos)
{
	for (size_t i = 0; i < MM_PTE_PER_TABLE; i++) {
		out[pos++] = table[i];
		if (arch_mm_pte_is_table(table[i], level)) {
			pos = snapshot(
			    va_from_pa(arch_mm_table_addr(table[i], level)),
			    level + 1, out, pos);
		}
	}
	return pos;
}

static size_t take_snapshot(const struct mm_ptable *t, pte_t *out)
{
	return snapshot(va_from_pa(t->root), arch_mm_stage2_root_level(), out,
			0);
}

UNIT(pool_alloc_free_accounting)
{
	void *pages[POOL_PAGES];

	setup(POOL_PAGES);
	EXPECT_EQ(POOL_PAGES, mpool_count(&pool));
	for (int i = 0; i < POOL_PAGES; i++) {
		pages[i] = mpool_alloc(&pool);
		EXPECT_TRUE(pages[i] != NULL);
		EXPECT_EQ(0, ((uint64_t *)pages[i])[7]);
	}
	EXPECT_TRUE(mpool_alloc(&pool) == NULL);
	for (int i = 0; i < POOL_PAGES; i++) {
		mpool_free(&pool, pages[i]);
	}
	EXPECT_EQ(POOL_PAGES, mpool_count(&pool));
}

UNIT(pool_take_is_all_or_nothing)
{
	struct mpool reserve;

	setup(8);
	mpool_init(&reserve);
	EXPECT_FALSE(mpool_take(&reserve, &pool, 9));
	EXPECT_EQ(8, mpool_count(&pool));
	EXPECT_EQ(0, mpool_count(&reserve));
	EXPECT_TRUE(mpool_take(&reserve, &pool, 5));
	EXPECT_EQ(3, mpool_count(&pool));
	mpool_give_all(&pool, &reserve);
	EXPECT_EQ(8, mpool_count(&pool));
}

UNIT(descriptor_encoding)
{
	pte_t page = arch_mm_leaf_pte(3, pa_init(0x41234000), RW);
	pte_t block =
	    arch_mm_leaf_pte(2, pa_init(0x40200000), MM_MODE_R | MM_MODE_X);
	pte_t dev = arch_mm_leaf_pte(3, pa_init(0x9010000), RW | MM_MODE_D);

	/* page, normal WB, RW, inner shareable, AF, XN, owned */
	EXPECT_EQ(0x0080000041234000ull | 0x3 | (0xfull << 2) | (3ull << 6) |
		      (3ull << 8) | (1ull << 10) | (2ull << 53),
		  page);
	EXPECT_EQ(0x0080000040200000ull | 0x1 | (0xfull << 2) | (1ull << 6) |
		      (3ull << 8) | (1ull << 10),
		  block);
	EXPECT_EQ(0x1ull << 2, dev & (0xfull << 2));
	EXPECT_EQ(RW, arch_mm_pte_mode(page, 3));
	EXPECT_EQ(RW | MM_MODE_D, arch_mm_pte_mode(dev, 3));
	EXPECT_EQ(0, arch_mm_leaf_pte(2, pa_init(0), MM_MODE_ABSENT));
	EXPECT_EQ(MM_MODE_ABSENT, arch_mm_pte_mode(0, 1));
	/* an invalid entry remembers owned-but-inaccessible */
	EXPECT_EQ(
	    MM_MODE_INVALID | RW,
	    arch_mm_pte_mode(
		arch_mm_leaf_pte(3, pa_init(0), MM_MODE_INVALID | RW), 3));
	EXPECT_EQ(0, arch_mm_leaf_pte(3, pa_init(0), MM_MODE_INVALID | RW) & 1);
}

UNIT(map_page_builds_tables_and_unmap_returns_them)
{
	struct mm_ptable t;

	setup(POOL_PAGES);
	EXPECT_TRUE(mm_ptable_init(&t, 5, &pool));
	EXPECT_EQ(POOL_PAGES - 1, mpool_count(&pool));
	EXPECT_TRUE(mm_identity_map(&t, ipa(RAM + 0x5000), ipa(RAM + 0x6000),
				    RW, &pool));
	EXPECT_EQ(3, mm_ptable_page_count(&t)); /* root, level 2, level 3 */
	EXPECT_EQ(RW, mode_of(&t, RAM + 0x5000, RAM + 0x6000));
	EXPECT_EQ(MM_MODE_ABSENT, mode_of(&t, RAM + 0x4000, RAM + 0x5000));
	EXPECT_EQ(MM_MODE_ABSENT, mode_of(&t, RAM + 0x6000, RAM + 0x7000));
	EXPECT_EQ(POOL_PAGES - 3, mpool_count(&pool));
	EXPECT_TRUE(mm_unmap(&t, ipa(RAM + 0x5000), ipa(RAM + 0x6000), &pool));
	EXPECT_EQ(1, mm_ptable_page_count(&t));
	EXPECT_EQ(POOL_PAGES - 1, mpool_count(&pool));
	mm_ptable_fini(&t, &pool);
	EXPECT_EQ(POOL_PAGES, mpool_count(&pool));
}

UNIT(aligned_ranges_use_blocks)
{
	struct mm_ptable t;

	setup(POOL_PAGES);
	EXPECT_TRUE(mm_ptable_init(&t, 1, &pool));
	EXPECT_TRUE(
	    mm_identity_map(&t, ipa(GB), ipa(2 * GB), MM_MODE_RWX, &pool));
	EXPECT_EQ(1, mm_ptable_page_count(&t)); /* one 1 GiB block */
	EXPECT_TRUE(mm_unmap(&t, ipa(GB), ipa(2 * GB), &pool));
	EXPECT_TRUE(mm_identity_map(&t, ipa(RAM + 2 * MB), ipa(RAM + 6 * MB),
				    RW, &pool));
	EXPECT_EQ(2, mm_ptable_page_count(&t)); /* two 2 MiB blocks */
	EXPECT_EQ(RW, mode_of(&t, RAM + 2 * MB, RAM + 6 * MB));
	/* a 2 MiB + 4 KiB range: one block and one page table */
	EXPECT_TRUE(mm_identity_map(&t, ipa(RAM + 8 * MB),
				    ipa(RAM + 10 * MB + 0x1000), RW, &pool));
	EXPECT_EQ(3, mm_ptable_page_count(&t));
	mm_ptable_fini(&t, &pool);
	EXPECT_EQ(POOL_PAGES, mpool_count(&pool));
}

UNIT(split_then_merge_back)
{
	struct mm_ptable t;

	setup(POOL_PAGES);
	EXPECT_TRUE(mm_ptable_init(&t, 2, &pool));
	EXPECT_TRUE(
	    mm_identity_map(&t, ipa(RAM), ipa(RAM + 2 * MB), RW, &pool));
	EXPECT_EQ(2, mm_ptable_page_count(&t));
	/* narrowing one page splits the 2 MiB block */
	EXPECT_TRUE(mm_identity_map(&t, ipa(RAM + 0x10000), ipa(RAM + 0x11000),
				    MM_MODE_R, &pool));
	EXPECT_EQ(3, mm_ptable_page_count(&t));
	EXPECT_EQ(MM_MODE_R, mode_of(&t, RAM + 0x10000, RAM + 0x11000));
	EXPECT_EQ(RW, mode_of(&t, RAM, RAM + 0x10000));
	EXPECT_EQ(RW, mode_of(&t, RAM + 0x11000, RAM + 2 * MB));
	uint32_t mode;
	EXPECT_FALSE(mm_get_mode(&t, ipa(RAM), ipa(RAM + 2 * MB), &mode));
	/* restoring it makes the table uniform: merged back into a block */
	EXPECT_TRUE(mm_identity_map(&t, ipa(RAM + 0x10000), ipa(RAM + 0x11000),
				    RW, &pool));
	EXPECT_EQ(2, mm_ptable_page_count(&t));
	EXPECT_EQ(RW, mode_of(&t, RAM, RAM + 2 * MB));
	mm_ptable_fini(&t, &pool);
	EXPECT_EQ(POOL_PAGES, mpool_count(&pool));
}

UNIT(split_1g_block_down_to_a_page)
{
	struct mm_ptable t;

	setup(POOL_PAGES);
	EXPECT_TRUE(mm_ptable_init(&t, 2, &pool));
	EXPECT_TRUE(mm_identity_map(&t, ipa(GB), ipa(2 * GB), RW, &pool));
	EXPECT_TRUE(
	    mm_unmap(&t, ipa(GB + 3 * MB), ipa(GB + 3 * MB + 0x1000), &pool));
	EXPECT_EQ(3, mm_ptable_page_count(&t));
	EXPECT_EQ(MM_MODE_ABSENT,
		  mode_of(&t, GB + 3 * MB, GB + 3 * MB + 0x1000));
	EXPECT_EQ(RW, mode_of(&t, GB, GB + 3 * MB));
	EXPECT_EQ(RW, mode_of(&t, GB + 3 * MB + 0x1000, 2 * GB));
	EXPECT_TRUE(mm_identity_map(&t, ipa(GB + 3 * MB),
				    ipa(GB + 3 * MB + 0x1000), RW, &pool));
	EXPECT_EQ(1, mm_ptable_page_count(&t));
	mm_ptable_fini(&t, &pool);
	EXPECT_EQ(POOL_PAGES, mpool_count(&pool));
}

UNIT(get_mode_rejects_malformed_ranges)
{
	struct mm_ptable t;
	uint32_t mode;

	setup(POOL_PAGES);
	EXPECT_TRUE(mm_ptable_init(&t, 1, &pool));
	EXPECT_FALSE(mm_get_mode(&t, ipa(RAM), ipa(RAM), &mode));
	EXPECT_FALSE(mm_get_mode(&t, ipa(RAM + 1), ipa(RAM + 0x1000), &mode));
	EXPECT_FALSE(mm_get_mode(&t, ipa(RAM + 0x2000), ipa(RAM), &mode));
	EXPECT_FALSE(mm_get_mode(&t, ipa(0), ipa(1ull << 40), &mode));
	EXPECT_FALSE(
	    mm_identity_map(&t, ipa(RAM), ipa(RAM + 0x800), RW, &pool));
	EXPECT_EQ(1, mm_ptable_page_count(&t));
	mm_ptable_fini(&t, &pool);
}

UNIT(prepare_commit_multi_range)
{
	struct mm_ptable t;
	struct mpool reserve;
	struct mm_change changes[] = {
	    {ipa(RAM), ipa(RAM + 4 * MB), RW},
	    {ipa(RAM + MB), ipa(RAM + MB + 0x3000), MM_MODE_R},
	    {ipa(0x9010000), ipa(0x9011000), RW | MM_MODE_D},
	};

	setup(POOL_PAGES);
	EXPECT_TRUE(mm_ptable_init(&t, 3, &pool));
	mpool_init(&reserve);
	EXPECT_TRUE(mm_prepare(&t, changes, 3, &pool, &reserve));
	/* nothing written yet */
	EXPECT_EQ(1, mm_ptable_page_count(&t));
	EXPECT_EQ(MM_MODE_ABSENT, mode_of(&t, RAM, RAM + 4 * MB));
	mm_commit(&t, changes, 3, &reserve);
	mpool_give_all(&pool, &reserve);
	EXPECT_EQ(MM_MODE_R, mode_of(&t, RAM + MB, RAM + MB + 0x3000));
	EXPECT_EQ(RW, mode_of(&t, RAM + MB + 0x3000, RAM + 4 * MB));
	EXPECT_EQ(RW | MM_MODE_D, mode_of(&t, 0x9010000, 0x9011000));
	mm_ptable_fini(&t, &pool);
	EXPECT_EQ(POOL_PAGES, mpool_count(&pool));
}

UNIT(dry_pool_changes_nothing)
{
	struct mm_ptable t;
	static pte_t before[8192], after[8192];
	size_t n_before, n_after, free_before;
	struct mm_change changes[] = {
	    {ipa(RAM), ipa(RAM + 2 * MB), RW},
	    {ipa(RAM + 0x5000), ipa(RAM + 0x6000), MM_MODE_R},
	    /* another 1 GiB entry: two tables, and one page is left */
	    {ipa(RAM + GB + 5 * MB + 0x1000), ipa(RAM + GB + 5 * MB + 0x2000),
	     RW},
	};

	setup(4);
	EXPECT_TRUE(mm_ptable_init(&t, 3, &pool));
	EXPECT_TRUE(
	    mm_identity_map(&t, ipa(GB + 0x1000), ipa(GB + 0x2000), RW, &pool));
	n_before = take_snapshot(&t, before);
	free_before = mpool_count(&pool);
	EXPECT_EQ(1, free_before);
	EXPECT_FALSE(mm_update(&t, changes, 3, &pool));
	n_after = take_snapshot(&t, after);
	EXPECT_EQ(n_before, n_after);
	EXPECT_EQ(0, memcmp(before, after, n_before * sizeof(pte_t)));
	EXPECT_EQ(free_before, mpool_count(&pool));
}

UNIT(allocation_failure_at_every_point_changes_nothing)
{
	struct mm_ptable t;
	static pte_t before[8192], after[8192];
	struct mm_change changes[] = {
	    {ipa(RAM + 0x3000), ipa(RAM + 3 * MB + 0x5000), RW},
	    {ipa(RAM + MB + 0x7000), ipa(RAM + MB + 0x9000), MM_MODE_R},
	    {ipa(GB + 0x1000), ipa(GB + 0x2000), MM_MODE_RWX},
	};
	bool done = false;

	setup(POOL_PAGES);
	EXPECT_TRUE(mm_ptable_init(&t, 3, &pool));
	EXPECT_TRUE(
	    mm_identity_map(&t, ipa(RAM), ipa(RAM + 8 * MB), RW, &pool));
	for (long allowed = 0; !done; allowed++) {
		size_t n = take_snapshot(&t, before);
		size_t free_before = mpool_count(&pool);

		mpool_fail_after(&pool, allowed);
		done = mm_update(&t, changes, 3, &pool);
		mpool_fail_after(&pool, -1);
		if (!done) {
			EXPECT_EQ(n, take_snapshot(&t, after));
			EXPECT_EQ(0, memcmp(before, after, n * sizeof(pte_t)));
			EXPECT_EQ(free_before, mpool_count(&pool));
		}
		EXPECT_TRUE(allowed < 100);
	}
	EXPECT_EQ(MM_MODE_R, mode_of(&t, RAM + MB + 0x7000, RAM + MB + 0x9000));
	EXPECT_EQ(MM_MODE_RWX, mode_of(&t, GB + 0x1000, GB + 0x2000));
	mm_ptable_fini(&t, &pool);
	EXPECT_EQ(POOL_PAGES, mpool_count(&pool));
}

UNIT(reducing_access_breaks_before_make_and_invalidates)
{
	struct mm_ptable t;

	setup(POOL_PAGES);
	EXPECT_TRUE(mm_ptable_init(&t, 7, &pool));
	EXPECT_TRUE(
	    mm_identity_map(&t, ipa(RAM), ipa(RAM + 2 * MB), RW, &pool));
	fake_tlb.table = &t;
	fake_tlb.calls = 0;
	EXPECT_TRUE(mm_identity_map(&t, ipa(RAM + 0x2000), ipa(RAM + 0x3000),
				    MM_MODE_R, &pool));
	EXPECT_TRUE(fake_tlb.calls >= 1);
	EXPECT_EQ(7, fake_tlb.last_vmid);
	EXPECT_EQ(0, fake_tlb.live_at_invalidate);
	fake_tlb.calls = 0;
	EXPECT_TRUE(mm_unmap(&t, ipa(RAM + 0x2000), ipa(RAM + 0x3000), &pool));
	EXPECT_EQ(1, fake_tlb.calls);
	EXPECT_EQ(RAM + 0x2000, fake_tlb.last_begin);
	EXPECT_EQ(RAM + 0x3000, fake_tlb.last_end);
	EXPECT_EQ(0, fake_tlb.live_at_invalidate);
	/* mapping where nothing was mapped needs no invalidation */
	fake_tlb.calls = 0;
	EXPECT_TRUE(mm_identity_map(&t, ipa(GB), ipa(GB + 0x1000), RW, &pool));
	EXPECT_EQ(0, fake_tlb.calls);
	fake_tlb.table = NULL;
	mm_ptable_fini(&t, &pool);
}

/* Tables in the tree that one leaf could replace (there must be none:
 * every change merges what it makes uniform). */
static size_t mergeable_tables(const pte_t *table, uint8_t level)
{
	size_t n = 0;

	for (size_t i = 0; i < MM_PTE_PER_TABLE; i++) {
		uint32_t mode;
		const pte_t *sub;

		if (!arch_mm_pte_is_table(table[i], level)) {
			continue;
		}
		sub = va_from_pa(arch_mm_table_addr(table[i], level));
		n += arch_mm_leaves_uniform(sub, level + 1, &mode) ? 1 : 0;
		n += mergeable_tables(sub, level + 1);
	}
	return n;
}

/*
 * Random changes over an unaligned 8 MiB window, `batch` of them per
 * mm_update (unsorted, possibly overlapping), checked against a shadow
 * model; afterwards no table is left that could merge, and unmapping the
 * window returns every table page.
 */
static void random_shadow(bool track, int batch, unsigned int seed)
{
	enum { PAGES = 2048 };
	static uint32_t shadow[PAGES];
	const uint64_t base = RAM + 0x1000;
	const uint32_t modes[] = {MM_MODE_ABSENT,
				  RW,
				  MM_MODE_R,
				  MM_MODE_RWX,
				  MM_MODE_INVALID | RW,
				  RW | MM_MODE_SHARED};
	struct mm_ptable t;

	setup_pool(256, track);
	EXPECT_TRUE(mm_ptable_init(&t, 9, &pool));
	for (int i = 0; i < PAGES; i++) {
		shadow[i] = MM_MODE_ABSENT;
	}
	for (int step = 0; step < 400; step++) {
		struct mm_change changes[8];

		for (int k = 0; k < batch; k++) {
			int first = rand_r(&seed) % PAGES;
			int len =
			    1 + rand_r(&seed) % (step % 3 == 0 ? PAGES : 40);
			uint32_t mode =
			    modes[rand_r(&seed) % ARRAY_SIZE(modes)];

			if (first + len > PAGES) {
				len = PAGES - first;
			}
			changes[k] = (struct mm_change){
			    ipa(base + first * PAGE_SIZE),
			    ipa(base + (first + len) * PAGE_SIZE), mode};
			for (int i = first; i < first + len; i++) {
				shadow[i] = mode;
			}
		}
		EXPECT_TRUE(mm_update(&t, changes, (size_t)batch, &pool));
		for (int i = 0; i < PAGES; i += 61) {
			EXPECT_EQ(shadow[i],
				  mode_of(&t, base + i * PAGE_SIZE,
					  base + (i + 1) * PAGE_SIZE));
		}
		EXPECT_EQ(0, mergeable_tables(va_from_pa(t.root),
					      arch_mm_stage2_root_level()));
	}
	for (int i = 0; i < PAGES; i++) {
		EXPECT_EQ(shadow[i], mode_of(&t, base + i * PAGE_SIZE,
					     base + (i + 1) * PAGE_SIZE));
	}
	EXPECT_TRUE(
	    mm_unmap(&t, ipa(base), ipa(base + PAGES * PAGE_SIZE), &pool));
	EXPECT_EQ(1, mm_ptable_page_count(&t));
	EXPECT_EQ(255, mpool_count(&pool));
	mm_ptable_fini(&t, &pool);
}

UNIT(random_changes_match_a_shadow_model)
{
	random_shadow(true, 1, 12345);
}

UNIT(random_changes_untracked_tables)
{
	random_shadow(false, 1, 777);
}

UNIT(random_change_batches_reserve_enough)
{
	/* a commit takes every split table from what prepare reserved
	 * (CHECK otherwise): unsorted batches of overlapping changes */
	random_shadow(true, 8, 4242);
	random_shadow(false, 5, 99);
}

UNIT(hundreds_of_pages_in_one_block_reserve_little)
{
	static struct mm_change changes[600];
	struct mm_ptable t;
	struct mpool reserve;

	setup(16);
	EXPECT_TRUE(mm_ptable_init(&t, 2, &pool));
	EXPECT_TRUE(
	    mm_identity_map(&t, ipa(RAM), ipa(RAM + 4 * MB), RW, &pool));
	for (int i = 0; i < 600; i++) {
		uint64_t a = RAM + MB + (uint64_t)i * PAGE_SIZE;

		changes[i] =
		    (struct mm_change){ipa(a), ipa(a + PAGE_SIZE), MM_MODE_R};
	}
	mpool_init(&reserve);
	/* 600 pages across two 2 MiB blocks: a table for each (the 1 GiB
	 * entry above them is a table already) */
	EXPECT_TRUE(mm_prepare(&t, changes, 600, &pool, &reserve));
	EXPECT_EQ(2, mpool_count(&reserve));
	mm_commit(&t, changes, 600, &reserve);
	mpool_give_all(&pool, &reserve);
	EXPECT_EQ(MM_MODE_R, mode_of(&t, RAM + MB, RAM + MB + 600 * PAGE_SIZE));
	EXPECT_EQ(RW, mode_of(&t, RAM, RAM + MB));
	mm_ptable_fini(&t, &pool);
	EXPECT_EQ(16, mpool_count(&pool));
}
