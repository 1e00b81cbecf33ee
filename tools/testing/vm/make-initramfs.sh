#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build a test guest's initramfs.
#
#   make-initramfs.sh KBUILD OUT.cpio
#	The test kernel's guest: busybox, the kernel's modules, this project's
#	modules (built here against KBUILD), the mdev kselftests installed the
#	kselftest way (with the kernel source's own runner and KTAP helpers),
#	and mdevctl.
#
#   make-initramfs.sh --modules ROOT --userland ROOT --ksrc DIR --khdr DIR
#		      [--skip-tests "a.sh b.sh"] [--add-test FILE]... - OUT.cpio
#	Another kernel's guest (make check-debian): the module tree already
#	installed and indexed under --modules (only the files listed in its
#	ROOT/.initramfs-modules are taken, with every modules.* index), kmod
#	and mdevctl from the --userland root, the kselftests built with that
#	kernel's source and uapi headers, less the --skip-tests, plus the
#	--add-test ones (run before leak_unload.sh and splat_check.sh, the two
#	that must be last).

set -euo pipefail
. "$(dirname "$0")/lib.sh"
REPO=$(cd "$VM_DIR/../../.." && pwd)
die() { echo "make-initramfs: error: $*" >&2; exit 1; }

MODROOT="" USERLAND="" TESTS_KSRC=$KSRC TESTS_KHDR="" SKIP_TESTS="" ADD_TESTS=()
while [ $# -gt 2 ]; do
	case "$1" in
	--modules) MODROOT=$2 ;;
	--userland) USERLAND=$2 ;;
	--ksrc) TESTS_KSRC=$2 ;;
	--khdr) TESTS_KHDR=$2 ;;
	--skip-tests) SKIP_TESTS=$2 ;;
	--add-test) ADD_TESTS+=("$2") ;;
	*) die "unknown option $1" ;;
	esac
	shift 2
done
KBUILD=$1 OUT=$2
[ -n "$TESTS_KHDR" ] || TESTS_KHDR=$KBUILD/usr/include

STAGE=$(mktemp -d "${TMPDIR:-/tmp}/mdev-initramfs.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
# The guest's / (mktemp made it 0700): users other than root traverse it.
chmod 755 "$STAGE"

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
install -m 755 "$REPO/tools/testing/bench/guest-bench.sh" "$STAGE/usr/bin/mdev-bench"
[ -z "${MDEV_GUEST_SCRIPT:-}" ] || install -m 755 "$MDEV_GUEST_SCRIPT" "$STAGE/script.sh"

# in_root ROOT COMMAND...: run COMMAND in ROOT (/ for the host).
in_root() {
	local root=$1
	shift
	if [ "$root" = / ]; then "$@"; else chroot "$root" "$@"; fi
}

# copy_program ROOT PROGRAM: a dynamically linked program of ROOT and the
# shared libraries it needs, as ldd in that root lists them.
copy_program() {
	local root=$1 prog=$2 lib
	mkdir -p "$STAGE$(dirname "$prog")"
	cp -L "$root$prog" "$STAGE$prog"
	in_root "$root" ldd "$prog" |
		grep -oE '/[^ ]+' | while read -r lib; do
			mkdir -p "$STAGE$(dirname "$lib")"
			cp -L "$root$lib" "$STAGE$lib"
		done
}

if [ -z "$MODROOT" ]; then
	# Modules: the kernel's, then ours (kbuild puts them in updates/), then
	# one depmod over all.
	KREL=$(cat "$KBUILD/include/config/kernel.release")
	cp -a "$KBUILD/modinstall/lib/modules" "$STAGE/lib/"
	# Test-only modules: the splat detector's self-test, a C and a Rust test vendor.
	MODULE_DIRS="$REPO $VM_DIR/splat_selftest $REPO/tools/testing/selftests/mdev/test_vendor $REPO/tools/testing/selftests/mdev/rust_test_vendor"
	for d in $MODULE_DIRS; do
		"$REPO/tools/build/kmake.sh" "$KBUILD" "$d" -s modules >/dev/null || die "building the modules of $d failed"
		"$REPO/tools/build/kmake.sh" "$KBUILD" "$d" -s INSTALL_MOD_PATH="$STAGE" INSTALL_MOD_STRIP=1 \
			modules_install >/dev/null 2>&1 || die "installing the modules of $d failed"
	done
	depmod -b "$STAGE" "$KREL" 2>/dev/null || die "depmod failed"
else
	# An installed and indexed module tree: the listed modules and the
	# indexes, at the same paths.
	[ -r "$MODROOT/.initramfs-modules" ] || die "$MODROOT/.initramfs-modules lists no modules"
	(cd "$MODROOT" && cpio -pdm --quiet "$STAGE") < "$MODROOT/.initramfs-modules" ||
		die "copying the modules of $MODROOT failed"
	# kmod, as the distribution runs it, in place of busybox's module tools.
	copy_program "$USERLAND" /usr/bin/kmod
	for tool in modprobe insmod rmmod modinfo lsmod depmod; do
		for link in "$STAGE/sbin/$tool" "$STAGE/bin/$tool" "$STAGE/usr/sbin/$tool"; do
			ln -sf /usr/bin/kmod "$link"
		done
	done
fi

# The kselftests, installed as the kernel's kselftest_install.sh would.
KST=$STAGE/kselftest
mkdir -p "$KST/kselftest"
cp "$TESTS_KSRC/tools/testing/selftests/run_kselftest.sh" "$KST/"
cp "$TESTS_KSRC"/tools/testing/selftests/kselftest/{runner.sh,ktap_helpers.sh} "$KST/kselftest/"
# One build directory per kernel source and per checkout (git worktrees of
# this repository build side by side).
SELFTESTS_OUT=$CACHE/selftests-build-$(echo "$TESTS_KSRC $REPO" | sha256sum | cut -c1-8)
mkdir -p "$SELFTESTS_OUT"
make -s -C "$REPO/tools/testing/selftests/mdev" KSRC="$TESTS_KSRC" KHDR="$TESTS_KHDR" \
	OUTPUT="$SELFTESTS_OUT" INSTALL_PATH="$KST/mdev" install >/dev/null || die "building the mdev kselftests failed"
make -s --no-print-directory -C "$REPO/tools/testing/selftests/mdev" KSRC="$TESTS_KSRC" \
	OUTPUT="$SELFTESTS_OUT" COLLECTION=mdev emit_tests > "$KST/kselftest-list.txt"
for t in $SKIP_TESTS; do
	grep -q "^mdev:$t\$" "$KST/kselftest-list.txt" || die "--skip-tests: no test $t"
	sed -i "/^mdev:$t\$/d" "$KST/kselftest-list.txt"
done
# The --add-test ones run before leak_unload.sh, which leaves a module stuck
# going, and splat_check.sh, which judges them all: those two stay last.
last=splat_check.sh
grep -qx mdev:leak_unload.sh "$KST/kselftest-list.txt" && last=leak_unload.sh
for t in "${ADD_TESTS[@]}"; do
	install -m 755 "$t" "$KST/mdev/"
	sed -i "/^mdev:$last\$/i mdev:$(basename "$t")" "$KST/kselftest-list.txt"
done

# mdevctl and the shared libraries it needs, from the guest's userland.
mdevctl_root=${USERLAND:-/}
if [ -x "$mdevctl_root/usr/bin/mdevctl" ]; then
	copy_program "$mdevctl_root" /usr/bin/mdevctl
	# The directories the package ships: mdevctl refuses to run without
	# them, and where they are differs between its versions.
	in_root "$mdevctl_root" dpkg -L mdevctl |
		while read -r path; do
			case "$path" in /etc/*|/usr/lib/mdevctl*) ;; *) continue ;; esac
			if [ -d "$mdevctl_root$path" ] && [ ! -L "$mdevctl_root$path" ]; then
				mkdir -p "$STAGE$path"
			fi
		done
fi

# QEMU, for the real-VMM tests (vmm.sh, vmm-guest.sh): Debian's
# qemu-system-x86_64 runs inside the test guest (TCG in TCG).  Besides the
# libraries ldd lists, it loads its TCG accelerator as a module at run
# time, and an i440fx machine opens seabios and kvmvapic.bin even when
# paused; booting a kernel (vmm-guest.sh) also takes linuxboot_dma.bin.
# Debian's QEMU looks for firmware in /usr/share/qemu and /usr/share/seabios.
if [ -z "$MODROOT" ] && [ -x /usr/bin/qemu-system-x86_64 ]; then
	copy_program / /usr/bin/qemu-system-x86_64
	mkdir -p "$STAGE/usr/lib/x86_64-linux-gnu/qemu" "$STAGE/usr/share/qemu" "$STAGE/usr/share/seabios"
	cp /usr/lib/x86_64-linux-gnu/qemu/accel-tcg-x86_64.so "$STAGE/usr/lib/x86_64-linux-gnu/qemu/"
	for f in /usr/share/seabios/bios-256k.bin /usr/share/qemu/kvmvapic.bin /usr/share/qemu/linuxboot_dma.bin; do
		cp -L "$f" "$STAGE$f" || die "QEMU's firmware $f is missing (package qemu-system-x86)"
	done
	# A newer QEMU, for its iommufd backend (9.0 and later; vmm.sh):
	# MDEV_VMM_QEMU_ROOT names a root that has one (make vmm: the Debian
	# trixie root of make check-debian).  Its libraries are not this
	# userland's, so it goes whole under /opt/qemu-new and runs through its
	# own loader, from the wrapper /usr/bin/qemu-new.
	if [ -n "${MDEV_VMM_QEMU_ROOT:-}" ]; then
		new=/opt/qemu-new
		qroot=$MDEV_VMM_QEMU_ROOT
		mkdir -p "$STAGE$new/usr/bin" "$STAGE$new/lib"
		cp -L "$qroot/usr/bin/qemu-system-x86_64" "$STAGE$new/usr/bin/"
		chroot "$qroot" ldd /usr/bin/qemu-system-x86_64 | grep -oE '/[^ ]+' |
			while read -r lib; do
				cp -L "$qroot$lib" "$STAGE$new/lib/"
			done
		for d in usr/share/seabios usr/share/qemu; do
			mkdir -p "$STAGE$new/$d"
			for f in bios-256k.bin kvmvapic.bin linuxboot_dma.bin; do
				[ ! -e "$qroot/$d/$f" ] || cp -L "$qroot/$d/$f" "$STAGE$new/$d/"
			done
		done
		cat > "$STAGE/usr/bin/qemu-new" <<-WRAPPER
		#!/bin/sh
		exec $new/lib/ld-linux-x86-64.so.2 --library-path $new/lib $new/usr/bin/qemu-system-x86_64 \\
			-L $new/usr/share/seabios -L $new/usr/share/qemu "\$@"
		WRAPPER
		chmod 755 "$STAGE/usr/bin/qemu-new"
	fi
	# The inner machine of vmm_guest.sh: the kernel built in
	# MDEV_VMM_INNER_KBUILD (make vmm-guest: the benchmark kernel, whose
	# lack of debugging options makes its boot under nested TCG bearable;
	# default: this one), with a busybox image whose init drives the
	# devices (vmm-inner-init.sh) and that kernel's mdpy-fb sample.
	INNER_KBUILD=${MDEV_VMM_INNER_KBUILD:-$KBUILD}
	INNER=$(mktemp -d "${TMPDIR:-/tmp}/mdev-inner.XXXXXX")
	mkdir -p "$INNER"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp} "$STAGE/usr/share/mdev-vmm"
	cp /bin/busybox "$INNER/bin/busybox"
	for applet in $(/bin/busybox --list-full); do
		[ -e "$INNER/$applet" ] || ln -s /bin/busybox "$INNER/$applet"
	done
	install -m 755 "$VM_DIR/vmm-inner-init.sh" "$INNER/init"
	find "$INNER_KBUILD/modinstall/lib/modules" -name mdpy-fb.ko -exec cp {} "$INNER/" \;
	(cd "$INNER" && find . | cpio -o -H newc --quiet) > "$STAGE/usr/share/mdev-vmm/inner.cpio"
	rm -rf "$INNER"
	cp "$INNER_KBUILD/arch/x86/boot/bzImage" "$STAGE/usr/share/mdev-vmm/bzImage"
fi

(cd "$STAGE" && find . | cpio -o -H newc --quiet) > "$OUT" || die "cpio failed"
