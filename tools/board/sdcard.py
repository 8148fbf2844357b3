#!/usr/bin/env python3
"""Writes a flashable SD-card image: an MBR with one bootable FAT16 boot
partition holding the FIT (bulkhead.itb) and a U-Boot boot script
(boot.scr, from `mkimage -T script`) that loads and boots it.

No loop devices and no root: the FAT file system is made in a plain file
with mkfs.fat (dosfstools) and filled with mcopy (mtools), then placed
after the partition table. Volume ID, label, and every timestamp are fixed
(SOURCE_DATE_EPOCH or the commit date), so the same inputs give the same
bytes.
"""
import argparse
import hashlib
import json
import os
import shutil
import struct
import sys
import tempfile
from dataclasses import dataclass

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import repro  # noqa: E402

SECTOR = 512
PART_START = 2048            # first LBA of the boot partition (1 MiB)
FAT_MIB = 32                 # boot partition size
MBR_TYPE_FAT16_LBA = 0x0E
VOLUME_LABEL = "BULKHEAD"
ALIGN_2M = 2 << 20


@dataclass
class BootScript:
    fit_name: str
    load_addr: int
    config: str  # named: U-Boot's FIT best-match would skip a default
    ram_base: int  # the RAM the manifest describes (the hypervisor maps
    ram_size: int  # only this): where bootm may put what it hands over

    def text(self) -> str:
        """U-Boot commands. devtype, devnum and distro_bootpart are set by
        U-Boot's distro boot when it runs a boot.scr it found.

        bootm_low/bootm_size confine everything bootm places (the device
        tree it relocates, a ramdisk) to the manifest's RAM, and fdt_high
        replaces the board's own limit (qemu_arm64 sets 0xffffffff, many
        boards ~0 = "leave it where it is"): on a board with more RAM than
        the manifest describes, U-Boot would otherwise relocate the device
        tree to the top of all RAM, where the hypervisor refuses it.

        The configuration is named because U-Boot built with FIT_BEST_MATCH
        (Debian's qemu_arm64) ignores `default` and matches the board's
        compatible instead; the FDT is named because bootm passes none for
        a FIT without one (and then refuses an arm64 kernel)."""
        ram_end = self.ram_base + self.ram_size
        return (
            "# Bulkhead: load the FIT from this partition and boot it at EL2.\n"
            "# Keep what bootm relocates (the device tree) in the RAM the manifest\n"
            f"# describes, {self.ram_base:#x}-{ram_end:#x}: the hypervisor reads"
            " nothing outside it.\n"
            f"setenv bootm_low {self.ram_base:#x}\n"
            f"setenv bootm_size {self.ram_size:#x}\n"
            f"setenv fdt_high {ram_end:#x}\n"
            "echo \"Bulkhead: booting ${devtype} ${devnum}:${distro_bootpart}"
            f" /{self.fit_name}\"\n"
            f"load ${{devtype}} ${{devnum}}:${{distro_bootpart}} "
            f"{self.load_addr:#x} {self.fit_name}\n"
            "# The device tree: U-Boot's own (the board's, as its loader passed\n"
            "# it), which bootm fixes up (memory) and hands over in x0.\n"
            f"bootm {self.load_addr:#x}#{self.config} - ${{fdtcontroladdr}}\n")


def image_end(layout: dict) -> int:
    """Where the flashable image ends in memory once bootm has put it at
    the hypervisor's base: the end of the hypervisor's memory, or of the
    payload region the image carries beyond it."""
    end = layout["hypervisor"]["base"] + layout["hypervisor"]["size"]
    region = layout.get("payload_region")
    if region is not None:
        end = max(end, region["base"] + region["size"])
    return end


def board_ram(layout: dict) -> tuple[int, int]:
    """The base and size of the board RAM the manifest describes (the
    range the hypervisor maps), from layout.json."""
    base, size = layout.get("ram_base"), layout.get("ram_size")
    if not isinstance(base, int) or not isinstance(size, int) or size <= 0:
        raise RuntimeError("layout.json names no board RAM (ram_base, ram_size): "
                           "it was written by an older manifest compiler; "
                           "rebuild the product")
    return base, size


def fit_load_address(layout: dict, fit_size: int) -> int:
    """Where the script loads the FIT: after the memory bootm fills with
    the image (the hypervisor's memory and a payload region), 2 MiB
    aligned, inside the board RAM the manifest describes."""
    addr = (image_end(layout) + ALIGN_2M - 1) // ALIGN_2M * ALIGN_2M
    ram_base, ram_size = board_ram(layout)
    ram_end = ram_base + ram_size
    if addr + fit_size > ram_end:
        raise RuntimeError(f"no room for the FIT ({fit_size:#x} bytes) at "
                           f"{addr:#x}: the RAM the manifest describes ends "
                           f"at {ram_end:#x}")
    return addr


def mbr(disk_id: int, start: int, sectors: int, part_type: int) -> bytes:
    """A classic MBR with one bootable partition (CHS fields say "use LBA")."""
    entry = struct.pack("<B3sB3sII", 0x80, b"\xfe\xff\xff", part_type,
                        b"\xfe\xff\xff", start, sectors)
    table = entry + bytes(16 * 3)
    out = bytearray(SECTOR)
    out[0x1B8:0x1BC] = struct.pack("<I", disk_id)
    out[0x1BE:0x1FE] = table
    out[0x1FE:0x200] = b"\x55\xaa"
    return bytes(out)


def fat_mib(files: dict[str, str]) -> int:
    """The boot partition's size: FAT_MIB, or more for a large FIT (a
    Linux product's carries the kernel), with 4 MiB to spare."""
    need = sum(os.path.getsize(src) for src in files.values()) + (4 << 20)
    return max(FAT_MIB, (need + (1 << 20) - 1) >> 20)


def make_fat(path: str, files: dict[str, str], epoch: int, volume_id: int) -> None:
    """A FAT16 file system in `path` holding `files` (name in the root ->
    host file), every date set to `epoch`."""
    mkfs = shutil.which("mkfs.fat") or "/usr/sbin/mkfs.fat"  # not on a user's PATH
    repro.run([mkfs, "--invariant", "-F", "16", "-n", VOLUME_LABEL,
               "-i", f"{volume_id:08x}", "-h", str(PART_START), "-C", path,
               str(fat_mib(files) * 1024)], epoch)
    with tempfile.TemporaryDirectory() as stage:
        for name, src in sorted(files.items()):
            copy = os.path.join(stage, name)
            shutil.copyfile(src, copy)
            os.utime(copy, (epoch, epoch))
            repro.run(["mcopy", "-m", "-o", "-i", path, copy, f"::/{name}"], epoch)


def build(fit: str, layout_path: str, out: str, mkimage: str, epoch: int) -> BootScript:
    with open(layout_path, encoding="utf-8") as f:
        layout = json.load(f)
    with open(fit, "rb") as f:
        fit_bytes = f.read()
    ram_base, ram_size = board_ram(layout)
    script = BootScript(fit_name="bulkhead.itb", config="conf-1",
                        load_addr=fit_load_address(layout, len(fit_bytes)),
                        ram_base=ram_base, ram_size=ram_size)
    digest = hashlib.sha256(fit_bytes).digest()
    with tempfile.TemporaryDirectory() as work:
        cmd = os.path.join(work, "boot.cmd")
        with open(cmd, "w", encoding="utf-8") as f:
            f.write(script.text())
        scr = os.path.join(work, "boot.scr")
        repro.run([mkimage, "-A", "arm64", "-O", "linux", "-T", "script", "-C",
                   "none", "-n", "Bulkhead boot script", "-d", cmd, scr], epoch)
        fat = os.path.join(work, "boot.fat")
        make_fat(fat, {"bulkhead.itb": fit, "boot.scr": scr, "boot.cmd": cmd},
                 epoch, struct.unpack("<I", digest[4:8])[0])
        fat_size = os.path.getsize(fat)
        tmp = f"{out}.{os.getpid()}.tmp"  # two makes may write it at once
        with open(tmp, "wb") as dst, open(fat, "rb") as src:
            dst.write(mbr(struct.unpack("<I", digest[:4])[0], PART_START,
                          fat_size // SECTOR, MBR_TYPE_FAT16_LBA))
            dst.write(bytes(PART_START * SECTOR - SECTOR))
            shutil.copyfileobj(src, dst)
        os.replace(tmp, out)
    return script


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fit", required=True, help="bulkhead.itb")
    ap.add_argument("--layout", required=True, help="the product's layout.json")
    ap.add_argument("--mkimage", default="mkimage")
    ap.add_argument("-o", "--output", required=True)
    args = ap.parse_args(argv)
    return repro.build_main("sdcard", lambda epoch: build(
        args.fit, args.layout, args.output, args.mkimage, epoch))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
