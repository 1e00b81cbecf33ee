// SPDX-License-Identifier: GPL-2.0

//! Vendor modules that go with parents or drivers still registered.
//!
//! A vendor's parents and drivers point into its module: their callbacks,
//! type names and the `mdev_parent`, `mdev_type` and `mdev_driver` structs
//! themselves. A vendor that unloads without unregistering them (a C
//! vendor's bug, or a Rust vendor that leaked its `Parent` or
//! `DriverRegistration` with `mem::forget`, which safe Rust allows) would
//! leave the core and the driver core reading freed memory at the next
//! create, sysfs read or bus walk.
//!
//! So the core watches modules go. Once a module's exit has run
//! (`MODULE_STATE_GOING`) and before its memory is freed, the module
//! notifier waits while a parent or driver of that module is registered,
//! and says so in the log, once. Nothing of the module is freed meanwhile.
//! A parent belongs to the module of its driver (`driver.owner`).

use crate::{mdev_driver, mdev_parent::Parent, StaticC};
use core::ptr::null_mut;
use kernel::{bindings, error::to_result, prelude::*, types::Opaque};

/// A registered parent and the module its driver belongs to, by address.
struct Registered {
    parent: usize,
    module: usize,
}

kernel::sync::global_lock! {
    // SAFETY: `Watch::new()` runs in the module initialiser before any use.
    unsafe(uninit) static PARENTS: Mutex<KVec<Registered>> = KVec::new();
}

/// The module of `parent`'s driver, by address (0 for none).
fn owner(parent: &Parent) -> usize {
    // SAFETY: The driver of a parent being registered or registered is valid;
    // this reads one field the vendor set before registering it.
    unsafe { (*parent.driver().device_driver()).owner as usize }
}

/// Notes that `parent` is being registered; [`parent_gone`] takes it back,
/// on unregistration or on a failed registration.
pub(crate) fn parent_registering(parent: &Parent) -> Result {
    let entry = Registered {
        parent: parent.as_raw() as usize,
        module: owner(parent),
    };
    PARENTS.lock().push(entry, GFP_KERNEL)?;
    Ok(())
}

/// Forgets `parent`: it is unregistered, or its registration failed.
pub(crate) fn parent_gone(parent: &Parent) {
    let mut parents = PARENTS.lock();
    let addr = parent.as_raw() as usize;
    if let Some(i) = parents.iter().position(|p| p.parent == addr) {
        // In range: `position` found it.
        let _ = parents.remove(i);
    }
}

/// Counts `drv` in the [`DriverCount`] at `data` if it belongs to its module.
///
/// # Safety
///
/// `drv` is a driver on the `mdev` bus; `data` points to a [`DriverCount`].
unsafe extern "C" fn count_driver(drv: *mut bindings::device_driver, data: *mut c_void) -> c_int {
    // SAFETY: Guaranteed by the caller (`bus_for_each_drv`, `count_drivers`).
    unsafe {
        let count = &mut *data.cast::<DriverCount>();
        if (*drv).owner as usize == count.module {
            count.drivers += 1;
        }
    }
    0
}

/// What [`count_driver`] counts.
struct DriverCount {
    module: usize,
    drivers: usize,
}

/// The drivers of `module` registered on the `mdev` bus.
fn count_drivers(module: usize) -> usize {
    let mut count = DriverCount { module, drivers: 0 };
    // SAFETY: The bus is registered while this module is loaded; the walk
    // holds a reference on each driver while `count_driver` looks at it.
    unsafe {
        bindings::bus_for_each_drv(
            mdev_driver::bus(),
            null_mut(),
            (&raw mut count).cast(),
            Some(count_driver),
        )
    };
    count.drivers
}

/// The module notifier: for a module that is going, waits while it has
/// parents or drivers registered.
///
/// # Safety
///
/// Called by the module notifier chain, with `data` the `struct module` whose
/// state changes to `action`.
unsafe extern "C" fn module_state_changed(
    _nb: *mut bindings::notifier_block,
    action: c_ulong,
    data: *mut c_void,
) -> c_int {
    if action != bindings::module_state_MODULE_STATE_GOING as c_ulong {
        return bindings::NOTIFY_DONE as c_int;
    }
    let module = data as usize;
    let mut said = false;
    loop {
        let parents = PARENTS.lock().iter().filter(|p| p.module == module).count();
        let drivers = count_drivers(module);
        if parents == 0 && drivers == 0 {
            break;
        }
        if !said {
            // SAFETY: A going module's memory stays until its notifiers have
            // returned; its name is a NUL-terminated array.
            let name =
                unsafe { CStr::from_char_ptr((*data.cast::<bindings::module>()).name.as_ptr()) };
            pr_err!(
                "module {name} is unloading with {parents} parent(s) and {drivers} driver(s) still registered (a leaked mdev::Parent or DriverRegistration?): they point into its memory, so it is not freed; waiting for good\n"
            );
            said = true;
        }
        // Wakes every second: a wait that may last for good is not a hung
        // task.
        // SAFETY: Called from process context, which may sleep.
        unsafe { bindings::msleep(1000) };
    }
    bindings::NOTIFY_DONE as c_int
}

/// The notifier block, which the notifier chain links in.
static NOTIFIER: StaticC<Opaque<bindings::notifier_block>> =
    StaticC(Opaque::new(bindings::notifier_block {
        notifier_call: Some(module_state_changed),
        next: null_mut(),
        priority: 0,
    }));

/// The core's watch over vendor modules going, from load to unload.
///
/// # Invariants
///
/// [`NOTIFIER`] is registered until `drop`.
pub(crate) struct Watch(());

impl Watch {
    /// Starts watching.
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: Called once, from the module initialiser, before any use.
        unsafe { PARENTS.init() };
        // SAFETY: The block is static; the chain links it in until `drop`.
        to_result(unsafe { bindings::register_module_notifier(NOTIFIER.0.get()) })?;
        // INVARIANT: registered just above.
        Ok(Self(()))
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        // SAFETY: Registered by `new` (type invariant).
        unsafe { bindings::unregister_module_notifier(NOTIFIER.0.get()) };
        // A static is never dropped: free the list's memory (no parent is
        // registered once the core can be unloaded).
        drop(core::mem::take(&mut *PARENTS.lock()));
    }
}
