// SPDX-License-Identifier: GPL-2.0
/*
 * mdpy_client - drive the mdpy sample vendor driver (a PCI display whose
 * framebuffer is BAR0, its format and resolution in a vendor capability of
 * config space) through VFIO as a VMM's display code does, and check what
 * it answers: its device, region and irq info, its PCI configuration space,
 * the framebuffer mapped and read back through the region's read path, the
 * plane (VFIO_DEVICE_QUERY_GFX_PLANE), reset, and accesses outside its
 * regions.  The expectations are what the in-tree C mdpy was observed to
 * do, so that a port of it (mdpy_rs) can be run through the very same
 * client.
 *
 * The device comes from the environment:
 *
 *   MDEV_UUID          the mediated device to open
 *   MDEV_MDPY_WIDTH    the resolution of its type: 640x480 (mdpy-vga),
 *   MDEV_MDPY_HEIGHT   1024x768 (mdpy-xga) or 1920x1080 (mdpy-hd)
 *   MDEV_MDPY_STRICT   1: the read and write paths must honour the offset
 *                      inside the framebuffer, and every access outside a
 *                      region must fail (see below)
 *
 * Without --trace, the kselftest harness runs the fixture "mdpy".  With
 * --trace, a fixed sequence of the same operations prints one line per
 * observation, so that two drivers' transcripts can be compared with diff;
 * it must run on a device nobody has opened yet (see trace_info).
 *
 * Where the regions are is never assumed: the C mdpy puts config space at
 * file offset 0 and both BAR0 and the display region (index 16) at one
 * page, where vfio-pci (and the Rust vendor API) put region i at i << 40.
 * Every access goes through the offsets that GET_REGION_INFO reports.
 *
 * What only MDEV_MDPY_STRICT=1 checks: the C mdpy's read and write paths
 * check that an access lies inside the framebuffer, and then copy from or
 * to the framebuffer's first bytes, whatever the offset (a 4-byte read
 * anywhere in BAR0 returns its first 4 bytes, a write anywhere overwrites
 * them).  By default, the read and write paths are therefore only checked
 * at offset 0; the mapping shows the whole framebuffer either way.  The C
 * mdpy also serves a config read that starts inside config space and ends
 * past it (with a byte from beyond its own copy), and the regions of size 0
 * at the offset it reports for them (0: config space): the harness makes
 * those accesses only under MDEV_MDPY_STRICT=1, where they must fail (the
 * transcript records the latter).
 *
 * BAR0's config register is only written 4 bytes at a time: the C mdpy
 * takes 4 bytes there whatever the size of the write.
 */
#define _GNU_SOURCE		/* strerrorname_np() */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <drm/drm_fourcc.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "vfio_dev.h"

/* What mdpy emulates. */
#define MDPY_VENDOR_ID		0x1b36	/* Red Hat */
#define MDPY_DEVICE_ID		0x000f
#define MDPY_SUBVENDOR_ID	0x1af4	/* Red Hat (Qumranet) */
#define MDPY_SUBDEVICE_ID	0x1100	/* QEMU */
#define MDPY_REVISION		0x01
#define MDPY_CLASS		0x0380	/* display controller, other */
#define MDPY_CONFIG_SIZE	0xff	/* not 0x100, as mtty's */
#define MDPY_BAR0_FLAGS		(PCI_BASE_ADDRESS_SPACE_MEMORY | PCI_BASE_ADDRESS_MEM_TYPE_32 | \
				 PCI_BASE_ADDRESS_MEM_PREFETCH)
/* The vendor capability that describes the framebuffer, dwords at +4. */
#define MDPY_CAP		0x40
#define MDPY_CAP_LEN		0x10
#define MDPY_CAP_FORMAT		(MDPY_CAP + 0x4)
#define MDPY_CAP_WIDTH		(MDPY_CAP + 0x8)
#define MDPY_CAP_HEIGHT		(MDPY_CAP + 0xc)
#define MDPY_FORMAT		DRM_FORMAT_XRGB8888	/* 'XR24' */
#define MDPY_BYTES_PER_PIXEL	4
/* The region that QUERY_GFX_PLANE names: the framebuffer again. */
#define MDPY_DISPLAY_REGION	16

/* DRM's plane types (enum drm_plane_type, which is not in the uapi). */
#define PLANE_TYPE_OVERLAY	0
#define PLANE_TYPE_PRIMARY	1
#define PLANE_TYPE_CURSOR	2

/* The fields of QUERY_GFX_PLANE's argument that the drivers know. */
#define PLANE_MINSZ	(offsetof(struct vfio_device_gfx_plane_info, region_index) + \
			 sizeof(uint32_t))
/* What the client fills its plane arguments with before the ioctl. */
#define PLANE_FILL	0xa5

/* --- The mdpy device --- */

struct mdpy {
	struct vfio_dev dev;
	uint32_t width, height;		/* MDEV_MDPY_WIDTH, MDEV_MDPY_HEIGHT */
	uint32_t stride;		/* bytes per row */
	uint64_t fbsize;		/* stride * height, rounded up to a power of 2 */
	uint64_t page;
	int strict;			/* MDEV_MDPY_STRICT */
	struct vfio_region_info bar0, display;
};

static uint64_t region_offset(uint32_t index)
{
	return (uint64_t)index << 40;
}

static int get_region_info(struct vfio_dev *dev, uint32_t index, struct vfio_region_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->index = index;
	return ioctl(dev->device, VFIO_DEVICE_GET_REGION_INFO, info);
}

/* A positive dimension from the environment variable NAME, or 0. */
static uint32_t env_dimension(const char *name)
{
	const char *value = getenv(name);
	unsigned long n;
	char *end;

	if (!value)
		return 0;
	n = strtoul(value, &end, 0);
	return *value && !*end && n <= 8192 ? n : 0;
}

/*
 * Open the device, and optionally VFIO_DEVICE_GET_INFO as a VMM does first:
 * the C mdpy answers GET_IRQ_INFO with EINVAL until it has been asked
 * (trace_info), and remembers the answer for the device's lifetime.  Then
 * the info of BAR0 and of the display region, whose offsets every access
 * goes through.
 */
static int mdpy_open(struct mdpy *m, int get_info)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	const char *strict = getenv("MDEV_MDPY_STRICT");
	uint64_t bytes;

	vfio_dev_init(&m->dev);
	m->width = env_dimension("MDEV_MDPY_WIDTH");
	m->height = env_dimension("MDEV_MDPY_HEIGHT");
	if (!m->width || !m->height) {
		snprintf(m->dev.why, sizeof(m->dev.why),
			 "MDEV_MDPY_WIDTH and MDEV_MDPY_HEIGHT must give the type's resolution");
		return -1;
	}
	m->stride = m->width * MDPY_BYTES_PER_PIXEL;
	bytes = (uint64_t)m->stride * m->height;
	for (m->fbsize = 1; m->fbsize < bytes; m->fbsize <<= 1)
		;
	m->page = sysconf(_SC_PAGESIZE);
	m->strict = strict && !strcmp(strict, "1");
	if (vfio_dev_open(&m->dev))
		return -1;
	if (get_info && ioctl(m->dev.device, VFIO_DEVICE_GET_INFO, &info))
		return vfio_dev_fail(&m->dev, "VFIO_DEVICE_GET_INFO");
	if (get_region_info(&m->dev, VFIO_PCI_BAR0_REGION_INDEX, &m->bar0))
		return vfio_dev_fail(&m->dev, "VFIO_DEVICE_GET_REGION_INFO (BAR0)");
	if (get_region_info(&m->dev, MDPY_DISPLAY_REGION, &m->display))
		return vfio_dev_fail(&m->dev, "VFIO_DEVICE_GET_REGION_INFO (region 16)");
	return 0;
}

/* Accesses through a region's read and write paths, at OFF inside it. */
static ssize_t region_read(struct mdpy *m, const struct vfio_region_info *r, void *buf,
			   size_t len, uint64_t off)
{
	return pread(m->dev.device, buf, len, r->offset + off);
}

static ssize_t region_write(struct mdpy *m, const struct vfio_region_info *r, const void *buf,
			    size_t len, uint64_t off)
{
	return pwrite(m->dev.device, buf, len, r->offset + off);
}

/* mmap LEN bytes of region R from OFF inside it; MAP_FAILED on failure. */
static void *region_map(struct mdpy *m, const struct vfio_region_info *r, uint64_t off,
			size_t len, int prot, int flags)
{
	return mmap(NULL, len, prot, flags, m->dev.device, r->offset + off);
}

/* The gray that reset paints ROW with, in every byte of the row. */
static uint8_t gradient(const struct mdpy *m, uint32_t row)
{
	return row * 255 / m->height;
}

/* The first byte of the rows of FB that is not the gradient, or -1. */
static long gradient_mismatch(const struct mdpy *m, const uint8_t *fb)
{
	uint32_t row, i;

	for (row = 0; row < m->height; row++) {
		const uint8_t *p = fb + (size_t)row * m->stride;
		uint8_t want = gradient(m, row);

		for (i = 0; i < m->stride; i++)
			if (p[i] != want)
				return (long)row * m->stride + i;
	}
	return -1;
}

/* The first of LEN bytes at P that is not VALUE, or -1. */
static long first_not(const uint8_t *p, size_t len, uint8_t value)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != value)
			return i;
	return -1;
}

static uint32_t get32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put16(uint8_t *p, uint16_t value)
{
	p[0] = value;
	p[1] = value >> 8;
}

static void put32(uint8_t *p, uint32_t value)
{
	put16(p, value);
	put16(p + 2, value >> 16);
}

/* A dword of the framebuffer through a mapping (the host is little-endian). */
static uint32_t fb_get(const uint8_t *fb, uint64_t off)
{
	return get32(fb + off);
}

static void fb_set(uint8_t *fb, uint64_t off, uint32_t value)
{
	put32(fb + off, value);
}

/* The pattern of dword I of page P (no two dwords of the tests alike). */
static uint32_t pattern(uint64_t p, uint64_t i)
{
	return 0x6d000000 ^ (uint32_t)(p << 12) ^ (uint32_t)(i * 0x9e3779b1u);
}

/*
 * The bytes of config space mdpy creates; CHANGES marks the bytes whose
 * value depends on what was written (BAR0's address).
 */
static void mdpy_config_expected(const struct mdpy *m, uint8_t *cfg, uint8_t *changes)
{
	memset(cfg, 0, MDPY_CONFIG_SIZE);
	memset(changes, 0, MDPY_CONFIG_SIZE);
	put16(cfg + PCI_VENDOR_ID, MDPY_VENDOR_ID);
	put16(cfg + PCI_DEVICE_ID, MDPY_DEVICE_ID);
	put16(cfg + PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	put16(cfg + PCI_STATUS, PCI_STATUS_CAP_LIST);
	cfg[PCI_REVISION_ID] = MDPY_REVISION;
	put16(cfg + PCI_CLASS_DEVICE, MDPY_CLASS);
	put32(cfg + PCI_BASE_ADDRESS_0, MDPY_BAR0_FLAGS);
	memset(changes + PCI_BASE_ADDRESS_0, 1, 4);
	put16(cfg + PCI_SUBSYSTEM_VENDOR_ID, MDPY_SUBVENDOR_ID);
	put16(cfg + PCI_SUBSYSTEM_ID, MDPY_SUBDEVICE_ID);
	cfg[PCI_CAPABILITY_LIST] = MDPY_CAP;
	cfg[MDPY_CAP + PCI_CAP_LIST_ID] = PCI_CAP_ID_VNDR;
	cfg[MDPY_CAP + PCI_CAP_LIST_NEXT] = 0;
	cfg[MDPY_CAP + PCI_CAP_FLAGS] = MDPY_CAP_LEN;
	put32(cfg + MDPY_CAP_FORMAT, MDPY_FORMAT);
	put32(cfg + MDPY_CAP_WIDTH, m->width);
	put32(cfg + MDPY_CAP_HEIGHT, m->height);
}

/* The whole config space, as a VMM reads it: one read of every byte. */
static ssize_t config_read_all(struct mdpy *m, uint8_t *cfg)
{
	memset(cfg, 0, MDPY_CONFIG_SIZE);
	return config_read(&m->dev, cfg, MDPY_CONFIG_SIZE, 0);
}

/*
 * QUERY_GFX_PLANE with ARGSZ, FLAGS and plane type TYPE, into BUF of at
 * least sizeof(struct vfio_device_gfx_plane_info) bytes, all of them (up to
 * LEN) PLANE_FILL before the call, so that what the driver writes shows.
 */
static int query_plane(struct mdpy *m, void *buf, size_t len, uint32_t argsz, uint32_t flags,
		       uint32_t type)
{
	struct vfio_device_gfx_plane_info *plane = buf;

	memset(buf, PLANE_FILL, len);
	plane->argsz = argsz;
	plane->flags = flags;
	plane->drm_plane_type = type;
	return ioctl(m->dev.device, VFIO_DEVICE_QUERY_GFX_PLANE, plane);
}

/* The positions of regions that mdpy does not have, by vfio-pci's layout. */
static const uint32_t no_region[] = {
	VFIO_PCI_BAR1_REGION_INDEX, VFIO_PCI_BAR2_REGION_INDEX, VFIO_PCI_BAR3_REGION_INDEX,
	VFIO_PCI_BAR4_REGION_INDEX, VFIO_PCI_BAR5_REGION_INDEX, VFIO_PCI_ROM_REGION_INDEX,
	VFIO_PCI_VGA_REGION_INDEX, 9, 10, 11, 12, 13, 14, 15, 17, 100,
};

/* Whether LEN bytes at file offset OFF touch region R as reported. */
static int touches(const struct vfio_region_info *r, uint64_t off, size_t len)
{
	return r->size && off < r->offset + r->size && r->offset < off + len;
}

/* --- The harness: fixture mdpy --- */

FIXTURE(mdpy) {
	struct mdpy m;
	uint8_t *fb;	/* BAR0 mapped whole (FB_MAP), or MAP_FAILED */
};

FIXTURE_SETUP(mdpy)
{
	self->fb = MAP_FAILED;
	ASSERT_EQ(0, mdpy_open(&self->m, 1)) TH_LOG("opening the device: %s", self->m.dev.why);
}

FIXTURE_TEARDOWN(mdpy)
{
	if (self->fb != MAP_FAILED)
		munmap(self->fb, self->m.fbsize);
	vfio_dev_close(&self->m.dev);
}

/* Map the whole of BAR0 into *FB, shared and read-write, as a VMM does. */
static uint8_t *map_bar0(struct __test_metadata *_metadata, struct mdpy *m, uint8_t **fb)
{
	*fb = region_map(m, &m->bar0, 0, m->fbsize, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, *fb)
		TH_LOG("mmap of BAR0 (0x%llx bytes at offset 0x%llx, shared, read-write): %s",
		       (unsigned long long)m->fbsize, (unsigned long long)m->bar0.offset,
		       strerror(errno));
	return *fb;
}

#define FB_MAP()	map_bar0(_metadata, &self->m, &self->fb)

#define CFG_GET(off, len)		config_get(_metadata, &self->m.dev, off, len)
#define CFG_SET(off, len, value)	config_set(_metadata, &self->m.dev, off, len, value)

/* A 4-byte read through region R's read path at OFF. */
static uint32_t region_get(struct __test_metadata *_metadata, struct mdpy *m,
			   const struct vfio_region_info *r, uint64_t off, const char *name)
{
	uint8_t buf[4] = { 0 };

	ASSERT_EQ(4, region_read(m, r, buf, 4, off))
		TH_LOG("4-byte read of %s at 0x%llx through the read path: %s", name,
		       (unsigned long long)off, strerror(errno));
	return get32(buf);
}

/* A 4-byte write through region R's write path at OFF. */
static void region_set(struct __test_metadata *_metadata, struct mdpy *m,
		       const struct vfio_region_info *r, uint64_t off, uint32_t value,
		       const char *name)
{
	uint8_t buf[4];

	put32(buf, value);
	ASSERT_EQ(4, region_write(m, r, buf, 4, off))
		TH_LOG("4-byte write of 0x%08x to %s at 0x%llx through the write path: %s", value,
		       name, (unsigned long long)off, strerror(errno));
}

/* An access that must fail, with whatever errno (the C mdpy's: EFAULT). */
#define EXPECT_ACCESS_FAILS(call, fmt, ...) do { \
	errno = 0; \
	EXPECT_GT(0, call) TH_LOG(fmt " succeeded", ##__VA_ARGS__); \
} while (0)

/* An ioctl that must fail with ERR. */
#define EXPECT_IOCTL_ERR(err, call, fmt, ...) do { \
	errno = 0; \
	EXPECT_EQ(-1, call) TH_LOG(fmt " succeeded", ##__VA_ARGS__); \
	EXPECT_EQ(err, errno) TH_LOG(fmt ": %s, not %s", ##__VA_ARGS__, \
				     strerrorname_np(errno) ?: "no errno", strerrorname_np(err)); \
} while (0)

/* --- Device, region and irq info --- */

TEST_F(mdpy, device_info)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	ASSERT_EQ(0, ioctl(self->m.dev.device, VFIO_DEVICE_GET_INFO, &info))
		TH_LOG("VFIO_DEVICE_GET_INFO: %s", strerror(errno));
	/*
	 * A PCI device.  VFIO_DEVICE_RESET works on the C mdpy, which does
	 * not report VFIO_DEVICE_FLAGS_RESET for it; the Rust vendor API
	 * reports it for every device that has reset: either is right.
	 */
	EXPECT_EQ(VFIO_DEVICE_FLAGS_PCI, info.flags & ~VFIO_DEVICE_FLAGS_RESET)
		TH_LOG("device flags 0x%x: not those of a PCI device", info.flags);
	/*
	 * The C mdpy reports vfio-pci's 9 regions, without its display
	 * region (index 16); a port may as well count it.
	 */
	EXPECT_LE(VFIO_PCI_NUM_REGIONS, info.num_regions)
		TH_LOG("%u regions, fewer than vfio-pci's", info.num_regions);
	EXPECT_EQ(VFIO_PCI_NUM_IRQS, info.num_irqs) TH_LOG("number of irq indexes");
}

TEST_F(mdpy, region_info)
{
	const uint32_t rw = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
	const uint32_t fb = rw | VFIO_REGION_INFO_FLAG_MMAP;
	struct vfio_region_info info, *config = &self->m.dev.config;
	struct vfio_region_info *bar0 = &self->m.bar0, *display = &self->m.display;
	uint32_t i;
	int ret;

	for (i = 0; i < VFIO_PCI_NUM_REGIONS; i++) {
		ASSERT_EQ(0, get_region_info(&self->m.dev, i, &info))
			TH_LOG("VFIO_DEVICE_GET_REGION_INFO (region %u): %s", i, strerror(errno));
		if (i == VFIO_PCI_CONFIG_REGION_INDEX) {
			EXPECT_EQ(MDPY_CONFIG_SIZE, info.size) TH_LOG("config space: size");
			EXPECT_EQ(rw, info.flags) TH_LOG("config space: flags");
		} else if (i == VFIO_PCI_BAR0_REGION_INDEX) {
			EXPECT_EQ(self->m.fbsize, info.size)
				TH_LOG("BAR0: size (%ux%u, 4 bytes a pixel, to a power of 2)",
				       self->m.width, self->m.height);
			EXPECT_EQ(fb, info.flags) TH_LOG("BAR0: flags (read, write, mmap)");
		} else {
			EXPECT_EQ(0, info.size) TH_LOG("region %u: size", i);
			EXPECT_EQ(0, info.flags) TH_LOG("region %u: flags", i);
		}
	}
	EXPECT_EQ(self->m.fbsize, display->size) TH_LOG("display region (16): size");
	EXPECT_EQ(fb, display->flags) TH_LOG("display region (16): flags (read, write, mmap)");

	/* Between the PCI regions and the display region, and past it. */
	for (i = VFIO_PCI_NUM_REGIONS; i <= MDPY_DISPLAY_REGION + 1; i++) {
		if (i == MDPY_DISPLAY_REGION)
			continue;
		errno = 0;
		ret = get_region_info(&self->m.dev, i, &info);
		EXPECT_TRUE(ret || !info.size)
			TH_LOG("region %u: size 0x%llx, not absent", i,
			       (unsigned long long)info.size);
	}
	errno = 0;
	EXPECT_EQ(-1, get_region_info(&self->m.dev, 100, &info))
		TH_LOG("region info of index 100 succeeded");

	/* Wherever the regions are, they can be mapped and do not collide. */
	EXPECT_EQ(0, bar0->offset % self->m.page) TH_LOG("BAR0's offset is not page-aligned");
	EXPECT_EQ(0, display->offset % self->m.page)
		TH_LOG("the display region's offset is not page-aligned");
	EXPECT_FALSE(touches(bar0, config->offset, config->size))
		TH_LOG("config space (0x%llx) and BAR0 (0x%llx) overlap",
		       (unsigned long long)config->offset, (unsigned long long)bar0->offset);
	/* The C mdpy reports the display region where BAR0 is: the same memory. */
	if (display->offset != bar0->offset) {
		EXPECT_FALSE(touches(display, config->offset, config->size))
			TH_LOG("config space and the display region overlap");
		EXPECT_FALSE(touches(display, bar0->offset, bar0->size))
			TH_LOG("BAR0 and the display region overlap, at different offsets");
	}
}

TEST_F(mdpy, irq_info)
{
	struct vfio_irq_info info;
	uint32_t i;

	/* Every PCI index, and none of them has an interrupt. */
	for (i = 0; i < VFIO_PCI_NUM_IRQS; i++) {
		memset(&info, 0, sizeof(info));
		info.argsz = sizeof(info);
		info.index = i;
		ASSERT_EQ(0, ioctl(self->m.dev.device, VFIO_DEVICE_GET_IRQ_INFO, &info))
			TH_LOG("GET_IRQ_INFO index %u: %s", i, strerror(errno));
		EXPECT_EQ(0, info.count) TH_LOG("index %u: count", i);
		EXPECT_EQ(0, info.flags) TH_LOG("index %u: flags", i);
	}
	memset(&info, 0, sizeof(info));
	info.argsz = sizeof(info);
	info.index = VFIO_PCI_NUM_IRQS;
	EXPECT_IOCTL_ERR(EINVAL, ioctl(self->m.dev.device, VFIO_DEVICE_GET_IRQ_INFO, &info),
			 "GET_IRQ_INFO index %u (beyond num_irqs)", info.index);
}

TEST_F(mdpy, set_irqs_refused)
{
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int32_t fd = efd;
	uint32_t i;

	ASSERT_LE(0, efd) TH_LOG("eventfd: %s", strerror(errno));
	for (i = 0; i <= VFIO_PCI_NUM_IRQS; i++) {
		EXPECT_IOCTL_ERR(EINVAL, set_irqs(&self->m.dev, VFIO_IRQ_SET_DATA_EVENTFD |
						  VFIO_IRQ_SET_ACTION_TRIGGER, i, 1, &fd, sizeof(fd)),
				 "SET_IRQS index %u: arming an eventfd", i);
		EXPECT_IOCTL_ERR(EINVAL, set_irqs(&self->m.dev, VFIO_IRQ_SET_DATA_NONE |
						  VFIO_IRQ_SET_ACTION_TRIGGER, i, 0, NULL, 0),
				 "SET_IRQS index %u: DATA_NONE trigger, count 0", i);
	}
	close(efd);
}

TEST_F(mdpy, other_ioctls)
{
	struct vfio_device_ioeventfd ioeventfd = { .argsz = sizeof(ioeventfd) };
	uint32_t dmabuf_id = 0;

	/* Its planes are regions: no dma-bufs. */
	EXPECT_IOCTL_ERR(ENOTTY, ioctl(self->m.dev.device, VFIO_DEVICE_GET_GFX_DMABUF, &dmabuf_id),
			 "VFIO_DEVICE_GET_GFX_DMABUF");
	EXPECT_IOCTL_ERR(ENOTTY, ioctl(self->m.dev.device, VFIO_DEVICE_IOEVENTFD, &ioeventfd),
			 "VFIO_DEVICE_IOEVENTFD");
}

/* --- PCI configuration space --- */

TEST_F(mdpy, config_header)
{
	uint8_t cfg[MDPY_CONFIG_SIZE], want[MDPY_CONFIG_SIZE], changes[MDPY_CONFIG_SIZE];
	int i;

	EXPECT_EQ(MDPY_VENDOR_ID, CFG_GET(PCI_VENDOR_ID, 2)) TH_LOG("vendor ID");
	EXPECT_EQ(MDPY_DEVICE_ID, CFG_GET(PCI_DEVICE_ID, 2)) TH_LOG("device ID");
	EXPECT_EQ(MDPY_SUBVENDOR_ID, CFG_GET(PCI_SUBSYSTEM_VENDOR_ID, 2))
		TH_LOG("subsystem vendor ID");
	EXPECT_EQ(MDPY_SUBDEVICE_ID, CFG_GET(PCI_SUBSYSTEM_ID, 2)) TH_LOG("subsystem ID");
	EXPECT_EQ(MDPY_CLASS << 16 | MDPY_REVISION, CFG_GET(PCI_CLASS_REVISION, 4))
		TH_LOG("class (display controller, other) and revision");
	EXPECT_EQ(PCI_COMMAND_IO | PCI_COMMAND_MEMORY, CFG_GET(PCI_COMMAND, 2))
		TH_LOG("command: I/O and memory space on");
	EXPECT_EQ(PCI_STATUS_CAP_LIST, CFG_GET(PCI_STATUS, 2)) TH_LOG("status: a capability list");
	EXPECT_EQ(PCI_HEADER_TYPE_NORMAL, CFG_GET(PCI_HEADER_TYPE, 1)) TH_LOG("header type");
	EXPECT_EQ(MDPY_BAR0_FLAGS, CFG_GET(PCI_BASE_ADDRESS_0, 4) & ~PCI_BASE_ADDRESS_MEM_MASK)
		TH_LOG("BAR0: 32-bit prefetchable memory");
	EXPECT_EQ(0, CFG_GET(PCI_INTERRUPT_PIN, 1)) TH_LOG("no interrupt pin");
	EXPECT_EQ(MDPY_CAP, CFG_GET(PCI_CAPABILITY_LIST, 1)) TH_LOG("capability pointer");

	/* The whole space in one read, byte by byte against what mdpy creates. */
	ASSERT_EQ(MDPY_CONFIG_SIZE, config_read_all(&self->m, cfg))
		TH_LOG("reading the whole config space (0xff bytes): %s", strerror(errno));
	mdpy_config_expected(&self->m, want, changes);
	/* Braces: TH_LOG is a statement of its own after EXPECT_EQ. */
	for (i = 0; i < MDPY_CONFIG_SIZE; i++) {
		if (!changes[i]) {
			EXPECT_EQ(want[i], cfg[i]) TH_LOG("config byte 0x%02x", i);
		}
	}
}

TEST_F(mdpy, config_vendor_cap)
{
	uint32_t cap = CFG_GET(PCI_CAPABILITY_LIST, 1);

	ASSERT_EQ(MDPY_CAP, cap) TH_LOG("the capability list does not start at 0x40");
	EXPECT_EQ(PCI_CAP_ID_VNDR, CFG_GET(cap + PCI_CAP_LIST_ID, 1))
		TH_LOG("the capability at 0x40 is not vendor-specific");
	EXPECT_EQ(0, CFG_GET(cap + PCI_CAP_LIST_NEXT, 1)) TH_LOG("it is not the last one");
	EXPECT_EQ(MDPY_CAP_LEN, CFG_GET(cap + PCI_CAP_FLAGS, 1)) TH_LOG("its length");
	EXPECT_EQ(MDPY_FORMAT, CFG_GET(MDPY_CAP_FORMAT, 4)) TH_LOG("format: XRGB8888 ('XR24')");
	EXPECT_EQ(self->m.width, CFG_GET(MDPY_CAP_WIDTH, 4)) TH_LOG("width");
	EXPECT_EQ(self->m.height, CFG_GET(MDPY_CAP_HEIGHT, 4)) TH_LOG("height");
}

TEST_F(mdpy, config_bar0_sizing)
{
	uint32_t mask = ~(uint32_t)(self->m.fbsize - 1);

	CFG_SET(PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	EXPECT_EQ(mask | MDPY_BAR0_FLAGS, CFG_GET(PCI_BASE_ADDRESS_0, 4))
		TH_LOG("BAR0 sized: the framebuffer's size (0x%llx) and its flags",
		       (unsigned long long)self->m.fbsize);
	CFG_SET(PCI_BASE_ADDRESS_0, 4, 0xe0000000);
	EXPECT_EQ(0xe0000000 | MDPY_BAR0_FLAGS, CFG_GET(PCI_BASE_ADDRESS_0, 4))
		TH_LOG("BAR0 keeps an address, and its flags");
	CFG_SET(PCI_BASE_ADDRESS_0, 4, 0xe0000000 | 0x7);
	EXPECT_EQ(0xe0000000 | MDPY_BAR0_FLAGS, CFG_GET(PCI_BASE_ADDRESS_0, 4))
		TH_LOG("BAR0's flags are not written");
	CFG_SET(PCI_BASE_ADDRESS_0, 4, 0);
	EXPECT_EQ(MDPY_BAR0_FLAGS, CFG_GET(PCI_BASE_ADDRESS_0, 4))
		TH_LOG("BAR0 written 0 keeps its flags");
}

TEST_F(mdpy, config_other_bars)
{
	int bar;

	for (bar = 1; bar < 6; bar++) {
		off_t off = PCI_BASE_ADDRESS_0 + 4 * bar;

		CFG_SET(off, 4, 0xffffffff);
		EXPECT_EQ(0, CFG_GET(off, 4)) TH_LOG("BAR%d does not exist: it stays 0 when sized",
						     bar);
	}
	CFG_SET(PCI_ROM_ADDRESS, 4, 0xffffffff);
	EXPECT_EQ(0, CFG_GET(PCI_ROM_ADDRESS, 4)) TH_LOG("no expansion ROM");
}

/*
 * Only BAR0 can be written: the rest of config space ignores writes, the
 * interrupt line too (mdpy has no interrupt pin).  That is why vfio_client's
 * generic fixture, which checks that the line reads back, does not apply.
 */
TEST_F(mdpy, config_writes_ignored)
{
	static const struct { off_t off; size_t len; uint32_t value; const char *what; } w[] = {
		{ PCI_COMMAND, 2, 0x0000, "command (none)" },
		{ PCI_COMMAND, 2, 0x0547, "command (bus master, parity, SERR, no INTx)" },
		{ PCI_STATUS, 2, 0xffff, "status (all bits)" },
		{ PCI_VENDOR_ID, 4, 0x12345678, "vendor and device IDs" },
		{ PCI_CLASS_REVISION, 4, 0xffffffff, "revision and class" },
		{ PCI_CACHE_LINE_SIZE, 4, 0xffffffff, "cache line, latency, header type, BIST" },
		{ PCI_SUBSYSTEM_VENDOR_ID, 4, 0, "subsystem IDs" },
		{ PCI_CAPABILITY_LIST, 1, 0x80, "capability pointer" },
		{ PCI_INTERRUPT_LINE, 1, 0x5a, "interrupt line" },
		{ PCI_INTERRUPT_PIN, 1, 0x01, "interrupt pin" },
		{ MDPY_CAP, 4, 0, "the capability's header" },
		{ MDPY_CAP_FORMAT, 4, 0x34324241, "format ('AB24')" },
		{ MDPY_CAP_WIDTH, 4, 800, "width" },
		{ MDPY_CAP_HEIGHT, 2, 600, "height (2 bytes)" },
		{ 0x80, 4, 0xffffffff, "unused bytes" },
	};
	uint8_t before[MDPY_CONFIG_SIZE], after[MDPY_CONFIG_SIZE];
	size_t i;
	int j;

	ASSERT_EQ(MDPY_CONFIG_SIZE, config_read_all(&self->m, before))
		TH_LOG("reading config space: %s", strerror(errno));
	for (i = 0; i < ARRAY_SIZE(w); i++) {
		CFG_SET(w[i].off, w[i].len, w[i].value);
		ASSERT_EQ(MDPY_CONFIG_SIZE, config_read_all(&self->m, after))
			TH_LOG("reading config space: %s", strerror(errno));
		for (j = 0; j < MDPY_CONFIG_SIZE; j++) {
			EXPECT_EQ(before[j], after[j])
				TH_LOG("writing %s changed config byte 0x%02x", w[i].what, j);
		}
	}
}

/* --- The plane --- */

TEST_F(mdpy, plane_probe)
{
	const uint32_t probe = VFIO_GFX_PLANE_TYPE_PROBE;
	static const struct { uint32_t flags; const char *what; } bad[] = {
		{ VFIO_GFX_PLANE_TYPE_PROBE, "PROBE alone" },
		{ VFIO_GFX_PLANE_TYPE_PROBE | VFIO_GFX_PLANE_TYPE_DMABUF, "PROBE|DMABUF" },
		{ VFIO_GFX_PLANE_TYPE_PROBE | VFIO_GFX_PLANE_TYPE_DMABUF |
		  VFIO_GFX_PLANE_TYPE_REGION, "PROBE|DMABUF|REGION" },
		{ VFIO_GFX_PLANE_TYPE_PROBE | VFIO_GFX_PLANE_TYPE_REGION | 1u << 3,
		  "PROBE|REGION and an unknown flag" },
	};
	struct vfio_device_gfx_plane_info plane;
	size_t i;

	EXPECT_EQ(0, query_plane(&self->m, &plane, sizeof(plane), sizeof(plane),
				 probe | VFIO_GFX_PLANE_TYPE_REGION, PLANE_TYPE_PRIMARY))
		TH_LOG("QUERY_GFX_PLANE PROBE|REGION (planes in a region): %s", strerror(errno));
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		EXPECT_IOCTL_ERR(EINVAL, query_plane(&self->m, &plane, sizeof(plane), sizeof(plane),
						     bad[i].flags, PLANE_TYPE_PRIMARY),
				 "QUERY_GFX_PLANE %s", bad[i].what);
}

/* Check PLANE against the type's framebuffer. */
static void expect_plane(struct __test_metadata *_metadata, const struct mdpy *m,
			 const struct vfio_device_gfx_plane_info *plane)
{
	EXPECT_EQ(MDPY_FORMAT, plane->drm_format) TH_LOG("plane: format XRGB8888 ('XR24')");
	EXPECT_EQ(0, plane->drm_format_mod) TH_LOG("plane: format modifier (linear)");
	EXPECT_EQ(m->width, plane->width) TH_LOG("plane: width");
	EXPECT_EQ(m->height, plane->height) TH_LOG("plane: height");
	EXPECT_EQ(m->stride, plane->stride) TH_LOG("plane: stride (4 bytes a pixel)");
	EXPECT_EQ(m->fbsize, plane->size) TH_LOG("plane: size (the whole framebuffer)");
	EXPECT_EQ(0, plane->x_pos) TH_LOG("plane: x_pos");
	EXPECT_EQ(0, plane->y_pos) TH_LOG("plane: y_pos");
	EXPECT_EQ(0, plane->x_hot) TH_LOG("plane: x_hot");
	EXPECT_EQ(0, plane->y_hot) TH_LOG("plane: y_hot");
	EXPECT_EQ(MDPY_DISPLAY_REGION, plane->region_index) TH_LOG("plane: region index");
}

TEST_F(mdpy, plane_region)
{
	struct vfio_device_gfx_plane_info plane;

	ASSERT_EQ(0, query_plane(&self->m, &plane, sizeof(plane), sizeof(plane),
				 VFIO_GFX_PLANE_TYPE_REGION, PLANE_TYPE_PRIMARY))
		TH_LOG("QUERY_GFX_PLANE REGION (primary plane): %s", strerror(errno));
	expect_plane(_metadata, &self->m, &plane);
	EXPECT_EQ(PLANE_TYPE_PRIMARY, plane.drm_plane_type) TH_LOG("plane: type (an input)");
}

TEST_F(mdpy, plane_bad_flags)
{
	static const struct { uint32_t flags; const char *what; } bad[] = {
		{ 0, "no flag" },
		{ VFIO_GFX_PLANE_TYPE_DMABUF, "DMABUF" },
		{ VFIO_GFX_PLANE_TYPE_DMABUF | VFIO_GFX_PLANE_TYPE_REGION, "DMABUF|REGION" },
		{ VFIO_GFX_PLANE_TYPE_REGION | 1u << 3, "REGION and flag 1 << 3" },
		{ VFIO_GFX_PLANE_TYPE_REGION | 1u << 31, "REGION and flag 1 << 31" },
	};
	struct vfio_device_gfx_plane_info plane;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		EXPECT_IOCTL_ERR(EINVAL, query_plane(&self->m, &plane, sizeof(plane), sizeof(plane),
						     bad[i].flags, PLANE_TYPE_PRIMARY),
				 "QUERY_GFX_PLANE %s", bad[i].what);
}

TEST_F(mdpy, plane_argsz)
{
	struct {
		struct vfio_device_gfx_plane_info plane;
		uint8_t more[64];
	} buf;
	const uint32_t region = VFIO_GFX_PLANE_TYPE_REGION;
	const uint32_t minsz = PLANE_MINSZ;

	EXPECT_IOCTL_ERR(EINVAL, query_plane(&self->m, &buf, sizeof(buf), 0, region,
					     PLANE_TYPE_PRIMARY), "QUERY_GFX_PLANE, argsz 0");
	EXPECT_IOCTL_ERR(EINVAL, query_plane(&self->m, &buf, sizeof(buf), minsz - 1, region,
					     PLANE_TYPE_PRIMARY),
			 "QUERY_GFX_PLANE, argsz %u (one byte short of region_index)", minsz - 1);
	/* Up to region_index: the fields are written, and nothing past them. */
	ASSERT_EQ(0, query_plane(&self->m, &buf, sizeof(buf), minsz, region, PLANE_TYPE_PRIMARY))
		TH_LOG("QUERY_GFX_PLANE, argsz %u (through region_index): %s", minsz,
		       strerror(errno));
	expect_plane(_metadata, &self->m, &buf.plane);
	EXPECT_EQ(-1, first_not((uint8_t *)&buf + minsz, sizeof(buf) - minsz, PLANE_FILL))
		TH_LOG("argsz %u: a byte past region_index was written", minsz);
	/* A larger argument: the same. */
	ASSERT_EQ(0, query_plane(&self->m, &buf, sizeof(buf), sizeof(buf), region,
				 PLANE_TYPE_PRIMARY))
		TH_LOG("QUERY_GFX_PLANE, argsz %zu: %s", sizeof(buf), strerror(errno));
	expect_plane(_metadata, &self->m, &buf.plane);
	EXPECT_EQ(-1, first_not((uint8_t *)&buf + minsz, sizeof(buf) - minsz, PLANE_FILL))
		TH_LOG("argsz %zu: a byte past region_index was written", sizeof(buf));
}

/* The region that the plane names holds the framebuffer that BAR0 maps. */
TEST_F(mdpy, plane_region_maps_framebuffer)
{
	struct vfio_device_gfx_plane_info plane;
	struct vfio_region_info info;
	uint64_t last = (uint64_t)(self->m.height - 1) * self->m.stride + self->m.stride - 4;
	uint64_t middle = (uint64_t)(self->m.height / 2) * self->m.stride + self->m.stride / 2;
	uint8_t *fb = FB_MAP(), *view;

	ASSERT_EQ(0, query_plane(&self->m, &plane, sizeof(plane), sizeof(plane),
				 VFIO_GFX_PLANE_TYPE_REGION, PLANE_TYPE_PRIMARY))
		TH_LOG("QUERY_GFX_PLANE REGION: %s", strerror(errno));
	ASSERT_EQ(0, get_region_info(&self->m.dev, plane.region_index, &info))
		TH_LOG("GET_REGION_INFO of the plane's region %u: %s", plane.region_index,
		       strerror(errno));
	EXPECT_TRUE(info.flags & VFIO_REGION_INFO_FLAG_MMAP)
		TH_LOG("the plane's region cannot be mapped (flags 0x%x)", info.flags);
	ASSERT_LE(plane.size, info.size) TH_LOG("the plane is larger than its region");
	view = region_map(&self->m, &info, 0, plane.size, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, view) TH_LOG("mmap of the plane's region (0x%x bytes): %s",
					   plane.size, strerror(errno));
	fb_set(fb, 0, 0x00ff0000);
	fb_set(fb, middle, 0x0000ff00);
	fb_set(fb, last, 0x000000ff);
	EXPECT_EQ(0x00ff0000, fb_get(view, 0)) TH_LOG("the first pixel, written through BAR0");
	EXPECT_EQ(0x0000ff00, fb_get(view, middle))
		TH_LOG("the middle pixel, written through BAR0");
	EXPECT_EQ(0x000000ff, fb_get(view, last)) TH_LOG("the last pixel, written through BAR0");
	fb_set(view, middle, 0x00123456);
	EXPECT_EQ(0x00123456, fb_get(fb, middle))
		TH_LOG("the middle pixel, written through the plane's region, read through BAR0");
	munmap(view, plane.size);
}

/* --- The framebuffer: mapping, read and write paths --- */

TEST_F(mdpy, mmap_framebuffer)
{
	struct mdpy *m = &self->m;
	uint8_t *fb = FB_MAP(), *page, *ro;

	page = region_map(m, &m->bar0, 0, m->page, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, page) TH_LOG("mmap of BAR0's first page: %s", strerror(errno));
	ro = region_map(m, &m->bar0, 0, m->fbsize, PROT_READ, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, ro) TH_LOG("read-only mmap of BAR0: %s", strerror(errno));
	fb_set(fb, 8, 0x11223344);
	fb_set(fb, m->fbsize - 4, 0x55667788);
	EXPECT_EQ(0x11223344, fb_get(page, 8)) TH_LOG("two mappings: one memory");
	EXPECT_EQ(0x55667788, fb_get(ro, m->fbsize - 4))
		TH_LOG("two mappings: one memory (the last dword)");
	fb_set(page, 8, 0x99aabbcc);
	EXPECT_EQ(0x99aabbcc, fb_get(fb, 8)) TH_LOG("two mappings: one memory");
	munmap(page, m->page);
	munmap(ro, m->fbsize);
}

TEST_F(mdpy, mmap_refused)
{
	struct mdpy *m = &self->m;
	void *p;

	errno = 0;
	p = region_map(m, &m->bar0, 0, m->fbsize, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	EXPECT_EQ(MAP_FAILED, p) TH_LOG("a private mapping of BAR0 succeeded");
	EXPECT_EQ(EINVAL, errno) TH_LOG("a private mapping of BAR0: %s", strerror(errno));
	if (p != MAP_FAILED)
		munmap(p, m->fbsize);

	errno = 0;
	p = region_map(m, &m->bar0, 0, m->fbsize + m->page, PROT_READ, MAP_SHARED);
	EXPECT_EQ(MAP_FAILED, p) TH_LOG("a mapping of BAR0 and a page more succeeded");
	if (p != MAP_FAILED)
		munmap(p, m->fbsize + m->page);

	errno = 0;
	p = mmap(NULL, m->page, PROT_READ, MAP_SHARED, m->dev.device,
		 m->dev.config.offset & ~(m->page - 1));
	EXPECT_EQ(MAP_FAILED, p) TH_LOG("a mapping of config space's page succeeded");
	if (p != MAP_FAILED)
		munmap(p, m->page);
}

/*
 * The case: a pattern written through the mapping reads back
 * through the region's read path.  The C mdpy reads the framebuffer's
 * first bytes whatever the offset, so only offset 0 is checked, unless
 * MDEV_MDPY_STRICT=1.
 */
TEST_F(mdpy, mapping_read_back)
{
	struct mdpy *m = &self->m;
	uint64_t pages[] = { 0, 1, m->fbsize / m->page / 2, m->fbsize / m->page - 1 };
	const struct vfio_region_info *regions[] = { &m->bar0, &m->display };
	static const char *const names[] = { "BAR0", "the display region" };
	uint8_t *fb = FB_MAP(), *buf;
	uint64_t i, off;
	size_t p, r;

	fb_set(fb, 0, 0x4d445059);
	EXPECT_EQ(0x4d445059, region_get(_metadata, m, &m->bar0, 0, "BAR0"))
		TH_LOG("BAR0 at 0: not what the mapping wrote");
	EXPECT_EQ(0x4d445059, region_get(_metadata, m, &m->display, 0, "the display region"))
		TH_LOG("the display region at 0: not what BAR0's mapping wrote");
	fb_set(fb, 0, 0xa0b1c2d3);
	EXPECT_EQ(0xa0b1c2d3, region_get(_metadata, m, &m->bar0, 0, "BAR0"))
		TH_LOG("BAR0 at 0, written again through the mapping");
	if (!m->strict)
		return;

	/* Pages of distinct dwords, each read back whole at its offset. */
	buf = malloc(m->page);
	ASSERT_NE(NULL, buf) TH_LOG("malloc");
	for (p = 0; p < ARRAY_SIZE(pages); p++)
		for (i = 0; i < m->page / 4; i++)
			fb_set(fb, pages[p] * m->page + 4 * i, pattern(pages[p], i));
	for (r = 0; r < ARRAY_SIZE(regions); r++)
		for (p = 0; p < ARRAY_SIZE(pages); p++) {
			off = pages[p] * m->page;
			memset(buf, 0, m->page);
			ASSERT_EQ(m->page, region_read(m, regions[r], buf, m->page, off))
				TH_LOG("reading page %llu of %s: %s", (unsigned long long)pages[p],
				       names[r], strerror(errno));
			for (i = 0; i < m->page; i += 4)
				if (get32(buf + i) != pattern(pages[p], i / 4))
					break;
			EXPECT_EQ(m->page, i)
				TH_LOG("%s at 0x%llx (page %llu): read 0x%08x, mapped 0x%08x",
				       names[r], (unsigned long long)(off + i),
				       (unsigned long long)pages[p], get32(buf + i),
				       pattern(pages[p], i / 4));
		}
	free(buf);

	/* Narrow and unaligned reads: the bytes at their offsets. */
	off = m->page;
	for (i = 1; i < 8; i++) {
		uint8_t bytes[4] = { 0 };
		size_t len = i % 2 ? 1 : 2;

		ASSERT_EQ(len, region_read(m, &m->bar0, bytes, len, off + i))
			TH_LOG("%zu-byte read of BAR0 at 0x%llx: %s", len,
			       (unsigned long long)(off + i), strerror(errno));
		EXPECT_EQ(0, memcmp(bytes, fb + off + i, len))
			TH_LOG("%zu-byte read of BAR0 at 0x%llx: not the mapping's bytes", len,
			       (unsigned long long)(off + i));
	}
}

/* Writes through the write path show in the mapping (offset 0 unless strict). */
TEST_F(mdpy, write_path)
{
	struct mdpy *m = &self->m;
	uint8_t *fb = FB_MAP(), *buf;
	uint64_t off = 2 * m->page, i;
	uint8_t byte = 0xe7;

	region_set(_metadata, m, &m->bar0, 0, 0x600dcafe, "BAR0");
	EXPECT_EQ(0x600dcafe, fb_get(fb, 0)) TH_LOG("BAR0's write path at 0: not in the mapping");
	region_set(_metadata, m, &m->display, 0, 0x0ddba11, "the display region");
	EXPECT_EQ(0x0ddba11, fb_get(fb, 0))
		TH_LOG("the display region's write path at 0: not in BAR0's mapping");
	if (!m->strict)
		return;

	fb_set(fb, 0, 0x01020304);
	buf = malloc(m->page);
	ASSERT_NE(NULL, buf) TH_LOG("malloc");
	for (i = 0; i < m->page / 4; i++)
		put32(buf + 4 * i, pattern(2, i) ^ 0xffffffff);
	ASSERT_EQ(m->page, region_write(m, &m->bar0, buf, m->page, off))
		TH_LOG("writing page 2 of BAR0: %s", strerror(errno));
	EXPECT_EQ(0, memcmp(buf, fb + off, m->page))
		TH_LOG("page 2 written through the write path: not in the mapping");
	free(buf);
	EXPECT_EQ(0x01020304, fb_get(fb, 0)) TH_LOG("writing page 2 changed offset 0");
	region_set(_metadata, m, &m->display, off + 8, 0x5eed5eed, "the display region");
	EXPECT_EQ(0x5eed5eed, fb_get(fb, off + 8))
		TH_LOG("the display region's write path at 0x%llx: not in the mapping",
		       (unsigned long long)(off + 8));
	ASSERT_EQ(1, region_write(m, &m->bar0, &byte, 1, off + 5))
		TH_LOG("1-byte write to BAR0 at 0x%llx: %s", (unsigned long long)(off + 5),
		       strerror(errno));
	EXPECT_EQ(byte, fb[off + 5]) TH_LOG("a 1-byte write at 0x%llx: not in the mapping",
					    (unsigned long long)(off + 5));
	EXPECT_EQ(0x01020304, fb_get(fb, 0)) TH_LOG("a 1-byte write changed offset 0");
}

/* --- Reset --- */

TEST_F(mdpy, reset_gradient)
{
	struct mdpy *m = &self->m;
	uint8_t *fb = FB_MAP();
	long bad;

	memset(fb, 0x5a, (size_t)m->stride * m->height);
	CFG_SET(PCI_BASE_ADDRESS_0, 4, 0xe0000000);
	ASSERT_EQ(0, ioctl(m->dev.device, VFIO_DEVICE_RESET))
		TH_LOG("VFIO_DEVICE_RESET: %s", strerror(errno));
	bad = gradient_mismatch(m, fb);
	EXPECT_EQ(-1, bad)
		TH_LOG("after reset, row %ld byte %ld is 0x%02x, not the gray gradient's 0x%02x",
		       bad / m->stride, bad % m->stride, fb[bad], gradient(m, bad / m->stride));
	EXPECT_EQ(gradient(m, 0), region_get(_metadata, m, &m->bar0, 0, "BAR0") & 0xff)
		TH_LOG("after reset, the read path at 0");
	EXPECT_EQ(0xe0000000 | MDPY_BAR0_FLAGS, CFG_GET(PCI_BASE_ADDRESS_0, 4))
		TH_LOG("reset changed BAR0's address in config space");
	CFG_SET(PCI_BASE_ADDRESS_0, 4, 0);
}

/* --- Accesses outside the regions --- */

/*
 * Past the end of each region.  The C mdpy checks that an access to BAR0
 * (or the display region, the same) lies inside, and that one to config
 * space starts inside.  MDEV_MDPY_STRICT=1 adds what it does not check:
 * a config read that ends past the end, and the regions of size 0 at the
 * offsets reported for them; and checks that a failed write changed nothing.
 */
TEST_F(mdpy, past_region_end)
{
	struct mdpy *m = &self->m;
	struct vfio_dev *dev = &m->dev;
	const struct vfio_region_info *regions[] = { &m->bar0, &m->display };
	static const char *const names[] = { "BAR0", "the display region" };
	struct vfio_region_info info;
	static const uint8_t data[4] = { 0xa1, 0xa2, 0xa3, 0xa4 };
	uint8_t buf[4];
	uint8_t *fb = m->strict ? FB_MAP() : NULL;
	size_t r;
	int i;

	if (fb) {
		fb_set(fb, 0, 0x12345678);
		fb_set(fb, m->fbsize - 4, 0x9abcdef0);
	}
	for (r = 0; r < ARRAY_SIZE(regions); r++) {
		EXPECT_ACCESS_FAILS(region_read(m, regions[r], buf, 1, m->fbsize),
				    "a 1-byte read of %s at its end", names[r]);
		EXPECT_ACCESS_FAILS(region_write(m, regions[r], data, 1, m->fbsize),
				    "a 1-byte write to %s at its end", names[r]);
		EXPECT_ACCESS_FAILS(region_read(m, regions[r], buf, 4, m->fbsize - 2),
				    "a 4-byte read of %s across its end", names[r]);
		EXPECT_ACCESS_FAILS(region_write(m, regions[r], data, 4, m->fbsize - 2),
				    "a 4-byte write to %s across its end", names[r]);
	}
	EXPECT_ACCESS_FAILS(config_read(dev, buf, 1, MDPY_CONFIG_SIZE),
			    "a 1-byte config read at 0xff (its end)");
	EXPECT_ACCESS_FAILS(config_write(dev, data, 1, MDPY_CONFIG_SIZE),
			    "a 1-byte config write at 0xff (its end)");
	if (!m->strict)
		return;

	/* The C mdpy writes the first 2 bytes of such a write, at offset 0. */
	EXPECT_EQ(0x12345678, fb_get(fb, 0))
		TH_LOG("a failed write across the end changed the framebuffer's first bytes");
	EXPECT_EQ(0x9abcdef0, fb_get(fb, m->fbsize - 4))
		TH_LOG("a failed write across the end changed the bytes before the end");
	EXPECT_ACCESS_FAILS(config_read(dev, buf, 2, MDPY_CONFIG_SIZE - 1),
			    "a 2-byte config read across its end (at 0xfe)");
	EXPECT_ACCESS_FAILS(config_read(dev, buf, 4, MDPY_CONFIG_SIZE - 3),
			    "a 4-byte config read across its end (at 0xfc)");
	for (i = VFIO_PCI_BAR1_REGION_INDEX; i < VFIO_PCI_NUM_REGIONS; i++) {
		if (i == VFIO_PCI_CONFIG_REGION_INDEX)
			continue;
		ASSERT_EQ(0, get_region_info(dev, i, &info))
			TH_LOG("GET_REGION_INFO (region %d): %s", i, strerror(errno));
		EXPECT_ACCESS_FAILS(pread(dev->device, buf, 1, info.offset),
				    "a 1-byte read of region %d (size 0) at its offset 0x%llx", i,
				    (unsigned long long)info.offset);
		EXPECT_ACCESS_FAILS(pwrite(dev->device, data, 1, info.offset),
				    "a 1-byte write to region %d (size 0) at its offset 0x%llx", i,
				    (unsigned long long)info.offset);
	}
}

/* Where vfio-pci would put the regions that mdpy does not have. */
TEST_F(mdpy, outside_regions)
{
	struct mdpy *m = &self->m;
	uint8_t byte = 0;
	uint64_t off;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(no_region); i++) {
		off = region_offset(no_region[i]);
		if (touches(&m->dev.config, off, 1) || touches(&m->bar0, off, 1) ||
		    touches(&m->display, off, 1)) {
			ksft_print_msg("region %u's place (0x%llx) is inside a region: not tried\n",
				       no_region[i], (unsigned long long)off);
			continue;
		}
		EXPECT_ACCESS_FAILS(pread(m->dev.device, &byte, 1, off),
				    "a read at 0x%llx (region %u by vfio-pci's layout)",
				    (unsigned long long)off, no_region[i]);
		EXPECT_ACCESS_FAILS(pwrite(m->dev.device, &byte, 1, off),
				    "a write at 0x%llx (region %u by vfio-pci's layout)",
				    (unsigned long long)off, no_region[i]);
	}
}

/*
 * --- mdpy_client --trace ---
 *
 * One line per observation, from a fixed sequence on a fresh device, to be
 * compared with another driver's by diff.  Nothing that is not
 * deterministic is printed: accesses outside the regions print only "fails"
 * (drivers may differ in errno for no reason a guest could see), and none
 * is made that would read memory the C mdpy does not own.  Writes are
 * printed too, so that a difference reads in its context.  Offsets inside a
 * region are relative to its start; the regions' own offsets are printed
 * once, as GET_REGION_INFO reports them.
 */

static void t_irq_info(struct mdpy *m, uint32_t index, uint32_t flags, const char *when)
{
	struct vfio_irq_info info = { .argsz = sizeof(info), .index = index, .flags = flags };
	int ret = ioctl(m->dev.device, VFIO_DEVICE_GET_IRQ_INFO, &info);

	if (ret)
		say("GET_IRQ_INFO index %u%s: %s", index, when, res(ret));
	else
		say("GET_IRQ_INFO index %u%s: flags 0x%x count %u", index, when, info.flags,
		    info.count);
}

/* The info ioctls, starting on a device nobody has asked GET_INFO yet. */
static void trace_info(struct mdpy *m)
{
	struct vfio_device_info dinfo = { .argsz = sizeof(dinfo) };
	struct vfio_region_info info;
	uint32_t i;
	int ret;

	section("device info");
	/* The C mdpy answers GET_IRQ_INFO only once GET_INFO has been asked. */
	for (i = 0; i < VFIO_PCI_NUM_IRQS; i++)
		t_irq_info(m, i, 0, " before GET_INFO");

	ret = ioctl(m->dev.device, VFIO_DEVICE_GET_INFO, &dinfo);
	if (ret)
		say("GET_INFO: %s", res(ret));
	else
		say("GET_INFO: flags 0x%x num_regions %u num_irqs %u", dinfo.flags,
		    dinfo.num_regions, dinfo.num_irqs);
	for (i = 0; i <= MDPY_DISPLAY_REGION + 1; i++) {
		ret = get_region_info(&m->dev, i, &info);
		if (ret)
			say("GET_REGION_INFO index %u: %s", i, res(ret));
		else
			say("GET_REGION_INFO index %u: size 0x%llx offset 0x%llx flags 0x%x", i,
			    (unsigned long long)info.size, (unsigned long long)info.offset,
			    info.flags);
	}
	for (i = 0; i <= VFIO_PCI_NUM_IRQS; i++)
		t_irq_info(m, i, 0, "");
	/* What is in the caller's flags: the C mdpy leaves them. */
	t_irq_info(m, VFIO_PCI_INTX_IRQ_INDEX, 0xffffffff, " (flags 0xffffffff on input)");
}

static void trace_config(struct mdpy *m)
{
	int bar;

	section("config space");
	t_cfg_dump(&m->dev, MDPY_CONFIG_SIZE);

	say("BAR0, written 4 bytes at a time");
	t_cfg_write_read(&m->dev, PCI_BASE_ADDRESS_0, 4, "BAR0", 0xffffffff);
	t_cfg_write_read(&m->dev, PCI_BASE_ADDRESS_0, 4, "BAR0", 0xfe000000);
	t_cfg_write_read(&m->dev, PCI_BASE_ADDRESS_0, 4, "BAR0", 0x12345670);
	t_cfg_write_read(&m->dev, PCI_BASE_ADDRESS_0, 4, "BAR0", 0x0000000f);
	t_cfg_write_read(&m->dev, PCI_BASE_ADDRESS_0, 4, "BAR0", 0);

	say("the other BARs and the ROM, sized");
	for (bar = 1; bar < 6; bar++) {
		char name[8];

		snprintf(name, sizeof(name), "BAR%d", bar);
		t_cfg_write_read(&m->dev, PCI_BASE_ADDRESS_0 + 4 * bar, 4, name, 0xffffffff);
	}
	t_cfg_write_read(&m->dev, PCI_ROM_ADDRESS, 4, "ROM", 0xffffffff);

	say("writes elsewhere");
	t_cfg_write_read(&m->dev, PCI_VENDOR_ID, 4, "IDs", 0x12345678);
	t_cfg_write_read(&m->dev, PCI_COMMAND, 2, "command", 0x0000);
	t_cfg_write_read(&m->dev, PCI_COMMAND, 2, "command", 0x0547);
	t_cfg_write_read(&m->dev, PCI_STATUS, 2, "status", 0xffff);
	t_cfg_write_read(&m->dev, PCI_CLASS_REVISION, 4, "class", 0xffffffff);
	t_cfg_write_read(&m->dev, PCI_CACHE_LINE_SIZE, 1, "cache line", 0x10);
	t_cfg_write_read(&m->dev, PCI_LATENCY_TIMER, 1, "latency", 0x40);
	t_cfg_write_read(&m->dev, PCI_SUBSYSTEM_VENDOR_ID, 4, "subsystem", 0);
	t_cfg_write_read(&m->dev, PCI_CAPABILITY_LIST, 1, "cap pointer", 0x80);
	t_cfg_write_read(&m->dev, PCI_INTERRUPT_LINE, 1, "line", 0x5a);
	t_cfg_write_read(&m->dev, PCI_INTERRUPT_PIN, 1, "pin", 0x01);
	t_cfg_write_read(&m->dev, MDPY_CAP, 4, "cap header", 0);
	t_cfg_write_read(&m->dev, MDPY_CAP_FORMAT, 4, "format", 0x34324241);
	t_cfg_write_read(&m->dev, MDPY_CAP_WIDTH, 4, "width", 800);
	t_cfg_write_read(&m->dev, MDPY_CAP_HEIGHT, 2, "height", 600);
	t_cfg_write_read(&m->dev, MDPY_CAP_HEIGHT + 2, 1, "height byte 2", 0xff);
	t_cfg_write_read(&m->dev, 0x80, 4, "unused", 0xffffffff);
	t_cfg_write_read(&m->dev, 0xfe, 1, "last byte", 0xff);
	t_cfg_get(&m->dev, PCI_BASE_ADDRESS_0, 4, "BAR0");
}

/* One QUERY_GFX_PLANE, and every field of the argument afterwards. */
static void t_plane(struct mdpy *m, const char *what, uint32_t argsz, uint32_t flags,
		    uint32_t type)
{
	struct {
		struct vfio_device_gfx_plane_info p;
		uint8_t more[64];
	} buf, before;
	long written;
	int ret;

	ret = query_plane(m, &buf, sizeof(buf), argsz, flags, type);
	if (ret) {
		say("QUERY_GFX_PLANE %s: %s", what, res(ret));
		return;
	}
	memset(&before, PLANE_FILL, sizeof(before));
	before.p.argsz = argsz;
	before.p.flags = flags;
	before.p.drm_plane_type = type;
	if (!memcmp(&buf, &before, sizeof(buf))) {
		say("QUERY_GFX_PLANE %s: OK, nothing written", what);
		return;
	}
	say("QUERY_GFX_PLANE %s: OK, argsz %u flags 0x%x type %u format 0x%08x mod 0x%llx", what,
	    buf.p.argsz, buf.p.flags, buf.p.drm_plane_type, buf.p.drm_format,
	    (unsigned long long)buf.p.drm_format_mod);
	say("  %ux%u stride 0x%x size 0x%x pos %u,%u hot %u,%u region %u", buf.p.width,
	    buf.p.height, buf.p.stride, buf.p.size, buf.p.x_pos, buf.p.y_pos, buf.p.x_hot,
	    buf.p.y_hot, buf.p.region_index);
	written = first_not((uint8_t *)&buf + PLANE_MINSZ, sizeof(buf) - PLANE_MINSZ, PLANE_FILL);
	if (written < 0)
		say("  nothing written past region_index");
	else
		say("  byte %ld written past region_index", (long)PLANE_MINSZ + written);
}

static void trace_plane(struct mdpy *m)
{
	const uint32_t probe = VFIO_GFX_PLANE_TYPE_PROBE, dmabuf = VFIO_GFX_PLANE_TYPE_DMABUF;
	const uint32_t region = VFIO_GFX_PLANE_TYPE_REGION, sz = sizeof(struct vfio_device_gfx_plane_info);

	section("plane");
	t_plane(m, "PROBE|REGION", sz, probe | region, PLANE_TYPE_PRIMARY);
	t_plane(m, "PROBE|DMABUF", sz, probe | dmabuf, PLANE_TYPE_PRIMARY);
	t_plane(m, "PROBE", sz, probe, PLANE_TYPE_PRIMARY);
	t_plane(m, "PROBE|REGION|DMABUF", sz, probe | region | dmabuf, PLANE_TYPE_PRIMARY);
	t_plane(m, "PROBE|REGION|1<<3", sz, probe | region | 1u << 3, PLANE_TYPE_PRIMARY);
	t_plane(m, "REGION primary", sz, region, PLANE_TYPE_PRIMARY);
	t_plane(m, "REGION cursor", sz, region, PLANE_TYPE_CURSOR);
	t_plane(m, "REGION overlay", sz, region, PLANE_TYPE_OVERLAY);
	t_plane(m, "REGION type 7", sz, region, 7);
	t_plane(m, "no flag", sz, 0, PLANE_TYPE_PRIMARY);
	t_plane(m, "DMABUF", sz, dmabuf, PLANE_TYPE_PRIMARY);
	t_plane(m, "REGION|DMABUF", sz, region | dmabuf, PLANE_TYPE_PRIMARY);
	t_plane(m, "REGION|1<<3", sz, region | 1u << 3, PLANE_TYPE_PRIMARY);
	t_plane(m, "REGION|1<<31", sz, region | 1u << 31, PLANE_TYPE_PRIMARY);
	t_plane(m, "REGION argsz 0", 0, region, PLANE_TYPE_PRIMARY);
	t_plane(m, "REGION argsz minsz-1", PLANE_MINSZ - 1, region, PLANE_TYPE_PRIMARY);
	t_plane(m, "REGION argsz minsz", PLANE_MINSZ, region, PLANE_TYPE_PRIMARY);
	t_plane(m, "REGION argsz sizeof+64", sz + 64, region, PLANE_TYPE_PRIMARY);
}

static void t_map(struct mdpy *m, const char *what, const struct vfio_region_info *r,
		  uint64_t off, size_t len, int prot, int flags)
{
	void *p = region_map(m, r, off, len, prot, flags);

	if (p == MAP_FAILED) {
		say("mmap %s: %s", what, errname(errno));
		return;
	}
	say("mmap %s: OK", what);
	munmap(p, len);
}

/* Whether the rows hold the gradient, and what is past them. */
static void t_fb_state(struct mdpy *m, const uint8_t *fb, const char *when)
{
	uint64_t rows = (uint64_t)m->stride * m->height;
	long bad = gradient_mismatch(m, fb);
	long tail = first_not(fb + rows, m->fbsize - rows, 0);

	if (bad < 0)
		say("%s: rows 0..%u hold the gray gradient (row %u: 0x%02x, row %u: 0x%02x)", when,
		    m->height - 1, m->height / 2, gradient(m, m->height / 2), m->height - 1,
		    gradient(m, m->height - 1));
	else
		say("%s: row %ld byte %ld is 0x%02x, not the gradient's 0x%02x", when,
		    bad / m->stride, bad % m->stride, fb[bad], gradient(m, bad / m->stride));
	if (tail < 0)
		say("%s: past the rows (0x%llx..0x%llx): all 0x00", when,
		    (unsigned long long)rows, (unsigned long long)m->fbsize - 1);
	else
		say("%s: past the rows, byte 0x%llx is 0x%02x", when,
		    (unsigned long long)(rows + tail), fb[rows + tail]);
}

static void t_fb_set(uint8_t *fb, uint64_t off, uint32_t value)
{
	fb_set(fb, off, value);
	say("map[0x%llx] <- 0x%08x", (unsigned long long)off, value);
}

static void t_fb_get(const uint8_t *fb, uint64_t off, const char *name)
{
	say("%s[0x%llx] = 0x%08x", name, (unsigned long long)off, fb_get(fb, off));
}

/* LEN bytes at OFF through region R's read path, as bytes. */
static void t_read(struct mdpy *m, const struct vfio_region_info *r, const char *name,
		   uint64_t off, size_t len)
{
	uint8_t buf[8] = { 0 };
	char line[8 * 3 + 1] = "";
	size_t i;

	if (region_read(m, r, buf, len, off) != (ssize_t)len) {
		say("read %s at 0x%llx (%zu byte%s): %s", name, (unsigned long long)off, len,
		    len > 1 ? "s" : "", errname(errno));
		return;
	}
	for (i = 0; i < len; i++)
		sprintf(line + 3 * i, " %02x", buf[i]);
	say("read %s at 0x%llx (%zu byte%s):%s", name, (unsigned long long)off, len,
	    len > 1 ? "s" : "", line);
}

/*
 * LEN bytes of VALUE (little-endian) at OFF through region R's write path,
 * and then the dwords at 0 and at SHOW through the mapping FB, on the same
 * line: each line of the transcript says where a write landed.
 */
static void t_write(struct mdpy *m, const struct vfio_region_info *r, const char *name,
		    uint64_t off, size_t len, uint32_t value, const uint8_t *fb, uint64_t show)
{
	char result[32] = "";
	uint8_t buf[4];

	put32(buf, value);
	if (region_write(m, r, buf, len, off) != (ssize_t)len)
		snprintf(result, sizeof(result), ": %s", errname(errno));
	say("write %s at 0x%llx (%zu byte%s) <- 0x%0*x%s; map[0x0] = 0x%08x, map[0x%llx] = 0x%08x",
	    name, (unsigned long long)off, len, len > 1 ? "s" : "", (int)(2 * len), value, result,
	    fb_get(fb, 0), (unsigned long long)show, fb_get(fb, show));
}

static void trace_framebuffer(struct mdpy *m, uint8_t *fb, uint8_t *view)
{
	const uint64_t pg = m->page, end = m->fbsize;
	const int rw = PROT_READ | PROT_WRITE;

	section("mapping");
	say("mmap BAR0 whole (0x%llx bytes), shared, read-write: OK", (unsigned long long)end);
	say("mmap the display region whole, shared, read-write: OK");
	t_map(m, "BAR0 first page, shared", &m->bar0, 0, pg, rw, MAP_SHARED);
	t_map(m, "BAR0 whole, shared, read-only", &m->bar0, 0, end, PROT_READ, MAP_SHARED);
	t_map(m, "BAR0 whole, private", &m->bar0, 0, end, rw, MAP_PRIVATE);
	t_map(m, "BAR0 and a page more, shared", &m->bar0, 0, end + pg, rw, MAP_SHARED);
	t_map(m, "BAR0 from its 2nd page, shared", &m->bar0, pg, pg, rw, MAP_SHARED);
	t_map(m, "BAR0 from its last page, shared", &m->bar0, end - pg, pg, rw, MAP_SHARED);
	t_map(m, "the display region first page, shared", &m->display, 0, pg, rw, MAP_SHARED);
	t_map(m, "config space's page, shared", &m->dev.config, 0, pg, PROT_READ, MAP_SHARED);

	section("framebuffer");
	t_fb_state(m, fb, "fresh");
	t_fb_state(m, view, "fresh, through the display region");
	t_fb_set(fb, 0, 0x11223344);
	t_fb_set(fb, 4, 0x55667788);
	t_fb_set(fb, pg, 0x99aabbcc);
	t_fb_set(fb, 2 * pg + 4, 0x76543210);
	t_fb_set(fb, 2 * pg + 8, 0xddeeff00);
	t_fb_set(fb, end - 4, 0x0badf00d);
	t_fb_get(view, 0, "display map");
	t_fb_get(view, pg, "display map");
	t_fb_get(view, end - 4, "display map");

	say("the read path");
	t_read(m, &m->bar0, "BAR0", 0, 4);
	t_read(m, &m->bar0, "BAR0", 4, 4);
	t_read(m, &m->bar0, "BAR0", pg, 4);
	t_read(m, &m->bar0, "BAR0", 2 * pg + 8, 4);
	t_read(m, &m->bar0, "BAR0", end - 4, 4);
	t_read(m, &m->bar0, "BAR0", 0, 8);
	t_read(m, &m->bar0, "BAR0", 1, 1);
	t_read(m, &m->bar0, "BAR0", 2, 2);
	t_read(m, &m->bar0, "BAR0", 5, 1);
	t_read(m, &m->bar0, "BAR0", 6, 2);
	t_read(m, &m->bar0, "BAR0", 2 * pg + 6, 4);
	t_read(m, &m->display, "display", 0, 4);
	t_read(m, &m->display, "display", pg, 4);
	t_read(m, &m->display, "display", end - 4, 4);

	say("the write path");
	t_write(m, &m->bar0, "BAR0", 2 * pg + 8, 4, 0xcafe0001, fb, 2 * pg + 8);
	t_write(m, &m->bar0, "BAR0", 0, 4, 0xcafe0002, fb, 4);
	t_write(m, &m->bar0, "BAR0", 3, 1, 0xee, fb, 4);
	t_write(m, &m->bar0, "BAR0", pg + 2, 2, 0xbeef, fb, pg);
	t_write(m, &m->display, "display", pg, 4, 0xcafe0003, fb, pg);
	t_write(m, &m->display, "display", 0, 4, 0xcafe0004, fb, pg);
	t_write(m, &m->bar0, "BAR0", end - 4, 4, 0xcafe0005, fb, end - 4);
}

/*
 * LEN bytes outside the regions: only "OK" or "fails" (see above).  What is
 * written is always a1 a2 a3 a4: the C mdpy's failed reads fill the start
 * of the buffer.
 */
static void t_outside(struct mdpy *m, uint64_t off, size_t len, const char *what, int do_read)
{
	static const uint8_t data[4] = { 0xa1, 0xa2, 0xa3, 0xa4 };
	uint8_t buf[4];

	if (do_read)
		say("%s: read %s", what, pread(m->dev.device, buf, len, off) < 0 ? "fails" : "OK");
	say("%s: write %s", what, pwrite(m->dev.device, data, len, off) < 0 ? "fails" : "OK");
}

static void trace_bounds(struct mdpy *m, uint8_t *fb)
{
	struct vfio_region_info info;
	char what[96];
	size_t i;

	section("outside the regions");
	t_fb_set(fb, 0, 0x01020304);
	t_fb_set(fb, m->fbsize - 4, 0x05060708);
	t_outside(m, m->bar0.offset + m->fbsize, 1, "BAR0, 1 byte at its end", 1);
	t_outside(m, m->bar0.offset + m->fbsize - 2, 4, "BAR0, 4 bytes across its end", 1);
	t_outside(m, m->display.offset + m->fbsize, 1, "display, 1 byte at its end", 1);
	t_outside(m, m->display.offset + m->fbsize - 2, 4, "display, 4 bytes across its end", 1);
	say("after the failed accesses: map[0x0] = 0x%08x, map[0x%llx] = 0x%08x", fb_get(fb, 0),
	    (unsigned long long)m->fbsize - 4, fb_get(fb, m->fbsize - 4));
	t_outside(m, m->dev.config.offset + MDPY_CONFIG_SIZE, 1, "config, 1 byte at its end", 1);
	/* The C mdpy serves them from config space (at offset 0). */
	if (!get_region_info(&m->dev, VFIO_PCI_BAR1_REGION_INDEX, &info))
		t_outside(m, info.offset, 1, "BAR1 (size 0), 1 byte at its offset", 1);
	for (i = 0; i < ARRAY_SIZE(no_region); i++) {
		snprintf(what, sizeof(what), "region %u's place by vfio-pci's layout, 1 byte",
			 no_region[i]);
		t_outside(m, region_offset(no_region[i]), 1, what, 1);
	}
	t_cfg_get(&m->dev, PCI_VENDOR_ID, 4, "IDs");
}

static void trace_reset(struct mdpy *m, uint8_t *fb)
{
	uint64_t rows = (uint64_t)m->stride * m->height;

	section("reset");
	memset(fb, 0x5a, 3 * m->stride);
	say("map rows 0..2 <- 0x5a");
	fb[rows] = 0xa5;
	say("map[0x%llx] (past the rows) <- 0xa5", (unsigned long long)rows);
	t_fb_set(fb, m->fbsize - 4, 0x0badf00d);
	t_cfg_set(&m->dev, PCI_BASE_ADDRESS_0, 4, "BAR0", 0xe0000000);
	say("VFIO_DEVICE_RESET: %s", res(ioctl(m->dev.device, VFIO_DEVICE_RESET)));
	t_fb_state(m, fb, "after reset");
	t_fb_get(fb, m->fbsize - 4, "map");
	t_read(m, &m->bar0, "BAR0", 0, 4);
	t_cfg_get(&m->dev, PCI_BASE_ADDRESS_0, 4, "BAR0");
	t_cfg_set(&m->dev, PCI_BASE_ADDRESS_0, 4, "BAR0", 0);
	t_plane(m, "REGION after reset", sizeof(struct vfio_device_gfx_plane_info),
		VFIO_GFX_PLANE_TYPE_REGION, PLANE_TYPE_PRIMARY);
}

/* Close the device fd (every mapping first) and open it again, without GET_INFO. */
static void trace_close(struct mdpy *m, uint8_t **fb, uint8_t **view)
{
	section("close");
	t_fb_set(*fb, 0, 0x600d600d);
	t_cfg_set(&m->dev, PCI_BASE_ADDRESS_0, 4, "BAR0", 0xd0000000);
	munmap(*fb, m->fbsize);
	munmap(*view, m->fbsize);
	*fb = *view = MAP_FAILED;
	close(m->dev.device);
	m->dev.device = -1;
	if (vfio_dev_get_device(&m->dev)) {
		say("device fd closed, reopening it: %s", m->dev.why);
		return;
	}
	say("device fd closed and reopened");
	t_irq_info(m, VFIO_PCI_INTX_IRQ_INDEX, 0, " after the reopen");
	t_read(m, &m->bar0, "BAR0", 0, 4);
	t_cfg_get(&m->dev, PCI_BASE_ADDRESS_0, 4, "BAR0");
	*fb = region_map(m, &m->bar0, 0, m->fbsize, PROT_READ | PROT_WRITE, MAP_SHARED);
	if (*fb == MAP_FAILED) {
		say("mmap BAR0 whole after the reopen: %s", errname(errno));
		return;
	}
	say("mmap BAR0 whole after the reopen: OK");
	t_fb_get(*fb, 0, "map");
	t_fb_state(m, *fb, "after the reopen");
	t_cfg_set(&m->dev, PCI_BASE_ADDRESS_0, 4, "BAR0", 0);
}

static void trace_irqs(struct mdpy *m)
{
	struct vfio_device_ioeventfd ioeventfd = { .argsz = sizeof(ioeventfd) };
	uint32_t dmabuf_id = 0, i;
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int32_t fd = efd;

	section("interrupts and other ioctls");
	for (i = 0; i <= VFIO_PCI_NUM_IRQS; i++) {
		say("SET_IRQS index %u eventfd: %s", i,
		    res(set_irqs(&m->dev, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
				 i, 1, &fd, sizeof(fd))));
		say("SET_IRQS index %u trigger DATA_NONE: %s", i,
		    res(set_irqs(&m->dev, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
				 i, 1, NULL, 0)));
		say("SET_IRQS index %u trigger count 0: %s", i,
		    res(set_irqs(&m->dev, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
				 i, 0, NULL, 0)));
	}
	say("GET_GFX_DMABUF: %s",
	    res(ioctl(m->dev.device, VFIO_DEVICE_GET_GFX_DMABUF, &dmabuf_id)));
	say("IOEVENTFD: %s", res(ioctl(m->dev.device, VFIO_DEVICE_IOEVENTFD, &ioeventfd)));
	say("ioctl VFIO_BASE + 60: %s", res(ioctl(m->dev.device, _IO(VFIO_TYPE, VFIO_BASE + 60))));
	if (efd >= 0)
		close(efd);
}

static int run_trace(void)
{
	struct mdpy m = { 0 };
	uint8_t *fb, *view;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (mdpy_open(&m, 0)) {
		fprintf(stderr, "mdpy_client --trace: %s\n", m.dev.why);
		return KSFT_FAIL;
	}
	say("mdpy trace: %ux%u", m.width, m.height);
	trace_info(&m);
	trace_config(&m);
	trace_plane(&m);
	fb = region_map(&m, &m.bar0, 0, m.fbsize, PROT_READ | PROT_WRITE, MAP_SHARED);
	view = region_map(&m, &m.display, 0, m.fbsize, PROT_READ | PROT_WRITE, MAP_SHARED);
	if (fb == MAP_FAILED || view == MAP_FAILED) {
		say("mmap of BAR0 or of the display region, whole, shared: %s", errname(errno));
		vfio_dev_close(&m.dev);
		return KSFT_FAIL;
	}
	trace_framebuffer(&m, fb, view);
	trace_bounds(&m, fb);
	trace_reset(&m, fb);
	trace_close(&m, &fb, &view);
	trace_irqs(&m);
	say("end of trace");
	if (fb != MAP_FAILED)
		munmap(fb, m.fbsize);
	vfio_dev_close(&m.dev);
	return KSFT_PASS;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--trace"))
		return run_trace();
	return test_harness_run(argc, argv);
}
