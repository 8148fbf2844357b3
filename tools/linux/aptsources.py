"""Reads the machine's apt sources (one-line and deb822 formats) and picks
the Debian mirrors for one release, so a private apt configuration can use
the same mirrors without touching /etc/apt."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

# apt reads only these names in sources.list.d (apt-pkg/sourcelist.cc).
_PART_NAME = re.compile(r"^[A-Za-z0-9_.-]+\.(list|sources)$")


class SourcesError(Exception):
    """A sources file that cannot be read or parsed; carries file and line."""


@dataclass(frozen=True)
class Source:
    """One `deb` entry: a mirror URI, one suite and its components."""
    uri: str
    suite: str
    components: tuple[str, ...]
    origin: str  # "file:line" where it was found


def _split_one_line(line: str, where: str) -> tuple[str, str, str, list[str]] | None:
    """`deb [opts] uri suite comp...` -> (type, uri, suite, comps)."""
    text = line.split("#", 1)[0].strip()
    if not text:
        return None
    kind, _, rest = text.partition(" ")
    rest = rest.strip()
    if rest.startswith("["):
        end = rest.find("]")
        if end < 0:
            raise SourcesError(f"{where}: unterminated '[' options")
        rest = rest[end + 1:].strip()
    words = rest.split()
    if len(words) < 2:
        raise SourcesError(f"{where}: expected 'URI SUITE [COMPONENT...]'")
    return kind, words[0], words[1], words[2:]


def parse_one_line(text: str, name: str) -> list[tuple[str, Source]]:
    """Entries of a one-line-format file, as (type, Source)."""
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        where = f"{name}:{number}"
        parsed = _split_one_line(line, where)
        if parsed is None:
            continue
        kind, uri, suite, comps = parsed
        out.append((kind, Source(uri, suite, tuple(comps), where)))
    return out


def _deb822_paragraphs(text: str, name: str) -> list[tuple[int, dict[str, str]]]:
    paragraphs: list[tuple[int, dict[str, str]]] = []
    fields: dict[str, str] = {}
    start = 0
    key = ""
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("#"):
            continue
        if not line.strip():
            if fields:
                paragraphs.append((start, fields))
            fields, key = {}, ""
            continue
        if line[0] in " \t":
            if not key:
                raise SourcesError(f"{name}:{number}: continuation line without a field")
            fields[key] += "\n" + line.strip()
            continue
        field, sep, value = line.partition(":")
        if not sep or not field.strip():
            raise SourcesError(f"{name}:{number}: expected 'Field: value'")
        if not fields:
            start = number
        key = field.strip().lower()
        fields[key] = value.strip()
    if fields:
        paragraphs.append((start, fields))
    return paragraphs


def parse_deb822(text: str, name: str) -> list[tuple[str, Source]]:
    """Entries of a deb822 `.sources` file, as (type, Source)."""
    out = []
    for start, fields in _deb822_paragraphs(text, name):
        where = f"{name}:{start}"
        if fields.get("enabled", "yes").strip().lower() in ("no", "false", "0"):
            continue
        types = fields.get("types", "").split()
        uris = fields.get("uris", "").split()
        suites = fields.get("suites", "").split()
        comps = tuple(fields.get("components", "").split())
        if not types or not uris or not suites:
            raise SourcesError(f"{where}: a paragraph needs Types, URIs and Suites")
        for kind in types:
            for uri in uris:
                for suite in suites:
                    out.append((kind, Source(uri, suite, comps, where)))
    return out


def read_machine_sources(etc_apt: str = "/etc/apt") -> list[Source]:
    """Every enabled binary (`deb`) entry in etc_apt's sources.list and
    sources.list.d/*.list|*.sources, in apt's reading order."""
    files = []
    main = os.path.join(etc_apt, "sources.list")
    if os.path.isfile(main):
        files.append(main)
    parts = os.path.join(etc_apt, "sources.list.d")
    if os.path.isdir(parts):
        files += [os.path.join(parts, n) for n in sorted(os.listdir(parts))
                  if _PART_NAME.match(n) and os.path.isfile(os.path.join(parts, n))]
    out = []
    for path in files:
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError) as e:
            raise SourcesError(f"{path}: cannot read: {e}") from e
        parse = parse_deb822 if path.endswith(".sources") else parse_one_line
        out += [src for kind, src in parse(text, path) if kind == "deb"]
    return out


def select_release(sources: list[Source], release: str, component: str = "main") -> list[Source]:
    """The entries for `release`, `release`-updates and `release`-security
    that carry `component`, reduced to that component, without duplicates.
    Raises SourcesError when the release itself has no mirror."""
    wanted = (release, f"{release}-updates", f"{release}-security")
    chosen: dict[tuple[str, str], Source] = {}
    for src in sources:
        if src.suite not in wanted or component not in src.components:
            continue
        if src.uri.startswith("cdrom:"):
            continue
        key = (src.uri.rstrip("/"), src.suite)
        chosen.setdefault(key, Source(src.uri, src.suite, (component,), src.origin))
    result = sorted(chosen.values(), key=lambda s: (wanted.index(s.suite), s.origin))
    if not any(s.suite == release for s in result):
        seen = ", ".join(sorted({s.suite for s in sources})) or "none"
        raise SourcesError(
            f"no apt source for Debian '{release}' with component '{component}' "
            f"(suites found: {seen}); give one with --sources FILE")
    return result


def render_sources_list(sources: list[Source], arch: str, keyring: str) -> str:
    """A one-line-format sources.list for the private configuration."""
    lines = []
    for src in sources:
        for word in (src.uri, src.suite, *src.components, keyring):
            if not word or any(c.isspace() or c in "[]#" for c in word):
                raise SourcesError(f"{src.origin}: cannot use {word!r} in a sources line")
        lines.append(f"deb [arch={arch} signed-by={keyring}] {src.uri} {src.suite} "
                     + " ".join(src.components))
    return "\n".join(lines) + "\n"
