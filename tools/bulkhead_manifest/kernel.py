"""The arm64 Image header (Linux Documentation/arm64/booting.rst), read
and checked for the boot protocol:

    0x00 code0, code1   0x08 text_offset   0x10 image_size   0x18 flags
    0x20..0x37 reserved  0x38 magic "ARM\\x64"   0x3c PE header offset

flags: bit 0 big-endian, bits 1-2 page size (0 unspecified, 1 4 KiB,
2 16 KiB, 3 64 KiB), bit 3 may be placed anywhere in RAM.
"""
from dataclasses import dataclass
from typing import Optional

from .model import KernelHeader

HEADER_SIZE = 64
MAGIC_OFFSET = 0x38
MAGIC = b"ARM\x64"
FLAG_BIG_ENDIAN = 0x1
PAGE_SIZE_SHIFT = 1
PAGE_SIZE_MASK = 0x3
PAGE_SIZES = {0: "unspecified", 1: "4 KiB", 2: "16 KiB", 3: "64 KiB"}
TEXT_OFFSET_ALIGN = 0x1000
BLOCK_2M = 0x200000
GZIP_MAGIC = b"\x1f\x8b"
ZBOOT_MAGIC = b"zimg"  # EFI zboot: "MZ", then "zimg" at offset 4


@dataclass(frozen=True)
class HeaderProblem:
    rule: str
    message: str


def read_header(data: bytes) -> tuple[Optional[KernelHeader], list[HeaderProblem]]:
    """The header of `data` and what is wrong with it for Bulkhead's
    loader; the header is None when the file is no Image at all."""
    if len(data) < HEADER_SIZE or data[MAGIC_OFFSET:MAGIC_OFFSET + 4] != MAGIC:
        return None, [HeaderProblem("KERNEL-FORMAT", _format_problem(data))]
    header = KernelHeader(text_offset=int.from_bytes(data[8:16], "little"),
                          image_size=int.from_bytes(data[16:24], "little"),
                          flags=int.from_bytes(data[24:32], "little"))
    problems = []
    if header.flags & FLAG_BIG_ENDIAN:
        problems.append(HeaderProblem(
            "KERNEL-ENDIAN", f"flags {header.flags:#x} say big-endian (bit 0); "
            "partitions run little-endian: build the kernel without "
            "CONFIG_CPU_BIG_ENDIAN"))
    page = (header.flags >> PAGE_SIZE_SHIFT) & PAGE_SIZE_MASK
    if page > 1:
        problems.append(HeaderProblem(
            "KERNEL-PAGE-SIZE", f"flags {header.flags:#x} ask for "
            f"{PAGE_SIZES[page]} pages (bits 1-2 = {page}); Bulkhead boots "
            "kernels built for 4 KiB pages (CONFIG_ARM64_4K_PAGES)"))
    if header.image_size == 0:
        problems.append(HeaderProblem(
            "KERNEL-SIZE", "image_size is 0: a kernel older than 3.17, whose "
            "text_offset and size in memory are unknown; use a newer kernel"))
    elif header.image_size < len(data):
        problems.append(HeaderProblem(
            "KERNEL-SIZE", f"image_size {header.image_size:#x} is smaller than "
            f"the file ({len(data):#x} bytes): the header is damaged, or the "
            "file has something appended"))
    if header.text_offset % TEXT_OFFSET_ALIGN or header.text_offset >= BLOCK_2M:
        problems.append(HeaderProblem(
            "KERNEL-TEXT-OFFSET", f"text_offset {header.text_offset:#x} is not "
            "a multiple of 4 KiB below 2 MiB (the Image goes text_offset "
            "bytes above a 2 MiB boundary)"))
    return header, problems


def _format_problem(data: bytes) -> str:
    if len(data) < HEADER_SIZE:
        return (f"it has {len(data)} bytes, less than the 64 of an arm64 Image "
                "header")
    if data[:2] == GZIP_MAGIC:
        return ("it is gzip-compressed (a vmlinuz.gz or Image.gz); Bulkhead "
                "loads the uncompressed Image: decompress it (zcat)")
    if data[:2] == b"MZ" and data[4:8] == ZBOOT_MAGIC:
        return ("it is an EFI zboot image (CONFIG_EFI_ZBOOT); Bulkhead loads "
                "the uncompressed Image (arch/arm64/boot/Image)")
    return (f"no arm64 Image magic \"ARM\\x64\" at offset 0x38 (found "
            f"{data[MAGIC_OFFSET:MAGIC_OFFSET + 4].hex()}); name the kernel's "
            "Image (arch/arm64/boot/Image), not vmlinux or a zImage")
