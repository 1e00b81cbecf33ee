// SPDX-License-Identifier: GPL-2.0

//! The sysfs ABI of Documentation/ABI/testing/sysfs-bus-vfio-mdev.
//!
//! - `<parent>/mdev_supported_types/<driver>-<type>/` per type, with
//!   `create` (0200), `name`, `device_api`, `available_instances` and, when
//!   the vendor describes its types, `description` (0444), and `devices/`
//!   holding a link to each device of the type;
//! - `/sys/bus/mdev/devices/<uuid>/remove` (0200) and the `mdev_type` link.
//!
//! The tables are plain C objects built at compile time, like a C driver's.

use crate::{
    c_name,
    mdev_device::MdevDevice,
    mdev_parent::{Parent, Type, UnregWriteGuard},
    mdev_uuid::Uuid,
    StaticC, //
};
use core::ptr::{addr_of, null, null_mut};
use kernel::{
    bindings,
    error::{
        from_result,
        to_result, //
    },
    prelude::*,
    sync::aref::ARef, //
};

/// An attribute file named `name` with permissions `mode`.
#[allow(
    clippy::needless_update,
    reason = "the lockdep fields exist only in kernels with lockdep"
)]
const fn attribute(name: &'static CStr, mode: u16) -> bindings::attribute {
    bindings::attribute {
        name: c_name(name),
        mode,
        // SAFETY: All-zero is valid for the remaining (lockdep) fields; static
        // attributes need no `sysfs_attr_init()`.
        ..unsafe { core::mem::zeroed() }
    }
}

static CREATE: StaticC<bindings::attribute> = StaticC(attribute(c"create", 0o200));
static DEVICE_API: StaticC<bindings::attribute> = StaticC(attribute(c"device_api", 0o444));
static NAME: StaticC<bindings::attribute> = StaticC(attribute(c"name", 0o444));
static AVAILABLE_INSTANCES: StaticC<bindings::attribute> =
    StaticC(attribute(c"available_instances", 0o444));
static DESCRIPTION: StaticC<bindings::attribute> = StaticC(attribute(c"description", 0o444));

/// The files of a type directory, NULL-terminated.
static TYPE_ATTRS: StaticC<[*const bindings::attribute; 6]> = StaticC([
    addr_of!(CREATE.0),
    addr_of!(DEVICE_API.0),
    addr_of!(NAME.0),
    addr_of!(AVAILABLE_INSTANCES.0),
    addr_of!(DESCRIPTION.0),
    null(),
]);

static TYPE_GROUP: StaticC<bindings::attribute_group> = StaticC(bindings::attribute_group {
    __bindgen_anon_1: bindings::attribute_group__bindgen_ty_1 {
        is_visible: Some(type_attr_is_visible),
    },
    __bindgen_anon_2: bindings::attribute_group__bindgen_ty_2 {
        attrs_const: addr_of!(TYPE_ATTRS.0).cast::<*const bindings::attribute>(),
    },
    // SAFETY: All-zero is valid for the remaining fields.
    ..unsafe { core::mem::zeroed() }
});

static TYPE_GROUPS: StaticC<[*const bindings::attribute_group; 2]> =
    StaticC([addr_of!(TYPE_GROUP.0), null()]);

static TYPE_SYSFS_OPS: StaticC<bindings::sysfs_ops> = StaticC(bindings::sysfs_ops {
    show: Some(type_attr_show),
    store: Some(type_attr_store),
});

/// The kobject type of `struct mdev_type`'s directory.
static TYPE_KTYPE: StaticC<bindings::kobj_type> = StaticC(bindings::kobj_type {
    release: Some(type_release),
    sysfs_ops: addr_of!(TYPE_SYSFS_OPS.0),
    default_groups: addr_of!(TYPE_GROUPS.0).cast_mut().cast(),
    // SAFETY: All-zero is valid for the remaining fields.
    ..unsafe { core::mem::zeroed() }
});

/// Hides `description` when the vendor cannot describe its types.
///
/// # Safety
///
/// Called by sysfs for a type directory's attribute.
unsafe extern "C" fn type_attr_is_visible(
    kobj: *mut bindings::kobject,
    attr: *mut bindings::attribute,
    _n: c_int,
) -> bindings::umode_t {
    // SAFETY: Only type directories use this group, while their parent is
    // registered.
    let mtype = unsafe { Type::from_kobj(kobj) };
    if core::ptr::eq(attr, &DESCRIPTION.0) && !mtype.parent().driver().has_show_description() {
        return 0;
    }
    // SAFETY: sysfs passes one of our valid attributes.
    unsafe { (*attr).mode }
}

/// Formats into a sysfs show buffer, as `sysfs_emit()` does in C.
///
/// # Safety
///
/// `buf` must be a sysfs show buffer.
unsafe fn emit(buf: *mut c_char, args: core::fmt::Arguments<'_>) -> isize {
    // SAFETY: `buf` is a sysfs page (caller); `%pA` formats one
    // `fmt::Arguments`, which lives across the call.
    let written = unsafe {
        bindings::sysfs_emit(
            buf,
            c"%pA".as_char_ptr(),
            core::ptr::from_ref(&args).cast::<c_void>(),
        )
    };
    written as isize
}

/// Reads a type attribute.
///
/// # Safety
///
/// Called by sysfs with a type directory's kobject, one of its attributes
/// and a show buffer; the kobject is alive and its parent registered while
/// its files exist.
unsafe extern "C" fn type_attr_show(
    kobj: *mut bindings::kobject,
    attr: *mut bindings::attribute,
    buf: *mut c_char,
) -> isize {
    // SAFETY: See the function's safety section.
    let mtype = unsafe { Type::from_kobj(kobj) };
    let driver = mtype.parent().driver();
    let attr = attr.cast_const();
    // SAFETY: `buf` is a show buffer, as `emit` and `show_description` need.
    unsafe {
        if core::ptr::eq(attr, &DEVICE_API.0) {
            let api = driver.device_api().unwrap_or(c"");
            emit(buf, fmt!("{}\n", api.to_str().unwrap_or("")))
        } else if core::ptr::eq(attr, &NAME.0) {
            emit(
                buf,
                fmt!("{}\n", mtype.pretty_name().to_str().unwrap_or("")),
            )
        } else if core::ptr::eq(attr, &AVAILABLE_INSTANCES.0) {
            emit(buf, fmt!("{}\n", driver.available_instances(mtype)))
        } else if core::ptr::eq(attr, &DESCRIPTION.0) {
            driver.show_description(mtype, buf)
        } else {
            EIO.to_errno() as isize
        }
    }
}

/// Writes a type attribute: only `create` is writable.
///
/// # Safety
///
/// As for [`type_attr_show`], with `buf` holding `count` bytes.
unsafe extern "C" fn type_attr_store(
    kobj: *mut bindings::kobject,
    attr: *mut bindings::attribute,
    buf: *const c_char,
    count: usize,
) -> isize {
    if !core::ptr::eq(attr.cast_const(), &CREATE.0) {
        return EIO.to_errno() as isize;
    }
    // SAFETY: See the function's safety section.
    let mtype = unsafe { Type::from_kobj(kobj) };
    // SAFETY: sysfs passes `count` readable bytes.
    let input = unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), count) };
    from_result(|| {
        let uuid = Uuid::parse_create(input)?;
        crate::create_device(mtype, uuid)?;
        Ok(count as isize)
    })
}

#[allow(
    improper_ctypes,
    reason = "the type is only passed by pointer; an empty struct inside its kobject trips the lint"
)]
extern "C" {
    /// Clears the type's `parent` and wakes [`mdev_rs_wait_type_released`]
    /// (C glue: the wake-up is a macro).
    fn mdev_rs_type_released(mtype: *mut crate::mdev_h::mdev_type);
    /// Sleeps until `mdev_rs_type_released` has run for the type.
    fn mdev_rs_wait_type_released(mtype: *mut crate::mdev_h::mdev_type);
}

/// Drops the parent device reference a type takes in [`add_parent`], then
/// tells [`wait_released`] that the vendor may free the type.
///
/// # Safety
///
/// Called by the kobject core when the last reference on a type goes.
unsafe extern "C" fn type_release(kobj: *mut bindings::kobject) {
    // The vendor keeps the type, its `parent` and the parent's `dev` until
    // `wait_released` has seen this release, the last access to the type:
    // the kobject core does not touch a kobject after calling its release.
    // SAFETY: Only types use this kobject type; they are alive (above).
    unsafe {
        let mtype = kernel::container_of!(kobj, crate::mdev_h::mdev_type, kobj);
        bindings::put_device((*(*mtype).parent).dev);
        mdev_rs_type_released(mtype);
    }
}

/// Returns once the kobject release of each of `types` has run.
///
/// The kobject core may run a release long after the last `kobject_put()`
/// (always so with `CONFIG_DEBUG_KOBJECT_RELEASE`), but the vendor frees its
/// types, often by unloading the module that holds them, as soon as
/// registration fails or `mdev_unregister_parent()` returns. The C core does
/// not wait and so lets the release touch freed memory.
fn wait_released<'a>(types: impl Iterator<Item = &'a Type>) {
    for mtype in types {
        // SAFETY: The type was added, so its release will run (every
        // reference was put: the sysfs directory by `remove_type` or the
        // failed add, each device's when it was released).
        unsafe { mdev_rs_wait_type_released(mtype.as_raw()) };
    }
}

/// Whether two type names give the same directory `<driver>-<name>`: the
/// kobject core turns each `/` in a name into `!`.
fn same_dir_name(a: &[u8], b: &[u8]) -> bool {
    let dir = |c: &u8| if *c == b'/' { b'!' } else { *c };
    a.len() == b.len() && a.iter().map(dir).eq(b.iter().map(dir))
}

/// Refuses, with `EEXIST`, a parent two of whose types would get the same
/// directory, before sysfs is touched.
///
/// sysfs refuses the second directory with the same errno, but only once the
/// first type is visible, with a stack dump of its own, and the whole
/// registration then has to be undone.
pub(crate) fn check_type_names(parent: &Parent) -> Result {
    for (i, mtype) in parent.types().enumerate() {
        let name = mtype.sysfs_name();
        if let Some(j) = parent
            .types()
            .take(i)
            .position(|other| same_dir_name(other.sysfs_name().to_bytes(), name.to_bytes()))
        {
            dev_err!(
                parent.dev(),
                "MDEV: types {} and {} share the sysfs name \"{}\"\n",
                j,
                i,
                name.to_str().unwrap_or("?")
            );
            return Err(EEXIST);
        }
    }
    Ok(())
}

/// Creates a parent's `mdev_supported_types` directory and its types.
///
/// The caller holds the parent's `unreg_sem` for writing (`closed`), so that no device
/// can be created on a type before all of them are added. If one of them
/// cannot be added, nobody but sysfs readers, whose accesses `kobject_del()`
/// drains, has reached the ones already added, and they are removed again.
pub(crate) fn add_parent(closed: &UnregWriteGuard<'_>) -> Result {
    let parent = closed.parent();
    // SAFETY: The parent device is registered by the vendor; the name is static.
    let kset = unsafe {
        bindings::kset_create_and_add(
            c"mdev_supported_types".as_char_ptr(),
            null(),
            &raw mut (*parent.raw_dev()).kobj,
        )
    };
    if kset.is_null() {
        return Err(ENOMEM);
    }
    // SAFETY: Setting a field of the registering parent.
    unsafe { (*parent.as_raw()).mdev_types_kset = kset };

    for (added, mtype) in parent.types().enumerate() {
        if let Err(err) = add_type(parent, mtype) {
            for done in parent.types().take(added) {
                remove_type(done);
            }
            // SAFETY: The kset was created above and holds no types any more.
            unsafe { bindings::kset_unregister(kset) };
            // The failed type was put by `add_type` and is released too.
            wait_released(parent.types().take(added + 1));
            return Err(err);
        }
    }
    Ok(())
}

/// Creates one type directory with its `devices` subdirectory.
fn add_type(parent: &Parent, mtype: &Type) -> Result {
    let raw = mtype.as_raw();
    let dev = parent.raw_dev();
    // SAFETY: The vendor's type is not registered yet and the parent's kset
    // exists. The type takes a reference on the parent device, dropped by
    // `type_release` (also when `kobject_init_and_add` fails below).
    let ret = unsafe {
        (*raw).kobj.kset = (*parent.as_raw()).mdev_types_kset;
        (*raw).parent = parent.as_raw();
        bindings::get_device(dev);
        bindings::kobject_init_and_add(
            &raw mut (*raw).kobj,
            &TYPE_KTYPE.0,
            null_mut(),
            c"%s-%s".as_char_ptr(),
            bindings::dev_driver_string(dev),
            (*raw).sysfs_name,
        )
    };
    if ret != 0 {
        // SAFETY: A failed `kobject_init_and_add` still needs its put.
        unsafe { bindings::kobject_put(&raw mut (*raw).kobj) };
        return Err(Error::from_errno(ret));
    }
    // SAFETY: The type's kobject was just added.
    let devices =
        unsafe { bindings::kobject_create_and_add(c"devices".as_char_ptr(), mtype.kobj()) };
    if devices.is_null() {
        // SAFETY: Undoing the add above.
        unsafe {
            bindings::kobject_del(mtype.kobj());
            bindings::kobject_put(mtype.kobj());
        }
        return Err(ENOMEM);
    }
    // SAFETY: Setting a field of the vendor's type, not yet used by anyone.
    unsafe { (*raw).devices_kobj = devices };
    Ok(())
}

/// Removes one type directory; its release drops the parent reference once
/// no device holds the type any more.
fn remove_type(mtype: &Type) {
    // SAFETY: The type was added by `add_type`.
    unsafe {
        bindings::kobject_put(mtype.devices_kobj());
        bindings::kobject_del(mtype.kobj());
        bindings::kobject_put(mtype.kobj());
    }
}

/// Removes what [`add_parent`] created, and returns once no type is used.
///
/// The caller has removed every device of `parent`; their releases drop the
/// last references on the types.
pub(crate) fn remove_parent(parent: &Parent) {
    for mtype in parent.types() {
        remove_type(mtype);
    }
    // SAFETY: `add_parent` created the kset.
    unsafe { bindings::kset_unregister((*parent.as_raw()).mdev_types_kset) };
    wait_released(parent.types());
}

/// Creates the `devices/<uuid>` and `mdev_type` links of a new device.
pub(crate) fn add_links(mdev: &MdevDevice) -> Result {
    let mtype = mdev.mtype();
    // SAFETY: The device is added and named; the type directory exists while
    // the device holds its reference.
    unsafe {
        let dev_kobj = &raw mut (*mdev.raw_dev()).kobj;
        let name = bindings::dev_name(mdev.raw_dev());
        to_result(bindings::sysfs_create_link(
            mtype.devices_kobj(),
            dev_kobj,
            name,
        ))?;
        let ret = bindings::sysfs_create_link(dev_kobj, mtype.kobj(), c"mdev_type".as_char_ptr());
        if ret != 0 {
            bindings::sysfs_remove_link(mtype.devices_kobj(), name);
            return Err(Error::from_errno(ret));
        }
    }
    Ok(())
}

/// Removes the links made by [`add_links`].
pub(crate) fn remove_links(mdev: &MdevDevice) {
    let mtype = mdev.mtype();
    // SAFETY: As in `add_links`; removing a missing link is harmless.
    unsafe {
        let dev_kobj = &raw mut (*mdev.raw_dev()).kobj;
        bindings::sysfs_remove_link(dev_kobj, c"mdev_type".as_char_ptr());
        bindings::sysfs_remove_link(mtype.devices_kobj(), bindings::dev_name(mdev.raw_dev()));
    }
}

/// `/sys/bus/mdev/devices/<uuid>/remove`.
static REMOVE: StaticC<bindings::device_attribute> = StaticC(bindings::device_attribute {
    attr: attribute(c"remove", 0o200),
    __bindgen_anon_1: bindings::device_attribute__bindgen_ty_1 { show: None },
    __bindgen_anon_2: bindings::device_attribute__bindgen_ty_2 {
        store: Some(remove_store),
    },
});

static DEVICE_ATTRS: StaticC<[*const bindings::attribute; 2]> =
    StaticC([addr_of!(REMOVE.0.attr), null()]);

static DEVICE_GROUP: StaticC<bindings::attribute_group> = StaticC(bindings::attribute_group {
    __bindgen_anon_2: bindings::attribute_group__bindgen_ty_2 {
        attrs_const: addr_of!(DEVICE_ATTRS.0).cast::<*const bindings::attribute>(),
    },
    // SAFETY: All-zero is valid for the remaining fields.
    ..unsafe { core::mem::zeroed() }
});

static DEVICE_GROUPS: StaticC<[*const bindings::attribute_group; 2]> =
    StaticC([addr_of!(DEVICE_GROUP.0), null()]);

/// The attribute groups of every mediated device.
pub(crate) fn device_groups() -> *mut *const bindings::attribute_group {
    addr_of!(DEVICE_GROUPS.0).cast_mut().cast()
}

/// Removes a device when userspace writes a non-zero number to `remove`.
///
/// # Safety
///
/// Called by sysfs for the `remove` file of a live mediated device, with
/// `buf` a NUL-terminated string of `count` bytes.
unsafe extern "C" fn remove_store(
    dev: *mut bindings::device,
    attr: *mut bindings::device_attribute,
    buf: *const c_char,
    count: usize,
) -> isize {
    from_result(|| {
        let mut value: u64 = 0;
        // SAFETY: sysfs NUL-terminates store buffers. `kstrtoul()` is an
        // inline wrapper of `kstrtoull()` on 64-bit.
        if unsafe { bindings::kstrtoull(buf, 0, &mut value) } < 0 {
            return Err(EINVAL);
        }
        if value != 0 {
            // SAFETY: The device is alive while its file is written; the
            // reference taken here keeps it alive until the end of this
            // function, after its removal.
            let mdev: ARef<MdevDevice> = ARef::from(unsafe { MdevDevice::from_dev(dev) });
            crate::remove_device(&mdev, || {
                // SAFETY: `attr` is this device's `remove` attribute.
                unsafe { bindings::device_remove_file_self(dev, attr) }
            })?;
        }
        Ok(count as isize)
    })
}

#[kunit_tests(mdev_rs_sysfs)]
mod tests {
    use super::same_dir_name;

    #[test]
    fn type_directory_names() {
        assert!(same_dir_name(b"a", b"a"));
        assert!(!same_dir_name(b"a", b"b"));
        assert!(!same_dir_name(b"a", b"ab"));
        assert!(!same_dir_name(b"", b"a"));
        // The kobject core names `a/b` as `a!b`.
        assert!(same_dir_name(b"a/b", b"a!b"));
        assert!(same_dir_name(b"a!b", b"a/b"));
        assert!(!same_dir_name(b"a/b", b"a_b"));
    }
}
