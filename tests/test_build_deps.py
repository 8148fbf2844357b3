"""The build never boots stale code: in a copy of the tree, each kind of
change is followed by `make` (no clean) and a boot or a look at the bytes
showing that it took effect, then by a second `make` that does nothing.

The product is one partition of our own (tests/partitions/stale-probe in the
copy) printing a string from its source and a number from a header in
include/bulkhead/ that the hypervisor and the unit tests include too.
"""
from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from conftest import PYTHON, ROOT, Limits, boot, copy_tree

PROBE_DIR = "tests/partitions/stale-probe"
PROBE_MANIFEST = "manifests/stale-probe.dts"
SHARED_HEADER = "include/bulkhead/ffa.h"
PROBE_SOURCE = """\
/* Written by tests/test_build_deps.py into a copy of the tree. */
#include <bulkhead/ffa.h>
#include <guest/guest.h>

int main(void)
{
	guest_printf("stale-probe: text %s, word 0x%x\\n", "AAAA",
		     (unsigned int)STALE_PROBE_WORD);
	return 0;
}
"""
MANIFEST_TEXT = """\
/dts-v1/;
/include/ "platforms/qemu-virt.dtsi"

/ {
	bulkhead {
		compatible = "bulkhead,manifest-v1";
		hypervisor {
			memory = <0x0 0x40200000 0x0 0x00e00000>;
		};
		partitions {
			partition@1 {
				id = <1>;
				label = "probe-a";
				cpus = <0>;
				memory = <0x0 0x44000000 0x0 0x00200000>;
				image = "stale-probe.bin";
				console = <0x0 0x09000000>;
			};
		};
	};
};
"""
PROBE_LINE_RE = re.compile(r"^(?:\[([\w.-]+)\] )?stale-probe: text (\w+), word (0x[0-9a-f]+)\r?$",
                           re.M)
BANNER_RE = re.compile(r"Bulkhead (\S+): stale-probe on ")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"{path}: expected one {old!r}"
    path.write_text(text.replace(old, new))


@dataclass
class Tree:
    root: Path

    @property
    def build(self) -> Path:
        return self.root / "build"

    @property
    def image(self) -> Path:
        return self.build / "products" / "stale-probe" / "bulkhead.img"

    def make(self, *goals: str) -> str:
        env = dict(os.environ)
        env.pop("MAKEFLAGS", None)
        env.pop("MFLAGS", None)
        proc = subprocess.run(["make", "-j2", "--no-print-directory", f"PYTHON={PYTHON}",
                               f"MANIFEST={PROBE_MANIFEST}", *goals],
                              cwd=self.root, env=env, capture_output=True, text=True,
                              timeout=900)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        return proc.stdout + proc.stderr

    def files(self) -> dict[str, int]:
        """Every file under build/ and its modification time."""
        out = {}
        for dirpath, _, names in os.walk(self.build):
            for name in names:
                path = os.path.join(dirpath, name)
                out[os.path.relpath(path, self.build)] = os.stat(path).st_mtime_ns
        return out

    def make_does_nothing(self, *goals: str) -> None:
        before = self.files()
        out = self.make(*goals)
        changed = sorted(f for f, t in self.files().items() if before.get(f) != t)
        assert not changed, f"a second make rewrote {changed}:\n{out}"
        lines = [l for l in out.splitlines() if "Nothing to be done" not in l]
        assert lines == [], f"a second make did something:\n{out}"

    def boot(self) -> tuple[str, str, str, str]:
        """(console prefix or '', text, word, version) the probe printed."""
        b = boot(str(self.image), Limits(quiet=60.0, cap=120.0))
        assert b.failure is None, b.failure
        probe = PROBE_LINE_RE.findall(b.output)
        assert len(probe) == 1, b.output
        banner = BANNER_RE.search(b.output)
        assert banner, b.output
        return (*probe[0], banner.group(1))


def built_lines(out: str, what: str) -> list[str]:
    return [l.split()[1] for l in out.splitlines() if l.split()[:1] == [what]]


def test_incremental_builds_take_every_change(tmp_path):
    tree = Tree(tmp_path / "tree")
    copy_tree(tree.root)
    (tree.root / PROBE_DIR).mkdir(parents=True)
    (tree.root / PROBE_DIR / "main.c").write_text(PROBE_SOURCE)
    (tree.root / PROBE_MANIFEST).write_text(MANIFEST_TEXT)
    header = tree.root / SHARED_HEADER
    header.write_text(header.read_text() + "#define STALE_PROBE_WORD 0x1111\n")

    tree.make("all", "unit-tests")
    assert tree.boot() == ("probe-a", "AAAA", "0x1111", "0.1.0")
    tree.make_does_nothing("all", "unit-tests")

    # 1. a partition's string, same length: the image keeps its size
    size = tree.image.stat().st_size
    edit(tree.root / PROBE_DIR / "main.c", '"AAAA"', '"BBBB"')
    out = tree.make("all")
    assert built_lines(out, "IMAGE") == ["build/products/stale-probe/bulkhead.img"], out
    assert tree.image.stat().st_size == size
    assert tree.boot() == ("probe-a", "BBBB", "0x1111", "0.1.0")
    tree.make_does_nothing("all", "unit-tests")

    # 2. a header in include/bulkhead/: partition, hypervisor and unit tests
    edit(header, "STALE_PROBE_WORD 0x1111", "STALE_PROBE_WORD 0x2222")
    out = tree.make("all", "unit-tests")
    cc = built_lines(out, "CC")
    assert f"{PROBE_DIR}/main.c" in cc and "core/ffa.c" in cc, out
    assert "tests/unit/test_ffa.c" in built_lines(out, "HOSTCC"), out
    assert built_lines(out, "HOSTLD") == ["build/unit/unit"], out
    assert tree.boot() == ("probe-a", "BBBB", "0x2222", "0.1.0")
    tree.make_does_nothing("all", "unit-tests")

    # 3. a manifest value (the label: the console prefix)
    edit(tree.root / PROBE_MANIFEST, '"probe-a"', '"probe-b"')
    out = tree.make("all")
    assert built_lines(out, "MANIFEST") == [PROBE_MANIFEST], out
    assert tree.boot() == ("probe-b", "BBBB", "0x2222", "0.1.0")
    tree.make_does_nothing("all")

    # 4. the linker script: relinked
    edit(tree.root / "arch/aarch64/bulkhead.ld", "ENTRY(_start)",
         "ENTRY(_start)\n__stale_probe = 0x5a5a;")
    out = tree.make("all")
    assert built_lines(out, "LD") == ["build/products/stale-probe/bulkhead.elf"], out
    nm = subprocess.run(["aarch64-linux-gnu-nm", str(tree.build / "bulkhead.elf")],
                        capture_output=True, text=True, check=True).stdout
    assert re.search(r"^0*5a5a A __stale_probe$", nm, re.M), nm
    tree.make_does_nothing("all")

    # 5. a compiler flag edited in the Makefile (the version string)
    edit(tree.root / "Makefile", "VERSION := 0.1.0", "VERSION := 0.1.9")
    out = tree.make("all")
    assert "core/main.c" in built_lines(out, "CC"), out
    assert tree.boot() == ("probe-b", "BBBB", "0x2222", "0.1.9")
    tree.make_does_nothing("all")

    # 6. the .config: no console prefix (the partition is rebuilt too)
    edit(tree.build / ".config", "CONFIG_CONSOLE_PREFIX=y",
         "# CONFIG_CONSOLE_PREFIX is not set")
    out = tree.make("all")
    assert f"{PROBE_DIR}/main.c" in built_lines(out, "CC"), out
    assert tree.boot() == ("", "BBBB", "0x2222", "0.1.9")
    tree.make_does_nothing("all")


def test_deps_fragment_names_the_sources_and_images(tmp_path):
    out = tmp_path / "p" / "manifest.d"
    images = tmp_path / "images"
    subprocess.run([PYTHON, "tools/manifest_deps.py", "tests/scenarios/psci.dts",
                    "-I", str(images), "-i", "manifests", "--target", "STAMP",
                    "-o", str(out)], cwd=ROOT, check=True)
    assert out.read_text() == (
        "# Generated by tools/manifest_deps.py. Do not edit.\n"
        f"{out} STAMP: tests/scenarios/psci.dts manifests/platforms/qemu-virt.dtsi\n"
        f"STAMP: {images}/psci-test.bin\n"
        "tests/scenarios/psci.dts:\n"
        "manifests/platforms/qemu-virt.dtsi:\n"
        f"{images}/psci-test.bin:\n")
    mtime = out.stat().st_mtime_ns
    subprocess.run([PYTHON, "tools/manifest_deps.py", "tests/scenarios/psci.dts",
                    "-I", str(images), "-i", "manifests", "--target", "STAMP",
                    "-o", str(out)], cwd=ROOT, check=True)
    assert out.stat().st_mtime_ns == mtime  # unchanged text: not rewritten


def test_deps_fragment_of_a_source_dtc_rejects(tmp_path):
    bad = tmp_path / "bad.dts"
    bad.write_text("/dts-v1/;\n/ { oops\n")
    out = tmp_path / "manifest.d"
    r = subprocess.run([PYTHON, os.path.join(ROOT, "tools/manifest_deps.py"), str(bad),
                        "--target", "STAMP", "-o", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stderr == ""
    assert out.read_text() == (
        "# Generated by tools/manifest_deps.py. Do not edit.\n"
        f"{out} STAMP: {bad}\n"
        f"{bad}:\n")
