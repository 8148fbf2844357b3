"""A partition's `device-tree { ... }` node: extra nodes (and root
properties) for its generated device tree, checked like the rest of the
manifest.

  - no node or root property with the name of a generated one
    (OVERLAY-COLLIDE);
  - every `reg` a CPU address can reach lies inside the partition's RAM,
    its devices or its shared regions; a `reg` under a node with a
    non-empty `ranges` is refused, since its address is translated
    (OVERLAY-REG); under a node without `ranges` it is no CPU address;
  - no phandle reference to a node outside the overlay (OVERLAY-PHANDLE);
  - an `interrupts` for the generated GIC (no `interrupt-parent` on the
    way up) names SPIs the partition owns (OVERLAY-IRQ).
"""
from dataclasses import dataclass
from typing import Optional

from . import dts
from .diag import Reporter
from .model import Manifest, Partition, Region
from .source import Node, SourceTree

GIC_CELLS = 3
DEFAULT_ADDRESS_CELLS = 2  # the DT spec's defaults when a parent says none
DEFAULT_SIZE_CELLS = 1
SPI = 0


@dataclass
class _Visit:
    node: Node
    parents: list[Node]  # overlay ancestors, nearest first, the overlay root last


def _cells(node: Node, prop: str, default: int) -> Optional[int]:
    data = node.props.get(prop)
    if data is None:
        return default
    if len(data) != 4:
        return None
    return int.from_bytes(data, "big")


def _walk(root: Node) -> list[_Visit]:
    """Every node below the overlay root, parents before children."""
    out: list[_Visit] = []
    stack = [_Visit(c, [root]) for c in reversed(root.children)]
    while stack:
        v = stack.pop()
        out.append(v)
        stack += [_Visit(c, [v.node] + v.parents) for c in reversed(v.node.children)]
    return out


def _allowed_regions(m: Manifest, p: Partition) -> list[tuple[Region, str]]:
    out = [(r, "its memory") for r in p.memory]
    out += [(r, f"its device \"{d.name}\"") for d in p.devices for r in d.regions]
    out += [(s.region, f"shared region \"{s.name}\"") for s in m.shared
            if any(q is p for q, _ in s.members)]
    return out


def _q(p: Partition) -> str:
    return f"\"{p.name}\""


class _Checker:
    def __init__(self, m: Manifest, p: Partition, tree: SourceTree, rep: Reporter):
        self.m, self.p, self.tree, self.rep = m, p, tree, rep
        assert p.overlay is not None
        self.root = p.overlay
        self.inside = self.root.path + "/"

    def error(self, rule: str, node: Node, prop: Optional[str], msg: str) -> None:
        self.rep.error(rule, self.tree.loc(node.path, prop), node.path,
                       f"overlay of {_q(self.p)}: {msg}")

    def collisions(self, root_props: set[str], root_children: set[str]) -> None:
        for name in sorted(self.root.props):
            if name in root_props:
                self.error("OVERLAY-COLLIDE", self.root, name,
                           f"root property '{name}' is generated (from the "
                           "board and the manifest); it cannot be set here")
        for c in self.root.children:
            if c.name in root_children:
                self.error("OVERLAY-COLLIDE", c, None,
                           f"node /{c.name} is generated (from the board and "
                           "the manifest); give the overlay node another name, "
                           "or set what it should say in the manifest")

    def reg(self, v: _Visit) -> None:
        data = v.node.props.get("reg")
        if data is None:
            return
        parent = v.parents[0]
        for up in v.parents[:-1]:
            ranges = up.props.get("ranges")
            if ranges is None:
                return  # behind a bus without ranges: not a CPU address
            if ranges:
                self.error("OVERLAY-REG", v.node, "reg",
                           f"reg of {v.node.path} is translated by the "
                           f"non-empty 'ranges' of {up.path}; the compiler "
                           "checks addresses only through 'ranges;' (1:1)")
                return
        if parent is self.root:
            ac, sc = 2, 2
        else:
            ac = _cells(parent, "#address-cells", DEFAULT_ADDRESS_CELLS)
            sc = _cells(parent, "#size-cells", DEFAULT_SIZE_CELLS)
        if ac not in (1, 2) or sc not in (0, 1, 2) or len(data) % (4 * (ac + sc)) \
                or not data:
            self.error("OVERLAY-REG", v.node, "reg",
                       f"reg of {v.node.path} ({len(data)} bytes) is not a list "
                       f"of <address size> with the parent's #address-cells "
                       f"{ac} and #size-cells {sc}")
            return
        step = 4 * (ac + sc)
        allowed = _allowed_regions(self.m, self.p)
        for i in range(0, len(data), step):
            base = int.from_bytes(data[i:i + 4 * ac], "big")
            size = int.from_bytes(data[i + 4 * ac:i + step], "big") if sc else 0
            r = Region(base, max(size, 1))
            if not any(a.contains(r) for a, _ in allowed):
                where = ", ".join(f"{what} {a}" for a, what in allowed)
                self.error("OVERLAY-REG", v.node, "reg",
                           f"reg [{base:#x}, {base + size:#x}) of {v.node.path} "
                           f"is not inside what the partition may touch ({where})")

    def interrupts(self, v: _Visit, spis: set[int]) -> None:
        data = v.node.props.get("interrupts")
        if data is None:
            return
        chain = [v.node] + v.parents
        if any("interrupt-parent" in n.props for n in chain):
            return  # another controller (inside the overlay: see phandles)
        if not data or len(data) % (4 * GIC_CELLS):
            self.error("OVERLAY-IRQ", v.node, "interrupts",
                       f"interrupts of {v.node.path} are not GIC triples "
                       "<type number flags>")
            return
        words = [int.from_bytes(data[i:i + 4], "big") for i in range(0, len(data), 4)]
        owned = ", ".join(f"SPI {s - 32}" for s in sorted(spis)) or "none"
        for i in range(0, len(words), 3):
            kind, num = words[i], words[i + 1]
            if kind != SPI or 32 + num not in spis:
                what = f"SPI {num}" if kind == SPI else f"<{kind} {num} {words[i + 2]}>"
                self.error("OVERLAY-IRQ", v.node, "interrupts",
                           f"interrupt {what} of {v.node.path} is not one of the "
                           f"partition's SPIs ({owned}: its console's and its "
                           "devices')")

    def phandles(self, node: Node) -> None:
        for name in sorted(node.props):
            for _, ph in self.tree.phandle_refs.get((node.path, name), []):
                target = self.tree.by_phandle.get(ph)
                if target is not None and target.path.startswith(self.inside):
                    continue
                desc = f"node {target.path}" if target else f"phandle {ph:#x}"
                self.error("OVERLAY-PHANDLE", node, name,
                           f"property '{name}' of {node.path} refers to {desc}, "
                           "outside the overlay; the partition's device tree "
                           "holds only the overlay's own nodes")


def check(m: Manifest, p: Partition, tree: SourceTree, rep: Reporter,
          root_props: set[str], root_children: set[str]) -> None:
    """Reports every problem of p's overlay (p.spis must be set)."""
    c = _Checker(m, p, tree, rep)
    c.collisions(root_props, root_children)
    c.phandles(c.root)
    spis = {s.intid for s in p.spis}
    for v in _walk(c.root):
        c.reg(v)
        c.interrupts(v, spis)
        c.phandles(v.node)


LABEL_PREFIX = "overlay_"


def _label(phandle: int) -> str:
    return f"{LABEL_PREFIX}{phandle:x}"


def _prop_line(tree: SourceTree, node: Node, name: str) -> str:
    """The property as DTS, phandle references written as references to
    the labels render() gives the overlay's nodes."""
    data = node.props[name]
    if not data:
        return f"{name};"
    kinds = tree.kinds(node.path, name)
    refs = dict(tree.phandle_refs.get((node.path, name), []))
    if refs and len(data) % 4 == 0 and all(off % 4 == 0 for off in refs):
        words = [int.from_bytes(data[i:i + 4], "big") for i in range(0, len(data), 4)]
        text = "<" + " ".join(f"&{_label(refs[4 * i])}" if 4 * i in refs else f"{w:#x}"
                              for i, w in enumerate(words)) + ">"
    elif kinds == {"string"} and data.endswith(b"\0"):
        text = ", ".join(dts.string(s) for s in data[:-1].split(b"\0"))
    elif kinds == {"cells"} and len(data) % 4 == 0:
        text = dts.cells([int.from_bytes(data[i:i + 4], "big")
                          for i in range(0, len(data), 4)])
    else:
        text = dts.byte_list(data)
    return f"{name} = {text};"


def render(tree: SourceTree, overlay: Node) -> tuple[list[str], list[dts.DtsNode]]:
    """(root property lines, root child nodes) of the overlay, each value
    written in the form the manifest gave it. A node with a phandle gets
    a label instead, and references to it are written as references (dtc
    assigns the phandles of the partition's tree)."""
    root_props = [_prop_line(tree, overlay, n) for n in sorted(overlay.props)
                  if n != "phandle"]
    made: dict[int, dts.DtsNode] = {}
    top: list[dts.DtsNode] = []
    for v in _walk(overlay):
        label = _label(v.node.phandle) if v.node.phandle else ""
        out = dts.DtsNode(v.node.name, label=label, raw_props=[
            _prop_line(tree, v.node, n) for n in v.node.props if n != "phandle"])
        made[id(v.node)] = out
        if v.parents[0] is overlay:
            top.append(out)
        else:
            made[id(v.parents[0])].children.append(out)
    return root_props, top
