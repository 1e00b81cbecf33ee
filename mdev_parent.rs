// SPDX-License-Identifier: GPL-2.0

//! The vendor-owned objects of the C ABI: parents, types and drivers.
//!
//! C header: [`include/linux/mdev.h`](srctree/include/linux/mdev.h)
//!
//! A vendor driver embeds `struct mdev_parent`, `struct mdev_type` and
//! `struct mdev_driver` in its own memory. The core borrows them from
//! `mdev_register_parent()` until `mdev_unregister_parent()` returns, and
//! never frees them. The wrappers here turn those C objects into typed Rust
//! references whose methods hide the raw field accesses.

use crate::mdev_h;
use core::ptr::NonNull;
use kernel::{
    bindings,
    device::Device,
    prelude::*,
    types::Opaque, //
};

/// A vendor's `struct mdev_parent`.
///
/// # Invariants
///
/// The wrapped `mdev_parent` has been set up by `mdev_register_parent()` and
/// `mdev_unregister_parent()` has not returned: `dev`, `mdev_driver` and the
/// `types` array (with `nr_types` entries) point to valid vendor objects, and
/// `unreg_sem` is initialised.
#[repr(transparent)]
pub(crate) struct Parent(Opaque<mdev_h::mdev_parent>);

impl Parent {
    /// Borrows a registered parent.
    ///
    /// # Safety
    ///
    /// `ptr` must point to an `mdev_parent` that `mdev_register_parent()` set
    /// up and for which `mdev_unregister_parent()` does not return during `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut mdev_h::mdev_parent) -> &'a Self {
        // SAFETY: `Parent` is a transparent wrapper of `mdev_parent`; the
        // caller guarantees validity for `'a`.
        unsafe { &*ptr.cast::<Self>() }
    }

    /// The raw C object.
    pub(crate) fn as_raw(&self) -> *mut mdev_h::mdev_parent {
        self.0.get()
    }

    /// The `struct device` that the mediated devices hang off.
    pub(crate) fn raw_dev(&self) -> *mut bindings::device {
        // SAFETY: By the type invariant `self` is registered, so `dev` is set.
        unsafe { (*self.as_raw()).dev }
    }

    /// The parent device.
    pub(crate) fn dev(&self) -> &Device {
        // SAFETY: The vendor holds a reference on `dev` until after
        // `mdev_unregister_parent()` (the contract of `mdev_register_parent`),
        // which outlives `self` by the type invariant.
        unsafe { Device::from_raw(self.raw_dev()) }
    }

    /// The vendor driver that binds to this parent's mediated devices.
    pub(crate) fn driver(&self) -> &Driver {
        // SAFETY: By the type invariant `mdev_driver` points to the vendor's
        // registered driver, which the vendor keeps while the parent is
        // registered.
        unsafe { Driver::from_raw((*self.as_raw()).mdev_driver) }
    }

    /// The types the vendor offers on this parent.
    pub(crate) fn types(&self) -> impl Iterator<Item = &Type> + '_ {
        // SAFETY: By the type invariant `types` holds `nr_types` valid pointers.
        let (types, count) = unsafe { ((*self.as_raw()).types, (*self.as_raw()).nr_types) };
        (0..count as usize).map(move |i| {
            // SAFETY: `i < nr_types`, and each entry points to a vendor type
            // that lives as long as the parent registration.
            unsafe { Type::from_raw(*types.add(i)) }
        })
    }

    /// The instance counter used when the driver has no `get_available`.
    pub(crate) fn instances(&self) -> InstanceCounter<'_> {
        // SAFETY: `available_instances` is a field of the valid parent; the
        // cast to `Opaque` is sound as `Opaque<T>` is `repr(transparent)`.
        let counter = unsafe { &raw mut (*self.as_raw()).available_instances };
        // SAFETY: The field lives as long as `self`, and `Opaque` allows C to
        // access it concurrently.
        InstanceCounter(unsafe { &*counter.cast::<Opaque<bindings::atomic_t>>() })
    }

    /// Takes `unreg_sem` for reading if no unregistration has started.
    ///
    /// Creation and removal of devices hold this while they run, so that
    /// `mdev_unregister_parent()` waits for them and later ones fail.
    pub(crate) fn try_read_unreg(&self) -> Option<UnregReadGuard<'_>> {
        // SAFETY: `unreg_sem` was initialised by `mdev_register_parent`.
        let locked = unsafe { bindings::down_read_trylock(self.unreg_sem()) } != 0;
        // Not `then_some`: its argument would be built, and dropped (so
        // unlocked), even when the trylock failed.
        // INVARIANT: The guard is only made when the read lock is held.
        locked.then(|| UnregReadGuard(self))
    }

    /// Takes `unreg_sem` for writing: no create or remove runs any more.
    pub(crate) fn write_unreg(&self) -> UnregWriteGuard<'_> {
        // SAFETY: `unreg_sem` was initialised by `mdev_register_parent`.
        unsafe { bindings::down_write(self.unreg_sem()) };
        // INVARIANT: The write lock is held when the guard is made.
        UnregWriteGuard(self)
    }

    /// The raw `unreg_sem`.
    fn unreg_sem(&self) -> *mut bindings::rw_semaphore {
        // SAFETY: Computing a field address of a valid object.
        unsafe { &raw mut (*self.as_raw()).unreg_sem }
    }
}

/// Holds a parent's `unreg_sem` for reading.
///
/// # Invariants
///
/// The read lock of `self.0`'s `unreg_sem` is held.
pub(crate) struct UnregReadGuard<'a>(&'a Parent);

impl Drop for UnregReadGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the read lock is held.
        unsafe { bindings::up_read(self.0.unreg_sem()) };
    }
}

/// Holds a parent's `unreg_sem` for writing.
///
/// # Invariants
///
/// The write lock of `self.0`'s `unreg_sem` is held.
pub(crate) struct UnregWriteGuard<'a>(&'a Parent);

impl<'a> UnregWriteGuard<'a> {
    /// The parent that is closed to creates and removes.
    pub(crate) fn parent(&self) -> &'a Parent {
        self.0
    }
}

impl Drop for UnregWriteGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the write lock is held.
        unsafe { bindings::up_write(self.0.unreg_sem()) };
    }
}

/// The count of instances a parent can still create.
///
/// Only used for drivers without `get_available`. The C ABI keeps it in the
/// vendor's `mdev_parent` as an `atomic_t`; every change happens with the
/// global device list locked, so the check and the decrement cannot race.
pub(crate) struct InstanceCounter<'a>(&'a Opaque<bindings::atomic_t>);

impl<'a> InstanceCounter<'a> {
    /// Wraps an `atomic_t` (used by the unit tests).
    #[cfg_attr(not(CONFIG_KUNIT = "y"), expect(dead_code))]
    pub(crate) fn new(counter: &'a Opaque<bindings::atomic_t>) -> Self {
        Self(counter)
    }

    /// Instances left.
    pub(crate) fn available(&self) -> u32 {
        // SAFETY: The counter is a valid `atomic_t`.
        let value = unsafe { bindings::atomic_read(self.0.get()) };
        value.try_into().unwrap_or(0)
    }

    /// Sets the number of instances left.
    pub(crate) fn set(&self, value: u32) {
        // The C core stores `max_instances` into an `int` the same way.
        let value = i32::try_from(value).unwrap_or(i32::MAX);
        // SAFETY: The counter is a valid `atomic_t`.
        unsafe { bindings::atomic_set(self.0.get(), value) };
    }

    /// Takes one instance, or fails with `EUSERS` when none is left.
    ///
    /// The caller holds the global device list lock.
    pub(crate) fn take(&self) -> Result {
        if self.available() == 0 {
            return Err(Error::from_errno(-(bindings::EUSERS as i32)));
        }
        // SAFETY: The counter is a valid `atomic_t`.
        unsafe { bindings::atomic_dec(self.0.get()) };
        Ok(())
    }

    /// Gives back an instance taken by [`Self::take`].
    ///
    /// The caller holds the global device list lock.
    pub(crate) fn give_back(&self) {
        // SAFETY: The counter is a valid `atomic_t`.
        unsafe { bindings::atomic_inc(self.0.get()) };
    }
}

/// A vendor's `struct mdev_type`.
///
/// # Invariants
///
/// The wrapped `mdev_type` belongs to a registered parent (see [`Parent`])
/// and `kobj` is initialised. `parent` points to that parent until the
/// type's kobject is released; the core clears it then, and only
/// `mdev_unregister_parent()` (or a failing registration), which waits for
/// that release, still holds the type afterwards, without reading `parent`.
#[repr(transparent)]
pub(crate) struct Type(Opaque<mdev_h::mdev_type>);

impl Type {
    /// Borrows a type of a registered parent.
    ///
    /// # Safety
    ///
    /// `ptr` must point to an `mdev_type` of a parent registered for all of
    /// `'a` whose `kobj` has been initialised by the core.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut mdev_h::mdev_type) -> &'a Self {
        // SAFETY: `Type` is a transparent wrapper of `mdev_type`; the caller
        // guarantees validity for `'a`.
        unsafe { &*ptr.cast::<Self>() }
    }

    /// Borrows the type that embeds `kobj`.
    ///
    /// # Safety
    ///
    /// `kobj` must be the `kobj` field of an `mdev_type` that satisfies the
    /// requirements of [`Type::from_raw`] for `'a`.
    pub(crate) unsafe fn from_kobj<'a>(kobj: *mut bindings::kobject) -> &'a Self {
        // SAFETY: The caller guarantees that `kobj` is embedded in an `mdev_type`.
        let mtype = unsafe { kernel::container_of!(kobj, mdev_h::mdev_type, kobj) };
        // SAFETY: The caller guarantees the requirements of `from_raw`.
        unsafe { Self::from_raw(mtype) }
    }

    /// The raw C object.
    pub(crate) fn as_raw(&self) -> *mut mdev_h::mdev_type {
        self.0.get()
    }

    /// The type's embedded kobject, its directory under `mdev_supported_types`.
    pub(crate) fn kobj(&self) -> *mut bindings::kobject {
        // SAFETY: Computing a field address of a valid object.
        unsafe { &raw mut (*self.as_raw()).kobj }
    }

    /// The `devices` directory of the type: valid from `add_type` until
    /// `remove_type` puts it, which happens only once the parent has no
    /// device left (its unregistration, or a registration that failed).
    ///
    /// `add_type` writes the field once, while registration holds
    /// `unreg_sem` for writing; its readers (creates and removes behind
    /// their trylock of `unreg_sem`, and unregistration) come after that.
    pub(crate) fn devices_kobj(&self) -> *mut bindings::kobject {
        // SAFETY: `self` is valid, and the field is written once, before any
        // reader can run (see above): this read races with no write.
        unsafe { (*self.as_raw()).devices_kobj }
    }

    /// The parent the type belongs to.
    pub(crate) fn parent(&self) -> &Parent {
        // SAFETY: By the type invariant `parent` points to the registered
        // parent until the type's release, which cannot have run: callers
        // hold the type through its sysfs directory, a device or a `TypeRef`.
        unsafe { Parent::from_raw((*self.as_raw()).parent) }
    }

    /// The name of the type's directory (`<driver>-<sysfs_name>`).
    pub(crate) fn dir_name(&self) -> &CStr {
        // SAFETY: The kobject is initialised and named (type invariant).
        let name = unsafe { (*self.kobj()).name };
        if name.is_null() {
            return c"";
        }
        // SAFETY: A kobject name is a NUL-terminated string that lives as
        // long as the kobject.
        unsafe { CStr::from_char_ptr(name) }
    }

    /// The vendor's sysfs name of the type, the suffix of its directory.
    pub(crate) fn sysfs_name(&self) -> &CStr {
        // SAFETY: The vendor set `sysfs_name` to a static string before
        // registering the parent, which checks that it is set.
        unsafe { CStr::from_char_ptr((*self.as_raw()).sysfs_name) }
    }

    /// The vendor's name for the type, shown in sysfs `name`.
    pub(crate) fn pretty_name(&self) -> &CStr {
        // SAFETY: The vendor set `pretty_name`, if at all, to a static string
        // before registering the parent.
        let name = unsafe { (*self.as_raw()).pretty_name };
        if name.is_null() {
            return self.sysfs_name();
        }
        // SAFETY: See above.
        unsafe { CStr::from_char_ptr(name) }
    }
}

/// A kobject reference on an mdev type, held by each of its devices (and
/// for a moment by a reader of the debugfs device list).
///
/// The reference keeps the type's sysfs directory and name and, through the
/// type's release, a reference on the parent device. It also keeps the
/// vendor's memory, the type and its parent: the vendor keeps them until
/// `mdev_unregister_parent()` (or a failed registration) returns, which
/// waits for the release of every type (`wait_released` in mdev_sysfs.rs),
/// so for every `TypeRef` to be dropped.
///
/// # Invariants
///
/// `self.0` is a type on which this object holds one kobject reference.
pub(crate) struct TypeRef(NonNull<Type>);

impl TypeRef {
    /// Takes a reference on `mtype`.
    pub(crate) fn new(mtype: &Type) -> Self {
        // SAFETY: The type's kobject is initialised (type invariant of `Type`).
        unsafe { bindings::kobject_get(mtype.kobj()) };
        // INVARIANT: The reference was just taken.
        Self(NonNull::from(mtype))
    }

    /// The referenced type.
    pub(crate) fn get(&self) -> &Type {
        // SAFETY: By the invariant the type is alive; the vendor keeps its
        // memory until the type's release has run (see above).
        unsafe { self.0.as_ref() }
    }

    /// Gives up the reference as a raw pointer, for a C field to hold.
    pub(crate) fn into_raw(self) -> *mut mdev_h::mdev_type {
        let mtype = self.get().as_raw();
        core::mem::forget(self);
        mtype
    }

    /// Takes back a reference given up by [`TypeRef::into_raw`].
    ///
    /// # Safety
    ///
    /// `mtype` must come from [`TypeRef::into_raw`], and its reference must
    /// not be taken back twice.
    pub(crate) unsafe fn from_raw(mtype: *mut mdev_h::mdev_type) -> Self {
        // INVARIANT: `into_raw` gave up exactly this reference.
        // SAFETY: `into_raw` got the pointer from a reference.
        Self(unsafe { NonNull::new_unchecked(mtype.cast()) })
    }
}

impl Drop for TypeRef {
    fn drop(&mut self) {
        // SAFETY: By the type invariant this object owns one reference.
        unsafe { bindings::kobject_put(self.get().kobj()) };
    }
}

/// A vendor's `struct mdev_driver`.
///
/// # Invariants
///
/// The wrapped `mdev_driver` is registered with `mdev_register_driver()` (or
/// being registered by it) and stays valid while it is borrowed.
#[repr(transparent)]
pub(crate) struct Driver(Opaque<mdev_h::mdev_driver>);

/// Reads the field `$field` of a [`Driver`]'s `mdev_driver`: one of the
/// vendor's fields, which it sets up before registering and does not change
/// while the driver is registered.
///
/// Only that field is read, through the raw pointer: the driver core writes
/// other fields of the same struct (`driver.p`) at any time, so no reference
/// to the whole `mdev_driver` may exist.
macro_rules! vendor_field {
    ($driver:expr, $field:ident) => {
        // SAFETY: The driver is valid by the type invariant of `Driver`; this
        // reads one `Copy` field that nobody writes while it is registered.
        unsafe { (*$driver.as_raw()).$field }
    };
}

impl Driver {
    /// Borrows a vendor driver.
    ///
    /// # Safety
    ///
    /// `ptr` must point to an `mdev_driver` that stays valid for `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut mdev_h::mdev_driver) -> &'a Self {
        // SAFETY: `Driver` is a transparent wrapper of `mdev_driver`; the
        // caller guarantees validity for `'a`.
        unsafe { &*ptr.cast::<Self>() }
    }

    /// Borrows the `mdev_driver` that embeds `drv`.
    ///
    /// # Safety
    ///
    /// `drv` must be the `driver` field of an `mdev_driver` valid for `'a`.
    pub(crate) unsafe fn from_device_driver<'a>(drv: *const bindings::device_driver) -> &'a Self {
        // SAFETY: The caller guarantees that `drv` is embedded in an `mdev_driver`.
        let mdrv = unsafe { kernel::container_of!(drv, mdev_h::mdev_driver, driver) };
        // SAFETY: The caller guarantees validity for `'a`.
        unsafe { Self::from_raw(mdrv.cast_mut()) }
    }

    /// The raw C object.
    pub(crate) fn as_raw(&self) -> *mut mdev_h::mdev_driver {
        self.0.get()
    }

    /// The embedded `struct device_driver`.
    pub(crate) fn device_driver(&self) -> *mut bindings::device_driver {
        // SAFETY: Computing a field address of a valid object.
        unsafe { &raw mut (*self.as_raw()).driver }
    }

    /// The `device_api` string shown in sysfs, or `None` if the vendor set none.
    pub(crate) fn device_api(&self) -> Option<&CStr> {
        let api = vendor_field!(self, device_api);
        // SAFETY: The vendor's `device_api` is a static NUL-terminated string.
        (!api.is_null()).then(|| unsafe { CStr::from_char_ptr(api) })
    }

    /// The vendor's `max_instances`.
    pub(crate) fn max_instances(&self) -> u32 {
        vendor_field!(self, max_instances)
    }

    /// Whether the vendor counts instances itself (`get_available`).
    pub(crate) fn has_get_available(&self) -> bool {
        vendor_field!(self, get_available).is_some()
    }

    /// Whether the vendor describes its types (`show_description`).
    pub(crate) fn has_show_description(&self) -> bool {
        vendor_field!(self, show_description).is_some()
    }

    /// Instances of `mtype` the vendor can still create: its `get_available`,
    /// or else the parent's counter.
    pub(crate) fn available_instances(&self, mtype: &Type) -> u32 {
        match vendor_field!(self, get_available) {
            // SAFETY: The vendor's callback takes one of its own types.
            Some(get_available) => unsafe { get_available(mtype.as_raw()) },
            None => mtype.parent().instances().available(),
        }
    }

    /// Lets the vendor describe `mtype` into the sysfs page `buf`.
    ///
    /// # Safety
    ///
    /// `buf` must be a sysfs show buffer of `PAGE_SIZE` bytes.
    pub(crate) unsafe fn show_description(&self, mtype: &Type, buf: *mut c_char) -> isize {
        match vendor_field!(self, show_description) {
            // SAFETY: The vendor's callback takes one of its types and a sysfs
            // page, which the caller guarantees.
            Some(show) => unsafe { show(mtype.as_raw(), buf) },
            None => EIO.to_errno() as isize,
        }
    }

    /// Runs the vendor's `probe` (its create op) for a new device.
    ///
    /// # Safety
    ///
    /// `mdev` must be a device being bound to this driver by the driver core.
    pub(crate) unsafe fn probe(&self, mdev: *mut mdev_h::mdev_device) -> c_int {
        match vendor_field!(self, probe) {
            // SAFETY: The caller guarantees `mdev` is being bound to this driver.
            Some(probe) => unsafe { probe(mdev) },
            None => 0,
        }
    }

    /// Runs the vendor's `remove` for a device being unbound.
    ///
    /// # Safety
    ///
    /// `mdev` must be a device being unbound from this driver by the driver core.
    pub(crate) unsafe fn remove(&self, mdev: *mut mdev_h::mdev_device) {
        if let Some(remove) = vendor_field!(self, remove) {
            // SAFETY: The caller guarantees `mdev` is bound to this driver.
            unsafe { remove(mdev) };
        }
    }
}
