"""The rules that relate the parts of a manifest to each other and to the
board. Each rule has an ID (listed in RULES) and its own negative test."""
import os
from typing import Iterable, Optional

from .diag import Location, Reporter
from .model import PAGE_SIZE, Limits, Manifest, Partition, Region

RULES = {
    "SCHEMA-REQUIRED": "a required node or property is missing",
    "SCHEMA-TYPE": "a property has the wrong type or cell count",
    "SCHEMA-UNKNOWN": "unknown property or node (warning)",
    "SCHEMA-COMPATIBLE": "/bulkhead does not say compatible = \"bulkhead,manifest-v1\"",
    "DTS-SYNTAX": "dtc rejected the source",
    "PLATFORM": "the board description (platform .dtsi) is incomplete",
    "PHANDLE-BAD": "a reference does not resolve to a partition",
    "ID-RANGE": "partition ID outside 1..0x7fff",
    "ID-DUP": "two partitions share an ID",
    "NAME-FORMAT": "label empty, too long or with odd characters",
    "NAME-DUP": "two partitions share a label",
    "UUID-FORMAT": "uuid is not xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
    "UUID-DUP": "two partitions share a UUID",
    "CPU-UNKNOWN": "a CPU number the board does not have",
    "CPU-TWICE": "a physical CPU given twice (to two partitions or twice to one)",
    "MEM-ALIGN": "a region's base or size is not 4 KiB aligned",
    "MEM-EMPTY": "a region of size 0",
    "MEM-OUTSIDE": "a RAM region not inside the board's RAM",
    "MEM-OVERLAP": "RAM regions of partitions, the hypervisor or shared regions overlap",
    "DEV-OUTSIDE": "a device region outside the board's device ranges",
    "DEV-OVERLAP": "a device region overlaps another device or one the hypervisor keeps",
    "IMAGE-MISSING": "the image file is not on the image search path",
    "IMAGE-TOO-BIG": "the image (with its bss, per its header) does not fit the first RAM region",
    "ENTRY-OUTSIDE": "the entry point is not inside the partition's RAM",
    "CONSOLE-COLLIDE": "the console address collides with the partition's RAM, devices or shared regions, or is not page aligned",
    "CONSOLE-INPUT": "console input goes to a partition without a console",
    "IRQ-INVALID": "an interrupt that is not a pass-through SPI of the board",
    "IRQ-TWICE": "an interrupt given twice",
    "MSG-TARGET": "a partition lists itself, or one partition twice, as messaging target",
    "SHM-PARTITIONS": "a shared region names fewer than two partitions, or one twice",
    "SHM-ACCESS": "a shared region's access words do not match its partitions",
    "ACCESS-WORD": "an access word that is not ro, rw, rx or rwx",
    "GRANT-PARTITION": "a grant's from/to missing, not one each, or the same partition",
    "GRANT-OPERATION": "a grant operation that is not share, lend or donate",
    "GRANT-PAGES": "a grant with max-pages 0",
    "GRANT-RANGE": "a grant range outside the 'from' partition's RAM",
    "LIMIT-PARTITIONS": "more partitions than CONFIG_MAX_PARTITIONS",
    "LIMIT-CPUS": "more CPUs than CONFIG_MAX_CPUS",
    "LIMIT-REGIONS": "more RAM regions than CONFIG_MAX_MEM_REGIONS",
    "LIMIT-DEVICES": "more devices than CONFIG_MAX_DEVICES",
    "LIMIT-SHM": "more shared regions than CONFIG_MAX_SHARED_REGIONS",
    "LIMIT-GRANTS": "more grants than CONFIG_MAX_GRANTS",
}

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


def _check_region_shape(rep: Reporter, node: str, what: str, r: Region) -> bool:
    ok = True
    if r.size == 0:
        rep.error("MEM-EMPTY", r.loc, node, f"{what} at {r.base:#x} has size 0")
        ok = False
    if r.base % PAGE_SIZE or r.size % PAGE_SIZE:
        rep.error("MEM-ALIGN", r.loc, node,
                  f"{what} {r} (size {r.size:#x}) is not 4 KiB aligned; "
                  "base and size must be multiples of 0x1000")
        ok = False
    return ok


def _check_overlaps(rep: Reporter, rule: str,
                    items: list[tuple[Region, str, str]]) -> None:
    """items: (region, description, node path). Reports each overlapping pair
    once, against the region that reaches furthest so far (sweep by base)."""
    # board-owned regions first, so the error names the manifest's region
    items = sorted(items, key=lambda t: (t[0].base, t[0].end,
                                         t[2].startswith("/bulkhead"), t[1]))
    reach: Optional[tuple[Region, str, str]] = None
    for item in items:
        region, desc, node = item
        if reach is not None and region.base < reach[0].end and region.size:
            amount = min(region.end, reach[0].end) - region.base
            rep.error(rule, region.loc, node,
                      f"{desc} {region} overlaps {reach[1]} {reach[0]} by "
                      f"{amount:#x} bytes")
        if reach is None or region.end > reach[0].end:
            reach = item


def _inside_any(r: Region, spaces: Iterable[Region]) -> bool:
    return any(s.contains(r) for s in spaces)


def find_image(name: str, search: list[str]) -> Optional[str]:
    for d in search:
        path = os.path.join(d, name)
        if os.path.isfile(path):
            return path
    return None


def image_footprint(data: bytes) -> int:
    """Bytes the image needs in RAM: its arm64 Image header's image_size
    (which covers bss) when it has one, else its file size."""
    if len(data) >= 64 and data[IMAGE_MAGIC_OFFSET:IMAGE_MAGIC_OFFSET + 4] == IMAGE_MAGIC:
        text_offset = int.from_bytes(data[8:16], "little")
        image_size = int.from_bytes(data[16:24], "little")
        return max(len(data), text_offset + image_size)
    return len(data)


def check(m: Manifest, limits: Limits, image_dirs: list[str],
          rep: Reporter) -> None:
    plat = m.platform
    parts = m.partitions

    # totals
    if len(parts) > limits.max_partitions:
        rep.error("LIMIT-PARTITIONS", parts[limits.max_partitions].loc,
                  parts[limits.max_partitions].path,
                  f"{len(parts)} partitions, but CONFIG_MAX_PARTITIONS is "
                  f"{limits.max_partitions}; raise it in menuconfig")
    if len(m.shared) > limits.max_shared_regions:
        s = m.shared[limits.max_shared_regions]
        rep.error("LIMIT-SHM", s.loc, s.path,
                  f"{len(m.shared)} shared regions, but CONFIG_MAX_SHARED_REGIONS "
                  f"is {limits.max_shared_regions}")
    if len(m.grants) > limits.max_grants:
        g = m.grants[limits.max_grants]
        rep.error("LIMIT-GRANTS", g.loc, g.path,
                  f"{len(m.grants)} grants, but CONFIG_MAX_GRANTS is "
                  f"{limits.max_grants}")
    if len(plat.cpus) > limits.max_cpus:
        rep.error("LIMIT-CPUS", None, "/cpus",
                  f"the board has {len(plat.cpus)} CPUs, but CONFIG_MAX_CPUS is "
                  f"{limits.max_cpus}")

    # identities
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

    # CPUs
    owner: dict[int, Partition] = {}
    for p in parts:
        for cpu in p.cpus:
            if cpu >= len(plat.cpus):
                rep.error("CPU-UNKNOWN", p.where("cpus"), p.path,
                          f"partition {_q(p)} asks for physical CPU {cpu}; "
                          f"the board has CPUs 0..{len(plat.cpus) - 1}")
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
            rep.error("LIMIT-CPUS", p.loc, p.path,
                      f"partition {_q(p)} has {len(p.cpus)} vCPUs, but "
                      f"CONFIG_MAX_CPUS is {limits.max_cpus}")

    # RAM regions
    ram_items: list[tuple[Region, str, str]] = []
    if _check_region_shape(rep, "/bulkhead/hypervisor", "hypervisor memory", m.hypervisor):
        if not _inside_any(m.hypervisor, plat.ram):
            rep.error("MEM-OUTSIDE", m.hypervisor.loc, "/bulkhead/hypervisor",
                      f"hypervisor memory {m.hypervisor} is not inside the "
                      f"board's RAM {', '.join(map(str, plat.ram))}")
        ram_items.append((m.hypervisor, "hypervisor memory", "/bulkhead/hypervisor"))
    for p in parts:
        if len(p.memory) > limits.max_mem_regions:
            rep.error("LIMIT-REGIONS", p.memory[0].loc, p.path,
                      f"partition {_q(p)} has {len(p.memory)} RAM regions, but "
                      f"CONFIG_MAX_MEM_REGIONS is {limits.max_mem_regions}")
        for r in p.memory:
            if not _check_region_shape(rep, p.path, f"partition {_q(p)} memory", r):
                continue
            if not _inside_any(r, plat.ram):
                rep.error("MEM-OUTSIDE", r.loc, p.path,
                          f"partition {_q(p)} memory {r} is not inside the "
                          f"board's RAM {', '.join(map(str, plat.ram))}")
            ram_items.append((r, f"partition {_q(p)} memory", p.path))
    for s in m.shared:
        if not _check_region_shape(rep, s.path, f"shared region \"{s.name}\"", s.region):
            continue
        if not _inside_any(s.region, plat.ram):
            rep.error("MEM-OUTSIDE", s.region.loc, s.path,
                      f"shared region \"{s.name}\" {s.region} is not inside the "
                      f"board's RAM")
        ram_items.append((s.region, f"shared region \"{s.name}\"", s.path))
    _check_overlaps(rep, "MEM-OVERLAP", ram_items)

    # devices and interrupts
    hyp_devices = [(plat.gicd, "the GIC distributor (kept by the hypervisor)", "/intc"),
                   (plat.gicr, "the GIC redistributors (kept by the hypervisor)", "/intc"),
                   (plat.uart, "the console UART (kept by the hypervisor)", "/pl011")]
    dev_items = list(hyp_devices)
    irq_owner: dict[int, str] = {plat.uart_intid: "the hypervisor's console UART"}
    for p in parts:
        if len(p.devices) > limits.max_devices:
            rep.error("LIMIT-DEVICES", p.devices[0].loc, p.path,
                      f"partition {_q(p)} has {len(p.devices)} devices, but "
                      f"CONFIG_MAX_DEVICES is {limits.max_devices}")
        for d in p.devices:
            for r in d.regions:
                r.loc = r.loc or d.loc
                if not _check_region_shape(rep, d.path, f"device \"{d.name}\"", r):
                    continue
                if not _inside_any(r, plat.device_ranges):
                    rep.error("DEV-OUTSIDE", r.loc, d.path,
                              f"device \"{d.name}\" of {_q(p)} at {r} is not "
                              "inside the board's device ranges "
                              f"{', '.join(map(str, plat.device_ranges))}")
                dev_items.append((r, f"device \"{d.name}\" of {_q(p)}", d.path))
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
    _check_overlaps(rep, "DEV-OVERLAP", dev_items)
    # a device must not sit in RAM either
    for region, desc, node in dev_items[len(hyp_devices):]:
        for ram in plat.ram:
            if region.overlaps(ram):
                rep.error("DEV-OUTSIDE", region.loc, node,
                          f"{desc} {region} lies in the board's RAM {ram}")

    # entry, console, images
    for p in parts:
        if p.entry is not None and not any(
                r.base <= p.entry < r.end for r in p.memory):
            rep.error("ENTRY-OUTSIDE", p.where("entry"), p.path,
                      f"entry {p.entry:#x} of {_q(p)} is not inside its memory "
                      f"{', '.join(map(str, p.memory))}")
        if p.console is not None:
            con = Region(p.console, PAGE_SIZE)
            if p.console % PAGE_SIZE:
                rep.error("CONSOLE-COLLIDE", p.where("console"), p.path,
                          f"console {p.console:#x} of {_q(p)} is not 4 KiB aligned")
            mine = [(r, "its memory") for r in p.memory]
            mine += [(r, f"its device \"{d.name}\"") for d in p.devices for r in d.regions]
            mine += [(s.region, f"shared region \"{s.name}\"") for s in m.shared
                     if any(q is p for q, _ in s.members)]
            for r, what in mine:
                if con.overlaps(r):
                    rep.error("CONSOLE-COLLIDE", p.where("console"), p.path,
                              f"console {con} of {_q(p)} collides with {what} {r}")
        path = find_image(p.image, image_dirs)
        if path is None:
            rep.error("IMAGE-MISSING", p.where("image"), p.path,
                      f"image \"{p.image}\" of {_q(p)} is not in the image "
                      f"search path ({', '.join(image_dirs) or 'empty'})")
            continue
        with open(path, "rb") as f:
            data = f.read()
        p.image_path = path
        p.image_file_size = len(data)
        p.image_footprint = image_footprint(data)
        first = p.memory[0]
        if p.image_footprint > first.size:
            rep.error("IMAGE-TOO-BIG", p.where("image"), p.path,
                      f"image \"{p.image}\" of {_q(p)} needs {p.image_footprint:#x} "
                      f"bytes but its first memory region {first} holds "
                      f"{first.size:#x}")

    # messaging
    for p in parts:
        seen: set[int] = set()
        for t in p.messaging:
            if t is p:
                rep.error("MSG-TARGET", p.where("messaging"), p.path,
                          f"partition {_q(p)} lists itself as a messaging target")
            elif id(t) in seen:
                rep.error("MSG-TARGET", p.where("messaging"), p.path,
                          f"partition {_q(p)} lists {_q(t)} twice as a messaging target")
            seen.add(id(t))

    # shared regions
    for s in m.shared:
        names = [p.name for p, _ in s.members]
        if len(s.members) < 2 or len(set(names)) != len(names):
            rep.error("SHM-PARTITIONS", s.loc, s.path,
                      f"shared region \"{s.name}\" names partitions {names}; it "
                      "needs at least two, each once")

    # grants
    for g in m.grants:
        if g.sender is g.receiver:
            rep.error("GRANT-PARTITION", g.loc, g.path,
                      f"grant \"{g.name}\" is from {_q(g.sender)} to itself")
        if g.max_pages == 0:
            rep.error("GRANT-PAGES", g.loc, g.path,
                      f"grant \"{g.name}\" has max-pages 0; give at least 1 or "
                      "remove the grant")
        for r in g.ranges:
            if not _check_region_shape(rep, g.path, f"grant \"{g.name}\" range", r):
                continue
            if not _inside_any(r, g.sender.memory):
                rep.error("GRANT-RANGE", r.loc, g.path,
                          f"grant \"{g.name}\" range {r} is not inside the memory "
                          f"of {_q(g.sender)} ({', '.join(map(str, g.sender.memory))})")


