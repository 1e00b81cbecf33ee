#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# What creates and removes answer while their parent unregisters: the C
# core's errno, which a drop-in owes the tools that read it.
#
# - A create checks for a duplicate UUID (EEXIST) and for a free instance
#   (EUSERS) before it finds the parent unregistering (ENODEV).
# - A remove of a device that unregistration is about to delete answers
#   ENODEV, not EAGAIN: the device is going because its parent is, not
#   because another remove is running.  That window lies between
#   unregistration marking the device and deleting it; only a Rust core built
#   with MDEV_FAULT_HOOKS=1 (make stress) can hold it open
#   (unregister_delay_ms), elsewhere the point is skipped.

. ./mdev_lib.sh

HOOK=/sys/module/mdev/parameters/unregister_delay_ms
DEVICES=/sys/kernel/debug/mdev/devices

ktap_print_header
ktap_set_plan 6
unload_all

# start_unregistration: rmmod the test vendor in the background while a
# create is held in the vendor's probe, and wait until rmmod sleeps in
# mdev_unregister_parent(), which waits for that create.
start_unregistration() {
	tv_param hold_ops 1
	create "$(tv_type 0 a)" "$(new_uuid)" > /tmp/unreg_errno.held &
	wait_for 20 ops_running_is 1 || ktap_print_msg "the held create did not reach the vendor"
	rmmod $TV &
	rmmod_pid=$!
	wait_for 20 grep -q unregister_parent "/proc/$rmmod_pid/wchan" ||
		ktap_print_msg "rmmod not seen waiting in unregistration"
}

# end_unregistration: let the held create go and wait for rmmod.
end_unregistration() {
	tv_param hold_ops 0
	wait
	is_loaded $TV && ktap_print_msg "$TV is still loaded after rmmod"
}

# --- Duplicate UUID and no instance left, during unregistration ---
tv_load nr_parents=1 max_instances=2 || ktap_exit_fail_msg "cannot load $TV on $(core_desc)"
old=$(new_uuid)
create "$(tv_type 0 a)" "$old" >/dev/null
# The held create takes the second and last instance.
start_unregistration
ktap_check "during unregistration, a create of a listed UUID fails with EEXIST" EEXIST \
	"$(create "$(tv_type 0 b)" "$old")"
ktap_check "during unregistration, a create on a parent without instances fails with EUSERS" EUSERS \
	"$(create "$(tv_type 0 b)" "$(new_uuid)")"
end_unregistration
ktap_check "unregistration removed every device" 0 "$(nr_devices)"

# --- A fresh UUID with an instance free: ENODEV ---
tv_load nr_parents=1 max_instances=3 || ktap_exit_fail_msg "cannot reload $TV"
start_unregistration
ktap_check "during unregistration, a create of a fresh UUID fails with ENODEV" ENODEV \
	"$(create "$(tv_type 0 b)" "$(new_uuid)")"
end_unregistration

# --- A remove between unregistration's mark and its delete: ENODEV ---
if [ -w "$HOOK" ]; then
	tv_load nr_parents=1 || ktap_exit_fail_msg "cannot reload $TV"
	u=$(new_uuid)
	create "$(tv_type 0 a)" "$u" >/dev/null
	echo 3000 > "$HOOK"
	rmmod $TV &
	rmmod_pid=$!
	marked() {
		grep -q "^$u - - removing$" "$DEVICES"
	}
	wait_for 20 marked || ktap_print_msg "unregistration did not mark $u: $(cat "$DEVICES")"
	ktap_check "a remove of a device that unregistration marked fails with ENODEV" ENODEV "$(remove "$u")"
	wait $rmmod_pid
	echo 0 > "$HOOK"
	ktap_check "unregistration then removed the device" 0 "$(nr_devices)"
else
	ktap_test_skip "a remove of a device that unregistration marked fails with ENODEV: $(core_desc) has no unregister_delay_ms hook (a MDEV_FAULT_HOOKS=1 build of the Rust core has)"
	ktap_test_skip "unregistration then removed the device: no hook"
fi

unload_all
ktap_finished
