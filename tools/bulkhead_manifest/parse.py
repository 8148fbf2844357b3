"""Turn the device tree into the manifest model, checking its schema.

Schema problems (missing or mistyped properties) are reported here; the
rules that relate parts of the manifest to each other are in checks.py.
"""
import re
from typing import Optional

from . import messaging
from .board import parse_platform
from .diag import Reporter
from .model import (ACCESS_WORDS, IRQ_EDGE_RISING, IRQ_LEVEL_HIGH,
                    OPERATION_WORDS, Device, Grant, IrqSpec, Limits, Manifest,
                    Partition, SharedRegion)
from .reader import Reader
from .source import Node, SourceTree

_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                      r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,30}$")
NAME_MAX = 31
IRQ_TYPE_SPI = 0

MANIFEST_PROPS = {"compatible"}
HYPERVISOR_PROPS = {"memory", "console-input", "payload"}
PARTITION_PROPS = {"id", "label", "uuid", "cpus", "memory", "read-only-memory",
                   "image", "entry",
                   "console", "messaging", "mem-transactions", "phandle",
                   "kernel", "initrd", "bootargs", "psci-conduit",
                   "messaging-method", "notify", "scheduler", "boot-order",
                   "ready-timeout-ms"}
PARTITION_CHILDREN = ("devices", "device-tree")
DEVICE_PROPS = {"reg", "interrupts", "compatible", "dma-unrestricted",
                "dma-coherent"}
PSCI_CONDUITS = ("hvc", "smc")
SPI_TRIGGERS = (IRQ_EDGE_RISING, IRQ_LEVEL_HIGH)
SHARED_PROPS = {"reg", "partitions", "access", "phandle"}
GRANT_PROPS = {"from", "to", "operations", "max-access", "max-pages",
               "ranges", "phandle"}


def _find(root: Node, path: str) -> Optional[Node]:
    node = root
    for part in path.strip("/").split("/"):
        if not part:
            continue
        node = node.child(part)
        if node is None:
            return None
    return node


def parse_uuid(text: str) -> Optional[bytes]:
    """FF-A UUID bytes: the four 32-bit words of the text, each little-endian
    in memory, as FF-A registers and descriptors carry them."""
    if not _UUID_RE.fullmatch(text):
        return None
    hexs = text.replace("-", "")
    words = [int(hexs[i:i + 8], 16) for i in range(0, 32, 8)]
    return b"".join(w.to_bytes(4, "little") for w in words)


def _boot_source(r: Reader, node: Node, rep: Reporter) -> Optional[tuple]:
    """(image, kernel, initrd, bootargs) of a partition: an `image`, or a
    `kernel` with optional `initrd` and `bootargs`; None when neither."""
    image = r.string("image", required=False)
    kernel = r.string("kernel", required=False)
    initrd = r.string("initrd", required=False)
    bootargs = r.string("bootargs", required=False)
    if image is None and kernel is None:
        if not (r.has("image") or r.has("kernel")):
            rep.error("SCHEMA-REQUIRED", r.loc(), node.path,
                      "required property 'image' is missing (or 'kernel' for "
                      "an arm64 Linux Image)")
        return None
    if image is not None:
        extra = [prop for prop in ("kernel", "initrd", "bootargs") if r.has(prop)]
        if extra:
            rep.error("IMAGE-OR-KERNEL", r.loc(extra[0]), node.path,
                      f"'image' and '{extra[0]}' together: a partition boots "
                      "either a bare-metal 'image', or a 'kernel' with its "
                      "'initrd' and 'bootargs'; remove one")
    elif r.has("entry"):
        rep.error("IMAGE-OR-KERNEL", r.loc("entry"), node.path,
                  "'entry' with 'kernel': a kernel starts at the first byte of "
                  "its Image, where the boot protocol places it; remove 'entry'")
    return image, kernel, initrd, bootargs


def parse_partition(tree: SourceTree, node: Node, rep: Reporter) -> Optional[Partition]:
    r = Reader(tree, node, rep, PARTITION_PROPS)
    pid = r.u32("id")
    name = r.string("label")
    uuid_text = r.string("uuid", required=False)
    cpus = r.cells("cpus")
    memory = r.regions("memory")
    read_only = r.regions("read-only-memory", required=False) or []
    boot = _boot_source(r, node, rep)
    entry = r.u64("entry", required=False)
    console = r.u64("console", required=False)
    mem_transactions = r.u32("mem-transactions", required=False)
    methods = messaging.parse_methods(r, node, rep)
    conduit = r.string("psci-conduit", required=False)
    if conduit is not None and conduit not in PSCI_CONDUITS:
        rep.error("PSCI-CONDUIT", r.loc("psci-conduit"), node.path,
                  f"psci-conduit \"{conduit}\" is not \"hvc\" or \"smc\" (the "
                  "instruction the partition calls PSCI and FF-A with; "
                  "Bulkhead answers both)")
        conduit = None
    uuid = bytes(16)
    if uuid_text is not None:
        parsed = parse_uuid(uuid_text)
        if parsed is None:
            rep.error("UUID-FORMAT", r.loc("uuid"), node.path,
                      f"uuid \"{uuid_text}\" is not of the form "
                      "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx (hex digits)")
        else:
            uuid = parsed
    if name is not None and not _NAME_RE.fullmatch(name):
        rep.error("NAME-FORMAT", r.loc("label"), node.path,
                  f"label \"{name}\" must be 1..{NAME_MAX} characters, a letter "
                  "first, then letters, digits, '_', '.' or '-'")
    devices: list[Device] = []
    devs = node.child("devices")
    if devs is not None:
        for d in devs.children:
            devices.append(parse_device(tree, d, rep))
    for c in node.children:
        if c.name not in PARTITION_CHILDREN:
            rep.warning("SCHEMA-UNKNOWN", tree.loc(c.path), c.path,
                        f"unknown node '{c.name}' is ignored (known: "
                        f"{', '.join(PARTITION_CHILDREN)})")
    if None in (pid, name, cpus, memory, boot):
        return None
    image, kernel, initrd, bootargs = boot
    return Partition(path=node.path, loc=tree.loc(node.path), id=pid, name=name,
                     uuid=uuid, cpus=cpus, memory=memory, read_only=read_only,
                     image=image,
                     kernel=kernel if image is None else None,
                     initrd=initrd if image is None else None,
                     bootargs=bootargs if image is None else None,
                     psci_conduit=conduit or "hvc",
                     overlay=node.child("device-tree"),
                     entry=entry, console=console, devices=devices,
                     phandle=node.phandle,
                     messaging_refs=r.cells("messaging", required=False) or [],
                     prop_locs={k: v for k in node.props
                                if (v := tree.loc(node.path, k)) is not None},
                     mem_transactions=mem_transactions,
                     messaging_methods=methods,
                     notify_refs=r.cells("notify", required=False) or [],
                     scheduler_refs=r.cells("scheduler", required=False) or [],
                     boot_order=r.u32("boot-order", required=False),
                     ready_timeout_ms=r.u32("ready-timeout-ms", required=False))


def parse_device(tree: SourceTree, node: Node, rep: Reporter) -> Device:
    r = Reader(tree, node, rep, DEVICE_PROPS)
    regions = r.regions("reg") or []
    irqs: list[int] = []
    specs: list[IrqSpec] = []
    cells = r.cells("interrupts", required=False)
    if cells is not None:
        if len(cells) % 3:
            r.type_error("interrupts", "GIC triples <type number flags>")
        else:
            for i in range(0, len(cells), 3):
                kind, num, flags = cells[i], cells[i + 1], cells[i + 2]
                if kind != IRQ_TYPE_SPI:
                    rep.error("IRQ-INVALID", r.loc("interrupts"), node.path,
                              f"interrupt <{kind} {num} {flags}> is not a "
                              "shared peripheral interrupt (type 0); only SPIs "
                              "can be passed through")
                elif flags not in SPI_TRIGGERS:
                    rep.error("IRQ-INVALID", r.loc("interrupts"), node.path,
                              f"interrupt <{kind} {num} {flags}>: the flags "
                              "cell must be 1 (edge, rising) or 4 (level, "
                              "high), the triggers a GICv3 SPI has")
                else:
                    irqs.append(32 + num)
                    specs.append(IrqSpec(kind, num, flags))
    compatible = r.strings("compatible", required=False)
    if compatible is not None and not all(_printable(c) for c in compatible):
        r.type_error("compatible", "printable strings, like \"arm,pl031\"")
        compatible = None
    return Device(name=node.name, path=node.path, loc=tree.loc(node.path),
                  regions=regions, irqs=irqs, irq_specs=specs,
                  dma_unrestricted=r.flag("dma-unrestricted"),
                  dma_coherent=r.flag("dma-coherent"),
                  compatible=compatible)


def _printable(text: str) -> bool:
    return bool(text) and text.isascii() and text.isprintable()


def _access_word(rep: Reporter, loc, path: str, prop: str, word: str) -> Optional[int]:
    if word not in ACCESS_WORDS:
        rep.error("ACCESS-WORD", loc, path,
                  f"'{prop}' word \"{word}\" is not one of "
                  f"{', '.join(ACCESS_WORDS)}")
        return None
    return ACCESS_WORDS[word]


def parse(tree: SourceTree, rep: Reporter, source: str,
          limits: Limits) -> Optional[Manifest]:
    platform = parse_platform(tree, rep, limits)
    bh = _find(tree.root, "/bulkhead")
    if bh is None:
        rep.error("SCHEMA-REQUIRED", tree.loc("/"), "/",
                  "no /bulkhead node: a manifest needs "
                  "bulkhead { compatible = \"bulkhead,manifest-v1\"; ... }")
        return None
    br = Reader(tree, bh, rep, MANIFEST_PROPS)
    compat = br.strings("compatible")
    if compat is not None and "bulkhead,manifest-v1" not in compat:
        rep.error("SCHEMA-COMPATIBLE", br.loc("compatible"), bh.path,
                  f"compatible {compat} does not name \"bulkhead,manifest-v1\"")
    known_children = {"hypervisor", "partitions", "shared-memory", "memory-grants"}
    for c in bh.children:
        if c.name not in known_children:
            rep.warning("SCHEMA-UNKNOWN", tree.loc(c.path), c.path,
                        f"unknown node '{c.name}' is ignored (known: "
                        f"{', '.join(sorted(known_children))})")

    partitions: list[Partition] = []
    parts_node = bh.child("partitions")
    if parts_node is None or not parts_node.children:
        rep.error("SCHEMA-REQUIRED", tree.loc(bh.path), bh.path,
                  "a manifest needs a 'partitions' node with at least one partition")
    else:
        for pn in parts_node.children:
            p = parse_partition(tree, pn, rep)
            if p is not None:
                partitions.append(p)
    by_phandle = {p.phandle: p for p in partitions if p.phandle}
    resolve_partition = by_phandle.get

    # messaging targets need every partition parsed first
    for p in partitions:
        for ph in p.messaging_refs:
            target = by_phandle.get(ph)
            if target is None:
                node = tree.by_phandle.get(ph)
                desc = f"node {node.path}" if node else f"phandle {ph:#x}"
                rep.error("PHANDLE-BAD", tree.loc(p.path, "messaging"), p.path,
                          f"'messaging' refers to {desc}, which is not a partition")
            else:
                p.messaging.append(target)
    messaging.resolve_refs(tree, partitions, by_phandle, rep)

    hyp_node = bh.child("hypervisor")
    hypervisor = None
    payload_region = None
    console_input = None
    if hyp_node is None:
        rep.error("SCHEMA-REQUIRED", tree.loc(bh.path), bh.path,
                  "a manifest needs a 'hypervisor' node with its 'memory'")
    else:
        hr = Reader(tree, hyp_node, rep, HYPERVISOR_PROPS)
        regs = hr.regions("memory")
        if regs:
            if len(regs) != 1:
                hr.type_error("memory", "exactly one region")
            hypervisor = regs[0]
        payload = hr.regions("payload", required=False)
        if payload:
            if len(payload) != 1:
                hr.type_error("payload", "exactly one region")
            else:
                payload_region = payload[0]
        ci = hr.phandles("console-input", resolve_partition, "a partition",
                         required=False)
        if ci:
            if len(ci) != 1:
                hr.type_error("console-input", "one partition")
            console_input = ci[0]
            if console_input.console is None:
                rep.error("CONSOLE-INPUT", hr.loc("console-input"), hyp_node.path,
                          f"console input goes to partition \"{console_input.name}\", "
                          "which has no 'console'")

    shared: list[SharedRegion] = []
    sm = bh.child("shared-memory")
    for sn in (sm.children if sm else []):
        r = Reader(tree, sn, rep, SHARED_PROPS)
        regs = r.regions("reg")
        members = r.phandles("partitions", resolve_partition, "a partition")
        access = r.strings("access")
        if regs is None or members is None or access is None:
            continue
        if len(regs) != 1:
            r.type_error("reg", "exactly one region")
            continue
        if len(access) != len(members):
            rep.error("SHM-ACCESS", r.loc("access"), sn.path,
                      f"shared region \"{sn.name}\" lists {len(members)} "
                      f"partitions but {len(access)} access words; give one "
                      "word per partition, in the same order")
            continue
        pairs = []
        for p, word in zip(members, access):
            bits = _access_word(rep, r.loc("access"), sn.path, "access", word)
            if bits is not None:
                pairs.append((p, bits))
        shared.append(SharedRegion(sn.name, sn.path, tree.loc(sn.path), regs[0], pairs))

    grants: list[Grant] = []
    gm = bh.child("memory-grants")
    for gn in (gm.children if gm else []):
        r = Reader(tree, gn, rep, GRANT_PROPS)
        sender = r.phandles("from", resolve_partition, "a partition")
        receiver = r.phandles("to", resolve_partition, "a partition")
        ops = r.strings("operations")
        max_access = r.string("max-access")
        max_pages = r.u32("max-pages")
        ranges = r.regions("ranges", required=False) or []
        if None in (sender, receiver, ops, max_access, max_pages):
            continue
        if len(sender) != 1 or len(receiver) != 1:
            rep.error("GRANT-PARTITION", r.loc("from"), gn.path,
                      f"grant \"{gn.name}\" needs exactly one 'from' and one "
                      "'to' partition")
            continue
        op_bits = 0
        for word in ops:
            if word not in OPERATION_WORDS:
                rep.error("GRANT-OPERATION", r.loc("operations"), gn.path,
                          f"operation \"{word}\" is not one of "
                          f"{', '.join(OPERATION_WORDS)}")
            else:
                op_bits |= OPERATION_WORDS[word]
        bits = _access_word(rep, r.loc("max-access"), gn.path, "max-access",
                            max_access)
        if bits is None:
            continue
        grants.append(Grant(gn.name, gn.path, tree.loc(gn.path), sender[0],
                            receiver[0], op_bits, bits, max_pages, ranges))

    if platform is None or hypervisor is None:
        return None
    return Manifest(source=source, platform=platform, hypervisor=hypervisor,
                    console_input=console_input, partitions=partitions,
                    shared=shared, grants=grants, dtb=tree.dtb,
                    dependencies=tree.dependencies,
                    hypervisor_loc=tree.loc(hyp_node.path, "memory"),
                    payload_region=payload_region,
                    payload_loc=tree.loc(hyp_node.path, "payload"), tree=tree)
