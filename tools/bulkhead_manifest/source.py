"""Run dtc on a manifest and read back the tree with source locations.

dtc compiles the source twice: once to a DTB (values, read with libfdt) and
once to DTS with `-T -T` source annotations, from which the file:line of
every node and property is taken, and how each property was written
(string, cells, bytes), so a number written as a string is caught.
"""
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from typing import Optional

import libfdt

from . import includes, refs
from .diag import Location, ManifestError, diagnostic

# dtc checks that do not fit a manifest (partition@N nodes carry no reg)
DTC_FLAGS = ["-W", "no-unit_address_vs_reg", "-W", "no-avoid_unnecessary_addr_size"]
# a partition's device-tree overlay: its phandle references are read
OVERLAY_NODE = "device-tree"
DTC_TIMEOUT = 60  # seconds; dtc on any manifest takes milliseconds


def dtc_command() -> str:
    return os.environ.get("DTC", "dtc")


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
    # how each property was written: a set of "string", "cells", "bytes"
    prop_kinds: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)
    # (byte offset, phandle) of each reference (<&label>) in a property's
    # value, read when the manifest has a device-tree overlay
    phandle_refs: dict[tuple[str, str], list[tuple[int, int]]] = field(
        default_factory=dict)

    def loc(self, path: str, prop: Optional[str] = None) -> Optional[Location]:
        if prop is not None and (path, prop) in self.prop_locations:
            return self.prop_locations[(path, prop)]
        return self.node_locations.get(path)

    def kinds(self, path: str, prop: str) -> frozenset[str]:
        """How the property's value was written (empty when unknown)."""
        return self.prop_kinds.get((path, prop), frozenset())


_LOC_RE = re.compile(r"\s*/\* (.*) \*/$")
_ONE_LOC_RE = re.compile(r"^(.*?):(\d+):\d+-\d+:\d+$")
_NODE_RE = re.compile(r"^(?:[\w.+,-]+: )*([^\s{}]+) \{$")
_PROP_RE = re.compile(r"^(?:[\w.+,-]+: )*([^\s=;]+)(?: = (.*))?;$")
_DTC_LOC_RE = re.compile(r"^(?:Error: )?(.+?):(\d+)\.\d+(?:-[\d.]+)?:? (.*)$")


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


def value_kinds(text: str) -> frozenset[str]:
    """The forms in a dtc-printed property value: "string" for "..." (and
    &path references), "cells" for <...>, "bytes" for [...]."""
    kinds = set()
    i = 0
    while i < len(text):
        c = text[i]
        if c == '"':
            kinds.add("string")
            i += 1
            while i < len(text) and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif c == "<":
            kinds.add("cells")
            i = text.find(">", i)
            if i < 0:
                break
        elif c == "[":
            kinds.add("bytes")
            i = text.find("]", i)
            if i < 0:
                break
        elif c == "&":
            kinds.add("string")
        i += 1
    return frozenset(kinds)


def parse_annotations(dts: str, main_file: str):
    node_locs: dict[str, Location] = {}
    prop_locs: dict[tuple[str, str], Location] = {}
    prop_kinds: dict[tuple[str, str], frozenset[str]] = {}
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
        if pm and stack:
            key = (stack[-1], pm.group(1))
            if loc:
                prop_locs[key] = loc
            if pm.group(2) is not None:
                prop_kinds[key] = value_kinds(pm.group(2))
    return node_locs, prop_locs, prop_kinds


def _read_fdt(dtb: bytes) -> tuple[Node, dict[int, Node]]:
    """The tree of the DTB; iterative, so any depth of nesting is read."""
    fdt = libfdt.Fdt(dtb)
    by_phandle: dict[int, Node] = {}
    notfound = [libfdt.FDT_ERR_NOTFOUND]

    def read_node(offset: int, path: str, name: str) -> Node:
        node = Node(name=name, path=path)
        poff = fdt.first_property_offset(offset, notfound)
        while poff >= 0:
            prop = fdt.get_property_by_offset(poff)
            node.props[prop.name] = bytes(prop)
            poff = fdt.next_property_offset(poff, notfound)
        ph = node.props.get("phandle")
        if ph is not None and len(ph) == 4:
            node.phandle = int.from_bytes(ph, "big")
            by_phandle.setdefault(node.phandle, node)
        return node

    root = read_node(0, "/", "/")
    pending = [(0, root)]
    while pending:
        offset, node = pending.pop()
        sub = fdt.first_subnode(offset, notfound)
        while sub >= 0:
            cname = fdt.get_name(sub)
            cpath = ("/" if node.path == "/" else node.path + "/") + cname
            child = read_node(sub, cpath, cname)
            node.children.append(child)
            pending.append((sub, child))
            sub = fdt.next_subnode(sub, notfound)
    return root, by_phandle


def _run_dtc(args: list[str]) -> subprocess.CompletedProcess:
    dtc = dtc_command()
    try:
        r = subprocess.run([dtc] + args, capture_output=True, text=False,
                           check=False, timeout=DTC_TIMEOUT)
    except FileNotFoundError:
        raise ManifestError([diagnostic(
            "error", "DTC", None, "",
            f"'{dtc}' not found: run 'make deps' (package device-tree-compiler)")])
    except subprocess.TimeoutExpired:
        raise ManifestError([diagnostic(
            "error", "DTC", None, "",
            f"'{dtc}' did not finish within {DTC_TIMEOUT} s")])
    if r.returncode < 0:
        raise ManifestError([diagnostic(
            "error", "DTC", None, "",
            f"'{dtc}' was killed by signal {-r.returncode} on this input; "
            "simplify the source around the last change")])
    return r


def dtc_errors(stderr: str, main: str, include_dirs: list[str]):
    """dtc's complaints as DTS-SYNTAX diagnostics, each with the file:line
    dtc gives, or that the include walk finds for a missing or looping
    /include/."""
    out = []
    lines = [l.strip() for l in stderr.splitlines() if l.strip()]
    for line in lines:
        m = _DTC_LOC_RE.match(line)
        if m:
            out.append(diagnostic("error", "DTS-SYNTAX",
                                  Location(m.group(1), int(m.group(2))), "",
                                  f"dtc: {m.group(3)}"))
    if any("Couldn't open" in l or "nested too deeply" in l for l in lines):
        problem = includes.find_problem(main, include_dirs)
        if problem is not None:
            out.append(diagnostic("error", "DTS-SYNTAX", problem.location, "",
                                  problem.message))
    if not out:
        text = "; ".join(lines) or "no message"
        out.append(diagnostic("error", "DTS-SYNTAX", Location(main, 1), "",
                              f"dtc rejected the manifest: {text}"))
    return out


def load(path: str, include_dirs: list[str]) -> SourceTree:
    """Compile `path` with dtc; raise ManifestError on dtc errors."""
    if not os.path.isfile(path):
        what = "is not a file" if os.path.exists(path) else "does not exist"
        raise ManifestError([diagnostic("error", "MANIFEST-MISSING", None, "",
                                        f"manifest '{path}' {what}")])
    incs: list[str] = []
    for d in include_dirs:
        incs += ["-i", d]
    with tempfile.TemporaryDirectory() as tmp:
        dtb_path = os.path.join(tmp, "m.dtb")
        dep_path = os.path.join(tmp, "m.d")
        r = _run_dtc(["-q", "-I", "dts", "-O", "dtb", "-o", dtb_path, "-d", dep_path]
                     + DTC_FLAGS + incs + [path])
        if r.returncode != 0:
            raise ManifestError(dtc_errors(r.stderr.decode(errors="replace"),
                                           path, include_dirs))
        with open(dtb_path, "rb") as f:
            dtb = f.read()
        with open(dep_path, encoding="utf-8", errors="surrogateescape") as f:
            deptext = f.read().replace("\\\n", " ")
        deps = deptext.split(":", 1)[1].split() if ":" in deptext else [path]
        r = _run_dtc(["-q", "-I", "dts", "-O", "dts", "-T", "-T"] + DTC_FLAGS
                     + incs + [path])
        annotated = r.stdout.decode(errors="replace")
    try:
        root, by_phandle = _read_fdt(dtb)
    except libfdt.FdtException as e:
        raise ManifestError([diagnostic("error", "DTC", Location(path, 1), "",
                                        f"dtc wrote a DTB libfdt cannot read: {e}")])
    node_locs, prop_locs, prop_kinds = parse_annotations(annotated, path)
    tree = SourceTree(root, dtb, deps, node_locs, prop_locs, by_phandle, prop_kinds)
    if has_overlay(root):
        tree.phandle_refs = _read_refs(path, incs)
    return tree


def has_overlay(root: Node) -> bool:
    """Whether a partition of the manifest has a device-tree overlay."""
    bh = root.child("bulkhead")
    parts = bh.child("partitions") if bh else None
    return any(p.child(OVERLAY_NODE) is not None
               for p in (parts.children if parts else []))


def _read_refs(path: str, incs: list[str]) -> dict[tuple[str, str],
                                                   list[tuple[int, int]]]:
    r = _run_dtc(["-q", "-I", "dts", "-O", "yaml"] + DTC_FLAGS + incs + [path])
    try:
        if r.returncode != 0:
            raise refs.RefsError(r.stderr.decode(errors="replace").strip()
                                 or f"exit status {r.returncode}")
        return refs.phandle_refs(r.stdout.decode(errors="replace"))
    except refs.RefsError as e:
        raise ManifestError([diagnostic(
            "error", "DTC", Location(path, 1), "",
            f"dtc's YAML output, read for the phandle references of the "
            f"device-tree overlays, is unreadable: {diag_text(str(e))}")])


def diag_text(text: str) -> str:
    return text if len(text) <= 200 else text[:200] + "..."
