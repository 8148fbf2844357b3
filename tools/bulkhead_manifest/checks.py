"""The rules that relate the parts of a manifest to each other and to the
board. Each rule has an ID (listed in RULES) and its own negative test."""
import hashlib
from typing import Optional

from . import arch, boot, devicetree, kernel, messaging, overlay, paths
from .board import hypervisor_ram
from .diag import Reporter
from .model import (DEVICE_IRQS_MAX, GRANT_RANGES_MAX, NAME_MAX, PAGE_SIZE,
                    Blob, Device, Limits, Manifest, Partition, Region, Spi)
from .regions import check_overlaps, check_shape, inside_any
from .rules import RULES

__all__ = ["RULES", "check", "check_product", "image_footprint"]

BOOTARGS_MAX = 2047  # arm64 COMMAND_LINE_SIZE is 2048 with the NUL

ID_MAX = 0x7FFF
IMAGE_MAGIC_OFFSET = 0x38
IMAGE_MAGIC = b"ARM\x64"


def _q(p: Partition) -> str:
    return f"\"{p.name}\""


def _duplicates(rep: Reporter, parts: list[Partition], key, rule: str,
                prop: str, show) -> None:
    seen: dict = {}
    for p in parts:
        k = key(p)
        if k is None:
            continue
        if k in seen:
            rep.error(rule, p.where(prop), p.path,
                      f"{prop} {show(k)} is used by both {_q(seen[k])} and "
                      f"{_q(p)}; each partition needs its own")
        else:
            seen[k] = p


def image_footprint(data: bytes) -> int:
    """Bytes the image needs in RAM: its arm64 Image header's image_size
    (which covers bss) when it has one, else its file size."""
    if len(data) >= 64 and data[IMAGE_MAGIC_OFFSET:IMAGE_MAGIC_OFFSET + 4] == IMAGE_MAGIC:
        text_offset = int.from_bytes(data[8:16], "little")
        image_size = int.from_bytes(data[16:24], "little")
        return max(len(data), text_offset + image_size)
    return len(data)


def check_product(product: str, rep: Reporter) -> None:
    """The product name lands in the tables, the banner and file names."""
    try:
        product.encode("utf-8")
        ok = bool(product) and product.isprintable() and "/" not in product
    except UnicodeEncodeError:
        ok = False
    if not ok:
        rep.error("PRODUCT-NAME", None, "",
                  f"product name {product!r} must be non-empty printable UTF-8 "
                  "text without '/'; rename the manifest file or pass --product")


def _check_totals(m: Manifest, limits: Limits, rep: Reporter) -> None:
    parts = m.partitions
    if len(parts) > limits.max_partitions:
        rep.error("LIMIT-PARTITIONS", parts[limits.max_partitions].loc,
                  parts[limits.max_partitions].path,
                  f"{len(parts)} partitions, but CONFIG_MAX_PARTITIONS is "
                  f"{limits.max_partitions}; raise it in menuconfig")
    if len(m.shared) > limits.max_shared_regions:
        s = m.shared[limits.max_shared_regions]
        rep.error("LIMIT-SHM", s.loc, s.path,
                  f"{len(m.shared)} shared regions, but CONFIG_MAX_SHARED_REGIONS "
                  f"is {limits.max_shared_regions}; raise it in menuconfig")
    if len(m.grants) > limits.max_grants:
        g = m.grants[limits.max_grants]
        rep.error("LIMIT-GRANTS", g.loc, g.path,
                  f"{len(m.grants)} grants, but CONFIG_MAX_GRANTS is "
                  f"{limits.max_grants}; raise it in menuconfig")


def _check_identities(parts: list[Partition], rep: Reporter) -> None:
    for p in parts:
        if not 1 <= p.id <= ID_MAX:
            rep.error("ID-RANGE", p.where("id"), p.path,
                      f"partition {_q(p)} has id {p.id:#x}; IDs are 1..{ID_MAX:#x} "
                      "(0 is the hypervisor)")
    _duplicates(rep, parts, lambda p: p.id, "ID-DUP", "id", lambda k: f"{k}")
    _duplicates(rep, parts, lambda p: p.name, "NAME-DUP", "label",
                lambda k: f"\"{k}\"")
    _duplicates(rep, parts, lambda p: p.uuid if any(p.uuid) else None,
                "UUID-DUP", "uuid", lambda k: k.hex())


def _check_cpus(m: Manifest, limits: Limits, rep: Reporter) -> None:
    owner: dict[int, Partition] = {}
    for p in m.partitions:
        for cpu in p.cpus:
            if cpu >= len(m.platform.cpus):
                rep.error("CPU-UNKNOWN", p.where("cpus"), p.path,
                          f"partition {_q(p)} asks for physical CPU {cpu}; "
                          f"the board has CPUs 0..{len(m.platform.cpus) - 1}")
            elif cpu in owner:
                other = owner[cpu]
                msg = (f"physical CPU {cpu} is given to both {_q(other)} and "
                       f"{_q(p)}; a CPU belongs to one partition"
                       if other is not p else
                       f"physical CPU {cpu} is listed twice for {_q(p)}; each "
                       "vCPU needs its own CPU")
                rep.error("CPU-TWICE", p.where("cpus"), p.path, msg)
            else:
                owner[cpu] = p
        if len(p.cpus) > limits.max_cpus:
            rep.error("LIMIT-CPUS", p.where("cpus"), p.path,
                      f"partition {_q(p)} has {len(p.cpus)} vCPUs, but "
                      f"CONFIG_MAX_CPUS is {limits.max_cpus}")


def _check_ram(m: Manifest, limits: Limits, rep: Reporter) -> None:
    usable = hypervisor_ram(m.platform)
    where = ", ".join(map(str, usable)) or "none"
    clipped = [r.size for r in usable] != [r.size for r in m.platform.ram]
    space = (f"the board's RAM below 4 GiB, which the hypervisor reaches ({where})"
             if clipped else f"the board's RAM {where}")

    def place(r: Region, what: str, node: str) -> None:
        if not inside_any(r, usable):
            rep.error("MEM-OUTSIDE", r.loc, node, f"{what} {r} is not inside {space}")

    items: list[tuple[Region, str, str]] = []
    hyp_path = "/bulkhead/hypervisor"
    if check_shape(rep, hyp_path, "hypervisor memory", m.hypervisor):
        place(m.hypervisor, "hypervisor memory", hyp_path)
        items.append((m.hypervisor, "hypervisor memory", hyp_path))
    for p in m.partitions:
        if len(p.memory) > limits.max_mem_regions:
            rep.error("LIMIT-REGIONS", p.memory[0].loc, p.path,
                      f"partition {_q(p)} has {len(p.memory)} RAM regions, but "
                      f"CONFIG_MAX_MEM_REGIONS is {limits.max_mem_regions}")
        for r in p.memory:
            if check_shape(rep, p.path, f"partition {_q(p)} memory", r):
                place(r, f"partition {_q(p)} memory", p.path)
                items.append((r, f"partition {_q(p)} memory", p.path))
    for s in m.shared:
        what = f"shared region \"{s.name}\""
        if check_shape(rep, s.path, what, s.region):
            place(s.region, what, s.path)
            items.append((s.region, what, s.path))
    pr = m.payload_region
    if pr is not None:
        pr.loc = pr.loc or m.payload_loc
        if check_shape(rep, hyp_path, "payload region", pr):
            place(pr, "payload region", hyp_path)
            items.append((pr, "the payload region", hyp_path))
            if pr.end <= m.hypervisor.base:
                rep.error("PAYLOAD-PLACE", pr.loc, hyp_path,
                          f"payload region {pr} lies below the hypervisor's "
                          f"memory {m.hypervisor}; the flashable image starts "
                          "at the hypervisor's base and carries the payload "
                          f"above it: put the region at or after {m.hypervisor.end:#x}")
    check_overlaps(rep, "MEM-OVERLAP", items)
    for p in m.partitions:
        _check_read_only(p, limits, rep)


def _check_read_only(p: Partition, limits: Limits, rep: Reporter) -> None:
    """read-only-memory: whole pages of the partition's own RAM, each page
    once, at most CONFIG_MAX_MEM_REGIONS regions."""
    what = f"partition {_q(p)} read-only-memory"
    if len(p.read_only) > limits.max_mem_regions:
        rep.error("MEM-READ-ONLY", p.read_only[0].loc, p.path,
                  f"{what} has {len(p.read_only)} regions, but "
                  f"CONFIG_MAX_MEM_REGIONS is {limits.max_mem_regions}")
    items: list[tuple[Region, str, str]] = []
    for r in p.read_only:
        if not check_shape(rep, p.path, what, r):
            continue
        if not inside_any(r, p.memory):
            rep.error("MEM-READ-ONLY", r.loc, p.path,
                      f"{what} {r} is not inside its memory "
                      f"({', '.join(map(str, p.memory))}); read-only pages are "
                      "pages of the partition's own RAM")
            continue
        items.append((r, what, p.path))
    check_overlaps(rep, "MEM-READ-ONLY", items)


def _board_devices_hit(m: Manifest, d: Device):
    """The board's devices that a manifest device's regions cover."""
    hits = []
    for bd in m.platform.devices:
        for br in bd.regions:
            for r in d.regions:
                if r.overlaps(br):
                    hits.append((bd, br, r))
    return hits


def _check_dma(m: Manifest, p: Partition, d: Device, rep: Reporter) -> None:
    hits = _board_devices_hit(m, d)
    reserved = [h for h in hits if h[0].reserved]
    masters = [h for h in hits if h[0].bus_master and not h[0].reserved]
    if reserved:
        bd, br, r = reserved[0]
        rep.error("DEV-RESERVED", r.loc, d.path,
                  f"device \"{d.name}\" of {_q(p)} at {r} covers the board's "
                  f"{bd.name} {br}, which is never passed through (it would "
                  "give the partition the whole machine); remove it from the "
                  "manifest")
        return
    names = ", ".join(sorted({f"{bd.name} {br}" for bd, br, _ in masters}))
    if masters and d.dma_unrestricted:
        d.bus_master = True
        rep.warning("DMA-UNRESTRICTED", d.loc, d.path,
                    f"partition {_q(p)} is trusted with unrestricted DMA: its "
                    f"device \"{d.name}\" covers {names}, which can master the "
                    "bus; with no SMMU it can read and write all memory, the "
                    "hypervisor's and every partition's")
    elif masters:
        rep.error("DMA-MASTER", masters[0][2].loc, d.path,
                  f"device \"{d.name}\" of {_q(p)} covers {names}, which can "
                  "master the bus (DMA into any memory: no SMMU confines it); "
                  f"add 'dma-unrestricted;' to the device only if {_q(p)} may be "
                  "trusted as much as the hypervisor")
    elif d.dma_unrestricted:
        rep.warning("DMA-UNRESTRICTED", d.loc, d.path,
                    f"device \"{d.name}\" of {_q(p)} has 'dma-unrestricted', but "
                    "the board does not mark it as a bus master; the flag has "
                    "no effect: remove it")


def _match_board(m: Manifest, p: Partition, d: Device, rep: Reporter) -> None:
    """The board's node at the device's address gives its default
    compatible; an interrupt the board also lists must have its trigger."""
    if not d.regions:
        return
    d.board = next((bd for bd in m.platform.devices
                    if bd.regions and bd.regions[0].base == d.regions[0].base), None)
    if d.board is None:
        return
    board_flags = {s.number: s.flags for s in d.board.irq_specs if s.kind == 0}
    for spec in d.irq_specs:
        want = board_flags.get(spec.number)
        if want is not None and want != spec.flags:
            rep.error("IRQ-INVALID", d.loc, d.path,
                      f"SPI {spec.number} of device \"{d.name}\" of {_q(p)} has "
                      f"flags {spec.flags}, but the board's {d.board.name} says "
                      f"<0 {spec.number} {want}> ({_trigger(want)}); the virtual "
                      "GIC must trigger it as the device does")


def _trigger(flags: int) -> str:
    return "edge, rising" if flags == 1 else "level, high" if flags == 4 else \
        f"flags {flags}"


def _check_devices(m: Manifest, limits: Limits, rep: Reporter) -> None:
    plat = m.platform
    hyp_devices = [(plat.gicd, "the GIC distributor (kept by the hypervisor)", "/intc"),
                   (plat.gicr, "the GIC redistributors (kept by the hypervisor)", "/intc"),
                   (plat.uart, "the console UART (kept by the hypervisor)", "/pl011")]
    dev_items = list(hyp_devices)
    irq_owner: dict[int, str] = {plat.uart_intid: "the hypervisor's console UART"}
    for p in m.partitions:
        entries = sum(len(d.regions) for d in p.devices)
        if entries > limits.max_devices:
            rep.error("LIMIT-DEVICES", p.devices[0].loc, p.path,
                      f"partition {_q(p)} has {len(p.devices)} devices with "
                      f"{entries} regions (each region is one table entry), but "
                      f"CONFIG_MAX_DEVICES is {limits.max_devices}; raise it in "
                      "menuconfig")
        for d in p.devices:
            for r in d.regions:
                r.loc = r.loc or d.loc
                if not check_shape(rep, d.path, f"device \"{d.name}\"", r):
                    continue
                if not inside_any(r, plat.device_ranges):
                    rep.error("DEV-OUTSIDE", r.loc, d.path,
                              f"device \"{d.name}\" of {_q(p)} at {r} is not "
                              "inside the board's device ranges "
                              f"{', '.join(map(str, plat.device_ranges))}")
                dev_items.append((r, f"device \"{d.name}\" of {_q(p)}", d.path))
            _check_dma(m, p, d, rep)
            _match_board(m, p, d, rep)
            if len(d.irqs) > DEVICE_IRQS_MAX:
                rep.error("LIMIT-IRQS", d.loc, d.path,
                          f"device \"{d.name}\" of {_q(p)} has {len(d.irqs)} "
                          f"interrupts; the tables hold {DEVICE_IRQS_MAX} per "
                          "device: split it into devices of at most "
                          f"{DEVICE_IRQS_MAX}")
            for intid in d.irqs:
                spi = intid - 32
                if spi >= plat.spi_count:
                    rep.error("IRQ-INVALID", d.loc, d.path,
                              f"SPI {spi} of device \"{d.name}\" is beyond the "
                              f"board's {plat.spi_count} SPIs")
                elif intid in irq_owner:
                    rep.error("IRQ-TWICE", d.loc, d.path,
                              f"SPI {spi} of device \"{d.name}\" of {_q(p)} is "
                              f"already given to {irq_owner[intid]}")
                else:
                    irq_owner[intid] = f"device \"{d.name}\" of {_q(p)}"
    check_overlaps(rep, "DEV-OVERLAP", dev_items)
    # a device must not sit in RAM either
    for region, desc, node in dev_items[len(hyp_devices):]:
        for ram in plat.ram:
            if region.overlaps(ram):
                rep.error("DEV-OUTSIDE", region.loc, node,
                          f"{desc} {region} lies in the board's RAM {ram}")


def _check_entry_and_console(m: Manifest, rep: Reporter) -> None:
    for p in m.partitions:
        if p.entry is not None:
            if not any(r.base <= p.entry < r.end for r in p.memory):
                rep.error("ENTRY-OUTSIDE", p.where("entry"), p.path,
                          f"entry {p.entry:#x} of {_q(p)} is not inside its memory "
                          f"{', '.join(map(str, p.memory))}")
            if p.entry % arch.ENTRY_ALIGN:
                rep.error("ENTRY-ALIGN", p.where("entry"), p.path,
                          f"entry {p.entry:#x} of {_q(p)} is not "
                          f"{arch.ENTRY_ALIGN}-byte aligned; an A64 instruction "
                          f"starts at a multiple of 4 (try {p.entry & ~3:#x})")
        if p.console is None:
            continue
        con = Region(p.console, PAGE_SIZE)
        if p.console % PAGE_SIZE:
            rep.error("CONSOLE-COLLIDE", p.where("console"), p.path,
                      f"console {p.console:#x} of {_q(p)} is not 4 KiB aligned")
        if con.end > arch.IPA_LIMIT:
            rep.error("CONSOLE-OUTSIDE", p.where("console"), p.path,
                      f"console {con} of {_q(p)} is beyond the partition's "
                      f"39-bit address space (which ends at {arch.IPA_LIMIT:#x}); "
                      "put it at an MMIO address such as the board's UART")
            continue
        taken = [(r, "its memory") for r in p.memory]
        taken += [(r, f"the memory of {_q(q)}") for q in m.partitions
                  if q is not p for r in q.memory]
        taken += [(m.hypervisor, "the hypervisor's memory"),
                  (m.platform.gicd, "the GIC distributor"),
                  (m.platform.gicr, "the GIC redistributors")]
        taken += [(s.region, f"shared region \"{s.name}\"") for s in m.shared]
        taken += [(r, "its device \"" + d.name + "\"") for d in p.devices
                  for r in d.regions]
        hits = [(r, what) for r, what in taken if con.overlaps(r)]
        hits += [(r, "the board's RAM") for r in m.platform.ram
                 if con.overlaps(r) and not hits]
        for r, what in hits[:1]:
            rep.error("CONSOLE-COLLIDE", p.where("console"), p.path,
                      f"console {con} of {_q(p)} collides with {what} {r}; the "
                      "console is emulated: put it at an MMIO address no RAM or "
                      "device of the partition answers, such as the board's "
                      "UART")


def _find_blob(p: Partition, prop: str, name: str, image_dirs: list[str],
               rep: Reporter) -> Optional[tuple[Blob, bytes]]:
    """The file `name` of property `prop` and its bytes, or None
    (reported)."""
    path, why = paths.find(name, image_dirs)
    dirs = ", ".join(image_dirs) or "none given"
    if why is not None:
        rep.error("IMAGE-PATH", p.where(prop), p.path,
                  f"{prop} \"{name}\" of {_q(p)} {why}; name a file in the "
                  f"image directory ({dirs}), like image = \"demo.bin\"")
        return None
    if path is None:
        rep.error("IMAGE-MISSING", p.where(prop), p.path,
                  f"{prop} \"{name}\" of {_q(p)} is not in the image "
                  f"directory ({dirs})")
        return None
    with open(path, "rb") as f:
        data = f.read()
    return Blob(name, "images", path, len(data), hashlib.sha256(data).hexdigest()), data


def _check_image(p: Partition, image_dirs: list[str], rep: Reporter) -> bool:
    assert p.image is not None
    found = _find_blob(p, "image", p.image, image_dirs, rep)
    if found is None:
        return False
    p.main_blob, data = found
    p.image_file_size = len(data)
    p.image_footprint = image_footprint(data)
    first = p.memory[0]
    if p.image_footprint > first.size:
        rep.error("IMAGE-TOO-BIG", p.where("image"), p.path,
                  f"image \"{p.image}\" of {_q(p)} needs {p.image_footprint:#x} "
                  f"bytes but its first memory region {first} holds "
                  f"{first.size:#x}")
    return True


def _check_kernel(p: Partition, image_dirs: list[str], rep: Reporter) -> bool:
    assert p.kernel is not None
    ok = True
    found = _find_blob(p, "kernel", p.kernel, image_dirs, rep)
    if found is None:
        ok = False
    else:
        p.main_blob, data = found
        header, problems = kernel.read_header(data)
        for prob in problems:
            rep.error(prob.rule, p.where("kernel"), p.path,
                      f"kernel \"{p.kernel}\" of {_q(p)}: {prob.message}")
        p.kernel_header = header if not problems else None
        ok = not problems
    if p.initrd is not None:
        found = _find_blob(p, "initrd", p.initrd, image_dirs, rep)
        if found is None:
            ok = False
        elif found[0].size == 0:
            rep.error("INITRD-EMPTY", p.where("initrd"), p.path,
                      f"initrd \"{p.initrd}\" of {_q(p)} is an empty file; "
                      "remove 'initrd' or build the initramfs")
            ok = False
        else:
            p.initrd_blob = found[0]
    if p.bootargs is not None:
        bad = next((c for c in p.bootargs if not (c.isascii() and c.isprintable())),
                   None)
        if bad is not None or len(p.bootargs) > BOOTARGS_MAX:
            why = (f"holds {bad!r}; only printable ASCII is passed" if bad is not None
                   else f"has {len(p.bootargs)} characters; Linux takes at most "
                   f"{BOOTARGS_MAX}")
            rep.error("BOOTARGS", p.where("bootargs"), p.path,
                      f"bootargs of {_q(p)} {why}")
    return ok


def _check_images(m: Manifest, image_dirs: list[str], rep: Reporter) -> bool:
    """Finds, reads and checks each image, kernel and initrd; False if any
    is missing or unusable."""
    ok = True
    for p in m.partitions:
        if p.image is not None:
            ok = _check_image(p, image_dirs, rep) and ok
        else:
            ok = _check_kernel(p, image_dirs, rep) and ok
    return ok


def _check_spis(m: Manifest, limits: Limits, rep: Reporter) -> None:
    """Each partition's virtual SPIs: its console's receive interrupt (the
    board UART's, emulated) and its devices' (linked to the hardware)."""
    plat = m.platform
    for p in m.partitions:
        spis = []
        if p.console is not None:
            spis.append(Spi(plat.uart_intid, hw=False, console_rx=True,
                            edge=bool(plat.uart_irq_flags & 3)))
        spis += [Spi(s.intid, hw=True, console_rx=False, edge=s.edge)
                 for d in p.devices for s in d.irq_specs]
        p.spis = sorted(spis, key=lambda s: s.intid)
        if len(spis) > limits.max_partition_spis:
            rep.error("LIMIT-SPIS", p.where("console") if p.console is not None
                      else p.loc, p.path,
                      f"partition {_q(p)} has {len(spis)} virtual SPIs (its "
                      "console's receive interrupt and its devices' "
                      f"interrupts), but CONFIG_MAX_PARTITION_SPIS is "
                      f"{limits.max_partition_spis}; raise it in menuconfig")


def _check_overlays(m: Manifest, rep: Reporter) -> None:
    for p in m.partitions:
        if p.overlay is None or m.tree is None:
            continue
        overlay.check(m, p, m.tree, rep, devicetree.ROOT_PROPS,
                      set(devicetree.generated_children(m, p)))


def _check_messaging(m: Manifest, rep: Reporter) -> None:
    for p in m.partitions:
        seen: set[int] = set()
        for t in p.messaging:
            if t is p:
                rep.error("MSG-TARGET", p.where("messaging"), p.path,
                          f"partition {_q(p)} lists itself as a messaging target")
            elif id(t) in seen:
                rep.error("MSG-TARGET", p.where("messaging"), p.path,
                          f"partition {_q(p)} lists {_q(t)} twice as a messaging target")
            seen.add(id(t))


def _check_shared(m: Manifest, rep: Reporter) -> None:
    for s in m.shared:
        names = [p.name for p, _ in s.members]
        if len(s.members) < 2 or len(set(names)) != len(names):
            rep.error("SHM-PARTITIONS", s.loc, s.path,
                      f"shared region \"{s.name}\" names partitions {names}; it "
                      "needs at least two, each once")
        if len(s.name) > NAME_MAX:
            rep.error("SHM-NAME", s.loc, s.path,
                      f"shared region name \"{s.name}\" has {len(s.name)} "
                      f"characters; the tables hold {NAME_MAX}: rename the node")


def _check_grants(m: Manifest, rep: Reporter) -> None:
    for g in m.grants:
        if g.sender is g.receiver:
            rep.error("GRANT-PARTITION", g.loc, g.path,
                      f"grant \"{g.name}\" is from {_q(g.sender)} to itself")
        if g.max_pages == 0:
            rep.error("GRANT-PAGES", g.loc, g.path,
                      f"grant \"{g.name}\" has max-pages 0; give at least 1 or "
                      "remove the grant")
        if len(g.ranges) > GRANT_RANGES_MAX:
            rep.error("LIMIT-GRANT-RANGES", g.ranges[GRANT_RANGES_MAX].loc, g.path,
                      f"grant \"{g.name}\" has {len(g.ranges)} ranges; the tables "
                      f"hold {GRANT_RANGES_MAX} per grant: merge ranges or split "
                      "the grant")
        for r in g.ranges:
            if not check_shape(rep, g.path, f"grant \"{g.name}\" range", r):
                continue
            if not inside_any(r, g.sender.memory):
                rep.error("GRANT-RANGE", r.loc, g.path,
                          f"grant \"{g.name}\" range {r} is not inside the memory "
                          f"of {_q(g.sender)} ({', '.join(map(str, g.sender.memory))})")


def _check_mem_transactions(m: Manifest, limits: Limits, rep: Reporter) -> None:
    """Each partition that sends memory gets a quota of transactions (its
    'mem-transactions', else CONFIG_FFA_MEM_PARTITION_TRANSACTIONS); the
    quotas together must fit the transaction table."""
    senders = {id(g.sender) for g in m.grants}
    for p in m.partitions:
        sends = id(p) in senders
        if p.mem_transactions is None:
            p.mem_quota = limits.mem_partition_transactions if sends else 0
        elif not sends:
            p.mem_quota = 0
            rep.warning("MEM-TX-VALUE", p.where("mem-transactions"), p.path,
                        f"partition {_q(p)} has mem-transactions = "
                        f"<{p.mem_transactions}> but no memory grant as a sender; "
                        "its quota is 0: remove the property")
        elif p.mem_transactions == 0:
            rep.error("MEM-TX-VALUE", p.where("mem-transactions"), p.path,
                      f"partition {_q(p)} has mem-transactions = <0> but is the "
                      "sender of memory grants; give it at least 1, or remove "
                      "its grants")
        else:
            p.mem_quota = p.mem_transactions
    quotas = [p for p in m.partitions if p.mem_quota]
    total = sum(p.mem_quota for p in quotas)
    if total > limits.mem_max_transactions:
        listed = ", ".join(f"{_q(p)} {p.mem_quota}" + (
            "" if p.mem_transactions is not None else " (default)") for p in quotas)
        biggest = max(quotas, key=lambda p: p.mem_quota)
        rep.error("MEM-TX-LIMIT", biggest.where("mem-transactions"), biggest.path,
                  f"memory-transaction quotas add up to {total} ({listed}), but "
                  f"CONFIG_FFA_MEM_MAX_TRANSACTIONS is "
                  f"{limits.mem_max_transactions}; lower a partition's "
                  "'mem-transactions' or raise CONFIG_FFA_MEM_MAX_TRANSACTIONS")


def check(m: Manifest, limits: Limits, image_dirs: list[str],
          rep: Reporter) -> None:
    _check_totals(m, limits, rep)
    _check_identities(m.partitions, rep)
    _check_cpus(m, limits, rep)
    _check_ram(m, limits, rep)
    _check_devices(m, limits, rep)
    _check_entry_and_console(m, rep)
    images_ok = _check_images(m, image_dirs, rep)
    _check_spis(m, limits, rep)
    _check_overlays(m, rep)
    _check_messaging(m, rep)
    messaging.check(m, rep)
    _check_shared(m, rep)
    _check_grants(m, rep)
    _check_mem_transactions(m, limits, rep)
    # placing the blobs and generating the device trees needs all of the
    # above to hold
    if images_ok and not rep.errors:
        boot.prepare(m, limits, rep)

