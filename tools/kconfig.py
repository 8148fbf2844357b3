#!/usr/bin/env python3
"""Thin front end over kconfiglib for the Kconfig operations the Makefile
needs and Debian's kconfiglib has no command for.

usage: kconfig.py KCONFIG CONFIG {defconfig FILE|olddefconfig|savedefconfig OUT|
                                  genheader OUT}
"""
import sys

import kconfiglib


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
    elif op == "genheader":
        kconf.load_config(config)
        print(kconf.write_autoconf(argv[4]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
