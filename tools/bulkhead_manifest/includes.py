"""Where a failed /include/ (or /incbin/) is: dtc says only "Couldn't open"
or "Includes nested too deeply", without a line. This walks the includes
the way dtc resolves them (an absolute name as is; else the including
file's directory, then each -i directory in order) and finds the directive
that names a missing file or closes a loop."""
import os
import re
from dataclasses import dataclass
from typing import Optional

from .diag import Location

_DIRECTIVE_RE = re.compile(r'/include/\s*"((?:[^"\\\n]|\\.)*)"|'
                           r'/incbin/\s*\(\s*"((?:[^"\\\n]|\\.)*)"')
_COMMENT_RE = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
MAX_FILES = 1000  # files visited before giving up (dtc allows 200 levels)


@dataclass(frozen=True)
class IncludeProblem:
    location: Location
    message: str


def _blank_comments(text: str) -> str:
    """Comments replaced by spaces, newlines kept, so lines still count."""
    return _COMMENT_RE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def resolve(name: str, including: str, include_dirs: list[str]) -> Optional[str]:
    """The file dtc opens for `name` included from `including`, or None."""
    if os.path.isabs(name):
        return name if os.path.isfile(name) else None
    for d in [os.path.dirname(including)] + include_dirs:
        path = os.path.join(d, name)
        if os.path.isfile(path):
            return path
    return None


def _directives(path: str) -> list[tuple[int, str, bool]]:
    """(line, name, is_incbin) of each directive in the file."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = _blank_comments(f.read())
    except OSError:
        return []
    out = []
    for m in _DIRECTIVE_RE.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        if m.group(1) is not None:
            out.append((line, m.group(1), False))
        else:
            out.append((line, m.group(2), True))
    return out


def find_problem(main: str, include_dirs: list[str]) -> Optional[IncludeProblem]:
    """The first missing include or include loop, depth first as dtc reads."""
    visited = 0
    # each frame: (file, its directives, index of the next one)
    stack: list[tuple[str, list[tuple[int, str, bool]], int]] = [
        (main, _directives(main), 0)]
    while stack:
        path, directives, i = stack[-1]
        if i >= len(directives):
            stack.pop()
            continue
        stack[-1] = (path, directives, i + 1)
        line, name, incbin = directives[i]
        where = Location(path, line)
        target = resolve(name, path, include_dirs)
        if target is None:
            searched = [os.path.dirname(path) or "."] + include_dirs
            what = "/incbin/ file" if incbin else "/include/ file"
            return IncludeProblem(where, f"{what} \"{name}\" not found (looked in "
                                  f"{', '.join(searched)}); check the name or "
                                  "add its directory with -i")
        if incbin:
            continue
        real = os.path.realpath(target)
        chain = [os.path.realpath(p) for p, _, _ in stack]
        if real in chain:
            loop = " -> ".join([p for p, _, _ in stack[chain.index(real):]] + [target])
            return IncludeProblem(where, f"/include/ \"{name}\" closes an include "
                                  f"loop ({loop}); remove one of these includes")
        visited += 1
        if visited > MAX_FILES:
            return IncludeProblem(where, f"more than {MAX_FILES} includes; "
                                  "includes are nested too deeply")
        stack.append((target, _directives(target), 0))
    return None
