"""The boot hand-over: where each partition's blobs go in its RAM, its
device tree, and where every blob sits in the payload.

Placement, in the partition's first RAM region R (booting.rst for a
kernel):
  kernel   at the first 2 MiB boundary in R + text_offset; image_size
           bytes (bss included) free from there
  DTB      at the next 2 MiB boundary after the kernel's image_size, alone
           in its 2 MiB block (at most 2 MiB)
  initrd   right after the DTB's block
  image    (bare metal) at R's first byte, entry there or at `entry`;
           its DTB on the first page after the image's footprint
vCPU 0 starts at the kernel (or the entry) with x0 = the DTB's IPA.

The payload holds every blob once (the same image for two partitions is
stored once), each page aligned, in partition ID order.
"""
import hashlib
from dataclasses import dataclass
from typing import Optional

from . import devicetree
from .diag import Reporter
from .model import PAGE_SIZE, Blob, Limits, Load, Manifest, Partition

BLOCK_2M = 0x200000
DT_MAX = 0x200000  # booting.rst: the DTB must not exceed 2 MiB
GAP_WARN = 0x100000  # padding in the flashable image worth a warning


def align(value: int, to: int = PAGE_SIZE) -> int:
    return (value + to - 1) // to * to


def _q(p: Partition) -> str:
    return f"\"{p.name}\""


@dataclass(frozen=True)
class Plan:
    """Addresses chosen before the device tree exists (its IPA does not
    depend on its size)."""
    main: Load  # the image or kernel
    dtb_ipa: int
    initrd: Optional[Load]
    start: int


def plan(p: Partition) -> Plan:
    """Where p's blobs go (whether they fit is _fit's question)."""
    region = p.memory[0]
    assert p.main_blob is not None
    if p.kernel_header is None:  # a bare-metal image
        main = Load("image", p.main_blob, region.base)
        dtb_ipa = align(region.base + p.image_footprint)
        start = p.entry if p.entry is not None else region.base
        return Plan(main, dtb_ipa, None, start)
    h = p.kernel_header
    kernel_ipa = align(region.base, BLOCK_2M) + h.text_offset
    main = Load("kernel", p.main_blob, kernel_ipa)
    dtb_ipa = align(kernel_ipa + h.image_size, BLOCK_2M)
    initrd = (Load("initrd", p.initrd_blob, dtb_ipa + BLOCK_2M)
              if p.initrd_blob is not None else None)
    return Plan(main, dtb_ipa, initrd, kernel_ipa)


def _fit(p: Partition, pl: Plan, dtb_size: int, rep: Reporter) -> bool:
    """LOAD-FIT: everything inside the first RAM region."""
    region = p.memory[0]
    if pl.main.what == "kernel":
        h = p.kernel_header
        assert h is not None
        parts = [f"kernel \"{p.kernel}\" (image_size {h.image_size:#x} at "
                 f"{pl.main.ipa:#x}: a 2 MiB boundary + text_offset "
                 f"{h.text_offset:#x})",
                 f"its device tree ({dtb_size:#x} bytes at {pl.dtb_ipa:#x}, "
                 "alone in its 2 MiB block)"]
        end = pl.dtb_ipa + dtb_size
        if pl.initrd is not None:
            parts.append(f"initrd \"{p.initrd}\" ({pl.initrd.blob.size:#x} "
                         f"bytes at {pl.initrd.ipa:#x})")
            end = pl.initrd.end
    else:
        parts = [f"image \"{p.image}\" ({p.image_footprint:#x} bytes with its "
                 f"bss at {pl.main.ipa:#x})",
                 f"its device tree ({dtb_size:#x} bytes at {pl.dtb_ipa:#x})"]
        end = pl.dtb_ipa + dtb_size
    if end <= region.end:
        return True
    need = align(end) - region.base
    rep.error("LOAD-FIT", p.where("memory"), p.path,
              f"{' and '.join([', '.join(parts[:-1]), parts[-1]])} of {_q(p)} "
              f"end at {end:#x}, beyond its first memory region {region} by "
              f"{end - region.end:#x} bytes; make the region at least "
              f"{need:#x} bytes (the boot protocol places them in the first "
              "region)")
    return False


def _dtb_blob(p: Partition, dtb: bytes) -> Blob:
    return Blob(f"{p.name}.dtb", "product", "", len(dtb),
                hashlib.sha256(dtb).hexdigest())


def _prepare_partition(m: Manifest, p: Partition, rep: Reporter) -> None:
    pl = plan(p)
    chosen = devicetree.Chosen(initrd=(pl.initrd.ipa, pl.initrd.end)
                               if pl.initrd is not None else None)
    text = devicetree.build(m, p, m.tree, chosen)
    result = devicetree.compile_dts(text)
    loc = (m.tree.loc(p.overlay.path) if p.overlay is not None and m.tree
           else None) or p.loc
    if result.dtb is None:
        shown = "; ".join(result.messages[:3]) + (
            f" (and {len(result.messages) - 3} more)" if len(result.messages) > 3 else "")
        rep.error("DT-CHECK", loc, p.path,
                  f"dtc does not accept the device tree of {_q(p)} (a warning "
                  f"counts): {shown}")
        return
    if len(result.dtb) > DT_MAX:
        rep.error("DT-TOO-BIG", loc, p.path,
                  f"the device tree of {_q(p)} has {len(result.dtb):#x} bytes, "
                  f"more than the {DT_MAX:#x} the boot protocol allows; make "
                  "its overlay smaller")
        return
    if not _fit(p, pl, len(result.dtb), rep):
        return
    dtb_load = Load("device tree", _dtb_blob(p, result.dtb), pl.dtb_ipa)
    loads = [pl.main, dtb_load] + ([pl.initrd] if pl.initrd is not None else [])
    p.loads = sorted(loads, key=lambda l: l.ipa)
    p.dts, p.dtb = text, result.dtb
    p.boot_arg, p.start = pl.dtb_ipa, pl.start


def _layout_payload(m: Manifest) -> None:
    offsets: dict[tuple[str, str], int] = {}
    m.payload = []
    offset = 0
    for p in sorted(m.partitions, key=lambda p: p.id):
        for load in p.loads:
            key = (load.blob.source, load.blob.name)
            if key in offsets:
                continue
            offsets[key] = offset
            m.payload.append((load.blob, offset))
            offset += align(load.blob.size)
    m.payload_size = offset


def payload_offset(m: Manifest, blob: Blob) -> int:
    return next(off for b, off in m.payload
                if (b.source, b.name) == (blob.source, blob.name))


def _check_room(m: Manifest, limits: Limits, rep: Reporter) -> None:
    hyp_path = "/bulkhead/hypervisor"
    pr = m.payload_region
    if pr is None:
        pool = limits.page_pool_pages * PAGE_SIZE
        if m.payload_size + pool > m.hypervisor.size:
            rep.error("HYP-TOO-SMALL", m.hypervisor_loc, hyp_path,
                      f"hypervisor memory {m.hypervisor} holds "
                      f"{m.hypervisor.size:#x} bytes, less than the payload "
                      f"(the partitions' images, kernels, initrds and device "
                      f"trees: {m.payload_size:#x}) and the page pool "
                      f"({pool:#x}, CONFIG_PAGE_POOL_PAGES="
                      f"{limits.page_pool_pages}) alone, before the "
                      "hypervisor's own code and data; make 'memory' larger, "
                      "or give the hypervisor a 'payload' region")
        return
    if m.payload_size > pr.size:
        rep.error("PAYLOAD-TOO-SMALL", pr.loc, hyp_path,
                  f"payload region {pr} holds {pr.size:#x} bytes, less than "
                  f"the payload (the partitions' images, kernels, initrds and "
                  f"device trees, each page aligned: {m.payload_size:#x}); "
                  f"make it at least {m.payload_size:#x} bytes")
    gap = pr.base - m.hypervisor.end
    if gap > GAP_WARN:
        rep.warning("PAYLOAD-GAP", pr.loc, hyp_path,
                    f"payload region {pr} starts {gap:#x} bytes after the "
                    f"hypervisor's memory {m.hypervisor}; the flashable image "
                    f"carries them as zeros: put the region at "
                    f"{m.hypervisor.end:#x}")


def prepare(m: Manifest, limits: Limits, rep: Reporter) -> None:
    """Places every partition's blobs, generates and checks its device
    tree, lays out the payload and checks that it fits."""
    before = len(rep.errors)
    for p in sorted(m.partitions, key=lambda p: p.id):
        _prepare_partition(m, p, rep)
    if len(rep.errors) != before:
        return
    _layout_payload(m)
    _check_room(m, limits, rep)
