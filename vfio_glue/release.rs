// SPDX-License-Identifier: GPL-2.0

//! Releasing VFIO devices, and unloading the vendor module after them.
//!
//! C header: [`mdev_rs_vfio.h`](../mdev_rs_vfio.h)
//!
//! VFIO releases a device when the last reference on its `struct device`
//! goes: it calls the device's `ops->release`, then frees the device. That
//! may be long after the vendor's remove op returned (always so with
//! `CONFIG_DEBUG_KOBJECT_RELEASE`, which delays every release by one to four
//! seconds), and VFIO holds no reference on the vendor module meanwhile. So
//! the vendor module must not go while one of its devices is unreleased,
//! nor while a release still runs its code:
//!
//! - Every device is counted in [`UNRELEASED`] from its allocation on; the
//!   last [`mdev::Parent`] of the module to be dropped waits until the count
//!   is zero ([`parent_unregistered`]), with a real wait, woken by the
//!   release that brings the count to zero.
//! - On the Rust core, the device's `release` is the core's trampoline
//!   `mdev_rs_vfio_release()`, in `mdev.ko`: it calls [`drop_state`] (in this
//!   module) through the hook that follows the `vfio_device`, and counts the
//!   device out only when that has returned. When the waiter sees zero, no
//!   code of this module runs for any device any more, whatever the
//!   preemption in between.
//! - The C core has no trampoline. There the release is
//!   [`release_in_module`], in this module, which must still return through
//!   its last instructions after counting the device out: a window of a few
//!   instructions that nothing outside the core can close
//!   (`Documentation/rust-vendor-driver.rst`, "Unloading").
//!
//! Every vendor crate compiles this API, so the counts are per module.
//!
//! [`mdev::Parent`]: super::mdev::Parent

use super::{bindings, Device, DeviceOps};
use core::{
    ffi::c_void,
    mem::{align_of, offset_of, MaybeUninit},
};
use kernel::{
    prelude::*,
    sync::atomic::{Acquire, Atomic, Full, Relaxed},
    time::msecs_to_jiffies,
};

/// The VFIO devices of this module whose release has not finished yet.
static UNRELEASED: Atomic<usize> = Atomic::new(0);

/// The mdev parents this module has registered.
static PARENTS: Atomic<usize> = Atomic::new(0);

/// The core's release trampoline: 0 before it was looked up, 1 if the
/// running core has none (the C core), else its address.
static TRAMPOLINE: Atomic<usize> = Atomic::new(0);

/// The name the Rust core exports its release trampoline under.
const TRAMPOLINE_NAME: &CStr = c"mdev_rs_vfio_release";

/// The type of `vfio_device_ops.release`, which the trampoline has.
type ReleaseFn = Option<unsafe extern "C" fn(*mut bindings::vfio_device)>;

/// The running core's release trampoline, if it has one.
fn trampoline() -> ReleaseFn {
    let mut addr = TRAMPOLINE.load(Relaxed);
    if addr == 0 {
        // `__symbol_get` takes a reference on the exporting module, which
        // `__symbol_put` drops at once: `mdev.ko` stays loaded anyway while
        // this module is, which links against its `mdev_register_parent()`.
        // SAFETY: The name is a NUL-terminated string; the put matches the get.
        addr = unsafe {
            let found = bindings::__symbol_get(TRAMPOLINE_NAME.as_char_ptr());
            if !found.is_null() {
                bindings::__symbol_put(TRAMPOLINE_NAME.as_char_ptr());
            }
            found as usize
        };
        addr = addr.max(1);
        TRAMPOLINE.store(addr, Relaxed);
    }
    if addr == 1 {
        return None;
    }
    // SAFETY: `addr` is the address of the exported function declared in
    // `mdev_rs_vfio.h`, `void mdev_rs_vfio_release(struct vfio_device *)`,
    // which is what a `ReleaseFn` points to; it is not null.
    unsafe { core::mem::transmute::<*mut c_void, ReleaseFn>(addr as *mut c_void) }
}

impl<T: DeviceOps> Device<T> {
    /// Checks at build time that the hook follows the `vfio_device` as the
    /// trampoline expects it to (`struct mdev_rs_vfio_device`), and that the
    /// allocation VFIO makes (`kvzalloc()`: at least `ARCH_KMALLOC_MINALIGN`
    /// aligned) is aligned enough for a `Device<T>`.
    const LAYOUT_AS_THE_CORE_AND_VFIO_MAKE_IT: () = {
        assert!(
            offset_of!(Device<T>, release) == offset_of!(bindings::mdev_rs_vfio_device, release)
        );
        assert!(align_of::<Device<T>>() <= kernel::bindings::ARCH_KMALLOC_MINALIGN);
    };
}

/// Sets up a new allocation's ops and release, and counts it in: from now
/// on, every release of it counts it out.
///
/// # Safety
///
/// `dev` must be a `Device<T>` just allocated by `_vfio_alloc_device` with
/// `Device::<T>::VTABLE`, used by nobody else yet.
pub(super) unsafe fn arm<T: DeviceOps>(dev: *mut Device<T>) {
    let () = Device::<T>::LAYOUT_AS_THE_CORE_AND_VFIO_MAKE_IT;
    let mut ops = Device::<T>::VTABLE;
    if let Some(release) = trampoline() {
        ops.release = Some(release);
    }
    UNRELEASED.add(1, Relaxed);
    // SAFETY: The caller guarantees that the allocation is ours; `ops` is
    // stored in it before `vdev.ops` points to it, and both live until VFIO
    // frees the allocation, after the release.
    unsafe {
        (&raw mut (*dev).ops).write(ops);
        (*dev).release = bindings::mdev_rs_release_hook {
            drop: Some(drop_state::<T>),
            unreleased: UNRELEASED.as_ptr().cast(),
        };
        (*(*dev).vdev.get()).ops = &raw const (*dev).ops;
    }
}

/// Drops the state of a device being released; the trampoline or
/// [`release_in_module`] counts the device out when this has returned.
///
/// # Safety
///
/// `vdev` must belong to a `Device<T>` whose last reference is being put.
unsafe extern "C" fn drop_state<T: DeviceOps>(vdev: *mut bindings::vfio_device) {
    let dev = vdev.cast::<Device<T>>();
    // SAFETY: Nobody else uses the device any more; by the type invariants
    // the state is initialized if `live` is set, and dropped only here.
    unsafe {
        if (*dev).live {
            core::ptr::drop_in_place(&raw mut (*dev).data);
            core::ptr::drop_in_place(&raw mut (*dev).irqs);
            core::ptr::drop_in_place(&raw mut (*dev).pins);
            core::ptr::drop_in_place(&raw mut (*dev).mig);
        }
    }
}

/// The release on a core without a trampoline (the C core): as the
/// trampoline, but in this module, see the module documentation.
///
/// # Safety
///
/// `vdev` must belong to a `Device<T>` whose last reference is being put.
pub(super) unsafe extern "C" fn release_in_module<T: DeviceOps>(vdev: *mut bindings::vfio_device) {
    // SAFETY: Guaranteed by the caller.
    unsafe { drop_state::<T>(vdev) };
    // Fully ordered: the waiter sees the state dropped, and this sees it
    // waiting (`wake_up_var` checks for waiters without a lock).
    if UNRELEASED.fetch_sub(1, Full) == 1 {
        // SAFETY: `wake_up_var` only hashes the address.
        unsafe { bindings::wake_up_var(UNRELEASED.as_ptr().cast()) };
    }
}

/// A parent of this module is registered (`mdev::Parent::new`).
pub(crate) fn parent_registered() {
    PARENTS.add(1, Relaxed);
}

/// A parent of this module is unregistered, with its devices removed
/// (`mdev::Parent`'s drop). When it was the last, no device of this module
/// is left or can be made, so this waits until VFIO has released them all:
/// the module may then be unloaded. With other parents still registered,
/// their own unregistration waits instead.
pub(crate) fn parent_unregistered() {
    if PARENTS.fetch_sub(1, Relaxed) == 1 {
        wait_all_released();
    }
}

/// How long the wait goes on before it says why the module does not go.
const PATIENCE_SECONDS: u32 = 5;

/// Sleeps until [`UNRELEASED`] is zero, as `wait_var_event()` does (a
/// macro, so spelled out here), waking every second so that a wait for a
/// device somebody never lets go says so in the log, once, and is not taken
/// for a hung task.
fn wait_all_released() {
    let var = UNRELEASED.as_ptr().cast::<c_void>();
    // SAFETY: `__var_waitqueue` only hashes the address.
    let wq = unsafe { bindings::__var_waitqueue(var) };
    let mut entry = MaybeUninit::<bindings::wait_bit_queue_entry>::zeroed();
    let entry = entry.as_mut_ptr();
    // SAFETY: `entry` is a local that stays in place until `finish_wait`
    // below has taken it off the queue.
    unsafe { bindings::init_wait_var_entry(entry, var, 0) };
    let mut seconds = 0;
    loop {
        // SAFETY: `wq` is the queue of `var`, `entry` is set up for it.
        unsafe {
            kernel::bindings::prepare_to_wait_event(
                wq.cast(),
                (&raw mut (*entry).wq_entry).cast(),
                kernel::bindings::TASK_UNINTERRUPTIBLE as c_int,
            )
        };
        let left = UNRELEASED.load(Acquire);
        if left == 0 {
            break;
        }
        // SAFETY: The task is queued and its state set, as `schedule_timeout`
        // requires.
        let slept = unsafe { kernel::bindings::schedule_timeout(msecs_to_jiffies(1000) as c_long) };
        if slept == 0 {
            seconds += 1;
            if seconds == PATIENCE_SECONDS {
                pr_warn!(
                    "unloading waits for {left} VFIO device(s) of this module that are not released: still open in userspace, or their vfio::Registration leaked\n"
                );
            }
        }
    }
    // SAFETY: As for `prepare_to_wait_event`.
    unsafe { kernel::bindings::finish_wait(wq.cast(), (&raw mut (*entry).wq_entry).cast()) };
}
