#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The life of a device: reservation while it is created, EAGAIN for a device
# that is not active, cleanup after a failed create op, removal, and the
# parent's unregistration with devices present or being created, with its
# MDEV_STATE uevents.  Uses the test vendor's run-time knobs.

. ./mdev_lib.sh

ktap_print_header
ktap_set_plan 26
unload_all
uevents_start
tv_load || ktap_exit_fail_msg "cannot load $TV on $(core_desc)"
A=$(tv_type 0 a)
B=$(tv_type 1 b)

# --- A create op that fails leaves nothing behind ---
avail=$(cat "$A/available_instances")
U=$(new_uuid)
tv_param probe_errno 5
ktap_check "a failing create op fails the write with its errno (EIO)" EIO "$(create "$A" "$U")"
# Userspace can fail creates at will (a vendor out of resources): as in the
# C core, the core logs them at the debug level only (the driver core logs
# a failed probe itself).
U2=$(new_uuid)
create "$A" "$U2" >/dev/null
tv_param probe_errno 0
ktap_check "the core logs no line for failed creates" 0 "$(dmesg | grep -cE "MDEV: .*($U|$U2)")"
ktap_check "the failed device is not on the bus" 0 "$(nr_devices)"
ktap_check "the failed device left no link in devices/" "" "$(ls "$A/devices")"
ktap_check "the failed device gave its instance back" "$avail" "$(cat "$A/available_instances")"
ktap_check "its UUID can be used again" OK "$(create "$A" "$U")"
remove "$U" >/dev/null

# --- While the create op runs, the UUID is reserved and the device is not active ---
tv_param hold_ops 1
U=$(new_uuid)
create "$A" "$U" > /tmp/create.out &
create_pid=$!
if wait_for 5 test -e "$MDEV_BUS/$U/remove"; then
	ktap_check "remove during the create op answers EAGAIN" EAGAIN "$(remove "$U")"
	ktap_check "the reserved UUID is taken on another parent (EEXIST)" EEXIST "$(create "$B" "$U")"
else
	ktap_test_fail "remove during the create op answers EAGAIN (device never appeared)"
	ktap_test_fail "the reserved UUID is taken on another parent (EEXIST)"
fi
tv_param hold_ops 0
wait $create_pid
ktap_check "the slow create succeeds" OK "$(cat /tmp/create.out)"
failed_probes=2
ktap_improvement "after EAGAIN the device keeps its remove file and can be removed once active" \
	test "$(remove "$U")" = OK
if [ -d "$MDEV_BUS/$U" ]; then
	# The C core deletes the remove file before it answers EAGAIN, so the
	# device cannot be removed through sysfs any more: start afresh.
	tv_load || ktap_exit_fail_msg "cannot reload $TV"
	failed_probes=0
fi

# --- Removal ---
U=$(new_uuid)
create "$A" "$U" >/dev/null
removes=$(tv_param removes)
rm -f /tmp/gone /tmp/gone.opened
# A second writer opens remove now and writes once the device is gone.
mdev_write -w /tmp/gone "$MDEV_BUS/$U/remove" 1 > /tmp/stale.out &
stale_pid=$!
wait_for 10 test -e /tmp/gone.opened
ktap_check "remove succeeds" OK "$(remove "$U")"
ktap_check "the vendor's remove op ran once" $((removes + 1)) "$(tv_param removes)"
touch /tmp/gone
wait $stale_pid
ktap_check "remove of a device that is gone fails with ENODEV" ENODEV "$(cat /tmp/stale.out)"
ktap_check "the type's devices/ is empty again" "" "$(ls "$A/devices")"

# --- Two concurrent removes of one device: it is removed exactly once ---
U=$(new_uuid)
create "$A" "$U" >/dev/null
tv_param remove_delay_ms 1000
removes=$(tv_param removes)
remove "$U" > /tmp/remove1.out &
pid1=$!
remove "$U" > /tmp/remove2.out &
pid2=$!
wait $pid1 $pid2
tv_param remove_delay_ms 0
ktap_check "of two concurrent removes, the remove op ran once" $((removes + 1)) "$(tv_param removes)"
ktap_check "after two concurrent removes the device is gone" 0 "$(nr_devices)"

# --- Unregistration with devices present and creates in flight ---
for i in 1 2 3; do create "$A" "$(new_uuid)" >/dev/null; create "$B" "$(new_uuid)" >/dev/null; done
tv_param hold_ops 1
for i in 1 2 3; do create "$A" "$(new_uuid)" > /tmp/late$i.out & done
wait_for 20 ops_running_is 3
warnings=$(nr_warnings)
# Unregistration waits for the creates in flight; release them once it runs.
(sleep 1; tv_param hold_ops 0) &
ktap_assert "the vendor unloads with devices present and creates running" unload_module $TV
wait
ktap_check "unregistration removed every device" 0 "$(nr_devices)"
ok=1
for i in 1 2 3; do
	case "$(cat /tmp/late$i.out)" in OK|ENODEV|ENOENT) ;; *) ok=0; ktap_print_msg "late create $i: $(cat /tmp/late$i.out)" ;; esac
done
ktap_check "creates racing unregistration succeed or fail cleanly" 1 "$ok"
exit_line=$(tv_exit_line)
probes=$(echo "$exit_line" | sed 's/probes=\([0-9]*\).*/\1/')
removes=$(echo "$exit_line" | sed 's/.*removes=\([0-9]*\)/\1/')
# The create ops that failed on purpose (EIO) have no remove op.
ktap_check "every successful create op had its remove op" "$((probes - failed_probes))" "$removes"
ktap_check "no warning in the kernel log" "$warnings" "$(nr_warnings)"

# --- Creates and removes that start once unregistration has begun: ENODEV ---
tv_load || ktap_exit_fail_msg "cannot reload $TV"
failed_probes=0
old=$(new_uuid)
create "$A" "$old" >/dev/null
tv_param hold_ops 1
create "$A" "$(new_uuid)" > /tmp/held.out &
wait_for 20 ops_running_is 1
# rmmod now waits in mdev_unregister_parent() for the held create.
rmmod $TV &
rmmod_pid=$!
# wchan names the first function outside the scheduler and locking code.
rmmod_waits() {
	grep -q unregister_parent "/proc/$rmmod_pid/wchan" 2>/dev/null
}
wait_for 20 rmmod_waits || ktap_print_msg "rmmod not seen waiting in unregistration"
# Parent 1 is already gone; parent 0 waits, with its types still in sysfs.
ktap_check "a create that starts during unregistration fails with ENODEV" ENODEV \
	"$(create "$(tv_type 0 b)" "$(new_uuid)")"
ktap_check "a remove that starts during unregistration fails with ENODEV" ENODEV "$(remove "$old")"
echo 0 > "$TV_PARAMS/hold_ops"
wait $rmmod_pid
wait
ktap_check "the create that unregistration waited for had succeeded" OK "$(cat /tmp/held.out)"
ktap_check "unregistration then removed every device" 0 "$(nr_devices)"

# --- MDEV_STATE uevents on the parent (the helper runs asynchronously) ---
sleep 1
ktap_check "uevents: MDEV_STATE=registered and =unregistered on each parent" \
	"registered mdev_test0;registered mdev_test1;unregistered mdev_test0;unregistered mdev_test1;" \
	"$(grep -E 'MDEV_STATE=' /run/uevents.log | grep '/mdev_test/' |
	   sed -E 's|^change /devices/virtual/mdev_test/(mdev_test[01]) MDEV_STATE=([a-z]*).*|\2 \1|' |
	   sort -u | tr '\n' ';')"
uevents_stop

unload_all
ktap_finished
