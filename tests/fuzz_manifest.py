#!/usr/bin/env python3
"""Fuzz test of the manifest compiler.

Mutates the good manifests (manifests/, tests/scenarios/, tests/bench/) and
their board file, compiles every mutant and asserts: no traceback, no hang,
no rule outside the catalogue, every error of a source-level mutant has a
file:line, and every accepted mutant's outputs pass the oracle
(fuzz_oracle.py) and its tables compile with the cross compiler (the
distinct tables of the accepted mutants, in batches).

    tests/fuzz_manifest.py --cases 20000 --seed 1      (make fuzz-manifests)
    tests/fuzz_manifest.py --seed 1 --case 1234 -v     (one case again)

Each case has its own random generator, seeded by (seed, case), so one
case reruns alone exactly.
"""
import argparse
import glob
import os
import random
import re
import signal
import sys
import tempfile
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field, fields, replace
from typing import Optional

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
sys.path.insert(0, os.path.join(ROOT, "tests"))

import manifestc  # noqa: E402
from bulkhead_manifest import source  # noqa: E402
from bulkhead_manifest.diag import ManifestError  # noqa: E402
from bulkhead_manifest.model import Limits  # noqa: E402
from fuzz_mutate import TextMutator, TreeMutator, copy_tree  # noqa: E402
from fuzz_oracle import problems  # noqa: E402

BOARD = os.path.join(ROOT, "manifests", "platforms", "qemu-virt.dtsi")
# rules whose errors have no line to point at
UNLOCATED = {"MANIFEST-MISSING", "DTC", "PRODUCT-NAME"}
PRODUCTS = ["fuzz", "a-product-name-much-longer-than-thirty-one-characters",
            "pr\u00f6duct \"quoted\" */", "tab\tbed", "", "x" * 200]


class Hang(Exception):
    pass


@dataclass
class Finding:
    case: int
    level: str
    seed_file: str
    what: str
    mutations: list[str]

    def __str__(self) -> str:
        return (f"case {self.case} ({self.level}, {os.path.relpath(self.seed_file, ROOT)}): "
                f"{self.what}\n    mutations: {'; '.join(self.mutations)}")


@dataclass
class Report:
    cases: int = 0
    accepted: int = 0
    rejected: int = 0
    tables_compiled: int = 0
    seconds: float = 0.0
    rules: Counter = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)

    def summary(self) -> str:
        top = ", ".join(f"{r} {n}" for r, n in self.rules.most_common(12))
        return (f"fuzz-manifests: {self.cases} mutants in {self.seconds:.1f} s "
                f"({self.cases / max(self.seconds, 1e-9):.0f}/s): {self.accepted} "
                f"accepted, {self.rejected} rejected, {self.tables_compiled} distinct "
                f"tables compiled; {len(self.findings)} finding(s)\n"
                f"  most reported rules: {top}")


@dataclass
class Fuzzer:
    build: str
    seed: int
    text_every: int = 6  # one case in this many mutates the source text
    timeout: float = 20.0  # seconds per case before it counts as a hang
    compile_limit: int = 400  # distinct tables compiled at most
    verbose: bool = False
    limits: Limits = field(init=False)
    seeds: list[str] = field(init=False)
    trees: dict[str, source.SourceTree] = field(init=False)
    board_text: str = field(init=False)

    def __post_init__(self) -> None:
        config = os.path.join(self.build, ".config")
        self.limits = manifestc.load_limits(os.path.join(ROOT, "Kconfig"),
                                            config if os.path.exists(config) else None)
        self.seeds = sorted(glob.glob(os.path.join(ROOT, "manifests", "*.dts"))
                            + glob.glob(os.path.join(ROOT, "tests", "scenarios", "*.dts"))
                            + glob.glob(os.path.join(ROOT, "tests", "bench", "*.dts")))
        self.trees = {s: source.load(s, [os.path.join(ROOT, "manifests")])
                      for s in self.seeds}
        with open(BOARD, encoding="utf-8") as f:
            self.board_text = f.read()

    @property
    def images(self) -> list[str]:
        return [os.path.join(self.build, "images")]

    def _limits(self, rng: random.Random) -> Limits:
        """The build's limits; one case in eight with one of them lowered
        (tables stay within the build's sizes, so they still compile)."""
        if rng.random() >= 0.125:
            return self.limits
        f = rng.choice([f.name for f in fields(Limits)])
        return replace(self.limits, **{f: rng.randrange(getattr(self.limits, f) + 1)})

    def _compile(self, case: int, rng: random.Random, work: str):
        """(level, seed file, mutations, outputs or None, diagnostics)."""
        seed_file = rng.choice(self.seeds)
        limits = self._limits(rng)
        product = rng.choice(PRODUCTS) if rng.random() < 0.1 else "fuzz"
        count = 1 + min(int(rng.expovariate(0.7)), 6)
        if case % self.text_every == 0:
            mut = TextMutator(rng)
            with open(seed_file, encoding="utf-8") as f:
                main = f.read()
            board = self.board_text
            for _ in range(count):
                if rng.random() < 0.3:
                    board = mut.mutate(board, 1)
                else:
                    main = mut.mutate(main, 1)
            if rng.random() < 0.02:
                main = main.replace('platforms/qemu-virt.dtsi', rng.choice(
                    ["platforms/none.dtsi", "m.dts"]), 1)
                mut.applied.append("include changed")
            os.makedirs(os.path.join(work, "platforms"), exist_ok=True)
            path = os.path.join(work, "m.dts")
            with open(path, "w", encoding="utf-8", errors="surrogateescape") as f:
                f.write(main)
            with open(os.path.join(work, "platforms", "qemu-virt.dtsi"), "w",
                      encoding="utf-8", errors="surrogateescape") as f:
                f.write(board)
            level, applied = "text", mut.applied
            run = lambda: manifestc.compile_manifest(  # noqa: E731
                path, limits, self.images, [work], product)
        else:
            tree = copy_tree(self.trees[seed_file])
            tmut = TreeMutator(rng)
            tmut.mutate(tree, count)
            level, applied = "tree", tmut.applied
            run = lambda: manifestc.check_tree(  # noqa: E731
                tree, seed_file, limits, self.images, product)
        try:
            m, rep = run()
            return level, seed_file, applied, manifestc.outputs_of(m, product), \
                rep.diagnostics, product, limits
        except ManifestError as e:
            return level, seed_file, applied, None, e.diagnostics, product, limits

    def one(self, case: int, report: Report, work: str) -> Optional[tuple[str, str]]:
        """Runs one case; returns (tables text, label) of an accepted one."""
        rng = random.Random(self.seed * 1_000_003 + case)
        signal.setitimer(signal.ITIMER_REAL, self.timeout)
        level, seed_file, applied = "?", "?", []
        try:
            level, seed_file, applied, outputs, diags, product, limits = \
                self._compile(case, rng, work)
        except Hang:
            report.findings.append(Finding(case, level, seed_file,
                                           f"no answer within {self.timeout} s",
                                           applied))
            return None
        except Exception:  # noqa: BLE001  (any escape is what we look for)
            tb = traceback.format_exc().strip().splitlines()
            report.findings.append(Finding(case, level, seed_file,
                                           "traceback: " + " | ".join(tb[-4:]),
                                           applied))
            return None
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        report.cases += 1
        for d in diags:
            report.rules[d.rule] += 1
            problem = None
            if d.rule == "RULE-UNKNOWN":
                problem = f"unknown rule: {d}"
            elif ("\n" in str(d)):
                problem = f"diagnostic of more than one line: {d!r}"
            elif (level == "text" and d.severity == "error" and d.location is None
                  and d.rule not in UNLOCATED):
                problem = f"error without file:line: {d}"
            if problem:
                report.findings.append(Finding(case, level, seed_file, problem, applied))
        if self.verbose:
            print(f"case {case} {level} {os.path.relpath(seed_file, ROOT)}: "
                  f"{'; '.join(applied)}")
            for d in diags:
                print(f"    {d}")
        if outputs is None:
            report.rejected += 1
            return None
        report.accepted += 1
        for p in problems(outputs, limits.mem_max_transactions):
            report.findings.append(Finding(case, level, seed_file,
                                           f"accepted, but {p}", applied))
        label = f"case {case} ({level}, {os.path.relpath(seed_file, ROOT)}, " \
                f"product {product!r}): {'; '.join(applied)}"
        return outputs["manifest_tables.c"], label

    def run(self, cases: int, first: int = 0) -> Report:
        report = Report()
        start = time.perf_counter()
        tables: dict[str, tuple[str, str]] = {}  # key -> (tables text, label)

        def on_alarm(signum, frame):
            raise Hang()
        old = signal.signal(signal.SIGALRM, on_alarm)
        try:
            with tempfile.TemporaryDirectory() as work:
                for case in range(first, first + cases):
                    got = self.one(case, report, os.path.join(work, "case"))
                    if got:
                        key = re.sub(r"\.hash = \{[^}]*\}", "", got[0])
                        if key not in tables and len(tables) < self.compile_limit:
                            tables[key] = got
                self._compile_tables(tables, work, report)
        finally:
            signal.signal(signal.SIGALRM, old)
        report.seconds = time.perf_counter() - start
        return report

    def _compile_tables(self, tables: dict[str, tuple[str, str]], work: str,
                        report: Report) -> None:
        """Builds every distinct accepted table with the hypervisor's flags,
        a batch of files per run of the compiler."""
        from manifest_helpers import compile_tables
        items = list(tables.values())
        for start in range(0, len(items), 50):
            batch = items[start:start + 50]
            batch_dir = os.path.join(work, f"tables{start}")
            paths = []
            for i, (text, _) in enumerate(batch):
                d = os.path.join(batch_dir, str(i))
                os.makedirs(d, exist_ok=True)
                path = os.path.join(d, "manifest_tables.c")
                with open(path, "w", encoding="utf-8", errors="surrogateescape") as f:
                    f.write(text)
                paths.append(path)
            r = compile_tables(paths, batch_dir)
            report.tables_compiled += len(batch)
            if r.returncode == 0:
                continue
            for i, (_, label) in enumerate(batch):
                errors = [l for l in r.stderr.splitlines()
                          if f"/{i}/manifest_tables.c:" in l and "error" in l]
                if errors:
                    report.findings.append(Finding(-1, "tables", label,
                                                   "tables do not compile: "
                                                   + errors[0], []))


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--case", type=int, help="run this one case only")
    ap.add_argument("--build", default=os.environ.get("BULKHEAD_BUILD", "build"))
    ap.add_argument("--compile-limit", type=int, default=2000,
                    help="distinct accepted tables to compile at most")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    fuzzer = Fuzzer(os.path.join(ROOT, args.build) if not os.path.isabs(args.build)
                    else args.build, args.seed, compile_limit=args.compile_limit,
                    verbose=args.verbose)
    if args.case is not None:
        report = fuzzer.run(1, args.case)
    else:
        report = fuzzer.run(args.cases)
    for f in report.findings:
        print(f)
    print(report.summary())
    return 1 if report.findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
