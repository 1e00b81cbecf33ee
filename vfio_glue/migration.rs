// SPDX-License-Identifier: GPL-2.0

//! VFIO migration v2: the device state machine and the data streams.
//!
//! C headers: [`include/linux/vfio.h`](srctree/include/linux/vfio.h),
//! [`include/uapi/linux/vfio.h`](srctree/include/uapi/linux/vfio.h)
//!
//! A driver that sets [`DeviceOps::MIGRATION_FLAGS`] gets `mig_ops` (and,
//! with [`DeviceOps::log_start`], `log_ops`). The API keeps the device's
//! [`State`] and walks userspace's request one arc at a time, as VFIO's
//! `vfio_mig_get_next_state()` computes them; the driver sees only typed
//! calls:
//! - [`DeviceOps::save`] fills a [`SaveData`]: once with
//!   [`SaveStage::Initial`] when a saving stream opens (entering `PRE_COPY`,
//!   `PRE_COPY_P2P` or `STOP_COPY`), once with [`SaveStage::Final`] when the
//!   device enters `STOP_COPY`.
//! - [`DeviceOps::resume_spec`] says what a resuming stream may hold
//!   (its prefix and its size) and [`DeviceOps::load`] gets the whole
//!   stream on `RESUMING -> STOP`: it validates everything before it
//!   changes anything, so a failed resume leaves the device as it was (and
//!   in `RESUMING`).
//! - [`DeviceOps::arc`], if the driver has it, sees every arc first, for a
//!   device that must quiesce or restart.
//!
//! The streams are anonymous-inode files that only this module touches.
//! A stream holds its own bytes and never the device: the device keeps a
//! share of each open stream and disables it when it leaves the state the
//! stream belongs to, when it is reset or closed, and when it is released.
//! A disabled stream fails reads and writes with `ENODEV`, so a stream that
//! outlives its device, a read after `STOP_COPY -> STOP` and a reset during
//! a transfer are all harmless.

use super::{bindings, uapi::VFIO_MIG_GET_PRECOPY_INFO, Device, DeviceOps, IoctlArg};
use core::marker::PhantomData;
use kernel::{
    error::from_err_ptr,
    new_mutex,
    prelude::*,
    sync::{Arc, Mutex},
    uaccess::{UserPtr, UserSlice},
};

pub use bindings::{VFIO_MIGRATION_P2P, VFIO_MIGRATION_PRE_COPY, VFIO_MIGRATION_STOP_COPY};

/// A device state of VFIO migration v2 (`enum vfio_device_mig_state`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u32)]
pub enum State {
    /// The device failed an arc and must be reset.
    Error = bindings::vfio_device_mig_state_VFIO_DEVICE_STATE_ERROR,
    /// Stopped: no DMA, no interrupts, registers frozen.
    Stop = bindings::vfio_device_mig_state_VFIO_DEVICE_STATE_STOP,
    /// Running normally (the state after open and after a reset).
    Running = bindings::vfio_device_mig_state_VFIO_DEVICE_STATE_RUNNING,
    /// Stopped, with the saving stream holding the final state.
    StopCopy = bindings::vfio_device_mig_state_VFIO_DEVICE_STATE_STOP_COPY,
    /// Stopped, taking the stream userspace writes.
    Resuming = bindings::vfio_device_mig_state_VFIO_DEVICE_STATE_RESUMING,
    /// Running, but starts no peer-to-peer DMA.
    RunningP2p = bindings::vfio_device_mig_state_VFIO_DEVICE_STATE_RUNNING_P2P,
    /// Running, with a saving stream open for pre-copy data.
    PreCopy = bindings::vfio_device_mig_state_VFIO_DEVICE_STATE_PRE_COPY,
    /// `PreCopy` without peer-to-peer DMA.
    PreCopyP2p = bindings::vfio_device_mig_state_VFIO_DEVICE_STATE_PRE_COPY_P2P,
}

impl State {
    /// The state of a raw `enum vfio_device_mig_state`, if it is one.
    fn from_raw(raw: bindings::vfio_device_mig_state) -> Option<Self> {
        Some(match raw {
            bindings::vfio_device_mig_state_VFIO_DEVICE_STATE_ERROR => Self::Error,
            bindings::vfio_device_mig_state_VFIO_DEVICE_STATE_STOP => Self::Stop,
            bindings::vfio_device_mig_state_VFIO_DEVICE_STATE_RUNNING => Self::Running,
            bindings::vfio_device_mig_state_VFIO_DEVICE_STATE_STOP_COPY => Self::StopCopy,
            bindings::vfio_device_mig_state_VFIO_DEVICE_STATE_RESUMING => Self::Resuming,
            bindings::vfio_device_mig_state_VFIO_DEVICE_STATE_RUNNING_P2P => Self::RunningP2p,
            bindings::vfio_device_mig_state_VFIO_DEVICE_STATE_PRE_COPY => Self::PreCopy,
            bindings::vfio_device_mig_state_VFIO_DEVICE_STATE_PRE_COPY_P2P => Self::PreCopyP2p,
            _ => return None,
        })
    }
}

/// When [`DeviceOps::save`] is called.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SaveStage {
    /// A saving stream opens: what the stream starts with (a header, data
    /// that may be sent while the device still runs).
    Initial,
    /// The device is stopped and enters `STOP_COPY`: the rest of its state.
    Final,
}

/// The bytes of a saving stream, which [`DeviceOps::save`] appends to.
pub struct SaveData {
    data: KVec<u8>,
}

impl SaveData {
    /// Appends `bytes` to the stream.
    pub fn push(&mut self, bytes: &[u8]) -> Result {
        self.data.extend_from_slice(bytes, GFP_KERNEL)?;
        Ok(())
    }

    /// The bytes of the stream so far.
    pub fn as_slice(&self) -> &[u8] {
        &self.data
    }
}

/// What a resuming stream may hold, checked on every write before the bytes
/// are taken (see [`DeviceOps::resume_spec`]).
pub struct ResumeSpec {
    /// The bytes every valid stream starts with (a magic number, versions,
    /// the device's shape). A write whose bytes differ from them there fails
    /// with `EINVAL`, and its bytes are not taken.
    pub prefix: KVec<u8>,
    /// The most bytes a stream may hold; a write beyond fails with `ENOMEM`.
    pub max_size: usize,
}

/// The phase of a stream, which the device updates as it changes state.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// A saving stream in `PRE_COPY` or `PRE_COPY_P2P`.
    PreCopy,
    /// A saving stream in `STOP_COPY`.
    StopCopy,
    /// A resuming stream in `RESUMING`.
    Resuming,
    /// The device left the stream's state, was reset, closed or released.
    Disabled,
}

/// The bytes of a stream and where userspace is in them.
struct StreamData {
    phase: Phase,
    data: KVec<u8>,
    /// Bytes read so far (saving).
    pos: usize,
    /// Bytes of the data that the initial stage saved (saving).
    initial: usize,
    /// What writes must keep to (resuming).
    spec: ResumeSpec,
    /// Whether `VFIO_MIG_GET_PRECOPY_INFO` reports flags (v2 of the ioctl,
    /// as the device had it enabled when the stream opened).
    precopy_v2: bool,
}

/// A data stream, shared by its file and, while it is the device's current
/// stream, by the device.
///
/// # Invariants
///
/// The `private_data` of a file that [`Stream::open`] made is a share of
/// its stream from [`Arc::into_raw`], which only the file's release takes
/// back: while the file is not released, the stream is alive.
#[pin_data]
struct Stream {
    #[pin]
    inner: Mutex<StreamData>,
}

impl Stream {
    /// Disables the stream: from now on its reads and writes fail.
    fn disable(&self) {
        let mut inner = self.inner.lock();
        inner.phase = Phase::Disabled;
        // Nothing is read from a disabled stream again.
        inner.data = KVec::new();
    }

    /// Opens a file for the stream: readable for a saving stream, writable
    /// for a resuming one. The file holds a share of the stream until it is
    /// released.
    fn open(stream: &Arc<Self>, writable: bool) -> Result<*mut kernel::bindings::file> {
        let (fops, flags) = if writable {
            (&RESUME_FOPS.0, kernel::bindings::O_WRONLY)
        } else {
            (&SAVE_FOPS.0, kernel::bindings::O_RDONLY)
        };
        let private = Arc::into_raw(stream.clone());
        // SAFETY: The name is a NUL-terminated literal; the fops are static
        // and owned by this module; `private` is the share the file's
        // release gives back.
        let file = from_err_ptr(unsafe {
            bindings::anon_inode_getfile(
                c"mdev_rs_mig".as_char_ptr(),
                fops,
                private.cast_mut().cast(),
                flags as c_int,
            )
        });
        match file {
            // INVARIANT: The file holds the share `private` until its release.
            Ok(file) => {
                // SAFETY: `file` is a new file we hold the only reference to.
                unsafe { kernel::bindings::stream_open((*file).f_inode, file) };
                Ok(file.cast())
            }
            Err(e) => {
                // SAFETY: The file was not made: the share is still ours.
                drop(unsafe { Arc::from_raw(private) });
                Err(e)
            }
        }
    }

    /// # Safety
    ///
    /// `file` must be a file opened by [`Stream::open`], not yet released.
    unsafe fn from_file<'a>(file: *mut kernel::bindings::file) -> &'a Self {
        // SAFETY: The caller guarantees that `private_data` is the share
        // `open` gave the file, alive until the file's release.
        unsafe { &*(*file).private_data.cast::<Self>() }
    }
}

/// The migration state of a device.
pub(super) struct Migration {
    state: State,
    saving: Option<Arc<Stream>>,
    resuming: Option<Arc<Stream>>,
}

impl Migration {
    /// A device starts running, with no stream.
    pub(super) const fn new() -> Self {
        Self {
            state: State::Running,
            saving: None,
            resuming: None,
        }
    }

    /// Disables and forgets the device's streams.
    fn disable_streams(&mut self) {
        if let Some(stream) = self.saving.take() {
            stream.disable();
        }
        if let Some(stream) = self.resuming.take() {
            stream.disable();
        }
    }

    /// The device was reset or closed: it runs again, its streams end.
    pub(super) fn reset(&mut self) {
        self.state = State::Running;
        self.disable_streams();
    }
}

impl Drop for Migration {
    fn drop(&mut self) {
        self.disable_streams();
    }
}

/// A new stream for `dev`'s current transfer.
fn new_stream(data: KVec<u8>, phase: Phase, spec: ResumeSpec, v2: bool) -> Result<Arc<Stream>> {
    let initial = data.len();
    Arc::pin_init(
        pin_init!(Stream {
            inner <- new_mutex!(StreamData {
                phase,
                data,
                pos: 0,
                initial,
                spec,
                precopy_v2: v2,
            }),
        }),
        GFP_KERNEL,
    )
}

impl<T: DeviceOps> Device<T> {
    /// Whether userspace enabled v2 of `VFIO_MIG_GET_PRECOPY_INFO`.
    fn precopy_v2(&self) -> bool {
        // SAFETY: `vdev` is alive. VFIO sets the byte (from 0 to 1 only)
        // under no lock we could take: it is read once, as `READ_ONCE`
        // would, and a stale value only picks the older reply.
        unsafe { core::ptr::read_volatile(&raw const (*self.vdev.get()).precopy_info_v2) != 0 }
    }

    /// Opens a saving stream with the initial data (and, when entering
    /// `STOP_COPY`, the final data).
    fn open_saving(&self, mig: &mut Migration, to: State) -> Result<*mut kernel::bindings::file> {
        if !T::HAS_SAVE {
            return Err(ENOTTY);
        }
        let mut out = SaveData { data: KVec::new() };
        T::save(self, SaveStage::Initial, &mut out)?;
        let phase = if to == State::StopCopy {
            T::save(self, SaveStage::Final, &mut out)?;
            Phase::StopCopy
        } else {
            Phase::PreCopy
        };
        let spec = ResumeSpec {
            prefix: KVec::new(),
            max_size: 0,
        };
        let stream = new_stream(out.data, phase, spec, self.precopy_v2())?;
        let file = Stream::open(&stream, false)?;
        // A device has one stream at a time: any other ends here.
        mig.disable_streams();
        mig.saving = Some(stream);
        Ok(file)
    }

    /// One arc of the state machine; returns the file of a stream it opens.
    fn step(
        &self,
        mig: &mut Migration,
        from: State,
        to: State,
    ) -> Result<Option<*mut kernel::bindings::file>> {
        use State::*;
        if T::HAS_ARC {
            T::arc(self, from, to)?;
        }
        match (from, to) {
            (Running, PreCopy) | (RunningP2p, PreCopyP2p) | (Stop, StopCopy) => {
                self.open_saving(mig, to).map(Some)
            }
            (PreCopy | PreCopyP2p, StopCopy) if T::HAS_SAVE => {
                let stream = mig.saving.as_ref().ok_or(EINVAL)?;
                let mut inner = stream.inner.lock();
                let mut out = SaveData {
                    data: core::mem::take(&mut inner.data),
                };
                let saved = T::save(self, SaveStage::Final, &mut out);
                inner.data = out.data;
                saved?;
                inner.phase = Phase::StopCopy;
                Ok(None)
            }
            (PreCopy, Running) | (PreCopyP2p, RunningP2p) | (StopCopy, Stop) => {
                mig.disable_streams();
                Ok(None)
            }
            (Stop, Resuming) if T::HAS_RESUME_SPEC => {
                let spec = T::resume_spec(self)?;
                let stream = new_stream(KVec::new(), Phase::Resuming, spec, false)?;
                let file = Stream::open(&stream, true)?;
                mig.disable_streams();
                mig.resuming = Some(stream);
                Ok(Some(file))
            }
            (Resuming, Stop) if T::HAS_LOAD => {
                let stream = mig.resuming.as_ref().ok_or(EINVAL)?;
                let inner = stream.inner.lock();
                if inner.data.len() < inner.spec.prefix.len() {
                    return Err(EINVAL);
                }
                T::load(self, &inner.data)?;
                drop(inner);
                mig.disable_streams();
                Ok(None)
            }
            (PreCopy | PreCopyP2p, StopCopy) | (Stop, Resuming) | (Resuming, Stop) => Err(ENOTTY),
            // No stream changes on the other arcs VFIO walks: the running
            // and stopped states, with or without P2P.
            _ => Ok(None),
        }
    }

    /// Walks from the current state to `target`, arc by arc.
    fn set_state(&self, target: State) -> Result<Option<*mut kernel::bindings::file>> {
        let mut mig = self.mig.lock();
        let mut file = None;
        while mig.state != target {
            let mut next: bindings::vfio_device_mig_state = 0;
            // SAFETY: `vdev` is alive and `next` is a local.
            kernel::error::to_result(unsafe {
                bindings::vfio_mig_get_next_state(
                    self.vdev.get(),
                    mig.state as bindings::vfio_device_mig_state,
                    target as bindings::vfio_device_mig_state,
                    &mut next,
                )
            })?;
            let next = State::from_raw(next).ok_or(EINVAL)?;
            let from = mig.state;
            file = self.step(&mut mig, from, next)?;
            mig.state = next;
            if file.is_some() && next != target {
                // VFIO opens a stream only on the last arc of a walk.
                if let Some(f) = file.take() {
                    // SAFETY: We hold the only reference to the new file.
                    unsafe { kernel::bindings::fput(f) };
                }
                return Err(EINVAL);
            }
        }
        Ok(file)
    }

    /// The device's migration state.
    pub fn migration_state(&self) -> State {
        self.mig.lock().state
    }
}

/// The `mig_ops` of a device type `T`.
pub(super) struct MigVTable<T>(PhantomData<T>);

impl<T: DeviceOps> MigVTable<T> {
    pub(super) const OPS: bindings::vfio_migration_ops = bindings::vfio_migration_ops {
        migration_set_state: Some(set_state_callback::<T>),
        migration_get_state: Some(get_state_callback::<T>),
        migration_get_data_size: Some(data_size_callback::<T>),
    };
}

/// # Safety
///
/// `vdev` must belong to a live `Device<T>`.
unsafe extern "C" fn set_state_callback<T: DeviceOps>(
    vdev: *mut bindings::vfio_device,
    new_state: bindings::vfio_device_mig_state,
) -> *mut kernel::bindings::file {
    // SAFETY: Guaranteed by the caller.
    let dev = unsafe { Device::<T>::from_vdev(vdev) };
    let result = State::from_raw(new_state)
        .ok_or(EINVAL)
        .and_then(|target| dev.set_state(target));
    match result {
        // VFIO installs the file in a new fd, or puts it.
        Ok(Some(file)) => file.cast(),
        Ok(None) => core::ptr::null_mut(),
        Err(e) => e.to_ptr(),
    }
}

/// # Safety
///
/// `vdev` must belong to a live `Device<T>`, `state` must be valid.
unsafe extern "C" fn get_state_callback<T: DeviceOps>(
    vdev: *mut bindings::vfio_device,
    state: *mut bindings::vfio_device_mig_state,
) -> c_int {
    // SAFETY: Guaranteed by the caller.
    let dev = unsafe { Device::<T>::from_vdev(vdev) };
    // SAFETY: Guaranteed by the caller.
    unsafe { *state = dev.migration_state() as bindings::vfio_device_mig_state };
    0
}

/// # Safety
///
/// `vdev` must belong to a live `Device<T>`, `length` must be valid.
unsafe extern "C" fn data_size_callback<T: DeviceOps>(
    vdev: *mut bindings::vfio_device,
    length: *mut c_ulong,
) -> c_int {
    // SAFETY: Guaranteed by the caller.
    let dev = unsafe { Device::<T>::from_vdev(vdev) };
    // SAFETY: Guaranteed by the caller.
    unsafe { *length = dev.migration_data_size() as c_ulong };
    0
}

/// File operations in a static.
#[repr(transparent)]
struct Fops(kernel::bindings::file_operations);

// SAFETY: The operations are never written after they are built; their one
// raw pointer, `owner`, is this module's `THIS_MODULE`, which every thread
// may use (`ThisModule` is `Sync`).
unsafe impl Sync for Fops {}

/// The file operations of a saving stream.
static SAVE_FOPS: Fops = Fops(kernel::bindings::file_operations {
    owner: crate::THIS_MODULE.as_ptr(),
    read: Some(save_read),
    unlocked_ioctl: Some(save_ioctl),
    compat_ioctl: kernel::bindings::compat_ptr_ioctl,
    release: Some(stream_release),
    // SAFETY: Every other field is an optional callback, a flag word or a
    // pointer, for which all zeroes means "none".
    ..unsafe { core::mem::zeroed() }
});

/// The file operations of a resuming stream.
static RESUME_FOPS: Fops = Fops(kernel::bindings::file_operations {
    owner: crate::THIS_MODULE.as_ptr(),
    write: Some(resume_write),
    release: Some(stream_release),
    // SAFETY: As for `SAVE_FOPS`.
    ..unsafe { core::mem::zeroed() }
});

/// # Safety
///
/// Called by the VFS on the last put of a stream's file.
unsafe extern "C" fn stream_release(
    _inode: *mut kernel::bindings::inode,
    file: *mut kernel::bindings::file,
) -> c_int {
    // SAFETY: The file was opened by `Stream::open`, which gave it this
    // share; nothing uses the file after its release.
    drop(unsafe { Arc::from_raw((*file).private_data.cast::<Stream>()) });
    0
}

/// # Safety
///
/// Called by the VFS on a saving stream's file.
unsafe extern "C" fn save_read(
    file: *mut kernel::bindings::file,
    buf: *mut c_char,
    len: usize,
    ppos: *mut kernel::bindings::loff_t,
) -> isize {
    // A stream has no positions (`stream_open`), as `read(2)` passes them.
    if !ppos.is_null() {
        return ESPIPE.to_errno() as isize;
    }
    // SAFETY: Guaranteed by the caller.
    let stream = unsafe { Stream::from_file(file) };
    let result = (|| -> Result<usize> {
        let mut inner = stream.inner.lock();
        if inner.phase == Phase::Disabled {
            return Err(ENODEV);
        }
        let left = inner.data.get(inner.pos..).ok_or(EINVAL)?;
        let n = left.len().min(len);
        UserSlice::new(UserPtr::from_ptr(buf.cast()), n)
            .writer()
            .write_slice(&left[..n])?;
        inner.pos += n;
        Ok(n)
    })();
    super::ssize(result)
}

/// # Safety
///
/// Called by the VFS on a resuming stream's file.
unsafe extern "C" fn resume_write(
    file: *mut kernel::bindings::file,
    buf: *const c_char,
    len: usize,
    ppos: *mut kernel::bindings::loff_t,
) -> isize {
    if !ppos.is_null() {
        return ESPIPE.to_errno() as isize;
    }
    // SAFETY: Guaranteed by the caller.
    let stream = unsafe { Stream::from_file(file) };
    let result = (|| -> Result<usize> {
        let mut inner = stream.inner.lock();
        if inner.phase == Phase::Disabled {
            return Err(ENODEV);
        }
        let start = inner.data.len();
        let end = start.checked_add(len).ok_or(EINVAL)?;
        if end > inner.spec.max_size {
            return Err(ENOMEM);
        }
        let mut bytes = KVec::with_capacity(len, GFP_KERNEL)?;
        UserSlice::new(UserPtr::from_ptr(buf.cast_mut().cast()), len)
            .reader()
            .read_all(&mut bytes, GFP_KERNEL)?;
        // Checked before anything is taken: a stream with a wrong prefix
        // never holds it.
        let prefix = &inner.spec.prefix;
        if start < prefix.len() {
            let expect = &prefix[start..prefix.len().min(end)];
            if bytes.get(..expect.len()) != Some(expect) {
                return Err(EINVAL);
            }
        }
        inner.data.extend_from_slice(&bytes, GFP_KERNEL)?;
        Ok(len)
    })();
    super::ssize(result)
}

/// # Safety
///
/// Called by the VFS on a saving stream's file.
unsafe extern "C" fn save_ioctl(
    file: *mut kernel::bindings::file,
    cmd: c_uint,
    arg: c_ulong,
) -> c_long {
    // SAFETY: Guaranteed by the caller.
    let stream = unsafe { Stream::from_file(file) };
    let result = (|| -> Result {
        if cmd != VFIO_MIG_GET_PRECOPY_INFO {
            return Err(ENOTTY);
        }
        let arg = IoctlArg::new(UserPtr::from_addr(arg));
        let mut info: bindings::vfio_precopy_info = arg.read()?;
        let inner = stream.inner.lock();
        if inner.precopy_v2 {
            info.flags = 0;
        }
        // Asked outside pre-copy (the device left it, or was reset):
        // `EINVAL`, as VFIO's drivers answer.
        if inner.phase != Phase::PreCopy {
            return Err(EINVAL);
        }
        let unread = |end: usize| end.saturating_sub(inner.pos) as u64;
        info.initial_bytes = unread(inner.initial);
        info.dirty_bytes = unread(inner.data.len()) - info.initial_bytes;
        drop(inner);
        arg.write(&info)
    })();
    match result {
        Ok(()) => 0,
        Err(e) => e.to_errno() as c_long,
    }
}
