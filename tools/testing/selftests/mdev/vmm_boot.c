// SPDX-License-Identifier: GPL-2.0
/*
 * vmm_boot.c - a whole inner virtual machine on mediated devices: QEMU
 * boots a Linux guest with the devices as vfio-pci, and the guest's own
 * drivers drive them (8250_pci on mtty devices, mdpy-fb on mdpy devices).
 *
 *   vmm_boot KERNEL INITRD NAME=UUID...
 *
 * Each device goes to a slot of its own from 4 up, in order; a NAME starting
 * with "mdpy" gets QEMU's display (display=on).  The guest's init
 * (vmm-inner-init.sh) learns each slot's NAME from its kernel command line
 * (vmm_slotN=NAME) and talks to this program over its console, a line each:
 *   inner-point: ok|not-ok TEXT   a test point of the guest's
 *   inner-draw: SLOT WIDTH HEIGHT NAME
 *                                 it drew the picture of vmm_qemu.h on the
 *                                 mdpy device in SLOT: QEMU's screendump of
 *                                 that device must show it
 *   inner-wait                    it waits for a line on its console before
 *                                 powering off (the screendumps are taken)
 * The guest's console is kept in /tmp/vmm-inner.log and printed if anything
 * failed.  After QEMU has exited, every device's sysfs remove must succeed.
 */
#include "vmm_qemu.h"

static struct conn serial = { .fd = -1, .wfd = -1 };

static int splat(const char *line)
{
	static const char *const marks[] = { "WARNING:", "BUG:", "Oops", "Call Trace:",
					     "unreferenced object", "UBSAN:", "Kernel panic" };

	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		if (strstr(line, marks[i]))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	char qmp_arg[80], serial_arg[80], append[1024];
	char devs[16][200], line[4096], want_log[64];
	char *qargv[64];
	int n = 0, ndev = argc - 3, splats = 0, waited = 0, done = 0;
	long timeout = atol(getenv("MDEV_VMM_BOOT_TIMEOUT") ?: "1500") * 1000, deadline;
	FILE *log;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n");
	if (argc < 4 || ndev > 16)
		bail("usage: vmm_boot KERNEL INITRD NAME=UUID... (up to 16)");
	snprintf(want_log, sizeof(want_log), "/tmp/vmm-inner.log");
	log = fopen(want_log, "w");
	conn_open(&vm->qmp, "qmp", qmp_arg, sizeof(qmp_arg));
	conn_open(&serial, "serial", serial_arg, sizeof(serial_arg));
	/* No KUnit in the inner boot: the doctests ran in the outer one. */
	n = snprintf(append, sizeof(append), "console=ttyS0 panic=-1 loglevel=4 kunit.enable=0");
	qargv[0] = NULL;
	int a = 1;
	const char *fixed[] = { "-machine", "pc", "-accel", "tcg", "-m", "256", "-nodefaults",
				"-no-user-config", "-display", "none", "-no-reboot", "-serial", serial_arg,
				"-qmp", qmp_arg, "-kernel", argv[1], "-initrd", argv[2], "-append", append };

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		qargv[a++] = (char *)fixed[i];
	/*
	 * MDEV_VMM_TRACE=PATTERN[+PATTERN...]: QEMU's trace events to print
	 * with its messages at the end (a developer's aid, e.g. vfio_intx*).
	 */
	for (char *save = NULL, *t = strtok_r(getenv("MDEV_VMM_TRACE") ?: (char[]){ 0 }, "+", &save);
	     t && a < 29; t = strtok_r(NULL, "+", &save)) {
		qargv[a++] = "-trace";
		qargv[a++] = t;
	}
	for (int i = 0; i < ndev; i++) {
		char *name = argv[3 + i], *uuid = strchr(name, '=');

		if (!uuid)
			bail("not NAME=UUID: %s", name);
		*uuid++ = 0;
		snprintf(devs[i], sizeof(devs[i]),
			 "vfio-pci,sysfsdev=/sys/bus/mdev/devices/%s,id=vdev%d,bus=pci.0,addr=%d.0,rombar=0%s", uuid,
			 4 + i, 4 + i, strncmp(name, "mdpy", 4) ? "" : ",display=on");
		n += snprintf(append + n, sizeof(append) - n, " vmm_slot%d=%s", 4 + i, name);
		argv[3 + i] = uuid;
		qargv[a++] = "-device";
		qargv[a++] = devs[i];
		msg("slot %d: %s, -device %s", 4 + i, name, devs[i]);
	}
	qargv[a] = NULL;
	deadline = now_ms() + timeout;
	long started = now_ms();

	qemu_start(qargv);
	point(1, "QEMU realizes the %d devices and boots the guest", ndev);

	while (!done && read_line(&serial, line, sizeof(line), deadline - now_ms()) == 0) {
		char text[4096], name[64];
		unsigned int slot, w, h;

		line[strcspn(line, "\r")] = 0;
		if (log)
			fprintf(log, "%s\n", line);
		if (splat(line)) {
			splats++;
			msg("inner: %s", line);
		}
		if (sscanf(line, "inner-point: ok %4095[^\n]", text) == 1) {
			point(1, "guest: %s", text);
		} else if (sscanf(line, "inner-point: not-ok %4095[^\n]", text) == 1) {
			point(0, "guest: %s", text);
		} else if (sscanf(line, "inner-draw: %u %u %u %63s", &slot, &w, &h, name) == 4) {
			char dev[32], what[128];

			snprintf(dev, sizeof(dev), "vdev%u", slot);
			snprintf(what, sizeof(what), "%s (slot %u) under mdpy-fb", name, slot);
			screendump_check(dev, w, h, what);
		} else if (!strcmp(line, "inner-wait")) {
			waited = 1;
			if (write(serial.wfd, "go\n", 3) != 3)
				msg("cannot answer the guest");
		} else if (!strncmp(line, "inner:", 6)) {
			msg("%s", line);
		} else if (!strcmp(line, "inner-done")) {
			done = 1;
		}
	}
	point(done && waited, "the guest ran its init to the end (in %ld s)", (now_ms() - started) / 1000);
	point(!splats, "the guest's kernel logged no warning, bug or leak (%d lines)", splats);
	if (log)
		fclose(log);
	if (failed || !done) {
		FILE *f = fopen(want_log, "r");

		msg("the guest's console:");
		while (f && fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\n")] = 0;
			msg("  | %s", line);
		}
		if (f)
			fclose(f);
	}
	/* The guest powers off (ACPI), which ends QEMU. */
	{
		int status = -1;
		long until = now_ms() + 60000;

		while (waitpid(vm->pid, &status, WNOHANG) != vm->pid && now_ms() < until)
			usleep(50000);
		point(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "QEMU exits when the guest powers off (status 0x%x)", status);
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			vm->pid = 0;
			qemu_stderr_print();
		} else {
			kill(vm->pid, SIGKILL);
			waitpid(vm->pid, &status, 0);
			vm->pid = 0;
			qemu_stderr_print();
		}
	}
	for (int i = 0; i < ndev; i++) {
		int rc = sysfs_remove(argv[3 + i]);

		point(rc == 0, "slot %d: the device's remove succeeds once QEMU has exited (%s)", 4 + i,
		      rc ? strerror(-rc) : "OK");
	}
	conn_remove(&serial);
	finish();
}
