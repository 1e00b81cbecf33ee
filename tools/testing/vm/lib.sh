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

# The build directory is keyed by everything that changes its output: the
# source version, the compiler versions and the configuration fragment.
kbuild_key() {
	{
		echo "$LINUX_SOURCE_VERSION"
		rustc --version
		gcc --version | head -n1
		cat "$VM_DIR/mdev-test.config"
	} | sha256sum | cut -c1-12
}
KBUILD=$CACHE/kbuild-$LINUX_SOURCE_VERSION-$(kbuild_key)
