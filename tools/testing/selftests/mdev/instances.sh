#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# available_instances: from the driver's max_instances, counted per parent by
# the core, or from the driver's get_available; EUSERS when none is left; the
# count stays exact after any mix of successes and failures.

. ./mdev_lib.sh

ktap_print_header
ktap_set_plan 14
unload_all

# --- max_instances: the core counts, per parent, across its types ---
tv_load max_instances=3 || ktap_exit_fail_msg "cannot load $TV on $(core_desc)"
A=$(tv_type 0 a)
B=$(tv_type 0 b)
OTHER=$(tv_type 1 a)
ktap_check "available_instances starts at max_instances" 3 "$(cat "$A/available_instances")"
u1=$(new_uuid) u2=$(new_uuid) u3=$(new_uuid)
create "$A" "$u1" >/dev/null
create "$B" "$u2" >/dev/null
ktap_check "instances are shared by the types of a parent" "1 1" \
	"$(cat "$A/available_instances") $(cat "$B/available_instances")"
ktap_check "another parent keeps its own count" 3 "$(cat "$OTHER/available_instances")"
tv_param probe_errno 22
ktap_check "a create whose op fails (EINVAL)..." EINVAL "$(create "$A" "$(new_uuid)")"
tv_param probe_errno 0
ktap_check "...does not consume an instance" 1 "$(cat "$A/available_instances")"
ktap_check "a duplicate create does not consume one either" "EEXIST 1" \
	"$(create "$B" "$u1") $(cat "$A/available_instances")"
ktap_check "the last instance can be created" OK "$(create "$A" "$u3")"
ktap_check "with none left, create fails with EUSERS" "EUSERS 0" \
	"$(create "$A" "$(new_uuid)") $(cat "$A/available_instances")"
remove "$u2" >/dev/null
ktap_check "a removed device gives its instance back" 1 "$(cat "$B/available_instances")"
remove "$u1" >/dev/null
remove "$u3" >/dev/null
ktap_check "after everything is removed the count is back to max_instances" 3 \
	"$(cat "$A/available_instances")"

# --- get_available: the driver counts, the core only asks ---
tv_load use_get_available=1 || ktap_exit_fail_msg "cannot reload $TV"
tv_param available 7
ktap_check "with get_available, available_instances is the driver's answer" 7 "$(cat "$A/available_instances")"
tv_param available 0
ktap_check "the core leaves enforcement to the driver (create succeeds)" OK "$(create "$A" "$(new_uuid)")"

# --- The in-tree samples ---
unload_all
load_vendor mtty || ktap_exit_fail_msg "cannot load mtty"
P=$(readlink -f $MDEV_CLASS/mtty)/mdev_supported_types
before=$(cat "$P/mtty-1/available_instances")
u=$(new_uuid)
create "$P/mtty-2" "$u" >/dev/null
ktap_check "mtty (get_available): a dual-port device takes two ports" $((before - 2)) \
	"$(cat "$P/mtty-1/available_instances")"
remove "$u" >/dev/null
unload_all
load_vendor mdpy count=2 || ktap_exit_fail_msg "cannot load mdpy"
P=$(readlink -f $MDEV_CLASS/mdpy)/mdev_supported_types
t=$(ls "$P" | sed -n 1p)
create "$P/$t" "$(new_uuid)" >/dev/null
ktap_check "mdpy (max_instances from its count parameter): 2 - 1 left" 1 "$(cat "$P/$t/available_instances")"

unload_all
ktap_finished
