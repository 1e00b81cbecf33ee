#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the test guest's initramfs:  make-initramfs.sh KBUILD OUT.cpio
# It holds busybox, the kernel's modules, this project's modules (built here
# against KBUILD), the mdev kselftests installed the kselftest way (with the
# kernel source's own runner and KTAP helpers), and mdevctl.

set -euo pipefail
. "$(dirname "$0")/lib.sh"
REPO=$(cd "$VM_DIR/../../.." && pwd)
KBUILD=$1 OUT=$2
die() { echo "make-initramfs: error: $*" >&2; exit 1; }

KREL=$(cat "$KBUILD/include/config/kernel.release")
STAGE=$(mktemp -d "${TMPDIR:-/tmp}/mdev-initramfs.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT

# Busybox, with a link per applet.  No /usr/bin/timeout: the kselftest
# runner would call it with GNU options that busybox lacks; the host's
# overall timeout bounds the run instead.
mkdir -p "$STAGE"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,root,etc,lib64,lib/x86_64-linux-gnu}
cp /bin/busybox "$STAGE/bin/busybox"
for applet in $(/bin/busybox --list-full); do
	case "$applet" in usr/bin/timeout) applet=bin/timeout ;; esac
	[ -e "$STAGE/$applet" ] || ln -s /bin/busybox "$STAGE/$applet"
done
install -m 755 "$VM_DIR/guest-init.sh" "$STAGE/init"
install -m 755 "$VM_DIR/uevent-log.sh" "$STAGE/usr/bin/uevent-log"
install -m 755 "$VM_DIR/guest-demo.sh" "$STAGE/usr/bin/mdev-demo"
install -m 755 "$VM_DIR/guest-bench.sh" "$STAGE/usr/bin/mdev-bench"
[ -z "${MDEV_GUEST_SCRIPT:-}" ] || install -m 755 "$MDEV_GUEST_SCRIPT" "$STAGE/script.sh"

# Modules: the kernel's, then ours (kbuild puts them in updates/), then one
# depmod over all.
cp -a "$KBUILD/modinstall/lib/modules" "$STAGE/lib/"
# Test-only modules: the splat detector's self-test and a C test vendor.
MODULE_DIRS="$REPO $VM_DIR/splat_selftest $REPO/tools/testing/selftests/mdev/test_vendor"
for d in $MODULE_DIRS; do
	"$VM_DIR/kmake.sh" "$KBUILD" "$d" -s modules >/dev/null || die "building the modules of $d failed"
	"$VM_DIR/kmake.sh" "$KBUILD" "$d" -s INSTALL_MOD_PATH="$STAGE" INSTALL_MOD_STRIP=1 \
		modules_install >/dev/null 2>&1 || die "installing the modules of $d failed"
done
depmod -b "$STAGE" "$KREL" 2>/dev/null || die "depmod failed"

# The kselftests, installed as the kernel's kselftest_install.sh would.
KST=$STAGE/kselftest
mkdir -p "$KST/kselftest"
cp "$KSRC/tools/testing/selftests/run_kselftest.sh" "$KST/"
cp "$KSRC"/tools/testing/selftests/kselftest/{runner.sh,ktap_helpers.sh} "$KST/kselftest/"
SELFTESTS_OUT=$CACHE/selftests-build
mkdir -p "$SELFTESTS_OUT"
make -s -C "$REPO/tools/testing/selftests/mdev" KSRC="$KSRC" KHDR="$KBUILD/usr/include" \
	OUTPUT="$SELFTESTS_OUT" INSTALL_PATH="$KST/mdev" install >/dev/null || die "building the mdev kselftests failed"
make -s --no-print-directory -C "$REPO/tools/testing/selftests/mdev" KSRC="$KSRC" \
	OUTPUT="$SELFTESTS_OUT" COLLECTION=mdev emit_tests > "$KST/kselftest-list.txt"

# mdevctl and the shared libraries it needs.
if command -v mdevctl >/dev/null; then
	cp "$(command -v mdevctl)" "$STAGE/usr/sbin/mdevctl"
	ldd "$(command -v mdevctl)" | grep -oE '/[^ ]+' | while read -r lib; do
		mkdir -p "$STAGE$(dirname "$lib")"
		cp -L "$lib" "$STAGE$lib"
	done
	# The directories the package ships (mdevctl refuses to run without them).
	mkdir -p "$STAGE/etc/mdevctl.d/scripts.d/callouts" "$STAGE/etc/mdevctl.d/scripts.d/notifiers"
fi

(cd "$STAGE" && find . | cpio -o -H newc --quiet) > "$OUT" || die "cpio failed"
