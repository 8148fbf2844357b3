#!/usr/bin/python3
"""Checks that a kernel .config holds every setting of a configuration
fragment. Kconfig drops a symbol whose dependencies are not met without a
word (allnoconfig with KCONFIG_ALLCONFIG does): this makes that an error.

    kconfig_check.py FRAGMENT DOTCONFIG

A fragment line is `CONFIG_X=value` or `# CONFIG_X is not set`; other
comments and blank lines are skipped. Exit status 1 lists each setting
the .config does not have, with the value it has instead.
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass

_SET = re.compile(r"^(CONFIG_[A-Za-z0-9_]+)=(.*)$")
_UNSET = re.compile(r"^# (CONFIG_[A-Za-z0-9_]+) is not set$")
NOT_SET = "is not set"


class ConfigError(Exception):
    """A malformed line or an unreadable file."""


@dataclass(frozen=True)
class Setting:
    symbol: str
    value: str  # NOT_SET for "# CONFIG_X is not set"
    line: int


def parse(text: str, name: str, strict: bool) -> list[Setting]:
    """Settings of a fragment (strict: every line must be a setting, a
    comment or blank) or of a .config."""
    out = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        m = _SET.match(line)
        if m:
            out.append(Setting(m.group(1), m.group(2), n))
            continue
        m = _UNSET.match(line)
        if m:
            out.append(Setting(m.group(1), NOT_SET, n))
            continue
        if strict and line and not line.startswith("#"):
            raise ConfigError(f"{name}:{n}: not a Kconfig setting: {raw!r}")
    return out


def mismatches(fragment: list[Setting], config: list[Setting]) -> list[str]:
    have = {s.symbol: s.value for s in config}
    errors = []
    for want in fragment:
        got = have.get(want.symbol, NOT_SET)
        if got != want.value:
            errors.append(f"line {want.line}: {want.symbol} wanted {want.value}, the .config has {got}")
    return errors


def read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: {e}") from e


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.split("\n\n")[1].strip(), file=sys.stderr)
        return 2
    fragment_path, config_path = argv
    try:
        fragment = parse(read(fragment_path), fragment_path, strict=True)
        config = parse(read(config_path), config_path, strict=False)
    except ConfigError as e:
        print(f"kconfig-check: error: {e}", file=sys.stderr)
        return 1
    errors = mismatches(fragment, config)
    for e in errors:
        print(f"kconfig-check: {fragment_path}: {e}", file=sys.stderr)
    if errors:
        print(f"kconfig-check: {config_path} lacks {len(errors)} setting(s) of {fragment_path} "
              "(a dependency not met, or a symbol this kernel does not have)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
