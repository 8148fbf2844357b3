"""Run dtc on a manifest and read back the tree with source locations.

dtc compiles the source twice: once to a DTB (values, read with libfdt) and
once to DTS with `-T -T` source annotations, from which the file:line of
every node and property is taken.
"""
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from typing import Optional

import libfdt

from .diag import Diagnostic, Location, ManifestError

DTC = os.environ.get("DTC", "dtc")
# dtc checks that do not fit a manifest (partition@N nodes carry no reg)
DTC_FLAGS = ["-W", "no-unit_address_vs_reg", "-W", "no-avoid_unnecessary_addr_size"]


@dataclass
class Node:
    name: str
    path: str
    props: dict[str, bytes] = field(default_factory=dict)
    children: list["Node"] = field(default_factory=list)
    phandle: int = 0

    def child(self, name: str) -> Optional["Node"]:
        for c in self.children:
            if c.name == name:
                return c
        return None


@dataclass
class SourceTree:
    root: Node
    dtb: bytes
    dependencies: list[str]
    node_locations: dict[str, Location]
    prop_locations: dict[tuple[str, str], Location]
    by_phandle: dict[int, Node]

    def loc(self, path: str, prop: Optional[str] = None) -> Optional[Location]:
        if prop is not None and (path, prop) in self.prop_locations:
            return self.prop_locations[(path, prop)]
        return self.node_locations.get(path)


_LOC_RE = re.compile(r"\s*/\* (.*) \*/$")
_ONE_LOC_RE = re.compile(r"^(.*?):(\d+):\d+-\d+:\d+$")
_NODE_RE = re.compile(r"^(?:[\w.+,-]+: )*([^\s{}]+) \{$")
_PROP_RE = re.compile(r"^(?:[\w.+,-]+: )*([^\s=;]+)(?: = .*)?;$")


def _pick_location(text: str, main_file: str) -> Optional[Location]:
    locs = []
    for part in text.split(", "):
        m = _ONE_LOC_RE.match(part.strip())
        if m:
            locs.append(Location(m.group(1), int(m.group(2))))
    if not locs:
        return None
    for loc in locs:
        if loc.file == main_file:
            return loc
    return locs[0]


def parse_annotations(dts: str, main_file: str):
    node_locs: dict[str, Location] = {}
    prop_locs: dict[tuple[str, str], Location] = {}
    stack: list[str] = []
    for raw in dts.splitlines():
        line = raw.strip()
        m = _LOC_RE.search(line)
        loc = None
        if m:
            loc = _pick_location(m.group(1), main_file)
            line = line[: m.start()].rstrip()
        if not line or line.startswith("/dts-v1/") or line.startswith("/memreserve/"):
            continue
        if line == "};":
            if stack:
                stack.pop()
            continue
        nm = _NODE_RE.match(line)
        if nm:
            name = nm.group(1)
            if name == "/":
                path = "/"
            else:
                parent = stack[-1] if stack else "/"
                path = (parent.rstrip("/") + "/" + name)
            stack.append(path)
            if loc:
                node_locs[path] = loc
            continue
        pm = _PROP_RE.match(line)
        if pm and stack and loc:
            prop_locs[(stack[-1], pm.group(1))] = loc
    return node_locs, prop_locs


def _read_fdt(dtb: bytes) -> tuple[Node, dict[int, Node]]:
    fdt = libfdt.Fdt(dtb)
    by_phandle: dict[int, Node] = {}

    def walk(offset: int, path: str, name: str) -> Node:
        node = Node(name=name, path=path)
        poff = fdt.first_property_offset(offset, [libfdt.FDT_ERR_NOTFOUND])
        while poff >= 0:
            prop = fdt.get_property_by_offset(poff)
            node.props[prop.name] = bytes(prop)
            poff = fdt.next_property_offset(poff, [libfdt.FDT_ERR_NOTFOUND])
        ph = node.props.get("phandle")
        if ph is not None and len(ph) == 4:
            node.phandle = int.from_bytes(ph, "big")
            by_phandle[node.phandle] = node
        sub = fdt.first_subnode(offset, [libfdt.FDT_ERR_NOTFOUND])
        while sub >= 0:
            cname = fdt.get_name(sub)
            cpath = ("/" if path == "/" else path + "/") + cname
            node.children.append(walk(sub, cpath, cname))
            sub = fdt.next_subnode(sub, [libfdt.FDT_ERR_NOTFOUND])
        return node

    return walk(0, "/", "/"), by_phandle


def _run_dtc(args: list[str]) -> subprocess.CompletedProcess:
    try:
        return subprocess.run([DTC] + args, capture_output=True, text=False,
                              check=False)
    except FileNotFoundError:
        raise ManifestError([Diagnostic(
            "error", "DTC", None, "",
            f"'{DTC}' not found: run 'make deps' (package device-tree-compiler)")])


def load(path: str, include_dirs: list[str]) -> SourceTree:
    """Compile `path` with dtc; raise ManifestError on dtc errors."""
    if not os.path.exists(path):
        raise ManifestError([Diagnostic("error", "MANIFEST-MISSING", None, "",
                                        f"manifest '{path}' does not exist")])
    incs: list[str] = []
    for d in include_dirs:
        incs += ["-i", d]
    with tempfile.TemporaryDirectory() as tmp:
        dtb_path = os.path.join(tmp, "m.dtb")
        dep_path = os.path.join(tmp, "m.d")
        r = _run_dtc(["-q", "-I", "dts", "-O", "dtb", "-o", dtb_path, "-d", dep_path]
                     + DTC_FLAGS + incs + [path])
        if r.returncode != 0:
            msg = r.stderr.decode(errors="replace").strip()
            raise ManifestError([Diagnostic("error", "DTS-SYNTAX", None, "",
                                            f"dtc rejected the manifest:\n{msg}")])
        with open(dtb_path, "rb") as f:
            dtb = f.read()
        with open(dep_path, encoding="utf-8") as f:
            deptext = f.read().replace("\\\n", " ")
        deps = deptext.split(":", 1)[1].split() if ":" in deptext else [path]
        r = _run_dtc(["-q", "-I", "dts", "-O", "dts", "-T", "-T"] + DTC_FLAGS
                     + incs + [path])
        annotated = r.stdout.decode(errors="replace")
    root, by_phandle = _read_fdt(dtb)
    node_locs, prop_locs = parse_annotations(annotated, path)
    return SourceTree(root, dtb, deps, node_locs, prop_locs, by_phandle)
