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


def _phandles(value: Any) -> list[int]:
    out: list[int] = []
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, _Tagged):
            if v.tag == PHANDLE_TAG and isinstance(v.value, str):
                try:
                    out.append(int(v.value, 0))
                except ValueError as e:
                    raise RefsError(f"phandle {v.value!r}") from e
            elif isinstance(v.value, list):
                stack.extend(reversed(v.value))
        elif isinstance(v, list):
            stack.extend(reversed(v))
    return out


def phandle_refs(yaml_text: str) -> dict[tuple[str, str], list[int]]:
    """(node path, property) -> the phandles its value refers to, for every
    property that refers to any."""
    try:
        docs = yaml.load(yaml_text, Loader=_Loader)  # noqa: S506 (BaseLoader)
    except yaml.YAMLError as e:
        raise RefsError(str(e).splitlines()[0]) from e
    if not isinstance(docs, list) or len(docs) != 1 or not isinstance(docs[0], dict):
        raise RefsError("not one tree")
    out: dict[tuple[str, str], list[int]] = {}
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
