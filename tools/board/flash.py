#!/usr/bin/env python3
"""Writes the SD-card image to a card: `make flash DEVICE=/dev/sdX`.

Refuses anything that is not a whole removable block device, or that has a
mounted (or swap) partition, and asks for confirmation unless --yes.
The checks read /sys and /proc; both roots can be given for tests.
"""
import argparse
import os
import stat
import sys
from dataclasses import dataclass

CHUNK = 4 << 20


class FlashError(Exception):
    pass


@dataclass
class Host:
    sys_root: str = "/sys"
    proc_root: str = "/proc"


@dataclass
class Card:
    path: str
    name: str          # kernel name, e.g. sdb
    size: int          # bytes
    model: str


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read().strip()
    except OSError:
        return ""


def _dev_numbers(path: str) -> tuple[int, int]:
    st = os.stat(path)
    return os.major(st.st_rdev), os.minor(st.st_rdev)


def check_device(path: str, host: Host) -> Card:
    """Returns the card if `path` may be written; raises FlashError saying
    why not."""
    try:
        st = os.stat(path)
    except OSError as e:
        raise FlashError(f"{path}: {e.strerror}") from e
    if not stat.S_ISBLK(st.st_mode):
        raise FlashError(f"{path} is not a block device")
    major, minor = os.major(st.st_rdev), os.minor(st.st_rdev)
    dev_dir = os.path.join(host.sys_root, "dev", "block", f"{major}:{minor}")
    if not os.path.isdir(dev_dir):
        raise FlashError(f"{path}: block device {major}:{minor} is not in "
                         f"{host.sys_root}/dev/block")
    if os.path.exists(os.path.join(dev_dir, "partition")):
        raise FlashError(f"{path} is a partition: name the whole card "
                         "(e.g. /dev/sdb, not /dev/sdb1)")
    name = os.path.basename(os.path.realpath(dev_dir))
    if _read(os.path.join(dev_dir, "removable")) != "1":
        raise FlashError(f"{path} ({name}) is not a removable device; "
                         "refusing to overwrite it")
    # The device and its partitions, as major:minor.
    numbers = {f"{major}:{minor}"}
    for entry in sorted(os.listdir(dev_dir)):
        dev_file = os.path.join(dev_dir, entry, "dev")
        if entry.startswith(name) and os.path.isfile(dev_file):
            numbers.add(_read(dev_file))
    for line in _read(os.path.join(host.proc_root, "self", "mountinfo")).splitlines():
        fields = line.split()
        if len(fields) > 4 and fields[2] in numbers:
            raise FlashError(f"{path} ({name}) has a partition mounted on "
                             f"{fields[4]}: unmount it first")
    for line in _read(os.path.join(host.proc_root, "swaps")).splitlines()[1:]:
        swap = line.split()[0] if line.split() else ""
        try:
            if swap and stat.S_ISBLK(os.stat(swap).st_mode) and \
                    "%d:%d" % _dev_numbers(swap) in numbers:
                raise FlashError(f"{path} ({name}) holds active swap {swap}")
        except OSError:
            continue
    sectors = _read(os.path.join(dev_dir, "size"))
    size = int(sectors) * 512 if sectors.isdigit() else 0
    if size == 0:
        raise FlashError(f"{path} ({name}) has no medium (size 0)")
    model = " ".join(filter(None, (_read(os.path.join(dev_dir, "device", "vendor")),
                                   _read(os.path.join(dev_dir, "device", "model")))))
    return Card(path=path, name=name, size=size, model=model or "unknown model")


def write_image(image: str, card: Card) -> None:
    """Writes and reads back the image; raises FlashError on a mismatch."""
    length = os.path.getsize(image)
    if length > card.size:
        raise FlashError(f"{image} ({length} bytes) does not fit {card.path} "
                         f"({card.size} bytes)")
    with open(image, "rb") as src, open(card.path, "r+b", buffering=0) as dst:
        while True:
            chunk = src.read(CHUNK)
            if not chunk:
                break
            dst.write(chunk)
        os.fsync(dst.fileno())
    with open(image, "rb") as src, open(card.path, "rb") as dev:
        while True:
            chunk = src.read(CHUNK)
            if not chunk:
                break
            if dev.read(len(chunk)) != chunk:
                raise FlashError(f"{card.path}: read-back differs from {image}")


def main(argv: list[str], host: Host | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("image")
    ap.add_argument("device")
    ap.add_argument("--yes", action="store_true", help="do not ask")
    args = ap.parse_args(argv)
    host = host or Host()
    try:
        card = check_device(args.device, host)
        mib = card.size / (1 << 20)
        print(f"flash: {card.path} is {card.name}, {card.model}, {mib:.0f} MiB, "
              "removable, nothing mounted")
        if not args.yes:
            print(f"flash: write {args.image} to {card.path}? Everything on the "
                  "card is lost. Type 'yes': ", end="", flush=True)
            answer = sys.stdin.readline().strip()
            if answer != "yes":
                raise FlashError("not confirmed; nothing written")
        write_image(args.image, card)
    except (FlashError, OSError) as e:
        print(f"flash: error: {e}", file=sys.stderr)
        return 1
    print(f"flash: wrote and verified {args.image} on {card.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
