// SPDX-License-Identifier: GPL-2.0

//! VFIO device glue for Rust vendor drivers.
//!
//! Not written yet: the core itself needs no VFIO code. Vendor drivers
//! register their mediated devices with VFIO themselves, as the C samples do.
