// SPDX-License-Identifier: GPL-2.0

//! The global list of every mediated device, under one mutex.
//!
//! This is the design of "vfio/mdev: Check globally for duplicate devices":
//! a UUID is unique across all parents, and a new device reserves its UUID
//! with an entry that is not active before any slow work starts. The list is
//! the C `list_head` chain through `mdev_device.next`, in creation order; an
//! rbtree keyed by UUID indexes the same entries, so that finding a device,
//! and so creating or removing one, costs O(log n) instead of a list walk.
//!
//! The state of each device (reserved, active, removing) lives in the index,
//! so it can only be read or changed with the mutex held.
//!
//! Readers that need the whole list (debugfs) copy it with [`snapshot`]
//! and work on the copy without the mutex.

mod lock_hold;

pub(crate) use lock_hold::{lock, Section};

use crate::{
    mdev_device::MdevDevice,
    mdev_h,
    mdev_parent::TypeRef,
    mdev_uuid::Uuid, //
};
use core::{cell::UnsafeCell, ptr::NonNull};
use kernel::{
    bindings,
    prelude::*,
    rbtree::{self, RBTree, RBTreeNodeReservation},
    types::Opaque, //
};

kernel::sync::global_lock! {
    // SAFETY: `init_global()` runs in the module initialiser before any use.
    pub(crate) unsafe(uninit) static MDEV_LIST: Mutex<MdevList> = MdevList::new();
}

extern "C" {
    /// `list_del()`, a static inline function, from the C glue.
    fn mdev_rs_list_del(entry: *mut bindings::list_head);
}

/// Where a device is in its life, as far as the core is concerned.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum DeviceState {
    /// The UUID is taken; registration and the vendor's create are running.
    Reserved,
    /// Fully created: it can be removed.
    Active,
    /// A removal has started.
    Removing,
    /// The parent's unregistration is removing it: a `remove` answers
    /// `ENODEV`, as the C core's does once the parent's `unreg_sem` is taken.
    Unregistering,
}

impl DeviceState {
    /// The name shown in debugfs.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Reserved => "reserved",
            Self::Active => "active",
            Self::Removing | Self::Unregistering => "removing",
        }
    }
}

/// The C object of a listed device, which is all the list looks at.
pub(crate) type RawDevice = Opaque<mdev_h::mdev_device>;

/// What the index knows about one device.
pub(crate) struct IndexEntry {
    /// The device, not owned: see the invariants of [`MdevList`].
    dev: NonNull<mdev_h::mdev_device>,
    /// When the device was listed: devices in creation order have
    /// increasing numbers, so [`snapshot`] walks the index, not the list.
    seq: u64,
    /// The device's state.
    state: DeviceState,
}

// An index node (rbtree links, key and entry) still fits in the 64-byte
// kmalloc object it took before the creation number was added.
const _: () =
    assert!(size_of::<bindings::rb_node>() + size_of::<Uuid>() + size_of::<IndexEntry>() <= 64);

/// A pre-allocated index node, so that reserving a UUID under the mutex
/// never allocates.
pub(crate) type Reservation = RBTreeNodeReservation<Uuid, IndexEntry>;

/// The list of all devices and its UUID index.
///
/// # Invariants
///
/// - After [`MdevList::init`], `head` is a valid list head that never moves,
///   and the devices on the list are exactly those in `index`, each under
///   the UUID stored in its `mdev_device.uuid`.
/// - Every device in the list is alive: it is removed (by the release of the
///   device, with the mutex held) before its memory is freed.
/// - `count` is the number of devices in `index`.
/// - The `seq` of the index entries increase in list order.
pub(crate) struct MdevList {
    /// Head of the chain through `mdev_device.next`.
    head: UnsafeCell<bindings::list_head>,
    /// The same devices by UUID, with their state. `None` until first use,
    /// because an rbtree cannot be built in a `const` context.
    index: Option<RBTree<Uuid, IndexEntry>>,
    /// Number of devices, so that [`snapshot`] sizes its copy without a walk.
    count: usize,
    /// The creation number of the next device listed.
    next_seq: u64,
    /// How long each critical section held the mutex (benchmark builds).
    #[cfg(mdev_lock_hold)]
    hold: lock_hold::HoldTotals,
}

// SAFETY: The raw pointers in the list are only followed with the mutex held
// (the list is only reachable through it), and the devices they point to may
// be used from any thread.
unsafe impl Send for MdevList {}

impl MdevList {
    /// An empty list that needs [`MdevList::init`] before use.
    pub(crate) const fn new() -> Self {
        Self {
            head: UnsafeCell::new(bindings::list_head {
                next: core::ptr::null_mut(),
                prev: core::ptr::null_mut(),
            }),
            index: None,
            count: 0,
            next_seq: 0,
            #[cfg(mdev_lock_hold)]
            hold: lock_hold::HoldTotals::new(),
        }
    }

    /// Makes the list head point to itself.
    ///
    /// # Safety
    ///
    /// Called once, before any other method; `self` must not move afterwards.
    pub(crate) unsafe fn init(&mut self) {
        // SAFETY: `head` is valid memory that will not move (caller's promise).
        unsafe { bindings::INIT_LIST_HEAD(self.head.get()) };
    }

    /// Number of devices.
    pub(crate) fn len(&self) -> usize {
        self.count
    }

    /// Reserves `dev`'s UUID: the device enters the list as
    /// [`DeviceState::Reserved`]. Fails with `EEXIST` if the UUID is taken.
    ///
    /// # Safety
    ///
    /// `dev` must stay alive, with the same UUID, until [`MdevList::remove`]
    /// takes it out again; it must not be on the list yet. On failure the
    /// list did not change.
    pub(crate) unsafe fn insert(
        &mut self,
        dev: NonNull<mdev_h::mdev_device>,
        reservation: Reservation,
    ) -> Result {
        // SAFETY: The caller guarantees `dev` is alive.
        let uuid = Self::key(unsafe { dev.cast::<RawDevice>().as_ref() });
        match self.index.get_or_insert_with(RBTree::new).entry(uuid) {
            rbtree::Entry::Occupied(_) => return Err(EEXIST),
            rbtree::Entry::Vacant(vacant) => {
                vacant.insert(
                    IndexEntry {
                        dev,
                        seq: self.next_seq,
                        state: DeviceState::Reserved,
                    },
                    reservation,
                );
            }
        }
        // SAFETY: `head` was initialised (type invariant) and `next` belongs
        // to the caller's device, which is on no list.
        unsafe { bindings::list_add_tail(&raw mut (*dev.as_ptr()).next, self.head.get()) };
        // INVARIANT: The device is now on both the list (at its end) and the
        // index (with the highest creation number), and counted. The numbers
        // do not wrap: a `u64` outlasts any machine creating devices.
        self.count += 1;
        self.next_seq += 1;
        Ok(())
    }

    /// The index key of `dev`.
    fn key(dev: &RawDevice) -> Uuid {
        // SAFETY: `dev` is a live device; its UUID is set before it is shared
        // and never changes.
        Uuid::from_guid(unsafe { &(*dev.get()).uuid })
    }

    /// The state of `dev`, or `None` if `dev` itself (not only its UUID) is
    /// not listed.
    pub(crate) fn state(&self, dev: &RawDevice) -> Option<DeviceState> {
        let entry = self.index.as_ref()?.get(&Self::key(dev))?;
        (entry.dev == NonNull::from(dev).cast()).then_some(entry.state)
    }

    /// The state of `dev` for changing, as [`MdevList::state`]: one lookup.
    pub(crate) fn state_mut(&mut self, dev: &RawDevice) -> Option<&mut DeviceState> {
        let entry = self.index.as_mut()?.get_mut(&Self::key(dev))?;
        (entry.dev == NonNull::from(dev).cast()).then_some(&mut entry.state)
    }

    /// Takes `dev` off the list and the index; returns false if it was not
    /// listed.
    pub(crate) fn remove(&mut self, dev: &RawDevice) -> bool {
        let Some(index) = self.index.as_mut() else {
            return false;
        };
        match index.find_mut(&Self::key(dev)) {
            Some(entry) if entry.get().dev == NonNull::from(dev).cast() => {
                entry.remove();
            }
            _ => return false,
        }
        // SAFETY: `dev` is on the list: it was in the index (invariant).
        unsafe { mdev_rs_list_del(&raw mut (*dev.get()).next) };
        // INVARIANT: The device left both the list and the index, and is no
        // longer counted.
        self.count -= 1;
        true
    }

    /// Writes the hold times of the mutex that protects this list.
    #[cfg(mdev_lock_hold)]
    pub(crate) fn write_hold_totals(
        &self,
        f: &mut kernel::fmt::Formatter<'_>,
    ) -> kernel::fmt::Result {
        self.hold.write(f)
    }

    /// Calls `f` for each device in UUID order, with its creation number
    /// and state: one step per device, with no lookup.
    pub(crate) fn for_each_indexed(&self, mut f: impl FnMut(&RawDevice, u64, DeviceState)) {
        for (_, entry) in self.index.iter().flat_map(|index| index.iter()) {
            // SAFETY: Listed devices stay alive while the list is borrowed
            // (invariant).
            let dev = unsafe { entry.dev.cast::<RawDevice>().as_ref() };
            f(dev, entry.seq, entry.state);
        }
    }

    /// Calls `f` for each device in creation order, with its state: one
    /// index lookup per device. (The unit tests check that it agrees with
    /// [`MdevList::for_each_indexed`].)
    #[cfg_attr(not(CONFIG_KUNIT = "y"), expect(dead_code))]
    pub(crate) fn for_each(&self, mut f: impl FnMut(&RawDevice, DeviceState)) {
        let head = self.head.get();
        // SAFETY: The list is initialised (invariant); the mutex, held by the
        // owner of `&self`, keeps it from changing.
        let mut node = unsafe { (*head).next };
        while !node.is_null() && node != head {
            // SAFETY: Every node but the head is the `next` field of a live
            // `mdev_device` (invariant).
            let mdev = unsafe { kernel::container_of!(node, mdev_h::mdev_device, next) };
            // SAFETY: Listed devices stay alive while the list is borrowed.
            let dev = unsafe { &*mdev.cast::<RawDevice>() };
            if let Some(state) = self.state(dev) {
                f(dev, state);
            }
            // SAFETY: `node` is a valid list entry.
            node = unsafe { (*node).next };
        }
    }
}

/// One device as [`snapshot`] copied it.
pub(crate) struct Listed {
    /// The device's UUID.
    pub(crate) uuid: Uuid,
    /// Its creation number, by which the copy is sorted.
    seq: u64,
    /// Its state when the copy was made.
    pub(crate) state: DeviceState,
    /// A reference on its type, for a reserved or active device (not for one
    /// being removed, which is shown by its UUID only):
    /// the type's name, its parent and the parent's device stay valid while
    /// it is held (see [`TypeRef`]), whatever happens to the device.
    pub(crate) mtype: Option<TypeRef>,
}

/// Copies every device in creation order, holding the mutex only while it
/// copies: the UUID and state, and a reference on the type of each device
/// that is not being removed.
///
/// The copy is allocated without the mutex, sized by a count taken first
/// and made again if the list outgrew it meanwhile. Nothing is allocated,
/// and no reference is put, with the mutex held; the caller drops the copy,
/// which puts the type references, without it too. Under the mutex the
/// index is walked in UUID order, one step per device; the copy is sorted
/// into creation order afterwards.
pub(crate) fn snapshot() -> Result<KVVec<Listed>> {
    let mut want = lock(Section::Debugfs).len();
    loop {
        // Room for the creates that may run between the count and the copy.
        let room = want + want / 16 + 16;
        let mut copy = KVVec::with_capacity(room, GFP_KERNEL)?;
        let list = lock(Section::Debugfs);
        if list.len() > copy.capacity() {
            want = list.len();
            drop(list);
            continue;
        }
        list.for_each_indexed(|raw, seq, state| {
            // SAFETY: The global list holds only `MdevDevice`s (see
            // `reserve`), alive while the mutex is held.
            let mdev = unsafe { MdevDevice::from_raw(raw.get()) };
            let entry = Listed {
                uuid: mdev.uuid(),
                seq,
                state,
                // The device holds its type, so taking one more reference
                // is valid even if the device's own count already dropped
                // to zero and its release waits for the mutex.
                mtype: matches!(state, DeviceState::Reserved | DeviceState::Active)
                    .then(|| TypeRef::new(mdev.mtype())),
            };
            // Cannot fail: the list has no more devices than `copy` has
            // room for, checked above with the same mutex held. (A failed
            // push would drop the entry here, which is harmless: it is not
            // the type's last reference, the device holds one.)
            let _ = copy.push_within_capacity(entry);
        });
        drop(list);
        copy.sort_unstable_by_key(|listed| listed.seq);
        return Ok(copy);
    }
}

/// Initialises the global list.
///
/// # Safety
///
/// Called exactly once, by the module initialiser, before any other use.
pub(crate) unsafe fn init_global() {
    // SAFETY: The caller calls this once, first.
    unsafe { MDEV_LIST.init() };
    // SAFETY: Called once; the list lives in a static and never moves.
    unsafe { MDEV_LIST.lock().init() };
}

/// Reserves the UUID of a new device and takes an instance from its parent.
///
/// Duplicates fail with `EEXIST` and a parent without instances left with
/// `EUSERS`, checked in that order as in the C core; on failure nothing has
/// changed and the box is dropped, after the mutex is released. On success
/// the box is leaked into the list, and the device must be released through
/// its reference count.
pub(crate) fn reserve(dev: KBox<MdevDevice>) -> Result<NonNull<MdevDevice>> {
    let reservation = Reservation::new(GFP_KERNEL)?;
    let parent = dev.parent();
    // The heap object does not move when the box does.
    let ptr = NonNull::from(&*dev);
    let mut list = lock(Section::Reserve);
    // SAFETY: The device stays alive on the list: it is either leaked below
    // (and freed only by its release, which calls `forget_device` first) or
    // taken off the list again before the box is dropped.
    unsafe { list.insert(ptr.cast(), reservation) }?;
    if !parent.driver().has_get_available() {
        if let Err(err) = parent.instances().take() {
            list.remove(dev.raw());
            return Err(err);
        }
    }
    Ok(NonNull::from(KBox::leak(dev)))
}

/// Marks a created device active: from now on it can be removed.
pub(crate) fn activate(dev: &MdevDevice) {
    if let Some(state) = lock(Section::Activate).state_mut(dev.raw()) {
        *state = DeviceState::Active;
        dev.set_c_active(true);
    }
}

/// Starts the removal of a device: only an active device can be removed.
/// A device being created or already being removed answers `EAGAIN`, and a
/// device that is gone, or that its parent's unregistration is removing,
/// `ENODEV`.
pub(crate) fn begin_remove(dev: &MdevDevice) -> Result {
    let mut list = lock(Section::BeginRemove);
    match list.state_mut(dev.raw()) {
        None | Some(DeviceState::Unregistering) => Err(ENODEV),
        Some(state) if *state == DeviceState::Active => {
            *state = DeviceState::Removing;
            dev.set_c_active(false);
            Ok(())
        }
        Some(_) => Err(EAGAIN),
    }
}

/// Marks a device as being removed by its parent's unregistration. A device
/// that a `remove` already claimed stays [`DeviceState::Removing`]: that
/// remove answers `ENODEV` once it finds the parent unregistering.
pub(crate) fn mark_removing(dev: &MdevDevice) {
    let mut list = lock(Section::MarkRemoving);
    if let Some(state) = list.state_mut(dev.raw()) {
        if *state == DeviceState::Active {
            *state = DeviceState::Unregistering;
        }
    }
    dev.set_c_active(false);
}

/// Takes a device out of the list and gives its instance back; called by its
/// release, just before it is freed.
pub(crate) fn forget_device(dev: &MdevDevice) {
    let parent = dev.parent();
    let mut list = lock(Section::Forget);
    if list.remove(dev.raw()) && !parent.driver().has_get_available() {
        parent.instances().give_back();
    }
}

#[kunit_tests(mdev_rs_list)]
mod tests {
    use super::*;
    use crate::mdev_parent::InstanceCounter;

    /// A bare C device for exercising the list without the driver core.
    fn fake_device(text: &[u8]) -> Result<KBox<RawDevice>> {
        let dev = KBox::new(RawDevice::zeroed(), GFP_KERNEL)?;
        // SAFETY: The box is valid and ours.
        unsafe { (*dev.get()).uuid = Uuid::parse(text)?.to_guid() };
        Ok(dev)
    }

    /// An initialised list on the heap, where it does not move.
    fn new_list() -> Result<KBox<MdevList>> {
        let mut list = KBox::new(MdevList::new(), GFP_KERNEL)?;
        // SAFETY: Called once; the box does not move.
        unsafe { list.init() };
        Ok(list)
    }

    /// The pointer the list stores for a fake device.
    fn ptr(dev: &RawDevice) -> NonNull<mdev_h::mdev_device> {
        NonNull::from(dev).cast()
    }

    const A: &[u8] = b"11111111-1111-1111-1111-111111111111";
    const B: &[u8] = b"22222222-2222-2222-2222-222222222222";

    #[test]
    fn list_and_index_agree() -> Result {
        let mut list = new_list()?;
        let a = fake_device(A)?;
        let b = fake_device(B)?;
        let b_twin = fake_device(B)?;
        // SAFETY: The devices outlive their time on the list.
        unsafe {
            list.insert(ptr(&b), Reservation::new(GFP_KERNEL)?)?;
            list.insert(ptr(&a), Reservation::new(GFP_KERNEL)?)?;
            assert!(list.insert(ptr(&b_twin), Reservation::new(GFP_KERNEL)?) == Err(EEXIST));
        }
        assert_eq!(list.len(), 2);
        assert!(list.state(&a) == Some(DeviceState::Reserved));
        assert!(list.state(&b_twin).is_none());

        // The list keeps creation order, whatever the UUID order, and so do
        // the creation numbers of the index.
        let mut order = KVec::new();
        list.for_each(|dev, _| {
            let _ = order.push(ptr(dev), GFP_KERNEL);
        });
        assert!(order.len() == 2 && order[0] == ptr(&b) && order[1] == ptr(&a));
        let mut numbered = KVec::new();
        list.for_each_indexed(|dev, seq, _| {
            let _ = numbered.push((seq, ptr(dev)), GFP_KERNEL);
        });
        // UUID order first: `a` sorts before `b`, though created after it.
        assert!(numbered.len() == 2 && numbered[0].1 == ptr(&a) && numbered[0].0 > numbered[1].0);

        // Only the listed device, not another with the same UUID, is removed.
        assert!(!list.remove(&b_twin));
        assert!(list.remove(&b));
        assert!(!list.remove(&b));
        assert_eq!(list.len(), 1);
        let mut count = 0;
        list.for_each(|_, _| count += 1);
        assert_eq!(count, 1);
        assert!(list.remove(&a));
        assert_eq!(list.len(), 0);
        Ok(())
    }

    #[test]
    fn state_moves_only_for_the_listed_device() -> Result {
        let mut list = new_list()?;
        let a = fake_device(A)?;
        let a_twin = fake_device(A)?;
        // SAFETY: The device outlives its time on the list.
        unsafe { list.insert(ptr(&a), Reservation::new(GFP_KERNEL)?)? };
        assert!(list.state(&a) == Some(DeviceState::Reserved));
        assert!(list.state_mut(&a_twin).is_none());
        if let Some(state) = list.state_mut(&a) {
            *state = DeviceState::Active;
        }
        assert!(list.state(&a) == Some(DeviceState::Active));
        assert!(list.remove(&a));
        Ok(())
    }

    #[test]
    fn instances_are_exact() {
        let counter = Opaque::new(bindings::atomic_t { counter: 0 });
        let instances = InstanceCounter::new(&counter);
        instances.set(2);
        assert!(instances.take().is_ok());
        assert!(instances.take().is_ok());
        assert_eq!(instances.available(), 0);
        assert!(instances.take().map_err(|e| e.to_errno()) == Err(-(bindings::EUSERS as i32)));
        assert_eq!(instances.available(), 0);
        instances.give_back();
        assert_eq!(instances.available(), 1);
    }
}
