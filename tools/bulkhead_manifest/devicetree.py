"""Each partition's device tree: what the partition may touch and nothing
else, for Linux (booting.rst, the DT bindings it reads) and for bare-metal
partitions alike (x0 at entry).

    memory@...      one per RAM region of the partition
    cpus/cpu@N      one per vCPU; reg = N, the vMPIDR Aff0 the vCPU sees
    psci            PSCI 1.0 over the manifest's conduit (psci-conduit)
    interrupt-controller@<GICD>   GICv3: the distributor (64 KiB) and the
                    redistributor frames of the partition's vCPUs (128 KiB
                    each) from the board's redistributor base; emulated
    timer           the architected timer; the virtual one is PPI 11 (27)
    clock-24000000, serial@<console>   the emulated PL011 console (with its
                    receive SPI, the board UART's) and its clock
    <device>@<base> each pass-through device: reg, interrupts, compatible
                    (the manifest's, else the board node's at that address),
                    dma-coherent
    chosen          bootargs, stdout-path, linux,initrd-start/-end
plus the manifest's overlay nodes. There is no FF-A node: Linux has no
device-tree binding for FF-A; its driver finds FF-A through SMCCC (version
1.2 or later, over the PSCI node's conduit).
"""
import os
import subprocess
import tempfile
from dataclasses import dataclass
from typing import Optional

from . import arch, dts, overlay
from .model import Manifest, Partition
from .source import SourceTree, dtc_command

TIMER_PPIS = [1, 13, 4, 1, 14, 4, 1, 11, 4, 1, 10, 4]  # sec, non-sec, virt, hyp
UART_CLOCK_HZ = 24000000
UART_SIZE = 0x1000
ROOT_PROPS = {"#address-cells", "#size-cells", "compatible", "model",
              "interrupt-parent"}
GIC_LABEL = "gic"
CLOCK_LABEL = "apb_pclk"
DTC_TIMEOUT = 60


@dataclass(frozen=True)
class Chosen:
    """What /chosen says besides the console."""
    initrd: Optional[tuple[int, int]] = None  # (start, end)


def _device_name(node_name: str, base: int) -> str:
    return dts.unit(node_name.split("@", 1)[0], base)


def generated_children(m: Manifest, p: Partition) -> list[str]:
    """Names of the root's children the compiler writes for p."""
    names = ["chosen"] + [dts.unit("memory", r.base) for r in p.memory]
    names += ["cpus", "psci", dts.unit("interrupt-controller", m.platform.gicd.base),
              "timer"]
    if p.console is not None:
        names += [f"clock-{UART_CLOCK_HZ}", dts.unit("serial", p.console)]
    names += [_device_name(d.name, d.regions[0].base) for d in p.devices if d.regions]
    return names


def build(m: Manifest, p: Partition, tree: Optional[SourceTree],
          chosen: Chosen) -> str:
    """The DTS text of p's device tree."""
    plat = m.platform
    root = dts.DtsNode("/")
    root.prop("#address-cells", [2]).prop("#size-cells", [2])
    root.prop("compatible", "bulkhead,partition")
    root.prop("model", f"Bulkhead partition {p.name}")
    root.prop("interrupt-parent", dts.Ref(GIC_LABEL))

    ch = root.child(dts.DtsNode("chosen"))
    if p.bootargs is not None:
        ch.prop("bootargs", p.bootargs)
    if p.console is not None:
        ch.prop("stdout-path", "/" + dts.unit("serial", p.console))
    if chosen.initrd is not None:
        ch.prop("linux,initrd-start", dts.addresses(chosen.initrd[0], group=1))
        ch.prop("linux,initrd-end", dts.addresses(chosen.initrd[1], group=1))

    for r in p.memory:
        root.child(dts.DtsNode(dts.unit("memory", r.base))
                   .prop("device_type", "memory")
                   .prop("reg", dts.addresses(r.base, r.size)))

    cpus = root.child(dts.DtsNode("cpus"))
    cpus.prop("#address-cells", [1]).prop("#size-cells", [0])
    for i in range(len(p.cpus)):
        cpus.child(dts.DtsNode(dts.unit("cpu", i))
                   .prop("device_type", "cpu").prop("compatible", "arm,armv8")
                   .prop("reg", [i]).prop("enable-method", "psci"))

    root.child(dts.DtsNode("psci")
               .prop("compatible", ["arm,psci-1.0", "arm,psci-0.2"])
               .prop("method", p.psci_conduit))

    gic = root.child(dts.DtsNode(dts.unit("interrupt-controller", plat.gicd.base),
                                 label=GIC_LABEL))
    gic.prop("compatible", "arm,gic-v3").prop("#interrupt-cells", [3])
    gic.prop("#address-cells", [0]).prop("interrupt-controller")
    gic.prop("reg", dts.addresses(plat.gicd.base, arch.GICD_SIZE, plat.gicr.base,
                                  arch.GICR_PER_CPU * len(p.cpus)))

    root.child(dts.DtsNode("timer").prop("compatible", "arm,armv8-timer")
               .prop("interrupts", dts.numbers(*TIMER_PPIS, group=3)))

    if p.console is not None:
        root.child(dts.DtsNode(f"clock-{UART_CLOCK_HZ}", label=CLOCK_LABEL)
                   .prop("compatible", "fixed-clock").prop("#clock-cells", [0])
                   .prop("clock-frequency", [UART_CLOCK_HZ])
                   .prop("clock-output-names", "apb_pclk"))
        root.child(dts.DtsNode(dts.unit("serial", p.console))
                   .prop("compatible", ["arm,pl011", "arm,primecell"])
                   .prop("reg", dts.addresses(p.console, UART_SIZE))
                   .prop("interrupts", dts.numbers(0, plat.uart_intid - 32,
                                                   plat.uart_irq_flags))
                   .prop("clocks", dts.Ref(CLOCK_LABEL))
                   .prop("clock-names", "apb_pclk"))

    for d in p.devices:
        if not d.regions:
            continue
        node = root.child(dts.DtsNode(_device_name(d.name, d.regions[0].base)))
        compatible = d.compatible if d.compatible is not None else (
            d.board.compatible if d.board is not None else [])
        if compatible:
            node.prop("compatible", compatible)
        node.prop("reg", dts.addresses(*(v for r in d.regions
                                         for v in (r.base, r.size))))
        if d.irq_specs:
            node.prop("interrupts", dts.numbers(*(c for s in d.irq_specs
                                                  for c in (s.kind, s.number, s.flags)),
                                                group=3))
        if d.dma_coherent or (d.board is not None and d.board.dma_coherent):
            node.prop("dma-coherent")

    if p.overlay is not None and tree is not None:
        props, children = overlay.render(tree, p.overlay)
        root.raw_props += props
        root.children += children

    head = [f"/* Device tree of partition \"{p.name}\" (id {p.id}), generated "
            "by tools/manifestc.py. Do not edit. */", "/dts-v1/;", ""]
    return "\n".join(head + dts.render(root)) + "\n"


@dataclass(frozen=True)
class DtcResult:
    dtb: Optional[bytes]
    messages: list[str]  # dtc's warnings and errors (any is a failure)


def compile_dts(text: str) -> DtcResult:
    """Compiles the DTS with dtc, every check on; any message fails."""
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "partition.dts")
        out = os.path.join(tmp, "partition.dtb")
        with open(src, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(text)
        try:
            r = subprocess.run([dtc_command(), "-I", "dts", "-O", "dtb", "-o", out, src],
                               capture_output=True, timeout=DTC_TIMEOUT, check=False)
        except FileNotFoundError:
            return DtcResult(None, [f"'{dtc_command()}' not found"])
        except subprocess.TimeoutExpired:
            return DtcResult(None, [f"dtc did not finish within {DTC_TIMEOUT} s"])
        messages = [l.strip().replace(src, "partition.dts") for l in
                    r.stderr.decode(errors="replace").splitlines() if l.strip()]
        if r.returncode != 0 or messages:
            return DtcResult(None, messages or [f"dtc exit status {r.returncode}"])
        with open(out, "rb") as f:
            return DtcResult(f.read(), [])
