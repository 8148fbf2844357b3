#!/usr/bin/env python3
"""Layer check of the hypervisor's sources (docs/architecture.md, "Layers").

    check_layers.py --objects DIR [--nm NM] [--readelf READELF] [--graph] SOURCE...

1. No circle of calls between files in core/. The call graph comes from the
   objects: DIR/<source>.o is each source compiled without LTO (make
   check-layers builds them); a call is a CALL26 or JUMP26 relocation (a
   branch-and-link or a tail call) against a function another source
   defines. Calls through function pointers are not seen.
2. arch/ and drivers/ include nothing from core/ but its interface headers
   (INTERFACE below), and an interface header includes no other core/
   header: what the architecture and the drivers may see of the core is
   exactly that list.

Prints one line per problem and exits 1, or a one-line summary. --graph
also prints every edge between files ("caller -> callee: functions").
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from dataclasses import dataclass

# core/include/core/<name>: what arch/ and drivers/ may include
INTERFACE = {
    "arch.h": "the hooks arch/ implements for the core (CPU, traps, power)",
    "arch_mm.h": "stage-2 descriptor format and TLB maintenance (arch/)",
    "mm_types.h": "page modes and the stage-2 table handle arch_mm.h speaks of",
    "types.h": "address types and page size",
    "irqchip.h": "the interrupt controller a driver provides",
    "uart.h": "the console UART a driver provides",
}
CALL_RELOCATIONS = ("R_AARCH64_CALL26", "R_AARCH64_JUMP26")
LAYERED = ("arch/", "drivers/")
INCLUDE_RE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.M)
SOURCE_SUFFIXES = (".c", ".S", ".h", ".inc")


@dataclass(frozen=True)
class Problem:
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


Graph = dict[str, dict[str, set[str]]]  # caller file -> callee file -> functions


def _run(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    except FileNotFoundError:
        raise SystemExit(f"check_layers: {cmd[0]} not found (make deps)")
    except subprocess.CalledProcessError as e:
        raise SystemExit(f"check_layers: {' '.join(cmd)} failed: {e.stderr.strip()}")


def global_functions(nm: str, obj: str) -> set[str]:
    """Functions `obj` defines for other files (global or weak)."""
    out = set()
    for line in _run([nm, "--defined-only", obj]).splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in ("T", "W"):
            out.add(parts[2])
    return out


def called_symbols(readelf: str, obj: str) -> set[str]:
    """Symbols `obj` branches to through a relocation."""
    out = set()
    for line in _run([readelf, "-rW", obj]).splitlines():
        parts = line.split()
        if len(parts) >= 5 and parts[2] in CALL_RELOCATIONS:
            out.add(parts[4])
    return out


def call_graph(definitions: dict[str, set[str]], calls: dict[str, set[str]]) -> Graph:
    """Edges between files from what each defines and calls."""
    definer: dict[str, str] = {}
    for source, names in sorted(definitions.items()):
        for name in names:
            definer.setdefault(name, source)
    graph: Graph = {source: {} for source in definitions}
    for source, names in calls.items():
        for name in names:
            callee = definer.get(name)
            if callee is not None and callee != source and name not in definitions[source]:
                graph[source].setdefault(callee, set()).add(name)
    return graph


def strongly_connected(graph: Graph, nodes: list[str]) -> list[list[str]]:
    """Components of the graph restricted to `nodes` (Tarjan, iterative)."""
    inside = set(nodes)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in sorted(nodes):
        if root in index:
            continue
        work = [(root, iter(sorted(n for n in graph.get(root, {}) if n in inside)))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            advanced = False
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = len(index)
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(sorted(n for n in graph.get(succ, {})
                                                   if n in inside))))
                    advanced = True
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def a_cycle(graph: Graph, component: list[str]) -> list[str]:
    """A shortest circle through the component's first file: [a, b, ..., a]."""
    members = set(component)
    start = component[0]
    parent: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for succ in sorted(graph.get(node, {})):
                if succ == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(parent[path[-1]])
                    return path[::-1] + [start]
                if succ in members and succ not in parent:
                    parent[succ] = node
                    following.append(succ)
        frontier = following
    raise ValueError(f"{component} holds no circle through {start}")


def cycle_problems(graph: Graph, layer: str = "core/") -> list[Problem]:
    nodes = [n for n in graph if n.startswith(layer)]
    problems = []
    for component in strongly_connected(graph, nodes):
        if len(component) < 2:
            continue
        path = a_cycle(graph, component)
        steps = " -> ".join(
            f"{callee} ({', '.join(sorted(graph[caller][callee]))})"
            for caller, callee in zip(path, path[1:]))
        problems.append(Problem(
            path[0], f"circle of calls among {', '.join(component)}: {path[0]} -> {steps}"))
    return problems


def includes(path: str) -> list[tuple[int, str]]:
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    return [(text.count("\n", 0, m.start()) + 1, m.group(1))
            for m in INCLUDE_RE.finditer(text)]


def core_header(root: str, including: str, name: str) -> str | None:
    """The core/ file an #include names, relative to root, or None when it
    names no file under core/."""
    if name.startswith("core/"):
        return os.path.join("core", "include", name)
    resolved = os.path.relpath(os.path.normpath(
        os.path.join(os.path.dirname(os.path.join(root, including)), name)), root)
    if resolved.startswith("core/") and os.path.exists(os.path.join(root, resolved)):
        return resolved
    return None


def include_problems(root: str) -> list[Problem]:
    problems = []
    interface_dir = os.path.join("core", "include", "core")
    allowed = {os.path.join(interface_dir, name) for name in INTERFACE}
    files = []
    for top in LAYERED:
        for dirpath, _, names in os.walk(os.path.join(root, top)):
            files += [os.path.relpath(os.path.join(dirpath, n), root) for n in names
                      if n.endswith(SOURCE_SUFFIXES)]
    for name in sorted(INTERFACE):
        path = os.path.join(interface_dir, name)
        if not os.path.exists(os.path.join(root, path)):
            problems.append(Problem(path, "listed as an interface header but missing"))
        else:
            files.append(path)
    for path in sorted(files):
        for line, name in includes(os.path.join(root, path)):
            header = core_header(root, path, name)
            if header is not None and header not in allowed:
                who = "an interface header" if path in allowed else path.split("/")[0] + "/"
                problems.append(Problem(
                    f"{path}:{line}", f"includes {name}, which is not one of core's "
                    f"interface headers ({', '.join(sorted(INTERFACE))}); {who} may "
                    "include only those"))
    return problems


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sources", nargs="+", help="the hypervisor's sources")
    ap.add_argument("--objects", required=True,
                    help="directory holding <source>.o for each source")
    ap.add_argument("--root", default=".", help="the source tree")
    ap.add_argument("--nm", default="aarch64-linux-gnu-nm")
    ap.add_argument("--readelf", default="aarch64-linux-gnu-readelf")
    ap.add_argument("--graph", action="store_true", help="print the call graph")
    args = ap.parse_args(argv)

    definitions: dict[str, set[str]] = {}
    calls: dict[str, set[str]] = {}
    for source in args.sources:
        obj = os.path.join(args.objects, source + ".o")
        if not os.path.exists(obj):
            raise SystemExit(f"check_layers: {obj} missing (make check-layers builds it)")
        definitions[source] = global_functions(args.nm, obj)
        calls[source] = called_symbols(args.readelf, obj)
    graph = call_graph(definitions, calls)
    if args.graph:
        for caller in sorted(graph):
            for callee, names in sorted(graph[caller].items()):
                print(f"{caller} -> {callee}: {', '.join(sorted(names))}")
    problems = cycle_problems(graph) + include_problems(args.root)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"check_layers: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    edges = sum(len(callees) for callees in graph.values())
    core = len([s for s in graph if s.startswith("core/")])
    print(f"layers: {len(graph)} files, {edges} caller-callee pairs of files; no circle "
          f"of calls among the {core} files of core/; arch/ and drivers/ include only "
          f"core's interface headers")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
