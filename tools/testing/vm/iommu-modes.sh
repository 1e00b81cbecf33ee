#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The VFIO client tests in every IOMMU mode (Documentation/testing.rst,
# "IOMMU modes"): vfio_mtty.sh, vfio_mdpy.sh and vfio_sample.sh, whose
# clients open their devices as vfio_dev.h does in each mode of
# MDEV_VFIO_MODES, on both cores, the two cores' guests side by side:
#
#   test kernel (VFIO's type1 container, IOMMUFD, VFIO_DEVICE_CDEV):
#       MDEV_IOMMU_TEST_MODES (type1v1,cdev); make check runs type1v2 there;
#   KCSAN kernel (iommufd's compatibility container, no vfio_iommu_type1):
#       MDEV_IOMMU_COMPAT_MODES (type1v2), through iommufd's
#       /dev/vfio/vfio.
#
# Each guest ends with splat_check.sh: any kernel report fails the run.
# Prints each guest's points, then the time and the line "N passed, N
# failed, N skipped"; exits non-zero on any failure.

set -euo pipefail
VM=$(cd "$(dirname "$0")" && pwd)
. "$VM/totals.sh"
start=$(date +%s)

MDEV_KERNEL=kcsan "$VM/setup-toolchain.sh"
KB=$("$VM/build-kernel.sh")
KB_KCSAN=$(MDEV_KERNEL=kcsan "$VM/build-kernel.sh")
. "$VM/lib.sh"

# An empty MDEV_IOMMU_TEST_MODES leaves the test kernel out (make vmm runs
# those modes in its own guests).
TEST_MODES=${MDEV_IOMMU_TEST_MODES-type1v1,cdev}
COMPAT_MODES=${MDEV_IOMMU_COMPAT_MODES:-type1v2}
TESTS=${MDEV_IOMMU_TESTS:-vfio_mtty.sh,vfio_mdpy.sh,vfio_sample.sh,splat_check.sh}
RUN=$CACHE/run
mkdir -p "$RUN"
# The test kernel's image is built from the working tree; the KCSAN
# kernel's modules in a copy of the sources of their own (as make stress's).
IMG=$RUN/guest-iommu-test.cpio
[ -z "$TEST_MODES" ] || "$VM/make-initramfs.sh" "$KB" "$IMG" >&2
tree=$CACHE/iommu-modes/tree-kcsan
sync_tree "$tree"
IMG_KCSAN=$RUN/guest-iommu-kcsan.cpio
"$tree/tools/testing/vm/make-initramfs.sh" "$KB_KCSAN" "$IMG_KCSAN" >&2

out() { echo "$RUN/iommu-$1-$2.out"; }
log() { echo "$RUN/console-iommu-$1-tests-$2.log"; }
run() { # NAME CORE KBUILD INITRD MODES
	MDEV_VFIO_MODES=$5 MDEV_TESTS=$TESTS "$VM/run-vm.sh" --core "$2" --quiet \
		--kernel "$3/arch/x86/boot/bzImage" --initrd "$4" --name "iommu-$1" \
		> "$(out "$1" "$2")" 2>&1 || true
}

phase=$(date +%s)
kernels="compat"
if [ -n "$TEST_MODES" ]; then
	kernels="test compat"
	for core in rust c; do
		run test "$core" "$KB" "$IMG" "$TEST_MODES" &
	done
	wait
fi
test_time=$(($(date +%s) - phase))
phase=$(date +%s)
for core in rust c; do
	run compat "$core" "$KB_KCSAN" "$IMG_KCSAN" "$COMPAT_MODES" &
done
wait
compat_time=$(($(date +%s) - phase))

for k in $kernels; do
	case $k in
	test) what="test kernel, VFIO's type1 container and iommufd, modes $TEST_MODES" ;;
	compat) what="KCSAN kernel, iommufd's compatibility container, modes $COMPAT_MODES" ;;
	esac
	for core in rust c; do
		echo "=== the $core core, $what ==="
		grep -E '^(not )?ok |^# (not )?ok |^# # |^# SKIP|# SKIP' "$(log $k $core)" | sed 's/^/  | /'
		cat "$(out $k $core)"
		totals_add_summary "$(out $k $core)" "the $core core on the $k kernel"
	done
done
echo "iommu-modes: test kernel ${test_time}s, KCSAN kernel ${compat_time}s," \
	"$(($(date +%s) - start))s in all"
totals_print
