/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfio_dev.h - opening a mediated device through VFIO as a VMM does, and the
 * accesses every VFIO client here shares (vfio_client, mtty_client,
 * mdpy_client).  Include it after kselftest_harness.h: config_get() and
 * config_set() are harness checks.
 *
 * vfio_dev_open() takes the device named by MDEV_UUID: container, type1v2
 * IOMMU, group, device fd and the config region's info.  It returns -1 and
 * says why in dev->why, so that code outside a test (a --trace mode) can
 * use it as well as a fixture.  The transcript helpers need _GNU_SOURCE
 * (strerrorname_np()), defined before any include.
 */
#ifndef MDEV_SELFTEST_VFIO_DEV_H
#define MDEV_SELFTEST_VFIO_DEV_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/vfio.h>

struct vfio_dev {
	const char *uuid;
	int container, group, device;
	struct vfio_region_info config;
	char why[PATH_MAX + 64];	/* what failed, for the message */
};

/* Record what failed, with errno's text; returns -1. */
static inline int vfio_dev_fail(struct vfio_dev *dev, const char *what)
{
	snprintf(dev->why, sizeof(dev->why), "%s: %s", what,
		 errno ? strerror(errno) : "unexpected answer");
	return -1;
}

/* Get (again) the device fd of an opened group. */
static inline int vfio_dev_get_device(struct vfio_dev *dev)
{
	dev->device = ioctl(dev->group, VFIO_GROUP_GET_DEVICE_FD, dev->uuid);
	if (dev->device < 0)
		return vfio_dev_fail(dev, "VFIO_GROUP_GET_DEVICE_FD");
	return 0;
}

/*
 * Open the mediated device MDEV_UUID and the info of its config region.
 * Returns -1 and says why in dev->why, so that --trace can use it too.
 */
static inline int vfio_dev_open(struct vfio_dev *dev)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	dev->container = dev->group = dev->device = -1;
	dev->why[0] = '\0';
	errno = 0;
	dev->uuid = getenv("MDEV_UUID");
	if (!dev->uuid)
		return vfio_dev_fail(dev, "MDEV_UUID is not set");
	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/iommu_group", dev->uuid);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return vfio_dev_fail(dev, path);
	link[n] = '\0';

	dev->container = open("/dev/vfio/vfio", O_RDWR);
	if (dev->container < 0)
		return vfio_dev_fail(dev, "/dev/vfio/vfio");
	errno = 0;
	if (ioctl(dev->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION)
		return vfio_dev_fail(dev, "VFIO_GET_API_VERSION");
	if (ioctl(dev->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) != 1)
		return vfio_dev_fail(dev, "VFIO_CHECK_EXTENSION (type1v2)");

	snprintf(path, sizeof(path), "/dev/vfio/%s", strrchr(link, '/') + 1);
	dev->group = open(path, O_RDWR);
	if (dev->group < 0)
		return vfio_dev_fail(dev, path);
	if (ioctl(dev->group, VFIO_GROUP_GET_STATUS, &status))
		return vfio_dev_fail(dev, "VFIO_GROUP_GET_STATUS");
	errno = 0;
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE))
		return vfio_dev_fail(dev, "the group is not viable");
	if (ioctl(dev->group, VFIO_GROUP_SET_CONTAINER, &dev->container))
		return vfio_dev_fail(dev, "VFIO_GROUP_SET_CONTAINER");
	if (ioctl(dev->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return vfio_dev_fail(dev, "VFIO_SET_IOMMU");
	if (vfio_dev_get_device(dev))
		return -1;

	dev->config.argsz = sizeof(dev->config);
	dev->config.index = VFIO_PCI_CONFIG_REGION_INDEX;
	if (ioctl(dev->device, VFIO_DEVICE_GET_REGION_INFO, &dev->config))
		return vfio_dev_fail(dev, "VFIO_DEVICE_GET_REGION_INFO (config)");
	return 0;
}

static inline void vfio_dev_close(struct vfio_dev *dev)
{
	if (dev->device >= 0)
		close(dev->device);
	if (dev->group >= 0)
		close(dev->group);
	if (dev->container >= 0)
		close(dev->container);
	dev->container = dev->group = dev->device = -1;
}

static inline ssize_t config_read(struct vfio_dev *dev, void *buf, size_t len, off_t off)
{
	return pread(dev->device, buf, len, dev->config.offset + off);
}

static inline ssize_t config_write(struct vfio_dev *dev, const void *buf, size_t len, off_t off)
{
	return pwrite(dev->device, buf, len, dev->config.offset + off);
}

/* VFIO_DEVICE_SET_IRQS with start 0 and SIZE bytes of DATA. */
static inline int set_irqs(struct vfio_dev *dev, uint32_t flags, uint32_t index, uint32_t count,
			   const void *data, size_t size)
{
	struct vfio_irq_set *set = calloc(1, sizeof(*set) + size);
	int ret, saved;

	if (!set)
		return -1;
	set->argsz = sizeof(*set) + size;
	set->flags = flags;
	set->index = index;
	set->start = 0;
	set->count = count;
	if (size)
		memcpy(set->data, data, size);
	ret = ioctl(dev->device, VFIO_DEVICE_SET_IRQS, set);
	saved = errno;
	free(set);
	errno = saved;
	return ret;
}

/* poll() FD for input: 1 if readable, 0 on timeout. */
static inline int poll_in(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, timeout_ms);
}

/* Read a little-endian config field of LEN (1, 2 or 4) bytes. */
static inline uint32_t config_get(struct __test_metadata *_metadata, struct vfio_dev *dev,
				  off_t off, size_t len)
{
	uint8_t buf[4] = { 0 };
	uint32_t value = 0;
	size_t i;

	ASSERT_EQ((ssize_t)len, config_read(dev, buf, len, off))
		TH_LOG("config read of %zu bytes at 0x%lx: %s", len, (long)off, strerror(errno));
	for (i = len; i > 0; i--)
		value = value << 8 | buf[i - 1];
	return value;
}

/* Write a little-endian config field of LEN (1, 2 or 4) bytes. */
static inline void config_set(struct __test_metadata *_metadata, struct vfio_dev *dev,
			      off_t off, size_t len, uint32_t value)
{
	uint8_t buf[4];
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = value >> (8 * i);
	ASSERT_EQ((ssize_t)len, config_write(dev, buf, len, off))
		TH_LOG("config write of %zu bytes at 0x%lx: %s", len, (long)off, strerror(errno));
}

/* --- Transcripts (--trace): one observation a line, errno by name --- */

static inline __printf(1, 2) void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static inline const char *errname(int err)
{
	static char buf[32];
	const char *name = err ? strerrorname_np(err) : NULL;

	if (name)
		return name;
	snprintf(buf, sizeof(buf), "errno %d", err);
	return buf;
}

/* "OK", or the errno name of a call that returned RET < 0. */
static inline const char *res(long ret)
{
	return ret >= 0 ? "OK" : errname(errno);
}

static inline void section(const char *name)
{
	say("== %s", name);
}

/* Read a config field of LEN (1, 2 or 4) bytes: its value, or the errno. */
static inline void t_cfg_get(struct vfio_dev *dev, int off, int len, const char *name)
{
	uint8_t buf[4] = { 0 };
	uint32_t value = 0;
	int i;

	if (config_read(dev, buf, len, off) != len) {
		say("cfg[0x%02x] %s (%d bytes): %s", off, name, len, errname(errno));
		return;
	}
	for (i = len; i > 0; i--)
		value = value << 8 | buf[i - 1];
	say("cfg[0x%02x] %s = 0x%0*x", off, name, 2 * len, value);
}

/* Write a config field of LEN (1, 2 or 4) bytes; the errno if it fails. */
static inline void t_cfg_set(struct vfio_dev *dev, int off, int len, const char *name,
			     uint32_t value)
{
	uint8_t buf[4];
	int i;

	for (i = 0; i < len; i++)
		buf[i] = value >> (8 * i);
	if (config_write(dev, buf, len, off) == len)
		say("cfg[0x%02x] %s <- 0x%0*x", off, name, 2 * len, value);
	else
		say("cfg[0x%02x] %s <- 0x%0*x: %s", off, name, 2 * len, value, errname(errno));
}

/* A write to a config field, then what reads back. */
static inline void t_cfg_write_read(struct vfio_dev *dev, int off, int len, const char *name,
				    uint32_t value)
{
	t_cfg_set(dev, off, len, name, value);
	t_cfg_get(dev, off, len, name);
}

/*
 * The first SIZE (at most 256) bytes of config space, 16 a line, read as a
 * VMM does: by dwords, then the shorter pieces that end it.
 */
static inline void t_cfg_dump(struct vfio_dev *dev, int size)
{
	uint8_t cfg[256] = { 0 };
	char line[16 * 3 + 1];
	int off, len, row, i;

	for (off = 0; off < size; off += len) {
		len = size - off >= 4 ? 4 : size - off >= 2 ? 2 : 1;
		if (config_read(dev, cfg + off, len, off) != len) {
			say("cfg[0x%02x] (%d bytes): %s", off, len, errname(errno));
			return;
		}
	}
	for (row = 0; row < size; row += 16) {
		int end = row + 16 < size ? row + 16 : size;

		for (i = row; i < end; i++)
			sprintf(line + 3 * (i - row), " %02x", cfg[i]);
		say("cfg[0x%02x..0x%02x] =%s", row, end - 1, line);
	}
}

#endif /* MDEV_SELFTEST_VFIO_DEV_H */
