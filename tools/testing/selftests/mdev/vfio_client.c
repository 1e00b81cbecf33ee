// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_client - drive a mediated device through VFIO as a VMM does.
 *
 * Each test opens the device as vfio_dev.h does in the IOMMU mode that
 * MDEV_VFIO_MODE names (type1v2, type1v1 or cdev), then checks one thing.
 * The device comes from the environment:
 *
 *   MDEV_UUID        the mediated device to open
 *   MDEV_PCI_ID      expected dword 0 of config space (device << 16 | vendor)
 *   MDEV_BAR0_SIZE   expected size of BAR0's region (sample: also of the BAR
 *                    that config space sizing reports)
 *
 * Fixtures (select with -f FIXTURE, see -h and -l):
 *
 *   vfio_mdev   what any PCI mediated device must offer: device, region
 *               and irq info, PCI configuration space, reset.  vfio_mtty.sh
 *               runs it alone against the in-tree C mtty sample.
 *   sample      the Rust sample vendor driver mdev_rs_sample, to its
 *               specification: the exact region and irq layout, config
 *               space (header, BAR0 sizing, command masking), the BAR0
 *               registers MAGIC, SCRATCH, COUNTER, DOORBELL and IRQ_COUNT,
 *               SCRATCH through the device's sysfs file vendor/scratch,
 *               the INTx eventfd through VFIO_DEVICE_SET_IRQS, and reset.
 *   mmap        the sample's BAR2: its sparse-mmap capability, a mapping
 *               of its area sharing memory with the region's read and
 *               write path, and every mapping outside the area refused;
 *               its BAR4, read-only: mapped for reading only, and such a
 *               mapping never made writable (mprotect).
 *   dma         the sample's DMA registers, through the container or the
 *               IOAS (the IOMMU mode): a buffer mapped there receives the
 *               device's copies; a pinned page is given back when its IOVA
 *               is unmapped (dma_unmap), when the device is closed, on
 *               reset and (cdev mode) when it moves to another IOAS.
 *   unmap_race  pins of a page that is being unmapped (make stress only,
 *               through unmap_race.sh, which sets MDEV_UUID2, a second
 *               device of the sample, and MDEV_RACE_ROUNDS; skipped
 *               otherwise): type1 must never be kept retrying its unmap.
 *   request     the request interrupt: unbinding the driver from the device,
 *               then removing the device, while it is open signals it, and
 *               each waits for the device's close.
 *               Runs last (it removes the device); needs an armable
 *               VFIO_PCI_REQ_IRQ_INDEX, as mdev_rs_sample has.
 *               vfio_sample.sh runs every fixture against the sample.
 */
#define _GNU_SOURCE		/* strerrorname_np(), in vfio_dev.h */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "vfio_dev.h"

static unsigned long env_ulong(const char *name)
{
	const char *value = getenv(name);

	return value ? strtoul(value, NULL, 0) : 0;
}

/* Write TEXT to the sysfs file PATH: 0 if the whole write worked. */
static int sysfs_write(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	int ok = fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text);

	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

/* Read the sysfs file PATH into BUF, NUL-terminated: its length, or -1. */
static ssize_t sysfs_read(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, size - 1) : -1;

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n;
}

/* --- Opening a device as a VMM does (vfio_dev.h), as a fixture's check --- */

/* Open the mediated device MDEV_UUID and the info of its config region. */
static void open_device(struct __test_metadata *_metadata, struct vfio_dev *dev)
{
	ASSERT_EQ(0, vfio_dev_open(dev)) TH_LOG("%s", dev->why);
}

/* Get (again) the device fd of an opened group. */
static void reopen_device(struct __test_metadata *_metadata, struct vfio_dev *dev)
{
	ASSERT_EQ(0, vfio_dev_get_device(dev)) TH_LOG("%s", dev->why);
}

/* --- vfio_mdev: what any PCI mediated device offers --- */

FIXTURE(vfio_mdev) {
	struct vfio_dev dev;
};

FIXTURE_SETUP(vfio_mdev)
{
	open_device(_metadata, &self->dev);
}

FIXTURE_TEARDOWN(vfio_mdev)
{
	vfio_dev_close(&self->dev);
}

TEST_F(vfio_mdev, device_info)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	ASSERT_EQ(0, ioctl(self->dev.device, VFIO_DEVICE_GET_INFO, &info))
		TH_LOG("VFIO_DEVICE_GET_INFO: %s", strerror(errno));
	EXPECT_TRUE(info.flags & VFIO_DEVICE_FLAGS_PCI);
	EXPECT_EQ(VFIO_PCI_NUM_REGIONS, info.num_regions);
	EXPECT_LE(VFIO_PCI_INTX_IRQ_INDEX + 1, info.num_irqs);
}

TEST_F(vfio_mdev, config_region_info)
{
	EXPECT_TRUE(self->dev.config.flags & VFIO_REGION_INFO_FLAG_READ);
	EXPECT_TRUE(self->dev.config.flags & VFIO_REGION_INFO_FLAG_WRITE);
	EXPECT_LE(PCI_STD_HEADER_SIZEOF, self->dev.config.size);
}

TEST_F(vfio_mdev, config_ids)
{
	EXPECT_EQ(env_ulong("MDEV_PCI_ID"), config_get(_metadata, &self->dev, PCI_VENDOR_ID, 4));
}

TEST_F(vfio_mdev, config_write_read_back)
{
	config_set(_metadata, &self->dev, PCI_INTERRUPT_LINE, 1, 0x5a);
	EXPECT_EQ(0x5a, config_get(_metadata, &self->dev, PCI_INTERRUPT_LINE, 1));
}

TEST_F(vfio_mdev, bar0_region_info)
{
	struct vfio_region_info bar = {
		.argsz = sizeof(bar),
		.index = VFIO_PCI_BAR0_REGION_INDEX,
	};

	ASSERT_EQ(0, ioctl(self->dev.device, VFIO_DEVICE_GET_REGION_INFO, &bar))
		TH_LOG("VFIO_DEVICE_GET_REGION_INFO (BAR0): %s", strerror(errno));
	EXPECT_EQ(env_ulong("MDEV_BAR0_SIZE"), bar.size);
}

TEST_F(vfio_mdev, intx_irq_info)
{
	struct vfio_irq_info irq = {
		.argsz = sizeof(irq),
		.index = VFIO_PCI_INTX_IRQ_INDEX,
	};

	ASSERT_EQ(0, ioctl(self->dev.device, VFIO_DEVICE_GET_IRQ_INFO, &irq))
		TH_LOG("VFIO_DEVICE_GET_IRQ_INFO (INTx): %s", strerror(errno));
	EXPECT_EQ(1, irq.count);
	EXPECT_TRUE(irq.flags & VFIO_IRQ_INFO_EVENTFD);
}

TEST_F(vfio_mdev, reset)
{
	EXPECT_EQ(0, ioctl(self->dev.device, VFIO_DEVICE_RESET))
		TH_LOG("VFIO_DEVICE_RESET: %s", strerror(errno));
}

/* --- sample: the Rust sample vendor driver mdev_rs_sample --- */

/* Its BAR0 registers, 32 bits each. */
#define SAMPLE_MAGIC		0x00	/* read-only */
#define SAMPLE_SCRATCH		0x04	/* read-write */
#define SAMPLE_COUNTER		0x08	/* post-increments on read */
#define SAMPLE_DOORBELL		0x0c	/* write: raise INTx */
#define SAMPLE_IRQ_COUNT	0x10	/* doorbell writes since reset */
#define SAMPLE_DMA_ADDR_LO	0x14	/* IOVA of a DMA command, bits 31:0 */
#define SAMPLE_DMA_ADDR_HI	0x18	/* and bits 63:32 */
#define SAMPLE_DMA_LEN		0x1c	/* bytes a copy writes */
#define SAMPLE_DMA_CMD		0x20	/* write: run a command, SAMPLE_DMA_* */
#define SAMPLE_DMA_STATUS	0x24	/* 0 or the errno of the last command */
#define SAMPLE_DMA_PINNED	0x28	/* guest pages pinned now */
#define SAMPLE_DMA_UNMAPS	0x2c	/* dma_unmap calls since reset */
#define SAMPLE_DMA_COPY		1	/* write DMA_LEN bytes of the pattern */
#define SAMPLE_DMA_PIN		2	/* pin the page holding DMA_ADDR */
#define SAMPLE_DMA_UNPIN	3	/* unpin it */
#define SAMPLE_DMA_MAX_LEN	4096
#define SAMPLE_MAGIC_VALUE	0x4d445253
#define SAMPLE_VENDOR		0x1b36
#define SAMPLE_CONFIG_SIZE	256
#define SAMPLE_BAR2_SIZE	(64 * 1024)
#define SAMPLE_BAR2_MAP_OFFSET	(16 * 1024)	/* its one sparse-mmap area */
#define SAMPLE_BAR2_MAP_SIZE	(16 * 1024)
#define SAMPLE_BAR4_SIZE	4096		/* read-only, MAGIC in every word */

/* The time an interrupt has to arrive, and the time one must not. */
#define IRQ_TIMEOUT_MS		1000
#define NO_IRQ_TIMEOUT_MS	200

FIXTURE(sample) {
	struct vfio_dev dev;
	struct vfio_region_info bar0;
	int efd;
};

/* Open the sample device and the info of its BAR0 (also for the dma fixture). */
static void sample_open(struct __test_metadata *_metadata, FIXTURE_DATA(sample) *self)
{
	self->efd = -1;
	open_device(_metadata, &self->dev);
	self->bar0.argsz = sizeof(self->bar0);
	self->bar0.index = VFIO_PCI_BAR0_REGION_INDEX;
	ASSERT_EQ(0, ioctl(self->dev.device, VFIO_DEVICE_GET_REGION_INFO, &self->bar0))
		TH_LOG("VFIO_DEVICE_GET_REGION_INFO (BAR0): %s", strerror(errno));
	ASSERT_NE(0, self->bar0.size) TH_LOG("BAR0 has no size");
}

static void sample_close(FIXTURE_DATA(sample) *self)
{
	/* The device first: closing it disarms the eventfd. */
	vfio_dev_close(&self->dev);
	if (self->efd >= 0)
		close(self->efd);
}

FIXTURE_SETUP(sample)
{
	sample_open(_metadata, self);
}

FIXTURE_TEARDOWN(sample)
{
	sample_close(self);
}

static const char *reg_name(off_t off)
{
	static const char *const names[] = {
		"MAGIC", "SCRATCH", "COUNTER", "DOORBELL", "IRQ_COUNT", "DMA_ADDR_LO",
		"DMA_ADDR_HI", "DMA_LEN", "DMA_CMD", "DMA_STATUS", "DMA_PINNED", "DMA_UNMAPS",
	};

	if (off >= 0 && off % 4 == 0 && (size_t)off / 4 < ARRAY_SIZE(names))
		return names[off / 4];
	return "BAR0";
}

static ssize_t bar_read(FIXTURE_DATA(sample) *self, void *buf, size_t len, off_t off)
{
	return pread(self->dev.device, buf, len, self->bar0.offset + off);
}

static ssize_t bar_write(FIXTURE_DATA(sample) *self, const void *buf, size_t len, off_t off)
{
	return pwrite(self->dev.device, buf, len, self->bar0.offset + off);
}

/* Read the BAR0 register at OFF. */
static uint32_t bar_get(struct __test_metadata *_metadata, FIXTURE_DATA(sample) *self, off_t off)
{
	uint32_t value = 0;

	ASSERT_EQ(4, bar_read(self, &value, 4, off))
		TH_LOG("read of %s (0x%lx): %s", reg_name(off), (long)off, strerror(errno));
	return le32toh(value);
}

/* Write the BAR0 register at OFF. */
static void bar_set(struct __test_metadata *_metadata, FIXTURE_DATA(sample) *self,
		    off_t off, uint32_t value)
{
	value = htole32(value);
	ASSERT_EQ(4, bar_write(self, &value, 4, off))
		TH_LOG("write of %s (0x%lx): %s", reg_name(off), (long)off, strerror(errno));
}

/*
 * Write a read-only BAR0 register.  Whether the write is ignored or fails
 * is not checked: only that the register keeps its value.
 */
static void bar_write_ro(FIXTURE_DATA(sample) *self, off_t off, uint32_t value)
{
	value = htole32(value);
	if (bar_write(self, &value, 4, off) < 0)
		ksft_print_msg("write of read-only %s failed: %s\n", reg_name(off), strerror(errno));
}

/* Arm FD (or disarm with -1) as the INTx trigger. */
static int intx_set_eventfd(struct vfio_dev *dev, int32_t fd)
{
	return set_irqs(dev, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
			VFIO_PCI_INTX_IRQ_INDEX, 1, &fd, sizeof(fd));
}

/* Create the test's eventfd and arm it as the INTx trigger. */
static void arm_eventfd(struct __test_metadata *_metadata, FIXTURE_DATA(sample) *self)
{
	self->efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, self->efd) TH_LOG("eventfd: %s", strerror(errno));
	ASSERT_EQ(0, intx_set_eventfd(&self->dev, self->efd))
		TH_LOG("SET_IRQS arming the INTx eventfd: %s", strerror(errno));
}

/* The eventfd fires within IRQ_TIMEOUT_MS, once. */
static void expect_irq(struct __test_metadata *_metadata, FIXTURE_DATA(sample) *self,
		       const char *cause)
{
	uint64_t count = 0;
	int ready = poll_in(self->efd, IRQ_TIMEOUT_MS);

	ASSERT_EQ(1, ready)
		TH_LOG("%s: the eventfd did not become readable within %d ms (%s)",
		       cause, IRQ_TIMEOUT_MS, ready < 0 ? strerror(errno) : "timed out");
	ASSERT_EQ(sizeof(count), read(self->efd, &count, sizeof(count)))
		TH_LOG("%s: read of the eventfd: %s", cause, strerror(errno));
	EXPECT_EQ(1, count) TH_LOG("%s: the eventfd was signalled %llu times",
				   cause, (unsigned long long)count);
}

/* The eventfd stays quiet for NO_IRQ_TIMEOUT_MS. */
static void expect_no_irq(struct __test_metadata *_metadata, FIXTURE_DATA(sample) *self,
			  const char *cause)
{
	int ready = poll_in(self->efd, NO_IRQ_TIMEOUT_MS);

	EXPECT_EQ(0, ready)
		TH_LOG("%s: %s", cause, ready < 0 ? strerror(errno) :
		       "the eventfd was signalled while no interrupt was armed");
}

TEST_F(sample, device_info)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	ASSERT_EQ(0, ioctl(self->dev.device, VFIO_DEVICE_GET_INFO, &info))
		TH_LOG("VFIO_DEVICE_GET_INFO: %s", strerror(errno));
	EXPECT_EQ(VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET, info.flags);
	EXPECT_EQ(VFIO_PCI_NUM_REGIONS, info.num_regions);
	EXPECT_EQ(VFIO_PCI_NUM_IRQS, info.num_irqs);
}

TEST_F(sample, region_info)
{
	const uint32_t rw = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
	uint32_t i;

	for (i = 0; i < VFIO_PCI_NUM_REGIONS; i++) {
		struct vfio_region_info info = { .argsz = sizeof(info), .index = i };

		ASSERT_EQ(0, ioctl(self->dev.device, VFIO_DEVICE_GET_REGION_INFO, &info))
			TH_LOG("VFIO_DEVICE_GET_REGION_INFO (region %u): %s", i, strerror(errno));
		if (i == VFIO_PCI_BAR0_REGION_INDEX) {
			EXPECT_EQ(rw, info.flags) TH_LOG("BAR0 flags");
			EXPECT_EQ(env_ulong("MDEV_BAR0_SIZE"), info.size) TH_LOG("BAR0 size");
			EXPECT_EQ((uint64_t)i << 40, info.offset) TH_LOG("BAR0 offset");
		} else if (i == VFIO_PCI_BAR2_REGION_INDEX) {
			/* Mappable in part: its sparse-mmap capability did not fit. */
			EXPECT_EQ(rw | VFIO_REGION_INFO_FLAG_MMAP | VFIO_REGION_INFO_FLAG_CAPS,
				  info.flags) TH_LOG("BAR2 flags");
			EXPECT_EQ(SAMPLE_BAR2_SIZE, info.size) TH_LOG("BAR2 size");
			EXPECT_LT(sizeof(info), info.argsz) TH_LOG("BAR2 argsz with its capability");
		} else if (i == VFIO_PCI_BAR4_REGION_INDEX) {
			EXPECT_EQ(VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_MMAP,
				  info.flags) TH_LOG("BAR4 flags (read-only, mappable)");
			EXPECT_EQ(SAMPLE_BAR4_SIZE, info.size) TH_LOG("BAR4 size");
			EXPECT_EQ((uint64_t)i << 40, info.offset) TH_LOG("BAR4 offset");
		} else if (i == VFIO_PCI_CONFIG_REGION_INDEX) {
			EXPECT_EQ(rw, info.flags) TH_LOG("config region flags");
			EXPECT_EQ(SAMPLE_CONFIG_SIZE, info.size) TH_LOG("config region size");
			EXPECT_EQ((uint64_t)i << 40, info.offset) TH_LOG("config region offset");
		} else {
			EXPECT_EQ(0, info.flags) TH_LOG("region %u should not exist: flags", i);
			EXPECT_EQ(0, info.size) TH_LOG("region %u should not exist: size", i);
		}
	}
}

TEST_F(sample, irq_info)
{
	uint32_t i;

	for (i = 0; i < VFIO_PCI_NUM_IRQS; i++) {
		struct vfio_irq_info info = { .argsz = sizeof(info), .index = i };

		ASSERT_EQ(0, ioctl(self->dev.device, VFIO_DEVICE_GET_IRQ_INFO, &info))
			TH_LOG("VFIO_DEVICE_GET_IRQ_INFO (index %u): %s", i, strerror(errno));
		if (i == VFIO_PCI_INTX_IRQ_INDEX) {
			EXPECT_EQ(1, info.count) TH_LOG("INTx count");
			EXPECT_EQ(VFIO_IRQ_INFO_EVENTFD, info.flags) TH_LOG("INTx flags");
		} else if (i == VFIO_PCI_REQ_IRQ_INDEX) {
			EXPECT_EQ(1, info.count) TH_LOG("request interrupt count");
			EXPECT_EQ(VFIO_IRQ_INFO_EVENTFD, info.flags) TH_LOG("request interrupt flags");
		} else {
			EXPECT_EQ(0, info.count) TH_LOG("irq index %u should have no interrupts", i);
			EXPECT_EQ(0, info.flags) TH_LOG("irq index %u flags", i);
		}
	}
}

TEST_F(sample, config_header)
{
	struct vfio_dev *dev = &self->dev;
	unsigned long id = env_ulong("MDEV_PCI_ID");

	EXPECT_EQ(SAMPLE_VENDOR, config_get(_metadata, dev, PCI_VENDOR_ID, 2));
	EXPECT_EQ(id >> 16, config_get(_metadata, dev, PCI_DEVICE_ID, 2));
	EXPECT_EQ(0x01, config_get(_metadata, dev, PCI_REVISION_ID, 1));
	EXPECT_EQ(0xff0000, config_get(_metadata, dev, PCI_CLASS_PROG, 1) |
			    config_get(_metadata, dev, PCI_CLASS_DEVICE, 2) << 8);
	EXPECT_EQ(0xff, config_get(_metadata, dev, PCI_CLASS_DEVICE + 1, 1));
	EXPECT_EQ(PCI_HEADER_TYPE_NORMAL, config_get(_metadata, dev, PCI_HEADER_TYPE, 1));
	EXPECT_EQ(SAMPLE_VENDOR, config_get(_metadata, dev, PCI_SUBSYSTEM_VENDOR_ID, 2));
	EXPECT_EQ(0x0001, config_get(_metadata, dev, PCI_SUBSYSTEM_ID, 2));
	EXPECT_EQ(0x01, config_get(_metadata, dev, PCI_INTERRUPT_PIN, 1));
	EXPECT_EQ(0, config_get(_metadata, dev, PCI_CARDBUS_CIS, 4)) TH_LOG("unused field");
}

/*
 * Config space takes accesses of any size and alignment: the VFIO glue splits
 * them into naturally aligned pieces, as vfio-pci does, so a VMM can read the
 * whole space at once.  Only what lies beyond its 256 bytes fails.
 */
TEST_F(sample, config_any_access)
{
	uint8_t all[256], some[3];
	uint32_t id = env_ulong("MDEV_PCI_ID");

	ASSERT_EQ(sizeof(all), config_read(&self->dev, all, sizeof(all), 0))
		TH_LOG("reading all of config space: %s", strerror(errno));
	EXPECT_EQ(id, all[0] | all[1] << 8 | all[2] << 16 | (uint32_t)all[3] << 24);
	ASSERT_EQ(3, config_read(&self->dev, some, 3, PCI_VENDOR_ID + 1))
		TH_LOG("a misaligned 3-byte config read: %s", strerror(errno));
	EXPECT_EQ(0, memcmp(some, all + 1, 3)) TH_LOG("it read other bytes than a whole read");
	errno = 0;
	EXPECT_EQ(-1, config_read(&self->dev, some, 2, 255))
		TH_LOG("a config read past byte 255 succeeded");
	EXPECT_EQ(EINVAL, errno) TH_LOG("config read past the end: %s", strerror(errno));
}

TEST_F(sample, config_bar0_sizing)
{
	struct vfio_dev *dev = &self->dev;
	uint32_t size = env_ulong("MDEV_BAR0_SIZE");
	uint32_t mask = ~(size - 1);

	ASSERT_NE(0, size) TH_LOG("MDEV_BAR0_SIZE is not set");
	config_set(_metadata, dev, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	EXPECT_EQ(mask, config_get(_metadata, dev, PCI_BASE_ADDRESS_0, 4))
		TH_LOG("sizing: a 32-bit memory BAR of %u bytes", size);
	config_set(_metadata, dev, PCI_BASE_ADDRESS_0, 4, 0xfe012345);
	EXPECT_EQ(0xfe012345 & mask, config_get(_metadata, dev, PCI_BASE_ADDRESS_0, 4))
		TH_LOG("an address is kept, aligned to the size");
	config_set(_metadata, dev, PCI_BASE_ADDRESS_1, 4, 0xffffffff);
	EXPECT_EQ(0, config_get(_metadata, dev, PCI_BASE_ADDRESS_1, 4))
		TH_LOG("BAR1 does not exist");
	config_set(_metadata, dev, PCI_BASE_ADDRESS_0, 4, 0);
}

TEST_F(sample, config_command_mask)
{
	struct vfio_dev *dev = &self->dev;

	config_set(_metadata, dev, PCI_COMMAND, 2, 0xffff);
	EXPECT_EQ(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, config_get(_metadata, dev, PCI_COMMAND, 2))
		TH_LOG("only memory space and bus master are writable");
	config_set(_metadata, dev, PCI_COMMAND, 2, PCI_COMMAND_MASTER);
	EXPECT_EQ(PCI_COMMAND_MASTER, config_get(_metadata, dev, PCI_COMMAND, 2));
	config_set(_metadata, dev, PCI_COMMAND, 2, 0);
	EXPECT_EQ(0, config_get(_metadata, dev, PCI_COMMAND, 2));
}

TEST_F(sample, magic)
{
	EXPECT_EQ(SAMPLE_MAGIC_VALUE, bar_get(_metadata, self, SAMPLE_MAGIC));
	bar_write_ro(self, SAMPLE_MAGIC, 0x12345678);
	EXPECT_EQ(SAMPLE_MAGIC_VALUE, bar_get(_metadata, self, SAMPLE_MAGIC))
		TH_LOG("MAGIC is read-only");
}

TEST_F(sample, scratch)
{
	bar_set(_metadata, self, SAMPLE_SCRATCH, 0xa5a55a5a);
	EXPECT_EQ(0xa5a55a5a, bar_get(_metadata, self, SAMPLE_SCRATCH));
	bar_set(_metadata, self, SAMPLE_SCRATCH, 0x01234567);
	EXPECT_EQ(0x01234567, bar_get(_metadata, self, SAMPLE_SCRATCH));
}

/* PATH gets the name of the device's vendor/scratch file, SCRATCH from the host. */
static void scratch_file(char *path, size_t len)
{
	snprintf(path, len, "/sys/bus/mdev/devices/%s/vendor/scratch", getenv("MDEV_UUID"));
}

TEST_F(sample, scratch_file_is_the_register)
{
	char path[PATH_MAX], text[64];

	scratch_file(path, sizeof(path));
	bar_set(_metadata, self, SAMPLE_SCRATCH, 0x89abcdef);
	ASSERT_LT(0, sysfs_read(path, text, sizeof(text)))
		TH_LOG("reading %s: %s", path, strerror(errno));
	EXPECT_STREQ("0x89abcdef\n", text) TH_LOG("the file shows what VFIO wrote");
	ASSERT_EQ(0, sysfs_write(path, "0x1234\n")) TH_LOG("writing %s: %s", path, strerror(errno));
	EXPECT_EQ(0x1234, bar_get(_metadata, self, SAMPLE_SCRATCH))
		TH_LOG("SCRATCH holds the hex number written to the file");
	ASSERT_EQ(0, sysfs_write(path, "4096")) TH_LOG("writing %s: %s", path, strerror(errno));
	EXPECT_EQ(4096, bar_get(_metadata, self, SAMPLE_SCRATCH))
		TH_LOG("SCRATCH holds the decimal number written to the file");
	ASSERT_LT(0, sysfs_read(path, text, sizeof(text)))
		TH_LOG("reading %s: %s", path, strerror(errno));
	EXPECT_STREQ("0x00001000\n", text);
}

TEST_F(sample, scratch_file_refuses_what_is_not_a_u32)
{
	static const char *const bad[] = {
		"\n", "zz", "0x", "12 34", "0x100000000", "-1", "1\n\n",
	};
	char path[PATH_MAX];

	scratch_file(path, sizeof(path));
	bar_set(_metadata, self, SAMPLE_SCRATCH, 77);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		errno = 0;
		EXPECT_EQ(-1, sysfs_write(path, bad[i])) TH_LOG("'%s' was taken", bad[i]);
		EXPECT_EQ(EINVAL, errno) TH_LOG("writing '%s': %s", bad[i], strerror(errno));
	}
	EXPECT_EQ(77, bar_get(_metadata, self, SAMPLE_SCRATCH))
		TH_LOG("a refused write changed SCRATCH");
}

TEST_F(sample, counter)
{
	uint32_t first = bar_get(_metadata, self, SAMPLE_COUNTER);

	EXPECT_EQ(first + 1, bar_get(_metadata, self, SAMPLE_COUNTER))
		TH_LOG("each read increments COUNTER by one");
	EXPECT_EQ(first + 2, bar_get(_metadata, self, SAMPLE_COUNTER));
	bar_set(_metadata, self, SAMPLE_COUNTER, 1000);
	EXPECT_EQ(1000, bar_get(_metadata, self, SAMPLE_COUNTER)) TH_LOG("COUNTER can be written");
	EXPECT_EQ(1001, bar_get(_metadata, self, SAMPLE_COUNTER));
}

TEST_F(sample, unimplemented_offset_reads_zero)
{
	off_t last = self->bar0.size - 4;

	bar_set(_metadata, self, last, 0xffffffff);
	EXPECT_EQ(0, bar_get(_metadata, self, last)) TH_LOG("last dword of BAR0");
	EXPECT_EQ(0, bar_get(_metadata, self, SAMPLE_DOORBELL)) TH_LOG("DOORBELL reads 0");
}

TEST_F(sample, narrow_access_fails)
{
	uint16_t half = 0;
	uint8_t byte = 0;

	errno = 0;
	EXPECT_EQ(-1, bar_read(self, &half, 2, SAMPLE_SCRATCH))
		TH_LOG("a 2-byte BAR0 read succeeded");
	EXPECT_EQ(EINVAL, errno) TH_LOG("2-byte BAR0 read: %s", strerror(errno));
	errno = 0;
	EXPECT_EQ(-1, bar_write(self, &half, 2, SAMPLE_SCRATCH))
		TH_LOG("a 2-byte BAR0 write succeeded");
	EXPECT_EQ(EINVAL, errno) TH_LOG("2-byte BAR0 write: %s", strerror(errno));
	errno = 0;
	EXPECT_EQ(-1, bar_read(self, &byte, 1, SAMPLE_MAGIC))
		TH_LOG("a 1-byte BAR0 read succeeded");
	EXPECT_EQ(EINVAL, errno) TH_LOG("1-byte BAR0 read: %s", strerror(errno));
}

TEST_F(sample, misaligned_access_fails)
{
	uint32_t value = 0;

	errno = 0;
	EXPECT_EQ(-1, bar_read(self, &value, 4, SAMPLE_SCRATCH + 2))
		TH_LOG("a misaligned 4-byte BAR0 read succeeded");
	EXPECT_EQ(EINVAL, errno) TH_LOG("misaligned BAR0 read: %s", strerror(errno));
}

TEST_F(sample, access_past_end_fails)
{
	uint32_t value = 0;

	errno = 0;
	EXPECT_EQ(-1, bar_read(self, &value, 4, self->bar0.size))
		TH_LOG("a read past the end of BAR0 succeeded");
	EXPECT_EQ(EINVAL, errno) TH_LOG("read past the end of BAR0: %s", strerror(errno));
	errno = 0;
	EXPECT_EQ(-1, bar_write(self, &value, 4, self->bar0.size))
		TH_LOG("a write past the end of BAR0 succeeded");
	EXPECT_EQ(EINVAL, errno) TH_LOG("write past the end of BAR0: %s", strerror(errno));
}

TEST_F(sample, doorbell_counts_irqs)
{
	uint32_t before = bar_get(_metadata, self, SAMPLE_IRQ_COUNT);

	bar_set(_metadata, self, SAMPLE_DOORBELL, 1);
	EXPECT_EQ(before + 1, bar_get(_metadata, self, SAMPLE_IRQ_COUNT))
		TH_LOG("a doorbell with no eventfd armed is counted");
	bar_write_ro(self, SAMPLE_IRQ_COUNT, 0);
	EXPECT_EQ(before + 1, bar_get(_metadata, self, SAMPLE_IRQ_COUNT))
		TH_LOG("IRQ_COUNT is read-only");
}

TEST_F(sample, doorbell_signals_eventfd)
{
	uint32_t before = bar_get(_metadata, self, SAMPLE_IRQ_COUNT);

	arm_eventfd(_metadata, self);
	bar_set(_metadata, self, SAMPLE_DOORBELL, 0);
	expect_irq(_metadata, self, "doorbell");
	EXPECT_EQ(before + 1, bar_get(_metadata, self, SAMPLE_IRQ_COUNT));
}

TEST_F(sample, trigger_loopback)
{
	uint32_t before = bar_get(_metadata, self, SAMPLE_IRQ_COUNT);

	arm_eventfd(_metadata, self);
	ASSERT_EQ(0, set_irqs(&self->dev, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
			      VFIO_PCI_INTX_IRQ_INDEX, 1, NULL, 0))
		TH_LOG("SET_IRQS DATA_NONE trigger: %s", strerror(errno));
	expect_irq(_metadata, self, "DATA_NONE loopback");
	EXPECT_EQ(before, bar_get(_metadata, self, SAMPLE_IRQ_COUNT))
		TH_LOG("a loopback trigger is not a doorbell write");
}

TEST_F(sample, trigger_bool)
{
	uint8_t no = 0, yes = 1;

	arm_eventfd(_metadata, self);
	ASSERT_EQ(0, set_irqs(&self->dev, VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_TRIGGER,
			      VFIO_PCI_INTX_IRQ_INDEX, 1, &no, 1))
		TH_LOG("SET_IRQS DATA_BOOL 0: %s", strerror(errno));
	expect_no_irq(_metadata, self, "DATA_BOOL 0");
	ASSERT_EQ(0, set_irqs(&self->dev, VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_TRIGGER,
			      VFIO_PCI_INTX_IRQ_INDEX, 1, &yes, 1))
		TH_LOG("SET_IRQS DATA_BOOL 1: %s", strerror(errno));
	expect_irq(_metadata, self, "DATA_BOOL 1");
}

TEST_F(sample, disarm_eventfd)
{
	uint32_t before;

	arm_eventfd(_metadata, self);
	ASSERT_EQ(0, intx_set_eventfd(&self->dev, -1))
		TH_LOG("SET_IRQS disarming with fd -1: %s", strerror(errno));
	before = bar_get(_metadata, self, SAMPLE_IRQ_COUNT);
	bar_set(_metadata, self, SAMPLE_DOORBELL, 1);
	expect_no_irq(_metadata, self, "doorbell after disarming with fd -1");
	EXPECT_EQ(before + 1, bar_get(_metadata, self, SAMPLE_IRQ_COUNT));
}

TEST_F(sample, disarm_count_zero)
{
	arm_eventfd(_metadata, self);
	ASSERT_EQ(0, set_irqs(&self->dev, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
			      VFIO_PCI_INTX_IRQ_INDEX, 0, NULL, 0))
		TH_LOG("SET_IRQS disarming with count 0: %s", strerror(errno));
	bar_set(_metadata, self, SAMPLE_DOORBELL, 1);
	expect_no_irq(_metadata, self, "doorbell after disarming with count 0");
}

TEST_F(sample, close_disarms)
{
	arm_eventfd(_metadata, self);
	close(self->dev.device);
	self->dev.device = -1;
	reopen_device(_metadata, &self->dev);
	bar_set(_metadata, self, SAMPLE_DOORBELL, 1);
	expect_no_irq(_metadata, self, "doorbell after the device fd was closed and reopened");
}

TEST_F(sample, set_irqs_unsupported)
{
	int32_t fd;

	self->efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, self->efd) TH_LOG("eventfd: %s", strerror(errno));
	fd = self->efd;
	errno = 0;
	EXPECT_EQ(-1, set_irqs(&self->dev, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
			       VFIO_PCI_MSI_IRQ_INDEX, 1, &fd, sizeof(fd)))
		TH_LOG("SET_IRQS on MSI, which has no interrupts, succeeded");
	EXPECT_EQ(EINVAL, errno) TH_LOG("SET_IRQS on MSI: %s", strerror(errno));
	errno = 0;
	/* The sample's INTx is not maskable: an action the index lacks. */
	EXPECT_EQ(-1, set_irqs(&self->dev, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK,
			       VFIO_PCI_INTX_IRQ_INDEX, 1, NULL, 0))
		TH_LOG("SET_IRQS mask on INTx succeeded");
	EXPECT_EQ(ENOTTY, errno) TH_LOG("SET_IRQS mask on INTx: %s", strerror(errno));
}

TEST_F(sample, reset)
{
	struct vfio_dev *dev = &self->dev;

	bar_set(_metadata, self, SAMPLE_SCRATCH, 0xdeadbeef);
	bar_set(_metadata, self, SAMPLE_COUNTER, 41);
	bar_set(_metadata, self, SAMPLE_DOORBELL, 1);
	config_set(_metadata, dev, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	config_set(_metadata, dev, PCI_BASE_ADDRESS_0, 4, 0xfe000000);
	config_set(_metadata, dev, PCI_INTERRUPT_LINE, 1, 11);

	ASSERT_EQ(0, ioctl(dev->device, VFIO_DEVICE_RESET))
		TH_LOG("VFIO_DEVICE_RESET: %s", strerror(errno));
	EXPECT_EQ(0, bar_get(_metadata, self, SAMPLE_SCRATCH)) TH_LOG("SCRATCH after reset");
	EXPECT_EQ(0, bar_get(_metadata, self, SAMPLE_COUNTER)) TH_LOG("first COUNTER after reset");
	EXPECT_EQ(1, bar_get(_metadata, self, SAMPLE_COUNTER)) TH_LOG("second COUNTER after reset");
	EXPECT_EQ(0, bar_get(_metadata, self, SAMPLE_IRQ_COUNT)) TH_LOG("IRQ_COUNT after reset");
	EXPECT_EQ(SAMPLE_MAGIC_VALUE, bar_get(_metadata, self, SAMPLE_MAGIC));
	EXPECT_EQ(0, config_get(_metadata, dev, PCI_COMMAND, 2)) TH_LOG("command after reset");
	EXPECT_EQ(0, config_get(_metadata, dev, PCI_BASE_ADDRESS_0, 4)) TH_LOG("BAR0 after reset");
	EXPECT_EQ(0, config_get(_metadata, dev, PCI_INTERRUPT_LINE, 1))
		TH_LOG("interrupt line after reset");
}

TEST_F(sample, reset_keeps_eventfd_armed)
{
	arm_eventfd(_metadata, self);
	ASSERT_EQ(0, ioctl(self->dev.device, VFIO_DEVICE_RESET))
		TH_LOG("VFIO_DEVICE_RESET: %s", strerror(errno));
	bar_set(_metadata, self, SAMPLE_DOORBELL, 1);
	expect_irq(_metadata, self, "doorbell after reset");
}

/* --- mmap: the sample's BAR2, memory mappable in one sparse area --- */

FIXTURE(mmap) {
	struct vfio_dev dev;
	struct vfio_region_info *bar2;	/* with its capability chain */
};

FIXTURE_SETUP(mmap)
{
	struct vfio_region_info probe = {
		.argsz = sizeof(probe),
		.index = VFIO_PCI_BAR2_REGION_INDEX,
	};

	self->bar2 = NULL;
	open_device(_metadata, &self->dev);
	/* The first call tells the size the capabilities need. */
	ASSERT_EQ(0, ioctl(self->dev.device, VFIO_DEVICE_GET_REGION_INFO, &probe))
		TH_LOG("VFIO_DEVICE_GET_REGION_INFO (BAR2): %s", strerror(errno));
	self->bar2 = calloc(1, probe.argsz);
	ASSERT_NE(NULL, self->bar2);
	self->bar2->argsz = probe.argsz;
	self->bar2->index = VFIO_PCI_BAR2_REGION_INDEX;
	ASSERT_EQ(0, ioctl(self->dev.device, VFIO_DEVICE_GET_REGION_INFO, self->bar2))
		TH_LOG("VFIO_DEVICE_GET_REGION_INFO (BAR2, with capabilities): %s",
		       strerror(errno));
}

FIXTURE_TEARDOWN(mmap)
{
	vfio_dev_close(&self->dev);
	free(self->bar2);
}

/* mmap LEN bytes at OFF of BAR2; MAP_FAILED with errno on failure. */
static void *bar2_map(FIXTURE_DATA(mmap) *self, off_t off, size_t len, int flags)
{
	return mmap(NULL, len, PROT_READ | PROT_WRITE, flags, self->dev.device,
		    self->bar2->offset + off);
}

TEST_F(mmap, sparse_capability)
{
	struct vfio_info_cap_header *hdr;
	struct vfio_region_info_cap_sparse_mmap *sparse;

	ASSERT_TRUE(self->bar2->flags & VFIO_REGION_INFO_FLAG_CAPS) TH_LOG("no capabilities");
	ASSERT_NE(0, self->bar2->cap_offset) TH_LOG("no capability offset");
	ASSERT_LE(self->bar2->cap_offset + sizeof(*sparse), self->bar2->argsz);
	hdr = (void *)self->bar2 + self->bar2->cap_offset;
	ASSERT_EQ(VFIO_REGION_INFO_CAP_SPARSE_MMAP, hdr->id) TH_LOG("capability id");
	EXPECT_EQ(1, hdr->version);
	EXPECT_EQ(0, hdr->next) TH_LOG("one capability only");
	sparse = (void *)hdr;
	ASSERT_EQ(1, sparse->nr_areas) TH_LOG("number of sparse areas");
	EXPECT_EQ(SAMPLE_BAR2_MAP_OFFSET, sparse->areas[0].offset);
	EXPECT_EQ(SAMPLE_BAR2_MAP_SIZE, sparse->areas[0].size);
}

TEST_F(mmap, mapping_and_region_path_share_the_memory)
{
	const size_t len = SAMPLE_BAR2_MAP_SIZE;
	uint8_t *map = bar2_map(self, SAMPLE_BAR2_MAP_OFFSET, len, MAP_SHARED);
	uint8_t back[64];
	size_t i;

	ASSERT_NE(MAP_FAILED, map) TH_LOG("mmap of the sparse area: %s", strerror(errno));
	for (i = 0; i < len; i++)
		map[i] = (uint8_t)(i * 7 + 3);
	/* Across the boundary of the mapping's two middle pages. */
	ASSERT_EQ(sizeof(back), pread(self->dev.device, back, sizeof(back),
				      self->bar2->offset + SAMPLE_BAR2_MAP_OFFSET + 4096 - 32))
		TH_LOG("read through the region: %s", strerror(errno));
	for (i = 0; i < sizeof(back); i++)
		ASSERT_EQ((uint8_t)((4096 - 32 + i) * 7 + 3), back[i])
			TH_LOG("byte %zu read through the region differs from the mapping's", i);
	memset(back, 0xa5, sizeof(back));
	ASSERT_EQ(sizeof(back), pwrite(self->dev.device, back, sizeof(back),
				       self->bar2->offset + SAMPLE_BAR2_MAP_OFFSET + 100))
		TH_LOG("write through the region: %s", strerror(errno));
	EXPECT_EQ(0xa5, map[100]) TH_LOG("the mapping does not see a write through the region");
	EXPECT_EQ(0xa5, map[163]);
	EXPECT_EQ((uint8_t)(164 * 7 + 3), map[164]);
	EXPECT_EQ(0, munmap(map, len));
}

/*
 * A read of the whole mappable area at once, from an odd offset, and one
 * across the area's start (the part before it is not mappable and goes to
 * the driver's read): both see what the mapping holds.
 */
TEST_F(mmap, long_and_straddling_reads_see_the_mapping)
{
	const size_t len = SAMPLE_BAR2_MAP_SIZE;
	const off_t area = self->bar2->offset + SAMPLE_BAR2_MAP_OFFSET;
	uint8_t *map = bar2_map(self, SAMPLE_BAR2_MAP_OFFSET, len, MAP_SHARED);
	static uint8_t back[SAMPLE_BAR2_MAP_SIZE];
	uint8_t edge[16], before[8];
	size_t i;

	ASSERT_NE(MAP_FAILED, map) TH_LOG("mmap of the sparse area: %s", strerror(errno));
	for (i = 0; i < len; i++)
		map[i] = (uint8_t)(i * 13 + 5);
	ASSERT_EQ(len - 3, pread(self->dev.device, back, len - 3, area + 3))
		TH_LOG("read of the area through the region: %s", strerror(errno));
	for (i = 0; i < len - 3; i++)
		ASSERT_EQ(map[i + 3], back[i]) TH_LOG("byte %zu of the long read", i + 3);
	ASSERT_EQ(sizeof(before), pread(self->dev.device, before, sizeof(before), area - 8));
	ASSERT_EQ(sizeof(edge), pread(self->dev.device, edge, sizeof(edge), area - 8))
		TH_LOG("read across the area's start: %s", strerror(errno));
	EXPECT_EQ(0, memcmp(edge, before, sizeof(before)))
		TH_LOG("the bytes before the area differ from a read of them alone");
	EXPECT_EQ(0, memcmp(edge + 8, map, 8)) TH_LOG("the area's bytes differ from the mapping's");
	EXPECT_EQ(0, munmap(map, len));
}

TEST_F(mmap, only_the_sparse_area_maps)
{
	static const struct { off_t off; size_t len; int flags; const char *what; } bad[] = {
		{ 0, 4096, MAP_SHARED, "the page before the area" },
		{ SAMPLE_BAR2_MAP_OFFSET, SAMPLE_BAR2_MAP_SIZE + 4096, MAP_SHARED,
		  "past the area's end" },
		{ SAMPLE_BAR2_MAP_OFFSET + SAMPLE_BAR2_MAP_SIZE, 4096, MAP_SHARED,
		  "the page after the area" },
		{ SAMPLE_BAR2_MAP_OFFSET, 4096, MAP_PRIVATE, "a private mapping" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		void *map = bar2_map(self, bad[i].off, bad[i].len, bad[i].flags);

		EXPECT_EQ(MAP_FAILED, map) TH_LOG("mmap of %s succeeded", bad[i].what);
		if (map != MAP_FAILED)
			munmap(map, bad[i].len);
		else
			EXPECT_EQ(EINVAL, errno) TH_LOG("mmap of %s: %s", bad[i].what,
							strerror(errno));
	}
}

/* The file offset of BAR4, the sample's read-only mappable region. */
static off_t bar4_offset(struct __test_metadata *_metadata, FIXTURE_DATA(mmap) *self)
{
	struct vfio_region_info info = {
		.argsz = sizeof(info),
		.index = VFIO_PCI_BAR4_REGION_INDEX,
	};

	ASSERT_EQ(0, ioctl(self->dev.device, VFIO_DEVICE_GET_REGION_INFO, &info))
		TH_LOG("VFIO_DEVICE_GET_REGION_INFO (BAR4): %s", strerror(errno));
	ASSERT_EQ(VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_MMAP, info.flags)
		TH_LOG("BAR4 is not read-only and mappable");
	return info.offset;
}

TEST_F(mmap, read_only_region_maps_for_reading_only)
{
	off_t off = bar4_offset(_metadata, self);
	uint32_t word = 0x12345678;
	uint32_t *map;

	map = mmap(NULL, SAMPLE_BAR4_SIZE, PROT_READ, MAP_SHARED, self->dev.device, off);
	ASSERT_NE(MAP_FAILED, map) TH_LOG("mmap of BAR4 for reading: %s", strerror(errno));
	EXPECT_EQ(SAMPLE_MAGIC_VALUE, le32toh(map[0])) TH_LOG("BAR4's first word");
	EXPECT_EQ(SAMPLE_MAGIC_VALUE, le32toh(map[SAMPLE_BAR4_SIZE / 4 - 1]))
		TH_LOG("BAR4's last word");
	EXPECT_EQ(0, munmap(map, SAMPLE_BAR4_SIZE));
	map = mmap(NULL, SAMPLE_BAR4_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		   self->dev.device, off);
	EXPECT_EQ(MAP_FAILED, map) TH_LOG("BAR4 was mapped writable");
	if (map != MAP_FAILED)
		munmap(map, SAMPLE_BAR4_SIZE);
	else
		EXPECT_EQ(EACCES, errno) TH_LOG("mmap of BAR4 writable: %s", strerror(errno));
	EXPECT_EQ(-1, pwrite(self->dev.device, &word, 4, off))
		TH_LOG("a write through BAR4's region succeeded");
	word = 0;
	EXPECT_EQ(4, pread(self->dev.device, &word, 4, off))
		TH_LOG("read through BAR4's region: %s", strerror(errno));
	EXPECT_EQ(SAMPLE_MAGIC_VALUE, le32toh(word)) TH_LOG("BAR4 read through the region");
}

TEST_F(mmap, read_only_mapping_cannot_become_writable)
{
	off_t off = bar4_offset(_metadata, self);
	uint32_t *map;
	int ret;

	map = mmap(NULL, SAMPLE_BAR4_SIZE, PROT_READ, MAP_SHARED, self->dev.device, off);
	ASSERT_NE(MAP_FAILED, map) TH_LOG("mmap of BAR4 for reading: %s", strerror(errno));
	ret = mprotect(map, SAMPLE_BAR4_SIZE, PROT_READ | PROT_WRITE);
	EXPECT_EQ(-1, ret) TH_LOG("mprotect made a mapping of read-only BAR4 writable");
	if (ret == 0) {
		uint32_t word = 0;

		/* Show that the device's read-only memory really changes. */
		map[0] = htole32(0xdeadbeef);
		pread(self->dev.device, &word, 4, off);
		ksft_print_msg("BAR4 reads 0x%08x through the region after a write through the mapping\n",
			       le32toh(word));
		map[0] = htole32(SAMPLE_MAGIC_VALUE);
	} else {
		EXPECT_EQ(EACCES, errno) TH_LOG("mprotect of BAR4: %s", strerror(errno));
	}
	EXPECT_EQ(0, munmap(map, SAMPLE_BAR4_SIZE));
}

TEST_F(mmap, registers_do_not_map)
{
	void *map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, self->dev.device,
			 (off_t)VFIO_PCI_BAR0_REGION_INDEX << 40);

	EXPECT_EQ(MAP_FAILED, map) TH_LOG("BAR0, trapped registers, was mapped");
	if (map != MAP_FAILED)
		munmap(map, 4096);
}

/*
 * --- dma: the sample's DMA registers, through the container or the IOAS ---
 *
 * The test maps a buffer of two pages at DMA_IOVA, as a VMM maps guest
 * memory, and has the device copy into it and pin its pages.  VFIO calls a
 * device's dma_unmap only for a mapping in which pages are pinned, and an
 * unmap can only finish once they are unpinned.
 */

/* Where the buffer is mapped, and an IOVA that nothing maps. */
#define DMA_IOVA		0x10000000ULL
#define DMA_UNMAPPED_IOVA	0x40000000ULL

FIXTURE(dma) {
	FIXTURE_DATA(sample) s;
	uint8_t *buf;
	size_t page, size;
	bool mapped;
};

static int dma_map(struct vfio_dev *dev, void *vaddr, uint64_t iova, uint64_t size)
{
	return vfio_dev_dma_map(dev, vaddr, iova, size);
}

/* The bytes unmapped, or -1. */
static int64_t dma_unmap(struct vfio_dev *dev, uint64_t iova, uint64_t size)
{
	return vfio_dev_dma_unmap(dev, iova, size);
}

FIXTURE_SETUP(dma)
{
	self->buf = MAP_FAILED;
	sample_open(_metadata, &self->s);
	self->page = sysconf(_SC_PAGESIZE);
	self->size = 2 * self->page;
	self->buf = mmap(NULL, self->size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf) TH_LOG("mmap: %s", strerror(errno));
	ASSERT_EQ(0, dma_map(&self->s.dev, self->buf, DMA_IOVA, self->size))
		TH_LOG("VFIO_IOMMU_MAP_DMA of %zu bytes at 0x%llx: %s", self->size, DMA_IOVA,
		       strerror(errno));
	self->mapped = true;
}

FIXTURE_TEARDOWN(dma)
{
	if (self->mapped)
		dma_unmap(&self->s.dev, DMA_IOVA, self->size);
	sample_close(&self->s);
	if (self->buf != MAP_FAILED)
		munmap(self->buf, self->size);
}

/*
 * VFIO's type1 pins pages for a v2 container only: with VFIO_TYPE1_IOMMU,
 * vfio_pin_pages() answers EACCES (vfio_iommu_type1_pin_pages()), for any
 * mdev driver on either core.  iommufd's compatibility container pins in
 * both.  Pinning tests check that refusal in type1v1 mode, once
 * (pin_refused_by_type1v1), and skip.
 */
static bool type1v1_refuses_pins(struct vfio_dev *dev)
{
	return dev->mode == VFIO_DEV_TYPE1V1 && !vfio_dev_iommufd(dev);
}

#define SKIP_IF_NO_PINS(dev)								\
	do {										\
		if (type1v1_refuses_pins(dev))						\
			SKIP(return, "VFIO's type1 v1 pins nothing (EACCES, see "	\
			     "dma.pin_refused_by_type1v1)");				\
	} while (0)

/* Run the DMA command CMD at IOVA, a copy of LEN bytes; DMA_STATUS after it. */
static uint32_t dma_command(struct __test_metadata *_metadata, FIXTURE_DATA(dma) *self,
			    uint32_t cmd, uint64_t iova, uint32_t len)
{
	bar_set(_metadata, &self->s, SAMPLE_DMA_ADDR_LO, (uint32_t)iova);
	bar_set(_metadata, &self->s, SAMPLE_DMA_ADDR_HI, iova >> 32);
	bar_set(_metadata, &self->s, SAMPLE_DMA_LEN, len);
	bar_set(_metadata, &self->s, SAMPLE_DMA_CMD, cmd);
	return bar_get(_metadata, &self->s, SAMPLE_DMA_STATUS);
}

/*
 * The buffer holds the copy of LEN bytes at offset OFF (byte i of a copy is
 * i % 256 ^ 0x5a) and zeroes everywhere else.
 */
static void expect_copy(struct __test_metadata *_metadata, FIXTURE_DATA(dma) *self,
			size_t off, size_t len)
{
	size_t i;

	for (i = 0; i < self->size; i++) {
		uint8_t want = i >= off && i - off < len ? ((i - off) % 256) ^ 0x5a : 0;

		ASSERT_EQ(want, self->buf[i])
			TH_LOG("byte %zu of the buffer, after a copy of %zu bytes at offset %zu",
			       i, len, off);
	}
}

TEST_F(dma, copy_into_guest_memory)
{
	ASSERT_EQ(0, dma_command(_metadata, self, SAMPLE_DMA_COPY, DMA_IOVA + 100, 16))
		TH_LOG("DMA_STATUS of a copy of 16 bytes into mapped memory");
	expect_copy(_metadata, self, 100, 16);
	EXPECT_EQ(0, bar_get(_metadata, &self->s, SAMPLE_DMA_PINNED))
		TH_LOG("a copy pins nothing");
}

TEST_F(dma, copy_across_a_page_boundary)
{
	size_t off = self->page / 2;

	ASSERT_EQ(0, dma_command(_metadata, self, SAMPLE_DMA_COPY, DMA_IOVA + off,
				 SAMPLE_DMA_MAX_LEN))
		TH_LOG("DMA_STATUS of a copy of %d bytes at offset %zu",
		       SAMPLE_DMA_MAX_LEN, off);
	expect_copy(_metadata, self, off, SAMPLE_DMA_MAX_LEN);
}

TEST_F(dma, copy_length_and_command_limits)
{
	EXPECT_EQ(EINVAL, dma_command(_metadata, self, SAMPLE_DMA_COPY, DMA_IOVA, 0))
		TH_LOG("a copy of 0 bytes");
	EXPECT_EQ(EINVAL, dma_command(_metadata, self, SAMPLE_DMA_COPY, DMA_IOVA,
				      SAMPLE_DMA_MAX_LEN + 1))
		TH_LOG("a copy of more than %d bytes", SAMPLE_DMA_MAX_LEN);
	EXPECT_EQ(EINVAL, dma_command(_metadata, self, 0, DMA_IOVA, 4))
		TH_LOG("DMA command 0");
	EXPECT_EQ(EINVAL, dma_command(_metadata, self, 4, DMA_IOVA, 4))
		TH_LOG("DMA command 4");
	expect_copy(_metadata, self, 0, 0);
	EXPECT_EQ(0, bar_get(_metadata, &self->s, SAMPLE_DMA_CMD)) TH_LOG("DMA_CMD reads 0");
}

TEST_F(dma, copy_to_unmapped_iova_fails)
{
	EXPECT_NE(0, dma_command(_metadata, self, SAMPLE_DMA_COPY, DMA_UNMAPPED_IOVA, 16))
		TH_LOG("a copy to an IOVA that nothing maps succeeded");
	EXPECT_NE(0, dma_command(_metadata, self, SAMPLE_DMA_COPY,
				 DMA_IOVA + self->size - 8, 16))
		TH_LOG("a copy running past the end of the mapping succeeded");
	/* VFIO copies mapping by mapping: the first 8 bytes may be written. */
	memset(self->buf, 0, self->size);
	ASSERT_EQ(self->size, dma_unmap(&self->s.dev, DMA_IOVA, self->size))
		TH_LOG("VFIO_IOMMU_UNMAP_DMA: %s", strerror(errno));
	self->mapped = false;
	EXPECT_NE(0, dma_command(_metadata, self, SAMPLE_DMA_COPY, DMA_IOVA, 16))
		TH_LOG("a copy to an IOVA unmapped since succeeded");
	expect_copy(_metadata, self, 0, 0);
}

TEST_F(dma, pin_refused_by_type1v1)
{
	if (!type1v1_refuses_pins(&self->s.dev))
		SKIP(return, "type1v1 mode through VFIO's type1 only");
	EXPECT_EQ(EACCES, dma_command(_metadata, self, SAMPLE_DMA_PIN, DMA_IOVA, 0))
		TH_LOG("the pin of a mapped page in a type1 v1 container");
	EXPECT_EQ(0, bar_get(_metadata, &self->s, SAMPLE_DMA_PINNED));
}

TEST_F(dma, pin_and_unpin)
{
	SKIP_IF_NO_PINS(&self->s.dev);
	ASSERT_EQ(0, dma_command(_metadata, self, SAMPLE_DMA_PIN, DMA_IOVA + 8, 0))
		TH_LOG("DMA_STATUS of the pin of a mapped page");
	EXPECT_EQ(1, bar_get(_metadata, &self->s, SAMPLE_DMA_PINNED));
	EXPECT_EQ(EBUSY, dma_command(_metadata, self, SAMPLE_DMA_PIN, DMA_IOVA, 0))
		TH_LOG("a second pin while one is held");
	EXPECT_EQ(1, bar_get(_metadata, &self->s, SAMPLE_DMA_PINNED));
	EXPECT_EQ(0, dma_command(_metadata, self, SAMPLE_DMA_UNPIN, 0, 0))
		TH_LOG("DMA_STATUS of the unpin");
	EXPECT_EQ(0, bar_get(_metadata, &self->s, SAMPLE_DMA_PINNED));
	EXPECT_EQ(EINVAL, dma_command(_metadata, self, SAMPLE_DMA_UNPIN, 0, 0))
		TH_LOG("an unpin with nothing pinned");
}

TEST_F(dma, pin_unmapped_iova_fails)
{
	EXPECT_NE(0, dma_command(_metadata, self, SAMPLE_DMA_PIN, DMA_UNMAPPED_IOVA, 0))
		TH_LOG("the pin of an IOVA that nothing maps succeeded");
	EXPECT_EQ(0, bar_get(_metadata, &self->s, SAMPLE_DMA_PINNED));
}

/*
 * Whether lockdep watches this kernel.  VFIO's type1 (not mdev, not the
 * vendor) takes iommu->lock, then device_list_lock, when a device is opened,
 * but calls dma_unmap with device_list_lock held, and the unpinning that
 * dma_unmap requires takes iommu->lock: a real inversion, which lockdep
 * reports the first time a pinned page is unmapped, on either core and with
 * any vendor driver.  Such a kernel cannot run the test without that report
 * through type1 (type1_inversion_reported()); iommufd (cdev mode, or its
 * compatibility container) has no such inversion, and runs it.
 */
static bool lockdep_active(void)
{
	char value = '1';
	int fd;

	if (access("/proc/lockdep", F_OK))
		return false;
	/* unmap_race.sh turns its dependency checking off for its guest. */
	fd = open("/proc/sys/kernel/prove_locking", O_RDONLY);
	if (fd >= 0) {
		if (read(fd, &value, 1) != 1)
			value = '1';
		close(fd);
	}
	return value != '0';
}

/* An unmap of a pinned page through type1 would be reported by lockdep. */
static bool type1_inversion_reported(struct vfio_dev *dev)
{
	return !vfio_dev_iommufd(dev) && lockdep_active();
}

/*
 * What a pin of IOVA that nothing maps answers: VFIO's type1 says EINVAL,
 * iommufd ENOENT (iommufd_access_pin_pages(), no area there).  The vendor
 * API passes VFIO's answer on.
 */
static uint32_t unmapped_pin_errno(struct vfio_dev *dev)
{
	return vfio_dev_iommufd(dev) ? ENOENT : EINVAL;
}

TEST_F(dma, unmap_unpins)
{
	uint32_t unmaps;

	SKIP_IF_NO_PINS(&self->s.dev);
	if (type1_inversion_reported(&self->s.dev))
		SKIP(return, "lockdep reports VFIO type1's own lock inversion on dma_unmap");
	unmaps = bar_get(_metadata, &self->s, SAMPLE_DMA_UNMAPS);
	ASSERT_EQ(0, dma_command(_metadata, self, SAMPLE_DMA_PIN, DMA_IOVA + self->page, 0))
		TH_LOG("DMA_STATUS of the pin of the second page");
	ASSERT_EQ(1, bar_get(_metadata, &self->s, SAMPLE_DMA_PINNED));
	ASSERT_EQ(self->size, dma_unmap(&self->s.dev, DMA_IOVA, self->size))
		TH_LOG("VFIO_IOMMU_UNMAP_DMA with a page pinned: %s", strerror(errno));
	self->mapped = false;
	EXPECT_EQ(unmaps + 1, bar_get(_metadata, &self->s, SAMPLE_DMA_UNMAPS))
		TH_LOG("the device's dma_unmap was called once");
	EXPECT_EQ(0, bar_get(_metadata, &self->s, SAMPLE_DMA_PINNED))
		TH_LOG("the pinned page was unpinned");
	EXPECT_EQ(EINVAL, dma_command(_metadata, self, SAMPLE_DMA_UNPIN, 0, 0))
		TH_LOG("the device gave the page back: nothing is left to unpin");
	/*
	 * A pin while nothing is mapped fails as VFIO says, and shows the
	 * vendor API that the unmap is over (Documentation/rust-vendor-driver.rst).
	 */
	EXPECT_EQ(unmapped_pin_errno(&self->s.dev),
		  dma_command(_metadata, self, SAMPLE_DMA_PIN, DMA_IOVA, 0))
		TH_LOG("a pin of the unmapped IOVA");
	/* The IOVA can then be mapped and pinned again. */
	ASSERT_EQ(0, dma_map(&self->s.dev, self->buf, DMA_IOVA, self->size))
		TH_LOG("VFIO_IOMMU_MAP_DMA again: %s", strerror(errno));
	self->mapped = true;
	EXPECT_EQ(0, dma_command(_metadata, self, SAMPLE_DMA_PIN, DMA_IOVA, 0));
	EXPECT_EQ(1, bar_get(_metadata, &self->s, SAMPLE_DMA_PINNED));
}

/*
 * The vendor API's rule for pins after an unmap (rust-vendor-driver.rst,
 * "Pins during an unmap are refused"): it forgets an unmapped range only once
 * a pin finds nothing mapped there.  Mapped again before that, the range
 * refuses pins (EAGAIN) until it is unmapped again.
 */
TEST_F(dma, remap_before_any_pin_refuses_pins_until_unmapped_again)
{
	SKIP_IF_NO_PINS(&self->s.dev);
	if (type1_inversion_reported(&self->s.dev))
		SKIP(return, "lockdep reports VFIO type1's own lock inversion on dma_unmap");
	ASSERT_EQ(0, dma_command(_metadata, self, SAMPLE_DMA_PIN, DMA_IOVA, 0));
	ASSERT_EQ(self->size, dma_unmap(&self->s.dev, DMA_IOVA, self->size))
		TH_LOG("VFIO_IOMMU_UNMAP_DMA with a page pinned: %s", strerror(errno));
	self->mapped = false;
	ASSERT_EQ(0, dma_map(&self->s.dev, self->buf, DMA_IOVA, self->size))
		TH_LOG("VFIO_IOMMU_MAP_DMA again: %s", strerror(errno));
	self->mapped = true;
	EXPECT_EQ(EAGAIN, dma_command(_metadata, self, SAMPLE_DMA_PIN, DMA_IOVA + self->page, 0))
		TH_LOG("a pin of the range mapped again before any pin asked");
	/* An unmap with nothing pinned calls no dma_unmap, and ends it. */
	ASSERT_EQ(self->size, dma_unmap(&self->s.dev, DMA_IOVA, self->size))
		TH_LOG("VFIO_IOMMU_UNMAP_DMA: %s", strerror(errno));
	self->mapped = false;
	EXPECT_EQ(unmapped_pin_errno(&self->s.dev),
		  dma_command(_metadata, self, SAMPLE_DMA_PIN, DMA_IOVA, 0))
		TH_LOG("a pin of the unmapped IOVA");
	ASSERT_EQ(0, dma_map(&self->s.dev, self->buf, DMA_IOVA, self->size));
	self->mapped = true;
	EXPECT_EQ(0, dma_command(_metadata, self, SAMPLE_DMA_PIN, DMA_IOVA, 0))
		TH_LOG("a pin once the range was seen unmapped");
	EXPECT_EQ(1, bar_get(_metadata, &self->s, SAMPLE_DMA_PINNED));
}

TEST_F(dma, unmap_without_pins_is_not_reported)
{
	uint32_t unmaps = bar_get(_metadata, &self->s, SAMPLE_DMA_UNMAPS);

	ASSERT_EQ(0, dma_command(_metadata, self, SAMPLE_DMA_COPY, DMA_IOVA, 16));
	ASSERT_EQ(self->size, dma_unmap(&self->s.dev, DMA_IOVA, self->size))
		TH_LOG("VFIO_IOMMU_UNMAP_DMA: %s", strerror(errno));
	self->mapped = false;
	EXPECT_EQ(unmaps, bar_get(_metadata, &self->s, SAMPLE_DMA_UNMAPS))
		TH_LOG("VFIO calls dma_unmap only where pages are pinned");
}

TEST_F(dma, close_unpins)
{
	uint32_t unmaps;

	SKIP_IF_NO_PINS(&self->s.dev);
	ASSERT_EQ(0, dma_command(_metadata, self, SAMPLE_DMA_PIN, DMA_IOVA, 0));
	ASSERT_EQ(1, bar_get(_metadata, &self->s, SAMPLE_DMA_PINNED));
	close(self->s.dev.device);
	self->s.dev.device = -1;
	reopen_device(_metadata, &self->s.dev);
	EXPECT_EQ(0, bar_get(_metadata, &self->s, SAMPLE_DMA_PINNED))
		TH_LOG("a page stayed pinned after the device was closed");
	unmaps = bar_get(_metadata, &self->s, SAMPLE_DMA_UNMAPS);
	ASSERT_EQ(self->size, dma_unmap(&self->s.dev, DMA_IOVA, self->size))
		TH_LOG("VFIO_IOMMU_UNMAP_DMA: %s", strerror(errno));
	self->mapped = false;
	EXPECT_EQ(unmaps, bar_get(_metadata, &self->s, SAMPLE_DMA_UNMAPS))
		TH_LOG("no page was left pinned for dma_unmap");
}

TEST_F(dma, reset_unpins)
{
	SKIP_IF_NO_PINS(&self->s.dev);
	ASSERT_EQ(0, dma_command(_metadata, self, SAMPLE_DMA_PIN, DMA_IOVA, 0));
	ASSERT_EQ(0, ioctl(self->s.dev.device, VFIO_DEVICE_RESET))
		TH_LOG("VFIO_DEVICE_RESET: %s", strerror(errno));
	EXPECT_EQ(0, bar_get(_metadata, &self->s, SAMPLE_DMA_PINNED));
	EXPECT_EQ(0, bar_get(_metadata, &self->s, SAMPLE_DMA_STATUS));
	EXPECT_EQ(0, bar_get(_metadata, &self->s, SAMPLE_DMA_ADDR_LO));
	EXPECT_EQ(0, bar_get(_metadata, &self->s, SAMPLE_DMA_LEN));
}

/*
 * A VMM maps guest memory from IOVA 0.  A device that leaves its IOAS under
 * iommufd (its fd closed, which unbinds it, or attached to another IOAS)
 * gets a dma_unmap of the whole IOVA space (0 and ULONG_MAX: iommufd's
 * iommufd_access_change_ioas()).  No mapping is being unmapped then: pins
 * must not stay refused for as long as IOVA 0 is mapped.
 */
TEST_F(dma, pin_after_reopen_with_iova_0_mapped)
{
	SKIP_IF_NO_PINS(&self->s.dev);
	ASSERT_EQ(0, dma_map(&self->s.dev, self->buf, 0, self->size))
		TH_LOG("mapping the buffer at IOVA 0 too: %s", strerror(errno));
	ASSERT_EQ(0, dma_command(_metadata, self, SAMPLE_DMA_PIN, DMA_IOVA, 0));
	close(self->s.dev.device);
	self->s.dev.device = -1;
	reopen_device(_metadata, &self->s.dev);
	EXPECT_EQ(0, bar_get(_metadata, &self->s, SAMPLE_DMA_PINNED))
		TH_LOG("a page stayed pinned after the device was closed");
	EXPECT_EQ(0, dma_command(_metadata, self, SAMPLE_DMA_PIN, DMA_IOVA, 0))
		TH_LOG("a pin after the device was closed and opened again, IOVA 0 mapped");
	EXPECT_EQ(0, dma_command(_metadata, self, SAMPLE_DMA_UNPIN, 0, 0));
	EXPECT_EQ(self->size, dma_unmap(&self->s.dev, 0, self->size))
		TH_LOG("unmapping IOVA 0: %s", strerror(errno));
}

/*
 * cdev mode: attaching the open device to another IOAS (iommufd's replace)
 * gives its pins in the old IOAS back, and pins in the new IOAS work.
 */
TEST_F(dma, pin_after_attaching_another_ioas)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct vfio_device_attach_iommufd_pt attach = { .argsz = sizeof(attach) };
	uint32_t unmaps;

	if (self->s.dev.mode != VFIO_DEV_CDEV)
		SKIP(return, "cdev mode only: a group's device cannot change its IOAS");
	ASSERT_EQ(0, dma_command(_metadata, self, SAMPLE_DMA_PIN, DMA_IOVA, 0));
	unmaps = bar_get(_metadata, &self->s, SAMPLE_DMA_UNMAPS);
	ASSERT_EQ(0, ioctl(self->s.dev.iommufd, IOMMU_IOAS_ALLOC, &alloc))
		TH_LOG("IOMMU_IOAS_ALLOC: %s", strerror(errno));
	/* The buffer at IOVA 0 and at DMA_IOVA of the new IOAS. */
	self->s.dev.ioas = alloc.out_ioas_id;
	ASSERT_EQ(0, dma_map(&self->s.dev, self->buf, 0, self->size))
		TH_LOG("IOMMU_IOAS_MAP at 0: %s", strerror(errno));
	ASSERT_EQ(0, dma_map(&self->s.dev, self->buf, DMA_IOVA, self->size))
		TH_LOG("IOMMU_IOAS_MAP at 0x%llx: %s", DMA_IOVA, strerror(errno));
	attach.pt_id = alloc.out_ioas_id;
	ASSERT_EQ(0, ioctl(self->s.dev.device, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach))
		TH_LOG("VFIO_DEVICE_ATTACH_IOMMUFD_PT to another IOAS: %s", strerror(errno));
	EXPECT_EQ(0, bar_get(_metadata, &self->s, SAMPLE_DMA_PINNED))
		TH_LOG("the pin in the old IOAS was given back");
	EXPECT_EQ(unmaps + 1, bar_get(_metadata, &self->s, SAMPLE_DMA_UNMAPS))
		TH_LOG("the device's dma_unmap was called once, for the old IOAS");
	EXPECT_EQ(0, dma_command(_metadata, self, SAMPLE_DMA_PIN, DMA_IOVA, 0))
		TH_LOG("a pin in the new IOAS, IOVA 0 mapped there");
	EXPECT_EQ(0, dma_command(_metadata, self, SAMPLE_DMA_COPY, DMA_IOVA + 100, 16))
		TH_LOG("a copy into the new IOAS");
}

/*
 * --- unmap_race: pins of a page that is being unmapped (make stress) ---
 *
 * VFIO_IOMMU_UNMAP_DMA (type1's vfio_dma_do_unmap()) drops its lock to call
 * the dma_unmap op of every device of the container, then looks again: while
 * pages of the mapping are still pinned it calls them all again, and the
 * eleventh time in a row it stops the kernel (BUG_ON), the unmapping task
 * dying with type1's lock held.  A pin made after a device's dma_unmap and
 * before type1 looks again is what keeps it going, and type1's pin path does
 * not refuse one.
 *
 * Two devices of the sample share one container; unmap_race.sh loads the
 * sample with dma_unmap_delay_ms, so that each device's dma_unmap waits (as
 * behind other work) and the window after the first device's op lasts as
 * long as the second's.  A thread per device asks its device for a pin of
 * the mapped page, again and again (the sample pins whenever it holds no
 * pin); the test maps the page, waits for a pin and unmaps it, over and
 * over.  Unless the API refuses pins of a range that is being unmapped, one
 * device pins during the other's dma_unmap every time, and the kernel dies
 * in the first round.
 *
 * Through iommufd (cdev mode, or the compatibility container) the devices
 * share an IOAS; iommufd refuses pins of an area it is unmapping (EINVAL,
 * counted as refused), answers ENOENT where nothing is mapped, and retries
 * its unmap up to 100 times before it warns and fails with EDEADLOCK.
 */

#define RACE_IOVA	0x20000000ULL
#define RACE_PIN_WAIT_MS	1000

/* A thread asking one device for pins until told to stop. */
struct pinner {
	pthread_t thread;
	int device;
	const volatile bool *stop;
	/*
	 * What VFIO answers a pin where nothing is mapped (unmapped_pin_errno()),
	 * and whether iommufd serves the device: iommufd refuses the pins of an
	 * area it is unmapping itself, with EINVAL, before the vendor API's
	 * EAGAIN can (its check of the range finds the area going).
	 */
	uint32_t unmapped_errno;
	bool iommufd;
	/* DMA_STATUS after each pin command, by answer. */
	unsigned long pinned, held, refused, unmapped, other;
	uint32_t other_status;
};

static int reg_write(int device, off_t reg, uint32_t value)
{
	value = htole32(value);
	return pwrite(device, &value, 4, ((off_t)VFIO_PCI_BAR0_REGION_INDEX << 40) + reg) == 4 ?
	       0 : -1;
}

/* The BAR0 register REG, or UINT32_MAX if it cannot be read. */
static uint32_t reg_read(int device, off_t reg)
{
	uint32_t value;

	if (pread(device, &value, 4, ((off_t)VFIO_PCI_BAR0_REGION_INDEX << 40) + reg) != 4)
		return UINT32_MAX;
	return le32toh(value);
}

static void *pinner_run(void *arg)
{
	struct pinner *p = arg;

	while (!*p->stop) {
		uint32_t status;

		if (reg_write(p->device, SAMPLE_DMA_CMD, SAMPLE_DMA_PIN)) {
			p->other++;
			p->other_status = UINT32_MAX;
			continue;
		}
		status = reg_read(p->device, SAMPLE_DMA_STATUS);
		if (status == 0)
			p->pinned++;
		else if (status == EBUSY)
			p->held++;	/* the device holds its one pin */
		else if (status == EAGAIN)
			p->refused++;	/* the page is being unmapped */
		else if (status == p->unmapped_errno)
			p->unmapped++;	/* nothing is mapped there */
		else if (p->iommufd && status == EINVAL)
			p->refused++;	/* iommufd is unmapping the page */
		else
			p->other++, p->other_status = status;
	}
	return NULL;
}

FIXTURE(unmap_race) {
	struct vfio_dev dev;	/* the first device, and the container or IOAS */
	struct vfio_dev dev2;	/* the second: in the same container or IOAS */
	void *buf;
	size_t page;
};

FIXTURE_SETUP(unmap_race)
{
	self->buf = MAP_FAILED;
	vfio_dev_init(&self->dev);
	vfio_dev_init(&self->dev2);
	if (!getenv("MDEV_UUID2"))
		return;
	open_device(_metadata, &self->dev);
	ASSERT_EQ(0, vfio_dev_open_beside(&self->dev2, getenv("MDEV_UUID2"), &self->dev))
		TH_LOG("the second device: %s", self->dev2.why);
	self->page = sysconf(_SC_PAGESIZE);
	self->buf = mmap(NULL, self->page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf) TH_LOG("mmap: %s", strerror(errno));
}

FIXTURE_TEARDOWN(unmap_race)
{
	vfio_dev_close(&self->dev2);
	vfio_dev_close(&self->dev);
	if (self->buf != MAP_FAILED)
		munmap(self->buf, self->page);
}

/*
 * Rounds of a map, a wait for a pin and an unmap, on a KASAN kernel, with
 * other guests beside: the harness's default 30 s ended the C core's run in
 * a loaded make stress before its 50 rounds were done.
 */
TEST_F_TIMEOUT(unmap_race, pins_of_a_page_being_unmapped_wait, 600)
{
	unsigned long rounds = env_ulong("MDEV_RACE_ROUNDS"), round, contested = 0;
	volatile bool stop = false;
	struct pinner pinners[2] = {
		{ .device = self->dev.device, .stop = &stop,
		  .unmapped_errno = unmapped_pin_errno(&self->dev),
		  .iommufd = vfio_dev_iommufd(&self->dev) },
		{ .device = self->dev2.device, .stop = &stop,
		  .unmapped_errno = unmapped_pin_errno(&self->dev),
		  .iommufd = vfio_dev_iommufd(&self->dev) },
	};
	uint32_t unmaps_before[2];
	int i;

	if (!getenv("MDEV_UUID2") || !rounds)
		SKIP(return, "make stress runs it (unmap_race.sh sets MDEV_UUID2 and MDEV_RACE_ROUNDS)");
	SKIP_IF_NO_PINS(&self->dev);
	for (i = 0; i < 2; i++) {
		unmaps_before[i] = reg_read(pinners[i].device, SAMPLE_DMA_UNMAPS);
		ASSERT_EQ(0, reg_write(pinners[i].device, SAMPLE_DMA_ADDR_LO, (uint32_t)RACE_IOVA));
		ASSERT_EQ(0, reg_write(pinners[i].device, SAMPLE_DMA_ADDR_HI, RACE_IOVA >> 32));
		ASSERT_EQ(0, pthread_create(&pinners[i].thread, NULL, pinner_run, &pinners[i]));
	}
	for (round = 0; round < rounds; round++) {
		int64_t unmapped;
		int waited = 0;

		ASSERT_EQ(0, dma_map(&self->dev, self->buf, RACE_IOVA, self->page))
			TH_LOG("round %lu: VFIO_IOMMU_MAP_DMA: %s", round, strerror(errno));
		while (reg_read(self->dev.device, SAMPLE_DMA_PINNED) == 0 &&
		       reg_read(self->dev2.device, SAMPLE_DMA_PINNED) == 0 &&
		       waited++ < RACE_PIN_WAIT_MS)
			usleep(1000);
		if (waited <= RACE_PIN_WAIT_MS)
			contested++;
		unmapped = dma_unmap(&self->dev, RACE_IOVA, self->page);
		ASSERT_EQ((int64_t)self->page, unmapped)
			TH_LOG("round %lu: VFIO_IOMMU_UNMAP_DMA of the pinned page: %s",
			       round, unmapped < 0 ? strerror(errno) : "part of it");
		/* Time for a pin to find that nothing is mapped any more. */
		usleep(2000);
	}
	stop = true;
	for (i = 0; i < 2; i++)
		pthread_join(pinners[i].thread, NULL);
	for (i = 0; i < 2; i++) {
		struct pinner *p = &pinners[i];
		uint32_t unmaps = reg_read(p->device, SAMPLE_DMA_UNMAPS) - unmaps_before[i];

		ksft_print_msg("device %d: %u dma_unmap calls in %lu rounds (%lu with a pin); "
			       "pin answers: %lu pinned, %lu held, %lu refused, %lu unmapped, "
			       "%lu other\n", i + 1, unmaps, rounds, contested, p->pinned, p->held,
			       p->refused, p->unmapped, p->other);
		EXPECT_GE(rounds, unmaps)
			TH_LOG("device %d: type1 called dma_unmap again for an unmap: a pin was taken "
			       "while the page was being unmapped", i + 1);
		EXPECT_EQ(0, p->other) TH_LOG("device %d: a pin was answered %u", i + 1,
					      p->other_status);
	}
	EXPECT_LE(rounds / 2, contested) TH_LOG("the page was pinned when unmapped in only "
						"%lu of %lu rounds: the race was not run",
						contested, rounds);
	EXPECT_LT(0, pinners[0].refused + pinners[1].refused)
		TH_LOG("no pin was refused while the page was being unmapped");
}

/*
 * --- request: taking a device that userspace holds asks for it back ---
 *
 * Defined last, so that it runs after every other fixture: it removes the
 * device.  With the request eventfd armed and the device held open, a write
 * that takes the device away must block in the device's VFIO
 * unregistration, and VFIO's request must arrive; once the device fd is
 * closed, the write must finish.  Two such writes: unbinding the vendor
 * driver from the device (which is then removed and created again), and
 * removing the device.
 * (rmmod of the vendor cannot be the test: VFIO holds the vendor module
 * while the device is open, so rmmod refuses at once; unregistering a
 * parent removes its devices as the remove file does.)
 */

#define REQUEST_TIMEOUT_MS	5000
#define RELEASE_TIMEOUT_MS	10000

FIXTURE(request) {
	struct vfio_dev dev;
	int efd;
};

FIXTURE_SETUP(request)
{
	self->efd = -1;
	open_device(_metadata, &self->dev);
}

FIXTURE_TEARDOWN(request)
{
	vfio_dev_close(&self->dev);
	if (self->efd >= 0)
		close(self->efd);
}

/* Wait up to TIMEOUT_MS for PID to exit; its status, or -1 if it has not. */
static int wait_exit(pid_t pid, int timeout_ms)
{
	int status, waited;

	for (waited = 0; waited <= timeout_ms; waited += 50) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		usleep(50 * 1000);
	}
	return -1;
}

/*
 * In a child: write TEXT to PATH; exit 0 if it worked.  The child first
 * closes its copies of the VFIO fds, or the device would stay open in it
 * and the write would wait for itself.
 */
static pid_t write_in_child(struct vfio_dev *dev, const char *path, const char *text)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	vfio_dev_close(dev);
	_exit(sysfs_write(path, text) ? 1 : 0);
}

/*
 * Arm the request eventfd, write TEXT to PATH in a child, and check that
 * the request arrives, that the write waits while the device is open and
 * that it finishes, successfully, once the device is closed.
 */
static void expect_request(struct __test_metadata *_metadata, FIXTURE_DATA(request) *self,
			   const char *path, const char *text)
{
	uint64_t count = 0;
	int32_t fd;
	pid_t pid;
	int status;

	self->efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, self->efd) TH_LOG("eventfd: %s", strerror(errno));
	fd = self->efd;
	ASSERT_EQ(0, set_irqs(&self->dev, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
			      VFIO_PCI_REQ_IRQ_INDEX, 1, &fd, sizeof(fd)))
		TH_LOG("SET_IRQS arming the request eventfd: %s", strerror(errno));

	pid = write_in_child(&self->dev, path, text);
	ASSERT_LE(0, pid) TH_LOG("fork: %s", strerror(errno));
	EXPECT_EQ(1, poll_in(self->efd, REQUEST_TIMEOUT_MS))
		TH_LOG("no request within %d ms of writing %s", REQUEST_TIMEOUT_MS, path);
	EXPECT_EQ(sizeof(count), read(self->efd, &count, sizeof(count)));
	EXPECT_EQ(-1, wait_exit(pid, 0))
		TH_LOG("the write to %s finished while the device was still open", path);

	close(self->dev.device);
	self->dev.device = -1;
	status = wait_exit(pid, RELEASE_TIMEOUT_MS);
	ASSERT_NE(-1, status)
		TH_LOG("the write to %s still blocked %d ms after the device was closed",
		       path, RELEASE_TIMEOUT_MS);
	EXPECT_EQ(0, status) TH_LOG("the write to %s failed (status 0x%x)", path, status);
}

TEST_F(request, unbind_asks_for_the_device)
{
	char path[PATH_MAX + 16], link[PATH_MAX], type[PATH_MAX];
	const char *uuid = self->dev.uuid;
	ssize_t n;

	/* The device's driver on the mdev bus, and its type (to create it again). */
	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/driver", uuid);
	n = readlink(path, link, sizeof(link) - 1);
	ASSERT_GT(n, 0) TH_LOG("%s: %s", path, strerror(errno));
	link[n] = '\0';
	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/mdev_type", uuid);
	ASSERT_NE(NULL, realpath(path, type)) TH_LOG("%s: %s", path, strerror(errno));

	snprintf(path, sizeof(path), "/sys/bus/mdev/drivers/%s/unbind", strrchr(link, '/') + 1);
	expect_request(_metadata, self, path, uuid);

	/*
	 * Unbound, it stays on the bus without a driver (the mdev bus binds
	 * only at create): remove it and create it again for the next test.
	 */
	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/driver", uuid);
	EXPECT_NE(0, access(path, F_OK)) TH_LOG("the device still has a driver after unbind");
	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/remove", uuid);
	ASSERT_EQ(0, sysfs_write(path, "1")) TH_LOG("removing the unbound device: %s",
						   strerror(errno));
	snprintf(path, sizeof(path), "%s/create", type);
	ASSERT_EQ(0, sysfs_write(path, uuid)) TH_LOG("creating %s again: %s", uuid,
						    strerror(errno));
}

TEST_F(request, remove_asks_for_the_device)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/remove", self->dev.uuid);
	expect_request(_metadata, self, path, "1");
}

TEST_HARNESS_MAIN
