"""A writer for the cpio "newc" format (the one the Linux initramfs
unpacker reads: Documentation/driver-api/early-userspace/buffer-format.rst),
deterministic: every entry has mtime 0, uid and gid 0, inodes numbered in
the order entries are added."""
from __future__ import annotations

import stat
from dataclasses import dataclass, field

_MAGIC = b"070701"
_TRAILER = "TRAILER!!!"


class CpioError(Exception):
    """An entry the archive cannot hold."""


def _pad4(length: int) -> bytes:
    return b"\0" * (-length % 4)


@dataclass
class NewcArchive:
    _chunks: list[bytes] = field(default_factory=list)
    _names: set[str] = field(default_factory=set)
    _next_ino: int = 1

    def _entry(self, name: str, mode: int, data: bytes = b"", nlink: int = 1,
               rdev: tuple[int, int] = (0, 0)) -> None:
        if name != _TRAILER:
            if not name or name.startswith("/") or ".." in name.split("/") or "\0" in name:
                raise CpioError(f"bad archive path {name!r}")
            if name in self._names:
                raise CpioError(f"{name} added twice")
            parent = name.rsplit("/", 1)[0] if "/" in name else ""
            if parent and parent not in self._names:
                raise CpioError(f"{name}: directory {parent} not added before it")
            self._names.add(name)
        encoded = name.encode() + b"\0"
        fields = (self._next_ino if name != _TRAILER else 0, mode, 0, 0, nlink, 0, len(data),
                  0, 0, rdev[0], rdev[1], len(encoded), 0)
        for value in fields:
            if not 0 <= value <= 0xFFFFFFFF:
                raise CpioError(f"{name}: field value {value} does not fit newc")
        header = _MAGIC + b"".join(b"%08X" % v for v in fields)
        self._chunks += [header, encoded, _pad4(len(header) + len(encoded)), data, _pad4(len(data))]
        self._next_ino += 1

    def directory(self, name: str, perm: int = 0o755) -> None:
        self._entry(name, stat.S_IFDIR | perm, nlink=2)

    def file(self, name: str, data: bytes, perm: int = 0o644) -> None:
        self._entry(name, stat.S_IFREG | perm, data)

    def symlink(self, name: str, target: str) -> None:
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def char_device(self, name: str, major: int, minor: int, perm: int = 0o600) -> None:
        self._entry(name, stat.S_IFCHR | perm, rdev=(major, minor))

    def has(self, name: str) -> bool:
        return name in self._names

    def finish(self) -> bytes:
        """The archive bytes, trailer included."""
        self._entry(_TRAILER, 0)
        return b"".join(self._chunks)
