// SPDX-License-Identifier: GPL-2.0
/*
 * vmm_qtest.c - QEMU's vfio-pci as the VMM of two mediated devices, and this
 * program as the guest that drives them.
 *
 * It starts qemu-system-x86_64 (MDEV_VMM_QEMU, default from PATH) on a
 * paused i440fx machine with MDEV_UUID at slot 4 and MDEV_UUID2 at slot 5
 * (and for mdpy MDEV_UUID3 at slot 6, with QEMU's display), each
 * `-device vfio-pci,sysfsdev=/sys/bus/mdev/devices/UUID`, and then
 * plays the guest through QEMU's qtest protocol (port I/O, physical memory,
 * and the interrupt lines into the I/O APIC) and its monitor (QMP).  No
 * guest CPU runs: every access below is one that a guest driver would make,
 * executed by QEMU exactly as for a guest, through the device fd.
 *
 * What it checks, as KTAP (the plan comes last, see run_harness):
 *  1. QEMU realizes both devices; QMP's query-pci shows the vendor's IDs;
 *     the machine's configuration space shows the same, with the BARs that
 *     the device's regions give.
 *  2. The guest programs the BARs and an interrupt route, then drives the
 *     device as its driver would (MDEV_VMM_DRIVER):
 *     mtty    every UART of MDEV_MTTY_PORTS: scratch register, and a byte
 *             through the loopback that raises INTx and comes back in RBR;
 *     mdpy    a picture drawn into BAR0 of the slot-6 device, read back
 *             by QEMU's display (vfio-pci display=on:
 *             VFIO_DEVICE_QUERY_GFX_PLANE and the mapped region) through
 *             QMP screendump;
 *     mbochs  the framebuffer BAR and the bochs display ID in the MMIO BAR;
 *     sample  the Rust sample's registers, its doorbell (INTx), and a 4 KiB
 *             DMA copy into guest memory plus a pin, through QEMU's
 *             container mappings.
 *  3. Hot-unplug: device_del of the slot-4 device while it is in use; the
 *     guest ejects it (ACPI PCI hotplug), QEMU releases it, and then the
 *     device's sysfs remove succeeds.
 *  4. The opposite order on the slot-5 device: `remove` is written while
 *     QEMU holds it.  With MDEV_VMM_REQUEST=1 (a driver with a request
 *     interrupt), the request must reach QEMU, which asks the guest to eject
 *     (the slot's ACPI "down" bit); without one, nothing reaches QEMU and
 *     the remove waits until device_del releases the device.
 *  5. QEMU quits cleanly.
 *
 * With MDEV_VMM_IOMMUFD=1, QEMU (then 9.0 or later) opens the devices
 * through their VFIO cdev bound to an iommufd object (-object iommufd)
 * instead of the type1 container.
 *
 * MDEV_VMM_TRACE names a file for the transcript: what the guest saw, one
 * value per line, compared between a C sample and its Rust port.
 */
#include "vmm_qemu.h"

#define SLOT_USED	4	/* the device driven, then hot-unplugged */
#define SLOT_HELD	5	/* the device removed while QEMU holds it */
#define SLOT_SHOWN	6	/* an mdpy device with QEMU's display (MDEV_UUID3) */
#define GUEST_IRQ	11	/* the ISA IRQ every PCI interrupt is routed to */
#define ACPI_PCIHP	0xae00	/* QEMU's PIIX4 ACPI PCI hotplug registers */
#define PCIHP_DOWN	(ACPI_PCIHP + 0x4)	/* slots the VMM wants ejected */
#define PCIHP_EJECT	(ACPI_PCIHP + 0x8)	/* the guest's eject */
#define DMA_GPA		0x200000	/* guest memory the sample copies into */

struct bar {
	int io;
	uint64_t size;
	uint64_t addr;
};

static struct bar bars[6];

/*
 * Size every BAR of SLOT as firmware does (all ones, read back), then give
 * each a guest address: I/O from 0xc000, memory from 0xe0000000, each
 * aligned to its size; then enable I/O, memory and bus mastering.
 */
static void bars_program(int slot, int quiet)
{
	uint64_t io_next = 0xc000 + 0x1000 * (slot - SLOT_USED);
	uint64_t mem_next = 0xe0000000 + 0x4000000ull * (slot - SLOT_USED);

	for (int i = 0; i < 6; i++) {
		int off = 0x10 + 4 * i;
		uint32_t orig = cfg_read(slot, off, 4), mask;
		int mem64 = !(orig & 1) && (orig & 6) == 4;

		cfg_write(slot, off, 4, 0xffffffff);
		mask = cfg_read(slot, off, 4);
		cfg_write(slot, off, 4, orig);
		bars[i] = (struct bar){ .io = orig & 1 };
		if (mask) {
			uint64_t m = mask & (bars[i].io ? ~3u : ~15u);

			if (mem64) {
				uint32_t hi_orig = cfg_read(slot, off + 4, 4), hi;

				cfg_write(slot, off + 4, 4, 0xffffffff);
				hi = cfg_read(slot, off + 4, 4);
				cfg_write(slot, off + 4, 4, hi_orig);
				m |= (uint64_t)hi << 32;
			} else {
				m |= 0xffffffff00000000ull;
			}
			bars[i].size = ~m + 1;
			if (bars[i].io && bars[i].size > 0x10000)
				bars[i].size &= 0xffff;
		}
		if (!quiet)
			tr("bar %d: %s, %llu bytes", i,
			   !bars[i].size ? "none" : bars[i].io ? "I/O" : mem64 ? "memory 64-bit" : "memory 32-bit",
			   (unsigned long long)bars[i].size);
		if (bars[i].size) {
			uint64_t *next = bars[i].io ? &io_next : &mem_next;

			*next = (*next + bars[i].size - 1) & ~(bars[i].size - 1);
			bars[i].addr = *next;
			*next += bars[i].size;
			cfg_write(slot, off, 4, (uint32_t)bars[i].addr | (orig & (bars[i].io ? 1 : 15)));
			if (mem64)
				cfg_write(slot, off + 4, 4, bars[i].addr >> 32);
		}
		if (mem64)
			i++;
	}
	cfg_write(slot, 0x3c, 1, GUEST_IRQ);
	cfg_write(slot, 0x04, 2, 0x7);
}

/* uart_in/uart_out: a UART register of the port at BASE. */
static unsigned int uart_in(uint64_t base, int reg)
{
	return qtest("inb 0x%llx", (unsigned long long)base + reg);
}

static void uart_out(uint64_t base, int reg, unsigned int val)
{
	qtest("outb 0x%llx 0x%x", (unsigned long long)base + reg, val);
}

/*
 * A line through the loopback as Linux's 8250 driver sends one: IER's
 * transmit interrupt turned on to start, and in the handler IIR, LSR, a
 * FIFO's worth of bytes into THR, then IIR again and the received bytes
 * read while LSR has data; each step's interrupt is one that INTx must
 * deliver (QEMU unmasks it on the first BAR access after it fired).
 */
static void drive_mtty_as_8250(uint64_t base)
{
	static const char line[] = "mdev loopback!\n";
	char got[sizeof(line)] = "";
	unsigned int iir, lsr, n = 0;

	if (!base)
		return;
	uart_out(base, 2, 0x07);
	uart_out(base, 3, 0x03);
	uart_out(base, 4, 0x0b);
	uart_out(base, 1, 0x05);
	vm->irq_raised = 0;
	uart_out(base, 1, 0x07);
	point(wait_irq(GUEST_IRQ, 10000), "as 8250: IER's THRI raises INTx (the transmitter is empty)");
	iir = uart_in(base, 2);
	lsr = uart_in(base, 5);
	tr("as 8250: IIR 0x%02x, LSR 0x%02x in the handler", iir, lsr);
	point((iir & 0xf) == 0x2 && (lsr & 0x20), "as 8250: IIR says THR empty, LSR has THRE (0x%02x, 0x%02x)",
	      iir, lsr);
	vm->irq_raised = 0;
	for (unsigned int i = 0; i < sizeof(line) - 1; i++)
		uart_out(base, 0, (unsigned char)line[i]);
	point(wait_irq(GUEST_IRQ, 10000), "as 8250: the bytes written to THR raise INTx (received data)");
	iir = uart_in(base, 2);
	tr("as 8250: IIR 0x%02x after the bytes", iir);
	vm->irq_raised = 0;
	while (n < sizeof(line) - 1 && (uart_in(base, 5) & 1))
		got[n++] = (char)uart_in(base, 0);
	point(n == sizeof(line) - 1 && !memcmp(got, line, n), "as 8250: the line comes back in RBR (%u bytes)", n);
	point(wait_irq(GUEST_IRQ, 10000), "as 8250: the emptied FIFO raises INTx (THR empty again)");
	iir = uart_in(base, 2);
	tr("as 8250: IIR 0x%02x once the line is read", iir);
	uart_out(base, 1, 0x05);
	iir = uart_in(base, 2);
	point(iir & 1, "as 8250: no interrupt is pending with THRI off (IIR 0x%02x)", iir);
	uart_out(base, 1, 0x00);
}

/* MDEV_VMM_DRIVER=mtty: each UART in its I/O BAR. */
static void drive_mtty(void)
{
	int ports = atoi(getenv("MDEV_MTTY_PORTS") ?: "1");

	for (int p = 0; p < ports; p++) {
		uint64_t base = bars[p].addr;
		uint32_t v;

		if (!bars[p].io || !base) {
			point(0, "port %d: BAR%d is an I/O BAR", p, p);
			continue;
		}
		qtest("outb 0x%llx 0xa5", (unsigned long long)base + 7);
		v = qtest("inb 0x%llx", (unsigned long long)base + 7);
		point(v == 0xa5, "port %d: the scratch register keeps what the guest wrote (0x%x)", p, v);
		tr("port %d: LSR 0x%02x, IIR 0x%02x at start", p, (unsigned int)qtest("inb 0x%llx", (unsigned long long)base + 5),
		   (unsigned int)qtest("inb 0x%llx", (unsigned long long)base + 2));
		/* FIFO on (trigger level 1), 8N1, modem control as 8250 sets it,
		 * receive-data interrupt on. */
		qtest("outb 0x%llx 0x07", (unsigned long long)base + 2);
		qtest("outb 0x%llx 0x03", (unsigned long long)base + 3);
		qtest("outb 0x%llx 0x0b", (unsigned long long)base + 4);
		qtest("outb 0x%llx 0x01", (unsigned long long)base + 1);
		vm->irq_raised = 0;
		qtest("outb 0x%llx 0x51", (unsigned long long)base);
		point(wait_irq(GUEST_IRQ, 10000),
		      "port %d: a byte written to THR raises INTx on the guest's IRQ %d (the loopback's data-ready interrupt)",
		      p, GUEST_IRQ);
		v = qtest("inb 0x%llx", (unsigned long long)base + 2);
		tr("port %d: IIR 0x%02x after the write", p, v);
		point((v & 0xf) == 0x4, "port %d: IIR says received data is available (0x%02x)", p, v);
		v = qtest("inb 0x%llx", (unsigned long long)base + 5);
		tr("port %d: LSR 0x%02x after the write", p, v);
		point(v & 1, "port %d: LSR's data-ready bit is set (0x%02x)", p, v);
		v = qtest("inb 0x%llx", (unsigned long long)base);
		point(v == 0x51, "port %d: the byte comes back in RBR (0x%02x)", p, v);
		v = qtest("inb 0x%llx", (unsigned long long)base + 2);
		tr("port %d: IIR 0x%02x once read", p, v);
		point(v & 1, "port %d: no interrupt is pending once the byte is read (IIR 0x%02x)", p, v);
		qtest("outb 0x%llx 0x00", (unsigned long long)base + 1);
	}
	drive_mtty_as_8250(bars[0].addr);
}

/*
 * MDEV_VMM_DRIVER=mdpy: draw into BAR0 of the device with QEMU's display
 * (slot 6), read it back through that display.  QEMU 7.2 does not let go
 * of a vfio-pci device with display=on when it is hot-unplugged (the
 * graphic console keeps it), so that device is not the one unplugged.
 */
static void drive_mdpy(void)
{
	uint32_t fmt, w, h;
	unsigned long long fb;

	bars_program(SLOT_SHOWN, 1);
	fmt = cfg_read(SLOT_SHOWN, 0x44, 4);
	w = cfg_read(SLOT_SHOWN, 0x48, 4);
	h = cfg_read(SLOT_SHOWN, 0x4c, 4);
	fb = bars[0].addr;

	tr("display: format 0x%08x, %ux%u", fmt, w, h);
	if (bars[0].io || !fb || bars[0].size < (uint64_t)w * h * 4 || w < 8 || h < 8) {
		point(0, "BAR0 is memory that holds a %ux%u frame", w, h);
		return;
	}
	/* The picture of vmm_qemu.h, pixel by pixel (XRGB8888). */
	qtest("memset 0x%llx %u 0x80", fb, w * 8 * 4);
	qtest("writel 0x%llx 0x00ff0000", fb + (w + 1) * 4);
	qtest("writel 0x%llx 0x0000ff00", fb + (w + 2) * 4);
	qtest("writel 0x%llx 0x000000ff", fb + (w + 3) * 4);
	point(qtest("readl 0x%llx", fb + (w + 1) * 4) == 0x00ff0000, "a pixel written to BAR0 reads back");
	screendump_check("vdev3", w, h, "BAR0");
}

/* MDEV_VMM_DRIVER=mbochs: the framebuffer and the bochs dispi ID. */
static void drive_mbochs(void)
{
	uint64_t mmio = bars[2].addr;
	uint32_t id;

	point(!bars[0].io && bars[0].addr, "BAR0 is the framebuffer, in guest memory space");
	qtest("writel 0x%llx 0x12345678", (unsigned long long)bars[0].addr + 64);
	point(qtest("readl 0x%llx", (unsigned long long)bars[0].addr + 64) == 0x12345678,
	      "the framebuffer keeps what the guest wrote");
	if (!mmio || bars[2].io) {
		point(0, "BAR2 holds the display registers");
		return;
	}
	id = qtest("readw 0x%llx", (unsigned long long)mmio + 0x500);
	tr("bochs dispi ID 0x%04x", id);
	point((id & 0xfff0) == 0xb0c0, "the bochs display ID reads through BAR2 (0x%04x)", id);
}

/* MDEV_VMM_DRIVER=sample: the Rust sample's BAR0 registers and its DMA. */
static void drive_sample(void)
{
	uint64_t r = bars[0].addr;
	uint32_t v;
	int bad = -1;

	if (!r || bars[0].io) {
		point(0, "BAR0 is in guest memory space");
		return;
	}
	v = qtest("readl 0x%llx", (unsigned long long)r);
	point(v == 0x4d445253, "BAR0's MAGIC register reads 0x4d445253 (0x%x)", v);
	qtest("writel 0x%llx 0xc0ffee", (unsigned long long)r + 4);
	v = qtest("readl 0x%llx", (unsigned long long)r + 4);
	point(v == 0xc0ffee, "SCRATCH keeps what the guest wrote (0x%x)", v);
	vm->irq_raised = 0;
	qtest("writel 0x%llx 1", (unsigned long long)r + 0xc);
	point(wait_irq(GUEST_IRQ, 10000), "the doorbell raises INTx on the guest's IRQ %d", GUEST_IRQ);
	v = qtest("readl 0x%llx", (unsigned long long)r + 0x10);
	point(v == 1, "IRQ_COUNT counts the doorbell (%u)", v);

	/* A 4 KiB copy into guest memory, which QEMU mapped into its container. */
	qtest("memset 0x%x 4096 0", DMA_GPA);
	qtest("writel 0x%llx 0x%x", (unsigned long long)r + 0x14, DMA_GPA);
	qtest("writel 0x%llx 0", (unsigned long long)r + 0x18);
	qtest("writel 0x%llx 4096", (unsigned long long)r + 0x1c);
	qtest("writel 0x%llx 1", (unsigned long long)r + 0x20);
	v = qtest("readl 0x%llx", (unsigned long long)r + 0x24);
	point(v == 0, "the DMA copy command succeeds (DMA_STATUS %u)", v);
	{
		static char line[2 * 4096 + 64];

		if (write(vm->qtest.wfd, "read 0x200000 4096\n", 19) != 19)
			bail("qtest: cannot send a read");
		qtest_reply(line, sizeof(line), "read");
		if (strncmp(line, "OK 0x", 5) || strlen(line) != 5 + 8192)
			bail("qtest: a read answered '%.40s'", line);
		for (int i = 0; i < 4096 && bad < 0; i++) {
			unsigned int b;

			if (sscanf(line + 5 + 2 * i, "%2x", &b) != 1 || b != ((i % 256) ^ 0x5a))
				bad = i;
		}
	}
	point(bad < 0, "the guest finds the device's 4 KiB in its memory (first wrong byte: %d)", bad);
	/* A pin of that page through the container, then its unpin. */
	qtest("writel 0x%llx 2", (unsigned long long)r + 0x20);
	v = qtest("readl 0x%llx", (unsigned long long)r + 0x24);
	point(v == 0 && qtest("readl 0x%llx", (unsigned long long)r + 0x28) == 1,
	      "the device pins the guest page (DMA_STATUS %u)", v);
	qtest("writel 0x%llx 3", (unsigned long long)r + 0x20);
	point(qtest("readl 0x%llx", (unsigned long long)r + 0x28) == 0, "and unpins it");
	tr("sample: DMA done");
}

/* Device 1: device_del and the guest's eject, then remove. */
static void unplug_then_remove(const char *uuid)
{
	char reply[512];
	int rc;

	if (qmp(reply, sizeof(reply), "{\"execute\": \"device_del\", \"arguments\": {\"id\": \"vdev1\"}}")) {
		point(0, "QEMU accepts device_del of the device in use");
		return;
	}
	point(qtest("inl 0x%x", PCIHP_DOWN) & (1u << SLOT_USED),
	      "device_del asks the guest to eject the slot (ACPI hotplug)");
	qtest("outl 0x%x 0x%x", PCIHP_EJECT, 1u << SLOT_USED);
	if (!point(qmp_event("DEVICE_DELETED", "vdev1", 30000),
		   "the guest ejects it and QEMU releases the device (DEVICE_DELETED)"))
		return;	/* a remove would wait for QEMU */
	rc = sysfs_remove(uuid);
	point(rc == 0, "then the device's remove succeeds (%s)", rc ? strerror(-rc) : "OK");
}

/* Device 2: remove while QEMU holds it. */
static void remove_while_held(const char *uuid, int has_request)
{
	int status = -1, gone = 0;
	pid_t child = fork();

	if (child == 0)
		_exit(sysfs_remove(uuid) ? 1 : 0);
	if (has_request) {
		long deadline = now_ms() + 30000;
		int down = 0;

		while (!down && now_ms() < deadline) {
			down = qtest("inl 0x%x", PCIHP_DOWN) & (1u << SLOT_HELD);
			if (!down)
				usleep(100000);
		}
		point(down, "the remove's request interrupt reaches QEMU, which asks the guest to eject the slot");
	} else {
		sleep(3);
		point(!(qtest("inl 0x%x", PCIHP_DOWN) & (1u << SLOT_HELD)),
		      "no request reaches QEMU (the driver has no request interrupt)");
	}
	gone = waitpid(child, &status, WNOHANG) == child;
	point(!gone, "the remove waits while QEMU holds the device");
	if (!has_request &&
	    qmp(NULL, 0, "{\"execute\": \"device_del\", \"arguments\": {\"id\": \"vdev2\"}}"))
		point(0, "QEMU accepts device_del");
	qtest("outl 0x%x 0x%x", PCIHP_EJECT, 1u << SLOT_HELD);
	point(qmp_event("DEVICE_DELETED", "vdev2", 30000), "the guest ejects it and QEMU releases the device");
	if (!gone) {
		long deadline = now_ms() + 30000;

		while (!(gone = waitpid(child, &status, WNOHANG) == child) && now_ms() < deadline)
			usleep(50000);
	}
	if (!gone) {
		kill(vm->pid, SIGKILL);
		waitpid(child, &status, 0);
	}
	point(gone && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "the remove completes once QEMU has let go of the device");
}

int main(void)
{
	const char *driver = getenv("MDEV_VMM_DRIVER"), *u1 = getenv("MDEV_UUID");
	const char *u2 = getenv("MDEV_UUID2"), *id_env = getenv("MDEV_PCI_ID");
	const char *u3 = getenv("MDEV_UUID3");
	int has_request = getenv("MDEV_VMM_REQUEST") && atoi(getenv("MDEV_VMM_REQUEST"));
	char qt_arg[80], qmp_arg[80], dev1[200], dev2[200], dev3[200];
	const char *backend = getenv("MDEV_VMM_IOMMUFD") && atoi(getenv("MDEV_VMM_IOMMUFD")) ?
			      ",iommufd=iommufd0" : "";
	static char reply[1 << 16];
	char entry[8192];
	int display = driver && !strcmp(driver, "mdpy");
	uint32_t want_id = id_env ? strtoul(id_env, NULL, 0) : 0, v;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n");
	if (!driver || !u1 || !u2 || !want_id || (display && !u3))
		bail("MDEV_VMM_DRIVER, MDEV_UUID, MDEV_UUID2, MDEV_PCI_ID (and for mdpy MDEV_UUID3) must be set");
	if (getenv("MDEV_VMM_TRACE")) {
		trace = fopen(getenv("MDEV_VMM_TRACE"), "w");
		if (!trace)
			bail("cannot write %s", getenv("MDEV_VMM_TRACE"));
	}
	conn_open(&vm->qtest, "qtest", qt_arg, sizeof(qt_arg));
	conn_open(&vm->qmp, "qmp", qmp_arg, sizeof(qmp_arg));
	snprintf(dev1, sizeof(dev1), "vfio-pci,sysfsdev=/sys/bus/mdev/devices/%s,id=vdev1,bus=pci.0,addr=%d.0,rombar=0%s",
		 u1, SLOT_USED, backend);
	snprintf(dev3, sizeof(dev3), "vfio-pci,sysfsdev=/sys/bus/mdev/devices/%s,id=vdev3,bus=pci.0,addr=%d.0,rombar=0,display=on%s",
		 u3 ?: "", SLOT_SHOWN, backend);
	snprintf(dev2, sizeof(dev2), "vfio-pci,sysfsdev=/sys/bus/mdev/devices/%s,id=vdev2,bus=pci.0,addr=%d.0,rombar=0%s",
		 u2, SLOT_HELD, backend);
	msg("qemu -device %s -device %s%s%s", dev1, dev2, display ? " -device " : "", display ? dev3 : "");
	/* A paused machine (-S): no guest CPU runs, qtest is its guest. */
	char *argv[] = { NULL, "-object", "iommufd,id=iommufd0", "-machine", "pc", "-accel", "tcg",
			 "-m", "64", "-S", "-nodefaults",
			 "-no-user-config", "-display", "none", "-qtest", qt_arg, "-qtest-log", "none", "-qmp", qmp_arg,
			 "-device", dev1, "-device", dev2, display ? "-device" : NULL, dev3, NULL };

	/* The iommufd object only where the devices use it. */
	qemu_start(*backend ? argv : argv + 2);
	if (qmp(reply, sizeof(reply), "{\"execute\": \"query-pci\"}"))
		bail("query-pci failed");
	if (!pci_entry(reply, "vdev1", entry, sizeof(entry)) || !strstr(reply, "\"qdev_id\": \"vdev2\"")) {
		qemu_stderr_print();
		point(0, "QEMU realizes vfio-pci,sysfsdev= for both devices");
		finish();
	}
	point(1, "QEMU realizes vfio-pci,sysfsdev= for both devices");
	v = json_num(entry, "vendor") | json_num(entry, "device") << 16;
	if (!point(v == want_id, "query-pci shows the vendor's IDs (0x%08x)", v))
		msg("query-pci: %.2000s", entry);
	tr("query-pci: id 0x%08x, class 0x%04lx", v, json_num(entry, "class"));

	v = cfg_read(SLOT_USED, 0, 4);
	point(v == want_id, "the machine's configuration space shows the same IDs (0x%08x)", v);
	tr("config: class 0x%06x, header 0x%02x, interrupt pin %u", cfg_read(SLOT_USED, 8, 4) >> 8,
	   cfg_read(SLOT_USED, 0xe, 1), cfg_read(SLOT_USED, 0x3d, 1));
	/* Every PCI interrupt to IRQ 11 (PIIX3's PIRQ routes), watched on the I/O APIC. */
	cfg_write(1, 0x60, 4, GUEST_IRQ * 0x01010101u);
	qtest("irq_intercept_in ioapic");
	bars_program(SLOT_USED, 0);
	{
		int match = 1;

		for (int i = 0; i < 6; i++) {
			char key[32];
			const char *b;

			snprintf(key, sizeof(key), "\"bar\": %d,", i);
			b = strstr(entry, key);
			/* query-pci was asked before the BARs were programmed, but their sizes hold. */
			if (!!b != !!bars[i].size)
				match = 0;
		}
		point(match, "the BARs the machine sizes are those QEMU reports");
	}
	if (!strcmp(driver, "mtty"))
		drive_mtty();
	else if (!strcmp(driver, "mdpy"))
		drive_mdpy();
	else if (!strcmp(driver, "mbochs"))
		drive_mbochs();
	else if (!strcmp(driver, "sample"))
		drive_sample();
	else
		bail("unknown MDEV_VMM_DRIVER %s", driver);

	unplug_then_remove(u1);
	remove_while_held(u2, has_request);

	qemu_quit();
	conn_remove(&vm->qtest);
	finish();
}
