#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Unloading a Rust vendor driver right after the remove of a device that
# userspace held open (issue: "Unloading a vendor module: no timing
# assumption").  VFIO releases the device when its last reference goes,
# which the stress kernel delays by 1 to 4 s (DEBUG_KOBJECT_RELEASE), and
# calls back into the vendor then: rmmod must wait for that release, and no
# code of the module may run once rmmod has let it go.
#
# With the Rust core built with MDEV_FAULT_HOOKS=1 (make stress), its release
# trampoline sleeps for release_delay_ms (6 s) after it counted the device
# out: the end of every release comes long after rmmod returned, so a release
# whose last instructions were in the vendor module would run in freed
# memory (an oops, which splat_check.sh and the runner report).
# Each round: create, hold open (vfio_show --hold), remove (it waits for the
# holder), let go, rmmod at once, load again.

. ./mdev_lib.sh

SAMPLE=mdev_rs_sample
# Three rounds where releases are delayed (the stress kernel), one in
# make check, where they run within the remove.
ROUNDS=1
kobject_release_delayed && ROUNDS=3
HOOK=/sys/module/mdev/parameters/release_delay_ms

ktap_print_header
ktap_set_plan $((ROUNDS * 3 + 1))
unload_all
load_vendor $SAMPLE || ktap_exit_fail_msg "cannot load $SAMPLE on $(core_desc)"
T=$(readlink -f "$MDEV_CLASS/$SAMPLE")/mdev_supported_types/faux_driver-1

if [ -w "$HOOK" ]; then
	echo 6000 > "$HOOK"
	ktap_test_pass "the core's release trampoline ends each release 6 s after it counted the device out"
else
	ktap_test_skip "$(core_desc) has no release_delay_ms hook (only a MDEV_FAULT_HOOKS=1 build of the Rust core has one): releases end at once"
fi

out=$(mktemp)
round=1
while [ $round -le $ROUNDS ]; do
	u=$(new_uuid)
	ktap_check "round $round: a device of $SAMPLE is created" OK "$(create "$T" "$u")"
	./vfio_show --hold "$u" > "$out" 2>&1 &
	holder=$!
	wait_for 20 grep -q held "$out" || ktap_print_msg "round $round: the holder did not open the device: $(cat "$out")"
	# remove waits in VFIO until the holder lets go of the device.
	mdev_write "$MDEV_BUS/$u/remove" 1 > "$out.remove" &
	remover=$!
	sleep 0.3
	kill $holder
	wait $holder 2>/dev/null
	wait $remover
	rm_result=$(cat "$out.remove")
	# rmmod at once: the device's release is still to come (delayed).
	rmmod $SAMPLE 2>&1 | sed 's/^/# /'
	ktap_check "round $round: remove succeeds once the holder lets go, and rmmod right after it too" \
		"OK gone" "$rm_result $(is_loaded $SAMPLE && echo loaded || echo gone)"
	# Where releases are delayed, the device's release may still be running:
	# give it time to end (the hook's 6 s, longer than rmmod's own wait for
	# the types' delayed releases) while the module's memory is freed,
	# before loading the module again, which could take the same memory back.
	kobject_release_delayed && sleep 8
	load_vendor $SAMPLE > /dev/null
	ktap_assert "round $round: $SAMPLE loads again" is_loaded $SAMPLE
	round=$((round + 1))
done
rm -f "$out" "$out.remove"

[ -w "$HOOK" ] && echo 0 > "$HOOK"
unload_all
ktap_finished
