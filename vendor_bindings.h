/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The C API a Rust mdev vendor driver calls: the vendor side of mdev.h and
 * the VFIO device API with its uapi structures.  vendor_api.mk runs bindgen
 * over this file in the vendor driver's own build.
 */
#include <linux/anon_inodes.h>
#include <linux/eventfd.h>
#include <linux/iova_bitmap.h>
#include <linux/mdev.h>
#include <linux/vfio.h>
#include <linux/wait_bit.h>

#include "mdev_rs_vfio.h"
