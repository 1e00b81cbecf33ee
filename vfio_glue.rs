// SPDX-License-Identifier: GPL-2.0

//! Mediated devices as VFIO devices: registration and device operations.
//!
//! C headers: [`include/linux/vfio.h`](srctree/include/linux/vfio.h),
//! [`include/uapi/linux/vfio.h`](srctree/include/uapi/linux/vfio.h)
//!
//! A driver implements [`DeviceOps`] for its per-device state and, in its
//! mdev probe, registers the state with [`Registration::new`]: VFIO allocates
//! a [`Device`] that holds it, and userspace can then open the device through
//! its IOMMU group. Dropping the registration (in the mdev remove) waits until
//! userspace has closed the device; the state is dropped when VFIO releases
//! the last reference.
//!
//! The glue decodes what userspace sends, so a driver sees only typed calls:
//! - Region `i` is at file offset `i << REGION_SHIFT`, as vfio-pci does.
//!   Reads and writes reach [`DeviceOps::read`] and [`DeviceOps::write`] in
//!   naturally aligned pieces of 1, 2 or 4 bytes, only inside the region
//!   [`DeviceOps::region`] declared ([`region`](mod@region)).
//! - `VFIO_DEVICE_GET_INFO`, `GET_REGION_INFO` and `GET_IRQ_INFO` are
//!   answered from the trait's constants and [`DeviceOps::region`].
//! - `VFIO_DEVICE_SET_IRQS` arms, disarms, masks and raises the interrupts
//!   of [`DeviceOps::IRQS`] ([`irq`](mod@irq)); the driver raises one with
//!   [`Device::trigger`]. Closing the device disarms them.
//! - `VFIO_DEVICE_RESET` calls [`DeviceOps::reset`]; any other ioctl goes to
//!   [`DeviceOps::ioctl`], with [`IoctlArg`] to copy its argument.
//! - When the device is to be unregistered while userspace holds it open,
//!   VFIO's request reaches [`DeviceOps::request`], by default relayed to
//!   userspace through the request interrupt ([`Irq::request`]).
//! - The driver reaches guest memory with [`Device::dma_read`],
//!   [`Device::dma_write`] and [`Device::pin`] ([`dma`](mod@dma)); the glue
//!   unpins what userspace unmaps (after [`DeviceOps::dma_unmap`]) and what
//!   is left at close.
//! - A device with [`DeviceOps::MIGRATION_FLAGS`] migrates (VFIO migration
//!   v2): the glue keeps its state, walks the arcs and owns the data
//!   streams; the driver saves into and loads from byte buffers
//!   ([`migration`](mod@migration)).
//!
//! # Locking
//!
//! VFIO calls `open` and `close` under its own per-device-set mutex,
//! `dma_unmap` under its IOMMU's device list mutex, and everything else with
//! no lock held, possibly from several threads at once: a driver protects
//! its state itself.

use super::{bindings, mdev};
use core::{mem::size_of, ops::Deref, ptr::NonNull};
use kernel::{
    device,
    error::{from_err_ptr, from_result, to_result},
    mm::virt::VmaNew,
    new_mutex,
    prelude::*,
    sync::Mutex,
    types::{Opaque, ScopeGuard},
    uaccess::{UserPtr, UserSlice},
};

#[path = "vfio_glue/config_bytes.rs"]
mod config_bytes;
#[path = "vfio_glue/dirty.rs"]
mod dirty;
#[path = "vfio_glue/dma.rs"]
mod dma;
#[path = "vfio_glue/irq.rs"]
mod irq;
#[path = "vfio_glue/migration.rs"]
pub mod migration;
#[path = "vfio_glue/mmap.rs"]
mod mmap;
#[path = "vfio_glue/region.rs"]
mod region;
#[path = "vfio_glue/release.rs"]
mod release;
#[path = "vfio_glue/uapi.rs"]
mod uapi;

pub use config_bytes::{ConfigBytes, CONFIG_SPACE_SIZE};
pub use dirty::{DirtyBitmap, LogRanges};
pub use dma::{PinnedPages, PIN_MAX_PAGES};
pub use irq::Irq;
use irq::{EventFd, SetData, Vectors};
use migration::{MigVTable, Migration};
pub use migration::{ResumeSpec, SaveData, SaveStage, State};
pub use mmap::{MmapArea, PageBuffer};
pub use region::Region;
pub use uapi::{IoctlArg, UapiArg, VFIO_DEVICE_QUERY_GFX_PLANE};
use uapi::{
    VFIO_DEVICE_GET_INFO, VFIO_DEVICE_GET_IRQ_INFO, VFIO_DEVICE_RESET, VFIO_DEVICE_SET_IRQS,
};

pub use bindings::{
    vfio_device_gfx_plane_info, VFIO_DEVICE_FLAGS_PCI, VFIO_GFX_PLANE_TYPE_PROBE,
    VFIO_GFX_PLANE_TYPE_REGION, VFIO_IRQ_INFO_NORESIZE, VFIO_PCI_BAR0_REGION_INDEX,
    VFIO_PCI_BAR1_REGION_INDEX, VFIO_PCI_BAR2_REGION_INDEX, VFIO_PCI_BAR4_REGION_INDEX,
    VFIO_PCI_CONFIG_REGION_INDEX, VFIO_PCI_ERR_IRQ_INDEX, VFIO_PCI_INTX_IRQ_INDEX,
    VFIO_PCI_MSIX_IRQ_INDEX, VFIO_PCI_MSI_IRQ_INDEX, VFIO_PCI_NUM_IRQS, VFIO_PCI_NUM_REGIONS,
    VFIO_PCI_REQ_IRQ_INDEX, VFIO_REGION_INFO_FLAG_READ, VFIO_REGION_INFO_FLAG_WRITE,
};

/// Region `i` starts at file offset `i << REGION_SHIFT` of the device fd.
pub const REGION_SHIFT: u32 = 40;

/// The operations of a VFIO device, implemented by its per-device state.
///
/// `open`, `close`, `reset`, `ioctl`, `request` and `dma_unmap` are
/// optional; a device with `reset` reports `VFIO_DEVICE_FLAGS_RESET`.
#[vtable]
pub trait DeviceOps: Send + Sync + Sized + 'static {
    /// The name of the device's ops (shown in VFIO's debug output).
    const NAME: &'static CStr;
    /// `VFIO_DEVICE_FLAGS_*` of the device, e.g. [`VFIO_DEVICE_FLAGS_PCI`].
    const FLAGS: u32;
    /// Number of region indexes, e.g. [`VFIO_PCI_NUM_REGIONS`].
    const NUM_REGIONS: u32;
    /// Number of interrupt indexes, e.g. [`VFIO_PCI_NUM_IRQS`].
    const NUM_IRQS: u32;
    /// The interrupt indexes `VFIO_DEVICE_GET_IRQ_INFO` answers for, each
    /// below `NUM_IRQS` and listed once; any other index is `EINVAL`.
    const IRQS: &'static [Irq];

    /// The region at `index`, or `None` if the device has nothing there:
    /// below `NUM_REGIONS` that is reported with size 0 and no flags, above
    /// it as `EINVAL`. A device may have regions at indexes from
    /// `NUM_REGIONS` on, device-specific ones (as mdpy's display region).
    fn region(&self, index: u32) -> Option<Region>;

    /// The pages behind region `index`, if the region is mappable: region
    /// offset `o` is byte `o` of the buffer. Every `mmap` of the region is
    /// checked against [`Self::region`] (inside it, inside one of its
    /// sparse areas if it lists some, shared, not writable unless the
    /// region is, nor made writable later by `mprotect`) before these pages
    /// are mapped. Reads and writes through the device fd of bytes that
    /// userspace could map go to these pages too, as a mapping would see
    /// them, and never to [`Self::read`] or [`Self::write`].
    fn mmap_pages(&self, _index: u32) -> Option<&PageBuffer> {
        None
    }

    /// Reads `data.len()` bytes (1, 2 or 4, naturally aligned) at `offset`
    /// of region `index`. The API has checked that the region is readable
    /// and that `offset + data.len()` is within the size [`Self::region`]
    /// gave for it. An access to bytes that userspace could map, with
    /// [`Self::mmap_pages`], goes to those pages instead.
    fn read(dev: &Device<Self>, index: u32, offset: u64, data: &mut [u8]) -> Result;

    /// Writes `data` (1, 2 or 4 bytes, naturally aligned) at `offset` of
    /// region `index`, which the API has checked as for [`Self::read`].
    fn write(dev: &Device<Self>, index: u32, offset: u64, data: &[u8]) -> Result;

    /// The first user opens the device.
    fn open(_dev: &Device<Self>) -> Result {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// The last user closes the device (its interrupts are disarmed already).
    fn close(_dev: &Device<Self>) {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// Resets the device.
    fn reset(_dev: &Device<Self>) -> Result {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// A device-specific ioctl `cmd`, one the glue does not handle itself;
    /// returns what the ioctl returns to userspace on success. Without it,
    /// such ioctls fail with `ENOTTY`.
    fn ioctl(_dev: &Device<Self>, _cmd: u32, _arg: IoctlArg) -> Result<isize> {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// VFIO asks the device back: it is being unregistered while userspace
    /// holds it open, and this is the `count`th request (from 0). Without
    /// it, the glue raises the request interrupt ([`Irq::request`]) if the
    /// device has one and it is armed.
    fn request(_dev: &Device<Self>, _count: u32) {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// Userspace unmaps the `length` bytes of IOVA at `iova`, in which some
    /// device of its container or IOAS has pinned pages (not necessarily
    /// this one). The driver stops using that memory and may unpin its pins
    /// there ([`Device::unpin`]); when this returns, the glue unpins every
    /// pin of the device that overlaps the range (see [`dma`](mod@dma)).
    /// From before this is called until the mapping is gone, [`Device::pin`]
    /// refuses the range with `EAGAIN`.
    fn dma_unmap(_dev: &Device<Self>, _iova: u64, _length: u64) {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// The device's VFIO migration v2 support: 0 (the default) for none, or
    /// [`migration::VFIO_MIGRATION_STOP_COPY`], optionally with
    /// [`migration::VFIO_MIGRATION_P2P`] and
    /// [`migration::VFIO_MIGRATION_PRE_COPY`]. A migratable device has
    /// [`Self::save`], [`Self::resume_spec`], [`Self::load`] and
    /// [`Self::migration_data_size`] (checked at build time); see
    /// [`migration`](mod@migration).
    const MIGRATION_FLAGS: u32 = 0;

    /// Appends the device's state to a saving stream: at
    /// [`SaveStage::Initial`] when the stream opens, at [`SaveStage::Final`]
    /// when the device enters `STOP_COPY` (stopped). Called with the
    /// migration state locked; an error fails the arc, in its old state.
    fn save(_dev: &Device<Self>, _stage: SaveStage, _out: &mut SaveData) -> Result {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// What a resuming stream may hold, asked when one opens (`STOP ->
    /// RESUMING`).
    fn resume_spec(_dev: &Device<Self>) -> Result<ResumeSpec> {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// Loads the whole resuming stream `data` on `RESUMING -> STOP`. It
    /// must check all of it before it changes anything: on an error the
    /// device stays as it was, in `RESUMING`, and userspace sees the error.
    ///
    /// The device is open (the migration ioctls come through its fd), so a
    /// device whose stream holds pins pins them again here with
    /// [`Device::pin`], in its own container or IOAS: after the stream is
    /// checked and before anything else changes, since a pin can fail for
    /// a reason outside the stream (nothing mapped at that IOVA).
    fn load(_dev: &Device<Self>, _data: &[u8]) -> Result {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// The bytes a saving stream holds in `STOP_COPY`
    /// (`VFIO_DEVICE_FEATURE_MIG_DATA_SIZE`).
    fn migration_data_size(&self) -> usize {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// Every arc `from -> to` of the state machine, before the API opens,
    /// fills or ends a stream for it: for a device that must quiesce
    /// (`RUNNING_P2P -> STOP`) or start again. An error fails the arc.
    fn arc(_dev: &Device<Self>, _from: State, _to: State) -> Result {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// Device dirty tracking starts (`log_ops`; only with
    /// [`Self::MIGRATION_FLAGS`]) over the IOVA `ranges`: the device sets
    /// the page size it tracks in (userspace's, unchecked by VFIO, comes
    /// in). Until [`Self::log_stop`], every page the device writes in the
    /// ranges is reported once by [`Self::log_read_and_clear`]; a device
    /// that cannot track the ranges fails the call.
    fn log_start(_dev: &Device<Self>, _ranges: &LogRanges<'_>, _page_size: &mut u64) -> Result {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// Device dirty tracking stops.
    fn log_stop(_dev: &Device<Self>) -> Result {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// Userspace reads and clears the dirty pages of [`DirtyBitmap::window`]:
    /// the device marks in `dirty` every page it wrote there since the last
    /// report (and every page it may write at any time, such as a pinned
    /// writable page), and forgets those it marked.
    fn log_read_and_clear(_dev: &Device<Self>, _dirty: &mut DirtyBitmap<'_>) -> Result {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }
}

/// A VFIO device with the driver's state `T`, as VFIO allocated it.
///
/// # Invariants
///
/// - `vdev` comes first: VFIO allocates the whole struct and hands out
///   pointers to `vdev` (`_vfio_alloc_device` requires offset 0); `release`
///   follows it as in `struct mdev_rs_vfio_device`, for the core's release
///   trampoline (see [`release`](mod@release)).
/// - `vdev.ops` points to `ops`, filled in right after the allocation.
/// - Once `live` is true, `irqs`, `pins`, `mig` and `data` are initialized and
///   pinned, until the release drops them.
#[repr(C)]
pub struct Device<T: DeviceOps> {
    vdev: Opaque<bindings::vfio_device>,
    release: bindings::mdev_rs_release_hook,
    /// This device's ops: `T`'s, with the release that the running core
    /// offers ([`release::ops`]).
    ops: bindings::vfio_device_ops,
    irqs: Mutex<Vectors<EventFd>>,
    pins: Mutex<dma::Pins>,
    mig: Mutex<Migration>,
    live: bool,
    data: T,
}

impl<T: DeviceOps> Deref for Device<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.data
    }
}

impl<T: DeviceOps> Device<T> {
    /// The mediated device this VFIO device stands for.
    pub fn as_dev(&self) -> &device::Device {
        // SAFETY: `vdev.dev` is the mdev's device. It outlives every way to
        // reach `self`: the registration, which the mdev's remove drops, and
        // VFIO's callbacks, which end before unregistration returns.
        unsafe { device::Device::from_raw((*self.vdev.get()).dev) }
    }

    /// Raises vector 0 of the interrupt `index` (see [`Self::trigger_vector`]).
    pub fn trigger(&self, index: u32) {
        self.trigger_vector(index, 0);
    }

    /// Raises vector `vector` of the interrupt `index`: signals its eventfd
    /// if userspace armed one and has not masked it. May sleep.
    pub fn trigger_vector(&self, index: u32, vector: u32) {
        self.irqs.lock().fire(index, vector);
    }

    /// Raises vector 0 of each interrupt of `indexes`, as
    /// [`Self::trigger`] does one after the other, but under one hold of
    /// the interrupts' lock: for a device that signals through whichever
    /// of several indexes userspace armed (INTx or MSI). May sleep.
    #[inline]
    pub fn trigger_each(&self, indexes: &[u32]) {
        let mut irqs = self.irqs.lock();
        for &index in indexes {
            irqs.fire(index, 0);
        }
    }

    /// The bytes of the device's stop-copy data, for VFIO.
    fn migration_data_size(&self) -> usize {
        if T::HAS_MIGRATION_DATA_SIZE {
            self.data.migration_data_size()
        } else {
            0
        }
    }

    /// The device was reset or closed: its migration state goes back to
    /// running and its streams are disabled.
    fn migration_reset(&self) {
        if T::MIGRATION_FLAGS != 0 {
            self.mig.lock().reset();
        }
    }

    /// # Safety
    ///
    /// `vdev` must be the `vdev` of a live `Device<T>`.
    unsafe fn from_vdev<'a>(vdev: *mut bindings::vfio_device) -> &'a Self {
        // SAFETY: By the type invariants `vdev` is at offset 0 of the
        // `#[repr(C)]` struct; the caller guarantees it is alive.
        unsafe { &*vdev.cast() }
    }

    /// Whether the device has the PCI request interrupt.
    const HAS_REQUEST_IRQ: bool = {
        let mut i = 0;
        let mut found = false;
        while i < T::IRQS.len() {
            found |= T::IRQS[i].index == bindings::VFIO_PCI_REQ_IRQ_INDEX;
            i += 1;
        }
        found && T::FLAGS & bindings::VFIO_DEVICE_FLAGS_PCI != 0
    };

    // `as_char_ptr` is not a `const fn`; `as_ptr` gives the same pointer.
    #[allow(clippy::disallowed_methods)]
    const VTABLE: bindings::vfio_device_ops = bindings::vfio_device_ops {
        name: T::NAME.as_ptr().cast_mut().cast(),
        release: Some(release::release_in_module::<T>),
        open_device: Some(open_callback::<T>),
        close_device: Some(close_callback::<T>),
        read: Some(read_callback::<T>),
        write: Some(write_callback::<T>),
        ioctl: Some(ioctl_callback::<T>),
        mmap: Some(mmap_callback::<T>),
        request: if T::HAS_REQUEST || Self::HAS_REQUEST_IRQ {
            Some(request_callback::<T>)
        } else {
            None
        },
        get_region_info_caps: Some(region_info_callback::<T>),
        dma_unmap: Some(dma_unmap_callback::<T>),
        #[cfg(CONFIG_IOMMUFD)]
        bind_iommufd: Some(bindings::vfio_iommufd_emulated_bind),
        #[cfg(CONFIG_IOMMUFD)]
        unbind_iommufd: Some(bindings::vfio_iommufd_emulated_unbind),
        #[cfg(CONFIG_IOMMUFD)]
        attach_ioas: Some(bindings::vfio_iommufd_emulated_attach_ioas),
        #[cfg(CONFIG_IOMMUFD)]
        detach_ioas: Some(bindings::vfio_iommufd_emulated_detach_ioas),
        // SAFETY: Every other field is an optional callback or a pointer,
        // for which all zeroes means "none".
        ..unsafe { core::mem::zeroed() }
    };
}

/// The VFIO registration of a mediated device.
///
/// Dropping it unregisters the device, which waits until userspace has
/// closed it, and puts the allocation's reference.
///
/// # Invariants
///
/// `dev` is a live, registered `Device<T>` on which we hold a reference.
pub struct Registration<T: DeviceOps> {
    dev: NonNull<Device<T>>,
}

// SAFETY: The registration only hands out `&Device<T>`, and `T: Send + Sync`.
unsafe impl<T: DeviceOps> Send for Registration<T> {}
// SAFETY: See `Send`.
unsafe impl<T: DeviceOps> Sync for Registration<T> {}

pub(crate) use release::{parent_registered, parent_unregistered};

impl<T: DeviceOps> Registration<T> {
    /// Checks at build time that a migratable device has every callback
    /// migration needs, and stop-copy support.
    const MIGRATION_IS_COMPLETE: () = {
        if T::MIGRATION_FLAGS != 0 {
            assert!(T::MIGRATION_FLAGS & bindings::VFIO_MIGRATION_STOP_COPY != 0);
            assert!(T::HAS_SAVE && T::HAS_LOAD && T::HAS_RESUME_SPEC);
            assert!(T::HAS_MIGRATION_DATA_SIZE);
        }
        let has_log = T::HAS_LOG_START || T::HAS_LOG_STOP || T::HAS_LOG_READ_AND_CLEAR;
        if has_log {
            assert!(T::HAS_LOG_START && T::HAS_LOG_STOP && T::HAS_LOG_READ_AND_CLEAR);
            assert!(T::MIGRATION_FLAGS != 0);
        }
    };

    /// Checks at build time that every index of `T::IRQS` is below
    /// `T::NUM_IRQS` and listed once.
    const IRQS_ARE_VALID: () = {
        let mut i = 0;
        while i < T::IRQS.len() {
            assert!(T::IRQS[i].index < T::NUM_IRQS);
            let mut j = i + 1;
            while j < T::IRQS.len() {
                assert!(T::IRQS[i].index != T::IRQS[j].index);
                j += 1;
            }
            i += 1;
        }
    };

    /// Makes `mdev` a VFIO device whose state `init` initializes.
    pub fn new(mdev: &mdev::Device, init: impl PinInit<T, Error>) -> Result<Self> {
        let () = Self::IRQS_ARE_VALID;
        let () = Self::MIGRATION_IS_COMPLETE;
        let vectors = Vectors::new(T::IRQS, T::FLAGS & bindings::VFIO_DEVICE_FLAGS_PCI != 0)?;
        // SAFETY: `mdev` is alive; the ops are `'static`; VFIO allocates
        // `size_of::<Device<T>>()` zeroed bytes with `vdev` at offset 0.
        let vdev = from_err_ptr(unsafe {
            bindings::_vfio_alloc_device(
                size_of::<Device<T>>(),
                &raw mut (*mdev.as_raw()).dev,
                &Device::<T>::VTABLE,
            )
        })?;
        // `_vfio_alloc_device` returns an error pointer, never NULL.
        let dev = NonNull::new(vdev.cast::<Device<T>>()).ok_or(ENOMEM)?;
        let raw = dev.as_ptr();
        // SAFETY: The allocation is ours alone until it is registered; from
        // now on every release of it, even of a failed registration, takes
        // the path `release::arm` sets up, which counts it out.
        unsafe { release::arm(raw) };
        let put = ScopeGuard::new(|| {
            // SAFETY: We hold the allocation's only reference; the release
            // drops the state only once it is `live`.
            unsafe { kernel::bindings::put_device(&raw mut (*vdev).device) }
        });
        // SAFETY: The fields are in the allocation, not initialized yet, and
        // never move: VFIO frees the allocation in place. The data goes
        // first: if it fails, nothing else is initialized yet.
        unsafe {
            init.__pinned_init(&raw mut (*raw).data)?;
            if let Err(never) = new_mutex!(vectors).__pinned_init(&raw mut (*raw).irqs) {
                match never {}
            }
            if let Err(never) = new_mutex!(dma::Pins::new()).__pinned_init(&raw mut (*raw).pins) {
                match never {}
            }
            if let Err(never) = new_mutex!(Migration::new()).__pinned_init(&raw mut (*raw).mig) {
                match never {}
            }
            (*raw).live = true;
            // Static properties of the device, set before it is registered.
            if T::MIGRATION_FLAGS != 0 {
                let vdev = (*raw).vdev.get();
                (*vdev).migration_flags = T::MIGRATION_FLAGS;
                (*vdev).mig_ops = &MigVTable::<T>::OPS;
                if T::HAS_LOG_START {
                    (*vdev).log_ops = &MigVTable::<T>::LOG_OPS;
                }
            }
        }
        // SAFETY: The device is fully initialized.
        to_result(unsafe { bindings::vfio_register_emulated_iommu_dev(vdev) })?;
        put.dismiss();
        // INVARIANT: registered, and the reference is now ours.
        Ok(Self { dev })
    }
}

impl<T: DeviceOps> Deref for Registration<T> {
    type Target = Device<T>;

    fn deref(&self) -> &Device<T> {
        // SAFETY: By the type invariants the device is alive.
        unsafe { self.dev.as_ref() }
    }
}

impl<T: DeviceOps> Drop for Registration<T> {
    fn drop(&mut self) {
        let vdev = self.dev.as_ptr().cast::<bindings::vfio_device>();
        // SAFETY: By the type invariants the device is registered and we
        // hold a reference, which we give up last.
        unsafe {
            bindings::vfio_unregister_group_dev(vdev);
            kernel::bindings::put_device(&raw mut (*vdev).device);
        }
    }
}

fn get_info<T: DeviceOps>(arg: &IoctlArg) -> Result {
    let mut info: bindings::vfio_device_info = arg.read()?;
    info.flags = T::FLAGS;
    if T::HAS_RESET {
        info.flags |= bindings::VFIO_DEVICE_FLAGS_RESET;
    }
    info.num_regions = T::NUM_REGIONS;
    info.num_irqs = T::NUM_IRQS;
    arg.write(&info)
}

fn get_irq_info<T: DeviceOps>(arg: &IoctlArg) -> Result {
    let mut info: bindings::vfio_irq_info = arg.read()?;
    let irq = irq::find(T::IRQS, info.index).ok_or(EINVAL)?;
    info.flags = irq.flags;
    info.count = irq.count;
    arg.write(&info)
}

fn set_irqs<T: DeviceOps>(dev: &Device<T>, arg: &IoctlArg) -> Result {
    let mut hdr: bindings::vfio_irq_set = arg.read()?;
    let vectors = irq::find(T::IRQS, hdr.index).map_or(0, |irq| irq.count);
    let mut data_size = 0usize;
    // SAFETY: Both pointers are to live locals.
    to_result(unsafe {
        bindings::vfio_set_irqs_validate_and_prepare(
            &mut hdr,
            c_int::try_from(vectors).map_err(|_| EINVAL)?,
            c_int::try_from(T::NUM_IRQS).map_err(|_| EINVAL)?,
            &mut data_size,
        )
    })?;
    // Validated: `data_size` bytes of data, one entry per vector.
    let mut reader = UserSlice::new(
        arg.user_ptr()
            .wrapping_byte_add(<bindings::vfio_irq_set as UapiArg>::MINSZ),
        data_size,
    )
    .reader();
    let data = match hdr.flags & bindings::VFIO_IRQ_SET_DATA_TYPE_MASK {
        bindings::VFIO_IRQ_SET_DATA_BOOL => {
            let mut flags = KVec::with_capacity(hdr.count as usize, GFP_KERNEL)?;
            for _ in 0..hdr.count {
                flags.push(reader.read::<u8>()? != 0, GFP_KERNEL)?;
            }
            SetData::Bool(flags)
        }
        bindings::VFIO_IRQ_SET_DATA_EVENTFD => {
            // Every fd is resolved before anything changes, so a bad one
            // leaves the interrupts as they were.
            let mut eventfds = KVec::with_capacity(hdr.count as usize, GFP_KERNEL)?;
            for _ in 0..hdr.count {
                let eventfd = match reader.read::<i32>()? {
                    -1 => None,
                    fd => Some(EventFd::from_fd(fd)?),
                };
                eventfds.push(eventfd, GFP_KERNEL)?;
            }
            SetData::EventFds(eventfds)
        }
        _ => SetData::None,
    };
    let action = hdr.flags & bindings::VFIO_IRQ_SET_ACTION_TYPE_MASK;
    dev.irqs
        .lock()
        .set(action, hdr.index, hdr.start, hdr.count, data)
}

/// The `ssize_t` a read or write returns: bytes done, or a negative errno.
fn ssize(result: Result<usize>) -> isize {
    match result {
        // `read_write` never does more than `count`, an `ssize_t` by VFS rule.
        Ok(done) => done as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// # Safety
///
/// `vdev` must belong to a live `Device<T>`.
unsafe extern "C" fn open_callback<T: DeviceOps>(vdev: *mut bindings::vfio_device) -> c_int {
    // SAFETY: Guaranteed by the caller.
    let dev = unsafe { Device::<T>::from_vdev(vdev) };
    dev.dma_open();
    if !T::HAS_OPEN {
        return 0;
    }
    from_result(|| T::open(dev).inspect_err(|_| dev.dma_close()).map(|()| 0))
}

/// # Safety
///
/// `vdev` must belong to a live `Device<T>`.
unsafe extern "C" fn close_callback<T: DeviceOps>(vdev: *mut bindings::vfio_device) {
    // SAFETY: Guaranteed by the caller.
    let dev = unsafe { Device::<T>::from_vdev(vdev) };
    dev.irqs.lock().clear();
    dev.migration_reset();
    if T::HAS_CLOSE {
        T::close(dev);
    }
    dev.dma_close();
}

/// # Safety
///
/// `vdev` must belong to a live `Device<T>`.
unsafe extern "C" fn dma_unmap_callback<T: DeviceOps>(
    vdev: *mut bindings::vfio_device,
    iova: u64,
    length: u64,
) {
    // SAFETY: Guaranteed by the caller.
    let dev = unsafe { Device::<T>::from_vdev(vdev) };
    // First: from here on, no pin of the range may keep type1 retrying.
    dev.dma_unmapping(iova, length);
    if T::HAS_DMA_UNMAP {
        T::dma_unmap(dev, iova, length);
    }
    dev.dma_unmapped(iova, length);
}

/// # Safety
///
/// `vdev` must belong to a live `Device<T>`, `ppos` must be valid.
unsafe extern "C" fn read_callback<T: DeviceOps>(
    vdev: *mut bindings::vfio_device,
    buf: *mut c_char,
    count: usize,
    ppos: *mut kernel::bindings::loff_t,
) -> isize {
    // SAFETY: Guaranteed by the caller.
    let (dev, pos) = unsafe { (Device::<T>::from_vdev(vdev), &mut *ppos) };
    let buf = UserPtr::from_ptr(buf.cast());
    ssize(region::read_write(dev, buf, count, pos, false))
}

/// # Safety
///
/// `vdev` must belong to a live `Device<T>`, `ppos` must be valid.
unsafe extern "C" fn write_callback<T: DeviceOps>(
    vdev: *mut bindings::vfio_device,
    buf: *const c_char,
    count: usize,
    ppos: *mut kernel::bindings::loff_t,
) -> isize {
    // SAFETY: Guaranteed by the caller.
    let (dev, pos) = unsafe { (Device::<T>::from_vdev(vdev), &mut *ppos) };
    let buf = UserPtr::from_ptr(buf.cast_mut().cast());
    ssize(region::read_write(dev, buf, count, pos, true))
}

/// # Safety
///
/// `vdev` must belong to a live `Device<T>`.
unsafe extern "C" fn ioctl_callback<T: DeviceOps>(
    vdev: *mut bindings::vfio_device,
    cmd: c_uint,
    arg: c_ulong,
) -> c_long {
    // SAFETY: Guaranteed by the caller.
    let dev = unsafe { Device::<T>::from_vdev(vdev) };
    let arg = IoctlArg::new(UserPtr::from_addr(arg));
    let result = match cmd {
        VFIO_DEVICE_GET_INFO => get_info::<T>(&arg).map(|()| 0),
        VFIO_DEVICE_GET_IRQ_INFO => get_irq_info::<T>(&arg).map(|()| 0),
        VFIO_DEVICE_SET_IRQS => set_irqs(dev, &arg).map(|()| 0),
        VFIO_DEVICE_RESET if T::HAS_RESET => T::reset(dev).map(|()| {
            dev.migration_reset();
            0
        }),
        VFIO_DEVICE_RESET => Err(EINVAL),
        _ if T::HAS_IOCTL => T::ioctl(dev, cmd, arg),
        _ => Err(ENOTTY),
    };
    match result {
        Ok(value) => value,
        Err(e) => e.to_errno() as c_long,
    }
}

/// # Safety
///
/// `vdev` must belong to a live `Device<T>`.
unsafe extern "C" fn request_callback<T: DeviceOps>(
    vdev: *mut bindings::vfio_device,
    count: c_uint,
) {
    // SAFETY: Guaranteed by the caller.
    let dev = unsafe { Device::<T>::from_vdev(vdev) };
    if T::HAS_REQUEST {
        return T::request(dev, count);
    }
    // As vfio-pci: say once why unregistration waits, if nobody is asked.
    let mut irqs = dev.irqs.lock();
    if irqs.armed(bindings::VFIO_PCI_REQ_IRQ_INDEX) {
        if count % 10 == 0 {
            dev_notice!(dev.as_dev(), "Relaying device request to user (#{count})\n");
        }
        irqs.fire(bindings::VFIO_PCI_REQ_IRQ_INDEX, 0);
    } else if count == 0 {
        dev_notice!(
            dev.as_dev(),
            "No device request channel registered, blocked until released by user\n"
        );
    }
}

/// # Safety
///
/// `vdev` must belong to a live `Device<T>`, `info` must be valid.
unsafe extern "C" fn region_info_callback<T: DeviceOps>(
    vdev: *mut bindings::vfio_device,
    info: *mut bindings::vfio_region_info,
    caps: *mut bindings::vfio_info_cap,
) -> c_int {
    // SAFETY: Guaranteed by the caller; `info` is VFIO's kernel copy.
    let (dev, info) = unsafe { (Device::<T>::from_vdev(vdev), &mut *info) };
    let region = match dev.region(info.index) {
        Some(region) => region,
        None if info.index < T::NUM_REGIONS => Region::NONE,
        None => return EINVAL.to_errno(),
    };
    info.offset = u64::from(info.index) << REGION_SHIFT;
    info.size = region.size;
    info.flags = region.flags;
    if region.sparse.is_empty() {
        return 0;
    }
    from_result(|| {
        let mut cap = mmap::sparse_cap(region.sparse)?;
        let size = cap.len() * size_of::<u64>();
        // SAFETY: `caps` is VFIO's capability chain for this call; `cap`
        // holds `size` bytes starting with an aligned header, which VFIO
        // copies.
        to_result(unsafe {
            bindings::vfio_info_add_capability(caps, cap.as_mut_ptr().cast(), size)
        })?;
        Ok(0)
    })
}

/// # Safety
///
/// `vdev` must belong to a live `Device<T>`; `vma` must be a VMA being set
/// up by the device file's `mmap`.
unsafe extern "C" fn mmap_callback<T: DeviceOps>(
    vdev: *mut bindings::vfio_device,
    vma: *mut kernel::bindings::vm_area_struct,
) -> c_int {
    // SAFETY: Guaranteed by the caller: VFIO calls this from the file's
    // `mmap`, while the VMA is set up and before anyone else sees it.
    let (dev, vma) = unsafe { (Device::<T>::from_vdev(vdev), VmaNew::from_raw(vma)) };
    // SAFETY: As above, the VMA is valid; its page offset is not changing.
    let pgoff = unsafe { (*vma.as_ptr()).vm_pgoff };
    from_result(|| mmap::mmap(dev, vma, pgoff).map(|()| 0))
}

// Only the sample registers these suites (see samples/Kbuild): a KUnit suite
// name can be registered once, and every vendor crate compiles this file.
#[cfg(mdev_vendor_api_kunit)]
#[kunit_tests(mdev_rs_vfio_glue)]
mod tests {
    use super::*;

    #[test]
    fn ioctl_numbers_match_the_uapi() {
        // _IO(';', 100 + 7) and _IO(';', 100 + 11), as in linux/vfio.h.
        assert_eq!(VFIO_DEVICE_GET_INFO, 0x3b6b);
        assert_eq!(VFIO_DEVICE_RESET, 0x3b6f);
        assert_eq!(VFIO_DEVICE_QUERY_GFX_PLANE, 0x3b72);
    }
}
