/*
 * The string and memory routines of lib/string.c, for freestanding code
 * (hypervisor, guest SDK, partitions). Built with -nostdinc: this header,
 * not a C library's, answers #include <string.h>.
 */
#pragma once

#include <stddef.h>

void *memset(void *dst, int value, size_t count);
void *memcpy(void *dst, const void *src, size_t count);
void *memmove(void *dst, const void *src, size_t count);
int memcmp(const void *a, const void *b, size_t count);
size_t strlen(const char *s);
int strncmp(const char *a, const char *b, size_t count);
int strcmp(const char *a, const char *b);
