/*
 * What the page-table code needs from the architecture: the descriptor
 * format of a stage-2 entry and TLB maintenance. Implemented by
 * arch/aarch64/pte.c and arch/aarch64/tlb.c (and a fake for host tests).
 */
#pragma once

#include <core/mm_types.h>
#include <core/types.h>

typedef uint64_t pte_t;

#define MM_PTE_PER_TABLE 512
#define MM_LEVEL_BITS	 9
#define MM_MAX_LEVEL	 3 /* level of 4 KiB page entries */

/* Level of the stage-2 root table, and the IPA space it covers. */
uint8_t arch_mm_stage2_root_level(void);
uint64_t arch_mm_stage2_ipa_limit(void);

/* Whether a leaf that maps memory may sit at `level` (blocks or pages). */
bool arch_mm_block_allowed(uint8_t level);

/* A leaf for `pa` with `mode` (MM_MODE_*); absent modes make an invalid
 * descriptor that still remembers the mode. */
pte_t arch_mm_leaf_pte(uint8_t level, paddr_t pa, uint32_t mode);

/* Zeroes one table page (fast: this runs for every split of an absent
 * entry). */
void arch_mm_zero_table(pte_t *table);

/* Writes MM_PTE_PER_TABLE leaves of `level` in `mode` mapping consecutive
 * blocks from `pa` (what a split of one leaf into a table needs). */
void arch_mm_fill_leaves(pte_t *table, uint8_t level, paddr_t pa,
			 uint32_t mode);

/* Whether the table's entries (of `level`) are leaves that one leaf of the
 * level above could replace: one mode, consecutive addresses. *mode is
 * set when true. */
bool arch_mm_leaves_uniform(const pte_t *table, uint8_t level, uint32_t *mode);
pte_t arch_mm_table_pte(uint8_t level, paddr_t table);
/* Whether two valid leaves translate alike (differ in software bits
 * only), so one may replace the other without break-before-make. */
bool arch_mm_same_translation(pte_t a, pte_t b, uint8_t level);
bool arch_mm_pte_is_table(pte_t pte, uint8_t level);
bool arch_mm_pte_is_valid(pte_t pte, uint8_t level);
paddr_t arch_mm_table_addr(pte_t pte, uint8_t level);
uint32_t arch_mm_pte_mode(pte_t pte, uint8_t level);

/* Makes earlier table writes visible to the page-table walkers. */
void arch_mm_sync_table_writes(void);

/* Invalidates every CPU's TLB entries for [begin, end) of the stage 2
 * `t` (its VMID, and the combined stage-1 entries under it); complete on
 * return. */
void arch_mm_invalidate_stage2(const struct mm_ptable *t, ipaddr_t begin,
			       ipaddr_t end);
