import linux_tools_path  # noqa: F401  (first: puts tools/linux on sys.path)
import stat

import pytest

from newc import CpioError, NewcArchive
from newc_reader import parse


def test_entries_round_trip():
    a = NewcArchive()
    a.directory("bin")
    a.file("bin/busybox", b"\x7fELF12345", 0o755)
    a.symlink("bin/sh", "busybox")
    a.directory("dev")
    a.char_device("dev/console", 5, 1)
    a.file("init", b"#!/bin/sh\n", 0o755)
    entries = parse(a.finish())
    assert [e["name"] for e in entries] == ["bin", "bin/busybox", "bin/sh", "dev", "dev/console",
                                            "init", "TRAILER!!!"]
    by = {e["name"]: e for e in entries}
    assert by["bin"]["mode"] == stat.S_IFDIR | 0o755 and by["bin"]["nlink"] == 2
    assert by["bin/busybox"]["mode"] == stat.S_IFREG | 0o755
    assert by["bin/busybox"]["data"] == b"\x7fELF12345"
    assert by["bin/sh"]["mode"] == stat.S_IFLNK | 0o777 and by["bin/sh"]["data"] == b"busybox"
    assert by["dev/console"]["mode"] == stat.S_IFCHR | 0o600 and by["dev/console"]["rdev"] == (5, 1)
    assert [e["ino"] for e in entries[:-1]] == [1, 2, 3, 4, 5, 6]
    assert all(e["mtime"] == 0 and e["uid"] == 0 and e["gid"] == 0 and e["check"] == 0 for e in entries)


def test_same_input_same_bytes():
    def build():
        a = NewcArchive()
        a.file("x", b"abc")
        return a.finish()
    assert build() == build()


@pytest.mark.parametrize("name", ["", "/abs", "a/../b", "..", "a\0b"])
def test_bad_names(name):
    with pytest.raises(CpioError, match="bad archive path"):
        NewcArchive().file(name, b"")


def test_duplicates_and_missing_parents():
    a = NewcArchive()
    a.file("x", b"")
    with pytest.raises(CpioError, match="x added twice"):
        a.file("x", b"")
    with pytest.raises(CpioError, match="directory d not added before it"):
        a.file("d/y", b"")
