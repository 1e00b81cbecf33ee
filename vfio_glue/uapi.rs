// SPDX-License-Identifier: GPL-2.0

//! The VFIO uapi structs the glue and drivers exchange with userspace, and
//! the copying of ioctl arguments.
//!
//! Every VFIO ioctl argument starts with `argsz`, the size userspace says
//! its struct has; a kernel reads the fields it knows (up to a "minsz") and
//! refuses an `argsz` below that. [`IoctlArg`] does this for drivers.

use super::bindings;
use core::mem::{offset_of, size_of};
use kernel::{
    ioctl::_IO,
    prelude::*,
    transmute::{AsBytes, FromBytes},
    uaccess::{UserPtr, UserSlice},
};

/// `offsetofend()`: the size of the part of a uapi struct up to `field`.
macro_rules! size_through {
    ($type:ty, $field:ident, $field_type:ty) => {
        offset_of!($type, $field) + size_of::<$field_type>()
    };
}

/// A VFIO ioctl argument struct: `argsz` first, and the size of the part
/// a kernel reads.
pub trait UapiArg: FromBytes + AsBytes {
    /// The size of the fields known to this kernel ("minsz").
    const MINSZ: usize;
}

/// Implements [`FromBytes`], [`AsBytes`] and [`UapiArg`] for uapi structs.
macro_rules! uapi_args {
    ($($type:ident through $field:ident: $field_type:ty;)*) => {$(
        // SAFETY: The struct is made of integers (and, last, zero-sized
        // flexible arrays) laid out without padding, so every bit pattern
        // is valid and it has no uninitialized bytes.
        unsafe impl FromBytes for bindings::$type {}
        // SAFETY: See `FromBytes`.
        unsafe impl AsBytes for bindings::$type {}
        impl UapiArg for bindings::$type {
            const MINSZ: usize = size_through!(bindings::$type, $field, $field_type);
        }
    )*};
}

uapi_args! {
    vfio_device_info through num_irqs: u32;
    vfio_irq_info through count: u32;
    vfio_irq_set through count: u32;
    vfio_precopy_info through dirty_bytes: u64;
    // `dmabuf_id` and `region_index` share the last known field, a union.
    vfio_device_gfx_plane_info through __bindgen_anon_1: u32;
}

impl bindings::vfio_device_gfx_plane_info {
    /// Names the region that holds the plane (for `VFIO_GFX_PLANE_TYPE_REGION`;
    /// it shares its field with the dma-buf id).
    pub fn set_region_index(&mut self, index: u32) {
        // SAFETY: The union's members are both a `u32` at its start, and
        // any value is valid for either.
        unsafe { *self.__bindgen_anon_1.region_index.as_mut() = index };
    }
}

/// The argument of a device-specific ioctl, a pointer into userspace.
pub struct IoctlArg(UserPtr);

impl IoctlArg {
    pub(super) fn new(arg: UserPtr) -> Self {
        Self(arg)
    }

    /// Reads the known part of `S`, the rest zeroed. Fails with `EINVAL` if
    /// userspace's `argsz` is below [`UapiArg::MINSZ`], `EFAULT` if the
    /// memory cannot be read.
    pub fn read<S: UapiArg>(&self) -> Result<S> {
        // SAFETY: `S: FromBytes`, so all zeroes is a valid `S`.
        let mut value: S = unsafe { core::mem::zeroed() };
        let known = value.as_bytes_mut().get_mut(..S::MINSZ).ok_or(EINVAL)?;
        UserSlice::new(self.0, S::MINSZ)
            .reader()
            .read_slice(known)?;
        let argsz = value.as_bytes().get(..4).ok_or(EINVAL)?;
        let argsz = u32::from_ne_bytes(argsz.try_into().map_err(|_| EINVAL)?);
        if (argsz as usize) < S::MINSZ {
            return Err(EINVAL);
        }
        Ok(value)
    }

    /// Writes the known part of `value` back.
    pub fn write<S: UapiArg>(&self, value: &S) -> Result {
        let known = value.as_bytes().get(..S::MINSZ).ok_or(EINVAL)?;
        UserSlice::new(self.0, S::MINSZ).writer().write_slice(known)
    }

    /// The raw address, for arguments that are no [`UapiArg`].
    pub fn user_ptr(&self) -> UserPtr {
        self.0
    }
}

/// The ioctl numbers of `include/uapi/linux/vfio.h`.
const fn vfio_ioctl(nr: u32) -> u32 {
    _IO(bindings::VFIO_TYPE as u32, bindings::VFIO_BASE + nr)
}
pub(super) const VFIO_DEVICE_GET_INFO: u32 = vfio_ioctl(7);
pub(super) const VFIO_DEVICE_GET_IRQ_INFO: u32 = vfio_ioctl(9);
pub(super) const VFIO_DEVICE_SET_IRQS: u32 = vfio_ioctl(10);
pub(super) const VFIO_DEVICE_RESET: u32 = vfio_ioctl(11);
/// `VFIO_MIG_GET_PRECOPY_INFO`, on a saving stream in a pre-copy state.
pub(super) const VFIO_MIG_GET_PRECOPY_INFO: u32 = vfio_ioctl(21);
/// `VFIO_DEVICE_QUERY_GFX_PLANE`, for display devices.
pub const VFIO_DEVICE_QUERY_GFX_PLANE: u32 = vfio_ioctl(14);
