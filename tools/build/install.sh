#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make install` and `make uninstall`:
#   install.sh install|uninstall KDIR
#
# install builds the modules for the kernel of KDIR and installs them under
# <INSTALL_MOD_PATH>/lib/modules/<release>/updates/, which depmod prefers to
# the kernel's own kernel/ tree: modprobe then resolves every vendor
# driver's "depends: mdev" to the Rust core.  uninstall removes exactly
# those files and the directories the install created.  Both run depmod
# where a module tree is there to index.  INSTALL_MOD_PATH (or DESTDIR)
# stages into an image instead of the running system.

set -euo pipefail
BUILD_DIR=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$BUILD_DIR/../.." && pwd)
die() { echo "error: $*" >&2; exit 1; }

ACTION=${1:?usage: install.sh install|uninstall KDIR}
KDIR=${2:?usage: install.sh install|uninstall KDIR}
ROOT=${INSTALL_MOD_PATH:-${DESTDIR:-}}
# The modules this project installs, relative to updates/ (see Kbuild and
# samples/Kbuild); the one list both directions use.
MODULES="mdev samples/mdev_rs_sample samples/mtty_rs samples/mdpy_rs"

[ -r "$KDIR/include/config/kernel.release" ] ||
	die "$KDIR is not a kernel build or headers directory; install the headers of the kernel to install for (on Debian: apt install linux-headers-\$(uname -r)) or pass KDIR=."
RELEASE=$(cat "$KDIR/include/config/kernel.release")
MODDIR=$ROOT/lib/modules/$RELEASE
UPDATES=$MODDIR/updates

run_depmod() {
	if [ -z "$ROOT" ]; then
		depmod -a "$RELEASE"
	elif [ -d "$MODDIR/kernel" ]; then
		depmod -a -b "$ROOT" "$RELEASE"
	else
		echo "install: no module tree in $MODDIR/kernel to index: run depmod when the image is complete" >&2
	fi
}

case "$ACTION" in
install)
	"$BUILD_DIR/kmake.sh" "$KDIR" "$REPO" modules
	"$BUILD_DIR/kmake.sh" "$KDIR" "$REPO" INSTALL_MOD_PATH="$ROOT" INSTALL_MOD_DIR=updates \
		modules_install
	run_depmod
	for m in $MODULES; do
		ls "$UPDATES/$m".ko* >/dev/null 2>&1 || die "$UPDATES/$m.ko was not installed"
		echo "installed $(ls "$UPDATES/$m".ko*)"
	done
	if [ -z "$ROOT" ] && grep -q '^mdev ' /proc/modules 2>/dev/null &&
	   ! grep -q O /sys/module/mdev/taint 2>/dev/null; then
		echo "note: the C mdev core is loaded now; the Rust core is used from the next load of mdev (unload its vendor drivers and mdev, or reboot)"
	fi
	;;
uninstall)
	removed=0
	for m in $MODULES; do
		for f in "$UPDATES/$m".ko "$UPDATES/$m".ko.*; do
			[ -e "$f" ] || continue
			rm -f "$f"
			echo "removed $f"
			removed=$((removed + 1))
		done
	done
	# The directories the install made, where nothing else is left in them.
	for m in $MODULES; do
		d=$(dirname "$UPDATES/$m")
		while [ "$d" != "$MODDIR" ] && rmdir "$d" 2>/dev/null; do d=$(dirname "$d"); done
	done
	[ "$removed" -gt 0 ] || echo "uninstall: nothing of mdev-rs was installed in $UPDATES"
	run_depmod
	;;
*)
	die "usage: install.sh install|uninstall KDIR"
	;;
esac
