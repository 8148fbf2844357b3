#!/usr/bin/python3
"""Fetches the Debian arm64 kernel and busybox-static for Linux partitions.

A private apt configuration (its own sources.list built from the machine's
Debian mirrors, state, cache, keyring and architecture) lives in the cache
directory: the machine's apt setup and dpkg architectures are never changed.
apt verifies the Release signatures (debian-archive-keyring) and the package
hashes; the hashes are checked again here, also on every cached use.

    fetch.py --cache DIR --out packages.json [--refresh]

Without --refresh, packages fetched before are used without any network
access. With --refresh (or with no cache) the mirrors are asked for the
current versions; if they cannot be reached, the cache is used and the
output says so.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass

from aptsources import (Source, SourcesError, parse_deb822, parse_one_line,
                        read_machine_sources, render_sources_list, select_release)

ARCH = "arm64"
KERNEL_META = "linux-image-arm64"
BUSYBOX = "busybox-static"
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
_KERNEL_PKG = re.compile(r"^linux-image-([0-9][A-Za-z0-9.+~-]*-arm64)$")
_VERSION = re.compile(r"^[0-9][A-Za-z0-9.+~:-]*$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# Settings of the machine's apt that a private configuration should keep:
# proxies, transport options and Release validity checks.
_FORWARDED = ("Acquire::http", "Acquire::https", "Acquire::ftp", "Acquire::socks",
              "Acquire::Retries", "Acquire::Check-Valid-Until", "Acquire::Check-Date",
              "Acquire::Max-ValidTime", "Acquire::Min-ValidTime",
              "Acquire::ForceIPv4", "Acquire::ForceIPv6")


class FetchError(Exception):
    """Ends the fetch with one clear message."""


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    sha256: str
    size: int
    deb: str  # file name under the cache's debs/ directory


@dataclass(frozen=True)
class Selection:
    release: str
    meta_version: str  # version of linux-image-arm64 that chose the kernel
    abi: str  # uname -r, also /lib/modules/<abi>
    kernel: Package
    busybox: Package

    @staticmethod
    def from_json(data: dict) -> "Selection":
        try:
            sel = Selection(data["release"], data["meta_version"], data["abi"],
                            Package(**data["kernel"]), Package(**data["busybox"]))
        except (KeyError, TypeError) as e:
            raise FetchError(f"malformed package record: {e}") from e
        for pkg in (sel.kernel, sel.busybox):
            _check_package(pkg)
        return sel


def _check_package(pkg: Package) -> None:
    if not _VERSION.match(pkg.version) or not _SHA256.match(pkg.sha256) \
            or "/" in pkg.deb or not pkg.deb.endswith(".deb") or pkg.size <= 0:
        raise FetchError(f"malformed package record for {pkg.name}")


def sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def parse_control(text: str) -> dict[str, str]:
    """The first paragraph of apt-cache show output, field names lowered."""
    fields: dict[str, str] = {}
    key = ""
    for line in text.splitlines():
        if not line.strip():
            if fields:
                break
            continue
        if line[0] in " \t" and key:
            fields[key] += "\n" + line.strip()
            continue
        name, sep, value = line.partition(":")
        if sep:
            key = name.strip().lower()
            fields[key] = value.strip()
    return fields


def kernel_from_depends(depends: str) -> tuple[str, str, str]:
    """(package, exact version, abi) of the kernel a meta package depends on."""
    for clause in depends.split(","):
        for alt in clause.split("|"):
            m = re.match(r"^\s*(\S+)\s*\(\s*=\s*(\S+)\s*\)\s*$", alt)
            if not m:
                continue
            k = _KERNEL_PKG.match(m.group(1))
            if k and _VERSION.match(m.group(2)):
                return m.group(1), m.group(2), k.group(1)
    raise FetchError(f"{KERNEL_META} depends on no linux-image-<abi>-arm64 (= version): {depends!r}")


class PrivateApt:
    """apt-get/apt-cache run against a configuration under `root` only."""

    def __init__(self, root: str, sources: list[Source], keyring: str) -> None:
        self.root = root
        self.conf = os.path.join(root, "etc", "apt.conf")
        self.sources = sources
        self.keyring = keyring

    def prepare(self) -> None:
        for sub in ("etc/apt.conf.d", "etc/sources.list.d", "etc/preferences.d",
                    "etc/trusted.gpg.d", "state/lists/partial", "cache/archives/partial", "log"):
            os.makedirs(os.path.join(self.root, sub), exist_ok=True)
        open(os.path.join(self.root, "state", "status"), "a").close()
        with open(os.path.join(self.root, "etc", "sources.list"), "w") as f:
            f.write(render_sources_list(self.sources, ARCH, self.keyring))
        with open(self.conf, "w") as f:
            f.write(self._config())

    def _config(self) -> str:
        r = self.root
        lines = [
            "// Private apt configuration of tools/linux/fetch.py (generated).",
            f'Dir::Etc "{r}/etc";',
            "// No main file: everything is here (APT_CONFIG); parts dir empty.",
            'Dir::Etc::main "none.conf";',
            'Dir::Etc::parts "apt.conf.d";',
            'Dir::Etc::sourcelist "sources.list";',
            'Dir::Etc::sourceparts "sources.list.d";',
            'Dir::Etc::preferences "preferences";',
            'Dir::Etc::preferencesparts "preferences.d";',
            'Dir::Etc::trusted "trusted.gpg";',
            'Dir::Etc::trustedparts "trusted.gpg.d";',
            'Dir::Etc::netrc "/etc/apt/auth.conf";',
            'Dir::Etc::netrcparts "/etc/apt/auth.conf.d";',
            f'Dir::State "{r}/state";',
            'Dir::State::lists "lists/";',
            f'Dir::State::status "{r}/state/status";',
            f'Dir::Cache "{r}/cache";',
            'Dir::Cache::archives "archives/";',
            # Small on disk: indexes kept compressed, no binary caches.
            'Acquire::GzipIndexes "true";',
            'Dir::Cache::pkgcache "";',
            'Dir::Cache::srcpkgcache "";',
            f'Dir::Log "{r}/log";',
            f'APT::Architecture "{ARCH}";',
            f'APT::Architectures {{ "{ARCH}"; }};',
            'Acquire::Languages { "none"; };',
            'Acquire::http::Timeout "30";',
            'Acquire::https::Timeout "30";',
            'Acquire::Retries "1";',
        ]
        lines += self._forwarded()
        # Whatever the machine says: signatures and hashes are required.
        lines += [
            'Acquire::AllowInsecureRepositories "false";',
            'Acquire::AllowWeakRepositories "false";',
            'Acquire::AllowDowngradeToInsecureRepositories "false";',
            'APT::Get::AllowUnauthenticated "false";',
        ]
        if os.geteuid() == 0:
            # The cache is in a build directory the _apt user usually cannot
            # reach; apt would fall back to root with a warning anyway.
            lines.append('APT::Sandbox::User "root";')
        return "\n".join(lines) + "\n"

    @staticmethod
    def _forwarded() -> list[str]:
        env = {k: v for k, v in os.environ.items() if k != "APT_CONFIG"}
        env["LC_ALL"] = "C"
        try:
            dump = subprocess.run(["apt-config", "dump"], env=env, capture_output=True,
                                  text=True, check=True).stdout
        except (OSError, subprocess.CalledProcessError):
            return []
        keep = []
        for line in dump.splitlines():
            key = line.split(" ", 1)[0]
            if any(key == p or key.startswith(p + "::") for p in _FORWARDED) \
                    and line.endswith(";") and "\n" not in line:
                keep.append(line)
        return keep

    def run(self, args: list[str], cwd: str | None = None) -> subprocess.CompletedProcess:
        env = dict(os.environ, APT_CONFIG=self.conf, LC_ALL="C", DEBIAN_FRONTEND="noninteractive")
        try:
            return subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True)
        except OSError as e:
            raise FetchError(f"cannot run {args[0]}: {e}") from e

    def update(self) -> str | None:
        """None when the indexes are fresh, else apt's error lines."""
        res = self.run(["apt-get", "-q", "update", "--error-on=any"])
        if res.returncode == 0:
            return None
        lines = [l for l in (res.stdout + res.stderr).splitlines() if l.startswith(("E:", "W:"))]
        return "\n".join(lines[-12:]) or f"apt-get update exited with {res.returncode}"

    def show(self, spec: str) -> dict[str, str]:
        res = self.run(["apt-cache", "show", "--no-all-versions", spec])
        fields = parse_control(res.stdout)
        if res.returncode != 0 or not fields:
            raise FetchError(f"apt-cache show {spec}: {(res.stderr.strip() or 'no such package')}")
        return fields

    def download(self, name: str, version: str, dest_dir: str) -> str:
        """Downloads name=version into dest_dir; returns the file name."""
        tmp = tempfile.mkdtemp(prefix="download-", dir=dest_dir)
        try:
            res = self.run(["apt-get", "-q", "download", f"{name}={version}"], cwd=tmp)
            debs = [n for n in os.listdir(tmp) if n.endswith(".deb")]
            if res.returncode != 0 or len(debs) != 1:
                raise FetchError(f"apt-get download {name}={version} failed:\n"
                                 + (res.stdout + res.stderr).strip())
            os.replace(os.path.join(tmp, debs[0]), os.path.join(dest_dir, debs[0]))
            return debs[0]
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def package_record(apt: PrivateApt, name: str, version: str | None) -> dict[str, str]:
    fields = apt.show(f"{name}={version}" if version else name)
    if fields.get("package") != name or fields.get("architecture") not in (ARCH, "all"):
        raise FetchError(f"apt-cache show {name}: unexpected record "
                         f"({fields.get('package')} {fields.get('architecture')})")
    if version and fields.get("version") != version:
        raise FetchError(f"apt-cache show {name}={version}: got version {fields.get('version')}")
    return fields


def resolve(apt: PrivateApt, release: str) -> tuple[str, str, str, dict[str, str], dict[str, str]]:
    meta = package_record(apt, KERNEL_META, None)
    kname, kversion, abi = kernel_from_depends(meta.get("depends", ""))
    kernel = package_record(apt, kname, kversion)
    busybox = package_record(apt, BUSYBOX, None)
    return meta["version"], kname, abi, kernel, busybox


class Cache:
    """debs/ (package files named by apt, i.e. by version) and resolved.json
    (the last selection made online) under one directory."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.debs = os.path.join(root, "debs")
        self.record = os.path.join(root, "resolved.json")

    def verify(self, pkg: Package) -> bool:
        path = os.path.join(self.debs, pkg.deb)
        return os.path.isfile(path) and os.path.getsize(path) == pkg.size \
            and sha256_file(path) == pkg.sha256

    def load(self) -> tuple[Selection | None, str]:
        """(the cached selection, "") when every package file is present and
        intact, else (None, what is wrong)."""
        if not os.path.exists(self.record):
            return None, f"nothing is cached in {self.root}"
        try:
            with open(self.record) as f:
                sel = Selection.from_json(json.load(f))
        except (OSError, ValueError, FetchError) as e:
            return None, f"{self.record} is unreadable ({e})"
        for pkg in (sel.kernel, sel.busybox):
            if not self.verify(pkg):
                return None, f"the cached {os.path.join(self.debs, pkg.deb)} is missing or damaged"
        return sel, ""

    def store(self, sel: Selection) -> None:
        write_if_changed(self.record, json.dumps(asdict(sel), indent=2) + "\n")


def write_if_changed(path: str, text: str) -> None:
    """Keeps the file (and its mtime, so make rebuilds nothing) if equal."""
    try:
        with open(path) as f:
            if f.read() == text:
                return
    except OSError:
        pass
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def fetch_online(cache: Cache, sources: list[Source], keyring: str, release: str) -> Selection:
    apt = PrivateApt(os.path.join(cache.root, "apt"), sources, keyring)
    apt.prepare()
    print(f"linux-fetch: apt-get update (private, {ARCH}) from "
          + ", ".join(f"{s.uri} {s.suite}" for s in sources), flush=True)
    problem = apt.update()
    if problem is not None:
        raise OfflineError(problem)
    meta_version, kname, abi, kernel, busybox = resolve(apt, release)
    os.makedirs(cache.debs, exist_ok=True)
    chosen = []
    for fields in (kernel, busybox):
        name, version = fields["package"], fields["version"]
        sha, size = fields.get("sha256", ""), fields.get("size", "")
        if not _SHA256.match(sha) or not size.isdigit() or not _VERSION.match(version):
            raise FetchError(f"{name}: index record lacks a usable SHA256/Size/Version")
        known = [n for n in os.listdir(cache.debs) if n.startswith(f"{name}_") and n.endswith(".deb")]
        pkg = None
        for n in known:
            candidate = Package(name, version, sha, int(size), n)
            if cache.verify(candidate):
                pkg = candidate
                print(f"linux-fetch: {name} {version}: cached")
                break
        if pkg is None:
            print(f"linux-fetch: downloading {name} {version} ({int(size) >> 10} KiB)", flush=True)
            deb = apt.download(name, version, cache.debs)
            pkg = Package(name, version, sha, int(size), deb)
            if not cache.verify(pkg):
                raise FetchError(f"{deb}: size or SHA256 differs from the signed index")
        chosen.append(pkg)
    keep = {p.deb for p in chosen}
    for n in os.listdir(cache.debs):
        if n.endswith(".deb") and n not in keep:
            print(f"linux-fetch: removing the superseded {n} from the cache")
            os.unlink(os.path.join(cache.debs, n))
    return Selection(release, meta_version, abi, chosen[0], chosen[1])


class OfflineError(Exception):
    """The mirrors could not be reached (apt's error lines in args[0])."""


def load_sources(args: argparse.Namespace) -> list[Source]:
    if args.sources:
        try:
            with open(args.sources, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            raise FetchError(f"--sources {args.sources}: {e}") from e
        parse = parse_deb822 if args.sources.endswith(".sources") else parse_one_line
        entries = [s for kind, s in parse(text, args.sources) if kind == "deb"]
    else:
        entries = read_machine_sources(args.etc_apt)
    return select_release(entries, args.release)


def describe(sel: Selection) -> str:
    return (f"{sel.kernel.name} {sel.kernel.version} (from {KERNEL_META} {sel.meta_version}), "
            f"{sel.busybox.name} {sel.busybox.version}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache", required=True, help="cache directory (apt state, package files)")
    ap.add_argument("--out", required=True, help="packages.json to write (changed only if different)")
    ap.add_argument("--refresh", action="store_true", help="ask the mirrors for the current versions")
    ap.add_argument("--release", default="bookworm")
    ap.add_argument("--sources", help="apt sources file to use instead of the machine's")
    ap.add_argument("--etc-apt", default="/etc/apt", help=argparse.SUPPRESS)
    ap.add_argument("--keyring", default=KEYRING)
    args = ap.parse_args(argv)

    cache = Cache(os.path.abspath(args.cache))
    os.makedirs(cache.root, exist_ok=True)
    cached, cache_problem = cache.load()
    try:
        if cached is not None and not args.refresh:
            print(f"linux-fetch: cached, no network used: {describe(cached)} "
                  f"(make linux-refresh looks for newer ones)")
            sel = cached
        else:
            if not os.path.isfile(args.keyring):
                raise FetchError(f"{args.keyring} is missing (Debian package debian-archive-keyring)")
            sources = load_sources(args)
            try:
                sel = fetch_online(cache, sources, os.path.abspath(args.keyring), args.release)
                cache.store(sel)
                print(f"linux-fetch: current: {describe(sel)}")
            except OfflineError as e:
                if cached is None:
                    raise FetchError(
                        f"cannot use the Debian mirror(s), and {cache_problem}:\n{e.args[0]}\n"
                        "Check the network (or apt's proxy settings) and the errors "
                        "above, then run the build again.") from e
                print(f"linux-fetch: the Debian mirror(s) could not be used:\n{e.args[0]}\n"
                      f"linux-fetch: offline: reusing the cached {describe(cached)}")
                sel = cached
    except (FetchError, SourcesError) as e:
        print(f"linux-fetch: error: {e}", file=sys.stderr)
        return 1
    out = dict(asdict(sel), debs=cache.debs)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    write_if_changed(args.out, json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
