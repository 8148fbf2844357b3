/*
 * Page pool: the only allocator. A pool holds free 4 KiB pages on a list.
 * Pages move between pools (reserve for a transaction, give back).
 */
#pragma once

#include <core/spinlock.h>
#include <core/types.h>

struct mpool_page;

struct mpool {
	struct spinlock lock;
	struct mpool_page *head;
	size_t count;
	long fail_after; /* fault injection, see mpool_fail_after */
};

void mpool_init(struct mpool *p);

/* Adds the whole pages of [begin, begin + size) to the pool. */
void mpool_add(struct mpool *p, void *begin, size_t size);

/* A zeroed page, or NULL when the pool is empty. */
void *mpool_alloc(struct mpool *p);

/* The same without zeroing, for callers that write the whole page. */
void *mpool_alloc_uninit(struct mpool *p);

void mpool_free(struct mpool *p, void *page);

size_t mpool_count(struct mpool *p);

/*
 * Moves `count` pages from `from` to `to`, all or none. `to` must be a pool
 * private to the caller (a reserve), so that lock order cannot invert.
 */
bool mpool_take(struct mpool *to, struct mpool *from, size_t count);

/* Moves every page of `from` to `to`. */
void mpool_give_all(struct mpool *to, struct mpool *from);

/*
 * Fault injection for tests: after `allowed` more pages have left `p`
 * (alloc or take), it acts empty. Negative = no limit (the default).
 */
void mpool_fail_after(struct mpool *p, long allowed);
