# SPDX-License-Identifier: GPL-2.0
#
# Shared by the test-bed scripts: where the cache lives and what it holds.
# Source it after setup-toolchain.sh has run.

CACHE=${MDEV_CACHE:-/var/cache/mdev-rs}
VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

[ -r "$CACHE/toolchain.env" ] || {
	echo "error: $CACHE/toolchain.env missing: run tools/testing/vm/setup-toolchain.sh" >&2
	exit 1
}
# shellcheck source=/dev/null
. "$CACHE/toolchain.env"

# The pristine kernel source, unpacked once per Debian package version.
KSRC=$CACHE/src/linux-$LINUX_SOURCE_VERSION/linux-source-7.2

# Two kernels are built from that source: the test kernel (tinyconfig plus
# mdev-test.config, full of debugging options) and, for `make bench` only,
# the benchmark kernel (the same plus mdev-bench.config, which turns them off).
# MDEV_KERNEL=bench selects the second.
MDEV_KERNEL=${MDEV_KERNEL:-test}
case "$MDEV_KERNEL" in
test) KCONFIG_FRAGMENTS="$VM_DIR/mdev-test.config" KBUILD_PREFIX=kbuild ;;
bench) KCONFIG_FRAGMENTS="$VM_DIR/mdev-test.config $VM_DIR/mdev-bench.config" KBUILD_PREFIX=kbuild-bench ;;
*) echo "error: MDEV_KERNEL must be test or bench, not '$MDEV_KERNEL'" >&2; exit 2 ;;
esac

# The build directory is keyed by everything that changes its output: the
# source version, the compiler versions and the configuration fragments.
kbuild_key() {
	{
		echo "$LINUX_SOURCE_VERSION"
		rustc --version
		gcc --version | head -n1
		# shellcheck disable=SC2086
		cat $KCONFIG_FRAGMENTS
	} | sha256sum | cut -c1-12
}
KBUILD=$CACHE/$KBUILD_PREFIX-$LINUX_SOURCE_VERSION-$(kbuild_key)
