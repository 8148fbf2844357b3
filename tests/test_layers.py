"""The layer check (tools/check_layers.py): the hypervisor passes it, and it
finds a circle of calls among core/ files and an include of a core/ header
that is not an interface header from arch/ or drivers/."""
import os
import subprocess
import sys

from conftest import BUILD, PYTHON, ROOT

sys.path.insert(0, os.path.join(ROOT, "tools"))
from check_layers import INTERFACE, call_graph, cycle_problems, include_problems  # noqa: E402

TOOL = os.path.join(ROOT, "tools", "check_layers.py")
CC = "aarch64-linux-gnu-gcc"


def test_the_hypervisor_keeps_its_layers():
    env = dict(os.environ)
    env.pop("MAKEFLAGS", None)
    r = subprocess.run(["make", "--no-print-directory", f"O={os.path.relpath(BUILD, ROOT)}",
                        f"PYTHON={PYTHON}", "check-layers"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "no circle of calls among the" in r.stdout.splitlines()[-1]


def test_a_circle_among_core_files_is_reported_with_its_calls():
    definitions = {"core/a.c": {"a_run"}, "core/b.c": {"b_step", "b_more"},
                   "core/c.c": {"c_leaf"}, "arch/x.c": {"x_hook"}}
    calls = {"core/a.c": {"b_step", "c_leaf", "x_hook"},
             "core/b.c": {"a_run", "c_leaf"}, "core/c.c": set(),
             "arch/x.c": {"a_run"}}
    graph = call_graph(definitions, calls)
    assert graph["core/a.c"] == {"core/b.c": {"b_step"}, "core/c.c": {"c_leaf"},
                                 "arch/x.c": {"x_hook"}}
    problems = [str(p) for p in cycle_problems(graph)]
    assert problems == ["core/a.c: circle of calls among core/a.c, core/b.c: "
                        "core/a.c -> core/b.c (b_step) -> core/a.c (a_run)"]


def test_the_shortest_circle_is_reported():
    definitions = {f"core/{n}.c": {f"{n}_fn"} for n in "abcd"}
    calls = {"core/a.c": {"b_fn"}, "core/b.c": {"c_fn"}, "core/c.c": {"d_fn", "a_fn"},
             "core/d.c": {"a_fn"}}
    problems = [str(p) for p in cycle_problems(call_graph(definitions, calls))]
    assert problems == ["core/a.c: circle of calls among core/a.c, core/b.c, core/c.c, "
                        "core/d.c: core/a.c -> core/b.c (b_fn) -> core/c.c (c_fn) -> "
                        "core/a.c (a_fn)"]


def test_calls_through_arch_or_within_a_file_make_no_circle():
    definitions = {"core/a.c": {"a_fn", "a_self"}, "arch/x.c": {"x_fn"}}
    calls = {"core/a.c": {"x_fn", "a_self"}, "arch/x.c": {"a_fn"}}
    assert cycle_problems(call_graph(definitions, calls)) == []


def test_relocations_of_real_objects_give_the_circle(tmp_path):
    core = tmp_path / "objs" / "core"
    core.mkdir(parents=True)
    sources = {"core/ping.c": "void pong(int n);\nvoid ping(int n) { if (n) pong(n - 1); }\n",
               "core/pong.c": "void ping(int n);\nvoid pong(int n) { ping(n); }\n"}
    for name, text in sources.items():
        (tmp_path / "src.c").write_text(text)
        subprocess.run([CC, "-O2", "-c", str(tmp_path / "src.c"), "-o",
                        str(tmp_path / "objs" / (name + ".o"))], check=True)
    r = subprocess.run([PYTHON, TOOL, "--objects", str(tmp_path / "objs"), "--root", ROOT,
                        "--graph", *sources], capture_output=True, text=True)
    assert r.returncode == 1
    assert r.stdout.splitlines() == ["core/ping.c -> core/pong.c: pong",
                                     "core/pong.c -> core/ping.c: ping"]
    assert r.stderr.splitlines() == [
        "core/ping.c: circle of calls among core/ping.c, core/pong.c: core/ping.c -> "
        "core/pong.c (pong) -> core/ping.c (ping)",
        "check_layers: 1 problem(s)"]


def write(root, path: str, text: str) -> None:
    full = os.path.join(root, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w", encoding="utf-8") as f:
        f.write(text)


def test_arch_and_drivers_include_only_interface_headers(tmp_path):
    root = str(tmp_path)
    for name in INTERFACE:
        write(root, f"core/include/core/{name}", "#pragma once\n#include <core/types.h>\n")
    write(root, "core/include/core/arch.h", "#pragma once\n#include <core/partition.h>\n")
    write(root, "core/include/core/partition.h", "#pragma once\n")
    write(root, "core/mm.c", "#include <core/partition.h>\n")  # core may
    write(root, "arch/aarch64/ok.c", "#include <core/arch.h>\n#include <bulkhead/ffa.h>\n"
                                     "#include <arch/sysreg.h>\n")
    write(root, "arch/aarch64/bad.c", "/* x */\n#include <core/arch_mm.h>\n"
                                      "  #  include <core/partition.h>\n")
    write(root, "drivers/uart.c", '#include "../core/include/core/partition.h"\n')
    write(root, "arch/aarch64/include/arch/regs.h", "#include <core/mm.h>\n")
    problems = [str(p) for p in include_problems(root)]
    tail = (f"which is not one of core's interface headers "
            f"({', '.join(sorted(INTERFACE))}); ")
    assert problems == [
        f"arch/aarch64/bad.c:3: includes core/partition.h, {tail}arch/ may include only those",
        f"arch/aarch64/include/arch/regs.h:1: includes core/mm.h, {tail}arch/ may include "
        "only those",
        f"core/include/core/arch.h:2: includes core/partition.h, {tail}an interface header "
        "may include only those",
        f"drivers/uart.c:1: includes ../core/include/core/partition.h, {tail}drivers/ may "
        "include only those"]
