"""Phandle references in a manifest: which property cells are `<&label>`.

A DTB keeps only the numbers; dtc's DTS output prints them as numbers too.
Its YAML output tags each reference `!phandle`, so that is read here (for
the checks of device-tree overlays, which must not refer to manifest
nodes). dtc writes one regular form, read line by line without recursion
(any depth of nesting):

    - '#address-cells': [[0x2]]        a property of the root
      node@1:                          a node: a key alone on its line
        reg: [[0x0, 0x1000], !u8 [0x1]]
        clocks: [[!phandle 0x1, 0x5], "text"]    (long values wrap)
        flag: true
"""
from dataclasses import dataclass
from typing import Optional

PHANDLE_TAG = "!phandle"
WIDTHS = {"!u8": 1, "!u16": 2, "!u64": 8}
INDENT = 2


class RefsError(Exception):
    """dtc's YAML output could not be read."""


@dataclass
class _Token:
    kind: str  # "[", "]", ",", "str", "tag", "scalar"
    text: str = ""
    size: int = 0  # bytes of a string (without its NUL)


def _string(text: str, i: int) -> tuple[_Token, int]:
    """The double-quoted string at text[i]; its size counts each escape as
    the one byte it stands for."""
    size = 0
    i += 1
    while i < len(text):
        c = text[i]
        if c == '"':
            return _Token("str", size=size), i + 1
        if c == "\\":
            nxt = text[i + 1:i + 2]
            i += {"x": 4, "u": 6, "U": 10}.get(nxt, 2)
        else:
            size += len(c.encode("utf-8"))
            i += 1
        size += 1 if c == "\\" else 0
    raise RefsError("string without its closing quote")


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "[],":
            out.append(_Token(c))
            i += 1
        elif c == '"':
            tok, i = _string(text, i)
            out.append(tok)
        else:
            j = i
            while j < len(text) and not text[j].isspace() and text[j] not in "[],":
                j += 1
            out.append(_Token("tag" if c == "!" else "scalar", text[i:j]))
            i = j
    return out


def _balanced(text: str) -> bool:
    depth = 0
    quoted = False
    escaped = False
    for c in text:
        if quoted:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                quoted = False
        elif c == '"':
            quoted = True
        elif c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
    return depth == 0 and not quoted


def value_refs(text: str) -> list[tuple[int, int]]:
    """(byte offset, phandle) of each reference in a property value as dtc
    writes it: `true`, or a list of strings, cell lists (32-bit; a
    reference is a tagged cell) and tagged lists of other widths."""
    if text == "true":
        return []
    toks = _tokens(text)
    if not toks or toks[0].kind != "[" or toks[-1].kind != "]":
        raise RefsError(f"value {text[:40]!r}")
    out: list[tuple[int, int]] = []
    offset = 0
    width = 0  # inside an inner list: bytes per element
    tag: Optional[str] = None
    for tok in toks[1:-1]:
        if tok.kind == "tag":
            tag = tok.text
        elif tok.kind == "[":
            width = WIDTHS.get(tag or "", 4)
            tag = None
        elif tok.kind == "]":
            width = 0
        elif tok.kind == "str" and not width:
            offset += tok.size + 1
        elif tok.kind == "scalar" and width:
            if tag == PHANDLE_TAG:
                try:
                    out.append((offset, int(tok.text, 0)))
                except ValueError as e:
                    raise RefsError(f"phandle {tok.text!r}") from e
            tag = None
            offset += width
        elif tok.kind != ",":
            raise RefsError(f"value {text[:40]!r}")
    return out


def _key(line: str) -> tuple[str, str]:
    """(key, rest after the colon) of a mapping line."""
    if line.startswith("'"):
        i = 1
        key = []
        while i < len(line):
            if line[i] == "'":
                if line[i + 1:i + 2] == "'":
                    key.append("'")
                    i += 2
                    continue
                break
            key.append(line[i])
            i += 1
        rest = line[i + 1:]
        if not rest.startswith(":"):
            raise RefsError(f"line {line[:40]!r}")
        return "".join(key), rest[1:].strip()
    key, sep, rest = line.partition(":")
    if not sep:
        raise RefsError(f"line {line[:40]!r}")
    return key, rest.strip()


def phandle_refs(yaml_text: str) -> dict[tuple[str, str], list[tuple[int, int]]]:
    """(node path, property) -> (byte offset, phandle) of each reference in
    its value, for every property that holds any."""
    out: dict[tuple[str, str], list[tuple[int, int]]] = {}
    nodes: list[str] = []  # names of the nodes open at each level
    pending: Optional[tuple[str, str, str]] = None  # (path, prop, value so far)
    for raw in yaml_text.splitlines():
        if raw in ("---", "...") or not raw.strip():
            continue
        if pending is not None:
            path, prop, value = pending
            pending = (path, prop, value + " " + raw.strip())
        else:
            line = raw
            if line.startswith("- "):
                line = "  " + line[2:]
            stripped = line.lstrip(" ")
            level = (len(line) - len(stripped)) // INDENT
            if level < 1:
                raise RefsError(f"line {raw[:40]!r}")
            key, rest = _key(stripped)
            del nodes[level - 1:]
            if not rest:
                nodes.append(key)
                continue
            path = "/" + "/".join(nodes)
            pending = (path, key, rest)
        path, prop, value = pending
        if _balanced(value):
            refs = value_refs(value)
            if refs:
                out[(path, prop)] = refs
            pending = None
    if pending is not None:
        raise RefsError("the output ends inside a value")
    return out
