#!/usr/bin/env python3
"""`make symbolize LOG=file`: names the addresses of a saved panic report.

Each backtrace line the hypervisor printed ("  #N 0xADDRESS ...") and the
pc/x30 of a register dump are mapped with addr2line on the hypervisor's
ELF (function, inlined callers, file:line); the rest of the log is copied
unchanged.
"""
import argparse
import re
import subprocess
import sys
from dataclasses import dataclass

FRAME_RE = re.compile(r"^(?P<head>.*?#(?P<index>\d+)\s+)0x(?P<addr>[0-9a-fA-F]+)(?P<rest>.*)$")
PC_RE = re.compile(r"x30 (?P<lr>[0-9a-f]{16})\s+pc\s+(?P<pc>[0-9a-f]{16})")


@dataclass
class Location:
    function: str
    place: str  # file:line


def locate(addr2line: str, elf: str, addrs: list[int]) -> dict[int, list[Location]]:
    """addr2line -f -i: for each address, the function and its inlined
    callers, innermost first."""
    if not addrs:
        return {}
    marker = 0  # an address between queries shows where each answer ends
    query = []
    for a in addrs:
        query += [f"{a:#x}", f"{marker:#x}"]
    out = subprocess.run([addr2line, "-f", "-i", "-C", "-e", elf] + query,
                         capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()
    result: dict[int, list[Location]] = {}
    pos = 0
    for a in addrs:
        locs = []
        while pos + 1 < len(lines):
            fn, place = lines[pos], lines[pos + 1]
            pos += 2
            if fn == "??" and place.startswith("??:"):
                if locs or a == marker:
                    break
                locs.append(Location("??", "??"))
                # the marker's own answer follows
                pos += 2
                break
            locs.append(Location(fn, place))
        result[a] = locs
    return result


def symbolize(log: list[str], addr2line: str, elf: str) -> list[str]:
    addrs = []
    for line in log:
        m = FRAME_RE.match(line)
        if m:
            addrs.append(int(m.group("addr"), 16))
        m = PC_RE.search(line)
        if m:
            addrs += [int(m.group("pc"), 16), int(m.group("lr"), 16)]
    where = locate(addr2line, elf, sorted(set(addrs)))

    def describe(addr: int) -> str:
        locs = [l for l in where.get(addr, []) if l.function != "??"]
        if not locs:
            return "?"
        return " inlined into ".join(f"{l.function} ({l.place})" for l in locs)

    out = []
    for line in log:
        out.append(line)
        m = FRAME_RE.match(line)
        if m:
            out[-1] = (f"{m.group('head')}0x{m.group('addr')}{m.group('rest')}"
                       f"  at {describe(int(m.group('addr'), 16))}")
            continue
        m = PC_RE.search(line)
        if m:
            out.append(f"    pc  at {describe(int(m.group('pc'), 16))}")
            out.append(f"    x30 at {describe(int(m.group('lr'), 16))}")
    return out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--elf", required=True)
    ap.add_argument("--addr2line", default="aarch64-linux-gnu-addr2line")
    ap.add_argument("log")
    args = ap.parse_args(argv)
    try:
        with open(args.log, encoding="utf-8", errors="replace") as f:
            log = [l.rstrip("\r\n") for l in f]
        for line in symbolize(log, args.addr2line, args.elf):
            print(line)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"symbolize: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
