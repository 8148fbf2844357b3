import linux_tools_path  # noqa: F401  (first: puts tools/linux on sys.path)
import hashlib
import json

import pytest

from fetch import Cache, FetchError, Package, Selection, kernel_from_depends, parse_control

SHOW = """\
Package: linux-image-arm64
Source: linux-signed-arm64 (6.1.192+3)
Version: 6.1.192-3
Architecture: arm64
Depends: linux-image-6.1.0-57-arm64 (= 6.1.192-3)
Description: Linux for 64-bit ARMv8 machines (meta-package)
 This package depends on the latest Linux kernel

Package: linux-image-arm64
Version: 6.1.176-1
"""


def test_parse_control_first_paragraph():
    fields = parse_control(SHOW)
    assert fields["version"] == "6.1.192-3"
    assert fields["depends"] == "linux-image-6.1.0-57-arm64 (= 6.1.192-3)"
    assert fields["description"].endswith("\nThis package depends on the latest Linux kernel")


def test_kernel_from_depends():
    assert kernel_from_depends("linux-image-6.1.0-57-arm64 (= 6.1.192-3)") == \
        ("linux-image-6.1.0-57-arm64", "6.1.192-3", "6.1.0-57-arm64")
    assert kernel_from_depends("foo (>= 1), linux-image-6.12.95+deb12-arm64 (= 6.12.95-1~bpo12+1)") == \
        ("linux-image-6.12.95+deb12-arm64", "6.12.95-1~bpo12+1", "6.12.95+deb12-arm64")


@pytest.mark.parametrize("depends", [
    "", "linux-image-6.1.0-57-arm64", "linux-image-6.1.0-57-arm64 (>= 6.1.192-3)",
    "linux-image-6.1.0-57-arm64-unsigned (= 6.1.192-3)", "linux-image-../x-arm64 (= 1)",
])
def test_kernel_from_depends_rejects(depends):
    with pytest.raises(FetchError):
        kernel_from_depends(depends)


def write_cache(tmp_path, kernel_bytes=b"kernel", deb_name="linux-image-x_1_arm64.deb"):
    debs = tmp_path / "debs"
    debs.mkdir()
    (debs / deb_name).write_bytes(kernel_bytes)
    (debs / "busybox-static_1_arm64.deb").write_bytes(b"bb")
    sel = {
        "release": "bookworm", "meta_version": "1", "abi": "6.1.0-1-arm64",
        "kernel": {"name": "linux-image-6.1.0-1-arm64", "version": "1",
                   "sha256": hashlib.sha256(b"kernel").hexdigest(), "size": 6, "deb": deb_name},
        "busybox": {"name": "busybox-static", "version": "1:1.35",
                    "sha256": hashlib.sha256(b"bb").hexdigest(), "size": 2,
                    "deb": "busybox-static_1_arm64.deb"},
    }
    (tmp_path / "resolved.json").write_text(json.dumps(sel))
    return Cache(str(tmp_path))


def test_cache_loads_intact_packages(tmp_path):
    sel, problem = write_cache(tmp_path).load()
    assert problem == ""
    assert sel.kernel == Package("linux-image-6.1.0-1-arm64", "1", hashlib.sha256(b"kernel").hexdigest(),
                                 6, "linux-image-x_1_arm64.deb")


def test_cache_names_a_damaged_package(tmp_path):
    sel, problem = write_cache(tmp_path, kernel_bytes=b"kernex").load()
    assert sel is None
    assert problem.endswith("debs/linux-image-x_1_arm64.deb is missing or damaged")


def test_cache_empty(tmp_path):
    assert Cache(str(tmp_path)).load() == (None, f"nothing is cached in {tmp_path}")


def test_cache_rejects_a_path_in_the_record(tmp_path):
    sel, problem = write_cache(tmp_path, deb_name="../escape.deb").load()
    assert sel is None and "malformed package record" in problem


def test_selection_rejects_bad_hash():
    data = {"release": "b", "meta_version": "1", "abi": "a",
            "kernel": {"name": "k", "version": "1", "sha256": "00", "size": 1, "deb": "k.deb"},
            "busybox": {"name": "b", "version": "1", "sha256": "0" * 64, "size": 1, "deb": "b.deb"}}
    with pytest.raises(FetchError, match="malformed package record for k"):
        Selection.from_json(data)
