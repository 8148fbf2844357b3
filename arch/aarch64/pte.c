/*
 * AArch64 stage-2 descriptors, 4 KiB granule (Arm ARM D8.3).
 *
 * Valid leaf: bits[1:0] = 0b01 block (levels 1, 2) or 0b11 page (level 3);
 * MemAttr[5:2] 0b1111 normal write-back or 0b0001 device nGnRE; S2AP[7:6]
 * bit 6 read, bit 7 write; SH[9:8] 0b11 inner shareable; AF[10]; XN[54:53]
 * 0b10 = not executable. Software bits: 55 owned, 56 shared.
 * Invalid leaf (bit 0 clear): the mode, less MM_MODE_INVALID, XOR owned,
 * is kept in bits [8:2] so an unmapped page still remembers its state; an
 * all-zero descriptor reads back as MM_MODE_ABSENT.
 */
#include <core/arch_mm.h>

#define PTE_VALID	       (1ull << 0)
#define PTE_TABLE_OR_PAGE      (1ull << 1)
#define PTE_ATTR_NORMAL_WB     (0xfull << 2)
#define PTE_ATTR_DEVICE_NGNRE  (0x1ull << 2)
#define PTE_S2AP_R	       (1ull << 6)
#define PTE_S2AP_W	       (1ull << 7)
#define PTE_SH_INNER	       (3ull << 8)
#define PTE_AF		       (1ull << 10)
#define PTE_XN		       (2ull << 53)
#define PTE_SW_OWNED	       (1ull << 55)
#define PTE_SW_SHARED	       (1ull << 56)
#define PTE_ADDR_MASK	       0x0000fffffffff000ull
#define PTE_INVALID_MODE_SHIFT 2
#define PTE_INVALID_MODE_MASK  0x7full

#define STAGE2_ROOT_LEVEL 1
#define STAGE2_IPA_BITS	  39

uint8_t arch_mm_stage2_root_level(void)
{
	return STAGE2_ROOT_LEVEL;
}

uint64_t arch_mm_stage2_ipa_limit(void)
{
	return 1ull << STAGE2_IPA_BITS;
}

bool arch_mm_block_allowed(uint8_t level)
{
	return level >= 1 && level <= MM_MAX_LEVEL;
}

pte_t arch_mm_leaf_pte(uint8_t level, paddr_t pa, uint32_t mode)
{
	pte_t pte;

	if (mode & MM_MODE_INVALID) {
		uint64_t stored = (mode & ~MM_MODE_INVALID) ^ MM_MODE_UNOWNED;

		return (stored & PTE_INVALID_MODE_MASK)
		       << PTE_INVALID_MODE_SHIFT;
	}
	pte = PTE_VALID | PTE_AF | (pa_addr(pa) & PTE_ADDR_MASK);
	if (level == MM_MAX_LEVEL) {
		pte |= PTE_TABLE_OR_PAGE;
	}
	pte |= (mode & MM_MODE_D) ? PTE_ATTR_DEVICE_NGNRE
				  : (PTE_ATTR_NORMAL_WB | PTE_SH_INNER);
	if (mode & MM_MODE_R) {
		pte |= PTE_S2AP_R;
	}
	if (mode & MM_MODE_W) {
		pte |= PTE_S2AP_W;
	}
	if (!(mode & MM_MODE_X)) {
		pte |= PTE_XN;
	}
	if (!(mode & MM_MODE_UNOWNED)) {
		pte |= PTE_SW_OWNED;
	}
	if (mode & MM_MODE_SHARED) {
		pte |= PTE_SW_SHARED;
	}
	return pte;
}

static uint64_t level_size(uint8_t level)
{
	return 1ull << (PAGE_BITS + 9 * (MM_MAX_LEVEL - level));
}

/* Sixteen entries per step; a constant `step` lets the compiler use
 * immediate adds (this runs for every split). */
static inline __attribute__((always_inline)) void
fill_step(pte_t *table, pte_t pte, uint64_t step)
{
	for (size_t i = 0; i < MM_PTE_PER_TABLE; i += 16) {
#pragma GCC unroll 16
		for (size_t k = 0; k < 16; k++) {
			table[i + k] = pte + k * step;
		}
		pte += 16 * step;
	}
}

/* The same for pages (every split of a 2 MiB block), 32 per step: each
 * entry is one add with an immediate and half a store pair, the rest is
 * loop. Wider steps need their multiples in registers, so stay at 16. */
static void fill_pages(pte_t *table, pte_t pte)
{
	for (size_t i = 0; i < MM_PTE_PER_TABLE; i += 32) {
#pragma GCC unroll 32
		for (size_t k = 0; k < 32; k++) {
			table[i + k] = pte + k * 4096;
		}
		pte += 32 * 4096;
	}
}

void arch_mm_fill_leaves(pte_t *table, uint8_t level, paddr_t pa, uint32_t mode)
{
	pte_t pte = arch_mm_leaf_pte(level, pa, mode);

	if (pte == 0) {
		arch_mm_zero_table(table); /* absent: all zero */
	} else if (!(pte & PTE_VALID)) {
		fill_step(table, pte, 0);
	} else if (level == MM_MAX_LEVEL) {
		fill_pages(table, pte);
	} else if (level == MM_MAX_LEVEL - 1) {
		fill_step(table, pte, 2ull << 20);
	} else {
		fill_step(table, pte, level_size(level));
	}
}

bool arch_mm_leaves_uniform(const pte_t *table, uint8_t level, uint32_t *mode)
{
	pte_t expect = table[0];
	uint64_t step;

	if (arch_mm_pte_is_table(expect, level)) {
		return false;
	}
	/* a leaf's output address is aligned to its level's size */
	if ((expect & PTE_VALID) &&
	    ((expect & PTE_ADDR_MASK) & (level_size(level - 1) - 1)) != 0) {
		return false;
	}
	step = (expect & PTE_VALID) ? level_size(level) : 0;
	/* four at a time: this runs after every change inside a table */
	for (size_t i = 0; i < MM_PTE_PER_TABLE; i += 4) {
		if ((table[i] ^ expect) | (table[i + 1] ^ (expect + step)) |
		    (table[i + 2] ^ (expect + 2 * step)) |
		    (table[i + 3] ^ (expect + 3 * step))) {
			return false;
		}
		expect += 4 * step;
	}
	*mode = arch_mm_pte_mode(table[0], level);
	return true;
}

bool arch_mm_same_translation(pte_t a, pte_t b, uint8_t level)
{
	/* the software bits are ignored by the MMU, so by the TLB too */
	return arch_mm_pte_is_valid(a, level) &&
	       arch_mm_pte_is_valid(b, level) &&
	       ((a ^ b) & ~(PTE_SW_OWNED | PTE_SW_SHARED)) == 0;
}

pte_t arch_mm_table_pte(uint8_t level, paddr_t table)
{
	(void)level;
	return PTE_VALID | PTE_TABLE_OR_PAGE | (pa_addr(table) & PTE_ADDR_MASK);
}

bool arch_mm_pte_is_table(pte_t pte, uint8_t level)
{
	return level < MM_MAX_LEVEL && (pte & 3) == 3;
}

bool arch_mm_pte_is_valid(pte_t pte, uint8_t level)
{
	return (pte & PTE_VALID) && !arch_mm_pte_is_table(pte, level);
}

paddr_t arch_mm_table_addr(pte_t pte, uint8_t level)
{
	(void)level;
	return pa_init(pte & PTE_ADDR_MASK);
}

uint32_t arch_mm_pte_mode(pte_t pte, uint8_t level)
{
	uint32_t mode = 0;

	if (!(pte & PTE_VALID)) {
		uint32_t stored =
		    (pte >> PTE_INVALID_MODE_SHIFT) & PTE_INVALID_MODE_MASK;

		return (stored ^ MM_MODE_UNOWNED) | MM_MODE_INVALID;
	}
	(void)level;
	if (pte & PTE_S2AP_R) {
		mode |= MM_MODE_R;
	}
	if (pte & PTE_S2AP_W) {
		mode |= MM_MODE_W;
	}
	if (!(pte & PTE_XN)) {
		mode |= MM_MODE_X;
	}
	if ((pte & (0xfull << 2)) == PTE_ATTR_DEVICE_NGNRE) {
		mode |= MM_MODE_D;
	}
	if (!(pte & PTE_SW_OWNED)) {
		mode |= MM_MODE_UNOWNED;
	}
	if (pte & PTE_SW_SHARED) {
		mode |= MM_MODE_SHARED;
	}
	return mode;
}
