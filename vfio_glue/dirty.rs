// SPDX-License-Identifier: GPL-2.0

//! Device dirty page tracking (`log_ops`): what a driver is asked to track
//! and the bitmap it reports dirty pages into.
//!
//! C headers: [`include/linux/vfio.h`](srctree/include/linux/vfio.h),
//! [`include/linux/iova_bitmap.h`](srctree/include/linux/iova_bitmap.h)
//!
//! Userspace starts tracking over a set of IOVA ranges
//! (`VFIO_DEVICE_FEATURE_DMA_LOGGING_START`, [`DeviceOps::log_start`] sees
//! them as [`LogRanges`]), reads and clears what the device wrote
//! (`VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT`, one
//! [`DeviceOps::log_read_and_clear`] per window of the user's bitmap, with a
//! [`DirtyBitmap`]) and stops (`VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP`). Both
//! views borrow what VFIO holds only for the call, so neither can outlive it.

use super::{bindings, Device, DeviceOps, MigVTable};
use core::{marker::PhantomData, ops::Range, ptr::NonNull};
use kernel::{ffi::c_ulong, prelude::*};

// `iova_bitmap_set` is exported in the "IOMMUFD" symbol namespace: the
// vendor module that compiles this API imports it, as `module!`'s
// `imports_ns` would (the same `.modinfo` string).
#[cfg(all(MODULE, CONFIG_IOMMUFD_DRIVER))]
#[link_section = ".modinfo"]
#[used(compiler)]
static IMPORT_NS_IOMMUFD: [u8; 18] = *b"import_ns=IOMMUFD\0";

/// The IOVA ranges userspace asks a device to track, for the duration of
/// [`DeviceOps::log_start`].
///
/// VFIO has checked them: none is empty, none overlaps another, each is
/// aligned to the page size userspace asked for, and none ends past the end
/// of the address space.
///
/// # Invariants
///
/// `root` is the root of an interval tree of `count` `interval_tree_node`s
/// that stays valid and unchanged for `'a`.
pub struct LogRanges<'a> {
    root: NonNull<kernel::bindings::rb_root_cached>,
    count: u32,
    _tree: PhantomData<&'a kernel::bindings::rb_root_cached>,
}

impl LogRanges<'_> {
    /// How many ranges there are.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// The ranges, in increasing order of IOVA.
    pub fn iter(&self) -> impl Iterator<Item = Range<u64>> + '_ {
        // SAFETY: By the type invariant the tree is valid; a search of it
        // only reads it.
        let mut node = unsafe {
            kernel::bindings::interval_tree_iter_first(self.root.as_ptr(), 0, c_ulong::MAX)
        };
        core::iter::from_fn(move || {
            // SAFETY: A node returned by the search is one of the tree's,
            // valid for `'a` by the type invariant (or null).
            let found = unsafe { node.as_ref() }?;
            // SAFETY: As above, `node` is a node of the tree.
            node = unsafe { kernel::bindings::interval_tree_iter_next(node, 0, c_ulong::MAX) };
            // VFIO made `last` from `iova + length - 1` with `iova + length`
            // at most `ULONG_MAX`: `last + 1` does not overflow.
            Some(found.start as u64..found.last as u64 + 1)
        })
    }
}

/// The part of userspace's dirty page bitmap that one
/// [`DeviceOps::log_read_and_clear`] fills: the bits of the pages of
/// [`Self::window`].
///
/// It lives only for the call (it is not `Send` and its lifetime is the
/// call's): a driver reports the pages it saw written in the window, clears
/// them from its own log, and keeps pages outside the window for a later
/// call.
///
/// # Invariants
///
/// `bitmap` is the `struct iova_bitmap` VFIO passed to `log_read_and_clear`
/// for the IOVA range `window`, valid for `'a`; it is only used from the
/// thread that runs the call.
pub struct DirtyBitmap<'a> {
    bitmap: NonNull<kernel::bindings::iova_bitmap>,
    window: Range<u64>,
    _bitmap: PhantomData<&'a mut kernel::bindings::iova_bitmap>,
}

impl DirtyBitmap<'_> {
    /// The IOVA range this call reports.
    pub fn window(&self) -> Range<u64> {
        self.window.clone()
    }

    /// Marks the pages of the `length` bytes at `iova` dirty. Only the part
    /// inside [`Self::window`] is marked: the rest is ignored.
    pub fn mark(&mut self, iova: u64, length: u64) {
        let start = iova.max(self.window.start);
        let end = iova.saturating_add(length).min(self.window.end);
        if start >= end {
            return;
        }
        #[cfg(CONFIG_IOMMUFD_DRIVER)]
        {
            let (iova, length) = (start as c_ulong, (end - start) as usize);
            // SAFETY: By the type invariant the bitmap is valid and used
            // from this thread only; `start..end` is non-empty and inside
            // the window VFIO gave the call, so inside the bitmap. Both fit
            // in `unsigned long` and `size_t` (64 bits wide).
            unsafe { bindings::iova_bitmap_set(self.bitmap.as_ptr(), iova, length) };
        }
        // Without CONFIG_IOMMUFD_DRIVER the kernel has no bitmap to set (its
        // `iova_bitmap_set` is an empty inline) and VFIO fails every report
        // before it calls the driver.
        #[cfg(not(CONFIG_IOMMUFD_DRIVER))]
        let _ = (self.bitmap, start, end);
    }
}

impl<T: DeviceOps> MigVTable<T> {
    pub(super) const LOG_OPS: bindings::vfio_log_ops = bindings::vfio_log_ops {
        log_start: Some(log_start_callback::<T>),
        log_stop: Some(log_stop_callback::<T>),
        log_read_and_clear: Some(log_read_and_clear_callback::<T>),
    };
}

/// # Safety
///
/// `vdev` must belong to a live `Device<T>`, `ranges` must be the root of an
/// interval tree of `nnodes` nodes valid for the call, `page_size` must be
/// valid.
unsafe extern "C" fn log_start_callback<T: DeviceOps>(
    vdev: *mut bindings::vfio_device,
    ranges: *mut kernel::bindings::rb_root_cached,
    nnodes: u32,
    page_size: *mut u64,
) -> c_int {
    // SAFETY: Guaranteed by the caller.
    let (dev, page_size) = unsafe { (Device::<T>::from_vdev(vdev), &mut *page_size) };
    if !T::HAS_LOG_START {
        return ENOTTY.to_errno();
    }
    let Some(root) = NonNull::new(ranges) else {
        return EINVAL.to_errno();
    };
    // INVARIANT: VFIO keeps the tree until the callback returns, and the
    // borrow cannot outlive the call.
    let ranges = LogRanges {
        root,
        count: nnodes,
        _tree: PhantomData,
    };
    kernel::error::from_result(|| T::log_start(dev, &ranges, page_size).map(|()| 0))
}

/// # Safety
///
/// `vdev` must belong to a live `Device<T>`.
unsafe extern "C" fn log_stop_callback<T: DeviceOps>(vdev: *mut bindings::vfio_device) -> c_int {
    // SAFETY: Guaranteed by the caller.
    let dev = unsafe { Device::<T>::from_vdev(vdev) };
    if !T::HAS_LOG_STOP {
        return ENOTTY.to_errno();
    }
    kernel::error::from_result(|| T::log_stop(dev).map(|()| 0))
}

/// # Safety
///
/// `vdev` must belong to a live `Device<T>`, `dirty` must be the bitmap of
/// the `length` bytes at `iova`, valid for the call.
unsafe extern "C" fn log_read_and_clear_callback<T: DeviceOps>(
    vdev: *mut bindings::vfio_device,
    iova: c_ulong,
    length: c_ulong,
    dirty: *mut kernel::bindings::iova_bitmap,
) -> c_int {
    // SAFETY: Guaranteed by the caller.
    let dev = unsafe { Device::<T>::from_vdev(vdev) };
    if !T::HAS_LOG_READ_AND_CLEAR {
        return ENOTTY.to_errno();
    }
    let Some(bitmap) = NonNull::new(dirty) else {
        return EINVAL.to_errno();
    };
    let (iova, length) = (iova as u64, length as u64);
    // INVARIANT: VFIO gave this bitmap for `iova..iova + length` (which
    // does not overflow: VFIO checked the report's end) and keeps it until
    // the callback returns; the borrow cannot outlive the call.
    let mut dirty = DirtyBitmap {
        bitmap,
        window: iova..iova.saturating_add(length),
        _bitmap: PhantomData,
    };
    kernel::error::from_result(|| T::log_read_and_clear(dev, &mut dirty).map(|()| 0))
}
