// SPDX-License-Identifier: GPL-2.0
/*
 * mdev_write - write a string to a sysfs file in one write(2) and report the
 * result in a form a shell test can compare: "OK" or the errno's name
 * ("EEXIST", "EINVAL", ...).  Shell redirections cannot tell errnos apart.
 *
 * Usage: mdev_write [-n] [-w FLAG] FILE STRING
 *   -n       append one newline
 *   -w FLAG  open FILE, create FLAG.opened, wait until the file FLAG
 *            exists, then write: for writing through a file descriptor
 *            opened earlier
 *   -f N     fail the N-th fault-injection point of the write (through
 *            /proc/self/fail-nth) and append " fault" if it was reached,
 *            " nofault" if the write had fewer than N such points
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *flag = NULL, *fail_nth = NULL;
	int newline = 0, fd, nth_fd = -1;
	size_t len;
	char *buf;
	ssize_t n;

	for (;;) {
		if (argc > 1 && !strcmp(argv[1], "-n")) {
			newline = 1;
			argv++;
			argc--;
		} else if (argc > 2 && !strcmp(argv[1], "-f")) {
			fail_nth = argv[2];
			argv += 2;
			argc -= 2;
		} else if (argc > 2 && !strcmp(argv[1], "-w")) {
			flag = argv[2];
			argv += 2;
			argc -= 2;
		} else {
			break;
		}
	}
	if (argc != 3) {
		fprintf(stderr, "usage: mdev_write [-n] [-w FLAG] FILE STRING\n");
		return 2;
	}
	len = strlen(argv[2]);
	buf = malloc(len + 2);
	if (!buf)
		return 2;
	memcpy(buf, argv[2], len);
	if (newline)
		buf[len++] = '\n';

	fd = open(argv[1], O_WRONLY);
	if (fd < 0) {
		printf("%s\n", strerrorname_np(errno));
		return 1;
	}
	if (flag) {
		const struct timespec tick = { .tv_nsec = 10 * 1000 * 1000 };
		char opened[4096];
		int waited;

		snprintf(opened, sizeof(opened), "%s.opened", flag);
		close(open(opened, O_WRONLY | O_CREAT, 0644));
		for (waited = 0; access(flag, F_OK) && waited < 3000; waited++)
			nanosleep(&tick, NULL);
	}
	if (fail_nth) {
		/* Armed last, so that only the write itself counts. */
		nth_fd = open("/proc/self/fail-nth", O_RDWR);
		if (nth_fd < 0 || write(nth_fd, fail_nth, strlen(fail_nth)) < 0) {
			printf("NOFAILNTH\n");
			return 2;
		}
	}
	n = write(fd, buf, len);
	if (fail_nth) {
		int saved = errno;
		char left[16] = "";

		/* Reads 0 once the failure was injected; disarms either way. */
		if (pread(nth_fd, left, sizeof(left) - 1, 0) < 0)
			left[0] = '?';
		if (write(nth_fd, "0", 1) < 0)
			left[0] = '?';
		printf("%s %s\n", n < 0 ? strerrorname_np(saved) : "OK",
		       atoi(left) == 0 && left[0] == '0' ? "fault" : "nofault");
		return n < 0;
	}
	if (n < 0) {
		printf("%s\n", strerrorname_np(errno));
		return 1;
	}
	if ((size_t)n != len) {
		printf("SHORT(%zd/%zu)\n", n, len);
		return 1;
	}
	printf("OK\n");
	return 0;
}
