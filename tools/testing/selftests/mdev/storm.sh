#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A seeded storm: writer processes create, remove and read devices of four
# types of two vendor drivers (mtty and the Rust sample) at once, with UUIDs
# from a small pool so that creates collide and removes race creates, while
# the Rust sample is unloaded and reloaded and, once, the test vendor
# unregisters its parent while its probe is held open.  Every result must be
# one the ABI allows (mdev_storm.c); at the end sysfs (and debugfs) must be
# consistent, every count back to its start, and every module must unload.
#
# With MDEV_STORM_MIGRATE=1 (make stress), migrations race it all:
# storm_migrate opens live devices of mtty and the sample through VFIO and
# migrates each onto itself (save, resume, some cut short), while writers
# remove them and the sample reloads.
#
# Sized by MDEV_STORM_OPS, _WRITERS, _POOL, _RELOADS, _SAMPLE_MAX (the Rust
# sample's max_instances) and _RELOAD_PAUSE (seconds between reloads)
# (make check runs it small, make stress large); MDEV_STORM_SEED replays a
# run's operations.  MDEV_STORM_MIN_OK, if set, is the work the storm must
# do: at least that many successful creates and as many successful removes.
#
# With delayed kobject release (the stress kernel), a removed device keeps
# its UUID and its instance until its release, 1 to 4 s later, as on the C
# core: a small pool then spends most of the storm on EEXIST.  make stress
# sizes the pool and the sample for work, not only for collisions.

. ./mdev_lib.sh

OPS=${MDEV_STORM_OPS:-1500}
WRITERS=${MDEV_STORM_WRITERS:-4}
POOL=${MDEV_STORM_POOL:-12}
RELOADS=${MDEV_STORM_RELOADS:-2}
SEED=${MDEV_STORM_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
SAMPLE=mdev_rs_sample
SAMPLE_MAX=${MDEV_STORM_SAMPLE_MAX:-8}
RELOAD_PAUSE=${MDEV_STORM_RELOAD_PAUSE:-0.3}
MIN_OK=${MDEV_STORM_MIN_OK:-0}
MIGRATE=${MDEV_STORM_MIGRATE:-0}
MTTY_T=$MDEV_CLASS/mtty/mdev_supported_types
SAMPLE_T=$MDEV_CLASS/$SAMPLE/mdev_supported_types
TYPES="$MTTY_T/mtty-1 $MTTY_T/mtty-2 $SAMPLE_T/faux_driver-1 $SAMPLE_T/faux_driver-2"

ktap_print_header
# make check runs no storm on the C core (MDEV_STORM_OPS=0): its reference
# storms run in make stress, on both of its kernels.
if [ "$OPS" = 0 ]; then
	ktap_skip_all "no storm asked for (MDEV_STORM_OPS=0): the C core's run in make stress"
	exit "$KSFT_SKIP"
fi
plan=$(kobject_release_delayed && echo 13 || echo 14)
[ "$MIN_OK" -gt 0 ] && plan=$((plan + 1))
[ "$MIGRATE" = 1 ] && plan=$((plan + 2))
ktap_set_plan $plan
unload_all
echo "storm-seed $SEED ops=$OPS writers=$WRITERS pool=$POOL reloads=$RELOADS sample_max=$SAMPLE_MAX reload_pause=$RELOAD_PAUSE migrate=$MIGRATE"
ktap_print_msg "replay with MDEV_STORM_SEED=$SEED"

load_vendor mtty || ktap_exit_fail_msg "cannot load mtty on $(core_desc)"
load_vendor $SAMPLE max_instances=$SAMPLE_MAX || ktap_exit_fail_msg "cannot load $SAMPLE on $(core_desc)"

# The start: no device, and each type's available_instances.
avail_all() {
	for t in $TYPES; do printf '%s ' "$(cat "$t/available_instances" 2>/dev/null)"; done
}
start_avail=$(avail_all)
ktap_check "the storm starts with no device" 0 "$(nr_devices)"

# The reloader: unloads and reloads the Rust sample RELOADS times, while
# the storm runs (and after it, if the storm ends first).  Not until the
# storm stops: on the stress kernel an unload and a load take about 30 s,
# so a storm slowed by other guests met more reloads, and the sample's
# types were missing for most of it (12 reloads, 1,777 successful creates
# in a loaded make stress, below MDEV_STORM_MIN_OK).
run=/tmp/storm
rm -rf $run && mkdir -p $run
# A device the migrator holds open (or a stream of it) keeps the sample in
# use, and rmmod then fails at once: "in use" (kmod), "Resource temporarily
# unavailable" (busybox, the guest's: EAGAIN from delete_module()).  With
# migrations, the reloader tries again for up to 30 s.
unload_sample() {
	tries=1
	[ "$MIGRATE" = 1 ] && tries=150
	while [ $tries -gt 0 ]; do
		rmmod $SAMPLE 2> $run/rmmod-error && return 0
		grep -q "in use\|temporarily unavailable" $run/rmmod-error || break
		tries=$((tries - 1))
		sleep 0.2
	done
	cat $run/rmmod-error >&2
	return 1
}
reloader() {
	n=0
	while [ $n -lt "$RELOADS" ]; do
		unload_sample || { echo "rmmod $SAMPLE failed" >> $run/reload-errors; break; }
		insmod "$(module_path $SAMPLE)" max_instances=$SAMPLE_MAX ||
			{ echo "insmod $SAMPLE failed" >> $run/reload-errors; break; }
		n=$((n + 1))
		echo $n > $run/reloads
		# Let the writers meet the reloaded types for a moment.
		sleep "$RELOAD_PAUSE"
	done
}

./mdev_storm "$SEED" "$OPS" "$WRITERS" "$POOL" $TYPES > $run/results 2> $run/errors &
storm_pid=$!
reloader &
reloader_pid=$!
if [ "$MIGRATE" = 1 ]; then
	./storm_migrate "$SEED" $run/stop > $run/mig 2>&1 &
	mig_pid=$!
fi

# Meanwhile, the test vendor unregisters its parent while a probe is held.
tv_load nr_parents=1 quiet=1 || ktap_exit_fail_msg "cannot load $TV on $(core_desc)"
tv_param hold_ops 1
held_uuid=$(new_uuid)
create "$(tv_type 0 a)" "$held_uuid" > $run/held-create &
create_pid=$!
wait_for 30 ops_running_is 1
rmmod $TV 2> $run/held-rmmod &
rmmod_pid=$!
going() { [ "$(cat /sys/module/$TV/initstate 2>/dev/null)" = going ]; }
wait_for 30 going
sleep 1
rmmod_blocked=no
kill -0 $rmmod_pid 2>/dev/null && rmmod_blocked=yes
tv_param hold_ops 0
wait $create_pid
wait $rmmod_pid
rmmod_rc=$?
ktap_check "unregistering waits for a held probe, which then succeeds, and the unload finishes" \
	"blocked=yes create=OK rmmod=0 loaded=no" \
	"blocked=$rmmod_blocked create=$(cat $run/held-create) rmmod=$rmmod_rc loaded=$(is_loaded $TV && echo yes || echo no)"

wait $storm_pid
storm_rc=$?
touch $run/stop
wait $reloader_pid
reloads=$(cat $run/reloads 2>/dev/null || echo 0)
mig_rc=0
if [ "$MIGRATE" = 1 ]; then
	wait $mig_pid
	mig_rc=$?
fi

sed 's/^/# /' $run/results
grep -v '^$' $run/errors | sed 's/^/# /'
total=$(awk '$1 ~ /^storm-/ { n += $4 } END { print n + 0 }' $run/results)
echo "storm-reloads $reloads"
ktap_check "all $OPS operations ran and reported" "$OPS" "$total"
ktap_check "every result is one the ABI allows (mdev_storm exit status, storm-unexpected lines)" \
	"0 0" "$storm_rc $(grep -c '^storm-unexpected' $run/results)"
if [ "$MIN_OK" -gt 0 ]; then
	ok_creates=$(awk '$1 == "storm-result" && $2 == "create" && $3 == "OK" { print $4 }' $run/results)
	ok_removes=$(awk '$1 == "storm-result" && $2 == "remove" && $3 == "OK" { print $4 }' $run/results)
	ktap_assert "the storm did work: at least $MIN_OK successful creates ($ok_creates) and removes ($ok_removes)" \
		test "${ok_creates:-0}" -ge "$MIN_OK" -a "${ok_removes:-0}" -ge "$MIN_OK"
fi
ktap_check "creates collided (EEXIST seen) and removes met missing devices (ENOENT seen)" \
	"yes yes" "$(grep -q '^storm-result create EEXIST' $run/results && echo yes || echo no) $(grep -q '^storm-result remove ENOENT' $run/results && echo yes || echo no)"
if [ -s $run/reload-errors ]; then
	ktap_print_msg "$(cat $run/reload-errors)"
fi
ktap_assert "the Rust sample was reloaded at least $RELOADS times without error ($reloads)" \
	test "$reloads" -ge "$RELOADS" -a ! -s $run/reload-errors
if [ "$MIGRATE" = 1 ]; then
	sed 's/^/# /' $run/mig
	whole=$(awk '$1 == "storm-mig" && $2 == "running" && $3 == "OK" { print $4 }' $run/mig)
	cut=$(awk '$1 == "storm-mig" && $2 == "cut-short-read" { n += $4 } END { print n + 0 }' $run/mig)
	ktap_check "every step of a migration of an open device answered as the ABI promises (storm_migrate exit status, storm-mig-unexpected lines)" \
		"0 0" "$mig_rc $(grep -c '^storm-mig-unexpected' $run/mig)"
	ktap_assert "migrations raced the storm: at least 10 whole ($whole) and 1 cut short ($cut)" \
		test "${whole:-0}" -ge 10 -a "$cut" -ge 1
fi

# --- The end state -----------------------------------------------------------

# Each device links to its type and its type's devices/ back to it, and each
# entry of a type's devices/ is a device on the bus.
links_consistent() {
	for d in "$MDEV_BUS"/*; do
		[ -e "$d" ] || continue
		u=${d##*/}
		t=$(readlink -f "$d/mdev_type") || { echo "$u has no mdev_type"; continue; }
		[ "$(readlink -f "$t/devices/$u")" = "$(readlink -f "$d")" ] || echo "$t/devices/$u does not lead back to $u"
	done
	for t in $TYPES; do
		for e in "$t"/devices/*; do
			[ -e "$e" ] || [ -L "$e" ] || continue
			[ -e "$MDEV_BUS/${e##*/}" ] || echo "$e is not on the bus"
		done
	done
}
problems=$(links_consistent)
[ -z "$problems" ] || ktap_print_msg "$problems"
ktap_check "each device and its type's devices/ entry lead to each other" "" "$problems"

sysfs_list() {
	ls "$MDEV_BUS" | sort | tr '\n' ' '
}
if [ "$MDEV_CORE" = rust ]; then
	ktap_check "the debugfs device list equals the devices in sysfs, all active" \
		"$(sysfs_list)" "$(awk '$4 == "active" { print $1 }' /sys/kernel/debug/mdev/devices | sort | tr '\n' ' ')"
else
	ktap_test_skip "the debugfs device list is an improvement of the Rust core"
fi

# available_instances is the maximum minus what is live: mtty shares 24
# ports between mtty-1 (one port a device) and mtty-2 (two); the Rust sample
# shares SAMPLE_MAX devices between its two types.
live() {
	ls "$1/devices" 2>/dev/null | wc -l
}
# counts_match_live: available_instances is what the live devices leave,
# with m1, m2, s1, s2, ports and left set for the checks below.
counts_match_live() {
	m1=$(live "$MTTY_T/mtty-1") m2=$(live "$MTTY_T/mtty-2")
	s1=$(live "$SAMPLE_T/faux_driver-1") s2=$(live "$SAMPLE_T/faux_driver-2")
	ports=$((24 - m1 - 2 * m2)) left=$((SAMPLE_MAX - s1 - s2))
	[ "$(avail_all)" = "$ports $((ports / 2)) $left $left " ]
}
# A device removed at the storm's end gives its instance (mtty: its ports)
# back in its release, which a delayed kobject release (the stress kernel)
# defers by up to four seconds: read at once, mtty's counts were short by
# the ports of devices already gone from devices/.
wait_for 15 counts_match_live
ktap_print_msg "live devices: mtty-1 $m1, mtty-2 $m2, faux_driver-1 $s1, faux_driver-2 $s2"
ktap_check "each type's available_instances is its maximum minus its live devices" \
	"$ports $((ports / 2)) $left $left " "$(avail_all)"
ktap_check "every live device is of one of the four types" "$((m1 + m2 + s1 + s2))" "$(nr_devices)"

# Remove everything: every count goes back to its start.
for d in "$MDEV_BUS"/*; do
	[ -e "$d" ] && remove "${d##*/}" >/dev/null
done
# mtty gives its ports back when VFIO releases the device, which a delayed
# kobject release (the stress kernel) defers by up to four seconds.
back_to_start() { [ "$(nr_devices) $(avail_all)" = "0 $start_avail" ]; }
wait_for 15 back_to_start
# The C core deletes a device's remove file before it learns that the
# device cannot be removed yet, and then answers EAGAIN: that device can no
# longer be removed through sysfs, only by unloading its vendor (a C-core
# defect, Documentation/testing.rst).  Only that explains leftovers there.
left=$(nr_devices) orphans=0
for d in "$MDEV_BUS"/*; do
	[ -e "$d" ] && [ ! -e "$d/remove" ] && orphans=$((orphans + 1))
done
if [ "$MDEV_CORE" = c ] && [ "$left" -gt 0 ] && [ "$left" = "$orphans" ]; then
	ktap_test_skip "after removing every device, the counts are back to their start [C-core defect: $left devices lost their remove file to EAGAIN]"
else
	ktap_check "after removing every device, the counts are back to their start" \
		"0 $start_avail" "$left $(avail_all)"
fi

# The C core's orphans may hold every mtty port; only mtty's unregistration
# drops them.
if [ "$orphans" -gt 0 ] && ! kobject_release_delayed; then
	unload_module mtty
	load_vendor mtty || ktap_print_msg "cannot reload mtty"
fi

# The vendors unload right after removing devices: whatever the core or
# VFIO releases later must not touch their memory (the stress kernel delays
# every release by up to four seconds).
u1=$(new_uuid) u2=$(new_uuid)
made="$(create "$MTTY_T/mtty-2" "$u1") $(create "$SAMPLE_T/faux_driver-1" "$u2")"
gone="$(remove "$u1") $(remove "$u2")"
rmmod $SAMPLE
ktap_check "a device of each vendor is made and removed, and the Rust sample unloads at once" \
	"OK OK OK OK no" "$made $gone $(is_loaded $SAMPLE && echo yes || echo no)"
if kobject_release_delayed; then
	# mtty registers a static class and a static parent device: their own
	# releases read mtty's memory after rmmod, whatever the core.
	ktap_test_skip "mtty unloads at once [mtty's static class and device are unsafe with delayed kobject release; Documentation/testing.rst]"
else
	rmmod mtty
	ktap_check "mtty unloads at once" no "$(is_loaded mtty && echo yes || echo no)"
	unload_module mdev
	ktap_check "the core unloads after its vendors" no "$(is_loaded mdev && echo yes || echo no)"
fi
unload_all
ktap_finished
