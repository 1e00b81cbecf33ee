#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The device-fd fuzzer (vfio_fuzz) against each vendor driver: a device of
# each is created, fuzzed with MDEV_FUZZ_CALLS seeded calls (ioctls with
# random argsz and flags, region reads and writes and mmaps at random
# offsets and sizes, SET_IRQS over random ranges, DMA maps, unmaps and
# commands), then must still answer and be removed, and its driver unloads.
# The kernel's checkers (KASAN in make stress) judge what the calls did:
# splat_check.sh reads the log.
#
# make stress sets MDEV_FUZZ_CALLS and MDEV_FUZZ_DRIVERS: "rust" (the Rust
# sample and ports: the verdict) or "c" (the C samples, whose known overruns
# are documented: a reference run whose reports are findings). Without
# MDEV_FUZZ_CALLS the test is skipped (make check).  It fuzzes in each IOMMU
# mode of MDEV_VFIO_MODES (default type1v2): the DMA maps and unmaps go to
# the container or to the IOAS (vfio_dev.h).

. ./mdev_lib.sh

CALLS=${MDEV_FUZZ_CALLS:-}
SEED=${MDEV_FUZZ_SEED:-${MDEV_STORM_SEED:-1}}
case ${MDEV_FUZZ_DRIVERS:-rust} in
c) DRIVERS="mtty:mtty-2 mdpy:mdpy-xga" ;;
*) DRIVERS="mdev_rs_sample:faux_driver-1 mtty_rs:mtty_rs-2 mdpy_rs:mdpy_rs-xga" ;;
esac

if [ -z "$CALLS" ]; then
	ktap_print_header
	ktap_skip_all "the device-fd fuzzer runs in make stress (MDEV_FUZZ_CALLS)"
	exit "$KSFT_SKIP"
fi
RESULTS=/tmp/fuzz.results OUT=/tmp/fuzz.out
: > $RESULTS
out=$(mktemp)
load_core || { ktap_print_header; ktap_exit_fail_msg "cannot load $(core_desc)"; }
MODES=$(vfio_modes_here)
for mode in $MODES; do
	mn=$(vfio_mode_name "$mode")
	for d in $DRIVERS; do
		vendor=${d%%:*} type=${d#*:}
		unload_all
		load_vendor "$vendor" > /dev/null
		u=$(new_uuid)
		created=$(create "$(readlink -f "$MDEV_CLASS/$vendor")/mdev_supported_types/$type" "$u")
		MDEV_VFIO_MODE=$mode MDEV_UUID=$u ./vfio_fuzz "$SEED" "$CALLS" > "$out" 2>&1
		rc=$?
		while IFS= read -r line; do note "$mn: $vendor: $line"; done < "$out"
		made=$(awk '$1 == "fuzz-calls" { n += $4 } END { print n + 0 }' "$out")
		echo "fuzz-figure $vendor calls=$made seed=$SEED mode=$mn"
		check "$mn: $vendor: a $type device takes $CALLS fuzzed calls and still answers" \
			"OK 0 $CALLS" "$created $rc $made"
		check "$mn: $vendor: the fuzzed device is removed" OK "$(remove "$u")"
		unload_module "$vendor"
		if is_loaded "$vendor"; then
			point fail "$mn: $vendor: its driver unloads"
		else
			point pass "$mn: $vendor: its driver unloads"
		fi
	done
done
rm -f "$out"
unload_all
results_print
ktap_finished
