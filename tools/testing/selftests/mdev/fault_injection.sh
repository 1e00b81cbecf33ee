#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Nothing is leaked or half-created after an error: every allocation that a
# create, and then a remove, makes is failed in turn (per task, through
# /proc/self/fail-nth with failslab), and after each attempt the device is
# either complete or absent, the instance count is exact, and nothing is left
# in sysfs.  Then the same for creates of the Rust sample's devices, whose
# probe goes through the vendor API and the VFIO glue.  splat_check.sh, which
# runs later, catches leaks and warnings.
#
# The sample's sweep is the long one (about 130 allocations, each a create
# of a VFIO device).  MDEV_SWEEP_STRIDE=k fails only every k-th of them,
# from MDEV_SWEEP_START: make check takes every fifth, from an offset that
# changes each day, and make stress sweeps them all on the KASAN kernel.

. ./mdev_lib.sh

STRIDE=${MDEV_SWEEP_STRIDE:-1}
START=${MDEV_SWEEP_START:-1}

ktap_print_header
F=/sys/kernel/debug/failslab
if [ ! -w /proc/self/fail-nth ] || [ ! -d $F ]; then
	ktap_skip_all "no fault injection (CONFIG_FAULT_INJECTION_DEBUG_FS, CONFIG_FAILSLAB)"
	exit "$KSFT_SKIP"
fi
ktap_set_plan 10
unload_all
tv_load || ktap_exit_fail_msg "cannot load $TV on $(core_desc)"
A=$(tv_type 0 a)
avail=$(cat "$A/available_instances")

# instances_back: the type's available_instances is $avail again.  A device
# gives its instance back in its release, which the stress kernel delays by
# up to four seconds (DEBUG_KOBJECT_RELEASE): wait up to 30 s there, a
# margin for a host whose CPUs other guests share.
instances_back() {
	[ "$(cat "$A/available_instances")" = "$avail" ]
}
release_wait=0
kobject_release_delayed && release_wait=30
instances_settled() {
	instances_back || { [ $release_wait -gt 0 ] && wait_for $release_wait instances_back; }
}

# Sleeping allocations too, silently: the stack dumps would only be noise.
echo N > $F/ignore-gfp-wait
echo 0 > $F/verbose

# --- create ---
n=1 bad="" lost="" failed=0
while [ $n -le 400 ]; do
	U=$(new_uuid)
	set -- $(./mdev_write -n -f $n "$A/create" "$U")
	result=$1 injected=$2
	if [ "$result" = OK ]; then
		[ -d "$MDEV_BUS/$U" ] || bad="$bad $n:missing"
		remove "$U" >/dev/null
	else
		failed=$((failed + 1))
		[ -e "$MDEV_BUS/$U" ] && { bad="$bad $n:left"; remove "$U" >/dev/null; }
	fi
	[ "$(ls "$A/devices")" = "" ] || bad="$bad $n:link"
	if ! instances_settled; then
		lost="$lost $n"
		avail=$(cat "$A/available_instances")
	fi
	[ "$injected" = fault ] || break
	n=$((n + 1))
done
ktap_print_msg "create: $((n - 1)) allocations failed in turn, $failed creates failed"
[ -z "$lost" ] || ktap_print_msg "an instance was lost when allocation$lost failed"
ktap_check "each failed allocation in create leaves the device complete or absent" "" "$bad"
# The C core takes the instance before it allocates the device and does not
# give it back when that allocation fails.
ktap_improvement "no failed allocation in create loses an instance" test -z "$lost"
ktap_assert "create was failed at more than 10 allocations" test "$n" -gt 10
ktap_assert "the UUID index is still right: a fresh create and remove work" \
	test "$(create "$A" "$U") $(remove "$U")" = "OK OK"

# --- remove ---
# The baseline again (on the C core a failed create loses an instance), once
# the release of the device just removed above has given its instance back:
# read at once, on the stress kernel it was one low while that release was
# delayed, and a later check that found every instance back failed.
instances_settled || true
avail=$(cat "$A/available_instances")
n=1 bad=""
while [ $n -le 400 ]; do
	U=$(new_uuid)
	create "$A" "$U" >/dev/null
	set -- $(./mdev_write -f $n "$MDEV_BUS/$U/remove" 1)
	result=$1 injected=$2
	if [ "$result" = OK ]; then
		[ -e "$MDEV_BUS/$U" ] && bad="$bad $n:still-there"
	elif [ -e "$MDEV_BUS/$U/remove" ]; then
		# Refused before anything happened: it must still be removable.
		[ "$(remove "$U")" = OK ] || bad="$bad $n:stuck"
	elif [ -e "$MDEV_BUS/$U" ]; then
		bad="$bad $n:half-removed"
	fi
	instances_settled || bad="$bad $n:instances"
	[ "$injected" = fault ] || break
	n=$((n + 1))
done
ktap_print_msg "remove: $((n - 1)) allocations failed in turn"
ktap_check "each failed allocation in remove leaves the device removed or removable" "" "$bad"
ktap_check "nothing is left on the bus" 0 "$(nr_devices)"

ktap_assert "the vendor unloads cleanly afterwards" unload_module $TV

# --- create through the Rust sample: the vendor API and VFIO glue's own
# error paths (VFIO allocation, state initialization, registration) ---
load_vendor mdev_rs_sample max_instances=1000 >/dev/null ||
	ktap_exit_fail_msg "cannot load mdev_rs_sample on $(core_desc)"
# The sample's type 1 (its faux parent's driver names the type).
S=$(readlink -f "$MDEV_CLASS/mdev_rs_sample")/mdev_supported_types/faux_driver-1
# Only allocations made with the sample on the stack are failed (failslab's
# stack-trace filter): those of its probe, the vendor API and VFIO's
# registration under it.  The core's own were failed in turn above.
set -- $(awk '$1 == "mdev_rs_sample" { print $6, $2 }' /proc/modules)
[ "${1:-0x0}" != 0x0000000000000000 ] || ktap_exit_fail_msg "no address of mdev_rs_sample in /proc/modules"
printf '0x%x\n' $(($1)) > $F/require-start
printf '0x%x\n' $(($1 + $2)) > $F/require-end
# VFIO's own vfio_create_group() WARNs when an allocation in it fails (its
# error path releases a group that still points to its IOMMU group), whatever
# the vendor driver: keep injected failures out of that function.  One pass
# over kallsyms finds it and the symbol after it (a sort is slow under TCG).
range=$(awk '$3 == "vfio_create_group" { start = $1 }
	{ addr[NR] = $1 }
	END {
		if (start == "") exit
		for (i in addr) if (addr[i] > start && (end == "" || addr[i] < end)) end = addr[i]
		print "0x" start, "0x" end
	}' /proc/kallsyms)
[ -n "$range" ] || ktap_exit_fail_msg "vfio_create_group is not in /proc/kallsyms"
set -- $range
echo "$1" > $F/reject-start
echo "$2" > $F/reject-end
n=$START bad="" tried=0
while [ $n -le 400 ]; do
	U=$(new_uuid)
	tried=$((tried + 1))
	set -- $(./mdev_write -n -f $n "$S/create" "$U")
	result=$1 injected=$2
	if [ "$result" = OK ]; then
		# Complete means registered with VFIO too: it has an IOMMU group.
		[ -e "$MDEV_BUS/$U/iommu_group" ] || bad="$bad $n:no-vfio"
		remove "$U" >/dev/null
	elif [ -e "$MDEV_BUS/$U" ]; then
		bad="$bad $n:left"
		remove "$U" >/dev/null
	fi
	[ "$injected" = fault ] || break
	n=$((n + STRIDE))
done
ktap_print_msg "sample create: $((tried - 1)) of its $((n - 1)) allocations failed in turn (every ${STRIDE}, from the ${START})"
ktap_check "sample: each failed allocation in create leaves the device complete or absent" "" "$bad"
ktap_assert "sample: create was failed at more than 10 allocations" test "$n" -gt 10
echo 0 > $F/reject-start
echo 0 > $F/reject-end
echo 0 > $F/require-start
echo 0 > $F/require-end
echo Y > $F/ignore-gfp-wait
ktap_assert "sample: it unloads cleanly afterwards" unload_module mdev_rs_sample
unload_all
ktap_finished
