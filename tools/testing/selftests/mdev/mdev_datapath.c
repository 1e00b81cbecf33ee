// SPDX-License-Identifier: GPL-2.0
/*
 * mdev_datapath - what one access to a mediated device costs through its
 * VFIO device fd (`make bench`, the data path; Documentation/benchmark.rst).
 *
 *   mdev_datapath mtty BATCHES C_NAME=UUID RUST_NAME=UUID
 *	An mtty device of the C sample and one of its Rust port, opened as a
 *	VMM opens them (vfio_dev.h: container, type1v2), timed side by side:
 *	  lsr-read     pread() of 1 byte, LSR of port 0 (BAR0 + 5)
 *	  scr-write    pwrite() of 1 byte, SCR of port 0 (BAR0 + 7)
 *	  cfg-read     pread() of 4 bytes of config space (the IDs, offset 0)
 *	  region-info  ioctl(VFIO_DEVICE_GET_REGION_INFO) of BAR0
 *	  irq          trigger to eventfd: pwrite() of a byte to THR with
 *	               IER's receive-data interrupt on and INTx armed with an
 *	               eventfd, until poll() sees the eventfd readable and
 *	               read() has taken its count (untimed in between: the
 *	               FIFO is cleared and INTx unmasked, as a VMM unmasks)
 *
 *   mdev_datapath mdpy BATCHES C_NAME=UUID RUST_NAME=UUID
 *	The same for mdpy and its Rust port: cfg-read, region-info, and
 *	  fb-read-4k   pread() of 4 KiB of the framebuffer (BAR0) through the
 *	               fd rather than a mapping
 *
 *   mdev_datapath dma BATCHES NAME=UUID
 *	The Rust sample (mdev_rs_sample), which has no C counterpart:
 *	  dma-4k        pwrite() of DMA_CMD = copy with DMA_LEN 4096: the device
 *	                writes 4 KiB into a page mapped with VFIO_IOMMU_MAP_DMA,
 *	                through vfio_dma_rw()
 *	  reg-write     pwrite() of SCRATCH: the same trapped write, no DMA
 *	  bar2-write-4k pwrite() of 4 KiB into BAR2 through the fd: 4 KiB moved
 *	                into device memory by another path
 *	The copied bytes and DMA_STATUS are checked at the end.
 *
 * Every figure but irq is timed in batches of BATCH operations; irq is timed
 * one interrupt at a time.  After two warm-up batches per device, BATCHES
 * batches (irq: BATCHES interrupts) per device, alternating between the two
 * devices (and which goes first), so that both see the same machine.  One
 * line per operation and device:
 *	bench-dp OP NAME MEDIAN_NS MIN_NS COUNT
 * where the median and the minimum are over the batches, per operation.
 */
#define _GNU_SOURCE		/* strerrorname_np(), in vfio_dev.h */
/*
 * vfio_dev.h's config helpers are harness checks, so the harness comes
 * first; this program has no tests, hence its runner is left unused.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop
#include "vfio_dev.h"

#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>

#define BATCH		32
#define UART_TX		0	/* THR, written */
#define UART_IER	1
#define UART_FCR	2
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_SCR	7
#define IER_RDI		0x01
#define FCR_CLEAR	0x07	/* FIFO on, both FIFOs cleared, trigger level 1 */

/* The Rust sample's BAR0 registers (samples/mdev_rs_sample.rs). */
#define SAMPLE_SCRATCH		0x04
#define SAMPLE_DMA_ADDR_LO	0x14
#define SAMPLE_DMA_ADDR_HI	0x18
#define SAMPLE_DMA_LEN		0x1c
#define SAMPLE_DMA_CMD		0x20
#define SAMPLE_DMA_STATUS	0x24
#define SAMPLE_DMA_COPY		1
#define DMA_IOVA		0x100000ULL
#define DMA_LEN			4096

struct dp {
	const char *name;
	struct vfio_dev dev;
	uint64_t bar0, bar2;
	int efd;
	uint8_t *buf;		/* dma: the page the device writes */
};

static void die(const struct dp *d, const char *what, int err)
{
	fprintf(stderr, "mdev_datapath: %s%s%s: %s\n", d ? d->name : "", d ? ": " : "", what,
		err ? strerror(err) : "unexpected answer");
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static uint64_t region_offset(struct dp *d, uint32_t index)
{
	struct vfio_region_info info = { .argsz = sizeof(info), .index = index };

	if (ioctl(d->dev.device, VFIO_DEVICE_GET_REGION_INFO, &info))
		die(d, "VFIO_DEVICE_GET_REGION_INFO", errno);
	return info.offset;
}

/* NAME=UUID: open the device as vfio_dev.h does, then GET_INFO as a VMM. */
static void dp_open(struct dp *d, char *arg)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	char *eq = strchr(arg, '=');

	memset(d, 0, sizeof(*d));
	d->efd = -1;
	if (!eq)
		die(NULL, "a device is NAME=UUID", EINVAL);
	*eq = '\0';
	d->name = arg;
	setenv("MDEV_UUID", eq + 1, 1);
	if (vfio_dev_open(&d->dev)) {
		fprintf(stderr, "mdev_datapath: %s: %s\n", d->name, d->dev.why);
		exit(1);
	}
	/* The C mtty answers irq ioctls only after this. */
	if (ioctl(d->dev.device, VFIO_DEVICE_GET_INFO, &info))
		die(d, "VFIO_DEVICE_GET_INFO", errno);
	d->bar0 = region_offset(d, VFIO_PCI_BAR0_REGION_INDEX);
	d->bar2 = region_offset(d, VFIO_PCI_BAR2_REGION_INDEX);
}

static void put8(struct dp *d, uint64_t off, uint8_t value)
{
	if (pwrite(d->dev.device, &value, 1, off) != 1)
		die(d, "a 1-byte write", errno);
}

static void put32(struct dp *d, uint64_t off, uint32_t value)
{
	if (pwrite(d->dev.device, &value, 4, off) != 4)
		die(d, "a 4-byte write", errno);
}

static uint32_t get32(struct dp *d, uint64_t off)
{
	uint32_t value;

	if (pread(d->dev.device, &value, 4, off) != 4)
		die(d, "a 4-byte read", errno);
	return value;
}

/* --- The operations, one call each --- */

static void op_lsr_read(struct dp *d)
{
	uint8_t value;

	if (pread(d->dev.device, &value, 1, d->bar0 + UART_LSR) != 1)
		die(d, "reading LSR", errno);
}

static void op_scr_write(struct dp *d)
{
	put8(d, d->bar0 + UART_SCR, 0x5a);
}

static void op_cfg_read(struct dp *d)
{
	uint32_t value;

	if (config_read(&d->dev, &value, 4, 0) != 4)
		die(d, "reading config space", errno);
}

static void op_region_info(struct dp *d)
{
	struct vfio_region_info info = { .argsz = sizeof(info), .index = VFIO_PCI_BAR0_REGION_INDEX };

	if (ioctl(d->dev.device, VFIO_DEVICE_GET_REGION_INFO, &info))
		die(d, "VFIO_DEVICE_GET_REGION_INFO", errno);
}

static void op_fb_read_4k(struct dp *d)
{
	static uint8_t buf[4096];

	if (pread(d->dev.device, buf, sizeof(buf), d->bar0) != sizeof(buf))
		die(d, "reading 4 KiB of BAR0", errno);
}

static void op_dma_4k(struct dp *d)
{
	put32(d, d->bar0 + SAMPLE_DMA_CMD, SAMPLE_DMA_COPY);
}

static void op_reg_write(struct dp *d)
{
	put32(d, d->bar0 + SAMPLE_SCRATCH, 0x12345678);
}

static void op_bar2_write_4k(struct dp *d)
{
	static uint8_t buf[4096];

	if (pwrite(d->dev.device, buf, sizeof(buf), d->bar2) != sizeof(buf))
		die(d, "writing 4 KiB of BAR2", errno);
}

/* --- Timing --- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *op, struct dp *d, uint64_t *ns, int n)
{
	qsort(ns, n, sizeof(*ns), cmp_u64);
	printf("bench-dp %s %s %llu %llu %d\n", op, d->name,
	       (unsigned long long)(n % 2 ? ns[n / 2] : (ns[n / 2 - 1] + ns[n / 2]) / 2),
	       (unsigned long long)ns[0], n);
	fflush(stdout);
}

/* Nanoseconds per operation of one batch of BATCH calls of OP. */
static uint64_t batch(void (*op)(struct dp *), struct dp *d)
{
	uint64_t start = now_ns();
	int i;

	for (i = 0; i < BATCH; i++)
		op(d);
	return (now_ns() - start) / BATCH;
}

/* OP on each of the N devices D (1 or 2), BATCHES batches each, interleaved. */
static void measure(const char *name, void (*op)(struct dp *), struct dp *d, int n, int batches)
{
	uint64_t *ns[2];
	int i, k;

	for (k = 0; k < n; k++) {
		ns[k] = calloc(batches, sizeof(uint64_t));
		if (!ns[k])
			die(NULL, "calloc", errno);
		batch(op, &d[k]);
		batch(op, &d[k]);
	}
	for (i = 0; i < batches; i++)
		for (k = 0; k < n; k++) {
			/* Odd rounds take the devices in the other order. */
			int which = i % 2 ? n - 1 - k : k;

			ns[which][i] = batch(op, &d[which]);
		}
	for (k = 0; k < n; k++) {
		report(name, &d[k], ns[k], batches);
		free(ns[k]);
	}
}

/* INTx armed on an eventfd, IER's receive-data interrupt on, port 0. */
static void irq_setup(struct dp *d)
{
	d->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->efd < 0)
		die(d, "eventfd", errno);
	if (set_irqs(&d->dev, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
		     VFIO_PCI_INTX_IRQ_INDEX, 1, &d->efd, sizeof(d->efd)))
		die(d, "arming INTx", errno);
	put8(d, d->bar0 + UART_LCR, 0);
	put8(d, d->bar0 + UART_IER, 0);
	put8(d, d->bar0 + UART_MCR, 0);
	put8(d, d->bar0 + UART_FCR, FCR_CLEAR);
	put8(d, d->bar0 + UART_IER, IER_RDI);
}

/* One interrupt: the FIFO cleared and INTx unmasked, then timed. */
static uint64_t irq_once(struct dp *d)
{
	uint64_t start, count;

	put8(d, d->bar0 + UART_FCR, FCR_CLEAR);
	if (set_irqs(&d->dev, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK,
		     VFIO_PCI_INTX_IRQ_INDEX, 1, NULL, 0))
		die(d, "unmasking INTx", errno);
	if (read(d->efd, &count, sizeof(count)) == sizeof(count))
		die(d, "an interrupt came before its cause", 0);
	start = now_ns();
	put8(d, d->bar0 + UART_TX, 0x55);
	if (poll_in(d->efd, 1000) != 1)
		die(d, "no interrupt within 1 s of a byte to THR", errno);
	if (read(d->efd, &count, sizeof(count)) != sizeof(count) || count != 1)
		die(d, "reading the eventfd", errno);
	return now_ns() - start;
}

static void measure_irq(struct dp *d, int n, int events)
{
	uint64_t *ns[2];
	int i, k;

	for (k = 0; k < n; k++) {
		irq_setup(&d[k]);
		ns[k] = calloc(events, sizeof(uint64_t));
		if (!ns[k])
			die(NULL, "calloc", errno);
		for (i = 0; i < 2 * BATCH; i++)
			irq_once(&d[k]);
	}
	for (i = 0; i < events; i++)
		for (k = 0; k < n; k++) {
			int which = i % 2 ? n - 1 - k : k;

			ns[which][i] = irq_once(&d[which]);
		}
	for (k = 0; k < n; k++) {
		report("irq", &d[k], ns[k], events);
		free(ns[k]);
	}
}

/* The page the sample copies into, and its DMA registers set for 4 KiB. */
static void dma_setup(struct dp *d)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.iova = DMA_IOVA,
		.size = DMA_LEN,
	};

	d->buf = mmap(NULL, DMA_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (d->buf == MAP_FAILED)
		die(d, "mmap", errno);
	map.vaddr = (uintptr_t)d->buf;
	if (ioctl(d->dev.container, VFIO_IOMMU_MAP_DMA, &map))
		die(d, "VFIO_IOMMU_MAP_DMA", errno);
	put32(d, d->bar0 + SAMPLE_DMA_ADDR_LO, (uint32_t)DMA_IOVA);
	put32(d, d->bar0 + SAMPLE_DMA_ADDR_HI, (uint32_t)(DMA_IOVA >> 32));
	put32(d, d->bar0 + SAMPLE_DMA_LEN, DMA_LEN);
}

/* The copies reached the page, whole, and the device saw no error. */
static void dma_check(struct dp *d)
{
	uint32_t status = get32(d, d->bar0 + SAMPLE_DMA_STATUS);
	int i;

	if (status)
		die(d, "DMA_STATUS after the copies", status);
	for (i = 0; i < DMA_LEN; i++)
		if (d->buf[i] != ((i % 256) ^ 0x5a))
			die(d, "the bytes the copies wrote", 0);
}

int main(int argc, char **argv)
{
	struct dp d[2];
	int batches, n, k;

	if (argc < 4)
		goto usage;
	batches = atoi(argv[2]);
	n = argc - 3;
	if (batches < 1 || n > 2)
		goto usage;
	for (k = 0; k < n; k++)
		dp_open(&d[k], argv[3 + k]);
	if (!strcmp(argv[1], "mtty")) {
		measure("lsr-read", op_lsr_read, d, n, batches);
		measure("scr-write", op_scr_write, d, n, batches);
		measure("cfg-read", op_cfg_read, d, n, batches);
		measure("region-info", op_region_info, d, n, batches);
		measure_irq(d, n, batches);
	} else if (!strcmp(argv[1], "mdpy")) {
		measure("cfg-read", op_cfg_read, d, n, batches);
		measure("region-info", op_region_info, d, n, batches);
		measure("fb-read-4k", op_fb_read_4k, d, n, batches);
	} else if (!strcmp(argv[1], "dma") && n == 1) {
		dma_setup(d);
		measure("dma-4k", op_dma_4k, d, n, batches);
		dma_check(d);
		measure("reg-write", op_reg_write, d, n, batches);
		measure("bar2-write-4k", op_bar2_write_4k, d, n, batches);
	} else {
		goto usage;
	}
	for (k = 0; k < n; k++) {
		vfio_dev_close(&d[k].dev);
		if (d[k].efd >= 0)
			close(d[k].efd);
	}
	return 0;
usage:
	fprintf(stderr, "usage: mdev_datapath mtty|mdpy BATCHES C_NAME=UUID RUST_NAME=UUID\n"
			"       mdev_datapath dma BATCHES NAME=UUID\n");
	return 2;
}
