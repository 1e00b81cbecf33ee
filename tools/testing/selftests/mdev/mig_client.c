// SPDX-License-Identifier: GPL-2.0
/*
 * mig_client - drive VFIO migration v2 of an mtty device (the C mtty sample
 * or its Rust port mtty_rs) as a VMM does, and print what it answers, one
 * observation a line, errnos by name, so that two drivers' transcripts can
 * be compared with diff (vfio_migration.sh does, and makes the KTAP points).
 * Every run resets the device first: the C mtty keeps its migration state
 * across a close, the Rust API goes back to RUNNING.
 *
 *   mig_client arcs              every arc from every reachable state to
 *                                every state: the device's answer and the
 *                                state it is in after
 *   mig_client precopy           PRE_COPY info as the stream is read, and
 *                                after the device left PRE_COPY
 *   mig_client setup             program the UARTs, then dump the state
 *   mig_client save FILE         setup, then save the device (STOP_COPY)
 *                                into FILE, then dump the state
 *   mig_client resume FILE       resume the device from FILE, then dump
 *   mig_client bad KIND FILE     setup, a bad resume from FILE, a reset,
 *                                then dump (the state must be setup's):
 *                                truncated, oversized, foreign (FILE is
 *                                another type's), after (write after the
 *                                device left RESUMING), corrupt (a port with
 *                                its FIFO index out of range)
 *   mig_client interrupt KIND    a transfer cut short: close (the data fd
 *                                closed mid-stream), reset (a reset in
 *                                STOP_COPY and in RESUMING), remove (the
 *                                device closed and removed in STOP_COPY,
 *                                the data fd read after; with
 *                                MDEV_MODULE, an rmmod of that module
 *                                while the data fd is open)
 *
 * The device comes from MDEV_UUID (and MDEV_VFIO_MODE, see vfio_dev.h),
 * its number of ports from MDEV_MTTY_PORTS.  The last line is "end".
 *
 * The same arcs, precopy and interrupt runs drive the Rust sample
 * mdev_rs_sample (found by its vendor ID, 0x1b36), which does DMA and pins
 * guest memory: for it, the client maps two pages at DMA_IOVA, and the
 * interrupt runs start with sample_setup() (a pin held).  Its own runs:
 *
 *   mig_client sample-migrate FILE
 *                                two devices of one container, MDEV_UUID
 *                                (the source) and MDEV_UUID2 (the
 *                                destination), each set up differently,
 *                                each with a pin: the source saved into
 *                                FILE and resumed into the destination
 *                                (the source driven in STOP_COPY, where it
 *                                must do nothing); both dumped, then the
 *                                destination's
 *                                doorbell, a DMA copy with its resumed DMA
 *                                registers, the unpin of its resumed pin
 *   mig_client sample-bad KIND FILE [GOOD]
 *                                the sample set up (with a pin), dumped,
 *                                a bad resume from FILE, dumped again
 *                                (still in RESUMING), a reset, then GOOD
 *                                (default FILE) resumed whole ("again: "),
 *                                or for oversized the stream that fits
 *                                written after the one that did not:
 *                                truncated,
 *                                oversized, garbage (another magic),
 *                                foreign (FILE is another type's), corrupt
 *                                (a read-only config byte changed), badpin
 *                                (pin flags no device writes), pinfail
 *                                (the pin moved to IOVA nothing maps),
 *                                after (a write after RESUMING)
 *   mig_client sample-dirty      the sample's dirty page tracking: starts,
 *                                stops and reports (each report's bitmap
 *                                in hex, a bit a page from the report's
 *                                IOVA) around copies into tracked and
 *                                untracked pages, a pin, a reset, a full
 *                                log (DIRTY_MAX_PAGES), reports of part of
 *                                a range and in larger pages
 */
#define _GNU_SOURCE		/* strerrorname_np() */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/serial_reg.h>
#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "vfio_dev.h"

/* The sample's stream, 65872 bytes, is the longest. */
#define MAX_STREAM	(128 * 1024)

/* vfio_dev.h needs the harness's types; its runner is not used here. */
static int (*const harness_unused)(int, char **) __attribute__((unused)) = test_harness_run;

static struct vfio_dev dev;
static int ports;
static uint64_t bar[2];
/* The device whose state the feature calls ask and set, and its label. */
static struct vfio_dev *cur = &dev;
static const char *who = "";

static const char *const state_names[] = {
	[VFIO_DEVICE_STATE_ERROR] = "ERROR",
	[VFIO_DEVICE_STATE_STOP] = "STOP",
	[VFIO_DEVICE_STATE_RUNNING] = "RUNNING",
	[VFIO_DEVICE_STATE_STOP_COPY] = "STOP_COPY",
	[VFIO_DEVICE_STATE_RESUMING] = "RESUMING",
	[VFIO_DEVICE_STATE_RUNNING_P2P] = "RUNNING_P2P",
	[VFIO_DEVICE_STATE_PRE_COPY] = "PRE_COPY",
	[VFIO_DEVICE_STATE_PRE_COPY_P2P] = "PRE_COPY_P2P",
};

static const char *state_name(uint32_t state)
{
	return state < 8 ? state_names[state] : "?";
}

/* A device feature ioctl with LEN bytes of DATA after the header. */
static int feature(uint32_t flags, void *data, size_t len)
{
	uint64_t buf[8] = { 0 };
	struct vfio_device_feature *f = (void *)buf;
	int ret;

	f->argsz = sizeof(*f) + len;
	f->flags = flags;
	memcpy(f->data, data, len);
	ret = ioctl(cur->device, VFIO_DEVICE_FEATURE, f);
	memcpy(data, f->data, len);
	return ret;
}

/* The device's migration state, or -1 with errno. */
static int get_state(void)
{
	struct vfio_device_feature_mig_state mig = { 0 };

	if (feature(VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
		    &mig, sizeof(mig)))
		return -1;
	return mig.device_state;
}

/* Set the state: the data fd (or -1 with errno 0), -2 on an error. */
static int set_state(uint32_t state)
{
	struct vfio_device_feature_mig_state mig = { .device_state = state, .data_fd = -1 };

	errno = 0;
	if (feature(VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
		    &mig, sizeof(mig)))
		return -2;
	return mig.data_fd;
}

/* Set the state and say what happened; returns the data fd or -1. */
static int t_set_state(uint32_t state)
{
	int fd = set_state(state), err = errno;
	int now = get_state();

	say("%sset %s: %s%s, now %s", who, state_name(state), fd == -2 ? errname(err) : "OK",
	    fd >= 0 ? " with a data fd" : "", now < 0 ? errname(errno) : state_name(now));
	return fd >= 0 ? fd : -1;
}

static void t_reset(void)
{
	int ret = ioctl(cur->device, VFIO_DEVICE_RESET);
	int now;

	say("%sreset: %s", who, res(ret));
	now = get_state();
	say("%sstate: %s", who, now < 0 ? errname(errno) : state_name(now));
}

static void t_precopy_info(int fd, uint32_t argsz, unsigned long cmd)
{
	/* Flags are output in v2 of the ioctl; v1 leaves them as passed. */
	struct vfio_precopy_info info = { .argsz = argsz, .flags = 0x4 };

	if (ioctl(fd, cmd, &info))
		say("PRECOPY_INFO (argsz %u): %s", argsz, errname(errno));
	else
		say("PRECOPY_INFO (argsz %u): flags 0x%x initial %llu dirty %llu", argsz,
		    info.flags, (unsigned long long)info.initial_bytes,
		    (unsigned long long)info.dirty_bytes);
}

/* Read up to LEN bytes from FD into BUF and say what came; the count. */
static ssize_t t_read(int fd, uint8_t *buf, size_t len)
{
	ssize_t n = read(fd, buf, len);

	if (n < 0)
		say("read %zu: %s", len, errname(errno));
	else
		say("read %zu: %zd bytes", len, n);
	return n;
}

/* The whole stream on FD (at most MAX_STREAM bytes), in 16-byte reads. */
static ssize_t read_all(int fd, uint8_t *buf)
{
	ssize_t total = 0, n;

	while (total < MAX_STREAM &&
	       (n = read(fd, buf + total, MAX_STREAM - total < 16 ? MAX_STREAM - total : 16)) > 0)
		total += n;
	if (n < 0) {
		say("read: %s after %zd bytes", errname(errno), total);
		return -1;
	}
	return total;
}

/* FNV-1a, 32 bits: what stands for data too long to print. */
static uint32_t fnv1a(const uint8_t *buf, size_t len)
{
	uint32_t h = 2166136261u;

	while (len--)
		h = (h ^ *buf++) * 16777619u;
	return h;
}

/* At most HEXDUMP_MAX bytes are printed, then the hash of all of them. */
#define HEXDUMP_MAX	512

static void hexdump(const char *what, const uint8_t *buf, size_t len)
{
	char line[16 * 3 + 1];
	size_t row, i, shown = len < HEXDUMP_MAX ? len : HEXDUMP_MAX;

	say("%s: %zu bytes", what, len);
	if (shown < len)
		say("  (the first %zu; fnv1a of all: 0x%08x)", shown, fnv1a(buf, len));
	for (row = 0; row < shown; row += 16) {
		size_t end = row + 16 < shown ? row + 16 : shown;

		for (i = row; i < end; i++)
			sprintf(line + 3 * (i - row), " %02x", buf[i]);
		say("  %04zx:%s", row, line);
	}
}

static uint8_t reg_read(int port, int reg)
{
	uint8_t v = 0;

	if (pread(dev.device, &v, 1, bar[port] + reg) != 1)
		say("port%d reg %d: %s", port, reg, errname(errno));
	return v;
}

static void reg_write(int port, int reg, uint8_t v)
{
	if (pwrite(dev.device, &v, 1, bar[port] + reg) != 1)
		say("port%d reg %d <- 0x%02x: %s", port, reg, v, errname(errno));
}

/* Put every port in a state of its own, with bytes in its FIFO. */
static void setup(void)
{
	int p;

	for (p = 0; p < ports; p++) {
		reg_write(p, UART_LCR, UART_LCR_DLAB);
		reg_write(p, UART_DLL, 0x0c + p);
		reg_write(p, UART_DLM, 0x01);
		reg_write(p, UART_LCR, UART_LCR_WLEN8 | (p ? UART_LCR_PARITY : 0));
		reg_write(p, UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR |
			  UART_FCR_CLEAR_XMIT | UART_FCR_TRIGGER_8);
		reg_write(p, UART_IER, UART_IER_RDI | UART_IER_RLSI);
		reg_write(p, UART_MCR, UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
		reg_write(p, UART_SCR, 0x5a + p);
		reg_write(p, UART_TX, 'm');
		reg_write(p, UART_TX, 'i');
		reg_write(p, UART_TX, 'g');
		reg_write(p, UART_TX, '0' + p);
	}
}

/* What a guest sees: registers, divisor, FIFO (drained), config space. */
static void dump(void)
{
	int p, i;

	section("state");
	for (p = 0; p < ports; p++) {
		uint8_t lcr = reg_read(p, UART_LCR), dll, dlm;
		char fifo[64] = "";

		say("port%d: IER 0x%02x IIR 0x%02x LCR 0x%02x MCR 0x%02x LSR 0x%02x MSR 0x%02x SCR 0x%02x",
		    p, reg_read(p, UART_IER), reg_read(p, UART_IIR), lcr, reg_read(p, UART_MCR),
		    reg_read(p, UART_LSR), reg_read(p, UART_MSR), reg_read(p, UART_SCR));
		reg_write(p, UART_LCR, lcr | UART_LCR_DLAB);
		dll = reg_read(p, UART_DLL);
		dlm = reg_read(p, UART_DLM);
		reg_write(p, UART_LCR, lcr);
		say("port%d: divisor 0x%02x%02x", p, dlm, dll);
		for (i = 0; i < 17 && (reg_read(p, UART_LSR) & UART_LSR_DR); i++)
			sprintf(fifo + 3 * i, " %02x", reg_read(p, UART_RX));
		say("port%d: FIFO%s", p, fifo);
	}
	t_cfg_dump(&dev, 0x40);
	section("end state");
}

static ssize_t load_file(const char *path, uint8_t *buf)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, MAX_STREAM);
	close(fd);
	return n;
}

static void t_write(int fd, const uint8_t *buf, size_t len)
{
	ssize_t n = write(fd, buf, len);

	say("write %zu: %s", len, n < 0 ? errname(errno) : n == (ssize_t)len ? "OK" : "short");
}

/*
 * Device dirty tracking (log_ops): the probe, a start over one range, a
 * report of part of it into a bitmap, and the stop.
 */
static void do_logging(void)
{
	struct vfio_device_feature_dma_logging_range range = {
		.iova = 0x100000, .length = 0x10000,
	};
	struct vfio_device_feature_dma_logging_control control = {
		.page_size = 4096, .num_ranges = 1, .ranges = (uintptr_t)&range,
	};
	uint64_t bitmap[4] = { 0 };
	struct vfio_device_feature_dma_logging_report report = {
		.iova = 0x100000, .length = 0x10000, .page_size = 4096,
		.bitmap = (uintptr_t)bitmap,
	};
	uint64_t none = 0;

	say("DMA_LOGGING_START probe: %s",
	    res(feature(VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET |
			VFIO_DEVICE_FEATURE_DMA_LOGGING_START, &none, 0)));
	say("DMA_LOGGING_START: %s",
	    res(feature(VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
			&control, sizeof(control))));
	say("DMA_LOGGING_REPORT: %s, bitmap 0x%llx",
	    res(feature(VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT,
			&report, sizeof(report))), (unsigned long long)bitmap[0]);
	say("DMA_LOGGING_STOP: %s",
	    res(feature(VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP,
			&none, 0)));
}

static void do_arcs(void)
{
	struct vfio_device_feature_migration mig = { 0 };
	struct vfio_device_feature_mig_data_size size = { 0 };
	uint32_t from, to;

	if (feature(VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION, &mig, sizeof(mig)))
		say("MIGRATION: %s", errname(errno));
	else
		say("MIGRATION: flags 0x%llx", (unsigned long long)mig.flags);
	if (feature(VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, &size, sizeof(size)))
		say("MIG_DATA_SIZE: %s", errname(errno));
	else
		say("MIG_DATA_SIZE: %llu", (unsigned long long)size.stop_copy_length);
	do_logging();
	for (from = VFIO_DEVICE_STATE_STOP; from <= VFIO_DEVICE_STATE_PRE_COPY_P2P; from++) {
		for (to = VFIO_DEVICE_STATE_ERROR; to <= VFIO_DEVICE_STATE_PRE_COPY_P2P + 1; to++) {
			int fd, now, err;

			if (ioctl(dev.device, VFIO_DEVICE_RESET)) {
				say("reset: %s", errname(errno));
				return;
			}
			fd = set_state(from);
			if (fd == -2) {
				say("%s: not reached: %s", state_name(from), errname(errno));
				break;
			}
			if (fd >= 0)
				close(fd);
			fd = set_state(to);
			err = errno;
			now = get_state();
			say("%s -> %s: %s%s, now %s", state_name(from), state_name(to),
			    fd == -2 ? errname(err) : "OK", fd >= 0 ? " with a data fd" : "",
			    now < 0 ? errname(errno) : state_name(now));
			if (fd >= 0)
				close(fd);
		}
	}
}

static void do_precopy(void)
{
	/* The first 8 bytes are read apart, then the rest after them. */
	uint8_t buf[8 + MAX_STREAM];
	ssize_t n;
	int fd = t_set_state(VFIO_DEVICE_STATE_PRE_COPY), fd2;

	if (fd < 0)
		return;
	t_precopy_info(fd, sizeof(struct vfio_precopy_info), VFIO_MIG_GET_PRECOPY_INFO);
	t_precopy_info(fd, 8, VFIO_MIG_GET_PRECOPY_INFO);
	t_precopy_info(fd, sizeof(struct vfio_precopy_info), VFIO_MIG_GET_PRECOPY_INFO + 1);
	t_read(fd, buf, 8);
	t_precopy_info(fd, sizeof(struct vfio_precopy_info), VFIO_MIG_GET_PRECOPY_INFO);
	t_set_state(VFIO_DEVICE_STATE_PRE_COPY_P2P);
	t_precopy_info(fd, sizeof(struct vfio_precopy_info), VFIO_MIG_GET_PRECOPY_INFO);
	fd2 = t_set_state(VFIO_DEVICE_STATE_STOP_COPY);
	if (fd2 >= 0)
		close(fd2);
	t_precopy_info(fd, sizeof(struct vfio_precopy_info), VFIO_MIG_GET_PRECOPY_INFO);
	n = read_all(fd, buf + 8);
	if (n >= 0)
		hexdump("rest of the stream", buf + 8, n);
	t_read(fd, buf, 8);
	t_set_state(VFIO_DEVICE_STATE_STOP);
	t_read(fd, buf, 8);
	t_precopy_info(fd, sizeof(struct vfio_precopy_info), VFIO_MIG_GET_PRECOPY_INFO);
	close(fd);
	/* Pre-copy left for RUNNING: the stream ends. */
	t_set_state(VFIO_DEVICE_STATE_RUNNING);
	fd = t_set_state(VFIO_DEVICE_STATE_PRE_COPY);
	if (fd < 0)
		return;
	t_set_state(VFIO_DEVICE_STATE_RUNNING);
	t_read(fd, buf, 8);
	t_precopy_info(fd, sizeof(struct vfio_precopy_info), VFIO_MIG_GET_PRECOPY_INFO);
	close(fd);
	/* Version 2 of the ioctl, then a new stream. */
	say("MIG_PRECOPY_INFOv2: %s",
	    res(feature(VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2, buf, 0)));
	fd = t_set_state(VFIO_DEVICE_STATE_PRE_COPY);
	if (fd < 0)
		return;
	t_precopy_info(fd, sizeof(struct vfio_precopy_info), VFIO_MIG_GET_PRECOPY_INFO);
	t_set_state(VFIO_DEVICE_STATE_RUNNING);
	close(fd);
}

static int do_save(const char *path)
{
	uint8_t buf[MAX_STREAM];
	ssize_t n;
	int fd, out;

	setup();
	fd = t_set_state(VFIO_DEVICE_STATE_STOP_COPY);
	if (fd < 0)
		return -1;
	n = read_all(fd, buf);
	close(fd);
	if (n < 0)
		return -1;
	hexdump("stream", buf, n);
	out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (out < 0 || write(out, buf, n) != n) {
		say("%s: %s", path, strerror(errno));
		return -1;
	}
	close(out);
	t_set_state(VFIO_DEVICE_STATE_RUNNING);
	dump();
	return 0;
}

static int do_resume(const char *path)
{
	uint8_t buf[MAX_STREAM];
	ssize_t n = load_file(path, buf);
	int fd;

	if (n < 0) {
		say("%s: %s", path, strerror(errno));
		return -1;
	}
	t_set_state(VFIO_DEVICE_STATE_STOP);
	fd = t_set_state(VFIO_DEVICE_STATE_RESUMING);
	if (fd < 0)
		return -1;
	t_write(fd, buf, n);
	close(fd);
	t_set_state(VFIO_DEVICE_STATE_STOP);
	t_set_state(VFIO_DEVICE_STATE_RUNNING);
	dump();
	return 0;
}

static int do_bad(const char *kind, const char *path)
{
	uint8_t buf[MAX_STREAM + 16] = { 0 };
	ssize_t n = load_file(path, buf);
	int fd, fd2;

	if (n < 0) {
		say("%s: %s", path, strerror(errno));
		return -1;
	}
	setup();
	t_set_state(VFIO_DEVICE_STATE_STOP);
	fd = t_set_state(VFIO_DEVICE_STATE_RESUMING);
	if (fd < 0)
		return -1;
	if (!strcmp(kind, "truncated")) {
		t_write(fd, buf, n - 4);
		t_set_state(VFIO_DEVICE_STATE_STOP);
	} else if (!strcmp(kind, "oversized")) {
		t_write(fd, buf, n + 8);
		t_write(fd, buf, n);
		t_write(fd, buf, 1);
		/* Only the stream that fit was taken: it loads, ... */
		t_set_state(VFIO_DEVICE_STATE_STOP);
		/* ... and the setup's state is back below by the reset. */
	} else if (!strcmp(kind, "foreign")) {
		t_write(fd, buf, n);
		t_set_state(VFIO_DEVICE_STATE_STOP);
	} else if (!strcmp(kind, "after")) {
		t_write(fd, buf, n);
		t_set_state(VFIO_DEVICE_STATE_STOP);
		t_write(fd, buf, 8);
		fd2 = t_set_state(VFIO_DEVICE_STATE_RESUMING);
		t_write(fd, buf, 8);
		if (fd2 >= 0)
			close(fd2);
	} else if (!strcmp(kind, "corrupt")) {
		buf[24 + 24] = 0xff;	/* port 0's FIFO head */
		t_write(fd, buf, n);
		t_set_state(VFIO_DEVICE_STATE_STOP);
	} else {
		say("unknown kind %s", kind);
	}
	close(fd);
	if (!strcmp(kind, "oversized") || !strcmp(kind, "after")) {
		/* A good stream was loaded: the setup again, for the dump. */
		t_reset();
		setup();
	} else {
		t_reset();
	}
	dump();
	return 0;
}

/* --- The Rust sample mdev_rs_sample: registers, DMA and pins --- */

#define SAMPLE_VENDOR		0x1b36
#define S_SCRATCH		0x04
#define S_COUNTER		0x08	/* post-increments on read */
#define S_DOORBELL		0x0c
#define S_IRQ_COUNT		0x10
#define S_DMA_ADDR_LO		0x14
#define S_DMA_ADDR_HI		0x18
#define S_DMA_LEN		0x1c
#define S_DMA_CMD		0x20
#define S_DMA_STATUS		0x24
#define S_DMA_PINNED		0x28
#define S_DMA_UNMAPS		0x2c
#define S_CMD_COPY		1
#define S_CMD_PIN		2
#define S_CMD_UNPIN		3
#define S_BAR2_SIZE		(64 * 1024)

/* The sample's stream (Documentation/rust-vendor-driver.rst). */
#define S_HEADER		32
#define S_PIN_FLAGS		(S_HEADER + 32)
#define S_PIN_IOVA		(S_HEADER + 40)
#define S_CONFIG		(S_HEADER + 48)

/* Guest memory: two pages at DMA_IOVA; nothing is mapped at DMA_UNMAPPED. */
#define DMA_IOVA		0x10000000ULL
#define DMA_UNMAPPED		0x40000000ULL

static int sample;
static uint64_t s_bar0, s_bar2;
static uint8_t *dma_buf;
static size_t dma_size, page;

static uint32_t s_get(struct vfio_dev *d, uint32_t reg)
{
	uint32_t v = 0;

	if (pread(d->device, &v, 4, s_bar0 + reg) != 4)
		say("%sBAR0[0x%02x]: %s", who, reg, errname(errno));
	return v;
}

static void s_set(struct vfio_dev *d, uint32_t reg, uint32_t v)
{
	if (pwrite(d->device, &v, 4, s_bar0 + reg) != 4)
		say("%sBAR0[0x%02x] <- 0x%x: %s", who, reg, v, errname(errno));
}

/* Set DMA_ADDR and DMA_LEN, run the DMA command CMD: DMA_STATUS after. */
static uint32_t s_dma(struct vfio_dev *d, uint32_t cmd, uint64_t iova, uint32_t len)
{
	s_set(d, S_DMA_ADDR_LO, (uint32_t)iova);
	s_set(d, S_DMA_ADDR_HI, iova >> 32);
	s_set(d, S_DMA_LEN, len);
	s_set(d, S_DMA_CMD, cmd);
	return s_get(d, S_DMA_STATUS);
}

/* Map the guest memory into DEV's container (or IOAS): 0, or -1. */
static int s_map(void)
{
	page = sysconf(_SC_PAGESIZE);
	dma_size = 2 * page;
	dma_buf = mmap(NULL, dma_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (dma_buf == MAP_FAILED) {
		say("mmap: %s", errname(errno));
		return -1;
	}
	memset(dma_buf, 0, dma_size);
	if (vfio_dev_dma_map(&dev, dma_buf, DMA_IOVA, dma_size)) {
		say("DMA map of %zu bytes at 0x%llx: %s", dma_size, DMA_IOVA, errname(errno));
		return -1;
	}
	return 0;
}

/*
 * Put the sample D in a state of its own (VARIANT 0 or 1 tells two apart):
 * config space, registers, doorbells, BAR2, a copy, a pin (and a second
 * pin, refused: DMA_STATUS EBUSY), then DMA_ADDR and DMA_LEN for a copy
 * that is not run.
 */
static void sample_setup(struct vfio_dev *d, int v)
{
	uint8_t bytes[64];
	int i;

	t_cfg_set(d, 0x04, 2, "command", 0x0006);
	t_cfg_set(d, 0x10, 4, "BAR0", 0xfeb00000 + v * 0x10000);
	t_cfg_set(d, 0x3c, 1, "interrupt line", 0x0b + v);
	s_set(d, S_SCRATCH, 0x5ca1ab1e ^ v);
	s_set(d, S_COUNTER, 0x100 + v);
	for (i = 0; i < 2 + v; i++)
		s_set(d, S_DOORBELL, 1);
	for (i = 0; i < (int)sizeof(bytes); i++)
		bytes[i] = 0x30 + i + 7 * v;
	for (i = 0; i < 3; i++) {
		uint64_t off = i == 0 ? 0 : i == 1 ? 0x4000 + 0x100 * v : S_BAR2_SIZE - sizeof(bytes);

		if (pwrite(d->device, bytes, sizeof(bytes), s_bar2 + off) != sizeof(bytes))
			say("%sBAR2[0x%llx] write: %s", who, (unsigned long long)off, errname(errno));
	}
	say("%ssetup: copy: status %u", who, s_dma(d, S_CMD_COPY, DMA_IOVA + 100 + v, 16));
	say("%ssetup: pin: status %u", who,
	    s_dma(d, S_CMD_PIN, DMA_IOVA + (v ? 0 : page) + 8, 0));
	say("%ssetup: a second pin: status %u", who, s_dma(d, S_CMD_PIN, DMA_IOVA, 0));
	s_set(d, S_DMA_ADDR_LO, (uint32_t)(DMA_IOVA + 0x200 + 0x100 * v));
	s_set(d, S_DMA_ADDR_HI, 0);
	s_set(d, S_DMA_LEN, 32 + v);
}

/*
 * What a guest sees of the sample D, between "== state NAME" and "== end
 * state": the registers (COUNTER written back after it is read), the pages
 * pinned, BAR2's hash, config space.
 */
static void sample_dump(struct vfio_dev *d, const char *name)
{
	static uint8_t bar2[S_BAR2_SIZE];
	uint32_t counter = s_get(d, S_COUNTER);
	ssize_t n;

	s_set(d, S_COUNTER, counter);
	say("== state %s", name);
	say("SCRATCH 0x%08x COUNTER 0x%x IRQ_COUNT %u", s_get(d, S_SCRATCH), counter,
	    s_get(d, S_IRQ_COUNT));
	say("DMA_ADDR 0x%08x%08x DMA_LEN %u DMA_STATUS %u DMA_PINNED %u DMA_UNMAPS %u",
	    s_get(d, S_DMA_ADDR_HI), s_get(d, S_DMA_ADDR_LO), s_get(d, S_DMA_LEN),
	    s_get(d, S_DMA_STATUS), s_get(d, S_DMA_PINNED), s_get(d, S_DMA_UNMAPS));
	n = pread(d->device, bar2, sizeof(bar2), s_bar2);
	if (n != sizeof(bar2))
		say("BAR2 read: %s", n < 0 ? errname(errno) : "short");
	else
		say("BAR2: fnv1a 0x%08x", fnv1a(bar2, sizeof(bar2)));
	t_cfg_dump(d, 0x40);
	say("== end state");
}

/* Arm D's INTx eventfd, ring the doorbell: whether the eventfd fired. */
static void sample_doorbell(struct vfio_dev *d)
{
	int efd = eventfd(0, EFD_NONBLOCK);
	struct pollfd pfd = { .fd = efd, .events = POLLIN };
	const char *fired;

	if (efd < 0 || set_irqs(d, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
				VFIO_PCI_INTX_IRQ_INDEX, 1, &efd, sizeof(efd))) {
		say("%sarming INTx: %s", who, errname(errno));
		if (efd >= 0)
			close(efd);
		return;
	}
	s_set(d, S_DOORBELL, 1);
	fired = poll(&pfd, 1, 1000) == 1 ? "signalled" : "silent";
	say("%sdoorbell: eventfd %s, IRQ_COUNT %u", who, fired, s_get(d, S_IRQ_COUNT));
	set_irqs(d, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
		 VFIO_PCI_INTX_IRQ_INDEX, 0, NULL, 0);
	close(efd);
}

/*
 * Run a copy with D's registers as they are (the resumed DMA_ADDR and
 * DMA_LEN) into zeroed guest memory, and say whether exactly those bytes
 * hold the pattern (byte i: i % 256 ^ 0x5a).
 */
static void sample_copy(struct vfio_dev *d)
{
	uint64_t addr = (uint64_t)s_get(d, S_DMA_ADDR_HI) << 32 | s_get(d, S_DMA_ADDR_LO);
	uint32_t len = s_get(d, S_DMA_LEN), status;
	size_t i, wrong = 0, other = 0;

	memset(dma_buf, 0, dma_size);
	s_set(d, S_DMA_CMD, S_CMD_COPY);
	status = s_get(d, S_DMA_STATUS);
	if (addr < DMA_IOVA || addr - DMA_IOVA + len > dma_size) {
		say("%scopy with the resumed DMA_ADDR and DMA_LEN: status %u, at 0x%llx: not in guest memory",
		    who, status, (unsigned long long)addr);
		return;
	}
	for (i = 0; i < dma_size; i++) {
		size_t at = i - (addr - DMA_IOVA);

		if (i >= addr - DMA_IOVA && at < len)
			wrong += dma_buf[i] != (uint8_t)((at % 256) ^ 0x5a);
		else
			other += dma_buf[i] != 0;
	}
	say("%scopy with the resumed DMA_ADDR and DMA_LEN: status %u, %u bytes at 0x%llx, %zu wrong, %zu other bytes written",
	    who, status, len, (unsigned long long)addr, wrong, other);
}

/*
 * The stopped device D (in STOP_COPY) is driven as if it ran: COUNTER
 * read twice, SCRATCH written, the doorbell rung with an eventfd armed, a
 * copy run with its DMA registers, its pin given back.  A stopped device
 * does none of it (Documentation/rust-vendor-driver.rst): the lines say
 * what it did.
 */
static void sample_poke_stopped(struct vfio_dev *d)
{
	uint32_t c1 = s_get(d, S_COUNTER), c2 = s_get(d, S_COUNTER);
	int efd = eventfd(0, EFD_NONBLOCK);
	struct pollfd pfd = { .fd = efd, .events = POLLIN };
	size_t i, written = 0;

	say("%sstopped: COUNTER reads 0x%x, then 0x%x", who, c1, c2);
	s_set(d, S_SCRATCH, 0xdead);
	say("%sstopped: SCRATCH 0x%08x after a write of 0xdead", who, s_get(d, S_SCRATCH));
	if (efd < 0 || set_irqs(d, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
				VFIO_PCI_INTX_IRQ_INDEX, 1, &efd, sizeof(efd)))
		say("%sarming INTx: %s", who, errname(errno));
	s_set(d, S_DOORBELL, 1);
	say("%sstopped: doorbell: eventfd %s, IRQ_COUNT %u", who,
	    poll(&pfd, 1, 200) == 1 ? "signalled" : "silent", s_get(d, S_IRQ_COUNT));
	set_irqs(d, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
		 VFIO_PCI_INTX_IRQ_INDEX, 0, NULL, 0);
	if (efd >= 0)
		close(efd);
	memset(dma_buf, 0, dma_size);
	s_set(d, S_DMA_CMD, S_CMD_COPY);
	for (i = 0; i < dma_size; i++)
		written += dma_buf[i] != 0;
	say("%sstopped: copy: %zu bytes of guest memory written, DMA_STATUS %u", who, written,
	    s_get(d, S_DMA_STATUS));
	s_set(d, S_DMA_CMD, S_CMD_UNPIN);
	say("%sstopped: unpin: DMA_PINNED %u", who, s_get(d, S_DMA_PINNED));
}

/*
 * Save the source into BUF: the stream's length, or -1.  In STOP_COPY,
 * after the stream is read, the stopped device is driven: what it then
 * does changes neither the stream nor its state (its dump after, in
 * RUNNING, must equal the destination's).
 */
static ssize_t sample_save(uint8_t *buf)
{
	ssize_t n;
	int fd;

	t_set_state(VFIO_DEVICE_STATE_STOP);
	fd = t_set_state(VFIO_DEVICE_STATE_STOP_COPY);
	if (fd < 0)
		return -1;
	n = read_all(fd, buf);
	close(fd);
	if (n >= 0)
		hexdump("stream", buf, n);
	sample_poke_stopped(&dev);
	t_set_state(VFIO_DEVICE_STATE_RUNNING);
	return n;
}

/* Resume the current device from the N bytes of BUF, to RUNNING. */
static void sample_resume(const uint8_t *buf, size_t n)
{
	int fd;

	t_set_state(VFIO_DEVICE_STATE_STOP);
	fd = t_set_state(VFIO_DEVICE_STATE_RESUMING);
	if (fd < 0)
		return;
	t_write(fd, buf, n);
	close(fd);
	t_set_state(VFIO_DEVICE_STATE_STOP);
	t_set_state(VFIO_DEVICE_STATE_RUNNING);
}

static int do_sample_migrate(const char *path)
{
	static uint8_t buf[MAX_STREAM];
	const char *uuid2 = getenv("MDEV_UUID2");
	struct vfio_dev dst;
	uint32_t status;
	ssize_t n;
	int out;

	if (!uuid2) {
		say("MDEV_UUID2 (the destination) is not set");
		return -1;
	}
	if (vfio_dev_open_beside(&dst, uuid2, &dev)) {
		say("open of the destination: %s", dst.why);
		return -1;
	}
	if (ioctl(dst.device, VFIO_DEVICE_RESET))
		say("destination: reset: %s", errname(errno));
	if (s_map())
		return -1;

	who = "source: ";
	sample_setup(&dev, 0);
	who = "destination: ";
	sample_setup(&dst, 1);
	sample_dump(&dst, "destination before");

	who = "source: ";
	n = sample_save(buf);
	if (n < 0)
		return -1;
	out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (out < 0 || write(out, buf, n) != n) {
		say("%s: %s", path, strerror(errno));
		return -1;
	}
	close(out);
	sample_dump(&dev, "source");

	cur = &dst;
	who = "destination: ";
	sample_resume(buf, n);
	sample_dump(&dst, "destination");
	say("destination: DMA_PINNED after resume: %u", s_get(&dst, S_DMA_PINNED));
	sample_doorbell(&dst);
	sample_copy(&dst);
	status = s_dma(&dst, S_CMD_UNPIN, 0, 0);
	say("destination: unpin of the resumed pin: status %u, DMA_PINNED %u", status,
	    s_get(&dst, S_DMA_PINNED));

	/* The source keeps its own pin, and runs on. */
	cur = &dev;
	who = "source: ";
	say("source: DMA_PINNED after the migration: %u", s_get(&dev, S_DMA_PINNED));
	status = s_dma(&dev, S_CMD_UNPIN, 0, 0);
	say("source: unpin: status %u, DMA_PINNED %u", status, s_get(&dev, S_DMA_PINNED));
	who = "";
	vfio_dev_close(&dst);
	return 0;
}

/* --- The sample's dirty page tracking --- */

/* The sample's dirty log holds this many pages (DIRTY_MAX_PAGES). */
#define S_DIRTY_MAX		256
/* A second mapping, one page more than the log holds, at this IOVA. */
#define DIRTY_IOVA		0x20000000ULL
#define DIRTY_PAGES		(S_DIRTY_MAX + 1)

/* DMA_LOGGING_START over N ranges (IOVA, length pairs) in PAGE_SIZE pages. */
static void t_log_start(const char *what, uint64_t page_size, int n, const uint64_t *ranges)
{
	struct vfio_device_feature_dma_logging_range r[2];
	struct vfio_device_feature_dma_logging_control control = {
		.page_size = page_size, .num_ranges = n, .ranges = (uintptr_t)r,
	};
	int ret;

	for (int i = 0; i < n; i++)
		r[i] = (struct vfio_device_feature_dma_logging_range){
			.iova = ranges[2 * i], .length = ranges[2 * i + 1],
		};
	ret = feature(VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
		      &control, sizeof(control));
	if (ret)
		say("start %s: %s", what, errname(errno));
	else
		say("start %s: OK, page size %llu", what, (unsigned long long)control.page_size);
}

static void t_log_stop(const char *what)
{
	uint64_t none = 0;

	say("stop %s: %s", what,
	    res(feature(VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP, &none, 0)));
}

/*
 * DMA_LOGGING_REPORT of LENGTH bytes at IOVA in PAGE_SIZE pages: the
 * bitmap's first word in hex, or, with COUNT, the number of bits set.
 */
static void t_log_report(const char *what, uint64_t iova, uint64_t length, uint64_t page_size,
			 int count)
{
	static uint64_t bitmap[DIRTY_PAGES / 64 + 1];
	struct vfio_device_feature_dma_logging_report report = {
		.iova = iova, .length = length, .page_size = page_size,
		.bitmap = (uintptr_t)bitmap,
	};
	int ret, bits = 0;

	memset(bitmap, 0, sizeof(bitmap));
	ret = feature(VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT,
		      &report, sizeof(report));
	if (ret) {
		say("report %s: %s", what, errname(errno));
		return;
	}
	for (size_t i = 0; i < sizeof(bitmap) / sizeof(bitmap[0]); i++)
		bits += __builtin_popcountll(bitmap[i]);
	if (count)
		say("report %s: %d pages dirty", what, bits);
	else
		say("report %s: 0x%llx", what, (unsigned long long)bitmap[0]);
}

/* A copy of LEN bytes at IOVA; what DMA_STATUS says. */
static void t_copy(const char *what, uint64_t iova, uint32_t len)
{
	say("copy %s: status %u", what, s_dma(&dev, S_CMD_COPY, iova, len));
}

static int do_sample_dirty(void)
{
	uint64_t two, both[2], first[2], big, all[2];
	uint8_t *mem;
	int i, status = 0, untouched;

	/* s_map() sets the page size. */
	if (s_map())
		return -1;
	two = 2 * page;
	both[0] = DMA_IOVA, both[1] = two;
	first[0] = DMA_IOVA, first[1] = page;
	big = (uint64_t)DIRTY_PAGES * page;
	all[0] = DIRTY_IOVA, all[1] = big;
	mem = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED || vfio_dev_dma_map(&dev, mem, DIRTY_IOVA, big)) {
		say("DMA map of %llu bytes at 0x%llx: %s", (unsigned long long)big, DIRTY_IOVA,
		    errname(errno));
		return -1;
	}

	t_log_report("before a start", DMA_IOVA, two, page, 0);
	t_log_stop("before a start");
	t_log_start("of both pages", page, 1, both);
	t_log_start("again", page, 1, both);
	t_log_report("of nothing written", DMA_IOVA, two, page, 0);
	t_copy("into the second page", DMA_IOVA + page + 100, 16);
	t_log_report("after it", DMA_IOVA, two, page, 0);
	t_log_report("again", DMA_IOVA, two, page, 0);
	t_copy("across the two pages", DMA_IOVA + page - 8, 16);
	t_log_report("of the second page only", DMA_IOVA + page, page, page, 0);
	t_log_report("of both, after", DMA_IOVA, two, page, 0);
	t_log_report("of both, again", DMA_IOVA, two, page, 0);
	t_copy("into the first page", DMA_IOVA + 8, 16);
	t_log_report("in pages of two", DMA_IOVA, two, two, 0);
	say("pin of the second page: status %u", s_dma(&dev, S_CMD_PIN, DMA_IOVA + page, 0));
	t_log_report("with a pin", DMA_IOVA, two, page, 0);
	t_log_report("with a pin, again", DMA_IOVA, two, page, 0);
	say("unpin: status %u", s_dma(&dev, S_CMD_UNPIN, 0, 0));
	t_log_report("after the unpin", DMA_IOVA, two, page, 0);
	t_copy("before a reset", DMA_IOVA + 8, 16);
	say("reset: %s", res(ioctl(dev.device, VFIO_DEVICE_RESET)));
	t_log_report("after the reset", DMA_IOVA, two, page, 0);
	t_log_stop("of both pages");
	t_log_stop("again");
	t_log_report("after the stop", DMA_IOVA, two, page, 0);

	t_log_start("of the first page", page, 1, first);
	t_copy("into both pages", DMA_IOVA + page - 8, 16);
	t_log_report("of the first page's range", DMA_IOVA, two, page, 0);
	t_log_stop("of the first page");

	t_log_start("in pages of 512", 512, 1, both);
	t_log_stop("in pages of 512");

	/* The log full: the copy that does not fit writes nothing. */
	t_log_start("of the big mapping", page, 1, all);
	for (i = 0; i < S_DIRTY_MAX; i++)
		status |= s_dma(&dev, S_CMD_COPY, DIRTY_IOVA + (uint64_t)i * page, 1);
	say("copies into %d pages: status %u", S_DIRTY_MAX, status);
	t_copy("into one page more", DIRTY_IOVA + (uint64_t)S_DIRTY_MAX * page, 1);
	untouched = mem[(size_t)S_DIRTY_MAX * page] == 0;
	say("that page: %s", untouched ? "not written" : "written");
	t_copy("into a page logged already", DIRTY_IOVA, 1);
	t_log_report("of the big mapping", DIRTY_IOVA, big, page, 1);
	t_copy("into one page more, after the report", DIRTY_IOVA + (uint64_t)S_DIRTY_MAX * page, 1);
	t_log_report("of the big mapping, again", DIRTY_IOVA, big, page, 1);
	t_log_stop("of the big mapping");
	return 0;
}

static int do_sample_bad(const char *kind, const char *path, const char *good_path)
{
	static uint8_t buf[MAX_STREAM + 16], good[MAX_STREAM];
	ssize_t n = load_file(path, buf), good_n = load_file(good_path, good);
	int fd, fd2, dump_after = 1;

	if (n < S_CONFIG + 256 || good_n < 0) {
		say("%s: %s", n < 0 || n >= S_CONFIG + 256 ? good_path : path,
		    n < 0 || good_n < 0 ? strerror(errno) : "too short for a stream of the sample");
		return -1;
	}
	if (s_map())
		return -1;
	sample_setup(&dev, 1);
	sample_dump(&dev, "before");
	t_set_state(VFIO_DEVICE_STATE_STOP);
	fd = t_set_state(VFIO_DEVICE_STATE_RESUMING);
	if (fd < 0)
		return -1;
	if (!strcmp(kind, "truncated")) {
		t_write(fd, buf, n - 4);
		t_set_state(VFIO_DEVICE_STATE_STOP);
	} else if (!strcmp(kind, "oversized")) {
		t_write(fd, buf, n + 8);
		t_set_state(VFIO_DEVICE_STATE_STOP);
	} else if (!strcmp(kind, "garbage")) {
		buf[0] ^= 0xff;
		t_write(fd, buf, n);
		t_set_state(VFIO_DEVICE_STATE_STOP);
	} else if (!strcmp(kind, "foreign")) {
		t_write(fd, buf, n);
		t_set_state(VFIO_DEVICE_STATE_STOP);
	} else if (!strcmp(kind, "corrupt")) {
		buf[S_CONFIG + 2] ^= 1;		/* the device ID, read-only */
		t_write(fd, buf, n);
		t_set_state(VFIO_DEVICE_STATE_STOP);
	} else if (!strcmp(kind, "badpin")) {
		buf[S_PIN_FLAGS] = 3;
		t_write(fd, buf, n);
		t_set_state(VFIO_DEVICE_STATE_STOP);
	} else if (!strcmp(kind, "pinfail")) {
		uint64_t iova = DMA_UNMAPPED;

		say("the stream holds a pin: %s", buf[S_PIN_FLAGS] == 1 ? "yes" : "no");
		memcpy(buf + S_PIN_IOVA, &iova, 8);	/* little endian, as x86 */
		t_write(fd, buf, n);
		t_set_state(VFIO_DEVICE_STATE_STOP);
	} else if (!strcmp(kind, "after")) {
		t_write(fd, buf, n);
		t_set_state(VFIO_DEVICE_STATE_STOP);
		t_write(fd, buf, 8);
		fd2 = t_set_state(VFIO_DEVICE_STATE_RESUMING);
		t_write(fd, buf, 8);
		if (fd2 >= 0)
			close(fd2);
		dump_after = 0;
	} else {
		say("unknown kind %s", kind);
	}
	if (dump_after)
		sample_dump(&dev, "after");
	if (!strcmp(kind, "oversized")) {
		/* Nothing of the write that did not fit was taken. */
		t_write(fd, buf, n);
		t_write(fd, buf, 1);
		who = "again: ";
		t_set_state(VFIO_DEVICE_STATE_STOP);
		close(fd);
	} else {
		close(fd);
		/* The device still resumes a good stream. */
		t_reset();
		who = "again: ";
		sample_resume(good, good_n);
	}
	say("again: DMA_PINNED %u", s_get(&dev, S_DMA_PINNED));
	who = "";
	return 0;
}

static int do_interrupt(const char *kind)
{
	static uint8_t buf[MAX_STREAM];
	ssize_t n;
	int fd;

	/* The sample transfers with a pin held. */
	if (sample) {
		if (s_map())
			return -1;
		sample_setup(&dev, 0);
	}
	if (!strcmp(kind, "close")) {
		fd = t_set_state(VFIO_DEVICE_STATE_STOP_COPY);
		if (fd < 0)
			return -1;
		t_read(fd, buf, 10);
		close(fd);
		say("data fd closed");
		t_set_state(VFIO_DEVICE_STATE_STOP);
		fd = t_set_state(VFIO_DEVICE_STATE_STOP_COPY);
		if (fd < 0)
			return -1;
		n = read_all(fd, buf);
		say("whole stream again: %zd bytes", n);
		close(fd);
		t_set_state(VFIO_DEVICE_STATE_RUNNING);
	} else if (!strcmp(kind, "reset")) {
		fd = t_set_state(VFIO_DEVICE_STATE_STOP_COPY);
		if (fd < 0)
			return -1;
		t_read(fd, buf, 10);
		t_reset();
		if (sample)
			say("DMA_PINNED after the reset: %u", s_get(&dev, S_DMA_PINNED));
		t_read(fd, buf, 10);
		close(fd);
		t_set_state(VFIO_DEVICE_STATE_STOP);
		fd = t_set_state(VFIO_DEVICE_STATE_RESUMING);
		if (fd < 0)
			return -1;
		/* The first bytes of the stream read above: a good start. */
		t_write(fd, buf, 10);
		t_reset();
		t_write(fd, buf, 10);
		close(fd);
	} else if (!strcmp(kind, "remove")) {
		char path[128];
		int rm;

		fd = t_set_state(VFIO_DEVICE_STATE_STOP_COPY);
		if (fd < 0)
			return -1;
		t_read(fd, buf, 10);
		vfio_dev_close(&dev);
		say("device closed");
		snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/remove", dev.uuid);
		rm = open(path, O_WRONLY);
		say("remove: %s", rm >= 0 && write(rm, "1", 1) == 1 ? "OK" : errname(errno));
		if (rm >= 0)
			close(rm);
		/* The open stream keeps the vendor module loaded. */
		if (getenv("MDEV_MODULE")) {
			snprintf(path, sizeof(path), "rmmod %s 2>/dev/null", getenv("MDEV_MODULE"));
			say("rmmod while the data fd is open: %s",
			    system(path) == 0 ? "unloaded" : "refused");
		}
		t_read(fd, buf, 10);
		close(fd);
		say("data fd closed");
	} else {
		say("unknown kind %s", kind);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *p = getenv("MDEV_MTTY_PORTS");
	int ret = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		fprintf(stderr, "usage: %s arcs|precopy|setup|save F|resume F|bad K F|interrupt K|"
			"sample-migrate F|sample-bad K F|sample-dirty\n",
			argv[0]);
		return 2;
	}
	ports = p && atoi(p) == 2 ? 2 : 1;
	if (vfio_dev_open(&dev)) {
		say("open: %s", dev.why);
		return 1;
	}
	{
		uint16_t vendor = 0;

		sample = config_read(&dev, &vendor, 2, 0) == 2 && vendor == SAMPLE_VENDOR;
	}
	for (int i = 0; sample && i < 2; i++) {
		struct vfio_region_info info = {
			.argsz = sizeof(info),
			.index = i ? VFIO_PCI_BAR2_REGION_INDEX : VFIO_PCI_BAR0_REGION_INDEX,
		};

		if (ioctl(dev.device, VFIO_DEVICE_GET_REGION_INFO, &info)) {
			say("GET_REGION_INFO %u: %s", info.index, errname(errno));
			return 1;
		}
		*(i ? &s_bar2 : &s_bar0) = info.offset;
	}
	for (int i = 0; !sample && i < ports; i++) {
		struct vfio_region_info info = {
			.argsz = sizeof(info), .index = VFIO_PCI_BAR0_REGION_INDEX + i,
		};

		if (ioctl(dev.device, VFIO_DEVICE_GET_REGION_INFO, &info)) {
			say("GET_REGION_INFO %d: %s", i, errname(errno));
			return 1;
		}
		bar[i] = info.offset;
	}
	/* Start from RUNNING on either driver. */
	if (ioctl(dev.device, VFIO_DEVICE_RESET))
		say("reset: %s", errname(errno));

	if (sample && (!strcmp(argv[1], "setup") || !strcmp(argv[1], "save") ||
		       !strcmp(argv[1], "resume") || !strcmp(argv[1], "bad"))) {
		fprintf(stderr, "%s: %s drives mtty; the sample has sample-migrate and sample-bad\n",
			argv[0], argv[1]);
		return 2;
	} else if (!strcmp(argv[1], "arcs")) {
		do_arcs();
	} else if (!strcmp(argv[1], "precopy")) {
		do_precopy();
	} else if (!strcmp(argv[1], "setup")) {
		setup();
		dump();
	} else if (!strcmp(argv[1], "save") && argc > 2) {
		ret = do_save(argv[2]);
	} else if (!strcmp(argv[1], "resume") && argc > 2) {
		ret = do_resume(argv[2]);
	} else if (!strcmp(argv[1], "bad") && argc > 3) {
		ret = do_bad(argv[2], argv[3]);
	} else if (!strcmp(argv[1], "interrupt") && argc > 2) {
		ret = do_interrupt(argv[2]);
	} else if (!strcmp(argv[1], "sample-migrate") && argc > 2 && sample) {
		ret = do_sample_migrate(argv[2]);
	} else if (!strcmp(argv[1], "sample-dirty") && sample) {
		ret = do_sample_dirty();
	} else if (!strcmp(argv[1], "sample-bad") && argc > 3 && sample) {
		ret = do_sample_bad(argv[2], argv[3], argc > 4 ? argv[4] : argv[3]);
	} else {
		fprintf(stderr, "%s: unknown command\n", argv[0]);
		return 2;
	}
	vfio_dev_close(&dev);
	say("end");
	return ret ? 1 : 0;
}
