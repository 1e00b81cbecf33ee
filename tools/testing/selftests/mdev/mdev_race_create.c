// SPDX-License-Identifier: GPL-2.0
/*
 * mdev_race_create - write fresh UUIDs to a type's create file as fast as
 * possible, while the file comes and goes (reg_race.sh: a vendor loaded in
 * a loop whose registration fails half-way).
 *
 * Usage: mdev_race_create FILE SECONDS
 *
 * Opens FILE again and again, at the lowest priority (it spins on a CPU of
 * its own, and the loads it races need not wait for it); each time it opens,
 * writes a fresh random UUID to it in one write(2).  Stops on SIGTERM or after SECONDS.  Prints
 * "created UUID" for each create that succeeded, then one line
 *   writes N: OK n, ENODEV n, ...; absent N
 * with the results of the writes by name and the number of opens that
 * found no file.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define MAX_RESULTS 16

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static struct {
	int err;	/* 0: OK */
	unsigned long count;
} results[MAX_RESULTS];
static int nr_results;

static void count(int err)
{
	int i;

	for (i = 0; i < nr_results; i++) {
		if (results[i].err == err) {
			results[i].count++;
			return;
		}
	}
	if (nr_results < MAX_RESULTS) {
		results[nr_results].err = err;
		results[nr_results++].count = 1;
	}
}

static void new_uuid(char *out)
{
	unsigned char b[16];
	size_t got = 0;
	int i;

	while (got < sizeof(b)) {
		ssize_t n = getrandom(b + got, sizeof(b) - got, 0);

		if (n > 0)
			got += n;
	}
	b[6] = (b[6] & 0x0f) | 0x40;	/* version 4 */
	b[8] = (b[8] & 0x3f) | 0x80;	/* RFC 4122 variant */
	for (i = 0; i < 16; i++) {
		out += sprintf(out, "%02x", b[i]);
		if (i == 3 || i == 5 || i == 7 || i == 9)
			*out++ = '-';
	}
	*out = '\0';
}

int main(int argc, char **argv)
{
	unsigned long writes = 0, absent = 0;
	struct sigaction sa = { .sa_handler = on_term };
	struct timespec now;
	time_t deadline;
	char uuid[40];
	int i;

	if (argc != 3) {
		fprintf(stderr, "usage: mdev_race_create FILE SECONDS\n");
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	if (nice(19) < 0)
		perror("mdev_race_create: nice");
	clock_gettime(CLOCK_MONOTONIC, &now);
	deadline = now.tv_sec + atoi(argv[2]);
	setvbuf(stdout, NULL, _IOLBF, 0);

	while (!stop) {
		int fd = open(argv[1], O_WRONLY);
		ssize_t n;

		if (fd < 0) {
			absent++;
			/* The clock only now and then: opens are the hot path. */
			if (absent % 256 == 0) {
				clock_gettime(CLOCK_MONOTONIC, &now);
				if (now.tv_sec >= deadline)
					break;
			}
			continue;
		}
		new_uuid(uuid);
		n = write(fd, uuid, 36);
		close(fd);
		writes++;
		if (n == 36) {
			count(0);
			printf("created %s\n", uuid);
		} else {
			count(n < 0 ? errno : EIO);
		}
	}

	printf("writes %lu:", writes);
	for (i = 0; i < nr_results; i++)
		printf("%s %s %lu", i ? "," : "",
		       results[i].err ? strerrorname_np(results[i].err) : "OK",
		       results[i].count);
	printf("; absent %lu\n", absent);
	return 0;
}
