#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The in-tree C mdpy sample (a PCI display: its framebuffer is BAR0) through
# VFIO on the core under test, with each of its types (mdpy-vga 640x480,
# mdpy-xga 1024x768, mdpy-hd 1920x1080): mdpy_client's transcript (--trace)
# of a fresh device, saved as /tmp/mdpy-trace.<type>; then, on another
# device, mdpy_client's harness, which checks mdpy's device in detail (see
# mdpy_client.c).
#
# vfio_client's generic fixture vfio_mdev is not run: it expects INTx with
# one vector and an interrupt line that reads back what is written, and
# mdpy has neither (its five interrupt indexes have no vectors, and config
# space ignores every write but BAR0's).  What else it checks (device and
# region info, the IDs, BAR0's size, reset), mdpy_client checks too.
#
# Then, if it was built, the same for mdpy_rs, the Rust port of mdpy (types
# mdpy_rs-vga, mdpy_rs-xga and mdpy_rs-hd), held to what mdpy should do
# (MDEV_MDPY_STRICT=1: the read and write paths honour offsets, accesses
# outside the regions fail), whose transcripts must equal the C mdpy's but
# for the differences listed in mdpy_trace.allowed; any other difference
# fails, and the diff is printed.
#
# As in vfio_mtty.sh, the points of the client's harness become this test's,
# named "<mode>: <type>: mdpy_client: <test>", all printed at the end, and
# the clients run in each IOMMU mode of MDEV_VFIO_MODES (default type1v2).

. ./mdev_lib.sh

ALLOWED=./mdpy_trace.allowed
RESULTS=/tmp/vfio_mdpy.results
OUT=/tmp/vfio_mdpy.out
: > $RESULTS

# run_type VENDOR TYPE WIDTH HEIGHT [ENV...]: save the transcript of
# mdpy_client --trace on a fresh device of VENDOR's TYPE (the C mdpy answers
# GET_IRQ_INFO differently before the first GET_INFO, and the framebuffer
# and BAR0 keep what the trace writes), then run mdpy_client's harness on
# another.  ENV (NAME=VALUE) goes to the client's environment.  The IOMMU
# mode is $MODE, named $MN in the points.
run_type() {
	vendor=$1 type=$2 width=$3 height=$4
	shift 4
	dir=$(readlink -f "$MDEV_CLASS/$vendor")/mdev_supported_types/$type
	trace=/tmp/mdpy-trace.$MODE.$type
	set -- MDEV_VFIO_MODE="$MODE" "$@"
	type="$MN: $type"

	uuid=$(new_device "$dir" "$type") || return 1
	env MDEV_UUID="$uuid" MDEV_MDPY_WIDTH="$width" MDEV_MDPY_HEIGHT="$height" "$@" \
		./mdpy_client --trace > "$trace" 2> $OUT
	rc=$?
	while IFS= read -r line; do note "mdpy_client --trace: $line"; done < $OUT
	check "$type: mdpy_client --trace ran to its end (exit status, last line)" "0 end of trace" \
		"$rc $(tail -n1 "$trace")"
	result=$(remove "$uuid")
	[ "$result" = OK ] || note "removing the $type device: $result"

	uuid=$(new_device "$dir" "$type") || return 1
	# The driver's own file in the device's directory (dev_groups).
	files=/sys/bus/mdev/devices/$uuid/vendor
	check "$type: the device's vendor/resolution shows the type's resolution" \
		"resolution|${width}x${height}" \
		"$(ls "$files" 2>&1)|$(cat "$files/resolution" 2>&1)"
	run_harness "$type: mdpy_client" env MDEV_UUID="$uuid" MDEV_MDPY_WIDTH="$width" \
		MDEV_MDPY_HEIGHT="$height" "$@" ./mdpy_client
	result=$(remove "$uuid")
	[ "$result" = OK ] || note "removing the $type device: $result"
}

# run_types VENDOR [ENV...]: run_type for each type (name, width, height),
# one after the other: unlike mtty's, mdpy's clients never wait.  In each
# mode of $MODES.
run_types() {
	vendor=$1
	shift
	for MODE in $MODES; do
		MN=$(vfio_mode_name "$MODE")
		for t in vga,640,480 xga,1024,768 hd,1920,1080; do
			size=${t#*,}
			run_type "$vendor" "$vendor-${t%%,*}" "${size%,*}" "${size#*,}" "$@"
		done
	done
}

unload_all
load_vendor mdpy >/dev/null || { ktap_print_header; ktap_exit_fail_msg "cannot load mdpy on $(core_desc)"; }
MODES=$(vfio_modes_here)
rm -f /tmp/mdpy-trace.*
run_types mdpy

if [ -z "$(module_path mdpy_rs)" ]; then
	point skip "mdpy_rs is not built"
elif ! load_vendor mdpy_rs > $OUT; then
	while IFS= read -r line; do note "${line#\# }"; done < $OUT
	point fail "mdpy_rs loads on $(core_desc)"
else
	run_types mdpy_rs MDEV_MDPY_STRICT=1
	for MODE in $MODES; do
		for name in vga xga hd; do
			t=/tmp/mdpy-trace.$MODE
			[ -e $t.mdpy_rs-$name ] &&
				compare_traces $ALLOWED $t.mdpy-$name $t.mdpy_rs-$name \
					"$(vfio_mode_name "$MODE"): mdpy_rs-$name: the transcript equals mdpy-$name's, but for the allowed differences"
		done
	done
	unload_module mdpy_rs
fi
unload_all

results_print
ktap_finished
