// SPDX-License-Identifier: GPL-2.0

//! The control case: the right way builds. The parent owns its class device
//! and a share of the driver's registration, so the vendor may drop the
//! registration first.
//!
//! expect: builds

#[path = "../../../mdev_vendor_api.rs"]
pub mod mdev_vendor_api;
use kernel::prelude::*;
use mdev_vendor_api::mdev;
mod common;

module! {
    type: CaseModule,
    name: "ok_parent_owns_its_device",
    authors: ["The mdev-rs developers"],
    description: "compile-fail control case",
    license: "GPL",
}

struct CaseModule {
    _parent: mdev::Parent<common::CaseDriver>,
}

impl kernel::Module for CaseModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let driver = mdev::DriverRegistration::new(module, 1)?;
        let class_dev = mdev::ClassDevice::new(c"mdev_cf")?;
        let parent = mdev::Parent::new(class_dev, &driver, common::types())?;
        drop(driver);
        Ok(Self { _parent: parent })
    }
}
