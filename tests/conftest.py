"""The harness shared by the pytest suite: build paths, QEMU runs that are
killed when they fall silent or pass an overall cap, the pool that boots
the scenarios in parallel (each once, slowest first), the reports of
in-partition test cases, and copies of the working tree to build in."""
from __future__ import annotations

import os
import re
import selectors
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, os.environ.get("BULKHEAD_BUILD", "build"))
PYTHON = os.environ.get("PYTHON", "/usr/bin/python3")
QEMU = ["qemu-system-aarch64", "-M", "virt,virtualization=on,gic-version=3",
        "-cpu", "max", "-smp", "4", "-m", "1G", "-nographic", "-no-reboot", "-nic", "none"]

# Boots that take longest start first (rough seconds on an idle 2-core
# machine; only the order matters). Others start in collection order.
BOOT_WEIGHTS = {"ffa-stress": 40, "ffa-mem-stress": 30}
RESULT_RE = re.compile(r"^\[([\w.-]+)\] TEST-RESULT (\S+) (PASS|FAIL)\s*$")
PARTITION_LINE_RE = re.compile(r"^\[([\w.-]+)\] (.*)$")
FAIL_TAG = "TEST-FAIL "
TAIL_LINES = 40


@dataclass(frozen=True)
class Limits:
    """When a QEMU run is killed: after `quiet` seconds without a byte of
    output, or after `cap` seconds in all."""
    quiet: float = 120.0
    cap: float = 1800.0


@dataclass(frozen=True)
class ConsoleInput:
    """Bytes typed on the console once `after` has appeared in the output."""
    data: bytes
    after: str


# Scenarios whose boot types something on the console.
BOOT_INPUT = {"console": ConsoleInput(b"ping\n", "listener: waiting for input")}


@dataclass
class Boot:
    output: str
    returncode: int | None
    seconds: float
    # why the boot gave no verdict (QEMU killed, image missing), else None
    failure: str | None = None

    @cached_property
    def lines(self) -> list[str]:
        """Console lines, split at LF only: a partition's line is one
        line however it was written (the hypervisor shows other control
        bytes escaped; str.splitlines would also split at VT, FF, ...).
        Results of partition P are read only from lines that start with
        P's own prefix "[P] ", which no other partition can print."""
        lines = self.output.split("\n")
        if lines and lines[-1] == "":
            lines.pop()  # the newline that ended the last line
        return [l.rstrip("\r") for l in lines]

    def results(self) -> dict[str, str]:
        out = {}
        for line in self.lines:
            m = RESULT_RE.match(line)
            if m:
                out[f"{m.group(1)}:{m.group(2)}"] = m.group(3)
        return out

    def tail(self, n: int = TAIL_LINES) -> str:
        return "\n".join(self.lines[-n:])

    @cached_property
    def case_reports(self) -> dict[str, CaseReport]:
        return case_reports(self.lines)


def _killed_message(why: str, seconds: float, output: bytes) -> str:
    lines = output.decode(errors="replace").splitlines()
    return (f"QEMU killed: {why}, after {seconds:.0f} s in all; last output "
            f"({min(len(lines), TAIL_LINES)} of {len(lines)} lines):\n"
            + "\n".join(l.rstrip("\r") for l in lines[-TAIL_LINES:]))


def run_console(cmd: list[str], limits: Limits = Limits(),
                console_input: ConsoleInput | None = None,
                cancel: threading.Event | None = None) -> Boot:
    """Runs `cmd` (a QEMU command line) and collects its console output.
    It is killed when it prints nothing for limits.quiet seconds, runs
    longer than limits.cap, or `cancel` is set; Boot.failure then says
    which, with the last output."""
    start = time.monotonic()
    last_output = start
    out = bytearray()
    failure = None
    typed = console_input is None
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            while True:
                now = time.monotonic()
                silent, running = now - last_output, now - start
                if silent >= limits.quiet:
                    failure = _killed_message(
                        f"it printed nothing for {limits.quiet:.0f} s (the quiet "
                        f"limit; the overall cap is {limits.cap:.0f} s)",
                        running, bytes(out))
                    break
                if running >= limits.cap:
                    failure = _killed_message(
                        f"it was still running at the overall cap of "
                        f"{limits.cap:.0f} s (last output {silent:.0f} s before; the "
                        f"quiet limit is {limits.quiet:.0f} s)", running, bytes(out))
                    break
                if cancel is not None and cancel.is_set():
                    failure = _killed_message("the test session ended first",
                                              running, bytes(out))
                    break
                wait = min(0.5, limits.quiet - silent, limits.cap - running)
                if not sel.select(timeout=max(wait, 0.0)):
                    continue
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    break
                out += chunk
                last_output = time.monotonic()
                if not typed and console_input.after.encode() in out:
                    typed = True
                    try:
                        proc.stdin.write(console_input.data)
                        proc.stdin.flush()
                    except OSError:
                        pass  # QEMU is gone; its output says why
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()
        try:
            proc.stdin.close()
        except OSError:
            pass
    return Boot(out.decode(errors="replace"), proc.returncode,
                time.monotonic() - start, failure)


def boot(image: str, limits: Limits = Limits(),
         console_input: ConsoleInput | None = None,
         cancel: threading.Event | None = None) -> Boot:
    """Boots `image` in QEMU (see run_console)."""
    if not os.path.exists(image):
        return Boot("", None, 0.0, f"{image} is missing: run 'make scenarios' "
                    "(make test builds it)")
    return run_console(QEMU + ["-kernel", image], limits, console_input, cancel)


def copy_tree(dest: str | os.PathLike) -> None:
    """Copies the working tree (tracked and new files as they are now,
    without build/ and .git) to `dest`."""
    files = subprocess.run(["git", "-C", ROOT, "ls-files", "-z", "--cached", "--others",
                            "--exclude-standard"], capture_output=True, check=True
                           ).stdout.decode().split("\0")
    for rel in filter(None, files):
        src = os.path.join(ROOT, rel)
        if os.path.isfile(src) and not rel.startswith(("build/", ".git")):
            os.makedirs(os.path.join(dest, os.path.dirname(rel)), exist_ok=True)
            shutil.copy2(src, os.path.join(dest, rel))


def product_image(name: str) -> str:
    """The image of product `name`; "<config>/<name>" is one built in
    the build directory's <config> subdirectory (make debug-scenarios)."""
    config, _, product = name.rpartition("/")
    return os.path.join(BUILD, config, "products", product, "bulkhead.img")


def declared_cases(partition_dir: str) -> list[str]:
    """suite.name of every TEST(...) in a test partition's sources."""
    cases = []
    for fn in sorted(os.listdir(partition_dir)):
        if fn.endswith(".c"):
            with open(os.path.join(partition_dir, fn), encoding="utf-8") as f:
                cases += [f"{s}.{n}" for s, n in
                          re.findall(r"^TEST\((\w+),\s*(\w+)\)", f.read(), re.M)]
    return cases


# --- In-partition results ---------------------------------------------------

@dataclass
class CaseReport:
    """One in-partition case: its verdict, the checks that failed (the
    TEST-FAIL lines, tag removed) and the partition's other output while
    it ran (since the partition's previous TEST-RESULT line)."""
    partition: str
    case: str
    verdict: str
    checks: list[str] = field(default_factory=list)
    output: list[str] = field(default_factory=list)


def case_reports(lines: list[str]) -> dict[str, CaseReport]:
    """'partition:suite.name' -> CaseReport, from a boot's console lines."""
    reports: dict[str, CaseReport] = {}
    pending: dict[str, list[str]] = {}
    for line in lines:
        m = PARTITION_LINE_RE.match(line)
        if not m:
            continue
        part, text = m.groups()
        r = RESULT_RE.match(line)
        if r is None:
            pending.setdefault(part, []).append(text)
            continue
        seen = pending.pop(part, [])
        reports[f"{part}:{r.group(2)}"] = CaseReport(
            part, r.group(2), r.group(3),
            [t[len(FAIL_TAG):] for t in seen if t.startswith(FAIL_TAG)],
            [t for t in seen if not t.startswith(FAIL_TAG)])
    return reports


def failed_checks_text(checks: list[str]) -> list[str]:
    """The TEST-FAIL lines of a case as "where: check: values" lines (a
    check is printed as a location-and-expression line, then its values)."""
    out: list[str] = []
    for text in checks:
        if text.startswith("  ") and out:
            out[-1] += ": " + text.strip()
        else:
            out.append(text)
    return out


def case_failure_message(report: CaseReport, scenario: str) -> str:
    """What pytest shows for a failed in-partition case: the first failed
    check on the first line (the short summary shows that line)."""
    checks = failed_checks_text(report.checks)
    if checks:
        head = checks[0]
        body = checks[1:]
    else:
        head = f"{report.case} FAILED without a TEST-FAIL line"
        body = []
    text = [head, *body,
            f"(partition {report.partition}, scenario {scenario}: "
            f"{len(checks)} failed check(s))"]
    if report.output:
        shown = report.output[-TAIL_LINES:]
        text.append(f"other output of {report.partition} during the case "
                    f"({len(shown)} of {len(report.output)} lines):")
        text += [f"  {l}" for l in shown]
    return "\n".join(text)


def check_in_partition_case(b: Boot, scenario: str, partition: str,
                            case: str) -> None:
    """Fails the calling test unless `case` of `partition` reported PASS."""
    report = b.case_reports.get(f"{partition}:{case}")
    if report is None:
        own = [l for l in b.lines if l.startswith(f"[{partition}] ")]
        pytest.fail(
            f"{case} of {partition} did not report a result (scenario "
            f"{scenario}, QEMU exit status {b.returncode})\n"
            + (b.failure + "\n" if b.failure else "")
            + f"last output of {partition}:\n" + "\n".join(own[-TAIL_LINES:])
            + ("" if b.failure else "\nlast output of the boot:\n" + b.tail()),
            pytrace=False)
    if report.verdict != "PASS":
        pytest.fail(case_failure_message(report, scenario), pytrace=False)


# --- The boot pool ----------------------------------------------------------

class BootPool:
    """Boots scenarios on `jobs` threads, each scenario once, in the order
    they were submitted."""

    def __init__(self, jobs: int, limits: Limits):
        self._executor = ThreadPoolExecutor(max_workers=max(jobs, 1),
                                            thread_name_prefix="qemu")
        self._limits = limits
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._futures: dict[str, Future[Boot]] = {}

    def submit(self, name: str) -> Future[Boot]:
        with self._lock:
            if name not in self._futures:
                self._futures[name] = self._executor.submit(
                    boot, product_image(name), self._limits, BOOT_INPUT.get(name),
                    self._cancel)
            return self._futures[name]

    def get(self, name: str) -> Boot:
        return self.submit(name).result()

    def finished(self) -> list[tuple[str, Boot]]:
        """The boots that ended (or were killed), in the order submitted."""
        with self._lock:
            futures = list(self._futures.items())
        return [(name, f.result()) for name, f in futures
                if f.done() and not f.cancelled() and f.exception() is None]

    def close(self) -> None:
        """Kills what still runs and drops what has not started."""
        self._cancel.set()
        self._executor.shutdown(wait=True, cancel_futures=True)


def item_scenarios(item: pytest.Item) -> list[str]:
    """The scenarios a test boots, from its `scenario` marks."""
    return [name for mark in item.iter_markers("scenario") for name in mark.args]


def boot_order(named: list[list[str]]) -> list[str]:
    """Every scenario in `named` (the scenarios of each test), the
    heaviest first (BOOT_WEIGHTS), then in the order the tests name them."""
    seen: dict[str, int] = {}
    for names in named:
        for name in names:
            seen.setdefault(name, len(seen))
    return sorted(seen, key=lambda n: (-BOOT_WEIGHTS.get(n, 0), seen[n]))


POOL_KEY = pytest.StashKey[BootPool]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("bulkhead", "Bulkhead QEMU boots")
    group.addoption("--boot-jobs", type=int, default=os.cpu_count() or 1,
                    metavar="N", help="QEMU boots at once (default: the CPUs, "
                    "%(default)s; 1 boots one at a time)")
    group.addoption("--qemu-quiet", type=float, default=Limits.quiet, metavar="S",
                    help="kill a QEMU that printed nothing for S seconds "
                    "(default %(default)s)")
    group.addoption("--qemu-cap", type=float, default=Limits.cap, metavar="S",
                    help="kill a QEMU still running after S seconds "
                    "(default %(default)s)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "scenario(*names): the test boots these scenarios (products "
        "under build/products/); the boot pool starts them ahead of the test")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that boot nothing run first, while the pool boots; then the
    others in the order their scenarios were started."""
    rank = {name: i for i, name in
            enumerate(boot_order([item_scenarios(i) for i in items]))}
    index = {id(item): i for i, item in enumerate(items)}

    def key(item: pytest.Item) -> tuple[int, int, int]:
        names = item_scenarios(item)
        if not names:
            return (0, 0, index[id(item)])
        return (1, min(rank[n] for n in names), index[id(item)])
    items.sort(key=key)


@pytest.fixture(scope="session", autouse=True)
def boot_pool(request: pytest.FixtureRequest) -> Iterator[BootPool]:
    """Starts, as the session starts, every boot the selected tests need."""
    config = request.config
    pool = BootPool(config.getoption("boot_jobs"),
                    Limits(config.getoption("qemu_quiet"), config.getoption("qemu_cap")))
    # (under pytest-xdist, `-n`, a worker boots only what its tests ask for)
    if not hasattr(config, "workerinput"):
        for name in boot_order([item_scenarios(i) for i in request.session.items]):
            pool.submit(name)
    config.stash[POOL_KEY] = pool
    try:
        yield pool
    finally:
        pool.close()


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    """How long each QEMU boot took (before pytest's closing summary)."""
    pool = config.stash.get(POOL_KEY, None)
    boots = pool.finished() if pool is not None else []
    if not boots:
        return
    jobs = config.getoption("boot_jobs")
    terminalreporter.write_line(
        f"QEMU boots ({jobs} at once), seconds: " + ", ".join(
            f"{name} {b.seconds:.1f}" + (" (killed)" if b.failure else "")
            for name, b in sorted(boots, key=lambda nb: -nb[1].seconds)))


class Boots:
    """boots(name) -> the Boot of scenario `name` (booted once per session),
    failing the test if QEMU had to be killed or the image is missing;
    boots.unchecked(name) returns such a Boot too."""

    def __init__(self, pool: BootPool):
        self._pool = pool

    def unchecked(self, name: str) -> Boot:
        return self._pool.get(name)

    def __call__(self, name: str) -> Boot:
        b = self._pool.get(name)
        if b.failure is not None:
            pytest.fail(f"scenario {name}: {b.failure}", pytrace=False)
        return b


@pytest.fixture
def boots(boot_pool: BootPool) -> Boots:
    return Boots(boot_pool)
