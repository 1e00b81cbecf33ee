#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The Rust core as a drop-in on Debian's stock kernel (make check-debian):
# installed under updates/ by `make install`, it is the mdev that kmod's
# modprobe resolves every vendor driver's "depends: mdev" to, mtty's and
# Debian's own kvmgt's alike.  Needs kmod's modprobe and modinfo, which the
# Debian guest has and the busybox guest of `make check` has not.

. ./mdev_lib.sh

ktap_print_header
ktap_set_plan 8
unload_all

updates=$KMODDIR/updates/
path=$(modinfo -n mdev 2>&1)
case "$path" in
"$updates"mdev.ko*) ktap_test_pass "modinfo -n mdev is the installed Rust core ($path)" ;;
*) ktap_print_msg "modinfo -n mdev: $path"; ktap_test_fail "modinfo -n mdev is the installed Rust core" ;;
esac

deps=/tmp/kvmgt.deps
modprobe --show-depends kvmgt > $deps 2>&1
while IFS= read -r l; do ktap_print_msg "show-depends kvmgt: $l"; done < $deps
ktap_assert "modprobe --show-depends kvmgt resolves mdev to updates/" \
	grep -q "^insmod ${updates}mdev.ko" $deps
ktap_assert "modprobe --show-depends kvmgt does not name the C core" \
	sh -c "! grep -q kernel/drivers/vfio/mdev/mdev.ko $deps"

out=$(modprobe mtty 2>&1)
ktap_assert "modprobe mtty succeeds${out:+ ($out)}" is_loaded mtty
ktap_assert "it loaded mdev (in /proc/modules)" is_loaded mdev
ktap_assert "the loaded mdev is the Rust core (taint '$(cat /sys/module/mdev/taint 2>/dev/null)', out of tree)" \
	grep -q O /sys/module/mdev/taint
ktap_assert "the kernel log says the Rust core loaded" sh -c "dmesg | grep -q 'mdev core (Rust) loaded'"
modprobe -r mtty mdev vfio_iommu_type1 vfio 2>/dev/null
ktap_assert "modprobe -r mtty mdev unloads both" sh -c "! grep -qE '^(mtty|mdev) ' /proc/modules"
unload_all
ktap_finished
