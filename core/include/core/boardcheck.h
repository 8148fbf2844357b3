/*
 * Board check at boot: the device tree the loader passed (QEMU's or
 * U-Boot's) against the board facts the manifest was compiled for.
 */
#pragma once

#include <bulkhead/fdt.h>
#include <stdint.h>

#define BOARD_MAX_RAM	8
#define BOARD_MAX_CPUS	64
#define BOARD_MAX_GICR	4
#define BOARD_MAX_UARTS 4

struct board_range {
	uint64_t base;
	uint64_t size;
};

/* What the device tree says about the board. */
struct board {
	uint32_t ram_count;
	struct board_range ram[BOARD_MAX_RAM];
	uint32_t cpu_count; /* all CPUs; the first BOARD_MAX_CPUS in mpidr */
	uint64_t mpidr[BOARD_MAX_CPUS];
	int gic_version; /* 0: none found, 2 or 3 */
	uint64_t gicd_base;
	uint32_t gicr_count;
	struct board_range gicr[BOARD_MAX_GICR];
	uint32_t uart_count;
	uint64_t uart[BOARD_MAX_UARTS];
};

/* Reads the board from a checked blob; false (and *error) if malformed. */
bool board_parse(const struct fdt *f, struct board *b, const char **error);

/*
 * Reads the DTB at `dtb` and compares it with the manifest. Returns when
 * they match (or when the loader passed no DTB: a warning); otherwise
 * prints every difference and stops the machine with a failure status
 * before any partition has started.
 */
void boardcheck_run(uint64_t dtb);
