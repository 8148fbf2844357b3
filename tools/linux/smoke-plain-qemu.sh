#!/bin/sh
# Boots the Linux payloads ($O/linux, from `make linux-payloads`) on plain
# QEMU without Bulkhead and checks them; see smoke_plain_qemu.py. A
# developer check, not part of `make test`. Exit status 0 when all pass.
#   tools/linux/smoke-plain-qemu.sh [--timeout SECONDS]
# Environment: O (build directory, default build), QEMU, CROSS_COMPILE, PYTHON.
set -eu
here=$(dirname "$0")
exec "${PYTHON:-/usr/bin/python3}" "$here/smoke_plain_qemu.py" \
	--linux-dir "${O:-build}/linux" \
	--qemu "${QEMU:-qemu-system-aarch64}" \
	--cross-compile "${CROSS_COMPILE:-aarch64-linux-gnu-}" "$@"
