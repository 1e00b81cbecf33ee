// SPDX-License-Identifier: GPL-2.0

//! The Rust API for mdev vendor drivers.
//!
//! A Rust module cannot use another module's crate, so this API is not
//! exported by the core: every vendor crate compiles it as source, with
//! bindings generated in its own build (see `vendor_api.mk`). It calls only
//! the C ABI of `include/linux/mdev.h` and `include/linux/vfio.h`, so a vendor
//! driver built on it runs unchanged on the Rust core and on the C core.
//!
//! - [`mdev`]: the driver, its parents and types, and per-device data.
//! - [`vfio`]: a mediated device exposed to userspace as a VFIO device.

/// The generated bindings: the vendor side of `mdev.h`, `vfio.h` and the
/// VFIO uapi (`vendor_bindings.h`).
#[allow(
    clippy::all,
    clippy::as_underscore,
    clippy::cast_lossless,
    clippy::ptr_as_ptr,
    clippy::ref_as_ptr,
    clippy::undocumented_unsafe_blocks,
    dead_code,
    improper_ctypes,
    missing_docs,
    non_camel_case_types,
    non_upper_case_globals,
    non_snake_case,
    unreachable_pub,
    unsafe_op_in_unsafe_fn
)]
mod bindings {
    include!(env!("MDEV_VENDOR_BINDINGS"));
}

#[path = "mdev_vendor.rs"]
pub mod mdev;

#[path = "vfio_glue.rs"]
pub mod vfio;
