"""The configuration matrix (mk/matrix.mk, configs/matrix/*.config): every
entry was built with the configuration it names, together they flip every
bool option and take every int option to its least and its most the
default manifest allows, a manifest beyond a lowered limit is refused with
that limit's rule, and the entry without console prefixes boots."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import kconfiglib
import pytest

from conftest import BUILD, PYTHON, ROOT, Limits, boot

sys.path.insert(0, os.path.join(ROOT, "tools"))
from kconfig import assignments  # noqa: E402
from manifestc import compile_manifest, load_limits  # noqa: E402

MATRIX = os.path.join(ROOT, "configs", "matrix")
ENTRIES = sorted(f[:-len(".config")] for f in os.listdir(MATRIX) if f.endswith(".config"))
BASE = os.path.join(ROOT, "configs", "qemu_virt_defconfig")
KCONFIG = os.path.join(ROOT, "Kconfig")
DEMO = os.path.join(ROOT, "manifests", "qemu-virt-demo.dts")
IMAGES = os.path.join(BUILD, "images")
# The most of these the demo's 14 MiB of hypervisor memory holds (the
# entries' comments say why); every other int goes to its Kconfig maximum.
MEMORY_BOUND = {"PAGE_POOL_PAGES": 2560, "FFA_MEM_MAX_TRANSACTIONS": 512,
                "FFA_MEM_PARTITION_TRANSACTIONS": 512}


def entry_values(entry: str) -> dict[str, str]:
    return {name: value for name, value, _ in
            assignments(os.path.join(MATRIX, f"{entry}.config"))}


def kconfig() -> kconfiglib.Kconfig:
    return kconfiglib.Kconfig(KCONFIG, warn=False)


def demo_needs() -> dict[str, int]:
    """The least each table limit may be for the default manifest."""
    m, _ = compile_manifest(DEMO, load_limits(KCONFIG, None), [IMAGES],
                            [os.path.join(ROOT, "manifests")])
    senders = {g.sender.id for g in m.grants}
    return {
        "MAX_PARTITIONS": len(m.partitions),
        "MAX_CPUS": len(m.platform.cpus),
        "MAX_MEM_REGIONS": max(len(p.memory) for p in m.partitions),
        "MAX_DEVICES": max(sum(len(d.regions) for d in p.devices) for p in m.partitions),
        "MAX_SHARED_REGIONS": len(m.shared),
        "MAX_GRANTS": len(m.grants),
        "MAX_PARTITION_SPIS": max(len(p.spis) for p in m.partitions),
        # each sender's quota at its least, 1
        "FFA_MEM_MAX_TRANSACTIONS": len(senders),
    }


def config_file(directory, *fragments: str) -> str:
    """directory/.config: the base with the fragments merged on top."""
    directory.mkdir(exist_ok=True)
    out = directory / ".config"
    r = subprocess.run([PYTHON, os.path.join(ROOT, "tools", "kconfig.py"), KCONFIG,
                        str(out), "merge", BASE, *fragments], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return str(out)


@pytest.mark.parametrize("entry", ENTRIES)
def test_entry_was_built_with_its_configuration(entry):
    build = os.path.join(BUILD, "matrix", entry)
    image = os.path.join(build, "bulkhead.img")
    assert os.path.exists(image), f"{image} missing: run 'make config-matrix'"
    with open(os.path.join(build, ".config"), encoding="utf-8") as f:
        config = f.read()
    with open(os.path.join(build, "include", "generated", "autoconf.h"),
              encoding="utf-8") as f:
        autoconf = f.read()
    for name, value in entry_values(entry).items():
        if value == "n":
            assert f"# CONFIG_{name} is not set\n" in config
            assert f"CONFIG_{name} " not in autoconf
        else:
            assert re.search(rf"^CONFIG_{name}=\"?{re.escape(value)}\"?$", config, re.M)
            c_value = "1" if value == "y" else value
            assert f"#define CONFIG_{name} {c_value}\n" in autoconf


def test_matrix_flips_every_bool_and_spans_every_int():
    kconf = kconfig()
    entries = {e: entry_values(e) for e in ENTRIES}
    needs = demo_needs()
    for sym in kconf.unique_defined_syms:
        if not any(node.prompt for node in sym.nodes) or sym.choice is not None:
            continue  # not an option a user sets (PLATFORM, the platform choice)
        values = [v[sym.name] for v in entries.values() if sym.name in v]
        if sym.type == kconfiglib.BOOL:
            assert any(v != sym.str_value for v in values), \
                f"no matrix entry flips CONFIG_{sym.name} from {sym.str_value}"
        elif sym.type == kconfiglib.INT:
            low, high = (int(bound.str_value) for bound in sym.ranges[0][:2])
            numbers = [int(v) for v in values]
            assert numbers, f"no matrix entry sets CONFIG_{sym.name}"
            assert min(numbers) == max(low, needs.get(sym.name, low)), sym.name
            assert max(numbers) == MEMORY_BOUND.get(sym.name, high), sym.name


# rule -> (assignments on top of the `min` entry, (old, new) text of the
# demo manifest, or None). Each lowers one limit below what the demo needs.
LOWERED = {
    "LIMIT-PARTITIONS": ("CONFIG_MAX_PARTITIONS=2", None),
    "LIMIT-CPUS": ("CONFIG_MAX_CPUS=3", None),
    # the demo needs 1 region, the least Kconfig allows: give it a second
    "LIMIT-REGIONS": ("", ("memory = <0x0 0x41000000 0x0 0x01000000>;",
                           "memory = <0x0 0x41000000 0x0 0x00800000>, "
                           "<0x0 0x41800000 0x0 0x00800000>;")),
    "LIMIT-DEVICES": ("CONFIG_MAX_DEVICES=0", None),
    "LIMIT-SHM": ("CONFIG_MAX_SHARED_REGIONS=0", None),
    "LIMIT-GRANTS": ("CONFIG_MAX_GRANTS=1", None),
    # the sensor has its console's receive interrupt and its device's
    "LIMIT-SPIS": ("CONFIG_MAX_PARTITION_SPIS=1", None),
    # the table holds 1 transaction: a sender's quota of 2 exceeds it
    "MEM-TX-LIMIT": ("CONFIG_FFA_MEM_PARTITION_TRANSACTIONS=2", None),
    # a pool bigger than the hypervisor's memory
    "HYP-TOO-SMALL": ("CONFIG_PAGE_POOL_PAGES=3584", None),
}


@pytest.mark.parametrize("rule", sorted(LOWERED))
def test_demo_beyond_a_lowered_limit_is_refused_with_its_rule(tmp_path, rule):
    lowered, edit = LOWERED[rule]
    (tmp_path / "lowered.config").write_text(lowered + "\n")
    min_config = config_file(tmp_path / "min", os.path.join(MATRIX, "min.config"))
    config = config_file(tmp_path / "lowered", os.path.join(MATRIX, "min.config"),
                         str(tmp_path / "lowered.config"))
    manifest = DEMO
    if edit is not None:
        with open(DEMO, encoding="utf-8") as f:
            text = f.read()
        assert text.count(edit[0]) == 1
        manifest = str(tmp_path / "demo.dts")
        with open(manifest, "w", encoding="utf-8") as f:
            f.write(text.replace(edit[0], edit[1]))
    def compile_with(path: str, config_path: str) -> subprocess.CompletedProcess:
        return subprocess.run([PYTHON, os.path.join(ROOT, "tools", "manifestc.py"), path,
                               "--config", config_path, "-I", IMAGES,
                               "-i", os.path.join(ROOT, "manifests")],
                              capture_output=True, text=True)

    # the demo itself compiles under the `min` entry
    ok = compile_with(DEMO, min_config)
    assert ok.returncode == 0, ok.stderr
    r = compile_with(manifest, config)
    assert r.returncode == 1
    errors = [l for l in r.stderr.splitlines() if ": error[" in l]
    assert errors and all(f"error[{rule}]" in l for l in errors), r.stderr


def test_console_without_prefixes_boots_the_demo():
    image = os.path.join(BUILD, "matrix", "console-prefix-off", "bulkhead.img")
    b = boot(image, Limits(quiet=120.0, cap=600.0))
    assert b.failure is None, b.failure
    assert b.returncode == 0
    out = b.lines
    assert any(re.fullmatch(r"Bulkhead \d+\.\d+\.\d+: qemu-virt-demo on qemu-virt, 4 CPUs", l)
               for l in out), b.tail()
    assert ("hello from control: partition 1, vCPU 0 of 2 on physical CPU 0, memory "
            "0x41000000-0x42000000 (boot vCPU)") in out
    assert "found the logger by UUID: partition 3" in out
    assert 'reclaimed the lent page (0): "filled in by logger on CPU 3"' in out
    assert "all partitions are off; powering off" in out
    prefixed = [l for l in out if re.match(r"\[(bulkhead|control|sensor|logger)\]", l)]
    assert prefixed == []


def _without_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def test_options_are_kconfig_symbols_tested_in_c_not_the_preprocessor():
    files = subprocess.run(["git", "-C", ROOT, "ls-files", "--cached", "--others",
                            "--exclude-standard", "*.c", "*.h", "*.S", "*.inc", "*.ld"],
                           capture_output=True, text=True, check=True).stdout.split()
    symbols = set(kconfig().syms)
    invented = []
    conditional = []
    for rel in files:
        with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
            text = _without_comments(f.read())
        for name in sorted(set(re.findall(r"\bCONFIG_(\w+)", text)) - symbols):
            invented.append(f"{rel}: CONFIG_{name}")
        for line in text.splitlines():
            if re.match(r"\s*#\s*(if|ifdef|ifndef|elif)\b.*\bCONFIG_", line):
                conditional.append(f"{rel}: {line.strip()}")
    assert invented == []  # every option is declared in Kconfig
    assert conditional == []  # IS_ENABLED(CONFIG_...) in C instead
