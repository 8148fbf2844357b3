#!/usr/bin/python3
"""Builds the initramfs of a Linux partition: busybox (its applet links are
made by /init with `busybox --install -s`), the files under
tools/linux/rootfs (/init, busybox init's inittab, rcS/rcK, profile), and
the kernel modules extract.py selected, with their load order in
/etc/bulkhead/modules. Deterministic: the same inputs give the same bytes.

    mkinitramfs.py --kernel-dir build/linux --rootfs tools/linux/rootfs \\
        --out build/linux/initramfs.cpio.gz [--file DEST=SRC]...
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import stat
import sys

from newc import CpioError, NewcArchive

# The kernel opens /dev/console before running /init (devtmpfs is mounted
# later, by rcS): without this node init has no stdin/stdout.
DIRECTORIES = ("bin", "sbin", "usr", "usr/bin", "usr/sbin", "dev", "proc", "sys", "mnt",
               "tmp", "root", "etc", "etc/bulkhead", "lib", "lib/modules", "run", "var")
_MODULE_NAME = re.compile(r"^[A-Za-z0-9_]+$")


class InitramfsError(Exception):
    """Ends the build with one clear message."""


def read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise InitramfsError(f"cannot read {path}: {e}") from e


def add_parents(archive: NewcArchive, name: str) -> None:
    parts = name.split("/")[:-1]
    for i in range(1, len(parts) + 1):
        path = "/".join(parts[:i])
        if not archive.has(path):
            archive.directory(path)


def add_tree(archive: NewcArchive, root: str) -> None:
    """Regular files and directories under root; exec bit kept, rest 0644/0755."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        rel = os.path.relpath(dirpath, root)
        for name in sorted(filenames):
            src = os.path.join(dirpath, name)
            st = os.lstat(src)
            if not stat.S_ISREG(st.st_mode):
                raise InitramfsError(f"{src}: only regular files go into the initramfs")
            dest = name if rel == "." else f"{rel}/{name}"
            add_parents(archive, dest)
            archive.file(dest, read(src), 0o755 if st.st_mode & 0o111 else 0o644)


def build(kernel_dir: str, rootfs: str, extra: list[tuple[str, str]]) -> bytes:
    try:
        with open(os.path.join(kernel_dir, "kernel.json")) as f:
            kernel = json.load(f)
        modules = [(m["name"], m["file"]) for m in kernel["modules"]]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise InitramfsError(f"{kernel_dir}/kernel.json: {e}") from e
    archive = NewcArchive()
    for d in DIRECTORIES:
        archive.directory(d)
    archive.char_device("dev/console", 5, 1)
    archive.file("bin/busybox", read(os.path.join(kernel_dir, "busybox")), 0o755)
    archive.symlink("bin/sh", "busybox")
    order = []
    for name, file in modules:
        if not _MODULE_NAME.match(name) or ".." in file.split("/"):
            raise InitramfsError(f"kernel.json: bad module entry {name!r} {file!r}")
        archive.file(f"lib/modules/{name}.ko", read(os.path.join(kernel_dir, file)))
        order.append(name)
    archive.file("etc/bulkhead/modules", "".join(f"{n}\n" for n in order).encode())
    add_tree(archive, rootfs)
    if not archive.has("init"):
        raise InitramfsError(f"{rootfs}: no init script")
    for dest, src in extra:
        dest = dest.strip("/")
        add_parents(archive, dest)
        archive.file(dest, read(src), 0o755 if os.stat(src).st_mode & 0o111 else 0o644)
    return gzip.compress(archive.finish(), compresslevel=9, mtime=0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kernel-dir", required=True, help="directory extract.py wrote")
    ap.add_argument("--rootfs", required=True, help="tree copied to / (tools/linux/rootfs)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--file", action="append", default=[], metavar="DEST=SRC",
                    help="also put host file SRC at DEST (repeatable)")
    args = ap.parse_args(argv)
    try:
        extra = []
        for item in args.file:
            dest, sep, src = item.partition("=")
            if not sep or not dest or not src:
                raise InitramfsError(f"--file {item!r}: expected DEST=SRC")
            extra.append((dest, src))
        data = build(args.kernel_dir, args.rootfs, extra)
    except (InitramfsError, CpioError) as e:
        print(f"mkinitramfs: error: {e}", file=sys.stderr)
        return 1
    tmp = args.out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, args.out)
    print(f"mkinitramfs: {args.out}: {len(data)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
