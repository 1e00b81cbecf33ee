// SPDX-License-Identifier: GPL-2.0

//! Dropping the class device while a parent is registered on it: the
//! parent owns the device, so it cannot be dropped by anyone else.
//!
//! expect: error[E0382]
//! expect: use of moved value: `class_dev`

#[path = "../../../mdev_vendor_api.rs"]
pub mod mdev_vendor_api;
use kernel::prelude::*;
use mdev_vendor_api::mdev;
mod common;

module! {
    type: CaseModule,
    name: "fail_device_dropped_before_parent",
    authors: ["The mdev-rs developers"],
    description: "compile-fail case",
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
        drop(class_dev);
        Ok(Self { _parent: parent })
    }
}
