#!/usr/bin/python3
"""Takes what a Linux partition needs out of the fetched Debian packages:
the kernel Image, busybox, and the modules named on the command line with
everything they depend on (read from each module's .modinfo: Debian's
package carries no modules.dep, depmod runs at install time).

    extract.py --packages packages.json --out-dir DIR [--module NAME]...

Writes DIR/Image, DIR/busybox, DIR/modules/*.ko (uncompressed) and, last,
DIR/kernel.json: versions, Image header fields and the module load order.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from typing import Callable, Iterator

from kmod import (Module, ModuleError, ModuleIndex, decompress_module, image_header,
                  modinfo, module_suffix)

DEFAULT_MODULES = ("virtio_mmio", "virtio_blk", "ext4")
EM_AARCH64 = 183


class ExtractError(Exception):
    """Ends the extraction with one clear message."""


@dataclass(frozen=True)
class Deb:
    name: str
    version: str
    path: str
    sha256: str


def load_packages(path: str) -> tuple[str, Deb, Deb]:
    try:
        with open(path) as f:
            data = json.load(f)
        debs = data["debs"]
        out = []
        for key in ("kernel", "busybox"):
            p = data[key]
            if "/" in p["deb"]:
                raise ExtractError(f"{path}: bad package file name {p['deb']!r}")
            out.append(Deb(p["name"], p["version"], os.path.join(debs, p["deb"]), p["sha256"]))
        return data["abi"], out[0], out[1]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ExtractError(f"{path}: cannot read the package record: {e}") from e


def verify(deb: Deb) -> None:
    digest = hashlib.sha256()
    try:
        with open(deb.path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    except OSError as e:
        raise ExtractError(f"{deb.path}: {e}; run 'make linux-refresh' to fetch it again") from e
    if digest.hexdigest() != deb.sha256:
        raise ExtractError(f"{deb.path}: SHA256 differs from the signed index; "
                           "delete it and run 'make linux-refresh'")


def members(deb: Deb) -> Iterator[tuple[tarfile.TarFile, tarfile.TarInfo]]:
    """The data archive of a .deb, streamed (dpkg-deb --fsys-tarfile)."""
    proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb.path], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout is not None
    try:
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
            for info in tar:
                yield tar, info
    except tarfile.TarError as e:
        raise ExtractError(f"{deb.path}: bad data archive: {e}") from e
    finally:
        proc.stdout.close()
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if proc.wait() != 0:
            raise ExtractError(f"dpkg-deb --fsys-tarfile {deb.path}: {err.strip()}")


def read_member(tar: tarfile.TarFile, info: tarfile.TarInfo) -> bytes:
    f = tar.extractfile(info)
    if f is None:
        raise ExtractError(f"{info.name}: not a regular file")
    return f.read()


def norm(name: str) -> str:
    return name[2:] if name.startswith("./") else name


def scan_kernel(deb: Deb, abi: str, image_out: str) -> ModuleIndex:
    """First pass: the Image (written to image_out) and every module's .modinfo."""
    index = ModuleIndex(abi)
    moddir = f"lib/modules/{abi}/"
    builtin, builtin_modinfo = "", b""
    found_image = False
    for tar, info in members(deb):
        path = norm(info.name)
        if path == f"boot/vmlinuz-{abi}":
            if not info.isfile():
                raise ExtractError(f"{deb.path}: {path} is not a regular file")
            with open(image_out, "wb") as f:
                f.write(read_member(tar, info))
            found_image = True
        elif path == moddir + "modules.builtin" and info.isfile():
            builtin = read_member(tar, info).decode("utf-8", "replace")
        elif path == moddir + "modules.builtin.modinfo" and info.isfile():
            builtin_modinfo = read_member(tar, info)
        elif path.startswith(moddir) and info.isfile() and module_suffix(path):
            elf = decompress_module(path, read_member(tar, info))
            index.add(Module.from_modinfo(path, modinfo(elf, path)))
    if not found_image:
        raise ExtractError(f"{deb.path}: no boot/vmlinuz-{abi}")
    index.read_builtin(builtin, builtin_modinfo)
    return index


def extract_files(deb: Deb, wanted: dict[str, Callable[[bytes], None]]) -> None:
    """Second pass: hands the bytes of each wanted path to its callback."""
    left = dict(wanted)
    for tar, info in members(deb):
        path = norm(info.name)
        if path in left and info.isfile():
            left.pop(path)(read_member(tar, info))
    if left:
        raise ExtractError(f"{deb.path}: missing " + ", ".join(sorted(left)))


def write_file(path: str, data: bytes, mode: int = 0o644) -> None:
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def check_aarch64_elf(data: bytes, what: str) -> None:
    if len(data) < 20 or data[:4] != b"\x7fELF" or data[4] != 2 or \
            int.from_bytes(data[18:20], "little") != EM_AARCH64:
        raise ExtractError(f"{what}: not a 64-bit AArch64 ELF executable")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--packages", required=True, help="packages.json written by fetch.py")
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--module", action="append", dest="modules",
                    help=f"module to include (repeatable; default {' '.join(DEFAULT_MODULES)})")
    args = ap.parse_args(argv)
    wanted = args.modules or list(DEFAULT_MODULES)
    out = os.path.abspath(args.out_dir)
    try:
        abi, kernel, busybox = load_packages(args.packages)
        verify(kernel)
        verify(busybox)
        os.makedirs(out, exist_ok=True)
        # kernel.json is the make target: it goes first and comes back last.
        if os.path.exists(os.path.join(out, "kernel.json")):
            os.unlink(os.path.join(out, "kernel.json"))
        image_tmp = os.path.join(out, "Image.tmp")
        index = scan_kernel(kernel, abi, image_tmp)
        with open(image_tmp, "rb") as f:
            image = f.read()
        header = image_header(image, f"{kernel.name}: boot/vmlinuz-{abi}")
        os.replace(image_tmp, os.path.join(out, "Image"))
        order = index.load_order(wanted)

        moddir = os.path.join(out, "modules")
        shutil.rmtree(moddir, ignore_errors=True)
        os.makedirs(moddir)
        records = []

        def saver(module: Module) -> Callable[[bytes], None]:
            def save(data: bytes) -> None:
                elf = decompress_module(module.path, data)
                write_file(os.path.join(moddir, module.name + ".ko"), elf)
                records.append({"name": module.name, "file": f"modules/{module.name}.ko",
                                "source": module.path, "size": len(elf)})
            return save

        extract_files(kernel, {m.path: saver(m) for m in order})
        by_name = {r["name"]: r for r in records}
        records = [by_name[m.name] for m in order]

        def save_busybox(data: bytes) -> None:
            check_aarch64_elf(data, f"{busybox.name}: bin/busybox")
            write_file(os.path.join(out, "busybox"), data, 0o755)

        extract_files(busybox, {"bin/busybox": save_busybox})
        summary = {
            "abi": abi,
            "kernel": {"package": kernel.name, "version": kernel.version},
            "busybox": {"package": busybox.name, "version": busybox.version},
            "image": {"file": "Image", "size": len(image), "text_offset": header.text_offset,
                      "image_size": header.image_size, "flags": header.flags,
                      "sha256": hashlib.sha256(image).hexdigest()},
            "modules": records,
        }
        write_file(os.path.join(out, "kernel.json"), (json.dumps(summary, indent=2) + "\n").encode())
    except (ExtractError, ModuleError) as e:
        print(f"linux-extract: error: {e}", file=sys.stderr)
        return 1
    print(f"linux-extract: {kernel.name} {kernel.version}: Image {len(image)} bytes "
          f"(image_size {header.image_size:#x}); modules in load order: "
          + " ".join(r["name"] for r in records))
    return 0


if __name__ == "__main__":
    sys.exit(main())
