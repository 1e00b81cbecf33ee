// SPDX-License-Identifier: GPL-2.0
/*
 * mdev_as_nobody - run a command as the unprivileged user nobody (uid and
 * gid 65534, no supplementary groups), as a user without root's rights
 * would: the tests check what such a user may and may not do in sysfs.
 *
 * Usage: mdev_as_nobody COMMAND [ARG...]
 */
#define _GNU_SOURCE
#include <grp.h>
#include <stdio.h>
#include <unistd.h>

#define NOBODY 65534

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: mdev_as_nobody COMMAND [ARG...]\n");
		return 2;
	}
	/* Groups first, while still allowed to change them; setuid() last,
	 * which also drops every capability. */
	if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY)) {
		perror("mdev_as_nobody: dropping privileges");
		return 2;
	}
	if (getuid() != NOBODY || geteuid() != NOBODY || !setuid(0)) {
		fprintf(stderr, "mdev_as_nobody: privileges were not dropped\n");
		return 2;
	}
	execvp(argv[1], argv + 1);
	perror(argv[1]);
	return 127;
}
