#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (or reuse) the Rust-enabled Linux 7.2 test kernel and its modules:
# tinyconfig plus mdev-test.config, built out of the source tree into a cache
# directory keyed by version and configuration.  MDEV_KERNEL=bench builds the
# benchmark kernel instead (mdev-bench.config on top, see lib.sh), and
# MDEV_KERNEL=stress the KASAN kernel, with LLVM.
# MDEV_REBUILD=1 forces a new build.  Prints nothing on stdout but the build
# directory.

set -euo pipefail
. "$(dirname "$0")/lib.sh"

die() { echo "build-kernel: error: $*" >&2; exit 1; }
say() { echo "build-kernel: $*" >&2; }

# A kernel built already is there to use: no need to wait behind someone
# else's build of another kernel (the lock below) to learn that.
if [ "${MDEV_REBUILD:-0}" != 1 ] && [ -f "$KBUILD/.mdev-build-done" ] &&
	[ -f "$KBUILD/usr/include/linux/vfio.h" ]; then
	echo "$KBUILD"
	exit 0
fi

# One build at a time per cache: a second caller waits for the first.
exec 9>"$CACHE/.build-kernel.lock"
flock 9

if [ ! -f "$KSRC/Makefile" ]; then
	say "unpacking linux-source $LINUX_SOURCE_VERSION"
	rm -rf "$(dirname "$KSRC")"
	mkdir -p "$(dirname "$KSRC")"
	tar -C "$(dirname "$KSRC")" -xf "$LINUX_SOURCE_TARBALL" || die "cannot unpack $LINUX_SOURCE_TARBALL"
fi

if [ "${MDEV_REBUILD:-0}" = 1 ]; then
	rm -rf "$KBUILD"
fi
JOBS=$(($(nproc) + 1))
kmake() { make -s -C "$KSRC" O="$KBUILD" ${KERNEL_LLVM:+LLVM=$KERNEL_LLVM} "$@"; }

if [ -f "$KBUILD/.mdev-build-done" ]; then
	# The uapi headers for the test programs (added after some caches were made).
	[ -f "$KBUILD/usr/include/linux/vfio.h" ] || kmake headers_install >/dev/null
	echo "$KBUILD"
	exit 0
fi

mkdir -p "$KBUILD"
# Modules built later against this tree need the same LLVM (kmake.sh).
if [ -n "$KERNEL_LLVM" ]; then echo "$KERNEL_LLVM" > "$KBUILD/.mdev-llvm"; fi
kmake rustavailable >/dev/null 2>"$KBUILD/rustavailable.log" ||
	die "the kernel says Rust is not available: $(cat "$KBUILD/rustavailable.log")"

say "configuring in $KBUILD"
kmake tinyconfig >/dev/null
# shellcheck disable=SC2086
"$KSRC/scripts/kconfig/merge_config.sh" -m -O "$KBUILD" "$KBUILD/.config" \
	$KCONFIG_FRAGMENTS >/dev/null
kmake olddefconfig >/dev/null

# Every symbol of the fragments must have the value asked for (the last
# fragment that names a symbol wins, as in merge_config.sh).
bad=""
# shellcheck disable=SC2086
while IFS= read -r line; do
	sym=${line%%=*} val=${line#*=}
	if [ "$val" = n ]; then
		grep -qx "$sym=[ym]" "$KBUILD/.config" && bad="$bad $sym=n"
	else
		grep -qx "$sym=$val" "$KBUILD/.config" || bad="$bad $line"
	fi
done < <(grep -h '^CONFIG_[A-Za-z0-9_]*=' $KCONFIG_FRAGMENTS | tac | awk -F= '!seen[$1]++' | tac)
[ -z "$bad" ] || die "configuration symbols did not take their values:$bad"

say "building bzImage and modules with -j$JOBS (a few minutes)"
kmake -j"$JOBS" bzImage modules >"$KBUILD/build.log" 2>&1 || {
	tail -n 40 "$KBUILD/build.log" >&2
	die "kernel build failed (log: $KBUILD/build.log)"
}
rm -rf "$KBUILD/modinstall"
kmake INSTALL_MOD_PATH="$KBUILD/modinstall" INSTALL_MOD_STRIP=1 modules_install >/dev/null
kmake headers_install >/dev/null
touch "$KBUILD/.mdev-build-done"
say "kernel ready"
echo "$KBUILD"
