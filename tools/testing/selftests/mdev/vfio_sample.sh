#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The VFIO client (vfio_client.c) against the Rust sample vendor driver
# mdev_rs_sample on the core under test, as a VMM drives it: every fixture
# of the client, the generic vfio_mdev and the sample's own (its BAR0
# registers, config space, INTx eventfd, DMA and reset), in each IOMMU mode
# of MDEV_VFIO_MODES (default type1v2), on a fresh device each.

. ./mdev_lib.sh

# Type 1 of the sample (its parent is a faux device, hence the type's name)
# is a PCI device 1b36:7f01 with a 4 KiB memory BAR0.
vfio_client_modes mdev_rs_sample faux_driver-1 0x7f011b36 4096
