#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check`: the whole test suite under QEMU.
#   1. The runner's own negative test: a guest whose kernel warns on purpose
#      must be judged failing by the splat detector.
#   2. The kselftests against each core: MDEV_CORE=rust or c picks one,
#      unset runs both (the C core is the reference the tests are proven on).
# Ends with one line "N passed, N failed, N skipped"; exits non-zero on any
# failure.

set -euo pipefail
VM=$(cd "$(dirname "$0")" && pwd)
. "$VM/totals.sh"

"$VM/setup-toolchain.sh"

KBUILD=$("$VM/build-kernel.sh")
REPO=$(cd "$VM/../../.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# One guest image serves every run below: the core and the mode are chosen
# on the kernel command line.
. "$VM/lib.sh"
INITRD=$CACHE/run/guest-check.cpio
mkdir -p "$CACHE/run"
"$VM/make-initramfs.sh" "$KBUILD" "$INITRD"
KERNEL=$KBUILD/arch/x86/boot/bzImage

# The runner's self-test boots its own short guest beside the suite's.
"$VM/run-vm.sh" --mode splat-selftest --core rust --quiet --timeout 300 \
	--kernel "$KERNEL" --initrd "$INITRD" > "$out/selftest" 2>&1 &
selftest_pid=$!

# The two cores' guests run side by side (one per host CPU); each one's
# console is printed when it has finished.
# The C core's storm is the reference that proves the test; it takes its
# guest 70 to 100 s whatever its size (Documentation/testing.rst), so it
# runs in make stress only, on both of its kernels.
cores=${MDEV_CORE:-rust c}
# fault_injection.sh fails every fifth allocation of the Rust sample's
# create here, from an offset that changes each day (all of them in five
# days); make stress fails them all.
export MDEV_SWEEP_STRIDE=${MDEV_SWEEP_STRIDE:-5}
export MDEV_SWEEP_START=${MDEV_SWEEP_START:-$(( $(date +%s) / 86400 % 5 + 1 ))}
for core in $cores; do
	storm_ops=${MDEV_STORM_OPS:-}
	[ "$core" = c ] && storm_ops=${MDEV_STORM_OPS:-0}
	MDEV_STORM_OPS=$storm_ops "$VM/run-vm.sh" --core "$core" --kernel "$KERNEL" --initrd "$INITRD" \
		--quiet > "$out/$core" 2>&1 &
done

# The host-side checks run while the guests boot and test: the guest image
# is already packed, so rebuilding the modules for clippy cannot change it.
echo "=== lint: rustfmt and clippy on the Rust sources ==="
if "$VM/rustfmt.sh" --check >/dev/null 2>&1; then
	echo "ok: rustfmt --check is clean"; pass=$((pass + 1))
else
	echo "FAILED: rustfmt --check reports differences (run make rustfmt)"; fail=$((fail + 1))
fi
lint_dirs="$REPO $VM/splat_selftest $REPO/tools/testing/selftests/mdev/rust_test_vendor"
clippy_out=$(for d in $lint_dirs; do
	touch "$d"/*.rs "$REPO"/samples/*.rs
	"$REPO/tools/build/kmake.sh" "$KBUILD" "$d" CLIPPY=1 modules 2>&1
done)
if grep -qE '^(warning|error)|\.o: warning:' <<<"$clippy_out"; then
	echo "$clippy_out" | grep -E '^(warning|error)|\.o: warning:' -A8 | sed -n '1,60p'
	echo "FAILED: clippy or rustc warns about our code"; fail=$((fail + 1))
else
	echo "ok: CLIPPY=1 build has no warnings"; pass=$((pass + 1))
fi

# The Rust vendor drivers keep all unsafe code in the vendor API (a line
# with `unsafe` before any comment marker).
unsafe_in=$(cd "$REPO" && git ls-files 'samples/*.rs' | xargs grep -nE '^[^/]*\bunsafe\b' || true)
if [ -z "$unsafe_in" ]; then
	echo "ok: the Rust vendor drivers in samples/ have no unsafe code"; pass=$((pass + 1))
else
	echo "$unsafe_in"
	echo "FAILED: unsafe code in a Rust vendor driver (it belongs in the vendor API)"; fail=$((fail + 1))
fi

echo "=== docs: Documentation/*.rst parse without docutils warnings ==="
if rst_out=$("$REPO/tools/testing/docs/rst_check.py" "$REPO"/Documentation/*.rst 2>&1); then
	echo "ok: every Documentation/*.rst parses cleanly"; pass=$((pass + 1))
else
	echo "$rst_out" | sed -n '1,20p'
	echo "FAILED: docutils reports problems in Documentation/ (above)"; fail=$((fail + 1))
fi

echo "=== build: distro-kdir.sh refuses, in one sentence, headers it cannot build for ==="
"$REPO/tools/testing/build/distro_kdir_errors.sh" > "$out/kdir" 2>&1 || true
cat "$out/kdir"
totals_add_points "$out/kdir" "distro_kdir_errors.sh"

echo "=== compile-fail: vendor code that gets ownership wrong does not build ==="
"$REPO/tools/testing/compile_fail/run.sh" "$KBUILD" > "$out/compile-fail" 2>&1 || true
cat "$out/compile-fail"
totals_add_points "$out/compile-fail" "compile_fail/run.sh"

echo "=== runner self-test: the splat detector must catch a deliberate WARNING ==="
set +e
wait $selftest_pid
selftest_rc=$?
set -e
selftest_out=$(cat "$out/selftest")
echo "$selftest_out" | sed "s/^/  | /"
if [ "$selftest_rc" -ne 0 ] && grep -q '^FAILED: .*no WARNING' <<<"$selftest_out"; then
	echo "ok: the deliberate WARNING was caught and failed the run"
	pass=$((pass + 1))
else
	echo "FAILED: the splat detector did not fail a run whose kernel warned"
	fail=$((fail + 1))
fi

wait
for core in $cores; do
	echo "=== kselftests on the $core core ==="
	cat "$CACHE/run/console-tests-$core.log"
	cat "$out/$core"
	totals_add_summary "$out/$core" "the $core run"
done

# malformed_input.sh prints, on each core, the errno and effect of every
# generated input: the two tables must agree (compare-tables.sh).
if [ "$cores" = "rust c" ]; then
	echo "=== malformed input: the Rust core's table against the C core's ==="
	if "$VM/compare-tables.sh" "$CACHE/run/console-tests-rust.log" "$CACHE/run/console-tests-c.log"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
	fi
fi

totals_print
