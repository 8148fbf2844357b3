"""Checks on address regions shared by the board and the manifest rules."""
from typing import Iterable, Optional

from .diag import Reporter
from .model import PAGE_SIZE, Region

U64_LIMIT = 1 << 64


def check_shape(rep: Reporter, node: str, what: str, r: Region) -> bool:
    """Non-empty and page aligned (MEM-EMPTY, MEM-ALIGN)."""
    ok = True
    if r.size == 0:
        rep.error("MEM-EMPTY", r.loc, node, f"{what} at {r.base:#x} has size 0")
        ok = False
    if r.base % PAGE_SIZE or r.size % PAGE_SIZE:
        rep.error("MEM-ALIGN", r.loc, node,
                  f"{what} {r} (size {r.size:#x}) is not 4 KiB aligned; "
                  "base and size must be multiples of 0x1000")
        ok = False
    return ok


def beyond(r: Region, limit: int, space: str) -> Optional[str]:
    """Why `r` is not inside [0, limit), or None."""
    if r.end > U64_LIMIT:
        return (f"base {r.base:#x} + size {r.size:#x} wraps past 2^64")
    if r.end > limit:
        return f"it ends at {r.end:#x}, beyond the {space} (which ends at {limit:#x})"
    return None


def check_overlaps(rep: Reporter, rule: str,
                   items: list[tuple[Region, str, str]]) -> None:
    """items: (region, description, node path). Reports each overlapping pair
    once, against the region that reaches furthest so far (sweep by base)."""
    # board-owned regions first, so the error names the manifest's region
    items = sorted(items, key=lambda t: (t[0].base, t[0].end,
                                         t[2].startswith("/bulkhead"), t[1]))
    reach: Optional[tuple[Region, str, str]] = None
    for item in items:
        region, desc, node = item
        if reach is not None and region.base < reach[0].end and region.size:
            amount = min(region.end, reach[0].end) - region.base
            rep.error(rule, region.loc, node,
                      f"{desc} {region} overlaps {reach[1]} {reach[0]} by "
                      f"{amount:#x} bytes")
        if reach is None or region.end > reach[0].end:
            reach = item


def inside_any(r: Region, spaces: Iterable[Region]) -> bool:
    return any(s.contains(r) for s in spaces)
