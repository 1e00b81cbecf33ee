// SPDX-License-Identifier: GPL-2.0

//! Mapping regions into userspace: the pages a driver owns to back them,
//! the sparse-mmap areas a region advertises, and the checks every `mmap`
//! of the device passes before a page is mapped.
//!
//! A driver declares a region mappable ([`Region::mappable`], optionally
//! with [`Region::with_sparse`]) and returns the [`PageBuffer`] behind it
//! from [`DeviceOps::mmap_pages`]: region offset `o` is byte `o` of the
//! buffer. The glue maps the buffer's own pages (`vm_insert_page`), so the
//! mapping holds references on them and stays valid even after the device
//! and its buffer are gone.
//!
//! [`Region::mappable`]: super::Region::mappable
//! [`Region::with_sparse`]: super::Region::with_sparse
//! [`DeviceOps::mmap_pages`]: super::DeviceOps::mmap_pages

use super::{bindings, region, Device, DeviceOps, Region};
use core::mem::size_of;
use kernel::{
    mm::virt::{self, VmaNew},
    new_mutex,
    page::{Page, PAGE_SIZE},
    prelude::*,
    sync::Mutex,
    transmute::AsBytes,
};

/// A part of a region that userspace may map, as
/// `VFIO_REGION_INFO_CAP_SPARSE_MMAP` reports it. Page aligned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MmapArea {
    /// Offset in the region.
    pub offset: u64,
    /// Size in bytes.
    pub size: u64,
}

/// Whether `len` bytes at `offset` of `region` may be mapped: inside the
/// region and, if it lists sparse areas, inside one of them.
pub(super) fn mappable_range(region: &Region, offset: u64, len: u64) -> bool {
    let inside = |start: u64, size: u64| {
        offset >= start && offset - start < size && len <= size - (offset - start)
    };
    region.flags & bindings::VFIO_REGION_INFO_FLAG_MMAP != 0
        && len != 0
        && inside(0, region.size)
        && (region.sparse.is_empty() || region.sparse.iter().any(|a| inside(a.offset, a.size)))
}

/// Pages owned by a driver, to back a region that userspace maps; the
/// driver reads and writes them too (its region read path, say).
///
/// This is memory shared with userspace: whoever maps the region may write
/// it at any time, from any CPU, while the kernel reads or writes it here
/// (mdpy's framebuffer is drawn by the VMM while the guest reads it back
/// through the region). So the kernel never makes a Rust reference to the
/// pages' contents, nor copies them with Rust's plain (non-racing) loads
/// and stores: [`Self::read`], [`Self::write`] and [`Self::fill`] map each
/// page with `kmap_local_page()` and copy through raw pointers with
/// volatile accesses, the Rust form of `READ_ONCE()`/`WRITE_ONCE()`, as the
/// kernel crate does for memory that a device or userspace changes
/// (`dma::Coherent::field_read()`). A read may see a mix of bytes from
/// before and after a concurrent userspace write; that is all it may see.
/// The kernel's own accesses are serialized by the buffer's lock, so they
/// never race each other.
#[pin_data]
pub struct PageBuffer {
    pages: KVec<Page>,
    #[pin]
    access: Mutex<()>,
}

/// Runs `f` with a pointer to byte `offset` of `page`, valid for `len`
/// bytes, through a mapping made for the call on this task; `EINVAL` if the
/// bytes are not all in the page.
fn with_page_bytes(page: &Page, offset: usize, len: usize, f: impl FnOnce(*mut u8)) -> Result {
    if offset > PAGE_SIZE || len > PAGE_SIZE - offset {
        return Err(EINVAL);
    }
    // SAFETY: `page` owns a valid page.
    let base = unsafe { kernel::bindings::kmap_local_page(page.as_ptr()) }.cast::<u8>();
    // SAFETY: `offset <= PAGE_SIZE`: inside the page's mapping, or one past
    // its end (then `len` is 0).
    f(unsafe { base.add(offset) });
    // SAFETY: `base` is the mapping made above, and the last one this task
    // made: `f` (this module's copies) maps nothing, so local mappings are
    // undone in reverse order, as `kunmap_local()` requires.
    unsafe { kernel::bindings::kunmap_local(base.cast()) };
    Ok(())
}

// Racing accesses to memory shared with userspace: every copy below reads or
// writes the shared side with `read_volatile`/`write_volatile` only. Rust's
// own rules leave a plain access that races with another write undefined;
// for a race with userspace (or a device), the kernel relies on volatile
// accesses, which generate the same code as `READ_ONCE()`/`WRITE_ONCE()`
// (see `kernel::dma::Coherent::field_read()`). Every bit pattern is a valid
// `u8` or `u64`, so any value read is fine. Volatile accesses do not make
// races between two kernel paths defined: the buffer's lock excludes those.

/// How `len` bytes at `shared` split for a copy word by word: the bytes
/// before the first aligned `u64`, then the number of whole words; the
/// bytes after those are the tail.
fn word_split(shared: *const u8, len: usize) -> (usize, usize) {
    let head = shared.align_offset(size_of::<u64>()).min(len);
    (head, (len - head) / size_of::<u64>())
}

/// Copies `len` bytes from `shared` (memory userspace may write
/// meanwhile) to `dst`.
///
/// # Safety
///
/// `shared` must be valid for reads of `len` bytes, and `dst` for writes of
/// `len` bytes that nothing else accesses during the call; the two must not
/// overlap. No other kernel path may write `shared` during the call.
unsafe fn copy_from_shared(shared: *const u8, dst: *mut u8, len: usize) {
    // Word by word where the shared side is aligned: a region read through
    // the fd moves up to a page at a time.
    let (head, words) = word_split(shared, len);
    for i in 0..head {
        // SAFETY: `i < len`: both in bounds, by the caller's guarantees; the
        // shared byte is read with a volatile read (see above).
        unsafe { dst.add(i).write(shared.add(i).read_volatile()) };
    }
    for i in 0..words {
        let at = head + i * size_of::<u64>();
        // SAFETY: `at + 8 <= len`: both in bounds. The shared word is
        // aligned (`head` aligned it) and read with a volatile read; `dst`
        // has no alignment, hence the unaligned write.
        unsafe {
            let word = shared.add(at).cast::<u64>().read_volatile();
            dst.add(at).cast::<u64>().write_unaligned(word);
        }
    }
    for i in head + words * size_of::<u64>()..len {
        // SAFETY: As for the head.
        unsafe { dst.add(i).write(shared.add(i).read_volatile()) };
    }
}

/// Copies `len` bytes from `src` into `shared` (memory userspace may read
/// and write meanwhile).
///
/// # Safety
///
/// `src` must be valid for reads of `len` bytes, and `shared` for writes of
/// `len` bytes; the two must not overlap. No other kernel path may read or
/// write `shared` during the call.
unsafe fn copy_to_shared(src: *const u8, shared: *mut u8, len: usize) {
    // Word by word where the shared side is aligned, as `copy_from_shared`.
    let (head, words) = word_split(shared, len);
    for i in 0..head {
        // SAFETY: `i < len`: both in bounds, by the caller's guarantees; the
        // shared byte is written with a volatile write (see above).
        unsafe { shared.add(i).write_volatile(src.add(i).read()) };
    }
    for i in 0..words {
        let at = head + i * size_of::<u64>();
        // SAFETY: `at + 8 <= len`: both in bounds. `src` has no alignment,
        // hence the unaligned read; the shared word is aligned and written
        // with a volatile write.
        unsafe {
            let word = src.add(at).cast::<u64>().read_unaligned();
            shared.add(at).cast::<u64>().write_volatile(word);
        }
    }
    for i in head + words * size_of::<u64>()..len {
        // SAFETY: As for the head.
        unsafe { shared.add(i).write_volatile(src.add(i).read()) };
    }
}

/// Sets `len` bytes at `shared` (memory userspace may read and write
/// meanwhile) to `byte`: word by word where aligned, a framebuffer being
/// megabytes.
///
/// # Safety
///
/// `shared` must be valid for writes of `len` bytes. No other kernel path
/// may read or write them during the call.
unsafe fn fill_shared(shared: *mut u8, len: usize, byte: u8) {
    let (head, words) = word_split(shared, len);
    let word = u64::from_ne_bytes([byte; size_of::<u64>()]);
    for i in 0..head {
        // SAFETY: `i < len`; a volatile write (see above).
        unsafe { shared.add(i).write_volatile(byte) };
    }
    // SAFETY: `head <= len`, so this is in bounds or one past the end.
    let aligned = unsafe { shared.add(head) }.cast::<u64>();
    for i in 0..words {
        // SAFETY: `aligned` is aligned for `u64`, and word `i` lies within
        // the `len - head` bytes after it; a volatile write (see above).
        unsafe { aligned.add(i).write_volatile(word) };
    }
    for i in head + words * size_of::<u64>()..len {
        // SAFETY: `i < len`; a volatile write (see above).
        unsafe { shared.add(i).write_volatile(byte) };
    }
}

impl PageBuffer {
    /// A zeroed buffer of `size` bytes, rounded up to whole pages.
    pub fn new(size: usize) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            pages: {
                let count = size.div_ceil(PAGE_SIZE);
                let mut pages = KVec::with_capacity(count, GFP_KERNEL)?;
                for _ in 0..count {
                    pages.push(Page::alloc_page(GFP_KERNEL | __GFP_ZERO)?, GFP_KERNEL)?;
                }
                pages
            },
            access <- new_mutex!(()),
        })
    }

    /// The size in bytes.
    pub fn size(&self) -> usize {
        self.pages.len() * PAGE_SIZE
    }

    /// Calls `f(pointer to the bytes in their page, offset in the access,
    /// length)` for each page that `len` bytes at `offset` touch, under the
    /// lock; the pointer is valid for the length, for the call.
    fn for_each_piece(
        &self,
        offset: usize,
        len: usize,
        mut f: impl FnMut(*mut u8, usize, usize),
    ) -> Result {
        let end = offset.checked_add(len).ok_or(EINVAL)?;
        if end > self.size() {
            return Err(EINVAL);
        }
        let _access = self.access.lock();
        let mut done = 0;
        while done < len {
            let at = offset + done;
            let piece = (PAGE_SIZE - at % PAGE_SIZE).min(len - done);
            with_page_bytes(
                &self.pages[at / PAGE_SIZE],
                at % PAGE_SIZE,
                piece,
                |bytes| f(bytes, done, piece),
            )?;
            done += piece;
        }
        Ok(())
    }

    /// Copies `data.len()` bytes at `offset` out of the buffer.
    pub fn read(&self, offset: usize, data: &mut [u8]) -> Result {
        let dst = data.as_mut_ptr();
        self.for_each_piece(offset, data.len(), |shared, done, len| {
            // Only userspace may write the buffer meanwhile: the kernel's
            // writers hold our lock. `data` is not the buffer's memory.
            // SAFETY: `shared` is valid for `len` bytes of the buffer, and
            // `dst + done` for `len` bytes of `data`, borrowed mutably.
            unsafe { copy_from_shared(shared, dst.add(done), len) }
        })
    }

    /// Copies `data` into the buffer at `offset`.
    pub fn write(&self, offset: usize, data: &[u8]) -> Result {
        let src = data.as_ptr();
        self.for_each_piece(offset, data.len(), |shared, done, len| {
            // SAFETY: As in `read`, with `src + done` valid for reads of
            // `len` bytes of `data`.
            unsafe { copy_to_shared(src.add(done), shared, len) }
        })
    }

    /// Sets `len` bytes at `offset` to `byte`.
    pub fn fill(&self, offset: usize, len: usize, byte: u8) -> Result {
        self.for_each_piece(offset, len, |shared, _, len| {
            // SAFETY: As in `read`: `shared` is valid for `len` bytes, and no
            // other kernel path accesses them (our lock).
            unsafe { fill_shared(shared, len, byte) }
        })
    }

    /// Maps `len` bytes from `offset` (both page multiples) into `vma`.
    fn map_into(&self, vma: &VmaNew, offset: u64, len: usize) -> Result {
        let first = usize::try_from(offset).map_err(|_| EINVAL)? / PAGE_SIZE;
        let count = len / PAGE_SIZE;
        let pages = self.pages.get(first..first + count).ok_or(EINVAL)?;
        let vma = vma.set_mixedmap();
        for (i, page) in pages.iter().enumerate() {
            vma.vm_insert_page(vma.start() + i * PAGE_SIZE, page)?;
        }
        Ok(())
    }
}

/// Maps the region part that the file offset `pgoff` pages in names into
/// `vma`, after checking it against what the driver declared.
pub(super) fn mmap<T: DeviceOps>(dev: &Device<T>, vma: &VmaNew, pgoff: usize) -> Result {
    let start = u64::try_from(pgoff)
        .ok()
        .and_then(|pgoff| pgoff.checked_mul(PAGE_SIZE as u64))
        .ok_or(EINVAL)?;
    let (index, offset) = region::decode_pos(start)?;
    let region = dev.region(index).ok_or(EINVAL)?;
    let len = vma.end() - vma.start();
    if !mappable_range(&region, offset, len as u64) {
        return Err(EINVAL);
    }
    // The pages are the device's: every mapping must see the same ones.
    if vma.flags() & virt::flags::SHARED == 0 {
        return Err(EINVAL);
    }
    if region.flags & bindings::VFIO_REGION_INFO_FLAG_WRITE == 0 {
        // Not writable now, and never later: without `VM_MAYWRITE`,
        // `mprotect(PROT_WRITE)` fails with `EACCES`. It fails only if
        // `VM_WRITE` is set, which is the writable mapping refused here.
        vma.try_clear_maywrite().map_err(|_| EACCES)?;
    }
    dev.mmap_pages(index)
        .ok_or(EINVAL)?
        .map_into(vma, offset, len)
}

/// The `VFIO_REGION_INFO_CAP_SPARSE_MMAP` capability listing `areas`, as
/// the bytes `vfio_info_add_capability()` copies: the header, the count,
/// then each area. In `u64`s, so that the header is aligned.
pub(super) fn sparse_cap(areas: &[MmapArea]) -> Result<KVec<u64>> {
    let mut words = KVec::new();
    words.resize(2 + 2 * areas.len(), 0u64, GFP_KERNEL)?;
    let bytes = AsBytes::as_bytes_mut(words.as_mut_slice());
    let mut put = |at: usize, field: &[u8]| bytes[at..at + field.len()].copy_from_slice(field);
    // struct vfio_info_cap_header: id, version, next (filled in by VFIO).
    put(
        0,
        &(bindings::VFIO_REGION_INFO_CAP_SPARSE_MMAP as u16).to_ne_bytes(),
    );
    put(2, &1u16.to_ne_bytes());
    put(
        8,
        &u32::try_from(areas.len())
            .map_err(|_| EINVAL)?
            .to_ne_bytes(),
    );
    for (i, area) in areas.iter().enumerate() {
        put(16 + 16 * i, &area.offset.to_ne_bytes());
        put(24 + 16 * i, &area.size.to_ne_bytes());
    }
    Ok(words)
}

#[cfg(mdev_vendor_api_kunit)]
#[kunit_tests(mdev_rs_vfio_mmap)]
mod tests {
    use super::*;

    const P: u64 = PAGE_SIZE as u64;
    static AREAS: [MmapArea; 2] = [
        MmapArea {
            offset: P,
            size: 2 * P,
        },
        MmapArea {
            offset: 8 * P,
            size: P,
        },
    ];

    #[test]
    fn whole_mappable_regions() {
        let region = Region::mappable(4 * P);
        assert!(mappable_range(&region, 0, 4 * P));
        assert!(mappable_range(&region, 3 * P, P));
        assert!(!mappable_range(&region, 3 * P, 2 * P));
        assert!(!mappable_range(&region, 4 * P, P));
        assert!(!mappable_range(&region, 0, 0));
        assert!(!mappable_range(&Region::read_write(4 * P), 0, P));
    }

    #[test]
    fn sparse_regions_map_inside_one_area() {
        let region = Region::read_write(16 * P).with_sparse(&AREAS);
        assert!(mappable_range(&region, P, 2 * P));
        assert!(mappable_range(&region, 2 * P, P));
        assert!(mappable_range(&region, 8 * P, P));
        assert!(!mappable_range(&region, 0, P));
        assert!(!mappable_range(&region, P, 3 * P));
        assert!(!mappable_range(&region, 3 * P, P));
        assert!(!mappable_range(&region, u64::MAX - P, P));
    }

    #[test]
    fn sparse_capability_layout() {
        let words = sparse_cap(&AREAS).unwrap();
        assert_eq!(words.len(), 6);
        let bytes = AsBytes::as_bytes(words.as_slice());
        assert_eq!(
            u16::from_ne_bytes([bytes[0], bytes[1]]),
            bindings::VFIO_REGION_INFO_CAP_SPARSE_MMAP as u16
        );
        assert_eq!(u32::from_ne_bytes(bytes[8..12].try_into().unwrap()), 2);
        assert_eq!(words[2], P);
        assert_eq!(words[5], P);
    }

    #[test]
    fn page_buffer_crosses_pages() {
        let buffer = KBox::pin_init(PageBuffer::new(2 * PAGE_SIZE), GFP_KERNEL).unwrap();
        assert_eq!(buffer.size(), 2 * PAGE_SIZE);
        buffer.write(PAGE_SIZE - 2, &[1, 2, 3, 4]).unwrap();
        let mut back = [0u8; 6];
        buffer.read(PAGE_SIZE - 3, &mut back).unwrap();
        assert_eq!(back, [0, 1, 2, 3, 4, 0]);
        buffer.fill(10, PAGE_SIZE, 0xaa).unwrap();
        buffer.read(PAGE_SIZE + 8, &mut back).unwrap();
        assert_eq!(back, [0xaa, 0xaa, 0, 0, 0, 0]);
        assert_eq!(buffer.read(2 * PAGE_SIZE - 1, &mut back), Err(EINVAL));
    }

    #[test]
    fn page_buffer_fills_word_by_word_and_around() {
        let buffer = KBox::pin_init(PageBuffer::new(2 * PAGE_SIZE), GFP_KERNEL).unwrap();
        // Unaligned head and tail, words in between, across the page boundary.
        buffer.fill(PAGE_SIZE - 13, 30, 0x5a).unwrap();
        let mut back = [0u8; 34];
        buffer.read(PAGE_SIZE - 15, &mut back).unwrap();
        assert_eq!(back[..2], [0, 0]);
        assert!(back[2..32].iter().all(|&b| b == 0x5a));
        assert_eq!(back[32..], [0, 0]);
        // Shorter than a word, inside one.
        buffer.fill(1, 3, 7).unwrap();
        let mut word = [0u8; 8];
        buffer.read(0, &mut word).unwrap();
        assert_eq!(word, [0, 7, 7, 7, 0, 0, 0, 0]);
        assert_eq!(buffer.fill(2 * PAGE_SIZE - 1, 2, 1), Err(EINVAL));
    }

    #[test]
    fn page_buffer_copies_word_by_word_and_around() {
        let buffer = KBox::pin_init(PageBuffer::new(2 * PAGE_SIZE), GFP_KERNEL).unwrap();
        let mut pattern = [0u8; 45];
        for (i, byte) in pattern.iter_mut().enumerate() {
            *byte = i as u8 + 1;
        }
        // Every start in a word, a head, words and a tail, across the page
        // boundary, from and into a buffer at an odd address.
        for start in PAGE_SIZE - 24..PAGE_SIZE - 16 {
            buffer.fill(PAGE_SIZE - 32, 64, 0).unwrap();
            buffer.write(start, &pattern[1..]).unwrap();
            let mut back = [0u8; 47];
            buffer.read(start - 1, &mut back[1..]).unwrap();
            assert_eq!(back[1], 0);
            assert_eq!(back[2..46], pattern[1..]);
            assert_eq!(back[46], 0);
        }
    }
}
