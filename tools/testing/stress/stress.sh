#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make stress`: the storm (storm.sh) at full size and the malformed-input
# table (malformed_input.sh) under the kernel's strongest checkers, the
# unmap race (unmap_race.sh) on both cores, and the Rust core's error paths
# (fault_injection.sh at full sweep, unreg_errno.sh with its fault hook).
#
#   rust core, stress kernel (KASAN, delayed kobject release, and every
#       checker of the test kernel): the verdict; every point must pass and
#       every checker must report nothing.
#   C core, stress kernel: the same tests, as the reference; its failures
#       are C-core findings, listed, not judged (Documentation/testing.rst).
#   C core, KCSAN kernel: the storm, for the data races KCSAN sees in the C
#       core (rustc does not instrument Rust code for KCSAN).
#   both cores, stress kernel: the unmap race, pins of a page that type1 is
#       unmapping (MDEV_RACE_ROUNDS unmaps, 50); a verdict on each core,
#       since the Rust sample and its vendor API are what it checks.
#   both cores, KCSAN kernel: the VFIO clients of mtty and the sample
#       through iommufd's compatibility container (vfio_mtty.sh,
#       vfio_sample.sh); a verdict on each core.
#
# The two kernels are built with LLVM on first use and cached.  Sizes:
# MDEV_STORM_OPS (20000), MDEV_STORM_WRITERS (4), MDEV_STORM_POOL (256),
# MDEV_STORM_RELOADS (5), MDEV_STORM_SAMPLE_MAX (64), MDEV_STORM_RELOAD_PAUSE
# (15 s), MDEV_STORM_MIN_OK (2000, the Rust core's run only),
# MDEV_STORM_MIGRATE (1: migrations race the storm); MDEV_STORM_SEED
# replays a run (printed).  Ends with the figures block and "N passed, N
# failed, N skipped".

set -euo pipefail
STRESS_DIR=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$STRESS_DIR/../../.." && pwd)
VM=$REPO/tools/testing/vm
. "$VM/totals.sh"

MDEV_KERNEL=stress "$VM/setup-toolchain.sh"
KB_STRESS=$(MDEV_KERNEL=stress "$VM/build-kernel.sh")
KB_KCSAN=$(MDEV_KERNEL=kcsan "$VM/build-kernel.sh")
. "$VM/lib.sh"

export MDEV_STORM_OPS=${MDEV_STORM_OPS:-20000}
export MDEV_STORM_WRITERS=${MDEV_STORM_WRITERS:-4}
# Sized for work as well as collisions: with delayed kobject release, a
# removed device keeps its UUID, its instance (and mtty its ports) until its
# release, 1 to 4 s later, so a small pool or a small sample spends the storm
# on EEXIST, and a sample reloaded all along is away for most of it.
export MDEV_STORM_POOL=${MDEV_STORM_POOL:-256}
export MDEV_STORM_RELOADS=${MDEV_STORM_RELOADS:-5}
export MDEV_STORM_SAMPLE_MAX=${MDEV_STORM_SAMPLE_MAX:-64}
export MDEV_STORM_RELOAD_PAUSE=${MDEV_STORM_RELOAD_PAUSE:-15}
export MDEV_STORM_SEED=${MDEV_STORM_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
# Migrations (save, resume, transfers cut short) race the storm's removes
# and the sample's reloads (storm_migrate, in storm.sh).
export MDEV_STORM_MIGRATE=${MDEV_STORM_MIGRATE:-1}
echo "stress: seed $MDEV_STORM_SEED, $MDEV_STORM_OPS operations, $MDEV_STORM_WRITERS writers"

# The modules get the Rust core's fault hooks: release_delay_ms for the
# unload race (unload_race.sh), unregister_delay_ms for unreg_errno.sh.
export MDEV_FAULT_HOOKS=1
# One guest image per kernel, its modules built in a copy of the sources.
image() { # KERNEL_NAME KBUILD
	local tree=$CACHE/stress/tree-$1
	sync_tree "$tree"
	"$tree/tools/testing/vm/make-initramfs.sh" "$2" "$CACHE/run/guest-$1.cpio" >&2
	echo "$CACHE/run/guest-$1.cpio"
}
mkdir -p "$CACHE/run"
IMG_STRESS=$(image stress "$KB_STRESS")
IMG_KCSAN=$(image kcsan "$KB_KCSAN")

# rustc instruments the Rust core for KASAN like the C code around it.
echo "=== the Rust core is built with KASAN instrumentation ==="
if grep -q -- '-Zsanitizer=kernel-address' "$CACHE/stress/tree-stress/.mdev_core.o.cmd"; then
	echo "ok: mdev_core.o was compiled with -Zsanitizer=kernel-address"
	pass=$((pass + 1))
else
	echo "FAILED: mdev_core.o was not compiled with -Zsanitizer=kernel-address"
	fail=$((fail + 1))
fi

run() { # NAME CORE KBUILD INITRD TESTS
	MDEV_TESTS=$5 MDEV_TEST_TIMEOUT=${MDEV_STRESS_TIMEOUT:-3000} "$VM/run-vm.sh" --core "$2" --quiet --timeout "${MDEV_STRESS_TIMEOUT:-3000}" \
		--kernel "$3/arch/x86/boot/bzImage" --initrd "$4" --name "$1" > "$(out "$1" "$2")" 2>&1 || true
}
log() { echo "$CACHE/run/console-$1-tests-$2.log"; }
out() { echo "$CACHE/run/stress-$1-$2.out"; }
TESTS=storm.sh,malformed_input.sh,unload_race.sh,fuzz.sh,splat_check.sh
# The device-fd fuzzer (fuzz.sh): MDEV_FUZZ_CALLS calls per driver; the Rust
# sample and ports in the verdict run and on the C core (the KCSAN kernel:
# on the stress kernel the C core's own use-after-free on unloading ends
# its guest first), the C samples in a reference run of their own on the
# stress kernel (their overruns are documented findings).
export MDEV_FUZZ_CALLS=${MDEV_FUZZ_CALLS:-3000} MDEV_FUZZ_SEED=$MDEV_STORM_SEED
# bench_smoke.sh runs here, not in make check (see its header), on the KCSAN
# kernel only: with delayed kobject releases (the stress kernel) the C
# samples stay loaded after the storm, and so does the core they use.
export MDEV_BENCH_SMOKE=1
# The guests are queued, the longest first, and start as soon as fewer than
# MDEV_STRESS_SLOTS (3) run: many of their tests wait (delayed releases,
# reloads, interrupts that must not come) rather than compute, so a third
# guest fills the host's two CPUs, where two groups of guests one after the
# other left one idle while the longer guest of each group finished.
SLOTS=${MDEV_STRESS_SLOTS:-3}
start() { # start COMMAND: run the shell COMMAND once a slot is free
	while [ "$(jobs -rp | wc -l)" -ge "$SLOTS" ]; do
		wait -n || true
	done
	eval "$1" &
}
# The C core's malformed-input table comes from the KCSAN kernel: on the
# stress kernel the C core does not get that far (Documentation/testing.rst).
# The verdict run must do work: at least 2,000 successful creates and as
# many successful removes (storm.sh fails below it).
start 'MDEV_STORM_MIN_OK=${MDEV_STORM_MIN_OK:-2000} run stress rust "$KB_STRESS" "$IMG_STRESS" "$TESTS"'
# The C core orphans a small pool of UUIDs within seconds (EAGAIN deletes
# the remove file), after which it only answers EEXIST and ENOENT; a larger
# pool keeps its creates and removes, and so KCSAN's chances, going.
start 'MDEV_STORM_POOL=${MDEV_KCSAN_POOL:-128} run kcsan c "$KB_KCSAN" "$IMG_KCSAN" \
	storm.sh,malformed_input.sh,bench_smoke.sh,fuzz.sh,splat_check.sh'
# The Rust core's error paths, part of the verdict: every allocation of a
# create and a remove failed in turn (the Rust sample's too: make check
# fails only every fifth of those), and the errnos during unregistration
# with the unregister_delay_ms hook.
start 'run faults rust "$KB_STRESS" "$IMG_STRESS" unreg_errno.sh,fault_injection.sh,splat_check.sh'
start 'MDEV_FUZZ_DRIVERS=c run fuzzc rust "$KB_STRESS" "$IMG_STRESS" fuzz.sh,splat_check.sh'
# The Rust core's benchmark figures, for the report below only; and the
# VFIO clients through iommufd's compatibility container (the KCSAN kernel
# has it instead of VFIO's type1 container): mtty's and the sample's, whose
# devices pin and DMA; mdpy does no DMA, so the mode would only change how
# its device is opened, which those two check.
COMPAT_TESTS=vfio_mtty.sh,vfio_sample.sh
start 'run kcsan rust "$KB_KCSAN" "$IMG_KCSAN" bench_smoke.sh,$COMPAT_TESTS,splat_check.sh'
start 'run compat c "$KB_KCSAN" "$IMG_KCSAN" $COMPAT_TESTS,splat_check.sh'
# The unmap race in guests of its own: it turns lockdep's dependency checking
# off (type1's own inversion, see unmap_race.sh) and panics on an oops.  The
# C core's guest leaves out splat_check.sh, whose unloads end in the C core's
# known use-after-free on this kernel (Documentation/testing.rst); the
# console is still read for every report (run-vm.sh).
# It runs through type1 and through iommufd (cdev mode: the Rust core's
# pins and dma_rw through iommufd's emulated access, under KASAN).
export MDEV_RACE_ROUNDS=${MDEV_RACE_ROUNDS:-50}
start 'MDEV_VFIO_MODES=${MDEV_RACE_MODES:-type1v2,cdev} run race rust "$KB_STRESS" "$IMG_STRESS" \
	unmap_race.sh,splat_check.sh'
start 'MDEV_VFIO_MODES=${MDEV_RACE_MODES:-type1v2,cdev} run race c "$KB_STRESS" "$IMG_STRESS" unmap_race.sh'
# The C core on the stress kernel, a reference: its storm ends at the first
# reload of the Rust sample (Documentation/testing.rst).
start 'run stress c "$KB_STRESS" "$IMG_STRESS" storm.sh,splat_check.sh'
wait

# --- The verdict: the Rust core on the stress kernel -------------------------
echo "=== the Rust core on the stress kernel (KASAN, DEBUG_KOBJECT_RELEASE) ==="
grep -E '^(not )?ok |^# (not )?ok |^# # ' "$(log stress rust)" | sed 's/^/  | /' | sed -n '1,80p'
totals_add_summary "$(out stress rust)" "the Rust core's stress run"
echo "=== the Rust core's error paths on the stress kernel: fault injection, errnos during unregistration ==="
grep -E '^(not )?ok |^# (not )?ok |^# # ' "$(log faults rust)" | sed 's/^/  | /' | sed -n '1,40p'
totals_add_summary "$(out faults rust)" "the Rust core's fault-injection run"
echo "=== the unmap race (stress kernel): pins of a page that type1 is unmapping ==="
for core in rust c; do
	grep -E '^(not )?ok |^# (not )?ok |^# # |kernel BUG' "$(log race $core)" | sed "s/^/  $core | /" | sed -n '1,20p'
	totals_add_summary "$(out race $core)" "the unmap race on the $core core"
done
echo "=== the VFIO clients through iommufd's compatibility container (KCSAN kernel) ==="
for r in "kcsan rust" "compat c"; do
	set -- $r
	grep -E '^(not )?ok |^# (not )?ok |^# # ' "$(log "$1" "$2")" | grep -E 'compat|^(not )?ok ' |
		sed "s/^/  $2 | /" | sed -n '1,12p'
	totals_add_summary "$(out "$1" "$2")" "the compatibility container on the $2 core"
done
echo "=== malformed input: the Rust core's table (stress kernel) against the C core's (KCSAN kernel) ==="
if "$VM/compare-tables.sh" "$(log stress rust)" "$(log kcsan c)"; then
	pass=$((pass + 1))
else
	fail=$((fail + 1))
fi

# --- The figures block -------------------------------------------------------
# field LOG KEY: a splat_check count (splat-counts key=N), or - if absent.
field() {
	grep -o 'splat-counts .*' "$1" | grep -o "\b$2=[0-9]*" | tail -n1 | cut -d= -f2 | grep . || echo -
}
ok_count() { # LOG OP: the storm's successful OPs
	grep -o "storm-result $2 OK [0-9]*" "$1" | awk '{ s += $4 } END { print s + 0 }'
}
results() { # LOG
	grep -o 'storm-result .*' "$1" | awk '{ printf "%s %s %s, ", $2, $3, $4 }' | sed 's/, $//'
}
figures=$CACHE/run/stress-figures.txt
{
	echo "stress figures (seed $MDEV_STORM_SEED; replay with MDEV_STORM_SEED=$MDEV_STORM_SEED make stress)"
	for r in "stress rust" "stress c" "kcsan c"; do
		set -- $r
		l=$(log "$1" "$2")
		what="the verdict"
		[ "$2" = c ] && what="reference: its failures are C-core findings"
		echo "  $2 core, $1 kernel ($what): $(grep -o '^[0-9]* passed, [0-9]* failed, [0-9]* skipped' "$(out "$1" "$2")" | tail -n1)"
		echo "    operations by result: $(results "$l")"
		echo "    reloads of the Rust sample: $(grep -o 'storm-reloads [0-9]*' "$l" | awk '{ print $2 }')"
		echo "    work done: $(ok_count "$l" create) successful creates, $(ok_count "$l" remove) successful removes"
		echo "    reports: KASAN $(field "$l" kasan), KCSAN $(field "$l" kcsan), lockdep $(field "$l" lockdep)," \
			"kmemleak $(field "$l" kmemleak), DEBUG_OBJECTS $(field "$l" debug_objects)," \
			"UBSAN $(field "$l" ubsan), hung tasks $(field "$l" hung_task), all splat lines $(field "$l" all)"
	done
	echo "  device-fd fuzzer, calls per driver (seed $MDEV_STORM_SEED):"
	for r in "stress rust" "kcsan c" "fuzzc rust"; do
		set -- $r
		{ grep -ho 'fuzz-figure .*' "$(log "$1" "$2")" || true; } | awk -v run="$2 core, $1 kernel" \
			'{ sub("calls=", "", $3); printf "    %s: %s %s\n", run, $2, $3 }'
	done
	echo "  C samples under the fuzzer (reference; their overruns are documented): $(grep -o '^[0-9]* passed, [0-9]* failed, [0-9]* skipped' "$(out fuzzc rust)" | tail -n1)"
	echo "  malformed inputs tried: $(grep -c 'table: ' "$(log stress rust)" || true) on each core;" \
		"differing (documented improvements): $(diff <(grep -o 'table: .*' "$(log stress rust)") \
			<(grep -o 'table: .*' "$(log kcsan c)") | grep -c '^<' || true)"
	echo "  C-core and C-sample findings (kernel reports and the storm's C-core skips):"
	for r in "stress c" "kcsan c" "fuzzc rust"; do
		set -- $r
		{ grep -E 'BUG: KASAN|BUG: KCSAN|general protection|Oops:|ODEBUG:|C-core defect' "$(log "$1" "$2")" |
			grep -v '^# #' || true; } | sed 's/^\[ *[0-9.]*\] //; s/^# ok [0-9]* //' |
			sort | uniq -c | sort -rn | sed -n '1,12p' | sed "s/^/    $1 kernel: /"
	done
} > "$figures"
cat "$figures"

# bench_smoke.sh ran the benchmark at a tiny size on each core, on the KCSAN
# kernel: its figures
# must make the same table, CSV and plot as make bench (nothing about time
# is asserted).
echo "=== bench smoke: both cores' figures become the table, CSV and plot ==="
smoke=$CACHE/run/bench-smoke
rm -rf "$smoke" && mkdir -p "$smoke"
grep -ho 'bench-data .*' "$(log kcsan rust)" "$(log kcsan c)" |
	tr -d '\r' > "$smoke/raw.txt" || true
# Debian's python3, which has the python3-matplotlib that setup installed.
if /usr/bin/python3 "$REPO/tools/testing/bench/report.py" "$smoke/raw.txt" "$smoke" &&
	[ "$(head -n1 "$smoke/bench.csv")" = "core,operation,bucket_low,bucket_high,median_us,min_us,max_us" ] &&
	[ "$(grep -cE '^(c|rust),(create|remove-(random|newest|oldest)),' "$smoke/bench.csv")" = 40 ] &&
	[ "$(head -c 4 "$smoke/bench.png" | tail -c 3)" = PNG ] &&
	grep -q '^| 80-160 |' "$smoke/bench.md"; then
	echo "ok: the report has 40 CSV rows (2 cores, 4 operations, 5 buckets), a table and a plot in $smoke"
	pass=$((pass + 1))
else
	echo "FAILED: the benchmark's report of the smoke figures is incomplete (see $smoke)"
	fail=$((fail + 1))
fi

l=$(log stress rust)
# Every checker must have reported nothing on the Rust core.
for k in kasan lockdep kmemleak debug_objects ubsan hung_task all; do
	if [ "$(field "$l" "$k")" = 0 ]; then
		pass=$((pass + 1))
	else
		echo "FAILED: the Rust core's stress run has $k reports: $(field "$l" "$k") (log: $l)"
		fail=$((fail + 1))
	fi
done
totals_print
