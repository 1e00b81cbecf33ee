// SPDX-License-Identifier: GPL-2.0

//! Mediated devices: the `struct mdev_device` objects the core allocates.
//!
//! C header: [`include/linux/mdev.h`](srctree/include/linux/mdev.h)
//!
//! # Lifetime
//!
//! A device is born as a [`KBox<MdevDevice>`] that nobody else can see. Once
//! its UUID is reserved in the global list, the box is leaked into the list
//! and `device_initialize()` hands ownership to the embedded `struct device`'s
//! reference count: from then on only `put_device()` may free it, through
//! [`MdevDevice::release`], which first takes the entry out of the global
//! list (under its lock) and then drops the box, which puts the type reference.

use crate::{
    mdev_driver,
    mdev_h,
    mdev_parent::{Parent, Type, TypeRef},
    mdev_sysfs,
    mdev_uuid::Uuid, //
};
use core::ptr::NonNull;
use kernel::{
    bindings,
    error::to_result,
    prelude::*,
    sync::aref::{ARef, AlwaysRefCounted},
    types::Opaque, //
};

/// A mediated device: exactly the C `struct mdev_device`.
///
/// C vendor drivers receive `struct mdev_device *` and use
/// `to_mdev_device()` and `mdev->type`, so they see exactly the layout of
/// `include/linux/mdev.h`. The core adds no field of its own: the C object
/// is 512 bytes on x86_64, and one more field would put every device in the
/// next kmalloc size class, twice the memory (see
/// `Documentation/benchmark.rst`). What else the core knows about a device
/// lives in the global list's index.
///
/// # Invariants
///
/// - `uuid` and `type_` are set before the device is visible to anyone and
///   never change afterwards; `type_` holds a [`TypeRef`] given up with
///   [`TypeRef::into_raw`], which dropping the device takes back.
/// - Once [`MdevDevice::initialize`] has run, the object is owned by the
///   reference count of its `dev` and freed only by its release.
#[repr(transparent)]
pub(crate) struct MdevDevice(Opaque<mdev_h::mdev_device>);

// The core's device is the C object and not a byte more.
const _: () = assert!(size_of::<MdevDevice>() == size_of::<mdev_h::mdev_device>());

impl MdevDevice {
    /// Allocates a device of `mtype` named `uuid`, not yet visible anywhere.
    pub(crate) fn new(mtype: &Type, uuid: Uuid) -> Result<KBox<Self>> {
        // The C object first: an `MdevDevice` only exists with its type
        // reference taken, since dropping one puts it.
        let raw = KBox::into_raw(KBox::new(
            Opaque::<mdev_h::mdev_device>::zeroed(),
            GFP_KERNEL,
        )?);
        // SAFETY: `raw` is a valid allocation that nobody else can see.
        unsafe {
            (*(*raw).get()).uuid = uuid.to_guid();
            (*(*raw).get()).type_ = TypeRef::new(mtype).into_raw();
        }
        // INVARIANT: `uuid` and `type_` are set before the box is shared.
        // SAFETY: `MdevDevice` is a transparent wrapper of the allocated
        // object, whose box is handed over here.
        Ok(unsafe { KBox::from_raw(raw.cast::<Self>()) })
    }

    /// Borrows the device that contains `mdev`.
    ///
    /// # Safety
    ///
    /// `mdev` must point to the C object of a live [`MdevDevice`] for `'a`.
    pub(crate) unsafe fn from_raw<'a>(mdev: *mut mdev_h::mdev_device) -> &'a Self {
        // SAFETY: `MdevDevice` is a transparent wrapper of `mdev_device`;
        // the caller guarantees liveness.
        unsafe { &*mdev.cast::<Self>() }
    }

    /// Borrows the device that embeds `dev`.
    ///
    /// # Safety
    ///
    /// `dev` must be the `struct device` of a live [`MdevDevice`] for `'a`.
    pub(crate) unsafe fn from_dev<'a>(dev: *mut bindings::device) -> &'a Self {
        // SAFETY: The caller guarantees that `dev` is embedded in an `mdev_device`.
        let mdev = unsafe { kernel::container_of!(dev, mdev_h::mdev_device, dev) };
        // SAFETY: The caller guarantees liveness.
        unsafe { Self::from_raw(mdev) }
    }

    /// The C object, as the global list sees it.
    pub(crate) fn raw(&self) -> &Opaque<mdev_h::mdev_device> {
        &self.0
    }

    /// The C object.
    pub(crate) fn as_raw(&self) -> *mut mdev_h::mdev_device {
        self.0.get()
    }

    /// The embedded `struct device`.
    pub(crate) fn raw_dev(&self) -> *mut bindings::device {
        // SAFETY: Computing a field address of a valid object.
        unsafe { &raw mut (*self.as_raw()).dev }
    }

    /// The device's UUID.
    pub(crate) fn uuid(&self) -> Uuid {
        // SAFETY: `uuid` never changes once the device is shared (invariant).
        Uuid::from_guid(unsafe { &(*self.as_raw()).uuid })
    }

    /// The device's type.
    pub(crate) fn mtype(&self) -> &Type {
        // SAFETY: `type_` holds a reference on the type (invariant), so its
        // release has not run, and `mdev_unregister_parent()` lets the vendor
        // free its types only after every type's release.
        unsafe { Type::from_raw((*self.as_raw()).type_) }
    }

    /// The parent of the device's type.
    pub(crate) fn parent(&self) -> &Parent {
        self.mtype().parent()
    }

    /// Mirrors the core's state into the `active` field of the C struct.
    ///
    /// The field is part of the ABI, but the core's own decisions use the
    /// state kept in the global list, under its lock.
    pub(crate) fn set_c_active(&self, active: bool) {
        // SAFETY: The field belongs to the core; vendors only read it.
        unsafe { (*self.as_raw()).active = active };
    }

    /// Makes the device a registered-to-be `struct device` and hands the box
    /// to its reference count.
    ///
    /// The returned reference is the one `device_initialize()` made; dropping
    /// it frees the device through [`Self::release`].
    ///
    /// # Safety
    ///
    /// `this` must be the leaked box of a device whose UUID is reserved in the
    /// global list, which [`Self::release`] removes again.
    pub(crate) unsafe fn initialize(this: NonNull<Self>) -> ARef<Self> {
        // SAFETY: The caller passes a live, leaked box.
        let mdev = unsafe { this.as_ref() };
        let dev = mdev.raw_dev();
        // SAFETY: `dev` is zeroed memory owned by the core; the fields set
        // below are the ones `device_add()` expects before it runs.
        unsafe {
            bindings::device_initialize(dev);
            (*dev).parent = mdev.parent().raw_dev();
            (*dev).bus = mdev_driver::bus();
            (*dev).release = Some(Self::release);
            (*dev).groups = mdev_sysfs::device_groups();
        }
        // INVARIANT: From here the device's reference count owns the box.
        // SAFETY: `device_initialize()` set the count to one, which the
        // returned `ARef` now owns.
        unsafe { ARef::from_raw(this) }
    }

    /// Names the device by its UUID, in the kernel's `%pUl` form.
    pub(crate) fn set_name(&self) -> Result {
        // SAFETY: The device is initialised; `%pUl` reads the 16 bytes of the
        // device's own `guid_t`, which lives as long as the device.
        to_result(unsafe {
            bindings::dev_set_name(
                self.raw_dev(),
                c"%pUl".as_char_ptr(),
                &raw const (*self.as_raw()).uuid,
            )
        })
    }

    /// Frees the device when its last reference goes.
    ///
    /// # Safety
    ///
    /// Called only by the driver core, once, for the `struct device` of an
    /// [`MdevDevice`] set up by [`Self::initialize`].
    unsafe extern "C" fn release(dev: *mut bindings::device) {
        // The box is rebuilt from a pointer of the allocation's own
        // provenance, not from a shared reference.
        // SAFETY: The driver core passes the `dev` of one of our devices.
        let this = unsafe { kernel::container_of!(dev, mdev_h::mdev_device, dev) }.cast::<Self>();
        // SAFETY: The device is alive until the box is dropped below; the
        // reference ends with this call.
        crate::mdev_list::forget_device(unsafe { &*this });
        // SAFETY: `initialize` leaked this box and handed it to the reference
        // count, which just dropped to zero: nobody else can reach it, and
        // `forget_device` has taken it out of the global list.
        drop(unsafe { KBox::from_raw(this) });
    }
}

impl Drop for MdevDevice {
    fn drop(&mut self) {
        // SAFETY: `type_` holds the reference `new` gave up (invariant), taken
        // back once, here; dropping it puts the type.
        drop(unsafe { TypeRef::from_raw((*self.as_raw()).type_) });
    }
}

// SAFETY: The reference count is the one of the embedded `struct device`;
// `get_device`/`put_device` keep the object alive exactly as long as needed.
unsafe impl AlwaysRefCounted for MdevDevice {
    fn inc_ref(&self) {
        // SAFETY: The device is initialised whenever an `ARef` exists.
        unsafe { bindings::get_device(self.raw_dev()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller owns a reference, so the device is alive.
        let dev = unsafe { obj.as_ref() }.raw_dev();
        // SAFETY: Dropping the reference the caller owns.
        unsafe { bindings::put_device(dev) };
    }
}

// SAFETY: The C object may be used from any thread; the core's mutable state
// about the device lives in the global list, under its lock.
unsafe impl Send for MdevDevice {}
// SAFETY: As for `Send`; shared access only reads immutable fields.
unsafe impl Sync for MdevDevice {}
