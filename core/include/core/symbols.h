/*
 * Crash reports: the hypervisor's own function names (a table linked in
 * by tools/board/symtab.py, see the Makefile's hypervisor link), the
 * backtrace a panic prints, and the build ID the banner prints.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The function containing addr, and addr's offset in it; NULL if none. */
const char *symbols_lookup(uint64_t addr, uint64_t *offset);

/* The image's build ID as 32 hex digits (tools/pack_image.py). */
void build_id_hex(char out[33]);
