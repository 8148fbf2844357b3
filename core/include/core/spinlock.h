/* Test-and-set spinlock on C11 atomics (ldaxr/stlxr on AArch64). */
#pragma once

#include <stdint.h>

struct spinlock {
	uint32_t v;
};

#define SPINLOCK_INIT                                                          \
	{                                                                      \
		0                                                              \
	}

static inline void sl_lock(struct spinlock *l)
{
	while (__atomic_exchange_n(&l->v, 1, __ATOMIC_ACQUIRE) != 0) {
		while (__atomic_load_n(&l->v, __ATOMIC_RELAXED) != 0) {
		}
	}
}

static inline void sl_unlock(struct spinlock *l)
{
	__atomic_store_n(&l->v, 0, __ATOMIC_RELEASE);
}
