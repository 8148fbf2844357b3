#!/usr/bin/env python3
"""Writes the SD-card image to a card: `make flash DEVICE=/dev/sdX`.

Refuses anything that is not a whole removable block device or SD card
(Linux's MMC driver never marks an SD card in a built-in reader, mmcblkN,
removable; it says `SD` in device/type, and `MMC` for eMMC, which is
refused), that has a mounted (or swap) partition, or that the kernel has
given to something else (a dm-crypt, LVM or md device in holders/), and
asks for confirmation unless --yes. The card is then opened with O_EXCL,
which fails with EBUSY if anything claimed it since. The checks read /sys
and /proc; both roots can be given for tests.
"""
import argparse
import errno
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
    medium: str = "removable"  # or "SD card" (see _medium)


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read().strip()
    except OSError:
        return ""


def _dev_numbers(path: str) -> tuple[int, int]:
    st = os.stat(path)
    return os.major(st.st_rdev), os.minor(st.st_rdev)


def _medium(dev_dir: str) -> str:
    """What kind of medium the whole disk in `dev_dir` is: "removable"
    (the kernel says so: USB readers, sd cards behind SCSI), "SD card"
    (an MMC-bus card of type SD: a built-in reader), else "" (refused)."""
    if _read(os.path.join(dev_dir, "removable")) == "1":
        return "removable"
    if _read(os.path.join(dev_dir, "device", "type")) == "SD":
        return "SD card"
    return ""


def _holders(block_dir: str) -> list[str]:
    """The devices the kernel stacked on `block_dir` (dm-crypt, LVM, md),
    each with its device-mapper name when it has one."""
    held = os.path.join(block_dir, "holders")
    try:
        names = sorted(os.listdir(held))
    except OSError:
        return []
    out = []
    for holder in names:
        dm_name = _read(os.path.join(held, holder, "dm", "name"))
        out.append(f"{holder} ({dm_name})" if dm_name else holder)
    return out


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
    medium = _medium(dev_dir)
    if not medium:
        if _read(os.path.join(dev_dir, "device", "type")) == "MMC":
            raise FlashError(f"{path} ({name}) is eMMC (soldered flash, MMC "
                             "type), not an SD card; refusing to overwrite it")
        raise FlashError(f"{path} ({name}) is not a removable device; "
                         "refusing to overwrite it")
    # The device and its partitions: sysfs directories and major:minor.
    blocks = {name: dev_dir}
    for entry in sorted(os.listdir(dev_dir)):
        if entry.startswith(name) and \
                os.path.isfile(os.path.join(dev_dir, entry, "dev")):
            blocks[entry] = os.path.join(dev_dir, entry)
    for block, block_dir in blocks.items():
        holders = _holders(block_dir)
        if holders:
            raise FlashError(f"{path} ({name}): {block} is held by "
                             f"{', '.join(holders)} (dm-crypt, LVM or RAID): "
                             "close or remove that first")
    numbers = {f"{major}:{minor}"} | {
        _read(os.path.join(d, "dev")) for b, d in blocks.items() if b != name}
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
                                   _read(os.path.join(dev_dir, "device", "model")),
                                   _read(os.path.join(dev_dir, "device", "name")))))
    return Card(path=path, name=name, size=size, model=model or "unknown model",
                medium=medium)


def open_exclusive(path: str) -> int:
    """The card opened for reading and writing with O_EXCL: for a block
    device the kernel refuses (EBUSY) while anything has it claimed (a
    mount, a device-mapper or md device, another O_EXCL opener), and
    nothing can claim it while we hold it."""
    try:
        return os.open(path, os.O_RDWR | os.O_EXCL | os.O_CLOEXEC)
    except OSError as e:
        if e.errno == errno.EBUSY:
            raise FlashError(f"{path} is busy: something claimed it (mounted, "
                             "or in use by device mapper, LVM, RAID or another "
                             "program); nothing written") from e
        raise FlashError(f"{path}: cannot open for writing: {e.strerror}") from e


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _read_exact(fd: int, length: int) -> bytes:
    out = bytearray()
    while len(out) < length:
        chunk = os.read(fd, length - len(out))
        if not chunk:
            break
        out += chunk
    return bytes(out)


def write_image(image: str, card: Card) -> None:
    """Writes and reads back the image through one exclusive descriptor;
    raises FlashError on a mismatch. The written pages are dropped from
    the page cache before reading back, so the read comes from the card."""
    length = os.path.getsize(image)
    if length > card.size:
        raise FlashError(f"{image} ({length} bytes) does not fit {card.path} "
                         f"({card.size} bytes)")
    fd = open_exclusive(card.path)
    try:
        with open(image, "rb") as src:
            while chunk := src.read(CHUNK):
                _write_all(fd, chunk)
        os.fsync(fd)
        os.posix_fadvise(fd, 0, length, os.POSIX_FADV_DONTNEED)
        os.lseek(fd, 0, os.SEEK_SET)
        with open(image, "rb") as src:
            while chunk := src.read(CHUNK):
                if _read_exact(fd, len(chunk)) != chunk:
                    raise FlashError(f"{card.path}: read-back differs from {image}")
    finally:
        os.close(fd)


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
              f"{card.medium}, nothing mounted or held")
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
