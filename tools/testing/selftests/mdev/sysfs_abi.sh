#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The sysfs ABI of Documentation/ABI/testing/sysfs-bus-vfio-mdev, file for
# file, mode for mode, byte for byte, and the input rules of `create` and
# `remove`.  Uses the test vendor (two parents with types a and b).

. ./mdev_lib.sh

ktap_print_header
ktap_set_plan 35
unload_all
tv_load || ktap_exit_fail_msg "cannot load $TV on $(core_desc)"

A=$(tv_type 0 a)
B=$(tv_type 0 b)

# --- Parent and type directories ---
ktap_check "/sys/class/mdev_bus/mdev_test0 links to the parent device" \
	"$(readlink -f /sys/devices/virtual/mdev_test/mdev_test0)" "$(readlink -f $MDEV_CLASS/mdev_test0)"
ktap_check "mdev_supported_types lists <driver>-<type> per type" "mdev_test-a mdev_test-b" \
	"$(ls "$(dirname "$A")" | tr '\n' ' ' | sed 's/ $//')"
ktap_check "a type directory has exactly the documented entries" \
	"available_instances create description device_api devices name" \
	"$(ls "$A" | tr '\n' ' ' | sed 's/ $//')"
ktap_check "create is write-only (0200)" 200 "$(stat -c %a "$A/create")"
ktap_check "name, description, device_api, available_instances are 0444" "444 444 444 444" \
	"$(stat -c %a "$A/name" "$A/description" "$A/device_api" "$A/available_instances" | tr '\n' ' ' | sed 's/ $//')"
ktap_check "devices is a directory" directory "$(stat -c %F "$A/devices")"
ktap_check "name shows the pretty name" "Test type A" "$(cat "$A/name")"
ktap_check "name falls back to the sysfs name" "b" "$(cat "$B/name")"
ktap_check "device_api shows the driver's API" "vfio-pci" "$(cat "$A/device_api")"
ktap_check "description shows the driver's text" "test type a" "$(cat "$A/description")"
ktap_check "available_instances shows max_instances" "8" "$(cat "$A/available_instances")"
ktap_check "name ends in exactly one newline" "5465737420747970652041 0a" \
	"$(od -An -tx1 "$A/name" | tr -d ' \n' | sed 's/0a$/ 0a/')"

# --- A device ---
U=$(new_uuid)
ktap_check "create accepts a UUID with one trailing newline" OK "$(create "$A" "$U")"
D=$MDEV_BUS/$U
ktap_check "the device's mdev_type link points to its type" "$(readlink -f "$A")" "$(readlink -f "$D/mdev_type")"
ktap_check "the type's devices/ links to the device" "$(readlink -f "$D")" "$(readlink -f "$A/devices/$U")"
ktap_check "the device lives under its parent" "$(readlink -f $MDEV_CLASS/mdev_test0)/$U" "$(readlink -f "$D")"
ktap_check "remove is write-only (0200)" 200 "$(stat -c %a "$D/remove")"
ktap_check "the device is bound to the vendor driver" "mdev_test_vendor" "$(basename "$(readlink "$D/driver")")"
ktap_check "the device is on the mdev bus" "mdev" "$(basename "$(readlink "$D/subsystem")")"
ktap_check "remove rejects what kstrtoul rejects (EINVAL)" EINVAL "$(mdev_write "$D/remove" abc)"
ktap_check "remove of 0 succeeds and does nothing" "OK yes" \
	"$(mdev_write "$D/remove" 0) $(test -d "$D" && echo yes)"
ktap_check "remove of 0x1 removes the device" "OK no" \
	"$(mdev_write "$D/remove" 0x1) $(test -d "$D" && echo yes || echo no)"

# --- Drivers: registered on the bus, bound only by the core's explicit attach ---
ktap_check "mdev_register_driver refuses a driver without device_api (EINVAL)" -22 "$(tv_param no_api_result)"
DRV=/sys/bus/mdev/drivers/mdev_test_vendor
ktap_assert "the vendor driver is registered on the mdev bus" test -d "$DRV"
U=$(new_uuid)
create "$A" "$U" >/dev/null
ktap_check "a device can be unbound from its driver through sysfs" "OK no" \
	"$(mdev_write "$DRV/unbind" "$U") $(test -e "$MDEV_BUS/$U/driver" && echo yes || echo no)"
ktap_check "binding through sysfs fails: drivers never match (ENODEV)" ENODEV \
	"$(mdev_write "$DRV/bind" "$U")"
remove "$U" >/dev/null

# --- What create accepts ---
U=$(new_uuid)
ktap_check "create accepts a UUID without newline" OK "$(mdev_write "$A/create" "$U")"
remove "$U" >/dev/null
UPPER=$(echo "$U" | tr a-f A-F)
ktap_check "create accepts upper-case hex and names the device in lower case" "OK yes" \
	"$(mdev_write "$A/create" "$UPPER") $(test -d "$MDEV_BUS/$U" && echo yes)"
remove "$U" >/dev/null
ktap_check "create rejects a short UUID (EINVAL)" EINVAL "$(mdev_write "$A/create" "${U%?}")"
ktap_check "create rejects a malformed UUID (EINVAL)" EINVAL \
	"$(mdev_write "$A/create" "$(echo "$U" | sed 's/-/+/')")"
ktap_check "create rejects two trailing newlines (EINVAL)" EINVAL \
	"$(mdev_write -n "$A/create" "$U
")"
ktap_check "create rejects a 38-byte write (EINVAL)" EINVAL "$(mdev_write "$A/create" "${U}xy")"
ktap_check "nothing was created by the rejected writes" 0 "$(nr_devices)"
ktap_improvement "create rejects a 37th byte that is not a newline (EINVAL)" \
	test "$(mdev_write "$A/create" "${U}x")" = EINVAL
remove "$U" >/dev/null 2>&1	# the C core takes it

# --- description is only there when the driver describes ---
tv_load describe=0 || ktap_exit_fail_msg "cannot reload $TV"
ktap_assert "without show_description there is no description file" test ! -e "$A/description"

unload_all
ktap_finished
