#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# An unprivileged user (nobody, uid 65534, through mdev_as_nobody) is
# refused create and remove with EACCES, reads every informational file of
# the ABI as root does, cannot read the Rust core's debugfs device list, and
# changes no state.

. ./mdev_lib.sh

ktap_print_header
ktap_set_plan 8
unload_all
tv_load || ktap_exit_fail_msg "cannot load $TV on $(core_desc)"
A=$(tv_type 0 a)
as_nobody() { ./mdev_as_nobody "$@"; }

u=$(new_uuid)
create "$A" "$u" >/dev/null
avail=$(cat "$A/available_instances")
before="$(nr_devices) $avail"

ktap_check "create as nobody fails with EACCES" EACCES "$(as_nobody ./mdev_write -n "$A/create" "$(new_uuid)")"
ktap_check "remove as nobody fails with EACCES" EACCES "$(as_nobody ./mdev_write "$MDEV_BUS/$u/remove" 1)"

# Every readable file of the parent's types and of the device.
bad=""
files=0
for f in "$A"/* "$(tv_type 0 b)"/* "$MDEV_BUS/$u"/*; do
	[ -f "$f" ] && [ -r "$f" ] || continue
	case "$(stat -c %a "$f")" in *4*) ;; *) continue ;; esac
	files=$((files + 1))
	[ "$(as_nobody cat "$f" 2>&1)" = "$(cat "$f")" ] || bad="$bad $f"
done
ktap_check "nobody reads the $files informational files as root does" "" "$bad"
ktap_assert "nobody reads the type's name and available_instances" \
	test "$(as_nobody cat "$A/name") $(as_nobody cat "$A/available_instances")" = "$(cat "$A/name") $avail"
if [ "$MDEV_CORE" = c ]; then
	ktap_test_skip "nobody cannot read the debugfs device list [the C core has none]"
else
	ktap_assert "nobody cannot read the debugfs device list" \
		sh -c "! ./mdev_as_nobody cat /sys/kernel/debug/mdev/devices >/dev/null 2>&1"
fi
ktap_assert "the helper really runs as nobody (id -u is 65534)" test "$(as_nobody id -u)" = 65534
ktap_check "none of it changed any state (devices, available_instances)" "$before" \
	"$(nr_devices) $(cat "$A/available_instances")"
ktap_check "root still removes the device" OK "$(remove "$u")"
unload_all
ktap_finished
