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
//!   naturally aligned pieces of 1, 2 or 4 bytes.
//! - `VFIO_DEVICE_GET_INFO`, `GET_REGION_INFO` and `GET_IRQ_INFO` are
//!   answered from the trait's constants and [`DeviceOps::region`].
//! - `VFIO_DEVICE_SET_IRQS` arms and disarms eventfds for the indexes in
//!   [`DeviceOps::EVENTFD_IRQS`] (one vector each, action trigger only);
//!   the driver raises an interrupt with [`Device::trigger`]. Closing the
//!   device disarms them.
//! - `VFIO_DEVICE_RESET` calls [`DeviceOps::reset`].
//!
//! # Locking
//!
//! VFIO calls `open` and `close` under its own per-device-set mutex, and
//! everything else with no lock held, possibly from several threads at once:
//! a driver protects its state itself.

use super::{bindings, mdev};
use core::{
    mem::{offset_of, size_of},
    ops::Deref,
    ptr::NonNull,
};
use kernel::{
    device,
    error::{from_err_ptr, from_result, to_result},
    ioctl::_IO,
    new_mutex,
    prelude::*,
    sync::{
        atomic::{Acquire, Atomic, Relaxed, Release},
        Mutex,
    },
    time::{delay::fsleep, Delta},
    transmute::{AsBytes, FromBytes},
    types::{Opaque, ScopeGuard},
    uaccess::{UserPtr, UserSlice, UserSliceReader},
};

pub use bindings::{
    VFIO_DEVICE_FLAGS_PCI, VFIO_PCI_BAR0_REGION_INDEX, VFIO_PCI_CONFIG_REGION_INDEX,
    VFIO_PCI_INTX_IRQ_INDEX, VFIO_PCI_NUM_IRQS, VFIO_PCI_NUM_REGIONS,
};

/// Region `i` starts at file offset `i << REGION_SHIFT` of the device fd.
pub const REGION_SHIFT: u32 = 40;

/// The most interrupt indexes a device can have ([`VFIO_PCI_NUM_IRQS`] is 5).
pub const MAX_IRQS: usize = 8;

/// What `VFIO_DEVICE_GET_REGION_INFO` reports about a region.
#[derive(Clone, Copy)]
pub struct Region {
    /// Size in bytes.
    pub size: u64,
    /// `VFIO_REGION_INFO_FLAG_*`.
    pub flags: u32,
}

impl Region {
    /// A region of `size` bytes that userspace may read and write.
    pub const fn read_write(size: u64) -> Self {
        Self {
            size,
            flags: bindings::VFIO_REGION_INFO_FLAG_READ | bindings::VFIO_REGION_INFO_FLAG_WRITE,
        }
    }
}

/// The operations of a VFIO device, implemented by its per-device state.
///
/// `open`, `close` and `reset` are optional; a device with `reset` reports
/// `VFIO_DEVICE_FLAGS_RESET`.
#[vtable]
pub trait DeviceOps: Send + Sync + Sized + 'static {
    /// The name of the device's ops (shown in VFIO's debug output).
    const NAME: &'static CStr;
    /// `VFIO_DEVICE_FLAGS_*` of the device, e.g. [`VFIO_DEVICE_FLAGS_PCI`].
    const FLAGS: u32;
    /// Number of region indexes, e.g. [`VFIO_PCI_NUM_REGIONS`].
    const NUM_REGIONS: u32;
    /// Number of interrupt indexes, at most [`MAX_IRQS`].
    const NUM_IRQS: u32;
    /// The interrupt indexes that have one vector, signalled by an eventfd.
    const EVENTFD_IRQS: &'static [u32];

    /// The region at `index` (below `NUM_REGIONS`), or `None` if the device
    /// has nothing there (it is reported with size 0).
    fn region(&self, index: u32) -> Option<Region>;

    /// Reads `data.len()` bytes (1, 2 or 4, naturally aligned) at `offset`
    /// of region `index`. The API has checked that the region is readable
    /// and that `offset + data.len()` is within the size [`Self::region`]
    /// gave for it.
    fn read(dev: &Device<Self>, index: u32, offset: u64, data: &mut [u8]) -> Result;

    /// Writes `data` (1, 2 or 4 bytes, naturally aligned) at `offset` of
    /// region `index`, which the API has checked as for [`Self::read`].
    fn write(dev: &Device<Self>, index: u32, offset: u64, data: &[u8]) -> Result;

    /// The first user opens the device.
    fn open(_dev: &Device<Self>) -> Result {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// The last user closes the device (its eventfds are disarmed already).
    fn close(_dev: &Device<Self>) {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// Resets the device.
    fn reset(_dev: &Device<Self>) -> Result {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }
}

/// An eventfd that userspace armed to receive an interrupt.
///
/// # Invariants
///
/// Holds a reference on a live `struct eventfd_ctx`.
struct EventFd(NonNull<kernel::bindings::eventfd_ctx>);

// SAFETY: An eventfd context may be signalled and put from any thread.
unsafe impl Send for EventFd {}
// SAFETY: `signal` is safe to call concurrently.
unsafe impl Sync for EventFd {}

impl EventFd {
    /// Takes a reference on the eventfd behind the caller's file descriptor.
    fn from_fd(fd: i32) -> Result<Self> {
        // SAFETY: Any value may be passed; the result is checked.
        let ctx = from_err_ptr(unsafe { kernel::bindings::eventfd_ctx_fdget(fd) })?;
        Ok(Self(NonNull::new(ctx).ok_or(EBADF)?))
    }

    fn signal(&self) {
        // SAFETY: By the type invariants the context is alive.
        unsafe { kernel::bindings::eventfd_signal_mask(self.0.as_ptr(), 0) };
    }
}

impl Drop for EventFd {
    fn drop(&mut self) {
        // SAFETY: By the type invariants we hold a reference.
        unsafe { kernel::bindings::eventfd_ctx_put(self.0.as_ptr()) };
    }
}

/// A VFIO device with the driver's state `T`, as VFIO allocated it.
///
/// # Invariants
///
/// - `vdev` comes first: VFIO allocates the whole struct and hands out
///   pointers to `vdev` (`_vfio_alloc_device` requires offset 0).
/// - Once `live` is true, `triggers` and `data` are initialized and pinned,
///   until `release_callback` drops them.
#[repr(C)]
pub struct Device<T: DeviceOps> {
    vdev: Opaque<bindings::vfio_device>,
    triggers: Mutex<[Option<EventFd>; MAX_IRQS]>,
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

    /// Raises the interrupt `index`: signals its eventfd, if one is armed.
    pub fn trigger(&self, index: u32) {
        let triggers = self.triggers.lock();
        if let Some(Some(eventfd)) = triggers.get(index as usize) {
            eventfd.signal();
        }
    }

    fn set_trigger(&self, index: u32, eventfd: Option<EventFd>) -> Result {
        let old = core::mem::replace(
            self.triggers.lock().get_mut(index as usize).ok_or(EINVAL)?,
            eventfd,
        );
        // Put the old eventfd after unlocking.
        drop(old);
        Ok(())
    }

    /// # Safety
    ///
    /// `vdev` must be the `vdev` of a live `Device<T>`.
    unsafe fn from_vdev<'a>(vdev: *mut bindings::vfio_device) -> &'a Self {
        // SAFETY: By the type invariants `vdev` is at offset 0 of the
        // `#[repr(C)]` struct; the caller guarantees it is alive.
        unsafe { &*vdev.cast() }
    }

    // `as_char_ptr` is not a `const fn`; `as_ptr` gives the same pointer.
    #[allow(clippy::disallowed_methods)]
    const VTABLE: bindings::vfio_device_ops = bindings::vfio_device_ops {
        name: T::NAME.as_ptr().cast_mut().cast(),
        release: Some(release_callback::<T>),
        open_device: if T::HAS_OPEN {
            Some(open_callback::<T>)
        } else {
            None
        },
        close_device: Some(close_callback::<T>),
        read: Some(read_callback::<T>),
        write: Some(write_callback::<T>),
        ioctl: Some(ioctl_callback::<T>),
        get_region_info_caps: Some(region_info_callback::<T>),
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

/// The VFIO devices of this module whose release has not run yet.
///
/// VFIO releases a device when the last reference on its `struct device`
/// goes, and then calls back into the module that made it (its ops table and
/// [`release_callback`]). That may be long after the vendor's remove op
/// returned: always so with `CONFIG_DEBUG_KOBJECT_RELEASE`, which delays every
/// release by one to four seconds. Every vendor crate compiles this API, so
/// the count is per module.
static UNRELEASED: Atomic<usize> = Atomic::new(0);

/// The mdev parents this module has registered.
static PARENTS: Atomic<usize> = Atomic::new(0);

/// A parent of this module is registered (`mdev::Parent::new`).
pub(crate) fn parent_registered() {
    PARENTS.add(1, Relaxed);
}

/// A parent of this module is unregistered, with its devices removed
/// (`mdev::Parent`'s drop). When it was the last, no device of this module
/// is left or can be made, so this waits until VFIO has released them all:
/// the module may then be unloaded. With other parents still registered,
/// their own unregistration waits instead.
pub(crate) fn parent_unregistered() {
    if PARENTS.fetch_sub(1, Relaxed) != 1 {
        return;
    }
    // Releases are rare and near (seconds at most), so polling is enough.
    while UNRELEASED.load(Acquire) != 0 {
        fsleep(Delta::from_millis(10));
    }
    // The releasing CPU decremented the count as the last step of
    // `release_callback`, but still has that function's return to run in
    // this module's text: let it leave.
    fsleep(Delta::from_millis(10));
}

impl<T: DeviceOps> Registration<T> {
    /// Makes `mdev` a VFIO device whose state `init` initializes.
    pub fn new(mdev: &mdev::Device, init: impl PinInit<T, Error>) -> Result<Self> {
        const { assert!(T::NUM_IRQS as usize <= MAX_IRQS) };
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
        // Its release, which this allocation will always get, counts it out.
        UNRELEASED.add(1, Relaxed);
        let put = ScopeGuard::new(|| {
            // SAFETY: We hold the allocation's only reference; the release
            // callback drops the state only once it is `live`.
            unsafe { kernel::bindings::put_device(&raw mut (*vdev).device) }
        });
        let raw = dev.as_ptr();
        // SAFETY: The fields are in the allocation, not initialized yet, and
        // never move: VFIO frees the allocation in place.
        unsafe {
            new_mutex!([const { None }; MAX_IRQS]).__pinned_init(&raw mut (*raw).triggers)?;
            init.__pinned_init(&raw mut (*raw).data)?;
            (*raw).live = true;
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

/// `offsetofend()`: the size of the part of a uapi struct up to `field`.
macro_rules! size_through {
    ($type:ty, $field:ident, $field_type:ty) => {
        offset_of!($type, $field) + size_of::<$field_type>()
    };
}

// SAFETY: These uapi structs are made of `u32`s (and a zero-sized flexible
// array), so they have no padding and every bit pattern is valid.
unsafe impl FromBytes for bindings::vfio_device_info {}
// SAFETY: See above.
unsafe impl AsBytes for bindings::vfio_device_info {}
// SAFETY: See above.
unsafe impl FromBytes for bindings::vfio_irq_info {}
// SAFETY: See above.
unsafe impl AsBytes for bindings::vfio_irq_info {}
// SAFETY: See above.
unsafe impl FromBytes for bindings::vfio_irq_set {}
// SAFETY: See above.
unsafe impl AsBytes for bindings::vfio_irq_set {}

/// Reads the first `minsz` bytes of a uapi struct, the rest zeroed; fails
/// if userspace says (`argsz`, the first field) that it is shorter.
fn read_uapi<S: FromBytes + AsBytes>(reader: &mut UserSliceReader, minsz: usize) -> Result<S> {
    // SAFETY: `S: FromBytes`, so all zeroes is a valid `S`.
    let mut value: S = unsafe { core::mem::zeroed() };
    reader.read_slice(value.as_bytes_mut().get_mut(..minsz).ok_or(EINVAL)?)?;
    let argsz = u32::from_ne_bytes(value.as_bytes()[..4].try_into().map_err(|_| EINVAL)?);
    if (argsz as usize) < minsz {
        return Err(EINVAL);
    }
    Ok(value)
}

/// The ioctl numbers of `include/uapi/linux/vfio.h`.
const fn vfio_ioctl(nr: u32) -> u32 {
    _IO(bindings::VFIO_TYPE as u32, bindings::VFIO_BASE + nr)
}
const VFIO_DEVICE_GET_INFO: u32 = vfio_ioctl(7);
const VFIO_DEVICE_GET_IRQ_INFO: u32 = vfio_ioctl(9);
const VFIO_DEVICE_SET_IRQS: u32 = vfio_ioctl(10);
const VFIO_DEVICE_RESET: u32 = vfio_ioctl(11);

fn has_eventfd_irq<T: DeviceOps>(index: u32) -> bool {
    T::EVENTFD_IRQS.contains(&index)
}

fn get_info<T: DeviceOps>(arg: UserPtr) -> Result {
    let minsz = size_through!(bindings::vfio_device_info, num_irqs, u32);
    let (mut reader, mut writer) = UserSlice::new(arg, minsz).reader_writer();
    let mut info: bindings::vfio_device_info = read_uapi(&mut reader, minsz)?;
    info.flags = T::FLAGS;
    if T::HAS_RESET {
        info.flags |= bindings::VFIO_DEVICE_FLAGS_RESET;
    }
    info.num_regions = T::NUM_REGIONS;
    info.num_irqs = T::NUM_IRQS;
    writer.write_slice(&info.as_bytes()[..minsz])
}

fn get_irq_info<T: DeviceOps>(arg: UserPtr) -> Result {
    let minsz = size_through!(bindings::vfio_irq_info, count, u32);
    let (mut reader, mut writer) = UserSlice::new(arg, minsz).reader_writer();
    let mut info: bindings::vfio_irq_info = read_uapi(&mut reader, minsz)?;
    if info.index >= T::NUM_IRQS {
        return Err(EINVAL);
    }
    let eventfd = has_eventfd_irq::<T>(info.index);
    info.flags = if eventfd {
        bindings::VFIO_IRQ_INFO_EVENTFD
    } else {
        0
    };
    info.count = u32::from(eventfd);
    writer.write_slice(&info.as_bytes()[..minsz])
}

fn set_irqs<T: DeviceOps>(dev: &Device<T>, arg: UserPtr) -> Result {
    let minsz = size_through!(bindings::vfio_irq_set, count, u32);
    let mut hdr: bindings::vfio_irq_set =
        read_uapi(&mut UserSlice::new(arg, minsz).reader(), minsz)?;
    let vectors = c_int::from(hdr.index < T::NUM_IRQS && has_eventfd_irq::<T>(hdr.index));
    let mut data_size = 0usize;
    // SAFETY: Both pointers are to live locals. `NUM_IRQS` is at most
    // `MAX_IRQS` (asserted at build time in `Registration::new`), so the
    // cast is lossless.
    to_result(unsafe {
        bindings::vfio_set_irqs_validate_and_prepare(
            &mut hdr,
            vectors,
            T::NUM_IRQS as c_int,
            &mut data_size,
        )
    })?;
    if hdr.flags & bindings::VFIO_IRQ_SET_ACTION_TYPE_MASK != bindings::VFIO_IRQ_SET_ACTION_TRIGGER
    {
        return Err(EINVAL);
    }
    let mut data = UserSlice::new(arg.wrapping_byte_add(minsz), data_size).reader();
    match hdr.flags & bindings::VFIO_IRQ_SET_DATA_TYPE_MASK {
        // Validated above: with count 0 this disarms, as in vfio-pci.
        bindings::VFIO_IRQ_SET_DATA_NONE if hdr.count == 0 => dev.set_trigger(hdr.index, None)?,
        bindings::VFIO_IRQ_SET_DATA_NONE => dev.trigger(hdr.index),
        _ if hdr.count == 0 => {}
        bindings::VFIO_IRQ_SET_DATA_BOOL => {
            if data.read::<u8>()? != 0 {
                dev.trigger(hdr.index);
            }
        }
        _ => match data.read::<i32>()? {
            -1 => dev.set_trigger(hdr.index, None)?,
            fd => dev.set_trigger(hdr.index, Some(EventFd::from_fd(fd)?))?,
        },
    }
    Ok(())
}

/// The size of the next piece of an access of `left` bytes at `offset`: the
/// largest of 4, 2 and 1 that fits and is naturally aligned there.
fn piece_len(offset: u64, left: usize) -> usize {
    if left >= 4 && offset % 4 == 0 {
        4
    } else if left >= 2 && offset % 2 == 0 {
        2
    } else {
        1
    }
}

/// Whether `count` bytes at `offset` lie inside a region of `size` bytes.
fn inside_region(offset: u64, count: usize, size: u64) -> bool {
    offset < size && u64::try_from(count).is_ok_and(|count| count <= size - offset)
}

/// Reads or writes `count` bytes at `*pos`, in naturally aligned pieces.
fn read_write<T: DeviceOps>(
    dev: &Device<T>,
    buf: UserPtr,
    count: usize,
    pos: &mut i64,
    write: bool,
) -> Result<usize> {
    let start = u64::try_from(*pos).map_err(|_| EINVAL)?;
    let index = u32::try_from(start >> REGION_SHIFT).map_err(|_| EINVAL)?;
    if index >= T::NUM_REGIONS {
        return Err(EINVAL);
    }
    let mut offset = start & ((1 << REGION_SHIFT) - 1);
    // The driver only ever sees accesses inside a region it declared, with
    // the access it allows: no driver has to check the bounds itself.
    let region = dev.region(index).ok_or(EINVAL)?;
    let allowed = if write {
        bindings::VFIO_REGION_INFO_FLAG_WRITE
    } else {
        bindings::VFIO_REGION_INFO_FLAG_READ
    };
    if region.flags & allowed == 0 || !inside_region(offset, count, region.size) {
        return Err(EINVAL);
    }
    let (mut reader, mut writer) = UserSlice::new(buf, count).reader_writer();
    let mut done = 0;
    while done < count {
        let len = piece_len(offset, count - done);
        let mut piece = [0u8; 4];
        if write {
            reader.read_slice(&mut piece[..len])?;
            T::write(dev, index, offset, &piece[..len])?;
        } else {
            T::read(dev, index, offset, &mut piece[..len])?;
            writer.write_slice(&piece[..len])?;
        }
        offset += len as u64;
        done += len;
    }
    *pos += done as i64;
    Ok(done)
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
/// `vdev` must belong to a `Device<T>` whose last reference is being put.
unsafe extern "C" fn release_callback<T: DeviceOps>(vdev: *mut bindings::vfio_device) {
    let dev = vdev.cast::<Device<T>>();
    // SAFETY: Nobody else uses the device any more; by the type invariants
    // the state is initialized if `live` is set, and dropped only here.
    unsafe {
        if (*dev).live {
            core::ptr::drop_in_place(&raw mut (*dev).data);
            core::ptr::drop_in_place(&raw mut (*dev).triggers);
        }
    }
    // Last: after this, `parent_unregistered` may let the module go.
    UNRELEASED.fetch_sub(1, Release);
}

/// # Safety
///
/// `vdev` must belong to a live `Device<T>`.
unsafe extern "C" fn open_callback<T: DeviceOps>(vdev: *mut bindings::vfio_device) -> c_int {
    // SAFETY: Guaranteed by the caller.
    let dev = unsafe { Device::<T>::from_vdev(vdev) };
    from_result(|| T::open(dev).map(|()| 0))
}

/// # Safety
///
/// `vdev` must belong to a live `Device<T>`.
unsafe extern "C" fn close_callback<T: DeviceOps>(vdev: *mut bindings::vfio_device) {
    // SAFETY: Guaranteed by the caller.
    let dev = unsafe { Device::<T>::from_vdev(vdev) };
    let disarmed = core::mem::replace(&mut *dev.triggers.lock(), [const { None }; MAX_IRQS]);
    drop(disarmed);
    if T::HAS_CLOSE {
        T::close(dev);
    }
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
    ssize(read_write(
        dev,
        UserPtr::from_ptr(buf.cast()),
        count,
        pos,
        false,
    ))
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
    ssize(read_write(dev, buf, count, pos, true))
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
    let arg = UserPtr::from_addr(arg);
    let result = match cmd {
        VFIO_DEVICE_GET_INFO => get_info::<T>(arg),
        VFIO_DEVICE_GET_IRQ_INFO => get_irq_info::<T>(arg),
        VFIO_DEVICE_SET_IRQS => set_irqs(dev, arg),
        VFIO_DEVICE_RESET if T::HAS_RESET => T::reset(dev),
        VFIO_DEVICE_RESET => Err(EINVAL),
        _ => Err(ENOTTY),
    };
    match result {
        Ok(()) => 0,
        Err(e) => e.to_errno() as c_long,
    }
}

/// # Safety
///
/// `vdev` must belong to a live `Device<T>`, `info` must be valid.
unsafe extern "C" fn region_info_callback<T: DeviceOps>(
    vdev: *mut bindings::vfio_device,
    info: *mut bindings::vfio_region_info,
    _caps: *mut bindings::vfio_info_cap,
) -> c_int {
    // SAFETY: Guaranteed by the caller; `info` is VFIO's kernel copy.
    let (dev, info) = unsafe { (Device::<T>::from_vdev(vdev), &mut *info) };
    if info.index >= T::NUM_REGIONS {
        return EINVAL.to_errno();
    }
    let region = dev
        .region(info.index)
        .unwrap_or(Region { size: 0, flags: 0 });
    info.offset = u64::from(info.index) << REGION_SHIFT;
    info.size = region.size;
    info.flags = region.flags;
    0
}

// Only the sample registers these suites (see samples/Kbuild): a KUnit suite
// name can be registered once, and every vendor crate compiles this file.
#[cfg(mdev_vendor_api_kunit)]
#[kunit_tests(mdev_rs_vfio_glue)]
mod tests {
    use super::*;

    #[test]
    fn accesses_must_fit_in_their_region() {
        // (offset, count, region size) -> inside
        for (offset, count, size, inside) in [
            (0, 4, 4, true),
            (0, 0, 4, true),
            (3, 1, 4, true),
            (3, 2, 4, false),
            (4, 0, 4, false),
            (0, 1, 0, false),
            (255, 2, 256, false),
            (u64::MAX, 1, u64::MAX, false),
            (u64::MAX - 1, 1, u64::MAX, true),
        ] {
            assert_eq!(inside_region(offset, count, size), inside);
        }
    }

    #[test]
    fn accesses_split_into_aligned_pieces() {
        // (offset, bytes left) -> next piece
        for (offset, left, piece) in [
            (0, 8, 4),
            (0, 3, 2),
            (1, 3, 1),
            (2, 8, 2),
            (4, 3, 2),
            (6, 1, 1),
        ] {
            assert_eq!(piece_len(offset, left), piece);
        }
    }

    #[test]
    fn ioctl_numbers_match_the_uapi() {
        // _IO(';', 100 + 7) and _IO(';', 100 + 11), as in linux/vfio.h.
        assert_eq!(VFIO_DEVICE_GET_INFO, 0x3b6b);
        assert_eq!(VFIO_DEVICE_RESET, 0x3b6f);
    }

    #[test]
    fn read_write_region_flags() {
        let region = Region::read_write(4096);
        assert_eq!(region.size, 4096);
        assert_eq!(
            region.flags,
            bindings::VFIO_REGION_INFO_FLAG_READ | bindings::VFIO_REGION_INFO_FLAG_WRITE
        );
    }
}
