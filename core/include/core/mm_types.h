/*
 * The words the page-table code (core/mm.c) and the architecture's
 * descriptor code (core/arch_mm.h) share: the mode of a page and the
 * handle of a stage-2 table. An interface header: arch/ may include it.
 */
#pragma once

#include <core/types.h>

/* Access and state of a page. */
#define MM_MODE_R	0x01u
#define MM_MODE_W	0x02u
#define MM_MODE_X	0x04u
#define MM_MODE_D	0x08u /* device memory (else normal write-back) */
#define MM_MODE_INVALID 0x10u /* not accessible to the partition */
#define MM_MODE_UNOWNED 0x20u /* the partition does not own the page */
#define MM_MODE_SHARED	0x40u /* others have access to the page too */

/* What an unmapped page reads back as. */
#define MM_MODE_ABSENT (MM_MODE_INVALID | MM_MODE_UNOWNED)
#define MM_MODE_RWX    (MM_MODE_R | MM_MODE_W | MM_MODE_X)

struct mm_ptable {
	paddr_t root;
	uint16_t vmid;
};
