// SPDX-License-Identifier: GPL-2.0

//! A sample mdev vendor driver in Rust: small emulated PCI devices.
//!
//! The module registers a faux device as an mdev parent with two types,
//! which differ in PCI device ID and BAR0 size. Each mediated device is a
//! VFIO PCI device with:
//!
//! - a 256-byte configuration space: IDs, a command register, a 32-bit
//!   memory BAR0 that can be sized, an interrupt line and pin (INTA);
//! - behind BAR0, 32-bit registers, accessed 4 bytes at a time:
//!
//!   | offset | name      | access                                           |
//!   |--------|-----------|--------------------------------------------------|
//!   | 0x00   | MAGIC     | read-only, [`MAGIC`]                             |
//!   | 0x04   | SCRATCH   | read-write                                       |
//!   | 0x08   | COUNTER   | a read returns it, then adds one; a write sets it |
//!   | 0x0c   | DOORBELL  | a write raises INTx through the VFIO eventfd      |
//!   | 0x10   | IRQ_COUNT | read-only, doorbell writes since reset           |
//!
//! - behind BAR2, 64 KiB of memory that userspace may read and write through
//!   the region, and map where the region's sparse-mmap capability says:
//!   the 16 KiB from offset 16 KiB ([`BAR2_MAPPABLE`]);
//! - the request interrupt, relayed to userspace when the device is
//!   removed while it is open.
//!
//! `VFIO_DEVICE_RESET` puts registers and config space back as created
//! (BAR2's memory is left as it is).
//! See Documentation/rust-vendor-driver.rst for a walkthrough.

use core::fmt::{self, Write};
use kernel::{faux, new_mutex, prelude::*, sync::Mutex};

#[path = "../mdev_vendor_api.rs"]
pub mod mdev_vendor_api;
use mdev_vendor_api::{mdev, vfio};

module! {
    type: SampleModule,
    name: "mdev_rs_sample",
    authors: ["The mdev-rs developers"],
    description: "Sample Rust mdev vendor driver: emulated PCI devices",
    license: "GPL",
    params: {
        max_instances: u32 {
            default: 4,
            description: "Devices the parent holds at once, over both types",
        },
    },
}

/// PCI vendor ID of every sample device (and its subsystem vendor).
const VENDOR_ID: u16 = 0x1b36;
/// What MAGIC reads.
pub const MAGIC: u32 = 0x4d44_5253;

/// Size of BAR2, memory the device owns.
const BAR2_SIZE: usize = 64 * 1024;
/// The part of BAR2 userspace may map.
const BAR2_MAPPABLE: [vfio::MmapArea; 1] = [vfio::MmapArea {
    offset: 16 * 1024,
    size: 16 * 1024,
}];

/// What tells the two types apart.
#[derive(Clone, Copy)]
struct Model {
    device_id: u16,
    bar0_size: u32,
}

/// The sample's mdev driver.
struct SampleDriver;

#[vtable]
impl mdev::Driver for SampleDriver {
    const NAME: &'static CStr = c"mdev_rs_sample";
    const DEVICE_API: &'static CStr = c"vfio-pci";
    type TypeData = Model;
    // A device is its VFIO registration; dropping it on remove unregisters.
    type DeviceData = vfio::Registration<SampleDevice>;

    fn probe(mdev: &mdev::Device, mtype: &mdev::Type<Model>) -> Result<Self::DeviceData> {
        vfio::Registration::new(mdev, SampleDevice::new(*mtype.data()))
    }

    fn show_description(mtype: &mdev::Type<Model>, out: &mut mdev::SysfsText<'_>) -> fmt::Result {
        let model = mtype.data();
        writeln!(
            out,
            "PCI device {VENDOR_ID:04x}:{:04x} with a {}-byte BAR0",
            model.device_id, model.bar0_size
        )
    }
}

/// One mediated device: its model, its emulated registers and BAR2.
#[pin_data]
struct SampleDevice {
    model: Model,
    #[pin]
    regs: Mutex<Registers>,
    #[pin]
    bar2: vfio::PageBuffer,
}

impl SampleDevice {
    fn new(model: Model) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            regs <- new_mutex!(Registers::new(model)),
            bar2 <- vfio::PageBuffer::new(BAR2_SIZE),
            model,
        })
    }
}

/// A region offset as an index into memory the device owns.
fn memory_offset(offset: u64) -> Result<usize> {
    usize::try_from(offset).map_err(|_| EINVAL)
}

#[vtable]
impl vfio::DeviceOps for SampleDevice {
    const NAME: &'static CStr = c"mdev_rs_sample";
    const FLAGS: u32 = vfio::VFIO_DEVICE_FLAGS_PCI;
    const NUM_REGIONS: u32 = vfio::VFIO_PCI_NUM_REGIONS;
    const NUM_IRQS: u32 = vfio::VFIO_PCI_NUM_IRQS;
    const IRQS: &'static [vfio::Irq] = &[
        vfio::Irq::eventfd(vfio::VFIO_PCI_INTX_IRQ_INDEX, 1),
        vfio::Irq::absent(vfio::VFIO_PCI_MSI_IRQ_INDEX),
        vfio::Irq::absent(vfio::VFIO_PCI_MSIX_IRQ_INDEX),
        vfio::Irq::absent(vfio::VFIO_PCI_ERR_IRQ_INDEX),
        vfio::Irq::request(),
    ];

    fn region(&self, index: u32) -> Option<vfio::Region> {
        match index {
            vfio::VFIO_PCI_BAR0_REGION_INDEX => {
                Some(vfio::Region::read_write(self.model.bar0_size.into()))
            }
            vfio::VFIO_PCI_CONFIG_REGION_INDEX => {
                Some(vfio::Region::read_write(CONFIG_SIZE as u64))
            }
            vfio::VFIO_PCI_BAR2_REGION_INDEX => {
                Some(vfio::Region::read_write(BAR2_SIZE as u64).with_sparse(&BAR2_MAPPABLE))
            }
            _ => None,
        }
    }

    fn mmap_pages(&self, index: u32) -> Option<&vfio::PageBuffer> {
        (index == vfio::VFIO_PCI_BAR2_REGION_INDEX).then_some(&self.bar2)
    }

    fn read(dev: &vfio::Device<Self>, index: u32, offset: u64, data: &mut [u8]) -> Result {
        if index == vfio::VFIO_PCI_BAR2_REGION_INDEX {
            return dev.bar2.read(memory_offset(offset)?, data);
        }
        let mut regs = dev.regs.lock();
        match index {
            vfio::VFIO_PCI_CONFIG_REGION_INDEX => regs.config_read(offset, data),
            vfio::VFIO_PCI_BAR0_REGION_INDEX => {
                let value = regs.bar0_read(bar0_register(offset, data.len(), dev.model)?);
                data.copy_from_slice(&value.to_le_bytes());
                Ok(())
            }
            _ => Err(EINVAL),
        }
    }

    fn write(dev: &vfio::Device<Self>, index: u32, offset: u64, data: &[u8]) -> Result {
        if index == vfio::VFIO_PCI_BAR2_REGION_INDEX {
            return dev.bar2.write(memory_offset(offset)?, data);
        }
        let doorbell = {
            let mut regs = dev.regs.lock();
            match index {
                vfio::VFIO_PCI_CONFIG_REGION_INDEX => {
                    regs.config_write(dev.model, offset, data)?;
                    false
                }
                vfio::VFIO_PCI_BAR0_REGION_INDEX => {
                    let value = u32::from_le_bytes(data.try_into().map_err(|_| EINVAL)?);
                    regs.bar0_write(bar0_register(offset, data.len(), dev.model)?, value)
                }
                _ => return Err(EINVAL),
            }
        };
        if doorbell {
            dev.trigger(vfio::VFIO_PCI_INTX_IRQ_INDEX);
        }
        Ok(())
    }

    fn reset(dev: &vfio::Device<Self>) -> Result {
        *dev.regs.lock() = Registers::new(dev.model);
        Ok(())
    }
}

/// Size of the emulated PCI configuration space.
const CONFIG_SIZE: usize = 256;
/// Offset of BAR0 in config space.
const CONFIG_BAR0: usize = 0x10;

/// The BAR0 register at `offset`, for an access of `len` bytes: registers
/// are 32 bits wide and only accessed whole.
fn bar0_register(offset: u64, len: usize, model: Model) -> Result<u32> {
    if len != 4 || offset % 4 != 0 || offset >= u64::from(model.bar0_size) {
        return Err(EINVAL);
    }
    u32::try_from(offset).map_err(|_| EINVAL)
}

const REG_MAGIC: u32 = 0x00;
const REG_SCRATCH: u32 = 0x04;
const REG_COUNTER: u32 = 0x08;
const REG_DOORBELL: u32 = 0x0c;
const REG_IRQ_COUNT: u32 = 0x10;

/// The state a guest can change: config space and the BAR0 registers.
struct Registers {
    config: [u8; CONFIG_SIZE],
    scratch: u32,
    counter: u32,
    irq_count: u32,
}

impl Registers {
    /// The registers of a device of `model`, just created or reset.
    fn new(model: Model) -> Self {
        let mut config = [0u8; CONFIG_SIZE];
        let mut put = |offset: usize, bytes: &[u8]| {
            config[offset..offset + bytes.len()].copy_from_slice(bytes)
        };
        put(0x00, &VENDOR_ID.to_le_bytes());
        put(0x02, &model.device_id.to_le_bytes());
        put(0x08, &[0x01, 0x00, 0x00, 0xff]); // revision 1, class 0xff: unassigned
        put(0x2c, &VENDOR_ID.to_le_bytes()); // subsystem vendor
        put(0x2e, &1u16.to_le_bytes()); // subsystem ID
        put(0x3d, &[0x01]); // interrupt pin INTA
        Self {
            config,
            scratch: 0,
            counter: 0,
            irq_count: 0,
        }
    }

    /// The bits of config byte `offset` that a write may change.
    fn config_write_mask(model: Model, offset: usize) -> u8 {
        match offset {
            // Command: memory space and bus master enable.
            0x04 => 0x06,
            // BAR0 keeps the address bits above its size: this is how the
            // guest sizes it, by writing all ones and reading back.
            CONFIG_BAR0..0x14 => (!(model.bar0_size - 1)).to_le_bytes()[offset - CONFIG_BAR0],
            // Interrupt line.
            0x3c => 0xff,
            _ => 0,
        }
    }

    fn config_range(offset: u64, len: usize) -> Result<core::ops::Range<usize>> {
        let start = usize::try_from(offset).map_err(|_| EINVAL)?;
        match start.checked_add(len) {
            Some(end) if end <= CONFIG_SIZE => Ok(start..end),
            _ => Err(EINVAL),
        }
    }

    fn config_read(&self, offset: u64, data: &mut [u8]) -> Result {
        data.copy_from_slice(&self.config[Self::config_range(offset, data.len())?]);
        Ok(())
    }

    fn config_write(&mut self, model: Model, offset: u64, data: &[u8]) -> Result {
        for (i, &byte) in Self::config_range(offset, data.len())?.zip(data) {
            let mask = Self::config_write_mask(model, i);
            self.config[i] = (self.config[i] & !mask) | (byte & mask);
        }
        Ok(())
    }

    fn bar0_read(&mut self, register: u32) -> u32 {
        match register {
            REG_MAGIC => MAGIC,
            REG_SCRATCH => self.scratch,
            REG_COUNTER => {
                let value = self.counter;
                self.counter = value.wrapping_add(1);
                value
            }
            REG_IRQ_COUNT => self.irq_count,
            _ => 0,
        }
    }

    /// Writes a BAR0 register; true if the write rang the doorbell.
    fn bar0_write(&mut self, register: u32, value: u32) -> bool {
        match register {
            REG_SCRATCH => self.scratch = value,
            REG_COUNTER => self.counter = value,
            REG_DOORBELL => {
                self.irq_count = self.irq_count.wrapping_add(1);
                return true;
            }
            _ => {}
        }
        false
    }
}

/// The module: the driver, the faux device it slices, and the parent.
/// Fields drop in order, so the parent goes first and the driver last.
struct SampleModule {
    _parent: mdev::Parent<SampleDriver>,
    _faux: faux::Registration,
    _driver: mdev::DriverRegistration<SampleDriver>,
}

impl kernel::Module for SampleModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let driver =
            mdev::DriverRegistration::new(module, *module_parameters::max_instances.value())?;
        let faux = faux::Registration::new(c"mdev_rs_sample", None)?;
        let types = [
            mdev::TypeSpec {
                sysfs_name: c"1",
                pretty_name: c"Sample device, 4 KiB BAR",
                data: Model {
                    device_id: 0x7f01,
                    bar0_size: 4096,
                },
            },
            mdev::TypeSpec {
                sysfs_name: c"2",
                pretty_name: c"Sample device, 64 KiB BAR",
                data: Model {
                    device_id: 0x7f02,
                    bar0_size: 65536,
                },
            },
        ];
        let parent = mdev::Parent::new(faux.as_ref(), &driver, types)?;
        Ok(Self {
            _parent: parent,
            _faux: faux,
            _driver: driver,
        })
    }
}

#[kunit_tests(mdev_rs_sample)]
mod tests {
    use super::*;

    const SMALL: Model = Model {
        device_id: 0x7f01,
        bar0_size: 4096,
    };

    fn config_dword(regs: &Registers, offset: u64) -> u32 {
        let mut data = [0u8; 4];
        regs.config_read(offset, &mut data).unwrap();
        u32::from_le_bytes(data)
    }

    #[test]
    fn config_ids_and_read_only_bytes() {
        let mut regs = Registers::new(SMALL);
        assert_eq!(config_dword(&regs, 0), 0x7f01_1b36);
        regs.config_write(SMALL, 0, &[0xff; 4]).unwrap();
        assert_eq!(config_dword(&regs, 0), 0x7f01_1b36);
        regs.config_write(SMALL, 0x04, &[0xff, 0xff]).unwrap();
        assert_eq!(config_dword(&regs, 0x04) & 0xffff, 0x0006);
    }

    #[test]
    fn bar0_sizing() {
        let mut regs = Registers::new(SMALL);
        regs.config_write(SMALL, 0x10, &u32::MAX.to_le_bytes())
            .unwrap();
        assert_eq!(config_dword(&regs, 0x10), 0xffff_f000);
    }

    #[test]
    fn config_out_of_range() {
        let regs = Registers::new(SMALL);
        assert!(regs.config_read(254, &mut [0u8; 4]).is_err());
    }

    #[test]
    fn counter_and_doorbell() {
        let mut regs = Registers::new(SMALL);
        assert_eq!(regs.bar0_read(REG_COUNTER), 0);
        assert_eq!(regs.bar0_read(REG_COUNTER), 1);
        assert!(regs.bar0_write(REG_DOORBELL, 0));
        assert!(!regs.bar0_write(REG_SCRATCH, 7));
        assert_eq!(regs.bar0_read(REG_IRQ_COUNT), 1);
        assert_eq!(regs.bar0_read(REG_SCRATCH), 7);
        assert_eq!(regs.bar0_read(REG_MAGIC), MAGIC);
    }

    #[test]
    fn bar0_access_rules() {
        assert_eq!(bar0_register(8, 4, SMALL), Ok(8));
        assert!(bar0_register(8, 2, SMALL).is_err());
        assert!(bar0_register(6, 4, SMALL).is_err());
        assert!(bar0_register(4096, 4, SMALL).is_err());
    }
}
