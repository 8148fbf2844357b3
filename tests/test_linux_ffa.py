"""Boot test of the FF-A Linux product (manifests/qemu-virt-linux-ffa.dts):
Linux's arm_ffa driver and our self-test module against Bulkhead and the
bare-metal service partition.

Linux reaching init needs the virtual GIC (timer, IPIs); the memory cases
need Bulkhead to take FF-A v1.0 descriptors, the layout the 6.1 driver
negotiates. When the boot stops short, every test names the last stage it
reached instead of failing on a missing line."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

import pytest

from conftest import BUILD, Boot

SCENARIO = "qemu-virt-linux-ffa"
pytestmark = pytest.mark.scenario(SCENARIO)

POWER_OFF = "[bulkhead] all partitions are off; powering off"
MODULE = "bulkhead_ffa_test"
# a kernel line on the console: "[linux] [    1.234567] text"
KERNEL_LINE = re.compile(r"^\[linux\] (?:\[\s*\d+\.\d+\] )?(.*)$")
CASE_LINE = re.compile(rf"^{MODULE}: CASE (\S+) (PASS|FAIL) (.*)$")

# The manifest's partitions as Linux sees them: (ID, UUID in sysfs). The
# service's UUID is the Linux form of the manifest's words (README); the
# others stay nil, as v1.0 discovery carries no UUIDs and no driver asked.
NIL = "00000000-0000-0000-0000-000000000000"
SERVICE_UUID = "6b1f0d2e-8c4a-4f3b-9d57-2e1a0c9b8f74"
DEVICES = {1: NIL, 2: SERVICE_UUID, 3: NIL}

# Every case the module runs at probe, in order, then the one at unload.
PROBE_CASES = ["version", "discovery", "info-by-uuid", "direct-echo",
               "direct-unknown-command", "direct-refused", "share", "lend",
               "lend-no-grant", "share-caller-buffer", "lend-over-grant",
               "hostile-lend-not-owned", "hostile-retrieve-by-owner", "hostile-retrieve-as-other",
               "hostile-share-as-other", "hostile-share-still-intact", "hold"]
UNLOAD_CASES = ["unload-while-shared"]


@dataclass(frozen=True)
class Stage:
    name: str
    seen: str  # a console line (or part of one) that proves it


# How far the boot got, in order; the first stage not seen is named.
STAGES = [
    Stage("Bulkhead started Linux", "[linux] "),
    Stage("Linux reached init", "BULKHEAD-FFA-INIT "),
    Stage("the arm_ffa driver found Bulkhead", "ARM FF-A: Firmware version"),
    Stage("the module bound to the service partition", "BULKHEAD-FFA-BOUND arm-ffa-"),
    Stage("the module's probe finished", f"{MODULE}: SUMMARY "),
    Stage("init watched the timer for a second", "BULKHEAD-FFA-WAITED "),
    Stage("the module unloaded", "BULKHEAD-FFA-RMMOD ok"),
    Stage("the machine powered off", POWER_OFF),
]


def kernel_lines(b: Boot) -> list[str]:
    """The Linux partition's lines, timestamps removed."""
    out = []
    for line in b.lines:
        m = KERNEL_LINE.match(line)
        if m:
            out.append(m.group(1))
    return out


def reached(b: Boot) -> tuple[list[str], str | None]:
    """The stages seen, and the first one not seen (None: all)."""
    seen = []
    for stage in STAGES:
        if not any(stage.seen in line for line in b.lines):
            return seen, stage.name
        seen.append(stage.name)
    return seen, None


def need(b: Boot, stage: str) -> None:
    """Fails the test, naming how far the boot got, unless `stage` and
    every stage before it were reached."""
    seen, missing = reached(b)
    if stage in seen:
        return
    why = b.failure or f"QEMU exit status {b.returncode}"
    pytest.fail(
        f"the Linux FF-A boot stopped before: {missing} (needed here: {stage}); "
        f"stages reached: {', '.join(seen) or 'none'}\n{why}\n"
        f"last output:\n{b.tail()}", pytrace=False)


@pytest.fixture
def run(boots) -> Boot:
    return boots.unchecked(SCENARIO)


def cases(b: Boot) -> dict[str, tuple[str, str]]:
    out = {}
    for line in kernel_lines(b):
        m = CASE_LINE.match(line)
        if m:
            assert m.group(1) not in out, f"case {m.group(1)} reported twice"
            out[m.group(1)] = (m.group(2), m.group(3))
    return out


def test_driver_probes_and_negotiates_v1_0(run):
    need(run, "the arm_ffa driver found Bulkhead")
    lines = kernel_lines(run)
    assert "ARM FF-A: Driver version 1.0" in lines
    assert "ARM FF-A: Firmware version 1.2 found" in lines
    assert "ARM FF-A: Firmware version higher than driver version, downgrading" in lines


def test_sysfs_lists_every_partition_of_the_manifest(run):
    need(run, "the module bound to the service partition")
    found = {}
    for line in kernel_lines(run):
        m = re.fullmatch(r"BULKHEAD-FFA-DEVICE (arm-ffa-\d+) id=0x([0-9a-f]{4}) uuid=(\S+)", line)
        if m:
            found[int(m.group(2), 16)] = m.group(3)
    # listed before the module loaded: only the service's UUID is known
    # once a driver asked for it, so all three are nil here
    assert found == {i: NIL for i in DEVICES}
    assert f"{MODULE}: probe: we are partition 0x0001; service partition 0x0002, uuid " \
        f"{SERVICE_UUID}" in kernel_lines(run)


def irq_counts(lines: list[str], when: str, name: str) -> list[int]:
    """Per-CPU counts of the /proc/interrupts line ending in `name`."""
    for line in lines:
        if line.startswith(f"BULKHEAD-FFA-IRQ {when} ") and line.endswith(name):
            words = line.split()[3:]
            return [int(w) for w in words[:2]]
    raise AssertionError(f"no {name} line {when} the wait")


def test_init_sees_two_cpus_and_a_working_timer(run):
    need(run, "init watched the timer for a second")
    lines = kernel_lines(run)
    init = next(l for l in lines if l.startswith("BULKHEAD-FFA-INIT "))
    assert re.fullmatch(r"BULKHEAD-FFA-INIT uptime=\d+\.\d+ cpus=2 kernel=6\.1\.\d+-bulkhead-ffa",
                        init), init
    before = irq_counts(lines, "before", "arch_timer")
    after = irq_counts(lines, "after", "arch_timer")
    # a second busy on one CPU at HZ=250: far more than 100 ticks there
    # (the virtual timer's PPI 27 must be delivered again and again)
    assert sum(after) - sum(before) >= 100, \
        f"arch_timer interrupts per CPU before a busy second {before}, after {after}"


@pytest.mark.parametrize("case", PROBE_CASES + UNLOAD_CASES)
def test_self_test_case(run, case):
    need(run, "the module's probe finished" if case in PROBE_CASES else "the module unloaded")
    got = cases(run)
    assert case in got, f"the module printed no line for case {case}"
    verdict, detail = got[case]
    hint = ""
    if verdict != "PASS" and re.search(r"(share|lend)[^:]*: -95\b", detail):
        hint = ("\n(-95 = NOT_SUPPORTED from FFA_MEM_SHARE/LEND: Bulkhead does not take "
                "the FF-A v1.0 memory descriptors the 6.1 driver writes)")
    assert verdict == "PASS", f"{case}: {detail}{hint}"


def test_self_test_runs_exactly_these_cases(run):
    need(run, "the module unloaded")
    assert list(cases(run)) == PROBE_CASES + UNLOAD_CASES
    lines = kernel_lines(run)
    assert f"{MODULE}: SUMMARY {len(PROBE_CASES)} passed, 0 failed" in lines
    assert f"{MODULE}: SUMMARY at unload {len(PROBE_CASES) + 1} passed, 0 failed" in lines
    assert (f"{MODULE}: NOTE notifications: not tested, Linux 6.1's arm_ffa driver has no "
            "notification operations") in lines


def test_service_partition_sees_the_same_exchange(run):
    need(run, "the module unloaded")
    lines = run.lines
    got = cases(run)
    assert ("[service] ECHO from partition 1: 0x123456789abcdef 0xfedcba9876543210 "
            "0x8000000000000001 0xffffffff") in lines
    assert "[service] unknown command 0x12345678 from partition 1" in lines
    for kind, pages, constituents in (("share", 7, 3), ("lend", 7, 3)):
        handle = re.search(r"handle (0x[0-9a-f]+)", got[kind][1]).group(1)
        checksum = re.search(r"\(ours (0x[0-9a-f]+)\)", got[kind][1]).group(1)
        assert (f"[service] CHECK {kind} handle {handle} from partition 1: {pages} pages "
                f"({pages} announced) in {constituents} constituents, checksum {checksum}, "
                "0 bytes off the pattern, answer written, relinquish 0") in lines
    held = re.search(r"handle (0x[0-9a-f]+)", got["hold"][1]).group(1)
    assert f"[service] HOLD share handle {held} from partition 1: retrieve 0, 2 pages held" \
        in lines
    assert f"[service] RELEASE handle {held}: relinquish 0" in lines
    assert any(re.fullmatch(r"\[service\] RETRIEVE_AS handle 0x[0-9a-f]+ of partition 1 naming "
                            r"partition 1 as the receiver: -2", l) for l in lines)
    assert any(re.fullmatch(r"\[service\] QUIT from partition 1 after \d+ requests; told "
                            r"partition 3: 0", l) for l in lines)
    assert '[isolated] quit from partition 2; "bye" sent: 0' in lines
    assert any(re.fullmatch(r"\[service\] service: done \(0\), \d+ requests, nothing held", l)
               for l in lines)
    # Linux never reached the isolated partition
    assert not any(l.startswith("[isolated] unexpected") for l in lines)


def test_hostile_variants_are_refused_and_leave_nothing_behind(run):
    need(run, "the module unloaded")
    got = cases(run)
    assert got["hostile-lend-not-owned"] == (
        "PASS", "lend of a page at a physical address outside our RAM (DENIED): -13 "
        "(expected -13)")
    # the module's PASS for these means the exact FF-A error code (its
    # detail lines are longer than one console line, so only the verdict)
    for case in ("hostile-retrieve-by-owner", "hostile-retrieve-as-other",
                 "hostile-share-as-other"):
        assert got[case][0] == "PASS", (case, got[case])
    assert re.fullmatch(r"handle 0x[0-9a-f]+: reclaim while held -13 \(expected -13, DENIED\), "
                        r"service told to relinquish: 0/0, reclaim 0; pages freed",
                        got["unload-while-shared"][1])


def test_page_pool_back_at_its_boot_count(run):
    need(run, "the machine powered off")
    assert run.returncode == 0
    start = [l for l in run.lines if "pages free after building stage 2" in l]
    end = [l for l in run.lines if "pages free at power-off" in l]
    assert len(start) == 1 and len(end) == 1
    assert start[0].split("page pool: ")[1].split(" of")[0] == \
        end[0].split("page pool: ")[1].split(" of")[0]
    assert not any("unexpected exception" in l or "PANIC" in l or "unhandled trap" in l
                   for l in run.lines)


def test_product_image_is_built():
    image = os.path.join(BUILD, "products", SCENARIO, "bulkhead.img")
    assert os.path.exists(image), f"{image} is missing: make test builds it (linux-ffa-product)"
