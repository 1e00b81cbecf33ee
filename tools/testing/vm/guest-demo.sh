#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# `make demo`, inside the guest: load the mdev core and the C mtty sample,
# create a mediated device through sysfs, show what it looks like, remove it;
# then the same with the Rust sample vendor driver, whose device is also read
# through VFIO as a VMM would (vfio_show); then the Rust port of mtty next to
# the C mtty, both driven by the same client.

set -e
KMOD=/lib/modules/$(uname -r)
step() { echo; echo "### $*"; }
show_types() { # the types a parent offers, with their attributes
	for t in "$1"/mdev_supported_types/*; do
		echo "$(basename "$t"): name='$(cat "$t/name")' device_api=$(cat "$t/device_api")" \
		     "available_instances=$(cat "$t/available_instances")"
		[ -r "$t/description" ] && echo "    description: $(cat "$t/description")"
	done
	return 0
}
# create_device TYPE_DIR: create a device of that type; sets $uuid.
create_device() {
	uuid=$(cat /proc/sys/kernel/random/uuid)
	step "echo $uuid > $1/create"
	echo "$uuid" > "$1/create"
}
remove_device() {
	step "echo 1 > /sys/bus/mdev/devices/$1/remove"
	echo 1 > "/sys/bus/mdev/devices/$1/remove"
	ls /sys/bus/mdev/devices/
}

# Both cores are named mdev.  The Rust core is installed under updates/,
# which depmod prefers, so modprobe resolves mtty's "depends: mdev" to it;
# the in-tree C core has to be loaded by path before.
if [ "$MDEV_CORE" = c ]; then
	step "loading the C mdev core by path: insmod $KMOD/kernel/drivers/vfio/mdev/mdev.ko"
	modprobe vfio
	insmod "$KMOD/kernel/drivers/vfio/mdev/mdev.ko"
fi
step "modprobe mtty: loads vfio, vfio_iommu_type1, mdev and the mtty sample"
modprobe vfio_iommu_type1
modprobe mtty
grep -E '^(vfio|vfio_iommu_type1|mdev|mtty) ' /proc/modules | cut -d' ' -f1,2
dmesg | grep -E 'mdev: mdev core|loading out-of-tree' | sed 's/^\[[^]]*\] //'
echo "taint flags of mdev: '$(cat /sys/module/mdev/taint)' (O: out of tree, the Rust core)"

step "parents: ls -l /sys/class/mdev_bus"
ls -l /sys/class/mdev_bus
parent=$(readlink -f /sys/class/mdev_bus/mtty)
step "types of $parent"
show_types "$parent"

type=$parent/mdev_supported_types/mtty-2
create_device "$type"

step "ls -l /sys/bus/mdev/devices/$uuid/"
ls -l "/sys/bus/mdev/devices/$uuid/"
step "the mdev_type link and the type's devices/"
echo "mdev_type -> $(readlink -f "/sys/bus/mdev/devices/$uuid/mdev_type")"
ls -l "$type/devices/"
echo "available_instances of mtty-2 is now $(cat "$type/available_instances")"
if [ -r /sys/kernel/debug/mdev/devices ]; then
	step "the Rust core's device list: cat /sys/kernel/debug/mdev/devices"
	cat /sys/kernel/debug/mdev/devices
fi

remove_device "$uuid"
echo "available_instances of mtty-2 is back to $(cat "$type/available_instances")"

step "the Rust sample vendor driver: insmod mdev_rs_sample.ko max_instances=2"
insmod "$(find "$KMOD" -name mdev_rs_sample.ko)" max_instances=2
parent=$(readlink -f /sys/class/mdev_bus/mdev_rs_sample)
step "types of $parent (a faux device, so the types are faux_driver-N)"
show_types "$parent"
create_device "$parent/mdev_supported_types/faux_driver-1"
echo "iommu_group -> $(readlink -f "/sys/bus/mdev/devices/$uuid/iommu_group")"
step "vfio_show $uuid: open it through VFIO as a VMM does, and read it"
/kselftest/mdev/vfio_show "$uuid"
remove_device "$uuid"

step "the Rust port of mtty next to the C mtty: insmod mtty_rs.ko"
insmod "$(find "$KMOD" -name mtty_rs.ko)"
for vendor in mtty mtty_rs; do
	parent=$(readlink -f /sys/class/mdev_bus/$vendor)
	step "types of $parent"
	show_types "$parent"
done
step "one dual-port device of each, driven through VFIO by mtty_client --trace"
for vendor in mtty mtty_rs; do
	uuid=$(cat /proc/sys/kernel/random/uuid)
	echo "$uuid" > "/sys/class/mdev_bus/$vendor/mdev_supported_types/$vendor-2/create"
	MDEV_UUID=$uuid MDEV_MTTY_PORTS=2 /kselftest/mdev/mtty_client --trace > "/tmp/demo-$vendor.trace"
	echo "$vendor-2 device $uuid: $(wc -l < "/tmp/demo-$vendor.trace") observations"
	echo 1 > "/sys/bus/mdev/devices/$uuid/remove"
done
step "the first observations, C mtty | Rust mtty"
head -n 12 /tmp/demo-mtty.trace > /tmp/demo-c.head
head -n 12 /tmp/demo-mtty_rs.trace | paste -d'|' /tmp/demo-c.head -
step "every line that differs (each one is documented in mtty_trace.allowed)"
diff /tmp/demo-mtty.trace /tmp/demo-mtty_rs.trace || true

step "unloading"
rmmod mdev_rs_sample mtty_rs mtty mdev vfio_iommu_type1 vfio
echo "demo finished"
