#!/usr/bin/env python3
"""Interrupt path-length benchmarks: boot the irq-bench product
(tests/bench/irq-bench.dts) under QEMU with -icount shift=0, read the BENCH
lines of partition bench-irq and write irq-results.json, a table and an
SVG chart (method: docs/testing.md, as for the FF-A benchmarks)."""
import argparse
import json
import os
import re
import sys

from bench_ffa import Result, qemu_version, svg
from conftest import Limits, run_console  # the test suite's QEMU runner

BENCH_RE = re.compile(r"^\[bench-irq\] BENCH name=(\w+) iterations=(\d+) total=(\d+) "
                      r"el1=(\d+) el1_peer=(\d+)\s*$")
# name -> largest EL2 instructions per iteration we accept (docs/testing.md)
TARGETS: dict[str, int | None] = {"vtimer_irq": 300, "vtimer_irq_idle": None,
                                  "sgi_ipi": 1000}


def parse(output: str) -> list[Result]:
    results: dict[str, Result] = {}
    for line in output.splitlines():
        m = BENCH_RE.match(line.rstrip("\r"))
        if m:
            name = m.group(1)
            n, total, el1, el1_peer = (int(g) for g in m.groups()[1:])
            results[name] = Result(name, n, round((total - el1 - el1_peer) / n),
                                   round(total / n), target=TARGETS.get(name))
    return list(results.values())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--image", required=True)
    ap.add_argument("--out", required=True, help="directory for irq-results.json")
    ap.add_argument("--qemu", default="qemu-system-aarch64")
    ap.add_argument("--config", default="qemu_virt_bench_defconfig")
    ap.add_argument("--quiet", type=float, default=300,
                    help="kill QEMU after this many seconds without output")
    ap.add_argument("--timeout", type=float, default=1800,
                    help="kill QEMU after this many seconds in all")
    args = ap.parse_args()

    cmd = [args.qemu, "-M", "virt,virtualization=on,gic-version=3", "-cpu", "max",
           "-smp", "2", "-m", "1G", "-nographic", "-no-reboot", "-nic", "none",
           "-icount", "shift=0,sleep=off", "-kernel", args.image]
    boot = run_console(cmd, Limits(quiet=args.quiet, cap=args.timeout))
    results = parse(boot.output)
    if boot.failure is not None:
        sys.stderr.write(f"bench-irq: {boot.failure}\n")
        return 1
    if [r.name for r in results] != list(TARGETS):
        sys.stderr.write("bench-irq: the benchmark partition did not report "
                         "every result; QEMU output:\n" + boot.output[-3000:])
        return 1
    os.makedirs(args.out, exist_ok=True)
    doc = {"method": "qemu-icount-pmu", "qemu": qemu_version(args.qemu),
           "config": args.config,
           "results": [{"name": r.name, "iterations": r.iterations,
                        "el2_instructions": r.el2_instructions,
                        "total_instructions": r.total_instructions}
                       for r in results]}
    json_path = os.path.join(args.out, "irq-results.json")
    with open(json_path, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    with open(os.path.join(args.out, "irq-results.svg"), "w") as f:
        f.write(svg(results, "Interrupt path lengths"))
    print(f"{'benchmark':<22} {'iterations':>10} {'EL2 instr':>10} "
          f"{'total instr':>12} {'EL2 target':>11}")
    failed = []
    for r in results:
        target = f"<= {r.target}" if r.target is not None else "-"
        ok = r.target is None or r.el2_instructions <= r.target
        if not ok:
            failed.append(r.name)
        print(f"{r.name:<22} {r.iterations:>10} {r.el2_instructions:>10} "
              f"{r.total_instructions:>12} {target:>11}{'' if ok else '  OVER'}")
    print(f"  {json_path} (chart: {os.path.join(args.out, 'irq-results.svg')})")
    if failed:
        sys.stderr.write(f"bench-irq: over target: {', '.join(failed)}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
