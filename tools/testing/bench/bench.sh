#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`: both cores on the benchmark kernel (a production
# configuration, see Documentation/benchmark.rst), MDEV_BENCH_ROUNDS guest
# boots (default 3), alternating which core goes first.  Writes the markdown
# table, the CSV, the plot and the raw figures to MDEV_BENCH_RESULTS
# (default results/bench, whose summary then also goes into the README) and
# prints the table.
#
# Sizes (all optional): MDEV_BENCH_MAX devices (64000), MDEV_BENCH_BASE, the
# first bucket (1000), MDEV_BENCH_SAMPLES removes per bucket and kind (200),
# MDEV_BENCH_OPS per writer (4096), MDEV_BENCH_MEMORY devices (10000),
# MDEV_BENCH_SEED (the date's day number unless given; printed),
# MDEV_BENCH_DATAPATH batches per data-path figure (400; 0: none).
# MDEV_BENCH_PARTS=datapath runs the data path alone (MDEV_BENCH_ROUNDS boots
# of a minute or two): it rewrites raw-datapath.txt and setup-datapath.txt
# and regenerates the reports from them and the last full run's raw.txt, so
# that every figure of the other sections stays that run's.

set -euo pipefail
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$BENCH_DIR/../../.." && pwd)
VM=$REPO/tools/testing/vm
die() { echo "bench: error: $*" >&2; exit 1; }

"$VM/setup-toolchain.sh"
export MDEV_KERNEL=bench
KBUILD=$("$VM/build-kernel.sh")
. "$VM/lib.sh"

ROUNDS=${MDEV_BENCH_ROUNDS:-3}
RESULTS=${MDEV_BENCH_RESULTS:-$REPO/results/bench}
PARTS=${MDEV_BENCH_PARTS:-all}
case $PARTS in all | datapath) ;; *) die "MDEV_BENCH_PARTS is all or datapath, not $PARTS" ;; esac
export MDEV_BENCH_PARTS=$PARTS
export MDEV_BENCH_SEED=${MDEV_BENCH_SEED:-$(( $(date +%s) / 86400 ))}
mkdir -p "$RESULTS" "$CACHE/run"

# The modules are built in copies of the sources (sync_tree, lib.sh).
TREE=$CACHE/bench/tree
sync_tree "$TREE"
INITRD=$CACHE/run/guest-bench.cpio
"$TREE/tools/testing/vm/make-initramfs.sh" "$KBUILD" "$INITRD.base"
# A second build of the core, which times its critical sections
# (MDEV_LOCK_HOLD=1, mdev_list/lock_hold.rs), for the mutex figures only; it
# goes to lib/modules/<release>/lockhold/ in a second cpio archive, which
# the kernel unpacks after the first.
# The data path alone needs no lock-hold build.
if [ "$PARTS" = all ]; then
	HOLD_TREE=$CACHE/bench/tree-lockhold
	sync_tree "$HOLD_TREE"
	MDEV_LOCK_HOLD=1 "$REPO/tools/build/kmake.sh" "$KBUILD" "$HOLD_TREE" -s modules >/dev/null ||
		die "building the lock-hold core failed"
	stage=$(mktemp -d)
	trap 'rm -rf "$stage"' EXIT
	hold_dir=$stage/lib/modules/$(cat "$KBUILD/include/config/kernel.release")/lockhold
	mkdir -p "$hold_dir"
	cp "$HOLD_TREE/mdev.ko" "$hold_dir/"
	(cd "$stage" && find . | cpio -o -H newc --quiet) > "$INITRD.hold"
	cat "$INITRD.base" "$INITRD.hold" > "$INITRD"
else
	cp "$INITRD.base" "$INITRD"
fi

raw=$RESULTS/raw.txt
[ "$PARTS" = all ] || raw=$RESULTS/raw-datapath.txt
: > "$raw"
started=$(date +%s)
for round in $(seq 1 "$ROUNDS"); do
	first=c
	[ $((round % 2)) = 0 ] && first=rust
	echo "bench: round $round of $ROUNDS ($first core first, seed $MDEV_BENCH_SEED)"
	run=round$round
	[ "$PARTS" = all ] || run=datapath$round
	log=$CACHE/run/console-bench-$run.log
	MDEV_BENCH_ROUND=$round MDEV_BENCH_FIRST=$first MDEV_BENCH_TRACE=$([ "$round" = 1 ] && echo 1 || echo 0) \
		"$VM/run-vm.sh" --mode bench --quiet --timeout "${MDEV_BENCH_TIMEOUT:-1800}" \
		--kernel "$KBUILD/arch/x86/boot/bzImage" --initrd "$INITRD" --name "${MDEV_BENCH_RUN_PREFIX:-}$run" ||
		die "round $round failed; console log: $CACHE/run/console-${MDEV_BENCH_RUN_PREFIX:-}$run-bench-rust.log"
	cp "$CACHE/run/console-${MDEV_BENCH_RUN_PREFIX:-}$run-bench-rust.log" "$log"
	# Any kernel splat fails the benchmark (the patterns of ktap-summary.awk).
	if grep -nE 'WARNING:|BUG:|Oops|general protection fault|Kernel panic|UBSAN:|INFO: task .* blocked|list_(add|del) corruption|refcount_t:' "$log"; then
		die "round $round: a kernel splat; console log: $log"
	fi
	grep '^bench: ' "$log" | sed 's/^/  | /'
	grep "^bench-data " "$log" >> "$raw"
done

setup_lines() {
	echo "kernel $(cat "$KBUILD/include/config/kernel.release") (benchmark configuration)"
	echo "qemu $(qemu-system-x86_64 --version | sed -n 1p), -accel tcg,thread=multi -smp 2"
	echo "host $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
}
# Which run produced the data-path figures (report.py reads them from
# raw-datapath.txt, whichever run wrote it).
{
	if [ "$PARTS" = all ]; then
		echo "from the full make bench of $(date -u +%Y-%m-%d), $ROUNDS rounds (the same boots as the other sections)"
	else
		echo "from a run of the data path alone (MDEV_BENCH_PARTS=datapath) on $(date -u +%Y-%m-%d), $ROUNDS rounds, $(( $(date +%s) - started )) s; every other section is from the last full run"
	fi
	echo "${MDEV_BENCH_DATAPATH:-400} batches per figure and device"
	setup_lines
} > "$RESULTS/setup-datapath.txt"
if [ "$PARTS" = all ]; then
	grep " dp " "$raw" > "$RESULTS/raw-datapath.txt" || : > "$RESULTS/raw-datapath.txt"
	{
		setup_lines
		echo "seed $MDEV_BENCH_SEED, rounds $ROUNDS"
	} > "$RESULTS/setup.txt"
fi
# The exact configuration difference, when the test kernel is built too.
TEST_KBUILD=$(MDEV_KERNEL=test bash -c '. "$1/lib.sh" && echo "$KBUILD"' _ "$VM")
if [ -f "$TEST_KBUILD/.config" ]; then
	"$KSRC/scripts/diffconfig" "$TEST_KBUILD/.config" "$KBUILD/.config" > "$RESULTS/config-diff.txt"
fi
# Debian's python3, which has the python3-matplotlib that setup installed.
/usr/bin/python3 "$BENCH_DIR/report.py" "$RESULTS/raw.txt" "$RESULTS"
cat "$RESULTS/bench.md"
# The README shows the latest default run (between its bench markers).
if [ "$RESULTS" = "$REPO/results/bench" ]; then
	/usr/bin/python3 - "$REPO/README.md" "$RESULTS/summary.md" "$RESULTS/setup.txt" <<-'EOF'
	import sys
	readme, summary, setup = sys.argv[1:]
	text = open(readme, encoding="utf-8").read()
	begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
	if begin in text and end in text:
	    head, rest = text.split(begin, 1)
	    _, tail = rest.split(end, 1)
	    setup_line = "; ".join(open(setup, encoding="utf-8").read().splitlines())
	    body = f"\n{setup_line}.\n\n" + open(summary, encoding="utf-8").read() + "\n"
	    open(readme, "w", encoding="utf-8").write(head + begin + body + end + tail)
	EOF
fi
echo "bench: results in $RESULTS"
