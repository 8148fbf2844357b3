/*
 * Generic stage-2 page-table walk, map/unmap with block mappings, split and
 * merge, get-mode, prepare/commit. The descriptor format and the TLB are the
 * architecture's (core/include/core/arch_mm.h).
 *
 * Locking: the caller serialises changes to one table (it holds the
 * owning partition's lock); walkers on other CPUs see only break-before-make
 * transitions.
 */
#include <core/arch_mm.h>
#include <core/log.h>
#include <core/mm.h>

static uint64_t entry_size(uint8_t level)
{
	return (uint64_t)1 << (PAGE_BITS +
			       MM_LEVEL_BITS * (MM_MAX_LEVEL - level));
}

static size_t entry_index(uint64_t addr, uint8_t level)
{
	return (addr >> (PAGE_BITS + MM_LEVEL_BITS * (MM_MAX_LEVEL - level))) &
	       (MM_PTE_PER_TABLE - 1);
}

static pte_t *table_va(pte_t pte, uint8_t level)
{
	return va_from_pa(arch_mm_table_addr(pte, level));
}

/*
 * Bookkeeping for table pages from the tracked region (the page pool): a
 * table made by splitting a leaf of mode M remembers M ("base") and how
 * many of its entries differ from the leaves the split wrote. At 0 the
 * table is uniform in M and merges at once; strictly between 0 and
 * MM_PTE_PER_TABLE it cannot be uniform; only at MM_PTE_PER_TABLE (every
 * entry changed, maybe uniform in another mode) or for untracked tables
 * are the entries scanned.
 */
static struct {
	uintptr_t begin;
	uintptr_t end;
	struct mm_table_info *info;
} tracked;

void mm_track_tables(void *begin, size_t pages, struct mm_table_info *info)
{
	tracked.begin = (uintptr_t)begin;
	tracked.end = (uintptr_t)begin + pages * PAGE_SIZE;
	tracked.info = info;
}

static struct mm_table_info *info_of(const pte_t *table)
{
	uintptr_t a = (uintptr_t)table;

	if (a < tracked.begin || a >= tracked.end) {
		return NULL;
	}
	return &tracked.info[(a - tracked.begin) >> PAGE_BITS];
}

static uint64_t root_span(void)
{
	return entry_size(arch_mm_stage2_root_level()) * MM_PTE_PER_TABLE;
}

/* A table of `level` entries made from a leaf of `base_mode` for the
 * entry at `addr` (any address inside it). */
static void info_reset(const pte_t *table, uint8_t level, uint64_t addr,
		       uint32_t base_mode)
{
	struct mm_table_info *ti = info_of(table);
	uint64_t span = entry_size(level) * MM_PTE_PER_TABLE;

	if (ti != NULL) {
		ti->base0 = arch_mm_leaf_pte(
		    level, pa_init(align_down(addr, span)), base_mode);
		ti->addressed = arch_mm_pte_is_valid(ti->base0, level);
		ti->differ = 0;
		ti->base_mode = (uint16_t)base_mode;
	}
}

/* The entry for `addr` at `level` in the table holding `slot` changes
 * from `old` to `new_pte`. */
static void info_update(pte_t *slot, uint8_t level, uint64_t addr, pte_t old,
			pte_t new_pte)
{
	struct mm_table_info *ti =
	    info_of((const pte_t *)align_down((uintptr_t)slot, PAGE_SIZE));
	pte_t base;

	if (ti == NULL) {
		return;
	}
	/* what the split wrote there: leaves map consecutive addresses */
	base = ti->base0;
	if (ti->addressed) {
		base += addr & (entry_size(level) * MM_PTE_PER_TABLE - 1);
	}
	ti->differ = (uint16_t)(ti->differ + (new_pte != base) - (old != base));
}

bool mm_ptable_init(struct mm_ptable *t, uint16_t vmid, struct mpool *pool)
{
	pte_t *root = mpool_alloc(pool);
	uint8_t level = arch_mm_stage2_root_level();

	if (root == NULL) {
		return false;
	}
	arch_mm_fill_leaves(root, level, pa_init(0), MM_MODE_ABSENT);
	info_reset(root, level, 0, MM_MODE_ABSENT);
	arch_mm_sync_table_writes();
	t->root = pa_from_va(root);
	t->vmid = vmid;
	return true;
}

static void free_table(pte_t *table, uint8_t level, struct mpool *pool)
{
	/* entries of the last level are never tables */
	for (size_t i = 0; level < MM_MAX_LEVEL && i < MM_PTE_PER_TABLE; i++) {
		if (arch_mm_pte_is_table(table[i], level)) {
			free_table(table_va(table[i], level), level + 1, pool);
		}
	}
	mpool_free(pool, table);
}

void mm_ptable_fini(struct mm_ptable *t, struct mpool *pool)
{
	free_table(va_from_pa(t->root), arch_mm_stage2_root_level(), pool);
	t->root = pa_init(0);
}

static size_t count_table_pages(const pte_t *table, uint8_t level)
{
	size_t n = 1;

	for (size_t i = 0; i < MM_PTE_PER_TABLE; i++) {
		if (arch_mm_pte_is_table(table[i], level)) {
			n += count_table_pages(table_va(table[i], level),
					       level + 1);
		}
	}
	return n;
}

size_t mm_ptable_page_count(const struct mm_ptable *t)
{
	return count_table_pages(va_from_pa(t->root),
				 arch_mm_stage2_root_level());
}

/* The entries a change may split: at most two per level above the last. */
#define MM_SPLITS_MAX (2 * MM_MAX_LEVEL)

/*
 * The entries a change over [begin, end) may have to split, whatever the
 * current tree, as `address | level` keys: a split is only ever needed
 * for an entry the range covers partially, and at each level only the
 * entries holding `begin` and `end - 1` can be covered partially.
 * Returns how many.
 */
static size_t worst_splits(uint64_t begin, uint64_t end,
			   uint64_t key[MM_SPLITS_MAX])
{
	size_t n = 0;

	for (uint8_t level = arch_mm_stage2_root_level(); level < MM_MAX_LEVEL;
	     level++) {
		uint64_t size = entry_size(level);
		bool head = !is_aligned(begin, size);

		if (head) {
			key[n++] = align_down(begin, size) | level;
		}
		if (!is_aligned(end, size) &&
		    (!head ||
		     align_down(end - 1, size) != align_down(begin, size))) {
			key[n++] = align_down(end - 1, size) | level;
		}
	}
	return n;
}

static bool has_key(const uint64_t *keys, size_t n, uint64_t key)
{
	for (size_t i = 0; i < n; i++) {
		if (keys[i] == key) {
			return true;
		}
	}
	return false;
}

static bool change_valid(const struct mm_change *c)
{
	uint64_t b = ipa_addr(c->begin);
	uint64_t e = ipa_addr(c->end);

	return b < e && is_aligned(b, PAGE_SIZE) && is_aligned(e, PAGE_SIZE) &&
	       e <= arch_mm_stage2_ipa_limit() && e <= root_span();
}

/* Whether the entry `key` names (address | level) is a table now: then
 * splitting it needs no page. */
static bool is_table_now(const struct mm_ptable *t, uint64_t key)
{
	uint8_t want = (uint8_t)(key & (PAGE_SIZE - 1));
	uint64_t addr = key & ~(uint64_t)(PAGE_SIZE - 1);
	const pte_t *table = va_from_pa(t->root);

	for (uint8_t level = arch_mm_stage2_root_level();; level++) {
		pte_t pte = table[entry_index(addr, level)];

		if (!arch_mm_pte_is_table(pte, level)) {
			return false;
		}
		if (level == want) {
			return true;
		}
		table = table_va(pte, level);
	}
}

/*
 * A commit needs a table page for each entry it splits that is a leaf
 * now, one at a time: a table freed during the commit (merged, or under a
 * leaf that replaces it) goes back to the reserve, so an entry split
 * again reuses the page its table gave back. Counting each change's split
 * entries that are leaves now and that the previous change did not
 * already have is therefore enough, and exact for sorted, disjoint
 * ranges (the changes touching one entry are then consecutive): hundreds
 * of pages in one 2 MiB block reserve at most two pages, not hundreds,
 * and a change inside tables that exist reserves none.
 */
bool mm_prepare(const struct mm_ptable *t, const struct mm_change *changes,
		size_t count, struct mpool *pool, struct mpool *reserve)
{
	uint64_t keys[2][MM_SPLITS_MAX];
	size_t prev_count = 0;
	size_t needed = 0;

	for (size_t i = 0; i < count; i++) {
		uint64_t *cur = keys[i & 1];
		const uint64_t *prev = keys[(i & 1) ^ 1];
		size_t n;

		if (!change_valid(&changes[i])) {
			return false;
		}
		n = worst_splits(ipa_addr(changes[i].begin),
				 ipa_addr(changes[i].end), cur);
		for (size_t k = 0; k < n; k++) {
			needed += !has_key(prev, prev_count, cur[k]) &&
				  !is_table_now(t, cur[k]);
		}
		prev_count = n;
	}
	return mpool_take(reserve, pool, needed);
}

struct commit_ctx {
	const struct mm_ptable *table;
	struct mpool *reserve; /* split tables come from it, merged go to it */
};

/* Replaces the entry for [addr, addr + size of level), using
 * break-before-make when a valid translation changes. A table it replaces
 * is freed (with its subtables unless `leaves_only` says it has none). */
static void replace_entry(struct commit_ctx *ctx, pte_t *slot, pte_t new_pte,
			  uint8_t level, uint64_t addr, bool leaves_only)
{
	pte_t old = *slot;
	bool was_live = arch_mm_pte_is_valid(old, level) ||
			arch_mm_pte_is_table(old, level);
	ipaddr_t begin = ipa_init(addr);
	ipaddr_t end = ipa_init(addr + entry_size(level));

	if (old == new_pte) {
		return;
	}
	info_update(slot, level, addr, old, new_pte);
	if (was_live && !arch_mm_same_translation(old, new_pte, level)) {
		/* Break: no CPU may hold the old translation any more. */
		*slot = arch_mm_leaf_pte(level, pa_init(0), MM_MODE_ABSENT);
		arch_mm_sync_table_writes();
		arch_mm_invalidate_stage2(ctx->table, begin, end);
	}
	*slot = new_pte;
	arch_mm_sync_table_writes();
	if (arch_mm_pte_is_table(old, level)) {
		if (leaves_only) {
			mpool_free(ctx->reserve, table_va(old, level));
		} else {
			free_table(table_va(old, level), level + 1,
				   ctx->reserve);
		}
	}
}

/* Turns a leaf into a table of leaves with the same mode. */
static void split_entry(struct commit_ctx *ctx, pte_t *slot, uint8_t level,
			uint64_t addr)
{
	uint32_t mode = arch_mm_pte_mode(*slot, level);
	/* every entry is written below: no need to zero the page */
	pte_t *table = mpool_alloc_uninit(ctx->reserve);

	CHECK(table != NULL); /* mm_prepare reserved enough */
	arch_mm_fill_leaves(table, level + 1, pa_init(addr), mode);
	info_reset(table, level + 1, addr, mode);
	arch_mm_sync_table_writes();
	replace_entry(ctx, slot, arch_mm_table_pte(level, pa_from_va(table)),
		      level, addr, true);
}

/* Replaces a table whose entries are all leaves of one mode with one leaf. */
static void try_merge(struct commit_ctx *ctx, pte_t *slot, uint8_t level,
		      uint64_t addr)
{
	const pte_t *table = table_va(*slot, level);
	const struct mm_table_info *ti = info_of(table);
	uint32_t mode;

	if (ti != NULL && ti->differ == 0) {
		mode = ti->base_mode;
	} else if ((ti != NULL && ti->differ < MM_PTE_PER_TABLE) ||
		   !arch_mm_leaves_uniform(table, level + 1, &mode)) {
		return;
	}
	if (!(mode & MM_MODE_INVALID) && !arch_mm_block_allowed(level)) {
		return;
	}
	replace_entry(ctx, slot, arch_mm_leaf_pte(level, pa_init(addr), mode),
		      level, addr, true);
}

static void update_level(struct commit_ctx *ctx, pte_t *table, uint8_t level,
			 uint64_t begin, uint64_t end, uint32_t mode)
{
	uint64_t size = entry_size(level);

	for (uint64_t addr = align_down(begin, size); addr < end;
	     addr += size) {
		pte_t *slot = &table[entry_index(addr, level)];
		uint64_t cb = MAX(begin, addr);
		uint64_t ce = MIN(end, addr + size);
		bool whole = cb == addr && ce == addr + size;

		if (whole && ((mode & MM_MODE_INVALID) ||
			      arch_mm_block_allowed(level))) {
			replace_entry(
			    ctx, slot,
			    arch_mm_leaf_pte(level, pa_init(addr), mode), level,
			    addr, false);
			continue;
		}
		if (!arch_mm_pte_is_table(*slot, level)) {
			if (arch_mm_pte_mode(*slot, level) == mode) {
				continue;
			}
			split_entry(ctx, slot, level, addr);
		}
		update_level(ctx, table_va(*slot, level), level + 1, cb, ce,
			     mode);
		try_merge(ctx, slot, level, addr);
	}
}

void mm_commit(struct mm_ptable *t, const struct mm_change *changes,
	       size_t count, struct mpool *reserve)
{
	struct commit_ctx ctx = {.table = t, .reserve = reserve};

	for (size_t i = 0; i < count; i++) {
		update_level(&ctx, va_from_pa(t->root),
			     arch_mm_stage2_root_level(),
			     ipa_addr(changes[i].begin),
			     ipa_addr(changes[i].end), changes[i].mode);
	}
}

bool mm_update(struct mm_ptable *t, const struct mm_change *changes,
	       size_t count, struct mpool *pool)
{
	struct mpool reserve;

	mpool_init(&reserve);
	if (!mm_prepare(t, changes, count, pool, &reserve)) {
		return false;
	}
	mm_commit(t, changes, count, &reserve);
	mpool_give_all(pool, &reserve);
	return true;
}

bool mm_identity_map(struct mm_ptable *t, ipaddr_t begin, ipaddr_t end,
		     uint32_t mode, struct mpool *pool)
{
	struct mm_change c = {begin, end, mode};

	return mm_update(t, &c, 1, pool);
}

bool mm_unmap(struct mm_ptable *t, ipaddr_t begin, ipaddr_t end,
	      struct mpool *pool)
{
	return mm_identity_map(t, begin, end, MM_MODE_ABSENT, pool);
}

static bool get_mode_level(const pte_t *table, uint8_t level, uint64_t begin,
			   uint64_t end, uint32_t *mode, bool *have)
{
	uint64_t size = entry_size(level);

	for (uint64_t addr = align_down(begin, size); addr < end;
	     addr += size) {
		pte_t pte = table[entry_index(addr, level)];
		uint32_t m;

		if (arch_mm_pte_is_table(pte, level)) {
			if (!get_mode_level(table_va(pte, level), level + 1,
					    MAX(begin, addr),
					    MIN(end, addr + size), mode,
					    have)) {
				return false;
			}
			continue;
		}
		m = arch_mm_pte_mode(pte, level);
		if (*have && m != *mode) {
			return false;
		}
		*mode = m;
		*have = true;
	}
	return true;
}

bool mm_get_mode(const struct mm_ptable *t, ipaddr_t begin, ipaddr_t end,
		 uint32_t *mode)
{
	struct mm_change c = {begin, end, 0};
	bool have = false;

	if (!change_valid(&c)) {
		return false;
	}
	return get_mode_level(va_from_pa(t->root), arch_mm_stage2_root_level(),
			      ipa_addr(begin), ipa_addr(end), mode, &have) &&
	       have;
}

static void walk_level(const pte_t *table, uint8_t level, uint64_t base,
		       mm_leaf_fn visit, void *ctx)
{
	uint64_t size = entry_size(level);

	for (size_t i = 0; i < MM_PTE_PER_TABLE; i++) {
		pte_t pte = table[i];
		uint64_t addr = base + i * size;
		uint32_t mode;

		if (level == arch_mm_stage2_root_level() &&
		    addr >= arch_mm_stage2_ipa_limit()) {
			return;
		}
		if (arch_mm_pte_is_table(pte, level)) {
			walk_level(table_va(pte, level), level + 1, addr, visit,
				   ctx);
			continue;
		}
		mode = arch_mm_pte_mode(pte, level);
		if (mode != MM_MODE_ABSENT) {
			visit(ctx, addr, addr + size, mode);
		}
	}
}

void mm_walk_leaves(const struct mm_ptable *t, mm_leaf_fn visit, void *ctx)
{
	walk_level(va_from_pa(t->root), arch_mm_stage2_root_level(), 0, visit,
		   ctx);
}
