"""Phandle references in a manifest: which property cells are `<&label>`.

A DTB keeps only the numbers; dtc's DTS output prints them as numbers too.
Its YAML output tags each reference `!phandle`, so that is read here (for
the checks of device-tree overlays, which must not refer to manifest
nodes). Keys and scalars are read as plain text (no YAML 1.1 booleans or
numbers): node and property names stay as written.
"""
from typing import Any

import yaml

PHANDLE_TAG = "phandle"


class _Tagged:
    """A tagged YAML value (`!phandle 0x1`, `!u8 [...]`)."""

    def __init__(self, tag: str, value: Any):
        self.tag, self.value = tag, value


class _Loader(yaml.BaseLoader):  # pylint: disable=too-many-ancestors
    pass


def _tagged(loader: _Loader, suffix: str, node: yaml.Node) -> _Tagged:
    if isinstance(node, yaml.ScalarNode):
        return _Tagged(suffix, loader.construct_scalar(node))
    if isinstance(node, yaml.SequenceNode):
        return _Tagged(suffix, loader.construct_sequence(node, deep=True))
    return _Tagged(suffix, None)


_Loader.add_multi_constructor("!", _tagged)


class RefsError(Exception):
    """dtc's YAML output could not be read."""


WIDTHS = {"u8": 1, "u16": 2, "u64": 8}


def _phandles(value: Any) -> list[tuple[int, int]]:
    """(byte offset, phandle) of each reference in a property value as
    dtc's YAML gives it: a list of strings, cell lists (32-bit; a
    reference is a tagged cell) and tagged lists of other widths."""
    out: list[tuple[int, int]] = []
    offset = 0
    if not isinstance(value, list):
        return out  # an empty property ("true")
    for item in value:
        if isinstance(item, str):
            try:
                offset += len(item.encode("latin-1")) + 1
            except UnicodeEncodeError as e:
                raise RefsError(f"string {item[:20]!r}") from e
        elif isinstance(item, _Tagged) and item.tag in WIDTHS:
            offset += WIDTHS[item.tag] * len(item.value or [])
        elif isinstance(item, list):
            for cell in item:
                if isinstance(cell, _Tagged) and cell.tag == PHANDLE_TAG:
                    try:
                        out.append((offset, int(cell.value, 0)))
                    except (TypeError, ValueError) as e:
                        raise RefsError(f"phandle {cell.value!r}") from e
                offset += 4
        else:
            raise RefsError(f"value item {item!r}")
    return out


def phandle_refs(yaml_text: str) -> dict[tuple[str, str], list[tuple[int, int]]]:
    """(node path, property) -> (byte offset, phandle) of each reference in
    its value, for every property that holds any."""
    try:
        docs = yaml.load(yaml_text, Loader=_Loader)  # noqa: S506 (BaseLoader)
    except yaml.YAMLError as e:
        raise RefsError(str(e).splitlines()[0]) from e
    if not isinstance(docs, list) or len(docs) != 1 or not isinstance(docs[0], dict):
        raise RefsError("not one tree")
    out: dict[tuple[str, str], list[tuple[int, int]]] = {}
    pending: list[tuple[str, dict]] = [("/", docs[0])]
    while pending:
        path, node = pending.pop()
        for key, value in node.items():
            if isinstance(value, dict):
                pending.append(((path.rstrip("/") + "/" + str(key)), value))
                continue
            refs = _phandles(value)
            if refs:
                out[(path, str(key))] = refs
    return out
