"""Typed access to one node's properties, reporting schema errors.

A property must be written in the form its type needs: a number in cells
(`max-pages = <256>`), never as a string (`"256"` would read as the bytes
0x32353600), and a string in quotes, never as cells.
"""
from typing import Callable, Optional

from .diag import Location, Reporter
from .model import Region
from .source import Node, SourceTree


def show_bytes(data: bytes) -> str:
    """A property value for a message: its text when it is text."""
    if data.endswith(b"\0"):
        try:
            text = data[:-1].decode("utf-8")
            if text.isprintable():
                return ", ".join(f"\"{s}\"" for s in text.split("\0"))
        except UnicodeDecodeError:
            pass
    return "[" + " ".join(f"{b:02x}" for b in data[:32]) + (
        " ..." if len(data) > 32 else "") + "]"


class Reader:
    """Reads one node. `allowed`: the properties this node may have (others
    get a SCHEMA-UNKNOWN warning); None to accept any (board nodes)."""

    def __init__(self, tree: SourceTree, node: Node, rep: Reporter,
                 allowed: Optional[set[str]]):
        self.tree, self.node, self.rep = tree, node, rep
        if allowed is None:
            return
        for name in sorted(node.props):
            if name not in allowed:
                rep.warning("SCHEMA-UNKNOWN", tree.loc(node.path, name),
                            node.path,
                            f"unknown property '{name}' is ignored "
                            f"(known here: {', '.join(sorted(allowed - {'phandle'}))})")

    def loc(self, prop: Optional[str] = None) -> Optional[Location]:
        return self.tree.loc(self.node.path, prop)

    def has(self, prop: str) -> bool:
        return prop in self.node.props

    def _raw(self, prop: str, required: bool) -> Optional[bytes]:
        data = self.node.props.get(prop)
        if data is None and required:
            self.rep.error("SCHEMA-REQUIRED", self.loc(), self.node.path,
                           f"required property '{prop}' is missing")
        return data

    def type_error(self, prop: str, what: str) -> None:
        self.rep.error("SCHEMA-TYPE", self.loc(prop), self.node.path,
                       f"property '{prop}' must be {what}")

    def _numeric(self, prop: str, required: bool, example: str) -> Optional[bytes]:
        """The raw value of a property that holds numbers; None (and an
        error) when it was written as a string."""
        data = self._raw(prop, required)
        if data is None:
            return None
        if "string" in self.tree.kinds(self.node.path, prop):
            self.rep.error("SCHEMA-TYPE", self.loc(prop), self.node.path,
                           f"property '{prop}' is written as a string "
                           f"({show_bytes(data)}), which would be read as the "
                           f"bytes {data[:16].hex()}; write numbers in cells, "
                           f"like {prop} = {example};")
            return None
        return data

    def cells(self, prop: str, required: bool = True) -> Optional[list[int]]:
        data = self._numeric(prop, required, "<1 2>")
        if data is None:
            return None
        if len(data) % 4 or not data:
            self.type_error(prop, "a non-empty list of 32-bit cells, like <1 2>")
            return None
        return [int.from_bytes(data[i:i + 4], "big")
                for i in range(0, len(data), 4)]

    def u32(self, prop: str, required: bool = True) -> Optional[int]:
        data = self._numeric(prop, required, "<1>")
        if data is None:
            return None
        if len(data) != 4:
            self.type_error(prop, "one 32-bit cell, like <1>")
            return None
        return int.from_bytes(data, "big")

    def u64(self, prop: str, required: bool = True) -> Optional[int]:
        data = self._numeric(prop, required, "<0x0 0x41000000>")
        if data is None:
            return None
        if len(data) != 8:
            self.type_error(prop, "one 64-bit address in two cells, "
                            "like <0x0 0x41000000>")
            return None
        return int.from_bytes(data, "big")

    def regions(self, prop: str, required: bool = True) -> Optional[list[Region]]:
        data = self._numeric(prop, required, "<0x0 0x41000000 0x0 0x1000>")
        if data is None:
            return None
        if not data or len(data) % 16:
            self.type_error(prop, "one or more <base-hi base-lo size-hi "
                            "size-lo> quadruples (64-bit base and size)")
            return None
        loc = self.loc(prop)
        return [Region(int.from_bytes(data[i:i + 8], "big"),
                       int.from_bytes(data[i + 8:i + 16], "big"), loc)
                for i in range(0, len(data), 16)]

    def flag(self, prop: str) -> bool:
        """A boolean property (`name;`): present and empty."""
        data = self.node.props.get(prop)
        if data is None:
            return False
        if data:
            self.type_error(prop, f"a flag without a value, like {prop};")
            return False
        return True

    def strings(self, prop: str, required: bool = True) -> Optional[list[str]]:
        data = self._raw(prop, required)
        if data is None:
            return None
        kinds = self.tree.kinds(self.node.path, prop)
        if kinds and kinds != {"string"}:
            self.type_error(prop, "text in quotes, like \"...\"; it is written "
                            f"as {' and '.join(sorted(kinds))}")
            return None
        if not data or data[-1] != 0:
            self.type_error(prop, "a string or a list of strings")
            return None
        try:
            return data[:-1].decode("utf-8").split("\0")
        except UnicodeDecodeError:
            self.type_error(prop, "UTF-8 text")
            return None

    def string(self, prop: str, required: bool = True) -> Optional[str]:
        values = self.strings(prop, required)
        if values is None:
            return None
        if len(values) != 1:
            self.type_error(prop, "a single string")
            return None
        return values[0]

    def phandles(self, prop: str, resolve: Callable[[int], Optional[object]],
                 what: str, required: bool = True) -> Optional[list]:
        values = self.cells(prop, required)
        if values is None:
            return None
        out = []
        for ph in values:
            target = resolve(ph)
            if target is None:
                node = self.tree.by_phandle.get(ph)
                desc = f"node {node.path}" if node else f"phandle {ph:#x}"
                self.rep.error("PHANDLE-BAD", self.loc(prop), self.node.path,
                               f"'{prop}' refers to {desc}, which is not {what}")
            else:
                out.append(target)
        return out
