#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Create, duplicate create and remove of a mediated device through sysfs, on
# the in-tree mtty sample, as Documentation/ABI/testing/sysfs-bus-vfio-mdev
# describes them.

. ./mdev_lib.sh

ktap_print_header
ktap_set_plan 9
unload_all

if ! load_vendor mtty; then
	ktap_test_fail "vfio, vfio_iommu_type1, $(core_desc) and mtty load"
	ktap_exit_fail_msg "cannot load the mtty stack"
fi
ktap_test_pass "vfio, vfio_iommu_type1, $(core_desc) and mtty load"

parent=$(readlink -f $MDEV_CLASS/mtty)
ktap_assert "/sys/class/mdev_bus/mtty links to the parent" test -d "$parent/mdev_supported_types"
type1=$parent/mdev_supported_types/mtty-1
type2=$parent/mdev_supported_types/mtty-2

uuid=$(new_uuid)
ktap_check "create $uuid" OK "$(mdev_write -n "$type1/create" "$uuid")"
ktap_assert "the device appears on the mdev bus" test -d "$MDEV_BUS/$uuid"
ktap_check "its mdev_type link points to mtty-1" "$type1" "$(readlink -f "$MDEV_BUS/$uuid/mdev_type")"
ktap_check "a duplicate create of the same type fails with EEXIST" EEXIST \
	"$(mdev_write -n "$type1/create" "$uuid")"
ktap_check "a duplicate create of another type fails with EEXIST" EEXIST \
	"$(mdev_write -n "$type2/create" "$uuid")"
ktap_check "writing 1 to remove succeeds" OK "$(mdev_write "$MDEV_BUS/$uuid/remove" 1)"
ktap_assert "the device is gone from the mdev bus" test ! -e "$MDEV_BUS/$uuid"

unload_all
ktap_finished
