#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run kbuild for an out-of-tree module directory with the cached toolchain:
#   kmake.sh KDIR MODULE_DIR [make arguments...]
# KDIR is a Rust-enabled Linux 7.2 build directory.

set -euo pipefail
CACHE=${MDEV_CACHE:-/var/cache/mdev-rs}
# The cached toolchain is optional when the caller's environment already
# provides bindgen, LIBCLANG_PATH and RUST_LIB_SRC for their own kernel.
# shellcheck source=/dev/null
[ -r "$CACHE/toolchain.env" ] && . "$CACHE/toolchain.env"

KDIR=$1 MDIR=$2
shift 2
[ -f "$KDIR/Makefile" ] || { echo "error: KDIR=$KDIR is not a kernel build directory" >&2; exit 1; }
grep -qx 'CONFIG_RUST=y' "$KDIR/.config" 2>/dev/null ||
	{ echo "error: the kernel in $KDIR is not built with CONFIG_RUST=y" >&2; exit 1; }
exec make -C "$KDIR" M="$(cd "$MDIR" && pwd)" "$@"
