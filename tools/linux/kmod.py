"""Kernel modules and the arm64 Image header, read without running anything
from the target: `.modinfo` of ELF64 modules, dependency closure and load
order, Image header fields (Documentation/arm64/booting.rst)."""
from __future__ import annotations

import fnmatch
import gzip
import lzma
import struct
from dataclasses import dataclass, field


class ModuleError(Exception):
    """A module or Image that cannot be used; the message names it."""


def canonical(name: str) -> str:
    """Module names compare with '-' and '_' equal (as modprobe does)."""
    return name.replace("-", "_")


def decompress_module(path: str, data: bytes) -> bytes:
    """The ELF bytes of a .ko, .ko.xz or .ko.gz file."""
    try:
        if path.endswith(".ko.xz"):
            return lzma.decompress(data, format=lzma.FORMAT_XZ)
        if path.endswith(".ko.gz"):
            return gzip.decompress(data)
    except (lzma.LZMAError, OSError, EOFError) as e:
        raise ModuleError(f"{path}: cannot decompress: {e}") from e
    if path.endswith(".ko"):
        return data
    raise ModuleError(f"{path}: unsupported module compression (only .ko, .ko.xz, .ko.gz)")


def module_suffix(path: str) -> str | None:
    for suffix in (".ko", ".ko.xz", ".ko.gz", ".ko.zst"):
        if path.endswith(suffix):
            return suffix
    return None


def modinfo(elf: bytes, what: str) -> list[tuple[str, str]]:
    """The key=value strings of an ELF64 little-endian module's .modinfo."""
    if len(elf) < 64 or elf[:4] != b"\x7fELF" or elf[4] != 2 or elf[5] != 1:
        raise ModuleError(f"{what}: not a 64-bit little-endian ELF file")
    shoff, = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3A)
    if shentsize != 64 or shnum == 0 or shstrndx >= shnum or shoff + shnum * 64 > len(elf):
        raise ModuleError(f"{what}: bad ELF section table")
    sections = []
    for i in range(shnum):
        name, _type, _flags, _addr, offset, size = struct.unpack_from("<IIQQQQ", elf, shoff + i * 64)
        if offset + size > len(elf) and _type != 8:  # SHT_NOBITS has no file bytes
            raise ModuleError(f"{what}: section {i} runs past the end of the file")
        sections.append((name, _type, offset, size))
    _, _, str_off, str_size = sections[shstrndx]
    strtab = elf[str_off:str_off + str_size]
    for name, _type, offset, size in sections:
        end = strtab.find(b"\0", name)
        if name < len(strtab) and end >= 0 and strtab[name:end] == b".modinfo":
            pairs = []
            for item in elf[offset:offset + size].split(b"\0"):
                key, sep, value = item.decode("utf-8", "replace").partition("=")
                if sep:
                    pairs.append((key, value))
            return pairs
    raise ModuleError(f"{what}: no .modinfo section")


@dataclass
class Module:
    name: str  # canonical
    path: str  # path inside the package, e.g. lib/modules/<abi>/kernel/fs/ext4/ext4.ko
    depends: list[str]
    softdep_pre: list[str]
    aliases: list[str]
    vermagic: str

    @staticmethod
    def from_modinfo(path: str, pairs: list[tuple[str, str]]) -> "Module":
        info: dict[str, list[str]] = {}
        for key, value in pairs:
            info.setdefault(key, []).append(value)
        base = path.rsplit("/", 1)[-1]
        name = canonical(info.get("name", [base[:base.index(".ko")]])[0])
        depends = [canonical(d) for v in info.get("depends", []) for d in v.split(",") if d]
        pre: list[str] = []
        for spec in info.get("softdep", []):
            mode = ""
            for word in spec.split():
                if word in ("pre:", "post:"):
                    mode = word
                elif mode == "pre:":
                    pre.append(word)
        return Module(name, path, depends, pre, info.get("alias", []),
                      info.get("vermagic", [""])[0])


@dataclass
class ModuleIndex:
    """All loadable modules of one kernel, plus what is built in."""
    abi: str
    modules: dict[str, Module] = field(default_factory=dict)
    builtin_names: set[str] = field(default_factory=set)
    builtin_aliases: list[str] = field(default_factory=list)

    def add(self, module: Module) -> None:
        if module.name in self.modules:
            raise ModuleError(f"module {module.name} found twice: {self.modules[module.name].path}, {module.path}")
        self.modules[module.name] = module

    def read_builtin(self, modules_builtin: str, builtin_modinfo: bytes) -> None:
        for line in modules_builtin.splitlines():
            base = line.strip().rsplit("/", 1)[-1]
            if base.endswith(".ko"):
                self.builtin_names.add(canonical(base[:-3]))
        for item in builtin_modinfo.split(b"\0"):
            key, sep, value = item.decode("utf-8", "replace").partition("=")
            if sep and key.endswith(".alias"):
                self.builtin_aliases.append(value)

    def lookup(self, name: str) -> Module | None:
        """A module by name, else the first (by name) whose alias matches."""
        if canonical(name) in self.modules:
            return self.modules[canonical(name)]
        for mod_name in sorted(self.modules):
            if any(fnmatch.fnmatchcase(name, a) for a in self.modules[mod_name].aliases):
                return self.modules[mod_name]
        return None

    def is_builtin(self, name: str) -> bool:
        return canonical(name) in self.builtin_names or \
            any(fnmatch.fnmatchcase(name, a) for a in self.builtin_aliases)

    def load_order(self, wanted: list[str]) -> list[Module]:
        """`wanted` and everything they need, each after what it needs:
        hard dependencies must exist; a soft pre-dependency is loaded when
        it is a module, skipped when built in, an error otherwise."""
        order: list[Module] = []
        state: dict[str, str] = {}

        def visit(module: Module, chain: list[str]) -> None:
            if state.get(module.name) == "done":
                return
            if state.get(module.name) == "visiting":
                raise ModuleError("module dependency cycle: " + " -> ".join(chain + [module.name]))
            state[module.name] = "visiting"
            for soft in module.softdep_pre:
                target = self.lookup(soft)
                if target is not None:
                    visit(target, chain + [module.name])
                elif not self.is_builtin(soft):
                    raise ModuleError(f"{module.name}: soft dependency {soft} is neither a module nor built in")
            for dep in module.depends:
                target = self.modules.get(dep)
                if target is None:
                    raise ModuleError(f"{module.name} depends on {dep}, which is not in the package")
                visit(target, chain + [module.name])
            if module.vermagic.split(" ", 1)[0] != self.abi:
                raise ModuleError(f"{module.path}: vermagic {module.vermagic!r} is not for {self.abi}")
            state[module.name] = "done"
            order.append(module)

        for name in wanted:
            module = self.modules.get(canonical(name))
            if module is None:
                if self.is_builtin(name):
                    continue
                raise ModuleError(f"no module {name} for kernel {self.abi} (and it is not built in)")
            visit(module, [])
        return order


@dataclass(frozen=True)
class ImageHeader:
    text_offset: int
    image_size: int
    flags: int


def image_header(data: bytes, what: str) -> ImageHeader:
    """The header of an uncompressed arm64 Image (booting.rst)."""
    if len(data) < 64 or data[56:60] != b"ARM\x64":
        if data[:2] == b"\x1f\x8b":
            raise ModuleError(f"{what}: gzip-compressed; expected a raw arm64 Image")
        if data[4:8] == b"zimg":
            raise ModuleError(f"{what}: an EFI zboot image; expected a raw arm64 Image")
        raise ModuleError(f"{what}: no arm64 Image magic at offset 0x38")
    text_offset, image_size, flags = struct.unpack_from("<QQQ", data, 8)
    if image_size == 0 or image_size < len(data):
        raise ModuleError(f"{what}: Image header gives image_size {image_size:#x}, file is {len(data):#x} bytes")
    return ImageHeader(text_offset, image_size, flags)
