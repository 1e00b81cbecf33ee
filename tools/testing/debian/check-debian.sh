#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check-debian`: the Rust core on Debian's own 7.2 kernel, as a Debian
# user installs it.
#   1. debian-root.sh: Debian's kernel packages of the pinned version and a
#      Debian root of that kernel's suite, with its headers and source.
#   2. In that root (in-root.sh): make modules against the headers (which
#      prepares the Rust metadata), make install/uninstall into a copy of
#      the module tree, the DKMS flow, the C vendors built out of tree, and
#      make install into the guest's module tree (Debian's own modules).
#   3. Debian's own vmlinuz boots under QEMU on that module tree, with kmod
#      and mdevctl from the root, and runs the kselftests that do not need
#      the debug test kernel, plus drop_in.sh (modprobe picks our core).
# Ends with "N passed, N failed, N skipped" over both parts.

set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
VM=$REPO/tools/testing/vm
die() { echo "check-debian: error: $*" >&2; exit 1; }
say() { echo "check-debian: $*" >&2; }
. "$HERE/debian-kernel.conf"
. "$VM/totals.sh"
REL=$DEBIAN_KERNEL_RELEASE
start=$(date +%s)

"$VM/setup-toolchain.sh"
. "$VM/lib.sh"
TOP=$("$HERE/debian-root.sh")
ROOT=$TOP/root
VERSION=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$REPO/dkms.conf")
[ -n "$VERSION" ] || die "no PACKAGE_VERSION in dkms.conf"

# The project, as a user unpacks it where DKMS expects it: the tracked
# files only, so nothing built on this machine comes along.
SRC=$ROOT/usr/src/mdev-rs-$VERSION
rm -rf "$SRC" && mkdir -p "$SRC"
if git -C "$REPO" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$REPO" ls-files -z --cached --others --exclude-standard |
		(cd "$REPO" && xargs -0 cp --parents -t "$SRC" 2>/dev/null) || true
else
	cp -a "$REPO/." "$SRC/"
fi
[ -f "$SRC/dkms.conf" ] || die "copying the project into $SRC failed"

# The guest's root: Debian's own kernel image and module tree, in the
# merged-/usr layout Debian installs them in.
STAGE=$ROOT/stage
rm -rf --one-file-system "$STAGE" && mkdir -p "$STAGE/usr/lib"
ln -s usr/lib "$STAGE/lib"
for p in linux-base-$REL linux-binary-$REL linux-modules-$REL; do
	dpkg-deb -x "$TOP/debs/${p}_"*.deb "$STAGE"
done
KERNEL=$STAGE/usr/lib/modules/$REL/vmlinuz
[ -f "$KERNEL" ] || die "linux-binary-$REL has no vmlinuz"

# The root's own view of the machine: /proc and /dev for the compilers,
# DKMS and openssl.  Unmounted whatever happens.
cleanup() {
	umount "$ROOT/dev" 2>/dev/null || true
	umount "$ROOT/proc" 2>/dev/null || true
}
cleanup
trap cleanup EXIT
trap 'cleanup; exit 1' INT TERM
mount -t proc proc "$ROOT/proc"
mount --bind /dev "$ROOT/dev"
in_root() {
	chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"
}
# A run that stopped half-way may have left DKMS state behind.
in_root dkms remove "mdev-rs/$VERSION" --all >/dev/null 2>&1 || true

echo "=== check-debian: building and installing for Debian's kernel $REL (in a Debian $DEBIAN_USER_SUITE root) ==="
in_root "/usr/src/mdev-rs-$VERSION/tools/testing/debian/in-root.sh" "$REL" "$VERSION" /stage |
	tee "$TOP/in-root.out" || true
totals_add_points "$TOP/in-root.out" "the build in the Debian root"
host="$pass passed, $fail failed"

# The kselftests, built with the kernel source the core was prepared from
# and its uapi headers.
[ -s "$STAGE/.kernel-source" ] || die "the build in the Debian root named no prepared kernel source"
KSRC_DEB=$ROOT$(cat "$STAGE/.kernel-source")
[ -d "$KSRC_DEB/usr/include/linux" ] || die "no uapi headers in $KSRC_DEB"
INITRD=$TOP/guest.cpio
"$VM/make-initramfs.sh" --modules "$STAGE" --userland "$ROOT" \
	--ksrc "$KSRC_DEB" --khdr "$KSRC_DEB/usr/include" \
	--skip-tests "fault_injection.sh kunit.sh" --add-test "$HERE/drop_in.sh" - "$INITRD"
say "guest image: $(du -h "$INITRD" | cut -f1) ($(wc -l < "$STAGE/.initramfs-modules") module files)"

# The suite on each core: ours, installed under updates/, and Debian's own
# C core, which the tests load by path, to prove the tests right on this
# kernel too; then their malformed-input tables must agree.  The two
# guests run side by side (one per host CPU); each one's output is printed
# when both have finished.
for core in rust c; do
	"$VM/run-vm.sh" --core $core --kernel "$KERNEL" --initrd "$INITRD" --name debian --loglevel 4 \
		--timeout 1200 > "$TOP/guest-$core.out" 2>&1 &
done
wait
for core in rust c; do
	echo "=== check-debian: the kselftests on Debian's vmlinuz $REL with the $core core ==="
	cat "$TOP/guest-$core.out"
	totals_add_summary "$TOP/guest-$core.out" "the $core guest"
done
echo "=== check-debian: the Rust core's malformed-input table against Debian's C core's ==="
if "$VM/compare-tables.sh" "$CACHE/run/console-debian-tests-rust.log" "$CACHE/run/console-debian-tests-c.log"; then
	pass=$((pass + 1))
else
	fail=$((fail + 1))
fi

say "finished in $(($(date +%s) - start)) s"
echo "check-debian: Debian $REL: build and install $host; all: $pass passed, $fail failed, $skip skipped"
totals_print
