#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The in-tree C mtty sample through VFIO on the core under test, with both
# of its types (mtty-1: one port on BAR0, mtty-2: two ports on BAR0 and
# BAR1): mtty_client's transcript (--trace) of a fresh device, saved as
# /tmp/mtty-trace.<type>; then, on another device, vfio_client's generic
# fixture vfio_mdev and mtty_client, which checks mtty's device in detail
# (see mtty_client.c).  The two types run at the same time.
#
# The clients run in each IOMMU mode of MDEV_VFIO_MODES (mdev_lib.sh,
# vfio_modes_here; default type1v2), one mode after the other; a mode the
# kernel lacks is a skipped point.
#
# Then, if it was built, the same for mtty_rs, the Rust port of mtty (types
# mtty_rs-1 and mtty_rs-2), whose transcripts must equal the C mtty's but
# for the differences listed in mtty_trace.allowed; any other difference
# fails, and the diff is printed.
#
# The two client programs print KTAP of their own.  Their results are kept
# as this test's points, named "<type>: <program>: <test>", with their
# diagnostics (as kunit.sh does with the KUnit suites), plus one point per
# run: it ran every test it planned.  All points are printed at the end,
# once their number is known (run_harness and results_print, in
# mdev_lib.sh).

. ./mdev_lib.sh

MTTY_ID=0x32534348	# device 3253, vendor 4348
ALLOWED=./mtty_trace.allowed
RESULTS=/tmp/vfio_mtty.results
OUT=/tmp/vfio_mtty.out
: > $RESULTS

# run_type VENDOR TYPE [ENV...]: save the transcript of mtty_client --trace
# on a fresh device of VENDOR's TYPE (mtty answers some ioctls differently
# before the first GET_INFO, and some writes of the trace stay for the
# device's lifetime), then run vfio_client's generic fixture and mtty_client
# on another.  ENV (NAME=VALUE) goes to the clients' environment.  The
# IOMMU mode is $MODE, named $MN in the points.
run_type() {
	vendor=$1 type=$2
	shift 2
	ports=${type##*-}
	dir=$(readlink -f "$MDEV_CLASS/$vendor")/mdev_supported_types/$type
	trace=/tmp/mtty-trace.$MODE.$type
	set -- MDEV_VFIO_MODE="$MODE" "$@"
	type="$MN: $type"

	uuid=$(new_device "$dir" "$type") || return 1
	env MDEV_UUID="$uuid" MDEV_MTTY_PORTS="$ports" "$@" ./mtty_client --trace > "$trace" 2> $OUT
	rc=$?
	while IFS= read -r line; do note "mtty_client --trace: $line"; done < $OUT
	check "$type: mtty_client --trace ran to its end (exit status, last line)" "0 end of trace" \
		"$rc $(tail -n1 "$trace")"
	result=$(remove "$uuid")
	[ "$result" = OK ] || note "removing the $type device: $result"

	uuid=$(new_device "$dir" "$type") || return 1
	# The driver's own file in the device's directory (dev_groups).
	files=/sys/bus/mdev/devices/$uuid/vendor
	check "$type: the device's vendor/sample_mdev_dev names the device" \
		"sample_mdev_dev|This is MDEV $uuid" \
		"$(ls "$files" 2>&1)|$(cat "$files/sample_mdev_dev" 2>&1)"
	run_harness "$type: vfio_client" env MDEV_UUID="$uuid" MDEV_PCI_ID=$MTTY_ID \
		MDEV_BAR0_SIZE=8 "$@" ./vfio_client -f vfio_mdev
	run_harness "$type: mtty_client" env MDEV_UUID="$uuid" MDEV_MTTY_PORTS="$ports" "$@" \
		./mtty_client
	result=$(remove "$uuid")
	[ "$result" = OK ] || note "removing the $type device: $result"
}

# run_types VENDOR TYPE... [-- ENV...]: run_type for every TYPE at once,
# each with its own files, then their points in the order of the types.
# Their devices are independent, and under TCG this halves the time that
# the clients spend waiting for interrupts that must not come.
run_types() {
	vendor=$1
	shift
	types=""
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		types="$types $1"
		shift
	done
	[ "${1:-}" = -- ] && shift
	for t in $types; do
		(RESULTS=$RESULTS.$t OUT=$OUT.$t; : > "$RESULTS"; run_type "$vendor" "$t" "$@") &
	done
	wait
	for t in $types; do
		cat "$RESULTS.$t" >> $RESULTS
		rm -f "$RESULTS.$t" "$OUT.$t"
	done
}

# run_modes VENDOR TYPE... [-- ENV...]: run_types in each mode of $MODES.
run_modes() {
	for MODE in $MODES; do
		MN=$(vfio_mode_name "$MODE")
		run_types "$@"
	done
}

unload_all
load_vendor mtty >/dev/null || { ktap_print_header; ktap_exit_fail_msg "cannot load mtty on $(core_desc)"; }
MODES=$(vfio_modes_here)
rm -f /tmp/mtty-trace.*
run_modes mtty mtty-1 mtty-2

if [ -z "$(module_path mtty_rs)" ]; then
	point skip "mtty_rs is not built"
elif ! load_vendor mtty_rs > $OUT; then
	while IFS= read -r line; do note "${line#\# }"; done < $OUT
	point fail "mtty_rs loads on $(core_desc)"
else
	# The port is held to what mtty should do: every access outside a
	# region fails (see mtty_client.c, past_region_end).
	run_modes mtty_rs mtty_rs-1 mtty_rs-2 -- MDEV_MTTY_STRICT_BOUNDS=1
	for MODE in $MODES; do
		for n in 1 2; do
			t=/tmp/mtty-trace.$MODE
			[ -e $t.mtty_rs-$n ] &&
				compare_traces $ALLOWED $t.mtty-$n $t.mtty_rs-$n \
					"$(vfio_mode_name "$MODE"): mtty_rs-$n: the transcript equals mtty-$n's, but for the allowed differences"
		done
	done
	unload_module mtty_rs
fi
unload_all

results_print
ktap_finished
