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

# mtty emulates a PCI serial card 4348:3253 with an 8-byte I/O BAR0.
exec_vfio_client mtty mtty-1 0x32534348 8 -f vfio_mdev
