#!/usr/bin/env python3
"""Benchmark: compile a generated manifest of N partitions (target < 1 s)."""
import argparse
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--partitions", type=int, default=64)
    ap.add_argument("--work", default="build/bench")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    img = os.path.join(args.work, "tiny.bin")
    with open(img, "wb") as f:
        f.write(b"\0" * 4096)
    # a synthetic board with one CPU per partition
    cpus = "".join(f'cpu@{i} {{ device_type = "cpu"; reg = <{i}>; }};'
                   for i in range(args.partitions))
    parts = "".join(
        f"""p{i}: partition@{i + 1} {{ id = <{i + 1}>; label = "p{i}"; cpus = <{i}>;
        memory = <0x0 {0x41000000 + i * 0x100000:#x} 0x0 0x100000>; image = "tiny.bin";
        console = <0x0 0x09000000>; }};\n""" for i in range(args.partitions))
    dts = f"""/dts-v1/;
/include/ "{os.path.join(ROOT, 'manifests/platforms/qemu-virt.dtsi')}"
/ {{ cpus {{ {cpus} }};
  bulkhead {{ compatible = "bulkhead,manifest-v1";
    hypervisor {{ memory = <0x0 0x40200000 0x0 0x00e00000>; }};
    partitions {{ {parts} }}; }}; }};
"""
    src = os.path.join(args.work, "bench64.dts")
    with open(src, "w") as f:
        f.write(dts)
    cfg = os.path.join(args.work, "bench.config")
    with open(cfg, "w") as f:
        f.write(f"CONFIG_MAX_PARTITIONS={args.partitions}\nCONFIG_MAX_CPUS=64\n")
    start = time.perf_counter()
    r = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "tools/manifestc.py"),
                        src, "-I", args.work, "--config", cfg,
                        "--out-dir", os.path.join(args.work, "out")],
                       capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if r.returncode != 0:
        print(r.stderr)
        return 1
    print(f"bench-manifest: {args.partitions} partitions compiled in "
          f"{elapsed * 1000:.0f} ms (target < 1000 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
