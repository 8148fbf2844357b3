"""Pass-through devices that can master the bus (DMA): without an SMMU such
a device reaches all memory, so the compiler refuses one unless the
manifest trusts its partition with `dma-unrestricted;`, and then warns,
marks it in the memory map and the tables, and the boot banner says so.
The GIC ITS and fw_cfg are never passed through."""
import os
import re
import subprocess

import pytest

from conftest import BUILD, PYTHON, QEMU, ROOT
from manifest_helpers import IMAGES, P, compile_text, lines_of, link_hypervisor, manifest

VIRTIO = ("devices {{ vio@a000000 {{ reg = <0x0 0x0a000000 0x0 0x1000>; "
          "interrupts = <0 16 1>;{flag} }}; }};")
POWER_OFF = "[bulkhead] all partitions are off; powering off"


def with_device(dev: str) -> str:
    return manifest([P("alpha", 1, "0", "0x41000000", extra=dev),
                     P("beta", 2, "1", "0x41400000")])


def test_bus_master_without_the_flag_is_refused(tmp_path):
    text = with_device(VIRTIO.format(flag=""))
    r = compile_text(tmp_path, text)
    assert r.returncode == 1
    assert (f"manifests/m.dts:{lines_of(text, 'vio@a000000')}: error[DMA-MASTER]: "
            "/bulkhead/partitions/partition@1/devices/vio@a000000: device "
            "\"vio@a000000\" of \"alpha\" covers virtio_mmio@a000000 [0xa000000, "
            "0xa000200), virtio_mmio@a000200 [0xa000200, 0xa000400), "
            "virtio_mmio@a000400 [0xa000400, 0xa000600), virtio_mmio@a000600 "
            "[0xa000600, 0xa000800), virtio_mmio@a000800 [0xa000800, 0xa000a00), "
            "virtio_mmio@a000a00 [0xa000a00, 0xa000c00), virtio_mmio@a000c00 "
            "[0xa000c00, 0xa000e00), virtio_mmio@a000e00 [0xa000e00, 0xa001000), "
            "which can master the bus (DMA into any memory: no SMMU confines it); "
            "add 'dma-unrestricted;' to the device only if \"alpha\" may be trusted "
            "as much as the hypervisor") in r.stderr.splitlines()


def test_pcie_window_is_a_bus_master(tmp_path):
    text = with_device("devices { bar@10000000 { reg = <0x0 0x10000000 0x0 0x10000>; }; };")
    r = compile_text(tmp_path, text)
    assert r.returncode == 1
    assert ("covers pcie@10000000 [0x10000000, 0x3eff0000), which can master the bus"
            in r.stderr)


def test_bus_master_with_the_flag_is_accepted_with_a_warning(tmp_path):
    text = with_device(VIRTIO.format(flag=" dma-unrestricted;"))
    r = compile_text(tmp_path, text)
    assert r.returncode == 0, r.stderr
    warning = (f"manifests/m.dts:{lines_of(text, 'vio@a000000')}: "
               "warning[DMA-UNRESTRICTED]: /bulkhead/partitions/partition@1/devices/"
               "vio@a000000: partition \"alpha\" is trusted with unrestricted DMA: its "
               "device \"vio@a000000\" covers virtio_mmio@a000000")
    assert any(l.startswith(warning) for l in r.stderr.splitlines()), r.stderr
    assert ("with no SMMU it can read and write all memory, the hypervisor's and "
            "every partition's") in r.stderr
    out = tmp_path / "out"
    tables = (out / "manifest_tables.c").read_text()
    assert ("{.base = 0xa000000, .size = 0x1000, .irq_count = 1, .irqs = {48}, "
            ".dma_unrestricted = 1},") in tables
    memmap = (out / "memmap.txt").read_text().splitlines()
    row = next(l for l in memmap if l.lstrip().startswith("0xa000000"))
    assert re.fullmatch(r"\s+0xa000000\s+0xa001000\s+4 KiB\s+alpha\s+device\s+rw\s+"
                        r"vio@a000000  ! DMA-UNRESTRICTED", row), row
    assert "  alpha: device vio@a000000 [0xa000000, 0xa001000)" in memmap
    assert '"dma": "unrestricted"' in (out / "memmap.json").read_text()


def test_flag_on_a_device_that_is_no_bus_master_warns_and_does_nothing(tmp_path):
    text = with_device("devices { rtc@9010000 { reg = <0x0 0x09010000 0x0 0x1000>; "
                       "dma-unrestricted; }; };")
    r = compile_text(tmp_path, text)
    assert r.returncode == 0, r.stderr
    assert ("warning[DMA-UNRESTRICTED]: /bulkhead/partitions/partition@1/devices/"
            "rtc@9010000: device \"rtc@9010000\" of \"alpha\" has 'dma-unrestricted', "
            "but the board does not mark it as a bus master; the flag has no effect: "
            "remove it") in r.stderr
    assert ".dma_unrestricted = 1" not in (tmp_path / "out" / "manifest_tables.c").read_text()


@pytest.mark.parametrize("reg,board_node", [
    ("0x0 0x08080000 0x0 0x20000", "its@8080000 [0x8080000, 0x80a0000)"),
    ("0x0 0x09020000 0x0 0x1000", "fw-cfg@9020000 [0x9020000, 0x9020018)"),
])
def test_its_and_fw_cfg_are_never_passed_through(tmp_path, reg, board_node):
    text = with_device(f"devices {{ d@0 {{ reg = <{reg}>; dma-unrestricted; }}; }};")
    r = compile_text(tmp_path, text)
    assert r.returncode == 1
    line = next(l for l in r.stderr.splitlines() if "error[DEV-RESERVED]" in l)
    assert line.startswith(f"manifests/m.dts:{lines_of(text, 'd@0')}: ")
    assert f"covers the board's {board_node}, which is never passed through" in line


def _pack(out: str, elf: str, img: str) -> None:
    subprocess.run([PYTHON, os.path.join(ROOT, "tools", "pack_image.py"), "--elf", elf,
                    "--layout", os.path.join(out, "layout.json"), "-I", IMAGES,
                    "-o", img], check=True, capture_output=True)


def test_boot_banner_names_the_partition_and_device(tmp_path):
    text = manifest([P("tester", 7, "0 2", "0x44000000", image="psci-test.bin",
                       extra=VIRTIO.format(flag=" dma-unrestricted;"))])
    config = open(os.path.join(BUILD, ".config")).read()
    r = compile_text(tmp_path, text, config=config)
    assert r.returncode == 0, r.stderr
    out = str(tmp_path / "out")
    elf, img = os.path.join(out, "bulkhead.elf"), os.path.join(out, "bulkhead.img")
    link = link_hypervisor(out, elf)
    assert link.returncode == 0, link.stderr
    _pack(out, elf, img)
    run = subprocess.run(QEMU + ["-kernel", img], capture_output=True, timeout=120)
    lines = [l.rstrip("\r") for l in run.stdout.decode(errors="replace").splitlines()]
    assert ("[bulkhead]   tester: device 0xa000000 has unrestricted DMA (no SMMU)"
            in lines), "\n".join(lines[:30])
    assert POWER_OFF in lines
