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
# trampoline delays the end of the vendor's part of every release by
# release_delay_ms (20 s, longer than the rest of an unload takes there,
# up to 12 s with the delayed releases of the types and the module) and then
# logs "release hook: the vendor's part of a
# release ended": rmmod must not return before that line, because until then
# the release may still run the module's code.  The vendor API before the
# trampoline counted a device out in the vendor module and returned through
# it; with the same delay after its count, that line came after rmmod had
# returned, and this test failed.
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
	echo 20000 > "$HOOK"
	ktap_test_pass "the core's release trampoline delays the end of the vendor's part of each release by 20 s"
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
	# Where the hook delays releases, one line per round so far must be in
	# the log when rmmod returns (none elsewhere).
	ended=$(dmesg | grep -c "release hook: the vendor's part of a release ended")
	ktap_check "round $round: remove succeeds once the holder lets go, rmmod right after it too, and only after the release's vendor part ended" \
		"OK gone $([ -w "$HOOK" ] && echo $round || echo 0)" \
		"$rm_result $(is_loaded $SAMPLE && echo loaded || echo gone) $ended"
	# Where kobject releases are delayed, the releases of the device's other
	# objects may still be pending: let them run while the module's memory
	# is freed, before loading the module again, which could take the same
	# memory back.
	kobject_release_delayed && sleep 8
	load_vendor $SAMPLE > /dev/null
	ktap_assert "round $round: $SAMPLE loads again" is_loaded $SAMPLE
	round=$((round + 1))
done
rm -f "$out" "$out.remove"

[ -w "$HOOK" ] && echo 0 > "$HOOK"
unload_all
ktap_finished
