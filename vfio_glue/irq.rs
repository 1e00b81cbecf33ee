// SPDX-License-Identifier: GPL-2.0

//! Interrupts: the indexes a device declares, their eventfds, and
//! `VFIO_DEVICE_SET_IRQS` with the semantics vfio-pci gives it.
//!
//! A driver declares its interrupt indexes in [`DeviceOps::IRQS`]
//! (`VFIO_DEVICE_GET_IRQ_INFO` answers from that table) and raises them with
//! [`Device::trigger`]. The glue keeps one slot per vector:
//!
//! - `ACTION_TRIGGER` with `DATA_EVENTFD` arms (fd >= 0) or disarms (fd -1)
//!   the vectors `start..start + count`; with `DATA_NONE` and count 0 it
//!   disarms the whole index; with `DATA_NONE` or `DATA_BOOL` it raises the
//!   vectors (a loopback), which must be armed.
//! - `ACTION_MASK` and `ACTION_UNMASK` apply to indexes flagged
//!   `VFIO_IRQ_INFO_MASKABLE` that are armed; a masked vector drops what is
//!   raised, and an `AUTOMASKED` one masks itself each time it fires, until
//!   userspace unmasks it (INTx, level-triggered).
//! - On a PCI device INTx, MSI and MSI-X exclude each other: while one has
//!   an armed vector, arming or raising another fails with `EINVAL`.
//!
//! [`DeviceOps::IRQS`]: super::DeviceOps::IRQS
//! [`Device::trigger`]: super::Device::trigger

use super::bindings;
use core::{ops::Range, ptr::NonNull};
use kernel::{error::from_err_ptr, prelude::*};

/// One interrupt index, as `VFIO_DEVICE_GET_IRQ_INFO` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Irq {
    /// The index, e.g. [`bindings::VFIO_PCI_INTX_IRQ_INDEX`].
    pub index: u32,
    /// How many vectors it has; 0 for an index the device answers for
    /// but does not have.
    pub count: u32,
    /// `VFIO_IRQ_INFO_*`.
    pub flags: u32,
}

impl Irq {
    /// `count` vectors signalled through eventfds.
    pub const fn eventfd(index: u32, count: u32) -> Self {
        Self {
            index,
            count,
            flags: bindings::VFIO_IRQ_INFO_EVENTFD,
        }
    }

    /// A PCI INTx line: one vector, maskable, masked each time it fires.
    pub const fn intx() -> Self {
        Self::eventfd(bindings::VFIO_PCI_INTX_IRQ_INDEX, 1)
            .with_flags(bindings::VFIO_IRQ_INFO_MASKABLE | bindings::VFIO_IRQ_INFO_AUTOMASKED)
    }

    /// The PCI request interrupt: userspace is asked to release the device
    /// (see [`super::DeviceOps::request`]).
    pub const fn request() -> Self {
        Self::eventfd(bindings::VFIO_PCI_REQ_IRQ_INDEX, 1)
    }

    /// An index the device reports, with no vectors.
    pub const fn absent(index: u32) -> Self {
        Self {
            index,
            count: 0,
            flags: 0,
        }
    }

    /// The same index with `flags` added.
    pub const fn with_flags(self, flags: u32) -> Self {
        Self {
            flags: self.flags | flags,
            ..self
        }
    }

    fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }
}

/// Finds `index` in a device's table.
pub(super) fn find(table: &[Irq], index: u32) -> Option<&Irq> {
    table.iter().find(|irq| irq.index == index)
}

/// Whether, on a PCI device, `index` is one of the exclusive kinds.
fn pci_exclusive(index: u32) -> bool {
    matches!(
        index,
        bindings::VFIO_PCI_INTX_IRQ_INDEX
            | bindings::VFIO_PCI_MSI_IRQ_INDEX
            | bindings::VFIO_PCI_MSIX_IRQ_INDEX
    )
}

/// Something a vector can signal: an eventfd (a counter in the tests).
pub(super) trait Signal {
    fn signal(&self);
}

/// An eventfd that userspace armed to receive an interrupt.
///
/// # Invariants
///
/// Holds a reference on a live `struct eventfd_ctx`.
pub(super) struct EventFd(NonNull<kernel::bindings::eventfd_ctx>);

// SAFETY: An eventfd context may be signalled and put from any thread.
unsafe impl Send for EventFd {}
// SAFETY: `signal` is safe to call concurrently.
unsafe impl Sync for EventFd {}

impl EventFd {
    /// Takes a reference on the eventfd behind the caller's file descriptor.
    pub(super) fn from_fd(fd: i32) -> Result<Self> {
        // SAFETY: Any value may be passed; the result is checked.
        let ctx = from_err_ptr(unsafe { kernel::bindings::eventfd_ctx_fdget(fd) })?;
        // INVARIANT: `eventfd_ctx_fdget` returned a reference.
        Ok(Self(NonNull::new(ctx).ok_or(EBADF)?))
    }
}

impl Signal for EventFd {
    fn signal(&self) {
        // SAFETY: By the type invariants the context is alive.
        unsafe { kernel::bindings::eventfd_signal_mask(self.0.as_ptr(), 0) };
    }
}

impl Drop for EventFd {
    fn drop(&mut self) {
        // SAFETY: By the type invariants we hold a reference.
        unsafe { kernel::bindings::eventfd_ctx_put(self.0.as_ptr()) };
    }
}

/// What a `VFIO_DEVICE_SET_IRQS` carries after its header, decoded.
pub(super) enum SetData<E> {
    /// `DATA_NONE`.
    None,
    /// `DATA_BOOL`: one flag per vector.
    Bool(KVec<bool>),
    /// `DATA_EVENTFD`: per vector, an eventfd to arm or `None` (fd -1).
    EventFds(KVec<Option<E>>),
}

/// One vector's state.
struct Slot<E> {
    eventfd: Option<E>,
    masked: bool,
}

/// The vectors of one device, laid out in the order of its table.
pub(super) struct Vectors<E> {
    table: &'static [Irq],
    pci: bool,
    slots: KVec<Slot<E>>,
}

impl<E: Signal> Vectors<E> {
    /// The vectors of a device with `table`, none armed; `pci` if the
    /// device is a PCI device.
    pub(super) fn new(table: &'static [Irq], pci: bool) -> Result<Self> {
        let mut slots = KVec::new();
        for _ in 0..table.iter().map(|irq| irq.count as usize).sum::<usize>() {
            slots.push(
                Slot {
                    eventfd: None,
                    masked: false,
                },
                GFP_KERNEL,
            )?;
        }
        Ok(Self { table, pci, slots })
    }

    /// The slots of `index`'s vectors `start..start + count`.
    fn slots(&self, index: u32, start: u32, count: u32) -> Option<Range<usize>> {
        let mut first = 0usize;
        for irq in self.table {
            if irq.index == index {
                let end = start.checked_add(count).filter(|&end| end <= irq.count)?;
                return Some(first + start as usize..first + end as usize);
            }
            first += irq.count as usize;
        }
        None
    }

    /// Whether some vector of `index` is armed.
    pub(super) fn armed(&self, index: u32) -> bool {
        find(self.table, index).is_some_and(|irq| {
            self.slots(index, 0, irq.count)
                .is_some_and(|range| self.slots[range].iter().any(|s| s.eventfd.is_some()))
        })
    }

    /// Whether another index that excludes `index` is armed.
    fn excluded(&self, index: u32) -> bool {
        self.pci
            && pci_exclusive(index)
            && self
                .table
                .iter()
                .any(|irq| irq.index != index && pci_exclusive(irq.index) && self.armed(irq.index))
    }

    /// Raises vector `vector` of `index`, if it is armed and not masked.
    /// Inlined: it is on the path of every interrupt.
    #[inline]
    pub(super) fn fire(&mut self, index: u32, vector: u32) {
        let Some(irq) = find(self.table, index).copied() else {
            return;
        };
        let Some(range) = self.slots(index, vector, 1) else {
            return;
        };
        let slot = &mut self.slots[range.start];
        if let (Some(eventfd), false) = (&slot.eventfd, slot.masked) {
            eventfd.signal();
            slot.masked = irq.has(bindings::VFIO_IRQ_INFO_AUTOMASKED);
        }
    }

    /// Disarms and unmasks every vector (the device was closed).
    pub(super) fn clear(&mut self) {
        for slot in self.slots.iter_mut() {
            slot.eventfd = None;
            slot.masked = false;
        }
    }

    /// Carries out a `VFIO_DEVICE_SET_IRQS` whose header
    /// `vfio_set_irqs_validate_and_prepare` accepted for this device, and
    /// whose data (one entry per vector in `start..start + count`) is
    /// decoded.
    pub(super) fn set(
        &mut self,
        action: u32,
        index: u32,
        start: u32,
        count: u32,
        data: SetData<E>,
    ) -> Result {
        let irq = *find(self.table, index).ok_or(EINVAL)?;
        let range = self.slots(index, start, count).ok_or(EINVAL)?;
        match action {
            bindings::VFIO_IRQ_SET_ACTION_MASK | bindings::VFIO_IRQ_SET_ACTION_UNMASK => {
                if !irq.has(bindings::VFIO_IRQ_INFO_MASKABLE) {
                    return Err(ENOTTY);
                }
                if !self.armed(index) || count == 0 {
                    return Err(EINVAL);
                }
                let masked = action == bindings::VFIO_IRQ_SET_ACTION_MASK;
                match data {
                    SetData::None => self.slots[range]
                        .iter_mut()
                        .for_each(|slot| slot.masked = masked),
                    SetData::Bool(flags) => {
                        for (slot, set) in self.slots[range].iter_mut().zip(flags.iter()) {
                            if *set {
                                slot.masked = masked;
                            }
                        }
                    }
                    // Masking through an eventfd (an irqfd) is not offered.
                    SetData::EventFds(_) => return Err(ENOTTY),
                }
            }
            bindings::VFIO_IRQ_SET_ACTION_TRIGGER => {
                if matches!(data, SetData::None) && count == 0 && self.armed(index) {
                    let all = self.slots(index, 0, irq.count).ok_or(EINVAL)?;
                    for slot in &mut self.slots[all] {
                        slot.eventfd = None;
                        slot.masked = false;
                    }
                    return Ok(());
                }
                if count == 0 || self.excluded(index) {
                    return Err(EINVAL);
                }
                match data {
                    SetData::EventFds(eventfds) => {
                        for (slot, eventfd) in self.slots[range].iter_mut().zip(eventfds) {
                            slot.eventfd = eventfd;
                            slot.masked = false;
                        }
                    }
                    _ if !self.armed(index) => return Err(EINVAL),
                    SetData::None => (start..start + count).for_each(|v| self.fire(index, v)),
                    SetData::Bool(flags) => {
                        for (vector, set) in (start..).zip(flags.iter()) {
                            if *set {
                                self.fire(index, vector);
                            }
                        }
                    }
                }
            }
            _ => return Err(EINVAL),
        }
        Ok(())
    }
}

#[cfg(mdev_vendor_api_kunit)]
#[kunit_tests(mdev_rs_vfio_irq)]
mod tests {
    use super::*;
    use bindings::{
        VFIO_IRQ_SET_ACTION_MASK as MASK, VFIO_IRQ_SET_ACTION_TRIGGER as TRIGGER,
        VFIO_IRQ_SET_ACTION_UNMASK as UNMASK, VFIO_PCI_INTX_IRQ_INDEX as INTX,
        VFIO_PCI_MSI_IRQ_INDEX as MSI,
    };
    use kernel::sync::{
        atomic::{Atomic, Relaxed},
        Arc,
    };

    /// An eventfd stand-in that counts its signals.
    #[derive(Clone)]
    struct Counter(Arc<Atomic<u32>>);

    impl Signal for Counter {
        fn signal(&self) {
            self.0.add(1, Relaxed);
        }
    }

    impl Counter {
        fn new() -> Self {
            Self(Arc::new(Atomic::new(0), GFP_KERNEL).unwrap())
        }

        fn take(&self) -> u32 {
            self.0.xchg(0, Relaxed)
        }
    }

    static TABLE: [Irq; 3] = [
        Irq::intx(),
        Irq::eventfd(MSI, 2),
        Irq::absent(bindings::VFIO_PCI_MSIX_IRQ_INDEX),
    ];

    fn arm(vectors: &mut Vectors<Counter>, index: u32, start: u32, fds: &[&Counter]) -> Result {
        let mut data = KVec::new();
        for fd in fds {
            data.push(Some((*fd).clone()), GFP_KERNEL)?;
        }
        vectors.set(
            TRIGGER,
            index,
            start,
            fds.len() as u32,
            SetData::EventFds(data),
        )
    }

    #[test]
    fn vectors_are_laid_out_in_table_order() {
        let vectors = Vectors::<Counter>::new(&TABLE, true).unwrap();
        assert_eq!(vectors.slots.len(), 3);
        assert_eq!(vectors.slots(INTX, 0, 1), Some(0..1));
        assert_eq!(vectors.slots(MSI, 1, 1), Some(2..3));
        assert_eq!(vectors.slots(MSI, 1, 2), None);
        assert_eq!(vectors.slots(bindings::VFIO_PCI_MSIX_IRQ_INDEX, 0, 1), None);
    }

    #[test]
    fn intx_masks_itself_until_unmasked() {
        let mut vectors = Vectors::new(&TABLE, true).unwrap();
        let fd = Counter::new();
        arm(&mut vectors, INTX, 0, &[&fd]).unwrap();
        vectors.fire(INTX, 0);
        vectors.fire(INTX, 0);
        assert_eq!(fd.take(), 1);
        vectors.set(UNMASK, INTX, 0, 1, SetData::None).unwrap();
        vectors.fire(INTX, 0);
        assert_eq!(fd.take(), 1);
        // A loopback trigger is masked like any other.
        vectors.set(TRIGGER, INTX, 0, 1, SetData::None).unwrap();
        assert_eq!(fd.take(), 0);
    }

    #[test]
    fn mask_needs_a_maskable_armed_index() {
        let mut vectors = Vectors::<Counter>::new(&TABLE, true).unwrap();
        assert_eq!(vectors.set(MASK, INTX, 0, 1, SetData::None), Err(EINVAL));
        let fd = Counter::new();
        arm(&mut vectors, MSI, 0, &[&fd]).unwrap();
        assert_eq!(vectors.set(MASK, MSI, 0, 1, SetData::None), Err(ENOTTY));
    }

    #[test]
    fn pci_interrupt_kinds_exclude_each_other() {
        let mut vectors = Vectors::new(&TABLE, true).unwrap();
        let (intx, msi) = (Counter::new(), Counter::new());
        arm(&mut vectors, INTX, 0, &[&intx]).unwrap();
        assert_eq!(arm(&mut vectors, MSI, 0, &[&msi]), Err(EINVAL));
        assert_eq!(vectors.set(TRIGGER, MSI, 0, 1, SetData::None), Err(EINVAL));
        vectors.set(TRIGGER, INTX, 0, 0, SetData::None).unwrap();
        arm(&mut vectors, MSI, 1, &[&msi]).unwrap();
        assert_eq!(arm(&mut vectors, INTX, 0, &[&intx]), Err(EINVAL));
        // Not on a device that is no PCI device.
        let mut other = Vectors::new(&TABLE, false).unwrap();
        arm(&mut other, INTX, 0, &[&intx]).unwrap();
        arm(&mut other, MSI, 0, &[&msi]).unwrap();
    }

    #[test]
    fn loopback_needs_armed_vectors() {
        let mut vectors = Vectors::new(&TABLE, true).unwrap();
        assert_eq!(vectors.set(TRIGGER, MSI, 0, 1, SetData::None), Err(EINVAL));
        assert_eq!(vectors.set(TRIGGER, MSI, 0, 0, SetData::None), Err(EINVAL));
        let (a, b) = (Counter::new(), Counter::new());
        arm(&mut vectors, MSI, 0, &[&a, &b]).unwrap();
        let mut flags = KVec::new();
        flags.extend_from_slice(&[false, true], GFP_KERNEL).unwrap();
        vectors
            .set(TRIGGER, MSI, 0, 2, SetData::Bool(flags))
            .unwrap();
        assert_eq!((a.take(), b.take()), (0, 1));
        // MSI is not automasked.
        vectors.set(TRIGGER, MSI, 0, 2, SetData::None).unwrap();
        vectors.set(TRIGGER, MSI, 0, 2, SetData::None).unwrap();
        assert_eq!((a.take(), b.take()), (2, 2));
        // Count 0 disarms the whole index.
        vectors.set(TRIGGER, MSI, 0, 0, SetData::None).unwrap();
        vectors.fire(MSI, 0);
        assert_eq!(a.take(), 0);
    }

    #[test]
    fn clear_disarms_and_unmasks() {
        let mut vectors = Vectors::new(&TABLE, true).unwrap();
        let fd = Counter::new();
        arm(&mut vectors, INTX, 0, &[&fd]).unwrap();
        vectors.fire(INTX, 0);
        vectors.clear();
        assert!(!vectors.armed(INTX));
        arm(&mut vectors, INTX, 0, &[&fd]).unwrap();
        vectors.fire(INTX, 0);
        assert_eq!(fd.take(), 2);
    }
}
