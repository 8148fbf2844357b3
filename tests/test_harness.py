"""The harness itself: QEMU runs killed by the quiet limit or the overall
cap, console input, in-partition reports (checks attached to their case)
and the JUnit file pytest writes from them. A fake "QEMU" (a Python
one-liner) stands in for the real one."""
import os
import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET

import pytest

from conftest import (ROOT, Boot, ConsoleInput, Limits, boot_order, case_failure_message,
                      case_reports, check_in_partition_case, run_console)


def fake(script: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(script)]


def test_quiet_limit_kills_a_run_that_stops_printing():
    b = run_console(fake("""
        import time
        print("booting", flush=True)
        time.sleep(60)
        """), Limits(quiet=3.0, cap=30.0))
    assert b.failure is not None
    assert re.fullmatch(r"QEMU killed: it printed nothing for 3 s \(the quiet limit; the "
                        r"overall cap is 30 s\), after [3-9] s in all; last output "
                        r"\(1 of 1 lines\):\nbooting", b.failure), b.failure
    assert b.output == "booting\n"
    assert 3 <= b.seconds < 10


def test_cap_kills_a_run_that_keeps_printing():
    b = run_console(fake("""
        import time
        n = 0
        while True:
            print("progress", n, flush=True)
            n += 1
            time.sleep(0.1)
        """), Limits(quiet=5.0, cap=2.0))
    assert b.failure is not None
    assert re.match(r"QEMU killed: it was still running at the overall cap of 2 s "
                    r"\(last output [0-4] s before; the quiet limit is 5 s\), after 2 s "
                    r"in all; last output \(\d+ of \d+ lines\):\n", b.failure), b.failure
    assert re.fullmatch(r"progress \d+", b.failure.splitlines()[-1])
    assert 2 <= b.seconds < 10


def test_a_run_that_ends_has_its_output_and_status():
    b = run_console(fake("""
        import sys
        print("[p1] TEST-RESULT a.b PASS")
        print("[p1] TEST-SUMMARY passed=1 failed=0")
        sys.exit(3)
        """), Limits(quiet=20.0, cap=30.0))
    assert b.failure is None
    assert b.returncode == 3
    assert b.lines == ["[p1] TEST-RESULT a.b PASS", "[p1] TEST-SUMMARY passed=1 failed=0"]
    assert b.results() == {"p1:a.b": "PASS"}


def test_console_input_is_typed_once_its_prompt_appears():
    b = run_console(fake("""
        import sys
        print("[l] listener: waiting for input", flush=True)
        print("[l] got:", sys.stdin.readline().strip(), flush=True)
        """), Limits(quiet=20.0, cap=30.0),
        ConsoleInput(b"ping\n", "listener: waiting for input"))
    assert b.failure is None
    assert b.lines == ["[l] listener: waiting for input", "[l] got: ping"]


CONSOLE = """\
[bulkhead] Bulkhead 0.1.0
[p1] hello
[p2] TEST-FAIL tests/partitions/x/main.c:9: EXPECT_EQ(2, other())
[p1] TEST-RESULT s.first PASS
[p1] some context
[p2] TEST-FAIL   expected 2 (0x2), actual -6 (0xfffffffffffffffa)
[p1] TEST-FAIL tests/partitions/y/main.c:40: EXPECT_TRUE(ok)
[p1] TEST-FAIL   expected true, actual false
[p2] TEST-RESULT t.other FAIL
[p1] TEST-FAIL tests/partitions/y/main.c:41: ASSERT_EQ(0, err)
[p1] TEST-FAIL   expected 0 (0x0), actual 1 (0x1)
[p1] TEST-RESULT s.second FAIL
[p1] TEST-SUMMARY passed=1 failed=1
"""


def test_failed_checks_go_to_their_own_case_and_partition():
    reports = case_reports(CONSOLE.splitlines())
    assert sorted(reports) == ["p1:s.first", "p1:s.second", "p2:t.other"]
    first = reports["p1:s.first"]
    assert (first.verdict, first.checks, first.output) == ("PASS", [], ["hello"])
    second = reports["p1:s.second"]
    assert second.verdict == "FAIL"
    assert second.checks == [
        "tests/partitions/y/main.c:40: EXPECT_TRUE(ok)",
        "  expected true, actual false",
        "tests/partitions/y/main.c:41: ASSERT_EQ(0, err)",
        "  expected 0 (0x0), actual 1 (0x1)"]
    assert second.output == ["some context"]
    other = reports["p2:t.other"]
    assert other.checks == ["tests/partitions/x/main.c:9: EXPECT_EQ(2, other())",
                            "  expected 2 (0x2), actual -6 (0xfffffffffffffffa)"]


def test_failure_message_puts_the_first_check_first():
    report = case_reports(CONSOLE.splitlines())["p1:s.second"]
    assert case_failure_message(report, "demo").splitlines() == [
        "tests/partitions/y/main.c:40: EXPECT_TRUE(ok): expected true, actual false",
        "tests/partitions/y/main.c:41: ASSERT_EQ(0, err): expected 0 (0x0), actual 1 (0x1)",
        "(partition p1, scenario demo: 2 failed check(s))",
        "other output of p1 during the case (1 of 1 lines):",
        "  some context"]


def test_a_case_that_never_reported_fails_with_the_reason():
    b = Boot(CONSOLE, None, 400.0, "QEMU killed: it printed nothing for 120 s")
    with pytest.raises(pytest.fail.Exception) as e:
        check_in_partition_case(b, "demo", "p1", "s.third")
    assert str(e.value).splitlines()[:3] == [
        "s.third of p1 did not report a result (scenario demo, QEMU exit status None)",
        "QEMU killed: it printed nothing for 120 s",
        "last output of p1:"]
    check_in_partition_case(b, "demo", "p1", "s.first")  # reported: passes


def test_boot_order_starts_the_heaviest_first():
    assert boot_order([["psci"], ["ffa-mem-stress"], ["console", "psci"], ["ffa-stress"],
                       []]) == ["ffa-stress", "ffa-mem-stress", "psci", "console"]


def test_junit_file_has_one_case_per_in_partition_test_with_its_checks(tmp_path):
    """pytest's JUnit file, from in-partition tests as test_boot.py makes
    them: one <testcase> each, the failed checks in <failure>."""
    (tmp_path / "test_fake_boot.py").write_text(textwrap.dedent(f"""
        import pytest
        from conftest import Boot, check_in_partition_case
        CONSOLE = {CONSOLE!r}

        @pytest.mark.parametrize("partition,case", [
            ("p1", "s.first"), ("p1", "s.second"), ("p2", "t.other")])
        def test_in_partition(partition, case):
            check_in_partition_case(Boot(CONSOLE, 0, 1.0), "demo", partition, case)
        """))
    xml = tmp_path / "results.xml"
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "--rootdir", str(tmp_path), "-o", "junit_suite_name=bulkhead",
         f"--junitxml={xml}", str(tmp_path / "test_fake_boot.py")],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": os.path.join(ROOT, "tests")})
    assert r.returncode == 1, r.stdout + r.stderr
    assert r.stdout.splitlines()[-1].startswith("2 failed, 1 passed in ")
    root = ET.parse(xml).getroot()
    assert root.tag == "testsuites"
    (suite,) = list(root)
    assert (suite.tag, suite.get("name"), suite.get("tests"), suite.get("failures"),
            suite.get("errors")) == ("testsuite", "bulkhead", "3", "2", "0")
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert sorted(cases) == ["test_in_partition[p1-s.first]", "test_in_partition[p1-s.second]",
                             "test_in_partition[p2-t.other]"]
    assert list(cases["test_in_partition[p1-s.first]"]) == []
    (failure,) = list(cases["test_in_partition[p2-t.other]"])
    assert failure.tag == "failure"
    assert failure.get("message").splitlines()[0] == (
        "tests/partitions/x/main.c:9: EXPECT_EQ(2, other()): expected 2 (0x2), "
        "actual -6 (0xfffffffffffffffa)")


FRAMEWORK_DRIVER = r"""
#include <bulkhead/fmt.h>
#include <guest/test.h>

static void sink(void *ctx, char c)
{
	(void)ctx;
	putchar(c);
}

int guest_printf(const char *format, ...)
{
	va_list ap;
	int n;

	va_start(ap, format);
	n = fmt_vformat(sink, NULL, format, ap);
	va_end(ap);
	return n;
}

void guest_putc(char c)
{
	putchar(c);
}

void guest_puts(const char *s)
{
	fputs(s, stdout);
}

#define A_CONSTANT_WITH_A_RATHER_LONG_NAME_THAT_TAKES_ROOM 7
static int f(int a, ...) { return a; }

TEST(demo, passes) { EXPECT_EQ(1, 1); EXPECT_TRUE(1); EXPECT_FALSE(0); }
TEST(demo, fails)
{
	int err = -6;

	EXPECT_EQ(0x10001, 0x10000 + 2);
	EXPECT_EQ(0, err);
	EXPECT_TRUE(err == 0);
	EXPECT_FALSE(err != 0);
	ASSERT_EQ(1, 2);
	EXPECT_EQ(3, 4);
}
TEST(demo, clipped)
{
	EXPECT_EQ(A_CONSTANT_WITH_A_RATHER_LONG_NAME_THAT_TAKES_ROOM, f(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30));
	ASSERT_TRUE(f(0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42));
}

int main(void)
{
	return test_run_all();
}
"""


def test_guest_framework_prints_each_failed_check_with_both_values(tmp_path):
    """guest/test.c built for the host (its console is stdout): the lines a
    failed check prints, and the shortening to the console line length."""
    (tmp_path / "t.c").write_text(FRAMEWORK_DRIVER)
    exe = tmp_path / "t"
    # the C library's headers first: guest.h makes later declarations hidden
    subprocess.run(["gcc", "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-no-pie",
                    "-fno-toplevel-reorder", "-include", "stdio.h", "-include", "string.h",
                    "-DCONFIG_CONSOLE_LINE_MAX=160",
                    f"-I{ROOT}/guest/include", f"-I{ROOT}/include", "t.c",
                    f"{ROOT}/guest/test.c", f"{ROOT}/lib/fmt.c", "-o", str(exe)],
                   cwd=tmp_path, check=True, capture_output=True, text=True)
    r = subprocess.run([str(exe)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    lines = r.stdout.splitlines()
    assert lines[:14] == [
        "TEST-RESULT demo.passes PASS",
        "TEST-FAIL t.c:40: EXPECT_EQ(0x10001, 0x10000 + 2)",
        "TEST-FAIL   expected 65537 (0x10001), actual 65538 (0x10002)",
        "TEST-FAIL t.c:41: EXPECT_EQ(0, err)",
        "TEST-FAIL   expected 0 (0x0), actual -6 (0xfffffffffffffffa)",
        "TEST-FAIL t.c:42: EXPECT_TRUE(err == 0)",
        "TEST-FAIL   expected true, actual false",
        "TEST-FAIL t.c:43: EXPECT_FALSE(err != 0)",
        "TEST-FAIL   expected false, actual true",
        "TEST-FAIL t.c:44: ASSERT_EQ(1, 2)",
        "TEST-FAIL   expected 1 (0x1), actual 2 (0x2)",
        "TEST-RESULT demo.fails FAIL",
        # the argument texts as written (before macros expand), the longer
        # one shortened so that the line stays under 160 characters
        "TEST-FAIL t.c:49: EXPECT_EQ(A_CONSTANT_WITH_A_RATHER_LONG_NAME_THAT_TAKES_ROOM, "
        "f(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21...)",
        "TEST-FAIL   expected 7 (0x7), actual 1 (0x1)",
    ]
    assert len(lines[12]) == 159
    assert lines[14:] == [
        "TEST-FAIL t.c:50: ASSERT_TRUE(f(0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, "
        "16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, ...)",
        "TEST-FAIL   expected true, actual false",
        "TEST-RESULT demo.clipped FAIL",
        "TEST-SUMMARY passed=1 failed=2"]
    assert len(lines[14]) == 159
