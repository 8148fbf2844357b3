"""Helpers for the tests of kernel partitions and generated device trees:
synthetic arm64 Images, manifests with a kernel partition, reading a
compiled product's outputs."""
import json
import os
import struct

import libfdt

from manifest_helpers import P, manifest

MAGIC = b"ARM\x64"
KERNEL = "test-linux/Image"  # not the build's linux/Image
INITRD = "test-linux/initrd.img"
KIMAGES = "kimages"  # image directory of the synthetic files, under tmp_path


def arm64_image(text_offset: int = 0, image_size: int = 0x200000, flags: int = 0xA,
                size: int = 0x3000, magic: bytes = MAGIC) -> bytes:
    """An arm64 Image header (booting.rst) followed by filler up to `size`."""
    header = struct.pack("<IIQQQQQQ4sI", 0x14000000, 0, text_offset, image_size,
                         flags, 0, 0, 0, magic, 0)
    return header + bytes((i * 7) & 0xFF for i in range(size - len(header)))


def write_images(tmp_path, files: dict[str, bytes]) -> str:
    """Writes files (paths relative to tmp_path) and returns the
    compiler's -I argument for the synthetic image directory."""
    for rel, data in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return KIMAGES


def kernel_files(kernel: bytes = None, initrd: bytes = None) -> dict[str, bytes]:
    out = {f"{KIMAGES}/{KERNEL}": arm64_image() if kernel is None else kernel}
    if initrd is not None:
        out[f"{KIMAGES}/{INITRD}"] = initrd
    return out


def kernel_manifest(props: str = f'kernel = "{KERNEL}";',
                    memory: str = "0x0 0x48000000 0x0 0x800000", extra: str = "",
                    beta_extra: str = "", hyp: str = "", tail: str = "",
                    hyp_memory: str = "0x0 0x40200000 0x0 0x00e00000",
                    cpus: str = "0 1") -> str:
    """Partition "linux" (id 1) boots a kernel; "beta" (id 2, CPU 2) the
    demo image. `props` replaces the image line of "linux"."""
    text = manifest([P("linux", 1, cpus, "0x48000000", image="@KERNEL", extra=extra),
                     P("beta", 2, "2", "0x41400000", extra=beta_extra)],
                    hyp=hyp, tail=tail, hyp_memory=hyp_memory)
    text = text.replace('image = "@KERNEL";', props, 1)
    return text.replace("memory = <0x0 0x48000000 0x0 0x400000>;",
                        f"memory = <{memory}>;", 1)


def outputs(tmp_path) -> str:
    return str(tmp_path / "out")


def memmap(tmp_path) -> dict:
    with open(os.path.join(outputs(tmp_path), "memmap.json"), encoding="utf-8") as f:
        return json.load(f)


def partition(tmp_path, name: str) -> dict:
    return next(p for p in memmap(tmp_path)["partitions"] if p["name"] == name)


def fdt(tmp_path, name: str) -> libfdt.Fdt:
    with open(os.path.join(outputs(tmp_path), f"{name}.dtb"), "rb") as f:
        return libfdt.Fdt(f.read())


def children(tree: libfdt.Fdt, path: str = "/") -> list[str]:
    """Names of the node's children, in order."""
    node = tree.path_offset(path)
    out = []
    sub = tree.first_subnode(node, [libfdt.FDT_ERR_NOTFOUND])
    while sub >= 0:
        out.append(tree.get_name(sub))
        sub = tree.next_subnode(sub, [libfdt.FDT_ERR_NOTFOUND])
    return out


def prop_names(tree: libfdt.Fdt, path: str) -> list[str]:
    node = tree.path_offset(path)
    out = []
    off = tree.first_property_offset(node, [libfdt.FDT_ERR_NOTFOUND])
    while off >= 0:
        out.append(tree.get_property_by_offset(off).name)
        off = tree.next_property_offset(off, [libfdt.FDT_ERR_NOTFOUND])
    return out


def cells(tree: libfdt.Fdt, path: str, prop: str) -> list[int]:
    data = bytes(tree.getprop(tree.path_offset(path), prop))
    return [int.from_bytes(data[i:i + 4], "big") for i in range(0, len(data), 4)]


def strings(tree: libfdt.Fdt, path: str, prop: str) -> list[str]:
    data = bytes(tree.getprop(tree.path_offset(path), prop))
    assert data.endswith(b"\0")
    return data[:-1].decode().split("\0")


def u64s(tree: libfdt.Fdt, path: str, prop: str) -> list[int]:
    c = cells(tree, path, prop)
    return [(c[i] << 32) | c[i + 1] for i in range(0, len(c), 2)]
