"""What a partition is as an FF-A endpoint: the messaging methods it declares
(`messaging-method`), whom it may notify (`notify`), who schedules it
(`scheduler`) and its place in the boot order (`boot-order`,
`ready-timeout-ms`). Parsed with the partition; checked here against the
`messaging` and `notify` permissions once every partition is known. The
declaration is the only source of a partition's FF-A properties: one that
takes part in messaging must write it."""
from typing import Optional

from .diag import Reporter
from .model import Manifest, Partition
from .reader import Reader
from .source import Node, SourceTree

# messaging-method words -> FF-A partition information property bits
METHOD_WORDS = {
    "direct-req-recv": 1 << 0,
    "direct-req-send": 1 << 1,
    "indirect": 1 << 2,
    "notification": 1 << 3,
    "direct-req2-recv": 1 << 9,
    "direct-req2-send": 1 << 10,
}
SENDS = METHOD_WORDS["direct-req-send"] | METHOD_WORDS["direct-req2-send"] | \
    METHOD_WORDS["indirect"]
RECEIVES = METHOD_WORDS["direct-req-recv"] | METHOD_WORDS["direct-req2-recv"] | \
    METHOD_WORDS["indirect"]
NOTIFICATION = METHOD_WORDS["notification"]
# (sender's bit, receiver's bit) of each way to deliver a message
WAYS = ((METHOD_WORDS["direct-req-send"], METHOD_WORDS["direct-req-recv"]),
        (METHOD_WORDS["direct-req2-send"], METHOD_WORDS["direct-req2-recv"]),
        (METHOD_WORDS["indirect"], METHOD_WORDS["indirect"]))
READY_TIMEOUT_DEFAULT_MS = 5000
READY_TIMEOUT_MAX_MS = 600000
BOOT_ORDER_NONE = 0  # in the tables: 0 = none, else boot-order + 1


def _q(p: Partition) -> str:
    return f"\"{p.name}\""


def words(bits: int) -> str:
    """The messaging-method words of `bits`, as a manifest would list them."""
    return ", ".join(w for w, b in METHOD_WORDS.items() if bits & b) or "none"


def declaration(bits: int) -> str:
    """`bits` as a manifest line: messaging-method = "...", "...";"""
    return "messaging-method = " + ", ".join(
        f"\"{w}\"" for w, b in METHOD_WORDS.items() if bits & b) + ";"


def parse_methods(r: Reader, node: Node, rep: Reporter) -> Optional[int]:
    """The property bits `messaging-method` declares, or None if absent (a
    value of the wrong type is reported by the reader and declares 0)."""
    values = r.strings("messaging-method", required=False)
    if values is None:
        return 0 if "messaging-method" in node.props else None
    bits = 0
    for word in values:
        if word not in METHOD_WORDS:
            rep.error("MSG-METHOD-WORD", r.loc("messaging-method"), node.path,
                      f"messaging-method word \"{word}\" is not one of "
                      f"{', '.join(METHOD_WORDS)}")
        elif bits & METHOD_WORDS[word]:
            rep.error("MSG-METHOD-WORD", r.loc("messaging-method"), node.path,
                      f"messaging-method word \"{word}\" is given twice")
        else:
            bits |= METHOD_WORDS[word]
    return bits


def resolve_refs(tree: SourceTree, partitions: list[Partition],
                 by_phandle: dict, rep: Reporter) -> None:
    """`notify` and `scheduler` name partitions by phandle."""
    for p in partitions:
        for prop, refs, out in (("notify", p.notify_refs, p.notify),
                                ("scheduler", p.scheduler_refs, None)):
            targets = []
            for ph in refs:
                target = by_phandle.get(ph)
                if target is None:
                    node = tree.by_phandle.get(ph)
                    desc = f"node {node.path}" if node else f"phandle {ph:#x}"
                    rep.error("PHANDLE-BAD", tree.loc(p.path, prop), p.path,
                              f"'{prop}' refers to {desc}, which is not a "
                              "partition")
                else:
                    targets.append(target)
            if out is not None:
                out.extend(targets)
            elif len(refs) > 1:
                rep.error("SCHEDULER", tree.loc(p.path, prop), p.path,
                          f"partition {_q(p)} names {len(refs)} schedulers; "
                          "'scheduler' is one partition")
            elif targets:
                p.scheduler = targets[0]


def _names(ps: list[Partition]) -> str:
    return ", ".join(_q(p) for p in ps)


def _check_declared(m: Manifest, rep: Reporter) -> None:
    """Every partition that takes part in FF-A messaging says what it is:
    one that may message others, that others may message, or that others
    may notify. (Sending notifications has no partition property: a
    partition that only notifies needs no declaration.)"""
    for p in m.partitions:
        if p.messaging_methods is not None:
            continue
        targets = [t for i, t in enumerate(p.messaging)
                   if t is not p and all(u is not t for u in p.messaging[:i])]
        senders = [q for q in m.partitions
                   if q is not p and any(t is p for t in q.messaging)]
        notifiers = [q for q in m.partitions
                     if q is not p and any(t is p for t in q.notify)]
        uses = []
        bits = 0
        if targets:
            uses.append(f"it may send messages to {_names(targets)} "
                        "('messaging')")
            bits |= SENDS
        if senders:
            uses.append(f"it is the target of messages from {_names(senders)} "
                        "('messaging')")
            bits |= RECEIVES
        if notifiers:
            uses.append(f"it is the target of notifications from "
                        f"{_names(notifiers)} ('notify')")
            bits |= NOTIFICATION
        if uses:
            rep.error("MSG-METHOD-MISSING", p.loc, p.path,
                      f"partition {_q(p)} takes part in FF-A messaging but "
                      f"declares no messaging-method: {'; '.join(uses)}; add "
                      f"{declaration(bits)} (every method its permissions "
                      "allow), or the part of it that it uses")


def _check_pairs(m: Manifest, rep: Reporter) -> None:
    """Each permission against both declarations (a partition that declares
    nothing has its MSG-METHOD-MISSING already)."""
    for p in m.partitions:
        for t in p.messaging:
            if t is p or p.messaging_methods is None or \
                    t.messaging_methods is None or \
                    any(p.ffa_properties & s and t.ffa_properties & r
                        for s, r in WAYS):
                continue
            rep.error("MSG-METHOD", t.where("messaging-method"), t.path,
                      f"partition {_q(p)} may message {_q(t)} ('messaging') but "
                      f"they declare no method in common: {_q(p)} declares "
                      f"{words(p.ffa_properties)}, {_q(t)} declares "
                      f"{words(t.ffa_properties)}; a partition cannot be allowed "
                      "to receive what it does not declare")
        seen: set[int] = set()
        for t in p.notify:
            if t is p:
                rep.error("NOTIFY-TARGET", p.where("notify"), p.path,
                          f"partition {_q(p)} lists itself in 'notify'")
            elif id(t) in seen:
                rep.error("NOTIFY-TARGET", p.where("notify"), p.path,
                          f"partition {_q(p)} lists {_q(t)} twice in 'notify'")
            elif t.messaging_methods is not None and \
                    not t.ffa_properties & NOTIFICATION:
                rep.error("NOTIFY-TARGET", p.where("notify"), p.path,
                          f"partition {_q(p)} may notify {_q(t)} ('notify'), but "
                          f"{_q(t)} does not declare \"notification\" in its "
                          f"messaging-method ({words(t.ffa_properties)})")
            seen.add(id(t))
        if p.scheduler is not None and not p.ffa_properties & NOTIFICATION:
            rep.error("SCHEDULER", p.where("scheduler"), p.path,
                      f"partition {_q(p)} names scheduler {_q(p.scheduler)} "
                      "but declares no \"notification\": nothing to schedule it "
                      "for")
        elif p.scheduler is p:
            rep.error("SCHEDULER", p.where("scheduler"), p.path,
                      f"partition {_q(p)} names itself as its scheduler; leave "
                      "'scheduler' out for that")


def _check_boot_order(m: Manifest, rep: Reporter) -> None:
    first: dict[int, Partition] = {}
    for p in m.partitions:
        if p.boot_order is not None:
            other = first.setdefault(p.boot_order, p)
            if other is not p:
                rep.error("BOOT-ORDER", p.where("boot-order"), p.path,
                          f"partitions {_q(other)} and {_q(p)} both have "
                          f"boot-order <{p.boot_order}>; each place in the order "
                          "is one partition's")
            elif p.boot_order >= 0xffff:
                rep.error("BOOT-ORDER", p.where("boot-order"), p.path,
                          f"boot-order <{p.boot_order}> of {_q(p)} is above "
                          "65534")
        if p.ready_timeout_ms is not None and p.boot_order is None:
            rep.error("READY-TIMEOUT", p.where("ready-timeout-ms"), p.path,
                      f"partition {_q(p)} has ready-timeout-ms but no "
                      "boot-order: only a partition in the boot order is waited "
                      "for")
        elif p.ready_timeout_ms is not None and not (
                0 < p.ready_timeout_ms <= READY_TIMEOUT_MAX_MS):
            rep.error("READY-TIMEOUT", p.where("ready-timeout-ms"), p.path,
                      f"ready-timeout-ms <{p.ready_timeout_ms}> of {_q(p)} is "
                      f"not in 1..{READY_TIMEOUT_MAX_MS}")


def check(m: Manifest, rep: Reporter) -> None:
    _check_declared(m, rep)
    _check_pairs(m, rep)
    _check_boot_order(m, rep)


def table_fields(p: Partition) -> list[str]:
    """The partition's entries of struct manifest_partition (emit.py)."""
    timeout = p.ready_timeout_ms or READY_TIMEOUT_DEFAULT_MS
    order = BOOT_ORDER_NONE if p.boot_order is None else p.boot_order + 1
    return [
        f"\t\t\t.ffa_properties = {p.ffa_properties:#x},",
        f"\t\t\t.notify_count = {len(p.notify)},",
        "\t\t\t.notify = {" + (", ".join(str(t.id) for t in p.notify) or "0")
        + "},",
        f"\t\t\t.scheduler = {(p.scheduler or p).id},",
        f"\t\t\t.boot_order = {order},",
        f"\t\t\t.ready_timeout_ms = {timeout},",
    ]
