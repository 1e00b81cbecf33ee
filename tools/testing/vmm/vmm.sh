#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make vmm`: QEMU as the VMM of every vendor driver's devices, on both
# cores side by side (one guest each): vmm.sh in the test guest with all
# five drivers (C mtty, mtty_rs, C mdpy, mdpy_rs, mbochs, and the Rust
# sample), through the type1 container.
# `make vmm-guest` (vmm.sh --guest): the same guests boot an inner machine
# instead, whose own kernel drivers drive the devices (vmm_guest.sh).
# Ends with one line "N passed, N failed, N skipped"; exits non-zero on any
# failure.

set -euo pipefail
VM=$(cd "$(dirname "$0")/../vm" && pwd)
. "$VM/totals.sh"

what=qtest
[ "${1:-}" = --guest ] && what=guest
"$VM/setup-toolchain.sh"
KBUILD=$("$VM/build-kernel.sh")
. "$VM/lib.sh"
INITRD=$CACHE/run/guest-vmm.cpio
mkdir -p "$CACHE/run"
"$VM/make-initramfs.sh" "$KBUILD" "$INITRD"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

if [ "$what" = guest ]; then
	export MDEV_TESTS=vmm_guest.sh MDEV_VMM_GUEST=1
	name=vmm-guest
else
	export MDEV_TESTS=vmm.sh MDEV_VMM_DRIVERS=${MDEV_VMM_DRIVERS:-mtty,mtty_rs,mdpy,mdpy_rs,mbochs,sample}
	name=vmm
fi
cores=${MDEV_CORE:-rust c}
start=$(date +%s)
for core in $cores; do
	"$VM/run-vm.sh" --core "$core" --kernel "$KBUILD/arch/x86/boot/bzImage" --initrd "$INITRD" \
		--name "$name" --quiet --timeout "${MDEV_VM_TIMEOUT:-1800}" > "$out/$core" 2>&1 &
done
wait
for core in $cores; do
	echo "=== $name on the $core core ==="
	cat "$CACHE/run/console-$name-tests-$core.log"
	cat "$out/$core"
	totals_add_summary "$out/$core" "the $core run"
done
echo "$name: both cores in $(( $(date +%s) - start )) s"
totals_print
