"""Hostile partitions on QEMU: the fuzzer beside a victim and a checker
(scenario hostile built in the debug configuration, debug/hostile: the
short fixed-seed run of `make fuzz`, with the hypervisor's memory checker
after every FF-A memory call), no starving of
the memory-transaction table (scenario mem-starve), and an FFA_RUN that
must not be lost while its target waits for a direct response (scenario
run-wake)."""
import os
import re

import pytest

from conftest import ROOT, check_in_partition_case, declared_cases, product_image
from fuzz_hostile import parse, problems

POWER_OFF = "[bulkhead] all partitions are off; powering off"
TEST_SEED = 0x5eed      # tests/partitions/hostile/config.c
TEST_CALLS = 100_000
# the hostile scenario as make debug-scenarios builds it (mk/debug.mk)
HOSTILE = "debug/hostile"

# scenario -> {partition: (test partition directory, suites it runs)}
SCENARIOS = {
    HOSTILE: {"victim": ("hostile", ["victim"]),
              "checker": ("hostile", ["checker"])},
    "mem-starve": {"attacker": ("mem-starve", ["attacker"]),
                   "honest-a": ("mem-starve", ["honest"]),
                   "honest-b": ("mem-starve", ["honest"]),
                   "nogrant": ("mem-starve", ["nogrant"])},
    "run-wake": {"sleeper": ("run-wake", ["run"]),
                 "waker": ("run-wake", ["waker"])},
}


def _cases():
    for scenario, parts in SCENARIOS.items():
        for part, (directory, suites) in parts.items():
            for case in declared_cases(os.path.join(ROOT, "tests", "partitions",
                                                    directory)):
                if case.split(".")[0] not in suites:
                    continue
                name = f"{scenario}:{part}:{case}"
                yield pytest.param(scenario, part, case, id=name,
                                   marks=pytest.mark.scenario(scenario))


@pytest.mark.parametrize("scenario,partition,case", list(_cases()))
def test_hostile_in_partition(boots, scenario, partition, case):
    check_in_partition_case(boots.unchecked(scenario), scenario, partition, case)


@pytest.mark.scenario(HOSTILE)
def test_fuzz_run_passes(boots):
    """The fixed-seed run: no panic, the seed printed, at least 100,000
    calls without an anomaly, the victim's and the checker's verdicts, the
    page pool back at its boot count, the machine off."""
    b = boots(HOSTILE)
    assert b.returncode == 0
    assert problems(b.lines, TEST_SEED, TEST_CALLS) == []


def test_fuzz_run_image_has_the_memory_checker():
    """The image make test boots for the fuzz run carries the checker
    (core/ffa_mem.c, CONFIG_FFA_MEM_CHECKER: its panic messages are in the
    image only when it is built in), the release build's does not."""
    checker = b"memory checker: page %#lx of partition RAM has no owner"
    with open(product_image(HOSTILE), "rb") as f:
        assert checker in f.read()
    with open(product_image("hostile"), "rb") as f:
        assert checker not in f.read()


@pytest.mark.scenario(HOSTILE)
def test_fuzz_run_covers_every_kind_of_call(boots):
    """The summary tables: every family of calls was made, over both vCPUs,
    across resets, and the interesting paths succeeded at least once."""
    r = parse(boots(HOSTILE).lines)
    assert r.calls is not None and r.calls >= TEST_CALLS
    assert r.calls_vcpu1 > 0 and r.probes > 0
    assert r.boots >= 2  # it reset itself and went on
    for row in ("FFA_MEM_SHARE_64", "FFA_MEM_LEND_64", "FFA_MEM_DONATE_64",
                "FFA_MEM_RETRIEVE_REQ_64", "FFA_MEM_RELINQUISH",
                "FFA_MEM_RECLAIM", "FFA_MEM_FRAG_TX", "FFA_MEM_FRAG_RX",
                "FFA_MSG_SEND2", "FFA_MSG_SEND_DIRECT_REQ_64",
                "FFA_MSG_SEND_DIRECT_REQ2", "FFA_RXTX_MAP_64", "FFA_MSG_WAIT",
                "PSCI_CPU_ON", "PSCI_CPU_OFF", "PSCI_SYSTEM_RESET",
                "PSCI_SYSTEM_OFF"):
        assert row in r.table and r.table[row][1] > 0, row  # [total, OK, ...]
    for row in ("FFA (other IDs)", "PSCI (other IDs)", "HVC/SMC #imm != 0",
                "probe: MRS", "probe: MSR", "probe: SYS", "probe: MMIO load",
                "probe: MMIO store", "probe: console", "probe: GIC",
                "probe: execute"):
        assert row in r.table and r.table[row][0] > 0, row
    # its own GIC: accesses the hypervisor emulated, and ones it refused
    assert r.table["probe: GIC"][1] > 0 and r.table["probe: GIC"][3] > 0
    # everything the fuzzer executed outside its memory took an abort
    assert r.table["probe: execute"][0] == r.table["probe: execute"][4]


@pytest.mark.scenario(HOSTILE)
def test_fuzz_run_reports_its_rate_and_the_fuzzers_boots(boots):
    lines = boots(HOSTILE).lines
    r = parse(lines)
    assert r.seconds > 0 and r.rate == pytest.approx(r.calls / r.seconds, rel=0.01)
    assert (f"[bulkhead]   fuzzer           booted {r.boots} time(s),"
            in "\n".join(lines))
    assert any(l.startswith("[bulkhead]   victim           booted 1 time(s), 0 fault(s)")
               for l in lines)


@pytest.mark.scenario("mem-starve")
def test_mem_starve_honest_partitions_were_never_refused(boots):
    b = boots("mem-starve")
    assert b.returncode == 0 and POWER_OFF in b.lines
    assert not any("PANIC" in l or "unexpected exception" in l for l in b.lines)
    for name in ("honest-a", "honest-b"):
        assert any(re.fullmatch(rf"\[{name}\] honest: 200 sends, \d+ in fragments, none "
                                r"refused while the attacker tried [1-9]\d* times", l)
                   for l in b.lines), name
    assert any(re.fullmatch(r"\[nogrant\] nogrant: [1-9]\d* calls on guessed handles, "
                            r"all refused", l) for l in b.lines)
    start = [l for l in b.lines if "pages free after building stage 2" in l]
    end = [l for l in b.lines if "pages free at power-off" in l]
    assert len(start) == 1 and len(end) == 1
    assert start[0].split("page pool: ")[1].split(" of")[0] == \
        end[0].split("page pool: ")[1].split(" of")[0]


@pytest.mark.scenario("run-wake")
def test_run_wake_powers_off_cleanly(boots):
    """Whatever the verdict on the lost RUN, the scenario ends: the waker
    runs the sleeper a second time when the first RUN was lost."""
    b = boots("run-wake")
    assert b.returncode == 0 and POWER_OFF in b.lines
    assert not any("PANIC" in l for l in b.lines)
