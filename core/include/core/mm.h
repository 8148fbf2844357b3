/*
 * Stage-2 page tables: identity maps (IPA == PA) with a mode per page.
 *
 * A change is prepared, then committed: mm_prepare validates every range
 * and moves the page-table pages the change could need into a private
 * reserve; mm_commit then applies it and cannot fail. A failed prepare
 * leaves the tables and the pool as they were.
 */
#pragma once

#include <core/mm_types.h>
#include <core/mpool.h>
#include <core/types.h>

struct mm_change {
	ipaddr_t begin;
	ipaddr_t end;
	uint32_t mode;
};

/* Per table page bookkeeping that makes merging cheap (see core/mm.c). */
struct mm_table_info {
	uint64_t base0;	    /* the first leaf the split wrote */
	bool addressed;	    /* the leaves map consecutive addresses */
	uint16_t differ;    /* entries unlike the leaves the split wrote */
	uint16_t base_mode; /* the mode of the leaf that was split */
};

/*
 * Keeps bookkeeping in info[pages] for table pages taken from
 * [begin, begin + pages * PAGE_SIZE) (the page pool). Called once, before
 * any table exists; tables elsewhere are checked entry by entry.
 */
void mm_track_tables(void *begin, size_t pages, struct mm_table_info *info);

bool mm_ptable_init(struct mm_ptable *t, uint16_t vmid, struct mpool *pool);

/* Frees every table page of `t` to `pool`. */
void mm_ptable_fini(struct mm_ptable *t, struct mpool *pool);

/*
 * Checks the changes (page aligned, non-empty, inside the IPA space) and
 * moves the pages they could need from `pool` to `reserve`. On false
 * nothing has changed.
 */
bool mm_prepare(const struct mm_ptable *t, const struct mm_change *changes,
		size_t count, struct mpool *pool, struct mpool *reserve);

/*
 * Applies prepared changes in order; takes split tables from `reserve` and
 * frees merged ones to it (the caller gives the reserve back to the pool
 * afterwards). Blocks stay blocks where a range allows, and tables that
 * become uniform are merged back. Cannot fail.
 */
void mm_commit(struct mm_ptable *t, const struct mm_change *changes,
	       size_t count, struct mpool *reserve);

/* Prepare + commit + return unused reserve pages to `pool`. */
bool mm_update(struct mm_ptable *t, const struct mm_change *changes,
	       size_t count, struct mpool *pool);

bool mm_identity_map(struct mm_ptable *t, ipaddr_t begin, ipaddr_t end,
		     uint32_t mode, struct mpool *pool);

bool mm_unmap(struct mm_ptable *t, ipaddr_t begin, ipaddr_t end,
	      struct mpool *pool);

/*
 * The mode of [begin, end): true with *mode set when every page has the
 * same mode, false when they differ or the range is malformed.
 */
bool mm_get_mode(const struct mm_ptable *t, ipaddr_t begin, ipaddr_t end,
		 uint32_t *mode);

/* Calls `visit` for each leaf of `t` whose mode is not MM_MODE_ABSENT,
 * in address order: [begin, end) and its mode. */
typedef void (*mm_leaf_fn)(void *ctx, uint64_t begin, uint64_t end,
			   uint32_t mode);
void mm_walk_leaves(const struct mm_ptable *t, mm_leaf_fn visit, void *ctx);

/* Table pages in use by `t` (root included). */
size_t mm_ptable_page_count(const struct mm_ptable *t);
