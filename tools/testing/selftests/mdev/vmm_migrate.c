// SPDX-License-Identifier: GPL-2.0
/*
 * vmm_migrate.c - a VM moves with its mtty device: QEMU's live migration
 * (VFIO migration v2, QEMU 8.1 or later) from one QEMU in this guest to
 * another, each with an mtty device of its own, and this program as the
 * guest, through qtest.
 *
 *   vmm_migrate DRIVER=UUID DRIVER=UUID...
 *
 * QEMU number 1 starts with the first device (vfio-pci, slot 4); the guest
 * programs the BARs and every UART of the device (MDEV_MTTY_PORTS): divisor,
 * LCR, FIFO, IER, MCR, SCR, and a line written into THR, which the loopback
 * keeps in the receive FIFO.  Then QEMU 1 migrates to QEMU 2 (started with
 * -incoming defer and the second device), QEMU 2 to QEMU 3, and so on: each
 * hop moves the VM from a device of one driver to a device of the next, so
 * "mtty=A mtty_rs=B" checks the C mtty's state loaded into mtty_rs.
 *
 * Each hop: QMP migrate-incoming on the destination, migrate on the source,
 * query-migrate until it completes.  This kernel has no sockets, QEMU's
 * fd: transport takes an outgoing fd only by name (getfd, which needs
 * SCM_RIGHTS), and its file: transport truncates the file: the stream goes
 * through a FIFO, written by the source's "exec:cat > FIFO" and read by
 * the destination's "exec:cat FIFO" (QEMU runs them with /bin/sh).  Then,
 * on the destination, which runs the VM, the guest reads back what it had
 * on the source: the configuration header (the BARs and the command
 * register it programmed), every UART's registers and divisor, and the
 * line, through RBR; and each port still loops a byte back.  The source
 * quits, and its device's remove succeeds; the destination's guest programs
 * new values for the next hop.  The last QEMU quits and its device is
 * removed.
 *
 * QEMU is MDEV_VMM_QEMU (default qemu-system-x86_64), its machine a pc
 * under TCG whose firmware is this program's: 64 KiB whose reset vector
 * halts the CPU (cli; hlt), so that no firmware touches the devices and
 * qtest is the guest, while the machine runs: the migration is live, QEMU
 * takes the source's device from RUNNING through PRE_COPY to STOP_COPY,
 * and the destination, once it has loaded the device in RESUMING, runs the
 * VM on.  (Debian's QEMU has no qtest accelerator, and a machine paused
 * with -S would not migrate live.)  MDEV_PCI_ID is the devices' vendor and
 * device ID.
 *
 * QEMU reports each migration state it sets on a device (vfio-pci's
 * migration-events): the points check that the source's device went
 * through PRE_COPY and STOP_COPY, and that the destination's was RESUMING
 * and ends RUNNING.
 *
 * Dirty tracking: QEMU uses the device's (VFIO_DEVICE_FEATURE_DMA_LOGGING_*,
 * which mtty and mtty_rs offer) when every device has it, else the
 * container's (type1's VFIO_IOMMU_DIRTY_PAGES, which reports the pages the
 * vendor pinned).  The device's report needs the kernel's iova_bitmap
 * (CONFIG_IOMMUFD_DRIVER, selected by the IOMMU drivers and the VFIO
 * variant drivers that track dirty pages); without it every
 * DMA_LOGGING_REPORT fails with EOPNOTSUPP, and so does QEMU's migration.
 * MDEV_VMM_DIRTY=container turns the device's off
 * (x-device-dirty-page-tracking=off); QEMU then takes the container's only
 * when asked to (enable-migration=on: without it, QEMU blocks the
 * migration, "VFIO device doesn't support device and IOMMU dirty
 * tracking"; with it, QEMU says so as a warning).  vmm_migrate.sh sets it
 * on a kernel without iova_bitmap.
 */
#include "vmm_qemu.h"

#define SLOT		4	/* the device's slot, in every QEMU */
#define PCI_INTERRUPT_LINE	0x3c
#define GUEST_IRQ	11	/* the ISA IRQ the PCI interrupts are routed to */
#define IO_BASE		0xc000	/* port p's BAR at IO_BASE + 0x10 * p */
#define MAX_QEMUS	8
#define MAX_PORTS	2

/* What the guest sees of a device, as it reads it. */
struct uart {
	unsigned int ier, iir, lcr, mcr, lsr, msr, scr, dll, dlm;
};

struct view {
	uint32_t cfg[16];		/* the configuration header */
	struct uart port[MAX_PORTS];
	char line[MAX_PORTS][16];	/* what the guest wrote into THR */
};

static struct qemu qemu_slot[2] = { QEMU_INIT(""), QEMU_INIT("") };
static char names[MAX_QEMUS][32];
static const char *drivers[MAX_QEMUS], *uuids[MAX_QEMUS];
static int ports, container_dirty;
static uint32_t want_id;

/* skip DESCRIPTION REASON: a skipped point. */
static void skip(const char *what, const char *why)
{
	printf("ok %d %s # SKIP %s\n", ++points, what, why);
}

static unsigned int uart_in(int p, int reg)
{
	return qtest("inb 0x%x", IO_BASE + 0x10 * p + reg);
}

static void uart_out(int p, int reg, unsigned int val)
{
	qtest("outb 0x%x 0x%x", IO_BASE + 0x10 * p + reg, val);
}

static char bios[64];

static void bios_remove(void)
{
	unlink(bios);
}

/* make_bios: the firmware: a 64 KiB ROM whose reset vector halts. */
static void make_bios(void)
{
	static unsigned char rom[65536];
	int fd;

	/* At 0xffff0 (the ROM's last 16 bytes): cli; hlt; jmp back to hlt. */
	memcpy(rom + 0xfff0, "\xfa\xf4\xeb\xfd", 4);
	snprintf(bios, sizeof(bios), "/tmp/vmm-migrate-bios.%d.bin", getpid());
	fd = open(bios, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, rom, sizeof(rom)) != sizeof(rom))
		bail("%s: %s", bios, strerror(errno));
	close(fd);
	atexit(bios_remove);
}

/*
 * qemu_boot I: start QEMU number I (from 0) with device I, as vm; all but
 * the first wait for an incoming migration (-incoming defer).  One point:
 * the device is realized with the vendor's IDs.
 */
static int qemu_boot(int i)
{
	struct qemu *q = &qemu_slot[i % 2];
	char qt_arg[80], qmp_arg[80], dev[200], cname[16], reply[1 << 14], entry[4096];
	uint32_t v;

	qemu_stop(q);	/* QEMU I - 2's files */
	*q = (struct qemu)QEMU_INIT(names[i]);
	qemu_use(q);
	snprintf(cname, sizeof(cname), "qtest%d", i + 1);
	conn_open(&q->qtest, cname, qt_arg, sizeof(qt_arg));
	snprintf(cname, sizeof(cname), "qmp%d", i + 1);
	conn_open(&q->qmp, cname, qmp_arg, sizeof(qmp_arg));
	snprintf(dev, sizeof(dev),
		 "vfio-pci,sysfsdev=/sys/bus/mdev/devices/%s,id=mig,bus=pci.0,addr=%d.0,rombar=0,migration-events=on%s",
		 uuids[i], SLOT, container_dirty ? ",x-device-dirty-page-tracking=off,enable-migration=on" : "");
	msg("QEMU %s: -device %s%s", names[i], dev, i ? " -incoming defer" : "");

	char *argv[] = { NULL, "-machine", "pc", "-accel", "tcg", "-bios", bios, "-m", "32", "-nodefaults",
			 "-no-user-config", "-display", "none", "-qtest", qt_arg, "-qtest-log", "none",
			 "-qmp", qmp_arg, "-device", dev, i ? "-incoming" : NULL, "defer", NULL };

	qemu_start(argv);
	if (qmp(reply, sizeof(reply), "{\"execute\": \"query-pci\"}") ||
	    !pci_entry(reply, "mig", entry, sizeof(entry))) {
		qemu_stderr_print();
		point(0, "QEMU %s realizes the device", names[i]);
		return -1;
	}
	v = json_num(entry, "vendor") | json_num(entry, "device") << 16;
	return point(v == want_id, "QEMU %s realizes the device, with the vendor's IDs (0x%08x)", names[i], v) ?
	       0 : -1;
}

/* The first QEMU's guest: the BARs and the interrupt route, as firmware. */
static int guest_firmware(void)
{
	int ok = 1;

	cfg_write(1, 0x60, 4, GUEST_IRQ * 0x01010101u);
	for (int p = 0; p < ports; p++) {
		int off = 0x10 + 4 * p;
		uint32_t mask;

		cfg_write(SLOT, off, 4, 0xffffffff);
		mask = cfg_read(SLOT, off, 4);
		/* An I/O BAR of 8 bytes: the 16550's registers. */
		if ((mask & 1) != 1 || (~(mask & ~3u) + 1) != 8) {
			msg("BAR%d sizes as 0x%08x", p, mask);
			ok = 0;
		}
		cfg_write(SLOT, off, 4, IO_BASE + 0x10 * p);
	}
	cfg_write(SLOT, 0x3c, 1, GUEST_IRQ);
	cfg_write(SLOT, 0x04, 2, 0x7);
	return point(ok, "%s: every port's BAR is 8 bytes of I/O space", names[0]) ? 0 : -1;
}

/*
 * guest_program HOP: the guest puts each UART in a state of the hop's own
 * (a receive FIFO trigger, a word format, a divisor, interrupts, modem
 * control, scratch), then writes a line into THR, which the loopback keeps
 * in the receive FIFO; V's line gets each port's.
 */
static void guest_program(int hop, struct view *v)
{
	/* As the first QEMU's firmware did: the last hop did not carry it (guest_check). */
	cfg_write(SLOT, PCI_INTERRUPT_LINE, 1, GUEST_IRQ);
	for (int p = 0; p < ports; p++) {
		uart_out(p, 3, 0x80);					/* DLAB */
		uart_out(p, 0, 0x0c + 2 * hop + p);			/* DLL */
		uart_out(p, 1, 0x01);					/* DLM */
		uart_out(p, 3, 0x03 | (p ? 0x04 : 0) | (hop & 1 ? 0x18 : 0));	/* LCR */
		uart_out(p, 2, 0x07 | (hop & 1 ? 0x80 : 0x40));	/* FCR: FIFO on, cleared */
		uart_out(p, 1, 0x05 | (hop & 1 ? 0x08 : 0));		/* IER: RDI, RLSI (MSI) */
		uart_out(p, 4, hop & 1 ? 0x09 : 0x0b);			/* MCR: DTR, (RTS,) OUT2 */
		uart_out(p, 7, 0x5a + 0x10 * hop + p);			/* SCR */
		snprintf(v->line[p], sizeof(v->line[p]), "%d>%s:%d", hop + 1, drivers[hop], p);
		for (const char *c = v->line[p]; *c; c++)
			uart_out(p, 0, (unsigned char)*c);
	}
}

/* guest_read V: what the guest reads, but the FIFO's contents. */
static void guest_read(struct view *v)
{
	for (int i = 0; i < 16; i++)
		v->cfg[i] = cfg_read(SLOT, 4 * i, 4);
	for (int p = 0; p < ports; p++) {
		struct uart *u = &v->port[p];

		u->ier = uart_in(p, 1);
		u->iir = uart_in(p, 2);
		u->lcr = uart_in(p, 3);
		u->mcr = uart_in(p, 4);
		u->lsr = uart_in(p, 5);
		u->msr = uart_in(p, 6);
		u->scr = uart_in(p, 7);
		uart_out(p, 3, u->lcr | 0x80);
		u->dll = uart_in(p, 0);
		u->dlm = uart_in(p, 1);
		uart_out(p, 3, u->lcr);
	}
}

static void uart_msg(const char *who, int p, const struct uart *u)
{
	msg("  %s port %d: IER 0x%02x IIR 0x%02x LCR 0x%02x MCR 0x%02x LSR 0x%02x MSR 0x%02x SCR 0x%02x divisor 0x%02x%02x",
	    who, p, u->ier, u->iir, u->lcr, u->mcr, u->lsr, u->msr, u->scr, u->dlm, u->dll);
}

/*
 * guest_check WHAT SRC: on the destination, the points: the configuration
 * header and each UART read as on the source, each port's line comes back
 * through RBR and then the FIFO is empty, and the port loops a new byte.
 */
static void guest_check(const char *what, const struct view *src)
{
	struct view dst;
	unsigned int il_src, il_dst;
	char desc[160], why[160];
	int same = 1;

	guest_read(&dst);
	for (int i = 0; i < 16; i++) {
		/* The Interrupt Line register has a point of its own, below. */
		uint32_t mask = i == PCI_INTERRUPT_LINE / 4 ? ~0xffu : ~0u;

		if ((dst.cfg[i] ^ src->cfg[i]) & mask) {
			msg("  config 0x%02x: 0x%08x on the source, 0x%08x here", 4 * i, src->cfg[i], dst.cfg[i]);
			same = 0;
		}
	}
	point(same, "%s: the configuration header reads as on the source (command 0x%04x, BAR0 0x%08x)", what,
	      dst.cfg[1] & 0xffff, dst.cfg[4]);
	/*
	 * The Interrupt Line register is the device's (vfio-pci does not
	 * emulate it), and neither mtty's migration stream (the C sample's
	 * layout, which mtty_rs keeps: the ports, no configuration space) nor
	 * QEMU (which writes back the command register and the BARs on load)
	 * carries it: the destination's reads as its device's own.
	 */
	il_src = src->cfg[PCI_INTERRUPT_LINE / 4] & 0xff;
	il_dst = dst.cfg[PCI_INTERRUPT_LINE / 4] & 0xff;
	snprintf(desc, sizeof(desc), "%s: the Interrupt Line register reads as on the source", what);
	snprintf(why, sizeof(why),
		 "0x%02x, the source's 0x%02x: not in mtty's migration stream, and QEMU writes back only the command register and the BARs",
		 il_dst, il_src);
	if (il_src == il_dst)
		point(1, "%s (0x%02x)", desc, il_dst);
	else
		skip(desc, why);
	for (int p = 0; p < ports; p++) {
		char got[32] = "";
		unsigned int n = 0, v;

		if (!point(!memcmp(&dst.port[p], &src->port[p], sizeof(struct uart)),
			   "%s: port %d's registers and divisor read as on the source", what, p)) {
			uart_msg("source", p, &src->port[p]);
			uart_msg("destination", p, &dst.port[p]);
		}
		while (n < sizeof(got) - 1 && (uart_in(p, 5) & 1))
			got[n++] = (char)uart_in(p, 0);
		got[n] = 0;
		point(!strcmp(got, src->line[p]), "%s: port %d: the line written on the source comes back in RBR ('%s', %u bytes)",
		      what, p, got, n);
		/* The port works on: a byte through the loopback. */
		uart_out(p, 0, 0x51);
		v = uart_in(p, 5);
		point((v & 1) && uart_in(p, 0) == 0x51 && !(uart_in(p, 5) & 1),
		      "%s: port %d loops a new byte back (LSR 0x%02x)", what, p, v);
	}
}

/* poll_migrate WANT MS: query-migrate on vm until its status is final; 1 if WANT. */
static int poll_migrate(const char *want, long timeout_ms, char *reply, size_t size)
{
	long deadline = now_ms() + timeout_ms;

	for (;;) {
		if (qmp(reply, size, "{\"execute\": \"query-migrate\"}"))
			return 0;
		if (strstr(reply, "\"status\": \"completed\"") || strstr(reply, "\"status\": \"failed\"") ||
		    strstr(reply, "\"status\": \"cancelled\""))
			break;
		if (now_ms() > deadline)
			break;
		usleep(100000);
	}
	return strstr(reply, want) != NULL;
}

/*
 * mig_states OUT: the migration states QEMU set on vm's device since its
 * events were last cleared (VFIO_MIGRATION events), separated by spaces.
 */
static void mig_states(char *out, size_t size)
{
	size_t used = 0;

	out[0] = 0;
	for (const char *e = vm->events; (e = strstr(e, "\"VFIO_MIGRATION\"")); e++) {
		const char *end = strchr(e, '\n'), *st = strstr(e, "\"device-state\": \"");

		if (!st || (end && st > end))
			continue;
		st += strlen("\"device-state\": \"");
		used += snprintf(out + used, size > used ? size - used : 0, "%s%.*s", used ? " " : "",
				 (int)strcspn(st, "\""), st);
	}
}

/* run_status: vm's run state (query-status), into STATE. */
static void run_status(char *state, size_t size)
{
	char reply[1024], *s;

	snprintf(state, size, "?");
	if (qmp(reply, sizeof(reply), "{\"execute\": \"query-status\"}"))
		return;
	s = strstr(reply, "\"status\": \"");
	if (s)
		snprintf(state, size, "%.*s", (int)strcspn(s + 11, "\""), s + 11);
}

/*
 * fifo_end PATH: no cat is left waiting on the FIFO (a reader whose writer
 * never came gets end of file, a writer whose reader never came a broken
 * pipe), and the FIFO goes.
 */
static void fifo_end(const char *path)
{
	int fd = open(path, O_WRONLY | O_NONBLOCK);

	if (fd >= 0)
		close(fd);
	fd = open(path, O_RDONLY | O_NONBLOCK);
	if (fd >= 0)
		close(fd);
	unlink(path);
}

/*
 * migrate H SRC_VIEW: QEMU H (vm) to QEMU H + 1, already started; the
 * points of the hop.  0, or -1 if the run cannot go on.
 */
static int migrate(int h, const struct view *src_view)
{
	struct qemu *src = &qemu_slot[h % 2], *dst = &qemu_slot[(h + 1) % 2];
	static char reply[1 << 16];
	char what[80], state[32], fifo[64], states[512];
	long start, vfio;
	int ok;

	snprintf(what, sizeof(what), "%.31s to %.31s", names[h], names[h + 1]);
	snprintf(fifo, sizeof(fifo), "/tmp/vmm-migrate.%d.%d", getpid(), h + 1);
	unlink(fifo);
	if (mkfifo(fifo, 0600))
		bail("mkfifo %s: %s", fifo, strerror(errno));
	qemu_use(dst);
	dst->events[0] = src->events[0] = 0;
	if (!point(!qmp(reply, sizeof(reply),
			"{\"execute\": \"migrate-incoming\", \"arguments\": {\"uri\": \"exec:cat %s\"}}", fifo),
		   "%s: the destination waits for the migration (migrate-incoming)", what)) {
		fifo_end(fifo);
		return -1;
	}
	qemu_use(src);
	start = now_ms();
	if (!point(!qmp(reply, sizeof(reply),
			"{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"exec:cat > %s\"}}", fifo),
		   "%s: the source starts the migration (migrate)", what)) {
		fifo_end(fifo);
		return -1;
	}
	ok = poll_migrate("\"status\": \"completed\"", 120000, reply, sizeof(reply));
	fifo_end(fifo);
	if (!point(ok, "%s: the migration completes (in %ld ms)", what, now_ms() - start)) {
		msg("query-migrate on the source: %.3000s", reply);
		return -1;
	}
	/* QEMU 8.1 and later count the VFIO devices' bytes in their own member. */
	{
		const char *v = strstr(reply, "\"vfio\": {");

		vfio = v ? json_num(v, "transferred") : -1;
		if (!point(vfio > 0, "%s: QEMU moved the device's state through VFIO migration (%ld bytes)", what, vfio))
			msg("query-migrate on the source: %.3000s", reply);
	}
	run_status(state, sizeof(state));
	point(!strcmp(state, "postmigrate"), "%s: the source stops after it (%s)", what, state);
	mig_states(states, sizeof(states));
	point(strstr(states, "pre-copy") && strstr(states, "stop-copy"),
	      "%s: QEMU took the source's device through PRE_COPY and STOP_COPY (%s)", what, states);

	qemu_use(dst);
	ok = poll_migrate("\"status\": \"completed\"", 60000, reply, sizeof(reply));
	if (!point(ok, "%s: the destination has loaded it", what))
		msg("query-migrate on the destination: %.3000s", reply);
	/* The source ran the VM: the destination runs it on (autostart). */
	for (long deadline = now_ms() + 30000;;) {
		run_status(state, sizeof(state));
		if (!strcmp(state, "running") || now_ms() > deadline)
			break;
		usleep(100000);
	}
	point(!strcmp(state, "running"), "%s: the destination runs the VM (%s)", what, state);
	mig_states(states, sizeof(states));
	{
		const char *last = strrchr(states, ' ');

		point(strstr(states, "resuming") && !strcmp(last ? last + 1 : states, "running"),
		      "%s: QEMU loaded the destination's device in RESUMING, then ran it (%s)", what, states);
	}
	guest_check(what, src_view);

	/* The source lets go of its device. */
	qemu_use(src);
	qemu_quit();
	if (src->pid) {
		point(0, "%s: the source's QEMU has exited", what);
		return -1;
	}
	{
		int rc = sysfs_remove(uuids[h]);

		point(rc == 0, "%s: the source's device is removed once its QEMU has quit (%s)", what,
		      rc ? strerror(-rc) : "OK");
	}
	qemu_use(dst);
	return 0;
}

int main(int argc, char **argv)
{
	const char *id_env = getenv("MDEV_PCI_ID");
	int n = argc - 1;
	struct view view;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n");
	ports = atoi(getenv("MDEV_MTTY_PORTS") ?: "1");
	want_id = id_env ? strtoul(id_env, NULL, 0) : 0;
	container_dirty = !strcmp(getenv("MDEV_VMM_DIRTY") ?: "", "container");
	if (n < 2 || n > MAX_QEMUS || !want_id || ports < 1 || ports > MAX_PORTS)
		bail("usage: MDEV_PCI_ID=ID MDEV_MTTY_PORTS=1|2 vmm_migrate DRIVER=UUID DRIVER=UUID... (2 to %d)",
		     MAX_QEMUS);
	for (int i = 0; i < n; i++) {
		char *eq = strchr(argv[1 + i], '=');

		if (!eq)
			bail("not DRIVER=UUID: %s", argv[1 + i]);
		*eq = 0;
		drivers[i] = argv[1 + i];
		uuids[i] = eq + 1;
		snprintf(names[i], sizeof(names[i]), "%d (%s)", i + 1, drivers[i]);
	}
	make_bios();

	for (int i = 0; i < n; i++) {
		if (qemu_boot(i))
			finish();
		if (i == 0) {
			if (guest_firmware())
				finish();
			guest_program(0, &view);
			guest_read(&view);
			continue;
		}
		if (migrate(i - 1, &view))
			finish();
		if (i < n - 1) {
			guest_program(i, &view);
			guest_read(&view);
		}
	}
	/* The last QEMU quits; then its device can go. */
	qemu_quit();
	{
		int rc = sysfs_remove(uuids[n - 1]);

		point(rc == 0, "%s: the device is removed once QEMU has quit (%s)", names[n - 1],
		      rc ? strerror(-rc) : "OK");
	}
	finish();
}
