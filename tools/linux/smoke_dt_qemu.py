#!/usr/bin/python3
"""Developer check of a Linux partition's generated device tree on plain
QEMU, without Bulkhead: the stock kernel at EL1 on two vCPUs, handed over
the way Bulkhead's loader does it, at the addresses the manifest compiler
chose for the partition (its memmap.json) and with the device tree it
generated (<partition>.dtb), IPA = PA. QEMU's own GICv3, timer, PL011 and
PSCI (over HVC) stand in for Bulkhead's emulation; a stub at 0x40100000
(outside the partition's RAM, so invisible to Linux) sets x0 = DTB,
x1..x3 = 0 and jumps to the kernel.

    tools/linux/smoke_dt_qemu.py --product-dir build/products/qemu-virt-linux

Checks the same as smoke_plain_qemu.py: modules, the disk mounted, both
CPUs online, timer and IPIs on both, reboot and poweroff.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys

from console import QemuConsole
from smoke_plain_qemu import Boot, SmokeError, build_stub, qemu_argv, session

STUB_ADDR = 0x40100000  # QEMU's own DTB is at 0x40000000: stay off that MiB
QEMU_RAM = (0x40000000, 1 << 30)  # -m 1G


def partition_boot(product_dir: str, images: str, name: str) -> tuple[dict, list]:
    """(the partition's memmap entry, [(file, address)] of its blobs)."""
    with open(os.path.join(product_dir, "memmap.json"), encoding="utf-8") as f:
        part = next((p for p in json.load(f)["partitions"] if p["name"] == name), None)
    if part is None:
        raise SmokeError(f"no partition {name!r} in {product_dir}/memmap.json")
    if part.get("kernel") is None:
        raise SmokeError(f"partition {name!r} boots an image, not a kernel")
    blobs = []
    for load in part["loads"]:
        where = product_dir if load["what"] == "device tree" else images
        path = os.path.join(where, load["name"])
        if os.path.getsize(path) != load["size"]:
            raise SmokeError(f"{path} is not the blob the manifest was compiled "
                             "with: run make again")
        blobs.append((path, load["ipa"]))
    for path, addr in blobs:
        end = addr + os.path.getsize(path)
        if not (QEMU_RAM[0] <= addr and end <= QEMU_RAM[0] + QEMU_RAM[1]) or \
                addr <= STUB_ADDR < end:
            raise SmokeError(f"{path} at {addr:#x} is not in QEMU's RAM, or "
                             "covers the stub")
    return part, blobs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--product-dir", required=True,
                    help="build/products/<product> (memmap.json, <partition>.dtb)")
    ap.add_argument("--images", default="build/images", help="the image directory")
    ap.add_argument("--partition", default="linux")
    ap.add_argument("--linux-dir", default="build/linux",
                    help="where make linux-payloads wrote (kernel.json, disk.img)")
    ap.add_argument("--qemu", default="qemu-system-aarch64")
    ap.add_argument("--cross-compile", default="aarch64-linux-gnu-")
    ap.add_argument("--timeout", type=float, default=180, help="seconds to wait for each boot")
    args = ap.parse_args(argv)
    work = os.path.join(os.path.abspath(args.linux_dir), "dt-smoke")
    try:
        part, blobs = partition_boot(args.product_dir, args.images, args.partition)
        os.makedirs(work, exist_ok=True)
        with open(os.path.join(args.linux_dir, "kernel.json")) as f:
            modules = [m["name"] for m in json.load(f)["modules"]]
        disk = os.path.join(work, "disk.img")
        shutil.copyfile(os.path.join(args.linux_dir, "disk.img"), disk)
        stub = build_stub(work, args.cross_compile, part["boot_arg"], part["entry"])
    except (SmokeError, OSError, ValueError, KeyError) as e:
        print(f"smoke-dt: error: {e}", file=sys.stderr)
        return 1
    for path, addr in blobs:
        print(f"  {addr:#x}  {os.path.getsize(path):#10x}  {path}")
    print(f"  entry {part['entry']:#x}, x0 = {part['boot_arg']:#x}")
    cmd = qemu_argv(args.qemu, Boot(stub, STUB_ADDR, blobs, "1G"), disk)
    print("QEMU: " + " ".join(cmd), flush=True)
    log = os.path.join(work, "console.log")
    if session(QemuConsole(cmd, log), modules, disk, args.timeout) != 0:
        print(f"console log: {log}", file=sys.stderr)
        return 1
    print(f"smoke-dt: PASS (console log {log})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
