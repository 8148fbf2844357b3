#!/usr/bin/python3
"""The small ext4 disk image of a Linux partition, made and read on the host
without root, loop devices or mounting (e2fsprogs: mke2fs -d, debugfs).

    disk.py create --out disk.img [--size-mib 8] [--file /DEST=SRC]...
        an ext4 image holding /hello.txt (HELLO_TEXT) and the given files
    disk.py cat disk.img /path
        prints a file of the image (fails if the image needs journal
        recovery, i.e. Linux did not unmount it, or the file is missing)
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

HELLO_PATH = "/hello.txt"
HELLO_TEXT = "hello from the Bulkhead build\n"
# Fixed label, UUID, hash seed and times (only inode generation numbers
# stay random).
UUID = "8b3c1f6e-2a4d-4e5f-9a6b-7c8d9e0f1a2b"
HASH_SEED = "5d1e2f3a-4b5c-4d6e-8f70-819203a4b5c6"
_SAFE_PATH = re.compile(r"^(/[A-Za-z0-9._+-]+)+$")


class DiskError(Exception):
    """Ends the command with one clear message."""


def check_path(path: str) -> str:
    if not _SAFE_PATH.match(path) or any(p in (".", "..") for p in path.split("/")[1:]):
        raise DiskError(f"{path!r}: give an absolute path of letters, digits and ._+-")
    return path


def run(args: list[str], **kw) -> subprocess.CompletedProcess:
    """Runs an e2fsprogs tool; they live in /usr/sbin, often not in a
    user's PATH."""
    search = os.environ.get("PATH", "") + os.pathsep + "/usr/sbin" + os.pathsep + "/sbin"
    tool = shutil.which(args[0], path=search)
    if tool is None:
        raise DiskError(f"{args[0]} not found (Debian package e2fsprogs)")
    return subprocess.run([tool] + args[1:], capture_output=True, **kw)


def create(out: str, size_mib: int, files: list[tuple[str, bytes]]) -> None:
    if not 4 <= size_mib <= 4096:
        raise DiskError(f"--size-mib {size_mib}: between 4 and 4096")
    with tempfile.TemporaryDirectory(prefix="bulkhead-disk-") as staging:
        for dest, data in [(HELLO_PATH, HELLO_TEXT.encode())] + files:
            path = os.path.join(staging, check_path(dest).lstrip("/"))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
            os.chmod(path, 0o644)
        for dirpath, _, _ in os.walk(staging):
            os.chmod(dirpath, 0o755)
            os.utime(dirpath, (0, 0))
        for dirpath, _, names in os.walk(staging):
            for n in names:
                os.utime(os.path.join(dirpath, n), (0, 0))
        tmp = out + ".tmp"
        if os.path.exists(tmp):
            os.unlink(tmp)
        env = dict(os.environ, E2FSPROGS_FAKE_TIME="1", LC_ALL="C")
        res = run(["mke2fs", "-q", "-F", "-t", "ext4", "-L", "bulkhead", "-U", UUID,
                   "-E", f"root_owner=0:0,hash_seed={HASH_SEED}", "-d", staging,
                   tmp, f"{size_mib}M"], env=env)
        if res.returncode != 0:
            raise DiskError("mke2fs failed: " + res.stderr.decode(errors="replace").strip())
        os.replace(tmp, out)


def needs_recovery(image: str) -> bool:
    res = run(["dumpe2fs", "-h", image], env=dict(os.environ, LC_ALL="C"))
    if res.returncode != 0:
        raise DiskError(f"{image}: not an ext2/3/4 image: "
                        + res.stderr.decode(errors="replace").strip().splitlines()[-1])
    for line in res.stdout.decode(errors="replace").splitlines():
        if line.startswith("Filesystem features:"):
            return "needs_recovery" in line.split()
    raise DiskError(f"{image}: dumpe2fs printed no feature list")


def cat(image: str, path: str) -> bytes:
    """A file's bytes; DiskError if the image was not cleanly unmounted or
    the file is not there."""
    check_path(path)
    if not os.path.isfile(image):
        raise DiskError(f"{image}: no such image")
    if needs_recovery(image):
        raise DiskError(f"{image}: the journal needs recovery (Linux did not unmount it)")
    # debugfs reports a missing file on stderr and still exits 0: ask first.
    res = run(["debugfs", "-R", f"stat {path}", image], env=dict(os.environ, LC_ALL="C"))
    err = res.stderr.decode(errors="replace")
    if res.returncode != 0 or "not found" in err or "Type: regular" not in res.stdout.decode(errors="replace"):
        raise DiskError(f"{image}: no regular file {path}")
    res = run(["debugfs", "-R", f"cat {path}", image], env=dict(os.environ, LC_ALL="C"))
    if res.returncode != 0:
        raise DiskError(f"debugfs cat {path}: " + res.stderr.decode(errors="replace").strip())
    return res.stdout


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    c = sub.add_parser("create")
    c.add_argument("--out", required=True)
    c.add_argument("--size-mib", type=int, default=8)
    c.add_argument("--file", action="append", default=[], metavar="/DEST=SRC")
    r = sub.add_parser("cat")
    r.add_argument("image")
    r.add_argument("path")
    args = ap.parse_args(argv)
    try:
        if args.command == "create":
            files = []
            for item in args.file:
                dest, sep, src = item.partition("=")
                if not sep:
                    raise DiskError(f"--file {item!r}: expected /DEST=SRC")
                try:
                    with open(src, "rb") as f:
                        files.append((dest, f.read()))
                except OSError as e:
                    raise DiskError(f"--file {item}: {e}") from e
            create(args.out, args.size_mib, files)
            print(f"disk: {args.out}: ext4, {args.size_mib} MiB, {HELLO_PATH} = {HELLO_TEXT!r}")
        else:
            sys.stdout.buffer.write(cat(args.image, args.path))
    except DiskError as e:
        print(f"disk: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
