"""Helpers for the manifest-compiler tests: small manifests, a board file to
vary, running the compiler, and building its tables with the cross
compiler the way the Makefile does."""
import os
import shlex
import subprocess
from dataclasses import dataclass
from functools import lru_cache

from conftest import BUILD, PYTHON, ROOT

COMPILER = os.path.join(ROOT, "tools", "manifestc.py")
IMAGES = os.path.join(BUILD, "images")
BOARD = os.path.join(ROOT, "manifests", "platforms", "qemu-virt.dtsi")

PART = """
			{label}: partition@{id} {{
				id = <{id}>;
				label = "{label}";
				cpus = <{cpus}>;
				memory = <0x0 {base} 0x0 0x400000>;
				image = "{image}";
				console = <0x0 0x09000000>;
				{extra}
			}};"""


def manifest(parts=None, top="", hyp="", tail="", include=True,
             hyp_memory="0x0 0x40200000 0x0 0x00e00000", root="") -> str:
    parts = parts if parts is not None else [
        dict(label="alpha", id=1, cpus="0", base="0x41000000"),
        dict(label="beta", id=2, cpus="1", base="0x41400000")]
    body = "".join(PART.format(**{"image": "demo.bin", "extra": "", **p})
                   for p in parts)
    inc = '/include/ "platforms/qemu-virt.dtsi"\n' if include else ""
    return f"""/dts-v1/;
{inc}
/ {{
	{root}
	bulkhead {{
		compatible = "bulkhead,manifest-v1";
		{top}
		hypervisor {{
			memory = <{hyp_memory}>;
			{hyp}
		}};
		partitions {{{body}
		}};
		{tail}
	}};
}};
"""


def P(label, id, cpus, base, **kw):
    return dict(label=label, id=id, cpus=cpus, base=base, **kw)


def board_text(*replacements: tuple[str, str]) -> str:
    """The QEMU virt board file with each (old, new) replaced once (old
    must be there)."""
    with open(BOARD, encoding="utf-8") as f:
        text = f.read()
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def grant(name="g", frm="alpha", to="beta", ops='"share"', pages=4, extra=""):
    return (f"{name} {{ from = <&{frm}>; to = <&{to}>; operations = {ops}; "
            f"max-access = \"rw\"; max-pages = <{pages}>; {extra} }};")


def compile_text(tmp_path, text, config="", out=True, name="m.dts",
                 board=None, args=(), env=None,
                 path=None) -> subprocess.CompletedProcess:
    """Compiles `text` as manifests/<name> in tmp_path (with the board file
    beside it, or `board` instead); `path` names another file to compile."""
    mdir = tmp_path / "manifests"
    (mdir / "platforms").mkdir(parents=True, exist_ok=True)
    if board is None:
        board = board_text()
    (mdir / "platforms" / "qemu-virt.dtsi").write_bytes(
        board.encode("utf-8", errors="surrogateescape"))
    (mdir / name).write_bytes(text.encode("utf-8", errors="surrogateescape"))
    cmd = [PYTHON, COMPILER, path or f"manifests/{name}", "-I", IMAGES,
           "--kconfig", os.path.join(ROOT, "Kconfig")] + list(args)
    if config:
        (tmp_path / "config").write_text(config)
        cmd += ["--config", str(tmp_path / "config")]
    if out:
        cmd += ["--out-dir", str(tmp_path / "out")]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, **(env or {})})


def image_payload(*names: str) -> int:
    """Bytes the images take in the flashable image (page aligned each)."""
    return sum((os.path.getsize(os.path.join(IMAGES, n)) + 0xFFF) // 0x1000 * 0x1000
               for n in names)


def lines_of(text: str, needle: str) -> int:
    """1-based number of the first line of `text` containing `needle`."""
    return next(i for i, l in enumerate(text.splitlines(), 1) if needle in l)


@dataclass(frozen=True)
class HypBuild:
    """How the Makefile builds and links the hypervisor (flags without LTO
    and dependency files for the tables; the link exactly as make does)."""
    cc: str
    cflags: list[str]  # HYP_CFLAGS without -flto, -MMD, -MP
    link_cflags: list[str]  # HYP_CFLAGS as the link uses them
    objects: list[str]  # the hypervisor's objects, relative to ROOT


def _absolute(flags: list[str]) -> list[str]:
    """Path arguments of -I, -isystem and -include made absolute, so the
    compiler can run in any directory."""
    out: list[str] = []
    take_path = False
    for f in flags:
        if take_path:
            out.append(f if os.path.isabs(f) else os.path.join(ROOT, f))
            take_path = False
        elif f in ("-include", "-isystem", "-I"):
            out.append(f)
            take_path = True
        elif f.startswith("-I") and not os.path.isabs(f[2:]):
            out.append("-I" + os.path.join(ROOT, f[2:]))
        else:
            out.append(f)
    return out


@lru_cache(maxsize=1)
def hyp_build() -> HypBuild:
    """Asks make (mk/manifest-fuzz.mk) for the flags and objects."""
    r = subprocess.run(["make", "-s", "--no-print-directory",
                        f"O={os.path.relpath(BUILD, ROOT)}", "manifest-hyp-flags"],
                       capture_output=True, text=True, cwd=ROOT, check=True)
    vals = dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)
    link = _absolute(shlex.split(vals["CFLAGS"]))
    return HypBuild(cc=vals["CC"], link_cflags=link,
                    cflags=[f for f in link if f not in ("-flto", "-MMD", "-MP")],
                    objects=[os.path.join(ROOT, o) for o in vals["OBJS"].split()])


def compile_tables(sources: list[str], work_dir: str) -> subprocess.CompletedProcess:
    """Compiles manifest_tables.c files with the hypervisor's flags (LTO
    aside) in one run of the cross compiler; objects land in work_dir
    (one overwriting the other: only the diagnostics matter)."""
    hb = hyp_build()
    os.makedirs(work_dir, exist_ok=True)
    return subprocess.run([hb.cc] + hb.cflags + ["-c"]
                          + [os.path.abspath(s) for s in sources],
                          capture_output=True, text=True, cwd=work_dir)


def link_hypervisor(product_dir: str, elf: str) -> subprocess.CompletedProcess:
    """Links the hypervisor with the tables in product_dir (its hyp.ld and
    manifest_tables.c), as the Makefile does."""
    hb = hyp_build()
    obj = os.path.join(product_dir, "manifest_tables.o")
    flags = [f for f in hb.link_cflags if f not in ("-MMD", "-MP")]
    r = subprocess.run([hb.cc] + flags + ["-c", os.path.join(
        product_dir, "manifest_tables.c"), "-o", obj],
        capture_output=True, text=True, cwd=ROOT)
    if r.returncode != 0:
        return r
    # linked twice with the table of function names, as the Makefile does
    # (tools/board/symtab.py)
    return subprocess.run(
        [PYTHON, os.path.join(ROOT, "tools", "board", "symtab.py"), "--cc", hb.cc,
         "--nm", hb.cc.replace("gcc", "nm"), "--work", product_dir, "-o", elf, "--"]
        + flags + ["-nostdlib", "-static", "-Wl,-L," + product_dir,
                   "-Wl,-T," + os.path.join(ROOT, "arch/aarch64/bulkhead.ld"),
                   "-Wl,--build-id=none"]
        + hb.objects + [obj, "-lgcc"], capture_output=True, text=True, cwd=ROOT)
