// SPDX-License-Identifier: GPL-2.0

//! The PCI configuration space of an mtty device, as the C mtty sample
//! shows it to a guest: a 16550-compatible serial controller 4348:3253 with
//! one 8-byte I/O BAR per port.
//!
//! Writes are decoded by the offset they start at, and only four things
//! change: the interrupt line, and BAR0 and BAR1 (sized by writing all ones;
//! BAR1 stays 0 on a one-port device); writes to BAR2 to BAR4 clear them.
//! The bytes are a [`vfio::ConfigBytes`]: reads take no lock.

use crate::vfio;
use kernel::prelude::*;

/// Bytes of config space, as mtty reports its region.
pub(crate) const CONFIG_SIZE: usize = 0xff;

/// Size of each port's I/O BAR.
pub(crate) const IO_BAR_SIZE: u32 = 8;

/// Vendor 0x4348 and device 0x3253, also the subsystem IDs.
const PCI_ID: u32 = 0x3253_4348;

const BAR0: usize = 0x10;
const BAR1: usize = 0x14;
const INTERRUPT_LINE: usize = 0x3c;

/// The config space of one device.
pub(crate) struct ConfigSpace {
    bytes: vfio::ConfigBytes,
    ports: u8,
}

impl ConfigSpace {
    /// The config space of a new device with `ports` ports (1 or 2).
    pub(crate) fn new(ports: u8) -> Self {
        let mut bytes = [0u8; vfio::CONFIG_SPACE_SIZE];
        let mut put = |offset: usize, data: &[u8]| {
            bytes[offset..offset + data.len()].copy_from_slice(data);
        };
        put(0x00, &PCI_ID.to_le_bytes());
        put(0x04, &0x0001u16.to_le_bytes()); // command: I/O space enabled
        put(0x06, &0x0200u16.to_le_bytes()); // status
        put(0x08, &[0x10, 0x02, 0x00, 0x07]); // revision, class 07.00.02: 16550
        put(BAR0, &1u32.to_le_bytes()); // I/O space
        if ports == 2 {
            put(BAR1, &1u32.to_le_bytes());
        }
        put(0x2c, &PCI_ID.to_le_bytes());
        put(0x3d, &[0x01]); // interrupt pin INTA
                            // Vendor-specific bytes, and a name for humans reading a dump.
        put(0x40, &[0x23, 0x00, 0x00, 0x80, 0x23]);
        put(0x48, &[0x23]);
        put(0x4c, &[0x23]);
        put(0x60, b"PCI Serial/UART");
        Self {
            bytes: vfio::ConfigBytes::new(&bytes),
            ports,
        }
    }

    /// Reads `data.len()` bytes at `offset`; the caller keeps the access
    /// inside [`CONFIG_SIZE`].
    #[inline]
    pub(crate) fn read(&self, offset: usize, data: &mut [u8]) {
        self.bytes.read(offset, data);
    }

    /// Writes `data` (1, 2 or 4 bytes) at `offset`.
    pub(crate) fn write(&self, offset: usize, data: &[u8]) {
        match offset {
            INTERRUPT_LINE => self.bytes.write(INTERRUPT_LINE, &data[..1]),
            BAR1 if self.ports == 1 => self.bytes.set_dword(BAR1, 0),
            BAR0 | BAR1 => {
                let mut value = [0u8; 4];
                value[..data.len().min(4)].copy_from_slice(&data[..data.len().min(4)]);
                let mut value = u32::from_le_bytes(value);
                // Sizing: the address bits of an 8-byte BAR.
                if value == u32::MAX {
                    value &= !(IO_BAR_SIZE - 1);
                }
                // The space-type bits are read-only.
                value |= self.bytes.dword(offset) & 0x3;
                self.bytes.set_dword(offset, value);
            }
            0x18 | 0x1c | 0x20 => self.bytes.set_dword(offset, 0),
            // Command, status, the pin and everything else are read-only.
            _ => {}
        }
    }
}

#[kunit_tests(mtty_rs_config)]
mod tests {
    use super::*;

    fn dword(config: &ConfigSpace, offset: usize) -> u32 {
        let mut data = [0u8; 4];
        config.read(offset, &mut data);
        u32::from_le_bytes(data)
    }

    #[test]
    fn header_of_a_serial_controller() {
        let config = ConfigSpace::new(1);
        assert_eq!(dword(&config, 0x00), PCI_ID);
        assert_eq!(dword(&config, 0x08), 0x0700_0210);
        assert_eq!(dword(&config, BAR0), 1);
        assert_eq!(dword(&config, BAR1), 0);
        assert_eq!(dword(&config, 0x2c), PCI_ID);
        assert_eq!(dword(&config, 0x60), u32::from_le_bytes(*b"PCI "));
    }

    #[test]
    fn bars_are_sized_as_8_byte_io_bars() {
        let config = ConfigSpace::new(2);
        config.write(BAR0, &u32::MAX.to_le_bytes());
        assert_eq!(dword(&config, BAR0), 0xffff_fff9);
        config.write(BAR1, &0xc000u32.to_le_bytes());
        assert_eq!(dword(&config, BAR1), 0xc001);
        let single = ConfigSpace::new(1);
        single.write(BAR1, &u32::MAX.to_le_bytes());
        assert_eq!(dword(&single, BAR1), 0);
    }

    #[test]
    fn only_the_interrupt_line_is_writable_in_the_header() {
        let config = ConfigSpace::new(1);
        config.write(0x04, &[0x07, 0x00]);
        config.write(0x3d, &[0x02]);
        config.write(INTERRUPT_LINE, &[0x5a, 0x33]);
        assert_eq!(dword(&config, 0x04), 0x0200_0001);
        assert_eq!(dword(&config, INTERRUPT_LINE), 0x0000_015a);
    }
}
