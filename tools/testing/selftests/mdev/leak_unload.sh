#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A vendor module that goes with its parent and driver still registered:
# mdev_rs_leaky leaks them with safe Rust (mem::forget). Its callbacks, type
# names and structs are in the module, so the Rust core's watch over vendor
# modules (mdev_core/vendor_unload.rs) must keep it from being freed: rmmod
# waits for good, and the kernel log says why. The C core frees the module,
# and reads its memory at the next access: not run there.
#
# rmmod is left waiting, and the module, the core and its parent stay: run
# this last but for splat_check.sh.

. ./mdev_lib.sh

LEAKY=mdev_rs_leaky

ktap_print_header
if [ "$MDEV_CORE" = c ]; then
	ktap_skip_all "a leaked parent keeps its module from being freed: an improvement of the Rust core (the C core frees the module, and crashes later)"
	exit "$KSFT_SKIP"
fi
ktap_set_plan 5

unload_all
load_vendor $LEAKY || ktap_exit_fail_msg "cannot load $LEAKY on $(core_desc)"
# A class device with no driver: its types are named after the class.
T=$(readlink -f "$MDEV_CLASS/$LEAKY")/mdev_supported_types/$LEAKY-1
u=$(new_uuid)
ktap_check "a device of the leaked parent's type is created" OK "$(create "$T" "$u")"

rmmod $LEAKY > /dev/null 2>&1 &
said() {
	dmesg | grep -q "module $LEAKY is unloading with 1 parent(s) and 1 driver(s) still registered"
}
ktap_assert "the kernel log says why unloading $LEAKY waits" wait_for 20 said
ktap_check "the module is not freed: /proc/modules lists it, unloading" Unloading \
	"$(awk -v m=$LEAKY '$1 == m { print $5 }' /proc/modules)"
ktap_check "its parent still answers: the type's name" leaked "$(cat "$T/name")"
ktap_check "its device still answers: the type's devices/ lists it" "$u" "$(ls "$T/devices")"
ktap_finished
