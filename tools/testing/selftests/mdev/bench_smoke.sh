#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# `make bench` at a tiny size on the core under test: a few hundred devices,
# one round, every kind of figure.  It proves that the benchmark runs and
# that its output is complete; it asserts nothing about time (make check runs
# on the debug kernel).  The host turns both cores' figures into the table,
# CSV and plot (stress.sh), as make bench does.
#
# It runs in make stress, which sets MDEV_BENCH_SMOKE=1; make check skips
# it, to stay under its 6 minutes.

. ./mdev_lib.sh

ktap_print_header
if [ "${MDEV_BENCH_SMOKE:-0}" != 1 ]; then
	ktap_skip_all "the benchmark smoke test runs in make stress (MDEV_BENCH_SMOKE=1)"
	exit "$KSFT_SKIP"
fi
ktap_set_plan 7
unload_all
out=/tmp/bench_smoke.$MDEV_CORE
# No data path (MDEV_BENCH_DATAPATH=0): it loads the C samples, which a
# kernel with delayed kobject releases cannot unload (unload_all).
MDEV_BENCH_DATAPATH=0 MDEV_BENCH_CORES=$MDEV_CORE MDEV_BENCH_MAX=160 MDEV_BENCH_BASE=10 MDEV_BENCH_SAMPLES=1 \
	MDEV_BENCH_OPS=64 MDEV_BENCH_MEMORY=50 MDEV_BENCH_READER=8 MDEV_BENCH_SEED=7 MDEV_BENCH_PROGRAM=./mdev_bench \
	/usr/bin/mdev-bench > $out 2>&1
rc=$?
# For the host's report (check.sh), and for whoever reads a failure.
sed 's/^/# /' $out
ktap_check "the benchmark ran to its end on $(core_desc)" "0 finished" \
	"$rc $(grep -c '^bench finished' $out | sed 's/^1$/finished/')"
data() { grep "^bench-data round=1 core=$MDEV_CORE $1" $out; }
ktap_check "one create figure per bucket: 0-10 10-20 20-40 40-80 80-160" "0-10 10-20 20-40 40-80 80-160" \
	"$(data 'op create ' | awk '{ printf "%s%s-%s", (NR > 1 ? " " : ""), $6, $7 }')"
ktap_check "remove-random, -newest and -oldest in every bucket, and the floor" "5 5 5 1" \
	"$(for op in remove-random remove-newest remove-oldest floor; do data "op $op " | wc -l; done | tr '\n' ' ' | sed 's/ $//')"
ktap_check "every figure is a time over at least one sample" "" \
	"$(data 'op ' | awk '!($8 > 0 && $9 >= 1)')"
ktap_check "throughput of 1, 2 and 4 writers" "1 2 4" \
	"$(data 'writers ' | awk '$6 > 0 { printf "%s%s", (NR > 1 ? " " : ""), $5 }')"
# The C core has no debugfs device list: its creates are timed alone only.
phases="alone reader"
[ "$MDEV_CORE" = c ] && phases=alone
ktap_check "creates timed alone, and beside a reader of the debugfs list where the core has one" "$phases" \
	"$(data 'reader ' | awk '$6 == 8 && $7 > 0 { printf "%s%s", (NR > 1 ? " " : ""), $5 }')"
ktap_check "the benchmark leaves no device and no module behind" "0 none" \
	"$(nr_devices) $(grep -cE '^(mdev|mdev_test_vendor) ' /proc/modules | sed 's/^0$/none/')"
unload_all
ktap_finished
