#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run kbuild for an out-of-tree module directory:
#   kmake.sh KDIR MODULE_DIR [make arguments...]
#
# KDIR is a Rust-enabled Linux 7.2 build directory, or a distribution's
# headers directory without the Rust metadata (/lib/modules/<release>/build):
# then distro-kdir.sh prepares the metadata once, and the build runs against
# that prepared tree with the kernel's own compilers.

set -euo pipefail
CACHE=${MDEV_CACHE:-/var/cache/mdev-rs}
BUILD_DIR=$(cd "$(dirname "$0")" && pwd)
# The test bed's cached toolchain is optional: a distribution kernel names
# its own, and a developer's environment may provide bindgen, LIBCLANG_PATH
# and RUST_LIB_SRC for their own kernel.
# shellcheck source=/dev/null
[ -r "$CACHE/toolchain.env" ] && . "$CACHE/toolchain.env"

KDIR=$1 MDIR=$2
shift 2
[ -f "$KDIR/Makefile" ] || { echo "error: KDIR=$KDIR is not a kernel build directory" >&2; exit 1; }
grep -qx 'CONFIG_RUST=y' "$KDIR/.config" 2>/dev/null ||
	{ echo "error: the kernel in $KDIR is not built with CONFIG_RUST=y, so no Rust module can load into it" >&2; exit 1; }

args=()
if [ ! -f "$KDIR/rust/libkernel.rmeta" ]; then
	KDIR=$("$BUILD_DIR/distro-kdir.sh" "$KDIR")
	mapfile -t args < "$KDIR/.mdev-make-args"
	# The distribution's signing key is not in the prepared tree; DKMS
	# signs with its own key (see README).
	args+=(CONFIG_MODULE_SIG_ALL=)
fi
# A kernel built with LLVM (the stress kernel) needs it for its modules too,
# and bindgen the libclang of that LLVM.
if [ -f "$KDIR/.mdev-llvm" ]; then
	llvm=$(cat "$KDIR/.mdev-llvm")
	args+=("LLVM=$llvm")
	export LIBCLANG_PATH=/usr/lib/llvm$llvm/lib
fi
exec make -C "$KDIR" M="$(cd "$MDIR" && pwd)" "${args[@]}" "$@"
