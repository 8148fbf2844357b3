import linux_tools_path  # noqa: F401  (first: puts tools/linux on sys.path)
import gzip
import struct

import pytest

from elfmod import module_elf, module_xz
from kmod import (Module, ModuleError, ModuleIndex, decompress_module, image_header, modinfo,
                  module_suffix)

ABI = "6.1.0-57-arm64"
VERMAGIC = f"vermagic={ABI} SMP mod_unload modversions aarch64"


def mod(name, depends="", softdep=None, aliases=(), vermagic=VERMAGIC):
    pairs = [f"name={name}", f"depends={depends}", vermagic] + [f"alias={a}" for a in aliases]
    if softdep:
        pairs.append(f"softdep={softdep}")
    path = f"lib/modules/{ABI}/kernel/{name}.ko"
    return Module.from_modinfo(path, modinfo(module_elf(pairs), path))


def index(*modules):
    idx = ModuleIndex(ABI)
    for m in modules:
        idx.add(m)
    return idx


def test_modinfo_reads_pairs():
    elf = module_elf(["license=GPL", "depends=jbd2,mbcache", "name=ext4", "softdep=pre: crc32c"])
    assert modinfo(elf, "ext4.ko") == [("license", "GPL"), ("depends", "jbd2,mbcache"),
                                       ("name", "ext4"), ("softdep", "pre: crc32c")]


@pytest.mark.parametrize("data", [b"", b"\x7fELF\x01\x01" + bytes(58), b"MZ" + bytes(100)])
def test_modinfo_rejects_non_elf64(data):
    with pytest.raises(ModuleError, match="not a 64-bit little-endian ELF"):
        modinfo(data, "x.ko")


def test_modinfo_rejects_truncated_section_table():
    elf = module_elf(["name=x"])
    with pytest.raises(ModuleError, match="bad ELF section table"):
        modinfo(elf[:-10], "x.ko")


def test_modinfo_rejects_section_past_the_end():
    elf = bytearray(module_elf(["name=x"]))
    shoff, = struct.unpack_from("<Q", elf, 0x28)
    struct.pack_into("<Q", elf, shoff + 64 + 32, 1 << 40)  # .modinfo size
    with pytest.raises(ModuleError, match="runs past the end"):
        modinfo(bytes(elf), "x.ko")


def test_module_fields():
    m = mod("ext4", "mbcache,crc16,jbd2", "pre: crc32c post: foo-bar", ("fs-ext4",))
    assert (m.name, m.depends, m.softdep_pre, m.aliases) == \
        ("ext4", ["mbcache", "crc16", "jbd2"], ["crc32c"], ["fs-ext4"])
    assert mod("virtio-mmio").name == "virtio_mmio"


def test_load_order_puts_dependencies_first():
    idx = index(mod("ext4", "mbcache,crc16,jbd2", "pre: crc32c"), mod("jbd2", "", "pre: crc32c"),
                mod("mbcache"), mod("crc16"), mod("crc32c_generic", aliases=("crypto-crc32c", "crc32c")),
                mod("virtio_mmio"), mod("virtio_blk"), mod("unrelated"))
    order = idx.load_order(["virtio_mmio", "virtio_blk", "ext4"])
    assert [m.name for m in order] == ["virtio_mmio", "virtio_blk", "crc32c_generic", "mbcache",
                                       "crc16", "jbd2", "ext4"]


def test_load_order_skips_builtin():
    idx = index(mod("ext4", "jbd2", "pre: crc32c"), mod("jbd2"))
    idx.read_builtin("kernel/crypto/crc32c_generic.ko\nkernel/drivers/virtio/virtio.ko\n",
                     b"crc32c_generic.alias=crc32c\0virtio.license=GPL\0")
    assert [m.name for m in idx.load_order(["virtio", "ext4"])] == ["jbd2", "ext4"]


def test_load_order_errors():
    with pytest.raises(ModuleError, match="no module nope for kernel"):
        index().load_order(["nope"])
    with pytest.raises(ModuleError, match="a depends on b, which is not in the package"):
        index(mod("a", "b")).load_order(["a"])
    with pytest.raises(ModuleError, match="soft dependency z is neither"):
        index(mod("a", "", "pre: z")).load_order(["a"])
    with pytest.raises(ModuleError, match="cycle: a -> b -> a"):
        index(mod("a", "b"), mod("b", "a")).load_order(["a"])
    with pytest.raises(ModuleError, match="vermagic"):
        index(mod("a", vermagic="vermagic=6.1.0-50-arm64 SMP")).load_order(["a"])


def test_duplicate_module():
    with pytest.raises(ModuleError, match="found twice"):
        index(mod("a"), mod("a"))


def test_decompress():
    elf = module_elf(["name=x"])
    assert decompress_module("x.ko.xz", module_xz(["name=x"])) == elf
    assert decompress_module("x.ko.gz", gzip.compress(elf)) == elf
    assert decompress_module("x.ko", elf) == elf
    with pytest.raises(ModuleError, match="cannot decompress"):
        decompress_module("x.ko.xz", b"garbage")
    with pytest.raises(ModuleError, match="unsupported module compression"):
        decompress_module("x.ko.zst", b"garbage")
    assert [module_suffix(p) for p in ("a.ko", "a.ko.xz", "a.ko.zst", "a.kox", "modules.dep")] == \
        [".ko", ".ko.xz", ".ko.zst", None, None]


def image(text_offset=0, image_size=0x2010000, flags=0xA, magic=b"ARM\x64", length=4096):
    data = bytearray(length)
    struct.pack_into("<QQQ", data, 8, text_offset, image_size, flags)
    data[56:60] = magic
    return bytes(data)


def test_image_header():
    h = image_header(image(), "Image")
    assert (h.text_offset, h.image_size, h.flags) == (0, 0x2010000, 0xA)


def test_image_header_rejects():
    with pytest.raises(ModuleError, match="no arm64 Image magic"):
        image_header(image(magic=b"ARM\x65"), "Image")
    with pytest.raises(ModuleError, match="gzip-compressed"):
        image_header(b"\x1f\x8b" + bytes(100), "Image")
    with pytest.raises(ModuleError, match="EFI zboot"):
        image_header(b"MZ\0\0zimg" + bytes(100), "Image")
    with pytest.raises(ModuleError, match="image_size 0x10"):
        image_header(image(image_size=0x10), "Image")
