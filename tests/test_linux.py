"""Debian's stock arm64 kernel as a Bulkhead partition (manifests/
qemu-virt-linux.dts), beside the two bare-metal FF-A peers: one QEMU run
drives the shell on the console and records what it sees (boot, CPUs,
timer and IPI counts, the pass-through virtio disk, console input,
/dev/mem probes of memory that is not Linux's, reboot, poweroff); each
test below checks one of those facts. Needs `make linux-payloads` (the
`test` recipe builds the product)."""
from __future__ import annotations

import os
import re
import shutil
import sys
from dataclasses import dataclass, field

import pytest

from conftest import BUILD, QEMU, ROOT

sys.path.insert(0, os.path.join(ROOT, "tools", "linux"))
from console import ConsoleError, QemuConsole  # noqa: E402
from disk import HELLO_PATH, HELLO_TEXT, cat  # noqa: E402

PRODUCT = os.path.join(BUILD, "products", "qemu-virt-linux", "bulkhead.img")
DISK = os.path.join(BUILD, "linux", "disk.img")
PROMPT = "linux# "
BOOT_TIMEOUT = 600  # the stock kernel under TCG on a loaded 2-core machine
WRITTEN_PATH = "/from-linux.txt"
WRITTEN_TEXT = "written in linux"
SENSOR_RAM = 0x43000000
HYPERVISOR_RAM = 0x40200000
READY_RE = re.compile(r"(?m)^\[linux\] BULKHEAD-LINUX-READY uptime=([0-9.]+) cpus=(\d+) kernel=(\S+)$")
PEER_LINES = [f'[logger] message {n} from partition 2: "reading {n}: {t} C"'
              for n, t in ((1, "21.3"), (2, "22.6"), (3, "23.9"))] + [
    "[logger] direct request from partition 2: 3 message(s) logged",
    "[sensor] the logger has logged 3 message(s)",
]


class LinuxShell:
    """The shell of the `linux` partition on Bulkhead's console, where
    every line the partition writes starts with "[linux] "."""

    def __init__(self, console: QemuConsole) -> None:
        self.console = console
        self.count = 0

    def ready(self) -> re.Match:
        m = self.console.expect(READY_RE, BOOT_TIMEOUT)
        self.console.expect(PROMPT, 60)
        return m

    def run(self, line: str, timeout: float = 60) -> tuple[str, int]:
        """Types `line`; its output (prefixes removed) and exit status.
        The end marker is split in the typed text, so its echo never
        matches."""
        self.count += 1
        self.console.send(f'{line}; echo "__END_""{self.count}__ $?"\n')
        start = self.console.pos
        m = self.console.expect(re.compile(rf"(?m)^\[linux\] __END_{self.count}__ (\d+)$"), timeout)
        text = self.console.output[start:m.start()]
        lines = [ln[len("[linux] "):] for ln in text.splitlines() if ln.startswith("[linux] ")]
        self.console.expect(PROMPT, timeout)
        # the echo of what was typed ends at the marker's text; typed
        # slowly, it may come in several console lines
        typed_end = f'"__END_""{self.count}__ $?"'
        echo_end = next((i for i, ln in enumerate(lines) if ln.endswith(typed_end)), 0)
        return "\n".join(lines[echo_end + 1:]), int(m.group(1))


def interrupt_counts(text: str, name: str) -> list[int]:
    """Per-CPU counts of the /proc/interrupts row whose last words are
    `name` (arch_timer, or an IPI description)."""
    for line in text.splitlines():
        if line.rstrip().endswith(name):
            return [int(x) for x in line.split()[1:3]]
    return []


@dataclass
class Session:
    output: str = ""
    ready: list[re.Match] = field(default_factory=list)
    results: dict[str, tuple[str, int]] = field(default_factory=dict)
    exit_status: int | None = None
    disk_after: dict[str, bytes | None] = field(default_factory=dict)
    failure: str | None = None


def run_session(tmp: str) -> Session:
    disk = os.path.join(tmp, "disk.img")
    shutil.copyfile(DISK, disk)
    argv = QEMU + ["-kernel", PRODUCT, "-drive", f"if=none,file={disk},format=raw,id=vd0",
                   "-device", "virtio-blk-device,drive=vd0,bus=virtio-mmio-bus.0"]
    console = QemuConsole(argv, os.path.join(tmp, "console.log"))
    shell = LinuxShell(console)
    s = Session()
    steps = [
        ("hello", f"cat /mnt{HELLO_PATH}"),
        ("nproc", "nproc"),
        ("online", "cat /sys/devices/system/cpu/online"),
        ("irq_before", "cat /proc/interrupts"),
        ("sleep", "sleep 1"),
        ("irq_after", "cat /proc/interrupts"),
        ("typed", "echo typed-$((6 * 7))"),
        ("devmem_peer", f"devmem {SENSOR_RAM:#x} 32"),
        ("devmem_hyp", f"devmem {HYPERVISOR_RAM:#x} 32"),
        ("alive", "echo alive"),
        ("write", f"echo {WRITTEN_TEXT} >/mnt{WRITTEN_PATH} && sync"),
    ]
    try:
        s.ready.append(shell.ready())
        for name, line in steps:
            s.results[name] = shell.run(line)
        console.send("reboot\n")
        console.expect("[bulkhead] partition linux: SYSTEM_RESET", 120)
        s.ready.append(shell.ready())
        s.results["after_reboot"] = shell.run(f"cat /mnt{WRITTEN_PATH}")
        console.send("poweroff\n")
        s.exit_status = console.wait_exit(120)
    except ConsoleError as e:
        s.failure = str(e)
    finally:
        console.close()
        s.output = console.output
    for path in (HELLO_PATH, WRITTEN_PATH):
        try:
            s.disk_after[path] = cat(disk, path)
        except Exception:  # noqa: BLE001 - recorded, asserted below
            s.disk_after[path] = None
    return s


@pytest.fixture(scope="module")
def linux(tmp_path_factory) -> Session:
    for path in (PRODUCT, DISK):
        if not os.path.exists(path):
            pytest.fail(f"{path} missing: run 'make test' (it builds the Linux product)")
    return run_session(str(tmp_path_factory.mktemp("linux")))


def result(s: Session, name: str) -> tuple[str, int]:
    assert name in s.results, f"the session stopped before {name!r}: {s.failure}"
    return s.results[name]


def test_stock_kernel_reaches_the_shell_on_two_vcpus(linux):
    assert linux.ready, linux.failure
    assert linux.ready[0].group(2) == "2"
    assert "[linux] BULKHEAD-LINUX-DISK /dev/vda /mnt ok" in linux.output.splitlines()
    assert result(linux, "nproc") == ("2", 0)
    assert result(linux, "online") == ("0-1", 0)


def test_sleep_returns_and_timer_and_ipi_counts_grow_on_both_vcpus(linux):
    assert result(linux, "sleep") == ("", 0)
    before, after = result(linux, "irq_before")[0], result(linux, "irq_after")[0]
    for row in ("arch_timer", "Rescheduling interrupts", "Function call interrupts"):
        b, a = interrupt_counts(before, row), interrupt_counts(after, row)
        assert len(b) == len(a) == 2, (row, before)
        if row == "arch_timer":
            assert all(x > y for x, y in zip(a, b)), (row, b, a)
        else:
            assert sum(a) > sum(b) or all(x > 0 for x in a), (row, b, a)


def test_the_passed_through_disk_mounts_and_keeps_what_linux_wrote(linux):
    assert result(linux, "hello") == (HELLO_TEXT.rstrip("\n"), 0)
    assert result(linux, "write")[1] == 0
    assert linux.disk_after[WRITTEN_PATH] == (WRITTEN_TEXT + "\n").encode()
    assert linux.disk_after[HELLO_PATH] == HELLO_TEXT.encode()


def test_console_input_reaches_linux_and_nobody_else(linux):
    assert result(linux, "typed") == ("typed-42", 0)
    others = [ln for ln in linux.output.splitlines()
              if "typed-" in ln and not ln.startswith("[linux] ")]
    assert others == []


def test_dev_mem_of_memory_not_its_own_is_a_bus_error_and_the_kernel_lives(linux):
    for name in ("devmem_peer", "devmem_hyp"):
        out, status = result(linux, name)
        # the abort Linux reports: SIGBUS kills devmem (the shell's
        # status is 128 + 7, or 1 when busybox ran it as a builtin)
        assert out == "Bus error" and status in (1, 128 + 7), (name, out, status)
    assert result(linux, "alive") == ("alive", 0)
    # the bare-metal peers' exchange is whole
    lines = linux.output.splitlines()
    for line in PEER_LINES:
        assert line in lines


def test_reboot_restarts_only_linux_from_a_fresh_kernel_copy(linux):
    assert len(linux.ready) == 2, linux.failure
    assert result(linux, "after_reboot") == (WRITTEN_TEXT, 0)
    lines = linux.output.splitlines()
    assert lines.count("[bulkhead] partition linux: SYSTEM_RESET") == 1
    assert sum(1 for ln in lines if ln.startswith("[linux] ")
               and "Booting Linux on physical CPU 0x0" in ln) == 2
    assert "[bulkhead]   linux            booted 2 time(s), 2 fault(s) injected" in lines
    assert "[bulkhead]   sensor           booted 1 time(s), 0 fault(s) injected" in lines


def test_poweroff_ends_linux_and_the_machine_when_it_was_the_last(linux):
    assert linux.exit_status == 0, linux.failure
    lines = linux.output.splitlines()
    assert "[bulkhead] partition linux is off" in lines
