// SPDX-License-Identifier: GPL-2.0
/*
 * mtty_client - drive the mtty sample vendor driver (a PCI serial card of
 * one or two 16550-style UARTs) through VFIO as a VMM does, and check what
 * it answers: its device, region and irq info, its PCI configuration space,
 * the UART registers of every port, its INTx and MSI eventfds, reset, and
 * accesses outside its regions.  The expectations are what the in-tree C
 * mtty was observed to do, so that a port of it (mtty_rs) can be run
 * through the very same client.
 *
 * The device comes from the environment:
 *
 *   MDEV_UUID                the mediated device to open
 *   MDEV_MTTY_PORTS          1 or 2: type -1 has one port (BAR0), type -2
 *                            two (BAR0 and BAR1)
 *   MDEV_MTTY_STRICT_BOUNDS  1: every access outside a region must fail
 *                            (see past_region_end: the C mtty does not
 *                            check, so by default such writes need only
 *                            have no effect, and such reads are not made)
 *
 * Without --trace, the kselftest harness runs the fixture "mtty".  With
 * --trace, a fixed sequence of the same operations prints one line per
 * observation, so that two drivers' transcripts can be compared with diff;
 * it must run on a device nobody has opened yet (see trace_info).
 *
 * The UART registers are only ever accessed one byte at a time: mtty answers
 * a wider BAR read with one meaningful byte and three it never wrote, and
 * takes only the first byte of a wider write.  Nor is the receive buffer
 * read while it is empty: mtty then returns a byte it never wrote.
 */
#define _GNU_SOURCE		/* strerrorname_np() */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/serial_reg.h>
#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "vfio_dev.h"

/* What mtty emulates. */
#define MTTY_PCI_ID		0x32534348	/* device 3253, vendor 4348 */
#define MTTY_CONFIG_SIZE	0xff		/* not 0x100: see past_region_end */
#define MTTY_BAR_SIZE		8		/* one 16550's eight I/O ports */
#define MTTY_BAR_SIZING		0xfffffff9	/* an 8-byte I/O BAR, sized */
#define MTTY_FIFO_SIZE		16

/* The 16550's FIFO control that the tests use: on, both FIFOs cleared. */
#define FCR_ON_CLEAR	(UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT)
/*
 * The modem status mtty shows: DCD and DSR (with its delta) always, CTS
 * (with its delta) unless auto flow control is on and the FIFO is full.
 */
#define MSR_ALWAYS	(UART_MSR_DCD | UART_MSR_DSR | UART_MSR_DDSR)
#define MSR_CTS		(UART_MSR_CTS | UART_MSR_DCTS)
#define LSR_EMPTY	(UART_LSR_TEMT | UART_LSR_THRE)

/* The time an interrupt has to arrive, and the time one must not. */
#define IRQ_TIMEOUT_MS		1000
#define NO_IRQ_TIMEOUT_MS	200

/* --- The mtty device --- */

struct mtty {
	struct vfio_dev dev;
	int ports;		/* MDEV_MTTY_PORTS */
	int strict_bounds;	/* MDEV_MTTY_STRICT_BOUNDS */
	uint64_t bar[2];	/* region offsets of the ports' BARs */
};

static uint64_t region_offset(uint32_t index)
{
	return (uint64_t)index << 40;
}

/*
 * Open the device, then VFIO_DEVICE_GET_INFO as a VMM does first: mtty
 * answers every irq ioctl with EINVAL until it has been asked (trace_info),
 * and remembers the answer for the device's lifetime, not the open's.
 */
static int mtty_open(struct mtty *m, int get_info)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_region_info bar = { .argsz = sizeof(bar) };
	int i;

	m->ports = getenv("MDEV_MTTY_PORTS") ? atoi(getenv("MDEV_MTTY_PORTS")) : 1;
	if (m->ports < 1 || m->ports > 2) {
		errno = 0;
		vfio_dev_init(&m->dev);
		return vfio_dev_fail(&m->dev, "MDEV_MTTY_PORTS is not 1 or 2");
	}
	m->strict_bounds = getenv("MDEV_MTTY_STRICT_BOUNDS") &&
			   !strcmp(getenv("MDEV_MTTY_STRICT_BOUNDS"), "1");
	if (vfio_dev_open(&m->dev))
		return -1;
	if (get_info && ioctl(m->dev.device, VFIO_DEVICE_GET_INFO, &info))
		return vfio_dev_fail(&m->dev, "VFIO_DEVICE_GET_INFO");
	for (i = 0; i < 2; i++) {
		bar.index = VFIO_PCI_BAR0_REGION_INDEX + i;
		/* Region info needs no GET_INFO; a failure is the tests' to report. */
		m->bar[i] = ioctl(m->dev.device, VFIO_DEVICE_GET_REGION_INFO, &bar) ?
			    region_offset(bar.index) : bar.offset;
	}
	return 0;
}

/* The registers by offset, as read and as written (without DLAB). */
static const char *const rd_name[8] = { "RBR", "IER", "IIR", "LCR", "MCR", "LSR", "MSR", "SCR" };
static const char *const wr_name[8] = { "THR", "IER", "FCR", "LCR", "MCR", "LSR", "MSR", "SCR" };

/* One-byte accesses to the UART registers of PORT: 1 on success. */
static ssize_t uart_read(struct mtty *m, int port, int reg, uint8_t *value)
{
	return pread(m->dev.device, value, 1, m->bar[port] + reg);
}

static ssize_t uart_write(struct mtty *m, int port, int reg, uint8_t value)
{
	return pwrite(m->dev.device, &value, 1, m->bar[port] + reg);
}

/* Eventfd EFD's count within TIMEOUT_MS (read, so reset), 0 if it stays quiet. */
static uint64_t irq_count(int efd, int timeout_ms)
{
	uint64_t count = 0;

	if (poll_in(efd, timeout_ms) == 1 && read(efd, &count, sizeof(count)) != sizeof(count))
		count = 0;
	return count;
}

/* SET_IRQS ACTION_TRIGGER with DATA_EVENTFD: arm FD, or disarm with -1. */
static int irq_arm(struct mtty *m, uint32_t index, int32_t fd)
{
	return set_irqs(&m->dev, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
			index, 1, &fd, sizeof(fd));
}

/* SET_IRQS ACTION (trigger, mask, unmask) with DATA_NONE. */
static int irq_none(struct mtty *m, uint32_t index, uint32_t action)
{
	return set_irqs(&m->dev, VFIO_IRQ_SET_DATA_NONE | action, index, 1, NULL, 0);
}

/* SET_IRQS ACTION with DATA_BOOL VALUE. */
static int irq_bool(struct mtty *m, uint32_t index, uint32_t action, uint8_t value)
{
	return set_irqs(&m->dev, VFIO_IRQ_SET_DATA_BOOL | action, index, 1, &value, 1);
}

/* SET_IRQS ACTION with DATA_EVENTFD FD (as a mask or unmask eventfd). */
static int irq_efd(struct mtty *m, uint32_t index, uint32_t action, int32_t fd)
{
	return set_irqs(&m->dev, VFIO_IRQ_SET_DATA_EVENTFD | action, index, 1, &fd, sizeof(fd));
}

/* SET_IRQS ACTION_TRIGGER with DATA_NONE and count 0: disarm. */
static int irq_count0(struct mtty *m, uint32_t index)
{
	return set_irqs(&m->dev, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
			index, 0, NULL, 0);
}

static const char *irq_name(uint32_t index)
{
	static const char *const names[] = { "INTx", "MSI", "MSI-X", "ERR", "REQ" };

	return index < VFIO_PCI_NUM_IRQS ? names[index] : "beyond";
}

/* The bytes of config space mtty creates; NULL where they change (BARs, line). */
static void mtty_config_expected(uint8_t *cfg, int *changes)
{
	static const char string[] = "PCI Serial/UART";
	int i;

	memset(cfg, 0, MTTY_CONFIG_SIZE);
	memset(changes, 0, MTTY_CONFIG_SIZE * sizeof(*changes));
	for (i = 0; i < 4; i++) {
		cfg[PCI_VENDOR_ID + i] = MTTY_PCI_ID >> (8 * i);
		/* Subsystem vendor and device: the same IDs. */
		cfg[PCI_SUBSYSTEM_VENDOR_ID + i] = MTTY_PCI_ID >> (8 * i);
	}
	cfg[PCI_COMMAND] = PCI_COMMAND_IO;
	cfg[PCI_STATUS + 1] = PCI_STATUS_DEVSEL_MEDIUM >> 8;
	cfg[PCI_REVISION_ID] = 0x10;
	cfg[PCI_CLASS_PROG] = 0x02;		/* 16550-compatible */
	cfg[PCI_CLASS_DEVICE] = 0x00;		/* serial controller */
	cfg[PCI_CLASS_DEVICE + 1] = 0x07;	/* communication controller */
	for (i = PCI_BASE_ADDRESS_0; i < PCI_BASE_ADDRESS_2; i++)
		changes[i] = 1;
	changes[PCI_INTERRUPT_LINE] = 1;
	cfg[PCI_INTERRUPT_PIN] = 1;		/* INTA# */
	/* Vendor-specific bytes. */
	cfg[0x40] = 0x23;
	cfg[0x43] = 0x80;
	cfg[0x44] = 0x23;
	cfg[0x48] = 0x23;
	cfg[0x4c] = 0x23;
	memcpy(cfg + 0x60, string, strlen(string));
}

/* --- The harness: fixture mtty --- */

FIXTURE(mtty) {
	struct mtty m;
	int efd, efd2;
};

static uint8_t uart_get(struct __test_metadata *_metadata, struct mtty *m, int port, int reg)
{
	uint8_t value = 0;

	ASSERT_EQ(1, uart_read(m, port, reg, &value))
		TH_LOG("port %d: 1-byte read at offset %d (%s): %s", port, reg, rd_name[reg],
		       strerror(errno));
	return value;
}

static void uart_set(struct __test_metadata *_metadata, struct mtty *m, int port, int reg,
		     uint8_t value)
{
	ASSERT_EQ(1, uart_write(m, port, reg, value))
		TH_LOG("port %d: 1-byte write of 0x%02x at offset %d (%s): %s", port, value, reg,
		       wr_name[reg], strerror(errno));
}

#define GET(port, reg)		uart_get(_metadata, &self->m, port, reg)
#define SET(port, reg, value)	uart_set(_metadata, &self->m, port, reg, value)

/* Register REG of PORT reads WANT; the message says what was being checked. */
#define EXPECT_REG(want, port, reg, fmt, ...) \
	EXPECT_EQ(want, GET(port, reg)) \
		TH_LOG("port %d %s: " fmt, port, rd_name[reg], ##__VA_ARGS__)

/* The eventfd counts N interrupts (N 0: stays quiet for NO_IRQ_TIMEOUT_MS). */
#define EXPECT_IRQS(n, efd, fmt, ...) \
	EXPECT_EQ((uint64_t)(n), irq_count(efd, (n) ? IRQ_TIMEOUT_MS : NO_IRQ_TIMEOUT_MS)) \
		TH_LOG("%s: " fmt, (n) ? "interrupts counted" : "an interrupt was signalled", \
		       ##__VA_ARGS__)

/* A SET_IRQS call succeeds. */
#define ASSERT_SET_IRQS(call, what) \
	ASSERT_EQ(0, call) TH_LOG("SET_IRQS %s: %s", what, strerror(errno))

/* A SET_IRQS call fails with ERR. */
#define EXPECT_SET_IRQS_ERR(err, call, what) do { \
	errno = 0; \
	EXPECT_EQ(-1, call) TH_LOG("SET_IRQS %s succeeded", what); \
	EXPECT_EQ(err, errno) TH_LOG("SET_IRQS %s: %s", what, strerror(errno)); \
} while (0)

/* A SET_IRQS call fails, with whatever errno (logged when it is not ERR). */
#define EXPECT_SET_IRQS_FAILS(err, call, what) do { \
	errno = 0; \
	EXPECT_EQ(-1, call) TH_LOG("SET_IRQS %s succeeded", what); \
	if (errno != (err)) \
		ksft_print_msg("SET_IRQS %s: %s (the C mtty: %s)\n", what, \
			       strerrorname_np(errno) ?: "no errno", strerrorname_np(err)); \
} while (0)

/*
 * Put PORT into a known state: the registers and their effects outlive the
 * device's opens (and VFIO_DEVICE_RESET, see reset_keeps_state), so each
 * test starts from what the one before left.  DLAB off first, so that the
 * writes reach their registers; FIFO on and empty.  mtty keeps an overrun
 * until a byte is accepted into the FIFO, so one is sent and cleared.
 */
static void uart_reset(struct __test_metadata *_metadata, struct mtty *m, int port)
{
	uart_set(_metadata, m, port, UART_LCR, 0);
	uart_set(_metadata, m, port, UART_IER, 0);
	uart_set(_metadata, m, port, UART_MCR, 0);
	uart_set(_metadata, m, port, UART_SCR, 0);
	uart_set(_metadata, m, port, UART_FCR, FCR_ON_CLEAR);
	uart_set(_metadata, m, port, UART_TX, 0);
	uart_set(_metadata, m, port, UART_FCR, FCR_ON_CLEAR);
}

static int new_eventfd(struct __test_metadata *_metadata)
{
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	ASSERT_LE(0, efd) TH_LOG("eventfd: %s", strerror(errno));
	return efd;
}

FIXTURE_SETUP(mtty)
{
	int port;

	self->efd = self->efd2 = -1;
	ASSERT_EQ(0, mtty_open(&self->m, 1)) TH_LOG("opening the device: %s", self->m.dev.why);
	for (port = 0; port < self->m.ports; port++)
		uart_reset(_metadata, &self->m, port);
	self->efd = new_eventfd(_metadata);
	self->efd2 = new_eventfd(_metadata);
}

FIXTURE_TEARDOWN(mtty)
{
	/* The device first: closing it disarms the eventfds. */
	vfio_dev_close(&self->m.dev);
	if (self->efd >= 0)
		close(self->efd);
	if (self->efd2 >= 0)
		close(self->efd2);
}

/* A receive-data interrupt on PORT (IER RDI set): a byte into an empty FIFO. */
static void rdi_cause(struct __test_metadata *_metadata, struct mtty *m, int port)
{
	uart_set(_metadata, m, port, UART_FCR, FCR_ON_CLEAR);
	uart_set(_metadata, m, port, UART_TX, 0x55);
}

#define RDI_CAUSE(port)	rdi_cause(_metadata, &self->m, port)

/* --- Device, region and irq info --- */

TEST_F(mtty, device_info)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	ASSERT_EQ(0, ioctl(self->m.dev.device, VFIO_DEVICE_GET_INFO, &info))
		TH_LOG("VFIO_DEVICE_GET_INFO: %s", strerror(errno));
	/*
	 * A PCI device.  VFIO_DEVICE_RESET answers 0 on both drivers, but
	 * only the Rust port reports VFIO_DEVICE_FLAGS_RESET for it (a
	 * documented difference, see mtty_trace.allowed): either is right.
	 */
	EXPECT_EQ(VFIO_DEVICE_FLAGS_PCI, info.flags & ~VFIO_DEVICE_FLAGS_RESET)
		TH_LOG("device flags 0x%x", info.flags);
	EXPECT_EQ(VFIO_PCI_NUM_REGIONS, info.num_regions) TH_LOG("number of regions");
	EXPECT_EQ(VFIO_PCI_NUM_IRQS, info.num_irqs) TH_LOG("number of irq indexes");
}

TEST_F(mtty, region_info)
{
	const uint32_t rw = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
	struct vfio_region_info info;
	uint64_t size;
	uint32_t i;

	for (i = 0; i < VFIO_PCI_NUM_REGIONS; i++) {
		memset(&info, 0, sizeof(info));
		info.argsz = sizeof(info);
		info.index = i;
		ASSERT_EQ(0, ioctl(self->m.dev.device, VFIO_DEVICE_GET_REGION_INFO, &info))
			TH_LOG("VFIO_DEVICE_GET_REGION_INFO (region %u): %s", i, strerror(errno));
		if (i == VFIO_PCI_CONFIG_REGION_INDEX)
			size = MTTY_CONFIG_SIZE;
		else if (i == VFIO_PCI_BAR0_REGION_INDEX ||
			 (i == VFIO_PCI_BAR1_REGION_INDEX && self->m.ports == 2))
			size = MTTY_BAR_SIZE;
		else
			size = 0;
		EXPECT_EQ(size, info.size) TH_LOG("region %u: size (%d ports)", i, self->m.ports);
		EXPECT_EQ(region_offset(i), info.offset) TH_LOG("region %u: offset", i);
		/* mtty says read-write even of the regions of size 0. */
		EXPECT_EQ(rw, info.flags) TH_LOG("region %u: flags", i);
	}
	memset(&info, 0, sizeof(info));
	info.argsz = sizeof(info);
	info.index = VFIO_PCI_NUM_REGIONS;
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->m.dev.device, VFIO_DEVICE_GET_REGION_INFO, &info))
		TH_LOG("region info of index %u (beyond num_regions) succeeded", info.index);
}

TEST_F(mtty, irq_info)
{
	struct vfio_irq_info info;
	uint32_t i;

	for (i = 0; i <= VFIO_PCI_NUM_IRQS; i++) {
		int ret;

		memset(&info, 0, sizeof(info));
		info.argsz = sizeof(info);
		info.index = i;
		errno = 0;
		ret = ioctl(self->m.dev.device, VFIO_DEVICE_GET_IRQ_INFO, &info);
		switch (i) {
		case VFIO_PCI_INTX_IRQ_INDEX:
			ASSERT_EQ(0, ret) TH_LOG("GET_IRQ_INFO (INTx): %s", strerror(errno));
			EXPECT_EQ(VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |
				  VFIO_IRQ_INFO_AUTOMASKED, info.flags) TH_LOG("INTx flags");
			EXPECT_EQ(1, info.count) TH_LOG("INTx count");
			break;
		case VFIO_PCI_MSI_IRQ_INDEX:
			ASSERT_EQ(0, ret) TH_LOG("GET_IRQ_INFO (MSI): %s", strerror(errno));
			EXPECT_EQ(VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE, info.flags)
				TH_LOG("MSI flags");
			EXPECT_EQ(1, info.count) TH_LOG("MSI count");
			break;
		case VFIO_PCI_NUM_IRQS:
			EXPECT_EQ(-1, ret) TH_LOG("GET_IRQ_INFO of index %u (beyond num_irqs)", i);
			break;
		default:
			/*
			 * The C mtty: EINVAL.  Recorded, not checked: another
			 * driver may as well answer with count 0.
			 */
			if (ret)
				ksft_print_msg("GET_IRQ_INFO index %u (%s): %s\n", i, irq_name(i),
					       strerrorname_np(errno) ?: "?");
			else
				ksft_print_msg("GET_IRQ_INFO index %u (%s): flags 0x%x count %u\n",
					       i, irq_name(i), info.flags, info.count);
			break;
		}
	}
}

/* --- PCI configuration space --- */

TEST_F(mtty, config_header)
{
	struct vfio_dev *dev = &self->m.dev;
	uint8_t cfg[MTTY_CONFIG_SIZE], want[MTTY_CONFIG_SIZE];
	int changes[MTTY_CONFIG_SIZE];
	int i;

	EXPECT_EQ(MTTY_PCI_ID & 0xffff, config_get(_metadata, dev, PCI_VENDOR_ID, 2));
	EXPECT_EQ(MTTY_PCI_ID >> 16, config_get(_metadata, dev, PCI_DEVICE_ID, 2));
	EXPECT_EQ(MTTY_PCI_ID, config_get(_metadata, dev, PCI_SUBSYSTEM_VENDOR_ID, 4))
		TH_LOG("subsystem vendor and device IDs");
	EXPECT_EQ(0x10, config_get(_metadata, dev, PCI_REVISION_ID, 1)) TH_LOG("revision");
	EXPECT_EQ(0x070002, config_get(_metadata, dev, PCI_CLASS_REVISION, 4) >> 8)
		TH_LOG("class: a 16550-compatible serial controller");
	EXPECT_EQ(PCI_HEADER_TYPE_NORMAL, config_get(_metadata, dev, PCI_HEADER_TYPE, 1));
	EXPECT_EQ(PCI_BASE_ADDRESS_SPACE_IO,
		  config_get(_metadata, dev, PCI_BASE_ADDRESS_0, 4) & ~PCI_BASE_ADDRESS_IO_MASK)
		TH_LOG("BAR0 is an I/O BAR");
	if (self->m.ports == 2) {
		EXPECT_EQ(PCI_BASE_ADDRESS_SPACE_IO,
			  config_get(_metadata, dev, PCI_BASE_ADDRESS_1, 4) &
			  ~PCI_BASE_ADDRESS_IO_MASK) TH_LOG("BAR1 is an I/O BAR");
	} else {
		EXPECT_EQ(0, config_get(_metadata, dev, PCI_BASE_ADDRESS_1, 4))
			TH_LOG("one port: no BAR1");
	}
	EXPECT_EQ(1, config_get(_metadata, dev, PCI_INTERRUPT_PIN, 1)) TH_LOG("INTA#");
	EXPECT_EQ(0, config_get(_metadata, dev, PCI_CAPABILITY_LIST, 1)) TH_LOG("no capabilities");

	/* The whole space in one read, byte by byte against what mtty creates. */
	ASSERT_EQ(sizeof(cfg), config_read(dev, cfg, sizeof(cfg), 0))
		TH_LOG("reading the whole config space (0xff bytes): %s", strerror(errno));
	mtty_config_expected(want, changes);
	for (i = 0; i < MTTY_CONFIG_SIZE; i++)
		if (!changes[i]) {
			EXPECT_EQ(want[i], cfg[i]) TH_LOG("config byte 0x%02x", i);
		}
	EXPECT_EQ(0, memcmp(cfg + 0x60, "PCI Serial/UART", 15))
		TH_LOG("the string at 0x60 is '%.15s'", (char *)cfg + 0x60);
}

TEST_F(mtty, config_bar_sizing)
{
	struct vfio_dev *dev = &self->m.dev;
	int bar;

	for (bar = 0; bar < 2; bar++) {
		off_t off = PCI_BASE_ADDRESS_0 + 4 * bar;

		/*
		 * BARs are only ever written whole: mtty reads 4 bytes
		 * whatever the size of the write.
		 */
		config_set(_metadata, dev, off, 4, 0xffffffff);
		if (bar >= self->m.ports) {
			EXPECT_EQ(0, config_get(_metadata, dev, off, 4))
				TH_LOG("one port: BAR1 stays 0 when sized");
			continue;
		}
		EXPECT_EQ(MTTY_BAR_SIZING, config_get(_metadata, dev, off, 4))
			TH_LOG("BAR%d sizing: an 8-byte I/O BAR", bar);
		config_set(_metadata, dev, off, 4, 0xc000 + 0x10 * bar);
		EXPECT_EQ(0xc000 + 0x10 * bar + PCI_BASE_ADDRESS_SPACE_IO,
			  config_get(_metadata, dev, off, 4))
			TH_LOG("BAR%d keeps an address, and its I/O bit", bar);
		config_set(_metadata, dev, off, 4, 0);
		EXPECT_EQ(PCI_BASE_ADDRESS_SPACE_IO, config_get(_metadata, dev, off, 4))
			TH_LOG("BAR%d written 0 keeps its I/O bit", bar);
	}
	for (bar = 2; bar < 6; bar++) {
		off_t off = PCI_BASE_ADDRESS_0 + 4 * bar;

		config_set(_metadata, dev, off, 4, 0xffffffff);
		EXPECT_EQ(0, config_get(_metadata, dev, off, 4)) TH_LOG("BAR%d does not exist", bar);
	}
	config_set(_metadata, dev, PCI_ROM_ADDRESS, 4, 0xffffffff);
	EXPECT_EQ(0, config_get(_metadata, dev, PCI_ROM_ADDRESS, 4)) TH_LOG("no expansion ROM");
}

TEST_F(mtty, config_interrupt_line)
{
	struct vfio_dev *dev = &self->m.dev;

	config_set(_metadata, dev, PCI_INTERRUPT_LINE, 1, 0x5a);
	EXPECT_EQ(0x5a, config_get(_metadata, dev, PCI_INTERRUPT_LINE, 1));
	config_set(_metadata, dev, PCI_INTERRUPT_LINE, 1, 0x0b);
	EXPECT_EQ(0x0b, config_get(_metadata, dev, PCI_INTERRUPT_LINE, 1));
	config_set(_metadata, dev, PCI_INTERRUPT_PIN, 1, 0x04);
	EXPECT_EQ(1, config_get(_metadata, dev, PCI_INTERRUPT_PIN, 1)) TH_LOG("the pin is fixed");
}

TEST_F(mtty, config_writes_ignored)
{
	struct vfio_dev *dev = &self->m.dev;
	static const struct { off_t off; size_t len; uint32_t value; const char *what; } w[] = {
		{ PCI_COMMAND, 2, 0xffff, "command (all bits)" },
		{ PCI_COMMAND, 2, 0x0000, "command (none)" },
		{ PCI_COMMAND, 4, 0xffffffff, "command and status" },
		{ PCI_VENDOR_ID, 4, 0x12345678, "vendor and device IDs" },
		{ PCI_REVISION_ID, 4, 0xffffffff, "revision and class" },
		{ PCI_SUBSYSTEM_VENDOR_ID, 4, 0, "subsystem IDs" },
		{ PCI_CAPABILITY_LIST, 1, 0x40, "capability pointer" },
		{ 0x40, 4, 0, "vendor-specific bytes" },
		{ 0x60, 4, 0x41414141, "the string" },
	};
	uint8_t before[MTTY_CONFIG_SIZE], after[MTTY_CONFIG_SIZE];
	size_t i;
	int j;

	ASSERT_EQ(sizeof(before), config_read(dev, before, sizeof(before), 0))
		TH_LOG("reading config space: %s", strerror(errno));
	for (i = 0; i < ARRAY_SIZE(w); i++) {
		config_set(_metadata, dev, w[i].off, w[i].len, w[i].value);
		ASSERT_EQ(sizeof(after), config_read(dev, after, sizeof(after), 0))
			TH_LOG("reading config space: %s", strerror(errno));
		for (j = 0; j < MTTY_CONFIG_SIZE; j++) {
			EXPECT_EQ(before[j], after[j])
				TH_LOG("writing %s changed config byte 0x%02x", w[i].what, j);
		}
	}
	EXPECT_EQ(PCI_COMMAND_IO, config_get(_metadata, dev, PCI_COMMAND, 2))
		TH_LOG("command: I/O space on, the rest off, whatever is written");
	EXPECT_EQ(PCI_STATUS_DEVSEL_MEDIUM, config_get(_metadata, dev, PCI_STATUS, 2))
		TH_LOG("status");
}

/* --- The UARTs, one byte at a time --- */

TEST_F(mtty, uart_loopback)
{
	static const uint8_t msg[] = { 'm', 't', 't', 'y', 0x00, 0xff };
	size_t i;
	int p;

	for (p = 0; p < self->m.ports; p++) {
		EXPECT_REG(LSR_EMPTY, p, UART_LSR, "empty: transmitter empty, no data");
		for (i = 0; i < sizeof(msg); i++)
			SET(p, UART_TX, msg[i]);
		EXPECT_REG(UART_LSR_DR, p, UART_LSR, "%zu bytes sent: data ready", sizeof(msg));
		for (i = 0; i < sizeof(msg); i++) {
			EXPECT_REG(UART_LSR_DR, p, UART_LSR, "before byte %zu", i);
			EXPECT_REG(msg[i], p, UART_RX, "byte %zu comes back in order", i);
		}
		EXPECT_REG(LSR_EMPTY, p, UART_LSR, "all bytes read back");
	}
}

/*
 * mtty's FIFO takes 16 bytes, and a 17th overruns.  But its indexes wrap
 * at 16: with 16 bytes in it, it reads as empty (LSR without DR, RBR
 * returning a byte it never wrote, the transmitter-empty interrupt) until
 * it is cleared.  So bytes are read back from 15 at most, and what LSR
 * says of a full FIFO is left to --trace.
 */
TEST_F(mtty, uart_fifo_overrun)
{
	int i, p;

	for (p = 0; p < self->m.ports; p++) {
		for (i = 0; i < MTTY_FIFO_SIZE - 1; i++)
			SET(p, UART_TX, 0x30 + i);
		EXPECT_REG(UART_LSR_DR, p, UART_LSR, "15 bytes sent");
		for (i = 0; i < MTTY_FIFO_SIZE - 1; i++) {
			EXPECT_REG(0x30 + i, p, UART_RX, "byte %d of 15 comes back in order", i);
		}
		EXPECT_REG(LSR_EMPTY, p, UART_LSR, "15 bytes read back");

		SET(p, UART_IER, UART_IER_RLSI);
		for (i = 0; i < MTTY_FIFO_SIZE; i++)
			SET(p, UART_TX, 0x30 + i);
		EXPECT_EQ(0, GET(p, UART_LSR) & UART_LSR_OE)
			TH_LOG("port %d: 16 bytes overran the FIFO", p);
		EXPECT_REG(0xc0 | UART_IIR_NO_INT, p, UART_IIR, "16 bytes: no line status cause");
		SET(p, UART_TX, 0x7f);
		EXPECT_EQ(UART_LSR_OE, GET(p, UART_LSR) & UART_LSR_OE)
			TH_LOG("port %d: a 17th byte does not overrun", p);
		EXPECT_REG(0xc0 | UART_IIR_RLSI, p, UART_IIR, "IER RLSI, overrun");
		SET(p, UART_FCR, FCR_ON_CLEAR);
		/*
		 * mtty keeps the overrun until a byte is accepted, not until
		 * LSR is read or the FIFO cleared.
		 */
		EXPECT_REG(LSR_EMPTY | UART_LSR_OE, p, UART_LSR, "FIFO cleared, overrun kept");
		EXPECT_REG(LSR_EMPTY | UART_LSR_OE, p, UART_LSR, "reading LSR keeps the overrun");
		SET(p, UART_TX, 0x42);
		EXPECT_REG(UART_LSR_DR, p, UART_LSR, "an accepted byte clears the overrun");
		EXPECT_REG(0x42, p, UART_RX, "the byte after the overrun");
		EXPECT_REG(0xc0 | UART_IIR_NO_INT, p, UART_IIR, "no more line status cause");
	}
}

TEST_F(mtty, uart_fifo_disabled)
{
	int p;

	for (p = 0; p < self->m.ports; p++) {
		SET(p, UART_FCR, 0);
		SET(p, UART_TX, 'a');
		EXPECT_REG(UART_LSR_DR, p, UART_LSR, "FIFO off: one byte held");
		SET(p, UART_MCR, UART_MCR_AFE);
		EXPECT_REG(MSR_ALWAYS, p, UART_MSR, "FIFO off, one byte, MCR AFE: full, no CTS");
		SET(p, UART_MCR, 0);
		SET(p, UART_TX, 'b');
		EXPECT_REG(UART_LSR_DR | UART_LSR_OE, p, UART_LSR, "FIFO off: a 2nd byte overruns");
		EXPECT_REG('a', p, UART_RX, "the first byte is kept");
		EXPECT_EQ(0, GET(p, UART_LSR) & UART_LSR_DR)
			TH_LOG("port %d: FIFO off: the 2nd byte was dropped", p);
		SET(p, UART_FCR, FCR_ON_CLEAR);
		SET(p, UART_TX, 'c');
		SET(p, UART_TX, 'd');
		EXPECT_REG(UART_LSR_DR, p, UART_LSR, "FIFO back on: two bytes, no overrun");
		EXPECT_REG('c', p, UART_RX, "FIFO back on: 1st byte");
		EXPECT_REG('d', p, UART_RX, "FIFO back on: 2nd byte");
	}
}

TEST_F(mtty, uart_fifo_clear)
{
	int i, p;

	for (p = 0; p < self->m.ports; p++) {
		for (i = 0; i < 5; i++)
			SET(p, UART_TX, i);
		SET(p, UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR);
		EXPECT_REG(LSR_EMPTY, p, UART_LSR, "FCR CLEAR_RCVR empties the FIFO");
		for (i = 0; i < 3; i++)
			SET(p, UART_TX, i);
		SET(p, UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_XMIT);
		EXPECT_REG(LSR_EMPTY, p, UART_LSR, "FCR CLEAR_XMIT empties the (loopback) FIFO");
		SET(p, UART_TX, 0x11);
		SET(p, UART_TX, 0x22);
		SET(p, UART_FCR, UART_FCR_ENABLE_FIFO);
		EXPECT_REG(UART_LSR_DR, p, UART_LSR, "FCR without a clear bit keeps the FIFO");
		EXPECT_REG(0x11, p, UART_RX, "kept byte 1");
		EXPECT_REG(0x22, p, UART_RX, "kept byte 2");
	}
}

TEST_F(mtty, uart_dlab)
{
	int p;

	for (p = 0; p < self->m.ports; p++) {
		SET(p, UART_IER, UART_IER_RDI | UART_IER_RLSI);
		SET(p, UART_LCR, UART_LCR_DLAB | UART_LCR_WLEN8);
		EXPECT_REG(UART_LCR_DLAB | UART_LCR_WLEN8, p, UART_LCR, "LCR reads back");
		SET(p, UART_DLL, 0x0c);
		SET(p, UART_DLM, 0x01);
		EXPECT_EQ(0x0c, GET(p, UART_DLL)) TH_LOG("port %d: DLL reads back", p);
		EXPECT_EQ(0x01, GET(p, UART_DLM)) TH_LOG("port %d: DLM reads back", p);
		EXPECT_REG(LSR_EMPTY, p, UART_LSR, "the DLL write sent nothing");
		SET(p, UART_LCR, UART_LCR_WLEN8);
		EXPECT_REG(UART_LCR_WLEN8, p, UART_LCR, "DLAB cleared");
		EXPECT_REG(UART_IER_RDI | UART_IER_RLSI, p, UART_IER,
			   "IER again, as before DLAB (the DLM write did not change it)");
		SET(p, UART_TX, 0x99);
		EXPECT_REG(UART_LSR_DR, p, UART_LSR, "THR again: a byte is sent");
		EXPECT_REG(0x99, p, UART_RX, "RBR again");
	}
}

TEST_F(mtty, uart_ier_mask)
{
	int p;

	for (p = 0; p < self->m.ports; p++) {
		SET(p, UART_IER, 0xff);
		EXPECT_REG(0x0f, p, UART_IER, "IER reads its low 4 bits");
		SET(p, UART_IER, 0xa5);
		EXPECT_REG(0x05, p, UART_IER, "IER reads its low 4 bits");
		SET(p, UART_IER, 0);
		EXPECT_REG(0x00, p, UART_IER, "IER cleared");
	}
}

TEST_F(mtty, uart_iir)
{
	int i, p;

	for (p = 0; p < self->m.ports; p++) {
		EXPECT_REG(0xc0 | UART_IIR_NO_INT, p, UART_IIR, "IER 0: no interrupt, FIFO bits");
		SET(p, UART_IER, UART_IER_RDI);
		EXPECT_REG(0xc0 | UART_IIR_NO_INT, p, UART_IIR, "IER RDI, no data");
		SET(p, UART_TX, 1);
		EXPECT_REG(0xc0 | UART_IIR_RDI, p, UART_IIR, "IER RDI, data");
		SET(p, UART_IER, UART_IER_THRI);
		EXPECT_REG(0xc0 | UART_IIR_NO_INT, p, UART_IIR, "IER THRI, data");
		EXPECT_REG(1, p, UART_RX, "the byte");
		EXPECT_REG(0xc0 | UART_IIR_THRI, p, UART_IIR, "IER THRI, FIFO empty");
		SET(p, UART_IER, UART_IER_RLSI);
		for (i = 0; i <= MTTY_FIFO_SIZE; i++)
			SET(p, UART_TX, i);
		EXPECT_REG(0xc0 | UART_IIR_RLSI, p, UART_IIR, "IER RLSI, overrun");
		SET(p, UART_FCR, FCR_ON_CLEAR);
		SET(p, UART_TX, 0);
		SET(p, UART_FCR, FCR_ON_CLEAR);
		/*
		 * mtty's modem status cause sets no IIR bit (UART_IIR_MSI is
		 * 0), so IIR still says no interrupt is pending.
		 */
		SET(p, UART_IER, UART_IER_MSI);
		SET(p, UART_MCR, UART_MCR_DTR | UART_MCR_RTS);
		EXPECT_REG(0xc0 | UART_IIR_NO_INT, p, UART_IIR, "IER MSI, MCR DTR|RTS");
		SET(p, UART_IER, UART_IER_MSI | UART_IER_THRI);
		EXPECT_REG(0xc0 | UART_IIR_THRI, p, UART_IIR, "IER MSI|THRI, MCR DTR|RTS, empty");
		SET(p, UART_MCR, 0);
		SET(p, UART_IER, 0);
	}
}

TEST_F(mtty, uart_msr)
{
	uint8_t lsr;
	int i, p;

	for (p = 0; p < self->m.ports; p++) {
		EXPECT_REG(MSR_ALWAYS | MSR_CTS, p, UART_MSR, "MCR 0");
		SET(p, UART_MCR, UART_MCR_AFE);
		EXPECT_REG(UART_MCR_AFE, p, UART_MCR, "MCR reads back");
		EXPECT_REG(MSR_ALWAYS | MSR_CTS, p, UART_MSR, "MCR AFE, FIFO empty: CTS");
		for (i = 0; i < MTTY_FIFO_SIZE - 1; i++)
			SET(p, UART_TX, i);
		EXPECT_REG(MSR_ALWAYS | MSR_CTS, p, UART_MSR, "MCR AFE, 15 bytes: CTS");
		SET(p, UART_TX, i);
		EXPECT_REG(MSR_ALWAYS, p, UART_MSR, "MCR AFE, FIFO full: no CTS");
		SET(p, UART_MCR, 0);
		EXPECT_REG(MSR_ALWAYS | MSR_CTS, p, UART_MSR, "no AFE, FIFO full: CTS");
		lsr = GET(p, UART_LSR);
		SET(p, UART_MSR, 0);
		SET(p, UART_LSR, 0xff);
		EXPECT_REG(MSR_ALWAYS | MSR_CTS, p, UART_MSR, "a write to MSR is ignored");
		EXPECT_REG(lsr, p, UART_LSR, "a write to LSR is ignored");
	}
}

TEST_F(mtty, uart_scr)
{
	int p;

	for (p = 0; p < self->m.ports; p++) {
		SET(p, UART_SCR, 0xa5);
		EXPECT_REG(0xa5, p, UART_SCR, "scratch");
		SET(p, UART_SCR, 0x5a);
		EXPECT_REG(0x5a, p, UART_SCR, "scratch");
	}
}

TEST_F(mtty, uart_ports_independent)
{
	if (self->m.ports < 2)
		SKIP(return, "one port");
	SET(0, UART_SCR, 0x11);
	SET(1, UART_SCR, 0x22);
	SET(0, UART_IER, UART_IER_RDI);
	SET(0, UART_TX, 0x33);
	SET(0, UART_MCR, UART_MCR_AFE);
	EXPECT_REG(0x11, 0, UART_SCR, "own scratch");
	EXPECT_REG(0x22, 1, UART_SCR, "own scratch");
	EXPECT_REG(LSR_EMPTY, 1, UART_LSR, "port 0's byte is not in port 1's FIFO");
	EXPECT_REG(0, 1, UART_IER, "port 0's IER");
	EXPECT_REG(0, 1, UART_MCR, "port 0's MCR");
	SET(1, UART_LCR, UART_LCR_DLAB);
	SET(1, UART_DLL, 0x01);
	SET(0, UART_TX, 0x44);
	EXPECT_REG(0x33, 0, UART_RX, "port 1's DLAB does not change port 0's THR");
	EXPECT_REG(0x44, 0, UART_RX, "port 1's DLAB does not change port 0's THR");
	SET(1, UART_LCR, 0);
	SET(1, UART_TX, 0x55);
	EXPECT_REG(LSR_EMPTY, 0, UART_LSR, "port 1's byte is not in port 0's FIFO");
	EXPECT_REG(0x55, 1, UART_RX, "port 1's own byte");
}

/*
 * --- Interrupts ---
 *
 * Waiting for an interrupt that must not come costs NO_IRQ_TIMEOUT_MS, so
 * the steps that must not signal are grouped before one wait: an eventfd
 * counts every signal, so a wait after the group sees any of them.
 */

TEST_F(mtty, intx_rdi_fires_once)
{
	int p;

	ASSERT_SET_IRQS(irq_arm(&self->m, VFIO_PCI_INTX_IRQ_INDEX, self->efd), "arming INTx");
	SET(0, UART_IER, UART_IER_RDI);
	SET(0, UART_TX, 1);
	EXPECT_IRQS(1, self->efd, "IER RDI, a byte into the empty FIFO");
	ASSERT_SET_IRQS(irq_none(&self->m, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_UNMASK),
			"unmasking INTx");
	SET(0, UART_TX, 2);
	SET(0, UART_IER, 0);
	RDI_CAUSE(0);
	EXPECT_IRQS(0, self->efd, "a 2nd byte into the FIFO, then a byte with IER 0");
	for (p = 1; p < self->m.ports; p++) {
		SET(p, UART_IER, UART_IER_RDI);
		RDI_CAUSE(p);
		EXPECT_IRQS(1, self->efd, "IER RDI on port %d", p);
		ASSERT_SET_IRQS(irq_none(&self->m, VFIO_PCI_INTX_IRQ_INDEX,
					 VFIO_IRQ_SET_ACTION_UNMASK), "unmasking INTx");
	}
}

TEST_F(mtty, intx_automask)
{
	ASSERT_SET_IRQS(irq_arm(&self->m, VFIO_PCI_INTX_IRQ_INDEX, self->efd), "arming INTx");
	SET(0, UART_IER, UART_IER_RDI);
	RDI_CAUSE(0);
	EXPECT_IRQS(1, self->efd, "first cause");
	RDI_CAUSE(0);
	ASSERT_SET_IRQS(irq_none(&self->m, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_UNMASK),
			"UNMASK DATA_NONE");
	/* Masked after it fired; unmasking does not deliver what was masked. */
	EXPECT_IRQS(0, self->efd, "a 2nd cause while INTx is masked, then UNMASK");
	RDI_CAUSE(0);
	EXPECT_IRQS(1, self->efd, "the next cause after unmasking");
}

TEST_F(mtty, intx_mask)
{
	const uint32_t intx = VFIO_PCI_INTX_IRQ_INDEX;

	ASSERT_SET_IRQS(irq_arm(&self->m, intx, self->efd), "arming INTx");
	SET(0, UART_IER, UART_IER_RDI);
	ASSERT_SET_IRQS(irq_bool(&self->m, intx, VFIO_IRQ_SET_ACTION_MASK, 1), "MASK BOOL 1");
	RDI_CAUSE(0);
	ASSERT_SET_IRQS(irq_bool(&self->m, intx, VFIO_IRQ_SET_ACTION_UNMASK, 0), "UNMASK BOOL 0");
	RDI_CAUSE(0);
	EXPECT_IRQS(0, self->efd, "causes after MASK DATA_BOOL 1, and after UNMASK DATA_BOOL 0");
	ASSERT_SET_IRQS(irq_bool(&self->m, intx, VFIO_IRQ_SET_ACTION_UNMASK, 1), "UNMASK BOOL 1");
	RDI_CAUSE(0);
	EXPECT_IRQS(1, self->efd, "unmasked with DATA_BOOL 1");
	ASSERT_SET_IRQS(irq_none(&self->m, intx, VFIO_IRQ_SET_ACTION_UNMASK), "UNMASK NONE");
	ASSERT_SET_IRQS(irq_bool(&self->m, intx, VFIO_IRQ_SET_ACTION_MASK, 0), "MASK BOOL 0");
	RDI_CAUSE(0);
	EXPECT_IRQS(1, self->efd, "MASK DATA_BOOL 0 does not mask");
	ASSERT_SET_IRQS(irq_none(&self->m, intx, VFIO_IRQ_SET_ACTION_UNMASK), "UNMASK NONE");
	ASSERT_SET_IRQS(irq_none(&self->m, intx, VFIO_IRQ_SET_ACTION_MASK), "MASK NONE");
	RDI_CAUSE(0);
	EXPECT_IRQS(0, self->efd, "masked with DATA_NONE");
	ASSERT_SET_IRQS(irq_none(&self->m, intx, VFIO_IRQ_SET_ACTION_UNMASK), "UNMASK NONE");
	RDI_CAUSE(0);
	EXPECT_IRQS(1, self->efd, "unmasked with DATA_NONE");
}

TEST_F(mtty, intx_mask_eventfd)
{
	const uint32_t intx = VFIO_PCI_INTX_IRQ_INDEX;

	/* Before INTx is armed, there is nothing to mask. */
	EXPECT_SET_IRQS_FAILS(EINVAL, irq_none(&self->m, intx, VFIO_IRQ_SET_ACTION_MASK),
			      "MASK with INTx not armed");
	ASSERT_SET_IRQS(irq_arm(&self->m, intx, self->efd), "arming INTx");
	EXPECT_SET_IRQS_ERR(ENOTTY, irq_efd(&self->m, intx, VFIO_IRQ_SET_ACTION_MASK, self->efd2),
			    "MASK DATA_EVENTFD");
	EXPECT_SET_IRQS_ERR(ENOTTY, irq_efd(&self->m, intx, VFIO_IRQ_SET_ACTION_UNMASK,
					    self->efd2), "UNMASK DATA_EVENTFD");
	SET(0, UART_IER, UART_IER_RDI);
	RDI_CAUSE(0);
	EXPECT_IRQS(1, self->efd, "INTx still works, unmasked");
}

TEST_F(mtty, msi_fires_every_cause)
{
	int i, p;

	ASSERT_SET_IRQS(irq_arm(&self->m, VFIO_PCI_MSI_IRQ_INDEX, self->efd), "arming MSI");
	for (p = 0; p < self->m.ports; p++) {
		SET(p, UART_IER, UART_IER_RDI);
		for (i = 0; i < 3; i++) {
			RDI_CAUSE(p);
			EXPECT_IRQS(1, self->efd, "port %d, cause %d: MSI is not masked", p, i);
		}
		SET(p, UART_IER, 0);
	}
	EXPECT_SET_IRQS_FAILS(ENOTTY, irq_none(&self->m, VFIO_PCI_MSI_IRQ_INDEX,
					       VFIO_IRQ_SET_ACTION_MASK), "MASK on MSI");
	EXPECT_SET_IRQS_FAILS(ENOTTY, irq_none(&self->m, VFIO_PCI_MSI_IRQ_INDEX,
					       VFIO_IRQ_SET_ACTION_UNMASK), "UNMASK on MSI");
}

TEST_F(mtty, intx_msi_exclusive)
{
	const uint32_t intx = VFIO_PCI_INTX_IRQ_INDEX, msi = VFIO_PCI_MSI_IRQ_INDEX;

	ASSERT_SET_IRQS(irq_arm(&self->m, intx, self->efd), "arming INTx");
	EXPECT_SET_IRQS_ERR(EINVAL, irq_arm(&self->m, msi, self->efd2), "arming MSI with INTx armed");
	EXPECT_SET_IRQS_ERR(EINVAL, irq_none(&self->m, msi, VFIO_IRQ_SET_ACTION_TRIGGER),
			    "triggering MSI with INTx armed");
	SET(0, UART_IER, UART_IER_RDI);
	RDI_CAUSE(0);
	EXPECT_IRQS(1, self->efd, "INTx stays armed");
	EXPECT_IRQS(0, self->efd2, "the MSI eventfd was not armed");
	ASSERT_SET_IRQS(irq_arm(&self->m, intx, -1), "disarming INTx");

	ASSERT_SET_IRQS(irq_arm(&self->m, msi, self->efd2), "arming MSI once INTx is disarmed");
	EXPECT_SET_IRQS_ERR(EINVAL, irq_arm(&self->m, intx, self->efd), "arming INTx with MSI armed");
	EXPECT_SET_IRQS_ERR(EINVAL, irq_none(&self->m, intx, VFIO_IRQ_SET_ACTION_TRIGGER),
			    "triggering INTx with MSI armed");
	RDI_CAUSE(0);
	EXPECT_IRQS(1, self->efd2, "MSI stays armed");
	EXPECT_IRQS(0, self->efd, "the INTx eventfd is no longer armed");
	ASSERT_SET_IRQS(irq_arm(&self->m, msi, -1), "disarming MSI");
	ASSERT_SET_IRQS(irq_arm(&self->m, intx, self->efd), "arming INTx once MSI is disarmed");
}

TEST_F(mtty, loopback_trigger)
{
	uint32_t index;

	for (index = VFIO_PCI_INTX_IRQ_INDEX; index <= VFIO_PCI_MSI_IRQ_INDEX; index++) {
		const char *name = irq_name(index);

		EXPECT_SET_IRQS_FAILS(EINVAL, irq_none(&self->m, index,
						       VFIO_IRQ_SET_ACTION_TRIGGER),
				      "DATA_NONE trigger, nothing armed");
		ASSERT_SET_IRQS(irq_arm(&self->m, index, self->efd), "arming");
		ASSERT_SET_IRQS(irq_none(&self->m, index, VFIO_IRQ_SET_ACTION_TRIGGER),
				"DATA_NONE trigger");
		EXPECT_IRQS(1, self->efd, "%s: DATA_NONE trigger", name);
		if (index == VFIO_PCI_INTX_IRQ_INDEX) {
			/* A loopback trigger is masked as any cause. */
			ASSERT_SET_IRQS(irq_none(&self->m, index, VFIO_IRQ_SET_ACTION_TRIGGER),
					"DATA_NONE trigger");
			ASSERT_SET_IRQS(irq_none(&self->m, index, VFIO_IRQ_SET_ACTION_UNMASK),
					"UNMASK");
		}
		ASSERT_SET_IRQS(irq_bool(&self->m, index, VFIO_IRQ_SET_ACTION_TRIGGER, 0),
				"DATA_BOOL 0 trigger");
		EXPECT_IRQS(0, self->efd, "%s: DATA_BOOL 0 trigger (INTx: and a trigger while masked)",
			    name);
		ASSERT_SET_IRQS(irq_bool(&self->m, index, VFIO_IRQ_SET_ACTION_TRIGGER, 1),
				"DATA_BOOL 1 trigger");
		EXPECT_IRQS(1, self->efd, "%s: DATA_BOOL 1 trigger", name);
		ASSERT_SET_IRQS(irq_arm(&self->m, index, -1), "disarming");
	}
}

TEST_F(mtty, disarm)
{
	uint32_t index;

	SET(0, UART_IER, UART_IER_RDI);
	for (index = VFIO_PCI_INTX_IRQ_INDEX; index <= VFIO_PCI_MSI_IRQ_INDEX; index++) {
		const char *name = irq_name(index);

		ASSERT_SET_IRQS(irq_arm(&self->m, index, self->efd), "arming");
		ASSERT_SET_IRQS(irq_arm(&self->m, index, -1), "disarming with fd -1");
		RDI_CAUSE(0);
		EXPECT_SET_IRQS_FAILS(EINVAL, irq_none(&self->m, index,
						       VFIO_IRQ_SET_ACTION_TRIGGER),
				      "DATA_NONE trigger after disarming");
		ASSERT_SET_IRQS(irq_arm(&self->m, index, self->efd2), "arming");
		ASSERT_SET_IRQS(irq_count0(&self->m, index), "disarming with count 0");
		RDI_CAUSE(0);
		EXPECT_IRQS(0, self->efd, "%s: a cause after disarming with fd -1", name);
		/* The wait above was long enough for this one too. */
		EXPECT_EQ(0, irq_count(self->efd2, 0))
			TH_LOG("%s: a cause after disarming with count 0 signalled", name);
		ASSERT_SET_IRQS(irq_arm(&self->m, index, -1), "disarming with fd -1, unarmed");
	}
}

TEST_F(mtty, close_disarms)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	uint32_t index;

	SET(0, UART_IER, UART_IER_RDI);
	for (index = VFIO_PCI_INTX_IRQ_INDEX; index <= VFIO_PCI_MSI_IRQ_INDEX; index++) {
		ASSERT_SET_IRQS(irq_arm(&self->m, index, self->efd), "arming");
		close(self->m.dev.device);
		self->m.dev.device = -1;
		ASSERT_EQ(0, vfio_dev_get_device(&self->m.dev)) TH_LOG("%s", self->m.dev.why);
		ASSERT_EQ(0, ioctl(self->m.dev.device, VFIO_DEVICE_GET_INFO, &info))
			TH_LOG("VFIO_DEVICE_GET_INFO: %s", strerror(errno));
		RDI_CAUSE(0);
		/* Disarmed: the other index can be armed, and fires. */
		ASSERT_SET_IRQS(irq_arm(&self->m, !index, self->efd2), "arming the other index");
		RDI_CAUSE(0);
		EXPECT_IRQS(1, self->efd2, "%s armed after the close", irq_name(!index));
		ASSERT_SET_IRQS(irq_arm(&self->m, !index, -1), "disarming");
	}
	EXPECT_IRQS(0, self->efd, "causes after the device fd was closed with INTx, then MSI armed");
}

TEST_F(mtty, bad_eventfd)
{
	int32_t closed;

	closed = dup(self->efd2);
	ASSERT_LE(0, closed) TH_LOG("dup: %s", strerror(errno));
	close(closed);
	EXPECT_SET_IRQS_FAILS(EBADF, irq_arm(&self->m, VFIO_PCI_INTX_IRQ_INDEX, closed),
			      "arming INTx with a closed fd");
	EXPECT_SET_IRQS_FAILS(EINVAL, irq_arm(&self->m, VFIO_PCI_INTX_IRQ_INDEX,
					      self->m.dev.device),
			      "arming INTx with an fd that is no eventfd");
	EXPECT_SET_IRQS_FAILS(EINVAL, irq_none(&self->m, VFIO_PCI_INTX_IRQ_INDEX,
					       VFIO_IRQ_SET_ACTION_TRIGGER),
			      "DATA_NONE trigger after failed arming");
}

TEST_F(mtty, other_indexes)
{
	uint32_t index;

	/* MSI-X, ERR and REQ have no interrupts: every action fails. */
	for (index = VFIO_PCI_MSIX_IRQ_INDEX; index < VFIO_PCI_NUM_IRQS; index++) {
		char what[64];

		snprintf(what, sizeof(what), "arming %s", irq_name(index));
		EXPECT_SET_IRQS_FAILS(ENOTTY, irq_arm(&self->m, index, self->efd), what);
		snprintf(what, sizeof(what), "DATA_NONE trigger on %s", irq_name(index));
		EXPECT_SET_IRQS_FAILS(ENOTTY, irq_none(&self->m, index,
						       VFIO_IRQ_SET_ACTION_TRIGGER), what);
	}
	EXPECT_SET_IRQS_FAILS(EINVAL, irq_arm(&self->m, VFIO_PCI_NUM_IRQS, self->efd),
			      "arming an index beyond num_irqs");
	EXPECT_IRQS(0, self->efd, "none of these armed the eventfd");
}

/* On the last port: BAR1's interrupts on a two-port device. */
TEST_F(mtty, thri)
{
	int p = self->m.ports - 1;

	ASSERT_SET_IRQS(irq_arm(&self->m, VFIO_PCI_MSI_IRQ_INDEX, self->efd), "arming MSI");
	SET(p, UART_TX, 0x61);
	SET(p, UART_TX, 0x62);
	SET(p, UART_IER, UART_IER_THRI);
	EXPECT_REG(0x61, p, UART_RX, "byte 1");
	EXPECT_IRQS(0, self->efd, "port %d: IER THRI written, a byte read, one left", p);
	EXPECT_REG(0x62, p, UART_RX, "byte 2");
	EXPECT_IRQS(1, self->efd, "port %d: reading the last byte empties the FIFO", p);
	SET(p, UART_IER, 0);
	SET(p, UART_IER, UART_IER_THRI);
	EXPECT_IRQS(1, self->efd, "port %d: IER THRI written, FIFO empty", p);
	SET(p, UART_IER, 0);
}

TEST_F(mtty, mcr_modem_status)
{
	static const struct { uint8_t mcr; const char *what; } fire[] = {
		{ UART_MCR_OUT2, "OUT2" },
		{ UART_MCR_RTS, "RTS" },
		{ UART_MCR_DTR, "DTR" },
		{ UART_MCR_OUT2 | UART_MCR_RTS | UART_MCR_DTR, "OUT2|RTS|DTR" },
	};
	int p = self->m.ports - 1;
	size_t i;

	ASSERT_SET_IRQS(irq_arm(&self->m, VFIO_PCI_MSI_IRQ_INDEX, self->efd), "arming MSI");
	SET(p, UART_IER, UART_IER_MSI);
	for (i = 0; i < ARRAY_SIZE(fire); i++) {
		SET(p, UART_MCR, fire[i].mcr);
		/* OUT2 and RTS|DTR are two causes for mtty, hence "at least". */
		EXPECT_LE(1, irq_count(self->efd, IRQ_TIMEOUT_MS))
			TH_LOG("port %d: IER MSI, MCR %s: no interrupt", p, fire[i].what);
	}
	SET(p, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT1);
	SET(p, UART_IER, 0);
	SET(p, UART_MCR, UART_MCR_OUT2 | UART_MCR_RTS);
	EXPECT_IRQS(0, self->efd, "port %d: IER MSI with MCR LOOP|OUT1, IER 0 with MCR OUT2|RTS", p);
	SET(p, UART_MCR, 0);
}

/* --- Reset and accesses outside the regions --- */

TEST_F(mtty, reset)
{
	/* What reset leaves is recorded by --trace; here only that it answers 0. */
	EXPECT_EQ(0, ioctl(self->m.dev.device, VFIO_DEVICE_RESET))
		TH_LOG("VFIO_DEVICE_RESET: %s", strerror(errno));
	SET(0, UART_SCR, 0x3c);
	EXPECT_REG(0x3c, 0, UART_SCR, "the device works after a reset");
}

/* Regions that do not exist: ROM, VGA, and indexes beyond num_regions. */
TEST_F(mtty, outside_regions)
{
	static const uint32_t none[] = {
		VFIO_PCI_ROM_REGION_INDEX, VFIO_PCI_VGA_REGION_INDEX, VFIO_PCI_NUM_REGIONS, 100,
	};
	uint8_t byte = 0;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(none); i++) {
		EXPECT_GT(0, pread(self->m.dev.device, &byte, 1, region_offset(none[i])))
			TH_LOG("a read of region %u succeeded", none[i]);
		EXPECT_GT(0, pwrite(self->m.dev.device, &byte, 1, region_offset(none[i])))
			TH_LOG("a write to region %u succeeded", none[i]);
	}
}

/*
 * The whole config space, then the registers of every port that can be read
 * without an effect, into BUF of MTTY_CONFIG_SIZE + 16 bytes.
 */
static void snapshot(struct __test_metadata *_metadata, struct mtty *m, uint8_t *buf)
{
	static const int regs[] = { UART_IER, UART_IIR, UART_LCR, UART_MCR, UART_LSR,
				    UART_MSR, UART_SCR };
	size_t i;
	int p;

	memset(buf, 0, MTTY_CONFIG_SIZE + 16);
	ASSERT_EQ(MTTY_CONFIG_SIZE, config_read(&m->dev, buf, MTTY_CONFIG_SIZE, 0))
		TH_LOG("reading config space: %s", strerror(errno));
	for (p = 0; p < m->ports; p++)
		for (i = 0; i < ARRAY_SIZE(regs); i++)
			buf[MTTY_CONFIG_SIZE + p * ARRAY_SIZE(regs) + i] =
				uart_get(_metadata, m, p, regs[i]);
}

/*
 * Accesses past the end of a region.  The C mtty does not check them: it
 * takes a write past BAR0's 8 bytes or config's 0xff and does nothing with
 * it, answers a read there with bytes it never wrote (past config space,
 * from beyond its allocation), and serves BAR1 of a one-port device from a
 * second port it keeps unused.  So by default the writes must fail or
 * change nothing that can be read, and no read is made; with
 * MDEV_MTTY_STRICT_BOUNDS=1 every such access must fail.  BAR2 to BAR5 are
 * only touched then: the C mtty would serve them from beyond its array of
 * two ports.
 */
TEST_F(mtty, past_region_end)
{
	struct { uint64_t off; const char *what; } past[4 + 4];
	uint8_t before[MTTY_CONFIG_SIZE + 16], after[MTTY_CONFIG_SIZE + 16];
	struct vfio_dev *dev = &self->m.dev;
	uint8_t byte = 0x5a, pair[2];
	size_t n = 0, i;
	int bar;

	past[n].off = self->m.bar[0] + MTTY_BAR_SIZE;
	past[n++].what = "BAR0 at 8";
	past[n].off = dev->config.offset + MTTY_CONFIG_SIZE;
	past[n++].what = "config at 0xff";
	past[n].off = self->m.bar[1] + (self->m.ports == 2 ? MTTY_BAR_SIZE : UART_SCR);
	past[n++].what = self->m.ports == 2 ? "BAR1 at 8" : "BAR1 (size 0) at 7";
	if (self->m.strict_bounds)
		for (bar = 2; bar < 6; bar++) {
			past[n].off = region_offset(bar);
			past[n++].what = "BAR2-5 (size 0) at 0";
		}

	snapshot(_metadata, &self->m, before);
	for (i = 0; i < n; i++) {
		ssize_t ret = pwrite(dev->device, &byte, 1, past[i].off);

		if (self->m.strict_bounds) {
			EXPECT_GT(0, ret) TH_LOG("a 1-byte write to %s succeeded", past[i].what);
		} else if (ret >= 0) {
			ksft_print_msg("a 1-byte write to %s succeeded (ignored?)\n", past[i].what);
		}
	}
	snapshot(_metadata, &self->m, after);
	for (i = 0; i < sizeof(before); i++) {
		EXPECT_EQ(before[i], after[i])
			TH_LOG("writes past the regions' ends changed %s byte %zu",
			       i < MTTY_CONFIG_SIZE ? "config" : "UART register", i);
	}
	if (!self->m.strict_bounds)
		return;
	for (i = 0; i < n; i++) {
		EXPECT_GT(0, pread(dev->device, &byte, 1, past[i].off))
			TH_LOG("a 1-byte read of %s succeeded", past[i].what);
	}
	EXPECT_GT(0, pread(dev->device, pair, 2, dev->config.offset + MTTY_CONFIG_SIZE - 1))
		TH_LOG("a 2-byte config read across its end (0xfe) succeeded");
}

/*
 * --- mtty_client --trace ---
 *
 * One line per observation, from a fixed sequence on a fresh device, to be
 * compared with another driver's by diff.  Nothing that is not
 * deterministic is printed: no byte mtty never wrote, no errno where drivers
 * may differ for no reason a guest could see (accesses outside the regions
 * print only "fails").  Writes are printed too, so that a difference reads
 * in its context.  The eventfds are read after every step that may signal.
 * mtty signals from within the access or the ioctl that causes it, so a
 * short quiet time tells that nothing came; a driver that signalled later
 * would show as a difference, if only in where the count appears.
 */

#define TRACE_QUIET_MS	10

static uint8_t t_get(struct mtty *m, int port, int reg, const char *name)
{
	uint8_t value = 0;

	if (uart_read(m, port, reg, &value) == 1)
		say("port%d %s = 0x%02x", port, name, value);
	else
		say("port%d %s: %s", port, name, errname(errno));
	return value;
}

static void t_set(struct mtty *m, int port, int reg, const char *name, uint8_t value)
{
	if (uart_write(m, port, reg, value) == 1)
		say("port%d %s <- 0x%02x", port, name, value);
	else
		say("port%d %s <- 0x%02x: %s", port, name, value, errname(errno));
}

#define T_GET(p, reg)		t_get(m, p, reg, rd_name[reg])
#define T_SET(p, reg, v)	t_set(m, p, reg, wr_name[reg], v)

/* N bytes FIRST, FIRST + 1, ... into THR, as one line. */
static void t_fill(struct mtty *m, int port, int first, int n)
{
	int i, failed = 0;

	for (i = 0; i < n; i++)
		if (uart_write(m, port, UART_TX, first + i) != 1 && !failed)
			failed = errno;
	say("port%d THR <- 0x%02x..0x%02x (%d bytes)%s%s", port, first, first + n - 1, n,
	    failed ? ": " : "", failed ? errname(failed) : "");
}

/* What eventfd NAME counted since it was last read. */
static void t_irq(const char *name, int efd)
{
	uint64_t n = irq_count(efd, TRACE_QUIET_MS);

	if (n)
		say("irq: %s fired %llu", name, (unsigned long long)n);
	else
		say("irq: %s none", name);
}

static void t_setirqs(const char *what, int ret)
{
	say("SET_IRQS %s: %s", what, res(ret));
}

/* The info ioctls, starting on a device nobody has asked GET_INFO yet. */
static void trace_info(struct mtty *m, int efd)
{
	struct vfio_device_info dinfo = { .argsz = sizeof(dinfo) };
	uint32_t i;
	int ret;

	section("device info");
	/* mtty answers the irq ioctls only once GET_INFO has been asked. */
	for (i = VFIO_PCI_INTX_IRQ_INDEX; i <= VFIO_PCI_MSI_IRQ_INDEX; i++) {
		struct vfio_irq_info info = { .argsz = sizeof(info), .index = i };

		ret = ioctl(m->dev.device, VFIO_DEVICE_GET_IRQ_INFO, &info);
		if (ret)
			say("GET_IRQ_INFO index %u before GET_INFO: %s", i, res(ret));
		else
			say("GET_IRQ_INFO index %u before GET_INFO: flags 0x%x count %u",
			    i, info.flags, info.count);
	}
	ret = irq_arm(m, VFIO_PCI_INTX_IRQ_INDEX, efd);
	t_setirqs("INTx eventfd before GET_INFO", ret);
	if (!ret)
		irq_arm(m, VFIO_PCI_INTX_IRQ_INDEX, -1);

	ret = ioctl(m->dev.device, VFIO_DEVICE_GET_INFO, &dinfo);
	if (ret)
		say("GET_INFO: %s", res(ret));
	else
		say("GET_INFO: flags 0x%x num_regions %u num_irqs %u", dinfo.flags,
		    dinfo.num_regions, dinfo.num_irqs);
	for (i = 0; i <= VFIO_PCI_NUM_REGIONS; i++) {
		struct vfio_region_info info = { .argsz = sizeof(info), .index = i };

		ret = ioctl(m->dev.device, VFIO_DEVICE_GET_REGION_INFO, &info);
		if (ret)
			say("GET_REGION_INFO index %u: %s", i, res(ret));
		else
			say("GET_REGION_INFO index %u: size 0x%llx offset 0x%llx flags 0x%x", i,
			    (unsigned long long)info.size, (unsigned long long)info.offset,
			    info.flags);
	}
	for (i = 0; i <= VFIO_PCI_NUM_IRQS; i++) {
		struct vfio_irq_info info = { .argsz = sizeof(info), .index = i };

		ret = ioctl(m->dev.device, VFIO_DEVICE_GET_IRQ_INFO, &info);
		if (ret)
			say("GET_IRQ_INFO index %u: %s", i, res(ret));
		else
			say("GET_IRQ_INFO index %u: flags 0x%x count %u", i, info.flags,
			    info.count);
	}
}

static void trace_config(struct mtty *m)
{
	int bar;

	section("config space");
	t_cfg_dump(&m->dev, MTTY_CONFIG_SIZE);
	t_cfg_write_read(&m->dev, PCI_COMMAND, 2, "command", 0xffff);
	t_cfg_write_read(&m->dev, PCI_COMMAND, 2, "command", 0x0000);
	t_cfg_write_read(&m->dev, PCI_COMMAND, 4, "command+status", 0xffffffff);
	for (bar = 0; bar < 6; bar++) {
		int off = PCI_BASE_ADDRESS_0 + 4 * bar;
		char name[8];

		snprintf(name, sizeof(name), "BAR%d", bar);
		t_cfg_get(&m->dev, off, 4, name);
		t_cfg_write_read(&m->dev, off, 4, name, 0xffffffff);
		if (bar > 1)
			continue;
		t_cfg_write_read(&m->dev, off, 4, name, 0xc000 + 0x10 * bar);
		/* An address not aligned to the BAR's size. */
		t_cfg_write_read(&m->dev, off, 4, name, 0xc00a + 0x10 * bar);
		t_cfg_write_read(&m->dev, off, 4, name, 0);
	}
	t_cfg_write_read(&m->dev, PCI_ROM_ADDRESS, 4, "ROM", 0xffffffff);
	t_cfg_write_read(&m->dev, PCI_INTERRUPT_LINE, 1, "line", 0x5a);
	t_cfg_write_read(&m->dev, PCI_INTERRUPT_LINE, 4, "line..max_lat", 0xffff020b);
	t_cfg_write_read(&m->dev, PCI_INTERRUPT_PIN, 1, "pin", 0x04);
	t_cfg_set(&m->dev, PCI_VENDOR_ID, 4, "IDs", 0x12345678);
	t_cfg_set(&m->dev, PCI_REVISION_ID, 4, "class", 0xffffffff);
	t_cfg_set(&m->dev, PCI_SUBSYSTEM_VENDOR_ID, 4, "subsystem", 0);
	t_cfg_set(&m->dev, PCI_CAPABILITY_LIST, 1, "cap", 0x40);
	t_cfg_set(&m->dev, 0x40, 4, "vendor", 0);
	t_cfg_set(&m->dev, 0x60, 4, "string", 0x41414141);
	t_cfg_set(&m->dev, 0xfe, 1, "last", 0x77);
	say("config space after the writes:");
	t_cfg_dump(&m->dev, MTTY_CONFIG_SIZE);
	/* Leave BAR0 as a VMM would: at an address. */
	t_cfg_set(&m->dev, PCI_BASE_ADDRESS_0, 4, "BAR0", 0xc000);
}

static void trace_uart(struct mtty *m, int p)
{
	int i;

	say("== uart port %d", p);
	/* As the device was created; RBR is not read while the FIFO is empty. */
	for (i = UART_IER; i <= UART_SCR; i++)
		T_GET(p, i);
	/* Before any FCR write. */
	T_SET(p, UART_IER, UART_IER_RDI);
	T_GET(p, UART_IIR);
	T_SET(p, UART_TX, 0x41);
	T_GET(p, UART_IIR);
	T_GET(p, UART_LSR);
	T_GET(p, UART_RX);
	T_GET(p, UART_LSR);
	T_SET(p, UART_IER, 0);
	T_SET(p, UART_FCR, FCR_ON_CLEAR);

	say("loopback");
	T_SET(p, UART_TX, 'm');
	T_SET(p, UART_TX, 't');
	T_SET(p, UART_TX, 'y');
	T_GET(p, UART_LSR);
	for (i = 0; i < 3; i++)
		T_GET(p, UART_RX);
	T_GET(p, UART_LSR);

	say("FIFO and overrun");
	t_fill(m, p, 0x30, MTTY_FIFO_SIZE - 1);
	T_GET(p, UART_LSR);
	for (i = 0; i < MTTY_FIFO_SIZE - 1; i++)
		T_GET(p, UART_RX);
	T_GET(p, UART_LSR);
	T_SET(p, UART_IER, UART_IER_RLSI);
	t_fill(m, p, 0x30, MTTY_FIFO_SIZE - 1);
	T_GET(p, UART_MSR);
	T_SET(p, UART_MCR, UART_MCR_AFE);
	T_GET(p, UART_MSR);
	T_SET(p, UART_TX, 0x3f);
	/* 16 bytes: from now until the FIFO is cleared, RBR is not read. */
	T_GET(p, UART_LSR);
	T_GET(p, UART_IIR);
	T_GET(p, UART_MSR);
	T_SET(p, UART_IER, UART_IER_RLSI | UART_IER_THRI);
	T_GET(p, UART_IIR);
	T_SET(p, UART_IER, UART_IER_RLSI);
	T_SET(p, UART_TX, 0x7f);
	T_GET(p, UART_LSR);
	T_GET(p, UART_LSR);
	T_GET(p, UART_IIR);
	T_GET(p, UART_MSR);
	T_SET(p, UART_FCR, FCR_ON_CLEAR);
	T_GET(p, UART_LSR);
	T_GET(p, UART_IIR);
	T_SET(p, UART_TX, 0x42);
	T_GET(p, UART_LSR);
	T_GET(p, UART_RX);
	T_GET(p, UART_LSR);
	T_SET(p, UART_MCR, 0);
	T_SET(p, UART_IER, 0);

	say("FIFO clear");
	t_fill(m, p, 0x01, 3);
	T_SET(p, UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR);
	T_GET(p, UART_LSR);
	t_fill(m, p, 0x01, 2);
	T_SET(p, UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_XMIT);
	T_GET(p, UART_LSR);
	T_SET(p, UART_TX, 0x05);
	T_SET(p, UART_FCR, UART_FCR_ENABLE_FIFO);
	T_GET(p, UART_LSR);
	T_GET(p, UART_RX);

	say("FIFO off");
	T_SET(p, UART_FCR, 0);
	T_SET(p, UART_TX, 'a');
	T_GET(p, UART_LSR);
	T_GET(p, UART_MSR);
	T_SET(p, UART_MCR, UART_MCR_AFE);
	T_GET(p, UART_MSR);
	T_SET(p, UART_MCR, 0);
	T_SET(p, UART_TX, 'b');
	T_GET(p, UART_LSR);
	T_GET(p, UART_RX);
	T_GET(p, UART_LSR);
	T_SET(p, UART_FCR, FCR_ON_CLEAR);
	T_SET(p, UART_TX, 'c');
	T_GET(p, UART_LSR);
	T_GET(p, UART_RX);
	T_GET(p, UART_LSR);

	say("FIFO trigger level");
	T_SET(p, UART_FCR, FCR_ON_CLEAR | UART_FCR_TRIGGER_14);
	T_SET(p, UART_IER, UART_IER_RDI);
	T_SET(p, UART_TX, 0x01);
	T_GET(p, UART_IIR);
	T_GET(p, UART_RX);
	T_SET(p, UART_IER, 0);
	T_SET(p, UART_FCR, FCR_ON_CLEAR);

	say("DLAB");
	T_SET(p, UART_IER, UART_IER_RDI | UART_IER_RLSI);
	T_SET(p, UART_LCR, UART_LCR_DLAB | UART_LCR_WLEN8);
	T_GET(p, UART_LCR);
	t_set(m, p, UART_DLL, "DLL", 0x0c);
	t_set(m, p, UART_DLM, "DLM", 0x01);
	t_get(m, p, UART_DLL, "DLL");
	t_get(m, p, UART_DLM, "DLM");
	t_set(m, p, UART_DLL, "DLL", 0x30);
	t_get(m, p, UART_DLL, "DLL");
	T_GET(p, UART_IIR);
	T_GET(p, UART_LSR);
	T_SET(p, UART_LCR, UART_LCR_WLEN8);
	T_GET(p, UART_LCR);
	T_GET(p, UART_IER);
	T_SET(p, UART_LCR, UART_LCR_DLAB | UART_LCR_WLEN8);
	t_get(m, p, UART_DLL, "DLL");
	t_get(m, p, UART_DLM, "DLM");
	T_SET(p, UART_LCR, 0);
	T_SET(p, UART_IER, 0);

	say("IER");
	T_SET(p, UART_IER, 0xff);
	T_GET(p, UART_IER);
	T_GET(p, UART_IIR);
	T_SET(p, UART_IER, 0xa5);
	T_GET(p, UART_IER);
	T_SET(p, UART_IER, 0);

	say("IIR");
	T_SET(p, UART_IER, UART_IER_RDI);
	T_GET(p, UART_IIR);
	T_SET(p, UART_TX, 0x01);
	T_GET(p, UART_IIR);
	T_SET(p, UART_IER, UART_IER_THRI);
	T_GET(p, UART_IIR);
	T_GET(p, UART_RX);
	T_GET(p, UART_IIR);
	T_SET(p, UART_IER, 0x0f);
	T_GET(p, UART_IIR);
	T_SET(p, UART_MCR, UART_MCR_DTR | UART_MCR_RTS);
	T_GET(p, UART_IIR);
	T_SET(p, UART_IER, UART_IER_MSI);
	T_GET(p, UART_IIR);
	T_SET(p, UART_MCR, 0);
	T_SET(p, UART_IER, UART_IER_RDI | UART_IER_RLSI);
	t_fill(m, p, 0x00, MTTY_FIFO_SIZE + 1);
	T_GET(p, UART_IIR);
	T_SET(p, UART_FCR, FCR_ON_CLEAR);
	T_GET(p, UART_IIR);
	T_SET(p, UART_TX, 0x00);
	T_GET(p, UART_IIR);
	T_SET(p, UART_FCR, FCR_ON_CLEAR);
	T_SET(p, UART_IER, 0);

	say("MCR, MSR, LCR, SCR, LSR");
	T_SET(p, UART_MCR, 0xff);
	T_GET(p, UART_MCR);
	T_GET(p, UART_MSR);
	T_SET(p, UART_MCR, 0);
	T_SET(p, UART_LCR, 0x1b);
	T_GET(p, UART_LCR);
	T_SET(p, UART_LCR, 0);
	T_SET(p, UART_SCR, 0xa5);
	T_GET(p, UART_SCR);
	T_SET(p, UART_SCR, 0x5a);
	T_GET(p, UART_SCR);
	T_SET(p, UART_LSR, 0xff);
	T_SET(p, UART_MSR, 0x00);
	T_GET(p, UART_LSR);
	T_GET(p, UART_MSR);
}

static void trace_ports(struct mtty *m)
{
	section("two ports");
	T_SET(0, UART_TX, 0x33);
	T_SET(0, UART_SCR, 0x11);
	T_SET(0, UART_IER, UART_IER_RDI);
	T_GET(1, UART_LSR);
	T_GET(1, UART_SCR);
	T_GET(1, UART_IER);
	T_SET(1, UART_LCR, UART_LCR_DLAB);
	T_SET(0, UART_TX, 0x44);
	T_GET(0, UART_RX);
	T_GET(0, UART_RX);
	T_SET(1, UART_LCR, 0);
	T_SET(0, UART_IER, 0);
}

/* A receive-data interrupt cause on PORT, IER RDI set. */
static void t_rdi_cause(struct mtty *m, int p)
{
	T_SET(p, UART_FCR, FCR_ON_CLEAR);
	T_SET(p, UART_TX, 0x55);
}

static void trace_intx(struct mtty *m, int intx, int intx2, int msi)
{
	const uint32_t x = VFIO_PCI_INTX_IRQ_INDEX;
	int32_t closed;
	uint32_t i;
	int p;

	section("INTx");
	t_setirqs("INTx trigger DATA_NONE, nothing armed", irq_none(m, x, VFIO_IRQ_SET_ACTION_TRIGGER));
	t_setirqs("INTx trigger count 0, nothing armed", irq_count0(m, x));
	t_setirqs("INTx mask DATA_NONE, nothing armed", irq_none(m, x, VFIO_IRQ_SET_ACTION_MASK));
	t_setirqs("INTx unmask DATA_NONE, nothing armed",
		  irq_none(m, x, VFIO_IRQ_SET_ACTION_UNMASK));
	t_setirqs("INTx eventfd -1, nothing armed", irq_arm(m, x, -1));
	t_setirqs("INTx eventfd", irq_arm(m, x, intx));
	t_irq("intx", intx);
	T_SET(0, UART_IER, UART_IER_RDI);
	T_SET(0, UART_TX, 0x01);
	t_irq("intx", intx);
	T_SET(0, UART_TX, 0x02);
	t_irq("intx", intx);
	t_rdi_cause(m, 0);
	t_irq("intx", intx);
	t_setirqs("INTx unmask DATA_NONE", irq_none(m, x, VFIO_IRQ_SET_ACTION_UNMASK));
	t_irq("intx", intx);
	t_rdi_cause(m, 0);
	t_irq("intx", intx);
	t_setirqs("INTx mask DATA_EVENTFD", irq_efd(m, x, VFIO_IRQ_SET_ACTION_MASK, intx2));
	t_setirqs("INTx unmask DATA_EVENTFD", irq_efd(m, x, VFIO_IRQ_SET_ACTION_UNMASK, intx2));
	t_setirqs("INTx unmask DATA_BOOL 0", irq_bool(m, x, VFIO_IRQ_SET_ACTION_UNMASK, 0));
	t_rdi_cause(m, 0);
	t_irq("intx", intx);
	t_setirqs("INTx unmask DATA_BOOL 1", irq_bool(m, x, VFIO_IRQ_SET_ACTION_UNMASK, 1));
	t_rdi_cause(m, 0);
	t_irq("intx", intx);
	t_setirqs("INTx unmask DATA_NONE", irq_none(m, x, VFIO_IRQ_SET_ACTION_UNMASK));
	t_setirqs("INTx mask DATA_BOOL 0", irq_bool(m, x, VFIO_IRQ_SET_ACTION_MASK, 0));
	t_rdi_cause(m, 0);
	t_irq("intx", intx);
	t_setirqs("INTx unmask DATA_NONE", irq_none(m, x, VFIO_IRQ_SET_ACTION_UNMASK));
	t_setirqs("INTx mask DATA_BOOL 1", irq_bool(m, x, VFIO_IRQ_SET_ACTION_MASK, 1));
	t_rdi_cause(m, 0);
	t_irq("intx", intx);
	t_setirqs("INTx unmask DATA_NONE", irq_none(m, x, VFIO_IRQ_SET_ACTION_UNMASK));
	t_setirqs("INTx mask DATA_NONE", irq_none(m, x, VFIO_IRQ_SET_ACTION_MASK));
	t_setirqs("INTx mask DATA_NONE count 0",
		  set_irqs(&m->dev, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK, x, 0,
			   NULL, 0));
	t_rdi_cause(m, 0);
	t_irq("intx", intx);
	t_setirqs("INTx unmask DATA_NONE", irq_none(m, x, VFIO_IRQ_SET_ACTION_UNMASK));
	t_setirqs("INTx trigger DATA_NONE", irq_none(m, x, VFIO_IRQ_SET_ACTION_TRIGGER));
	t_irq("intx", intx);
	t_setirqs("INTx trigger DATA_NONE", irq_none(m, x, VFIO_IRQ_SET_ACTION_TRIGGER));
	t_irq("intx", intx);
	t_setirqs("INTx unmask DATA_NONE", irq_none(m, x, VFIO_IRQ_SET_ACTION_UNMASK));
	t_setirqs("INTx trigger DATA_BOOL 0", irq_bool(m, x, VFIO_IRQ_SET_ACTION_TRIGGER, 0));
	t_irq("intx", intx);
	t_setirqs("INTx trigger DATA_BOOL 1", irq_bool(m, x, VFIO_IRQ_SET_ACTION_TRIGGER, 1));
	t_irq("intx", intx);

	say("MSI and the other indexes while INTx is armed");
	t_setirqs("MSI eventfd", irq_arm(m, VFIO_PCI_MSI_IRQ_INDEX, msi));
	t_setirqs("MSI trigger DATA_NONE",
		  irq_none(m, VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER));
	t_setirqs("MSI trigger count 0", irq_count0(m, VFIO_PCI_MSI_IRQ_INDEX));
	t_setirqs("MSI eventfd -1", irq_arm(m, VFIO_PCI_MSI_IRQ_INDEX, -1));
	t_setirqs("MSI mask DATA_NONE",
		  irq_none(m, VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_SET_ACTION_MASK));
	for (i = VFIO_PCI_MSIX_IRQ_INDEX; i <= VFIO_PCI_NUM_IRQS; i++) {
		char what[48];

		snprintf(what, sizeof(what), "index %u (%s) eventfd", i, irq_name(i));
		t_setirqs(what, irq_arm(m, i, msi));
		snprintf(what, sizeof(what), "index %u (%s) trigger DATA_NONE", i, irq_name(i));
		t_setirqs(what, irq_none(m, i, VFIO_IRQ_SET_ACTION_TRIGGER));
	}
	t_irq("msi", msi);
	t_irq("intx", intx);

	say("re-arming INTx");
	t_setirqs("INTx unmask DATA_NONE", irq_none(m, x, VFIO_IRQ_SET_ACTION_UNMASK));
	t_setirqs("INTx trigger DATA_NONE", irq_none(m, x, VFIO_IRQ_SET_ACTION_TRIGGER));
	t_irq("intx", intx);
	t_setirqs("INTx eventfd intx2 (while masked)", irq_arm(m, x, intx2));
	t_rdi_cause(m, 0);
	t_irq("intx", intx);
	t_irq("intx2", intx2);
	for (p = 0; p < m->ports; p++) {
		t_setirqs("INTx unmask DATA_NONE", irq_none(m, x, VFIO_IRQ_SET_ACTION_UNMASK));
		T_SET(p, UART_IER, UART_IER_RDI);
		t_rdi_cause(m, p);
		t_irq("intx2", intx2);
		T_SET(p, UART_IER, 0);
	}
	t_setirqs("INTx unmask DATA_NONE", irq_none(m, x, VFIO_IRQ_SET_ACTION_UNMASK));
	closed = dup(intx2);
	close(closed);
	t_setirqs("INTx eventfd (a closed fd)", irq_arm(m, x, closed));
	t_setirqs("INTx trigger DATA_NONE after the failed arm",
		  irq_none(m, x, VFIO_IRQ_SET_ACTION_TRIGGER));
	t_irq("intx2 after the failed arm", intx2);
	t_setirqs("INTx eventfd (the device fd)", irq_arm(m, x, m->dev.device));

	say("modem status with INTx");
	t_setirqs("INTx eventfd", irq_arm(m, x, intx));
	T_SET(0, UART_IER, UART_IER_MSI);
	T_SET(0, UART_MCR, UART_MCR_OUT2 | UART_MCR_RTS | UART_MCR_DTR);
	t_irq("intx", intx);
	t_setirqs("INTx unmask DATA_NONE", irq_none(m, x, VFIO_IRQ_SET_ACTION_UNMASK));
	T_SET(0, UART_MCR, 0);
	t_irq("intx", intx);
	T_SET(0, UART_IER, 0);

	say("disarming INTx");
	T_SET(0, UART_IER, UART_IER_RDI);
	t_setirqs("INTx eventfd -1", irq_arm(m, x, -1));
	t_rdi_cause(m, 0);
	t_irq("intx", intx);
	t_setirqs("INTx trigger DATA_NONE", irq_none(m, x, VFIO_IRQ_SET_ACTION_TRIGGER));
	t_setirqs("INTx eventfd", irq_arm(m, x, intx));
	t_setirqs("INTx trigger count 0", irq_count0(m, x));
	t_rdi_cause(m, 0);
	t_irq("intx", intx);
	t_setirqs("INTx trigger count 0", irq_count0(m, x));
	T_SET(0, UART_IER, 0);
}

static void trace_msi(struct mtty *m, int msi, int intx)
{
	const uint32_t x = VFIO_PCI_MSI_IRQ_INDEX;
	uint8_t unwritten;
	int i, p;

	section("MSI");
	t_setirqs("MSI eventfd", irq_arm(m, x, msi));
	t_setirqs("INTx eventfd", irq_arm(m, VFIO_PCI_INTX_IRQ_INDEX, intx));
	t_setirqs("INTx trigger DATA_NONE",
		  irq_none(m, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER));
	t_setirqs("INTx mask DATA_NONE",
		  irq_none(m, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_MASK));
	t_setirqs("INTx eventfd -1", irq_arm(m, VFIO_PCI_INTX_IRQ_INDEX, -1));
	t_setirqs("INTx trigger count 0", irq_count0(m, VFIO_PCI_INTX_IRQ_INDEX));
	t_setirqs("MSI mask DATA_NONE", irq_none(m, x, VFIO_IRQ_SET_ACTION_MASK));
	t_setirqs("MSI unmask DATA_NONE", irq_none(m, x, VFIO_IRQ_SET_ACTION_UNMASK));
	t_setirqs("MSI mask DATA_EVENTFD", irq_efd(m, x, VFIO_IRQ_SET_ACTION_MASK, intx));
	t_irq("msi", msi);
	t_irq("intx", intx);

	say("every cause fires");
	for (p = 0; p < m->ports; p++) {
		T_SET(p, UART_IER, UART_IER_RDI);
		for (i = 0; i < 2; i++) {
			t_rdi_cause(m, p);
			t_irq("msi", msi);
		}
		T_SET(p, UART_TX, 0x56);
		t_irq("msi", msi);
		T_SET(p, UART_IER, 0);
	}
	t_setirqs("MSI trigger DATA_NONE", irq_none(m, x, VFIO_IRQ_SET_ACTION_TRIGGER));
	t_irq("msi", msi);
	t_setirqs("MSI trigger DATA_BOOL 0", irq_bool(m, x, VFIO_IRQ_SET_ACTION_TRIGGER, 0));
	t_irq("msi", msi);
	t_setirqs("MSI trigger DATA_BOOL 1", irq_bool(m, x, VFIO_IRQ_SET_ACTION_TRIGGER, 1));
	t_irq("msi", msi);

	say("line status");
	T_SET(0, UART_FCR, FCR_ON_CLEAR);
	T_SET(0, UART_IER, UART_IER_RLSI);
	t_fill(m, 0, 0x00, MTTY_FIFO_SIZE);
	t_irq("msi", msi);
	T_SET(0, UART_TX, 0x10);
	t_irq("msi", msi);
	T_SET(0, UART_TX, 0x11);
	t_irq("msi", msi);
	T_SET(0, UART_FCR, FCR_ON_CLEAR);
	T_SET(0, UART_TX, 0x00);
	t_irq("msi", msi);
	T_SET(0, UART_FCR, FCR_ON_CLEAR);
	T_SET(0, UART_IER, 0);

	say("transmitter empty");
	T_SET(0, UART_TX, 0x61);
	T_SET(0, UART_TX, 0x62);
	T_SET(0, UART_IER, UART_IER_THRI);
	t_irq("msi", msi);
	T_GET(0, UART_RX);
	t_irq("msi", msi);
	T_GET(0, UART_RX);
	t_irq("msi", msi);
	T_SET(0, UART_IER, 0);
	t_irq("msi", msi);
	T_SET(0, UART_IER, UART_IER_THRI);
	t_irq("msi", msi);
	/* The FIFO is empty: mtty answers with a byte it never wrote, not printed. */
	say("port0 RBR read with the FIFO empty (value not recorded)");
	uart_read(m, 0, UART_RX, &unwritten);
	t_irq("msi", msi);
	T_SET(0, UART_IER, 0);

	say("modem status");
	T_SET(0, UART_IER, UART_IER_MSI);
	T_SET(0, UART_MCR, UART_MCR_OUT2);
	t_irq("msi", msi);
	T_SET(0, UART_MCR, UART_MCR_RTS);
	t_irq("msi", msi);
	T_SET(0, UART_MCR, UART_MCR_DTR);
	t_irq("msi", msi);
	T_SET(0, UART_MCR, UART_MCR_OUT2 | UART_MCR_RTS);
	t_irq("msi", msi);
	T_SET(0, UART_MCR, UART_MCR_LOOP);
	t_irq("msi", msi);
	T_SET(0, UART_MCR, 0);
	t_irq("msi", msi);
	T_SET(0, UART_IER, 0);
	T_SET(0, UART_MCR, UART_MCR_OUT2 | UART_MCR_RTS);
	t_irq("msi", msi);
	T_SET(0, UART_MCR, 0);

	say("disarming MSI");
	T_SET(0, UART_IER, UART_IER_RDI);
	t_setirqs("MSI trigger count 0", irq_count0(m, x));
	t_rdi_cause(m, 0);
	t_irq("msi", msi);
	t_setirqs("MSI trigger count 0", irq_count0(m, x));
	t_setirqs("MSI eventfd", irq_arm(m, x, msi));
	t_setirqs("MSI eventfd -1", irq_arm(m, x, -1));
	t_rdi_cause(m, 0);
	t_irq("msi", msi);
	t_setirqs("MSI trigger DATA_NONE", irq_none(m, x, VFIO_IRQ_SET_ACTION_TRIGGER));
	T_SET(0, UART_IER, 0);
}

/* Closing the device fd; reopened without a new GET_INFO. */
static void t_reopen(struct mtty *m)
{
	close(m->dev.device);
	m->dev.device = -1;
	if (vfio_dev_get_device(&m->dev))
		say("device fd closed, reopening it: %s", m->dev.why);
	else
		say("device fd closed and reopened");
}

static void trace_close(struct mtty *m, int intx, int msi)
{
	section("close");
	t_setirqs("INTx eventfd", irq_arm(m, VFIO_PCI_INTX_IRQ_INDEX, intx));
	t_reopen(m);
	T_SET(0, UART_IER, UART_IER_RDI);
	t_rdi_cause(m, 0);
	t_irq("intx", intx);
	t_setirqs("INTx trigger DATA_NONE",
		  irq_none(m, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER));
	t_setirqs("MSI eventfd", irq_arm(m, VFIO_PCI_MSI_IRQ_INDEX, msi));
	t_rdi_cause(m, 0);
	t_irq("msi", msi);
	t_reopen(m);
	t_rdi_cause(m, 0);
	t_irq("msi", msi);
	t_setirqs("MSI trigger DATA_NONE",
		  irq_none(m, VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER));
	T_SET(0, UART_IER, 0);
	/* The UART state outlives the opens. */
	T_GET(0, UART_LSR);
	T_GET(0, UART_RX);
}

static void trace_reset(struct mtty *m, int msi)
{
	int i;

	section("reset");
	t_setirqs("MSI eventfd", irq_arm(m, VFIO_PCI_MSI_IRQ_INDEX, msi));
	T_SET(0, UART_SCR, 0x5a);
	T_SET(0, UART_IER, UART_IER_RDI);
	T_SET(0, UART_LCR, UART_LCR_WLEN8);
	T_SET(0, UART_MCR, UART_MCR_AFE);
	T_SET(0, UART_FCR, 0);
	T_SET(0, UART_TX, 0x41);
	t_irq("msi", msi);
	t_cfg_set(&m->dev, PCI_INTERRUPT_LINE, 1, "line", 0x33);
	t_cfg_set(&m->dev, PCI_BASE_ADDRESS_0, 4, "BAR0", 0xc040);
	say("VFIO_DEVICE_RESET: %s", res(ioctl(m->dev.device, VFIO_DEVICE_RESET)));
	t_irq("msi", msi);
	for (i = UART_IER; i <= UART_SCR; i++)
		T_GET(0, i);
	T_GET(0, UART_RX);
	T_SET(0, UART_TX, 0x42);
	t_irq("msi", msi);
	T_GET(0, UART_LSR);
	t_cfg_get(&m->dev, PCI_COMMAND, 2, "command");
	t_cfg_get(&m->dev, PCI_BASE_ADDRESS_0, 4, "BAR0");
	t_cfg_get(&m->dev, PCI_INTERRUPT_LINE, 1, "line");
	t_rdi_cause(m, 0);
	t_irq("msi", msi);
	t_setirqs("MSI eventfd -1", irq_arm(m, VFIO_PCI_MSI_IRQ_INDEX, -1));
	T_SET(0, UART_IER, 0);
	T_SET(0, UART_MCR, 0);
	T_SET(0, UART_LCR, 0);
	T_SET(0, UART_FCR, FCR_ON_CLEAR);
}

/* Only writes, and only "OK" or "fails": see past_region_end. */
static void t_outside(struct mtty *m, uint64_t off, const char *what, int do_read)
{
	uint8_t byte = 0;

	if (do_read)
		say("%s: read %s", what, pread(m->dev.device, &byte, 1, off) < 0 ? "fails" : "OK");
	say("%s: write %s", what, pwrite(m->dev.device, &byte, 1, off) < 0 ? "fails" : "OK");
}

static void trace_bounds(struct mtty *m)
{
	static const uint32_t none[] = {
		VFIO_PCI_ROM_REGION_INDEX, VFIO_PCI_VGA_REGION_INDEX, VFIO_PCI_NUM_REGIONS, 100,
	};
	char what[64];
	size_t i;

	section("outside the regions");
	for (i = 0; i < ARRAY_SIZE(none); i++) {
		snprintf(what, sizeof(what), "region %u, 1 byte at 0", none[i]);
		t_outside(m, region_offset(none[i]), what, 1);
	}
	t_outside(m, m->bar[0] + MTTY_BAR_SIZE, "BAR0, 1 byte at 0x8 (past the end)", 0);
	t_outside(m, m->dev.config.offset + MTTY_CONFIG_SIZE,
		  "config, 1 byte at 0xff (past the end)", 0);
	if (m->ports == 2)
		t_outside(m, m->bar[1] + MTTY_BAR_SIZE, "BAR1, 1 byte at 0x8 (past the end)", 0);
	else
		t_outside(m, m->bar[1] + UART_SCR, "BAR1 (size 0), 1 byte at 0x7", 0);
	T_GET(0, UART_SCR);
	T_GET(0, UART_LSR);
}

static int run_trace(void)
{
	struct mtty m = { 0 };
	int intx, intx2, msi, p;

	setvbuf(stdout, NULL, _IOLBF, 0);
	intx = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	intx2 = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	msi = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (intx < 0 || intx2 < 0 || msi < 0) {
		perror("mtty_client --trace: eventfd");
		return KSFT_FAIL;
	}
	if (mtty_open(&m, 0)) {
		fprintf(stderr, "mtty_client --trace: %s\n", m.dev.why);
		return KSFT_FAIL;
	}
	say("mtty trace: %d port%s", m.ports, m.ports > 1 ? "s" : "");
	trace_info(&m, intx);
	trace_config(&m);
	for (p = 0; p < m.ports; p++)
		trace_uart(&m, p);
	if (m.ports > 1)
		trace_ports(&m);
	trace_intx(&m, intx, intx2, msi);
	trace_msi(&m, msi, intx);
	trace_close(&m, intx, msi);
	trace_reset(&m, msi);
	trace_bounds(&m);
	say("end of trace");
	vfio_dev_close(&m.dev);
	return KSFT_PASS;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--trace"))
		return run_trace();
	return test_harness_run(argc, argv);
}
