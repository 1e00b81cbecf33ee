// SPDX-License-Identifier: GPL-2.0

//! A parent registered on a device it only borrows: the vendor could then
//! drop the class device, unregistering it, while the parent still had
//! mediated devices on it. `Parent::new` takes the device's owner instead.
//!
//! expect: error[E0277]
//! expect: ParentDevice` is not satisfied

#[path = "../../../mdev_vendor_api.rs"]
pub mod mdev_vendor_api;
use kernel::prelude::*;
use mdev_vendor_api::mdev;
mod common;

module! {
    type: CaseModule,
    name: "fail_parent_on_borrowed_device",
    authors: ["The mdev-rs developers"],
    description: "compile-fail case",
    license: "GPL",
}

struct CaseModule {
    _parent: mdev::Parent<common::CaseDriver>,
    _class_dev: mdev::ClassDevice,
}

impl kernel::Module for CaseModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let driver = mdev::DriverRegistration::new(module, 1)?;
        let class_dev = mdev::ClassDevice::new(c"mdev_cf")?;
        let parent = mdev::Parent::new(class_dev.as_ref(), &driver, common::types())?;
        Ok(Self {
            _parent: parent,
            _class_dev: class_dev,
        })
    }
}
