#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The unmap race (vfio_client's unmap_race fixture): threads of a user with
# two devices of the Rust sample in one VFIO container pin a page again and
# again while the page is being unmapped.  Type1 calls every device's
# dma_unmap, then retries while pages stay pinned, and stops the kernel
# (BUG_ON) after ten retries: the vendor API must refuse the pins that keep
# it retrying.  The sample is loaded with dma_unmap_delay_ms, which makes
# each device's dma_unmap wait as if behind other work: the window in which
# one device's pin keeps type1 going is then as long as the other's wait.
#
# It runs in make stress, which sets MDEV_RACE_ROUNDS (the unmaps to try);
# make check skips it.  On a kernel with lockdep its dependency checking is
# turned off first (/proc/sys/kernel/prove_locking), for this guest: type1's
# own lock inversion on dma_unmap (see vfio_client.c, lockdep_active()) would
# be reported by the first unmap of a pinned page, whatever the vendor does.
# An oops panics the guest (panic_on_oops), so that the crash ends the run at
# once instead of leaving threads stuck behind the dead task's lock.  It runs
# in each IOMMU mode of MDEV_VFIO_MODES (default type1v2): with iommufd
# (cdev, or the compatibility container) the unmap retries up to 100 times
# and then WARNs and fails with EDEADLOCK, instead of type1's BUG_ON.  The
# same guest runs vfio_client's dma fixture, whose unmaps of pinned pages
# skip themselves while lockdep checks dependencies.

. ./mdev_lib.sh

if [ -z "${MDEV_RACE_ROUNDS:-}" ]; then
	ktap_print_header
	ktap_skip_all "the unmap race runs in make stress (MDEV_RACE_ROUNDS)"
	exit "$KSFT_SKIP"
fi
RESULTS=/tmp/unmap_race.results OUT=/tmp/unmap_race.out
: > $RESULTS
unload_all
if ! load_vendor mdev_rs_sample dma_unmap_delay_ms="${MDEV_RACE_DELAY_MS:-10}" >/dev/null; then
	ktap_print_header
	echo "Bail out! cannot load mdev_rs_sample on $(core_desc)"
	exit "$KSFT_FAIL"
fi
type=$(readlink -f "$MDEV_CLASS/mdev_rs_sample")/mdev_supported_types/faux_driver-1
if [ -w /proc/sys/kernel/prove_locking ]; then
	echo 0 > /proc/sys/kernel/prove_locking
	note "lockdep's dependency checking is off for this guest: type1's own inversion on dma_unmap"
fi
echo 1 > /proc/sys/kernel/panic_on_oops
export MDEV_RACE_ROUNDS MDEV_PCI_ID=0x7f011b36 MDEV_BAR0_SIZE=4096
# In each IOMMU mode (MDEV_VFIO_MODES): two fresh devices, in one container
# or IOAS.  The dma fixture too: its unmaps of pinned pages skip themselves
# while lockdep checks dependencies, and run here.
for mode in $(vfio_modes_here); do
	mn=$(vfio_mode_name "$mode")
	u1=$(new_device "$type" "$mn: faux_driver-1") || continue
	u2=$(new_device "$type" "$mn: faux_driver-1") || continue
	run_harness "$mn: vfio_client" env MDEV_VFIO_MODE="$mode" MDEV_UUID="$u1" \
		MDEV_UUID2="$u2" ./vfio_client -f unmap_race -f dma
	check "$mn: the two devices are removed" "OK OK" "$(remove "$u1") $(remove "$u2")"
done
unload_all
results_print
ktap_finished
