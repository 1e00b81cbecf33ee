// SPDX-License-Identifier: GPL-2.0

//! The PCI configuration space of an mdpy display, as the C mdpy sample
//! shows it: a display controller 1b36:000f with one 32-bit prefetchable
//! memory BAR (the framebuffer) and a vendor capability telling the
//! framebuffer's format and resolution. Only BAR0 is writable. The bytes
//! are a [`vfio::ConfigBytes`]: reads take no lock.

use crate::vfio;
use kernel::prelude::*;

/// Bytes of config space, as mdpy reports its region.
pub(crate) const CONFIG_SIZE: usize = 0xff;

const BAR0: usize = 0x10;
/// BAR0's low bits: 32-bit memory, prefetchable; read-only.
const BAR0_FLAGS: u32 = 0x08;
const BAR0_FLAG_BITS: u32 = 0x0f;
/// The vendor capability and its fields.
const VENDOR_CAP: usize = 0x40;
const VENDOR_CAP_SIZE: u8 = 0x10;
const CAP_FORMAT: usize = VENDOR_CAP + 0x04;
const CAP_WIDTH: usize = VENDOR_CAP + 0x08;
const CAP_HEIGHT: usize = VENDOR_CAP + 0x0c;

/// What a display type shows.
#[derive(Clone, Copy)]
pub(crate) struct Mode {
    /// DRM fourcc of the pixels.
    pub(crate) format: u32,
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) bytes_per_pixel: u32,
}

impl Mode {
    /// Bytes of one line.
    #[inline]
    pub(crate) const fn stride(&self) -> u32 {
        self.width * self.bytes_per_pixel
    }

    /// The framebuffer (and BAR0) size: the frame, rounded up to a power
    /// of two as a BAR must be.
    #[inline]
    pub(crate) const fn framebuffer_size(&self) -> u32 {
        (self.stride() * self.height).next_power_of_two()
    }
}

/// The config space of one display.
pub(crate) struct ConfigSpace {
    bytes: vfio::ConfigBytes,
    bar0_size: u32,
}

impl ConfigSpace {
    pub(crate) fn new(mode: Mode) -> Self {
        let mut bytes = [0u8; vfio::CONFIG_SPACE_SIZE];
        let mut put = |offset: usize, data: &[u8]| {
            bytes[offset..offset + data.len()].copy_from_slice(data);
        };
        put(0x00, &0x1b36u16.to_le_bytes()); // Red Hat
        put(0x02, &0x000fu16.to_le_bytes());
        put(0x04, &0x0003u16.to_le_bytes()); // command: I/O and memory
        put(0x06, &0x0010u16.to_le_bytes()); // status: capability list
        put(0x08, &[0x01]); // revision
        put(0x0a, &0x0380u16.to_le_bytes()); // class: other display
        put(BAR0, &BAR0_FLAGS.to_le_bytes());
        put(0x2c, &0x1af4u16.to_le_bytes()); // subsystem: QEMU
        put(0x2e, &0x1100u16.to_le_bytes());
        put(0x34, &[VENDOR_CAP as u8]);
        put(VENDOR_CAP, &[0x09, 0x00, VENDOR_CAP_SIZE]); // vendor-specific, last
        put(CAP_FORMAT, &mode.format.to_le_bytes());
        put(CAP_WIDTH, &mode.width.to_le_bytes());
        put(CAP_HEIGHT, &mode.height.to_le_bytes());
        Self {
            bytes: vfio::ConfigBytes::new(&bytes),
            bar0_size: mode.framebuffer_size(),
        }
    }

    /// Reads `data.len()` bytes at `offset`, inside [`CONFIG_SIZE`].
    #[inline]
    pub(crate) fn read(&self, offset: usize, data: &mut [u8]) {
        self.bytes.read(offset, data);
    }

    /// Writes `data` at `offset`: only BAR0 takes it.
    pub(crate) fn write(&self, offset: usize, data: &[u8]) {
        if offset != BAR0 {
            return;
        }
        let mut value = [0u8; 4];
        let len = data.len().min(4);
        value[..len].copy_from_slice(&data[..len]);
        let mut value = u32::from_le_bytes(value);
        // All ones sizes the BAR; anything else is an address.
        value &= if value == u32::MAX {
            !(self.bar0_size - 1)
        } else {
            !BAR0_FLAG_BITS
        };
        value |= BAR0_FLAGS;
        self.bytes.set_dword(BAR0, value);
    }
}

#[kunit_tests(mdpy_rs_config)]
mod tests {
    use super::*;

    const VGA: Mode = Mode {
        format: 0x3432_5258,
        width: 640,
        height: 480,
        bytes_per_pixel: 4,
    };

    fn dword(config: &ConfigSpace, offset: usize) -> u32 {
        let mut data = [0u8; 4];
        config.read(offset, &mut data);
        u32::from_le_bytes(data)
    }

    #[test]
    fn header_and_vendor_capability() {
        let config = ConfigSpace::new(VGA);
        assert_eq!(dword(&config, 0), 0x000f_1b36);
        assert_eq!(dword(&config, 0x08), 0x0380_0001);
        assert_eq!(dword(&config, 0x2c), 0x1100_1af4);
        assert_eq!(dword(&config, VENDOR_CAP), 0x0010_0009);
        assert_eq!(dword(&config, CAP_WIDTH), 640);
        assert_eq!(dword(&config, CAP_HEIGHT), 480);
    }

    #[test]
    fn bar0_is_sized_by_the_framebuffer() {
        assert_eq!(VGA.framebuffer_size(), 2 * 1024 * 1024);
        let config = ConfigSpace::new(VGA);
        config.write(BAR0, &u32::MAX.to_le_bytes());
        assert_eq!(dword(&config, BAR0), 0xffe0_0008);
        config.write(BAR0, &0xe000_0003u32.to_le_bytes());
        assert_eq!(dword(&config, BAR0), 0xe000_0008);
        config.write(0x04, &[0]);
        assert_eq!(dword(&config, 0x04), 0x0010_0003);
    }
}
