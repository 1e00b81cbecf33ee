/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmm_qemu.h - what the real-VMM tests (vmm_qtest.c, vmm_boot.c,
 * vmm_migrate.c) share: starting qemu-system-x86_64 with mediated devices
 * as vfio-pci, talking to it over pairs of FIFOs (QMP, qtest, the guest's
 * serial port: the test kernel has no networking, so no Unix sockets),
 * playing its guest through qtest, checking what its display shows, and
 * KTAP points with the plan printed last (run_harness in mdev_lib.sh reads
 * it there).  A test may run more than one QEMU at a time (vmm_migrate):
 * each is a struct qemu, and the helpers talk to the one in use, vm.
 */
#ifndef MDEV_SELFTEST_VMM_QEMU_H
#define MDEV_SELFTEST_VMM_QEMU_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define IO_TIMEOUT_MS	120000

/*
 * A QEMU character device of type pipe: QEMU reads BASE.in and writes
 * BASE.out; what was read past the last line.
 */
struct conn {
	int fd;		/* BASE.out, read */
	int wfd;	/* BASE.in, written */
	char base[64];
	size_t have;
	char buf[1 << 17];
};

/* A QEMU process. */
struct qemu {
	const char *name;	/* how messages name it; "" for a lone QEMU */
	pid_t pid;
	char err[64];		/* the file with its stdout and stderr */
	struct conn qmp;
	struct conn qtest;
	/* The guest IRQ lines QEMU raised since last cleared (qtest's IRQ lines). */
	unsigned int irq_raised;
	/* QMP events met while waiting for replies, a line each. */
	char events[1 << 15];
};

#define QEMU_INIT(n) { .name = (n), .qmp = { .fd = -1, .wfd = -1 }, \
		       .qtest = { .fd = -1, .wfd = -1 } }

/* The QEMU of a test that runs one, and the one the helpers talk to. */
static struct qemu qemu_main = QEMU_INIT("");
static struct qemu *vm = &qemu_main;
/* Every QEMU started, for finish. */
static struct qemu *qemus[8];
static int nqemus;
static FILE *trace;
static int points, failed;

static inline void conn_remove(struct conn *c)
{
	char path[80];

	snprintf(path, sizeof(path), "%s.in", c->base);
	unlink(path);
	snprintf(path, sizeof(path), "%s.out", c->base);
	unlink(path);
}

static inline void msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("# ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
}

/* point OK DESCRIPTION...: one KTAP result; returns OK. */
static inline int point(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d ", ok ? "" : "not ", ++points);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!ok)
		failed++;
	return ok;
}

/* tr FORMAT...: one line of the transcript (MDEV_VMM_TRACE). */
static inline void tr(const char *fmt, ...)
{
	va_list ap;

	if (!trace)
		return;
	va_start(ap, fmt);
	vfprintf(trace, fmt, ap);
	va_end(ap);
	fputc('\n', trace);
	fflush(trace);
}

/* Q's own messages (its stdout and stderr), as diagnostics. */
static inline void qemu_output_print(struct qemu *q)
{
	char line[512];
	FILE *f = fopen(q->err, "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		msg("qemu%s%s: %s", *q->name ? " " : "", q->name, line);
	}
	fclose(f);
}

/* The messages of the QEMU in use. */
static inline void qemu_stderr_print(void)
{
	qemu_output_print(vm);
}

/* qemu_use Q: the QEMU the helpers talk to from now on. */
static inline void qemu_use(struct qemu *q)
{
	vm = q;
}

/*
 * qemu_stop Q: kill Q if it still runs (its messages then), remove its
 * output file and its FIFOs.
 */
static inline void qemu_stop(struct qemu *q)
{
	int status;

	if (q->pid > 0) {
		kill(q->pid, SIGKILL);
		waitpid(q->pid, &status, 0);
		q->pid = 0;
		qemu_output_print(q);
	}
	if (*q->err)
		unlink(q->err);
	for (struct conn *c = &q->qmp; c; c = c == &q->qmp ? &q->qtest : NULL) {
		if (c->fd < 0)
			continue;
		conn_remove(c);
		close(c->fd);
		close(c->wfd);
		c->fd = c->wfd = -1;
	}
}

/* finish: stop every QEMU that still runs, print the plan and exit. */
static inline void __attribute__((noreturn)) finish(void)
{
	for (int i = 0; i < nqemus; i++)
		qemu_stop(qemus[i]);
	if (!nqemus)
		qemu_stop(vm);	/* its FIFOs, if it never started */
	printf("1..%d\n", points);
	exit(failed ? 1 : 0);
}

/* bail REASON...: a failed point for the run that could not go on. */
static inline void __attribute__((noreturn, format(printf, 1, 2))) bail(const char *fmt, ...)
{
	va_list ap;

	printf("# bail out: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	point(0, "the run reached its end");
	finish();
}

static inline long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/*
 * read_line C BUF SIZE TIMEOUT_MS: the next line from C, without its
 * newline (cut to SIZE - 1 bytes); 0, or -1 on timeout, end of file or
 * error.
 */
static inline int read_line(struct conn *c, char *buf, size_t size, long timeout_ms)
{
	long deadline = now_ms() + timeout_ms;

	for (;;) {
		char *nl = memchr(c->buf, '\n', c->have);

		if (nl) {
			size_t len = nl - c->buf;

			if (len >= size)
				len = size - 1;
			memcpy(buf, c->buf, len);
			buf[len] = 0;
			c->have -= nl + 1 - c->buf;
			memmove(c->buf, nl + 1, c->have);
			return 0;
		}
		if (c->have == sizeof(c->buf))
			c->have = 0;	/* a line longer than the buffer: dropped */

		long left = deadline - now_ms();
		struct pollfd p = { .fd = c->fd, .events = POLLIN };

		if (left <= 0 || poll(&p, 1, left) <= 0)
			return -1;
		ssize_t n = read(c->fd, c->buf + c->have, sizeof(c->buf) - c->have);

		if (n <= 0)
			return -1;
		c->have += n;
	}
}

static inline void event_keep(const char *line)
{
	size_t used = strlen(vm->events);

	if (used + strlen(line) + 2 < sizeof(vm->events))
		sprintf(vm->events + used, "%s\n", line);
}

/*
 * qmp REPLY SIZE FORMAT...: one QMP command; REPLY (if any) gets its reply.
 * 0, or -1 if QEMU answered with an error (printed).
 */
static inline int __attribute__((format(printf, 3, 4))) qmp(char *reply, size_t size, const char *fmt, ...)
{
	static char line[1 << 17];
	char cmd[512];
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(cmd, sizeof(cmd) - 1, fmt, ap);
	va_end(ap);
	cmd[len++] = '\n';
	if (write(vm->qmp.wfd, cmd, len) != len)
		bail("qmp%s%s: cannot send %.*s", *vm->name ? " " : "", vm->name, len - 1, cmd);
	for (;;) {
		if (read_line(&vm->qmp, line, sizeof(line), IO_TIMEOUT_MS))
			bail("qmp%s%s: no reply to %.*s", *vm->name ? " " : "", vm->name, len - 1, cmd);
		if (strstr(line, "\"event\"")) {
			event_keep(line);
			continue;
		}
		if (reply && size) {
			size_t len = strnlen(line, size - 1);

			memcpy(reply, line, len);
			reply[len] = 0;
		}
		if (strstr(line, "\"error\"")) {
			msg("qmp%s%s: %.*s answered %s", *vm->name ? " " : "", vm->name, len - 1, cmd, line);
			return -1;
		}
		return 0;
	}
}

/* qmp_event NAME ID MS: whether the event NAME for device ID came within MS. */
static inline int qmp_event(const char *name, const char *id, long timeout_ms)
{
	char line[4096], want[128];
	long deadline = now_ms() + timeout_ms;

	snprintf(want, sizeof(want), "\"device\": \"%s\"", id);
	for (;;) {
		for (char *e = vm->events; (e = strstr(e, name)); e++) {
			char *end = strchr(e, '\n'), *dev = strstr(e, want);

			if (dev && dev < end)
				return 1;
		}
		long left = deadline - now_ms();

		if (left <= 0 || read_line(&vm->qmp, line, sizeof(line), left))
			return 0;
		event_keep(line);
	}
}

/*
 * conn_open C NAME ARG: make the FIFOs of a pipe chardev in /tmp and open
 * both ends of them (read-write, so that neither open waits for QEMU);
 * ARG gets QEMU's "pipe:BASE".
 */
static inline void conn_open(struct conn *c, const char *name, char *arg, size_t size)
{
	char in[80], out[80];

	snprintf(c->base, sizeof(c->base), "/tmp/vmm-%s.%d", name, getpid());
	snprintf(in, sizeof(in), "%s.in", c->base);
	snprintf(out, sizeof(out), "%s.out", c->base);
	unlink(in);
	unlink(out);
	if (mkfifo(in, 0600) || mkfifo(out, 0600))
		bail("mkfifo %s: %s", c->base, strerror(errno));
	c->wfd = open(in, O_RDWR | O_CLOEXEC);
	c->fd = open(out, O_RDWR | O_CLOEXEC);
	if (c->wfd < 0 || c->fd < 0)
		bail("cannot open %s.*: %s", c->base, strerror(errno));
	snprintf(arg, size, "pipe:%s", c->base);
}

/*
 * qemu_start ARGV: run the QEMU in use, vm (the binary MDEV_VMM_QEMU,
 * default qemu-system-x86_64 from PATH), with ARGV after its name, which
 * must give "pipe:" and vm->qmp's base to -qmp (conn_open), its output to
 * a file; then read QMP's greeting and enter command mode.  Open every
 * other chardev's FIFOs before this.
 */
static inline void qemu_start(char **argv)
{
	const char *qemu = getenv("MDEV_VMM_QEMU") ?: "qemu-system-x86_64";
	static int started;
	char line[4096];

	snprintf(vm->err, sizeof(vm->err), "/tmp/vmm-qemu.%d.%d.out", getpid(), started++);
	argv[0] = (char *)qemu;
	fflush(stdout);
	vm->pid = fork();
	if (vm->pid == 0) {
		int out = open(vm->err, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		dup2(out, 1);
		dup2(out, 2);
		execvp(qemu, argv);
		_exit(127);
	}
	if (nqemus < (int)(sizeof(qemus) / sizeof(qemus[0]))) {
		int known = 0;

		for (int i = 0; i < nqemus; i++)
			known |= qemus[i] == vm;
		if (!known)
			qemus[nqemus++] = vm;
	}
	vm->events[0] = 0;
	if (read_line(&vm->qmp, line, sizeof(line), IO_TIMEOUT_MS) || !strstr(line, "QMP")) {
		qemu_stderr_print();
		bail("no QMP greeting from QEMU%s%s", *vm->name ? " " : "", vm->name);
	}
	if (qmp(NULL, 0, "{\"execute\": \"qmp_capabilities\"}"))
		bail("QMP refuses qmp_capabilities");
}

/* qemu_quit: QMP quit to vm; one point, that it exits with status 0. */
static inline void qemu_quit(void)
{
	int status = -1;
	long deadline = now_ms() + 60000;

	if (qmp(NULL, 0, "{\"execute\": \"quit\"}"))
		return;
	while (waitpid(vm->pid, &status, WNOHANG) != vm->pid && now_ms() < deadline)
		usleep(50000);
	point(WIFEXITED(status) && WEXITSTATUS(status) == 0, "QEMU%s%s quits cleanly (status 0x%x)",
	      *vm->name ? " " : "", vm->name, status);
	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		vm->pid = 0;
		qemu_stderr_print();
	}
}

/* The qtest protocol (-qtest), to vm: the guest's side of the machine. */

/* An asynchronous qtest line: IRQ raise N / IRQ lower N. */
static inline int qtest_async(const char *line)
{
	unsigned int irq;

	if (sscanf(line, "IRQ raise %u", &irq) == 1) {
		if (irq < 32)
			vm->irq_raised |= 1u << irq;
		return 1;
	}
	return strncmp(line, "IRQ ", 4) == 0;
}

/* qtest_reply LINE SIZE CMD: the reply to the command CMD just sent. */
static inline void qtest_reply(char *line, size_t size, const char *cmd)
{
	do {
		if (read_line(&vm->qtest, line, size, IO_TIMEOUT_MS))
			bail("qtest%s%s: no reply to '%s'", *vm->name ? " " : "", vm->name, cmd);
	} while (qtest_async(line));
	if (strncmp(line, "OK", 2))
		bail("qtest%s%s: '%s' answered '%.60s'", *vm->name ? " " : "", vm->name, cmd, line);
}

/* qtest FORMAT...: one command; returns its reply's value (OK 0x...). */
static inline uint64_t __attribute__((format(printf, 1, 2))) qtest(const char *fmt, ...)
{
	char cmd[256], line[256];
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(cmd, sizeof(cmd) - 1, fmt, ap);
	va_end(ap);
	cmd[len] = '\n';
	if (write(vm->qtest.wfd, cmd, len + 1) != len + 1)
		bail("qtest: cannot send '%s'", cmd);
	cmd[len] = 0;
	qtest_reply(line, sizeof(line), cmd);
	return line[2] ? strtoull(line + 3, NULL, 0) : 0;
}

/* wait_irq IRQ MS: whether QEMU raised the guest's IRQ within MS. */
static inline int wait_irq(unsigned int irq, long timeout_ms)
{
	char line[256];
	long deadline = now_ms() + timeout_ms;

	while (!(vm->irq_raised & (1u << irq))) {
		long left = deadline - now_ms();

		if (left <= 0 || read_line(&vm->qtest, line, sizeof(line), left))
			return 0;
		if (!qtest_async(line))
			bail("qtest: unexpected line '%s'", line);
	}
	return 1;
}

/* PCI configuration mechanism #1 through ports 0xcf8/0xcfc. */
static inline uint32_t cfg_addr(int slot, int off)
{
	return 0x80000000u | slot << 11 | (off & 0xfc);
}

static inline uint32_t cfg_read(int slot, int off, int size)
{
	qtest("outl 0xcf8 0x%x", cfg_addr(slot, off));
	if (size == 1)
		return qtest("inb 0x%x", 0xcfc + (off & 3));
	if (size == 2)
		return qtest("inw 0x%x", 0xcfc + (off & 2));
	return qtest("inl 0xcfc");
}

static inline void cfg_write(int slot, int off, int size, uint32_t val)
{
	qtest("outl 0xcf8 0x%x", cfg_addr(slot, off));
	if (size == 1)
		qtest("outb 0x%x 0x%x", 0xcfc + (off & 3), val);
	else if (size == 2)
		qtest("outw 0x%x 0x%x", 0xcfc + (off & 2), val);
	else
		qtest("outl 0xcfc 0x%x", val);
}

/*
 * The object of query-pci's reply for the device whose qdev_id is ID: the
 * braces around that key (QMP prints an object's keys in no fixed order).
 */
static inline const char *pci_entry(const char *reply, const char *id, char *out, size_t size)
{
	char key[64];
	const char *s, *e;
	int depth = 0;

	snprintf(key, sizeof(key), "\"qdev_id\": \"%s\"", id);
	s = strstr(reply, key);
	if (!s)
		return NULL;
	for (; s > reply; s--) {
		if (*s == '}')
			depth++;
		else if (*s == '{' && depth-- == 0)
			break;
	}
	for (e = s, depth = 0; *e; e++) {
		if (*e == '{')
			depth++;
		else if (*e == '}' && --depth == 0)
			break;
	}
	snprintf(out, size, "%.*s", (int)(e - s + 1), s);
	return out;
}

static inline long json_num(const char *obj, const char *key)
{
	char k[64];
	const char *p;

	snprintf(k, sizeof(k), "\"%s\": ", key);
	p = strstr(obj, k);
	return p ? strtol(p + strlen(k), NULL, 10) : -1;
}

/*
 * The picture that a guest draws on an mdpy display (XRGB8888, WIDTH pixels
 * a row): the first 8 rows gray (every byte 0x80), then on row 1 a red, a
 * green and a blue pixel from column 1.  vmm_qtest draws it through BAR0,
 * vmm-inner-init.sh through mdpy-fb's /dev/fbN.
 */
static const unsigned char picture_row1[4][3] = {
	{ 0x80, 0x80, 0x80 }, { 0xff, 0, 0 }, { 0, 0xff, 0 }, { 0, 0, 0xff }
};

/*
 * screendump_check DEVICE WIDTH HEIGHT WHAT: QMP screendump of the display
 * of the vfio-pci device DEVICE (display=on, so QEMU reads it through
 * VFIO_DEVICE_QUERY_GFX_PLANE and the mapped region), and two points: its
 * size, and that it shows the picture above.
 */
static inline void screendump_check(const char *device, unsigned int w, unsigned int h, const char *what)
{
	char reply[4096], path[64], magic[3];
	unsigned char px[4][3] = { 0 };
	unsigned int pw = 0, ph = 0, max;
	int ok = 1;
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/vmm-screen.%d.ppm", getpid());
	unlink(path);
	if (qmp(reply, sizeof(reply),
		"{\"execute\": \"screendump\", \"arguments\": {\"filename\": \"%s\", \"device\": \"%s\"}}",
		path, device)) {
		point(0, "%s: QEMU's display of the device takes a screendump", what);
		return;
	}
	f = fopen(path, "r");
	if (!f || fscanf(f, "%2s %u %u %u", magic, &pw, &ph, &max) != 4 || strcmp(magic, "P6") ||
	    fgetc(f) == EOF)
		ok = 0;
	point(ok && pw == w && ph == h, "%s: QEMU's display shows the device's plane at its size (%ux%u)",
	      what, pw, ph);
	if (!ok || fseek(f, ftell(f) + (long)pw * 3, SEEK_SET) || fread(px, 3, 4, f) != 4)
		ok = 0;
	if (f)
		fclose(f);
	for (int i = 0; ok && i < 4; i++)
		ok = !memcmp(px[i], picture_row1[i], 3);
	point(ok, "%s: what the guest drew comes back through VFIO_DEVICE_QUERY_GFX_PLANE and the mapped region",
	      what);
	if (!ok)
		msg("row 1 starts %02x%02x%02x %02x%02x%02x %02x%02x%02x %02x%02x%02x", px[0][0], px[0][1],
		    px[0][2], px[1][0], px[1][1], px[1][2], px[2][0], px[2][1], px[2][2], px[3][0], px[3][1],
		    px[3][2]);
	unlink(path);
}

static inline int sysfs_remove(const char *uuid)
{
	char path[128];
	int fd, rc;

	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/remove", uuid);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	rc = write(fd, "1", 1) == 1 ? 0 : -errno;
	close(fd);
	return rc;
}

#endif /* MDEV_SELFTEST_VMM_QEMU_H */
