#pragma once

#include <core/mm.h>

/* What the fake TLB saw. */
struct fake_tlb {
	unsigned long calls;
	uint16_t last_vmid;
	uint64_t last_begin;
	uint64_t last_end;
	/* invalidations issued while the range was still mapped valid */
	unsigned long live_at_invalidate;
	const struct mm_ptable *table; /* watched for break-before-make */
};

extern struct fake_tlb fake_tlb;
