// SPDX-License-Identifier: GPL-2.0
/*
 * mdev_bench - cost of create and remove as the number of devices grows.
 *
 * Usage: mdev_bench TYPE_DIR POPULATION PAIRS
 *
 * Creates POPULATION devices of the type (the background), then times PAIRS
 * create+remove pairs of fresh UUIDs among them, and prints one line:
 *   population=N create_us=X remove_us=Y   (mean per operation)
 * The background devices are left in place for the caller to grow or drop.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static unsigned long long counter;

/* A UUID that no earlier call of this run produced. */
static void next_uuid(char *buf)
{
	unsigned long long n = ++counter;
	unsigned int salt = (unsigned int)getpid();

	snprintf(buf, 37, "%08x-%04x-4%03x-8%03x-%012llx", salt,
		 (unsigned int)(time(NULL) & 0xffff), 0, 0, n);
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	n = n < 0 ? -errno : 0;
	close(fd);
	return (int)n;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
	char create[4096], remove_path[4096], uuid[40];
	double create_us = 0, remove_us = 0, t;
	long population, pairs, i;
	int ret;

	if (argc != 4) {
		fprintf(stderr, "usage: mdev_bench TYPE_DIR POPULATION PAIRS\n");
		return 2;
	}
	population = atol(argv[2]);
	pairs = atol(argv[3]);
	snprintf(create, sizeof(create), "%s/create", argv[1]);

	for (i = 0; i < population; i++) {
		next_uuid(uuid);
		ret = write_str(create, uuid);
		if (ret) {
			fprintf(stderr, "background create %ld: %s\n", i, strerror(-ret));
			return 1;
		}
	}
	for (i = 0; i < pairs; i++) {
		next_uuid(uuid);
		snprintf(remove_path, sizeof(remove_path), "/sys/bus/mdev/devices/%s/remove", uuid);
		t = now_us();
		ret = write_str(create, uuid);
		create_us += now_us() - t;
		if (ret) {
			fprintf(stderr, "create: %s\n", strerror(-ret));
			return 1;
		}
		t = now_us();
		ret = write_str(remove_path, "1");
		remove_us += now_us() - t;
		if (ret) {
			fprintf(stderr, "remove: %s\n", strerror(-ret));
			return 1;
		}
	}
	printf("population=%ld create_us=%.1f remove_us=%.1f\n", population,
	       create_us / pairs, remove_us / pairs);
	return 0;
}
