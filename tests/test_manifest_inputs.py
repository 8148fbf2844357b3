"""Manifests that once crashed the compiler, were accepted and then broke
the C build or link, were accepted although wrong, or got errors without a
location: each is now either compiled into tables that build, or rejected
with a rule ID and file:line."""
import json
import os
import re
import subprocess
import sys

import pytest

from conftest import BUILD, PYTHON, ROOT
from manifest_helpers import (IMAGES, P, board_text, compile_tables, compile_text,
                              image_payload, lines_of, link_hypervisor, manifest)

BOARD_FILE = "manifests/platforms/qemu-virt.dtsi"


def errors(r: subprocess.CompletedProcess, rule: str) -> list[str]:
    return [l for l in r.stderr.splitlines() if f"error[{rule}]" in l]


def rejected(r: subprocess.CompletedProcess, rule: str) -> str:
    """The one error line of `rule`; the compile failed cleanly."""
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    found = errors(r, rule)
    assert found, r.stderr
    return found[0]


def board_rejected(tmp_path, rule: str, *replacements: tuple[str, str],
                   at: str | None = None) -> str:
    """The one error of `rule` for the default manifest on the board file
    with `replacements` made (board_text); with `at`, the error names the
    board file's line holding `at`."""
    board = board_text(*replacements)
    line = rejected(compile_text(tmp_path, manifest(), board=board), rule)
    if at is not None:
        assert line.startswith(f"{BOARD_FILE}:{lines_of(board, at)}: "), line
    return line


def builds(tmp_path, r: subprocess.CompletedProcess) -> str:
    """The compile succeeded and its tables build with the hypervisor's
    flags; returns the tables' text."""
    assert r.returncode == 0, r.stderr
    tables = tmp_path / "out" / "manifest_tables.c"
    c = compile_tables([str(tables)], str(tmp_path / "cc"))
    assert c.returncode == 0, c.stderr
    return tables.read_text()


# --- crashes -----------------------------------------------------------------

def test_non_utf8_board_model_is_an_error(tmp_path):
    line = board_rejected(tmp_path, "BOARD-MODEL",
                          ('model = "qemu-virt";', 'model = "qemu\\xff\\xfevirt";'),
                          at="model =")
    assert "is not one string of UTF-8 text" in line


def test_board_interrupts_with_too_few_cells_is_an_error(tmp_path):
    line = board_rejected(tmp_path, "BOARD-IRQ", ("interrupts = <0 1 4>;", "interrupts = <0>;"),
                          at="interrupts = <0>;")
    assert "the console UART's interrupts <0> must be one SPI triple" in line


def _nested(depth: int) -> str:
    return "deep " + "{ n " * depth + "{ x = <1>; }; " + "}; " * depth


def test_deeply_nested_nodes_compile(tmp_path):
    # 3000 levels: dtc reads them; the compiler warns about the unknown node
    r = compile_text(tmp_path, manifest(top=_nested(3000)))
    assert r.returncode == 0, r.stderr[-2000:]
    assert "warning[SCHEMA-UNKNOWN]: /bulkhead/deep: unknown node 'deep'" in r.stderr


def test_nesting_beyond_dtc_is_a_located_error(tmp_path):
    text = manifest(top=_nested(6000))
    line = rejected(compile_text(tmp_path, text), "DTS-SYNTAX")
    assert re.match(rf"manifests/m.dts:{lines_of(text, 'deep {')}: error\[DTS-SYNTAX\]: "
                    r"dtc: memory exhausted", line), line


# --- accepted, then the C build or the link failed ---------------------------

def test_more_device_interrupts_than_the_tables_hold(tmp_path):
    dev = ("devices { gpio@9030000 { reg = <0x0 0x09030000 0x0 0x1000>; "
           "interrupts = <0 7 4>, <0 8 4>, <0 9 4>, <0 10 4>, <0 11 4>; }; };")
    text = manifest([P("alpha", 1, "0", "0x41000000", extra=dev)])
    line = rejected(compile_text(tmp_path, text), "LIMIT-IRQS")
    assert line.startswith(f"manifests/m.dts:{lines_of(text, 'gpio@9030000')}: ")
    four = text.replace(", <0 11 4>", "")
    tables = builds(tmp_path, compile_text(tmp_path, four))
    assert ".irq_count = 4, .irqs = {39, 40, 41, 42}" in tables


def test_more_grant_ranges_than_the_tables_hold(tmp_path):
    ranges = ", ".join(f"<0x0 {0x41000000 + i * 0x2000:#x} 0x0 0x1000>" for i in range(5))
    g = ("memory-grants { g { from = <&alpha>; to = <&beta>; operations = \"share\"; "
         f"max-access = \"rw\"; max-pages = <4>; ranges = {ranges}; }}; }};")
    rejected(compile_text(tmp_path, manifest(tail=g)), "LIMIT-GRANT-RANGES")
    four = g.replace(", <0x0 0x41008000 0x0 0x1000>", "")
    tables = builds(tmp_path, compile_text(tmp_path, manifest(tail=four)))
    assert ".range_count = 4" in tables


@pytest.mark.parametrize("model,c_literal", [
    ("A board whose model is much longer than thirty-one characters",
     '"A board whose model is much longer than thirty-one characters"'),
    ('Board \\"quoted\\" \\\\ back', '"Board \\"quoted\\" \\\\ back"'),
    ("B\\xc3\\xb6rd", '"B\\303\\266rd"'),
    ("who??/", '"who\\?\\?/"'),
])
def test_board_model_is_escaped_into_tables_that_build(tmp_path, model, c_literal):
    board = board_text(('model = "qemu-virt";', f'model = "{model}";'))
    tables = builds(tmp_path, compile_text(tmp_path, manifest(), board=board))
    assert f"\t\t.name = {c_literal}," in tables


def test_model_with_a_newline_is_rejected(tmp_path):
    line = board_rejected(tmp_path, "BOARD-MODEL",
                          ('model = "qemu-virt";', 'model = "qemu\\nvirt";'))
    assert "model 'qemu\\nvirt' is empty or has control characters" in line


@pytest.mark.parametrize("label", ['alpha\\n', 'al\\"pha', 'alph\\xc3\\xa4',
                                   "a" * 32])
def test_odd_label_is_rejected(tmp_path, label):
    text = manifest().replace('label = "alpha";', f'label = "{label}";')
    line = rejected(compile_text(tmp_path, text), "NAME-FORMAT")
    assert line.startswith(f"manifests/m.dts:{lines_of(text, 'label = ' + chr(34) + label[:3])}: ")


def test_long_product_names_are_supported(tmp_path):
    name = "a-real-product-with-a-rather-long-name-of-sixty-characters-x"
    r = compile_text(tmp_path, manifest(), name=f"{name}.dts")
    tables = builds(tmp_path, r)
    assert f'\t.product = "{name}",' in tables
    mm = json.loads((tmp_path / "out" / "memmap.json").read_text())
    assert mm["product"] == name


def test_product_name_is_escaped(tmp_path):
    name = 'caf\u00e9 "one" <&> ??\\'
    r = compile_text(tmp_path, manifest(), args=("--product", name))
    tables = builds(tmp_path, r)
    assert '\t.product = "caf\\303\\251 \\"one\\" <&> \\?\\?\\\\",' in tables
    svg = (tmp_path / "out" / "memmap.svg").read_text()
    assert 'Bulkhead memory map: caf\u00e9 "one" &lt;&amp;&gt; ??\\</text>' in svg
    assert rejected(compile_text(tmp_path, manifest(), args=("--product", "a/b")),
                    "PRODUCT-NAME")


def test_cpu_reg_wider_than_64_bits_is_rejected(tmp_path):
    line = board_rejected(tmp_path, "BOARD-CPU",
                          ("#address-cells = <1>;\n\t\t#size-cells = <0>;",
                           "#address-cells = <3>;\n\t\t#size-cells = <0>;"),
                          ("reg = <0x0>;", "reg = <0x1 0x0 0x0>;"),
                          ("reg = <0x1>;", "reg = <0x1 0x0 0x1>;"),
                          ("reg = <0x2>;", "reg = <0x1 0x0 0x2>;"),
                          ("reg = <0x3>;", "reg = <0x1 0x0 0x3>;"))
    assert line.startswith(f"{BOARD_FILE}:")
    assert "/cpus needs #address-cells = <1> or <2>" in line


def test_hypervisor_too_small_for_images_and_pool_is_caught_by_the_compiler(tmp_path):
    text = manifest(hyp_memory="0x0 0x40200000 0x0 0x200000")
    line = rejected(compile_text(tmp_path, text), "HYP-TOO-SMALL")
    assert line == (
        f"manifests/m.dts:{lines_of(text, 'memory = <0x0 0x40200000')}: "
        "error[HYP-TOO-SMALL]: /bulkhead/hypervisor: hypervisor memory "
        "[0x40200000, 0x40400000) holds 0x200000 bytes, less than the payload "
        "(the partitions' images, kernels, initrds and device trees: "
        f"{image_payload('demo.bin') + 2 * 0x1000:#x}) and the page pool (0x200000, "
        "CONFIG_PAGE_POOL_PAGES=512) alone, before the hypervisor's own code and "
        "data; make 'memory' larger, or give the hypervisor a 'payload' region")


def test_hypervisor_too_small_fails_the_link_with_the_compiler_error(tmp_path):
    # enough for the payload (two images, two device trees of a page each)
    # and the page pool, not for the code and bss
    payload = image_payload("demo.bin") + 2 * 0x1000
    size = 0x200000 + payload + 0x1000
    text = manifest(hyp_memory=f"0x0 0x40200000 0x0 {size:#x}")
    config = open(os.path.join(BUILD, ".config")).read()
    r = compile_text(tmp_path, text, config=config)
    assert r.returncode == 0, r.stderr
    link = link_hypervisor(str(tmp_path / "out"), str(tmp_path / "out" / "x.elf"))
    assert link.returncode != 0
    first = next(l for l in link.stderr.splitlines() if "error" in l)
    loc = f"manifests/m.dts:{lines_of(text, 'memory = <0x0 0x40200000')}"
    assert first.endswith(
        f"ld: {loc}: error[HYP-TOO-SMALL]: /bulkhead/hypervisor: hypervisor memory "
        f"[0x40200000, {0x40200000 + size:#x}) ({size:#x} bytes) does not hold the "
        "hypervisor's code, data, bss and page pool with the "
        f"{payload:#x} bytes of payload; make 'memory' "
        "larger (the link map bulkhead.elf.map shows the sizes)"), link.stderr


def test_hypervisor_that_fits_links(tmp_path):
    config = open(os.path.join(BUILD, ".config")).read()
    r = compile_text(tmp_path, manifest(), config=config)
    assert r.returncode == 0, r.stderr
    link = link_hypervisor(str(tmp_path / "out"), str(tmp_path / "out" / "x.elf"))
    assert link.returncode == 0, link.stderr


# --- accepted although wrong -------------------------------------------------

@pytest.mark.parametrize("image,why", [
    ("../../Makefile", "has an empty, '.' or '..' path component"),
    ("/etc/hostname", "is an absolute path"),
    ("sub/../demo.bin", "has an empty, '.' or '..' path component"),
    ("demo bin$(x)", "may hold only letters, digits and . _ + - /"),
])
def test_image_outside_the_image_directory_is_rejected(tmp_path, image, why):
    text = manifest([P("alpha", 1, "0", "0x41000000", image=image)])
    line = rejected(compile_text(tmp_path, text), "IMAGE-PATH")
    assert line.startswith(f"manifests/m.dts:{lines_of(text, 'image = ')}: ")
    assert f"image \"{image}\" of \"alpha\" {why}" in line


def test_image_symlink_leading_out_is_rejected(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    (images / "demo.bin").symlink_to(os.path.join(ROOT, "Makefile"))
    text = manifest([P("alpha", 1, "0", "0x41000000")])
    (tmp_path / "manifests").mkdir()
    r = compile_text(tmp_path, text, args=("-I", str(images)))
    # the first image directory given (the build's) is searched first
    assert r.returncode == 0
    r = subprocess.run([PYTHON, os.path.join(ROOT, "tools", "manifestc.py"),
                        "manifests/m.dts", "-I", str(images)],
                       capture_output=True, text=True, cwd=tmp_path)
    line = rejected(r, "IMAGE-PATH")
    assert f"resolves to {os.path.join(ROOT, 'Makefile')}, outside the image directory" in line


def test_packer_refuses_images_from_outside_the_image_directory(tmp_path):
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import pack_image
    product = os.path.join(BUILD, "products", "qemu-virt-demo")
    good = json.loads(open(os.path.join(product, "layout.json")).read())
    layout = tmp_path / "layout.json"
    elf = os.path.join(product, "bulkhead.elf")
    for name in ("../../Makefile", os.path.join(ROOT, "Makefile")):
        good["images"][0]["name"] = name
        layout.write_text(json.dumps(good))
        with pytest.raises(pack_image.PackError) as e:
            pack_image.pack(elf, str(layout), [IMAGES], "aarch64-linux-gnu-objcopy")
        assert "only files in the image directory" in str(e.value)


def test_device_with_several_regions_keeps_them_all(tmp_path):
    dev = ("devices { two@9010000 { reg = <0x0 0x09010000 0x0 0x1000>, "
           "<0x0 0x09030000 0x0 0x1000>; interrupts = <0 2 4>; }; };")
    tables = builds(tmp_path, compile_text(tmp_path, manifest(
        [P("alpha", 1, "0", "0x41000000", extra=dev)])))
    assert ("\t\t\t.device_count = 2,\n\t\t\t.devices = {\n"
            "\t\t\t\t{.base = 0x9010000, .size = 0x1000, .irq_count = 1, .irqs = {34}, "
            ".dma_unrestricted = 0},\n"
            "\t\t\t\t{.base = 0x9030000, .size = 0x1000, .irq_count = 0, .irqs = {0}, "
            ".dma_unrestricted = 0},\n") in tables
    mm = json.loads((tmp_path / "out" / "memmap.json").read_text())
    assert [e["base"] for e in mm["regions"] if e["kind"] == "device"] == [
        0x9010000, 0x9030000]


@pytest.mark.parametrize("console,what", [
    ("0x0 0x41000000", "its memory [0x41000000, 0x41400000)"),
    ("0x0 0x41400000", "the memory of \"beta\" [0x41400000, 0x41800000)"),
    ("0x0 0x40200000", "the hypervisor's memory [0x40200000, 0x41000000)"),
    ("0x0 0x50000000", "the board's RAM [0x40000000, 0x80000000)"),
    ("0x0 0x08000000", "the GIC distributor [0x8000000, 0x8010000)"),
])
def test_console_in_ram_or_on_the_gic_is_rejected(tmp_path, console, what):
    text = manifest().replace("console = <0x0 0x09000000>;", f"console = <{console}>;", 1)
    line = rejected(compile_text(tmp_path, text), "CONSOLE-COLLIDE")
    assert line.startswith(f"manifests/m.dts:{lines_of(text, 'console = <' + console)}: ")
    assert f"of \"alpha\" collides with {what}" in line


def test_console_outside_the_address_space_is_rejected(tmp_path):
    text = manifest().replace("console = <0x0 0x09000000>;",
                              "console = <0xffffffff 0xfffff000>;", 1)
    line = rejected(compile_text(tmp_path, text), "CONSOLE-OUTSIDE")
    assert "console [0xfffffffffffff000, 0x10000000000000000) of \"alpha\" is beyond" in line


def test_unaligned_entry_is_rejected(tmp_path):
    text = manifest().replace('label = "alpha";',
                              'label = "alpha";\n\t\t\t\tentry = <0x0 0x41000001>;')
    line = rejected(compile_text(tmp_path, text), "ENTRY-ALIGN")
    assert line == (f"manifests/m.dts:{lines_of(text, 'entry =')}: error[ENTRY-ALIGN]: "
                    "/bulkhead/partitions/partition@1: entry 0x41000001 of \"alpha\" is "
                    "not 4-byte aligned; an A64 instruction starts at a multiple of 4 "
                    "(try 0x41000000)")


@pytest.mark.parametrize("prop,written,example", [
    ("max-pages", '"256"', "<1>"),
    ("from", '"alpha"', "<1 2>"),
])
def test_number_written_as_a_string_is_rejected(tmp_path, prop, written, example):
    g = {"from": "<&alpha>", "to": "<&beta>", "operations": '"share"',
         "max-access": '"rw"', "max-pages": "<4>"}
    g[prop] = written
    body = " ".join(f"{k} = {v};" for k, v in g.items())
    text = manifest(tail=f"memory-grants {{ g {{ {body} }}; }};")
    line = rejected(compile_text(tmp_path, text), "SCHEMA-TYPE")
    assert f"property '{prop}' is written as a string ({written})" in line
    assert f"write numbers in cells, like {prop} = {example};" in line


def test_string_written_as_cells_is_rejected(tmp_path):
    text = manifest().replace('image = "demo.bin";', "image = <0x41424300>;", 1)
    line = rejected(compile_text(tmp_path, text), "SCHEMA-TYPE")
    assert "property 'image' must be text in quotes" in line


# --- the board description is checked ----------------------------------------

def test_board_ram_covering_the_gic_is_rejected(tmp_path):
    board = board_text(("reg = <0x0 0x40000000 0x0 0x40000000>;",
                        "reg = <0x0 0x00000000 0x0 0x80000000>;"))
    r = compile_text(tmp_path, manifest(), board=board)
    line = rejected(r, "BOARD-OVERLAP")
    assert ("/intc@8000000: the GIC distributor [0x8000000, 0x8010000) lies in the "
            "board's RAM [0x0, 0x80000000)") in line
    assert "RAM [0x0, 0x80000000) must start in [0x40000000, 0x100000000)" in \
        rejected(r, "BOARD-RAM")


def test_board_uart_inside_ram_is_rejected(tmp_path):
    line = board_rejected(tmp_path, "BOARD-OVERLAP",
                          ("reg = <0x0 0x09000000 0x0 0x1000>;",
                           "reg = <0x0 0x7ffff000 0x0 0x1000>;"))
    assert "the console UART [0x7ffff000, 0x80000000) lies in the board's RAM" in line


def test_board_region_wrapping_past_2_64_is_rejected(tmp_path):
    line = board_rejected(tmp_path, "BOARD-REGION",
                          ("reg = <0x0 0x40000000 0x0 0x40000000>;",
                           "reg = <0xffffffff 0xc0000000 0x0 0x80000000>;"),
                          at="0xffffffff 0xc0000000")
    assert "wraps past 2^64" in line


def test_board_with_empty_redistributor_region_is_rejected(tmp_path):
    line = board_rejected(tmp_path, "BOARD-GIC",
                          ("<0x0 0x080a0000 0x0 0xf60000>", "<0x0 0x080a0000 0x0 0x0>"))
    assert line.startswith(f"{BOARD_FILE}:")


def test_board_with_two_cpus_of_one_mpidr_is_rejected(tmp_path):
    line = board_rejected(tmp_path, "BOARD-CPU", ("reg = <0x3>;", "reg = <0x2>;"))
    assert "CPU reg 0x2 is also the MPIDR of /cpus/cpu@2" in line


# --- errors with a location ----------------------------------------------------

def test_cpu_limit_names_the_board_line(tmp_path):
    board = board_text()
    r = compile_text(tmp_path, manifest(), config="CONFIG_MAX_CPUS=2\n", board=board)
    line = rejected(r, "LIMIT-CPUS")
    assert line.startswith(f"{BOARD_FILE}:{lines_of(board, 'cpus {')}: error[LIMIT-CPUS]")


def test_missing_include_names_the_line(tmp_path):
    text = manifest().replace("platforms/qemu-virt.dtsi", "platforms/nope.dtsi")
    line = rejected(compile_text(tmp_path, text), "DTS-SYNTAX")
    assert line.startswith(f"manifests/m.dts:{lines_of(text, '/include/')}: ")
    assert "/include/ file \"platforms/nope.dtsi\" not found" in line


def test_include_loop_names_the_line(tmp_path):
    line = board_rejected(tmp_path, "DTS-SYNTAX", ("/ {\n", '/include/ "../m.dts"\n/ {\n'),
                          at="/include/")
    assert "closes an include loop" in line


# --- memory-transaction quotas -----------------------------------------------

def test_mem_transaction_quotas_reach_the_tables(tmp_path):
    grants = ("memory-grants { g { from = <&alpha>; to = <&beta>; operations = "
              "\"share\"; max-access = \"rw\"; max-pages = <4>; }; h { from = <&beta>; "
              "to = <&gamma>; operations = \"lend\"; max-access = \"ro\"; "
              "max-pages = <1>; }; };")
    parts = [P("alpha", 1, "0", "0x41000000", extra="mem-transactions = <3>;"),
             P("beta", 2, "1", "0x41400000"),
             P("gamma", 3, "2", "0x41800000", extra="mem-transactions = <5>;")]
    text = manifest(parts, tail=grants)
    r = compile_text(tmp_path, text)
    tables = builds(tmp_path, r)
    assert re.findall(r"\.mem_transactions = (\d+),", tables) == ["3", "8", "0"]
    assert (f"manifests/m.dts:{lines_of(text, 'mem-transactions = <5>')}: "
            "warning[MEM-TX-VALUE]: /bulkhead/partitions/partition@3: partition "
            "\"gamma\" has mem-transactions = <5> but no memory grant as a sender; "
            "its quota is 0: remove the property") in r.stderr.splitlines()
    mm = json.loads((tmp_path / "out" / "memmap.json").read_text())
    assert [p["mem_transactions"] for p in mm["partitions"]] == [3, 8, 0]


def test_mem_transaction_quotas_may_fill_the_table(tmp_path):
    grants = ("memory-grants { g { from = <&alpha>; to = <&beta>; operations = "
              "\"share\"; max-access = \"rw\"; max-pages = <4>; }; };")
    parts = [P("alpha", 1, "0", "0x41000000", extra="mem-transactions = <32>;"),
             P("beta", 2, "1", "0x41400000")]
    r = compile_text(tmp_path, manifest(parts, tail=grants))
    assert r.returncode == 0, r.stderr
    r = compile_text(tmp_path, manifest(parts, tail=grants).replace("<32>", "<33>"))
    line = rejected(r, "MEM-TX-LIMIT")
    assert ("memory-transaction quotas add up to 33 (\"alpha\" 33), but "
            "CONFIG_FFA_MEM_MAX_TRANSACTIONS is 32") in line
