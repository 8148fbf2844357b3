import linux_tools_path  # noqa: F401  (first: puts tools/linux on sys.path)
import gzip
import json
import os
import stat
import subprocess

import pytest

from mkinitramfs import InitramfsError, build
from newc_reader import parse

ROOTFS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "rootfs")


@pytest.fixture
def kernel_dir(tmp_path):
    (tmp_path / "modules").mkdir()
    for name in ("virtio_mmio", "jbd2", "ext4"):
        (tmp_path / "modules" / f"{name}.ko").write_bytes(f"ko:{name}".encode())
    (tmp_path / "busybox").write_bytes(b"\x7fELF-busybox")
    (tmp_path / "kernel.json").write_text(json.dumps({"modules": [
        {"name": n, "file": f"modules/{n}.ko"} for n in ("virtio_mmio", "jbd2", "ext4")]}))
    return tmp_path


def test_contents(kernel_dir, tmp_path):
    extra = tmp_path / "extra.sh"
    extra.write_text("echo hi\n")
    extra.chmod(0o755)
    data = build(str(kernel_dir), ROOTFS, [("/usr/bin/extra", str(extra))])
    assert data[:2] == b"\x1f\x8b" and data[4:8] == b"\0\0\0\0"  # gzip, mtime 0
    entries = {e["name"]: e for e in parse(gzip.decompress(data))}
    assert entries["dev/console"]["rdev"] == (5, 1)
    assert entries["dev/console"]["mode"] == stat.S_IFCHR | 0o600
    assert entries["bin/busybox"]["data"] == b"\x7fELF-busybox"
    assert entries["bin/busybox"]["mode"] == stat.S_IFREG | 0o755
    assert entries["bin/sh"]["data"] == b"busybox"
    assert entries["init"]["mode"] == stat.S_IFREG | 0o755
    assert entries["etc/init.d/rcS"]["mode"] == stat.S_IFREG | 0o755
    assert entries["etc/inittab"]["mode"] == stat.S_IFREG | 0o644
    assert entries["etc/bulkhead/modules"]["data"] == b"virtio_mmio\njbd2\next4\n"
    assert entries["lib/modules/ext4.ko"]["data"] == b"ko:ext4"
    assert entries["usr/bin/extra"]["data"] == b"echo hi\n"
    assert entries["usr/bin/extra"]["mode"] == stat.S_IFREG | 0o755
    for d in ("proc", "sys", "dev", "mnt", "tmp"):
        assert entries[d]["mode"] == stat.S_IFDIR | 0o755


def test_deterministic(kernel_dir):
    assert build(str(kernel_dir), ROOTFS, []) == build(str(kernel_dir), ROOTFS, [])


def test_bad_module_entry(kernel_dir):
    (kernel_dir / "kernel.json").write_text(json.dumps({"modules": [{"name": "x", "file": "../x.ko"}]}))
    with pytest.raises(InitramfsError, match="bad module entry"):
        build(str(kernel_dir), ROOTFS, [])


def test_missing_kernel_json(tmp_path):
    with pytest.raises(InitramfsError, match="kernel.json"):
        build(str(tmp_path), ROOTFS, [])


@pytest.mark.parametrize("script", ["init", "etc/init.d/rcS", "etc/init.d/rcK"])
def test_scripts_parse(script):
    assert subprocess.run(["sh", "-n", os.path.join(ROOTFS, script)]).returncode == 0
