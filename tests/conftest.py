"""Shared helpers: build paths, running QEMU with a timeout, parsing results."""
import os
import re
import subprocess
from dataclasses import dataclass

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, os.environ.get("BULKHEAD_BUILD", "build"))
PYTHON = os.environ.get("PYTHON", "/usr/bin/python3")
QEMU = ["qemu-system-aarch64", "-M", "virt,virtualization=on,gic-version=3",
        "-cpu", "max", "-smp", "4", "-m", "1G", "-nographic", "-no-reboot", "-nic", "none"]
# Scenarios that run long under TCG (seconds before QEMU is killed).
SCENARIO_TIMEOUTS = {"ffa-stress": 300, "ffa-mem-stress": 300}
RESULT_RE = re.compile(r"^\[([\w.-]+)\] TEST-RESULT (\S+) (PASS|FAIL)\s*$")


@dataclass
class Boot:
    output: str
    returncode: int

    @property
    def lines(self) -> list[str]:
        return [l.rstrip("\r") for l in self.output.splitlines()]

    def results(self) -> dict[str, str]:
        out = {}
        for line in self.lines:
            m = RESULT_RE.match(line)
            if m:
                out[f"{m.group(1)}:{m.group(2)}"] = m.group(3)
        return out


def boot(image: str, timeout: float = 60, stdin: bytes | None = None,
         send_after: str | None = None) -> Boot:
    """Boots `image` in QEMU; kills it after `timeout` seconds. With
    send_after, `stdin` is typed once that text has appeared."""
    proc = subprocess.Popen(QEMU + ["-kernel", image], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = b""
    sent = False
    import selectors
    import time
    deadline = time.monotonic() + timeout
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                proc.kill()
                proc.wait()
                raise AssertionError(f"QEMU timed out after {timeout}s; output:\n"
                                     + out.decode(errors="replace")[-3000:])
            if sel.select(timeout=min(left, 0.5)):
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    break
                out += chunk
            if stdin and send_after and not sent and send_after.encode() in out:
                proc.stdin.write(stdin)
                proc.stdin.flush()
                sent = True
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    return Boot(out.decode(errors="replace"), proc.returncode)


def product_image(name: str) -> str:
    return os.path.join(BUILD, "products", name, "bulkhead.img")


def declared_cases(partition_dir: str) -> list[str]:
    """suite.name of every TEST(...) in a test partition's sources."""
    cases = []
    for fn in sorted(os.listdir(partition_dir)):
        if fn.endswith(".c"):
            with open(os.path.join(partition_dir, fn), encoding="utf-8") as f:
                cases += [f"{s}.{n}" for s, n in
                          re.findall(r"^TEST\((\w+),\s*(\w+)\)", f.read(), re.M)]
    return cases


@pytest.fixture(scope="session")
def boots():
    """Boots each scenario once per session, on first use."""
    cache: dict[str, Boot] = {}

    def get(name: str, **kw) -> Boot:
        if name not in cache:
            kw.setdefault("timeout", SCENARIO_TIMEOUTS.get(name, 60))
            cache[name] = boot(product_image(name), **kw)
        return cache[name]
    return get
