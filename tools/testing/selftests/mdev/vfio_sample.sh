#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The VFIO client (vfio_client.c) against the Rust sample vendor driver
# mdev_rs_sample on the core under test, as a VMM drives it: every fixture
# of the client, the generic vfio_mdev and the sample's own (its BAR0
# registers, config space, INTx eventfd and reset).  The device is left for
# the next test's cleanup: the client replaces this shell so that its KTAP
# is read as this program's own.

. ./mdev_lib.sh

unload_all
load_vendor mdev_rs_sample >/dev/null ||
	{ echo "1..0 # SKIP cannot load mdev_rs_sample on $(core_module)"; exit "$KSFT_FAIL"; }
MDEV_UUID=$(new_uuid)
P=$(readlink -f $MDEV_CLASS/mdev_rs_sample)/mdev_supported_types
# Type 1 of the sample; its parent is a faux device, hence the type's name.
if [ "$(create "$P/faux_driver-1" "$MDEV_UUID")" != OK ]; then
	echo "Bail out! cannot create a device of the sample's type 1"
	exit "$KSFT_FAIL"
fi
# Type 1 is a PCI device 1b36:7f01 with a 4 KiB memory BAR0.
export MDEV_UUID MDEV_PCI_ID=0x7f011b36 MDEV_BAR0_SIZE=4096
exec ./vfio_client
