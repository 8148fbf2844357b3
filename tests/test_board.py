"""Board bring-up: U-Boot FIT and SD-card image, boot through Debian's
U-Boot, the board check's refusals, the device-tree reader on malformed
input, gdb, crash reports, flashing refusals, reproducible images."""
import errno
import hashlib
import json
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
import sdcard  # noqa: E402

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


def qemu_until(args: list[str], marker: str, timeout: float) -> list[str]:
    """Runs QEMU until it prints `marker` (or `timeout` passes, or it
    exits), then kills it; the console lines."""
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = b""
    deadline = time.monotonic() + timeout
    os.set_blocking(proc.stdout.fileno(), False)
    try:
        while marker.encode() not in out and time.monotonic() < deadline:
            chunk = proc.stdout.read()
            if chunk:
                out += chunk
            elif proc.poll() is not None:
                break
            else:
                time.sleep(0.1)
        out += proc.stdout.read() or b""
    finally:
        proc.kill()
        proc.wait()
    return [l.rstrip("\r") for l in out.decode(errors="replace").splitlines()]


def layout() -> dict:
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


# O= as `make test` gave it (relative or not: the compiler flags, which
# name it, must not change, or everything is rebuilt)
MAKE_O = os.environ.get("BULKHEAD_BUILD", "build")


def make(*args: str) -> list[str]:
    """Runs make in the build directory the tests use; its output lines."""
    env = {k: v for k, v in os.environ.items() if k != "MAKEFLAGS"}
    proc = subprocess.run(["make", "--no-print-directory", f"O={MAKE_O}", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout.splitlines()


def test_dropping_fit_key_rebuilds_the_fit_unsigned(tmp_path):
    itb = os.path.join(BUILD, "bulkhead.itb")
    with open(itb, "rb") as f:
        unsigned = f.read()
    key = tmp_path / "dev"
    subprocess.run(["openssl", "genrsa", "-out", f"{key}.key", "2048"],
                   check=True, capture_output=True)
    subprocess.run(["openssl", "req", "-batch", "-new", "-x509", "-key", f"{key}.key",
                    "-out", f"{key}.crt", "-subj", "/CN=bulkhead-test"],
                   check=True, capture_output=True)
    try:
        out = make("image", f"FIT_KEY={key}")
        assert f"  U-Boot FIT: {MAKE_O}/bulkhead.itb" in out
        listing = subprocess.run(["mkimage", "-l", itb], capture_output=True,
                                 text=True, check=True).stdout
        assert "Sign algo:    sha256,rsa2048:dev" in listing
    finally:
        out = make("image")  # also puts the build directory back as it was
    assert any(l.startswith("  FIT ") and "signed" not in l for l in out), out
    listing = subprocess.run(["mkimage", "-l", itb], capture_output=True, text=True,
                             check=True).stdout
    assert "Sign" not in listing and "signature" not in listing
    with open(itb, "rb") as f:
        assert f.read() == unsigned
    # make flash puts the FIT in the SD-card image, and says only that
    out = make("flash")
    assert f"  SD-card image: {MAKE_O}/sdcard.img (FAT boot partition: bulkhead.itb, " \
        "boot.scr, boot.cmd)" in out
    assert not any("U-Boot FIT" in l for l in out), out


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
    script = (tmp_path / "boot.cmd").read_text().splitlines()
    commands = [l for l in script if not l.startswith("#")]
    assert commands == [
        "setenv bootm_low 0x40000000",
        "setenv bootm_size 0x40000000",
        "setenv fdt_high 0x80000000",
        'echo "Bulkhead: booting ${devtype} ${devnum}:${distro_bootpart} /bulkhead.itb"',
        "load ${devtype} ${devnum}:${distro_bootpart} 0x41000000 bulkhead.itb",
        "bootm 0x41000000#conf-1 - ${fdtcontroladdr}"]


def test_layout_names_the_board_ram():
    lay = layout()
    assert (lay["ram_base"], lay["ram_size"]) == (0x40000000, 0x40000000)


def small_layout(ram_size: int) -> dict:
    return {"hypervisor": {"base": 0x40200000, "size": 0xe00000}, "payload_region": None,
            "ram_base": 0x40000000, "ram_size": ram_size}


def test_fit_load_address_stays_in_the_manifests_ram():
    # 32 MiB of RAM: the FIT goes at 0x41000000 and may fill it to the end
    assert sdcard.fit_load_address(small_layout(0x2000000), 0x1000000) == 0x41000000
    with pytest.raises(RuntimeError) as e:
        sdcard.fit_load_address(small_layout(0x2000000), 0x1000001)
    assert str(e.value) == ("no room for the FIT (0x1000001 bytes) at 0x41000000: the "
                            "RAM the manifest describes ends at 0x42000000")
    with pytest.raises(RuntimeError, match="RAM the manifest describes ends at 0x41000000"):
        sdcard.fit_load_address(small_layout(0x1000000), 1)
    with pytest.raises(RuntimeError, match=r"layout.json names no board RAM \(ram_base, "
                       r"ram_size\): it was written by an older manifest compiler"):
        sdcard.fit_load_address({k: v for k, v in small_layout(1 << 30).items()
                                 if k != "ram_size"}, 1)
    text = sdcard.BootScript("b.itb", 0x41000000, "conf-1", 0x40000000, 0x2000000).text()
    assert "setenv bootm_size 0x2000000\nsetenv fdt_high 0x42000000\n" in text


def uboot_boot(memory: str) -> list[str]:
    """Boots the SD-card image through U-Boot on a board with `memory`
    of RAM; checks that the demo ran to its end (exit 0)."""
    sd = os.path.join(BUILD, "sdcard.img")
    code, out = qemu(SEMIHOSTING + ["-bios", UBOOT, "-drive",
                                    f"if=none,file={sd},format=raw,id=bootdisk,readonly=on",
                                    "-device", "virtio-blk-device,drive=bootdisk"], 180,
                     replace={"1G": memory})
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
    return out


def test_uboot_boots_the_demo_from_the_sd_card():
    uboot_boot("1G")


def test_uboot_keeps_the_device_tree_in_the_manifests_ram_on_a_larger_board():
    # 2 GiB: U-Boot lives at the top (0xbf...) and, unless the script
    # says otherwise, relocates the device tree there (0xbdca8000), which
    # the hypervisor refuses: it maps only the manifest's 0x40000000-0x80000000
    out = uboot_boot("2G")
    moved = [re.fullmatch(r"   Loading Device Tree to ([0-9a-f]+), end ([0-9a-f]+) \.\.\. OK",
                          l) for l in out]
    (start, end), = [(int(m.group(1), 16), int(m.group(2), 16)) for m in moved if m]
    assert 0x40000000 <= start < end < 0x80000000, (hex(start), hex(end))
    assert not any("outside the RAM" in l for l in out)


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


def refusal(args: list[str]) -> tuple[int, list[str], list[str]]:
    """Boots with semihosting (a refusal exits 1): the status, the
    console, and the hypervisor's complaints after it read the device
    tree (not the partition table's indented lines)."""
    proc = subprocess.run(args + SEMIHOSTING, capture_output=True, timeout=60)
    out = [l.rstrip("\r") for l in proc.stdout.decode(errors="replace").splitlines()]
    after = out.index(next(x for x in out if "DTB passed" in x))
    complaints = [l for l in out[after + 1:] if l.startswith("[bulkhead] ") and
                  not l.startswith("[bulkhead]  ")]
    return proc.returncode, out, complaints


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
    code, out, complaints = refusal(args + ["-kernel", IMAGE])
    assert code == 1, "\n".join(out)
    assert complaints == expected + [REFUSED]
    assert not any(l.startswith(("[control]", "[sensor]", "[logger]")) for l in out)


# The board's device tree edited (QEMU's own, dumped, then fdtput), passed
# with -dtb: QEMU hands it to the image in x0 as a loader would.
DTB_EDITS = {
    "uart-elsewhere": ("pl011@9000000", ["0", "9100000", "0", "1000"], [
        "[bulkhead] manifest's UART (PL011) at 0x9000000 is not on the board"]),
    "gic-distributor-elsewhere": (
        "intc@8000000", ["0", "8100000", "0", "10000", "0", "80a0000", "0", "f60000"], [
            "[bulkhead] manifest's GIC distributor is at 0x8000000, the board's at "
            "0x8100000"]),
    "gic-redistributors-smaller": (
        "intc@8000000", ["0", "8000000", "0", "10000", "0", "80a0000", "0", "f00000"], [
            "[bulkhead] manifest's GIC redistributors 0x80a0000-0x9000000 are not in "
            "the board's redistributor regions"]),
}


@pytest.fixture(scope="module")
def board_dtb(tmp_path_factory):
    """QEMU's device tree of the board the tests boot (-M, -smp, -m as QEMU)."""
    path = tmp_path_factory.mktemp("board") / "board.dtb"
    machine = QEMU[QEMU.index("-M") + 1]
    subprocess.run(QEMU[:QEMU.index("-M")] + ["-M", f"{machine},dumpdtb={path}"] +
                   QEMU[QEMU.index("-M") + 2:], check=True, capture_output=True,
                   timeout=30)
    return path


def test_board_check_accepts_the_boards_own_device_tree_passed_with_dtb(board_dtb):
    out = qemu_until(QEMU + SEMIHOSTING + ["-kernel", IMAGE, "-dtb", str(board_dtb)],
                     "[control]", 60)
    assert "[bulkhead] board: 4 CPUs, 1 RAM range(s) from 0x40000000, GICv3 at " \
        "0x8000000, PL011 at 0x9000000: matches the manifest" in out, "\n".join(out)


@pytest.mark.parametrize("case", sorted(DTB_EDITS))
def test_board_check_refuses_a_device_tree_with_devices_elsewhere(case, board_dtb, tmp_path):
    node, reg, expected = DTB_EDITS[case]
    dtb = tmp_path / "edited.dtb"
    shutil.copy(board_dtb, dtb)
    subprocess.run(["fdtput", "-t", "x", str(dtb), f"/{node}", "reg", *reg], check=True)
    assert subprocess.run(["fdtget", "-t", "x", str(dtb), f"/{node}", "reg"],
                          capture_output=True, text=True,
                          check=True).stdout.split() == reg
    code, out, complaints = refusal(QEMU + ["-kernel", IMAGE, "-dtb", str(dtb)])
    assert code == 1, "\n".join(out)
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
    lines = qemu_until(QEMU + ["-kernel", image], "all CPUs stopped", 60)
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


def wait_for_port(port: int, proc: subprocess.Popen, seconds: float = 60) -> None:
    """Returns once something accepts connections on 127.0.0.1:`port`
    (QEMU's gdb stub; QEMU takes the next connection after a closed one)."""
    deadline = time.monotonic() + seconds
    while True:
        assert proc.poll() is None, f"QEMU exited ({proc.returncode}) before its gdb stub listened"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert time.monotonic() < deadline, f"nothing listens on port {port} after {seconds} s"
            time.sleep(0.05)


def source_line(path: str, text: str) -> int:
    """The 1-based line of `path` (under ROOT) that is exactly `text`."""
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read().splitlines().index(text) + 1


def test_gdb_stops_in_a_partition_and_in_the_ffa_dispatcher():
    port = free_port()
    script = os.path.join(BUILD, "gdb", f"test-{port}.gdb")
    make(f"GDB_PORT={port}", f"{MAKE_O}/gdb/bulkhead.gdb")
    shutil.copy(os.path.join(BUILD, "gdb", "bulkhead.gdb"), script)
    main_call = source_line("guest/runtime.c", "\tmain();")            # in guest_boot
    ffa_call = source_line("core/call.c", "\t\tffa_handle(v);")        # in call_handle
    q = subprocess.Popen(QEMU + ["-kernel", IMAGE, "-gdb", f"tcp:127.0.0.1:{port}",
                                 "-S"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, q)
        # past-main: the backtrace at main shows who called it (by default
        # gdb stops at main)
        g = subprocess.run(["gdb-multiarch", "-batch", "-nx", "-x", script,
                            "-ex", "set backtrace past-main on",
                            "-ex", "break main", "-ex", "break ffa_handle",
                            "-ex", "continue", "-ex", "bt",
                            "-ex", "delete 1", "-ex", "continue", "-ex", "bt",
                            "-ex", "delete", "-ex", "continue"],
                           capture_output=True, text=True, timeout=120, cwd=ROOT)
        # gdb's part first: when it could not connect, QEMU stays halted (-S)
        # and waiting for it would only hide gdb's message
        out = g.stdout
        diag = out + g.stderr
        lines = out.splitlines()
        assert "Breakpoint 1 at" in out and "main. (3 locations)" in out, diag
        assert re.search(r"^Breakpoint 2 at 0x[0-9a-f]+: file core/ffa\.c, line \d+\.$",
                         out, re.M), diag
        hit = re.search(r"hit Breakpoint 1\.\d, main \(\) at (guest/apps/demo[\w-]*/main\.c):(\d+)",
                        out)
        assert hit, diag
        at_main = lines.index(f"#0  main () at {hit.group(1)}:{hit.group(2)}")
        assert re.fullmatch(r"#1  0x[0-9a-f]+ in guest_boot \(dtb=.*\) at "
                            rf"guest/runtime\.c:{main_call}", lines[at_main + 1]), diag
        assert re.search(r"hit Breakpoint 2, ffa_handle \(v=(v@entry=)?0x[0-9a-f]+ "
                         r"<partitions\+\d+>\) at core/ffa\.c:\d+", out), diag
        at_ffa = next(i for i, l in enumerate(lines) if l.startswith("#0  ffa_handle ("))
        assert re.fullmatch(r"#1  0x[0-9a-f]+ in call_handle \(v=.*\) at "
                            rf"core/call\.c:{ffa_call}", lines[at_ffa + 1]), diag
        frames = [l for l in lines[at_ffa:] if l.startswith("#")]
        assert any(re.match(r"#\d+  (0x[0-9a-f]+ in )?cpu_main[.\w]* \(", l)
                   for l in frames), diag
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
    """A block-device node (never opened) and a fake /sys and /proc for it,
    laid out as the kernel does: /sys/dev/block/7:211 links to the disk's
    directory, sdz, which holds its partition sdz1 (7:212)."""
    node = tmp_path / "card"
    os.mknod(node, 0o600 | 0o060000, os.makedev(7, 211))
    disk = tmp_path / "sys" / "devices" / "virtual" / "block" / "sdz"
    (disk / "holders").mkdir(parents=True)
    (disk / "device").mkdir()
    (disk / "removable").write_text("1\n")
    (disk / "size").write_text("65536\n")
    (disk / "dev").write_text("7:211\n")
    (disk / "sdz1" / "holders").mkdir(parents=True)
    (disk / "sdz1" / "dev").write_text("7:212\n")
    (disk / "sdz1" / "partition").write_text("1\n")
    links = tmp_path / "sys" / "dev" / "block"
    links.mkdir(parents=True)
    os.symlink("../../devices/virtual/block/sdz", links / "7:211")
    os.symlink("../../devices/virtual/block/sdz/sdz1", links / "7:212")
    (tmp_path / "proc" / "self").mkdir(parents=True)
    (tmp_path / "proc" / "self" / "mountinfo").write_text(
        "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n")
    (tmp_path / "proc" / "swaps").write_text("Filename Type Size Used Priority\n")
    return node, disk, flash.Host(str(tmp_path / "sys"), str(tmp_path / "proc"))


def test_flash_accepts_an_unmounted_removable_card(fake_card):
    node, _, host = fake_card
    card = flash.check_device(str(node), host)
    assert (card.size, card.name, card.medium) == (65536 * 512, "sdz", "removable")


def test_flash_accepts_an_sd_card_in_a_built_in_reader(fake_card):
    # Linux's MMC block driver: removable 0, device/type SD (mmcblkN)
    node, disk, host = fake_card
    (disk / "removable").write_text("0\n")
    (disk / "device" / "type").write_text("SD\n")
    (disk / "device" / "name").write_text("SD32G\n")
    card = flash.check_device(str(node), host)
    assert (card.name, card.medium, card.model) == ("sdz", "SD card", "SD32G")


@pytest.mark.parametrize("damage,message", [
    ("not-removable", "(sdz) is not a removable device; refusing to overwrite it"),
    ("emmc", "(sdz) is eMMC (soldered flash, MMC type), not an SD card; refusing "
             "to overwrite it"),
    ("sdio", "(sdz) is not a removable device; refusing to overwrite it"),
    ("partition", "is a partition: name the whole card"),
    ("mounted", "(sdz) has a partition mounted on /media/card: unmount it first"),
    ("partition-mounted", "(sdz) has a partition mounted on /media/p1: unmount it first"),
    ("held", "(sdz): sdz is held by md127 (dm-crypt, LVM or RAID): close or remove "
             "that first"),
    ("partition-held", "(sdz): sdz1 is held by dm-0 (luks-1234), dm-1 (dm-crypt, LVM "
                       "or RAID): close or remove that first"),
    ("no-medium", "(sdz) has no medium (size 0)"),
])
def test_flash_refuses(fake_card, damage, message):
    node, disk, host = fake_card
    mountinfo = os.path.join(host.proc_root, "self", "mountinfo")
    if damage == "not-removable":
        (disk / "removable").write_text("0\n")
    elif damage in ("emmc", "sdio"):
        (disk / "removable").write_text("0\n")
        (disk / "device" / "type").write_text({"emmc": "MMC", "sdio": "SDIO"}[damage] + "\n")
    elif damage == "partition":
        node = node.parent / "part"
        os.mknod(node, 0o600 | 0o060000, os.makedev(7, 212))
    elif damage == "mounted":
        with open(mountinfo, "a") as f:
            f.write("40 22 7:211 / /media/card rw - vfat /dev/card rw\n")
    elif damage == "partition-mounted":
        with open(mountinfo, "a") as f:
            f.write("41 22 7:212 / /media/p1 rw - vfat /dev/card1 rw\n")
    elif damage == "held":
        (disk / "holders" / "md127").mkdir()
    elif damage == "partition-held":
        (disk / "sdz1" / "holders" / "dm-0" / "dm").mkdir(parents=True)
        (disk / "sdz1" / "holders" / "dm-0" / "dm" / "name").write_text("luks-1234\n")
        (disk / "sdz1" / "holders" / "dm-1").mkdir()
    else:
        (disk / "size").write_text("0\n")
    with pytest.raises(flash.FlashError) as e:
        flash.check_device(str(node), host)
    assert str(e.value) == (f"{node} is a partition: name the whole card (e.g. /dev/sdb, "
                            "not /dev/sdb1)" if damage == "partition" else f"{node} {message}")


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


def test_flash_opens_the_card_exclusively(tmp_path, monkeypatch):
    """O_EXCL on a block device: the kernel refuses (EBUSY) while a mount,
    a dm/md device or another O_EXCL opener has it, and keeps others out
    while we write. (A regular file stands in: Linux ignores O_EXCL there.)"""
    image = tmp_path / "sd.img"
    image.write_bytes(b"\xaa" * 3000)
    target = tmp_path / "card"
    target.write_bytes(bytes(4096))
    card = flash.Card(str(target), "fake", 4096, "test")
    opened = []
    real_open = os.open

    def record(path, flags, *args):
        opened.append((str(path), flags))
        return real_open(path, flags, *args)
    monkeypatch.setattr(os, "open", record)
    flash.write_image(str(image), card)
    assert target.read_bytes() == b"\xaa" * 3000 + bytes(1096)
    (flags,) = [f for p, f in opened if p == str(target)]
    assert flags & os.O_EXCL and flags & os.O_ACCMODE == os.O_RDWR

    def busy(path, flags, *args):
        if str(path) == str(target):
            raise OSError(errno.EBUSY, os.strerror(errno.EBUSY), str(path))
        return real_open(path, flags, *args)
    monkeypatch.setattr(os, "open", busy)
    target.write_bytes(bytes(4096))
    with pytest.raises(flash.FlashError) as e:
        flash.write_image(str(image), card)
    assert str(e.value) == (f"{target} is busy: something claimed it (mounted, or in use "
                            "by device mapper, LVM, RAID or another program); nothing "
                            "written")
    assert target.read_bytes() == bytes(4096)


def test_flash_says_what_a_busy_card_is(fake_card, tmp_path, monkeypatch, capsys):
    node, _, host = fake_card
    image = tmp_path / "sd.img"
    image.write_bytes(b"\x55" * 512)
    real_open = os.open

    def busy(path, flags, *args):
        if str(path) == str(node):
            raise OSError(errno.EBUSY, os.strerror(errno.EBUSY), str(path))
        return real_open(path, flags, *args)
    monkeypatch.setattr(os, "open", busy)
    assert flash.main(["--yes", str(image), str(node)], host) == 1
    out, err = capsys.readouterr()
    assert out == f"flash: {node} is sdz, unknown model, 32 MiB, removable, nothing " \
        "mounted or held\n"
    assert err == f"flash: error: {node} is busy: something claimed it (mounted, or in " \
        "use by device mapper, LVM, RAID or another program); nothing written\n"


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
