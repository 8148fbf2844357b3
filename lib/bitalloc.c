/* First-fit bitmap allocator (include/bulkhead/bitalloc.h). */
#include <bulkhead/bitalloc.h>

static bool unit_used(const struct bitalloc *a, uint32_t i)
{
	return (a->bits[i / 64] >> (i % 64)) & 1;
}

static void set_units(struct bitalloc *a, uint32_t index, uint32_t count,
		      bool used)
{
	for (uint32_t i = index; i < index + count; i++) {
		if (used) {
			a->bits[i / 64] |= 1ull << (i % 64);
		} else {
			a->bits[i / 64] &= ~(1ull << (i % 64));
		}
	}
}

void bitalloc_init(struct bitalloc *a, uint64_t *bits, uint32_t units)
{
	a->bits = bits;
	a->units = units;
	a->used = 0;
	for (uint32_t w = 0; w < (units + 63) / 64; w++) {
		bits[w] = 0;
	}
}

bool bitalloc_is_free(const struct bitalloc *a, uint32_t index, uint32_t count)
{
	if (index > a->units || count > a->units - index) {
		return false;
	}
	for (uint32_t i = index; i < index + count; i++) {
		if (unit_used(a, i)) {
			return false;
		}
	}
	return true;
}

int64_t bitalloc_alloc_skewed(struct bitalloc *a, uint32_t count,
			      uint32_t align, uint32_t skew)
{
	uint32_t start;

	if (count == 0 || align == 0 || (align & (align - 1)) != 0 ||
	    count > a->units - a->used) {
		return -1;
	}
	/* candidates: start + skew a multiple of align */
	start = (align - (skew & (align - 1))) & (align - 1);
	while (start < a->units && count <= a->units - start) {
		uint32_t run = 0;

		/* a whole used word: skip it */
		if (align <= 64 && start % 64 == 0 &&
		    a->bits[start / 64] == ~0ull) {
			start += 64;
			continue;
		}
		while (run < count && !unit_used(a, start + run)) {
			run++;
		}
		if (run == count) {
			set_units(a, start, count, true);
			a->used += count;
			return start;
		}
		/* the first candidate past the used unit */
		start += (run / align + 1) * align;
	}
	return -1;
}

int64_t bitalloc_alloc(struct bitalloc *a, uint32_t count, uint32_t align)
{
	return bitalloc_alloc_skewed(a, count, align, 0);
}

bool bitalloc_free(struct bitalloc *a, uint32_t index, uint32_t count)
{
	if (count == 0 || index > a->units || count > a->units - index) {
		return false;
	}
	for (uint32_t i = index; i < index + count; i++) {
		if (!unit_used(a, i)) {
			return false;
		}
	}
	set_units(a, index, count, false);
	a->used -= count;
	return true;
}
