// SPDX-License-Identifier: GPL-2.0

//! The bytes of an emulated PCI configuration space, read without a lock.
//!
//! A guest reads its device's config space far more often than it writes
//! it, and each read is a trapped access through the device fd. Behind a
//! mutex every read costs its lock and unlock; here a read is one atomic
//! load of the 32-bit word that holds the access (accesses are naturally
//! aligned, 1, 2 or 4 bytes, so never cross a word), and a write replaces
//! its bytes in their word with a compare-and-exchange. So a read never
//! sees half of a write, and two writes never undo each other.

#[cfg(mdev_vendor_api_kunit)]
use kernel::prelude::*;
use kernel::sync::atomic::{Atomic, Relaxed};

/// Bytes of a conventional PCI configuration space.
pub const CONFIG_SPACE_SIZE: usize = 256;
const WORDS: usize = CONFIG_SPACE_SIZE / 4;

/// A PCI configuration space of [`CONFIG_SPACE_SIZE`] bytes that accesses
/// read and write without a lock (see the module documentation). The driver
/// keeps its own rules (which bits a write may change) in how it calls
/// [`Self::write`] and [`Self::set_dword`].
pub struct ConfigBytes {
    words: [Atomic<u32>; WORDS],
}

impl ConfigBytes {
    /// A config space holding `bytes`.
    pub fn new(bytes: &[u8; CONFIG_SPACE_SIZE]) -> Self {
        Self {
            words: core::array::from_fn(|i| {
                Atomic::new(u32::from_le_bytes([
                    bytes[4 * i],
                    bytes[4 * i + 1],
                    bytes[4 * i + 2],
                    bytes[4 * i + 3],
                ]))
            }),
        }
    }

    /// Reads `data.len()` bytes at `offset`; bytes beyond the space are
    /// left as they are. An access inside one word (any naturally aligned
    /// one) reads that word once.
    // Inlined into the drivers' read paths: one call less per trapped
    // access (the data path of Documentation/benchmark.rst).
    #[inline]
    pub fn read(&self, offset: usize, data: &mut [u8]) {
        let mut i = 0;
        while i < data.len() {
            let at = offset + i;
            let Some(word) = self.words.get(at / 4) else {
                return;
            };
            let bytes = word.load(Relaxed).to_le_bytes();
            // The rest of this word, with plain loops (no calls in a kernel
            // built for size).
            let mut b = at % 4;
            while b < 4 && i < data.len() {
                data[i] = bytes[b];
                b += 1;
                i += 1;
            }
        }
    }

    /// The 32-bit little-endian word at `offset` (a multiple of 4 inside
    /// the space; 0 otherwise).
    pub fn dword(&self, offset: usize) -> u32 {
        match self.words.get(offset / 4) {
            Some(word) if offset % 4 == 0 => word.load(Relaxed),
            _ => 0,
        }
    }

    /// Sets the 32-bit word at `offset` (a multiple of 4 inside the space;
    /// ignored otherwise).
    pub fn set_dword(&self, offset: usize, value: u32) {
        if let Some(word) = self.words.get(offset / 4).filter(|_| offset % 4 == 0) {
            word.store(value, Relaxed);
        }
    }

    /// Writes `data` at `offset`, the other bytes of each word it touches
    /// kept; bytes beyond the space are dropped.
    pub fn write(&self, offset: usize, data: &[u8]) {
        let mut i = 0;
        while i < data.len() {
            let at = offset + i;
            let Some(word) = self.words.get(at / 4) else {
                return;
            };
            let first = i;
            let mut old = word.load(Relaxed);
            loop {
                let mut bytes = old.to_le_bytes();
                let (mut b, mut j) = (at % 4, first);
                while b < 4 && j < data.len() {
                    bytes[b] = data[j];
                    b += 1;
                    j += 1;
                }
                match word.cmpxchg(old, u32::from_le_bytes(bytes), Relaxed) {
                    Ok(_) => {
                        i = j;
                        break;
                    }
                    Err(now) => old = now,
                }
            }
        }
    }
}

#[cfg(mdev_vendor_api_kunit)]
#[kunit_tests(mdev_rs_vfio_config_bytes)]
mod tests {
    use super::*;

    fn counting() -> ConfigBytes {
        let mut bytes = [0u8; CONFIG_SPACE_SIZE];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = i as u8;
        }
        ConfigBytes::new(&bytes)
    }

    #[test]
    fn reads_of_every_width_and_place() {
        let config = counting();
        let mut four = [0u8; 4];
        config.read(0x10, &mut four);
        assert_eq!(four, [0x10, 0x11, 0x12, 0x13]);
        let mut two = [0u8; 2];
        config.read(0x3e, &mut two);
        assert_eq!(two, [0x3e, 0x3f]);
        // Across words, and past the end.
        let mut six = [0xaau8; 6];
        config.read(0xfd, &mut six);
        assert_eq!(six, [0xfd, 0xfe, 0xff, 0xaa, 0xaa, 0xaa]);
        config.read(0x0e, &mut four);
        assert_eq!(four, [0x0e, 0x0f, 0x10, 0x11]);
        assert_eq!(config.dword(0x20), 0x2322_2120);
        assert_eq!(config.dword(0x21), 0);
        assert_eq!(config.dword(0x100), 0);
    }

    #[test]
    fn writes_keep_the_other_bytes() {
        let config = counting();
        config.write(0x3c, &[0x0b]);
        assert_eq!(config.dword(0x3c), 0x3f3e_3d0b);
        config.write(0x3e, &[1, 2, 3, 4]);
        assert_eq!(config.dword(0x3c), 0x0201_3d0b);
        assert_eq!(config.dword(0x40), 0x4342_0403);
        config.set_dword(0x10, 0xfeb0_0008);
        assert_eq!(config.dword(0x10), 0xfeb0_0008);
        config.set_dword(0x11, 1);
        config.write(0xff, &[9, 9]);
        assert_eq!(config.dword(0xfc), 0x09fe_fdfc);
        assert_eq!(config.dword(0x10), 0xfeb0_0008);
    }
}
