/* Distinct types for distinct address spaces, so a mix-up does not compile. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAGE_BITS 12
#define PAGE_SIZE ((uint64_t)1 << PAGE_BITS)

typedef struct {
	uint64_t pa;
} paddr_t; /* physical address */

typedef struct {
	uint64_t ipa;
} ipaddr_t; /* intermediate physical address (a partition's view) */

static inline paddr_t pa_init(uint64_t pa)
{
	return (paddr_t){pa};
}

static inline uint64_t pa_addr(paddr_t a)
{
	return a.pa;
}

static inline ipaddr_t ipa_init(uint64_t ipa)
{
	return (ipaddr_t){ipa};
}

static inline uint64_t ipa_addr(ipaddr_t a)
{
	return a.ipa;
}

/* Partition RAM is identity mapped: IPA == PA. */
static inline paddr_t pa_from_ipa(ipaddr_t a)
{
	return pa_init(a.ipa);
}

/* The hypervisor identity maps physical memory at EL2 too. */
static inline void *va_from_pa(paddr_t a)
{
	return (void *)(uintptr_t)a.pa;
}

static inline paddr_t pa_from_va(const void *va)
{
	return pa_init((uintptr_t)va);
}

static inline uint64_t align_down(uint64_t v, uint64_t a)
{
	return v & ~(a - 1);
}

static inline uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static inline bool is_aligned(uint64_t v, uint64_t a)
{
	return (v & (a - 1)) == 0;
}

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b)     ((a) < (b) ? (a) : (b))
#define MAX(a, b)     ((a) > (b) ? (a) : (b))
