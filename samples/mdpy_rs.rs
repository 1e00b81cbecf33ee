// SPDX-License-Identifier: GPL-2.0

//! mdpy in Rust: the virtual display of the C sample
//! `samples/vfio-mdev/mdpy.c`, written on the Rust vendor API with no
//! `unsafe` of its own.
//!
//! The module makes a class device `mdpy_rs` and offers three types, one
//! per resolution: `mdpy_rs-vga` (640x480), `mdpy_rs-xga` (1024x768) and
//! `mdpy_rs-hd` (1920x1080), at most `count` devices over all of them.
//!
//! Each device is a VFIO PCI device whose BAR0 is its framebuffer, pages it
//! owns that userspace maps (and reads and writes through the region); the
//! same framebuffer is region 16, the one `VFIO_DEVICE_QUERY_GFX_PLANE`
//! names for a VMM's display. Reset paints it with a gray gradient.
//!
//! Where it differs from the C sample, see
//! Documentation/rust-vendor-driver.rst ("The Rust ports").

use core::fmt::{self, Write};
use kernel::prelude::*;

#[path = "../mdev_vendor_api.rs"]
pub mod mdev_vendor_api;
use mdev_vendor_api::{mdev, vfio};

#[path = "mdpy_rs/config.rs"]
mod config;
use config::{ConfigSpace, Mode, CONFIG_SIZE};

module! {
    type: MdpyModule,
    name: "mdpy_rs",
    authors: ["The mdev-rs developers"],
    description: "Rust port of the mdpy sample: a virtual display through VFIO",
    license: "GPL",
    params: {
        count: u32 {
            default: 4,
            description: "Devices the parent holds at once, over all types",
        },
    },
}

/// The device-specific region that holds the framebuffer for the display.
const DISPLAY_REGION: u32 = 16;
/// DRM fourcc of 32-bit pixels, the top byte unused: "XR24".
const XRGB8888: u32 = u32::from_le_bytes(*b"XR24");

/// `VFIO_DEVICE_QUERY_GFX_PLANE` flags.
const PLANE_PROBE: u32 = vfio::VFIO_GFX_PLANE_TYPE_PROBE;
const PLANE_REGION: u32 = vfio::VFIO_GFX_PLANE_TYPE_REGION;

/// The mdev driver.
struct MdpyDriver;

#[vtable]
impl mdev::Driver for MdpyDriver {
    const NAME: &'static CStr = c"mdpy_rs";
    const DEVICE_API: &'static CStr = c"vfio-pci";
    type TypeData = Mode;
    type DeviceData = vfio::Registration<MdpyDevice>;

    fn probe(mdev: &mdev::Device, mtype: &mdev::Type<Mode>) -> Result<Self::DeviceData> {
        let mode = *mtype.data();
        let registration = vfio::Registration::new(mdev, MdpyDevice::new(mode))?;
        dev_info!(
            mdev.as_dev(),
            "mdpy_rs: {}x{} display\n",
            mode.width,
            mode.height
        );
        Ok(registration)
    }

    fn show_description(mtype: &mdev::Type<Mode>, out: &mut mdev::SysfsText<'_>) -> fmt::Result {
        let mode = mtype.data();
        writeln!(
            out,
            "virtual display, {}x{} framebuffer",
            mode.width, mode.height
        )
    }

    const DEVICE_FILES: mdev::DeviceFiles = mdev::DeviceFiles {
        directory: Some(c"vendor"),
        files: &[mdev::DeviceFile::read_only(c"resolution")],
    };

    fn show_device_file(
        _mdev: &mdev::Device,
        display: &Self::DeviceData,
        _file: usize,
        out: &mut mdev::SysfsText<'_>,
    ) -> fmt::Result {
        writeln!(out, "{}x{}", display.mode.width, display.mode.height)
    }
}

/// One display: its mode, config space and framebuffer.
#[pin_data]
struct MdpyDevice {
    mode: Mode,
    /// Read and written without a lock (see [`vfio::ConfigBytes`]).
    config: ConfigSpace,
    #[pin]
    framebuffer: vfio::PageBuffer,
}

impl MdpyDevice {
    fn new(mode: Mode) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            config: ConfigSpace::new(mode),
            framebuffer <- vfio::PageBuffer::new(mode.framebuffer_size() as usize),
            mode,
        })
        .pin_chain(|dev| dev.paint_gradient())
    }

    /// Paints line `i` gray level `i * 255 / height`, as a reset does.
    fn paint_gradient(&self) -> Result {
        let (stride, height) = (self.mode.stride(), self.mode.height);
        for line in 0..height {
            let level = u8::try_from(line * 255 / height).unwrap_or(u8::MAX);
            self.framebuffer
                .fill((line * stride) as usize, stride as usize, level)?;
        }
        Ok(())
    }

    /// Answers `VFIO_DEVICE_QUERY_GFX_PLANE`: the framebuffer, a region.
    fn query_plane(&self, plane: &mut vfio::vfio_device_gfx_plane_info) -> Result {
        if plane.flags & PLANE_PROBE != 0 {
            // Probing: only the region plane type is offered.
            return match plane.flags {
                flags if flags == PLANE_PROBE | PLANE_REGION => Ok(()),
                _ => Err(EINVAL),
            };
        }
        if plane.flags != PLANE_REGION {
            return Err(EINVAL);
        }
        plane.drm_format = self.mode.format;
        plane.drm_format_mod = 0;
        plane.width = self.mode.width;
        plane.height = self.mode.height;
        plane.stride = self.mode.stride();
        plane.size = self.mode.framebuffer_size();
        (plane.x_pos, plane.y_pos, plane.x_hot, plane.y_hot) = (0, 0, 0, 0);
        plane.set_region_index(DISPLAY_REGION);
        Ok(())
    }
}

/// Region offsets the device decodes are small.
fn region_offset(offset: u64) -> Result<usize> {
    usize::try_from(offset).map_err(|_| EINVAL)
}

#[vtable]
impl vfio::DeviceOps for MdpyDevice {
    const NAME: &'static CStr = c"vfio-mdpy";
    const FLAGS: u32 = vfio::VFIO_DEVICE_FLAGS_PCI;
    const NUM_REGIONS: u32 = vfio::VFIO_PCI_NUM_REGIONS;
    const NUM_IRQS: u32 = vfio::VFIO_PCI_NUM_IRQS;
    // As the C sample: every PCI interrupt index, none with interrupts.
    const IRQS: &'static [vfio::Irq] = &[
        vfio::Irq::absent(vfio::VFIO_PCI_INTX_IRQ_INDEX),
        vfio::Irq::absent(vfio::VFIO_PCI_MSI_IRQ_INDEX),
        vfio::Irq::absent(vfio::VFIO_PCI_MSIX_IRQ_INDEX),
        vfio::Irq::absent(vfio::VFIO_PCI_ERR_IRQ_INDEX),
        vfio::Irq::absent(vfio::VFIO_PCI_REQ_IRQ_INDEX),
    ];

    // Asked on every access: inlined, as `read` and `write`.
    #[inline]
    fn region(&self, index: u32) -> Option<vfio::Region> {
        match index {
            vfio::VFIO_PCI_CONFIG_REGION_INDEX => {
                Some(vfio::Region::read_write(CONFIG_SIZE as u64))
            }
            vfio::VFIO_PCI_BAR0_REGION_INDEX | DISPLAY_REGION => {
                Some(vfio::Region::mappable(self.mode.framebuffer_size().into()))
            }
            _ => None,
        }
    }

    fn mmap_pages(&self, index: u32) -> Option<&vfio::PageBuffer> {
        matches!(index, vfio::VFIO_PCI_BAR0_REGION_INDEX | DISPLAY_REGION)
            .then_some(&self.framebuffer)
    }

    // Inlined into the glue's callback: one call less per trapped access
    // (the data path of Documentation/benchmark.rst).
    #[inline]
    fn read(dev: &vfio::Device<Self>, index: u32, offset: u64, data: &mut [u8]) -> Result {
        let offset = region_offset(offset)?;
        match index {
            vfio::VFIO_PCI_CONFIG_REGION_INDEX => {
                dev.config.read(offset, data);
                Ok(())
            }
            // The framebuffer's regions are mappable whole: the glue reads
            // and writes them in its pages, never here.
            _ => Err(EINVAL),
        }
    }

    // Inlined into the glue's callback: one call less per trapped access
    // (the data path of Documentation/benchmark.rst).
    #[inline]
    fn write(dev: &vfio::Device<Self>, index: u32, offset: u64, data: &[u8]) -> Result {
        let offset = region_offset(offset)?;
        match index {
            vfio::VFIO_PCI_CONFIG_REGION_INDEX => {
                dev.config.write(offset, data);
                Ok(())
            }
            // As in `read`: the framebuffer never comes here.
            _ => Err(EINVAL),
        }
    }

    fn reset(dev: &vfio::Device<Self>) -> Result {
        dev.paint_gradient()
    }

    fn ioctl(dev: &vfio::Device<Self>, cmd: u32, arg: vfio::IoctlArg) -> Result<isize> {
        match cmd {
            vfio::VFIO_DEVICE_QUERY_GFX_PLANE => {
                let mut plane: vfio::vfio_device_gfx_plane_info = arg.read()?;
                dev.query_plane(&mut plane)?;
                arg.write(&plane)?;
                Ok(0)
            }
            _ => Err(ENOTTY),
        }
    }
}

/// The module: a parent, which owns the class device it offers types on and
/// keeps the driver registered while it is.
struct MdpyModule {
    _parent: mdev::Parent<MdpyDriver>,
}

/// A 32-bit-per-pixel mode of `width` by `height`.
const fn mode(width: u32, height: u32) -> Mode {
    Mode {
        format: XRGB8888,
        width,
        height,
        bytes_per_pixel: 4,
    }
}

impl kernel::Module for MdpyModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let driver = mdev::DriverRegistration::new(module, *module_parameters::count.value())?;
        let class_dev = mdev::ClassDevice::new(c"mdpy_rs")?;
        let types = [
            mdev::TypeSpec {
                sysfs_name: c"vga",
                pretty_name: c"mdpy_rs-vga",
                data: mode(640, 480),
            },
            mdev::TypeSpec {
                sysfs_name: c"xga",
                pretty_name: c"mdpy_rs-xga",
                data: mode(1024, 768),
            },
            mdev::TypeSpec {
                sysfs_name: c"hd",
                pretty_name: c"mdpy_rs-hd",
                data: mode(1920, 1080),
            },
        ];
        // The parent owns the device and a share of the driver's
        // registration: `driver` may go at the end of this function.
        let parent = mdev::Parent::new(class_dev, &driver, types)?;
        Ok(Self { _parent: parent })
    }
}
