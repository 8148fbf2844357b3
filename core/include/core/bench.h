/*
 * CONFIG_BENCH_BOOT_COUNT (make bench-linux): when a partition's console
 * line announces Linux's init, the instructions its CPUs retired so far,
 * at EL2 and in all, are printed as a BENCH-BOOT line.
 */
#pragma once

#include <core/partition.h>

/* Adds what this CPU (`c`) retired since its last sample to its sums. */
void bench_boot_sample(struct cpu *c);

/* A console line `line` of `v` is complete. */
void bench_boot_line(struct vcpu *v, const char *line, size_t len);
