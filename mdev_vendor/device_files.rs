// SPDX-License-Identifier: GPL-2.0

//! Read-only sysfs files a driver adds to each of its devices' directories.
//!
//! The C samples show, say, `vendor/resolution` in every mdpy device; they
//! do it with `dev_groups` in their `struct mdev_driver`, which the driver
//! core adds to a device once probe has succeeded and takes away before
//! remove. [`DeviceFiles`] names such files, [`Driver::show_device_file`]
//! writes them, and [`FileGroup`] is the C side the registration builds.

use super::{bindings, Device, Driver, SysfsText};
use core::{marker::PhantomPinned, mem::offset_of, ptr};
use kernel::{ffi::c_char, page::PAGE_SIZE, prelude::*};

/// The sysfs files of a driver in each device's directory.
pub struct DeviceFiles {
    /// The subdirectory they live in (the C samples use `c"vendor"`), or
    /// `None` for the device's directory itself.
    pub directory: Option<&'static CStr>,
    /// Their names; [`Driver::show_device_file`] is given an index in it.
    pub names: &'static [&'static CStr],
}

impl DeviceFiles {
    /// No files: the default.
    pub const NONE: Self = Self {
        directory: None,
        names: &[],
    };
}

/// One file: the C attribute and the index of its name.
///
/// # Invariants
///
/// `raw` comes first, so that the `struct device_attribute *` sysfs passes
/// to `show` points to the `FileAttr` it is embedded in.
#[repr(C)]
struct FileAttr {
    raw: kernel::bindings::device_attribute,
    index: usize,
}

/// The attribute group of a driver's [`DeviceFiles`], in the form the driver
/// core reads from `mdev_driver.driver.dev_groups`.
///
/// # Invariants
///
/// `group.attrs` points to `attr_ptrs`, a null-terminated array whose entries
/// point to the `raw.attr` of each element of `_attrs`, and `groups` is
/// `[&group, null]`. The group is pinned and none of the vectors changes
/// after [`FileGroup::new`], so the pointers stay valid as long as it lives.
pub(super) struct FileGroup {
    _attrs: KVec<FileAttr>,
    attr_ptrs: KVec<*mut kernel::bindings::attribute>,
    group: kernel::bindings::attribute_group,
    groups: [*const kernel::bindings::attribute_group; 2],
    _pin: PhantomPinned,
}

impl FileGroup {
    /// The group of `D::DEVICE_FILES`, or `None` if `D` has none.
    pub(super) fn new<D: Driver>() -> Result<Option<Pin<KBox<Self>>>> {
        let files = &D::DEVICE_FILES;
        if files.names.is_empty() {
            return Ok(None);
        }
        // A driver that names files must show them.
        build_assert!(D::HAS_SHOW_DEVICE_FILE);
        let mut attrs = KVec::with_capacity(files.names.len(), GFP_KERNEL)?;
        for (index, name) in files.names.iter().enumerate() {
            // SAFETY: All-zero is a valid `struct device_attribute`: no
            // callbacks, no lockdep key (set below).
            let mut raw: kernel::bindings::device_attribute = unsafe { core::mem::zeroed() };
            raw.attr.name = name.as_char_ptr();
            raw.attr.mode = 0o444;
            raw.__bindgen_anon_1.show = Some(show_callback::<D>);
            // What `sysfs_attr_init()` does for an attribute not in static
            // memory: one static lockdep class for all of them.
            #[cfg(CONFIG_DEBUG_LOCK_ALLOC)]
            {
                raw.attr.key = kernel::sync::static_lock_class!().as_ptr().cast();
            }
            attrs.push(FileAttr { raw, index }, GFP_KERNEL)?;
        }
        let mut attr_ptrs = KVec::with_capacity(attrs.len() + 1, GFP_KERNEL)?;
        for attr in attrs.iter_mut() {
            attr_ptrs.push(&raw mut attr.raw.attr, GFP_KERNEL)?;
        }
        attr_ptrs.push(ptr::null_mut(), GFP_KERNEL)?;
        let mut this = KBox::pin(
            Self {
                _attrs: attrs,
                attr_ptrs,
                // SAFETY: All-zero is a valid group: no name, no callbacks,
                // no files; the files are set below.
                group: unsafe { core::mem::zeroed() },
                groups: [ptr::null(), ptr::null()],
                _pin: PhantomPinned,
            },
            GFP_KERNEL,
        )?;
        // SAFETY: Only pointers are stored; nothing moves out of the pin.
        let this_mut = unsafe { this.as_mut().get_unchecked_mut() };
        this_mut.group.name = files.directory.map_or(ptr::null(), CStr::as_char_ptr);
        this_mut.group.__bindgen_anon_2.attrs = this_mut.attr_ptrs.as_mut_ptr();
        this_mut.groups[0] = &raw const this_mut.group;
        Ok(Some(this))
    }

    /// What `dev_groups` points to while the driver is registered.
    pub(super) fn dev_groups(&self) -> *mut *const kernel::bindings::attribute_group {
        self.groups.as_ptr().cast_mut()
    }
}

// SAFETY: After `new` the C structs are only read, by the driver core, from
// any thread; they point to `'static` names and to the group's own memory.
unsafe impl Send for FileGroup {}
// SAFETY: See `Send`: shared references only read it.
unsafe impl Sync for FileGroup {}

/// # Safety
///
/// Called by sysfs for a file of a [`FileGroup`] of `D` on a device bound to
/// `D`, with a one-page buffer.
unsafe extern "C" fn show_callback<D: Driver>(
    dev: *mut kernel::bindings::device,
    attr: *mut kernel::bindings::device_attribute,
    buf: *mut c_char,
) -> isize {
    // The driver core adds the files after probe succeeds and removes them,
    // waiting for running `show`s, before remove: the device's data is there.
    // SAFETY: Devices bound to `D` are mdev devices, which embed `dev`.
    let mdev = unsafe { dev.byte_sub(offset_of!(bindings::mdev_device, dev)) };
    // SAFETY: The device is alive while its sysfs files can be read.
    let mdev = unsafe { Device::from_raw(mdev.cast()) };
    // SAFETY: `probe_callback::<D>` stored a `KBox<D::DeviceData>` there,
    // which `remove_callback::<D>` takes back only after the files are gone.
    let data = unsafe { &*kernel::bindings::dev_get_drvdata(dev).cast::<D::DeviceData>() };
    // SAFETY: By the invariants of `FileAttr`, `attr` is the `raw` of one.
    let index = unsafe { (*attr.cast::<FileAttr>()).index };
    // SAFETY: sysfs show buffers are one page, ours until we return.
    let page = unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), PAGE_SIZE) };
    let mut out = SysfsText { page, len: 0 };
    match D::show_device_file(mdev, data, index, &mut out) {
        // A page is far below `isize::MAX`.
        Ok(()) => out.len as isize,
        Err(core::fmt::Error) => EOVERFLOW.to_errno() as isize,
    }
}

// Only the sample registers this suite (see vfio_glue.rs).
#[cfg(mdev_vendor_api_kunit)]
#[kunit_tests(mdev_rs_vendor_files)]
mod tests {
    use super::super::Type;
    use super::*;
    use core::fmt;

    /// A driver with files, which never makes a device.
    struct TwoFiles;

    #[vtable]
    impl Driver for TwoFiles {
        const NAME: &'static CStr = c"two_files";
        const DEVICE_API: &'static CStr = c"vfio-pci";
        type TypeData = ();
        type DeviceData = ();

        fn probe(_mdev: &Device, _mtype: &Type<()>) -> Result {
            Err(ENODEV)
        }

        const DEVICE_FILES: DeviceFiles = DeviceFiles {
            directory: Some(c"vendor"),
            names: &[c"first", c"second"],
        };

        fn show_device_file(
            _mdev: &Device,
            _data: &(),
            _file: usize,
            _out: &mut SysfsText<'_>,
        ) -> fmt::Result {
            Ok(())
        }
    }

    /// A driver without files.
    struct NoFiles;

    #[vtable]
    impl Driver for NoFiles {
        const NAME: &'static CStr = c"no_files";
        const DEVICE_API: &'static CStr = c"vfio-pci";
        type TypeData = ();
        type DeviceData = ();

        fn probe(_mdev: &Device, _mtype: &Type<()>) -> Result {
            Err(ENODEV)
        }
    }

    #[test]
    fn no_files_make_no_group() {
        assert!(matches!(FileGroup::new::<NoFiles>(), Ok(None)));
    }

    #[test]
    fn the_group_lists_every_file_read_only() {
        let group = FileGroup::new::<TwoFiles>().unwrap().unwrap();
        let groups = group.dev_groups();
        // SAFETY: `groups` points to the two entries of `group.groups`.
        let (first, end) = unsafe { (*groups, *groups.add(1)) };
        assert!(ptr::eq(first, &group.group));
        assert!(end.is_null());
        // SAFETY: The group's name is the `'static` directory name.
        let name = unsafe { CStr::from_char_ptr(group.group.name) };
        assert_eq!(name, c"vendor");
        // SAFETY: `new` set `attrs`, the member of the union that is read.
        let attrs = unsafe { group.group.__bindgen_anon_2.attrs };
        for (index, expected) in [c"first", c"second"].iter().enumerate() {
            // SAFETY: `attrs` has an entry per file, then a null one.
            let attr = unsafe { *attrs.add(index) };
            // SAFETY: Each entry points into a `FileAttr` of `group`, whose
            // name is a `'static` string.
            let (name, mode, file) = unsafe {
                (
                    CStr::from_char_ptr((*attr).name),
                    (*attr).mode,
                    (*attr.cast::<FileAttr>()).index,
                )
            };
            assert_eq!(name, *expected);
            assert_eq!(mode, 0o444);
            assert_eq!(file, index);
        }
        // SAFETY: As above: the entry after the files.
        assert!(unsafe { *attrs.add(2) }.is_null());
    }
}
