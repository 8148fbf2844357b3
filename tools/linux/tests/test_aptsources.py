import linux_tools_path  # noqa: F401  (first: puts tools/linux on sys.path)

import pytest

from aptsources import (Source, SourcesError, parse_deb822, parse_one_line, read_machine_sources,
                        render_sources_list, select_release)

DEB822 = """\
Types: deb deb-src
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main contrib
Signed-By: -----BEGIN PGP PUBLIC KEY BLOCK-----
 .
 mQINBGQ
 -----END PGP PUBLIC KEY BLOCK-----

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main

Enabled: no
Types: deb
URIs: http://disabled.example/debian
Suites: bookworm
Components: main
"""


def test_one_line_with_options_and_comments():
    text = ("# comment\n\ndeb [arch=amd64 signed-by=/k.gpg] http://m/debian bookworm main contrib # x\n"
            "deb-src http://m/debian bookworm main\n")
    got = parse_one_line(text, "f.list")
    assert got == [("deb", Source("http://m/debian", "bookworm", ("main", "contrib"), "f.list:3")),
                   ("deb-src", Source("http://m/debian", "bookworm", ("main",), "f.list:4"))]


def test_one_line_errors_name_the_line():
    with pytest.raises(SourcesError, match=r"f.list:2: unterminated"):
        parse_one_line("\ndeb [arch=amd64 http://m bookworm main\n", "f.list")
    with pytest.raises(SourcesError, match=r"f.list:1: expected"):
        parse_one_line("deb http://m\n", "f.list")


def test_deb822_paragraphs_types_suites_and_enabled():
    got = parse_deb822(DEB822, "d.sources")
    assert [(k, s.uri, s.suite, s.components) for k, s in got] == [
        ("deb", "http://deb.debian.org/debian", "bookworm", ("main", "contrib")),
        ("deb", "http://deb.debian.org/debian", "bookworm-updates", ("main", "contrib")),
        ("deb-src", "http://deb.debian.org/debian", "bookworm", ("main", "contrib")),
        ("deb-src", "http://deb.debian.org/debian", "bookworm-updates", ("main", "contrib")),
        ("deb", "http://deb.debian.org/debian-security", "bookworm-security", ("main",)),
    ]
    assert got[0][1].origin == "d.sources:1"
    assert got[4][1].origin == "d.sources:11"


def test_deb822_needs_types_uris_suites():
    with pytest.raises(SourcesError, match=r"d.sources:1: a paragraph needs"):
        parse_deb822("Types: deb\nSuites: bookworm\n", "d.sources")


def test_machine_sources_reads_list_and_sources_only(tmp_path):
    (tmp_path / "sources.list").write_text("deb http://a/debian bookworm main\n")
    parts = tmp_path / "sources.list.d"
    parts.mkdir()
    (parts / "b.sources").write_text(DEB822)
    (parts / "c.list").write_text("deb http://c/debian trixie main\n")
    (parts / "x.list.disabled-by-farm").write_text("deb http://x/debian bookworm main\n")
    (parts / "bad name.list").write_text("deb http://y/debian bookworm main\n")
    got = read_machine_sources(str(tmp_path))
    assert [(s.uri, s.suite) for s in got] == [
        ("http://a/debian", "bookworm"),
        ("http://deb.debian.org/debian", "bookworm"),
        ("http://deb.debian.org/debian", "bookworm-updates"),
        ("http://deb.debian.org/debian-security", "bookworm-security"),
        ("http://c/debian", "trixie"),
    ]


def test_select_release_keeps_main_of_the_three_suites():
    sources = [
        Source("http://m/debian/", "bookworm", ("main", "contrib"), "a:1"),
        Source("http://m/debian", "bookworm", ("main",), "a:2"),  # same mirror
        Source("http://s/debian-security", "bookworm-security", ("main",), "a:3"),
        Source("http://m/debian", "bookworm-updates", ("main",), "a:4"),
        Source("http://m/debian", "bookworm-backports", ("main",), "a:5"),
        Source("http://m/debian", "trixie", ("main",), "a:6"),
        Source("http://n/debian", "bookworm", ("contrib",), "a:7"),
        Source("cdrom:[Debian]/", "bookworm", ("main",), "a:8"),
    ]
    got = select_release(sources, "bookworm")
    assert [(s.uri, s.suite, s.components) for s in got] == [
        ("http://m/debian/", "bookworm", ("main",)),
        ("http://m/debian", "bookworm-updates", ("main",)),
        ("http://s/debian-security", "bookworm-security", ("main",)),
    ]


def test_select_release_without_the_release_is_an_error():
    with pytest.raises(SourcesError, match=r"no apt source for Debian 'bookworm'.*suites found: trixie"):
        select_release([Source("http://m/debian", "trixie", ("main",), "a:1")], "bookworm")


def test_render_forces_architecture_and_keyring():
    text = render_sources_list([Source("http://m/debian", "bookworm", ("main",), "a:1")],
                               "arm64", "/usr/share/keyrings/k.gpg")
    assert text == "deb [arch=arm64 signed-by=/usr/share/keyrings/k.gpg] http://m/debian bookworm main\n"
    with pytest.raises(SourcesError, match="cannot use"):
        render_sources_list([Source("http://m/deb]ian", "bookworm", ("main",), "a:1")], "arm64", "/k")
