"""Manifest compiler: good manifests compile, one bad manifest per rule,
determinism, nothing written on error."""
import glob
import os
import subprocess
import sys

import pytest

from conftest import BUILD, PYTHON, ROOT

sys.path.insert(0, os.path.join(ROOT, "tools"))
from bulkhead_manifest.checks import RULES  # noqa: E402

COMPILER = os.path.join(ROOT, "tools", "manifestc.py")
IMAGES = os.path.join(BUILD, "images")

PART = """
			{label}: partition@{id} {{
				id = <{id}>;
				label = "{label}";
				cpus = <{cpus}>;
				memory = <0x0 {base} 0x0 0x400000>;
				image = "{image}";
				console = <0x0 0x09000000>;
				{extra}
			}};"""


def manifest(parts=None, top="", hyp="", tail="", include=True) -> str:
    parts = parts if parts is not None else [
        dict(label="alpha", id=1, cpus="0", base="0x41000000"),
        dict(label="beta", id=2, cpus="1", base="0x41400000")]
    body = "".join(PART.format(**{"image": "demo.bin", "extra": "", **p})
                   for p in parts)
    inc = '/include/ "platforms/qemu-virt.dtsi"\n' if include else ""
    return f"""/dts-v1/;
{inc}
/ {{
	bulkhead {{
		compatible = "bulkhead,manifest-v1";
		{top}
		hypervisor {{
			memory = <0x0 0x40200000 0x0 0x00e00000>;
			{hyp}
		}};
		partitions {{{body}
		}};
		{tail}
	}};
}};
"""


def P(label, id, cpus, base, **kw):
    return dict(label=label, id=id, cpus=cpus, base=base, **kw)


GOOD2 = [P("alpha", 1, "0", "0x41000000"), P("beta", 2, "1", "0x41400000")]

# rule -> (manifest text, words the message must contain, extra config)
BAD = {
    "SCHEMA-REQUIRED": (manifest([dict(label="alpha", id=1, cpus="0",
                                       base="0x41000000")]).replace(
        'image = "demo.bin";', ""), ["required property 'image'"], ""),
    "SCHEMA-TYPE": (manifest().replace("id = <1>;", 'id = <1 2>;'),
                    ["'id' must be one 32-bit cell"], ""),
    "SCHEMA-COMPATIBLE": (manifest().replace('"bulkhead,manifest-v1"',
                                             '"bulkhead,manifest-v9"'),
                          ["bulkhead,manifest-v1"], ""),
    "DTS-SYNTAX": (manifest().replace("id = <1>;", "id = <1>"), ["dtc rejected"], ""),
    "PLATFORM": (manifest(include=False), ["board description incomplete"], ""),
    "PHANDLE-BAD": (manifest([P("alpha", 1, "0", "0x41000000",
                                extra="messaging = <&cfg>;"),
                              P("beta", 2, "1", "0x41400000")],
                             tail="cfg: other { };"),
                    ["refers to node /bulkhead/other", "not a partition"], ""),
    "ID-RANGE": (manifest([P("alpha", 0x8000, "0", "0x41000000")]),
                 ["id 0x8000", "1..0x7fff"], ""),
    "ID-DUP": (manifest([P("alpha", 1, "0", "0x41000000"),
                         dict(label="beta", id="1", cpus="1", base="0x41400000")]).replace(
        "beta: partition@1", "beta: partition@9"), ["id 1 is used by both \"alpha\" and \"beta\""], ""),
    "NAME-FORMAT": (manifest().replace('label = "beta"', 'label = "9 bad"'),
                    ["label \"9 bad\""], ""),
    "NAME-DUP": (manifest().replace('label = "beta"', 'label = "alpha"'),
                 ["label \"alpha\" is used by both"], ""),
    "UUID-FORMAT": (manifest().replace('label = "alpha";',
                                       'label = "alpha"; uuid = "not-a-uuid";'),
                    ["uuid \"not-a-uuid\""], ""),
    "UUID-DUP": (manifest().replace('label = "alpha";', 'label = "alpha"; uuid = '
                                    '"6b0d8f9e-1d2a-4c3e-9a55-0c1d2e3f4a5b";').replace(
        'label = "beta";', 'label = "beta"; uuid = "6b0d8f9e-1d2a-4c3e-9a55-0c1d2e3f4a5b";'),
        ["uuid", "used by both \"alpha\" and \"beta\""], ""),
    "CPU-UNKNOWN": (manifest([P("alpha", 1, "0 9", "0x41000000")]),
                    ["physical CPU 9", "CPUs 0..3"], ""),
    "CPU-TWICE": (manifest([P("alpha", 1, "0 2", "0x41000000"),
                            P("beta", 2, "2", "0x41400000")]),
                  ["physical CPU 2 is given to both \"alpha\" and \"beta\""], ""),
    "MEM-ALIGN": (manifest([P("alpha", 1, "0", "0x41000800")]),
                  ["not 4 KiB aligned", "0x41000800"], ""),
    "MEM-EMPTY": (manifest().replace("0x0 0x41000000 0x0 0x400000",
                                     "0x0 0x41000000 0x0 0x0"), ["size 0"], ""),
    "MEM-OUTSIDE": (manifest([P("alpha", 1, "0", "0x90000000")]),
                    ["not inside the board's RAM", "0x90000000"], ""),
    "MEM-OVERLAP": (manifest([P("alpha", 1, "0", "0x41000000"),
                              P("beta", 2, "1", "0x41200000")]),
                    ["partition \"beta\" memory [0x41200000, 0x41600000) overlaps "
                     "partition \"alpha\" memory [0x41000000, 0x41400000) by 0x200000 bytes"], ""),
    "DEV-OUTSIDE": (manifest([P("alpha", 1, "0", "0x41000000", extra=
                                "devices { d@1000 { reg = <0x0 0x1000 0x0 0x1000>; }; };")]),
                    ["not inside the board's device ranges"], ""),
    "DEV-OVERLAP": (manifest([P("alpha", 1, "0", "0x41000000", extra=
                                "devices { uart@9000000 { reg = <0x0 0x09000000 0x0 0x1000>; }; };")]),
                    ["console UART (kept by the hypervisor)"], ""),
    "IMAGE-MISSING": (manifest([P("alpha", 1, "0", "0x41000000", image="nope.bin")]),
                      ["image \"nope.bin\"", "not in the image search path"], ""),
    "IMAGE-TOO-BIG": (manifest().replace("0x0 0x41000000 0x0 0x400000",
                                         "0x0 0x41000000 0x0 0x1000"),
                      ["image \"demo.bin\" of \"alpha\" needs"], ""),
    "ENTRY-OUTSIDE": (manifest().replace('label = "alpha";',
                                         'label = "alpha"; entry = <0x0 0x50000000>;'),
                      ["entry 0x50000000 of \"alpha\""], ""),
    "CONSOLE-COLLIDE": (manifest().replace("console = <0x0 0x09000000>;",
                                           "console = <0x0 0x41000000>;", 1),
                        ["console [0x41000000, 0x41001000) of \"alpha\" collides with its memory"], ""),
    "CONSOLE-INPUT": (manifest(hyp="console-input = <&alpha>;").replace(
        "console = <0x0 0x09000000>;", "", 1), ["has no 'console'"], ""),
    "IRQ-INVALID": (manifest([P("alpha", 1, "0", "0x41000000", extra=
                                "devices { rtc@9010000 { reg = <0x0 0x09010000 0x0 0x1000>; interrupts = <1 2 4>; }; };")]),
                    ["not a shared peripheral interrupt"], ""),
    "IRQ-TWICE": (manifest([P("alpha", 1, "0", "0x41000000", extra=
                              "devices { rtc@9010000 { reg = <0x0 0x09010000 0x0 0x1000>; interrupts = <0 1 4>; }; };")]),
                  ["SPI 1", "already given to the hypervisor's console UART"], ""),
    "MSG-TARGET": (manifest([P("alpha", 1, "0", "0x41000000", extra="messaging = <&alpha>;")]),
                   ["lists itself as a messaging target"], ""),
    "SHM-PARTITIONS": (manifest(tail="shared-memory { r { reg = <0x0 0x4f000000 0x0 0x1000>; "
                                     "partitions = <&alpha>; access = \"rw\"; }; };"),
                       ["needs at least two"], ""),
    "SHM-ACCESS": (manifest(tail="shared-memory { r { reg = <0x0 0x4f000000 0x0 0x1000>; "
                                 "partitions = <&alpha &beta>; access = \"rw\"; }; };"),
                   ["lists 2 partitions but 1 access words"], ""),
    "ACCESS-WORD": (manifest(tail="shared-memory { r { reg = <0x0 0x4f000000 0x0 0x1000>; "
                                  "partitions = <&alpha &beta>; access = \"rw\", \"wx\"; }; };"),
                    ["\"wx\" is not one of ro, rw, rx, rwx"], ""),
    "GRANT-PARTITION": (manifest(tail="memory-grants { g { from = <&alpha>; to = <&alpha>; "
                                      "operations = \"share\"; max-access = \"rw\"; max-pages = <4>; }; };"),
                        ["from \"alpha\" to itself"], ""),
    "GRANT-OPERATION": (manifest(tail="memory-grants { g { from = <&alpha>; to = <&beta>; "
                                      "operations = \"steal\"; max-access = \"rw\"; max-pages = <4>; }; };"),
                        ["operation \"steal\""], ""),
    "GRANT-PAGES": (manifest(tail="memory-grants { g { from = <&alpha>; to = <&beta>; "
                                  "operations = \"lend\"; max-access = \"rw\"; max-pages = <0>; }; };"),
                    ["max-pages 0"], ""),
    "GRANT-RANGE": (manifest(tail="memory-grants { g { from = <&alpha>; to = <&beta>; "
                                  "operations = \"lend\"; max-access = \"rw\"; max-pages = <4>; "
                                  "ranges = <0x0 0x41400000 0x0 0x1000>; }; };"),
                    ["range [0x41400000, 0x41401000) is not inside the memory of \"alpha\""], ""),
    "LIMIT-PARTITIONS": (manifest(), ["2 partitions, but CONFIG_MAX_PARTITIONS is 1"],
                         "CONFIG_MAX_PARTITIONS=1\n"),
    "LIMIT-CPUS": (manifest(), ["the board has 4 CPUs, but CONFIG_MAX_CPUS is 2"],
                   "CONFIG_MAX_CPUS=2\n"),
    "LIMIT-REGIONS": (manifest().replace("memory = <0x0 0x41000000 0x0 0x400000>;",
                                         "memory = <0x0 0x41000000 0x0 0x200000>, "
                                         "<0x0 0x41200000 0x0 0x200000>;"),
                      ["2 RAM regions, but CONFIG_MAX_MEM_REGIONS is 1"],
                      "CONFIG_MAX_MEM_REGIONS=1\n"),
    "LIMIT-DEVICES": (manifest([P("alpha", 1, "0", "0x41000000", extra=
                                  "devices { rtc@9010000 { reg = <0x0 0x09010000 0x0 0x1000>; }; };")]),
                      ["1 devices, but CONFIG_MAX_DEVICES is 0"], "CONFIG_MAX_DEVICES=0\n"),
    "LIMIT-SHM": (manifest(tail="shared-memory { r { reg = <0x0 0x4f000000 0x0 0x1000>; "
                                "partitions = <&alpha &beta>; access = \"rw\", \"ro\"; }; };"),
                  ["1 shared regions, but CONFIG_MAX_SHARED_REGIONS is 0"],
                  "CONFIG_MAX_SHARED_REGIONS=0\n"),
    "LIMIT-GRANTS": (manifest(tail="memory-grants { g { from = <&alpha>; to = <&beta>; "
                                   "operations = \"lend\"; max-access = \"rw\"; max-pages = <4>; }; };"),
                     ["1 grants, but CONFIG_MAX_GRANTS is 0"], "CONFIG_MAX_GRANTS=0\n"),
}


def compile_text(tmp_path, text, config="", out=True, name="m.dts"):
    mdir = tmp_path / "manifests"
    mdir.mkdir(exist_ok=True)
    (mdir / "platforms").mkdir(exist_ok=True)
    src = os.path.join(ROOT, "manifests", "platforms", "qemu-virt.dtsi")
    (mdir / "platforms" / "qemu-virt.dtsi").write_text(open(src).read())
    (mdir / name).write_text(text)
    args = [PYTHON, COMPILER, f"manifests/{name}", "-I", IMAGES,
            "--kconfig", os.path.join(ROOT, "Kconfig")]
    if config:
        (tmp_path / "config").write_text(config)
        args += ["--config", str(tmp_path / "config")]
    if out:
        args += ["--out-dir", str(tmp_path / "out")]
    return subprocess.run(args, capture_output=True, text=True, cwd=tmp_path)


def test_every_rule_has_a_negative_test():
    assert sorted(set(RULES) - {"SCHEMA-UNKNOWN"}) == sorted(BAD)


@pytest.mark.parametrize("rule", sorted(BAD))
def test_bad_manifest(tmp_path, rule):
    text, words, config = BAD[rule]
    r = compile_text(tmp_path, text, config)
    assert r.returncode == 1
    line = next((l for l in r.stderr.splitlines() if f"error[{rule}]" in l), None)
    assert line is not None, r.stderr
    for w in words:
        assert w in line or w in r.stderr, f"{w!r} not in {r.stderr!r}"
    if rule not in ("DTS-SYNTAX", "PLATFORM", "LIMIT-CPUS"):
        assert line.startswith("manifests/m.dts:"), line
    assert not (tmp_path / "out" / "manifest_tables.c").exists()


def test_cpu_twice_names_both_partitions_and_the_line(tmp_path):
    text = BAD["CPU-TWICE"][0]
    r = compile_text(tmp_path, text)
    lineno = next(i for i, l in enumerate(text.splitlines(), 1)
                  if "cpus = <2>;" in l)
    assert (f"manifests/m.dts:{lineno}: error[CPU-TWICE]: /bulkhead/partitions/"
            "partition@2: physical CPU 2 is given to both \"alpha\" and \"beta\"; a "
            "CPU belongs to one partition") in r.stderr.splitlines()


def test_unknown_property_is_a_warning(tmp_path):
    r = compile_text(tmp_path, manifest().replace('label = "beta";',
                                                  'label = "beta"; colour = "red";'))
    assert r.returncode == 0, r.stderr
    assert "warning[SCHEMA-UNKNOWN]" in r.stderr and "'colour'" in r.stderr


def test_error_removes_earlier_outputs(tmp_path):
    assert compile_text(tmp_path, manifest()).returncode == 0
    assert (tmp_path / "out" / "manifest_tables.c").exists()
    assert compile_text(tmp_path, BAD["CPU-TWICE"][0]).returncode == 1
    assert not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(ROOT, "manifests", "*.dts"))
                                  + glob.glob(os.path.join(ROOT, "tests", "scenarios", "*.dts"))))
def test_good_manifest_compiles(tmp_path, path):
    r = subprocess.run([PYTHON, COMPILER, path, "-I", IMAGES, "-i",
                        os.path.join(ROOT, "manifests"), "--out-dir", str(tmp_path)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    for f in ("manifest_tables.c", "manifest_gen.h", "hyp.ld", "layout.json",
              "memmap.txt", "memmap.json", "memmap.svg", "manifest.d"):
        assert (tmp_path / f).stat().st_size > 0


def test_output_is_deterministic(tmp_path):
    outs = []
    for i in range(2):
        d = tmp_path / f"o{i}"
        subprocess.run([PYTHON, COMPILER, "manifests/qemu-virt-demo.dts", "-I",
                        os.path.relpath(IMAGES, ROOT), "-i", "manifests",
                        "--out-dir", str(d)], check=True, cwd=ROOT)
        outs.append({f: (d / f).read_bytes() for f in sorted(os.listdir(d))
                     if f != "manifest.d"})
    assert outs[0] == outs[1]
    for data in outs[0].values():
        assert str(tmp_path).encode() not in data and ROOT.encode() not in data
