#!/usr/bin/python3
"""Developer check of the Linux payloads on plain QEMU, without Bulkhead:
the stock kernel at EL1 on two vCPUs (QEMU's GICv3, timer, PL011, PSCI),
handed over the way Bulkhead's loader will do it: a stub sets x0 = DTB and
jumps to the Image; -device loader places stub, Image, DTB and initramfs.
A virtio-mmio block device carries a copy of disk.img.

Checks: the modules load in order, the disk mounts, /hello.txt reads back,
nproc = 2, arch_timer and IPI counts grow on both vCPUs across `sleep 1`,
a file written in Linux survives `reboot` (and the kernel boots again) and
is in the disk image after `poweroff`. Prints boot times and sizes.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass

from console import ConsoleError, QemuConsole
from disk import HELLO_PATH, HELLO_TEXT, DiskError, cat

STUB_ADDR = 0x40100000  # QEMU puts its own DTB at 0x40000000: stay off that MiB
KERNEL_ADDR = 0x40200000  # 2 MiB aligned, text_offset 0
DTB_ADDR = 0x43E00000  # after image_size (0x2010000), own 2 MiB block
INITRD_ADDR = 0x44000000
RAM_END = 0x48000000  # -m 128M
PROMPT = "linux# "
WRITTEN_PATH = "/from-linux.txt"
WRITTEN_TEXT = "written in linux"


class SmokeError(Exception):
    """A failed check or a missing input."""


@dataclass
class Interrupts:
    """Per-CPU counts of the arch_timer line and of all IPIs."""
    timer: list[int]
    ipi: list[int]


def parse_interrupts(text: str) -> Interrupts:
    lines = [l for l in text.splitlines() if l.strip()]
    header = next((l for l in lines if l.split() and l.split()[0] == "CPU0"), None)
    if header is None:
        raise SmokeError(f"no CPU header in /proc/interrupts:\n{text}")
    ncpu = len(header.split())
    timer, ipi = [0] * ncpu, [0] * ncpu
    for line in lines:
        words = line.split()
        if not words[0].endswith(":") or len(words) < ncpu + 1:
            continue
        try:
            counts = [int(w) for w in words[1:ncpu + 1]]
        except ValueError:
            continue
        if words[-1] == "arch_timer":
            timer = [a + b for a, b in zip(timer, counts)]
        elif words[0].startswith("IPI"):
            ipi = [a + b for a, b in zip(ipi, counts)]
    return Interrupts(timer, ipi)


def run_tool(args: list[str]) -> None:
    res = subprocess.run(args, capture_output=True, text=True)
    if res.returncode != 0:
        raise SmokeError(f"{' '.join(args)}: {res.stderr.strip()}")


def build_stub(work: str, cross: str, dtb_addr: int = DTB_ADDR,
               kernel_addr: int = KERNEL_ADDR) -> str:
    src, obj, out = (os.path.join(work, n) for n in ("stub.S", "stub.o", "stub.bin"))
    with open(src, "w") as f:
        f.write(f"""// Boot hand-over of booting.rst: x0 = DTB, x1-x3 = 0, jump to the Image.
	ldr	x0, dtb
	mov	x1, xzr
	mov	x2, xzr
	mov	x3, xzr
	ldr	x4, kernel
	br	x4
	.balign 8
dtb:	.quad {dtb_addr:#x}
kernel:	.quad {kernel_addr:#x}
""")
    run_tool([cross + "as", "-o", obj, src])
    run_tool([cross + "objcopy", "-O", "binary", obj, out])
    return out


def build_dtb(work: str, dts: str, initrd_size: int) -> str:
    out = os.path.join(work, "guest.dtb")
    run_tool(["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", out, dts])
    run_tool(["fdtput", "-t", "x", out, "/chosen", "linux,initrd-start", "0", f"{INITRD_ADDR:#x}"])
    run_tool(["fdtput", "-t", "x", out, "/chosen", "linux,initrd-end", "0",
              f"{INITRD_ADDR + initrd_size:#x}"])
    return out


@dataclass
class Boot:
    """What -device loader puts where: the stub (where the CPU starts) and
    the blobs (file, address)."""
    stub: str
    stub_addr: int
    blobs: list[tuple[str, int]]
    memory: str  # QEMU's -m


def qemu_argv(qemu: str, boot: Boot, disk: str) -> list[str]:
    argv = [qemu, "-M", "virt,gic-version=3", "-cpu", "max", "-smp", "2", "-m", boot.memory,
            "-nographic", "-nic", "none",
            "-device", f"loader,file={boot.stub},addr={boot.stub_addr:#x},force-raw=on"]
    for path, addr in boot.blobs:
        argv += ["-device", f"loader,file={path},addr={addr:#x},force-raw=on"]
    return argv + [
        "-device", f"loader,addr={boot.stub_addr:#x},cpu-num=0",
        "-global", "virtio-mmio.force-legacy=false",
        "-drive", f"if=none,file={disk},format=raw,id=vd0",
        # The first virtio-mmio transport (0x0a000000, SPI 16): without
        # bus=, QEMU gives the first device the last one (0x0a003e00).
        "-device", "virtio-blk-device,drive=vd0,bus=virtio-mmio-bus.0"]


class Smoke:
    def __init__(self, console: QemuConsole, modules: list[str]) -> None:
        self.console = console
        self.modules = modules
        self.results: list[str] = []

    def check(self, ok: bool, what: str) -> None:
        self.results.append(("ok    " if ok else "FAILED") + " " + what)
        print(self.results[-1], flush=True)
        if not ok:
            raise SmokeError(what)

    def boot(self, timeout: float) -> tuple[float, float]:
        """Waits for the marker; (wall seconds since `since`, uptime)."""
        start = self.console.pos
        m = self.console.expect(re.compile(r"BULKHEAD-LINUX-READY uptime=([0-9.]+) cpus=(\d+) kernel=(\S+)"),
                                timeout)
        wall = time.monotonic()
        text = self.console.output[start:m.start()]
        loaded = re.findall(r"^BULKHEAD-LINUX-MODULE (\S+) (\S+)$", text, re.M)
        self.check(loaded == [(n, "ok") for n in self.modules],
                   f"modules loaded in order: {' '.join(n for n, _ in loaded)} ({loaded})")
        disk = re.search(r"^BULKHEAD-LINUX-DISK /dev/vda /mnt (\S+)$", text, re.M)
        self.check(disk is not None and disk.group(1) == "ok", "/dev/vda mounted on /mnt")
        self.check(m.group(2) == "2", f"marker says cpus={m.group(2)}")
        self.console.expect(PROMPT, 30)
        return wall, float(m.group(1))

    def run(self, line: str, expect_status: int = 0) -> str:
        out, status = self.console.command(line, PROMPT)
        self.check(status == expect_status, f"`{line}` exits {status}")
        return out

    def interrupts(self) -> Interrupts:
        return parse_interrupts(self.run("cat /proc/interrupts"))


def session(console: QemuConsole, modules: list[str], disk: str, timeout: float) -> int:
    """The checks of one QEMU run (boot, disk, CPUs, timer and IPIs,
    reboot, poweroff, the disk image afterwards); 0 when all pass."""
    s = Smoke(console, modules)
    try:
        wall1, up1 = s.boot(timeout)
        wall1 -= console.started
        hello = s.run(f"cat /mnt{HELLO_PATH}")
        s.check(hello == HELLO_TEXT, f"/mnt{HELLO_PATH} reads {hello!r}")
        nproc = s.run("nproc").strip()
        s.check(nproc == "2", f"nproc = {nproc}")
        online = s.run("cat /sys/devices/system/cpu/online").strip()
        s.check(online == "0-1", f"online CPUs {online}")
        before = s.interrupts()
        s.run("sleep 1")
        after = s.interrupts()
        s.check(len(after.timer) == 2 and all(a > b for a, b in zip(after.timer, before.timer)),
                f"arch_timer counts grow on both vCPUs across sleep 1: {before.timer} -> {after.timer}")
        s.check(len(after.ipi) == 2 and all(a > b for a, b in zip(after.ipi, before.ipi)),
                f"IPI counts grow on both vCPUs: {before.ipi} -> {after.ipi}")
        s.run(f"echo {WRITTEN_TEXT} >/mnt{WRITTEN_PATH}")
        t_reboot = time.monotonic()
        console.send("reboot\n")
        console.expect("BULKHEAD-LINUX-SHUTDOWN", 30)
        wall2, up2 = s.boot(timeout)
        wall2 -= t_reboot
        again = s.run(f"cat /mnt{WRITTEN_PATH}")
        s.check(again == WRITTEN_TEXT + "\n", f"after reboot /mnt{WRITTEN_PATH} reads {again!r}")
        console.send("poweroff\n")
        console.expect("BULKHEAD-LINUX-SHUTDOWN", 30)
        status = console.wait_exit(60)
        s.check(status == 0, f"poweroff ends QEMU with status {status}")
    except ConsoleError as e:
        s.results.append(f"FAILED {e}")
        print(s.results[-1], file=sys.stderr)
        return 1
    except SmokeError:
        return 1
    finally:
        console.close()
    try:
        on_disk = cat(disk, WRITTEN_PATH).decode(errors="replace")
        s.check(on_disk == WRITTEN_TEXT + "\n", f"host reads {WRITTEN_PATH} = {on_disk!r} from the image")
        s.check(cat(disk, HELLO_PATH).decode() == HELLO_TEXT, f"{HELLO_PATH} unchanged in the image")
    except (DiskError, SmokeError) as e:
        print(f"FAILED {e}", file=sys.stderr)
        return 1
    print(f"boot 1: marker after {wall1:.1f} s wall (QEMU start), uptime {up1:.2f} s")
    print(f"boot 2 (reboot): marker after {wall2:.1f} s wall (reboot typed), uptime {up2:.2f} s")
    return 0


def smoke(args: argparse.Namespace) -> int:
    linux = os.path.abspath(args.linux_dir)
    work = os.path.join(linux, "smoke")
    os.makedirs(work, exist_ok=True)
    with open(os.path.join(linux, "kernel.json")) as f:
        kernel = json.load(f)
    modules = [m["name"] for m in kernel["modules"]]
    image, initrd = os.path.join(linux, "Image"), os.path.join(linux, "initramfs.cpio.gz")
    disk = os.path.join(work, "disk.img")
    shutil.copyfile(os.path.join(linux, "disk.img"), disk)
    stub = build_stub(work, args.cross_compile)
    dtb = build_dtb(work, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                       "smoke-plain-qemu.dts"), os.path.getsize(initrd))
    if INITRD_ADDR + os.path.getsize(initrd) > RAM_END:
        raise SmokeError("initramfs does not fit below the end of RAM")
    argv = qemu_argv(args.qemu, Boot(stub, STUB_ADDR, [(image, KERNEL_ADDR), (dtb, DTB_ADDR),
                                                        (initrd, INITRD_ADDR)], "128M"), disk)
    print("QEMU: " + " ".join(argv), flush=True)
    console = QemuConsole(argv, os.path.join(work, "console.log"))
    if session(console, modules, disk, args.timeout) != 0:
        print("console log: " + os.path.join(work, "console.log"), file=sys.stderr)
        return 1
    print(f"sizes: Image {os.path.getsize(image)} bytes, initramfs {os.path.getsize(initrd)} bytes, "
          f"disk {os.path.getsize(disk)} bytes")
    print(f"kernel {kernel['kernel']['package']} {kernel['kernel']['version']}, "
          f"busybox-static {kernel['busybox']['version']}; console log {work}/console.log")
    print("smoke: PASS")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--linux-dir", default="build/linux", help="where make linux-payloads wrote")
    ap.add_argument("--qemu", default="qemu-system-aarch64")
    ap.add_argument("--cross-compile", default="aarch64-linux-gnu-")
    ap.add_argument("--timeout", type=float, default=180, help="seconds to wait for each boot")
    args = ap.parse_args(argv)
    for name in ("Image", "initramfs.cpio.gz", "disk.img", "kernel.json"):
        if not os.path.isfile(os.path.join(args.linux_dir, name)):
            print(f"smoke: {args.linux_dir}/{name} missing: run 'make linux-payloads' first",
                  file=sys.stderr)
            return 2
    try:
        return smoke(args)
    except (SmokeError, OSError, ValueError, KeyError) as e:
        print(f"smoke: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
