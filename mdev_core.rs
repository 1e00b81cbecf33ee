// SPDX-License-Identifier: GPL-2.0

//! VFIO mediated-device (mdev) core.
//!
//! C header: [`include/linux/mdev.h`](srctree/include/linux/mdev.h)
//!
//! The crate root of `mdev.ko`, a drop-in replacement for the C core of
//! `drivers/vfio/mdev`: same sysfs ABI, same exported C functions and
//! structure layouts. This file holds the module, the creation and removal
//! of devices and the registration of parents; see `Documentation/` for the
//! design and its locking rules.
//!
//! # Locking
//!
//! - [`mdev_list::MDEV_LIST`], one global mutex, protects the list of every
//!   device, its UUID index and each device's state. It is never held while
//!   the core calls out: not across device registration, the vendor's ops,
//!   sysfs work or dropping a device reference (the release takes it).
//! - Each parent's `unreg_sem` is held for reading by a running create or
//!   remove (trylock: `ENODEV` until registration is complete and once
//!   unregistration started) and for writing by registration and
//!   unregistration.
//! - Nothing serialises the creates and removes of one parent.

use kernel::{
    bindings,
    debugfs,
    error::to_result,
    prelude::*,
    sync::{
        aref::ARef,
        atomic::{Acquire, Atomic, Release},
    }, //
};

mod mdev_device;
mod mdev_driver;
mod mdev_list;
mod mdev_parent;
mod mdev_sysfs;
mod mdev_uuid;
#[path = "mdev_core/vendor_unload.rs"]
mod vendor_unload;

use mdev_device::MdevDevice;
use mdev_parent::{Parent, Type};
use mdev_uuid::Uuid;

/// Rust view of the C types of `include/linux/mdev.h`, generated at build time.
#[allow(
    dead_code,
    missing_docs,
    non_camel_case_types,
    non_upper_case_globals,
    non_snake_case,
    unreachable_pub,
    clippy::undocumented_unsafe_blocks
)]
mod mdev_h {
    include!("mdev_bindings_generated.rs");
}

module! {
    type: MdevCore,
    name: "mdev",
    authors: ["The mdev-rs developers"],
    description: "VFIO mediated device core (Rust)",
    license: "GPL",
}

/// A C object that is only read after its static initialisation.
#[repr(transparent)]
pub(crate) struct StaticC<T>(pub(crate) T);

// SAFETY: The wrapped C objects (the bus type, attributes, attribute groups,
// kobject types) are set up at compile time and only ever read, from any
// thread; the raw pointers inside them point to other such statics.
unsafe impl<T> Sync for StaticC<T> {}

/// A C string for a static C table, which needs a `const` pointer.
#[expect(clippy::disallowed_methods, reason = "as_char_ptr() is not const")]
pub(crate) const fn c_name(name: &'static CStr) -> *const c_char {
    name.as_ptr().cast()
}

/// The `mdev_bus` compatibility class: `/sys/class/mdev_bus/<parent>`.
static COMPAT_CLASS: Atomic<*mut bindings::class_compat> = Atomic::new(core::ptr::null_mut());

/// The registered compatibility class; dropping it unregisters it.
///
/// # Invariants
///
/// [`COMPAT_CLASS`] holds a registered class while this object exists.
struct CompatClass(());

impl CompatClass {
    fn new() -> Result<Self> {
        // SAFETY: The name is a static string.
        let class = unsafe { bindings::class_compat_register(c"mdev_bus".as_char_ptr()) };
        if class.is_null() {
            return Err(ENOMEM);
        }
        COMPAT_CLASS.store(class, Release);
        // INVARIANT: The class was just registered and published.
        Ok(Self(()))
    }

    /// The registered class; parents can only register while it exists,
    /// because vendor modules depend on this one.
    fn get() -> *mut bindings::class_compat {
        COMPAT_CLASS.load(Acquire)
    }
}

impl Drop for CompatClass {
    fn drop(&mut self) {
        let class = COMPAT_CLASS.load(Acquire);
        COMPAT_CLASS.store(core::ptr::null_mut(), Release);
        // SAFETY: Registered by `new` (type invariant).
        unsafe { bindings::class_compat_unregister(class) };
    }
}

/// The loaded core. Fields drop in declaration order: debugfs first, the
/// bus, then the watch over vendor modules, last.
struct MdevCore {
    _devices_file: Pin<KBox<debugfs::File<()>>>,
    #[cfg(mdev_lock_hold)]
    _lock_hold_file: Pin<KBox<debugfs::File<()>>>,
    _debugfs_dir: debugfs::Dir,
    _compat_class: CompatClass,
    _bus: mdev_driver::BusRegistration,
    _vendor_unload: vendor_unload::Watch,
}

impl kernel::Module for MdevCore {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        // SAFETY: Called once, before anything can use the list.
        unsafe { mdev_list::init_global() };
        let vendor_unload = vendor_unload::Watch::new()?;
        let bus = mdev_driver::BusRegistration::new()?;
        let compat_class = CompatClass::new()?;
        let dir = debugfs::Dir::new(c"mdev");
        let devices_file = KBox::pin_init(
            dir.read_callback_file(c"devices", (), &write_devices),
            GFP_KERNEL,
        )?;
        #[cfg(mdev_lock_hold)]
        let lock_hold_file = KBox::pin_init(
            dir.read_callback_file(c"lock_hold", (), &write_lock_hold),
            GFP_KERNEL,
        )?;
        pr_info!("mdev core (Rust) loaded\n");
        Ok(Self {
            _devices_file: devices_file,
            #[cfg(mdev_lock_hold)]
            _lock_hold_file: lock_hold_file,
            _debugfs_dir: dir,
            _compat_class: compat_class,
            _bus: bus,
            _vendor_unload: vendor_unload,
        })
    }
}

impl Drop for MdevCore {
    fn drop(&mut self) {
        let left = mdev_list::MDEV_LIST.lock().len();
        if left != 0 {
            pr_err!("unloading with {left} mediated devices still listed\n");
        }
        pr_info!("mdev core (Rust) unloaded\n");
    }
}

/// Writes `/sys/kernel/debug/mdev/devices`: one line per device, in
/// creation order: UUID, parent device, type directory and state.
///
/// It formats a copy of the list ([`mdev_list::snapshot`]) with no lock
/// held: seq_file runs this again with a larger buffer whenever the text
/// did not fit, and creates and removes must not wait for the formatting.
/// The output is empty if the copy cannot be allocated.
fn write_devices(_: &(), f: &mut kernel::fmt::Formatter<'_>) -> kernel::fmt::Result {
    let Ok(devices) = mdev_list::snapshot() else {
        return Err(kernel::fmt::Error);
    };
    for listed in devices.iter() {
        match &listed.mtype {
            // The type reference keeps the type, its parent and the parent's
            // device, so their names, even if the device is gone by now.
            Some(mtype) => writeln!(
                f,
                "{} {} {} {}",
                listed.uuid,
                mtype.get().parent().dev().name().to_str().unwrap_or("?"),
                mtype.get().dir_name().to_str().unwrap_or("?"),
                listed.state.name()
            )?,
            // A device being removed: only its UUID, as ever.
            None => writeln!(f, "{} - - {}", listed.uuid, listed.state.name())?,
        }
    }
    // `devices` is dropped on return, without the mutex: that puts the type
    // references, which may run a type's release.
    Ok(())
}

/// Writes `/sys/kernel/debug/mdev/lock_hold` (benchmark builds only): how
/// long each critical section held the global mutex.
#[cfg(mdev_lock_hold)]
fn write_lock_hold(_: &(), f: &mut kernel::fmt::Formatter<'_>) -> kernel::fmt::Result {
    mdev_list::lock(mdev_list::Section::Debugfs).write_hold_totals(f)
}

/// Creates a device of `mtype` named `uuid`: the work behind `create`.
///
/// The UUID is reserved first, under the global mutex; registration, the
/// vendor's probe and the sysfs links then run without it. The device
/// becomes active (removable) only once all of that succeeded; any failure
/// releases it, which frees its UUID and instance.
pub(crate) fn create_device(mtype: &Type, uuid: Uuid) -> Result {
    let parent = mtype.parent();
    let driver = parent.driver();
    // A duplicate UUID (`EEXIST`) and a parent without instances (`EUSERS`)
    // are found before an unregistering parent (`ENODEV`), as in the C core.
    let reserved = mdev_list::reserve(MdevDevice::new(mtype, uuid)?)?;
    // SAFETY: `reserve` leaked the box into the global list, and the device's
    // release takes it out again.
    let mdev = unsafe { MdevDevice::initialize(reserved) };
    // Every early return below drops `mdev`, the only reference, which
    // releases the device. Failures are logged at the debug level only, as
    // the C core does: anyone allowed to write `create` can cause them.
    //
    // The trylock fails while the parent's registration is not complete, and
    // once its unregistration has started.
    let Some(_unreg) = parent.try_read_unreg() else {
        return Err(ENODEV);
    };
    mdev.set_name()?;
    // SAFETY: The device is initialised, named and has its bus and parent.
    if let Err(err) = to_result(unsafe { bindings::device_add(mdev.raw_dev()) }) {
        dev_dbg!(parent.dev(), "MDEV: adding {} failed: {:?}\n", uuid, err);
        return Err(err);
    }
    // SAFETY: The device is added; the driver is the parent's registered one.
    let attached = to_result(unsafe {
        bindings::device_driver_attach(driver.device_driver(), mdev.raw_dev())
    })
    .and_then(|()| mdev_sysfs::add_links(&mdev));
    if let Err(err) = attached {
        dev_dbg!(parent.dev(), "MDEV: creating {} failed: {:?}\n", uuid, err);
        // SAFETY: Undoing `device_add`; this unbinds the vendor driver.
        unsafe { bindings::device_del(mdev.raw_dev()) };
        return Err(err);
    }
    // The initial reference belongs to the registered device from now on,
    // and `remove_registered` drops it: it is given up before the device can
    // be removed, and this function keeps a reference of its own while it
    // activates the device.
    let this = mdev.clone();
    let _ = ARef::into_raw(mdev);
    mdev_list::activate(&this);
    Ok(())
}

/// Removes an active device: the work behind `remove`.
///
/// `delete_file` deletes the `remove` file being written. It runs only once
/// this caller has claimed the removal (one lock round for the state check
/// and the claim), so that a device that is not active yet, or already being
/// removed, keeps its file and answers `EAGAIN`.
///
/// `delete_file` (`device_remove_file_self()`) answers false only to the
/// loser of two self-removals of the same file at once (kernfs arbitrates
/// them with `KERNFS_SUICIDAL`), and only the one winner of `begin_remove`
/// ever calls it for a device: it always answers true here. A parent's
/// unregistration deleting the file first (`device_del()`) does not make it
/// answer false; that case fails `try_read_unreg` below.
pub(crate) fn remove_device(mdev: &ARef<MdevDevice>, delete_file: impl FnOnce() -> bool) -> Result {
    mdev_list::begin_remove(mdev)?;
    let _always_deleted = delete_file();
    // SAFETY: The parent's memory is valid, though its unregistration may
    // have begun: `mdev` holds the device, the device holds its type, and
    // `mdev_unregister_parent()` returns only after every type's release.
    let parent = unsafe { Parent::from_raw(mdev.parent().as_raw()) };
    let Some(_unreg) = parent.try_read_unreg() else {
        // Unregistration has started and will remove the device.
        return Err(ENODEV);
    };
    // SAFETY: The device is registered and this caller won `begin_remove`.
    unsafe { remove_registered(mdev) };
    Ok(())
}

/// Deletes a registered device and drops the reference its registration
/// held. The caller keeps its own reference, so the memory outlives this.
///
/// # Safety
///
/// `mdev` must be registered by [`create_device`] and be removed only by this
/// caller: it won [`mdev_list::begin_remove`] or holds the parent's
/// `unreg_sem` for writing.
unsafe fn remove_registered(mdev: &ARef<MdevDevice>) {
    mdev_sysfs::remove_links(mdev);
    // SAFETY: The device is registered (caller); `device_del` unbinds the
    // vendor driver, running its remove op without any core lock held.
    unsafe { bindings::device_del(mdev.raw_dev()) };
    // SAFETY: Drops the reference `create_device` gave to the registration.
    unsafe { bindings::put_device(mdev.raw_dev()) };
}

extern "C" {
    /// Sleeps for the `unregister_delay_ms` fault hook of test builds
    /// (`mdev_glue.c`); does nothing in the modules users install.
    fn mdev_rs_fault_unregister_delay();
}

/// Removes one child of an unregistering parent.
///
/// # Safety
///
/// Called by `device_for_each_child` on the parent device, with the parent's
/// `unreg_sem` held for writing.
unsafe extern "C" fn remove_child(dev: *mut bindings::device, _data: *mut c_void) -> c_int {
    // SAFETY: `device_for_each_child` passes a live child.
    if !unsafe { mdev_driver::is_mdev(dev) } {
        return 0;
    }
    // SAFETY: Devices on the mdev bus are `MdevDevice`s; the iteration holds
    // a reference, and the one taken here lasts until the end.
    let mdev: ARef<MdevDevice> = ARef::from(unsafe { MdevDevice::from_dev(dev) });
    mdev_list::mark_removing(&mdev);
    // SAFETY: A C function without arguments or preconditions.
    unsafe { mdev_rs_fault_unregister_delay() };
    // SAFETY: Every child on the mdev bus is registered (creates finished:
    // they hold `unreg_sem`), and the write lock excludes other removers.
    unsafe { remove_registered(&mdev) };
    0
}

/// Sends a `KOBJ_CHANGE` uevent with one `MDEV_STATE=` variable.
fn parent_uevent(dev: *mut bindings::device, state: &'static CStr) {
    let mut envp = [state.as_char_ptr().cast_mut(), core::ptr::null_mut()];
    // SAFETY: `dev` is the vendor's registered parent device; `envp` is a
    // NULL-terminated array of static strings, which the kernel only reads.
    unsafe {
        bindings::kobject_uevent_env(
            &raw mut (*dev).kobj,
            bindings::kobject_action_KOBJ_CHANGE,
            envp.as_mut_ptr(),
        )
    };
}

/// `mdev_register_parent()`: makes `dev` a parent of mediated devices.
///
/// # Safety
///
/// The arguments must satisfy the contract of `mdev_register_parent()` in
/// `include/linux/mdev.h`: `parent` is vendor memory that stays valid and is
/// not touched by the vendor until `mdev_unregister_parent()`; the caller
/// holds a reference on `dev` until then; `mdev_driver` is registered; and
/// `types` has `nr_types` types that stay valid as long as `parent`.
#[no_mangle]
unsafe extern "C" fn mdev_rs_register_parent(
    parent: *mut mdev_h::mdev_parent,
    dev: *mut bindings::device,
    mdev_driver: *mut mdev_h::mdev_driver,
    types: *mut *mut mdev_h::mdev_type,
    nr_types: c_uint,
) -> c_int {
    if parent.is_null()
        || dev.is_null()
        || mdev_driver.is_null()
        || (types.is_null() && nr_types != 0)
    {
        pr_err!("mdev_register_parent: missing parent, device, driver or types\n");
        return EINVAL.to_errno();
    }
    let type_ptrs = if nr_types == 0 {
        &[][..]
    } else {
        // SAFETY: `types` has `nr_types` entries (caller).
        unsafe { core::slice::from_raw_parts(types, nr_types as usize) }
    };
    let unnamed = |&t: &*mut mdev_h::mdev_type| {
        // SAFETY: A non-NULL entry points to a vendor type (caller).
        t.is_null() || unsafe { (*t).sysfs_name.is_null() }
    };
    if type_ptrs.iter().any(unnamed) {
        pr_err!("mdev_register_parent: a type is missing or has no sysfs_name\n");
        return EINVAL.to_errno();
    }
    // SAFETY: `parent` is the vendor's to hand over (caller); resetting it is
    // what the C core does too.
    unsafe {
        core::ptr::write_bytes(parent, 0, 1);
        bindings::__init_rwsem(
            &raw mut (*parent).unreg_sem,
            c"&parent->unreg_sem".as_char_ptr(),
            kernel::static_lock_class!().as_ptr(),
        );
        (*parent).dev = dev;
        (*parent).mdev_driver = mdev_driver;
        (*parent).types = types;
        (*parent).nr_types = nr_types;
    }
    // SAFETY: The parent is now set up; it stays registered until the
    // vendor calls `mdev_unregister_parent()`.
    let parent = unsafe { Parent::from_raw(parent) };
    parent.instances().set(parent.driver().max_instances());
    if let Err(err) = mdev_sysfs::check_type_names(parent) {
        return err.to_errno();
    }
    if let Err(err) = vendor_unload::parent_registering(parent) {
        return err.to_errno();
    }

    // The parent is closed to creates until its registration is complete:
    // a create that finds a type's `create` file before then fails the
    // trylock of `unreg_sem` with `ENODEV`. So a registration that fails
    // half-way has no device on the types it has already added, and its
    // failure path only undoes what nobody else can reach.
    let closed = parent.write_unreg();
    if let Err(err) = mdev_sysfs::add_parent(&closed) {
        drop(closed);
        dev_err!(parent.dev(), "MDEV: registering types failed: {:?}\n", err);
        vendor_unload::parent_gone(parent);
        return err.to_errno();
    }
    // SAFETY: The class is registered while vendors can call us; `dev` is valid.
    if unsafe { bindings::class_compat_create_link(CompatClass::get(), dev) } != 0 {
        dev_warn!(parent.dev(), "Failed to create compatibility class link\n");
    }
    drop(closed);
    dev_info!(parent.dev(), "MDEV: Registered\n");
    parent_uevent(dev, c"MDEV_STATE=registered");
    0
}

/// `mdev_unregister_parent()`: removes every device of `parent`, then its
/// types.
///
/// # Safety
///
/// `parent` must have been registered by `mdev_register_parent()` and not
/// unregistered since.
#[no_mangle]
unsafe extern "C" fn mdev_rs_unregister_parent(parent: *mut mdev_h::mdev_parent) {
    // SAFETY: The caller passes a registered parent, which stays valid for
    // this whole call.
    let parent = unsafe { Parent::from_raw(parent) };
    let dev = parent.raw_dev();
    dev_info!(parent.dev(), "MDEV: Unregistering\n");
    {
        let _unreg = parent.write_unreg();
        // SAFETY: The class is registered while vendors can call us.
        unsafe { bindings::class_compat_remove_link(CompatClass::get(), dev) };
        // SAFETY: `remove_child` only acts on mdev children; the write lock
        // is held as it requires.
        unsafe { bindings::device_for_each_child(dev, core::ptr::null_mut(), Some(remove_child)) };
        mdev_sysfs::remove_parent(parent);
    }
    parent_uevent(dev, c"MDEV_STATE=unregistered");
    vendor_unload::parent_gone(parent);
}
