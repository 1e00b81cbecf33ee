/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The C headers whose types the core needs beyond the kernel crate's
 * bindings; Kbuild runs bindgen over this file.
 */
#include <linux/mdev.h>
