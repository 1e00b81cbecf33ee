// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_fuzz - a seeded fuzzer of a mediated device's VFIO device fd: what a
 * user holding the fd can throw at the vendor driver and at the VFIO glue.
 *
 *   MDEV_UUID=<uuid> vfio_fuzz SEED CALLS
 *
 * Opens the device as a VMM does (vfio_dev.h), maps one page of its own for
 * DMA, then makes CALLS calls drawn from a generator seeded with SEED (the
 * same SEED makes the same calls), each one of:
 *   ioctl    a device ioctl (VFIO's numbers, and a few outside them) with
 *            random argsz, flags, index, start and count, on a buffer of
 *            random bytes;
 *   rw       pread or pwrite of 1 to 64 bytes at a random offset of a
 *            random region index (valid or not), aligned or not;
 *   mmap     a random length, offset, protection and sharing of a random
 *            region; a mapping that succeeds is touched at its first and
 *            last byte (read, and written if writable), then unmapped;
 *   irqs     VFIO_DEVICE_SET_IRQS with a random action and data type, over
 *            random ranges, with eventfds, -1 or bad fds as data;
 *   dma      VFIO_IOMMU_MAP_DMA or UNMAP_DMA of the page at a random IOVA,
 *            and writes of random values to random BAR0 registers (the
 *            sample's DMA commands are there).
 * A touch of a mapping the kernel granted that faults (SIGBUS, SIGSEGV) is
 * counted, not fatal.  Prints "fuzz-calls KIND RESULT COUNT" lines, where
 * RESULT is OK or an errno name, and "fuzz-faults N", then checks that the
 * device still answers VFIO_DEVICE_GET_INFO.  Exits 1 if it does not, 2 on a
 * usage or setup error.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "vfio_dev.h"

enum kind { K_IOCTL, K_RW, K_MMAP, K_IRQS, K_DMA, NR_KINDS };
static const char *const kind_names[NR_KINDS] = { "ioctl", "rw", "mmap", "irqs", "dma" };
#define MAX_ERRNO 256
static unsigned long counts[NR_KINDS][MAX_ERRNO];
static unsigned long faults;

static uint64_t rng;

/* splitmix64, as mdev_storm. */
static uint64_t next(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t below(uint32_t n)
{
	return n ? next() % n : 0;
}

/* A value that is often at an edge: 0, small, a power of two +-1, or any. */
static uint32_t edgy(void)
{
	switch (below(6)) {
	case 0:
		return 0;
	case 1:
		return below(16);
	case 2:
		return (1u << below(32)) - 1;
	case 3:
		return 1u << below(32);
	case 4:
		return UINT32_MAX - below(4);
	default:
		return next();
	}
}

static void count(enum kind kind, long ret)
{
	int err = ret < 0 ? errno : 0;

	if (err < 0 || err >= MAX_ERRNO)
		err = MAX_ERRNO - 1;
	counts[kind][err]++;
}

static sigjmp_buf touch_env;

static void on_fault(int sig)
{
	siglongjmp(touch_env, sig);
}

static struct vfio_dev dev;
static int eventfds[4];
static void *dma_page;

static uint64_t region_offset(uint32_t index)
{
	return (uint64_t)index << 40;
}

static void fuzz_ioctl(void)
{
	static const unsigned int numbers[] = {
		VFIO_DEVICE_GET_INFO, VFIO_DEVICE_GET_REGION_INFO, VFIO_DEVICE_GET_IRQ_INFO,
		VFIO_DEVICE_SET_IRQS, VFIO_DEVICE_RESET, VFIO_DEVICE_QUERY_GFX_PLANE,
		VFIO_DEVICE_GET_GFX_DMABUF, VFIO_DEVICE_IOEVENTFD, VFIO_DEVICE_FEATURE,
		VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, _IO(VFIO_TYPE, VFIO_BASE + 40),
		_IO('X', 1),
	};
	uint32_t buf[64];
	unsigned int i, cmd = numbers[below(sizeof(numbers) / sizeof(numbers[0]))];

	for (i = 0; i < 64; i++)
		buf[i] = edgy();
	/* argsz first, often right-sized, then flags, index, start, count. */
	buf[0] = below(3) ? 16 + 4 * below(20) : edgy();
	if (below(2))
		buf[1] = 0;
	if (below(2))
		buf[2] = below(12);
	/* A feature ioctl must not start a migration: only its probe. */
	if (cmd == VFIO_DEVICE_FEATURE)
		buf[1] = (buf[1] & ~VFIO_DEVICE_FEATURE_SET) | VFIO_DEVICE_FEATURE_PROBE;
	count(K_IOCTL, ioctl(dev.device, cmd, buf));
}

static void fuzz_rw(void)
{
	uint8_t buf[64];
	static const uint32_t likely[] = { 0, 1, 2, VFIO_PCI_CONFIG_REGION_INDEX };
	uint32_t index = below(2) ? likely[below(4)] : (below(2) ? below(17) : edgy());
	uint64_t off = below(2) ? below(256) : (below(2) ? edgy() : below(0x20000));
	size_t len = below(2) ? 1u << below(4) : 1 + below(64);
	unsigned int i;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = next();
	if (below(2))
		count(K_RW, pread(dev.device, buf, len, region_offset(index) + off));
	else
		count(K_RW, pwrite(dev.device, buf, len, region_offset(index) + off));
}

static void fuzz_mmap(void)
{
	uint32_t index = below(4) ? below(17) : edgy();
	size_t len = below(2) ? 4096u << below(5) : 1 + below(0x40000);
	uint64_t off = below(2) ? 4096ull * below(16) : below(0x40000);
	int prot = (int[]){ PROT_READ, PROT_WRITE, PROT_READ | PROT_WRITE, PROT_NONE }[below(4)];
	int flags = below(5) ? MAP_SHARED : MAP_PRIVATE;
	volatile uint8_t *map;
	int sig;

	map = mmap(NULL, len, prot, flags, dev.device, region_offset(index) + off);
	count(K_MMAP, map == MAP_FAILED ? -1 : 0);
	if (map == MAP_FAILED)
		return;
	sig = sigsetjmp(touch_env, 1);
	if (!sig) {
		if (prot & PROT_READ)
			(void)map[0], (void)map[len - 1];
		if (prot & PROT_WRITE)
			map[0] = next(), map[len - 1] = next();
	} else {
		faults++;
	}
	munmap((void *)map, len);
}

static void fuzz_irqs(void)
{
	static const uint32_t data_types[] = {
		VFIO_IRQ_SET_DATA_NONE, VFIO_IRQ_SET_DATA_BOOL, VFIO_IRQ_SET_DATA_EVENTFD,
	};
	static const uint32_t actions[] = {
		VFIO_IRQ_SET_ACTION_MASK, VFIO_IRQ_SET_ACTION_UNMASK, VFIO_IRQ_SET_ACTION_TRIGGER,
	};
	struct {
		struct vfio_irq_set set;
		int32_t data[8];
	} arg;
	unsigned int i;

	arg.set.flags = below(6) ? data_types[below(3)] | actions[below(3)] : edgy();
	arg.set.index = below(4) ? below(6) : edgy();
	arg.set.start = below(3) ? 0 : edgy();
	arg.set.count = below(3) ? below(3) : (below(2) ? 8 : edgy());
	/* Mostly the size the header and data need, else anything. */
	if (below(4)) {
		uint32_t each = arg.set.flags & VFIO_IRQ_SET_DATA_BOOL ? 1 :
				arg.set.flags & VFIO_IRQ_SET_DATA_EVENTFD ? 4 : 0;

		arg.set.argsz = sizeof(arg.set) + (arg.set.count < 8 ? arg.set.count : 8) * each;
	} else {
		arg.set.argsz = below(2) ? sizeof(arg) : edgy();
	}
	for (i = 0; i < 8; i++) {
		switch (below(4)) {
		case 0:
			arg.data[i] = -1;
			break;
		case 1:
			arg.data[i] = next();
			break;
		default:
			arg.data[i] = eventfds[below(4)];
		}
	}
	count(K_IRQS, ioctl(dev.device, VFIO_DEVICE_SET_IRQS, &arg));
}

static void fuzz_dma(void)
{
	uint64_t iova = 4096ull * below(8);

	switch (below(3)) {
	case 0:
		count(K_DMA, vfio_dev_dma_map(&dev, dma_page, iova, 4096));
		break;
	case 1:
		count(K_DMA, vfio_dev_dma_unmap(&dev, iova, 4096 * (1 + below(2))) < 0 ? -1 : 0);
		break;
	default: {
		/* A BAR0 register: the sample's DMA address, length and command. */
		uint32_t value = below(2) ? iova + below(4096) : edgy();
		uint64_t reg = 4 * below(16);

		count(K_DMA, pwrite(dev.device, &value, 4, region_offset(0) + reg));
	}
	}
}

int main(int argc, char **argv)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct sigaction sa = { .sa_handler = on_fault };
	unsigned long calls, i;
	int kind, err;

	/* vfio_dev.h needs the harness, whose runner this program does not use. */
	(void)test_harness_run;
	if (argc != 3) {
		fprintf(stderr, "usage: MDEV_UUID=<uuid> %s SEED CALLS\n", argv[0]);
		return 2;
	}
	rng = strtoull(argv[1], NULL, 0);
	calls = strtoul(argv[2], NULL, 0);
	if (vfio_dev_open(&dev)) {
		fprintf(stderr, "vfio_fuzz: %s\n", dev.why);
		return 2;
	}
	for (i = 0; i < 4; i++)
		eventfds[i] = eventfd(0, EFD_NONBLOCK);
	dma_page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (dma_page == MAP_FAILED) {
		perror("vfio_fuzz: mmap");
		return 2;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);

	for (i = 0; i < calls; i++) {
		switch (below(10)) {
		case 0 ... 2:
			fuzz_ioctl();
			break;
		case 3 ... 5:
			fuzz_rw();
			break;
		case 6:
			fuzz_mmap();
			break;
		case 7 ... 8:
			fuzz_irqs();
			break;
		default:
			fuzz_dma();
		}
	}

	for (kind = 0; kind < NR_KINDS; kind++)
		for (err = 0; err < MAX_ERRNO; err++)
			if (counts[kind][err])
				printf("fuzz-calls %s %s %lu\n", kind_names[kind],
				       err ? errname(err) : "OK", counts[kind][err]);
	printf("fuzz-faults %lu\n", faults);
	if (ioctl(dev.device, VFIO_DEVICE_GET_INFO, &info)) {
		perror("vfio_fuzz: the device no longer answers VFIO_DEVICE_GET_INFO");
		return 1;
	}
	vfio_dev_close(&dev);
	return 0;
}
