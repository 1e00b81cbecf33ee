#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# One round of `make bench`, inside the guest: both cores, one after the
# other in the order MDEV_BENCH_FIRST gives, with the same test vendor driver
# and the same UUID sequence.  Every figure is printed as a line
#   bench-data round=R core=C KIND FIELDS...
# which tools/testing/bench/report.py reads off the console log.
#
# Settings from the kernel command line (bench.sh passes them):
#   MDEV_BENCH_ROUND, MDEV_BENCH_FIRST (c or rust), MDEV_BENCH_MAX (devices),
#   MDEV_BENCH_BASE (first bucket), MDEV_BENCH_SAMPLES (removes per bucket
#   and kind), MDEV_BENCH_SEED, MDEV_BENCH_OPS (per writer),
#   MDEV_BENCH_MEMORY (devices for the memory figure), MDEV_BENCH_READER
#   (creates timed alone and beside a reader of the debugfs list), MDEV_BENCH_TRACE
#   (1: profile MDEV_BENCH_PROFILE creates and removes step by step with
#   ftrace), MDEV_BENCH_CORES (the
#   cores to run, in order, instead of both: `make check` runs one per guest),
#   MDEV_BENCH_DATAPATH (batches per data-path figure; 0: none),
#   MDEV_BENCH_PARTS (all, or datapath: the data path only).

ROUND=${MDEV_BENCH_ROUND:-1}
FIRST=${MDEV_BENCH_FIRST:-c}
MAX=${MDEV_BENCH_MAX:-64000}
BASE=${MDEV_BENCH_BASE:-1000}
SAMPLES=${MDEV_BENCH_SAMPLES:-200}
SEED=${MDEV_BENCH_SEED:-1}
OPS=${MDEV_BENCH_OPS:-4096}
MEMORY=${MDEV_BENCH_MEMORY:-10000}
READER=${MDEV_BENCH_READER:-100}
TRACE=${MDEV_BENCH_TRACE:-0}
DATAPATH=${MDEV_BENCH_DATAPATH:-400}
PARTS=${MDEV_BENCH_PARTS:-all}
KMOD=/lib/modules/$(uname -r)
BENCH=${MDEV_BENCH_PROGRAM:-/kselftest/mdev/mdev_bench}
DP=$(dirname "$BENCH")/mdev_datapath
VENDOR=$(find "$KMOD" -name 'mdev_test_vendor.ko*' | sed -n 1p)
TRACEFS=/sys/kernel/tracing

type_dir() { echo "/sys/class/mdev_bus/mdev_test$1/mdev_supported_types/mdev_test-${2:-a}"; }
fail() { echo "bench: error: $*"; exit 1; }

# Slab memory in bytes, after the kernel has freed what it defers (RCU) and
# every cache has given back its empty slabs, so that objects freed by an
# earlier run (the other core's) do not hide this run's allocations.
slab_bytes() {
	sync
	echo 3 > /proc/sys/vm/drop_caches
	sleep 1
	for shrink in /sys/kernel/slab/*/shrink; do
		echo 1 > "$shrink" 2>/dev/null
	done
	# Unreclaimable slab only: the device's objects (the device, its kernfs
	# nodes and names, the index node) are all unreclaimable, while the
	# reclaimable dentry and inode caches follow path lookups, not devices.
	awk '/^SUnreclaim:/ { print $2 * 1024 }' /proc/meminfo
}

# Waits (at most 20 s) until both CPUs are idle over half a second: deferred
# work of the previous phase (RCU callbacks freeing thousands of sysfs nodes
# after a mass removal) would otherwise run beside the next measurement and
# slow it down by a varying amount.
settle() {
	tries=0
	while [ $tries -lt 40 ]; do
		a=$(awk '/^cpu / { print $2 + $3 + $4 + $5 + $6 + $7 + $8, $5 }' /proc/stat)
		sleep 0.5
		b=$(awk '/^cpu / { print $2 + $3 + $4 + $5 + $6 + $7 + $8, $5 }' /proc/stat)
		echo "$a $b" | awk '{ exit !(($4 - $2) >= 0.95 * ($3 - $1)) }' && return 0
		tries=$((tries + 1))
	done
	echo "bench: the guest did not settle to idle; measuring anyway"
}

load_vendor() {
	insmod "$VENDOR" nr_parents=4 quiet=1 max_instances="$1" || fail "cannot load the test vendor driver"
	settle
}

# The kernel's function profiler over PROFILE creates and then as many
# removes, on a parent with no other device, counting only the steps that
# Documentation/benchmark.rst breaks an operation into: the sysfs write and
# the driver core's steps.  Rust functions carry no
# ftrace hooks; the C functions they call do, so the Rust core's own work is
# the time of the write that no listed step accounts for.  Times include
# the listed functions' callees.
# The allocator and the lock primitives are left out: ftrace's own teardown
# calls them while it patches their call sites back, and under TCG that
# once ended in an int3 oops in kfree().
STEPS="kernfs_fop_write_iter get_device put_device kobject_put
	device_initialize dev_set_name device_add device_driver_attach
	sysfs_create_link device_remove_file_self sysfs_remove_link device_del
	rb_insert_color rb_erase mdev_device_create mdev_device_remove
	mdev_device_release mdev_rs_list_del"
PROFILE=${MDEV_BENCH_PROFILE:-100}
profile_steps() { # CORE
	[ -e $TRACEFS/set_ftrace_filter ] || mount -t tracefs nodev $TRACEFS 2>/dev/null
	[ -w $TRACEFS/function_profile_enabled ] || { echo "bench: this kernel has no function profiler: no profile"; return 0; }
	: > $TRACEFS/set_ftrace_filter
	for f in $STEPS; do
		echo "$f" >> $TRACEFS/set_ftrace_filter 2>/dev/null
	done
	for op in create remove; do
		echo 0 > $TRACEFS/function_profile_enabled
		echo 1 > $TRACEFS/function_profile_enabled # resets the counts
		if [ $op = create ]; then
			$BENCH grow "$(type_dir 3)" "$PROFILE" "$((SEED + 2))" || fail "profiled creates"
		else
			$BENCH drain "$(type_dir 3)" || fail "profiled removes"
		fi
		echo 0 > $TRACEFS/function_profile_enabled
		# Function, hits, time (us), summed over the CPUs.
		cat $TRACEFS/trace_stat/function* | awk -v tag="bench-data round=$ROUND core=$1 profile $op $PROFILE" '
			$2 ~ /^[0-9]+$/ && $4 == "us" { hits[$1] += $2; us[$1] += $3 }
			END { for (f in hits) printf "%s %s %d %.1f\n", tag, f, hits[f], us[f] }'
	done
	# Where two writers on two parents wait for each other: the sleeping
	# slow paths of the kernel's locks, against the same run with one writer.
	: > $TRACEFS/set_ftrace_filter
	for f in kernfs_fop_write_iter 'rwsem_down_*_slowpath' '__mutex_lock*slowpath' \
		'__mutex_lock.constprop*' schedule; do
		echo "$f" >> $TRACEFS/set_ftrace_filter 2>/dev/null
	done
	for n in 1 2; do
		dirs="$(type_dir 2)"
		[ $n = 2 ] && dirs="$dirs $(type_dir 3)"
		echo 0 > $TRACEFS/function_profile_enabled
		echo 1 > $TRACEFS/function_profile_enabled
		# shellcheck disable=SC2086
		$BENCH writers 256 "$((SEED + 3))" $dirs > /dev/null || fail "profiled writers"
		echo 0 > $TRACEFS/function_profile_enabled
		cat $TRACEFS/trace_stat/function* | awk -v tag="bench-data round=$ROUND core=$1 profile writers-$n $((256 * n))" '
			$2 ~ /^[0-9]+$/ && $4 == "us" { hits[$1] += $2; us[$1] += $3 }
			END { for (f in hits) printf "%s %s %d %.1f\n", tag, f, hits[f], us[f] }'
	done
	# Which locks those are: the caller of each sleeping rwsem wait, from
	# a stack trace of every wait during the same two writers.
	echo 'rwsem_down_*_slowpath' > $TRACEFS/set_ftrace_filter
	echo function > $TRACEFS/current_tracer
	echo 1 > $TRACEFS/options/func_stack_trace
	: > $TRACEFS/trace
	# shellcheck disable=SC2086
	$BENCH writers 256 "$((SEED + 3))" $dirs > /dev/null || fail "traced writers"
	echo 0 > $TRACEFS/options/func_stack_trace
	echo 0 > $TRACEFS/tracing_on
	# The unwinder may show stale frames above the wait; the caller is the
	# first frame below down_read()/down_write() (or a variant) that is not
	# the rwsem code itself.
	awk -v tag="bench-data round=$ROUND core=$1 waits writers-2" '
		/<stack trace>/ { want = 1; below = 0; next }
		want && /^ => / {
			if ($2 ~ /^(__)?down_(read|write)/) { below = 1; next }
			if (below && $2 !~ /^rwsem_/) { waits[$2]++; want = 0 }
		}
		END { for (f in waits) printf "%s %s %d\n", tag, f, waits[f] }' $TRACEFS/trace
	# Only now: changing the tracer empties the buffer.
	echo nop > $TRACEFS/current_tracer
	echo 1 > $TRACEFS/tracing_on
	: > $TRACEFS/set_ftrace_filter
}

# load_core CORE [DIR]: the core's mdev.ko, from DIR if given.
load_core() {
	dir=${2:-$KMOD/updates}
	[ "$1" = c ] && dir=$KMOD/kernel/drivers/vfio/mdev
	insmod "$(ls "$dir"/mdev.ko*)" || fail "cannot load the $1 core from $dir"
}

unload() {
	rmmod mdev_test_vendor || fail "unloading the test vendor"
	[ -z "$1" ] || rmmod mdev || fail "unloading the $1 core"
}

# Memory: slab bytes per live device, from the growth between $MEMORY and
# twice as many devices.  Both cores measure it first thing in the boot, so
# that neither follows the other's 64k devices: the first $MEMORY devices
# take whatever free objects the earlier run left in partly used slabs, the
# next ones show what a device really takes.
run_memory() { # CORE
	load_core "$1"
	load_vendor "$((2 * MEMORY + 16))"
	$BENCH grow "$(type_dir 0)" "$MEMORY" "$SEED" || fail "growing to $MEMORY devices"
	before=$(slab_bytes)
	$BENCH grow "$(type_dir 0 b)" "$MEMORY" "$((SEED + 1))" || fail "growing to $((2 * MEMORY)) devices"
	after=$(slab_bytes)
	echo "bench-data round=$ROUND core=$1 memory $MEMORY $(( (after - before) / MEMORY ))"
	unload "$1"
}

# The profile, first thing in the boot for both cores: after a mass removal
# the kernel frees deferred objects (kfree_rcu batches) for a long while at
# a low rate, which a later profile would count as the next core's work.
run_profile() { # CORE
	load_core "$1"
	load_vendor "$((PROFILE + 16))"
	profile_steps "$1"
	unload "$1"
}

run_core() { # CORE
	core=$1
	tag="bench-data round=$ROUND core=$core"
	load_core "$core"
	echo "bench: round $ROUND, $core core"

	# Throughput of 1, 2 and 4 writers, each on its own parent.
	load_vendor 64
	for n in 1 2 4; do
		dirs=""
		i=0
		while [ $i -lt $n ]; do dirs="$dirs $(type_dir $i)"; i=$((i + 1)); done
		# shellcheck disable=SC2086
		line=$($BENCH writers "$OPS" "$SEED" $dirs) || fail "$n writers"
		echo "$tag $line" | sed 's/bench-writers/writers/'
	done
	unload

	# The curve: cost per create and remove as the population grows.
	load_vendor "$((MAX + 64 * (3 * SAMPLES + 1)))"
	$BENCH curve "$(type_dir 0)" "$MAX" "$BASE" "$SAMPLES" "$SEED" > /tmp/curve || fail "the curve"
	sed "s/^bench-op/$tag op/" /tmp/curve

	# Creates on a second parent while the $MAX devices are still there:
	# alone, then while a process reads the debugfs list of every device
	# in a loop (the Rust core's; the C core has none, so only alone).
	list=/sys/kernel/debug/mdev/devices
	if [ ! -e $list ]; then
		echo "bench: the $core core has no $list: creates alone only"
		list=""
	fi
	# shellcheck disable=SC2086
	$BENCH reader "$(type_dir 1)" "$READER" "$((SEED + 4))" $list > /tmp/reader || fail "creates beside a reader"
	sed "s/^bench-reader/$tag reader/" /tmp/reader
	echo "bench: unloading $MAX devices"
	unload "$core"
}

# How long the Rust core holds its mutex: the same curve on a build of the
# core that times its critical sections (MDEV_LOCK_HOLD=1, bench.sh puts it
# in lockhold/), so that the clock reads stay out of every other figure.
run_lock_hold() {
	[ -e "$KMOD/lockhold/mdev.ko" ] || { echo "bench: no lock-hold build of the Rust core: no hold times"; return 0; }
	load_core rust "$KMOD/lockhold"
	load_vendor "$((MAX + 64 * (3 * SAMPLES + 1)))"
	$BENCH curve "$(type_dir 0)" "$MAX" "$BASE" "$SAMPLES" "$SEED" > /dev/null || fail "the lock-hold curve"
	# One whole read of the device list at $MAX devices: its sections
	# (seq_file reruns included) are the only debugfs ones so far, as the
	# lock_hold file records its own read only after printing.
	cat /sys/kernel/debug/mdev/devices > /dev/null
	sed -n '2,$s/^/'"bench-data round=$ROUND core=rust"' hold /p' /sys/kernel/debug/mdev/lock_hold
	unload rust
}

# The data path: one device of each C sample and of its Rust port (mtty,
# mdpy) opened side by side by mdev_datapath, and one of the Rust sample for
# dma_rw, which no C sample does; see Documentation/benchmark.rst.
DP_VENDORS="mtty mtty_rs mdpy mdpy_rs mdev_rs_sample"
dp_device() { # CLASS TYPE: prints the UUID of a new device
	uuid=$(cat /proc/sys/kernel/random/uuid)
	echo "$uuid" > "/sys/class/mdev_bus/$1/mdev_supported_types/$2/create" || return 1
	echo "$uuid"
}
run_datapath() { # CORE
	[ "$DATAPATH" -gt 0 ] || return 0
	load_core "$1"
	modprobe vfio_iommu_type1 || fail "cannot load vfio_iommu_type1"
	for m in $DP_VENDORS; do
		path=$(find "$KMOD" -name "$m.ko*" | sed -n 1p)
		[ -n "$path" ] || fail "no $m module"
		insmod "$path" || fail "cannot load $m"
	done
	settle
	tag="bench-data round=$ROUND core=$1"
	mtty_c=$(dp_device mtty mtty-1) && mtty_rs=$(dp_device mtty_rs mtty_rs-1) &&
		mdpy_c=$(dp_device mdpy mdpy-vga) && mdpy_rs=$(dp_device mdpy_rs mdpy_rs-vga) &&
		sample=$(dp_device mdev_rs_sample faux_driver-1) || fail "creating the data-path devices"
	$DP mtty "$DATAPATH" mtty="$mtty_c" mtty_rs="$mtty_rs" > /tmp/dp || fail "the mtty data path"
	$DP mdpy "$DATAPATH" mdpy="$mdpy_c" mdpy_rs="$mdpy_rs" >> /tmp/dp || fail "the mdpy data path"
	$DP dma "$DATAPATH" mdev_rs_sample="$sample" >> /tmp/dp || fail "the sample's data path"
	sed "s/^bench-dp/$tag dp/" /tmp/dp
	for uuid in $mtty_c $mtty_rs $mdpy_c $mdpy_rs $sample; do
		echo 1 > "/sys/bus/mdev/devices/$uuid/remove" || fail "removing $uuid"
	done
	for m in $DP_VENDORS; do
		rmmod "$m" || fail "unloading $m"
	done
	rmmod mdev || fail "unloading the $1 core"
}

modprobe vfio
echo "bench: round $ROUND: $MAX devices in buckets from $BASE, $SAMPLES removes per bucket and kind, seed $SEED, $OPS operations per writer, memory at $MEMORY devices"
echo "bench-data round=$ROUND cpus $(grep -c ^processor /proc/cpuinfo)"
echo "bench-data round=$ROUND clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
cores=${MDEV_BENCH_CORES:-$([ "$FIRST" = c ] && echo "c rust" || echo "rust c")}
if [ "$PARTS" = datapath ]; then
	for core in $cores; do
		run_datapath "$core"
	done
	echo "bench finished"
	exit 0
fi
if [ "$TRACE" = 1 ]; then
	for core in $cores; do
		run_profile "$core"
	done
fi
# The data path before any mass creation has left deferred frees behind.
for core in $cores; do
	run_datapath "$core"
done
for core in $cores; do
	run_memory "$core"
done
for core in $cores; do
	run_core "$core"
done
case " $cores " in *" rust "*) run_lock_hold ;; esac
echo "bench finished"
