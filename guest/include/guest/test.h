/*
 * In-partition test framework.
 *
 *   TEST(psci, version) { EXPECT_EQ(0x10001, psci_version()); }
 *
 * test_run_all() runs every TEST in the image and prints one line per case,
 *   TEST-RESULT <suite>.<name> PASS|FAIL
 * (after any "TEST-FAIL ..." lines with expected and actual values), then
 *   TEST-SUMMARY passed=<n> failed=<n>
 * which tests/ turns into one pytest item per case.
 */
#pragma once

#include <guest/guest.h>

struct test_case {
	const char *suite;
	const char *name;
	void (*fn)(void);
};

#define TEST(suite, name)                                                      \
	static void test_##suite##_##name(void);                               \
	static const struct test_case test_case_##suite##_##name               \
	    __attribute__((used, section("guest_tests"), aligned(8))) = {      \
		#suite, #name, test_##suite##_##name};                         \
	static void test_##suite##_##name(void)

void test_fail(const char *file, int line, const char *expr,
	       unsigned long long expected, unsigned long long actual);

#define EXPECT_EQ(expected, actual)                                            \
	do {                                                                   \
		unsigned long long e_ = (unsigned long long)(expected);        \
		unsigned long long a_ = (unsigned long long)(actual);          \
		if (e_ != a_) {                                                \
			test_fail(__FILE__, __LINE__, #actual, e_, a_);        \
		}                                                              \
	} while (0)

#define ASSERT_EQ(expected, actual)                                            \
	do {                                                                   \
		unsigned long long e_ = (unsigned long long)(expected);        \
		unsigned long long a_ = (unsigned long long)(actual);          \
		if (e_ != a_) {                                                \
			test_fail(__FILE__, __LINE__, #actual, e_, a_);        \
			return;                                                \
		}                                                              \
	} while (0)

#define EXPECT_TRUE(cond)  EXPECT_EQ(1, !!(cond))
#define EXPECT_FALSE(cond) EXPECT_EQ(0, !!(cond))
#define ASSERT_TRUE(cond)  ASSERT_EQ(1, !!(cond))

/* Runs every test; returns the number that failed. */
int test_run_all(void);

/* Runs the tests of one suite only. */
int test_run_suite(const char *suite);

/* Runs the suites of a NULL-terminated list, in that order (tests of a
 * suite run in source order). */
int test_run_suites(const char *const *suites);
