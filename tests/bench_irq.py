#!/usr/bin/env python3
"""Interrupt path-length benchmarks: boot the irq-bench product
(tests/bench/irq-bench.dts) under QEMU with -icount shift=0, read the BENCH
lines of partition bench-irq and write irq-results.json, a table and an
SVG chart (method: docs/testing.md, as for the FF-A benchmarks)."""
import sys

from bench_ffa import run

# name -> largest EL2 instructions per iteration we accept (docs/testing.md)
TARGETS: dict[str, int | None] = {"vtimer_irq": 300, "vtimer_irq_idle": None,
                                  "sgi_ipi": 1000}

if __name__ == "__main__":
    sys.exit(run("bench-irq", "bench-irq", "irq-results", "Interrupt path lengths", "1G",
                 TARGETS))
