#!/usr/bin/env python3
"""Bulkhead image packer: hypervisor + payload -> one flashable file.

The hypervisor binary (objcopy of bulkhead.elf) comes first; it starts with
an arm64 Image header, so a loader passes the DTB address in x0. The
payload follows: the partitions' images, kernels and initrds (files of the
image directory) and their device trees (written by the manifest compiler
into the product directory, beside layout.json), each at the offset the
compiler chose (layout.json). The payload starts at __payload_start, inside
the hypervisor's memory, or, when the manifest names a payload region, at
that region's address: the file is contiguous from the hypervisor's base,
so the gap between is zeros. The hypervisor copies the blobs into partition
RAM at every (re)boot. Every blob is checked against the hash the compiler
recorded.

Build ID: bytes 0x28..0x37 of the Image header (res3, res4, which loaders
ignore) receive the first 16 bytes of the SHA-256 of the whole image with
those bytes zero. The banner prints it; `--show-id IMAGE` prints it on the
host. Same inputs, same bytes, same ID.
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
BUILD_ID_AT = 0x28
BUILD_ID_LEN = 16


class PackError(Exception):
    pass


def symbol(nm: str, elf: str, name: str) -> int:
    out = subprocess.run([nm, elf], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == name:
            return int(parts[0], 16)
    raise PackError(f"{elf}: no symbol {name}")


def _blob_dirs(blob: dict, image_dirs: list[str], product_dir: str) -> list[str]:
    source = blob.get("source", "images")
    if source == "images":
        return image_dirs
    if source == "product":
        return [product_dir]
    raise PackError(f"blob \"{blob.get('name')}\" has source {source!r}, "
                    "neither \"images\" nor \"product\"")


def _payload_start(layout: dict, reserved: int, reserved_at: int) -> int:
    """The payload's offset in the file."""
    region = layout.get("payload_region")
    if region is None:
        if reserved != layout["payload_size"]:
            raise PackError(f"the hypervisor reserves {reserved:#x} bytes for "
                            f"the payload but the layout needs "
                            f"{layout['payload_size']:#x}: rebuild the hypervisor")
        return reserved_at
    if reserved != 0:
        raise PackError(f"the hypervisor reserves {reserved:#x} bytes for a "
                        "payload that has its own region: rebuild the hypervisor")
    at = region["base"] - layout["hypervisor"]["base"]
    if at < layout["hypervisor"]["size"] or layout["payload_size"] > region["size"]:
        raise PackError(f"payload region {region} is not above the hypervisor's "
                        "memory, or too small for the payload: recompile the manifest")
    return at


def pack(elf: str, layout_path: str, image_dirs: list[str], objcopy: str) -> bytes:
    with open(layout_path, encoding="utf-8") as f:
        layout = json.load(f)
    product_dir = os.path.dirname(os.path.abspath(layout_path))
    nm = objcopy.replace("objcopy", "nm")
    base = symbol(nm, elf, "__image_start")
    reserved_at = symbol(nm, elf, "__payload_start") - base
    reserved = symbol(nm, elf, "__payload_end") - base - reserved_at
    payload_at = _payload_start(layout, reserved, reserved_at)
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
        dirs = _blob_dirs(img, image_dirs, product_dir)
        path, why = paths.find(img["name"], dirs)
        if why is not None:
            raise PackError(f"image \"{img['name']}\" {why}: only files in the "
                            f"image directory ({', '.join(dirs)}) are packed")
        if path is None:
            raise PackError(f"image {img['name']} not found in {dirs}")
        with open(path, "rb") as f:
            data = f.read()
        if hashlib.sha256(data).hexdigest() != img["sha256"]:
            raise PackError(f"{path} changed since the manifest was compiled: "
                            "run make again")
        start = payload_at + img["offset"]
        if start < len(out):
            raise PackError(f"image {img['name']} at payload offset "
                            f"{img['offset']:#x} overlaps the blob before it")
        out += bytes(start - len(out))
        out += data
    return set_build_id(bytes(out))


def build_id(image: bytes) -> bytes:
    """The ID an image should carry: SHA-256 of it with the ID field zero."""
    if len(image) < 0x40 or image[0x38:0x3C] != IMAGE_MAGIC:
        raise PackError("not a Bulkhead image (no arm64 Image header)")
    blank = image[:BUILD_ID_AT] + bytes(BUILD_ID_LEN) + \
        image[BUILD_ID_AT + BUILD_ID_LEN:]
    return hashlib.sha256(blank).digest()[:BUILD_ID_LEN]


def set_build_id(image: bytes) -> bytes:
    if any(image[BUILD_ID_AT:BUILD_ID_AT + BUILD_ID_LEN]):
        raise PackError("the Image header's build-ID field (res3/res4) is "
                        "not zero in the hypervisor binary")
    ident = build_id(image)
    return image[:BUILD_ID_AT] + ident + image[BUILD_ID_AT + BUILD_ID_LEN:]


def show_id(path: str) -> str:
    with open(path, "rb") as f:
        image = f.read()
    stored = image[BUILD_ID_AT:BUILD_ID_AT + BUILD_ID_LEN]
    if len(image) < 0x40 or stored != build_id(image):
        raise PackError(f"{path}: the build ID does not match the image bytes "
                        "(not packed by this tool, or changed since)")
    return stored.hex()


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--show-id", metavar="IMAGE",
                    help="print IMAGE's build ID (checked) and exit")
    ap.add_argument("--elf")
    ap.add_argument("--layout")
    ap.add_argument("-I", "--images", action="append", default=[])
    ap.add_argument("--objcopy", default="aarch64-linux-gnu-objcopy")
    ap.add_argument("-o", "--output")
    args = ap.parse_args(argv)
    if args.show_id:
        try:
            print(show_id(args.show_id))
        except (PackError, OSError) as e:
            print(f"pack_image: error: {e}", file=sys.stderr)
            return 1
        return 0
    if not (args.elf and args.layout and args.output):
        ap.error("--elf, --layout and -o are needed to pack an image")
    try:
        data = pack(args.elf, args.layout, args.images, args.objcopy)
    except (PackError, OSError, ValueError, KeyError, TypeError,
            subprocess.CalledProcessError) as e:
        print(f"pack_image: error: {e}", file=sys.stderr)
        return 1
    tmp = f"{args.output}.{os.getpid()}.tmp"  # two makes may pack at once
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
