#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build what is missing, boot the test kernel under QEMU, run the guest and
# print its verdict:  run-vm.sh [--core rust|c] [--mode tests|splat-selftest|demo|bench]
# MDEV_KERNEL_ARGS adds to the guest kernel's command line (make stress: KCSAN knobs).
#
# Prints the guest console as it goes, then the failed test points and a last
# line "N passed, N failed, N skipped".  Exits non-zero on any failure, a
# kernel splat, a guest that panics or hangs, or a timeout.

set -euo pipefail
VM=$(cd "$(dirname "$0")" && pwd)
CORE=${MDEV_CORE:-rust} MODE=tests TIMEOUT=${MDEV_VM_TIMEOUT:-1200} QUIET=0 LOGLEVEL=5 MEM=2048
KERNEL="" INITRD="" NAME=""
while [ $# -gt 0 ]; do
	case "$1" in
	--core) CORE=$2; shift 2 ;;
	--mode) MODE=$2; shift 2 ;;
	--timeout) TIMEOUT=$2; shift 2 ;;
	--quiet) QUIET=1; shift ;;
	--script) MODE=script; export MDEV_GUEST_SCRIPT=$(realpath "$2"); shift 2 ;;
	--loglevel) LOGLEVEL=$2; shift 2 ;;
	# Another kernel and its guest image (make check-debian), with a name
	# for the console log.
	--kernel) KERNEL=$2; shift 2 ;;
	--initrd) INITRD=$2; shift 2 ;;
	--name) NAME=$2; shift 2 ;;
	*) echo "usage: $0 [--core rust|c] [--mode tests|splat-selftest|demo|bench] [--timeout S] [--quiet] [--script FILE] [--loglevel N] [--kernel FILE --initrd FILE --name NAME]" >&2; exit 2 ;;
	esac
done
[ "$MODE" = bench ] && MEM=${MDEV_BENCH_MEM:-8192}
case "$CORE" in rust|c) ;; *) echo "error: MDEV_CORE must be rust or c, not '$CORE'" >&2; exit 2 ;; esac

"$VM/setup-toolchain.sh"
if [ -z "$KERNEL" ]; then
	KBUILD=$("$VM/build-kernel.sh")
	KERNEL=$KBUILD/arch/x86/boot/bzImage
fi
. "$VM/lib.sh"

RUN=$CACHE/run
mkdir -p "$RUN"
LOG=$RUN/console-${NAME:+$NAME-}$MODE-$CORE.log
if [ -z "$INITRD" ]; then
	INITRD=$RUN/guest-$MODE-$CORE.cpio
	"$VM/make-initramfs.sh" "$KBUILD" "$INITRD"
fi

echo "run-vm: booting $KERNEL (core=$CORE, mode=$MODE, timeout ${TIMEOUT}s); console log: $LOG" >&2
# The settings of the benchmark, the storm, the fuzzer and the unmap race,
# the VFIO clients' IOMMU modes (MDEV_VFIO_MODES, commas between: the kernel
# command line splits at spaces), the real-VMM tests' settings (MDEV_VMM_*)
# and a choice of tests reach the guest's /init as environment variables.
bench_env=$(env | grep -E '^(MDEV_BENCH_[A-Z]+|MDEV_STORM_[A-Z_]+|MDEV_FUZZ_[A-Z]+|MDEV_RACE_[A-Z_]+|MDEV_SWEEP_[A-Z]+|MDEV_VMM_[A-Z]+|MDEV_VFIO_MODES|MDEV_TESTS|MDEV_TEST_TIMEOUT)=[^ ]*$' | sort | tr '\n' ' ' || true)
# Whether the kernel delays kobject releases (the stress kernel), from its
# build's .config: the guest's own way, a grep of /proc/kallsyms, takes it
# seconds under TCG.  Debian's kernel has no build beside it: the guest
# looks then.
config=$(dirname "$KERNEL")/../../../.config
if [ -f "$config" ]; then
	delayed=no
	grep -q '^CONFIG_DEBUG_KOBJECT_RELEASE=y' "$config" && delayed=yes
	bench_env="$bench_env MDEV_KOBJECT_RELEASE_DELAYED=$delayed"
fi
set +e
# Two vCPUs, each its own host thread (multi-threaded TCG): the concurrency
# figures of make bench depend on it, so it is asked for, not assumed.
# The console log is written a line at a time, so that it can be followed.
timeout --kill-after=10 "$TIMEOUT" qemu-system-x86_64 -accel tcg,thread=multi -m $MEM -smp 2 \
	-display none -monitor none -serial stdio -no-reboot \
	-kernel "$KERNEL" -initrd "$INITRD" \
	-append "console=ttyS0 panic=-1 loglevel=$LOGLEVEL MDEV_CORE=$CORE MDEV_GUEST_MODE=$MODE $bench_env ${MDEV_KERNEL_ARGS:-}" \
	</dev/null 2>&1 | stdbuf -oL tr -d '\r' | if [ "$QUIET" = 1 ]; then cat > "$LOG"; else tee "$LOG"; fi
qemu_rc=${PIPESTATUS[0]}
set -e
[ "$qemu_rc" = 124 ] && echo "run-vm: the guest timed out after ${TIMEOUT}s" >&2
if ! grep -q '^mdev-guest: done' "$LOG"; then
	echo "run-vm: the guest did not finish; last console lines:" >&2
	tail -n 60 "$LOG" >&2
fi
[ "$MODE" = demo ] && { grep -q "^demo finished" "$LOG"; exit; }
[ "$MODE" = bench ] && { grep -q "^bench finished" "$LOG"; exit; }
awk -v splat_ok=$([ "$MODE" = splat-selftest ] && echo 1 || echo 0) -f "$VM/ktap-summary.awk" "$LOG"
