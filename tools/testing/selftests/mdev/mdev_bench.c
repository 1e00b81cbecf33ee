// SPDX-License-Identifier: GPL-2.0
/*
 * mdev_bench - what create and remove cost on an mdev core (`make bench`).
 *
 *   mdev_bench curve TYPE_DIR MAX BASE SAMPLES SEED
 *	Grows one type from 0 to MAX devices, timing every create, and prints
 *	one line per population bucket and operation:
 *	  bench-op OP LOW HIGH MEDIAN_US COUNT
 *	The buckets are [0, BASE), [BASE, 2 BASE), [2 BASE, 4 BASE), ... up to
 *	MAX.  When the population reaches the middle of a bucket, SAMPLES
 *	devices chosen at random among the live ones are removed (remove-random),
 *	then the SAMPLES newest (remove-newest), then the SAMPLES oldest
 *	(remove-oldest), each set followed by as many untimed creates so that
 *	the population stays in the bucket.  In the first bucket it also times
 *	SAMPLES writes of "0" to a `remove` file: the same sysfs write path with
 *	no work behind it, the floor under every figure (OP = floor).
 *	The devices are left in place.
 *
 *   mdev_bench writers OPS SEED TYPE_DIR...
 *	One writer process per type directory (each on its own parent), all
 *	started together, each doing OPS operations (creates and removes in
 *	batches); prints  bench-writers N OPS_PER_SECOND  for all of them.
 *
 *   mdev_bench grow TYPE_DIR N SEED
 *	Creates N devices, untimed (the memory measurement, the profile).
 *
 *   mdev_bench drain TYPE_DIR
 *	Removes every device of the type, untimed (the profile).
 *
 *   mdev_bench reader TYPE_DIR N SEED [FILE]
 *	Times N creates on TYPE_DIR with nothing else running ("alone"), then,
 *	if FILE is given, N more while a child process reads FILE from start to
 *	end in a loop ("reader"); the devices of each phase are removed again,
 *	untimed, before the next.  Prints one line per phase:
 *	  bench-reader MODE N MEDIAN_US MEAN_US MAX_US READS
 *	where READS is how many whole reads of FILE the child finished while
 *	the phase ran (0 when alone).
 *
 * The `create` file is opened once and written with pwrite(); each device's
 * `remove` file is opened before the timed write, so that the figures are the
 * core's and not the path lookup's.  The UUIDs and the random choices come
 * from SEED alone, so both cores see the same sequence.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define UUID_LEN 36

/* splitmix64: small, seedable and good enough to spread UUIDs and choices. */
static uint64_t mix(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* The UUID of device number @n of stream @stream: random-looking, version 4. */
static void uuid_of(uint64_t seed, unsigned int stream, uint64_t n, char *buf)
{
	uint64_t state = seed ^ ((uint64_t)stream << 48) ^ (n * 0x100000001b3ULL);
	uint64_t hi = mix(&state), lo = mix(&state);

	snprintf(buf, UUID_LEN + 1, "%08x-%04x-4%03x-%04x-%012llx",
		 (unsigned int)(hi >> 32), (unsigned int)(hi >> 16) & 0xffff,
		 (unsigned int)hi & 0xfff, 0x8000 | ((unsigned int)(lo >> 48) & 0x3fff),
		 (unsigned long long)(lo & 0xffffffffffffULL));
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void die(const char *what, const char *uuid, int err)
{
	fprintf(stderr, "mdev_bench: %s %s: %s\n", what, uuid ? uuid : "", strerror(err));
	exit(1);
}

/* Opens a sysfs file for writing, or dies naming it. */
static int open_for_write(const char *path)
{
	int fd = open(path, O_WRONLY);

	if (fd < 0)
		die("open", path, errno);
	return fd;
}

static int open_create(const char *type_dir)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/create", type_dir);
	return open_for_write(path);
}

static void create(int fd, const char *uuid)
{
	if (pwrite(fd, uuid, UUID_LEN, 0) != UUID_LEN)
		die("create", uuid, errno);
}

static int open_remove(const char *uuid)
{
	char path[4096];

	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/remove", uuid);
	return open_for_write(path);
}

static void remove_fd(int fd, const char *uuid)
{
	if (pwrite(fd, "1", 1, 0) != 1)
		die("remove", uuid, errno);
}

/* Timings of one operation in one bucket. */
struct samples {
	double *us;
	size_t n, cap;
};

static void add(struct samples *s, double us)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 256;
		s->us = realloc(s->us, s->cap * sizeof(*s->us));
		if (!s->us)
			die("realloc", NULL, ENOMEM);
	}
	s->us[s->n++] = us;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Prints the median of @s and empties it. */
static void report(const char *op, long low, long high, struct samples *s)
{
	double median;

	if (!s->n)
		return;
	qsort(s->us, s->n, sizeof(*s->us), cmp_double);
	median = s->n % 2 ? s->us[s->n / 2] : (s->us[s->n / 2 - 1] + s->us[s->n / 2]) / 2;
	printf("bench-op %s %ld %ld %.2f %zu\n", op, low, high, median, s->n);
	fflush(stdout);
	s->n = 0;
}

/* The devices of the curve, by creation number. */
struct population {
	uint64_t seed;
	int create_fd;
	char (*uuid)[UUID_LEN + 1];
	unsigned char *alive;
	long next, live, oldest, cap;
	uint64_t choice; /* state of the random choices */
};

static long grow_one(struct population *p, struct samples *timed)
{
	long n = p->next++;
	double t;

	if (n >= p->cap)
		die("capacity", NULL, ENOSPC);
	uuid_of(p->seed, 0, n, p->uuid[n]);
	t = now_us();
	create(p->create_fd, p->uuid[n]);
	if (timed)
		add(timed, now_us() - t);
	p->alive[n] = 1;
	p->live++;
	return n;
}

enum pick { PICK_RANDOM, PICK_NEWEST, PICK_OLDEST };

/* The most recently created device that is still live. */
static long newest_live(const struct population *p)
{
	long n = p->next - 1;

	while (!p->alive[n])
		n--;
	return n;
}

/* Chooses a live device, which is no longer counted as live. */
static long pick(struct population *p, enum pick how)
{
	long n;

	switch (how) {
	case PICK_OLDEST:
		while (!p->alive[p->oldest])
			p->oldest++;
		n = p->oldest;
		break;
	case PICK_NEWEST:
		n = newest_live(p);
		break;
	default:
		do
			n = (long)(mix(&p->choice) % (uint64_t)p->next);
		while (!p->alive[n]);
	}
	p->alive[n] = 0;
	p->live--;
	return n;
}

/* Removes @count devices chosen by @how, timing each write, then refills. */
static void remove_some(struct population *p, enum pick how, long count, struct samples *s)
{
	long *chosen = calloc(count, sizeof(*chosen));
	int *fds = calloc(count, sizeof(*fds));
	long i;
	double t;

	if (!chosen || !fds)
		die("calloc", NULL, ENOMEM);
	for (i = 0; i < count; i++) {
		chosen[i] = pick(p, how);
		fds[i] = open_remove(p->uuid[chosen[i]]);
	}
	for (i = 0; i < count; i++) {
		t = now_us();
		remove_fd(fds[i], p->uuid[chosen[i]]);
		add(s, now_us() - t);
		close(fds[i]);
	}
	for (i = 0; i < count; i++)
		grow_one(p, NULL);
	free(chosen);
	free(fds);
}

/* Writes "0" to the newest device's `remove`: sysfs with no work behind. */
static void floor_writes(struct population *p, long count, struct samples *s)
{
	long n;
	int fd;
	double t;

	n = newest_live(p);
	fd = open_remove(p->uuid[n]);
	while (count--) {
		t = now_us();
		if (pwrite(fd, "0", 1, 0) != 1)
			die("write 0 to remove of", p->uuid[n], errno);
		add(s, now_us() - t);
	}
	close(fd);
}

static int curve(const char *type_dir, long max, long base, long samples, uint64_t seed)
{
	static const char *const remove_ops[] = { "remove-random", "remove-newest", "remove-oldest" };
	struct samples creates = { 0 }, removes = { 0 }, floor = { 0 };
	struct population p = { .seed = seed, .choice = seed ^ 0x5eed };
	long low = 0, high = base, k;
	int kind;

	p.cap = max + 64 * (3 * samples + 1);
	p.uuid = calloc(p.cap, sizeof(*p.uuid));
	p.alive = calloc(p.cap, 1);
	if (!p.uuid || !p.alive)
		die("calloc", NULL, ENOMEM);
	p.create_fd = open_create(type_dir);

	while (low < max) {
		if (high > max)
			high = max;
		/* Removes and refills stay inside the bucket's lower half. */
		k = samples < (high - low) / 4 ? samples : (high - low) / 4;
		while (p.live < high) {
			if (p.live == low + (high - low) / 2 && k > 0) {
				if (low == 0) {
					floor_writes(&p, samples, &floor);
					report("floor", low, high, &floor);
				}
				for (kind = 0; kind < 3; kind++) {
					remove_some(&p, (enum pick)kind, k, &removes);
					report(remove_ops[kind], low, high, &removes);
				}
			}
			grow_one(&p, &creates);
		}
		report("create", low, high, &creates);
		low = high;
		high = 2 * high;
	}
	close(p.create_fd);
	return 0;
}

/* One writer: batches of creates, then their removes, until @ops are done. */
static void writer(const char *type_dir, long ops, uint64_t seed, unsigned int stream)
{
	enum { BATCH = 32 };
	char uuid[BATCH][UUID_LEN + 1];
	int create_fd = open_create(type_dir), fd, i;
	uint64_t n = 0;

	while (ops > 0) {
		for (i = 0; i < BATCH; i++) {
			uuid_of(seed, stream, n++, uuid[i]);
			create(create_fd, uuid[i]);
		}
		for (i = 0; i < BATCH; i++) {
			fd = open_remove(uuid[i]);
			remove_fd(fd, uuid[i]);
			close(fd);
		}
		ops -= 2 * BATCH;
	}
}

static int writers(long ops, uint64_t seed, int count, char **type_dirs)
{
	int ready[2], go[2], i, status, failed = 0;
	char byte;
	double t0;

	if (pipe(ready) || pipe(go))
		die("pipe", NULL, errno);
	for (i = 0; i < count; i++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork", NULL, errno);
		if (!pid) {
			close(ready[0]);
			close(go[1]);
			if (write(ready[1], "r", 1) != 1 || read(go[0], &byte, 1) != 0)
				exit(1);
			writer(type_dirs[i], ops, seed, 1 + i);
			exit(0);
		}
	}
	close(ready[1]);
	close(go[0]);
	for (i = 0; i < count; i++)
		if (read(ready[0], &byte, 1) != 1)
			die("waiting for writers", NULL, EPIPE);
	t0 = now_us();
	close(go[1]); /* every writer's read() returns 0: go */
	for (i = 0; i < count; i++)
		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			failed = 1;
	if (failed)
		return 1;
	printf("bench-writers %d %.1f\n", count, count * ops * 1e6 / (now_us() - t0));
	return 0;
}

static int grow(const char *type_dir, long count, uint64_t seed)
{
	char uuid[UUID_LEN + 1];
	int fd = open_create(type_dir);
	long n;

	for (n = 0; n < count; n++) {
		uuid_of(seed, 100, n, uuid);
		create(fd, uuid);
	}
	close(fd);
	return 0;
}

static int drain(const char *type_dir)
{
	char path[4096];
	struct dirent *entry;
	DIR *dir;
	int fd;

	snprintf(path, sizeof(path), "%s/devices", type_dir);
	dir = opendir(path);
	if (!dir)
		die("opendir", path, errno);
	while ((entry = readdir(dir))) {
		if (entry->d_name[0] == '.')
			continue;
		fd = open_remove(entry->d_name);
		remove_fd(fd, entry->d_name);
		close(fd);
	}
	closedir(dir);
	return 0;
}

/* Reads @path whole, again and again, counting the reads, until killed. */
static void read_loop(const char *path, volatile long *reads)
{
	static char buf[1 << 16];
	ssize_t got;
	int fd;

	for (;;) {
		fd = open(path, O_RDONLY);
		if (fd < 0)
			die("open", path, errno);
		do
			got = read(fd, buf, sizeof(buf));
		while (got > 0);
		if (got < 0)
			die("read", path, errno);
		close(fd);
		(*reads)++;
	}
}

/*
 * One phase of `reader`: N timed creates (UUID stream @stream), then their
 * removes, untimed.  With @path, a child reads it in a loop meanwhile.
 */
static void reader_phase(const char *type_dir, long n, uint64_t seed, unsigned int stream,
			 const char *path)
{
	struct samples s = { 0 };
	char (*uuid)[UUID_LEN + 1] = calloc(n, sizeof(*uuid));
	volatile long *reads = mmap(NULL, sizeof(*reads), PROT_READ | PROT_WRITE,
				    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int create_fd = open_create(type_dir), ready[2], status, fd;
	double t, sum = 0, max = 0;
	pid_t child = -1;
	char byte;
	long i;

	if (!uuid || reads == MAP_FAILED)
		die("allocating the phase", NULL, ENOMEM);
	*reads = 0;
	if (path) {
		if (pipe(ready))
			die("pipe", NULL, errno);
		child = fork();
		if (child < 0)
			die("fork", NULL, errno);
		if (!child) {
			close(ready[0]);
			if (write(ready[1], "r", 1) != 1)
				exit(1);
			read_loop(path, reads);
		}
		close(ready[1]);
		if (read(ready[0], &byte, 1) != 1)
			die("waiting for the reader", NULL, EPIPE);
		close(ready[0]);
	}
	for (i = 0; i < n; i++) {
		uuid_of(seed, stream, i, uuid[i]);
		t = now_us();
		create(create_fd, uuid[i]);
		t = now_us() - t;
		add(&s, t);
		sum += t;
		if (t > max)
			max = t;
	}
	if (path) {
		kill(child, SIGKILL);
		if (waitpid(child, &status, 0) != child)
			die("waitpid", NULL, errno);
		/* Killed as planned, not dead of its own error first. */
		if (!WIFSIGNALED(status))
			die("the reader of", path, EIO);
	}
	close(create_fd);
	for (i = 0; i < n; i++) {
		fd = open_remove(uuid[i]);
		remove_fd(fd, uuid[i]);
		close(fd);
	}
	qsort(s.us, s.n, sizeof(*s.us), cmp_double);
	printf("bench-reader %s %ld %.2f %.2f %.2f %ld\n", path ? "reader" : "alone", n,
	       s.n % 2 ? s.us[s.n / 2] : (s.us[s.n / 2 - 1] + s.us[s.n / 2]) / 2,
	       sum / n, max, *reads);
	fflush(stdout);
	munmap((void *)reads, sizeof(*reads));
	free(s.us);
	free(uuid);
}

static int reader(const char *type_dir, long n, uint64_t seed, const char *path)
{
	if (n < 1)
		die("reader: no creates to time", NULL, EINVAL);
	reader_phase(type_dir, n, seed, 200, NULL);
	if (path)
		reader_phase(type_dir, n, seed, 201, path);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 7 && !strcmp(argv[1], "curve"))
		return curve(argv[2], atol(argv[3]), atol(argv[4]), atol(argv[5]),
			     strtoull(argv[6], NULL, 0));
	if (argc >= 5 && !strcmp(argv[1], "writers"))
		return writers(atol(argv[2]), strtoull(argv[3], NULL, 0), argc - 4, argv + 4);
	if (argc == 5 && !strcmp(argv[1], "grow"))
		return grow(argv[2], atol(argv[3]), strtoull(argv[4], NULL, 0));
	if (argc == 3 && !strcmp(argv[1], "drain"))
		return drain(argv[2]);
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "reader"))
		return reader(argv[2], atol(argv[3]), strtoull(argv[4], NULL, 0),
			      argc == 6 ? argv[5] : NULL);
	fprintf(stderr, "usage: mdev_bench curve TYPE_DIR MAX BASE SAMPLES SEED\n"
			"       mdev_bench writers OPS SEED TYPE_DIR...\n"
			"       mdev_bench grow TYPE_DIR N SEED\n"
			"       mdev_bench drain TYPE_DIR\n"
			"       mdev_bench reader TYPE_DIR N SEED [FILE]\n");
	return 2;
}
