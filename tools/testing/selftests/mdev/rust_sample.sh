#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The Rust sample vendor driver mdev_rs_sample through sysfs: its faux
# parent, its two types and their attributes, the instance pool of its
# max_instances parameter that the core counts across both types, the
# mdev_type link of its devices, and unloading with devices present.
# vfio_sample.sh drives its device through VFIO.

. ./mdev_lib.sh

SAMPLE=mdev_rs_sample

ktap_print_header
ktap_set_plan 26
unload_all
warnings=$(nr_warnings)

# available_instances of type 1 and type 2.
avail() {
	echo "$(cat "$T1/available_instances") $(cat "$T2/available_instances")"
}

# --- The parent and its types ---
load_vendor $SAMPLE max_instances=3 || ktap_exit_fail_msg "cannot load $SAMPLE on $(core_desc)"
ktap_assert "the parent $SAMPLE is in $MDEV_CLASS" test -d "$MDEV_CLASS/$SAMPLE"
ktap_check "the parent is the faux device $SAMPLE" "/sys/devices/faux/$SAMPLE" \
	"$(readlink -f "$MDEV_CLASS/$SAMPLE")"
P=$(readlink -f "$MDEV_CLASS/$SAMPLE")/mdev_supported_types
# The core names a type <parent's driver>-<sysfs name>; the parent is a faux
# device, whose driver is faux_driver (as mtty's types are mtty-N).
T1=$P/faux_driver-1
T2=$P/faux_driver-2
ktap_check "its two types are listed" "faux_driver-1 faux_driver-2" "$(ls "$P" | tr '\n' ' ' | sed 's/ $//')"

check_type() { # type-dir pretty-name pci-device-id bar0-size
	t=$(basename "$1")
	ktap_check "$t: name" "$2" "$(cat "$1/name")"
	ktap_check "$t: device_api" vfio-pci "$(cat "$1/device_api")"
	ktap_check "$t: description" "PCI device 1b36:$3 with a $4-byte BAR0" "$(cat "$1/description")"
}
check_type "$T1" "Sample device, 4 KiB BAR" 7f01 4096
check_type "$T2" "Sample device, 64 KiB BAR" 7f02 65536

# --- max_instances: one pool for both types, counted by the core ---
ktap_check "available_instances starts at max_instances (3) on both types" "3 3" "$(avail)"
u1=$(new_uuid) u2=$(new_uuid) u3=$(new_uuid) u4=$(new_uuid)
ktap_check "a device of type 1 is created" OK "$(create "$T1" "$u1")"
ktap_check "its instance is taken from the pool of both types" "2 2" "$(avail)"
ktap_check "a device of type 2, then one of type 1 take the last two instances" "OK OK 0 0" \
	"$(create "$T2" "$u2") $(create "$T1" "$u3") $(avail)"
ktap_check "with none left, a 4th create of either type fails with EUSERS" "EUSERS EUSERS 3" \
	"$(create "$T2" "$u4") $(create "$T1" "$u4") $(nr_devices)"
ktap_check "a device's mdev_type link points to its type" "$T2" \
	"$(readlink -f "$MDEV_BUS/$u2/mdev_type")"
ktap_check "the type's devices/ lists the device" "$u2" "$(ls "$T2/devices")"
ktap_check "remove succeeds and gives its instance back to both types" "OK 1 1" \
	"$(remove "$u1") $(avail)"
ktap_check "the instance given back can be taken by the other type" "OK 0 0" \
	"$(create "$T2" "$u1") $(avail)"

# --- Remove waits for the device's VFIO users ---
# Dropping the VFIO registration (vfio_unregister_group_dev) waits until
# userspace has closed the device, as for any VFIO driver.
./vfio_show --hold "$u3" > /tmp/rust_sample.hold 2>&1 &
holder=$!
wait_for 10 grep -q '^held$' /tmp/rust_sample.hold ||
	ktap_print_msg "vfio_show --hold: $(cat /tmp/rust_sample.hold)"
./mdev_write "$MDEV_BUS/$u3/remove" 1 > /tmp/rust_sample.remove &
remover=$!
# wchan names where the remove sleeps: VFIO's unregistration.
remove_waits() {
	grep -q unregister_group_dev "/proc/$remover/wchan" 2>/dev/null
}
ktap_assert "a remove waits in VFIO unregistration while the device is open" wait_for 10 remove_waits
kill "$holder"
wait "$holder"
wait "$remover"
ktap_check "closing the device lets the remove finish (OK)" OK "$(cat /tmp/rust_sample.remove)"
ktap_check "the device and its instance are gone" "0 1 1" "$(ls "$MDEV_BUS" | grep -c "$u3") $(avail)"
rm -f /tmp/rust_sample.hold /tmp/rust_sample.remove
create "$T1" "$u3" >/dev/null

# --- Unloading with devices present ---
ktap_assert "rmmod $SAMPLE succeeds with three devices present" unload_module $SAMPLE
ktap_check "unloading removed every device from the bus" 0 "$(nr_devices)"
ktap_assert "the parent is gone from $MDEV_CLASS" test ! -e "$MDEV_CLASS/$SAMPLE"

# --- The default max_instances ---
load_vendor $SAMPLE || ktap_exit_fail_msg "cannot reload $SAMPLE on $(core_desc)"
ktap_check "reloaded with the default max_instances, available_instances is 4 on both types" \
	"4 4" "$(avail)"
ktap_check "no warning in the kernel log" "$warnings" "$(nr_warnings)"

unload_all
ktap_finished
