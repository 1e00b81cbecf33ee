// SPDX-License-Identifier: GPL-2.0
/*
 * mdev_storm - many processes creating, removing and reading mediated
 * devices at once, drawing UUIDs from a small pool so that they collide.
 *
 *   mdev_storm SEED OPS WRITERS POOL TYPE_DIR...
 *
 * WRITERS processes share OPS operations.  Writer w draws its operations
 * from a generator seeded with SEED and w, so a run's sequence of operations
 * is reproducible from SEED (their interleaving is the scheduler's).  Each
 * operation is one of (two in five, two in five, one in five):
 *   create   write a pool UUID to a random type's create
 *   remove   write 1 to the remove of a pool UUID: three times in four one
 *            that this writer created (if it has any), else any
 *   read     a random type's available_instances, name or description, a
 *            pool UUID's mdev_type link or the files of its vendor/
 *            directory (its vendor driver's), or a type's devices/ listing
 * Every file is opened afresh, as a management tool would, so that types
 * and devices vanishing underneath (a vendor module unloading) show as the
 * errno of open or write.
 *
 * Prints, for each operation and result, "storm-result OP RESULT COUNT",
 * where RESULT is OK or an errno name, and "storm-unexpected OP RESULT
 * COUNT" for results the ABI does not allow at any moment (see allowed()).
 * Exits 1 if there was any, 2 on a usage or setup error.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ERRNO 256
#define MDEV_BUS "/sys/bus/mdev/devices"

enum op { OP_CREATE, OP_REMOVE, OP_READ, NR_OPS };
static const char *const op_names[NR_OPS] = { "create", "remove", "read" };

/* Results counted by operation and errno (0 for success), shared by all
 * writers through an anonymous shared mapping.
 */
static unsigned long (*counts)[MAX_ERRNO];

static char **types;
static unsigned int nr_types;
static unsigned int pool;
static unsigned long seed;

/* splitmix64: small, good enough, and the same on every libc. */
static uint64_t next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* The pool's UUIDs are a function of the seed and the index only. */
static void pool_uuid(unsigned int index, char *buf, size_t len)
{
	snprintf(buf, len, "%08lx-5707-4000-8000-%012x", seed & 0xffffffffUL, index);
}

/*
 * What the ABI allows.  create: success, EEXIST (the UUID is in use),
 * EUSERS (no instance left), ENODEV (the parent is unregistering, or the
 * open file's sysfs node was removed), ENOENT (the type is gone), and
 * ENOSPC, which mtty's probe returns
 * when another create took its last ports between the core's instance check
 * and the probe.  remove: success, EAGAIN (the device is not active yet or
 * any more), ENODEV, ENOENT (no such device).  read: success, ENOENT (a
 * file the type does not have, or a gone device or type), ENODEV.
 */
static int allowed(enum op op, int err)
{
	switch (err) {
	case 0:
	case ENOENT:
	case ENODEV:
		return 1;
	case EEXIST:
	case EUSERS:
	case ENOSPC:
		return op == OP_CREATE;
	case EAGAIN:
		return op == OP_REMOVE;
	default:
		return 0;
	}
}

static void count(enum op op, int err)
{
	if (err < 0 || err >= MAX_ERRNO)
		err = MAX_ERRNO - 1;
	__atomic_fetch_add(&counts[op][err], 1, __ATOMIC_RELAXED);
}

/* One write(2) of @text to @path; 0 or the errno of open or write. */
static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	int err = 0;

	if (fd < 0)
		return errno;
	if (write(fd, text, strlen(text)) < 0)
		err = errno;
	close(fd);
	return err;
}

static int read_file(const char *path)
{
	char buf[4096];
	int fd = open(path, O_RDONLY);
	int err = 0;

	if (fd < 0)
		return errno;
	if (read(fd, buf, sizeof(buf)) < 0)
		err = errno;
	close(fd);
	return err;
}

static int list_dir(const char *path)
{
	DIR *dir = opendir(path);

	if (!dir)
		return errno;
	errno = 0;
	while (readdir(dir))
		;
	closedir(dir);
	return errno;
}

/*
 * A device's own files, which its vendor driver adds (mtty's and the
 * sample's vendor/ directory): list them and read each, racing the
 * device's remove.
 */
static int read_device_files(const char *uuid)
{
	char path[512], file[800];
	struct dirent *entry;
	DIR *dir;
	int err = 0;

	snprintf(path, sizeof(path), MDEV_BUS "/%s/vendor", uuid);
	dir = opendir(path);
	if (!dir)
		return errno;
	for (;;) {
		errno = 0;
		entry = readdir(dir);
		if (!entry) {
			err = errno;
			break;
		}
		if (entry->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, entry->d_name);
		err = read_file(file);
		if (err)
			break;
	}
	closedir(dir);
	return err;
}

static int read_op(uint64_t *rng, const char *type, const char *uuid)
{
	static const char *const files[] = { "available_instances", "name", "description" };
	char path[512], target[512];
	unsigned int which = next_random(rng) % 6;

	if (which < 3) {
		snprintf(path, sizeof(path), "%s/%s", type, files[which]);
		return read_file(path);
	}
	if (which == 3) {
		snprintf(path, sizeof(path), MDEV_BUS "/%s/mdev_type", uuid);
		return readlink(path, target, sizeof(target)) < 0 ? errno : 0;
	}
	if (which == 4)
		return read_device_files(uuid);
	snprintf(path, sizeof(path), "%s/devices", type);
	return list_dir(path);
}

/*
 * The pool indexes a writer has created and not yet removed, most recent
 * last.  Most removes take one of them, so that creates and removes mostly
 * succeed (the storm does work) while the other removes, and every create,
 * still draw from the whole pool and collide with the other writers.
 */
struct mine {
	unsigned int *index;
	unsigned int nr;
};

static void mine_add(struct mine *mine, unsigned int index)
{
	unsigned int i;

	for (i = 0; i < mine->nr; i++)
		if (mine->index[i] == index)
			return;
	if (mine->nr < pool)
		mine->index[mine->nr++] = index;
}

/* Takes a random one of the writer's devices out of its list. */
static unsigned int mine_take(struct mine *mine, uint64_t *rng)
{
	unsigned int i = next_random(rng) % mine->nr, index = mine->index[i];

	mine->index[i] = mine->index[--mine->nr];
	return index;
}

static void writer(unsigned int w, unsigned long ops)
{
	uint64_t rng = seed * 1000003 + w;
	struct mine mine = { calloc(pool, sizeof(unsigned int)), 0 };
	char uuid[40], path[512];
	unsigned long i;

	if (!mine.index) {
		perror("mdev_storm: calloc");
		_exit(2);
	}
	for (i = 0; i < ops; i++) {
		unsigned int roll = next_random(&rng) % 100;
		const char *type = types[next_random(&rng) % nr_types];
		unsigned int index = next_random(&rng) % pool;

		if (roll >= 40 && roll < 80 && mine.nr && next_random(&rng) % 4)
			index = mine_take(&mine, &rng);
		pool_uuid(index, uuid, sizeof(uuid));
		if (roll < 40) {
			int err;

			snprintf(path, sizeof(path), "%s/create", type);
			err = write_file(path, uuid);
			if (!err)
				mine_add(&mine, index);
			count(OP_CREATE, err);
		} else if (roll < 80) {
			snprintf(path, sizeof(path), MDEV_BUS "/%s/remove", uuid);
			count(OP_REMOVE, write_file(path, "1"));
		} else {
			count(OP_READ, read_op(&rng, type, uuid));
		}
	}
	free(mine.index);
}

static const char *result_name(int err)
{
	static char buf[16];

	if (!err)
		return "OK";
	if (err == MAX_ERRNO - 1)
		return "errno-out-of-range";
	if (strerrorname_np(err))
		return strerrorname_np(err);
	snprintf(buf, sizeof(buf), "errno-%d", err);
	return buf;
}

int main(int argc, char **argv)
{
	unsigned long ops, unexpected = 0;
	unsigned int writers, w;
	int op, err, status, failed = 0;

	if (argc < 6) {
		fprintf(stderr, "usage: %s SEED OPS WRITERS POOL TYPE_DIR...\n", argv[0]);
		return 2;
	}
	seed = strtoul(argv[1], NULL, 0);
	ops = strtoul(argv[2], NULL, 0);
	writers = strtoul(argv[3], NULL, 0);
	pool = strtoul(argv[4], NULL, 0);
	types = argv + 5;
	nr_types = argc - 5;
	if (!writers || !pool) {
		fprintf(stderr, "mdev_storm: WRITERS and POOL must be positive\n");
		return 2;
	}
	counts = mmap(NULL, sizeof(*counts) * NR_OPS, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (counts == MAP_FAILED) {
		perror("mdev_storm: mmap");
		return 2;
	}

	for (w = 0; w < writers; w++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("mdev_storm: fork");
			return 2;
		}
		if (!pid) {
			/* The remainder goes to the first writers. */
			writer(w, ops / writers + (w < ops % writers));
			_exit(0);
		}
	}
	while (wait(&status) > 0)
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			failed = 1;

	for (op = 0; op < NR_OPS; op++)
		for (err = 0; err < MAX_ERRNO; err++) {
			if (!counts[op][err])
				continue;
			printf("storm-%s %s %s %lu\n", allowed(op, err) ? "result" : "unexpected",
			       op_names[op], result_name(err), counts[op][err]);
			if (!allowed(op, err))
				unexpected += counts[op][err];
		}
	if (failed)
		fprintf(stderr, "mdev_storm: a writer did not exit cleanly\n");
	return unexpected || failed ? 1 : 0;
}
