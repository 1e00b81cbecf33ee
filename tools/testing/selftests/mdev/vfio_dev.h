/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfio_dev.h - opening a mediated device through VFIO as a VMM does, and the
 * accesses every VFIO client here shares (vfio_client, mtty_client,
 * mdpy_client, vfio_fuzz).  Include it after kselftest_harness.h:
 * config_get() and config_set() are harness checks.
 *
 * vfio_dev_open() takes the device named by MDEV_UUID, in the IOMMU mode
 * named by MDEV_VFIO_MODE, and the config region's info:
 *
 *   type1v2  (the default) the group, in the container /dev/vfio/vfio with
 *            the type1v2 IOMMU;
 *   type1v1  the same with the original type1 IOMMU (VFIO_TYPE1_IOMMU);
 *   cdev     the device cdev /dev/vfio/devices/vfioN (the vfio-dev/vfioN
 *            directory of the mdev in sysfs names it), bound to a new
 *            iommufd (/dev/iommu) and attached to an IOAS of its own.
 *
 * Where /dev/vfio/vfio is iommufd's compatibility container
 * (CONFIG_IOMMUFD_VFIO_CONTAINER), the type1 modes run unchanged on an IOAS
 * that iommufd makes behind the container.  vfio_dev_dma_map() and
 * vfio_dev_dma_unmap() map and unmap user memory at an IOVA in either the
 * container or the IOAS.
 *
 * It returns -1 and says why in dev->why, so that code outside a test (a
 * --trace mode) can use it as well as a fixture.  The transcript helpers
 * need _GNU_SOURCE (strerrorname_np()), defined before any include.
 */
#ifndef MDEV_SELFTEST_VFIO_DEV_H
#define MDEV_SELFTEST_VFIO_DEV_H

#include <dirent.h>
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
#include <linux/iommufd.h>
#include <linux/vfio.h>

enum vfio_dev_mode { VFIO_DEV_TYPE1V2, VFIO_DEV_TYPE1V1, VFIO_DEV_CDEV };

struct vfio_dev {
	const char *uuid;
	enum vfio_dev_mode mode;
	/* type1 modes: the container and the group; cdev: -1. */
	int container, group;
	/* cdev mode: the iommufd and the IOAS; else -1 and 0. */
	int iommufd;
	uint32_t ioas;
	int device;
	char cdev[64];			/* cdev mode: /dev/vfio/devices/vfioN */
	struct vfio_region_info config;
	char why[PATH_MAX + 64];	/* what failed, for the message */
};

/* Every fd of DEV closed (-1), before anything is opened. */
static inline void vfio_dev_init(struct vfio_dev *dev)
{
	dev->container = dev->group = dev->device = dev->iommufd = -1;
	dev->ioas = 0;
	dev->cdev[0] = '\0';
	dev->why[0] = '\0';
}

/* Record what failed, with errno's text; returns -1. */
static inline int vfio_dev_fail(struct vfio_dev *dev, const char *what)
{
	snprintf(dev->why, sizeof(dev->why), "%s: %s", what,
		 errno ? strerror(errno) : "unexpected answer");
	return -1;
}

/*
 * The IOMMU mode that MDEV_VFIO_MODE names (type1v2 if unset): 0, or -1 if
 * it names none.
 */
static inline int vfio_dev_mode(enum vfio_dev_mode *mode)
{
	const char *name = getenv("MDEV_VFIO_MODE");

	if (!name || !*name || !strcmp(name, "type1v2"))
		*mode = VFIO_DEV_TYPE1V2;
	else if (!strcmp(name, "type1v1"))
		*mode = VFIO_DEV_TYPE1V1;
	else if (!strcmp(name, "cdev"))
		*mode = VFIO_DEV_CDEV;
	else
		return -1;
	return 0;
}

/* The name of DEV's mode, as MDEV_VFIO_MODE spells it. */
static inline const char *vfio_dev_mode_name(const struct vfio_dev *dev)
{
	return dev->mode == VFIO_DEV_CDEV ? "cdev" :
	       dev->mode == VFIO_DEV_TYPE1V1 ? "type1v1" : "type1v2";
}

/*
 * Whether DEV's DMA goes through iommufd: in cdev mode, or in a type1 mode
 * where /dev/vfio/vfio is iommufd's compatibility container (there is no
 * vfio_iommu_type1, which has parameters and so a /sys/module directory
 * whenever it is there, module or built in).
 */
static inline int vfio_dev_iommufd(const struct vfio_dev *dev)
{
	return dev->mode == VFIO_DEV_CDEV || access("/sys/module/vfio_iommu_type1", F_OK) != 0;
}

/*
 * cdev mode: open DEV's cdev, bind it to DEV's iommufd and attach it to
 * DEV's IOAS.  The device fd is then usable as a group's would be.
 */
static inline int vfio_dev_bind_cdev(struct vfio_dev *dev)
{
	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind), .iommufd = dev->iommufd,
	};
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach), .pt_id = dev->ioas,
	};

	dev->device = open(dev->cdev, O_RDWR);
	if (dev->device < 0)
		return vfio_dev_fail(dev, dev->cdev);
	if (ioctl(dev->device, VFIO_DEVICE_BIND_IOMMUFD, &bind))
		return vfio_dev_fail(dev, "VFIO_DEVICE_BIND_IOMMUFD");
	if (ioctl(dev->device, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach))
		return vfio_dev_fail(dev, "VFIO_DEVICE_ATTACH_IOMMUFD_PT");
	return 0;
}

/*
 * Get (again) the device fd of an opened device: from its group, or in
 * cdev mode by opening its cdev again, bound and attached as before.
 */
static inline int vfio_dev_get_device(struct vfio_dev *dev)
{
	if (dev->mode == VFIO_DEV_CDEV)
		return vfio_dev_bind_cdev(dev);
	dev->device = ioctl(dev->group, VFIO_GROUP_GET_DEVICE_FD, dev->uuid);
	if (dev->device < 0)
		return vfio_dev_fail(dev, "VFIO_GROUP_GET_DEVICE_FD");
	return 0;
}

/* cdev mode: find the cdev of DEV->uuid (the vfio-dev/vfioN of the mdev). */
static inline int vfio_dev_find_cdev(struct vfio_dev *dev)
{
	char path[PATH_MAX];
	struct dirent *de;
	unsigned int n;
	DIR *dir;

	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/vfio-dev", dev->uuid);
	dir = opendir(path);
	if (!dir)
		return vfio_dev_fail(dev, path);
	while ((de = readdir(dir))) {
		if (sscanf(de->d_name, "vfio%u", &n) == 1) {
			snprintf(dev->cdev, sizeof(dev->cdev), "/dev/vfio/devices/vfio%u", n);
			closedir(dir);
			return 0;
		}
	}
	closedir(dir);
	errno = 0;
	return vfio_dev_fail(dev, "the mdev has no vfio-dev/vfioN (no VFIO device cdev)");
}

/* Open the group of DEV->uuid into the container CONTAINER. */
static inline int vfio_dev_open_group(struct vfio_dev *dev, int container)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/iommu_group", dev->uuid);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return vfio_dev_fail(dev, path);
	link[n] = '\0';
	snprintf(path, sizeof(path), "/dev/vfio/%s", strrchr(link, '/') + 1);
	dev->group = open(path, O_RDWR);
	if (dev->group < 0)
		return vfio_dev_fail(dev, path);
	if (ioctl(dev->group, VFIO_GROUP_GET_STATUS, &status))
		return vfio_dev_fail(dev, "VFIO_GROUP_GET_STATUS");
	errno = 0;
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE))
		return vfio_dev_fail(dev, "the group is not viable");
	if (ioctl(dev->group, VFIO_GROUP_SET_CONTAINER, &container))
		return vfio_dev_fail(dev, "VFIO_GROUP_SET_CONTAINER");
	return 0;
}

/* The config region's info of an opened device. */
static inline int vfio_dev_config_info(struct vfio_dev *dev)
{
	dev->config.argsz = sizeof(dev->config);
	dev->config.index = VFIO_PCI_CONFIG_REGION_INDEX;
	if (ioctl(dev->device, VFIO_DEVICE_GET_REGION_INFO, &dev->config))
		return vfio_dev_fail(dev, "VFIO_DEVICE_GET_REGION_INFO (config)");
	return 0;
}

/*
 * Open the mediated device MDEV_UUID in the mode MDEV_VFIO_MODE names, and
 * the info of its config region.  Returns -1 and says why in dev->why, so
 * that --trace can use it too.
 */
static inline int vfio_dev_open(struct vfio_dev *dev)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	unsigned long type;

	vfio_dev_init(dev);
	errno = 0;
	if (vfio_dev_mode(&dev->mode))
		return vfio_dev_fail(dev, "MDEV_VFIO_MODE is none of type1v2, type1v1, cdev");
	dev->uuid = getenv("MDEV_UUID");
	if (!dev->uuid)
		return vfio_dev_fail(dev, "MDEV_UUID is not set");

	if (dev->mode == VFIO_DEV_CDEV) {
		if (vfio_dev_find_cdev(dev))
			return -1;
		dev->iommufd = open("/dev/iommu", O_RDWR);
		if (dev->iommufd < 0)
			return vfio_dev_fail(dev, "/dev/iommu");
		if (ioctl(dev->iommufd, IOMMU_IOAS_ALLOC, &alloc))
			return vfio_dev_fail(dev, "IOMMU_IOAS_ALLOC");
		dev->ioas = alloc.out_ioas_id;
		if (vfio_dev_bind_cdev(dev))
			return -1;
		return vfio_dev_config_info(dev);
	}

	type = dev->mode == VFIO_DEV_TYPE1V1 ? VFIO_TYPE1_IOMMU : VFIO_TYPE1v2_IOMMU;
	dev->container = open("/dev/vfio/vfio", O_RDWR);
	if (dev->container < 0)
		return vfio_dev_fail(dev, "/dev/vfio/vfio");
	errno = 0;
	if (ioctl(dev->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION)
		return vfio_dev_fail(dev, "VFIO_GET_API_VERSION");
	if (ioctl(dev->container, VFIO_CHECK_EXTENSION, type) != 1)
		return vfio_dev_fail(dev, dev->mode == VFIO_DEV_TYPE1V1 ?
				     "VFIO_CHECK_EXTENSION (type1)" :
				     "VFIO_CHECK_EXTENSION (type1v2)");
	if (vfio_dev_open_group(dev, dev->container))
		return -1;
	if (ioctl(dev->container, VFIO_SET_IOMMU, type))
		return vfio_dev_fail(dev, "VFIO_SET_IOMMU");
	if (vfio_dev_get_device(dev))
		return -1;
	return vfio_dev_config_info(dev);
}

/*
 * Open the mediated device UUID as a second device of FIRST's container
 * (its group set to that container) or, in cdev mode, bound to FIRST's
 * iommufd and attached to FIRST's IOAS: maps of either reach both.
 */
static inline int vfio_dev_open_beside(struct vfio_dev *dev, const char *uuid,
				       const struct vfio_dev *first)
{
	vfio_dev_init(dev);
	errno = 0;
	dev->uuid = uuid;
	dev->mode = first->mode;
	if (dev->mode == VFIO_DEV_CDEV) {
		if (vfio_dev_find_cdev(dev))
			return -1;
		dev->iommufd = dup(first->iommufd);
		if (dev->iommufd < 0)
			return vfio_dev_fail(dev, "dup of the iommufd");
		dev->ioas = first->ioas;
		if (vfio_dev_bind_cdev(dev))
			return -1;
	} else {
		if (vfio_dev_open_group(dev, first->container))
			return -1;
		if (vfio_dev_get_device(dev))
			return -1;
	}
	return vfio_dev_config_info(dev);
}

/*
 * Map the SIZE bytes of user memory at VADDR at IOVA, for reading and
 * writing, in DEV's container (VFIO_IOMMU_MAP_DMA) or IOAS
 * (IOMMU_IOAS_MAP with a fixed IOVA): 0, or -1 and errno.
 */
static inline int vfio_dev_dma_map(struct vfio_dev *dev, void *vaddr, uint64_t iova,
				   uint64_t size)
{
	if (dev->mode == VFIO_DEV_CDEV) {
		struct iommu_ioas_map map = {
			.size = sizeof(map),
			.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
				 IOMMU_IOAS_MAP_WRITEABLE,
			.ioas_id = dev->ioas,
			.user_va = (uintptr_t)vaddr,
			.length = size,
			.iova = iova,
		};

		return ioctl(dev->iommufd, IOMMU_IOAS_MAP, &map);
	} else {
		struct vfio_iommu_type1_dma_map map = {
			.argsz = sizeof(map),
			.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
			.vaddr = (uintptr_t)vaddr,
			.iova = iova,
			.size = size,
		};

		return ioctl(dev->container, VFIO_IOMMU_MAP_DMA, &map);
	}
}

/*
 * Unmap the SIZE bytes at IOVA from DEV's container (VFIO_IOMMU_UNMAP_DMA)
 * or IOAS (IOMMU_IOAS_UNMAP): the bytes unmapped, or -1 and errno.
 */
static inline int64_t vfio_dev_dma_unmap(struct vfio_dev *dev, uint64_t iova, uint64_t size)
{
	if (dev->mode == VFIO_DEV_CDEV) {
		struct iommu_ioas_unmap unmap = {
			.size = sizeof(unmap), .ioas_id = dev->ioas, .iova = iova, .length = size,
		};

		if (ioctl(dev->iommufd, IOMMU_IOAS_UNMAP, &unmap))
			return -1;
		return unmap.length;
	} else {
		struct vfio_iommu_type1_dma_unmap unmap = {
			.argsz = sizeof(unmap), .iova = iova, .size = size,
		};

		if (ioctl(dev->container, VFIO_IOMMU_UNMAP_DMA, &unmap))
			return -1;
		return unmap.size;
	}
}

static inline void vfio_dev_close(struct vfio_dev *dev)
{
	if (dev->device >= 0)
		close(dev->device);
	if (dev->group >= 0)
		close(dev->group);
	if (dev->container >= 0)
		close(dev->container);
	if (dev->iommufd >= 0)
		close(dev->iommufd);
	dev->container = dev->group = dev->device = dev->iommufd = -1;
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
