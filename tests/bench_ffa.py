#!/usr/bin/env python3
"""FF-A path-length benchmarks: boot the bench product under QEMU with
-icount shift=0, read the BENCH lines of partition bench-a and write
results.json, a table and an SVG chart (method: docs/testing.md)."""
import argparse
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass

from conftest import Limits, run_console  # the test suite's QEMU runner

# name -> largest EL2 instructions per iteration we accept (docs/testing.md)
TARGETS = {"ffa_version": 150, "ffa_id_get": None, "msg_send2_64b": 2500,
           "direct_req_resp": 2000, "mem_share_cycle_1p": 8000,
           "mem_lend_cycle_1p": None, "mem_share_cycle_16x1p": None,
           "mem_share_cycle_2m": None, "mem_share_cycle_1g": None,
           # a warm pool allocation must not enter the hypervisor at all
           "pool_alloc_free_warm": 0, "pool_refill": None,
           # a SET and the other partition's GET, woken by its interrupt
           "notification_set_get": 2000}
# name -> (base, factor): EL2 instructions at most factor x base's
RELATIVE = {"mem_share_cycle_16x1p": ("mem_share_cycle_1p", 6),
            "mem_share_cycle_1g": ("mem_share_cycle_1p", 4)}
@dataclass
class Result:
    name: str
    iterations: int
    el2_instructions: int
    total_instructions: int
    pool_in_use_peak: int | None = None
    target: int | None = None


def parse(output: str, partition: str = "bench-a",
          targets: dict[str, int | None] | None = None,
          relative: dict[str, tuple[str, int]] | None = None) -> list[Result]:
    """The BENCH (and BENCH-POOL) lines partition `partition` printed, with
    each result's EL2 target: a fixed one from `targets`, or factor x the
    base result's from `relative`."""
    targets = TARGETS if targets is None else targets
    relative = RELATIVE if relative is None else relative
    tag = re.escape(partition)
    bench_re = re.compile(rf"^\[{tag}\] BENCH name=(\w+) iterations=(\d+) total=(\d+) "
                          r"el1=(\d+) el1_peer=(\d+)\s*$")
    pool_re = re.compile(rf"^\[{tag}\] BENCH-POOL name=(\w+) pool_pages=(\d+) "
                         r"in_use_before=(\d+) in_use_peak=(\d+)\s*$")
    results: dict[str, Result] = {}
    for line in output.splitlines():
        line = line.rstrip("\r")
        m = bench_re.match(line)
        if m:
            name = m.group(1)
            n, total, el1, el1_peer = (int(g) for g in m.groups()[1:])
            results[name] = Result(name, n, round((total - el1 - el1_peer) / n),
                                   round(total / n))
        m = pool_re.match(line)
        if m and m.group(1) in results:
            results[m.group(1)].pool_in_use_peak = int(m.group(4))
    for r in results.values():
        r.target = targets.get(r.name)
        if r.name in relative and relative[r.name][0] in results:
            base, factor = relative[r.name]
            r.target = factor * results[base].el2_instructions
    return list(results.values())


def qemu_version(qemu: str) -> str:
    out = subprocess.run([qemu, "--version"], stdout=subprocess.PIPE,
                         check=False).stdout.decode()
    m = re.search(r"version (\S+)", out)
    return m.group(1) if m else "unknown"


def svg(results: list[Result], title: str = "FF-A path lengths") -> str:
    width, bar_h, gap, left = 640, 22, 10, 150
    top = 30
    scale = (width - left - 90) / max(max(r.total_instructions for r in results), 1)
    rows = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
            f'height="{top + len(results) * (bar_h + gap) + 20}" '
            f'font-family="sans-serif" font-size="12">',
            f'<text x="10" y="18" font-weight="bold">{title} '
            '(instructions per iteration; dark = EL2, light = EL1)</text>']
    for i, r in enumerate(results):
        y = top + i * (bar_h + gap)
        el2 = r.el2_instructions * scale
        total = r.total_instructions * scale
        rows += [f'<text x="10" y="{y + 15}">{r.name}</text>',
                 f'<rect x="{left}" y="{y}" width="{total:.1f}" height="{bar_h}" '
                 'fill="#9ecae1"/>',
                 f'<rect x="{left}" y="{y}" width="{el2:.1f}" height="{bar_h}" '
                 'fill="#3182bd"/>',
                 f'<text x="{left + total + 6:.1f}" y="{y + 15}">'
                 f'{r.el2_instructions} / {r.total_instructions}</text>']
        if r.target:
            x = left + r.target * scale
            rows.append(f'<line x1="{x:.1f}" y1="{y - 2}" x2="{x:.1f}" '
                        f'y2="{y + bar_h + 2}" stroke="red" stroke-width="2"/>')
    rows.append("</svg>")
    return "\n".join(rows) + "\n"


def run(label: str, partition: str, stem: str, title: str, memory: str,
        targets: dict[str, int | None],
        relative: dict[str, tuple[str, int]] | None = None) -> int:
    """The whole benchmark command: boot --image under -icount, check that
    partition `partition` reported every result in `targets`, write
    <stem>.json and <stem>.svg to --out, print the table; 1 when a result
    is over its target or the run failed."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--image", required=True)
    ap.add_argument("--out", required=True, help=f"directory for {stem}.json")
    ap.add_argument("--qemu", default="qemu-system-aarch64")
    ap.add_argument("--config", default="qemu_virt_bench_defconfig")
    ap.add_argument("--quiet", type=float, default=300,
                    help="kill QEMU after this many seconds without output")
    ap.add_argument("--timeout", type=float, default=1800,
                    help="kill QEMU after this many seconds in all")
    args = ap.parse_args()

    cmd = [args.qemu, "-M", "virt,virtualization=on,gic-version=3", "-cpu", "max",
           "-smp", "2", "-m", memory, "-nographic", "-no-reboot", "-nic", "none",
           "-icount", "shift=0,sleep=off", "-kernel", args.image]
    boot = run_console(cmd, Limits(quiet=args.quiet, cap=args.timeout))
    results = parse(boot.output, partition, targets, relative or {})
    if boot.failure is not None:
        sys.stderr.write(f"{label}: {boot.failure}\n")
        return 1
    if [r.name for r in results] != list(targets):
        sys.stderr.write(f"{label}: the benchmark partition did not report every "
                         "result; QEMU output:\n" + boot.output[-3000:])
        return 1
    os.makedirs(args.out, exist_ok=True)
    doc = {"method": "qemu-icount-pmu", "qemu": qemu_version(args.qemu),
           "config": args.config,
           "results": [{"name": r.name, "iterations": r.iterations,
                        "el2_instructions": r.el2_instructions,
                        "total_instructions": r.total_instructions,
                        **({"page_table_pages_peak": r.pool_in_use_peak}
                           if r.pool_in_use_peak is not None else {})}
                       for r in results]}
    json_path = os.path.join(args.out, f"{stem}.json")
    svg_path = os.path.join(args.out, f"{stem}.svg")
    with open(json_path, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    with open(svg_path, "w") as f:
        f.write(svg(results, title))
    pools = any(r.pool_in_use_peak is not None for r in results)
    print(f"{'benchmark':<22} {'iterations':>10} {'EL2 instr':>10} "
          f"{'total instr':>12} {'EL2 target':>11}" + (f" {'PT pages':>9}" if pools else ""))
    failed = []
    for r in results:
        target = f"<= {r.target}" if r.target is not None else "-"
        ok = r.target is None or r.el2_instructions <= r.target
        if not ok:
            failed.append(r.name)
        pt = "-" if r.pool_in_use_peak is None else str(r.pool_in_use_peak)
        print(f"{r.name:<22} {r.iterations:>10} {r.el2_instructions:>10} "
              f"{r.total_instructions:>12} {target:>11}" + (f" {pt:>9}" if pools else "")
              + ("" if ok else "  OVER"))
    print(f"  {json_path} (chart: {svg_path})")
    if failed:
        sys.stderr.write(f"{label}: over target: {', '.join(failed)}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(run("bench", "bench-a", "results", "FF-A path lengths", "4G",
                 TARGETS, RELATIVE))
