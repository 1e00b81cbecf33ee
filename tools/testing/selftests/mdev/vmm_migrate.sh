#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A VM moves with its device: QEMU's live migration with VFIO migration v2
# (QEMU 8.1 or later), between QEMUs in this guest, each with an mtty
# device of its own, on the core under test (vmm_migrate.c).  The VM hops
#
#   C mtty -> C mtty -> mtty_rs -> mtty_rs -> C mtty
#
# so each pair of drivers is one hop: the C mtty's state loaded into C
# mtty and mtty_rs's into mtty_rs (the controls), the C mtty's into
# mtty_rs, and mtty_rs's into the C mtty.  At each hop, what the guest
# wrote into the UARTs before the migration is read back after it.  Then
# every device's remove succeeds, no QEMU or stream process is left, and
# no file of either driver is left open.  make vmm runs it (MDEV_VMM_MIGRATION=1, Debian 13's QEMU 10 as
# qemu-new); it skips itself otherwise.

. ./mdev_lib.sh

if [ "${MDEV_VMM_MIGRATION:-0}" != 1 ]; then
	ktap_print_header
	ktap_skip_all "QEMU's migration runs in make vmm (MDEV_VMM_MIGRATION=1)"
	exit "$KSFT_SKIP"
fi

RESULTS=/tmp/vmm_migrate.results
OUT=/tmp/vmm_migrate.out
: > $RESULTS

# qemu_new_enough QEMU: whether QEMU is 8.1 or later (VFIO migration v2
# with PRE_COPY and device dirty tracking).
qemu_new_enough() {
	set -- $("$1" --version 2>/dev/null | sed -n '1s/.*version \([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
	[ -n "${1:-}" ] && { [ "$1" -gt 8 ] || { [ "$1" -eq 8 ] && [ "$2" -ge 1 ]; }; }
}

QEMU=""
for q in qemu-new qemu-system-x86_64; do
	if command -v $q > /dev/null && qemu_new_enough $q; then
		QEMU=$q
		break
	fi
done
if [ -z "$QEMU" ]; then
	ktap_print_header
	ktap_skip_all "no QEMU 8.1 or later in this guest (make vmm brings Debian 13's as qemu-new)"
	exit "$KSFT_SKIP"
fi
note "QEMU: $QEMU, $($QEMU --version | sed -n 1p)"

# QEMU tracks dirty pages with the devices' DMA logging when every device
# offers it (mtty and mtty_rs do); the devices' reports go through the
# kernel's iova_bitmap (CONFIG_IOMMUFD_DRIVER, which IOMMU drivers and VFIO
# variant drivers select), without which each fails with EOPNOTSUPP, and so
# would the migration.  The test kernel has it; on one without (Debian's),
# QEMU uses the container's dirty tracking (type1: the pages the vendor
# pinned).
# MDEV_VMM_DIRTY=device or container chooses (a developer's aid).
dirty=${MDEV_VMM_DIRTY:-}
if [ -n "$dirty" ]; then
	note "dirty tracking as MDEV_VMM_DIRTY says: $dirty"
elif grep -q ' iova_bitmap_for_each$' /proc/kallsyms; then
	dirty=device
else
	dirty=container
	point skip "QEMU with the devices' dirty tracking: this kernel has no iova_bitmap (CONFIG_IOMMUFD_DRIVER), every DMA_LOGGING_REPORT fails with EOPNOTSUPP; QEMU uses the container's"
fi

unload_all
chain=""
if ! load_vendor mtty > $OUT; then
	while IFS= read -r line; do note "${line#\# }"; done < $OUT
	point fail "mtty loads on $(core_desc)"
elif [ -z "$(module_path mtty_rs)" ]; then
	point skip "mtty_rs is not built: the C mtty to itself only"
	chain="mtty mtty"
elif ! load_vendor mtty_rs > $OUT; then
	while IFS= read -r line; do note "${line#\# }"; done < $OUT
	point fail "mtty_rs loads on $(core_desc)"
else
	chain="mtty mtty mtty_rs mtty_rs mtty"
fi

uuids=""
args=""
for d in $chain; do
	dir=$(readlink -f "$MDEV_CLASS/$d")/mdev_supported_types/$d-2
	u=$(new_device "$dir" "$d-2") || { args=""; break; }
	uuids="$uuids $u"
	args="$args $d=$u"
done
if [ -n "$args" ]; then
	# shellcheck disable=SC2086
	run_harness "QEMU migration" env MDEV_VMM_QEMU="$QEMU" MDEV_VMM_DIRTY=$dirty \
		MDEV_PCI_ID=0x32534348 MDEV_MTTY_PORTS=2 ./vmm_migrate $args
fi
# vmm_migrate removed each device once its QEMU had quit; one it left (a
# run cut short) goes now.
for u in $uuids; do
	[ -e "$MDEV_BUS/$u" ] || continue
	note "device $u was left; removing it: $(remove "$u")"
done
check "every device is gone after the run" 0 "$(nr_devices)"
# Nor a process: a QEMU, or the cat of a migration stream (vmm_migrate.c).
left=$(ps -o pid,args | grep -E 'vmm-migrate|sysfsdev=' | grep -v grep)
check "no QEMU or migration stream's cat of the run is left" "" "$left"
# A migration data fd or a device fd left open holds its driver's module.
for m in mtty mtty_rs; do
	is_loaded $m || continue
	check "$m: no file of the driver is left open (module refcount)" 0 "$(cat /sys/module/$m/refcnt)"
done
unload_all

results_print
ktap_finished
