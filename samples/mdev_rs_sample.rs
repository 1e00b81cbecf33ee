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
//! unpins the pinned page (BAR2's memory is left as it is).
//!
//! The device migrates (VFIO migration v2, with `STOP_COPY`, `P2P` and
//! `PRE_COPY`): its stream carries the registers, the DMA registers, the
//! pin it holds (the IOVA of the page), config space and BAR2's memory; the
//! device that resumes it pins that page again, in its own container, before
//! it takes any of the rest. The stream's layout is at [`MIG_MAGIC`]. In the
//! stopped states (`STOP`, `STOP_COPY`, `RESUMING`) BAR0 accesses change
//! nothing: no DMA, no INTx, COUNTER does not count.
//!
//! It tracks the guest pages it writes (device dirty tracking, `log_ops`):
//! once userspace starts tracking, each copy first records the pages it
//! writes inside the tracked ranges (up to [`DIRTY_MAX_PAGES`]; a copy that
//! would record more fails with `ENOSPC` and writes nothing), and a report
//! gives those pages, and the pinned page while one is held, since the
//! device may write it at any time. See Documentation/rust-vendor-driver.rst
//! for a walkthrough.

use core::{
    fmt::{self, Write},
    ops::Range,
};
use kernel::{
    faux, new_mutex,
    page::PAGE_SIZE,
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
        // BAR2 outside its mappable area; the glue reads that area, and
        // BAR4 (mappable whole), in their pages.
        if index == vfio::VFIO_PCI_BAR2_REGION_INDEX {
            return dev.bar2.read(memory_offset(offset)?, data);
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
        let mut regs = dev.regs.lock();
        // The next user of the device starts with no dirty tracking.
        regs.dirty = None;
        // The VFIO glue unpins, after this, whatever the device still has
        // pinned: forgetting the receipt is enough.
        regs.pinned = None;
        // The API has put the device back in RUNNING.
        regs.stopped = false;
    }

    fn reset(dev: &vfio::Device<Self>) -> Result {
        let mut regs = dev.regs.lock();
        if let Some(pinned) = regs.pinned.take() {
            // Fails only if the page was unpinned already: either way, it
            // is not pinned any more.
            let _ = dev.unpin(pinned);
        }
        // Dirty tracking is userspace's, not the device's state: it goes on.
        let dirty = regs.dirty.take();
        *regs = Registers::new(dev.model);
        regs.dirty = dirty;
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

    // The header is all that pre-copy sends; the rest comes in stop-copy,
    // with the device stopped.
    const MIGRATION_FLAGS: u32 = vfio::migration::VFIO_MIGRATION_STOP_COPY
        | vfio::migration::VFIO_MIGRATION_P2P
        | vfio::migration::VFIO_MIGRATION_PRE_COPY;

    /// Quiesces the device on every arc into a stopped state (`STOP`,
    /// `STOP_COPY`, `RESUMING`) and starts it on every arc into a running
    /// one, under the register lock: once the arc is taken, no BAR0 access
    /// runs DMA, raises INTx or changes a register until the device runs
    /// again. The `_P2P` states run: the sample starts no peer-to-peer DMA.
    fn arc(dev: &vfio::Device<Self>, _from: vfio::State, to: vfio::State) -> Result {
        use vfio::State::*;
        dev.regs.lock().stopped = !matches!(to, Running | RunningP2p | PreCopy | PreCopyP2p);
        Ok(())
    }

    fn save(dev: &vfio::Device<Self>, stage: vfio::SaveStage, out: &mut vfio::SaveData) -> Result {
        match stage {
            vfio::SaveStage::Initial => out.push(&mig_header(dev.model)),
            vfio::SaveStage::Final => {
                let saved = dev.regs.lock().save()?;
                out.push(&saved)?;
                // BAR2 through a small buffer: the region's memory is shared
                // with userspace and only copied, never borrowed.
                let mut chunk = [0u8; 256];
                for offset in (0..BAR2_SIZE).step_by(chunk.len()) {
                    dev.bar2.read(offset, &mut chunk)?;
                    out.push(&chunk)?;
                }
                Ok(())
            }
        }
    }

    fn resume_spec(dev: &vfio::Device<Self>) -> Result<vfio::ResumeSpec> {
        let mut prefix = KVec::new();
        prefix.extend_from_slice(&mig_header(dev.model), GFP_KERNEL)?;
        Ok(vfio::ResumeSpec {
            prefix,
            max_size: MIG_SIZE,
        })
    }

    fn load(dev: &vfio::Device<Self>, data: &[u8]) -> Result {
        // Everything in the stream is checked first ...
        if data.len() != MIG_SIZE {
            return Err(EINVAL);
        }
        let (header, rest) = data.split_at(MIG_HEADER_SIZE);
        if header != mig_header(dev.model) {
            return Err(EINVAL);
        }
        let (saved, bar2) = rest.split_at(SAVED_SIZE);
        let (mut loaded, pin) = Registers::load(dev.model, saved)?;
        let mut regs = dev.regs.lock();
        // ... then the page the saved device had pinned is pinned here, the
        // one step that can fail for a reason outside the stream (nothing
        // mapped there in this device's container, an unmap going on): it
        // fails the load with the pin's errno, nothing changed. Under the
        // register lock, as every pin of the device.
        if let Some(iova) = pin {
            loaded.pinned = Some(dev.pin(iova, 1, true)?);
        }
        // BAR2 has exactly the stream's size, so this write cannot fail; if
        // it did, the new pin goes back and the registers stay.
        if let Err(e) = dev.bar2.write(0, bar2) {
            if let Some(pinned) = loaded.pinned.take() {
                let _ = dev.unpin(pinned);
            }
            return Err(e);
        }
        // Still stopped: the device is leaving RESUMING for STOP. Dirty
        // tracking is userspace's, not in the stream: it goes on.
        loaded.stopped = regs.stopped;
        loaded.dirty = regs.dirty.take();
        let old = core::mem::replace(&mut *regs, loaded);
        // The device's own pin, if it had one, is not in the state it now
        // has: given back (it fails only if it was unpinned already).
        if let Some(pinned) = old.pinned {
            let _ = dev.unpin(pinned);
        }
        Ok(())
    }

    fn migration_data_size(&self) -> usize {
        MIG_SIZE
    }

    /// Starts tracking the pages DMA copies write in `ranges`, in pages of
    /// the size userspace asks for if it is a power of two of at least
    /// `PAGE_SIZE`, else of `PAGE_SIZE`. `EBUSY` if tracking is on already.
    fn log_start(
        dev: &vfio::Device<Self>,
        ranges: &vfio::LogRanges<'_>,
        page_size: &mut u64,
    ) -> Result {
        if !page_size.is_power_of_two() || *page_size < PAGE_SIZE as u64 {
            *page_size = PAGE_SIZE as u64;
        }
        let log = DirtyLog::new(ranges, *page_size)?;
        let mut regs = dev.regs.lock();
        if regs.dirty.is_some() {
            return Err(EBUSY);
        }
        regs.dirty = Some(log);
        Ok(())
    }

    /// Stops tracking; `EINVAL` if it was off.
    fn log_stop(dev: &vfio::Device<Self>) -> Result {
        dev.regs.lock().dirty.take().map(drop).ok_or(EINVAL)
    }

    /// Reports the pages written in the window since the last report, and
    /// the pinned page; `EINVAL` if tracking is off.
    fn log_read_and_clear(dev: &vfio::Device<Self>, dirty: &mut vfio::DirtyBitmap<'_>) -> Result {
        let mut regs = dev.regs.lock();
        let regs = &mut *regs;
        let log = regs.dirty.as_mut().ok_or(EINVAL)?;
        log.report(dirty);
        if let Some(pinned) = &regs.pinned {
            // A pinned writable page may be written at any time.
            log.report_range(dirty, pinned.iova(), (pinned.pages() * PAGE_SIZE) as u64);
        }
        Ok(())
    }
}

/// The most pages a device's dirty log holds between two reports.
pub const DIRTY_MAX_PAGES: usize = 256;

/// Device dirty tracking: the ranges userspace asked for, the page size,
/// and the pages written in them since the last report.
///
/// # Invariants
///
/// `page_size` is a power of two; `pages` holds distinct multiples of it,
/// each inside one of `ranges`, at most [`DIRTY_MAX_PAGES`] of them.
struct DirtyLog {
    ranges: KVec<Range<u64>>,
    page_size: u64,
    pages: KVec<u64>,
}

impl DirtyLog {
    fn new(ranges: &vfio::LogRanges<'_>, page_size: u64) -> Result<Self> {
        let mut copied = KVec::with_capacity(ranges.count() as usize, GFP_KERNEL)?;
        for range in ranges.iter() {
            copied.push(range, GFP_KERNEL)?;
        }
        // INVARIANT: the caller gives a power of two; no page yet.
        Ok(Self {
            ranges: copied,
            page_size,
            pages: KVec::with_capacity(DIRTY_MAX_PAGES, GFP_KERNEL)?,
        })
    }

    /// Records the tracked pages of the `len` bytes at `iova`, before a
    /// copy writes them; `ENOSPC` (nothing recorded) if they do not all
    /// fit, so that no write goes unreported.
    fn record(&mut self, iova: u64, len: u64) -> Result {
        let end = iova.checked_add(len).ok_or(EINVAL)?;
        let first = iova & !(self.page_size - 1);
        let new = |log: &Self, page: &u64| {
            log.ranges
                .iter()
                .any(|r| *page < r.end && r.start < page.saturating_add(log.page_size))
                && !log.pages.contains(page)
        };
        let pages = (first..end).step_by(self.page_size as usize);
        if self.pages.len() + pages.clone().filter(|p| new(self, p)).count() > DIRTY_MAX_PAGES {
            return Err(ENOSPC);
        }
        for page in pages {
            if new(self, &page) {
                // INVARIANT: counted above, so within the capacity reserved
                // in `new`: the push does not allocate and cannot fail.
                self.pages.push_within_capacity(page).map_err(|_| ENOSPC)?;
            }
        }
        Ok(())
    }

    /// Marks in `dirty` the recorded pages of its window and forgets them.
    fn report(&mut self, dirty: &mut vfio::DirtyBitmap<'_>) {
        let window = dirty.window();
        let page_size = self.page_size;
        self.pages.retain(|&mut page| {
            let inside = window.start < page.saturating_add(page_size) && page < window.end;
            if inside {
                dirty.mark(page, page_size);
            }
            !inside
        });
    }

    /// Marks in `dirty` the tracked part of the `len` bytes at `iova`.
    fn report_range(&self, dirty: &mut vfio::DirtyBitmap<'_>, iova: u64, len: u64) {
        for range in &self.ranges {
            let (start, end) = (
                range.start.max(iova),
                range.end.min(iova.saturating_add(len)),
            );
            if start < end {
                dirty.mark(start, end - start);
            }
        }
    }
}

/// The first bytes of a migration stream of the sample, all little endian:
/// this magic number (u64), the stream's major and minor version (u32 1 and
/// 0), the type's PCI device ID and BAR0 size (u32 each), and the length of
/// the whole stream (u64, [`MIG_SIZE`]). These [`MIG_HEADER_SIZE`] bytes are
/// what pre-copy sends; a resuming device refuses any write that differs
/// from its own header (`EINVAL`), so a stream of the other type or with
/// another magic is never taken.
///
/// Then, in stop-copy, the device's state ([`SAVED_SIZE`] bytes, laid out
/// as `Registers::save` says) and BAR2's memory ([`BAR2_SIZE`] bytes).
pub const MIG_MAGIC: u64 = 0x4d44_5253_5341_4d50;
/// The bytes of a stream's header.
const MIG_HEADER_SIZE: usize = 32;
/// The bytes of the device's state in a stream: registers, the pin, config
/// space.
const SAVED_SIZE: usize = 48 + CONFIG_SIZE;
/// The bytes of a whole stream.
pub const MIG_SIZE: usize = MIG_HEADER_SIZE + SAVED_SIZE + BAR2_SIZE;
/// The saved pin flags of a device that holds a pin (of one writable page).
const MIG_PIN_HELD: u32 = 1;

/// The header of a stream of a device of `model`.
fn mig_header(model: Model) -> [u8; MIG_HEADER_SIZE] {
    let mut header = [0u8; MIG_HEADER_SIZE];
    let fields: [&[u8]; 6] = [
        &MIG_MAGIC.to_le_bytes(),
        &1u32.to_le_bytes(),
        &0u32.to_le_bytes(),
        &u32::from(model.device_id).to_le_bytes(),
        &model.bar0_size.to_le_bytes(),
        &(MIG_SIZE as u64).to_le_bytes(),
    ];
    let mut at = 0;
    for field in fields {
        header[at..at + field.len()].copy_from_slice(field);
        at += field.len();
    }
    header
}

/// Reads little-endian fields one after the other out of saved bytes.
struct Fields<'a>(&'a [u8]);

impl Fields<'_> {
    /// The next `N` bytes; `EINVAL` if fewer are left.
    fn take<const N: usize>(&mut self) -> Result<[u8; N]> {
        let (field, rest) = self.0.split_first_chunk::<N>().ok_or(EINVAL)?;
        self.0 = rest;
        Ok(*field)
    }

    fn u32(&mut self) -> Result<u32> {
        self.take().map(u32::from_le_bytes)
    }

    fn u64(&mut self) -> Result<u64> {
        self.take().map(u64::from_le_bytes)
    }
}

/// Runs a DMA `command` of the device `dev`, whose registers `regs` are.
fn run_dma(dev: &vfio::Device<SampleDevice>, regs: &mut Registers, command: DmaCommand) -> Result {
    match command {
        DmaCommand::Copy { iova, len } => {
            let pattern = DMA_PATTERN.get(..len).ok_or(EINVAL)?;
            // Recorded first: a page written is never missing from a report.
            if let Some(log) = &mut regs.dirty {
                log.record(iova, len as u64)?;
            }
            dev.dma_write(iova, pattern)
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
    /// The device is in a stopped migration state (see
    /// [`vfio::DeviceOps::arc`]): BAR0 reads and writes change nothing.
    stopped: bool,
    /// Dirty tracking, while userspace has it on.
    dirty: Option<DirtyLog>,
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
            stopped: false,
            dirty: None,
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
                if !self.stopped {
                    self.counter = value.wrapping_add(1);
                }
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

    /// Writes a BAR0 register; returns what else the write asks for. A
    /// stopped device ignores the write.
    fn bar0_write(&mut self, register: u32, value: u32) -> Action {
        if self.stopped {
            return Action::None;
        }
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

    /// The state a migration stream carries, [`SAVED_SIZE`] bytes, each
    /// field little endian: SCRATCH, COUNTER, IRQ_COUNT, DMA_LEN (u32 each),
    /// DMA_ADDR (u64), DMA_STATUS, DMA_UNMAPS (u32 each); the pin: its flags
    /// (u32, 0 or [`MIG_PIN_HELD`]), its pages (u32, 0 or 1) and the IOVA of
    /// its page (u64, 0 without a pin); then the 256 bytes of config space.
    fn save(&self) -> Result<KVec<u8>> {
        let (flags, pages, iova) = match &self.pinned {
            Some(pinned) => (
                MIG_PIN_HELD,
                u32::try_from(pinned.pages()).unwrap_or(u32::MAX),
                pinned.iova(),
            ),
            None => (0, 0, 0),
        };
        let mut out = KVec::with_capacity(SAVED_SIZE, GFP_KERNEL)?;
        for field in [
            &self.scratch.to_le_bytes()[..],
            &self.counter.to_le_bytes(),
            &self.irq_count.to_le_bytes(),
            &self.dma_len.to_le_bytes(),
            &self.dma_addr.to_le_bytes(),
            &self.dma_status.to_le_bytes(),
            &self.dma_unmaps.to_le_bytes(),
            &flags.to_le_bytes(),
            &pages.to_le_bytes(),
            &iova.to_le_bytes(),
            &self.config,
        ] {
            out.extend_from_slice(field, GFP_KERNEL)?;
        }
        Ok(out)
    }

    /// The registers of a device of `model` that [`Self::save`] saved as
    /// `saved`, with no pin, and the IOVA of the page the saved device had
    /// pinned, if it had one. `EINVAL` unless `saved` is exactly one saved
    /// state that a device of `model` can have: a pin of one page at a page
    /// boundary or none, a DMA_STATUS that is an errno or 0, and config
    /// space whose read-only bits are the model's.
    fn load(model: Model, saved: &[u8]) -> Result<(Self, Option<u64>)> {
        let mut fields = Fields(saved);
        let mut regs = Self::new(model);
        regs.scratch = fields.u32()?;
        regs.counter = fields.u32()?;
        regs.irq_count = fields.u32()?;
        regs.dma_len = fields.u32()?;
        regs.dma_addr = fields.u64()?;
        regs.dma_status = fields.u32()?;
        regs.dma_unmaps = fields.u32()?;
        let (flags, pages, iova) = (fields.u32()?, fields.u32()?, fields.u64()?);
        let config: [u8; CONFIG_SIZE] = fields.take()?;
        if !fields.0.is_empty() || regs.dma_status >= MAX_ERRNO {
            return Err(EINVAL);
        }
        let pin = match (flags, pages) {
            (0, 0) if iova == 0 => None,
            (MIG_PIN_HELD, 1) if iova % PAGE_SIZE as u64 == 0 => Some(iova),
            _ => return Err(EINVAL),
        };
        for (i, (&byte, &fresh)) in config.iter().zip(regs.config.iter()).enumerate() {
            if (byte ^ fresh) & !Self::config_write_mask(model, i) != 0 {
                return Err(EINVAL);
            }
        }
        regs.config = config;
        Ok((regs, pin))
    }
}

/// Errnos are below this (`MAX_ERRNO` + 1).
const MAX_ERRNO: u32 = 4096;

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

    /// A saved state of a SMALL device with some registers set.
    fn saved_state() -> KVec<u8> {
        let mut regs = Registers::new(SMALL);
        regs.bar0_write(REG_SCRATCH, 0x1234_5678);
        regs.bar0_write(REG_COUNTER, 41);
        regs.bar0_write(REG_DOORBELL, 0);
        regs.bar0_write(REG_DMA_ADDR_HI, 1);
        regs.bar0_write(REG_DMA_ADDR_LO, 0x200);
        regs.bar0_write(REG_DMA_LEN, 32);
        regs.dma_done(Err(EBUSY));
        regs.config_write(SMALL, 0x3c, &[0x0b]).unwrap();
        regs.save().unwrap()
    }

    #[test]
    fn saved_state_loads_back() {
        let saved = saved_state();
        assert_eq!(saved.len(), SAVED_SIZE);
        let (mut regs, pin) = Registers::load(SMALL, &saved).unwrap();
        assert_eq!(pin, None);
        // Before COUNTER is read, which adds one to it.
        assert_eq!(&regs.save().unwrap()[..], &saved[..]);
        assert_eq!(regs.bar0_read(REG_SCRATCH), 0x1234_5678);
        assert_eq!(regs.bar0_read(REG_COUNTER), 41);
        assert_eq!(regs.bar0_read(REG_IRQ_COUNT), 1);
        assert_eq!(regs.bar0_read(REG_DMA_ADDR_HI), 1);
        assert_eq!(regs.bar0_read(REG_DMA_ADDR_LO), 0x200);
        assert_eq!(regs.bar0_read(REG_DMA_LEN), 32);
        assert_eq!(regs.bar0_read(REG_DMA_STATUS), 16);
        assert_eq!(config_dword(&regs, 0x3c) & 0xff, 0x0b);
    }

    #[test]
    fn saved_pin_is_one_whole_page() {
        let mut saved = saved_state();
        let pin = |saved: &mut KVec<u8>, flags: u32, pages: u32, iova: u64| {
            saved[32..36].copy_from_slice(&flags.to_le_bytes());
            saved[36..40].copy_from_slice(&pages.to_le_bytes());
            saved[40..48].copy_from_slice(&iova.to_le_bytes());
        };
        pin(&mut saved, MIG_PIN_HELD, 1, 0x1000_1000);
        assert_eq!(
            Registers::load(SMALL, &saved).map(|(_, pin)| pin),
            Ok(Some(0x1000_1000))
        );
        for (flags, pages, iova) in [
            (MIG_PIN_HELD, 1, 0x1000_1008),
            (MIG_PIN_HELD, 2, 0x1000_1000),
            (MIG_PIN_HELD, 0, 0x1000_1000),
            (2, 1, 0x1000_1000),
            (0, 0, 0x1000_1000),
            (0, 1, 0),
        ] {
            pin(&mut saved, flags, pages, iova);
            assert!(Registers::load(SMALL, &saved).is_err());
        }
    }

    #[test]
    fn saved_state_is_checked_whole() {
        let saved = saved_state();
        assert!(Registers::load(SMALL, &saved[..SAVED_SIZE - 1]).is_err());
        let mut longer = saved_state();
        longer.push(0, GFP_KERNEL).unwrap();
        assert!(Registers::load(SMALL, &longer).is_err());
        // A read-only config byte (the device ID) that is not the model's.
        let mut other = saved_state();
        other[48 + 2] ^= 1;
        assert!(Registers::load(SMALL, &other).is_err());
        // BAR0's size bits are read-only too.
        let mut other = saved_state();
        other[48 + CONFIG_BAR0 + 1] = 0x01;
        assert!(Registers::load(SMALL, &other).is_err());
        // DMA_STATUS is an errno or 0.
        let mut other = saved_state();
        other[24..28].copy_from_slice(&4096u32.to_le_bytes());
        assert!(Registers::load(SMALL, &other).is_err());
    }

    #[test]
    fn a_stopped_device_changes_nothing() {
        let mut regs = Registers::new(SMALL);
        regs.bar0_write(REG_COUNTER, 7);
        regs.stopped = true;
        assert_eq!(regs.bar0_read(REG_COUNTER), 7);
        assert_eq!(regs.bar0_read(REG_COUNTER), 7);
        assert_eq!(regs.bar0_write(REG_DOORBELL, 1), Action::None);
        assert_eq!(regs.bar0_write(REG_DMA_CMD, DMA_CMD_UNPIN), Action::None);
        regs.bar0_write(REG_SCRATCH, 1);
        assert_eq!(regs.bar0_read(REG_IRQ_COUNT), 0);
        assert_eq!(regs.bar0_read(REG_SCRATCH), 0);
        regs.stopped = false;
        assert_eq!(regs.bar0_read(REG_COUNTER), 7);
        assert_eq!(regs.bar0_read(REG_COUNTER), 8);
        assert_eq!(regs.bar0_write(REG_DOORBELL, 1), Action::Doorbell);
    }

    #[test]
    fn stream_header() {
        let header = mig_header(SMALL);
        assert_eq!(&header[..8], &MIG_MAGIC.to_le_bytes());
        assert_eq!(&header[8..16], &[1, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&header[16..24], &[0x01, 0x7f, 0, 0, 0, 0x10, 0, 0]);
        assert_eq!(&header[24..], &(MIG_SIZE as u64).to_le_bytes());
        assert_eq!(MIG_SIZE, 65872);
    }

    /// A dirty log of 4 KiB pages over `0x10000..0x20000` and `0x40000..0x41000`.
    fn dirty_log() -> DirtyLog {
        let mut ranges = KVec::new();
        ranges.push(0x10000..0x20000, GFP_KERNEL).unwrap();
        ranges.push(0x40000..0x41000, GFP_KERNEL).unwrap();
        DirtyLog {
            ranges,
            page_size: 0x1000,
            pages: KVec::with_capacity(DIRTY_MAX_PAGES, GFP_KERNEL).unwrap(),
        }
    }

    #[test]
    fn dirty_log_records_tracked_pages_once() {
        let mut log = dirty_log();
        // Across two pages, one of them recorded twice.
        log.record(0x10ff8, 16).unwrap();
        log.record(0x11000, 1).unwrap();
        // Outside the ranges, and half in them.
        log.record(0x30000, 0x1000).unwrap();
        log.record(0x40ff0, 0x20).unwrap();
        assert_eq!(&log.pages[..], &[0x10000, 0x11000, 0x40000]);
        assert_eq!(log.record(u64::MAX, 2), Err(EINVAL));
    }

    #[test]
    fn full_dirty_log_refuses_new_pages_whole() {
        let mut log = dirty_log();
        // All but one place taken, by pages the copies below do not touch.
        for i in 0..DIRTY_MAX_PAGES as u64 - 1 {
            log.pages
                .push(0x1000_0000 + i * 0x1000, GFP_KERNEL)
                .unwrap();
        }
        // One place left: a copy over two new pages records neither.
        assert_eq!(log.record(0x10ff8, 16), Err(ENOSPC));
        assert_eq!(log.pages.len(), DIRTY_MAX_PAGES - 1);
        log.record(0x12000, 1).unwrap();
        assert_eq!(log.record(0x13000, 1), Err(ENOSPC));
        // A page logged already needs no room.
        log.record(0x12000, 1).unwrap();
    }

    #[test]
    fn bar0_access_rules() {
        assert_eq!(bar0_register(8, 4, SMALL), Ok(8));
        assert!(bar0_register(8, 2, SMALL).is_err());
        assert!(bar0_register(6, 4, SMALL).is_err());
        assert!(bar0_register(4096, 4, SMALL).is_err());
    }
}
