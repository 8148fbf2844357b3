"""The design documents in docs/ stay complete and linked: every FF-A
function ID the code defines is in docs/ffa.md, every manifest property the
compiler reads and every rule of its catalogue is in docs/manifest.md, the
README links every document, every link between them resolves, and no
file points at notes outside the repository."""
import os
import re
import subprocess
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, os.path.join(ROOT, "tools"))
from bulkhead_manifest import board, parse  # noqa: E402
from bulkhead_manifest.rules import RULES, WARNING_ONLY  # noqa: E402

DOCS = os.path.join(ROOT, "docs")
DOC_NAMES = ["architecture.md", "ffa.md", "manifest.md", "testing.md"]
LINK_RE = re.compile(r"\]\(([^)\s]+)\)")
ID_RE = re.compile(r"^#define (FFA_[A-Z0-9_]+)\s+(0x[0-9a-f]{8})u$", re.M)


def read(path: str) -> str:
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read()


def slug(heading: str) -> str:
    """The anchor a Markdown renderer gives a heading (GitHub's rule)."""
    text = re.sub(r"&[a-z]+;", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: str) -> set[str]:
    return {slug(m.group(1)) for m in re.finditer(r"^#+ (.+)$", read(path), re.M)}


def test_every_ffa_function_id_is_documented():
    doc = read("docs/ffa.md")
    ids = ID_RE.findall(read("include/bulkhead/ffa.h"))
    assert len(ids) > 40
    missing = []
    for name, value in ids:
        base = re.sub(r"_(32|64)$", "", name)
        if f"`{base}`" not in doc or value not in doc:
            missing.append(f"{name} {value}")
    assert missing == []


def test_every_manifest_property_is_documented():
    doc = read("docs/manifest.md")
    known = (parse.MANIFEST_PROPS | parse.HYPERVISOR_PROPS | parse.PARTITION_PROPS
             | parse.DEVICE_PROPS | parse.SHARED_PROPS | parse.GRANT_PROPS
             | board.PLATFORM_PROPS | {board.BUS_MASTER, board.NO_PASSTHROUGH})
    assert sorted(p for p in known if f"`{p}`" not in doc) == []


def test_the_rules_table_is_the_catalogue():
    doc = read("docs/manifest.md")
    section = doc[doc.index("\n## Rules\n"):]
    section = section[:section.index("\n## ", 1)]
    rows = re.findall(r"^\| `([A-Z0-9-]+)` \| ([a-z, ]+) \|", section, re.M)
    assert [r for r, _ in rows] == list(RULES)
    for rule, severity in rows:
        expected = "warning" if rule in WARNING_ONLY else "error"
        assert expected in severity, rule


def test_the_readme_links_every_document():
    readme = read("README.md")
    for name in DOC_NAMES:
        assert f"](docs/{name})" in readme, name


@pytest.mark.parametrize("path", ["README.md"] + [f"docs/{n}" for n in DOC_NAMES])
def test_links_resolve(path):
    broken = []
    for target in LINK_RE.findall(read(path)):
        if re.match(r"[a-z]+:", target):
            continue  # a URL
        file, _, anchor = target.partition("#")
        resolved = os.path.normpath(os.path.join(os.path.dirname(path), file)) if file else path
        if not os.path.exists(os.path.join(ROOT, resolved)):
            broken.append(target)
        elif anchor and (not resolved.endswith(".md") or anchor not in anchors(resolved)):
            broken.append(target)
    assert broken == []


def test_nothing_points_at_notes_outside_the_repository():
    files = subprocess.run(["git", "-C", ROOT, "ls-files", "-z", "--cached", "--others",
                            "--exclude-standard"], capture_output=True, check=True
                           ).stdout.decode().split("\0")
    outside = re.compile(r"/work/shared|ffa-reference\.md|linux-guest\.md")
    bare = re.compile(r"(?<![\w/])(?:" + "|".join(re.escape(n) for n in DOC_NAMES) + r")\b")
    found = []
    for rel in filter(None, files):
        path = os.path.join(ROOT, rel)
        if not os.path.isfile(path) or rel.startswith("docs/") or \
                rel == "tests/test_docs.py":
            continue
        try:
            text = read(rel)
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if outside.search(line) or bare.search(line):
                found.append(f"{rel}:{number}: {line.strip()}")
    assert found == []
