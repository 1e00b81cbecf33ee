// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_client - drive a mediated device through VFIO as a VMM does.
 *
 * Opens the VFIO container and the device's IOMMU group, sets the type1
 * IOMMU, gets the device fd, and checks the device, region and irq info and
 * the PCI configuration space.  The device comes from the environment:
 *
 *   MDEV_UUID        the mediated device to open
 *   MDEV_PCI_ID      expected dword 0 of config space (device << 16 | vendor)
 *   MDEV_BAR0_SIZE   expected size of BAR0's region
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "kselftest_harness.h"

static unsigned long env_ulong(const char *name)
{
	const char *value = getenv(name);

	return value ? strtoul(value, NULL, 0) : 0;
}

FIXTURE(vfio_mdev) {
	int container, group, device;
	struct vfio_region_info config;
};

FIXTURE_SETUP(vfio_mdev)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	const char *uuid = getenv("MDEV_UUID");
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	ASSERT_NE(NULL, uuid) TH_LOG("MDEV_UUID is not set");
	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/iommu_group", uuid);
	n = readlink(path, link, sizeof(link) - 1);
	ASSERT_GT(n, 0) TH_LOG("%s: %s", path, strerror(errno));
	link[n] = '\0';

	self->container = open("/dev/vfio/vfio", O_RDWR);
	ASSERT_LE(0, self->container) TH_LOG("/dev/vfio/vfio: %s", strerror(errno));
	ASSERT_EQ(VFIO_API_VERSION, ioctl(self->container, VFIO_GET_API_VERSION));
	ASSERT_EQ(1, ioctl(self->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU));

	snprintf(path, sizeof(path), "/dev/vfio/%s", strrchr(link, '/') + 1);
	self->group = open(path, O_RDWR);
	ASSERT_LE(0, self->group) TH_LOG("%s: %s", path, strerror(errno));
	ASSERT_EQ(0, ioctl(self->group, VFIO_GROUP_GET_STATUS, &status));
	ASSERT_TRUE(status.flags & VFIO_GROUP_FLAGS_VIABLE);
	ASSERT_EQ(0, ioctl(self->group, VFIO_GROUP_SET_CONTAINER, &self->container));
	ASSERT_EQ(0, ioctl(self->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		TH_LOG("VFIO_SET_IOMMU: %s", strerror(errno));

	self->device = ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, uuid);
	ASSERT_LE(0, self->device) TH_LOG("VFIO_GROUP_GET_DEVICE_FD: %s", strerror(errno));

	self->config.argsz = sizeof(self->config);
	self->config.index = VFIO_PCI_CONFIG_REGION_INDEX;
	ASSERT_EQ(0, ioctl(self->device, VFIO_DEVICE_GET_REGION_INFO, &self->config));
}

FIXTURE_TEARDOWN(vfio_mdev)
{
	if (self->device >= 0)
		close(self->device);
	if (self->group >= 0)
		close(self->group);
	if (self->container >= 0)
		close(self->container);
}

static ssize_t config_read(FIXTURE_DATA(vfio_mdev) *self, void *buf, size_t len, off_t off)
{
	return pread(self->device, buf, len, self->config.offset + off);
}

TEST_F(vfio_mdev, device_info)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	ASSERT_EQ(0, ioctl(self->device, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_TRUE(info.flags & VFIO_DEVICE_FLAGS_PCI);
	EXPECT_EQ(VFIO_PCI_NUM_REGIONS, info.num_regions);
	EXPECT_LE(VFIO_PCI_INTX_IRQ_INDEX + 1, info.num_irqs);
}

TEST_F(vfio_mdev, config_region_info)
{
	EXPECT_TRUE(self->config.flags & VFIO_REGION_INFO_FLAG_READ);
	EXPECT_TRUE(self->config.flags & VFIO_REGION_INFO_FLAG_WRITE);
	EXPECT_LE(PCI_STD_HEADER_SIZEOF, self->config.size);
}

TEST_F(vfio_mdev, config_ids)
{
	uint32_t id = 0;

	ASSERT_EQ(4, config_read(self, &id, 4, PCI_VENDOR_ID));
	EXPECT_EQ(env_ulong("MDEV_PCI_ID"), id);
}

TEST_F(vfio_mdev, config_write_read_back)
{
	uint8_t line = 0x5a, seen = 0;

	ASSERT_EQ(1, pwrite(self->device, &line, 1, self->config.offset + PCI_INTERRUPT_LINE));
	ASSERT_EQ(1, config_read(self, &seen, 1, PCI_INTERRUPT_LINE));
	EXPECT_EQ(line, seen);
}

TEST_F(vfio_mdev, bar0_region_info)
{
	struct vfio_region_info bar = {
		.argsz = sizeof(bar),
		.index = VFIO_PCI_BAR0_REGION_INDEX,
	};

	ASSERT_EQ(0, ioctl(self->device, VFIO_DEVICE_GET_REGION_INFO, &bar));
	EXPECT_EQ(env_ulong("MDEV_BAR0_SIZE"), bar.size);
}

TEST_F(vfio_mdev, intx_irq_info)
{
	struct vfio_irq_info irq = {
		.argsz = sizeof(irq),
		.index = VFIO_PCI_INTX_IRQ_INDEX,
	};

	ASSERT_EQ(0, ioctl(self->device, VFIO_DEVICE_GET_IRQ_INFO, &irq));
	EXPECT_EQ(1, irq.count);
	EXPECT_TRUE(irq.flags & VFIO_IRQ_INFO_EVENTFD);
}

TEST_F(vfio_mdev, reset)
{
	EXPECT_EQ(0, ioctl(self->device, VFIO_DEVICE_RESET));
}

TEST_HARNESS_MAIN
