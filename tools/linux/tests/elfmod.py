"""Builds minimal ELF64 relocatable files with a .modinfo section, for tests."""
import lzma
import struct


def module_elf(pairs: list[str]) -> bytes:
    modinfo = b"".join(p.encode() + b"\0" for p in pairs)
    shstrtab = b"\0.modinfo\0.shstrtab\0"
    data_off = 64
    shstr_off = data_off + len(modinfo)
    shoff = (shstr_off + len(shstrtab) + 7) & ~7
    header = bytearray(64)
    header[:6] = b"\x7fELF\x02\x01"
    struct.pack_into("<HH", header, 16, 1, 183)  # ET_REL, EM_AARCH64
    struct.pack_into("<Q", header, 0x28, shoff)
    struct.pack_into("<HHH", header, 0x3A, 64, 3, 2)
    body = bytes(header) + modinfo + shstrtab
    body += b"\0" * (shoff - len(body))
    sections = bytes(64)  # null section
    sections += struct.pack("<IIQQQQIIQQ", 1, 1, 2, 0, data_off, len(modinfo), 0, 0, 1, 0)
    sections += struct.pack("<IIQQQQIIQQ", 10, 3, 0, 0, shstr_off, len(shstrtab), 0, 0, 1, 0)
    return body + sections


def module_xz(pairs: list[str]) -> bytes:
    return lzma.compress(module_elf(pairs), format=lzma.FORMAT_XZ)
