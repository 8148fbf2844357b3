"""Manifest compiler: good manifests compile, one bad manifest per rule,
determinism, nothing written on error."""
import glob
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from typing import Optional

import pytest

from conftest import PYTHON, ROOT
from dt_helpers import (INITRD, KERNEL, arm64_image, kernel_files, kernel_manifest,
                        write_images)
from manifest_helpers import (COMPILER, IMAGES, P, board_text, compile_text,
                              grant, image_payload, manifest)

sys.path.insert(0, os.path.join(ROOT, "tools"))
from bulkhead_manifest.checks import RULES  # noqa: E402
from bulkhead_manifest.diag import Reporter  # noqa: E402
from bulkhead_manifest.rules import WARNING_ONLY  # noqa: E402

GOOD2 = [P("alpha", 1, "0", "0x41000000"), P("beta", 2, "1", "0x41400000")]

BOARD_FILE = "manifests/platforms/qemu-virt.dtsi"


@dataclass(frozen=True)
class Bad:
    """A manifest one rule rejects: the words its error line must hold, and
    where the line must point (None: the input has no line to name)."""
    text: str
    words: list[str]
    config: str = ""
    board: Optional[str] = None
    args: tuple[str, ...] = ()
    env: Optional[dict] = None
    where: Optional[str] = "manifests/m.dts"
    path: Optional[str] = None
    files: Optional[dict] = None  # written under tmp_path; kimages/ is an image dir


# rule -> (manifest text, words the message must contain, extra config)
_BAD = {
    "SCHEMA-REQUIRED": (manifest([dict(label="alpha", id=1, cpus="0",
                                       base="0x41000000")]).replace(
        'image = "demo.bin";', ""), ["required property 'image'"], ""),
    "SCHEMA-TYPE": (manifest().replace("id = <1>;", 'id = <1 2>;'),
                    ["'id' must be one 32-bit cell"], ""),
    "SCHEMA-COMPATIBLE": (manifest().replace('"bulkhead,manifest-v1"',
                                             '"bulkhead,manifest-v9"'),
                          ["bulkhead,manifest-v1"], ""),
    "DTS-SYNTAX": (manifest().replace("id = <1>;", "id = <1>"), ["dtc: syntax error"], ""),
    "PLATFORM": (manifest(include=False), ["board description incomplete"], ""),
    "PHANDLE-BAD": (manifest([P("alpha", 1, "0", "0x41000000",
                                extra="messaging = <&cfg>;"),
                              P("beta", 2, "1", "0x41400000")],
                             tail="cfg: other { };"),
                    ["refers to node /bulkhead/other", "not a partition"], ""),
    "ID-RANGE": (manifest([P("alpha", 0x8000, "0", "0x41000000")]),
                 ["id 0x8000", "1..0x7fff"], ""),
    "ID-DUP": (manifest([P("alpha", 1, "0", "0x41000000"),
                         dict(label="beta", id="1", cpus="1", base="0x41400000")]).replace(
        "beta: partition@1", "beta: partition@9"), ["id 1 is used by both \"alpha\" and \"beta\""], ""),
    "NAME-FORMAT": (manifest().replace('label = "beta"', 'label = "9 bad"'),
                    ["label \"9 bad\""], ""),
    "NAME-DUP": (manifest().replace('label = "beta"', 'label = "alpha"'),
                 ["label \"alpha\" is used by both"], ""),
    "UUID-FORMAT": (manifest().replace('label = "alpha";',
                                       'label = "alpha"; uuid = "not-a-uuid";'),
                    ["uuid \"not-a-uuid\""], ""),
    "UUID-DUP": (manifest().replace('label = "alpha";', 'label = "alpha"; uuid = '
                                    '"6b0d8f9e-1d2a-4c3e-9a55-0c1d2e3f4a5b";').replace(
        'label = "beta";', 'label = "beta"; uuid = "6b0d8f9e-1d2a-4c3e-9a55-0c1d2e3f4a5b";'),
        ["uuid", "used by both \"alpha\" and \"beta\""], ""),
    "CPU-UNKNOWN": (manifest([P("alpha", 1, "0 9", "0x41000000")]),
                    ["physical CPU 9", "CPUs 0..3"], ""),
    "CPU-TWICE": (manifest([P("alpha", 1, "0 2", "0x41000000"),
                            P("beta", 2, "2", "0x41400000")]),
                  ["physical CPU 2 is given to both \"alpha\" and \"beta\""], ""),
    "MEM-ALIGN": (manifest([P("alpha", 1, "0", "0x41000800")]),
                  ["not 4 KiB aligned", "0x41000800"], ""),
    "MEM-EMPTY": (manifest().replace("0x0 0x41000000 0x0 0x400000",
                                     "0x0 0x41000000 0x0 0x0"), ["size 0"], ""),
    "MEM-OUTSIDE": (manifest([P("alpha", 1, "0", "0x90000000")]),
                    ["not inside the board's RAM", "0x90000000"], ""),
    "MEM-OVERLAP": (manifest([P("alpha", 1, "0", "0x41000000"),
                              P("beta", 2, "1", "0x41200000")]),
                    ["partition \"beta\" memory [0x41200000, 0x41600000) overlaps "
                     "partition \"alpha\" memory [0x41000000, 0x41400000) by 0x200000 bytes"], ""),
    "MEM-READ-ONLY": (manifest([P("alpha", 1, "0", "0x41000000", extra=
                                  "read-only-memory = <0x0 0x413ff000 0x0 0x2000>;"),
                                P("beta", 2, "1", "0x41400000")]),
                      ["partition \"alpha\" read-only-memory [0x413ff000, 0x41401000) is "
                       "not inside its memory ([0x41000000, 0x41400000))"], ""),
    "DEV-OUTSIDE": (manifest([P("alpha", 1, "0", "0x41000000", extra=
                                "devices { d@1000 { reg = <0x0 0x1000 0x0 0x1000>; }; };")]),
                    ["not inside the board's device ranges"], ""),
    "DEV-OVERLAP": (manifest([P("alpha", 1, "0", "0x41000000", extra=
                                "devices { uart@9000000 { reg = <0x0 0x09000000 0x0 0x1000>; }; };")]),
                    ["console UART (kept by the hypervisor)"], ""),
    "IMAGE-MISSING": (manifest([P("alpha", 1, "0", "0x41000000", image="nope.bin")]),
                      ["image \"nope.bin\"", "not in the image directory"], ""),
    "IMAGE-TOO-BIG": (manifest().replace("0x0 0x41000000 0x0 0x400000",
                                         "0x0 0x41000000 0x0 0x1000"),
                      ["image \"demo.bin\" of \"alpha\" needs"], ""),
    "ENTRY-OUTSIDE": (manifest().replace('label = "alpha";',
                                         'label = "alpha"; entry = <0x0 0x50000000>;'),
                      ["entry 0x50000000 of \"alpha\""], ""),
    "CONSOLE-COLLIDE": (manifest().replace("console = <0x0 0x09000000>;",
                                           "console = <0x0 0x41000000>;", 1),
                        ["console [0x41000000, 0x41001000) of \"alpha\" collides with its "
                         "memory [0x41000000, 0x41400000)"], ""),
    "CONSOLE-INPUT": (manifest(hyp="console-input = <&alpha>;").replace(
        "console = <0x0 0x09000000>;", "", 1), ["has no 'console'"], ""),
    "IRQ-INVALID": (manifest([P("alpha", 1, "0", "0x41000000", extra=
                                "devices { rtc@9010000 { reg = <0x0 0x09010000 0x0 0x1000>; interrupts = <1 2 4>; }; };")]),
                    ["not a shared peripheral interrupt"], ""),
    "IRQ-TWICE": (manifest([P("alpha", 1, "0", "0x41000000", extra=
                              "devices { rtc@9010000 { reg = <0x0 0x09010000 0x0 0x1000>; interrupts = <0 1 4>; }; };")]),
                  ["SPI 1", "already given to the hypervisor's console UART"], ""),
    "MSG-TARGET": (manifest([P("alpha", 1, "0", "0x41000000", extra="messaging = <&alpha>;")]),
                   ["lists itself as a messaging target"], ""),
    "MSG-METHOD-WORD": (manifest([P("alpha", 1, "0", "0x41000000",
                                    extra='messaging-method = "direct-req-recv", "telepathy";')]),
                        ["messaging-method word \"telepathy\" is not one of"], ""),
    "MSG-METHOD": (manifest([P("alpha", 1, "0", "0x41000000",
                               extra='messaging-method = "direct-req-send"; '
                                     "messaging = <&beta>;"),
                             P("beta", 2, "1", "0x41400000",
                               extra='messaging-method = "notification";')]),
                   ["partition \"alpha\" may message \"beta\" ('messaging') but they "
                    "declare no method in common", "\"alpha\" declares direct-req-send, "
                    "\"beta\" declares notification",
                    "cannot be allowed to receive what it does not declare"], ""),
    "MSG-METHOD-MISSING": (manifest([P("alpha", 1, "0", "0x41000000",
                                       extra="messaging = <&beta>;"),
                                     P("beta", 2, "1", "0x41400000",
                                       extra='messaging-method = "indirect";')]),
                           ["partition \"alpha\" takes part in FF-A messaging but "
                            "declares no messaging-method", "add messaging-method = "
                            "\"direct-req-send\", \"indirect\", \"direct-req2-send\";"],
                           ""),
    "NOTIFY-TARGET": (manifest([P("alpha", 1, "0", "0x41000000", extra="notify = <&beta>;"),
                                P("beta", 2, "1", "0x41400000",
                                  extra='messaging-method = "indirect";')]),
                      ["may notify \"beta\" ('notify'), but \"beta\" does not declare "
                       "\"notification\""], ""),
    "SCHEDULER": (manifest([P("alpha", 1, "0", "0x41000000", extra="scheduler = <&beta>;"),
                            P("beta", 2, "1", "0x41400000")]),
                  ["names scheduler \"beta\" but declares no \"notification\""], ""),
    "BOOT-ORDER": (manifest([P("alpha", 1, "0", "0x41000000", extra="boot-order = <3>;"),
                             P("beta", 2, "1", "0x41400000", extra="boot-order = <3>;")]),
                   ["partitions \"alpha\" and \"beta\" both have boot-order <3>"], ""),
    "READY-TIMEOUT": (manifest([P("alpha", 1, "0", "0x41000000",
                                  extra="boot-order = <0>; ready-timeout-ms = <0>;")]),
                      ["ready-timeout-ms <0> of \"alpha\" is not in 1..600000"], ""),
    "SHM-PARTITIONS": (manifest(tail="shared-memory { r { reg = <0x0 0x4f000000 0x0 0x1000>; "
                                     "partitions = <&alpha>; access = \"rw\"; }; };"),
                       ["needs at least two"], ""),
    "SHM-ACCESS": (manifest(tail="shared-memory { r { reg = <0x0 0x4f000000 0x0 0x1000>; "
                                 "partitions = <&alpha &beta>; access = \"rw\"; }; };"),
                   ["lists 2 partitions but 1 access words"], ""),
    "ACCESS-WORD": (manifest(tail="shared-memory { r { reg = <0x0 0x4f000000 0x0 0x1000>; "
                                  "partitions = <&alpha &beta>; access = \"rw\", \"wx\"; }; };"),
                    ["\"wx\" is not one of ro, rw, rx, rwx"], ""),
    "GRANT-PARTITION": (manifest(tail="memory-grants { g { from = <&alpha>; to = <&alpha>; "
                                      "operations = \"share\"; max-access = \"rw\"; max-pages = <4>; }; };"),
                        ["from \"alpha\" to itself"], ""),
    "GRANT-OPERATION": (manifest(tail="memory-grants { g { from = <&alpha>; to = <&beta>; "
                                      "operations = \"steal\"; max-access = \"rw\"; max-pages = <4>; }; };"),
                        ["operation \"steal\""], ""),
    "GRANT-PAGES": (manifest(tail="memory-grants { g { from = <&alpha>; to = <&beta>; "
                                  "operations = \"lend\"; max-access = \"rw\"; max-pages = <0>; }; };"),
                    ["max-pages 0"], ""),
    "GRANT-RANGE": (manifest(tail="memory-grants { g { from = <&alpha>; to = <&beta>; "
                                  "operations = \"lend\"; max-access = \"rw\"; max-pages = <4>; "
                                  "ranges = <0x0 0x41400000 0x0 0x1000>; }; };"),
                    ["range [0x41400000, 0x41401000) is not inside the memory of \"alpha\""], ""),
    "LIMIT-PARTITIONS": (manifest(), ["2 partitions, but CONFIG_MAX_PARTITIONS is 1"],
                         "CONFIG_MAX_PARTITIONS=1\n"),
    "LIMIT-CPUS": (manifest(), ["/cpus: the board has 4 CPUs, but CONFIG_MAX_CPUS "
                                "is 2; raise it in menuconfig"],
                   "CONFIG_MAX_CPUS=2\n", None, (), None, BOARD_FILE),
    "LIMIT-REGIONS": (manifest().replace("memory = <0x0 0x41000000 0x0 0x400000>;",
                                         "memory = <0x0 0x41000000 0x0 0x200000>, "
                                         "<0x0 0x41200000 0x0 0x200000>;"),
                      ["2 RAM regions, but CONFIG_MAX_MEM_REGIONS is 1"],
                      "CONFIG_MAX_MEM_REGIONS=1\n"),
    "LIMIT-DEVICES": (manifest([P("alpha", 1, "0", "0x41000000", extra=
                                  "devices { rtc@9010000 { reg = <0x0 0x09010000 0x0 0x1000>; }; };")]),
                      ["partition \"alpha\" has 1 devices with 1 regions (each region "
                       "is one table entry), but CONFIG_MAX_DEVICES is 0"],
                      "CONFIG_MAX_DEVICES=0\n"),
    "LIMIT-SHM": (manifest(tail="shared-memory { r { reg = <0x0 0x4f000000 0x0 0x1000>; "
                                "partitions = <&alpha &beta>; access = \"rw\", \"ro\"; }; };"),
                  ["1 shared regions, but CONFIG_MAX_SHARED_REGIONS is 0"],
                  "CONFIG_MAX_SHARED_REGIONS=0\n"),
    "LIMIT-GRANTS": (manifest(tail="memory-grants { g { from = <&alpha>; to = <&beta>; "
                                   "operations = \"lend\"; max-access = \"rw\"; max-pages = <4>; }; };"),
                     ["1 grants, but CONFIG_MAX_GRANTS is 0"], "CONFIG_MAX_GRANTS=0\n"),
}
BAD = {rule: Bad(*case) for rule, case in _BAD.items()}

BIG_DEVICE = ("devices { gpio@9030000 { reg = <0x0 0x09030000 0x0 0x1000>; "
              "interrupts = <0 7 4>, <0 8 4>, <0 9 4>, <0 10 4>, <0 11 4>; }; };")
FIVE_RANGES = ", ".join(f"<0x0 {0x41000000 + i * 0x2000:#x} 0x0 0x1000>" for i in range(5))
SENDS = [P("alpha", 1, "0", "0x41000000", extra="mem-transactions = <0>;"),
         P("beta", 2, "1", "0x41400000")]

BAD.update({
    "MANIFEST-MISSING": Bad("", ["manifest 'manifests/none.dts' does not exist"],
                            path="manifests/none.dts", where=None),
    "DTC": Bad(manifest(), ["'/nonexistent/dtc' not found", "make deps"],
               env={"DTC": "/nonexistent/dtc"}, where=None),
    "PRODUCT-NAME": Bad(manifest(), ["product name 'a\\tb' must be non-empty "
                                     "printable UTF-8"],
                        args=("--product", "a\tb"), where=None),
    "BOARD-MODEL": Bad(manifest(), ["model 'qemu\\nvirt' is empty or has control "
                                    "characters"],
                       board=board_text(('model = "qemu-virt";',
                                         'model = "qemu\\nvirt";')),
                       where=BOARD_FILE),
    "BOARD-REGION": Bad(manifest(), ["device wrap@0 [0xfffffffffffff000, "
                                     "0x10000000000001000): base "
                                     "0xfffffffffffff000 + size 0x2000 wraps past 2^64"],
                        board=board_text(("\tbulkhead-platform {",
                                          "\twrap@0 { reg = <0xffffffff 0xfffff000 "
                                          "0x0 0x2000>; };\n\tbulkhead-platform {")),
                        where=BOARD_FILE),
    "BOARD-RAM": Bad(manifest(), ["the board describes 2 RAM regions ([0x40000000, "
                                  "0x60000000), [0x60000000, 0x80000000))",
                                  "describe one region"],
                     board=board_text(("reg = <0x0 0x40000000 0x0 0x40000000>;",
                                       "reg = <0x0 0x40000000 0x0 0x20000000>, "
                                       "<0x0 0x60000000 0x0 0x20000000>;")),
                     where=BOARD_FILE),
    "BOARD-OVERLAP": Bad(manifest(), ["device pl061@9030000 [0x9010000, 0x9011000) "
                                      "overlaps device pl031@9010000 [0x9010000, "
                                      "0x9011000) by 0x1000 bytes"],
                         board=board_text(("reg = <0x0 0x09030000 0x0 0x1000>;",
                                           "reg = <0x0 0x09010000 0x0 0x1000>;")),
                         where=BOARD_FILE),
    "BOARD-GIC": Bad(manifest(), ["GIC redistributor region [0x80a0000, 0x80a0000) "
                                  "(size 0x0) must be 64 KiB aligned and hold two "
                                  "64 KiB frames for each of the 4 CPUs: at least "
                                  "0x80000 bytes"],
                     board=board_text(("<0x0 0x080a0000 0x0 0xf60000>",
                                       "<0x0 0x080a0000 0x0 0x0>")),
                     where=BOARD_FILE),
    "BOARD-CPU": Bad(manifest(), ["CPU reg 0x1000000 is not an MPIDR affinity"],
                     board=board_text(("reg = <0x3>;", "reg = <0x1000000>;")),
                     where=BOARD_FILE),
    "BOARD-IRQ": Bad(manifest(), ["the console UART's interrupts <0 1> must be one "
                                  "SPI triple <0 number flags>"],
                     board=board_text(("interrupts = <0 1 4>;", "interrupts = <0 1>;")),
                     where=BOARD_FILE),
    "HYP-TOO-SMALL": Bad(manifest(hyp_memory="0x0 0x40200000 0x0 0x100000"),
                         ["hypervisor memory [0x40200000, 0x40300000) holds 0x100000 "
                          "bytes, less than the payload (the partitions' images, "
                          "kernels, initrds and device trees: "
                          f"{image_payload('demo.bin') + 0x2000:#x}) and the "
                          "page pool (0x200000, CONFIG_PAGE_POOL_PAGES=512)",
                          "make 'memory' larger, or give the hypervisor a "
                          "'payload' region"]),
    "DEV-RESERVED": Bad(manifest([P("alpha", 1, "0", "0x41000000", extra=
                                    "devices { cfg@9020000 { reg = <0x0 0x09020000 "
                                    "0x0 0x1000>; dma-unrestricted; }; };")]),
                        ["device \"cfg@9020000\" of \"alpha\" at [0x9020000, "
                         "0x9021000) covers the board's fw-cfg@9020000 [0x9020000, "
                         "0x9020018), which is never passed through"]),
    "DMA-MASTER": Bad(manifest([P("alpha", 1, "0", "0x41000000", extra=
                                  "devices { vio@a000000 { reg = <0x0 0x0a000000 "
                                  "0x0 0x1000>; }; };")]),
                      ["device \"vio@a000000\" of \"alpha\" covers "
                       "virtio_mmio@a000000 [0xa000000, 0xa000200)",
                       "which can master the bus", "add 'dma-unrestricted;'"]),
    "IMAGE-PATH": Bad(manifest([P("alpha", 1, "0", "0x41000000",
                                  image="../../Makefile")]),
                      ["image \"../../Makefile\" of \"alpha\" has an empty, '.' or "
                       "'..' path component"]),
    "ENTRY-ALIGN": Bad(manifest().replace('label = "alpha";', 'label = "alpha"; '
                                          'entry = <0x0 0x41000002>;'),
                       ["entry 0x41000002 of \"alpha\" is not 4-byte aligned"]),
    "CONSOLE-OUTSIDE": Bad(manifest().replace("console = <0x0 0x09000000>;",
                                              "console = <0x80 0x0>;", 1),
                           ["console [0x8000000000, 0x8000001000) of \"alpha\" is "
                            "beyond the partition's 39-bit address space"]),
    "SHM-NAME": Bad(manifest(tail="shared-memory { a-shared-region-name-of-40-"
                                  "characters-xx { reg = <0x0 0x4f000000 0x0 0x1000>; "
                                  "partitions = <&alpha &beta>; access = \"rw\", "
                                  "\"ro\"; }; };"),
                    ["shared region name \"a-shared-region-name-of-40-characters-xx\" "
                     "has 40 characters; the tables hold 31"]),
    "MEM-TX-VALUE": Bad(manifest(SENDS, tail="memory-grants { " + grant() + " };"),
                        ["partition \"alpha\" has mem-transactions = <0> but is the "
                         "sender of memory grants"]),
    "MEM-TX-LIMIT": Bad(manifest(tail="memory-grants { " + grant() + grant(
        "h", "beta", "alpha") + " };"),
        ["memory-transaction quotas add up to 16 (\"alpha\" 8 (default), \"beta\" 8 "
         "(default)), but CONFIG_FFA_MEM_MAX_TRANSACTIONS is 15; lower a partition's "
         "'mem-transactions' or raise CONFIG_FFA_MEM_MAX_TRANSACTIONS"],
        config="CONFIG_FFA_MEM_MAX_TRANSACTIONS=15\n"),
    "LIMIT-IRQS": Bad(manifest([P("alpha", 1, "0", "0x41000000", extra=BIG_DEVICE)]),
                      ["device \"gpio@9030000\" of \"alpha\" has 5 interrupts; the "
                       "tables hold 4 per device"]),
    "LIMIT-GRANT-RANGES": Bad(manifest(tail="memory-grants { " + grant(
        extra=f"ranges = {FIVE_RANGES};") + " };"),
        ["grant \"g\" has 5 ranges; the tables hold 4 per grant"]),
})

# kernel partitions, the payload and device trees
def overlay(nodes: str) -> str:
    """The two-partition manifest with a device-tree overlay on "alpha"."""
    return manifest([P("alpha", 1, "0", "0x41000000", extra=f"device-tree {{ {nodes} }};"),
                     P("beta", 2, "1", "0x41400000")])


RTC = "devices { rtc@9010000 { reg = <0x0 0x09010000 0x0 0x1000>; interrupts = <0 2 4>; }; };"
BAD.update({
    "IMAGE-OR-KERNEL": Bad(manifest().replace('label = "alpha";', 'label = "alpha"; '
                                              'bootargs = "quiet";'),
                           ["'image' and 'bootargs' together", "remove one"]),
    "KERNEL-FORMAT": Bad(kernel_manifest(), [
        "kernel \"test-linux/Image\" of \"linux\": it is gzip-compressed", "zcat"],
        files=kernel_files(b"\x1f\x8b\x08" + bytes(100))),
    "KERNEL-ENDIAN": Bad(kernel_manifest(), [
        "kernel \"test-linux/Image\" of \"linux\": flags 0xb say big-endian"],
        files=kernel_files(arm64_image(flags=0xB))),
    "KERNEL-PAGE-SIZE": Bad(kernel_manifest(), [
        "flags 0x6 ask for 64 KiB pages (bits 1-2 = 3)", "CONFIG_ARM64_4K_PAGES"],
        files=kernel_files(arm64_image(flags=0x6))),
    "KERNEL-SIZE": Bad(kernel_manifest(), [
        "image_size 0x2000 is smaller than the file (0x3000 bytes)"],
        files=kernel_files(arm64_image(image_size=0x2000))),
    "KERNEL-TEXT-OFFSET": Bad(kernel_manifest(), [
        "text_offset 0x80800 is not a multiple of 4 KiB below 2 MiB"],
        files=kernel_files(arm64_image(text_offset=0x80800))),
    "INITRD-EMPTY": Bad(kernel_manifest(f'kernel = "{KERNEL}"; initrd = "{INITRD}";'),
                        ["initrd \"test-linux/initrd.img\" of \"linux\" is an empty file"],
                        files=kernel_files(initrd=b"")),
    "BOOTARGS": Bad(kernel_manifest(f'kernel = "{KERNEL}"; bootargs = "a\\tb";'),
                    ["bootargs of \"linux\" holds '\\t'; only printable ASCII is passed"],
                    files=kernel_files()),
    "LOAD-FIT": Bad(kernel_manifest(f'kernel = "{KERNEL}"; initrd = "{INITRD}";',
                                    memory="0x0 0x48000000 0x0 0x400000"),
                    ["kernel \"test-linux/Image\" (image_size 0x200000 at 0x48000000: a 2 "
                     "MiB boundary + text_offset 0x0), its device tree (",
                     "alone in its 2 MiB block) and initrd \"test-linux/initrd.img\" "
                     "(0x1000 bytes at 0x48400000) of \"linux\" end at 0x48401000, "
                     "beyond its first memory region [0x48000000, 0x48400000) by "
                     "0x1000 bytes; make the region at least 0x401000 bytes"],
                    files=kernel_files(initrd=bytes(0x1000))),
    "PAYLOAD-PLACE": Bad(manifest(hyp="payload = <0x0 0x40000000 0x0 0x100000>;"),
                         ["payload region [0x40000000, 0x40100000) lies below the "
                          "hypervisor's memory [0x40200000, 0x41000000)",
                          "put the region at or after 0x41000000"]),
    "PAYLOAD-TOO-SMALL": Bad(manifest(hyp="payload = <0x0 0x41000000 0x0 0x1000>;",
                                      parts=[P("alpha", 1, "0", "0x41400000"),
                                             P("beta", 2, "1", "0x41800000")]),
                             ["payload region [0x41000000, 0x41001000) holds 0x1000 "
                              "bytes, less than the payload",
                              f"device trees, each page aligned: "
                              f"{image_payload('demo.bin') + 0x2000:#x})"]),
    "PSCI-CONDUIT": Bad(manifest().replace('label = "alpha";', 'label = "alpha"; '
                                           'psci-conduit = "svc";'),
                        ["psci-conduit \"svc\" is not \"hvc\" or \"smc\""]),
    "DT-TOO-BIG": Bad(overlay('big { blob = /incbin/("big.bin"); };'),
                      ["the device tree of \"alpha\" has 0x", "more than the 0x200000 "
                       "the boot protocol allows"],
                      files={"manifests/big.bin": bytes(0x200000)}),
    "DT-CHECK": Bad(overlay("thing@1000 { x = <1>; };"),
                    ["dtc does not accept the device tree of \"alpha\" (a warning "
                     "counts)", "/thing@1000: node has a unit name, but no reg"]),
    "OVERLAY-COLLIDE": Bad(overlay("chosen { x = <1>; };"),
                           ["overlay of \"alpha\": node /chosen is generated"]),
    "OVERLAY-REG": Bad(overlay("buf@41400000 { reg = <0x0 0x41400000 0x0 0x1000>; };"),
                       ["reg [0x41400000, 0x41401000) of /bulkhead/partitions/"
                        "partition@1/device-tree/buf@41400000 is not inside what the "
                        "partition may touch (its memory [0x41000000, 0x41400000))"]),
    "OVERLAY-PHANDLE": Bad(overlay("peer { p = <&beta>; };"),
                           ["property 'p' of /bulkhead/partitions/partition@1/device-tree/"
                            "peer refers to node /bulkhead/partitions/partition@2, "
                            "outside the overlay"]),
    "OVERLAY-IRQ": Bad(overlay("thing { interrupts = <0 5 4>; };"),
                       ["interrupt SPI 5 of /bulkhead/partitions/partition@1/device-tree/"
                        "thing is not one of the partition's SPIs (SPI 1: its console's "
                        "and its devices')"]),
    "LIMIT-SPIS": Bad(manifest([P("alpha", 1, "0", "0x41000000", extra=RTC)]),
                      ["partition \"alpha\" has 2 virtual SPIs", "but "
                       "CONFIG_MAX_PARTITION_SPIS is 1"],
                      config="CONFIG_MAX_PARTITION_SPIS=1\n"),
})


def test_every_rule_has_a_negative_test():
    # errors here, warnings in their own tests, RULE-UNKNOWN below
    assert sorted(set(RULES) - WARNING_ONLY - {"RULE-UNKNOWN"}) == sorted(BAD)
    assert {"DTC", "MANIFEST-MISSING"} <= set(RULES)


@pytest.mark.parametrize("rule", sorted(BAD))
def test_bad_manifest(tmp_path, rule):
    case = BAD[rule]
    args = case.args
    if case.files:
        args += ("-I", write_images(tmp_path, case.files))
    r = compile_text(tmp_path, case.text, case.config, board=case.board,
                     args=args, env=case.env, path=case.path)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    line = next((l for l in r.stderr.splitlines() if f"error[{rule}]" in l), None)
    assert line is not None, r.stderr
    for w in case.words:
        assert w in line, f"{w!r} not in {line!r}"
    if case.where is None:
        assert line.startswith(f"error[{rule}]: "), line
    else:
        assert re.match(re.escape(case.where) + r":\d+: error\[", line), line
    assert not (tmp_path / "out" / "manifest_tables.c").exists()
    assert "error[RULE-UNKNOWN]" not in r.stderr


def test_unknown_rule_is_an_error():
    rep = Reporter()
    rep.warning("NO-SUCH-RULE", None, "/x", "something")
    assert [(d.severity, d.rule) for d in rep.diagnostics] == [("error", "RULE-UNKNOWN")]
    assert str(rep.diagnostics[0]) == (
        "error[RULE-UNKNOWN]: /x: the compiler reported rule 'NO-SUCH-RULE', which "
        "is not in its catalogue (a compiler bug; its message: warning: something)")


def test_every_rule_is_in_the_readme():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    missing = [r for r in RULES if f"`{r}`" not in readme]
    assert missing == []


def test_cpu_twice_names_both_partitions_and_the_line(tmp_path):
    text = BAD["CPU-TWICE"].text
    r = compile_text(tmp_path, text)
    lineno = next(i for i, l in enumerate(text.splitlines(), 1)
                  if "cpus = <2>;" in l)
    assert (f"manifests/m.dts:{lineno}: error[CPU-TWICE]: /bulkhead/partitions/"
            "partition@2: physical CPU 2 is given to both \"alpha\" and \"beta\"; a "
            "CPU belongs to one partition") in r.stderr.splitlines()


def test_unknown_property_is_a_warning(tmp_path):
    r = compile_text(tmp_path, manifest().replace('label = "beta";',
                                                  'label = "beta"; colour = "red";'))
    assert r.returncode == 0, r.stderr
    assert "warning[SCHEMA-UNKNOWN]" in r.stderr and "'colour'" in r.stderr


def test_error_removes_earlier_outputs(tmp_path):
    assert compile_text(tmp_path, manifest()).returncode == 0
    assert (tmp_path / "out" / "manifest_tables.c").exists()
    assert compile_text(tmp_path, BAD["CPU-TWICE"].text).returncode == 1
    assert not any((tmp_path / "out").iterdir())


# Warnings a good manifest gives on purpose.
EXPECTED_WARNINGS = {
    "qemu-virt-linux.dts": ["warning[DMA-UNRESTRICTED]: /bulkhead/partitions/"
                            "partition@1/devices/virtio_mmio@a000000: partition "
                            "\"linux\" is trusted with unrestricted DMA"],
}


def linux_stand_ins(tmp_path) -> str:
    """An image directory with stand-ins for `make linux-payloads`' kernel
    and initramfs (the Debian kernel's header values), searched after the
    build's own, so a build without the payloads still checks the Linux
    product's manifest."""
    d = tmp_path / "stand-ins"
    (d / "linux").mkdir(parents=True)
    (d / "linux" / "Image").write_bytes(arm64_image(image_size=0x2010000, size=0x10000))
    (d / "linux" / "initramfs.cpio.gz").write_bytes(b"\x1f\x8b" + bytes(0x1000))
    return str(d)


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(ROOT, "manifests", "*.dts"))
                                  + glob.glob(os.path.join(ROOT, "tests", "scenarios", "*.dts"))))
def test_good_manifest_compiles(tmp_path, path):
    r = subprocess.run([PYTHON, COMPILER, path, "-I", IMAGES, "-I",
                        linux_stand_ins(tmp_path), "-i",
                        os.path.join(ROOT, "manifests"), "--out-dir",
                        str(tmp_path / "out")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    warnings = EXPECTED_WARNINGS.get(os.path.basename(path), [])
    lines = r.stderr.splitlines()
    assert len(lines) == len(warnings), r.stderr
    for line, words in zip(lines, warnings):
        assert words in line
    for f in ("manifest_tables.c", "manifest_gen.h", "hyp.ld", "layout.json",
              "memmap.txt", "memmap.json", "memmap.svg"):
        assert (tmp_path / "out" / f).stat().st_size > 0
    assert not (tmp_path / "out" / "manifest.d").exists()  # --deps writes it
    with open(tmp_path / "out" / "layout.json", encoding="utf-8") as f:
        for name in json.load(f)["device_trees"]:
            assert (tmp_path / "out" / name).stat().st_size > 0


def test_output_is_deterministic(tmp_path):
    outs = []
    for i in range(2):
        d = tmp_path / f"o{i}"
        subprocess.run([PYTHON, COMPILER, "manifests/qemu-virt-demo.dts", "-I",
                        os.path.relpath(IMAGES, ROOT), "-i", "manifests",
                        "--out-dir", str(d)], check=True, cwd=ROOT)
        outs.append({f: (d / f).read_bytes() for f in sorted(os.listdir(d))})
    assert outs[0] == outs[1]
    for data in outs[0].values():
        assert str(tmp_path).encode() not in data and ROOT.encode() not in data
