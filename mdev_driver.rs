// SPDX-License-Identifier: GPL-2.0

//! The `mdev` bus and the registration of vendor drivers on it.
//!
//! C header: [`include/linux/mdev.h`](srctree/include/linux/mdev.h)
//!
//! Drivers never bind by matching: the core attaches a new device to its
//! parent's driver explicitly, and the bus's probe and remove forward to the
//! vendor's `probe` (its create op) and `remove`.

use crate::{
    c_name,
    mdev_device::MdevDevice,
    mdev_parent::Driver,
    StaticC, //
};
use kernel::{
    bindings,
    error::to_result,
    prelude::*, //
};

/// The `mdev` bus.
static MDEV_BUS: StaticC<bindings::bus_type> = StaticC(bindings::bus_type {
    name: c_name(c"mdev"),
    probe: Some(bus_probe),
    remove: Some(bus_remove),
    match_: Some(bus_match),
    // SAFETY: All-zero is a valid `bus_type` (null pointers and `None`s).
    ..unsafe { core::mem::zeroed() }
});

/// The `mdev` bus, for `struct device.bus`.
pub(crate) fn bus() -> *const bindings::bus_type {
    &MDEV_BUS.0
}

/// Whether `dev` sits on the `mdev` bus.
///
/// # Safety
///
/// `dev` must be a valid device.
pub(crate) unsafe fn is_mdev(dev: *mut bindings::device) -> bool {
    // SAFETY: The caller passes a valid device.
    core::ptr::eq(unsafe { (*dev).bus }, bus())
}

/// Drivers never match: the core binds explicitly.
///
/// # Safety
///
/// Called by the driver core; the arguments are not used.
unsafe extern "C" fn bus_match(
    _dev: *mut bindings::device,
    _drv: *const bindings::device_driver,
) -> c_int {
    0
}

/// The bus probe: runs the vendor's `probe` for a device being attached.
///
/// # Safety
///
/// Called by the driver core with a device of this bus whose `driver` is set.
unsafe extern "C" fn bus_probe(dev: *mut bindings::device) -> c_int {
    // SAFETY: The driver core sets `dev->driver` to an `mdev_driver`'s
    // embedded driver (only those register on this bus) before probing.
    let driver = unsafe { Driver::from_device_driver((*dev).driver) };
    // SAFETY: Only `MdevDevice`s are added to this bus.
    let mdev = unsafe { MdevDevice::from_dev(dev) };
    // SAFETY: The device is being bound to `driver` by the driver core.
    unsafe { driver.probe(mdev.as_raw()) }
}

/// The bus remove: runs the vendor's `remove` for a device being unbound.
///
/// # Safety
///
/// Called by the driver core with a bound device of this bus.
unsafe extern "C" fn bus_remove(dev: *mut bindings::device) {
    // SAFETY: As in `bus_probe`: the device is bound to an `mdev_driver`.
    let driver = unsafe { Driver::from_device_driver((*dev).driver) };
    // SAFETY: Only `MdevDevice`s are added to this bus.
    let mdev = unsafe { MdevDevice::from_dev(dev) };
    // SAFETY: The device is bound to `driver` and being unbound.
    unsafe { driver.remove(mdev.as_raw()) }
}

/// The registered `mdev` bus; dropping it unregisters the bus.
///
/// # Invariants
///
/// [`MDEV_BUS`] is registered while this object exists.
pub(crate) struct BusRegistration(());

impl BusRegistration {
    /// Registers the `mdev` bus.
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: `MDEV_BUS` is a valid, static bus type.
        to_result(unsafe { bindings::bus_register(bus()) })?;
        // INVARIANT: The bus was just registered.
        Ok(Self(()))
    }
}

impl Drop for BusRegistration {
    fn drop(&mut self) {
        // SAFETY: Registered by `new` (type invariant).
        unsafe { bindings::bus_unregister(bus()) };
    }
}

/// `mdev_register_driver()`: registers a vendor driver on the `mdev` bus.
///
/// # Safety
///
/// `drv` must point to a valid `mdev_driver` that stays valid until
/// `mdev_unregister_driver()` is called for it.
#[no_mangle]
pub(crate) unsafe extern "C" fn mdev_rs_register_driver(
    drv: *mut crate::mdev_h::mdev_driver,
) -> c_int {
    // SAFETY: The caller passes a valid driver.
    let driver = unsafe { Driver::from_raw(drv) };
    if driver.device_api().is_none() {
        pr_err!("mdev driver registration refused: no device_api\n");
        return EINVAL.to_errno();
    }
    let device_driver = driver.device_driver();
    // SAFETY: The driver is valid and not registered yet; the bus is
    // registered for as long as this module is loaded, which the vendor
    // module's dependency on it guarantees.
    unsafe {
        (*device_driver).bus = bus();
        bindings::driver_register(device_driver)
    }
}

/// `mdev_unregister_driver()`: unregisters a vendor driver.
///
/// # Safety
///
/// `drv` must have been registered by `mdev_register_driver()`.
#[no_mangle]
pub(crate) unsafe extern "C" fn mdev_rs_unregister_driver(drv: *mut crate::mdev_h::mdev_driver) {
    // SAFETY: The caller passes a registered driver.
    let driver = unsafe { Driver::from_raw(drv) };
    // SAFETY: The driver is registered.
    unsafe { bindings::driver_unregister(driver.device_driver()) };
}
