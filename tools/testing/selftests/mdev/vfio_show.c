// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_show - open a mediated device through VFIO and show what a VMM sees.
 *
 *   usage: vfio_show UUID
 *          vfio_show --hold UUID   (tests: open the device and wait to be killed)
 *
 * This is the VMM stand-in of `make demo`: it takes the same steps as QEMU
 * would (container, IOMMU group, type1v2 IOMMU, device fd) and prints, for
 * humans, the device and its regions and irqs, the start of its PCI config
 * space and a tour of the BAR0 registers of the Rust sample vendor driver
 * mdev_rs_sample: MAGIC, SCRATCH, COUNTER, DOORBELL with its INTx eventfd,
 * IRQ_COUNT, and VFIO_DEVICE_RESET.  It checks nothing: vfio_client does.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

/* The BAR0 registers of mdev_rs_sample, 32 bits each. */
#define REG_MAGIC	0x00
#define REG_SCRATCH	0x04
#define REG_COUNTER	0x08
#define REG_DOORBELL	0x0c
#define REG_IRQ_COUNT	0x10
#define SAMPLE_MAGIC	0x4d445253

static const char *const region_names[VFIO_PCI_NUM_REGIONS] = {
	"BAR0", "BAR1", "BAR2", "BAR3", "BAR4", "BAR5", "ROM", "CONFIG", "VGA",
};
static const char *const irq_names[VFIO_PCI_NUM_IRQS] = {
	"INTx", "MSI", "MSI-X", "ERR", "REQ",
};

static int device = -1;
static struct vfio_region_info config, bar0;

/* Report a failed syscall and give up (after what stdout holds so far). */
static void die(const char *what)
{
	int err = errno;

	fflush(stdout);
	errno = err;
	fprintf(stderr, "vfio_show: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint32_t bar0_get(off_t off)
{
	uint32_t value;

	if (pread(device, &value, 4, bar0.offset + off) != 4)
		die("BAR0 read");
	return le32toh(value);
}

static void bar0_set(off_t off, uint32_t value)
{
	value = htole32(value);
	if (pwrite(device, &value, 4, bar0.offset + off) != 4)
		die("BAR0 write");
}

/* Open the container, the group of mediated device UUID and its device fd. */
static void open_device(const char *uuid)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[PATH_MAX], link[PATH_MAX];
	int container, group, version;
	ssize_t n;

	container = open("/dev/vfio/vfio", O_RDWR);
	if (container < 0)
		die("/dev/vfio/vfio");
	version = ioctl(container, VFIO_GET_API_VERSION);
	if (version < 0)
		die("VFIO_GET_API_VERSION");
	if (version != VFIO_API_VERSION) {
		fprintf(stderr, "vfio_show: VFIO API version %d, expected %d\n",
			version, VFIO_API_VERSION);
		exit(1);
	}
	if (ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) != 1) {
		fprintf(stderr, "vfio_show: the type1v2 IOMMU is not supported\n");
		exit(1);
	}
	printf("VFIO API version %d, type1v2 IOMMU supported\n", version);

	/* The iommu_group link of the mdev names the group: .../groups/N. */
	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/iommu_group", uuid);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		die(path);
	link[n] = '\0';
	snprintf(path, sizeof(path), "/dev/vfio/%s", strrchr(link, '/') + 1);
	printf("device %s: IOMMU group %s\n", uuid, strrchr(link, '/') + 1);

	group = open(path, O_RDWR);
	if (group < 0)
		die(path);
	if (ioctl(group, VFIO_GROUP_GET_STATUS, &status))
		die("VFIO_GROUP_GET_STATUS");
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		fprintf(stderr, "vfio_show: group %s is not viable\n", path);
		exit(1);
	}
	if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container))
		die("VFIO_GROUP_SET_CONTAINER");
	if (ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		die("VFIO_SET_IOMMU");
	device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, uuid);
	if (device < 0)
		die("VFIO_GROUP_GET_DEVICE_FD");
}

/* Print the device, its regions and irqs; keep the config and BAR0 info. */
static void show_info(void)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	unsigned int i;

	if (ioctl(device, VFIO_DEVICE_GET_INFO, &info))
		die("VFIO_DEVICE_GET_INFO");
	printf("device info: flags 0x%x (%s%s), %u regions, %u irqs\n", info.flags,
	       info.flags & VFIO_DEVICE_FLAGS_PCI ? "PCI" : "",
	       info.flags & VFIO_DEVICE_FLAGS_RESET ? " RESET" : "",
	       info.num_regions, info.num_irqs);

	for (i = 0; i < info.num_regions; i++) {
		struct vfio_region_info reg = { .argsz = sizeof(reg), .index = i };

		if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &reg))
			die("VFIO_DEVICE_GET_REGION_INFO");
		if (i == VFIO_PCI_CONFIG_REGION_INDEX)
			config = reg;
		if (i == VFIO_PCI_BAR0_REGION_INDEX)
			bar0 = reg;
		if (!reg.size)
			continue;
		printf("  region %u %-6s size 0x%llx, offset 0x%llx, flags%s%s\n", i,
		       i < VFIO_PCI_NUM_REGIONS ? region_names[i] : "?",
		       (unsigned long long)reg.size, (unsigned long long)reg.offset,
		       reg.flags & VFIO_REGION_INFO_FLAG_READ ? " R" : "",
		       reg.flags & VFIO_REGION_INFO_FLAG_WRITE ? " W" : "");
	}

	for (i = 0; i < info.num_irqs; i++) {
		struct vfio_irq_info irq = { .argsz = sizeof(irq), .index = i };

		if (ioctl(device, VFIO_DEVICE_GET_IRQ_INFO, &irq))
			die("VFIO_DEVICE_GET_IRQ_INFO");
		if (!irq.count)
			continue;
		printf("  irq %u %-6s count %u, flags%s%s%s\n", i,
		       i < VFIO_PCI_NUM_IRQS ? irq_names[i] : "?", irq.count,
		       irq.flags & VFIO_IRQ_INFO_EVENTFD ? " EVENTFD" : "",
		       irq.flags & VFIO_IRQ_INFO_MASKABLE ? " MASKABLE" : "",
		       irq.flags & VFIO_IRQ_INFO_AUTOMASKED ? " AUTOMASKED" : "");
	}
}

/* Dump the first 64 bytes of config space and decode the main fields. */
static void show_config(void)
{
	uint8_t cfg[64];
	int i;

	if (pread(device, cfg, sizeof(cfg), config.offset) != sizeof(cfg))
		die("config space read");
	printf("config space:\n");
	for (i = 0; i < (int)sizeof(cfg); i++)
		printf("%s%02x%s", i % 16 ? " " : "  ", cfg[i], i % 16 == 15 ? "\n" : "");
	printf("  vendor:device %02x%02x:%02x%02x, class %02x%02x%02x, "
	       "BAR0 0x%02x%02x%02x%02x, interrupt pin %c\n",
	       cfg[PCI_VENDOR_ID + 1], cfg[PCI_VENDOR_ID],
	       cfg[PCI_DEVICE_ID + 1], cfg[PCI_DEVICE_ID],
	       cfg[PCI_CLASS_DEVICE + 1], cfg[PCI_CLASS_DEVICE], cfg[PCI_CLASS_PROG],
	       cfg[PCI_BASE_ADDRESS_0 + 3], cfg[PCI_BASE_ADDRESS_0 + 2],
	       cfg[PCI_BASE_ADDRESS_0 + 1], cfg[PCI_BASE_ADDRESS_0],
	       cfg[PCI_INTERRUPT_PIN] ? 'A' + cfg[PCI_INTERRUPT_PIN] - 1 : '-');
}

/* Arm EFD as the INTx trigger, start 0, count 1. */
static void arm_intx(int32_t efd)
{
	uint32_t buf[(sizeof(struct vfio_irq_set) + sizeof(efd)) / 4];
	struct vfio_irq_set *set = (struct vfio_irq_set *)buf;

	set->argsz = sizeof(buf);
	set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	set->index = VFIO_PCI_INTX_IRQ_INDEX;
	set->start = 0;
	set->count = 1;
	memcpy(set->data, &efd, sizeof(efd));
	if (ioctl(device, VFIO_DEVICE_SET_IRQS, set))
		die("VFIO_DEVICE_SET_IRQS");
}

/* Go through the registers of the sample device behind BAR0. */
static void show_bar0(void)
{
	struct pollfd pfd = { .events = POLLIN };
	uint64_t count = 0;
	uint32_t magic, first;
	int ready;

	printf("BAR0 registers:\n");
	magic = bar0_get(REG_MAGIC);
	printf("  MAGIC     0x%08x (expected 0x%08x: %s)\n", magic, SAMPLE_MAGIC,
	       magic == SAMPLE_MAGIC ? "ok" : "WRONG");
	printf("  SCRATCH   0x%08x\n", bar0_get(REG_SCRATCH));
	bar0_set(REG_SCRATCH, 0xcafe);
	printf("  SCRATCH   0x%08x after writing 0xcafe\n", bar0_get(REG_SCRATCH));
	first = bar0_get(REG_COUNTER);
	printf("  COUNTER   %u, then %u (each read adds one)\n", first, bar0_get(REG_COUNTER));

	/* A doorbell write raises INTx, which VFIO signals on the eventfd. */
	pfd.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (pfd.fd < 0)
		die("eventfd");
	arm_intx(pfd.fd);
	bar0_set(REG_DOORBELL, 1);
	ready = poll(&pfd, 1, 1000);
	if (ready < 0)
		die("poll");
	if (ready && read(pfd.fd, &count, sizeof(count)) != sizeof(count))
		die("eventfd read");
	printf("  DOORBELL  written: %s, eventfd counter %llu\n",
	       ready ? "INTx arrived" : "no INTx within 1000 ms", (unsigned long long)count);
	printf("  IRQ_COUNT %u (doorbell writes since reset)\n", bar0_get(REG_IRQ_COUNT));

	if (ioctl(device, VFIO_DEVICE_RESET))
		die("VFIO_DEVICE_RESET");
	printf("VFIO_DEVICE_RESET:\n  SCRATCH   0x%08x after reset\n", bar0_get(REG_SCRATCH));
	close(pfd.fd);
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--hold")) {
		/*
		 * For the tests: keep the device open, as a running VM does,
		 * until killed.  "held" on stdout says it is open.
		 */
		open_device(argv[2]);
		printf("held\n");
		fflush(stdout);
		for (;;)
			pause();
	}
	if (argc != 2) {
		fprintf(stderr, "usage: vfio_show UUID\n       vfio_show --hold UUID\n");
		return 1;
	}
	open_device(argv[1]);
	show_info();
	show_config();
	show_bar0();
	return 0;
}
