"""Image files: only files inside an image directory are ever packed.

Shared by the manifest compiler and the image packer, which both check."""
import os
import re
from typing import Optional

# build outputs: a name make, JSON and the memory map all take as it is
_SAFE_RE = re.compile(r"[A-Za-z0-9._+/-]+")


def name_problem(name: str) -> Optional[str]:
    """Why `name` is not a plain relative path, or None."""
    if not name:
        return "is empty"
    if not _SAFE_RE.fullmatch(name):
        return "may hold only letters, digits and . _ + - /"
    if os.path.isabs(name):
        return "is an absolute path"
    if any(part in ("", ".", "..") for part in name.split("/")):
        return "has an empty, '.' or '..' path component"
    return None


def inside(path: str, directory: str) -> bool:
    """Whether `path`, symbolic links resolved, lies inside `directory`."""
    real = os.path.realpath(path)
    root = os.path.realpath(directory)
    return os.path.commonpath([real, root]) == root


def find(name: str, directories: list[str]) -> tuple[Optional[str], Optional[str]]:
    """(path, None) for the first image directory holding `name` as a file
    that stays inside it; (None, why) otherwise."""
    why = name_problem(name)
    if why:
        return None, why
    for d in directories:
        path = os.path.join(d, name)
        if os.path.isfile(path):
            if not inside(path, d):
                return None, (f"resolves to {os.path.realpath(path)}, outside the "
                              f"image directory {d}")
            return path, None
    return None, None
