#include <guest/test.h>
#include <string.h>

extern const struct test_case __start_guest_tests[];
extern const struct test_case __stop_guest_tests[];

static bool current_failed;

#define FAIL_TAG "TEST-FAIL "

/* Prints `s`, or, when it is longer than `room`, its start and "...". */
static void put_clipped(const char *s, size_t room)
{
	size_t n = strlen(s);

	if (n <= room) {
		guest_puts(s);
		return;
	}
	for (size_t i = 0; i + 3 < room; i++) {
		guest_putc(s[i]);
	}
	guest_puts("...");
}

/* Digits of a line number, for the line-length budget. */
static size_t digits(int v)
{
	size_t n = 1;

	for (; v >= 10 || v <= -10; v /= 10) {
		n++;
	}
	return n + (v < 0);
}

static void put_value(unsigned long long v, bool truth)
{
	if (truth) {
		guest_puts(v ? "true" : "false");
	} else if ((long long)v < 0) {
		guest_printf("%lld (%#llx)", (long long)v, v);
	} else {
		guest_printf("%llu (%#llx)", v, v);
	}
}

void test_fail(const char *file, int line, const char *check,
	       const char *expected_text, const char *actual_text,
	       unsigned long long expected, unsigned long long actual)
{
	/* the first line, "TAG file:line: check(expected, actual)", stays
	 * shorter than a console line: the argument texts get `room` */
	size_t limit = CONFIG_CONSOLE_LINE_MAX - 1;
	size_t fixed = sizeof(FAIL_TAG) - 1 + strlen(file) + 1 + digits(line) +
		       2 + strlen(check) + 2 + (expected_text != NULL ? 2 : 0);
	size_t room = limit > fixed + 16 ? limit - fixed : 16;

	current_failed = true;
	guest_printf(FAIL_TAG "%s:%d: %s(", file, line, check);
	if (expected_text != NULL) {
		size_t e = strlen(expected_text);
		size_t a = strlen(actual_text);
		/* the shorter text whole if it fits in half the room */
		size_t e_room = e + a <= room	? e
				: e <= room / 2 ? e
				: a <= room / 2 ? room - a
						: room / 2;

		put_clipped(expected_text, e_room);
		guest_puts(", ");
		put_clipped(actual_text, room - (e < e_room ? e : e_room));
	} else {
		put_clipped(actual_text, room);
	}
	guest_puts(")\n" FAIL_TAG "  expected ");
	put_value(expected, expected_text == NULL);
	guest_puts(", actual ");
	put_value(actual, expected_text == NULL);
	guest_puts("\n");
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
