/*
 * A first-fit allocator over a bitmap: one bit per unit of a region, set
 * while the unit is allocated. Runs of units are allocated with an
 * alignment (in units) and freed by (index, count); freed runs merge with
 * their free neighbours by construction. The bitmap is the caller's
 * (private memory: never inside what is handed out). Shared by the guest
 * SDK's shared-memory pool and its host unit tests.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bitalloc {
	uint64_t *bits;
	uint32_t units;
	uint32_t used; /* units allocated now */
};

/* `bits` holds at least (units + 63) / 64 words. */
void bitalloc_init(struct bitalloc *a, uint64_t *bits, uint32_t units);

/* The first run of `count` free units starting at a multiple of `align`
 * (a power of two), marked allocated; -1 when there is none. */
int64_t bitalloc_alloc(struct bitalloc *a, uint32_t count, uint32_t align);

/* The same with candidates where index + skew is a multiple of `align`
 * (for an alignment of addresses when the region's base is not). */
int64_t bitalloc_alloc_skewed(struct bitalloc *a, uint32_t count,
			      uint32_t align, uint32_t skew);

/* Frees [index, index + count); false (nothing changed) unless every unit
 * of it is allocated. */
bool bitalloc_free(struct bitalloc *a, uint32_t index, uint32_t count);

/* Whether [index, index + count) is entirely free. */
bool bitalloc_is_free(const struct bitalloc *a, uint32_t index, uint32_t count);
