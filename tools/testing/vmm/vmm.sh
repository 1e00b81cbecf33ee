#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make vmm`: QEMU as the VMM of every vendor driver's devices, on both
# cores side by side (one guest each): vmm.sh in the test guest with every
# vendor driver (C mtty, mtty_rs, C mdpy, mdpy_rs, mbochs, and the Rust
# sample), through the type1 container with Debian 12's QEMU 7.2, and
# through iommufd with Debian 13's QEMU 10 (installed into the Debian root
# of make check-debian, which is made if missing); and, in the same guests,
# the VFIO client tests in the IOMMU modes make check leaves out (make
# stress runs them through iommufd's compatibility container, on its KCSAN
# kernel), VFIO migration through the device fd (vfio_migration.sh) and
# QEMU 10's live migration of a VM with an mtty device (vmm_migrate.sh).
# `make vmm-guest` (vmm.sh --guest): the same guests boot an inner machine
# instead, whose own kernel drivers drive the devices (vmm_guest.sh).
# Ends with one line "N passed, N failed, N skipped"; exits non-zero on any
# failure.

set -euo pipefail
VM=$(cd "$(dirname "$0")/../vm" && pwd)
REPO=$(cd "$VM/../../.." && pwd)
. "$VM/totals.sh"

what=qtest
[ "${1:-}" = --guest ] && what=guest
"$VM/setup-toolchain.sh"
KBUILD=$("$VM/build-kernel.sh")
. "$VM/lib.sh"
INITRD=$CACHE/run/guest-vmm-$what.cpio
mkdir -p "$CACHE/run"
if [ "$what" = qtest ]; then
	# QEMU's iommufd backend needs QEMU 9.0 or later: Debian 13's, from
	# the Debian 13 root of make check-debian (its mirror is this
	# machine's), copied into the guest as qemu-new (make-initramfs.sh).
	QROOT=$("$REPO/tools/testing/debian/debian-root.sh")/root
	if [ ! -x "$QROOT/usr/bin/qemu-system-x86_64" ]; then
		echo "vmm: installing qemu-system-x86 into $QROOT" >&2
		{ chroot "$QROOT" apt-get update -qq &&
			chroot "$QROOT" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
				--no-install-recommends qemu-system-x86; } > "$CACHE/run/vmm-qemu-install.log" 2>&1 ||
			{ tail -n 20 "$CACHE/run/vmm-qemu-install.log" >&2; echo "vmm: error: cannot install QEMU" >&2; exit 1; }
	fi
	export MDEV_VMM_QEMU_ROOT=$QROOT
else
	# The inner machine boots the benchmark kernel: the test kernel's
	# configuration without its debugging options (make-initramfs.sh).
	MDEV_VMM_INNER_KBUILD=$(MDEV_KERNEL=bench "$VM/build-kernel.sh")
	export MDEV_VMM_INNER_KBUILD
fi
"$VM/make-initramfs.sh" "$KBUILD" "$INITRD"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

if [ "$what" = guest ]; then
	export MDEV_TESTS=vmm_guest.sh,splat_check.sh MDEV_VMM_GUEST=1
	# The inner machine's boot alone takes minutes (Documentation/vmm.rst):
	# more than the settings file's 300 s per test.
	export MDEV_TEST_TIMEOUT=${MDEV_TEST_TIMEOUT:-1500}
	name=vmm-guest
else
	# The same guests run the VFIO client tests in the IOMMU modes that
	# make check leaves out (type1v1, cdev with iommufd).
	# And VFIO migration (vfio_migration.sh), which make check leaves out,
	# and QEMU's live migration of a VM with an mtty device between the
	# two drivers (vmm_migrate.sh, QEMU 10).
	export MDEV_TESTS=vmm.sh,vfio_mtty.sh,vfio_mdpy.sh,vfio_sample.sh,vfio_migration.sh,vmm_migrate.sh,splat_check.sh
	export MDEV_VMM_MIGRATION=1
	export MDEV_VMM_DRIVERS=${MDEV_VMM_DRIVERS:-mtty,mtty_rs,mdpy,mdpy_rs,mbochs,sample}
	export MDEV_VFIO_MODES=${MDEV_VFIO_MODES:-type1v1,cdev}
	name=vmm
fi
cores=${MDEV_CORE:-rust c}
start=$(date +%s)
for core in $cores; do
	"$VM/run-vm.sh" --core "$core" --kernel "$KBUILD/arch/x86/boot/bzImage" --initrd "$INITRD" \
		--name "$name" --quiet --timeout "${MDEV_VM_TIMEOUT:-2400}" > "$out/$core" 2>&1 &
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
