"""Writing device-tree source: values and nodes, escaped so that any input
text compiles to exactly its bytes."""
from dataclasses import dataclass, field
from typing import Optional, Union

Value = Union[None, str, list[str], list[int], bytes, "Cells", "Ref"]


@dataclass(frozen=True)
class Ref:
    """A phandle reference to a labelled node of the generated tree."""
    label: str


@dataclass(frozen=True)
class Cells:
    """Numbers written as cells: each `width` cells wide (1, or 2 for
    64-bit addresses), `group` of them per <...>, in hex or decimal."""
    values: tuple[int, ...]
    width: int = 1
    group: int = 0  # 0: all in one <...>
    hex: bool = True


def addresses(*values: int, group: int = 2) -> Cells:
    """64-bit addresses and sizes, two cells each, `group` per <...>."""
    return Cells(tuple(values), width=2, group=group)


def numbers(*values: int, group: int = 0) -> Cells:
    """Small numbers in decimal."""
    return Cells(tuple(values), group=group, hex=False)


@dataclass
class DtsNode:
    name: str
    label: str = ""
    props: list[tuple[str, Value]] = field(default_factory=list)
    children: list["DtsNode"] = field(default_factory=list)
    raw_props: list[str] = field(default_factory=list)  # already written

    def prop(self, name: str, value: Value = None) -> "DtsNode":
        self.props.append((name, value))
        return self

    def child(self, node: "DtsNode") -> "DtsNode":
        self.children.append(node)
        return node


def string(data: Union[str, bytes]) -> str:
    """A DTS string literal of the bytes (printable ASCII as is, the rest
    as \\x escapes)."""
    raw = data.encode("utf-8", errors="surrogateescape") if isinstance(data, str) else data
    out = []
    for b in raw:
        c = chr(b)
        if c in '\\"':
            out.append("\\" + c)
        elif 0x20 <= b < 0x7F:
            out.append(c)
        else:
            out.append(f"\\x{b:02x}")
    return '"' + "".join(out) + '"'


def cells(values: list[int], hex_: bool = True) -> str:
    return "<" + " ".join(f"{v:#x}" if hex_ else str(v) for v in values) + ">"


def _cells_text(c: Cells) -> str:
    words = [w for v in c.values for w in (split64(v) if c.width == 2 else [v])]
    per = (c.group * c.width) or len(words)
    return ", ".join(cells(words[i:i + per], c.hex) for i in range(0, len(words), per))


def byte_list(data: bytes) -> str:
    return "[" + " ".join(f"{b:02x}" for b in data) + "]"


def split64(value: int) -> list[int]:
    return [value >> 32, value & 0xFFFFFFFF]


def value_text(value: Value) -> str:
    if isinstance(value, Ref):
        return f"<&{value.label}>"
    if isinstance(value, Cells):
        return _cells_text(value)
    if isinstance(value, str):
        return string(value)
    if isinstance(value, bytes):
        return byte_list(value)
    if isinstance(value, list) and value and isinstance(value[0], str):
        return ", ".join(string(v) for v in value)
    if isinstance(value, list):
        return cells(value, hex_=False)
    raise TypeError(f"no DTS form for {value!r}")


def render(node: DtsNode) -> list[str]:
    """The node's source lines (the root is named "/"); iterative, so any
    depth of nesting is written."""
    lines: list[str] = []
    # (node, depth): open that node; (None, depth): close the node at depth
    stack: list[tuple[Optional[DtsNode], int]] = [(node, 0)]
    while stack:
        item, depth = stack.pop()
        tab = "\t" * depth
        if item is None:
            lines.append(f"{tab}}};")
            continue
        if depth:
            lines.append("")
        head = f"{item.label}: " if item.label else ""
        lines.append(f"{tab}{head}{item.name} {{")
        for name, value in item.props:
            lines.append(f"{tab}\t{name};" if value is None
                         else f"{tab}\t{name} = {value_text(value)};")
        lines += [f"{tab}\t{p}" for p in item.raw_props]
        stack.append((None, depth))
        for child in reversed(item.children):
            stack.append((child, depth + 1))
    return lines


def unit(name: str, address: int) -> str:
    """`name@address` with the unit address as DT writes it."""
    return f"{name}@{address:x}"
