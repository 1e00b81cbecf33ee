// SPDX-License-Identifier: GPL-2.0

//! sysfs files a driver adds to each of its devices' directories.
//!
//! The C samples show, say, `vendor/resolution` in every mdpy device; they
//! do it with `dev_groups` in their `struct mdev_driver`, which the driver
//! core adds to a device once probe has succeeded and takes away before
//! remove. [`DeviceFiles`] names such files, [`Driver::show_device_file`]
//! and [`Driver::store_device_file`] read and write them, and [`FileGroup`]
//! is the C side the registration builds.

use super::{bindings, Device, Driver, SysfsText};
use core::{marker::PhantomPinned, mem::offset_of, ptr};
use kernel::{ffi::c_char, prelude::*};

/// One file in each device's directory, and what it allows.
#[derive(Clone, Copy)]
pub struct DeviceFile {
    /// The file's name.
    pub name: &'static CStr,
    readable: bool,
    writable: bool,
}

impl DeviceFile {
    /// A file that is only read (mode 0444), as C's `DEVICE_ATTR_RO`.
    pub const fn read_only(name: &'static CStr) -> Self {
        Self {
            name,
            readable: true,
            writable: false,
        }
    }

    /// A file that is read and written (mode 0644), as `DEVICE_ATTR_RW`.
    pub const fn read_write(name: &'static CStr) -> Self {
        Self {
            name,
            readable: true,
            writable: true,
        }
    }

    /// A file that is only written (mode 0200), as `DEVICE_ATTR_WO`.
    pub const fn write_only(name: &'static CStr) -> Self {
        Self {
            name,
            readable: false,
            writable: true,
        }
    }

    /// Its sysfs mode.
    const fn mode(&self) -> u16 {
        match (self.readable, self.writable) {
            (true, true) => 0o644,
            (true, false) => 0o444,
            (false, _) => 0o200,
        }
    }
}

/// The sysfs files of a driver in each device's directory.
pub struct DeviceFiles {
    /// The subdirectory they live in (the C samples use `c"vendor"`), or
    /// `None` for the device's directory itself.
    pub directory: Option<&'static CStr>,
    /// The files; [`Driver::show_device_file`] and
    /// [`Driver::store_device_file`] are given an index in it.
    pub files: &'static [DeviceFile],
}

impl DeviceFiles {
    /// No files: the default.
    pub const NONE: Self = Self {
        directory: None,
        files: &[],
    };

    /// Whether any file is read (`want_write` false) or written (true).
    const fn any(&self, want_write: bool) -> bool {
        let mut i = 0;
        while i < self.files.len() {
            let file = &self.files[i];
            if (want_write && file.writable) || (!want_write && file.readable) {
                return true;
            }
            i += 1;
        }
        false
    }
}

/// One file: the C attribute and the index of its name.
///
/// # Invariants
///
/// `raw` comes first, so that the `struct device_attribute *` sysfs passes
/// to `show` and `store` points to the `FileAttr` it is embedded in.
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
        // A driver with files it can read must show them, and one with
        // files it can write must store them.
        const {
            assert!(
                !D::DEVICE_FILES.any(false) || D::HAS_SHOW_DEVICE_FILE,
                "DEVICE_FILES has readable files but the driver has no show_device_file"
            );
            assert!(
                !D::DEVICE_FILES.any(true) || D::HAS_STORE_DEVICE_FILE,
                "DEVICE_FILES has writable files but the driver has no store_device_file"
            );
        }
        let files = &D::DEVICE_FILES;
        if files.files.is_empty() {
            return Ok(None);
        }
        let mut attrs = KVec::with_capacity(files.files.len(), GFP_KERNEL)?;
        for (index, file) in files.files.iter().enumerate() {
            // SAFETY: All-zero is a valid `struct device_attribute`: no
            // callbacks, no lockdep key (set below).
            let mut raw: kernel::bindings::device_attribute = unsafe { core::mem::zeroed() };
            raw.attr.name = file.name.as_char_ptr();
            raw.attr.mode = file.mode();
            // The constant comes first: a driver without the callback must
            // not name its trampoline (which would call the default, a
            // build error); the assertions above make the tests equal.
            if D::HAS_SHOW_DEVICE_FILE && file.readable {
                raw.__bindgen_anon_1.show = Some(show_callback::<D>);
            }
            if D::HAS_STORE_DEVICE_FILE && file.writable {
                raw.__bindgen_anon_2.store = Some(store_callback::<D>);
            }
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

/// The device, its data and the index of the file that `attr` is, for a
/// callback of `D`'s device files.
///
/// # Safety
///
/// `dev` and `attr` must be what sysfs passes to a callback of a file of a
/// [`FileGroup`] of `D`, on a device bound to `D`; the results are only
/// used until the callback returns.
unsafe fn file_of<'a, D: Driver>(
    dev: *mut kernel::bindings::device,
    attr: *mut kernel::bindings::device_attribute,
) -> (&'a Device, &'a D::DeviceData, usize) {
    // The driver core adds the files after probe succeeds and removes them,
    // waiting for running callbacks, before remove: the device's data is
    // there for as long as the callback runs.
    // SAFETY: Devices bound to `D` are mdev devices, which embed `dev`.
    let mdev = unsafe { dev.byte_sub(offset_of!(bindings::mdev_device, dev)) };
    // SAFETY: The device is alive while its sysfs files can be used.
    let mdev = unsafe { Device::from_raw(mdev.cast()) };
    // SAFETY: `probe_callback::<D>` stored a `KBox<D::DeviceData>` there,
    // which `remove_callback::<D>` takes back only after the files are gone.
    let data = unsafe { &*kernel::bindings::dev_get_drvdata(dev).cast::<D::DeviceData>() };
    // SAFETY: By the invariants of `FileAttr`, `attr` is the `raw` of one.
    let index = unsafe { (*attr.cast::<FileAttr>()).index };
    (mdev, data, index)
}

/// # Safety
///
/// Called by sysfs to read a file of a [`FileGroup`] of `D` on a device
/// bound to `D`, with a one-page buffer.
unsafe extern "C" fn show_callback<D: Driver>(
    dev: *mut kernel::bindings::device,
    attr: *mut kernel::bindings::device_attribute,
    buf: *mut c_char,
) -> isize {
    // SAFETY: Our caller's contract is `file_of`'s.
    let (mdev, data, index) = unsafe { file_of::<D>(dev, attr) };
    // SAFETY: sysfs show buffers are one page, ours until we return.
    let mut out = unsafe { SysfsText::from_show_buffer(buf) };
    let result = D::show_device_file(mdev, data, index, &mut out);
    out.show_result(result)
}

/// # Safety
///
/// Called by sysfs to write a file of a [`FileGroup`] of `D` on a device
/// bound to `D`, with the `count` bytes written in `buf`.
unsafe extern "C" fn store_callback<D: Driver>(
    dev: *mut kernel::bindings::device,
    attr: *mut kernel::bindings::device_attribute,
    buf: *const c_char,
    count: usize,
) -> isize {
    // SAFETY: Our caller's contract is `file_of`'s.
    let (mdev, data, index) = unsafe { file_of::<D>(dev, attr) };
    // SAFETY: sysfs passes the `count` bytes written, which stay in place
    // until we return.
    let text = unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), count) };
    match D::store_device_file(mdev, data, index, text) {
        // sysfs writes are at most a page, far below `isize::MAX`.
        Ok(()) => count as isize,
        Err(e) => e.to_errno() as isize,
    }
}

// Only the sample registers this suite (see vfio_glue.rs).
#[cfg(mdev_vendor_api_kunit)]
#[kunit_tests(mdev_rs_vendor_files)]
mod tests {
    use super::super::Type;
    use super::*;
    use core::fmt;

    /// A driver with a file of each kind, which never makes a device.
    struct ThreeFiles;

    #[vtable]
    impl Driver for ThreeFiles {
        const NAME: &'static CStr = c"three_files";
        const DEVICE_API: &'static CStr = c"vfio-pci";
        type TypeData = ();
        type DeviceData = ();

        fn probe(_mdev: &Device, _mtype: &Type<()>) -> Result {
            Err(ENODEV)
        }

        const DEVICE_FILES: DeviceFiles = DeviceFiles {
            directory: Some(c"vendor"),
            files: &[
                DeviceFile::read_only(c"shown"),
                DeviceFile::read_write(c"both"),
                DeviceFile::write_only(c"stored"),
            ],
        };

        fn show_device_file(
            _mdev: &Device,
            _data: &(),
            _file: usize,
            _out: &mut SysfsText<'_>,
        ) -> fmt::Result {
            Ok(())
        }

        fn store_device_file(_mdev: &Device, _data: &(), _file: usize, _text: &[u8]) -> Result {
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
    fn the_group_lists_every_file_with_its_mode_and_callbacks() {
        let group = FileGroup::new::<ThreeFiles>().unwrap().unwrap();
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
        let expected = [
            (c"shown", 0o444, true, false),
            (c"both", 0o644, true, true),
            (c"stored", 0o200, false, true),
        ];
        for (index, (expected_name, expected_mode, shows, stores)) in expected.iter().enumerate() {
            // SAFETY: `attrs` has an entry per file, then a null one.
            let attr = unsafe { *attrs.add(index) };
            // SAFETY: Each entry is the `raw.attr` of a `FileAttr` of
            // `group`, at offset 0 of it; its name is a `'static` string.
            let (file, name) =
                unsafe { (&*attr.cast::<FileAttr>(), CStr::from_char_ptr((*attr).name)) };
            assert_eq!(name, *expected_name);
            assert_eq!(file.raw.attr.mode, *expected_mode);
            assert_eq!(file.index, index);
            // SAFETY: `show` and `store` are the members `new` sets.
            let (show, store) = unsafe {
                (
                    file.raw.__bindgen_anon_1.show,
                    file.raw.__bindgen_anon_2.store,
                )
            };
            assert_eq!(show.is_some(), *shows);
            assert_eq!(store.is_some(), *stores);
        }
        // SAFETY: As above: the entry after the files.
        assert!(unsafe { *attrs.add(3) }.is_null());
    }
}
