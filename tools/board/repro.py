"""Reproducible-build helpers shared by the board tools.

Every timestamp a board tool writes (FIT, boot script, FAT directory
entries) comes from SOURCE_DATE_EPOCH, or when that is unset from the
commit date of the source tree, or 0 outside a git checkout.
"""
import os
import subprocess
import sys
from collections.abc import Callable


def source_date_epoch(tree: str) -> int:
    """SOURCE_DATE_EPOCH if set (must be an integer), else the commit time
    of `tree`'s HEAD, else 0."""
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if value is not None and value != "":
        if not value.isdigit():
            raise ValueError(f"SOURCE_DATE_EPOCH must be a number of seconds, "
                             f"not {value!r}")
        return int(value)
    try:
        out = subprocess.run(["git", "-C", tree, "log", "-1", "--format=%ct"],
                             capture_output=True, text=True, check=True).stdout
        return int(out.strip())
    except (OSError, subprocess.CalledProcessError, ValueError):
        return 0


def build_main(tool: str, build: Callable[[int], object]) -> int:
    """A board tool's exit status: runs `build` with the epoch of the tree
    in the current directory; 1 after printing "<tool>: error: ..." when
    it fails, else 0."""
    try:
        build(source_date_epoch(os.getcwd()))
    except (RuntimeError, OSError, ValueError, KeyError) as e:
        print(f"{tool}: error: {e}", file=sys.stderr)
        return 1
    return 0


def tool_env(epoch: int) -> dict[str, str]:
    """The environment for mkimage and mtools: fixed time, C locale."""
    env = dict(os.environ)
    env["SOURCE_DATE_EPOCH"] = str(epoch)
    env["LC_ALL"] = "C"
    env["TZ"] = "UTC"
    env["MTOOLS_SKIP_CHECK"] = "1"
    return env


def run(cmd: list[str], epoch: int, cwd: str | None = None) -> None:
    """Runs a tool; raises RuntimeError with its own message on failure."""
    try:
        proc = subprocess.run(cmd, cwd=cwd, env=tool_env(epoch),
                              capture_output=True, text=True)
    except OSError as e:
        raise RuntimeError(f"cannot run {cmd[0]}: {e}") from e
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n"
                           f"{proc.stderr.strip() or proc.stdout.strip()}")
