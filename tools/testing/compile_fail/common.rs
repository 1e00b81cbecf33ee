// SPDX-License-Identifier: GPL-2.0

//! What every compile-fail case shares: a driver whose devices hold nothing,
//! and one type to offer.

use super::mdev_vendor_api::mdev;
use kernel::prelude::*;

/// A driver whose devices hold nothing.
pub(crate) struct CaseDriver;

#[vtable]
impl mdev::Driver for CaseDriver {
    const NAME: &'static CStr = c"mdev_cf";
    const DEVICE_API: &'static CStr = c"vfio-pci";
    type TypeData = ();
    type DeviceData = ();

    fn probe(_mdev: &mdev::Device, _mtype: &mdev::Type<()>) -> Result<()> {
        Ok(())
    }
}

/// The one type a case's parent offers.
pub(crate) fn types() -> [mdev::TypeSpec<()>; 1] {
    [mdev::TypeSpec {
        sysfs_name: c"1",
        pretty_name: c"compile-fail case",
        data: (),
    }]
}
