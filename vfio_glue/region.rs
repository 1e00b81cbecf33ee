// SPDX-License-Identifier: GPL-2.0

//! Region accesses: the bounds every access is checked against before a
//! driver sees it, and the splitting into naturally aligned pieces.

use super::{bindings, mmap, Device, DeviceOps, MmapArea, PageBuffer, REGION_SHIFT};
use kernel::{prelude::*, uaccess::UserPtr};

/// What `VFIO_DEVICE_GET_REGION_INFO` reports about a region.
#[derive(Clone, Copy)]
pub struct Region {
    /// Size in bytes.
    pub size: u64,
    /// `VFIO_REGION_INFO_FLAG_*`.
    pub flags: u32,
    /// The parts userspace may map, if only some: reported through the
    /// `VFIO_REGION_INFO_CAP_SPARSE_MMAP` capability. Empty: all of it, if
    /// the region has `VFIO_REGION_INFO_FLAG_MMAP`.
    pub sparse: &'static [MmapArea],
}

impl Region {
    /// A region of `size` bytes that userspace may read and write.
    pub const fn read_write(size: u64) -> Self {
        Self {
            size,
            flags: bindings::VFIO_REGION_INFO_FLAG_READ | bindings::VFIO_REGION_INFO_FLAG_WRITE,
            sparse: &[],
        }
    }

    /// A region of `size` bytes that userspace may read, write and map:
    /// see [`DeviceOps::mmap_pages`].
    pub const fn mappable(size: u64) -> Self {
        Self::read_write(size).with_flags(bindings::VFIO_REGION_INFO_FLAG_MMAP)
    }

    /// The same region, with only `areas` of it mappable (page-aligned,
    /// inside the region).
    pub const fn with_sparse(self, areas: &'static [MmapArea]) -> Self {
        Self {
            sparse: areas,
            ..self.with_flags(bindings::VFIO_REGION_INFO_FLAG_MMAP)
        }
    }

    /// The same region without `VFIO_REGION_INFO_FLAG_WRITE`: userspace
    /// may read it (and map it, if it is mappable) but not write it. The
    /// glue refuses writes through the region's write path (`EINVAL`) and
    /// writable mappings (`EACCES`), and a read-only mapping can never be
    /// made writable (`mprotect()` fails with `EACCES`).
    pub const fn read_only(self) -> Self {
        Self {
            flags: self.flags & !bindings::VFIO_REGION_INFO_FLAG_WRITE,
            ..self
        }
    }

    /// The same region with `flags` added.
    pub const fn with_flags(self, flags: u32) -> Self {
        Self {
            flags: self.flags | flags,
            ..self
        }
    }

    /// What a device reports where it has no region.
    pub(super) const NONE: Self = Self {
        size: 0,
        flags: 0,
        sparse: &[],
    };
}

/// The size of the next piece of an access of `left` bytes at `offset`: the
/// largest of 4, 2 and 1 that fits and is naturally aligned there.
pub(super) fn piece_len(offset: u64, left: usize) -> usize {
    if left >= 4 && offset % 4 == 0 {
        4
    } else if left >= 2 && offset % 2 == 0 {
        2
    } else {
        1
    }
}

/// Whether `count` bytes at `offset` lie inside a region of `size` bytes.
pub(super) fn inside_region(offset: u64, count: usize, size: u64) -> bool {
    offset < size && u64::try_from(count).is_ok_and(|count| count <= size - offset)
}

/// The region index and offset a file position stands for.
pub(super) fn decode_pos(pos: u64) -> Result<(u32, u64)> {
    let index = u32::try_from(pos >> REGION_SHIFT).map_err(|_| EINVAL)?;
    Ok((index, pos & ((1 << REGION_SHIFT) - 1)))
}

/// Bytes of user memory copied at once by [`read_write`]: an access of up
/// to this many bytes (a register access is 1 to 8) costs one user copy,
/// and a longer one (4 KiB of a memory region read through the fd) one per
/// this many bytes rather than one per piece.
const CHUNK: usize = 64;

/// Copies `chunk.len()` bytes of user memory at `user` into `chunk`.
#[inline(always)]
fn copy_in(chunk: &mut [u8], user: UserPtr) -> Result {
    // SAFETY: `chunk` is valid for writes of its length. The user range is
    // checked by the copy itself (`access_ok()`).
    let left = unsafe {
        kernel::bindings::_copy_from_user(
            chunk.as_mut_ptr().cast(),
            user.as_const_ptr(),
            chunk.len() as c_ulong,
        )
    };
    if left != 0 {
        return Err(EFAULT);
    }
    Ok(())
}

/// Copies `chunk` out to user memory at `user`.
#[inline(always)]
fn copy_out(user: UserPtr, chunk: &[u8]) -> Result {
    // SAFETY: `chunk` is valid for reads of its length. The user range is
    // checked by the copy itself (`access_ok()`).
    let left = unsafe {
        kernel::bindings::_copy_to_user(
            user.as_mut_ptr(),
            chunk.as_ptr().cast(),
            chunk.len() as c_ulong,
        )
    };
    if left != 0 {
        return Err(EFAULT);
    }
    Ok(())
}

/// Bytes moved at once by [`copy_mapped`].
const MAPPED_CHUNK: usize = 256;

/// Reads or writes `count` bytes at `offset` of `pages`, which back a part
/// of a region that userspace may map: the access sees and changes what a
/// mapping would, in chunks of [`MAPPED_CHUNK`] bytes, with no call of the
/// driver per piece.
fn copy_mapped(pages: &PageBuffer, buf: UserPtr, count: usize, offset: u64, write: bool) -> Result {
    let mut offset = usize::try_from(offset).map_err(|_| EINVAL)?;
    let mut chunk = [0u8; MAPPED_CHUNK];
    let mut done = 0;
    while done < count {
        let len = (count - done).min(MAPPED_CHUNK);
        let chunk = &mut chunk[..len];
        let user = buf.wrapping_byte_add(done);
        if write {
            copy_in(chunk, user)?;
            pages.write(offset, chunk)?;
        } else {
            pages.read(offset, chunk)?;
            copy_out(user, chunk)?;
        }
        offset += len;
        done += len;
    }
    Ok(())
}

/// Reads or writes `count` bytes at `*pos`, in naturally aligned pieces.
///
/// User memory is copied with `_copy_from_user()` and `_copy_to_user()`
/// straight, as `UserSliceReader::read_slice_file` does, rather than through
/// `UserSlice`: under TCG every call of the path counts (the data path of
/// Documentation/benchmark.rst), and these are the C samples' calls.
/// User memory is copied in chunks of up to [`CHUNK`] bytes: a write's
/// chunk is copied in before its pieces reach the driver, a read's is
/// copied out after its pieces are read. If a copy fails (`EFAULT`), the
/// pieces of that chunk that a read already took from the driver are lost,
/// as a piece is in the C samples when its copy fails.
#[inline(always)]
pub(super) fn read_write<T: DeviceOps>(
    dev: &Device<T>,
    buf: UserPtr,
    count: usize,
    pos: &mut i64,
    write: bool,
) -> Result<usize> {
    let (index, mut offset) = decode_pos(u64::try_from(*pos).map_err(|_| EINVAL)?)?;
    // The driver only ever sees accesses inside a region it declared, with
    // the access it allows: no driver has to check the bounds itself.
    let region = dev.region(index).ok_or(EINVAL)?;
    let allowed = if write {
        bindings::VFIO_REGION_INFO_FLAG_WRITE
    } else {
        bindings::VFIO_REGION_INFO_FLAG_READ
    };
    if region.flags & allowed == 0 || !inside_region(offset, count, region.size) {
        return Err(EINVAL);
    }
    // Bytes that userspace could map are the driver's pages: read and
    // written there, as a mapping would, not piece by piece by the driver.
    if let Some(pages) = dev.mmap_pages(index) {
        if mmap::mappable_range(&region, offset, count as u64) {
            copy_mapped(pages, buf, count, offset, write)?;
            *pos += count as i64;
            return Ok(count);
        }
    }
    let mut chunk = [0u8; CHUNK];
    let mut done = 0;
    while done < count {
        let chunk_len = (count - done).min(CHUNK);
        let chunk = &mut chunk[..chunk_len];
        let user = buf.wrapping_byte_add(done);
        if write {
            copy_in(chunk, user)?;
        } else if done > 0 {
            // Each read starts from zeroes, whatever the driver fills in.
            chunk.fill(0);
        }
        let mut at = 0;
        while at < chunk_len {
            let len = piece_len(offset, chunk_len - at);
            let piece = &mut chunk[at..at + len];
            if write {
                T::write(dev, index, offset, piece)?;
            } else {
                T::read(dev, index, offset, piece)?;
            }
            offset += len as u64;
            at += len;
        }
        if !write {
            copy_out(user, chunk)?;
        }
        done += chunk_len;
    }
    *pos += done as i64;
    Ok(done)
}

#[cfg(mdev_vendor_api_kunit)]
#[kunit_tests(mdev_rs_vfio_region)]
mod tests {
    use super::*;

    #[test]
    fn accesses_must_fit_in_their_region() {
        // (offset, count, region size) -> inside
        for (offset, count, size, inside) in [
            (0, 4, 4, true),
            (0, 0, 4, true),
            (3, 1, 4, true),
            (3, 2, 4, false),
            (4, 0, 4, false),
            (0, 1, 0, false),
            (255, 2, 256, false),
            (u64::MAX, 1, u64::MAX, false),
            (u64::MAX - 1, 1, u64::MAX, true),
        ] {
            assert_eq!(inside_region(offset, count, size), inside);
        }
    }

    #[test]
    fn accesses_split_into_aligned_pieces() {
        // (offset, bytes left) -> next piece
        for (offset, left, piece) in [
            (0, 8, 4),
            (0, 3, 2),
            (1, 3, 1),
            (2, 8, 2),
            (4, 3, 2),
            (6, 1, 1),
        ] {
            assert_eq!(piece_len(offset, left), piece);
        }
    }

    #[test]
    fn file_positions_name_region_and_offset() {
        assert_eq!(decode_pos(7 << REGION_SHIFT | 0x3c), Ok((7, 0x3c)));
        assert_eq!(decode_pos(0xff), Ok((0, 0xff)));
    }

    #[test]
    fn read_write_region_flags() {
        let region = Region::read_write(4096);
        assert_eq!(region.size, 4096);
        assert_eq!(
            region.flags,
            bindings::VFIO_REGION_INFO_FLAG_READ | bindings::VFIO_REGION_INFO_FLAG_WRITE
        );
    }

    #[test]
    fn read_only_regions_keep_their_other_flags() {
        let region = Region::mappable(4096).read_only();
        assert_eq!(
            region.flags,
            bindings::VFIO_REGION_INFO_FLAG_READ | bindings::VFIO_REGION_INFO_FLAG_MMAP
        );
        assert_eq!(
            Region::read_write(8).read_only().flags,
            bindings::VFIO_REGION_INFO_FLAG_READ
        );
    }
}
