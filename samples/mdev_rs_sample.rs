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
//!   | offset | name        | access                                           |
//!   |--------|-------------|--------------------------------------------------|
//!   | 0x00   | MAGIC       | read-only, [`MAGIC`]                             |
//!   | 0x04   | SCRATCH     | read-write                                       |
//!   | 0x08   | COUNTER     | a read returns it, then adds one; a write sets it |
//!   | 0x0c   | DOORBELL    | a write raises INTx through the VFIO eventfd      |
//!   | 0x10   | IRQ_COUNT   | read-only, doorbell writes since reset           |
//!   | 0x14   | DMA_ADDR_LO | read-write, bits 31:0 of the IOVA of a command   |
//!   | 0x18   | DMA_ADDR_HI | read-write, bits 63:32 of that IOVA              |
//!   | 0x1c   | DMA_LEN     | read-write, bytes a copy writes                  |
//!   | 0x20   | DMA_CMD     | a write runs a DMA command (below); reads 0      |
//!   | 0x24   | DMA_STATUS  | read-only, 0 or the positive errno of the last command |
//!   | 0x28   | DMA_PINNED  | read-only, guest pages the device has pinned now |
//!   | 0x2c   | DMA_UNMAPS  | read-only, `dma_unmap` calls since reset          |
//!
//! - behind BAR2, 64 KiB of memory that userspace may read and write through
//!   the region, and map where the region's sparse-mmap capability says:
//!   the 16 KiB from offset 16 KiB ([`BAR2_MAPPABLE`]);
//! - behind BAR4, one page that userspace may read and map but not write
//!   (nor map writable): [`MAGIC`] in every 32-bit word;
//! - the request interrupt, relayed to userspace when the device is
//!   removed while it is open;
//! - in its sysfs directory, `vendor/scratch`: SCRATCH from the host's
//!   side, shown in hex and set by writing a number (`0x` for hex).
//!
//! The DMA commands, on guest memory at DMA_ADDR (an IOVA of the VFIO
//! container):
//!
//! - 1, copy: writes DMA_LEN bytes (1 to [`DMA_MAX_LEN`]) of the pattern
//!   [`dma_pattern`] there;
//! - 2, pin: pins the guest page that holds DMA_ADDR; one pin at a time
//!   (`EBUSY` while one is held; `EAGAIN` while userspace is unmapping the
//!   page, as the VFIO glue refuses such pins);
//! - 3, unpin: unpins that page (`EINVAL` if none is pinned).
//!
//! Any other command, or a copy of 0 or more than [`DMA_MAX_LEN`] bytes,
//! sets DMA_STATUS to `EINVAL`. When userspace unmaps the IOVA of the pinned
//! page, the device unpins it (its `dma_unmap`); closing the device drops the
//! pin, which the VFIO glue then unpins.
//!
//! `VFIO_DEVICE_RESET` puts registers and config space back as created, and
//! unpins the pinned page (BAR2's memory is left as it is). See
//! Documentation/rust-vendor-driver.rst for a walkthrough.

use core::fmt::{self, Write};
use kernel::{
    faux, new_mutex,
    prelude::*,
    str::{parse_int::ParseInt, BStr},
    sync::Mutex,
    time::{delay::fsleep, Delta},
};

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
        dma_unmap_delay_ms: u32 {
            default: 0,
            description: "Test knob: milliseconds each dma_unmap waits first, as behind other work",
        },
    },
}

/// PCI vendor ID of every sample device (and its subsystem vendor).
const VENDOR_ID: u16 = 0x1b36;
/// What MAGIC reads.
pub const MAGIC: u32 = 0x4d44_5253;
/// The most bytes one DMA copy writes: a copy comes from [`DMA_PATTERN`],
/// which is this long.
pub const DMA_MAX_LEN: u32 = 4096;

/// Byte `i` of what a DMA copy writes: its offset in the copy, modulo 256,
/// XOR 0x5a (so that neither a zeroed nor an untouched buffer matches).
pub const fn dma_pattern(i: usize) -> u8 {
    (i % 256) as u8 ^ 0x5a
}

/// What every DMA copy writes, [`dma_pattern`] byte by byte, made at build
/// time: a copy only hands its first DMA_LEN bytes to `vfio_dma_rw()`.
static DMA_PATTERN: [u8; DMA_MAX_LEN as usize] = {
    let mut bytes = [0; DMA_MAX_LEN as usize];
    let mut i = 0;
    while i < bytes.len() {
        bytes[i] = dma_pattern(i);
        i += 1;
    }
    bytes
};

/// Size of BAR2, memory the device owns.
const BAR2_SIZE: usize = 64 * 1024;
/// The part of BAR2 userspace may map.
const BAR2_MAPPABLE: [vfio::MmapArea; 1] = [vfio::MmapArea {
    offset: 16 * 1024,
    size: 16 * 1024,
}];

/// Size of BAR4, read-only memory the device owns.
const BAR4_SIZE: usize = 4096;

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

    const DEVICE_FILES: mdev::DeviceFiles = mdev::DeviceFiles {
        directory: Some(c"vendor"),
        files: &[mdev::DeviceFile::read_write(c"scratch")],
    };

    fn show_device_file(
        _mdev: &mdev::Device,
        device: &Self::DeviceData,
        _file: usize,
        out: &mut mdev::SysfsText<'_>,
    ) -> fmt::Result {
        writeln!(out, "{:#010x}", device.regs.lock().scratch)
    }

    fn store_device_file(
        _mdev: &mdev::Device,
        device: &Self::DeviceData,
        _file: usize,
        text: &[u8],
    ) -> Result {
        let text = text.strip_suffix(b"\n").unwrap_or(text);
        device.regs.lock().scratch = u32::from_str(BStr::from_bytes(text))?;
        Ok(())
    }
}

/// One mediated device: its model, its emulated registers, BAR2 and BAR4.
#[pin_data]
struct SampleDevice {
    model: Model,
    #[pin]
    regs: Mutex<Registers>,
    #[pin]
    bar2: vfio::PageBuffer,
    #[pin]
    bar4: vfio::PageBuffer,
}

impl SampleDevice {
    fn new(model: Model) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            regs <- new_mutex!(Registers::new(model)),
            bar2 <- vfio::PageBuffer::new(BAR2_SIZE),
            bar4 <- vfio::PageBuffer::new(BAR4_SIZE).pin_chain(|bar4| {
                let magic = MAGIC.to_le_bytes();
                for offset in (0..BAR4_SIZE).step_by(magic.len()) {
                    bar4.write(offset, &magic)?;
                }
                Ok(())
            }),
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
            vfio::VFIO_PCI_BAR4_REGION_INDEX => {
                Some(vfio::Region::mappable(BAR4_SIZE as u64).read_only())
            }
            _ => None,
        }
    }

    fn mmap_pages(&self, index: u32) -> Option<&vfio::PageBuffer> {
        match index {
            vfio::VFIO_PCI_BAR2_REGION_INDEX => Some(&self.bar2),
            vfio::VFIO_PCI_BAR4_REGION_INDEX => Some(&self.bar4),
            _ => None,
        }
    }

    fn read(dev: &vfio::Device<Self>, index: u32, offset: u64, data: &mut [u8]) -> Result {
        if index == vfio::VFIO_PCI_BAR2_REGION_INDEX {
            return dev.bar2.read(memory_offset(offset)?, data);
        }
        if index == vfio::VFIO_PCI_BAR4_REGION_INDEX {
            return dev.bar4.read(memory_offset(offset)?, data);
        }
        let mut regs = dev.regs.lock();
        match index {
            vfio::VFIO_PCI_CONFIG_REGION_INDEX => regs.config_read(offset, data),
            vfio::VFIO_PCI_BAR0_REGION_INDEX => {
                let value = match bar0_register(offset, data.len(), dev.model)? {
                    // The VFIO glue counts the pins.
                    REG_DMA_PINNED => u32::try_from(dev.pinned_pages()).unwrap_or(u32::MAX),
                    register => regs.bar0_read(register),
                };
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
                    match regs.bar0_write(bar0_register(offset, data.len(), dev.model)?, value) {
                        Action::None => false,
                        Action::Doorbell => true,
                        Action::Dma(command) => {
                            // Under the register lock: the pin it may take
                            // or give back is kept in the registers.
                            let result = run_dma(dev, &mut regs, command);
                            regs.dma_done(result);
                            false
                        }
                    }
                }
                _ => return Err(EINVAL),
            }
        };
        if doorbell {
            dev.trigger(vfio::VFIO_PCI_INTX_IRQ_INDEX);
        }
        Ok(())
    }

    fn close(dev: &vfio::Device<Self>) {
        // The VFIO glue unpins, after this, whatever the device still has
        // pinned: forgetting the receipt is enough.
        dev.regs.lock().pinned = None;
    }

    fn reset(dev: &vfio::Device<Self>) -> Result {
        let mut regs = dev.regs.lock();
        if let Some(pinned) = regs.pinned.take() {
            // Fails only if the page was unpinned already: either way, it
            // is not pinned any more.
            let _ = dev.unpin(pinned);
        }
        *regs = Registers::new(dev.model);
        Ok(())
    }

    fn dma_unmap(dev: &vfio::Device<Self>, iova: u64, length: u64) {
        // make stress's unmap race: a device whose dma_unmap is slow (it
        // waits behind other work) holds up type1's unmap for every device
        // of the container.
        let delay = *module_parameters::dma_unmap_delay_ms.value();
        if delay != 0 {
            fsleep(Delta::from_millis(i64::from(delay)));
        }
        let mut regs = dev.regs.lock();
        regs.dma_unmaps = regs.dma_unmaps.wrapping_add(1);
        // The device stops using the page and gives it back itself, as a
        // driver should; the glue would unpin it otherwise.
        if let Some(pinned) = regs.pinned.take_if(|pinned| pinned.overlaps(iova, length)) {
            // Only fails if it was unpinned already, which is the aim.
            let _ = dev.unpin(pinned);
        }
    }
}

/// Runs a DMA `command` of the device `dev`, whose registers `regs` are.
fn run_dma(dev: &vfio::Device<SampleDevice>, regs: &mut Registers, command: DmaCommand) -> Result {
    match command {
        DmaCommand::Copy { iova, len } => {
            dev.dma_write(iova, DMA_PATTERN.get(..len).ok_or(EINVAL)?)
        }
        DmaCommand::Pin { iova } => {
            if regs.pinned.is_some() {
                return Err(EBUSY);
            }
            regs.pinned = Some(dev.pin(iova, 1, true)?);
            Ok(())
        }
        DmaCommand::Unpin => dev.unpin(regs.pinned.take().ok_or(EINVAL)?),
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
const REG_DMA_ADDR_LO: u32 = 0x14;
const REG_DMA_ADDR_HI: u32 = 0x18;
const REG_DMA_LEN: u32 = 0x1c;
const REG_DMA_CMD: u32 = 0x20;
const REG_DMA_STATUS: u32 = 0x24;
const REG_DMA_PINNED: u32 = 0x28;
const REG_DMA_UNMAPS: u32 = 0x2c;

const DMA_CMD_COPY: u32 = 1;
const DMA_CMD_PIN: u32 = 2;
const DMA_CMD_UNPIN: u32 = 3;

/// A DMA command, decoded from DMA_CMD and the registers it reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DmaCommand {
    /// Write `len` bytes of the pattern at `iova`.
    Copy { iova: u64, len: usize },
    /// Pin the page that holds `iova`.
    Pin { iova: u64 },
    /// Unpin the pinned page.
    Unpin,
}

/// What a BAR0 write asks the device to do beyond changing registers.
#[derive(Debug, PartialEq, Eq)]
enum Action {
    /// Nothing more.
    None,
    /// Raise INTx.
    Doorbell,
    /// Run a DMA command, then report its result with `dma_done`.
    Dma(DmaCommand),
}

/// The state a guest can change: config space and the BAR0 registers.
struct Registers {
    config: [u8; CONFIG_SIZE],
    scratch: u32,
    counter: u32,
    irq_count: u32,
    dma_addr: u64,
    dma_len: u32,
    dma_status: u32,
    dma_unmaps: u32,
    /// The page pinned by the pin command.
    pinned: Option<vfio::PinnedPages>,
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
            dma_addr: 0,
            dma_len: 0,
            dma_status: 0,
            dma_unmaps: 0,
            pinned: None,
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
            REG_DMA_ADDR_LO => self.dma_addr as u32,
            REG_DMA_ADDR_HI => (self.dma_addr >> 32) as u32,
            REG_DMA_LEN => self.dma_len,
            REG_DMA_STATUS => self.dma_status,
            REG_DMA_UNMAPS => self.dma_unmaps,
            _ => 0,
        }
    }

    /// Writes a BAR0 register; returns what else the write asks for.
    fn bar0_write(&mut self, register: u32, value: u32) -> Action {
        match register {
            REG_SCRATCH => self.scratch = value,
            REG_COUNTER => self.counter = value,
            REG_DOORBELL => {
                self.irq_count = self.irq_count.wrapping_add(1);
                return Action::Doorbell;
            }
            REG_DMA_ADDR_LO => self.dma_addr = (self.dma_addr & !0xffff_ffff) | u64::from(value),
            REG_DMA_ADDR_HI => {
                self.dma_addr = (self.dma_addr & 0xffff_ffff) | (u64::from(value) << 32)
            }
            REG_DMA_LEN => self.dma_len = value,
            REG_DMA_CMD => match self.dma_command(value) {
                Ok(command) => return Action::Dma(command),
                Err(e) => self.dma_done(Err(e)),
            },
            _ => {}
        }
        Action::None
    }

    /// Decodes the DMA command `value` with the registers it reads.
    fn dma_command(&self, value: u32) -> Result<DmaCommand> {
        match value {
            DMA_CMD_COPY if (1..=DMA_MAX_LEN).contains(&self.dma_len) => Ok(DmaCommand::Copy {
                iova: self.dma_addr,
                len: self.dma_len as usize,
            }),
            DMA_CMD_PIN => Ok(DmaCommand::Pin {
                iova: self.dma_addr,
            }),
            DMA_CMD_UNPIN => Ok(DmaCommand::Unpin),
            _ => Err(EINVAL),
        }
    }

    /// Records the result of the last DMA command in DMA_STATUS.
    fn dma_done(&mut self, result: Result) {
        self.dma_status = result.err().map_or(0, |e| e.to_errno().unsigned_abs());
    }
}

/// The module: a parent, which owns the faux device it slices and
/// keeps the driver registered while it is.
struct SampleModule {
    _parent: mdev::Parent<SampleDriver, faux::Registration>,
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
        // The parent owns the device and a share of the driver's
        // registration: `driver` may go at the end of this function.
        let parent = mdev::Parent::new(faux, &driver, types)?;
        Ok(Self { _parent: parent })
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
        assert_eq!(regs.bar0_write(REG_DOORBELL, 0), Action::Doorbell);
        assert_eq!(regs.bar0_write(REG_SCRATCH, 7), Action::None);
        assert_eq!(regs.bar0_read(REG_IRQ_COUNT), 1);
        assert_eq!(regs.bar0_read(REG_SCRATCH), 7);
        assert_eq!(regs.bar0_read(REG_MAGIC), MAGIC);
    }

    #[test]
    fn dma_address_halves() {
        let mut regs = Registers::new(SMALL);
        regs.bar0_write(REG_DMA_ADDR_HI, 0x1234_5678);
        regs.bar0_write(REG_DMA_ADDR_LO, 0x9abc_d000);
        assert_eq!(regs.bar0_read(REG_DMA_ADDR_LO), 0x9abc_d000);
        assert_eq!(regs.bar0_read(REG_DMA_ADDR_HI), 0x1234_5678);
        regs.bar0_write(REG_DMA_LEN, 16);
        assert_eq!(
            regs.bar0_write(REG_DMA_CMD, DMA_CMD_COPY),
            Action::Dma(DmaCommand::Copy {
                iova: 0x1234_5678_9abc_d000,
                len: 16
            })
        );
        regs.bar0_write(REG_DMA_ADDR_HI, 0);
        assert_eq!(
            regs.bar0_write(REG_DMA_CMD, DMA_CMD_PIN),
            Action::Dma(DmaCommand::Pin { iova: 0x9abc_d000 })
        );
        assert_eq!(
            regs.bar0_write(REG_DMA_CMD, DMA_CMD_UNPIN),
            Action::Dma(DmaCommand::Unpin)
        );
    }

    #[test]
    fn dma_refuses_bad_commands_and_lengths() {
        let mut regs = Registers::new(SMALL);
        let einval = EINVAL.to_errno().unsigned_abs();
        for (len, command) in [
            (0, DMA_CMD_COPY),
            (DMA_MAX_LEN + 1, DMA_CMD_COPY),
            (4, 0),
            (4, 4),
        ] {
            regs.dma_done(Ok(()));
            regs.bar0_write(REG_DMA_LEN, len);
            assert_eq!(regs.bar0_write(REG_DMA_CMD, command), Action::None);
            assert_eq!(regs.bar0_read(REG_DMA_STATUS), einval);
        }
        regs.bar0_write(REG_DMA_LEN, DMA_MAX_LEN);
        assert!(matches!(
            regs.bar0_write(REG_DMA_CMD, DMA_CMD_COPY),
            Action::Dma(DmaCommand::Copy { len: 4096, .. })
        ));
        regs.dma_done(Err(EFAULT));
        assert_eq!(regs.bar0_read(REG_DMA_STATUS), 14);
        regs.dma_done(Ok(()));
        assert_eq!(regs.bar0_read(REG_DMA_STATUS), 0);
    }

    #[test]
    fn dma_pattern_is_neither_zero_nor_constant() {
        assert_eq!(dma_pattern(0), 0x5a);
        assert_eq!(dma_pattern(1), 0x5b);
        assert_eq!(dma_pattern(0x5a), 0);
        assert_eq!(dma_pattern(256), dma_pattern(0));
    }

    #[test]
    fn bar0_access_rules() {
        assert_eq!(bar0_register(8, 4, SMALL), Ok(8));
        assert!(bar0_register(8, 2, SMALL).is_err());
        assert!(bar0_register(6, 4, SMALL).is_err());
        assert!(bar0_register(4096, 4, SMALL).is_err());
    }
}
