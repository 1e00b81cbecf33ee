#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# UUIDs are unique across every parent and type, also under races, without
# kernel warnings; creates and removes on one parent run concurrently (no
# per-parent serialization); a create/remove storm leaves nothing behind.

. ./mdev_lib.sh

ktap_print_header
ktap_set_plan 9
unload_all
tv_load max_instances=64 || ktap_exit_fail_msg "cannot load $TV on $(core_desc)"
warnings=$(nr_warnings)

# --- Global uniqueness ---
U=$(new_uuid)
create "$(tv_type 0 a)" "$U" >/dev/null
ktap_check "the same UUID on another parent fails with EEXIST" EEXIST "$(create "$(tv_type 1 b)" "$U")"
ktap_check "the duplicate caused no kernel warning" "$warnings" "$(nr_warnings)"
remove "$U" >/dev/null

# --- One UUID raced on four types of two parents: exactly one wins ---
tv_param probe_delay_ms 500
U=$(new_uuid)
for t in "0 a" "0 b" "1 a" "1 b"; do
	create "$(tv_type $t)" "$U" > "/tmp/race.$(echo $t | tr -d ' ')" &
done
wait
tv_param probe_delay_ms 0
ktap_check "of four racing creates of one UUID, one succeeds" 1 "$(cat /tmp/race.* | grep -c '^OK$')"
ktap_check "and the three others fail with EEXIST" 3 "$(cat /tmp/race.* | grep -c '^EEXIST$')"
remove "$U" >/dev/null
rm -f /tmp/race.*

# --- No serialization per parent: ops of one parent run at the same time ---
tv_param hold_ops 1
for i in 1 2 3 4; do create "$(tv_type 0 a)" "$(new_uuid)" >/dev/null & done
ktap_assert "four creates on one parent are inside the create op at once" \
	wait_for 20 ops_running_is 4
tv_param hold_ops 0
wait
tv_param hold_ops 1
for u in $(ls $MDEV_BUS); do remove "$u" >/dev/null & done
ktap_assert "four removes on one parent are inside the remove op at once" \
	wait_for 20 ops_running_is 4
tv_param hold_ops 0
wait

# --- A storm of creates and removes on both parents ---
storm() {
	n=0
	while [ $n -lt 10 ]; do
		u=$(new_uuid)
		r=$(create "$(tv_type $1)" "$u")
		[ "$r" = OK ] || echo "create $u: $r"
		r=$(remove "$u")
		[ "$r" = OK ] || echo "remove $u: $r"
		n=$((n + 1))
	done
}
for t in "0 a" "0 b" "1 a" "1 b"; do storm "$t" > "/tmp/storm.$(echo $t | tr -d ' ')" & done
wait
# (storm.sh runs the large storm, with mdev_storm instead of a shell.)
ktap_check "40 concurrent create/remove pairs all succeed" "" "$(cat /tmp/storm.*)"
rm -f /tmp/storm.*
ktap_check "nothing is left after the storm" "0 64 64" \
	"$(nr_devices) $(cat "$(tv_type 0 a)/available_instances") $(cat "$(tv_type 1 a)/available_instances")"
ktap_check "the races caused no kernel warning" "$warnings" "$(nr_warnings)"

unload_all
ktap_finished
