"""Board bring-up: U-Boot FIT and SD-card image, boot through Debian's
U-Boot, the board check's refusals, the device-tree reader on malformed
input, gdb, crash reports, flashing refusals, reproducible images."""
import hashlib
import os
import random
import re
import shutil
import socket
import struct
import subprocess
import sys
import time

import pytest

from conftest import BUILD, PYTHON, QEMU, ROOT, boot, copy_tree

sys.path.insert(0, os.path.join(ROOT, "tools", "board"))
import flash  # noqa: E402

POWER_OFF = "[bulkhead] all partitions are off; powering off"
UBOOT = "/usr/lib/u-boot/qemu_arm64/u-boot.bin"
SEMIHOSTING = ["-semihosting-config", "enable=on,target=native"]
REFUSED = ("[bulkhead] board check failed: this image was built for another "
           "board; stopping before any partition starts")
IMAGE = os.path.join(BUILD, "bulkhead.img")
DEBUGCALLS = os.path.join(BUILD, "debug-calls")


def qemu(extra: list[str], timeout: float, replace: dict[str, str] | None = None):
    args = [replace.get(a, a) for a in QEMU] if replace else list(QEMU)
    proc = subprocess.run(args + extra, capture_output=True, timeout=timeout)
    out = proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")
    return proc.returncode, [l.rstrip("\r") for l in out.splitlines()]


def layout() -> dict:
    import json
    with open(os.path.join(BUILD, "products", "qemu-virt-demo", "layout.json")) as f:
        return json.load(f)


def show_id(image: str) -> str:
    return subprocess.run([PYTHON, os.path.join(ROOT, "tools", "pack_image.py"),
                           "--show-id", image], capture_output=True, text=True,
                          check=True).stdout.strip()


# --- FIT, SD card, U-Boot --------------------------------------------------

def test_fit_holds_the_image_at_the_hypervisor_base(tmp_path):
    itb = os.path.join(BUILD, "bulkhead.itb")
    listing = subprocess.run(["mkimage", "-l", itb], capture_output=True,
                             text=True, check=True).stdout
    base = layout()["hypervisor"]["base"]
    assert f"Load Address: {base:#010x}" in listing
    assert f"Entry Point:  {base:#010x}" in listing
    assert "Type:         Kernel Image" in listing
    assert "Architecture: AArch64" in listing
    assert "Hash algo:    sha256" in listing
    with open(IMAGE, "rb") as f:
        image = f.read()
    assert f"Hash value:   {hashlib.sha256(image).hexdigest()}" in listing
    out = tmp_path / "kernel"
    subprocess.run(["dumpimage", "-T", "flat_dt", "-p", "0", "-o", str(out), itb],
                   check=True, capture_output=True)
    assert out.read_bytes() == image


def test_fit_timestamp_is_the_commit_date(tmp_path):
    import libfdt
    commit = subprocess.run(["git", "-C", ROOT, "log", "-1", "--format=%ct"],
                            capture_output=True, text=True)
    if commit.returncode != 0:
        pytest.skip("not a git checkout")
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    out = tmp_path / "t.itb"
    subprocess.run([PYTHON, os.path.join(ROOT, "tools", "board", "fit.py"), "--image",
                    IMAGE, "--layout", os.path.join(BUILD, "products", "qemu-virt-demo",
                                                    "layout.json"),
                    "--product", "qemu-virt-demo", "--version", "0", "-o", str(out)],
                   cwd=ROOT, env=env, check=True, capture_output=True)
    fit = libfdt.Fdt(out.read_bytes())
    assert fit.getprop(0, "timestamp").as_uint32() == int(commit.stdout)


def test_fit_signed_with_a_named_key(tmp_path):
    keys = tmp_path / "keys"
    keys.mkdir()
    subprocess.run(["openssl", "genrsa", "-out", str(keys / "dev.key"), "2048"],
                   check=True, capture_output=True)
    subprocess.run(["openssl", "req", "-batch", "-new", "-x509", "-key",
                    str(keys / "dev.key"), "-out", str(keys / "dev.crt"),
                    "-subj", "/CN=bulkhead-test"], check=True, capture_output=True)
    out = tmp_path / "signed.itb"
    lay = os.path.join(BUILD, "products", "qemu-virt-demo", "layout.json")
    subprocess.run([PYTHON, os.path.join(ROOT, "tools", "board", "fit.py"),
                    "--image", IMAGE, "--layout", lay, "--product", "qemu-virt-demo",
                    "--version", "0", "--key", str(keys / "dev"), "-o", str(out)],
                   check=True, capture_output=True)
    listing = subprocess.run(["mkimage", "-l", str(out)], capture_output=True,
                             text=True, check=True).stdout
    assert "Sign algo:    sha256,rsa2048:dev" in listing
    assert re.search(r"Sign value:\s+[0-9a-f]{64}", listing)
    missing = subprocess.run(
        [PYTHON, os.path.join(ROOT, "tools", "board", "fit.py"), "--image", IMAGE,
         "--layout", lay, "--product", "p", "--version", "0",
         "--key", str(keys / "nosuch"), "-o", str(tmp_path / "x.itb")],
        capture_output=True, text=True)
    assert missing.returncode == 1
    assert f"signing key file {keys}/nosuch.key not found" in missing.stderr


def test_sdcard_partition_table_and_files(tmp_path):
    sd = os.path.join(BUILD, "sdcard.img")
    with open(sd, "rb") as f:
        mbr = f.read(512)
    assert mbr[510:512] == b"\x55\xaa"
    boot_flag, ptype = mbr[0x1BE], mbr[0x1BE + 4]
    start, sectors = struct.unpack("<II", mbr[0x1BE + 8:0x1BE + 16])
    assert (boot_flag, ptype, start) == (0x80, 0x0E, 2048)
    assert os.path.getsize(sd) == (start + sectors) * 512
    fat = f"{sd}@@{start * 512}"
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    listing = subprocess.run(["mdir", "-b", "-i", fat, "::/"], capture_output=True,
                             text=True, check=True, env=env).stdout.split()
    assert sorted(listing) == ["::/boot.cmd", "::/boot.scr", "::/bulkhead.itb"]
    for name in ("bulkhead.itb", "boot.cmd"):
        subprocess.run(["mcopy", "-i", fat, f"::/{name}", str(tmp_path / name)],
                       check=True, env=env)
    assert (tmp_path / "bulkhead.itb").read_bytes() == \
        open(os.path.join(BUILD, "bulkhead.itb"), "rb").read()
    script = (tmp_path / "boot.cmd").read_text()
    assert "load ${devtype} ${devnum}:${distro_bootpart} 0x41000000 bulkhead.itb" in script
    assert "bootm 0x41000000#conf-1 - ${fdtcontroladdr}" in script


def test_uboot_boots_the_demo_from_the_sd_card():
    sd = os.path.join(BUILD, "sdcard.img")
    code, out = qemu(SEMIHOSTING + ["-bios", UBOOT, "-drive",
                                    f"if=none,file={sd},format=raw,id=bootdisk,readonly=on",
                                    "-device", "virtio-blk-device,drive=bootdisk"], 180)
    assert code == 0, "\n".join(out[-40:])
    assert "Found U-Boot script /boot.scr" in out
    assert "   Using 'conf-1' configuration" in out
    assert "   Verifying Hash Integrity ... sha256+ OK" in out
    start = out.index("Starting kernel ...")
    banner = [i for i, l in enumerate(out) if l.startswith("[bulkhead] Bulkhead ")]
    assert banner and banner[0] > start
    assert f"[bulkhead] build ID {show_id(IMAGE)}" in out
    assert any(l.startswith("[bulkhead] board: 4 CPUs") and
               l.endswith("matches the manifest") for l in out)
    assert "[logger] quit from partition 1 after 4 messages" in out
    assert "[control] both relinquished (0, 0); MEM_RECLAIM: 0" in out
    assert POWER_OFF in out


def test_build_id_is_the_image_hash_and_in_the_banner():
    with open(IMAGE, "rb") as f:
        image = f.read()
    blank = image[:0x28] + bytes(16) + image[0x38:]
    ident = hashlib.sha256(blank).digest()[:16]
    assert image[0x28:0x38] == ident
    assert show_id(IMAGE) == ident.hex()
    b = boot(IMAGE)
    assert f"[bulkhead] build ID {ident.hex()}" in b.lines


# --- Board check -----------------------------------------------------------

REFUSALS = {
    "fewer-cpus": ({"2": "2"}, ["-smp", "2"], [
        "[bulkhead] manifest needs 4 CPUs, the board has 2",
        "[bulkhead] manifest's CPU 2 (MPIDR 0x2) is not on the board",
        "[bulkhead] manifest's CPU 3 (MPIDR 0x3) is not on the board"]),
    "less-ram": ({}, ["-m", "40M"], [
        "[bulkhead] partition logger's RAM 0x42800000-0x43000000 is outside "
        "the board's memory",
        "[bulkhead] shared region ring 0x43000000-0x43001000 is outside the "
        "board's memory"]),
    "gic-v2": ({"virt,virtualization=on,gic-version=3":
                "virt,virtualization=on,gic-version=2"}, [], [
        "[bulkhead] manifest needs a GICv3, the board has a GICv2 at 0x8000000"]),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_board_check_refuses_another_board(case):
    replace, extra, expected = REFUSALS[case]
    args = list(QEMU)
    if case == "fewer-cpus":
        args[args.index("-smp") + 1] = "2"
    elif case == "less-ram":
        args[args.index("-m") + 1] = "40M"
    else:
        args = [replace.get(a, a) for a in args]
    proc = subprocess.run(args + SEMIHOSTING + ["-kernel", IMAGE],
                          capture_output=True, timeout=60)
    out = [l.rstrip("\r") for l in proc.stdout.decode(errors="replace").splitlines()]
    assert proc.returncode == 1, "\n".join(out)
    after = out.index(next(x for x in out if "DTB passed" in x))
    complaints = [l for l in out[after + 1:] if l.startswith("[bulkhead] ") and
                  not l.startswith("[bulkhead]  ")]  # not the partition table
    assert complaints == expected + [REFUSED]
    assert not any(l.startswith(("[control]", "[sensor]", "[logger]")) for l in out)


def test_board_check_without_semihosting_powers_off():
    code, out = qemu(["-kernel", IMAGE], 60, replace={"1G": "40M"})
    assert code == 0
    assert REFUSED in out
    assert not any(l.startswith(("[control]", "[sensor]", "[logger]")) for l in out)


@pytest.fixture(scope="module")
def fdt_host(tmp_path_factory):
    exe = tmp_path_factory.mktemp("fdt") / "fdt_host"
    subprocess.run(["gcc", "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-g", "-O1",
                    "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
                    "-include", os.path.join(BUILD, "include/generated/autoconf.h"),
                    "-I", os.path.join(ROOT, "include"),
                    "-I", os.path.join(ROOT, "core/include"),
                    "-I", os.path.join(ROOT, "arch/aarch64/include"),
                    os.path.join(ROOT, "tests/board/fdt_host.c"),
                    os.path.join(ROOT, "lib/fdt.c"),
                    os.path.join(ROOT, "core/boardcheck.c"), "-o", str(exe)],
                   check=True)
    return str(exe)


def qemu_dtb(path, machine="virt,virtualization=on,gic-version=3", smp="4", mem="1G"):
    subprocess.run(["qemu-system-aarch64", "-M", f"{machine},dumpdtb={path}", "-cpu",
                    "max", "-smp", smp, "-m", mem, "-nographic", "-nic", "none"],
                   check=True, capture_output=True, timeout=30)
    with open(path, "rb") as f:
        return f.read()


def parse_dtb(exe: str, path: str) -> tuple[int, str]:
    env = dict(os.environ, ASAN_OPTIONS="exitcode=99", UBSAN_OPTIONS="exitcode=99")
    proc = subprocess.run([exe, path], capture_output=True, text=True, env=env,
                          timeout=30)
    return proc.returncode, proc.stdout + proc.stderr


def test_dtb_reader_sees_qemus_board(fdt_host, tmp_path):
    qemu_dtb(tmp_path / "a.dtb")
    code, out = parse_dtb(fdt_host, str(tmp_path / "a.dtb"))
    assert code == 0, out
    assert out.splitlines() == ["cpus 4: 0 0x1 0x2 0x3",
                                "ram 0x40000000+0x40000000",
                                "gic v3 0x8000000 0x80a0000+0xf60000",
                                "uart 0x9000000"]
    qemu_dtb(tmp_path / "b.dtb", "virt,virtualization=on,gic-version=2", "2", "256M")
    code, out = parse_dtb(fdt_host, str(tmp_path / "b.dtb"))
    assert out.splitlines() == ["cpus 2: 0 0x1", "ram 0x40000000+0x10000000",
                                "gic v2 0x8000000", "uart 0x9000000"]


def test_dtb_reader_survives_malformed_blobs(fdt_host, tmp_path):
    good = qemu_dtb(tmp_path / "good.dtb")
    rng = random.Random(1234)
    cases = [good[:n] for n in range(0, len(good), max(1, len(good) // 97))]
    for field in range(1, 10):           # each header word set to hostile values
        for value in (0, 0xffffffff, len(good), len(good) + 4, 3):
            cases.append(good[:4 * field] + struct.pack(">I", value) + good[4 * field + 4:])
    for _ in range(200):                  # random byte damage
        blob = bytearray(good)
        for _ in range(rng.randint(1, 8)):
            blob[rng.randrange(len(blob))] = rng.randrange(256)
        cases.append(bytes(blob))
    errors = 0
    for i, blob in enumerate(cases):
        path = tmp_path / "bad.dtb"
        path.write_bytes(blob)
        code, out = parse_dtb(fdt_host, str(path))
        assert code in (0, 1), f"case {i}: exit {code}\n{out[-2000:]}"
        errors += code
    assert errors > len(cases) // 4  # most damage is noticed, none crashes


# --- Crash reports -----------------------------------------------------------

def test_debug_panic_prints_a_symbolized_backtrace(tmp_path):
    image = os.path.join(DEBUGCALLS, "bulkhead.img")
    elf = os.path.join(DEBUGCALLS, "bulkhead.elf")
    proc = subprocess.Popen(QEMU + ["-kernel", image], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    out = b""
    deadline = time.monotonic() + 60
    os.set_blocking(proc.stdout.fileno(), False)
    while b"all CPUs stopped" not in out and time.monotonic() < deadline:
        chunk = proc.stdout.read()
        if chunk:
            out += chunk
        else:
            time.sleep(0.1)
    proc.kill()
    proc.wait()
    lines = [l.rstrip("\r") for l in out.decode(errors="replace").splitlines()]
    assert "[bulkhead] PANIC: BULKHEAD_DEBUG_PANIC from partition crasher" in lines
    start = lines.index("[bulkhead] backtrace (call sites):")
    frames = []
    for l in lines[start + 1:]:
        m = re.fullmatch(r"\[bulkhead\]   #(\d+)\s+0x([0-9a-f]{16}) (\S+)\+0x([0-9a-f]+)", l)
        if not m:
            break
        frames.append((int(m.group(2), 16), m.group(3), int(m.group(4), 16)))
    names = [re.sub(r"\..*", "", n) for _, n, _ in frames]
    # call_handle's non-FF-A half is other_call; call_handle itself is
    # inlined into cpu_main
    assert names[:6] == ["panic", "debug_panic_report", "debug_call_panic",
                         "other_call", "cpu_main", "boot_primary"], lines[start:]
    nm = subprocess.run(["aarch64-linux-gnu-nm", "-S", elf], capture_output=True,
                        text=True, check=True).stdout
    table = {p[3]: (int(p[0], 16), int(p[1], 16)) for p in
             (l.split() for l in nm.splitlines()) if len(p) == 4}
    for addr, name, off in frames[:6]:
        base, size = table[name]
        assert addr == base + off and off < size, name
    log = tmp_path / "panic.log"
    log.write_text("\n".join(lines) + "\n")
    sym = subprocess.run(["make", "-s", "--no-print-directory", f"O={DEBUGCALLS}",
                          "symbolize", f"LOG={log}"], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert sym.returncode == 0, sym.stderr
    assert re.search(r"#1 .* at debug_panic_report \(\./core/debug_calls\.c:\d+\)",
                     sym.stdout), sym.stdout
    assert re.search(r"#3 .* inlined into other_call \(\./core/call\.c:\d+\)",
                     sym.stdout), sym.stdout


def test_debug_panic_call_absent_from_products():
    nm = subprocess.run(["aarch64-linux-gnu-nm", os.path.join(BUILD, "bulkhead.elf")],
                        capture_output=True, text=True, check=True).stdout
    assert "debug_call_panic" not in nm
    assert "debug_call_panic" in subprocess.run(
        ["aarch64-linux-gnu-nm", os.path.join(DEBUGCALLS, "bulkhead.elf")],
        capture_output=True, text=True, check=True).stdout


# --- gdb -----------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gdb_stops_in_a_partition_and_in_the_ffa_dispatcher():
    port = free_port()
    script = os.path.join(BUILD, "gdb", f"test-{port}.gdb")
    subprocess.run(["make", "-s", "--no-print-directory", f"GDB_PORT={port}",
                    os.path.relpath(os.path.join(BUILD, "gdb", "bulkhead.gdb"), ROOT)],
                   cwd=ROOT, check=True, capture_output=True, timeout=120)
    shutil.copy(os.path.join(BUILD, "gdb", "bulkhead.gdb"), script)
    with open(os.path.join(ROOT, "core", "ffa.c"), encoding="utf-8") as f:
        src = f.read().splitlines()
    line = src.index("void ffa_handle(struct vcpu *v)") + 3  # first statement
    q = subprocess.Popen(QEMU + ["-kernel", IMAGE, "-gdb", f"tcp:127.0.0.1:{port}",
                                 "-S"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        time.sleep(0.5)
        g = subprocess.run(["gdb-multiarch", "-batch", "-nx", "-x", script,
                            "-ex", "break main", "-ex", f"break core/ffa.c:{line}",
                            "-ex", "continue", "-ex", "bt",
                            "-ex", "delete 1", "-ex", "continue", "-ex", "bt",
                            "-ex", "delete", "-ex", "continue"],
                           capture_output=True, text=True, timeout=120, cwd=ROOT)
        # gdb's part first: when it could not connect, QEMU stays halted (-S)
        # and waiting for it would only hide gdb's message
        out = g.stdout
        diag = out + g.stderr
        assert "Breakpoint 1 at" in out and "main. (3 locations)" in out, diag
        assert re.search(r"hit Breakpoint 1\.\d, main \(\) at guest/apps/demo[\w-]*/main\.c:\d+",
                         out), diag
        assert re.search(r"hit Breakpoint 2, ffa_handle \(v=(v@entry=)?0x[0-9a-f]+ "
                         r"<partitions\+\d+>\) at core/ffa\.c:\d+", out), diag
        assert re.search(r"#1  (0x[0-9a-f]+ in )?call_handle \(v=.*\) at core/call\.c:\d+",
                         out), diag
        assert "[Inferior 1 (process 1) exited normally]" in out, diag
        # the demo then runs to its end: seconds, minutes on a loaded machine
        qout, _ = q.communicate(timeout=300)
    finally:
        if q.poll() is None:
            q.kill()
            q.wait()
    assert q.returncode == 0
    assert POWER_OFF in qout.decode(errors="replace").replace("\r", "").splitlines()
    os.remove(script)


# --- Flashing -------------------------------------------------------------------

@pytest.fixture
def fake_card(tmp_path):
    """A block-device node (never opened) and a fake /sys and /proc for it."""
    node = tmp_path / "card"
    os.mknod(node, 0o600 | 0o060000, os.makedev(7, 211))
    sysdir = tmp_path / "sys" / "dev" / "block" / "7:211"
    sysdir.mkdir(parents=True)
    (sysdir / "removable").write_text("1\n")
    (sysdir / "size").write_text("65536\n")
    (tmp_path / "proc" / "self").mkdir(parents=True)
    (tmp_path / "proc" / "self" / "mountinfo").write_text(
        "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n")
    (tmp_path / "proc" / "swaps").write_text("Filename Type Size Used Priority\n")
    return node, sysdir, flash.Host(str(tmp_path / "sys"), str(tmp_path / "proc"))


def test_flash_accepts_an_unmounted_removable_card(fake_card):
    node, _, host = fake_card
    card = flash.check_device(str(node), host)
    assert (card.size, card.name) == (65536 * 512, "7:211")


@pytest.mark.parametrize("damage,message", [
    ("not-removable", "is not a removable device; refusing to overwrite it"),
    ("partition", "is a partition: name the whole card"),
    ("mounted", "has a partition mounted on /media/card: unmount it first"),
    ("no-medium", "has no medium (size 0)"),
])
def test_flash_refuses(fake_card, damage, message):
    node, sysdir, host = fake_card
    if damage == "not-removable":
        (sysdir / "removable").write_text("0\n")
    elif damage == "partition":
        (sysdir / "partition").write_text("1\n")
    elif damage == "mounted":
        with open(os.path.join(host.proc_root, "self", "mountinfo"), "a") as f:
            f.write("40 22 7:211 / /media/card rw - vfat /dev/card rw\n")
    else:
        (sysdir / "size").write_text("0\n")
    with pytest.raises(flash.FlashError, match=re.escape(message)):
        flash.check_device(str(node), host)


def test_flash_refuses_files_and_character_devices(tmp_path):
    f = tmp_path / "f.img"
    f.write_bytes(b"x")
    for path in (str(f), "/dev/null"):
        with pytest.raises(flash.FlashError, match="is not a block device"):
            flash.check_device(path, flash.Host())


def test_flash_asks_and_writes_only_when_confirmed(fake_card, tmp_path, monkeypatch, capsys):
    node, _, host = fake_card
    image = tmp_path / "sd.img"
    image.write_bytes(b"\x55" * 5000)
    monkeypatch.setattr(sys, "stdin", open(os.devnull))
    assert flash.main([str(image), str(node)], host) == 1
    assert "not confirmed; nothing written" in capsys.readouterr().err
    target = tmp_path / "written"
    target.write_bytes(bytes(8192))
    card = flash.Card(str(target), "fake", 8192, "test")
    flash.write_image(str(image), card)
    assert target.read_bytes() == b"\x55" * 5000 + bytes(8192 - 5000)


# --- Reproducibility ------------------------------------------------------------

def test_two_builds_in_different_directories_are_identical(tmp_path):
    outputs = ["bulkhead.img", "bulkhead.itb", "sdcard.img"]
    epoch = subprocess.run(["git", "-C", ROOT, "log", "-1", "--format=%ct"],
                           capture_output=True, text=True).stdout.strip() or "1700000000"
    built = []
    for i, name in enumerate(("first", "second-tree-elsewhere")):
        tree = tmp_path / name
        copy_tree(tree)
        env = dict(os.environ, SOURCE_DATE_EPOCH=epoch)
        env.pop("MAKEFLAGS", None)
        proc = subprocess.run(["make", "-j2", "--no-print-directory", "image", "flash"],
                              cwd=tree, env=env, capture_output=True, text=True,
                              timeout=900)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        ids = re.findall(r"build ID ([0-9a-f]{32})", proc.stdout)
        built.append(({o: (tree / "build" / o).read_bytes() for o in outputs}, ids))
        if i == 0:
            time.sleep(1.5)   # the second build is made at a later time
    (first, ids1), (second, ids2) = built
    for o in outputs:
        assert first[o] == second[o], f"{o} differs between the two builds"
    assert ids1 and ids1 == ids2
    assert ids1[0] == hashlib.sha256(first["bulkhead.img"][:0x28] + bytes(16) +
                                     first["bulkhead.img"][0x38:]).hexdigest()[:32]
