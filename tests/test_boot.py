"""Boot tests on QEMU: the demo product and the test scenarios."""
import os
import re

import pytest

from conftest import ROOT, check_in_partition_case, declared_cases

POWER_OFF = "[bulkhead] all partitions are off; powering off"

# scenario -> {partition name: (test partition directory, suites it runs)}
SCENARIOS = {
    "psci": {"psci-test": ("psci-test", ["psci", "smccc", "calls", "smp"])},
    "isolation": {"prober": ("prober", ["isolation"]),
                  "victim": ("victim", ["victim"])},
    "lifecycle": {"resetter": ("lifecycle", ["resetter"]),
                  "observer": ("lifecycle", ["observer"])},
    "ffa-setup": {"client": ("ffa-test", ["version", "features", "id", "info",
                                          "rxtx", "console", "sched"]),
                  "v11": ("ffa-test", ["v11"]),
                  "v10": ("ffa-test", ["v10"])},
    "ffa-msg": {"tester": ("ffa-test", ["indirect", "direct"])},
    "ffa-mem": {"memowner": ("ffa-mem", ["mem"])},
    "ffa-compat": {"old": ("ffa-compat", ["compat"])},
    "ffa-stress": {name: ("ffa-stress", ["stress"]) for name in ("s1", "s2", "s3")},
    "shpool": {"poolowner": ("shpool-test", ["shpool"])},
    "traps": {"trapper": ("trapper", ["traps"])},
    "interrupts": {"irq-owner": ("irq-test", ["sgi", "timer", "priority",
                                              "ownership", "rtc"]),
                   "intruder": ("irq-test", ["intruder"])},
    "send2-race": {"racer": ("send2-race", ["race"])},
    "boot-order": {"early": ("boot-order", ["bootorder"])},
    "notify": {"nrecv": ("notify-test", ["receiver"]),
               "nsend": ("notify-test", ["notify"]),
               "nsched": ("notify-test", ["interrupt"])},
    # again with the memory checker (configs/qemu_virt_debug_defconfig)
    "debug/ffa-mem": {"memowner": ("ffa-mem", ["mem"])},
    "ffa-mem-stress": {"ms1": ("ffa-mem-stress", ["memstress", "memstress_final"]),
                       "ms2": ("ffa-mem-stress", ["memstress"]),
                       "ms3": ("ffa-mem-stress", ["memstress"])},
}


def _in_partition_cases():
    for scenario, parts in SCENARIOS.items():
        for part, (directory, suites) in parts.items():
            for case in declared_cases(os.path.join(ROOT, "tests", "partitions",
                                                    directory)):
                if case.split(".")[0] in suites:
                    yield pytest.param(scenario, part, case,
                                       id=f"{scenario}:{part}:{case}",
                                       marks=pytest.mark.scenario(scenario))


@pytest.mark.parametrize("scenario,partition,case", list(_in_partition_cases()))
def test_in_partition(boots, scenario, partition, case):
    # a case that reported before QEMU had to be killed keeps its verdict
    check_in_partition_case(boots.unchecked(scenario), scenario, partition, case)


@pytest.mark.parametrize("scenario", [
    pytest.param(s, marks=pytest.mark.scenario(s)) for s in sorted(SCENARIOS) + ["console"]])
def test_scenario_powers_off_cleanly(boots, scenario):
    b = boots(scenario)
    assert b.returncode == 0
    assert POWER_OFF in b.lines
    assert not any("unexpected exception" in l or "PANIC" in l for l in b.lines)


@pytest.mark.scenario("qemu-virt-demo")
def test_demo_banner_table_and_partitions(boots):
    b = boots("qemu-virt-demo")
    out = b.lines
    assert b.returncode == 0
    assert any(re.match(r"\[bulkhead\] Bulkhead \d+\.\d+\.\d+: qemu-virt-demo on "
                        r"qemu-virt, 4 CPUs$", l) for l in out)
    assert any(re.match(r"\[bulkhead\] manifest [0-9a-f]{16} \(table ABI 5\), "
                        r"3 partitions", l) for l in out)
    for row in (r"1\s+control\s+2\s+0,1\s+0x41000000-0x42000000",
                r"2\s+sensor\s+1\s+2\s+0x42000000-0x42800000",
                r"3\s+logger\s+1\s+3\s+0x42800000-0x43000000"):
        assert any(re.search(row, l) for l in out), row
    assert ("[control] hello from control: partition 1, vCPU 0 of 2 on physical "
            "CPU 0, memory 0x41000000-0x42000000 (boot vCPU)") in out
    assert ("[control] hello from control: partition 1, vCPU 1 of 2 on physical "
            "CPU 1, memory 0x41000000-0x42000000 (secondary vCPU, started with "
            "CPU_ON)") in out
    assert "[control] vCPU 1 is off again (AFFINITY_INFO)" in out
    assert any(l.startswith("[logger] hello from logger: partition 3, vCPU 0 of 1 "
                            "on physical CPU 3") for l in out)
    assert any(l.startswith("[sensor] data abort: ESR_EL1 0x96000010 (EC 0x25, "
                            "FSC 0x10) FAR_EL1 0x42800000") for l in out)
    assert out.index(POWER_OFF) > out.index("[bulkhead] partition logger is off")
    assert "[bulkhead]   sensor           booted 1 time(s), 1 fault(s) injected" in out


@pytest.mark.scenario("lifecycle")
def test_system_off_of_one_partition_leaves_others_running(boots):
    out = boots("lifecycle").lines
    off = out.index("[bulkhead] partition quitter is off")
    later = [l for l in out[off:] if l.startswith(("[observer]", "[resetter]"))]
    assert any("TEST-RESULT" in l for l in later), "others stopped with quitter"


@pytest.mark.scenario("lifecycle")
def test_system_reset_restarts_only_that_partition(boots):
    out = boots("lifecycle").lines
    assert "[resetter] resetter: first boot, SYSTEM_RESET" in out
    assert "[bulkhead] partition resetter: restarting" in out
    assert out.count("[resetter] resetter: second boot") == 1
    assert "[bulkhead]   resetter         booted 2 time(s), 0 fault(s) injected" in out
    assert "[bulkhead]   observer         booted 1 time(s), 0 fault(s) injected" in out


@pytest.mark.scenario("isolation")
def test_isolation_faults_counted_and_victim_unaffected(boots):
    out = boots("isolation").lines
    assert "[bulkhead]   prober           booted 1 time(s), 8 fault(s) injected" in out
    assert "[bulkhead]   victim           booted 1 time(s), 0 fault(s) injected" in out


@pytest.mark.scenario("console")
def test_console_lines_from_four_cpus_are_never_torn(boots):
    b = boots("console")
    line_re = re.compile(r"^\[(chatter|talker|listener)\] LINE \1\.(\d) (\d+) "
                         r"abcdefghijklmnopqrstuvwxyz0123456789$")
    seen: dict[tuple[str, str], list[int]] = {}
    for l in b.lines:
        if "LINE" in l:
            m = line_re.match(l)
            assert m, f"torn or mixed console line: {l!r}"
            seen.setdefault((m.group(1), m.group(2)), []).append(int(m.group(3)))
    assert sorted(seen) == [("chatter", "0"), ("chatter", "1"), ("listener", "0"),
                            ("talker", "0")]
    for key, seqs in seen.items():
        assert seqs == list(range(100)), key


@pytest.mark.scenario("console")
def test_console_input_goes_to_the_named_partition_only(boots):
    b = boots("console")
    assert "[listener] listener got: ping" in b.lines
    assert "[chatter] input seen here: -1" in b.lines
    assert "[talker] input seen here: -1" in b.lines


@pytest.mark.scenario("console")
def test_console_shows_control_bytes_escaped_and_forgeries_stay_in_their_line(boots):
    b = boots("console")
    for name in ("chatter", "talker"):
        assert (f"[{name}] forged\\x0b[listener] TEST-RESULT forged.case "
                "PASS\\x1b[2J\\x07\\xff end") in b.lines
    assert "listener:forged.case" not in b.results()
    # nothing but printable ASCII, tab, CR and LF reaches the terminal
    assert not re.search(r"[^\t\r\n\x20-\x7e]", b.output), \
        [c for c in b.output if not (c in "\t\r\n" or " " <= c <= "~")][:8]


@pytest.mark.scenario("ffa-setup")
def test_ffa_console_log_reaches_the_partition_console(boots):
    out = boots("ffa-setup").lines
    assert "[client] FFA-32 hello over FFA_CONSOLE_LOG" in out


@pytest.mark.scenario("ffa-msg")
def test_ffa_services_stop_and_machine_powers_off(boots):
    b = boots("ffa-msg")
    assert b.returncode == 0
    assert any(re.fullmatch(r"\[echo\] echo: stopping after \d+ requests, 0 anomalies", l)
               for l in b.lines)
    for name in ("tester", "echo", "relay", "bystander"):
        assert f"[bulkhead] partition {name} is off" in b.lines


@pytest.mark.scenario("boot-order")
def test_boot_order_holds_a_later_partition_until_the_earlier_is_ready(boots):
    out = boots("boot-order").lines
    assert "[slow] slow: ready after 500 ms, late started: 0" in out
    assert "[late] late: started, slow ready: 1" in out
    assert out.index("[late] late: started, slow ready: 1") > out.index(
        "[slow] slow: ready after 500 ms, late started: 0")


@pytest.mark.scenario("boot-order")
def test_boot_order_gives_up_on_one_never_ready_with_a_warning(boots):
    out = boots("boot-order").lines
    warning = ("[bulkhead] partition never not ready after 300 ms: the boot "
               "order goes on without it")
    assert out.count(warning) == 1, [l for l in out if "not ready" in l]
    # late (boot-order 3) waits for never (2) until then, and starts after
    assert (out.index("[slow] slow: ready after 500 ms, late started: 0")
            < out.index(warning)
            < out.index("[late] late: started, slow ready: 1")
            < out.index("[late] late: message from 1: hello late"))


@pytest.mark.scenario("notify")
def test_notify_receiver_never_polled_and_got_each_once(boots):
    out = boots("notify").lines
    assert any(re.fullmatch(r"\[nrecv\] nrecv: 100000 notifications, 2 RX full, "
                            r"\d+ empty GETs, \d+ interrupts on vCPU 0", l)
               for l in out), [l for l in out if l.startswith("[nrecv]")]


@pytest.mark.scenario("ffa-stress")
def test_ffa_stress_every_pair_exchanged_everything(boots):
    out = boots("ffa-stress").lines
    for me, others in (("s1", (2, 3)), ("s2", (1, 3)), ("s3", (1, 2))):
        for other in others:
            assert any(re.match(rf"\[{me}\] with {other}: 10000 indirect and 10000 "
                                r"direct messages each way", l) for l in out), (me, other)


@pytest.mark.scenario("qemu-virt-demo")
def test_demo_discovery_and_messaging_across_cpus(boots):
    out = boots("qemu-virt-demo").lines
    assert "[control] PARTITION_INFO_GET: 3 partitions" in out
    assert ("[control]   partition 3: 1 vCPU(s), uuid a3e1c2d4-7f60-4b9a-8c5d-"
            "1e2f3a4b5c6d, properties 0x305 (receives direct, indirect)") in out
    assert "[sensor] found the logger by UUID: partition 3" in out
    for i, reading in enumerate(("21.7", "22.4", "23.1"), 1):
        assert any(re.fullmatch(rf'\[logger\] indirect message \d from partition 2: '
                                rf'"reading {i}: {reading} C"', l) for l in out)
    assert ('[logger] indirect message 1 from partition 1: "hello logger, this is '
            'control"') in out or any(
        l.endswith('from partition 1: "hello logger, this is control"') for l in out)
    assert any(re.fullmatch(r"\[control\] direct response from partition 3: 4 "
                            r"messages logged \(request \d+\)", l) for l in out)
    assert "[logger] quit from partition 1 after 4 messages" in out


@pytest.mark.scenario("ffa-mem")
def test_ffa_mem_page_pool_back_at_start(boots):
    """Every transaction of the ffa-mem scenario ends reclaimed or donated
    home again: split tables must have merged back into the pool."""
    out = boots("ffa-mem").lines
    start = [l for l in out if "pages free after building stage 2" in l]
    end = [l for l in out if "pages free at power-off" in l]
    assert start and end
    assert start[0].split("page pool: ")[1].split(" of")[0] == \
        end[0].split("page pool: ")[1].split(" of")[0]


@pytest.mark.scenario("qemu-virt-demo")
def test_demo_memory_lend_share_ring_and_refusal(boots):
    out = boots("qemu-virt-demo").lines
    assert any(re.fullmatch(r"\[control\] MEM_LEND of page 0x[0-9a-f]+ to partition 3: "
                            r"0, handle 0x8[0-9a-f]{15}", l) for l in out)
    assert ('[control] reclaimed the lent page (0): "filled in by logger on CPU 3"'
            in out)
    for who in ("sensor", "logger"):
        assert any(re.fullmatch(rf'\[{who}\] shared page 0x[0-9a-f]+ says "hello from '
                                r'control, shared read-only"', l) for l in out), who
    assert "[control] both relinquished (0, 0); MEM_RECLAIM: 0" in out
    assert ("[control] MEM_DONATE to partition 3: -6 (DENIED: not in the manifest's "
            "grants)") in out
    assert "[logger] ring in static shared memory holds 3 readings:" in out
    assert '[logger]   ring[2] = "reading 3: 23.1 C"' in out


@pytest.mark.scenario("shpool")
def test_shpool_refusal_names_the_handle(boots):
    out = boots("shpool").lines
    expected = [m.group(1) for l in out
                if (m := re.match(r"\[poolowner\] expected refusal of handle (0x[0-9a-f]+)$", l))]
    assert len(expected) == 1
    assert (f"[poolowner] shpool: peer 3 kept handle {expected[0]} (error -6); "
            "it stays shared") in out


@pytest.mark.scenario("shpool")
def test_shpool_handover_unshares_first(boots):
    out = boots("shpool").lines
    assert "[poolowner] handing over with 1 block(s) shared" in out
    m = [re.match(r"\[poolowner\] next stage: old buffer (0x[0-9a-f]+) in the peer: "
                  r"(\w+(?: \w+)?) \(FAR (0x[0-9a-f]+)\)$", l) for l in out]
    m = [x for x in m if x]
    assert len(m) == 1
    assert m[0].group(2) == "faults"
    assert m[0].group(1) == m[0].group(3)


@pytest.mark.parametrize("product,backend,transactions", [
    pytest.param("qemu-virt-blockdev", "dynamic", 1,
                 marks=pytest.mark.scenario("qemu-virt-blockdev")),
    pytest.param("qemu-virt-blockdev-static", "static", 0,
                 marks=pytest.mark.scenario("qemu-virt-blockdev-static")),
])
def test_block_device_demo(boots, product, backend, transactions):
    b = boots(product)
    out = b.lines
    assert b.returncode == 0 and POWER_OFF in out
    assert (f"[blk-client] block client: 400 requests (0 wrong), {transactions} "
            f"memory transaction(s) made by the {backend} pool") in out
    assert "[blk-client] block client: next stage running" in out
    assert "[blk-server] block server: 400 requests served, 0 shared block(s) still held" in out
    probe = [l for l in out if l.startswith("[blk-server] block server: old buffer")]
    assert len(probe) == 1
    # dynamic: unshared before the hand-over, so the old buffer faults;
    # static: the manifest's region stays shared
    assert probe[0].endswith("now faults" if backend == "dynamic" else "is still mapped")


def test_trapped_instructions_are_logged_a_few_times_only(boots):
    """21 trapped instructions: 8 lines, then one saying the rest are not
    logged (a partition cannot keep the shared console busy)."""
    lines = boots("traps").lines
    logged = [l for l in lines if l.startswith(
        "[bulkhead] partition trapper vcpu 0: trapped instruction (ESR 0x62200401)")]
    assert len(logged) == 8, "\n".join(logged)
    assert lines.count(
        "[bulkhead] partition trapper: further faults and traps not logged") == 1
    assert "[bulkhead]   trapper          booted 2 time(s), 21 fault(s) injected" in lines
