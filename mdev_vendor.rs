// SPDX-License-Identifier: GPL-2.0

//! mdev vendor drivers: the driver, its parents and their types.
//!
//! C header: [`include/linux/mdev.h`](srctree/include/linux/mdev.h)
//!
//! A vendor module implements [`Driver`] and registers it once with
//! [`DriverRegistration`]. For each device whose resources it slices it then
//! registers a [`Parent`] offering some [`Type`]s. Writing a UUID into a
//! type's `create` file calls [`Driver::probe`]; what probe returns is the
//! device's data, owned by this API until [`Driver::remove`] gets it back.
//!
//! # Locking
//!
//! The core holds none of its locks while it calls a driver: probe and remove
//! of devices of one parent may run at the same time, on any CPU, also while
//! sysfs calls `get_available`, `show_description`, `show_device_file` and
//! `store_device_file`. Per-device data needs no lock against probe and
//! remove, which run once each; anything a driver shares between devices
//! needs its own.

use super::bindings;
use core::{fmt, marker::PhantomData, ptr};
use kernel::{
    device,
    error::{from_err_ptr, from_result},
    page::PAGE_SIZE,
    prelude::*,
    sync::Arc,
    types::Opaque,
    ThisModule, //
};

/// The raw pointer of a generic device, for C functions that take one.
fn raw_device(dev: &device::Device) -> *mut kernel::bindings::device {
    // `device::Device` is a transparent wrapper of `struct device`, so the
    // pointer to one is a pointer to the other.
    ptr::from_ref(dev).cast_mut().cast()
}

#[path = "mdev_vendor/device_files.rs"]
mod device_files;

use device_files::FileGroup;
pub use device_files::{DeviceFile, DeviceFiles};

/// A mediated device, as its driver sees it.
///
/// # Invariants
///
/// Wraps a `struct mdev_device` that lives at least as long as the reference.
#[repr(transparent)]
pub struct Device(Opaque<bindings::mdev_device>);

impl Device {
    /// # Safety
    ///
    /// `ptr` must point to a `struct mdev_device` that stays alive for `'a`.
    unsafe fn from_raw<'a>(ptr: *mut bindings::mdev_device) -> &'a Self {
        // SAFETY: `Device` is a transparent wrapper of the C struct, and the
        // caller guarantees that it lives for `'a`.
        unsafe { &*ptr.cast() }
    }

    pub(super) fn as_raw(&self) -> *mut bindings::mdev_device {
        self.0.get()
    }

    /// The generic device embedded in the mediated device, named by its UUID.
    pub fn as_dev(&self) -> &device::Device {
        // SAFETY: `dev` is embedded in the `mdev_device`, which lives as long
        // as `self` by the type invariants, and holds a reference on itself.
        unsafe { device::Device::from_raw(&raw mut (*self.as_raw()).dev) }
    }
}

/// The spec of one type a parent offers: its names and the driver's data.
pub struct TypeSpec<T> {
    /// Suffix of the type's sysfs directory `<parent driver>-<sysfs_name>`.
    pub sysfs_name: &'static CStr,
    /// What the type's `name` file shows.
    pub pretty_name: &'static CStr,
    /// The driver's own description of the type, given back on probe.
    pub data: T,
}

/// One type of mediated device that a parent offers.
///
/// # Invariants
///
/// `raw` comes first, so that the `struct mdev_type *` the core passes to the
/// driver's callbacks points to the `Type` it is embedded in; its name fields
/// point to `'static` strings.
#[repr(C)]
pub struct Type<T> {
    raw: Opaque<bindings::mdev_type>,
    data: T,
}

impl<T> Type<T> {
    /// # Safety
    ///
    /// `ptr` must point to the `raw` field of a live `Type<T>`, which stays
    /// alive for `'a`.
    unsafe fn from_raw<'a>(ptr: *mut bindings::mdev_type) -> &'a Self {
        // SAFETY: By the type invariants `raw` is at offset 0 of the
        // `#[repr(C)]` struct, and the caller guarantees the rest.
        unsafe { &*ptr.cast() }
    }

    /// The driver's data for this type, from its [`TypeSpec`].
    pub fn data(&self) -> &T {
        &self.data
    }
}

/// The text of a sysfs attribute being shown, written with
/// [`core::write!`] and friends: at most `PAGE_SIZE - 1` bytes, all that
/// sysfs takes from a show. Writing more fails.
pub struct SysfsText<'a> {
    page: &'a mut [u8],
    len: usize,
}

impl SysfsText<'_> {
    /// How many bytes sysfs takes from a show: a page less one. It warns
    /// ("returned bad count") about a full page and drops its last byte.
    const CAPACITY: usize = PAGE_SIZE - 1;

    /// The text to be written into the sysfs show buffer `buf`.
    ///
    /// # Safety
    ///
    /// `buf` must be a sysfs show buffer (a page), which nobody else uses
    /// while the returned value lives.
    unsafe fn from_show_buffer<'a>(buf: *mut c_char) -> SysfsText<'a> {
        // SAFETY: The caller guarantees a page, ours while the text lives;
        // the text takes its first `CAPACITY` bytes.
        let page = unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), Self::CAPACITY) };
        SysfsText { page, len: 0 }
    }

    /// The `ssize_t` a show returns for `result`: the length of the text,
    /// or `EOVERFLOW` if the driver wrote more than fits.
    fn show_result(&self, result: fmt::Result) -> isize {
        match result {
            // Less than a page is far below `isize::MAX`.
            Ok(()) => self.len as isize,
            Err(fmt::Error) => EOVERFLOW.to_errno() as isize,
        }
    }
}

impl fmt::Write for SysfsText<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
        self.page
            .get_mut(self.len..end)
            .ok_or(fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// A mediated device driver.
///
/// `get_available`, `show_description`, `show_device_file` and
/// `store_device_file` are optional: the core uses what the driver
/// implements (`#[vtable]` records which).
#[vtable]
pub trait Driver: Sized + 'static {
    /// The driver's name on the `mdev` bus.
    const NAME: &'static CStr;
    /// What the types' `device_api` file shows, e.g. `c"vfio-pci"`.
    const DEVICE_API: &'static CStr;
    /// The driver's data for each of its types.
    type TypeData: Send + Sync;
    /// The data of one mediated device, from probe to remove.
    type DeviceData: Send + Sync;

    /// Creates the device `mdev` of type `mtype`.
    ///
    /// The returned data is kept until [`Driver::remove`]; an error fails
    /// the write to `create` with that error and leaves nothing behind.
    fn probe(mdev: &Device, mtype: &Type<Self::TypeData>) -> Result<Self::DeviceData>;

    /// Removes the device `mdev`, with the data its probe returned.
    ///
    /// The default drops the data.
    fn remove(_mdev: &Device, _data: Self::DeviceData) {}

    /// How many more devices of `mtype` can be created now.
    ///
    /// Without it, the core counts devices against the parent-wide
    /// `max_instances` given to [`DriverRegistration::new`]. With it, the
    /// core only shows the answer: probe must refuse what does not fit.
    fn get_available(_mtype: &Type<Self::TypeData>) -> u32 {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// Writes the text of the type's `description` file.
    fn show_description(_mtype: &Type<Self::TypeData>, _out: &mut SysfsText<'_>) -> fmt::Result {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// Files in the sysfs directory of each device, there while the device
    /// is bound: read with [`Driver::show_device_file`], written with
    /// [`Driver::store_device_file`].
    const DEVICE_FILES: DeviceFiles = DeviceFiles::NONE;

    /// Writes the text of the file `DEVICE_FILES.files[file]` of the device
    /// `mdev`, whose probe returned `data`.
    fn show_device_file(
        _mdev: &Device,
        _data: &Self::DeviceData,
        _file: usize,
        _out: &mut SysfsText<'_>,
    ) -> fmt::Result {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// Takes `text`, written to the file `DEVICE_FILES.files[file]` of the
    /// device `mdev`, whose probe returned `data`; the write fails with the
    /// error returned. `text` is what userspace wrote, trailing newline
    /// included.
    fn store_device_file(
        _mdev: &Device,
        _data: &Self::DeviceData,
        _file: usize,
        _text: &[u8],
    ) -> Result {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }
}

/// A registered [`Driver`]: its `struct mdev_driver`, shared by its
/// [`DriverRegistration`] and by every [`Parent`] registered with it.
///
/// The last of them to go unregisters the driver, so no parent can be left
/// registered with a driver that is not: the order in which a vendor drops
/// them does not matter.
///
/// # Invariants
///
/// `raw` is registered with the core, with the callbacks of `D` and, as its
/// `dev_groups`, `files` (or null); nothing changes it until `drop`.
struct DriverData<D: Driver> {
    raw: Pin<KBox<Opaque<bindings::mdev_driver>>>,
    /// What `raw.driver.dev_groups` points to, if `D` has device files.
    _files: Option<Pin<KBox<FileGroup>>>,
    _driver: PhantomData<D>,
}

// SAFETY: The core and the driver core use the registered C struct from any
// thread; it points to `'static` data and to `files` only.
unsafe impl<D: Driver> Send for DriverData<D> {}
// SAFETY: See `Send`: shared references only take its address.
unsafe impl<D: Driver> Sync for DriverData<D> {}

impl<D: Driver> Drop for DriverData<D> {
    fn drop(&mut self) {
        // SAFETY: By the type invariants the driver is registered. No parent
        // uses it any more: each holds a reference to `self` until it is
        // unregistered.
        unsafe { bindings::mdev_unregister_driver(self.raw.get()) };
    }
}

/// The registration of a [`Driver`] with the mdev core.
///
/// Dropping it gives up the vendor's hold on the registration: the driver
/// is unregistered, which removes the devices still bound to it, once the
/// registration and every [`Parent`] made with it are gone.
pub struct DriverRegistration<D: Driver>(Arc<DriverData<D>>);

impl<D: Driver> DriverRegistration<D> {
    /// Registers `D` for `module`.
    ///
    /// `max_instances` is the number of devices each parent may have at once,
    /// over all its types, when `D` has no `get_available`.
    pub fn new(module: &'static ThisModule, max_instances: u32) -> Result<Self> {
        let raw = KBox::pin(Opaque::<bindings::mdev_driver>::zeroed(), GFP_KERNEL)?;
        let files = FileGroup::new::<D>()?;
        let ptr = raw.get();
        // SAFETY: Nobody else has seen `raw` yet; every pointer stored is
        // `'static` (strings, functions and the module) or points into
        // `files`, which `DriverData` keeps in place until it unregisters.
        unsafe {
            (*ptr).device_api = D::DEVICE_API.as_char_ptr();
            (*ptr).max_instances = max_instances;
            (*ptr).probe = Some(probe_callback::<D>);
            (*ptr).remove = Some(remove_callback::<D>);
            if D::HAS_GET_AVAILABLE {
                (*ptr).get_available = Some(get_available_callback::<D>);
            }
            if D::HAS_SHOW_DESCRIPTION {
                (*ptr).show_description = Some(show_description_callback::<D>);
            }
            if let Some(files) = &files {
                (*ptr).driver.dev_groups = files.dev_groups();
            }
            (*ptr).driver.name = D::NAME.as_char_ptr();
            (*ptr).driver.owner = module.as_ptr();
        }
        // SAFETY: `raw` is a filled-in driver, which `DriverData` keeps in
        // place, with `files`, until its `drop` unregisters it.
        kernel::error::to_result(unsafe { bindings::mdev_register_driver(ptr) })?;
        // INVARIANT: registered just above; if the allocation fails, the
        // dropped `DriverData` unregisters it.
        let data = DriverData {
            raw,
            _files: files,
            _driver: PhantomData,
        };
        Ok(Self(Arc::new(data, GFP_KERNEL)?))
    }
}

/// # Safety
///
/// Called by the core with a live device of a type of a parent of `D`.
unsafe extern "C" fn probe_callback<D: Driver>(mdev: *mut bindings::mdev_device) -> c_int {
    // SAFETY: The core keeps the device alive during probe.
    let dev = unsafe { Device::from_raw(mdev) };
    // The `mdev` bus matches no device to any driver, so the core binds a
    // device only to its parent's driver: this parent was registered with `D`
    // by `Parent<D>`, whose types are `Type<D::TypeData>`.
    // SAFETY: The core sets `type_` before probe to one of the parent's types
    // (see above), which the parent keeps alive while it has devices.
    let mtype = unsafe { Type::<D::TypeData>::from_raw((*mdev).type_) };
    from_result(|| {
        let data = KBox::new(D::probe(dev, mtype)?, GFP_KERNEL)?;
        // SAFETY: The device is alive; `remove_callback` takes the data back.
        unsafe {
            kernel::bindings::dev_set_drvdata(&raw mut (*mdev).dev, KBox::into_raw(data).cast())
        };
        Ok(0)
    })
}

/// # Safety
///
/// Called by the core with a live device whose probe succeeded.
unsafe extern "C" fn remove_callback<D: Driver>(mdev: *mut bindings::mdev_device) {
    // SAFETY: The core keeps the device alive during remove.
    let dev = unsafe { Device::from_raw(mdev) };
    // SAFETY: As above; the driver data is only touched by probe and remove.
    let data = unsafe { kernel::bindings::dev_get_drvdata(&raw mut (*mdev).dev) };
    // SAFETY: As above.
    unsafe { kernel::bindings::dev_set_drvdata(&raw mut (*mdev).dev, ptr::null_mut()) };
    // SAFETY: The successful probe stored a `KBox<D::DeviceData>` there, and
    // remove runs once per probe.
    let data = unsafe { KBox::from_raw(data.cast::<D::DeviceData>()) };
    D::remove(dev, KBox::into_inner(data));
}

/// # Safety
///
/// Called by the core with a live type of a parent of `D`.
unsafe extern "C" fn get_available_callback<D: Driver>(mtype: *mut bindings::mdev_type) -> c_uint {
    // SAFETY: The types of `D`'s parents are `Type<D::TypeData>`s, alive
    // while their sysfs files can be read.
    D::get_available(unsafe { Type::from_raw(mtype) })
}

/// # Safety
///
/// Called by the core with a live type of a parent of `D` and a page buffer.
unsafe extern "C" fn show_description_callback<D: Driver>(
    mtype: *mut bindings::mdev_type,
    buf: *mut c_char,
) -> isize {
    // SAFETY: sysfs show buffers are one page, ours until we return.
    let mut out = unsafe { SysfsText::from_show_buffer(buf) };
    // SAFETY: As in `get_available_callback`.
    let result = D::show_description(unsafe { Type::from_raw(mtype) }, &mut out);
    out.show_result(result)
}

/// A device alone in a class of the same name, to be a parent.
///
/// The core names a parent's types after the parent's driver, or, for a
/// device that has none, after its class: a parent made from
/// `ClassDevice::new(c"mtty")` offers `mtty-1`, `mtty-2`, ... and shows up as
/// `/sys/class/mtty/mtty`. Dropping it removes the device and the class.
///
/// # Invariants
///
/// `class` was made by `class_create` and `dev` by `device_create` in it;
/// both stay registered until `drop`.
pub struct ClassDevice {
    class: ptr::NonNull<kernel::bindings::class>,
    dev: ptr::NonNull<kernel::bindings::device>,
}

// SAFETY: The driver core lets a class and its device be used and removed
// from any thread.
unsafe impl Send for ClassDevice {}
// SAFETY: Shared references only hand out `&device::Device`, which is `Sync`.
unsafe impl Sync for ClassDevice {}

impl ClassDevice {
    /// Creates the class `name` and, in it, the device `name`.
    pub fn new(name: &'static CStr) -> Result<Self> {
        // SAFETY: `name` is a `'static` string, as the class keeps it.
        let class = from_err_ptr(unsafe { kernel::bindings::class_create(name.as_char_ptr()) })?;
        let class = ptr::NonNull::new(class).ok_or(ENOMEM)?;
        // SAFETY: `class` is registered; the device is named by the format
        // "%s" from `name`, copied by the driver core. Its release is the
        // driver core's own, so it may run after this module is gone.
        let dev = from_err_ptr(unsafe {
            kernel::bindings::device_create(
                class.as_ptr(),
                ptr::null_mut(),
                0,
                ptr::null_mut(),
                c"%s".as_char_ptr(),
                name.as_char_ptr(),
            )
        });
        match dev.map(ptr::NonNull::new) {
            // INVARIANT: both were just created.
            Ok(Some(dev)) => Ok(Self { class, dev }),
            failed => {
                // SAFETY: The class is ours and has no device.
                unsafe { kernel::bindings::class_destroy(class.as_ptr()) };
                Err(failed.err().unwrap_or(ENOMEM))
            }
        }
    }
}

impl AsRef<device::Device> for ClassDevice {
    fn as_ref(&self) -> &device::Device {
        // SAFETY: By the type invariants the device is registered, so alive,
        // until `drop`, which needs `&mut self`.
        unsafe { device::Device::from_raw(self.dev.as_ptr()) }
    }
}

impl Drop for ClassDevice {
    fn drop(&mut self) {
        // SAFETY: By the type invariants both are registered, and nothing
        // uses them after this.
        unsafe {
            kernel::bindings::device_unregister(self.dev.as_ptr());
            kernel::bindings::class_destroy(self.class.as_ptr());
        }
    }
}

mod private {
    /// Only the API's own device owners can be a [`super::ParentDevice`].
    pub trait Sealed {}
}

/// A device that a [`Parent`] is registered on, and that the parent owns:
/// the parent unregisters itself, which removes all its mediated devices,
/// before it drops the device, whose drop unregisters the device.
///
/// Implemented by the owners of a device's registration whose drop
/// unregisters it: [`ClassDevice`] and [`kernel::faux::Registration`]. It is
/// sealed: an owner that could let its device be unregistered while the
/// parent still had children would break that order.
pub trait ParentDevice: private::Sealed + Send + Sync + 'static {
    /// The generic device the parent is registered on.
    fn device(&self) -> &device::Device;
}

impl private::Sealed for ClassDevice {}
impl ParentDevice for ClassDevice {
    fn device(&self) -> &device::Device {
        self.as_ref()
    }
}

impl private::Sealed for kernel::faux::Registration {}
impl ParentDevice for kernel::faux::Registration {
    fn device(&self) -> &device::Device {
        self.as_ref()
    }
}

/// A registered parent: a device that offers types of mediated devices.
///
/// It owns what it needs: the device it is registered on (`P`) and a share
/// of its driver's registration. Dropping it unregisters the parent, which
/// first removes all its devices, and only then drops the device and its
/// share of the driver, so no order of drops in a vendor module can leave a
/// parent registered on a device, or with a driver, that is gone.
///
/// # Invariants
///
/// `raw` is registered with the core on `dev`'s device, with `_type_ptrs`
/// pointing to the `raw` fields of `_types`, none of which moves or changes
/// until `drop`.
pub struct Parent<D: Driver, P: ParentDevice = ClassDevice> {
    raw: Pin<KBox<Opaque<bindings::mdev_parent>>>,
    /// The array the core reads the types from: alive until `drop`.
    _type_ptrs: KVec<*mut bindings::mdev_type>,
    /// The types themselves, which the callbacks are given.
    _types: KVec<Pin<KBox<Type<D::TypeData>>>>,
    _driver: Arc<DriverData<D>>,
    dev: P,
}

// SAFETY: The raw pointers only point into the parent's own allocations; the
// core may use them from any thread, and `D::TypeData` and `P` are
// `Send + Sync`.
unsafe impl<D: Driver, P: ParentDevice> Send for Parent<D, P> {}
// SAFETY: See `Send`; shared references give out only `&D::TypeData` and `&P`.
unsafe impl<D: Driver, P: ParentDevice> Sync for Parent<D, P> {}

impl<D: Driver, P: ParentDevice> Parent<D, P> {
    /// Registers the device of `dev` as a parent of `driver`, offering
    /// `types`; the parent owns `dev` from now on.
    ///
    /// The device gets the `mdev_supported_types` directory.
    pub fn new(
        dev: P,
        driver: &DriverRegistration<D>,
        types: impl IntoIterator<Item = TypeSpec<D::TypeData>>,
    ) -> Result<Self> {
        let mut boxed = KVec::new();
        let mut type_ptrs = KVec::new();
        for spec in types {
            let mtype = KBox::pin(
                Type {
                    raw: Opaque::zeroed(),
                    data: spec.data,
                },
                GFP_KERNEL,
            )?;
            let raw = mtype.raw.get();
            // SAFETY: The type is not registered yet, so this is the only
            // access; the names are `'static`.
            unsafe {
                (*raw).sysfs_name = spec.sysfs_name.as_char_ptr();
                (*raw).pretty_name = spec.pretty_name.as_char_ptr();
            }
            type_ptrs.push(raw, GFP_KERNEL)?;
            boxed.push(mtype, GFP_KERNEL)?;
        }
        let raw = KBox::pin(Opaque::<bindings::mdev_parent>::zeroed(), GFP_KERNEL)?;
        let nr_types = u32::try_from(type_ptrs.len()).map_err(|_| EINVAL)?;
        // SAFETY: `raw`, the types, the driver and `dev` stay alive, in place
        // and registered until `drop` unregisters the parent: `Self` owns the
        // boxes and `dev`, and holds a reference on the driver's registration.
        kernel::error::to_result(unsafe {
            bindings::mdev_register_parent(
                raw.get(),
                raw_device(dev.device()),
                driver.0.raw.get(),
                type_ptrs.as_mut_ptr(),
                nr_types,
            )
        })?;
        super::vfio::parent_registered();
        Ok(Self {
            raw,
            _type_ptrs: type_ptrs,
            _types: boxed,
            _driver: driver.0.clone(),
            dev,
        })
    }

    /// What the parent is registered on.
    pub fn device(&self) -> &P {
        &self.dev
    }
}

impl<D: Driver, P: ParentDevice> Drop for Parent<D, P> {
    fn drop(&mut self) {
        // SAFETY: By the type invariants the parent is registered. This runs
        // before any field is dropped, so its device and driver are still
        // registered.
        unsafe { bindings::mdev_unregister_parent(self.raw.get()) };
        // The devices are removed, but VFIO may release them later; the
        // module that holds their ops must stay until it has.
        super::vfio::parent_unregistered();
    }
}

// Only the sample registers this suite (see vfio_glue.rs).
#[cfg(mdev_vendor_api_kunit)]
#[kunit_tests(mdev_rs_vendor)]
mod tests {
    use super::*;
    use core::fmt::Write;

    #[test]
    fn sysfs_text_fills_the_page_and_no_more() {
        let mut page = [0u8; 8];
        let mut out = SysfsText {
            page: &mut page,
            len: 0,
        };
        assert!(write!(out, "{}-{}", 12, 345).is_ok());
        assert_eq!(out.len, 6);
        assert!(out.write_str("xyz").is_err());
        assert_eq!(out.len, 6);
        assert!(out.write_str("xy").is_ok());
        assert_eq!(&page, b"12-345xy");
    }

    #[test]
    fn a_show_buffer_takes_a_page_less_one() {
        let mut page = KVec::<u8>::from_elem(0xaa, PAGE_SIZE, GFP_KERNEL).unwrap();
        // SAFETY: A page that is ours while `out` lives.
        let mut out = unsafe { SysfsText::from_show_buffer(page.as_mut_ptr().cast()) };
        for _ in 0..PAGE_SIZE - 1 {
            assert!(out.write_str("x").is_ok());
        }
        // sysfs would warn about a full page and drop its last byte.
        assert!(out.write_str("x").is_err());
        assert_eq!(out.show_result(Ok(())), (PAGE_SIZE - 1) as isize);
        assert_eq!(
            out.show_result(Err(fmt::Error)),
            EOVERFLOW.to_errno() as isize
        );
        assert_eq!(page[PAGE_SIZE - 1], 0xaa);
    }
}
