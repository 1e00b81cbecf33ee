// SPDX-License-Identifier: GPL-2.0
/*
 * storm_migrate - migrations racing the storm (storm.sh): until STOPFILE
 * exists, open a random live device of the storm's vendors (mtty and the
 * Rust sample, by the name of its type) through VFIO, as a VMM does, and
 * migrate it onto itself, while mdev_storm's writers create and remove
 * devices and storm.sh reloads the Rust sample.
 *
 *   storm_migrate SEED STOPFILE
 *
 * Each run resets the device first (the C mtty keeps its migration state
 * across a close).  Three in four are whole: STOP_COPY and the stream read
 * to its end, STOP, RESUMING and the stream written back, STOP (the load),
 * RUNNING.
 * One in four is cut short: the device is closed with its saving stream
 * open and unread, and the stream is read after (ENODEV: a stream never
 * outlives its device's use of it).  A remove of the open device waits
 * until it is closed; an unload of its vendor fails while it is open.
 *
 * Opening races the writers (the device removed or not yet ready): its
 * failures are counted, not judged.  Once a device is open nothing else
 * may fail: each step prints "storm-mig STEP RESULT COUNT" at the end, and
 * "storm-mig-unexpected STEP RESULT COUNT" for a result other than the one
 * the ABI promises.  Exits 1 if there was any, 2 on a usage error.
 */
#define _GNU_SOURCE		/* strerrorname_np() */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "vfio_dev.h"

/* vfio_dev.h needs the harness's types; its runner is not used here. */
static int (*const harness_unused)(int, char **) __attribute__((unused)) = test_harness_run;

#define MDEV_BUS	"/sys/bus/mdev/devices"
#define MAX_STREAM	(128 * 1024)
#define MAX_ERRNO	256

enum step { OPEN, RESET, SAVE, READ, STOP, RESUME, WRITE, LOAD, RUN, CUT, NR_STEPS };
static const char *const step_names[NR_STEPS] = {
	"open", "reset", "stop-copy", "read", "stop", "resuming", "write", "load", "running",
	"cut-short-read",
};
/* counts[step][errno], OK at 0. */
static unsigned long counts[NR_STEPS][MAX_ERRNO];
static unsigned long unexpected[NR_STEPS][MAX_ERRNO];

/* Count STEP's result ERR (0: OK), EXPECTED being the only one allowed. */
static int note(enum step step, int err, int expected)
{
	int e = err < MAX_ERRNO ? err : MAX_ERRNO - 1;

	counts[step][e]++;
	if (err != expected)
		unexpected[step][e]++;
	return err;
}

/* Set STATE; 0 or the errno.  A data fd, if the arc opens one, in *FD. */
static int set_state(struct vfio_dev *d, uint32_t state, int *fd)
{
	uint64_t buf[4] = { 0 };
	struct vfio_device_feature *f = (void *)buf;
	struct vfio_device_feature_mig_state *mig = (void *)f->data;

	f->argsz = sizeof(*f) + sizeof(*mig);
	f->flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE;
	mig->device_state = state;
	mig->data_fd = -1;
	*fd = -1;
	if (ioctl(d->device, VFIO_DEVICE_FEATURE, f))
		return errno;
	*fd = mig->data_fd;
	return 0;
}

/* A random live device of mtty or the sample, into UUID; 0 if none. */
static int pick(char *uuid, size_t len)
{
	char names[512][40], path[PATH_MAX], type[PATH_MAX];
	struct dirent *e;
	int n = 0;
	DIR *dir = opendir(MDEV_BUS);

	if (!dir)
		return 0;
	while ((e = readdir(dir)) && n < 512) {
		const char *t;
		ssize_t l;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), MDEV_BUS "/%s/mdev_type", e->d_name);
		l = readlink(path, type, sizeof(type) - 1);
		if (l < 0)
			continue;
		type[l] = 0;
		t = strrchr(type, '/');
		t = t ? t + 1 : type;
		if (strncmp(t, "mtty-", 5) && strncmp(t, "faux_driver-", 12))
			continue;
		l = strlen(e->d_name);
		if (l >= (ssize_t)sizeof(names[0]))
			continue;
		memcpy(names[n++], e->d_name, l + 1);
	}
	closedir(dir);
	if (!n)
		return 0;
	snprintf(uuid, len, "%s", names[rand() % n]);
	return 1;
}

static void migrate(int cut_short)
{
	static uint8_t stream[MAX_STREAM];
	struct vfio_dev d;
	char uuid[40];
	ssize_t n, total = 0, done;
	int fd, ignored;

	if (!pick(uuid, sizeof(uuid))) {
		usleep(10000);
		return;
	}
	setenv("MDEV_UUID", uuid, 1);
	errno = 0;
	if (vfio_dev_open(&d)) {
		int err = errno;

		/* Counted, not judged: the writers race every open. */
		counts[OPEN][err && err < MAX_ERRNO ? err : MAX_ERRNO - 1]++;
		vfio_dev_close(&d);
		return;
	}
	counts[OPEN][0]++;
	/* The C mtty keeps its migration state across a close: from RUNNING. */
	if (note(RESET, ioctl(d.device, VFIO_DEVICE_RESET) ? errno : 0, 0))
		goto out;
	if (note(SAVE, set_state(&d, VFIO_DEVICE_STATE_STOP_COPY, &fd), 0))
		goto out;
	if (cut_short) {
		vfio_dev_close(&d);
		n = read(fd, stream, sizeof(stream));
		note(CUT, n < 0 ? errno : 0, ENODEV);
		close(fd);
		return;
	}
	while ((n = read(fd, stream + total, sizeof(stream) - total)) > 0)
		total += n;
	close(fd);
	if (note(READ, n < 0 ? errno : total == 0 ? ENODATA : 0, 0))
		goto out;
	if (note(STOP, set_state(&d, VFIO_DEVICE_STATE_STOP, &ignored), 0))
		goto out;
	if (note(RESUME, set_state(&d, VFIO_DEVICE_STATE_RESUMING, &fd), 0))
		goto out;
	for (done = 0; done < total; done += n) {
		n = write(fd, stream + done, total - done);
		if (n <= 0)
			break;
	}
	close(fd);
	if (note(WRITE, done == total ? 0 : n < 0 ? errno : EIO, 0))
		goto out;
	if (note(LOAD, set_state(&d, VFIO_DEVICE_STATE_STOP, &ignored), 0))
		goto out;
	note(RUN, set_state(&d, VFIO_DEVICE_STATE_RUNNING, &ignored), 0);
out:
	vfio_dev_close(&d);
}

int main(int argc, char **argv)
{
	int bad = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: %s SEED STOPFILE\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	srand(strtoul(argv[1], NULL, 0));
	while (access(argv[2], F_OK)) {
		migrate(rand() % 4 == 0);
		/*
		 * A pause between migrations: back to back (one every 0.75 s
		 * in the stress guest, 2,000 in a 25-minute storm on a loaded
		 * host) they compete with the writers for the guest's CPUs
		 * all along; a few hundred are plenty.
		 */
		usleep(500000);
	}
	for (int s = 0; s < NR_STEPS; s++) {
		for (int e = 0; e < MAX_ERRNO; e++) {
			const char *name = e ? strerrorname_np(e) : "OK";

			if (!name)
				name = "E?";
			if (counts[s][e])
				printf("storm-mig %s %s %lu\n", step_names[s], name, counts[s][e]);
			if (unexpected[s][e]) {
				printf("storm-mig-unexpected %s %s %lu\n", step_names[s], name,
				       unexpected[s][e]);
				bad = 1;
			}
		}
	}
	return bad;
}
