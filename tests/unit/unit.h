/* Minimal host test harness: UNIT(name) cases, run one per process. */
#pragma once

#include <stdio.h>
#include <stdlib.h>

struct unit_case {
	const char *name;
	void (*fn)(void);
};

#define UNIT(name)                                                             \
	static void unit_##name(void);                                         \
	static const struct unit_case unit_case_##name __attribute__((         \
	    used, section("unit_cases"), aligned(16))) = {#name, unit_##name}; \
	static void unit_##name(void)

#define EXPECT_EQ(expected, actual)                                            \
	do {                                                                   \
		unsigned long long e_ = (unsigned long long)(expected);        \
		unsigned long long a_ = (unsigned long long)(actual);          \
		if (e_ != a_) {                                                \
			fprintf(stderr,                                        \
				"%s:%d: expected %s == %#llx, got %#llx\n",    \
				__FILE__, __LINE__, #actual, e_, a_);          \
			exit(1);                                               \
		}                                                              \
	} while (0)

#define EXPECT_TRUE(cond)  EXPECT_EQ(1, !!(cond))
#define EXPECT_FALSE(cond) EXPECT_EQ(0, !!(cond))
