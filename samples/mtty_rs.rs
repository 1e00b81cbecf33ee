// SPDX-License-Identifier: GPL-2.0

//! mtty in Rust: the virtual serial card of the C sample
//! `samples/vfio-mdev/mtty.c`, written on the Rust vendor API with no
//! `unsafe` of its own.
//!
//! The module makes a class device `mtty_rs` and offers, through it, two
//! types: `mtty_rs-1` ("Single port serial") and `mtty_rs-2` ("Dual port
//! serial"). 24 ports are shared by all devices, so `available_instances`
//! counts the ports left over the ports a device of the type takes.
//!
//! Each device is a VFIO PCI device: the config space of a 16550-compatible
//! serial controller ([`config`]), one 8-byte I/O BAR per port whose
//! registers loop transmitted bytes back into the receive FIFO ([`serial`]),
//! and INTx (maskable, masked when it fires) or MSI through eventfds.
//!
//! Where it differs from the C sample, see
//! Documentation/rust-vendor-driver.rst ("The Rust ports").

use core::fmt::{self, Write};
use kernel::{
    new_mutex,
    prelude::*,
    sync::{
        atomic::{Atomic, Relaxed},
        Mutex,
    },
};

#[path = "../mdev_vendor_api.rs"]
pub mod mdev_vendor_api;
use mdev_vendor_api::{mdev, vfio};

#[path = "mtty_rs/config.rs"]
mod config;
#[path = "mtty_rs/serial.rs"]
mod serial;

use config::{ConfigSpace, CONFIG_SIZE, IO_BAR_SIZE};
use serial::{SerialPort, SAVED_SIZE};

module! {
    type: MttyModule,
    name: "mtty_rs",
    authors: ["The mdev-rs developers"],
    description: "Rust port of the mtty sample: virtual serial ports through VFIO",
    license: "GPL",
}

/// Ports shared by every device of the module.
const MAX_PORTS: u32 = 24;

/// Ports not taken by a device.
static FREE_PORTS: Atomic<u32> = Atomic::new(MAX_PORTS);

/// Ports taken by one device, given back when VFIO releases it.
struct Ports(u32);

impl Ports {
    /// Takes `count` ports, or fails with `ENOSPC`.
    fn take(count: u32) -> Result<Self> {
        let mut free = FREE_PORTS.load(Relaxed);
        loop {
            let left = free.checked_sub(count).ok_or(ENOSPC)?;
            match FREE_PORTS.cmpxchg(free, left, Relaxed) {
                Ok(_) => return Ok(Self(count)),
                Err(now) => free = now,
            }
        }
    }
}

impl Drop for Ports {
    fn drop(&mut self) {
        FREE_PORTS.add(self.0, Relaxed);
    }
}

/// The mdev driver.
struct MttyDriver;

#[vtable]
impl mdev::Driver for MttyDriver {
    const NAME: &'static CStr = c"mtty_rs";
    const DEVICE_API: &'static CStr = c"vfio-pci";
    /// Ports per device.
    type TypeData = u32;
    type DeviceData = vfio::Registration<MttyDevice>;

    fn probe(mdev: &mdev::Device, mtype: &mdev::Type<u32>) -> Result<Self::DeviceData> {
        let ports = Ports::take(*mtype.data())?;
        vfio::Registration::new(mdev, MttyDevice::new(ports))
    }

    fn get_available(mtype: &mdev::Type<u32>) -> u32 {
        // Types take one or two ports: never 0, but no panic path either.
        FREE_PORTS
            .load(Relaxed)
            .checked_div(*mtype.data())
            .unwrap_or(0)
    }

    const DEVICE_FILES: mdev::DeviceFiles = mdev::DeviceFiles {
        directory: Some(c"vendor"),
        files: &[mdev::DeviceFile::read_only(c"sample_mdev_dev")],
    };

    fn show_device_file(
        mdev: &mdev::Device,
        _card: &Self::DeviceData,
        _file: usize,
        out: &mut mdev::SysfsText<'_>,
    ) -> fmt::Result {
        writeln!(
            out,
            "This is MDEV {}",
            mdev.as_dev().name().to_str().map_err(|_| fmt::Error)?
        )
    }
}

/// The migration stream's header, as the C mtty sample's stream starts:
/// a magic number (little endian u64), major and minor version (1, 0), the
/// number of ports and flags (0), each a little-endian u32.
const MIG_MAGIC: u64 = 0x7e9d_0989_8c3e_2c4e;
const MIG_HEADER_SIZE: usize = 24;

/// The header of the stream of a device with `ports` ports.
fn mig_header(ports: u32) -> [u8; MIG_HEADER_SIZE] {
    let mut header = [0u8; MIG_HEADER_SIZE];
    header[0..8].copy_from_slice(&MIG_MAGIC.to_le_bytes());
    header[8..12].copy_from_slice(&1u32.to_le_bytes());
    header[16..20].copy_from_slice(&ports.to_le_bytes());
    header
}

/// The UARTs of a device, which a guest changes.
struct State {
    ports: [SerialPort; 2],
}

/// One mediated serial card.
#[pin_data]
struct MttyDevice {
    ports: Ports,
    /// Read and written without the state's lock (see [`vfio::ConfigBytes`]).
    config: ConfigSpace,
    #[pin]
    state: Mutex<State>,
}

impl MttyDevice {
    fn new(ports: Ports) -> impl PinInit<Self, Error> {
        // One or two ports, as the types offer.
        let count = if ports.0 == 2 { 2 } else { 1 };
        try_pin_init!(Self {
            state <- new_mutex!(State {
                ports: [SerialPort::new(), SerialPort::new()],
            }),
            config: ConfigSpace::new(count),
            ports,
        })
    }

    /// The port behind BAR `index`.
    fn port(state: &mut State, index: u32) -> Result<&mut SerialPort> {
        state.ports.get_mut(index as usize).ok_or(EINVAL)
    }

    /// Raises the device's interrupt `count` times: through whichever of
    /// INTx and MSI userspace armed (the glue lets it arm only one).
    #[inline]
    fn interrupt(dev: &vfio::Device<Self>, count: u32) {
        for _ in 0..count {
            dev.trigger_each(&[vfio::VFIO_PCI_MSI_IRQ_INDEX, vfio::VFIO_PCI_INTX_IRQ_INDEX]);
        }
    }
}

/// Config space and BARs are addressed with offsets below 256.
fn small_offset(offset: u64) -> Result<usize> {
    usize::try_from(offset).map_err(|_| EINVAL)
}

#[vtable]
impl vfio::DeviceOps for MttyDevice {
    const NAME: &'static CStr = c"vfio-mtty";
    const FLAGS: u32 = vfio::VFIO_DEVICE_FLAGS_PCI;
    const NUM_REGIONS: u32 = vfio::VFIO_PCI_NUM_REGIONS;
    const NUM_IRQS: u32 = vfio::VFIO_PCI_NUM_IRQS;
    const IRQS: &'static [vfio::Irq] = &[
        vfio::Irq::intx(),
        vfio::Irq::eventfd(vfio::VFIO_PCI_MSI_IRQ_INDEX, 1)
            .with_flags(vfio::VFIO_IRQ_INFO_NORESIZE),
    ];

    // Asked on every access: inlined, as `read` and `write`.
    #[inline]
    fn region(&self, index: u32) -> Option<vfio::Region> {
        // As the C sample: every PCI region index is readable and writable,
        // most of them with no bytes, and there is nothing beyond them.
        if index >= vfio::VFIO_PCI_NUM_REGIONS {
            return None;
        }
        let size = match index {
            vfio::VFIO_PCI_CONFIG_REGION_INDEX => CONFIG_SIZE as u64,
            vfio::VFIO_PCI_BAR0_REGION_INDEX => IO_BAR_SIZE.into(),
            vfio::VFIO_PCI_BAR1_REGION_INDEX if self.ports.0 == 2 => IO_BAR_SIZE.into(),
            _ => 0,
        };
        Some(vfio::Region::read_write(size))
    }

    // Inlined into the glue's callback: one call less per trapped access
    // (the data path of Documentation/benchmark.rst).
    #[inline]
    fn read(dev: &vfio::Device<Self>, index: u32, offset: u64, data: &mut [u8]) -> Result {
        let offset = small_offset(offset)?;
        if index == vfio::VFIO_PCI_CONFIG_REGION_INDEX {
            dev.config.read(offset, data);
            return Ok(());
        }
        let mut state = dev.state.lock();
        // A register is one byte; a wider read gets it in its first byte.
        let (value, interrupts) = Self::port(&mut state, index)?.read(offset as u8);
        drop(state);
        // Not `fill`, a call of its own in a kernel built for size.
        let mut i = 0;
        while i < data.len() {
            data[i] = 0;
            i += 1;
        }
        data[0] = value;
        Self::interrupt(dev, interrupts);
        Ok(())
    }

    // Inlined into the glue's callback: one call less per trapped access
    // (the data path of Documentation/benchmark.rst).
    #[inline]
    fn write(dev: &vfio::Device<Self>, index: u32, offset: u64, data: &[u8]) -> Result {
        let offset = small_offset(offset)?;
        if index == vfio::VFIO_PCI_CONFIG_REGION_INDEX {
            dev.config.write(offset, data);
            return Ok(());
        }
        let mut state = dev.state.lock();
        // A wider write writes its first byte.
        let interrupts = Self::port(&mut state, index)?.write(offset as u8, data[0]);
        drop(state);
        Self::interrupt(dev, interrupts);
        Ok(())
    }

    /// As the C sample, a reset leaves registers and config space as they
    /// are; the API ends a migration in progress.
    fn reset(_dev: &vfio::Device<Self>) -> Result {
        Ok(())
    }

    // As the C sample: stop-copy, P2P and pre-copy, where pre-copy sends
    // only the header and stop-copy the ports. The config space is not in
    // the stream (as in the C sample's).
    const MIGRATION_FLAGS: u32 = vfio::migration::VFIO_MIGRATION_STOP_COPY
        | vfio::migration::VFIO_MIGRATION_P2P
        | vfio::migration::VFIO_MIGRATION_PRE_COPY;

    fn save(dev: &vfio::Device<Self>, stage: vfio::SaveStage, out: &mut vfio::SaveData) -> Result {
        match stage {
            vfio::SaveStage::Initial => out.push(&mig_header(dev.ports.0)),
            vfio::SaveStage::Final => {
                let state = dev.state.lock();
                for port in state.ports.iter().take(dev.ports.0 as usize) {
                    out.push(&port.save())?;
                }
                Ok(())
            }
        }
    }

    fn resume_spec(dev: &vfio::Device<Self>) -> Result<vfio::ResumeSpec> {
        let mut prefix = KVec::new();
        prefix.extend_from_slice(&mig_header(dev.ports.0), GFP_KERNEL)?;
        Ok(vfio::ResumeSpec {
            prefix,
            max_size: dev.migration_data_size(),
        })
    }

    fn load(dev: &vfio::Device<Self>, data: &[u8]) -> Result {
        if data.len() != dev.migration_data_size() {
            return Err(EINVAL);
        }
        // Every port is checked before any is replaced.
        let mut ports = [SerialPort::new(), SerialPort::new()];
        for (i, bytes) in data[MIG_HEADER_SIZE..].chunks(SAVED_SIZE).enumerate() {
            *ports.get_mut(i).ok_or(EINVAL)? = SerialPort::load(bytes)?;
        }
        let mut state = dev.state.lock();
        for (i, port) in ports.into_iter().enumerate().take(dev.ports.0 as usize) {
            state.ports[i] = port;
        }
        Ok(())
    }

    fn migration_data_size(&self) -> usize {
        MIG_HEADER_SIZE + self.ports.0 as usize * SAVED_SIZE
    }

    // As the C sample: dirty tracking is offered and has nothing to track,
    // the device never writes guest memory.
    fn log_start(
        _dev: &vfio::Device<Self>,
        _ranges: &vfio::LogRanges<'_>,
        _page_size: &mut u64,
    ) -> Result {
        Ok(())
    }

    fn log_stop(_dev: &vfio::Device<Self>) -> Result {
        Ok(())
    }

    fn log_read_and_clear(_dev: &vfio::Device<Self>, _dirty: &mut vfio::DirtyBitmap<'_>) -> Result {
        Ok(())
    }
}

/// The module: a parent, which owns the class device it offers types on and
/// keeps the driver registered while it is.
struct MttyModule {
    _parent: mdev::Parent<MttyDriver>,
}

impl kernel::Module for MttyModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        // With `get_available`, the core does not count instances itself.
        let driver = mdev::DriverRegistration::new(module, 0)?;
        let class_dev = mdev::ClassDevice::new(c"mtty_rs")?;
        let types = [
            mdev::TypeSpec {
                sysfs_name: c"1",
                pretty_name: c"Single port serial",
                data: 1,
            },
            mdev::TypeSpec {
                sysfs_name: c"2",
                pretty_name: c"Dual port serial",
                data: 2,
            },
        ];
        // The parent owns the device and a share of the driver's
        // registration: `driver` may go at the end of this function.
        let parent = mdev::Parent::new(class_dev, &driver, types)?;
        Ok(Self { _parent: parent })
    }
}
