"""Turn the device tree into the manifest model, checking its schema.

Schema problems (missing or mistyped properties) are reported here; the
rules that relate parts of the manifest to each other are in checks.py.
"""
import re
from typing import Optional

from .board import parse_platform
from .diag import Reporter
from .model import (ACCESS_WORDS, OPERATION_WORDS, Device, Grant, Limits,
                    Manifest, Partition, SharedRegion)
from .reader import Reader
from .source import Node, SourceTree

_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                      r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,30}$")
NAME_MAX = 31
IRQ_TYPE_SPI = 0

MANIFEST_PROPS = {"compatible"}
HYPERVISOR_PROPS = {"memory", "console-input"}
PARTITION_PROPS = {"id", "label", "uuid", "cpus", "memory", "image", "entry",
                   "console", "messaging", "mem-transactions", "phandle"}
DEVICE_PROPS = {"reg", "interrupts", "compatible", "dma-unrestricted"}
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


def parse_partition(tree: SourceTree, node: Node, rep: Reporter) -> Optional[Partition]:
    r = Reader(tree, node, rep, PARTITION_PROPS)
    pid = r.u32("id")
    name = r.string("label")
    uuid_text = r.string("uuid", required=False)
    cpus = r.cells("cpus")
    memory = r.regions("memory")
    image = r.string("image")
    entry = r.u64("entry", required=False)
    console = r.u64("console", required=False)
    mem_transactions = r.u32("mem-transactions", required=False)
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
        if c.name != "devices":
            rep.warning("SCHEMA-UNKNOWN", tree.loc(c.path), c.path,
                        f"unknown node '{c.name}' is ignored (known: devices)")
    if None in (pid, name, cpus, memory, image):
        return None
    return Partition(path=node.path, loc=tree.loc(node.path), id=pid, name=name,
                     uuid=uuid, cpus=cpus, memory=memory, image=image,
                     entry=entry, console=console, devices=devices,
                     phandle=node.phandle,
                     messaging_refs=r.cells("messaging", required=False) or [],
                     prop_locs={k: v for k in node.props
                                if (v := tree.loc(node.path, k)) is not None},
                     mem_transactions=mem_transactions)


def parse_device(tree: SourceTree, node: Node, rep: Reporter) -> Device:
    r = Reader(tree, node, rep, DEVICE_PROPS)
    regions = r.regions("reg") or []
    irqs: list[int] = []
    cells = r.cells("interrupts", required=False)
    if cells is not None:
        if len(cells) % 3:
            r.type_error("interrupts", "GIC triples <type number flags>")
        else:
            for i in range(0, len(cells), 3):
                kind, num = cells[i], cells[i + 1]
                if kind != IRQ_TYPE_SPI:
                    rep.error("IRQ-INVALID", r.loc("interrupts"), node.path,
                              f"interrupt <{kind} {num} {cells[i + 2]}> is not a "
                              "shared peripheral interrupt (type 0); only SPIs "
                              "can be passed through")
                else:
                    irqs.append(32 + num)
    return Device(name=node.name, path=node.path, loc=tree.loc(node.path),
                  regions=regions, irqs=irqs,
                  dma_unrestricted=r.flag("dma-unrestricted"))


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

    hyp_node = bh.child("hypervisor")
    hypervisor = None
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
                    hypervisor_loc=tree.loc(hyp_node.path, "memory"))
