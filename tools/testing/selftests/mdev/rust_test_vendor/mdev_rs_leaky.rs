// SPDX-License-Identifier: GPL-2.0

//! A Rust vendor driver that leaks its registrations, with safe code only,
//! for leak_unload.sh: its init registers a driver and a parent on a class
//! device `mdev_rs_leaky` with one type, then leaks the parent, which owns
//! the class device and a share of the driver's registration, and the
//! registration itself (`KBox::leak`, a `mem::forget` of their box). Nothing
//! unregisters them, so unloading the module must not free it (the Rust
//! core's watch over vendor modules waits).
//!
//! The leaked box's address is kept in a static, so that kmemleak, which
//! scans the module's memory, sees what the leak still uses as referenced.

#[path = "../../../../../mdev_vendor_api.rs"]
pub mod mdev_vendor_api;
use core::ptr;
use kernel::{
    prelude::*,
    sync::atomic::{Atomic, Relaxed},
};
use mdev_vendor_api::mdev;

module! {
    type: LeakyModule,
    name: "mdev_rs_leaky",
    authors: ["The mdev-rs developers"],
    description: "Test vendor: leaks its mdev parent and driver registration",
    license: "GPL",
}

/// A driver whose devices hold nothing.
struct LeakyDriver;

#[vtable]
impl mdev::Driver for LeakyDriver {
    const NAME: &'static CStr = c"mdev_rs_leaky";
    const DEVICE_API: &'static CStr = c"vfio-pci";
    type TypeData = ();
    type DeviceData = ();

    fn probe(_mdev: &mdev::Device, _mtype: &mdev::Type<()>) -> Result<()> {
        Ok(())
    }
}

/// The module keeps nothing: what it registered is leaked.
struct LeakyModule;

/// Where the leaked registrations are, for kmemleak only.
static LEAKED: Atomic<usize> = Atomic::new(0);

impl kernel::Module for LeakyModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let driver = mdev::DriverRegistration::<LeakyDriver>::new(module, 4)?;
        let class_dev = mdev::ClassDevice::new(c"mdev_rs_leaky")?;
        let types = [mdev::TypeSpec {
            sysfs_name: c"1",
            pretty_name: c"leaked",
            data: (),
        }];
        let parent = mdev::Parent::new(class_dev, &driver, types)?;
        let leaked = KBox::leak(KBox::new((parent, driver), GFP_KERNEL)?);
        LEAKED.store(ptr::from_mut(leaked) as usize, Relaxed);
        Ok(Self)
    }
}
