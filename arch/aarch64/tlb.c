/* Stage-2 TLB maintenance, broadcast to the inner-shareable domain. */
#include <arch/sysreg.h>
#include <core/arch_mm.h>

/* Above this many pages one VMID-wide invalidation is cheaper. */
#define TLBI_PAGE_LIMIT 64

void arch_mm_sync_table_writes(void)
{
	dsb(ishst);
}

void arch_mm_zero_table(pte_t *table)
{
	/* DC ZVA zeroes a block of 4 << DCZID_EL0.BS bytes (normal memory,
	 * which the hypervisor's own map is); DZP set forbids it. */
	uint64_t dczid = read_sysreg(dczid_el0);
	uint64_t block = 4ull << (dczid & 0xf);
	uintptr_t p = (uintptr_t)table;

	if ((dczid & (1u << 4)) != 0 || 4 * block > PAGE_SIZE) {
		for (size_t i = 0; i < MM_PTE_PER_TABLE; i++) {
			table[i] = 0;
		}
		return;
	}
	/* four blocks a step: a page is at least four blocks */
	for (uintptr_t end = p + PAGE_SIZE; p < end; p += 4 * block) {
		__asm__ volatile("dc zva, %0\n\t"
				 "dc zva, %1\n\t"
				 "dc zva, %2\n\t"
				 "dc zva, %3" ::"r"(p),
				 "r"(p + block), "r"(p + 2 * block),
				 "r"(p + 3 * block)
				 : "memory");
	}
}

void arch_mm_invalidate_stage2(const struct mm_ptable *t, ipaddr_t begin,
			       ipaddr_t end)
{
	uint64_t saved = read_sysreg(vttbr_el2);
	uint64_t pages = (ipa_addr(end) - ipa_addr(begin)) >> PAGE_BITS;

	/* TLBI by IPA and VMALLE1 act on the VMID in VTTBR_EL2: load the
	 * table's own VTTBR (its root and VMID), never a zero table address,
	 * since stage 2 stays enabled meanwhile. */
	write_sysreg(vttbr_el2, pa_addr(t->root) | ((uint64_t)t->vmid << 48));
	isb();
	dsb(ishst);
	if (pages > TLBI_PAGE_LIMIT) {
		__asm__ volatile("tlbi vmalls12e1is" ::: "memory");
	} else {
		for (uint64_t a = ipa_addr(begin); a < ipa_addr(end);
		     a += PAGE_SIZE) {
			__asm__ volatile("tlbi ipas2e1is, %0" ::"r"(a >> 12)
					 : "memory");
		}
		dsb(ish);
		/* combined stage 1+2 entries are tagged by VA: drop them */
		__asm__ volatile("tlbi vmalle1is" ::: "memory");
	}
	dsb(ish);
	isb();
	write_sysreg(vttbr_el2, saved);
	isb();
}
