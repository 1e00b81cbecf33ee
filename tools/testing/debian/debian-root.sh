#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The machine of a Debian user of the stock 7.2 kernel, for `make
# check-debian`:  debian-root.sh  (prints the directory that holds it)
#
# - debs/: Debian's kernel packages of the pinned version (debian-kernel.conf):
#   the image (vmlinuz), its modules, its headers and its source;
# - root/: a Debian root of the suite that kernel is for, made by
#   debootstrap, with the compilers the kernel was built with (from that
#   suite's own packages), DKMS, and the kernel (its modules and vmlinuz),
#   its headers and its source installed from debs/, as `apt install`
#   would on the user's machine.
#
# Both are made once into $MDEV_CACHE/debian/ and reused.  Every mirror is
# the one of this machine's apt configuration.

set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${MDEV_CACHE:-/var/cache/mdev-rs}
die() { echo "debian-root: error: $*" >&2; exit 1; }
say() { echo "debian-root: $*" >&2; }
. "$HERE/debian-kernel.conf"
. "$HERE/../vm/private-apt.sh"

REL=$DEBIAN_KERNEL_RELEASE VER=$DEBIAN_KERNEL_VERSION
ABI=${REL%-*}
TOP=$CACHE/debian/$REL
mkdir -p "$TOP"
exec 9>"$TOP/.lock"
flock 9

# The packages: the kernel (vmlinuz and modules) for the guest, the headers
# and source for the root.
KERNEL_PKGS="linux-binary-$REL linux-modules-$REL"
HEADER_PKGS="linux-headers-$REL linux-headers-$ABI-common linux-kbuild-$ABI linux-base-$REL"
if [ ! -f "$TOP/debs/.complete" ]; then
	private_apt_init "$CACHE/debian/apt" "$DEBIAN_KERNEL_SUITE"
	offered=$(apt-cache "${APT_O[@]}" madison "linux-binary-$REL" | awk -F'|' '{gsub(/ /,"",$2); print $2}')
	grep -qxF "$VER" <<<"$offered" ||
		die "$DEBIAN_KERNEL_SUITE no longer offers linux-binary-$REL $VER (it offers: ${offered:-nothing}); move the pin in $HERE/debian-kernel.conf"
	say "downloading Debian's kernel $REL ($VER): image, modules, headers, source"
	rm -rf "$TOP/debs"
	pkgs=()
	for p in $KERNEL_PKGS $HEADER_PKGS linux-source-${ABI%.*}; do pkgs+=("$p=$VER"); done
	download_debs "$TOP/debs" "${pkgs[@]}"
	touch "$TOP/debs/.complete"
fi

ROOT=$TOP/root
# The stamp names what the root holds: a root of an older layout is remade.
STAMP=$ROOT/.mdev-root-with-kernel
if [ ! -f "$STAMP" ]; then
	mirror=$(debian_mirror)
	say "creating a Debian $DEBIAN_USER_SUITE root with debootstrap (a minute or two)"
	# Never remove a root with something mounted in it (check-debian bind
	# mounts the host's /dev there while it runs).
	for r in "$ROOT" "$ROOT.tmp"; do
		! grep -q " $r/" /proc/mounts ||
			die "$r still has file systems mounted in it (see /proc/mounts): unmount them first"
		rm -rf --one-file-system "$r"
	done
	# What a user installs to build Rust modules for this kernel: the
	# compilers of the kernel's .config (Debian's gcc-14, rustc 1.85,
	# bindgen 0.71), pahole, DKMS, and the headers' own dependencies.
	include=rustc,rust-src,bindgen,libclang-dev,gcc-14,gcc-14-for-host,make,flex,bison,bc
	include=$include,libelf-dev,libssl-dev,kmod,cpio,python3,xz-utils,zstd,pahole,rsync
	include=$include,dkms,openssl,linux-base,mdevctl
	debootstrap --variant=minbase --include="$include" "$DEBIAN_USER_SUITE" "$ROOT.tmp" "$mirror" \
		> "$TOP/debootstrap.log" 2>&1 ||
		die "debootstrap of $DEBIAN_USER_SUITE failed (log: $TOP/debootstrap.log)"
	mkdir -p "$ROOT.tmp/var/cache/kernel-debs"
	for p in $KERNEL_PKGS $HEADER_PKGS linux-source-${ABI%.*}; do
		cp "$TOP/debs/${p}_"*.deb "$ROOT.tmp/var/cache/kernel-debs/"
	done
	chroot "$ROOT.tmp" sh -c 'dpkg -i /var/cache/kernel-debs/*.deb' > "$TOP/dpkg.log" 2>&1 ||
		die "installing the kernel, its headers and its source in the root failed (log: $TOP/dpkg.log)"
	rm -rf "$ROOT.tmp/var/cache/kernel-debs"
	mv "$ROOT.tmp" "$ROOT"
	touch "$STAMP"
fi
echo "$TOP"
