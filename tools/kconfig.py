#!/usr/bin/env python3
"""Thin front end over kconfiglib for the Kconfig operations the Makefile
needs and Debian's kconfiglib has no command for.

usage: kconfig.py KCONFIG CONFIG {defconfig FILE|olddefconfig|savedefconfig OUT|
                                  genheader OUT|merge BASE FRAGMENT...}

merge: BASE (a defconfig) with each FRAGMENT's assignments on top; fails
when Kconfig does not give a symbol the value a fragment asks for (out of
range, unknown symbol, unmet dependency).
"""
import re
import sys

import kconfiglib

ASSIGNMENT_RE = re.compile(r"^(?:CONFIG_(\w+)=(.*)|# CONFIG_(\w+) is not set)$")


def assignments(path: str) -> list[tuple[str, str, int]]:
    """(symbol, value as Kconfig prints it, line) of every assignment."""
    out = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            m = ASSIGNMENT_RE.match(line.strip())
            if m and m.group(1):
                out.append((m.group(1), m.group(2).strip('"'), number))
            elif m:
                out.append((m.group(3), "n", number))
    return out


def merge(kconf: kconfiglib.Kconfig, base: str, fragments: list[str]) -> list[str]:
    """Loads base and fragments (a later assignment wins); returns the
    assignments that did not take."""
    kconf.load_config(base)
    wanted: dict[str, tuple[str, str]] = {}
    for fragment in fragments:
        kconf.load_config(fragment, replace=False)
        for name, value, line in assignments(fragment):
            wanted[name] = (value, f"{fragment}:{line}")
    errors = []
    for name, (value, where) in wanted.items():
        sym = kconf.syms.get(name)
        got = sym.str_value if sym is not None and sym.nodes else None
        if got != value:
            why = "no such symbol" if got is None else f"Kconfig gives {got}"
            errors.append(f"{where}: CONFIG_{name}={value}: {why}")
    return errors


def main(argv: list[str]) -> int:
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    kconfig, config, op = argv[1], argv[2], argv[3]
    kconf = kconfiglib.Kconfig(kconfig, warn_to_stderr=True)
    if op == "defconfig":
        kconf.load_config(argv[4])
        print(kconf.write_config(config, save_old=False))
    elif op == "olddefconfig":
        kconf.load_config(config)
        print(kconf.write_config(config, save_old=False))
    elif op == "savedefconfig":
        kconf.load_config(config)
        print(kconf.write_min_config(argv[4]))
    elif op == "merge" and len(argv) > 5:
        errors = merge(kconf, argv[4], argv[5:])
        for e in errors:
            print(e, file=sys.stderr)
        if errors:
            return 1
        print(kconf.write_config(config, save_old=False))
    elif op == "genheader":
        kconf.load_config(config)
        print(kconf.write_autoconf(argv[4]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
