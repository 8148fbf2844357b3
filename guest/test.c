#include <guest/test.h>

extern const struct test_case __start_guest_tests[];
extern const struct test_case __stop_guest_tests[];

static bool current_failed;

void test_fail(const char *file, int line, const char *expr,
	       unsigned long long expected, unsigned long long actual)
{
	current_failed = true;
	guest_printf("TEST-FAIL %s:%d: %s: expected %llu (%#llx), actual %llu "
		     "(%#llx)\n",
		     file, line, expr, expected, expected, actual, actual);
}

static bool same(const char *a, const char *b)
{
	while (*a != '\0' && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

static void run_matching(const char *suite, int *passed, int *failed)
{
	for (const struct test_case *t = __start_guest_tests;
	     t < __stop_guest_tests; t++) {
		if (suite != NULL && !same(suite, t->suite)) {
			continue;
		}
		current_failed = false;
		t->fn();
		guest_printf("TEST-RESULT %s.%s %s\n", t->suite, t->name,
			     current_failed ? "FAIL" : "PASS");
		if (current_failed) {
			(*failed)++;
		} else {
			(*passed)++;
		}
	}
}

int test_run_suites(const char *const *suites)
{
	int passed = 0;
	int failed = 0;

	for (; *suites != NULL; suites++) {
		run_matching(*suites, &passed, &failed);
	}
	guest_printf("TEST-SUMMARY passed=%d failed=%d\n", passed, failed);
	return failed;
}

int test_run_suite(const char *suite)
{
	int passed = 0;
	int failed = 0;

	run_matching(suite, &passed, &failed);
	guest_printf("TEST-SUMMARY passed=%d failed=%d\n", passed, failed);
	return failed;
}

int test_run_all(void)
{
	return test_run_suite(NULL);
}
