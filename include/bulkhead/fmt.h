/* A small freestanding printf shared by the hypervisor and guests. */
#pragma once

#include <stdarg.h>
#include <stddef.h>

/* Called for each output character; `ctx` is the caller's. */
typedef void (*fmt_sink_fn)(void *ctx, char c);

/*
 * Formats like printf: %d %i %u %x %X %p %s %c %%, flags - 0 #, width,
 * precision for %s, length modifiers l, ll, z. Returns characters produced.
 */
int fmt_vformat(fmt_sink_fn sink, void *ctx, const char *format, va_list ap);
int fmt_snprintf(char *buf, size_t size, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
