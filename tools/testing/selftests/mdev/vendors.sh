#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The unmodified in-tree C samples mtty, mdpy and mbochs on the core under
# test: their types are listed, devices are created and removed through
# sysfs, their VFIO registration succeeds, and they unload cleanly with
# devices present.

. ./mdev_lib.sh

ktap_print_header
ktap_set_plan 18
unload_all

# vfio_device_of UUID: the device is a VFIO device with an IOMMU group node.
is_vfio_device() {
	group=$(basename "$(readlink "$MDEV_BUS/$1/iommu_group")")
	[ -d "$MDEV_BUS/$1/vfio-dev" ] && [ -n "$group" ] && [ -c "/dev/vfio/$group" ]
}

check_vendor() { # module parent-name "types" type-to-create
	mod=$1 parent=$2 types=$3 mtype=$4
	if ! load_vendor "$mod"; then
		ktap_test_fail "$mod loads on $(core_desc)"
		for i in 1 2 3 4 5; do ktap_test_skip "$mod: not loaded"; done
		return
	fi
	ktap_test_pass "$mod loads on $(core_desc)"
	P=$(readlink -f "$MDEV_CLASS/$parent")/mdev_supported_types
	ktap_check "$mod: its types are listed" "$types" "$(ls "$P" | tr '\n' ' ' | sed 's/ $//')"
	u=$(new_uuid)
	ktap_check "$mod: create through sysfs" OK "$(create "$P/$mtype" "$u")"
	ktap_assert "$mod: the device is registered with VFIO (iommu_group, /dev/vfio)" is_vfio_device "$u"
	ktap_check "$mod: remove through sysfs" "OK 0" "$(remove "$u") $(nr_devices)"
	create "$P/$mtype" "$(new_uuid)" >/dev/null
	create "$P/$mtype" "$(new_uuid)" >/dev/null
	ktap_check "$mod: unloads with two devices present, which go with it" "ok 0" \
		"$(unload_module "$mod" && echo ok) $(nr_devices)"
}

check_vendor mtty mtty "mtty-1 mtty-2" mtty-2
check_vendor mdpy mdpy "mdpy-hd mdpy-vga mdpy-xga" mdpy-vga
check_vendor mbochs mbochs "mbochs-large mbochs-medium mbochs-small" mbochs-small

unload_all
ktap_finished
