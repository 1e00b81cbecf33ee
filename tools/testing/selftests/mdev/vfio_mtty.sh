#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The VFIO client (vfio_client.c) against the in-tree C mtty sample on the
# core under test: it checks the client against a driver nobody here wrote,
# and the core's VFIO path with a real vendor.  Only the client's generic
# fixture vfio_mdev runs here; its sample fixture is for mdev_rs_sample (see
# vfio_sample.sh).  The device is left for the next test's cleanup: the
# client replaces this shell so that its KTAP is read as this program's own.

. ./mdev_lib.sh

unload_all
load_vendor mtty >/dev/null || { echo "1..0 # SKIP cannot load mtty on $(core_module)"; exit "$KSFT_FAIL"; }
MDEV_UUID=$(new_uuid)
P=$(readlink -f $MDEV_CLASS/mtty)/mdev_supported_types
if [ "$(create "$P/mtty-1" "$MDEV_UUID")" != OK ]; then
	echo "Bail out! cannot create an mtty device"
	exit "$KSFT_FAIL"
fi
# mtty emulates a PCI serial card 4348:3253 with an 8-byte I/O BAR0.
export MDEV_UUID MDEV_PCI_ID=0x32534348 MDEV_BAR0_SIZE=8
exec ./vfio_client -f vfio_mdev
