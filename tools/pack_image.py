#!/usr/bin/env python3
"""Bulkhead image packer: hypervisor + partition images -> one flashable file.

The hypervisor binary (objcopy of bulkhead.elf) comes first; it starts with
an arm64 Image header, so a loader passes the DTB address in x0. The
partition images follow at __payload_start, each at the offset the manifest
compiler chose (layout.json); the hypervisor copies them into partition RAM
at boot. Every image is checked against the hash the compiler recorded.
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bulkhead_manifest import paths  # noqa: E402

IMAGE_MAGIC = b"ARM\x64"


class PackError(Exception):
    pass


def symbol(nm: str, elf: str, name: str) -> int:
    out = subprocess.run([nm, elf], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == name:
            return int(parts[0], 16)
    raise PackError(f"{elf}: no symbol {name}")


def pack(elf: str, layout_path: str, image_dirs: list[str], objcopy: str) -> bytes:
    with open(layout_path, encoding="utf-8") as f:
        layout = json.load(f)
    nm = objcopy.replace("objcopy", "nm")
    base = symbol(nm, elf, "__image_start")
    payload_at = symbol(nm, elf, "__payload_start") - base
    payload_end = symbol(nm, elf, "__payload_end") - base
    if payload_end - payload_at != layout["payload_size"]:
        raise PackError(f"{elf} reserves {payload_end - payload_at:#x} bytes for "
                        f"images but the layout needs {layout['payload_size']:#x}: "
                        "rebuild the hypervisor")
    with tempfile.TemporaryDirectory() as tmp:
        raw = os.path.join(tmp, "hyp.bin")
        subprocess.run([objcopy, "-O", "binary", elf, raw], check=True)
        with open(raw, "rb") as f:
            hyp = f.read()
    if hyp[0x38:0x3C] != IMAGE_MAGIC:
        raise PackError(f"{elf} does not start with an arm64 Image header")
    if len(hyp) > payload_at:
        raise PackError(f"hypervisor binary ({len(hyp):#x}) overlaps the payload")
    out = bytearray(hyp) + bytes(payload_at - len(hyp))
    for img in layout["images"]:
        path, why = paths.find(img["name"], image_dirs)
        if why is not None:
            raise PackError(f"image \"{img['name']}\" {why}: only files in the "
                            f"image directory ({', '.join(image_dirs)}) are packed")
        if path is None:
            raise PackError(f"image {img['name']} not found in {image_dirs}")
        with open(path, "rb") as f:
            data = f.read()
        if hashlib.sha256(data).hexdigest() != img["sha256"]:
            raise PackError(f"{path} changed since the manifest was compiled: "
                            "run make again")
        start = payload_at + img["offset"]
        out += bytes(start - len(out))
        out += data
    return bytes(out)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--elf", required=True)
    ap.add_argument("--layout", required=True)
    ap.add_argument("-I", "--images", action="append", default=[])
    ap.add_argument("--objcopy", default="aarch64-linux-gnu-objcopy")
    ap.add_argument("-o", "--output", required=True)
    args = ap.parse_args(argv)
    try:
        data = pack(args.elf, args.layout, args.images, args.objcopy)
    except (PackError, OSError, ValueError, KeyError, TypeError,
            subprocess.CalledProcessError) as e:
        print(f"pack_image: error: {e}", file=sys.stderr)
        return 1
    tmp = args.output + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
