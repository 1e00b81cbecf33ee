// SPDX-License-Identifier: GPL-2.0

//! A vendor's own owner of a parent device: one that holds only a reference
//! on the device does not keep it registered, so the device could be
//! unregistered under the parent. `ParentDevice` is sealed.
//!
//! expect: error[E0277]
//! expect: Sealed` is not satisfied

#[path = "../../../mdev_vendor_api.rs"]
pub mod mdev_vendor_api;
use kernel::{device, prelude::*, sync::aref::ARef};
use mdev_vendor_api::mdev;
mod common;

module! {
    type: CaseModule,
    name: "fail_own_parent_device",
    authors: ["The mdev-rs developers"],
    description: "compile-fail case",
    license: "GPL",
}

/// A reference on a device, which does not keep it registered.
struct Borrowed(ARef<device::Device>);

impl mdev::ParentDevice for Borrowed {
    fn device(&self) -> &device::Device {
        &self.0
    }
}

struct CaseModule {
    _parent: mdev::Parent<common::CaseDriver, Borrowed>,
}

impl kernel::Module for CaseModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let driver = mdev::DriverRegistration::new(module, 1)?;
        let class_dev = mdev::ClassDevice::new(c"mdev_cf")?;
        let dev = Borrowed(class_dev.as_ref().into());
        let parent = mdev::Parent::new(dev, &driver, common::types())?;
        Ok(Self { _parent: parent })
    }
}
