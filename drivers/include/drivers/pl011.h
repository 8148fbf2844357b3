/* The board's PL011, used by the hypervisor for its console. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

void pl011_init(uint64_t base);
void pl011_putc(char c);
/* A received character, or -1 when none is waiting. */
int pl011_getc(void);
