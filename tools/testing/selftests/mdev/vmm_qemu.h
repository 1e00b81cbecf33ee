/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmm_qemu.h - what the real-VMM tests (vmm_qtest.c, vmm_boot.c) share:
 * starting qemu-system-x86_64 with mediated devices as vfio-pci, talking
 * to it over pairs of FIFOs (QMP, qtest, the guest's serial port: the test
 * kernel has no networking, so no Unix sockets), checking
 * what its display shows, and KTAP points with the plan printed last
 * (run_harness in mdev_lib.sh reads it there).
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

static struct conn qmp_conn = { .fd = -1, .wfd = -1 };
static pid_t qemu_pid;
static char qemu_err[64];
static FILE *trace;
static int points, failed;
/* QMP events met while waiting for replies, a line each. */
static char events[1 << 15];

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

/* QEMU's own messages (its stdout and stderr), as diagnostics. */
static inline void qemu_stderr_print(void)
{
	char line[512];
	FILE *f = fopen(qemu_err, "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		msg("qemu: %s", line);
	}
	fclose(f);
}

/* finish: stop QEMU if it still runs, print the plan and exit. */
static inline void __attribute__((noreturn)) finish(void)
{
	int status;

	if (qemu_pid > 0) {
		kill(qemu_pid, SIGKILL);
		waitpid(qemu_pid, &status, 0);
		qemu_stderr_print();
	}
	unlink(qemu_err);
	if (qmp_conn.fd >= 0)
		conn_remove(&qmp_conn);
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
	size_t used = strlen(events);

	if (used + strlen(line) + 2 < sizeof(events))
		sprintf(events + used, "%s\n", line);
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
	if (write(qmp_conn.wfd, cmd, len) != len)
		bail("qmp: cannot send %.*s", len - 1, cmd);
	for (;;) {
		if (read_line(&qmp_conn, line, sizeof(line), IO_TIMEOUT_MS))
			bail("qmp: no reply to %.*s", len - 1, cmd);
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
			msg("qmp: %.*s answered %s", len - 1, cmd, line);
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
		for (char *e = events; (e = strstr(e, name)); e++) {
			char *end = strchr(e, '\n'), *dev = strstr(e, want);

			if (dev && dev < end)
				return 1;
		}
		long left = deadline - now_ms();

		if (left <= 0 || read_line(&qmp_conn, line, sizeof(line), left))
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
 * qemu_start ARGV QMP_ARG: run QEMU (MDEV_VMM_QEMU, default
 * qemu-system-x86_64 from PATH) with ARGV after its name, which must give
 * QMP_ARG to -qmp, its output to a file; then read QMP's greeting and enter
 * command mode.  Open every other chardev's FIFOs before this.
 */
static inline void qemu_start(char **argv)
{
	const char *qemu = getenv("MDEV_VMM_QEMU") ?: "qemu-system-x86_64";
	char line[4096];

	snprintf(qemu_err, sizeof(qemu_err), "/tmp/vmm-qemu.%d.out", getpid());
	argv[0] = (char *)qemu;
	fflush(stdout);
	qemu_pid = fork();
	if (qemu_pid == 0) {
		int out = open(qemu_err, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		dup2(out, 1);
		dup2(out, 2);
		execvp(qemu, argv);
		_exit(127);
	}
	if (read_line(&qmp_conn, line, sizeof(line), IO_TIMEOUT_MS) || !strstr(line, "QMP")) {
		qemu_stderr_print();
		bail("no QMP greeting from QEMU");
	}
	if (qmp(NULL, 0, "{\"execute\": \"qmp_capabilities\"}"))
		bail("QMP refuses qmp_capabilities");
}

/* qemu_quit: QMP quit; one point, that QEMU exits with status 0. */
static inline void qemu_quit(void)
{
	int status = -1;
	long deadline = now_ms() + 60000;

	if (qmp(NULL, 0, "{\"execute\": \"quit\"}"))
		return;
	while (waitpid(qemu_pid, &status, WNOHANG) != qemu_pid && now_ms() < deadline)
		usleep(50000);
	point(WIFEXITED(status) && WEXITSTATUS(status) == 0, "QEMU quits cleanly (status 0x%x)", status);
	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		qemu_pid = 0;
		qemu_stderr_print();
	}
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
