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
# once instead of leaving threads stuck behind the dead task's lock.  The
# same guest runs vfio_client's dma fixture, whose unmaps of pinned pages
# skip themselves while lockdep checks dependencies.

. ./mdev_lib.sh

if [ -z "${MDEV_RACE_ROUNDS:-}" ]; then
	ktap_print_header
	ktap_skip_all "the unmap race runs in make stress (MDEV_RACE_ROUNDS)"
	exit "$KSFT_SKIP"
fi
unload_all
if ! load_vendor mdev_rs_sample dma_unmap_delay_ms="${MDEV_RACE_DELAY_MS:-10}" >/dev/null; then
	ktap_print_header
	echo "Bail out! cannot load mdev_rs_sample on $(core_desc)"
	exit "$KSFT_FAIL"
fi
type=$(readlink -f "$MDEV_CLASS/mdev_rs_sample")/mdev_supported_types/faux_driver-1
MDEV_UUID=$(new_uuid)
MDEV_UUID2=$(new_uuid)
for uuid in "$MDEV_UUID" "$MDEV_UUID2"; do
	if [ "$(create "$type" "$uuid")" != OK ]; then
		ktap_print_header
		echo "Bail out! cannot create a faux_driver-1 device of mdev_rs_sample"
		exit "$KSFT_FAIL"
	fi
done
if [ -w /proc/sys/kernel/prove_locking ]; then
	echo 0 > /proc/sys/kernel/prove_locking
	echo "# lockdep's dependency checking is off for this guest: type1's own inversion on dma_unmap"
fi
echo 1 > /proc/sys/kernel/panic_on_oops
export MDEV_UUID MDEV_UUID2 MDEV_RACE_ROUNDS MDEV_PCI_ID=0x7f011b36 MDEV_BAR0_SIZE=4096
# The dma fixture too: its unmaps of pinned pages skip themselves while
# lockdep checks dependencies, and run here.
exec ./vfio_client -f unmap_race -f dma
