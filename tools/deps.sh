#!/bin/sh
# Check for, or install, the Debian packages Bulkhead needs.
#   tools/deps.sh check    exit 1 (and list what is missing) if anything is absent
#   tools/deps.sh install  apt-get install what is missing (idempotent)
set -u
PYTHON=${PYTHON:-/usr/bin/python3}

# package:probe pairs; a probe is "cmd:NAME" or "py:MODULE" or "file:PATH"
REQS="
gcc-aarch64-linux-gnu:cmd:aarch64-linux-gnu-gcc
binutils-aarch64-linux-gnu:cmd:aarch64-linux-gnu-objcopy
qemu-system-arm:cmd:qemu-system-aarch64
device-tree-compiler:cmd:dtc
python3:file:/usr/bin/python3
python3-kconfiglib:py:kconfiglib
python3-libfdt:py:libfdt
python3-pytest:py:pytest
u-boot-tools:cmd:mkimage
u-boot-qemu:file:/usr/lib/u-boot/qemu_arm64/u-boot.bin
mtools:cmd:mcopy
dosfstools:file:/usr/sbin/mkfs.fat
gdb-multiarch:cmd:gdb-multiarch
openssl:cmd:openssl
gcc:cmd:gcc
libc6-dev:file:/usr/include/stdint.h
make:cmd:make
clang-format:cmd:clang-format
flake8:cmd:flake8
e2fsprogs:file:/usr/sbin/debugfs
debian-archive-keyring:file:/usr/share/keyrings/debian-archive-keyring.gpg
linux-source-6.1:file:/usr/src/linux-source-6.1.tar.xz
flex:cmd:flex
bison:cmd:bison
bc:cmd:bc
xz-utils:cmd:xz
"

missing=""
for req in $REQS; do
	pkg=${req%%:*}
	probe=${req#*:}
	kind=${probe%%:*}
	what=${probe#*:}
	case $kind in
	cmd) command -v "$what" >/dev/null 2>&1 && continue ;;
	file) [ -e "$what" ] && continue ;;
	py) [ -x "$PYTHON" ] && "$PYTHON" -c "import $what" >/dev/null 2>&1 && continue ;;
	esac
	missing="$missing $pkg"
done

case ${1:-check} in
check)
	if [ -n "$missing" ]; then
		echo "missing Debian packages:$missing"
		exit 1
	fi
	exit 0
	;;
install)
	if [ -z "$missing" ]; then
		echo "deps: all Debian packages Bulkhead needs are installed"
		exit 0
	fi
	SUDO=""
	if [ "$(id -u)" -ne 0 ]; then
		if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
			SUDO="sudo -n"
		else
			echo "deps: these Debian packages are missing:$missing" >&2
			echo "deps: installing them needs root; run this as root, then make again:" >&2
			echo "" >&2
			echo "    apt-get update && apt-get install --no-install-recommends$missing" >&2
			echo "" >&2
			exit 1
		fi
	fi
	echo "deps: installing Debian packages:$missing"
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update && $SUDO apt-get install -y --no-install-recommends $missing
	;;
*)
	echo "usage: $0 check|install" >&2
	exit 2
	;;
esac
