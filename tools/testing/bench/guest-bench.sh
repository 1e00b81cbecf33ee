#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`, inside the guest: the cost of create and remove with few and
# with many devices, on the C core and on the Rust core in the same boot.
# The numbers only mean something relative to each other: ratios of each
# core against itself (many vs few devices) and of Rust against C.

SMALL=50
LARGE=${MDEV_BENCH_LARGE:-50000}
PAIRS=${MDEV_BENCH_PAIRS:-300}
KMOD=/lib/modules/$(uname -r)
BENCH=/kselftest/mdev/mdev_bench
TYPE=/sys/class/mdev_bus/mdev_test0/mdev_supported_types/mdev_test-a

modprobe vfio
results=/tmp/bench.txt
: > $results
for core in c rust; do
	# Both cores are named mdev: load each by path.
	core_dir=$KMOD/updates
	[ "$core" = c ] && core_dir=$KMOD/kernel/drivers/vfio/mdev
	insmod $core_dir/mdev.ko || exit 1
	insmod "$(find "$KMOD" -name mdev_test_vendor.ko)" nr_parents=1 max_instances=$((LARGE + PAIRS + 10)) || exit 1
	echo "bench: $core core: $SMALL devices, then $LARGE, $PAIRS create+remove pairs each"
	small=$($BENCH $TYPE $SMALL $PAIRS) || exit 1
	large=$($BENCH $TYPE $((LARGE - SMALL)) $PAIRS) || exit 1
	large=$(echo "$large" | sed "s/population=[0-9]*/population=$LARGE/")
	echo "$core $small" | tee -a $results
	echo "$core $large" | tee -a $results
	echo "bench: unloading $LARGE devices"
	rmmod mdev_test_vendor
	rmmod mdev
done

# Columns: core population create_us remove_us
sed 's/[a-z_]*=//g' $results | awk -v small=$SMALL -v large=$LARGE '
{ c[$1 "," $2] = $3; r[$1 "," $2] = $4 }
END {
	printf "\n%-6s %10s %12s %12s\n", "core", "devices", "create (us)", "remove (us)"
	for (i = 0; i < 2; i++) {
		core = i ? "rust" : "c"
		printf "%-6s %10d %12.1f %12.1f\n", core, small, c[core "," small], r[core "," small]
		printf "%-6s %10d %12.1f %12.1f\n", core, large, c[core "," large], r[core "," large]
	}
	printf "\nratio %d devices / %d devices (1.00 = no slowdown):\n", large, small
	for (i = 0; i < 2; i++) {
		core = i ? "rust" : "c"
		printf "  %-4s create %.2f  remove %.2f\n", core, c[core "," large] / c[core "," small], r[core "," large] / r[core "," small]
	}
	printf "ratio rust / c (below 1.00 = rust faster):\n"
	printf "  with %5d devices: create %.2f  remove %.2f\n", small, c["rust," small] / c["c," small], r["rust," small] / r["c," small]
	printf "  with %5d devices: create %.2f  remove %.2f\n", large, c["rust," large] / c["c," large], r["rust," large] / r["c," large]
}'
echo "bench finished"
