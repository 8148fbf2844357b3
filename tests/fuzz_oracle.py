"""What must hold for every manifest the compiler accepts, judged from its
outputs alone (memory map, tables, linker fragment): the tables hold all
of the manifest, the memory map has no overlap, no wrap, nothing over the
hypervisor's memory or the GIC, no CPU twice, the memory-transaction
quotas fit the table, and each partition's blobs lie in its own RAM
without overlapping, with x0 pointing at its device tree."""
import json
import re
from dataclasses import dataclass

U64 = 1 << 64
IPA_LIMIT = 1 << 39  # what a partition can see (stage 2)
HYP_VA_LIMIT = 1 << 32  # what the hypervisor reaches
PARTITION_KINDS = {"ram", "device", "shared", "console"}


@dataclass(frozen=True)
class Thing:
    """One object of the memory map (a shared region once, not per member)."""
    kind: str
    owner: str
    name: str
    base: int
    size: int

    @property
    def end(self) -> int:
        return self.base + self.size

    def __str__(self) -> str:
        return f"{self.kind} {self.owner}/{self.name} [{self.base:#x}, {self.end:#x})"


def _things(regions: list[dict]) -> list[Thing]:
    seen = set()
    out = []
    for e in regions:
        owner = "*" if e["kind"] == "shared" else e["owner"]
        t = Thing(e["kind"], owner, e.get("name", ""), e["base"], e["size"])
        if t not in seen:
            seen.add(t)
            out.append(t)
    return out


def _may_overlap(a: Thing, b: Thing) -> bool:
    """Consoles are emulated: one may sit on the hypervisor's UART, on
    another partition's console or on another partition's device."""
    for x, y in ((a, b), (b, a)):
        if x.kind == "console":
            if y.kind == "console":
                return True
            if y.kind == "hypervisor-device" and y.name == "uart":
                return True
            if y.kind == "device" and y.owner != x.owner:
                return True
    return False


def _load_problems(mm: dict) -> list[str]:
    out: list[str] = []
    for p in mm["partitions"]:
        ram = [(e["base"], e["base"] + e["size"]) for e in mm["regions"]
               if e["kind"] == "ram" and e["owner"] == p["name"]]
        loads = sorted(p["loads"], key=lambda l: l["ipa"])
        for l in loads:
            if not any(b <= l["ipa"] and l["ipa"] + l["size"] <= e for b, e in ram):
                out.append(f"{p['name']}'s {l['what']} at {l['ipa']:#x} is not in its RAM")
        for a, b in zip(loads, loads[1:]):
            if b["ipa"] < a["ipa"] + a["size"]:
                out.append(f"{p['name']}'s {a['what']} and {b['what']} overlap")
        dts = [l["ipa"] for l in loads if l["what"] == "device tree"]
        if dts != [p["boot_arg"]]:
            out.append(f"{p['name']}'s x0 {p['boot_arg']:#x} is not its device tree {dts}")
        if not any(b <= p["entry"] < e for b, e in ram):
            out.append(f"{p['name']}'s entry {p['entry']:#x} is not in its RAM")
    return out


def problems(outputs: dict[str, str], mem_max_transactions: int) -> list[str]:
    """Everything wrong with one accepted manifest's outputs."""
    out: list[str] = []
    mm = json.loads(outputs["memmap.json"])
    json.loads(outputs["layout.json"])
    things = _things(mm["regions"])
    for t in things:
        if t.size <= 0:
            out.append(f"{t} is empty")
        if t.end > U64:
            out.append(f"{t} wraps past 2^64")
        if t.kind in PARTITION_KINDS and t.end > IPA_LIMIT:
            out.append(f"{t} is beyond the 39-bit IPA space")
        if t.kind in ("hypervisor", "payload", "ram", "shared") and t.end > HYP_VA_LIMIT:
            out.append(f"{t} is beyond the hypervisor's 4 GiB")
    ordered = sorted(things, key=lambda t: (t.base, t.end))
    for i, a in enumerate(ordered):
        for b in ordered[i + 1:]:
            if b.base >= a.end:
                break
            if not _may_overlap(a, b):
                out.append(f"{a} overlaps {b}")
    out += _load_problems(mm)
    cpus = [c for p in mm["partitions"] for c in p["cpus"]]
    if len(cpus) != len(set(cpus)):
        out.append(f"a physical CPU is given twice: {sorted(cpus)}")
    quotas = sum(p["mem_transactions"] for p in mm["partitions"])
    if quotas > mem_max_transactions:
        out.append(f"memory-transaction quotas {quotas} > {mem_max_transactions}")
    tables = outputs["manifest_tables.c"]
    counts = {k: sum(int(v) for v in re.findall(rf"\.{k} = (\d+),", tables))
              for k in ("device_count", "mem_count")}
    devices = sum(1 for e in mm["regions"] if e["kind"] == "device")
    rams = sum(1 for e in mm["regions"] if e["kind"] == "ram")
    if counts["device_count"] != devices:
        out.append(f"tables hold {counts['device_count']} device regions, the "
                   f"memory map shows {devices}")
    if counts["mem_count"] != rams:
        out.append(f"tables hold {counts['mem_count']} RAM regions, the memory "
                   f"map shows {rams}")
    if "error[HYP-TOO-SMALL]" not in outputs["hyp.ld"]:
        out.append("hyp.ld has no size check")
    return out
