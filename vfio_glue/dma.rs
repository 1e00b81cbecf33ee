// SPDX-License-Identifier: GPL-2.0

//! DMA: a device reads and writes guest memory by IOVA, and pins guest pages.
//!
//! C header: [`include/linux/vfio.h`](srctree/include/linux/vfio.h)
//!
//! A mediated device has no IOMMU of its own: VFIO translates its IOVAs
//! through what userspace mapped into the device's container (type1) or
//! IOAS (iommufd).
//!
//! - [`Device::dma_read`] and [`Device::dma_write`] copy between a kernel
//!   buffer and guest memory (`vfio_dma_rw()`); nothing stays pinned.
//! - [`Device::pin`] pins the guest pages that hold a range of IOVA
//!   (`vfio_pin_pages()`) and returns a [`PinnedPages`] receipt, which
//!   [`Device::unpin`] takes back.
//!
//! VFIO allows both only while the device is open, and it requires a driver
//! to unpin every page in a range that userspace unmaps: it calls the
//! device's `dma_unmap` op, and type1 retries the unmap a few times and then
//! stops the kernel (`BUG_ON`) if pages stay pinned. The glue therefore keeps
//! every pin in a table ([`Pins`]), so that this holds whatever a driver
//! does:
//!
//! - DMA and pinning fail with `EINVAL` unless the device is open, as
//!   `vfio_dma_rw()` does;
//! - on a `dma_unmap`, the glue records the range as being unmapped, calls
//!   [`DeviceOps::dma_unmap`], then unpins every pin that overlaps the range
//!   and that the driver kept;
//! - a pin that overlaps a range being unmapped is refused with `EAGAIN`,
//!   until the glue has seen that the mapping VFIO reported is gone (below);
//! - on close, after [`DeviceOps::close`], it unpins every pin left.
//!
//! Pins exist only while the device is open, so none is left for the
//! device's release.
//!
//! **Why pins are refused during an unmap.** Type1's unmap
//! (`vfio_dma_do_unmap()`) drops its lock to call every device's
//! `dma_unmap` with the whole mapping (its IOVA and size), then takes the
//! lock again and looks: if pages of the mapping are pinned, by any device,
//! it calls them all again, and the eleventh time in a row it stops the
//! kernel (`BUG_ON`). Its pin path does not refuse a pin in the meantime. So
//! a pin of the mapping taken after this device's `dma_unmap` and before
//! type1 looks again (while another device's `dma_unmap` runs, say) keeps
//! type1 going, and a user who has the device pin in a loop while another
//! of its threads unmaps brings the kernel down. The glue therefore refuses
//! every pin that overlaps a range reported by `dma_unmap` for as long as
//! the mapping may still be there.
//!
//! **When the unmap is over.** Type1 says nothing when an unmap ends. The
//! glue learns it at the next pin that overlaps the range: it asks VFIO to
//! read one byte at the range's first IOVA (`vfio_dma_rw()`). Type1 reported
//! the whole mapping, so that byte is mapped for as long as the mapping
//! exists; if VFIO answers that nothing is mapped there (`EINVAL`), the
//! mapping is gone for good (a new `VFIO_IOMMU_MAP_DMA` makes a new
//! mapping, which no unmap in progress is about), and the range is dropped
//! from the table. Any other answer keeps the pin refused. The cost of that
//! rule: if userspace maps the range again before any pin has asked, the
//! glue cannot tell the new mapping from the old, and refuses pins there
//! until userspace unmaps that range again (with nothing pinned, which
//! leaves nothing mapped at its first IOVA). A refusal is never unsafe; a
//! pin allowed too early would be. The glue also asks about every range
//! when the device is opened and when it is closed, so that a VMM that
//! unmaps its memory and closes the device, or starts afresh, leaves no
//! range behind; a range whose mapping is still there stays (a close is no
//! proof that an unmap elsewhere in the container has ended).
//! (With iommufd, which refuses pins during its own unmaps, the same rule
//! holds: it answers `EINVAL` or `ENOENT` when nothing is mapped, and only
//! `EINVAL` otherwise while the mapping is being unmapped, when it refuses
//! the pin itself. iommufd also calls `dma_unmap` with the whole IOVA space
//! when the device leaves its IOAS; that unpins everything, and is not
//! recorded as a range being unmapped: see [`Pins::unmapping`].)
//!
//! The contents of pinned pages are not exposed. Userspace and the guest may
//! write them at any time, so no kernel access to them could meet the
//! contract of `Page::read_raw` and `Page::write_raw` (no concurrent write);
//! drivers read and write guest memory with [`Device::dma_read`] and
//! [`Device::dma_write`], whose user-copy paths are made for memory that
//! userspace changes. Pinning serves drivers whose parent device does the
//! DMA itself.
//!
//! [`DeviceOps::dma_unmap`]: super::DeviceOps::dma_unmap
//! [`DeviceOps::close`]: super::DeviceOps::close

use super::{bindings, Device, DeviceOps};
use core::{mem::size_of, ptr};
use kernel::{error::to_result, page::PAGE_SIZE, prelude::*};

/// The size of a page, as an IOVA length.
const PAGE: u64 = PAGE_SIZE as u64;

/// The most pages one [`Device::pin`] may pin: VFIO refuses more at once
/// (`VFIO_PIN_PAGES_MAX_ENTRIES`, a page of `unsigned long`, which bindgen
/// cannot evaluate).
pub const PIN_MAX_PAGES: usize = PAGE_SIZE / size_of::<c_ulong>();

/// Whole pages of IOVA: `pages` pages from the page-aligned `iova`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Span {
    iova: u64,
    pages: usize,
}

impl Span {
    /// The pages that hold the `len` bytes at `iova`; `None` if `len` is 0
    /// or the range wraps around the IOVA space.
    fn covering(iova: u64, len: u64) -> Option<Self> {
        let last = iova.checked_add(len.checked_sub(1)?)?;
        let pages = usize::try_from(last / PAGE - iova / PAGE + 1).ok()?;
        Some(Self {
            iova: iova - iova % PAGE,
            pages,
        })
    }

    /// The last byte of the span; the top of the IOVA space if it would lie
    /// beyond (VFIO never maps there, so nothing can be pinned there either).
    fn last(&self) -> u64 {
        u64::try_from(self.pages)
            .ok()
            .and_then(|pages| pages.checked_mul(PAGE))
            .and_then(|len| self.iova.checked_add(len - 1))
            .unwrap_or(u64::MAX)
    }

    /// Whether the span shares a byte with the `length` bytes at `iova`.
    fn overlaps(&self, iova: u64, length: u64) -> bool {
        let Some(rest) = length.checked_sub(1) else {
            return false;
        };
        let last = iova.saturating_add(rest);
        self.iova <= last && iova <= self.last()
    }
}

/// Guest pages that [`Device::pin`] pinned: the receipt to give back to
/// [`Device::unpin`].
///
/// It is not `Clone`, so each pin is unpinned at most once. Dropping it does
/// not unpin: the pages stay pinned until [`Device::unpin`], a `dma_unmap`
/// of their IOVA or the device's close, whichever comes first.
#[derive(Debug, PartialEq, Eq)]
pub struct PinnedPages {
    id: u64,
    span: Span,
}

impl PinnedPages {
    /// The IOVA of the first pinned page (the pinned range, rounded down to
    /// a page).
    pub fn iova(&self) -> u64 {
        self.span.iova
    }

    /// How many pages are pinned.
    pub fn pages(&self) -> usize {
        self.span.pages
    }

    /// Whether a pinned page holds some of the `length` bytes at `iova`, for
    /// example of a range that [`super::DeviceOps::dma_unmap`] reports.
    pub fn overlaps(&self, iova: u64, length: u64) -> bool {
        self.span.overlaps(iova, length)
    }
}

/// A range of IOVA that `dma_unmap` reported: the mapping from `iova` to
/// `last` (both included).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Unmapping {
    iova: u64,
    last: u64,
}

/// Past this many ranges in the table, a pin asks about every range, not
/// only those it overlaps, so that the table does not grow with ranges that
/// no pin touches again.
const UNMAPPING_SWEEP: usize = 16;

/// The pins of a device, whether VFIO has it open, and the ranges being
/// unmapped.
///
/// # Invariants
///
/// - `pins` is empty unless `open`.
/// - Each id in `pins` is unique, and below `next_id`: an id is never given
///   twice, so a receipt can only ever take back its own pin.
/// - Every range `dma_unmap` reported is in `unmapping`, or `refuse_all` is
///   set, until a pin has found that nothing is mapped at its first IOVA.
pub(super) struct Pins {
    open: bool,
    next_id: u64,
    pins: KVec<(u64, Span)>,
    unmapping: KVec<Unmapping>,
    /// A reported range could not be recorded (no memory): every pin is
    /// refused from then on.
    refuse_all: bool,
}

impl Pins {
    /// No pins, the device closed.
    pub(super) const fn new() -> Self {
        Self {
            open: false,
            next_id: 0,
            pins: KVec::new(),
            unmapping: KVec::new(),
            refuse_all: false,
        }
    }

    /// `dma_unmap` reports the `length` bytes at `iova`: from now on, pins
    /// that overlap them are refused (see [`Self::check_unmapping`]).
    ///
    /// The whole IOVA space (`iova` 0, `length` `u64::MAX`) is no mapping:
    /// iommufd reports it when the device leaves its IOAS (detached,
    /// attached to another, or unbound: `iommufd_access_change_ioas()`),
    /// after it has taken the device off the IOAS, so that no pin can
    /// happen until the device is on its new IOAS, where nothing is being
    /// unmapped. Recording it would refuse every pin for as long as IOVA 0
    /// stays mapped, which a VMM maps for guest memory. (Type1 reports a
    /// mapping, whose size is whole pages: never that one.)
    fn unmapping(&mut self, iova: u64, length: u64) {
        if iova == 0 && length == u64::MAX {
            return;
        }
        let Some(rest) = length.checked_sub(1) else {
            return;
        };
        let range = Unmapping {
            iova,
            last: iova.saturating_add(rest),
        };
        // Type1 reports the same mapping again while it retries.
        if self.unmapping.contains(&range) {
            return;
        }
        if self.unmapping.push(range, GFP_KERNEL).is_err() {
            // INVARIANT: not recorded, so every pin is refused.
            self.refuse_all = true;
        }
    }

    /// Fails with `EAGAIN` if `span` overlaps a range that `dma_unmap`
    /// reported and whose mapping may still be there. `nothing_mapped(iova)`
    /// says whether VFIO has nothing mapped at `iova`; such ranges are gone
    /// and are dropped.
    fn check_unmapping(
        &mut self,
        span: Span,
        mut nothing_mapped: impl FnMut(u64) -> bool,
    ) -> Result {
        if self.refuse_all {
            return Err(EAGAIN);
        }
        let sweep = self.unmapping.len() > UNMAPPING_SWEEP;
        let mut busy = false;
        self.unmapping.retain(|range| {
            let overlaps = span.iova <= range.last && range.iova <= span.last();
            if !overlaps && !sweep {
                return true;
            }
            // INVARIANT: a range is only dropped once its mapping is gone.
            if nothing_mapped(range.iova) {
                return false;
            }
            busy |= overlaps;
            true
        });
        if busy {
            Err(EAGAIN)
        } else {
            Ok(())
        }
    }

    /// Drops every range at whose first IOVA `nothing_mapped` says VFIO has
    /// nothing mapped: their mappings are gone.
    fn sweep_unmapping(&mut self, mut nothing_mapped: impl FnMut(u64) -> bool) {
        // INVARIANT: a range is only dropped once its mapping is gone.
        self.unmapping.retain(|range| !nothing_mapped(range.iova));
    }

    /// Fails with `EINVAL` unless the device is open.
    fn check_open(&self) -> Result {
        if self.open {
            Ok(())
        } else {
            Err(EINVAL)
        }
    }

    /// Makes room to record one more pin, so that recording cannot fail
    /// after the pages are pinned.
    fn reserve(&mut self) -> Result {
        self.check_open()?;
        self.pins.reserve(1, GFP_KERNEL)?;
        Ok(())
    }

    /// Records the pinned `span` in the room [`Self::reserve`] made.
    fn record(&mut self, span: Span) -> Result<PinnedPages> {
        self.check_open()?;
        let id = self.next_id;
        self.pins
            .push_within_capacity((id, span))
            .map_err(|_| ENOMEM)?;
        // INVARIANT: open, and `id` was never given.
        self.next_id += 1;
        Ok(PinnedPages { id, span })
    }

    /// Takes the pin of `receipt` out of the table, if it is still there.
    fn take(&mut self, receipt: &PinnedPages) -> Option<Span> {
        let index = self.pins.iter().position(|(id, _)| *id == receipt.id)?;
        self.pins.remove(index).ok().map(|(_, span)| span)
    }

    /// Takes every pin that overlaps the `length` bytes at `iova` out of the
    /// table and hands each to `unpin`.
    fn take_overlapping(&mut self, iova: u64, length: u64, mut unpin: impl FnMut(Span)) {
        self.pins.retain(|(_, span)| {
            let overlaps = span.overlaps(iova, length);
            if overlaps {
                unpin(*span);
            }
            !overlaps
        });
    }

    /// The device is closing: takes every pin out of the table and hands
    /// each to `unpin`.
    fn close(&mut self, mut unpin: impl FnMut(Span)) {
        for (_, span) in self.pins.drain_all() {
            unpin(span);
        }
        // INVARIANT: no pins are left.
        self.open = false;
    }

    /// How many pages are pinned.
    fn pinned_pages(&self) -> usize {
        self.pins.iter().map(|(_, span)| span.pages).sum()
    }
}

impl<T: DeviceOps> Device<T> {
    /// Reads `data.len()` bytes of guest memory at `iova` into `data`.
    ///
    /// Fails with `EINVAL` unless the device is open, with `EINVAL` (type1)
    /// or `ENOENT` (iommufd) if some of the range is not mapped, with
    /// `EFAULT` if the memory behind it cannot be read. VFIO copies mapping
    /// by mapping, so a failed copy may have done the part before the first
    /// byte that is not mapped. May sleep.
    pub fn dma_read(&self, iova: u64, data: &mut [u8]) -> Result {
        // SAFETY: `data` is a mutable slice, valid for writes of its length.
        unsafe { self.dma_rw(iova, data.as_mut_ptr(), data.len(), false) }
    }

    /// Writes `data` into guest memory at `iova`.
    ///
    /// Fails as [`Self::dma_read`] does. May sleep.
    pub fn dma_write(&self, iova: u64, data: &[u8]) -> Result {
        // SAFETY: `data` is valid for reads of its length, and VFIO only
        // reads it when told to write to guest memory.
        unsafe { self.dma_rw(iova, data.as_ptr().cast_mut(), data.len(), true) }
    }

    /// Copies `len` bytes between `data` and guest memory at `iova`: into
    /// guest memory if `write`, else out of it.
    ///
    /// # Safety
    ///
    /// `data` must be valid for reads of `len` bytes if `write`, else for
    /// writes of `len` bytes.
    unsafe fn dma_rw(&self, iova: u64, data: *mut u8, len: usize, write: bool) -> Result {
        if len == 0 {
            // VFIO refuses empty copies; there is nothing to check either.
            return Ok(());
        }
        // Held during the copy: the close waits for it, so VFIO cannot
        // detach the container while the copy uses it.
        let pins = self.pins.lock();
        pins.check_open()?;
        // SAFETY: The device is alive and open (checked under the lock the
        // close takes); the caller guarantees `data` for this direction.
        to_result(unsafe { bindings::vfio_dma_rw(self.vdev.get(), iova, data.cast(), len, write) })
    }

    /// Pins the guest pages that hold the `len` bytes at `iova`, for reading
    /// and, if `write`, for writing.
    ///
    /// The pages stay pinned until [`Self::unpin`] takes the receipt back,
    /// or userspace unmaps some of them (see
    /// [`DeviceOps::dma_unmap`](super::DeviceOps::dma_unmap)), or the
    /// device is closed. Fails with `EINVAL` if `len` is 0 or the device is
    /// not open, with `E2BIG` for more than [`PIN_MAX_PAGES`] pages, with
    /// `EAGAIN` if userspace is unmapping some of the range (see the
    /// [module documentation](self)), and as VFIO does for IOVA that is not
    /// mapped (type1: `EINVAL`, iommufd: `ENOENT`) or not writable, or for
    /// a type1 container that is not v2 (`EACCES`). May sleep.
    pub fn pin(&self, iova: u64, len: usize, write: bool) -> Result<PinnedPages> {
        let len = u64::try_from(len).map_err(|_| EINVAL)?;
        let span = Span::covering(iova, len).ok_or(EINVAL)?;
        if span.pages > PIN_MAX_PAGES {
            return Err(E2BIG);
        }
        // VFIO fills in the pinned pages, which the glue does not use: their
        // contents are only reached through `dma_read` and `dma_write`.
        let mut pages = KVec::from_elem(ptr::null_mut(), span.pages, GFP_KERNEL)?;
        let prot = bindings::IOMMU_READ | if write { bindings::IOMMU_WRITE } else { 0 };
        let mut pins = self.pins.lock();
        pins.reserve()?;
        pins.check_unmapping(span, |iova| {
            // SAFETY: The device is open (`reserve` checked, under the lock
            // that the close takes).
            unsafe { self.nothing_mapped_at(iova) }
        })?;
        // `span.pages` is at most `PIN_MAX_PAGES`.
        let npage = span.pages as c_int;
        // SAFETY: The device is alive and open (checked under the lock that
        // the close takes); `pages` has room for `npage` entries.
        let pinned = unsafe {
            bindings::vfio_pin_pages(
                self.vdev.get(),
                span.iova,
                npage,
                prot as c_int,
                pages.as_mut_ptr(),
            )
        };
        to_result(pinned)?;
        if pinned != npage {
            // VFIO pins all or nothing; should it ever pin part, give that
            // back rather than record a pin of another size.
            if pinned > 0 {
                // SAFETY: As above; these `pinned` pages are pinned now.
                unsafe { bindings::vfio_unpin_pages(self.vdev.get(), span.iova, pinned) };
            }
            return Err(EFAULT);
        }
        pins.record(span).inspect_err(|_| {
            // SAFETY: The device is open (the lock is held since `reserve`
            // checked); the pages are pinned and were not recorded.
            unsafe { self.unpin_span(span) }
        })
    }

    /// Unpins the pages of `receipt`.
    ///
    /// Fails with `ENOENT`, changing nothing, if they were unpinned already:
    /// by a `dma_unmap` of their IOVA or by the device's close.
    pub fn unpin(&self, receipt: PinnedPages) -> Result {
        let mut pins = self.pins.lock();
        let span = pins.take(&receipt).ok_or(ENOENT)?;
        // SAFETY: By the invariants of `Pins` the device is open, since it
        // had this pin, which was just taken out of the table.
        unsafe { self.unpin_span(span) };
        Ok(())
    }

    /// How many guest pages the device has pinned now.
    pub fn pinned_pages(&self) -> usize {
        self.pins.lock().pinned_pages()
    }

    /// Whether VFIO has nothing mapped at `iova`: a read of one byte there
    /// fails with `EINVAL` (type1, or iommufd) or `ENOENT` (iommufd). Type1
    /// answers `EINVAL` only when no mapping holds `iova`. The byte read is
    /// not used.
    ///
    /// # Safety
    ///
    /// The device must be open.
    unsafe fn nothing_mapped_at(&self, iova: u64) -> bool {
        let mut byte = 0u8;
        // SAFETY: The device is alive and, as the caller guarantees, open;
        // `byte` is valid for a write of one byte.
        let ret = unsafe {
            bindings::vfio_dma_rw(self.vdev.get(), iova, (&raw mut byte).cast(), 1, false)
        };
        ret == EINVAL.to_errno() || ret == ENOENT.to_errno()
    }

    /// Unpins `span`.
    ///
    /// # Safety
    ///
    /// The device must be open, and `span` one of its pins that its table
    /// no longer records (taken out, or never recorded): VFIO counts pins
    /// per IOVA for the whole container, so unpinning a span twice would
    /// take a pin of another device.
    unsafe fn unpin_span(&self, span: Span) {
        // SAFETY: The device is alive and open, and `span` is pinned, at most
        // `PIN_MAX_PAGES` pages (as `pin` checked), and unpinned only here.
        unsafe { bindings::vfio_unpin_pages(self.vdev.get(), span.iova, span.pages as c_int) };
    }

    /// VFIO opened the device: DMA and pinning are allowed from now on.
    /// Ranges whose unmap is over are forgotten (a new session of the VMM
    /// maps its memory afresh, maybe in another container).
    pub(super) fn dma_open(&self) {
        let mut pins = self.pins.lock();
        pins.open = true;
        pins.sweep_unmapping(|iova| {
            // SAFETY: VFIO has attached the container before the open
            // callback, and counts the device open.
            unsafe { self.nothing_mapped_at(iova) }
        });
    }

    /// VFIO is closing the device (it is still open, until the close
    /// callback returns): forgets the ranges whose unmap is over, unpins
    /// every pin left and allows no more DMA.
    pub(super) fn dma_close(&self) {
        let mut pins = self.pins.lock();
        pins.sweep_unmapping(|iova| {
            // SAFETY: The device is still open.
            unsafe { self.nothing_mapped_at(iova) }
        });
        pins.close(|span| {
            // SAFETY: The device is still open, and `close` took the pin out
            // of the table.
            unsafe { self.unpin_span(span) }
        });
    }

    /// Userspace is unmapping the `length` bytes at `iova` (before the
    /// driver's `dma_unmap`): pins that overlap them are refused from now
    /// on, until the mapping is gone.
    pub(super) fn dma_unmapping(&self, iova: u64, length: u64) {
        self.pins.lock().unmapping(iova, length);
    }

    /// Userspace unmapped the `length` bytes at `iova`: unpins every pin that
    /// overlaps them, which VFIO requires before the unmap can go on.
    pub(super) fn dma_unmapped(&self, iova: u64, length: u64) {
        self.pins.lock().take_overlapping(iova, length, |span| {
            // SAFETY: By the invariants of `Pins` the device is open, since
            // it had this pin, which was just taken out of the table.
            unsafe { self.unpin_span(span) }
        });
    }
}

#[cfg(mdev_vendor_api_kunit)]
#[kunit_tests(mdev_rs_vfio_dma)]
mod tests {
    use super::*;

    fn span(iova: u64, pages: usize) -> Span {
        Span { iova, pages }
    }

    #[test]
    fn covering_counts_every_page_touched() {
        assert_eq!(Span::covering(0, 1), Some(span(0, 1)));
        assert_eq!(Span::covering(PAGE - 1, 2), Some(span(0, 2)));
        assert_eq!(Span::covering(PAGE, PAGE), Some(span(PAGE, 1)));
        assert_eq!(Span::covering(PAGE + 1, PAGE), Some(span(PAGE, 2)));
        assert_eq!(
            Span::covering(3 * PAGE + 5, 4 * PAGE),
            Some(span(3 * PAGE, 5))
        );
        assert_eq!(
            Span::covering(u64::MAX, 1),
            Some(span(u64::MAX - (PAGE - 1), 1))
        );
    }

    #[test]
    fn covering_refuses_empty_and_wrapping_ranges() {
        assert_eq!(Span::covering(PAGE, 0), None);
        assert_eq!(Span::covering(u64::MAX, 2), None);
        assert_eq!(Span::covering(2, u64::MAX), None);
        // Up to the last byte of the IOVA space is no wrap.
        assert_eq!(Span::covering(1, u64::MAX).map(|s| s.iova), Some(0));
    }

    #[test]
    fn overlap_is_sharing_a_byte() {
        let s = span(2 * PAGE, 2);
        assert!(s.overlaps(2 * PAGE, 1));
        assert!(s.overlaps(4 * PAGE - 1, 1));
        assert!(s.overlaps(0, u64::MAX));
        assert!(s.overlaps(PAGE, PAGE + 1));
        assert!(!s.overlaps(PAGE, PAGE));
        assert!(!s.overlaps(4 * PAGE, PAGE));
        assert!(!s.overlaps(3 * PAGE, 0));
        // Ranges that reach the top of the IOVA space do not wrap.
        assert!(!s.overlaps(u64::MAX - 1, 100));
        assert!(span(u64::MAX - (PAGE - 1), 1).overlaps(u64::MAX, 1));
    }

    /// A table of an open device holding `spans`, and their receipts.
    fn table(spans: &[Span]) -> (Pins, KVec<PinnedPages>) {
        let mut pins = Pins::new();
        pins.open = true;
        let mut receipts = KVec::new();
        for s in spans {
            pins.reserve().unwrap();
            receipts.push(pins.record(*s).unwrap(), GFP_KERNEL).unwrap();
        }
        (pins, receipts)
    }

    #[test]
    fn a_closed_device_records_nothing() {
        let mut pins = Pins::new();
        assert_eq!(pins.reserve(), Err(EINVAL));
        assert_eq!(pins.check_open(), Err(EINVAL));
    }

    #[test]
    fn a_receipt_takes_back_its_own_pin_once() {
        let (mut pins, receipts) = table(&[span(0, 1), span(0, 1), span(PAGE, 3)]);
        assert_eq!(pins.pinned_pages(), 5);
        assert_eq!(pins.take(&receipts[1]), Some(span(0, 1)));
        assert_eq!(pins.take(&receipts[1]), None);
        assert_eq!(pins.pinned_pages(), 4);
        assert_eq!(pins.take(&receipts[0]), Some(span(0, 1)));
        assert_eq!(pins.take(&receipts[2]), Some(span(PAGE, 3)));
        assert_eq!(pins.pinned_pages(), 0);
    }

    #[test]
    fn unmap_takes_exactly_the_overlapping_pins() {
        let (mut pins, receipts) = table(&[span(0, 1), span(PAGE, 2), span(8 * PAGE, 1)]);
        let mut unpinned = KVec::new();
        pins.take_overlapping(2 * PAGE, 6 * PAGE, |s| {
            unpinned.push(s, GFP_KERNEL).unwrap()
        });
        assert_eq!(&unpinned[..], &[span(PAGE, 2)]);
        assert_eq!(pins.pinned_pages(), 2);
        assert_eq!(pins.take(&receipts[1]), None);
        // The others are still there, and an unmap elsewhere takes nothing.
        let mut others = 0;
        pins.take_overlapping(16 * PAGE, PAGE, |_| others += 1);
        assert_eq!(others, 0);
        assert_eq!(pins.take(&receipts[2]), Some(span(8 * PAGE, 1)));
        assert_eq!(pins.take(&receipts[0]), Some(span(0, 1)));
    }

    #[test]
    fn pins_of_a_range_being_unmapped_wait_until_it_is_gone() {
        let (mut pins, _) = table(&[]);
        pins.unmapping(4 * PAGE, 2 * PAGE);
        // Type1's retries report the same mapping again: recorded once.
        pins.unmapping(4 * PAGE, 2 * PAGE);
        assert_eq!(pins.unmapping.len(), 1);
        // A pin elsewhere asks nothing.
        let mut asked = 0;
        let none = |_: u64| {
            asked += 1;
            false
        };
        assert_eq!(pins.check_unmapping(span(2 * PAGE, 2), none), Ok(()));
        assert_eq!(asked, 0);
        // A pin that overlaps, from inside or below, while VFIO still has
        // something mapped at the range's first IOVA: refused.
        let mut at = 0;
        let mapped = |iova: u64| {
            at = iova;
            false
        };
        assert_eq!(pins.check_unmapping(span(5 * PAGE, 1), mapped), Err(EAGAIN));
        assert_eq!(at, 4 * PAGE);
        assert_eq!(
            pins.check_unmapping(span(3 * PAGE, 2), |_| false),
            Err(EAGAIN)
        );
        assert_eq!(pins.unmapping.len(), 1);
        // Nothing mapped there any more: the unmap is over.
        assert_eq!(pins.check_unmapping(span(5 * PAGE, 1), |_| true), Ok(()));
        assert!(pins.unmapping.is_empty());
        assert_eq!(pins.check_unmapping(span(5 * PAGE, 1), |_| false), Ok(()));
    }

    #[test]
    fn leaving_the_ioas_is_no_unmap_in_progress() {
        let (mut pins, _) = table(&[span(0, 1), span(4 * PAGE, 1)]);
        pins.unmapping(0, u64::MAX);
        assert!(pins.unmapping.is_empty());
        // Its pins are still given back, as for any dma_unmap.
        let mut unpinned = 0;
        pins.take_overlapping(0, u64::MAX, |_| unpinned += 1);
        assert_eq!(unpinned, 2);
        assert_eq!(pins.check_unmapping(span(0, 1), |_| false), Ok(()));
    }

    #[test]
    fn ranges_being_unmapped_outlive_a_close() {
        let (mut pins, _) = table(&[span(0, 1)]);
        pins.unmapping(0, PAGE);
        pins.close(|_| ());
        pins.open = true;
        assert_eq!(pins.check_unmapping(span(0, 1), |_| false), Err(EAGAIN));
    }

    #[test]
    fn empty_and_topmost_unmaps() {
        let (mut pins, _) = table(&[]);
        pins.unmapping(PAGE, 0);
        assert!(pins.unmapping.is_empty());
        pins.unmapping(u64::MAX - (PAGE - 1), u64::MAX);
        let top = span(u64::MAX - (PAGE - 1), 1);
        assert_eq!(pins.check_unmapping(top, |_| false), Err(EAGAIN));
    }

    #[test]
    fn a_sweep_drops_exactly_the_ranges_gone() {
        let (mut pins, _) = table(&[]);
        for i in 0..4 {
            pins.unmapping(i * 16 * PAGE, PAGE);
        }
        pins.sweep_unmapping(|iova| iova != 16 * PAGE);
        assert_eq!(pins.unmapping.len(), 1);
        assert_eq!(
            pins.check_unmapping(span(16 * PAGE, 1), |_| false),
            Err(EAGAIN)
        );
        assert_eq!(pins.check_unmapping(span(0, 1), |_| false), Ok(()));
    }

    #[test]
    fn a_large_table_is_swept_by_any_pin() {
        let (mut pins, _) = table(&[]);
        for i in 0..UNMAPPING_SWEEP as u64 {
            pins.unmapping(16 * i * PAGE, PAGE);
        }
        let mut asked = 0;
        let gone = |_: u64| {
            asked += 1;
            true
        };
        // Not over the limit: only overlapping ranges are asked about.
        assert_eq!(pins.check_unmapping(span(PAGE, 1), gone), Ok(()));
        assert_eq!(asked, 0);
        pins.unmapping(1 << 40, PAGE);
        // Over it: every range is, and those gone are dropped; one that is
        // still mapped stays, and refuses only what overlaps it.
        let mut asked = 0;
        let all_but_first = |iova: u64| {
            asked += 1;
            iova != 0
        };
        assert_eq!(pins.check_unmapping(span(PAGE, 1), all_but_first), Ok(()));
        assert_eq!(asked, UNMAPPING_SWEEP + 1);
        assert_eq!(pins.unmapping.len(), 1);
        assert_eq!(pins.check_unmapping(span(0, 1), |_| false), Err(EAGAIN));
    }

    #[test]
    fn close_takes_every_pin_and_refuses_more() {
        let (mut pins, receipts) = table(&[span(0, 1), span(PAGE, 2)]);
        let mut unpinned = 0;
        pins.close(|s| unpinned += s.pages);
        assert_eq!(unpinned, 3);
        assert_eq!(pins.pinned_pages(), 0);
        assert_eq!(pins.take(&receipts[0]), None);
        assert_eq!(pins.reserve(), Err(EINVAL));
        // Ids are never given twice, even after a close and a new open.
        pins.open = true;
        pins.reserve().unwrap();
        let again = pins.record(span(0, 1)).unwrap();
        assert!(receipts.iter().all(|r| r.id != again.id));
    }
}
