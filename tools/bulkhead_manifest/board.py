"""The board description (a manifests/platforms/*.dtsi): read and checked
like any other input.

What the board must say: one RAM region, the CPUs (MPIDR in `reg`), a GICv3
(distributor and one redistributor region), the console PL011 with its
interrupt, and a `bulkhead,platform-v1` node with the MMIO windows whose
devices may be passed through (`device-ranges`) and the SPI count. Other
nodes with a `reg` are the board's devices; two flags of Bulkhead's say how
far they may be trusted to a partition:
  bulkhead,bus-master;      the device can master the bus (DMA); a
                            partition gets it only with `dma-unrestricted;`
  bulkhead,no-passthrough;  never passed through (the GIC ITS, fw_cfg)
Device nodes are the root's children and the children of a node that maps
its bus 1:1 (`ranges;` with two address and two size cells, like the
GIC's ITS).
"""
from typing import Optional

from . import arch
from .diag import Reporter
from .model import PAGE_SIZE, BoardDevice, IrqSpec, Limits, Platform, Region
from .reader import Reader
from .regions import beyond, check_overlaps
from .source import Node, SourceTree

BUS_MASTER = "bulkhead,bus-master"
NO_PASSTHROUGH = "bulkhead,no-passthrough"
NOT_DEVICES = {"bulkhead", "cpus", "chosen", "aliases", "__symbols__"}
PLATFORM_PROPS = {"compatible", "device-ranges", "spi-count"}


def _cells(node: Node, prop: str) -> Optional[int]:
    data = node.props.get(prop)
    if data is None or len(data) != 4:
        return None
    return int.from_bytes(data, "big")


def _compatible(node: Node) -> list[bytes]:
    return node.props.get("compatible", b"").split(b"\0")


def _is_memory(node: Node) -> bool:
    return node.props.get("device_type", b"").rstrip(b"\0") == b"memory"


def _maps_one_to_one(node: Node) -> bool:
    return (node.props.get("ranges") == b"" and _cells(node, "#address-cells") == 2
            and _cells(node, "#size-cells") == 2)


def _model(tree: SourceTree, rep: Reporter) -> str:
    data = tree.root.props.get("model")
    loc = tree.loc("/", "model")
    if data is None:
        return "board"
    try:
        if not data.endswith(b"\0") or b"\0" in data[:-1]:
            raise ValueError("one string")
        text = data[:-1].decode("utf-8")
    except (UnicodeDecodeError, ValueError):
        rep.error("BOARD-MODEL", loc, "/",
                  f"model {data[:40]!r} is not one string of UTF-8 text; write "
                  "the board's name, like model = \"qemu-virt\";")
        return "board"
    if not text or not text.isprintable():
        rep.error("BOARD-MODEL", loc, "/",
                  f"model {text!r} is empty or has control characters "
                  "(newline, tab, ...); the boot banner prints it on one line")
    return text


def _cpus(tree: SourceTree, rep: Reporter) -> list[int]:
    node = tree.root.child("cpus")
    if node is None:
        return []
    acells = _cells(node, "#address-cells")
    if acells not in (1, 2):
        rep.error("BOARD-CPU", tree.loc(node.path, "#address-cells"), node.path,
                  "/cpus needs #address-cells = <1> or <2> (an MPIDR in one or "
                  "two cells)")
        return []
    out: list[int] = []
    seen: dict[int, str] = {}
    for c in node.children:
        if c.props.get("device_type", b"").rstrip(b"\0") != b"cpu":
            continue
        reg = c.props.get("reg")
        loc = tree.loc(c.path, "reg")
        if reg is None or len(reg) != 4 * acells:
            rep.error("BOARD-CPU", loc, c.path,
                      f"CPU reg {reg.hex() if reg else 'missing'} must be "
                      f"{acells} cell(s) (/cpus #address-cells), the MPIDR "
                      "affinity of the CPU")
            continue
        mpidr = int.from_bytes(reg, "big")
        if mpidr & ~arch.MPIDR_AFFINITY_MASK:
            rep.error("BOARD-CPU", loc, c.path,
                      f"CPU reg {mpidr:#x} is not an MPIDR affinity (bits "
                      f"outside {arch.MPIDR_AFFINITY_MASK:#x}: Aff3 in 39:32, "
                      "Aff2..Aff0 in 23:0)")
            continue
        if mpidr in seen:
            rep.error("BOARD-CPU", loc, c.path,
                      f"CPU reg {mpidr:#x} is also the MPIDR of {seen[mpidr]}; "
                      "each CPU needs its own")
            continue
        seen[mpidr] = c.path
        out.append(mpidr)
    return out


def _device_nodes(root: Node) -> list[Node]:
    out = []
    for node in root.children:
        if node.name in NOT_DEVICES or _is_memory(node):
            continue
        out.append(node)
        if _maps_one_to_one(node):
            out += [c for c in node.children if "reg" in c.props]
    return out


def _regions(tree: SourceTree, node: Node, rep: Reporter) -> list[Region]:
    regs = Reader(tree, node, rep, None).regions("reg", required=False) or []
    return regs


def _check_region(rep: Reporter, node: str, what: str, r: Region,
                  limit: int = arch.PA_LIMIT,
                  space: str = "40-bit physical address space") -> bool:
    if r.size == 0:
        rep.error("BOARD-REGION", r.loc, node, f"{what} at {r.base:#x} has size 0")
        return False
    why = beyond(r, limit, space)
    if why:
        rep.error("BOARD-REGION", r.loc, node, f"{what} {r}: {why}")
        return False
    return True


def _check_gic(tree: SourceTree, rep: Reporter, gic: Node, regs: list[Region],
               cpu_count: int) -> bool:
    path = gic.path
    if len(regs) != 2:
        rep.error("BOARD-GIC", tree.loc(path, "reg"), path,
                  f"the GICv3 node has {len(regs)} reg region(s); it needs "
                  "exactly two: the distributor, then the one redistributor "
                  "region")
        return False
    gicd, gicr = regs
    ok = True
    if gicd.size < arch.GICD_SIZE or gicd.base % arch.GICR_FRAME_ALIGN:
        rep.error("BOARD-GIC", gicd.loc, path,
                  f"GIC distributor {gicd} (size {gicd.size:#x}) must be 64 KiB "
                  f"aligned and at least {arch.GICD_SIZE:#x} bytes")
        ok = False
    need = cpu_count * arch.GICR_PER_CPU
    if (gicr.size < max(need, arch.GICR_PER_CPU) or gicr.base % arch.GICR_FRAME_ALIGN
            or gicr.size % arch.GICR_FRAME_ALIGN):
        rep.error("BOARD-GIC", gicr.loc, path,
                  f"GIC redistributor region {gicr} (size {gicr.size:#x}) must be "
                  f"64 KiB aligned and hold two 64 KiB frames for each of the "
                  f"{cpu_count} CPUs: at least {max(need, arch.GICR_PER_CPU):#x} bytes")
        ok = False
    return ok and all(_check_region(rep, path, what, r, arch.HYP_MMIO_LIMIT,
                                    "first GiB, which the hypervisor maps as MMIO")
                      for what, r in (("GIC distributor", gicd),
                                      ("GIC redistributor region", gicr)))


def _uart_irq(tree: SourceTree, uart: Node, rep: Reporter,
              spi_count: int) -> Optional[IrqSpec]:
    r = Reader(tree, uart, rep, None)
    cells = r.cells("interrupts")
    if cells is None:
        return None
    if (len(cells) != 3 or cells[0] != 0 or cells[1] >= spi_count
            or cells[2] not in (1, 4)):
        rep.error("BOARD-IRQ", r.loc("interrupts"), uart.path,
                  f"the console UART's interrupts <{' '.join(map(str, cells))}> "
                  f"must be one SPI triple <0 number flags> with number below "
                  f"the board's spi-count {spi_count} and flags 1 (edge) or 4 "
                  "(level)")
        return None
    return IrqSpec(0, cells[1], cells[2])


def _irq_specs(node: Node) -> list[IrqSpec]:
    """The GIC triples of a board node's `interrupts` (none if it has
    another form)."""
    data = node.props.get("interrupts", b"")
    if not data or len(data) % 12:
        return []
    words = [int.from_bytes(data[i:i + 4], "big") for i in range(0, len(data), 4)]
    return [IrqSpec(*words[i:i + 3]) for i in range(0, len(words), 3)]


def _strings(node: Node, prop: str) -> list[str]:
    data = node.props.get(prop, b"")
    if not data.endswith(b"\0"):
        return []
    try:
        out = data[:-1].decode("ascii").split("\0")
    except UnicodeDecodeError:
        return []
    return out if all(s and s.isprintable() for s in out) else []


def parse_platform(tree: SourceTree, rep: Reporter,
                   limits: Limits) -> Optional[Platform]:
    """The board, checked; None if anything about it is wrong (the
    manifest's own rules need a sound board to be checked against)."""
    root = tree.root
    first_error = len(rep.errors)

    def fail(msg: str) -> None:
        rep.error("PLATFORM", tree.loc("/"), "/",
                  f"board description incomplete: {msg} "
                  "(include a manifests/platforms/*.dtsi)")

    if _cells(root, "#address-cells") != 2 or _cells(root, "#size-cells") != 2:
        fail("the root needs #address-cells = <2> and #size-cells = <2> (regions "
             "are 64-bit base and size)")
        return None
    name = _model(tree, rep)
    ram: list[Region] = []
    gic = uart = plat = None
    for node in root.children:
        if _is_memory(node):
            ram += Reader(tree, node, rep, {"device_type", "reg"}).regions("reg") or []
        elif b"arm,gic-v3" in _compatible(node) and gic is None:
            gic = node
        elif b"arm,pl011" in _compatible(node) and uart is None:
            uart = node
        elif b"bulkhead,platform-v1" in _compatible(node):
            plat = node
    cpus = _cpus(tree, rep)
    cpus_node = root.child("cpus")
    cpus_loc = tree.loc(cpus_node.path) if cpus_node else None
    missing = [what for what, ok in (
        ("a memory node", ram), ("CPUs under /cpus", cpus),
        ("an arm,gic-v3 node", gic), ("an arm,pl011 node", uart),
        ("a bulkhead,platform-v1 node", plat)) if not ok]
    if missing:
        fail("it needs " + ", ".join(missing))
        return None
    assert gic is not None and uart is not None and plat is not None

    if len(cpus) > limits.max_cpus:
        rep.error("LIMIT-CPUS", cpus_loc, "/cpus",
                  f"the board has {len(cpus)} CPUs, but CONFIG_MAX_CPUS is "
                  f"{limits.max_cpus}; raise it in menuconfig")

    # RAM: one region the hypervisor's own map can hold
    if len(ram) != 1:
        rep.error("BOARD-RAM", ram[1].loc if len(ram) > 1 else None, "/",
                  f"the board describes {len(ram)} RAM regions "
                  f"({', '.join(map(str, ram))}); the tables and the hypervisor's "
                  "own map hold one: describe one region")
    for r in ram:
        if not _check_region(rep, "/memory", "RAM", r):
            continue
        if r.base % PAGE_SIZE or r.size % PAGE_SIZE:
            rep.error("BOARD-RAM", r.loc, "/memory",
                      f"RAM {r} (size {r.size:#x}) is not 4 KiB aligned")
        if r.base < arch.HYP_MMIO_LIMIT or r.base >= arch.HYP_VA_LIMIT:
            rep.error("BOARD-RAM", r.loc, "/memory",
                      f"RAM {r} must start in [{arch.HYP_MMIO_LIMIT:#x}, "
                      f"{arch.HYP_VA_LIMIT:#x}): the hypervisor maps the first "
                      "GiB as MMIO and reaches 4 GiB")

    # the GIC, the console UART and the platform node
    gic_regs = _regions(tree, gic, rep)
    gic_ok = _check_gic(tree, rep, gic, gic_regs, len(cpus))
    uart_regs = _regions(tree, uart, rep)
    if len(uart_regs) != 1:
        rep.error("SCHEMA-TYPE", tree.loc(uart.path, "reg"), uart.path,
                  "the console UART needs exactly one reg region")
    else:
        _check_region(rep, uart.path, "console UART", uart_regs[0],
                      arch.HYP_MMIO_LIMIT, "first GiB, which the hypervisor maps as MMIO")
    pr = Reader(tree, plat, rep, PLATFORM_PROPS)
    device_ranges = pr.regions("device-ranges") or []
    for r in device_ranges:
        _check_region(rep, plat.path, "device range", r, arch.IPA_LIMIT,
                      "39-bit IPA space partitions see")
    spi_count = pr.u32("spi-count")
    if spi_count is not None and not 1 <= spi_count <= arch.SPI_MAX:
        rep.error("BOARD-IRQ", pr.loc("spi-count"), plat.path,
                  f"spi-count {spi_count} must be 1..{arch.SPI_MAX} (SPIs are "
                  "INTIDs 32..1019)")
        spi_count = None
    uart_irq = _uart_irq(tree, uart, rep, spi_count) if spi_count else None

    # the board's devices
    devices: list[BoardDevice] = []
    for node in _device_nodes(root):
        if node is gic or node is uart or node is plat:
            continue
        r = Reader(tree, node, rep, None)
        bus_master, reserved = r.flag(BUS_MASTER), r.flag(NO_PASSTHROUGH)
        regs = _regions(tree, node, rep)
        for reg in regs:
            _check_region(rep, node.path, f"device {node.name}", reg)
        devices.append(BoardDevice(node.name, node.path, tree.loc(node.path),
                                   regs, bus_master, reserved,
                                   compatible=_strings(node, "compatible"),
                                   irq_specs=_irq_specs(node),
                                   dma_coherent="dma-coherent" in node.props))

    # nothing overlaps RAM or anything else
    if gic_ok and len(uart_regs) == 1:
        items = [(gic_regs[0], "the GIC distributor", gic.path),
                 (gic_regs[1], "the GIC redistributor region", gic.path),
                 (uart_regs[0], "the console UART", uart.path)]
        items += [(reg, f"device {d.name}", d.path) for d in devices
                  for reg in d.regions]
        check_overlaps(rep, "BOARD-OVERLAP", items)
        for region, desc, path in items + [(r, "device range", plat.path)
                                           for r in device_ranges]:
            for mem in ram:
                if region.overlaps(mem):
                    rep.error("BOARD-OVERLAP", region.loc, path,
                              f"{desc} {region} lies in the board's RAM {mem}; "
                              "RAM and MMIO must not share addresses")
    if len(rep.errors) != first_error:
        return None
    assert uart_irq is not None and spi_count is not None
    return Platform(name=name, ram=ram, cpus=cpus, gicd=gic_regs[0],
                    gicr=gic_regs[1], uart=uart_regs[0], uart_intid=uart_irq.intid,
                    uart_irq_flags=uart_irq.flags,
                    device_ranges=device_ranges, spi_count=spi_count,
                    devices=devices, cpus_loc=cpus_loc)


def hypervisor_ram(plat: Platform) -> list[Region]:
    """The part of the board's RAM the hypervisor reaches (below 4 GiB)."""
    out = []
    for r in plat.ram:
        end = min(r.end, arch.HYP_VA_LIMIT)
        if end > r.base:
            out.append(Region(r.base, end - r.base, r.loc))
    return out

