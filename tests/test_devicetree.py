"""Kernel partitions, the boot hand-over and the generated device trees:
where the compiler places kernel, device tree and initrd (the arm64 boot
protocol), what the tables say, what each partition's device tree holds
(read back with libfdt), overlays, the payload region and the packed
image, determinism."""
import hashlib
import json
import os
import subprocess
import sys

import pytest

from conftest import BUILD, PYTHON, ROOT, declared_cases
from dt_helpers import (INITRD, KERNEL, arm64_image, cells, children, fdt,
                        kernel_files, kernel_manifest, memmap, outputs, partition,
                        prop_names, strings, u64s, write_images)
from manifest_helpers import (IMAGES, P, compile_text, image_payload, lines_of,
                              link_hypervisor, manifest)

sys.path.insert(0, os.path.join(ROOT, "tools"))
from bulkhead_manifest.checks import image_footprint  # noqa: E402

MIB = 1 << 20
DEBIAN_IMAGE_SIZE = 0x2010000  # linux-image-6.1.0-*-arm64
RTC = ("devices { rtc@9010000 { reg = <0x0 0x09010000 0x0 0x1000>; "
       "interrupts = <0 2 4>; }; };")
VIRTIO = ("devices { virtio_mmio@a000000 { reg = <0x0 0x0a000000 0x0 0x1000>; "
          "interrupts = <0 16 1>; dma-unrestricted; }; };")


def compiled(tmp_path, text: str, files: dict = None, args=()):
    """Compiles (with the synthetic files) and asserts success."""
    extra = tuple(args)
    if files:
        extra += ("-I", write_images(tmp_path, files))
    r = compile_text(tmp_path, text, args=extra)
    assert r.returncode == 0, r.stderr
    return r


def rejected(r, rule: str) -> str:
    assert r.returncode == 1, r.stderr
    line = next((l for l in r.stderr.splitlines() if f"error[{rule}]" in l), None)
    assert line is not None, r.stderr
    return line


def tables(tmp_path) -> str:
    return (tmp_path / "out" / "manifest_tables.c").read_text()


def demo_footprint() -> int:
    with open(os.path.join(IMAGES, "demo.bin"), "rb") as f:
        return image_footprint(f.read())


def page(n: int) -> int:
    return (n + 0xFFF) & ~0xFFF


# --- placement (golden cases) ---------------------------------------------

def test_kernel_dtb_initrd_follow_the_boot_protocol(tmp_path):
    kernel = arm64_image(image_size=DEBIAN_IMAGE_SIZE, size=0x20000)
    initrd = bytes(range(256)) * 0x100  # 0x10000 bytes
    compiled(tmp_path, kernel_manifest(
        f'kernel = "{KERNEL}"; initrd = "{INITRD}"; bootargs = "console=ttyAMA0";',
        memory="0x0 0x48000000 0x0 0x8000000"), kernel_files(kernel, initrd))
    p = partition(tmp_path, "linux")
    dtb_size = os.path.getsize(os.path.join(outputs(tmp_path), "linux.dtb"))
    # kernel at the 2 MiB aligned RAM base + text_offset 0; image_size
    # 0x2010000 ends at 0x4a010000, so the DTB takes the next 2 MiB block
    # alone and the initrd comes right after that block
    assert [(l["what"], l["ipa"], l["size"]) for l in p["loads"]] == [
        ("kernel", 0x48000000, 0x20000),
        ("device tree", 0x4A200000, dtb_size),
        ("initrd", 0x4A400000, 0x10000)]
    assert (p["entry"], p["boot_arg"]) == (0x48000000, 0x4A200000)
    t = tables(tmp_path)
    assert "\t\t\t.entry = 0x48000000,\n\t\t\t.boot_arg = 0x4a200000,\n" \
           "\t\t\t.load_count = 3,\n" in t
    # payload: the kernel, its DTB, the initrd, then beta's image and DTB
    assert (f"\t\t\t.loads = {{{{0x0, 0x20000, 0x48000000}}, {{0x20000, {dtb_size:#x}, "
            f"0x4a200000}}, {{0x21000, 0x10000, 0x4a400000}}}},") in t
    tree = fdt(tmp_path, "linux")
    assert u64s(tree, "/chosen", "linux,initrd-start") == [0x4A400000]
    assert u64s(tree, "/chosen", "linux,initrd-end") == [0x4A410000]
    assert strings(tree, "/chosen", "bootargs") == ["console=ttyAMA0"]


def test_kernel_text_offset_and_unaligned_ram_base(tmp_path):
    kernel = arm64_image(text_offset=0x80000, image_size=0x380000)
    compiled(tmp_path, kernel_manifest(memory="0x0 0x48100000 0x0 0x800000"),
             kernel_files(kernel))
    p = partition(tmp_path, "linux")
    # the first 2 MiB boundary in RAM is 0x48200000; + text_offset; the
    # kernel's image_size ends at 0x48600000: the DTB's block starts there
    assert [(l["what"], l["ipa"]) for l in p["loads"]] == [
        ("kernel", 0x48280000), ("device tree", 0x48600000)]
    assert (p["entry"], p["boot_arg"]) == (0x48280000, 0x48600000)
    tree = fdt(tmp_path, "linux")
    assert "linux,initrd-start" not in prop_names(tree, "/chosen")
    assert "bootargs" not in prop_names(tree, "/chosen")


def test_kernel_that_fills_its_ram_alone_is_refused(tmp_path):
    text = kernel_manifest(memory="0x0 0x48000000 0x0 0x200000")
    line = rejected(compile_text(tmp_path, text, args=(
        "-I", write_images(tmp_path, kernel_files()))), "LOAD-FIT")
    assert line.startswith(f"manifests/m.dts:{lines_of(text, 'memory = <0x0 0x48000000')}: ")
    assert ("its device tree (0x" in line and "bytes at 0x48200000, alone in its 2 MiB "
            "block) of \"linux\" end at 0x482" in line)
    assert "beyond its first memory region [0x48000000, 0x48200000)" in line


def test_bare_metal_image_and_its_device_tree(tmp_path):
    compiled(tmp_path, manifest())
    p = partition(tmp_path, "alpha")
    dtb_size = os.path.getsize(os.path.join(outputs(tmp_path), "alpha.dtb"))
    size = os.path.getsize(os.path.join(IMAGES, "demo.bin"))
    # image at the first RAM byte, its device tree on the first page after
    # the image's footprint (image_size from its header: bss included)
    dtb_at = 0x41000000 + page(demo_footprint())
    assert [(l["what"], l["ipa"], l["size"]) for l in p["loads"]] == [
        ("image", 0x41000000, size), ("device tree", dtb_at, dtb_size)]
    assert (p["entry"], p["boot_arg"]) == (0x41000000, dtb_at)
    # one copy of demo.bin for both partitions
    t = tables(tmp_path)
    assert f".loads = {{{{0x0, {size:#x}, 0x41000000}}, {{{page(size):#x}, " \
           f"{dtb_size:#x}, {dtb_at:#x}}}}}," in t
    beta = partition(tmp_path, "beta")
    assert beta["loads"][0]["ipa"] == 0x41400000
    assert f".loads = {{{{0x0, {size:#x}, 0x41400000}}," in t


def test_entry_of_a_bare_metal_image_is_kept(tmp_path):
    compiled(tmp_path, manifest().replace('label = "alpha";',
                                          'label = "alpha"; entry = <0x0 0x41000040>;'))
    assert partition(tmp_path, "alpha")["entry"] == 0x41000040


# --- image header checks beyond the catalogue's own cases ------------------

@pytest.mark.parametrize("data,rule,words", [
    (arm64_image(magic=b"ARM\x00"), "KERNEL-FORMAT", "no arm64 Image magic"),
    (arm64_image()[:40], "KERNEL-FORMAT", "it has 40 bytes, less than the 64"),
    (b"MZ\x00\x00zimg" + bytes(100), "KERNEL-FORMAT", "an EFI zboot image"),
    (arm64_image(image_size=0), "KERNEL-SIZE", "image_size is 0: a kernel older than 3.17"),
    (arm64_image(text_offset=0x200000), "KERNEL-TEXT-OFFSET",
     "text_offset 0x200000 is not a multiple of 4 KiB below 2 MiB"),
    (arm64_image(flags=0x4), "KERNEL-PAGE-SIZE", "ask for 16 KiB pages"),
])
def test_kernel_header_problems(tmp_path, data, rule, words):
    text = kernel_manifest()
    line = rejected(compile_text(tmp_path, text, args=(
        "-I", write_images(tmp_path, kernel_files(data)))), rule)
    assert line.startswith(f"manifests/m.dts:{lines_of(text, 'kernel = ')}: ")
    assert words in line


@pytest.mark.parametrize("props,words", [
    ('image = "demo.bin"; kernel = "x";', "'image' and 'kernel' together"),
    ('image = "demo.bin"; initrd = "x";', "'image' and 'initrd' together"),
    (f'kernel = "{KERNEL}"; entry = <0x0 0x48000000>;', "'entry' with 'kernel'"),
])
def test_image_or_kernel(tmp_path, props, words):
    line = rejected(compile_text(tmp_path, kernel_manifest(props), args=(
        "-I", write_images(tmp_path, kernel_files()))), "IMAGE-OR-KERNEL")
    assert words in line


def test_neither_image_nor_kernel(tmp_path):
    line = rejected(compile_text(tmp_path, kernel_manifest("")), "SCHEMA-REQUIRED")
    assert "required property 'image' is missing (or 'kernel'" in line


def test_missing_kernel_and_initrd_name_their_property(tmp_path):
    r = compile_text(tmp_path, kernel_manifest(
        'kernel = "nope/Image"; initrd = "../initrd";'))
    assert "kernel \"nope/Image\" of \"linux\" is not in the image directory" in \
        rejected(r, "IMAGE-MISSING")
    assert "initrd \"../initrd\" of \"linux\" has an empty, '.' or '..' path component" \
        in rejected(r, "IMAGE-PATH")


def test_long_bootargs(tmp_path):
    line = rejected(compile_text(tmp_path, kernel_manifest(
        f'kernel = "{KERNEL}"; bootargs = "{"x" * 2048}";'), args=(
        "-I", write_images(tmp_path, kernel_files()))), "BOOTARGS")
    assert "bootargs of \"linux\" has 2048 characters; Linux takes at most 2047" in line


# --- the device tree's contents --------------------------------------------

def linux_product(tmp_path, **kw) -> None:
    compiled(tmp_path, kernel_manifest(
        f'kernel = "{KERNEL}"; initrd = "{INITRD}"; bootargs = "console=ttyAMA0 earlycon";'
        ' psci-conduit = "smc";', memory="0x0 0x48000000 0x0 0x8000000",
        extra=VIRTIO, beta_extra=RTC, **kw),
        kernel_files(arm64_image(image_size=DEBIAN_IMAGE_SIZE), bytes(0x1000)))


def test_linux_device_tree_holds_exactly_its_own(tmp_path):
    linux_product(tmp_path)
    tree = fdt(tmp_path, "linux")
    assert children(tree) == [
        "chosen", "memory@48000000", "cpus", "psci", "interrupt-controller@8000000",
        "timer", "clock-24000000", "serial@9000000", "virtio_mmio@a000000"]
    assert prop_names(tree, "/") == ["#address-cells", "#size-cells", "compatible",
                                     "model", "interrupt-parent"]
    assert strings(tree, "/", "model") == ["Bulkhead partition linux"]
    assert u64s(tree, "/memory@48000000", "reg") == [0x48000000, 0x8000000]
    assert children(tree, "/cpus") == ["cpu@0", "cpu@1"]
    for i in range(2):
        assert cells(tree, f"/cpus/cpu@{i}", "reg") == [i]
        assert strings(tree, f"/cpus/cpu@{i}", "enable-method") == ["psci"]
    assert strings(tree, "/psci", "compatible") == ["arm,psci-1.0", "arm,psci-0.2"]
    assert strings(tree, "/psci", "method") == ["smc"]
    gic = "/interrupt-controller@8000000"
    assert strings(tree, gic, "compatible") == ["arm,gic-v3"]
    # the distributor, and the redistributor frames of its two vCPUs only
    assert u64s(tree, gic, "reg") == [0x8000000, 0x10000, 0x80A0000, 0x40000]
    assert cells(tree, "/timer", "interrupts") == [1, 13, 4, 1, 14, 4, 1, 11, 4, 1, 10, 4]
    assert strings(tree, "/serial@9000000", "compatible") == ["arm,pl011", "arm,primecell"]
    assert u64s(tree, "/serial@9000000", "reg") == [0x9000000, 0x1000]
    assert cells(tree, "/serial@9000000", "interrupts") == [0, 1, 4]
    clock = tree.path_offset("/clock-24000000")
    assert cells(tree, "/clock-24000000", "clock-frequency") == [24000000]
    assert cells(tree, "/serial@9000000", "clocks") == [tree.get_phandle(clock)]
    assert cells(tree, "/", "interrupt-parent") == [tree.get_phandle(tree.path_offset(gic))]
    assert strings(tree, "/chosen", "stdout-path") == ["/serial@9000000"]
    # compatible and dma-coherent come from the board's node at 0x0a000000
    dev = "/virtio_mmio@a000000"
    assert strings(tree, dev, "compatible") == ["virtio,mmio"]
    assert u64s(tree, dev, "reg") == [0xA000000, 0x1000]
    assert cells(tree, dev, "interrupts") == [0, 16, 1]
    assert "dma-coherent" in prop_names(tree, dev)
    # nothing of the other partition
    assert not any(n.startswith(("rtc", "memory@414")) for n in children(tree))


def test_bare_metal_device_tree(tmp_path):
    linux_product(tmp_path)
    tree = fdt(tmp_path, "beta")
    assert children(tree) == [
        "chosen", "memory@41400000", "cpus", "psci", "interrupt-controller@8000000",
        "timer", "clock-24000000", "serial@9000000", "rtc@9010000"]
    assert children(tree, "/cpus") == ["cpu@0"]
    assert u64s(tree, "/interrupt-controller@8000000", "reg") == [
        0x8000000, 0x10000, 0x80A0000, 0x20000]
    assert strings(tree, "/psci", "method") == ["hvc"]  # the default
    assert prop_names(tree, "/chosen") == ["stdout-path"]
    assert strings(tree, "/rtc@9010000", "compatible") == ["arm,pl031", "arm,primecell"]
    assert cells(tree, "/rtc@9010000", "interrupts") == [0, 2, 4]
    assert "dma-coherent" not in prop_names(tree, "/rtc@9010000")


def test_device_tree_without_console_has_no_serial(tmp_path):
    compiled(tmp_path, manifest().replace("console = <0x0 0x09000000>;", "", 1))
    tree = fdt(tmp_path, "alpha")
    assert children(tree) == ["chosen", "memory@41000000", "cpus", "psci",
                              "interrupt-controller@8000000", "timer"]
    assert prop_names(tree, "/chosen") == []
    assert ".spi_count = 0," in tables(tmp_path)


def test_device_compatible_from_the_manifest_wins(tmp_path):
    dev = ('devices { clock@9010000 { reg = <0x0 0x09010000 0x0 0x1000>; '
           'compatible = "vendor,rtc"; dma-coherent; }; };')
    compiled(tmp_path, manifest([P("alpha", 1, "0", "0x41000000", extra=dev)]))
    tree = fdt(tmp_path, "alpha")
    assert strings(tree, "/clock@9010000", "compatible") == ["vendor,rtc"]
    assert "dma-coherent" in prop_names(tree, "/clock@9010000")
    assert "interrupts" not in prop_names(tree, "/clock@9010000")


def test_device_node_is_named_at_its_first_region(tmp_path):
    dev = ("devices { two { reg = <0x0 0x09030000 0x0 0x1000>, "
           "<0x0 0x09010000 0x0 0x1000>; }; };")
    compiled(tmp_path, manifest([P("alpha", 1, "0", "0x41000000", extra=dev)]))
    tree = fdt(tmp_path, "alpha")
    assert u64s(tree, "/two@9030000", "reg") == [0x9030000, 0x1000, 0x9010000, 0x1000]
    # the board's pl061 at 0x09030000 gives the compatible
    assert strings(tree, "/two@9030000", "compatible") == ["arm,pl061", "arm,primecell"]


def test_dts_is_written_beside_the_dtb_and_matches_it(tmp_path):
    linux_product(tmp_path)
    out = outputs(tmp_path)
    for name in ("linux", "beta"):
        dts = os.path.join(out, f"{name}.dts")
        r = subprocess.run(["dtc", "-I", "dts", "-O", "dtb", dts], capture_output=True)
        assert r.returncode == 0 and r.stderr == b""
        with open(os.path.join(out, f"{name}.dtb"), "rb") as f:
            assert r.stdout == f.read()


# --- virtual SPIs in the tables -------------------------------------------

def test_spis_of_console_and_devices(tmp_path):
    linux_product(tmp_path)
    t = tables(tmp_path)
    # linux: the console's receive SPI (board UART, level) and the virtio
    # device's (pass-through, edge); beta: console and the RTC (level)
    assert ("\t\t\t.spi_count = 2,\n\t\t\t.spis = {{33, MANIFEST_SPI_CONSOLE_RX}, "
            "{48, MANIFEST_SPI_HW | MANIFEST_SPI_EDGE}},") in t
    assert ("\t\t\t.spi_count = 2,\n\t\t\t.spis = {{33, MANIFEST_SPI_CONSOLE_RX}, "
            "{34, MANIFEST_SPI_HW}},") in t
    assert "\t\t.uart_intid = 33,\n" in t


@pytest.mark.parametrize("irq,words", [
    ("<0 2 1>", "SPI 2 of device \"rtc@9010000\" of \"alpha\" has flags 1, but the "
                "board's pl031@9010000 says <0 2 4> (level, high)"),
    ("<0 2 2>", "interrupt <0 2 2>: the flags cell must be 1 (edge, rising) or 4"),
])
def test_device_interrupt_trigger(tmp_path, irq, words):
    dev = f"devices {{ rtc@9010000 {{ reg = <0x0 0x09010000 0x0 0x1000>; interrupts = {irq}; }}; }};"
    line = rejected(compile_text(tmp_path, manifest([P("alpha", 1, "0", "0x41000000",
                                                       extra=dev)])), "IRQ-INVALID")
    assert words in line


# --- overlays ----------------------------------------------------------------

OVERLAY_GOOD = """device-tree {
					board-name = "test board";
					reserved-memory {
						#address-cells = <2>;
						#size-cells = <2>;
						ranges;
						ring@4f000000 { reg = <0x0 0x4f000000 0x0 0x1000>; no-map; };
					};
					clk: osc { compatible = "fixed-clock"; #clock-cells = <0>; clock-frequency = <32768>; };
					widget@9010800 {
						compatible = "test,widget";
						reg = <0x0 0x09010800 0x0 0x100>;
						interrupts = <0 2 4>;
						clocks = <&clk>;
					};
					i2c {
						#address-cells = <1>;
						#size-cells = <0>;
						sensor@48 { reg = <0x48>; };
					};
				};"""
SHARED = ("shared-memory { ring { reg = <0x0 0x4f000000 0x0 0x1000>; "
          "partitions = <&alpha &beta>; access = \"rw\", \"ro\"; }; };")


def overlay_manifest(body: str) -> str:
    return manifest([P("alpha", 1, "0", "0x41000000", extra=RTC + body),
                     P("beta", 2, "1", "0x41400000")], tail=SHARED)


def test_overlay_nodes_are_added(tmp_path):
    compiled(tmp_path, overlay_manifest(OVERLAY_GOOD))
    tree = fdt(tmp_path, "alpha")
    assert children(tree)[-4:] == ["reserved-memory", "osc", "widget@9010800", "i2c"]
    assert strings(tree, "/", "board-name") == ["test board"]
    assert u64s(tree, "/reserved-memory/ring@4f000000", "reg") == [0x4F000000, 0x1000]
    osc = tree.get_phandle(tree.path_offset("/osc"))
    assert osc != 0 and cells(tree, "/widget@9010800", "clocks") == [osc]
    assert cells(tree, "/widget@9010800", "interrupts") == [0, 2, 4]
    assert cells(tree, "/i2c/sensor@48", "reg") == [0x48]
    # the generated phandles do not collide with the overlay's
    gic = tree.get_phandle(tree.path_offset("/interrupt-controller@8000000"))
    clock = tree.get_phandle(tree.path_offset("/clock-24000000"))
    assert len({osc, gic, clock}) == 3
    # nothing of the overlay reaches the other partition
    assert children(fdt(tmp_path, "beta"))[-1] == "serial@9000000"


@pytest.mark.parametrize("body,rule,words", [
    ("device-tree { model = \"mine\"; };", "OVERLAY-COLLIDE",
     "root property 'model' is generated"),
    ("device-tree { memory@41000000 { x = <1>; }; };", "OVERLAY-COLLIDE",
     "node /memory@41000000 is generated"),
    ("device-tree { rtc@9010000 { x = <1>; }; };", "OVERLAY-COLLIDE",
     "node /rtc@9010000 is generated"),
    ("device-tree { m@41400000 { reg = <0x0 0x41400000 0x0 0x10>; }; };", "OVERLAY-REG",
     "reg [0x41400000, 0x41400010) of /bulkhead/partitions/partition@1/device-tree/"
     "m@41400000 is not inside what the partition may touch (its memory [0x41000000, "
     "0x41400000), its device \"rtc@9010000\" [0x9010000, 0x9011000), shared region "
     "\"ring\" [0x4f000000, 0x4f001000))"),
    ("device-tree { bus { #address-cells = <1>; #size-cells = <1>; ranges = <0x0 0x0 "
     "0x41000000 0x1000>; d@0 { reg = <0x0 0x10>; }; }; };", "OVERLAY-REG",
     "is translated by the non-empty 'ranges' of /bulkhead/partitions/partition@1/"
     "device-tree/bus"),
    ("device-tree { d@1 { reg = <0x1>; }; };", "OVERLAY-REG",
     "reg of /bulkhead/partitions/partition@1/device-tree/d@1 (4 bytes) is not a list "
     "of <address size> with the parent's #address-cells 2 and #size-cells 2"),
    ("device-tree { t { interrupts = <1 11 4>; }; };", "OVERLAY-IRQ",
     "interrupt <1 11 4> of /bulkhead/partitions/partition@1/device-tree/t is not one "
     "of the partition's SPIs (SPI 1, SPI 2"),
    ("device-tree { t { interrupts = <0 2>; }; };", "OVERLAY-IRQ",
     "are not GIC triples"),
    ("device-tree { t { p = <&ring>; }; };", "OVERLAY-PHANDLE",
     "refers to node /bulkhead/shared-memory/ring, outside the overlay"),
])
def test_overlay_checks(tmp_path, body, rule, words):
    text = overlay_manifest(body).replace("ring {", "ring: ring {")
    r = compile_text(tmp_path, text)
    line = rejected(r, rule)
    assert words in line
    assert line.startswith("manifests/m.dts:")
    assert not (tmp_path / "out" / "manifest_tables.c").exists()


def test_overlay_interrupts_of_another_controller_are_its_own(tmp_path):
    body = ("device-tree { pic: pic { interrupt-controller; #interrupt-cells = <1>; "
            "#address-cells = <0>; }; "
            "t { interrupt-parent = <&pic>; interrupts = <7>; }; };")
    compiled(tmp_path, overlay_manifest(body))
    tree = fdt(tmp_path, "alpha")
    assert cells(tree, "/t", "interrupt-parent") == [
        tree.get_phandle(tree.path_offset("/pic"))]


# --- outputs: files, determinism, errors ------------------------------------

def test_outputs_are_deterministic(tmp_path):
    outs = []
    for i in range(2):
        d = tmp_path / f"run{i}"
        d.mkdir()
        linux_product(d)
        out = d / "out"
        outs.append({f: (out / f).read_bytes() for f in sorted(os.listdir(out))
                     if f != "manifest.d"})
    assert outs[0] == outs[1]
    assert {"linux.dts", "linux.dtb", "beta.dts", "beta.dtb"} <= set(outs[0])
    for data in outs[0].values():
        assert str(tmp_path).encode() not in data


def test_renamed_partition_leaves_no_stale_device_tree(tmp_path):
    compiled(tmp_path, manifest())
    out = tmp_path / "out"
    assert (out / "alpha.dtb").exists()
    compiled(tmp_path, manifest().replace('label = "alpha"', 'label = "gamma"'))
    assert not (out / "alpha.dtb").exists() and not (out / "alpha.dts").exists()
    assert (out / "gamma.dtb").exists()
    assert compile_text(tmp_path, manifest().replace("id = <1>;", "id = <0>;")).returncode == 1
    assert sorted(os.listdir(out)) == []


def test_layout_names_every_blob_and_its_source(tmp_path):
    linux_product(tmp_path)
    with open(tmp_path / "out" / "layout.json", encoding="utf-8") as f:
        layout = json.load(f)
    assert [(b["name"], b["source"]) for b in layout["images"]] == [
        (KERNEL, "images"), ("linux.dtb", "product"), (INITRD, "images"),
        ("demo.bin", "images"), ("beta.dtb", "product")]
    assert layout["payload_region"] is None
    with open(tmp_path / "out" / "beta.dtb", "rb") as f:
        assert layout["images"][4]["sha256"] == hashlib.sha256(f.read()).hexdigest()
    ends = [b["offset"] + b["size"] for b in layout["images"]]
    assert all(b["offset"] % 0x1000 == 0 for b in layout["images"])
    assert all(nxt["offset"] >= end for nxt, end in zip(layout["images"][1:], ends))
    assert layout["payload_size"] == page(ends[-1])


# --- the payload region and the flashable image -----------------------------

PAYLOAD_HYP = "payload = <0x0 0x40600000 0x0 0x00400000>;"


def test_payload_region_tables_linker_and_map(tmp_path):
    compiled(tmp_path, manifest(hyp=PAYLOAD_HYP, hyp_memory="0x0 0x40200000 0x0 0x400000"))
    t = tables(tmp_path)
    payload = image_payload("demo.bin") + 0x2000
    assert f"\t.payload_base = 0x40600000,\n\t.payload_size = {payload:#x},\n" in t
    assert "PAYLOAD_SIZE = 0x0;" in (tmp_path / "out" / "hyp.ld").read_text()
    regions = memmap(tmp_path)["regions"]
    assert {"kind": "payload", "owner": "hypervisor", "base": 0x40600000,
            "size": 0x400000, "access": "ro"} in regions
    text = (tmp_path / "out" / "memmap.txt").read_text()
    assert f"Payload ({payload:#x} bytes) in its region [0x40600000, 0x40a00000):" in text


@pytest.mark.parametrize("payload,rule,words", [
    ("<0x0 0x40e00000 0x0 0x400000>", "MEM-OVERLAP",
     "the payload region [0x40e00000, 0x41200000) overlaps hypervisor memory"),
    ("<0x0 0x41000000 0x0 0x400000>", "MEM-OVERLAP",
     "the payload region [0x41000000, 0x41400000) overlaps partition \"alpha\" memory "
     "[0x41000000, 0x41400000) by 0x400000 bytes"),
    ("<0x0 0x4f000000 0x0 0x1000>", "MEM-OVERLAP", "the payload region [0x4f000000, "
     "0x4f001000) overlaps shared region \"ring\" [0x4f000000, 0x4f001000)"),
    ("<0x0 0x90000000 0x0 0x1000>", "MEM-OUTSIDE", "payload region [0x90000000, "
     "0x90001000) is not inside the board's RAM"),
    ("<0x0 0x41800800 0x0 0x1000>", "MEM-ALIGN", "payload region [0x41800800"),
    ("<0x0 0x41800000 0x0 0x1000>, <0x0 0x41900000 0x0 0x1000>", "SCHEMA-TYPE",
     "property 'payload' must be exactly one region"),
])
def test_payload_region_checked_like_every_region(tmp_path, payload, rule, words):
    text = manifest(hyp=f"payload = {payload};", tail=SHARED)
    line = rejected(compile_text(tmp_path, text), rule)
    assert words in line


def test_payload_gap_warns(tmp_path):
    r = compile_text(tmp_path, manifest(hyp="payload = <0x0 0x41800000 0x0 0x400000>;"))
    assert r.returncode == 0, r.stderr
    assert ("warning[PAYLOAD-GAP]: /bulkhead/hypervisor: payload region [0x41800000, "
            "0x41c00000) starts 0x800000 bytes after the hypervisor's memory "
            "[0x40200000, 0x41000000); the flashable image carries them as zeros: "
            "put the region at 0x41000000") in r.stderr


def packed(tmp_path, text: str) -> tuple[bytes, dict]:
    config = open(os.path.join(BUILD, ".config")).read()
    r = compile_text(tmp_path, text, config=config)
    assert r.returncode == 0, r.stderr
    out = outputs(tmp_path)
    link = link_hypervisor(out, os.path.join(out, "bulkhead.elf"))
    assert link.returncode == 0, link.stderr
    img = os.path.join(out, "bulkhead.img")
    subprocess.run([PYTHON, os.path.join(ROOT, "tools", "pack_image.py"), "--elf",
                    os.path.join(out, "bulkhead.elf"), "--layout",
                    os.path.join(out, "layout.json"), "-I", IMAGES, "-o", img],
                   check=True, capture_output=True)
    with open(img, "rb") as f, open(os.path.join(out, "layout.json")) as g:
        return f.read(), json.load(g)


def test_packed_image_carries_the_payload_region_contiguously(tmp_path):
    image, layout = packed(tmp_path, manifest(
        hyp=PAYLOAD_HYP, hyp_memory="0x0 0x40200000 0x0 0x400000"))
    at = 0x40600000 - 0x40200000
    assert len(image) == at + layout["images"][-1]["offset"] + layout["images"][-1]["size"]
    for blob in layout["images"]:
        src = os.path.join(IMAGES if blob["source"] == "images" else outputs(tmp_path),
                           blob["name"])
        with open(src, "rb") as f:
            data = f.read()
        start = at + blob["offset"]
        assert image[start:start + len(data)] == data, blob["name"]


def test_packed_image_without_payload_region(tmp_path):
    image, layout = packed(tmp_path, manifest())
    nm = subprocess.run(["aarch64-linux-gnu-nm", os.path.join(outputs(tmp_path),
                                                             "bulkhead.elf")],
                        capture_output=True, text=True, check=True).stdout
    syms = {l.split()[2]: int(l.split()[0], 16) for l in nm.splitlines()
            if len(l.split()) == 3}
    at = syms["__payload_start"] - syms["__image_start"]
    assert syms["__payload_end"] - syms["__payload_start"] == layout["payload_size"]
    for blob in layout["images"]:
        src = os.path.join(IMAGES if blob["source"] == "images" else outputs(tmp_path),
                           blob["name"])
        with open(src, "rb") as f:
            data = f.read()
        assert image[at + blob["offset"]:at + blob["offset"] + len(data)] == data


def test_packer_takes_device_trees_only_from_the_product_directory(tmp_path):
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import pack_image
    config = open(os.path.join(BUILD, ".config")).read()
    assert compile_text(tmp_path, manifest(), config=config).returncode == 0
    out = outputs(tmp_path)
    assert link_hypervisor(out, os.path.join(out, "bulkhead.elf")).returncode == 0
    with open(os.path.join(out, "layout.json")) as f:
        good = json.load(f)
    for name, source, why in (("../m.dts", "product", "only files in the image directory"),
                              ("alpha.dtb", "elsewhere", "neither \"images\" nor \"product\"")):
        bad = json.loads(json.dumps(good))
        dtb = next(b for b in bad["images"] if b["name"] == "alpha.dtb")
        dtb["name"], dtb["source"] = name, source
        layout = tmp_path / "out" / "bad-layout.json"
        layout.write_text(json.dumps(bad))
        with pytest.raises(pack_image.PackError) as e:
            pack_image.pack(os.path.join(out, "bulkhead.elf"), str(layout), [IMAGES],
                            "aarch64-linux-gnu-objcopy")
        assert why in str(e.value)


# --- on the hypervisor: x0 at boot and after SYSTEM_RESET --------------------

DT_SUITES = {"dt": "dtcheck", "dtreset": "dtcheck", "dtplain": "dtplain"}


@pytest.mark.parametrize("case", declared_cases(os.path.join(ROOT, "tests", "partitions",
                                                             "dt-test")))
def test_partition_reads_its_device_tree(boots, case):
    b = boots("devicetree")
    key = f"{DT_SUITES[case.split('.')[0]]}:{case}"
    assert b.results().get(key) == "PASS", "\n".join(b.lines[-40:])


def test_device_tree_scenario_resets_once_and_powers_off(boots):
    b = boots("devicetree")
    assert b.returncode == 0
    assert "[bulkhead] partition dtcheck: restarting" in b.lines
    assert "[bulkhead]   dtcheck          booted 2 time(s), 0 fault(s) injected" in b.lines
    assert "[bulkhead] all partitions are off; powering off" in b.lines
    # the banner says where each partition starts and where its tree is
    mm = json.loads(open(os.path.join(BUILD, "products", "devicetree", "memmap.json")).read())
    for p in mm["partitions"]:
        assert any(l.endswith(f"entry {p['entry']:#x}, x0 {p['boot_arg']:#x} (device "
                              f"tree), {len(p['loads'])} blob(s)") for l in b.lines)
