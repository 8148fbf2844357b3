#!/usr/bin/env python3
"""Bulkhead manifest compiler.

Checks a device-tree manifest against the board and the Kconfig limits and
writes, into --out-dir:
  manifest_tables.c   constant tables the EL2 core loads at boot
  manifest_gen.h      sizes and the manifest hash for the build
  hyp.ld              linker symbols (hypervisor base/size, payload size)
  layout.json         where each blob (image, kernel, initrd, device tree)
                      sits in the payload of the flashable image
  <partition>.dts/.dtb  each partition's device tree (checked with dtc)
  memmap.txt / memmap.json / memmap.svg   the machine's memory map
Each output is rewritten only when its text changes. On any error nothing
is written and earlier outputs are removed, so a later make cannot pick up
a stale table.
(make learns what a product is built from earlier, from
tools/manifest_deps.py.)
"""
import argparse
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bulkhead_manifest import checks, emit, parse, source  # noqa: E402
from bulkhead_manifest.diag import ManifestError, Reporter  # noqa: E402
from bulkhead_manifest.model import Limits  # noqa: E402

OUTPUTS = ["manifest_tables.c", "manifest_gen.h", "hyp.ld", "layout.json",
           "memmap.txt", "memmap.json", "memmap.svg"]
LIMIT_SYMBOLS = {
    "max_partitions": "MAX_PARTITIONS", "max_cpus": "MAX_CPUS",
    "max_mem_regions": "MAX_MEM_REGIONS", "max_devices": "MAX_DEVICES",
    "max_shared_regions": "MAX_SHARED_REGIONS", "max_grants": "MAX_GRANTS",
    "mem_max_transactions": "FFA_MEM_MAX_TRANSACTIONS",
    "mem_partition_transactions": "FFA_MEM_PARTITION_TRANSACTIONS",
    "page_pool_pages": "PAGE_POOL_PAGES",
    "max_partition_spis": "MAX_PARTITION_SPIS",
}
# what a device-tree file name in layout.json may be (a partition label)
_DT_FILE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,30}\.dt[sb]$")


def load_limits(kconfig: str, config: str | None) -> Limits:
    """Kconfig maxima: from the .config, defaults from the Kconfig file."""
    import kconfiglib
    kconf = kconfiglib.Kconfig(kconfig, warn=False)
    if config:
        kconf.load_config(config, replace=True)
    return Limits(**{k: int(kconf.syms[s].str_value) for k, s in LIMIT_SYMBOLS.items()})


def compile_manifest(path: str, limits: Limits, image_dirs: list[str],
                     include_dirs: list[str], product: str = "product"):
    """Returns (manifest, reporter); raises ManifestError on errors."""
    tree = source.load(path, include_dirs)
    return check_tree(tree, path, limits, image_dirs, product)


def check_tree(tree: source.SourceTree, path: str, limits: Limits,
               image_dirs: list[str], product: str):
    """Parse and check a loaded tree; raises ManifestError on errors."""
    rep = Reporter()
    checks.check_product(product, rep)
    m = parse.parse(tree, rep, path, limits)
    if m is not None:
        checks.check(m, limits, image_dirs, rep)
    rep.raise_if_errors()
    assert m is not None
    return m, rep


def outputs_of(m, product: str) -> dict[str, str]:
    """Every text output file."""
    out = {
        "manifest_tables.c": emit.c_tables(m, product),
        "manifest_gen.h": emit.c_header(m),
        "hyp.ld": emit.linker_fragment(m),
        "layout.json": emit.layout_json(m),
        "memmap.txt": emit.memmap_text(m, product),
        "memmap.json": emit.memmap_json(m, product),
        "memmap.svg": emit.memmap_svg(m, product),
    }
    out.update({f"{p.name}.dts": p.dts for p in m.partitions})
    return out


def blobs_of(m) -> dict[str, bytes]:
    """The binary outputs: each partition's device tree blob."""
    return {f"{p.name}.dtb": p.dtb for p in m.partitions}


def _write_if_changed(path: str, data) -> None:
    """Writes text (str) or bytes, unless the file already holds them."""
    raw = data.encode("utf-8", errors="surrogateescape") if isinstance(data, str) \
        else data
    try:
        with open(path, "rb") as f:
            if f.read() == raw:
                return
    except FileNotFoundError:
        pass
    tmp = f"{path}.{os.getpid()}.tmp"  # two makes may write it at once
    with open(tmp, "wb") as f:
        f.write(raw)
    os.replace(tmp, path)


def _previous_device_trees(out_dir: str) -> list[str]:
    """The device-tree files an earlier run wrote (its layout.json lists
    them); only names a partition label can give."""
    try:
        with open(os.path.join(out_dir, "layout.json"), encoding="utf-8") as f:
            names = json.load(f).get("device_trees", [])
    except (OSError, ValueError, AttributeError):
        return []
    if not isinstance(names, list):
        return []
    return [n for n in names if isinstance(n, str) and _DT_FILE_RE.fullmatch(n)]


def _remove(out_dir: str, names: list[str]) -> None:
    for name in names:
        try:
            os.remove(os.path.join(out_dir, name))
        except FileNotFoundError:
            pass


def _remove_outputs(out_dir: str) -> None:
    _remove(out_dir, _previous_device_trees(out_dir) + OUTPUTS)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("manifest")
    ap.add_argument("--out-dir", help="where to write the outputs "
                    "(omit to only check)")
    ap.add_argument("--config", help="Kconfig .config with the limits")
    ap.add_argument("--kconfig", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "Kconfig"))
    ap.add_argument("-I", "--images", action="append", default=[],
                    help="image search directory (repeatable)")
    ap.add_argument("-i", "--include", action="append", default=[],
                    help="dtc include directory (repeatable)")
    ap.add_argument("--product", help="product name (default: manifest file name)")
    ap.add_argument("--stats", action="store_true",
                    help="print how long compiling took")
    args = ap.parse_args(argv)

    start = time.perf_counter()
    product = args.product or os.path.splitext(os.path.basename(args.manifest))[0]
    try:
        limits = load_limits(args.kconfig, args.config)
        m, rep = compile_manifest(args.manifest, limits, args.images,
                                  args.include, product)
        outputs = outputs_of(m, product)
    except ManifestError as e:
        for d in e.diagnostics:
            print(d, file=sys.stderr)
        n = len([d for d in e.diagnostics if d.severity == "error"])
        print(f"manifestc: {args.manifest}: {n} error(s); nothing written",
              file=sys.stderr)
        if args.out_dir:
            _remove_outputs(args.out_dir)
        return 1
    for d in rep.diagnostics:
        print(d, file=sys.stderr)
    if args.out_dir:
        os.makedirs(args.out_dir, exist_ok=True)
        files = {**outputs, **blobs_of(m)}
        _remove(args.out_dir, [n for n in _previous_device_trees(args.out_dir)
                               if n not in files])
        for name, data in files.items():
            _write_if_changed(os.path.join(args.out_dir, name), data)
    if args.stats:
        ms = (time.perf_counter() - start) * 1000
        print(f"manifestc: {len(m.partitions)} partitions compiled in {ms:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
