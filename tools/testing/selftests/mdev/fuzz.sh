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
# MDEV_FUZZ_CALLS the test is skipped (make check).

. ./mdev_lib.sh

CALLS=${MDEV_FUZZ_CALLS:-}
SEED=${MDEV_FUZZ_SEED:-${MDEV_STORM_SEED:-1}}
case ${MDEV_FUZZ_DRIVERS:-rust} in
c) DRIVERS="mtty:mtty-2 mdpy:mdpy-xga" ;;
*) DRIVERS="mdev_rs_sample:faux_driver-1 mtty_rs:mtty_rs-2 mdpy_rs:mdpy_rs-xga" ;;
esac

ktap_print_header
if [ -z "$CALLS" ]; then
	ktap_skip_all "the device-fd fuzzer runs in make stress (MDEV_FUZZ_CALLS)"
	exit "$KSFT_SKIP"
fi
ktap_set_plan $(($(echo $DRIVERS | wc -w) * 3))
out=$(mktemp)
for d in $DRIVERS; do
	vendor=${d%%:*} type=${d#*:}
	unload_all
	load_vendor "$vendor" > /dev/null
	u=$(new_uuid)
	created=$(create "$(readlink -f "$MDEV_CLASS/$vendor")/mdev_supported_types/$type" "$u")
	MDEV_UUID=$u ./vfio_fuzz "$SEED" "$CALLS" > "$out" 2>&1
	rc=$?
	sed "s/^/# $vendor: /" "$out"
	made=$(awk '$1 == "fuzz-calls" { n += $4 } END { print n + 0 }' "$out")
	echo "fuzz-figure $vendor calls=$made seed=$SEED"
	ktap_check "$vendor: a $type device takes $CALLS fuzzed calls and still answers" \
		"OK 0 $CALLS" "$created $rc $made"
	ktap_check "$vendor: the fuzzed device is removed" OK "$(remove "$u")"
	unload_module "$vendor"
	ktap_assert "$vendor: its driver unloads" sh -c "! grep -q '^$vendor ' /proc/modules"
done
rm -f "$out"
unload_all
ktap_finished
