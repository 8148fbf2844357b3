/* The loop every physical CPU runs. */
#pragma once

#include <core/partition.h>

/* Called once per CPU; runs the pinned vCPU forever. */
_Noreturn void cpu_main(struct cpu *c);
