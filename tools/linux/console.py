"""A QEMU process whose serial console is its stdin/stdout (-nographic),
driven like a terminal: wait for text, type commands, collect output."""
from __future__ import annotations

import os
import re
import selectors
import subprocess
import time


class ConsoleError(Exception):
    """A wait that timed out or a QEMU that ended early; carries the tail
    of the console output."""


class QemuConsole:
    def __init__(self, argv: list[str], log_path: str | None = None) -> None:
        self.started = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.output = ""
        self.pos = 0  # where the next expect() starts looking
        self._log = open(log_path, "w") if log_path else None
        self._sel = selectors.DefaultSelector()
        assert self.proc.stdout is not None
        self._sel.register(self.proc.stdout, selectors.EVENT_READ)
        self._commands = 0

    def _read(self, timeout: float) -> bool:
        """Reads what is there; False once QEMU's output has ended."""
        assert self.proc.stdout is not None
        if not self._sel.select(timeout=timeout):
            return True
        chunk = os.read(self.proc.stdout.fileno(), 65536)
        if not chunk:
            return False
        text = chunk.decode(errors="replace").replace("\r", "")
        self.output += text
        if self._log:
            self._log.write(text)
            self._log.flush()
        return True

    def tail(self, chars: int = 3000) -> str:
        return self.output[-chars:]

    def expect(self, pattern: str | re.Pattern, timeout: float) -> re.Match:
        """Waits for pattern after the current position and moves past it."""
        regex = pattern if isinstance(pattern, re.Pattern) else re.compile(re.escape(pattern))
        deadline = time.monotonic() + timeout
        while True:
            m = regex.search(self.output, self.pos)
            if m:
                self.pos = m.end()
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise ConsoleError(f"no {regex.pattern!r} within {timeout:.0f} s; console:\n{self.tail()}")
            if not self._read(min(left, 0.5)):
                m = regex.search(self.output, self.pos)
                if m:
                    self.pos = m.end()
                    return m
                raise ConsoleError(f"QEMU ended (exit {self.proc.wait()}) before {regex.pattern!r}; "
                                   f"console:\n{self.tail()}")

    def send(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def command(self, line: str, prompt: str, timeout: float = 30) -> tuple[str, int]:
        """Types `line` at the shell (which has just printed `prompt`);
        returns (its output, its exit status) once the next prompt is out,
        so that the next line is typed into the line editor, not ahead of
        it (the tty would echo it twice). The end marker is split in the
        typed text, so the echo never matches it. Keep lines short."""
        self._commands += 1
        tag = f"__END_{self._commands}__"
        self.send(f'{line}; echo "__END_""{self._commands}__ $?"\n')
        start = self.pos
        m = self.expect(re.compile(rf"(?m)^{re.escape(tag)} (\d+)$"), timeout)
        typed = self.output.find("\n", start)
        body = self.output[typed + 1:m.start()] if 0 <= typed < m.start() else ""
        self.expect(prompt, timeout)
        return body, int(m.group(1))

    def wait_exit(self, timeout: float) -> int:
        """Reads until QEMU exits; its exit status."""
        deadline = time.monotonic() + timeout
        while self._read(0.5):
            if time.monotonic() > deadline:
                raise ConsoleError(f"QEMU still running {timeout:.0f} s later; console:\n{self.tail()}")
        return self.proc.wait(timeout=max(1.0, deadline - time.monotonic()))

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        if self._log:
            self._log.close()
            self._log = None
