/*
 * In-partition test framework.
 *
 *   TEST(psci, version) { EXPECT_EQ(0x10001, psci_version()); }
 *
 * test_run_all() runs every TEST in the image and prints one line per case,
 *   TEST-RESULT <suite>.<name> PASS|FAIL
 * then
 *   TEST-SUMMARY passed=<n> failed=<n>
 * which tests/ turns into one pytest item per case. Before the result line
 * of a failing case, each check that failed printed two lines,
 *   TEST-FAIL <file>:<line>: <check>(<expected>, <actual>)
 *   TEST-FAIL   expected <value> (<hex>), actual <value> (<hex>)
 * for instance "EXPECT_EQ(0x10001, psci_version())" and "expected 65537
 * (0x10001), actual 65536 (0x10000)"; a condition's values are "true" and
 * "false", negative values print signed. Expressions are shortened with
 * "..." so that a line fits the console's CONFIG_CONSOLE_LINE_MAX. The
 * pytest report of the case shows these lines.
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

/*
 * Records a failed check of the running case and prints it: `check` is
 * the macro's name, `expected_text` and `actual_text` its arguments as
 * written. With expected_text NULL the check was a condition
 * (actual_text) and the values are truth values.
 */
void test_fail(const char *file, int line, const char *check,
	       const char *expected_text, const char *actual_text,
	       unsigned long long expected, unsigned long long actual);

/* The argument texts are taken here, before macros in them expand. */
#define TEST_CHECK_EQ_(check, on_failure, expected_text, actual_text,          \
		       expected, actual)                                       \
	do {                                                                   \
		unsigned long long e_ = (unsigned long long)(expected);        \
		unsigned long long a_ = (unsigned long long)(actual);          \
		if (e_ != a_) {                                                \
			test_fail(__FILE__, __LINE__, check, expected_text,    \
				  actual_text, e_, a_);                        \
			on_failure;                                            \
		}                                                              \
	} while (0)

#define TEST_CHECK_COND_(check, on_failure, want, cond_text, cond)             \
	do {                                                                   \
		unsigned long long a_ = !!(cond);                              \
		if (a_ != (want)) {                                            \
			test_fail(__FILE__, __LINE__, check, NULL, cond_text,  \
				  (want), a_);                                 \
			on_failure;                                            \
		}                                                              \
	} while (0)

#define EXPECT_EQ(expected, actual)                                            \
	TEST_CHECK_EQ_("EXPECT_EQ", (void)0, #expected, #actual, expected,     \
		       actual)
#define ASSERT_EQ(expected, actual)                                            \
	TEST_CHECK_EQ_("ASSERT_EQ", return, #expected, #actual, expected,      \
		       actual)
#define EXPECT_TRUE(cond)                                                      \
	TEST_CHECK_COND_("EXPECT_TRUE", (void)0, 1ull, #cond, cond)
#define EXPECT_FALSE(cond)                                                     \
	TEST_CHECK_COND_("EXPECT_FALSE", (void)0, 0ull, #cond, cond)
#define ASSERT_TRUE(cond)                                                      \
	TEST_CHECK_COND_("ASSERT_TRUE", return, 1ull, #cond, cond)

/* Runs every test; returns the number that failed. */
int test_run_all(void);

/* Runs the tests of one suite only. */
int test_run_suite(const char *suite);

/* Runs the suites of a NULL-terminated list, in that order (tests of a
 * suite run in source order). */
int test_run_suites(const char *const *suites);
