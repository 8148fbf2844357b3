import linux_tools_path  # noqa: F401  (first: puts tools/linux on sys.path)
import subprocess

import pytest

from disk import HELLO_PATH, HELLO_TEXT, DiskError, cat, create


def test_create_and_read_back(tmp_path):
    src = tmp_path / "data.bin"
    src.write_bytes(b"\x00\x01binary\xff")
    image = str(tmp_path / "disk.img")
    create(image, 8, [("/sub/dir/data.bin", src.read_bytes())])
    assert cat(image, HELLO_PATH) == HELLO_TEXT.encode()
    assert cat(image, "/sub/dir/data.bin") == b"\x00\x01binary\xff"
    with pytest.raises(DiskError, match="no regular file /nope"):
        cat(image, "/nope")
    with pytest.raises(DiskError, match="no regular file /sub"):
        cat(image, "/sub")


def test_dirty_journal_is_refused(tmp_path):
    image = str(tmp_path / "disk.img")
    create(image, 8, [])
    subprocess.run(["/usr/sbin/debugfs", "-w", "-R", "feature needs_recovery", image],
                   check=True, capture_output=True)
    with pytest.raises(DiskError, match="journal needs recovery"):
        cat(image, HELLO_PATH)


@pytest.mark.parametrize("path", ["hello.txt", "/a b", "/a;rm", "/../x", "/", "/a//b"])
def test_unsafe_paths(tmp_path, path):
    with pytest.raises(DiskError, match="give an absolute path"):
        cat(str(tmp_path / "none.img"), path)


def test_not_an_image(tmp_path):
    bad = tmp_path / "bad.img"
    bad.write_bytes(bytes(65536))
    with pytest.raises(DiskError, match="not an ext2/3/4 image"):
        cat(str(bad), HELLO_PATH)


def test_size_limits(tmp_path):
    with pytest.raises(DiskError, match="between 4 and 4096"):
        create(str(tmp_path / "d.img"), 2, [])
