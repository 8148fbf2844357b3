#!/usr/bin/env python3
"""linux_boot: the stock Debian kernel's boot as a Bulkhead partition
(alone, one vCPU: tests/bench/linux-bench.dts), counted by the
hypervisor's own PMU counters (CONFIG_BENCH_BOOT_COUNT) under -icount
shift=0: instructions retired until Linux's "Run /init" line, at EL2 and in
all. Target: EL2 at most 5 % of all. (QEMU's instruction counters count the
whole machine while their CPU is at a level they count; with one CPU
running, that is exact.)"""
import argparse
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tools", "linux"))
from console import ConsoleError, QemuConsole  # noqa: E402

BOOT_RE = re.compile(r"^\[bulkhead\] BENCH-BOOT partition=linux cpus=(\d+) el2=(\d+) total=(\d+)\s*$",
                     re.M)
TARGET_PERCENT = 5.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--image", required=True)
    ap.add_argument("--out", required=True, help="directory for linux_boot.json")
    ap.add_argument("--qemu", default="qemu-system-aarch64")
    args = ap.parse_args()
    cmd = [args.qemu, "-M", "virt,virtualization=on,gic-version=3", "-cpu", "max",
           "-smp", "4", "-m", "1G", "-nographic", "-no-reboot", "-nic", "none",
           "-icount", "shift=0,sleep=off", "-kernel", args.image]
    console = QemuConsole(cmd)
    try:
        m = console.expect(BOOT_RE, 3600)
    except ConsoleError as e:
        print(f"bench-linux: no BENCH-BOOT line: {e}", file=sys.stderr)
        return 1
    finally:
        console.close()
    cpus, el2, total = (int(g) for g in m.groups())
    share = 100.0 * el2 / total
    result = {"name": "linux_boot", "cpus": cpus, "el2_instructions": el2,
              "total_instructions": total, "el2_percent": round(share, 3),
              "target_percent": TARGET_PERCENT}
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "linux_boot.json"), "w") as f:
        json.dump(result, f, indent=2)
    verdict = "ok" if share <= TARGET_PERCENT else "OVER TARGET"
    print(f"linux_boot: {total} instructions on {cpus} vCPUs until Linux runs /init, "
          f"{el2} at EL2 = {share:.2f} % (target <= {TARGET_PERCENT} %): {verdict}")
    return 0 if share <= TARGET_PERCENT else 1


if __name__ == "__main__":
    sys.exit(main())
