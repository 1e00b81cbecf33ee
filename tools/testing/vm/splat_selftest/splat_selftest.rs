// SPDX-License-Identifier: GPL-2.0

//! A module that makes the kernel warn on purpose when loaded.
//!
//! Used only by the negative test of the test runner: the guest's splat
//! detector must turn this warning into a failing test point.

use kernel::prelude::*;

module! {
    type: SplatSelftest,
    name: "splat_selftest",
    authors: ["The mdev-rs developers"],
    description: "Deliberately triggers a kernel WARNING to test the splat detector",
    license: "GPL",
}

/// The loaded module; it has no state.
struct SplatSelftest;

impl kernel::Module for SplatSelftest {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        pr_info!("warning on purpose to test the splat detector\n");
        kernel::warn_on!(true);
        Ok(SplatSelftest)
    }
}
