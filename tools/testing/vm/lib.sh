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

# Four kernels are built from that source: the test kernel (tinyconfig plus
# mdev-test.config, full of debugging options); for `make bench` only, the
# benchmark kernel (the same plus mdev-bench.config, which turns them off);
# and for `make stress` only, the stress kernel (the test kernel plus KASAN
# and delayed kobject release, mdev-stress.config) and the KCSAN kernel (the
# test kernel plus KCSAN, mdev-kcsan.config).  Those two are built with
# LLVM: with GCC, Rust and KASAN exclude each other.
# MDEV_KERNEL=bench, stress or kcsan selects one of the last three.
MDEV_KERNEL=${MDEV_KERNEL:-test}
KERNEL_LLVM=""
case "$MDEV_KERNEL" in
test) KCONFIG_FRAGMENTS="$VM_DIR/mdev-test.config" KBUILD_PREFIX=kbuild ;;
bench) KCONFIG_FRAGMENTS="$VM_DIR/mdev-test.config $VM_DIR/mdev-bench.config" KBUILD_PREFIX=kbuild-bench ;;
stress|kcsan)
	KCONFIG_FRAGMENTS="$VM_DIR/mdev-test.config $VM_DIR/mdev-$MDEV_KERNEL.config"
	KBUILD_PREFIX=kbuild-$MDEV_KERNEL
	# Debian 12's clang-19, lld-19 and llvm-19 (setup-toolchain.sh installs
	# them for these kernels), with bindgen on the same libclang.
	KERNEL_LLVM=-19
	export LIBCLANG_PATH=/usr/lib/llvm$KERNEL_LLVM/lib
	;;
*) echo "error: MDEV_KERNEL must be test, bench, stress or kcsan, not '$MDEV_KERNEL'" >&2; exit 2 ;;
esac

# The build directory is keyed by everything that changes its output: the
# source version, the compiler versions and the configuration fragments.
kbuild_key() {
	{
		echo "$LINUX_SOURCE_VERSION"
		rustc --version
		gcc --version | sed -n 1p
		[ -z "$KERNEL_LLVM" ] || { "clang$KERNEL_LLVM" --version | sed -n 1p; echo "$LIBCLANG_PATH"; }
		# shellcheck disable=SC2086
		cat $KCONFIG_FRAGMENTS
	} | sha256sum | cut -c1-12
}
KBUILD=$CACHE/$KBUILD_PREFIX-$LINUX_SOURCE_VERSION-$(kbuild_key)

# sync_tree DEST: copy the working tree's sources (tracked and new files,
# not the ignored build products) to DEST, where modules are then built for
# another kernel than the test kernel, whose objects stay in the working
# tree (make bench, make stress).
sync_tree() {
	local repo
	repo=$(cd "$VM_DIR/../../.." && pwd)
	mkdir -p "$1"
	(cd "$repo" && git ls-files -co --exclude-standard -z) |
		rsync -a --from0 --files-from=- "$repo/" "$1/"
}
