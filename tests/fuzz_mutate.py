"""Seeded mutators for the manifest compiler's fuzz test.

Two levels, both seeded by a random.Random the caller owns:
  TreeMutator  changes a loaded device tree in place (after dtc): numbers,
               strings, cell counts, property names, node structure,
               references. Fast: no dtc run per case.
  TextMutator  changes the DTS source of a manifest and its board file,
               token by token, so dtc, source locations and how a value was
               written (string or cells) are exercised too.
"""
import random
import re
from dataclasses import dataclass, field

from bulkhead_manifest.source import Node, SourceTree

# values that sit on the edges the rules care about
EDGE_CELLS = [0, 1, 2, 3, 4, 0x7FFF, 0x8000, 0xFFF, 0x1000, 0x1001, 0x2000,
              0x10000, 0x20000, 0x200000, 0xFFFFFFFF, 0xFFFFF000, 0x80000000,
              0x7FFFFFFF, 0x80, 0x100, 0x3FF, 0x8000000, 0x8080000, 0x80A0000,
              0x9000000, 0x9010000, 0x9020000, 0x9030000, 0xA000000, 0xA000200,
              0xC000000, 0x10000000, 0x3EFF0000, 0x3F000000, 0x40000000,
              0x40200000, 0x41000000, 0x41400000, 0x42000000, 0x43000000,
              0x4F000000, 0x80000000, 0xC0000000, 0x40, 0x80, 0x8000]
EDGE_STRINGS = [b"", b"demo.bin", b"../../Makefile", b"/etc/passwd", b"./demo.bin",
                b"images/../demo.bin", b"nope.bin", b"256", b"0x1000", b"rw", b"ro",
                b"rx", b"rwx", b"wx", b"share", b"lend", b"donate", b"steal",
                b"alpha", b"control", b"a\nb", b'q"uote', b"back\\slash",
                b"tab\there", b"caf\xc3\xa9", b"\xff\xfe\xfd", b"x" * 31,
                b"y" * 32, b"z" * 100, b"a-very-long-product-or-board-model-name-" * 3,
                b"6b0d8f9e-1d2a-4c3e-9a55-0c1d2e3f4a5b",
                b"6B0D8F9E-1D2A-4C3E-9A55-0C1D2E3F4A5B\n", b"bulkhead,manifest-v1",
                b"bulkhead,platform-v1", b"arm,gic-v3", b"arm,pl011", b"memory",
                b"cpu", b"*/ /*", b"%s%n", b"<b>&amp;", b"direct-req-recv",
                b"direct-req2-send", b"indirect", b"notification"]
KNOWN_PROPS = ["id", "label", "uuid", "cpus", "memory", "image", "entry", "console",
               "messaging", "mem-transactions", "devices", "reg", "interrupts",
               "dma-unrestricted", "compatible", "partitions", "access", "from",
               "to", "operations", "max-access", "max-pages", "ranges",
               "console-input", "device-ranges", "spi-count", "model",
               "device_type", "#address-cells", "#size-cells",
               "bulkhead,bus-master", "bulkhead,no-passthrough", "phandle",
               "colour", "labl", "messaging-method", "notify", "scheduler"]
# (base, size) of regions worth landing on: the board's devices and RAM,
# the hypervisor's, the partitions' usual places, and broken shapes
EDGE_REGIONS = [(0x08000000, 0x10000), (0x080A0000, 0x20000), (0x08080000, 0x20000),
                (0x09000000, 0x1000), (0x09010000, 0x1000), (0x09020000, 0x1000),
                (0x09030000, 0x1000), (0x0A000000, 0x1000), (0x0A003000, 0x1000),
                (0x0C000000, 0x1000), (0x10000000, 0x10000), (0x3EFF0000, 0x1000),
                (0x4010000000, 0x1000), (0x8000000000, 0x1000), (0x40000000, 0x1000),
                (0x40200000, 0xE00000), (0x41000000, 0x400000), (0x41000000, 0x1000),
                (0x42000000, 0x800000), (0x43000000, 0x1000), (0x4F000000, 0x1000),
                (0x7FFFF000, 0x2000), (0x41000800, 0x1000), (0x41000000, 0x0),
                (0xFFFFFFFFFFFFF000, 0x2000), (0x100000000, 0x1000), (0x0, 0x1000)]
REGION_PROPS = ("memory", "reg", "ranges", "device-ranges")
NODE_NAMES = ["x", "partition@9", "devices", "rtc@9010000", "ring", "g", "its@0",
              "cpu@7", "memory@50000000", "hypervisor", "partitions",
              "shared-memory", "memory-grants", "bulkhead"]


def _cells(data: bytes) -> list[int]:
    return [int.from_bytes(data[i:i + 4], "big") for i in range(0, len(data) - 3, 4)]


def _pack(cells: list[int]) -> bytes:
    return b"".join((c & 0xFFFFFFFF).to_bytes(4, "big") for c in cells)


def _walk(root: Node) -> list[Node]:
    out, todo = [], [root]
    while todo:
        n = todo.pop()
        out.append(n)
        todo.extend(n.children)
    return out


def copy_tree(tree: SourceTree) -> SourceTree:
    """A deep copy of the node tree (other fields shared: read only)."""
    def copy_node(n: Node) -> Node:
        return Node(n.name, n.path, dict(n.props), [], n.phandle)
    root = copy_node(tree.root)
    todo = [(tree.root, root)]
    while todo:
        src, dst = todo.pop()
        for c in src.children:
            cc = copy_node(c)
            dst.children.append(cc)
            todo.append((c, cc))
    return SourceTree(root, tree.dtb, tree.dependencies, tree.node_locations,
                      tree.prop_locations, {}, dict(tree.prop_kinds))


def _repath(node: Node, path: str) -> None:
    """Sets the paths below `node` after it moved."""
    todo = [(node, path)]
    while todo:
        n, p = todo.pop()
        n.path = p
        for c in n.children:
            todo.append((c, ("/" if p == "/" else p + "/") + c.name))


def reindex(tree: SourceTree) -> None:
    tree.by_phandle.clear()
    for n in _walk(tree.root):
        ph = n.props.get("phandle")
        n.phandle = int.from_bytes(ph, "big") if ph and len(ph) == 4 else 0
        if n.phandle:
            tree.by_phandle.setdefault(n.phandle, n)


@dataclass
class TreeMutator:
    rng: random.Random
    applied: list[str] = field(default_factory=list)

    def mutate(self, tree: SourceTree, count: int) -> None:
        ops = [self.number, self.number, self.number, self.cell_count,
               self.string, self.string, self.prop_name, self.prop_name,
               self.structure, self.reference, self.region, self.region,
               self.splice, self.device]
        for _ in range(count):
            self.rng.choice(ops)(tree)
        reindex(tree)

    def _node(self, tree: SourceTree, with_props: bool = True) -> Node:
        """A node; two times in three one of the manifest's own (the board
        has many more nodes, most of them alike)."""
        nodes = [n for n in _walk(tree.root) if n.props or not with_props]
        own = [n for n in nodes if n.path.startswith("/bulkhead")]
        if own and self.rng.random() < 0.67:
            return self.rng.choice(own)
        return self.rng.choice(nodes)

    def _prop(self, tree: SourceTree):
        """A property; rarely a phandle (changing one mostly breaks the
        references to it, which tells little more each time)."""
        node = self._node(tree)
        props = sorted(node.props)
        plain = [p for p in props if p != "phandle"]
        if plain and self.rng.random() < 0.9:
            return node, self.rng.choice(plain)
        return node, self.rng.choice(props)

    def _set(self, tree: SourceTree, node: Node, prop: str, value: bytes,
             kind: str) -> None:
        node.props[prop] = value
        tree.prop_kinds[(node.path, prop)] = frozenset({kind} if kind else ())

    def number(self, tree: SourceTree) -> None:
        node, prop = self._prop(tree)
        cells = _cells(node.props[prop]) or [0]
        i = self.rng.randrange(len(cells))
        r = self.rng
        old = cells[i]
        cells[i] = r.choice([r.choice(EDGE_CELLS), old + r.choice([1, -1, 0x1000, -0x1000]),
                             old ^ (1 << r.randrange(32)), r.getrandbits(32), old * 2,
                             old >> 1])
        self.applied.append(f"number {node.path}:{prop}[{i}] {old:#x}->{cells[i] & 0xffffffff:#x}")
        self._set(tree, node, prop, _pack(cells), "cells")

    def cell_count(self, tree: SourceTree) -> None:
        node, prop = self._prop(tree)
        data = node.props[prop]
        cells = _cells(data)
        r = self.rng
        how = r.choice(["append", "drop-last", "drop-first", "double", "odd-bytes",
                        "empty", "one"])
        if how == "append":
            cells.append(r.choice(EDGE_CELLS))
        elif how == "drop-last":
            cells = cells[:-1]
        elif how == "drop-first":
            cells = cells[1:]
        elif how == "double":
            cells = cells * 2
        elif how == "one":
            cells = cells[:1]
        value = _pack(cells)
        if how == "odd-bytes":
            value = data + b"\x01\x02"
        elif how == "empty":
            value = b""
        self.applied.append(f"cells {how} {node.path}:{prop}")
        self._set(tree, node, prop, value, "cells" if value else "")

    def string(self, tree: SourceTree) -> None:
        node, prop = self._prop(tree)
        r = self.rng
        choice = r.choice(EDGE_STRINGS)
        value = choice + b"\0"
        if r.random() < 0.15:
            value += r.choice(EDGE_STRINGS) + b"\0"  # a list of two
        if r.random() < 0.05:
            value = value[:-1]  # not NUL-terminated
        self.applied.append(f"string {node.path}:{prop}={value[:40]!r}")
        self._set(tree, node, prop, value, "string")

    def prop_name(self, tree: SourceTree) -> None:
        r = self.rng
        how = r.choice(["rename", "delete", "copy", "add"])
        if how == "add":
            node = self._node(tree, with_props=False)
            prop = r.choice(KNOWN_PROPS)
            value = r.choice([b"", _pack([r.choice(EDGE_CELLS)]),
                              _pack([0, r.choice(EDGE_CELLS)]),
                              _pack([0, r.choice(EDGE_CELLS), 0, r.choice(EDGE_CELLS)]),
                              r.choice(EDGE_STRINGS) + b"\0"])
            self.applied.append(f"add {node.path}:{prop}")
            self._set(tree, node, prop, value, "string" if value.endswith(b"\0")
                      and value[:1].isalpha() else ("cells" if value else ""))
            return
        node, prop = self._prop(tree)
        value = node.props.pop(prop)
        tree.prop_kinds.pop((node.path, prop), None)
        if how == "delete":
            self.applied.append(f"delete {node.path}:{prop}")
            return
        if how == "copy":
            node.props[prop] = value
            target = self._node(tree, with_props=False)
            target.props[prop] = value
            self.applied.append(f"copy {node.path}:{prop} to {target.path}")
            return
        new = r.choice(KNOWN_PROPS)
        node.props[new] = value
        self.applied.append(f"rename {node.path}:{prop}->{new}")

    def structure(self, tree: SourceTree) -> None:
        r = self.rng
        nodes = [n for n in _walk(tree.root) if n is not tree.root]
        own = [n for n in nodes if n.path.startswith("/bulkhead/")]
        if not nodes:
            return
        node = r.choice(own if own and r.random() < 0.67 else nodes)
        parent = next(p for p in _walk(tree.root) if node in p.children)
        how = r.choice(["delete", "duplicate", "move", "rename", "nest", "nest",
                        "nest", "deep", "empty"])
        if how == "delete":
            parent.children.remove(node)
        elif how == "duplicate":
            clone = copy_tree(SourceTree(node, b"", [], {}, {}, {})).root
            clone.name = node.name.split("@")[0] + "@" + f"{r.randrange(1 << 16):x}"
            if r.random() < 0.7:
                clone.props.pop("phandle", None)
            parent.children.append(clone)
            _repath(clone, parent.path.rstrip("/") + "/" + clone.name)
        elif how == "move":
            target = r.choice(_walk(tree.root))
            if target is node or node in _walk_up(tree.root, target):
                return
            parent.children.remove(node)
            target.children.append(node)
            _repath(node, target.path.rstrip("/") + "/" + node.name)
        elif how == "rename":
            node.name = r.choice(NODE_NAMES)
            _repath(node, parent.path.rstrip("/") + "/" + node.name)
        elif how in ("nest", "deep"):
            depth = r.choice([1, 2, 3]) if how == "nest" else r.choice([40, 400, 2500])
            top = Node("wrap", "")
            cur = top
            for _ in range(depth - 1):
                nxt = Node("wrap", "")
                cur.children.append(nxt)
                cur = nxt
            parent.children[parent.children.index(node)] = top
            cur.children.append(node)
            _repath(top, parent.path.rstrip("/") + "/wrap")
        elif how == "empty":
            node.children.clear()
            node.props.clear()
        self.applied.append(f"structure {how} {node.path}")

    def region(self, tree: SourceTree) -> None:
        """Set one <base size> quadruple to a region worth landing on."""
        r = self.rng
        holders = [(n, p) for n in _walk(tree.root) for p in n.props
                   if p in REGION_PROPS and len(n.props[p]) >= 16]
        if not holders:
            return
        node, prop = r.choice(holders)
        data = bytearray(node.props[prop])
        i = r.randrange(len(data) // 16) * 16
        base, size = r.choice(EDGE_REGIONS)
        data[i:i + 16] = base.to_bytes(8, "big") + size.to_bytes(8, "big")
        self.applied.append(f"region {node.path}:{prop} [{base:#x}+{size:#x}]")
        self._set(tree, node, prop, bytes(data), "cells")

    def splice(self, tree: SourceTree) -> None:
        """Give a property the value the same property has elsewhere (one
        partition's memory, CPUs or console in another)."""
        r = self.rng
        node, prop = self._prop(tree)
        donors = [n for n in _walk(tree.root) if prop in n.props and n is not node]
        if not donors:
            return
        donor = r.choice(donors)
        self.applied.append(f"splice {node.path}:{prop} from {donor.path}")
        node.props[prop] = donor.props[prop]

    def device(self, tree: SourceTree) -> None:
        """Pass one more device through, on a region worth landing on."""
        r = self.rng
        parts = next((n for n in _walk(tree.root) if n.path == "/bulkhead/partitions"), None)
        if parts is None or not parts.children:
            return
        part = r.choice(parts.children)
        devs = part.child("devices")
        if devs is None:
            devs = Node("devices", part.path + "/devices")
            part.children.append(devs)
        base, size = r.choice(EDGE_REGIONS)
        name = f"d@{base:x}"
        props = {"reg": base.to_bytes(8, "big") + size.to_bytes(8, "big")}
        if r.random() < 0.5:
            props["dma-unrestricted"] = b""
        if r.random() < 0.6:
            props["interrupts"] = _pack([0, r.choice([2, 7, 16, 40, 255, 256]), 4]
                                        * r.choice([1, 1, 2, 5]))
        devs.children.append(Node(name, devs.path + "/" + name, props))
        self.applied.append(f"device {name} in {part.path}")

    def reference(self, tree: SourceTree) -> None:
        """Point a phandle cell at another node (or nowhere)."""
        r = self.rng
        holders = [(n, p) for n in _walk(tree.root) for p in n.props
                   if p in ("messaging", "notify", "scheduler", "partitions", "from",
                            "to", "console-input")]
        if not holders:
            return
        node, prop = r.choice(holders)
        targets = [n.phandle for n in _walk(tree.root) if n.phandle]
        cells = _cells(node.props[prop]) or [0]
        cells[r.randrange(len(cells))] = r.choice(targets + [0, 0xFFFFFFFF, 0x1234])
        if r.random() < 0.3:
            cells.append(r.choice(targets + [0]))
        self.applied.append(f"reference {node.path}:{prop}")
        self._set(tree, node, prop, _pack(cells), "cells")


def _walk_up(root: Node, target: Node) -> list[Node]:
    """The nodes on the path from root to target (inclusive)."""
    parents: dict[int, Node] = {}
    for n in _walk(root):
        for c in n.children:
            parents[id(c)] = n
    out = [target]
    while id(out[-1]) in parents:
        out.append(parents[id(out[-1])])
    return out


def _block_end(text: str, brace: int) -> int:
    """Index after the `};` closing the block whose `{` is at `brace`."""
    depth = 0
    i = brace
    while i < len(text):
        c = text[i]
        if c == '"':
            m = _STRING_RE.match(text, i)
            i = m.end() if m else i + 1
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                semi = text.find(";", i)
                return semi + 1 if semi >= 0 else -1
        i += 1
    return -1


_NUMBER_RE = re.compile(r"(?<=[<\s])(0x[0-9a-fA-F]+|\d+)(?=[\s>])")
_STRING_RE = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_PROP_RE = re.compile(r"^(\s*)([A-Za-z#][\w,.#+-]*)(\s*=|;)", re.M)
_NODE_RE = re.compile(r"^(\s*)(?:\w+:\s*)?([A-Za-z][\w,.@+-]*)\s*\{", re.M)
_CELLS_RE = re.compile(r"<([^<>;]*)>")
TEXT_STRINGS = ['""', '"demo.bin"', '"../../Makefile"', '"/etc/passwd"', '"256"',
                '"rw"', '"share"', '"a\\nb"', '"q\\"uote"', '"caf\\xc3\\xa9"',
                '"\\xff\\xfe"', '"' + "x" * 40 + '"', '"6b0d8f9e-1d2a-4c3e-9a55-0c1d2e3f4a5b"',
                '"rw", "ro"', "<256>", "<0x0 0x41000000>", "[01 02 03]", "<&alpha>"]


@dataclass
class TextMutator:
    rng: random.Random
    applied: list[str] = field(default_factory=list)

    def mutate(self, text: str, count: int) -> str:
        ops = [self.number, self.number, self.number, self.string, self.cells,
               self.prop_name, self.line, self.nest, self.value_form]
        for _ in range(count):
            text = self.rng.choice(ops)(text)
        return text

    def _pick(self, regex: re.Pattern, text: str):
        found = list(regex.finditer(text))
        return self.rng.choice(found) if found else None

    def number(self, text: str) -> str:
        m = self._pick(_NUMBER_RE, text)
        if not m:
            return text
        r = self.rng
        old = int(m.group(1), 0)
        new = r.choice([r.choice(EDGE_CELLS), old + r.choice([1, -1, 0x1000]),
                        old ^ (1 << r.randrange(32)), r.getrandbits(32)]) & 0xFFFFFFFF
        self.applied.append(f"number {old:#x}->{new:#x}")
        return text[:m.start(1)] + f"{new:#x}" + text[m.end(1):]

    def string(self, text: str) -> str:
        m = self._pick(_STRING_RE, text)
        if not m:
            return text
        new = self.rng.choice(TEXT_STRINGS)
        self.applied.append(f"string {m.group(0)[:30]}->{new[:30]}")
        return text[:m.start()] + new + text[m.end():]

    def cells(self, text: str) -> str:
        m = self._pick(_CELLS_RE, text)
        if not m:
            return text
        items = m.group(1).split()
        r = self.rng
        how = r.choice(["append", "drop", "double"])
        if how == "append":
            items.insert(r.randrange(len(items) + 1), f"{r.choice(EDGE_CELLS):#x}")
        elif how == "drop" and items:
            items.pop(r.randrange(len(items)))
        else:
            items = items * 2
        self.applied.append(f"cells {how}")
        return text[:m.start(1)] + " ".join(items) + text[m.end(1):]

    def prop_name(self, text: str) -> str:
        m = self._pick(_PROP_RE, text)
        if not m:
            return text
        new = self.rng.choice(KNOWN_PROPS)
        self.applied.append(f"rename {m.group(2)}->{new}")
        return text[:m.start(2)] + new + text[m.end(2):]

    def line(self, text: str) -> str:
        lines = text.split("\n")
        i = self.rng.randrange(len(lines))
        how = self.rng.choice(["delete", "duplicate"])
        self.applied.append(f"line {how} {lines[i].strip()[:30]}")
        if how == "delete":
            del lines[i]
        else:
            lines.insert(i, lines[i])
        return "\n".join(lines)

    def nest(self, text: str) -> str:
        m = self._pick(_NODE_RE, text)
        if not m:
            return text
        end = _block_end(text, text.index("{", m.start(2)))
        if end < 0:
            return text
        depth = self.rng.choice([1, 2, 40, 2000])
        self.applied.append(f"nest {m.group(2)} in {depth}")
        return (text[:m.start(2)] + "w { " * depth + text[m.start(2):end]
                + " };" * depth + text[end:])

    def value_form(self, text: str) -> str:
        """A number written as a string, or a string as cells."""
        m = self._pick(_CELLS_RE, text)
        if m and self.rng.random() < 0.5:
            first = (m.group(1).split() or ["0"])[0]
            try:
                value = str(int(first, 0))
            except ValueError:
                return text
            self.applied.append(f"cells <{m.group(1)[:20]}> as \"{value}\"")
            return text[:m.start()] + f'"{value}"' + text[m.end():]
        s = self._pick(_STRING_RE, text)
        if not s:
            return text
        self.applied.append(f"string {s.group(0)[:20]} as cells")
        return text[:s.start()] + "<0x41424300>" + text[s.end():]
