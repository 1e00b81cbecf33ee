// SPDX-License-Identifier: GPL-2.0
/*
 * mdev_write - write a string to a sysfs file in one write(2) and report the
 * result in a form a shell test can compare: "OK" or the errno's name
 * ("EEXIST", "EINVAL", ...).  Shell redirections cannot tell errnos apart.
 *
 * Usage: mdev_write [-n] FILE STRING    (-n appends one newline)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int newline = 0, fd;
	size_t len;
	char *buf;
	ssize_t n;

	if (argc > 1 && !strcmp(argv[1], "-n")) {
		newline = 1;
		argv++;
		argc--;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: mdev_write [-n] FILE STRING\n");
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
	n = write(fd, buf, len);
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
