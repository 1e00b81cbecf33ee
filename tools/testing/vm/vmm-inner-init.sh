#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the inner machine of vmm_guest.sh: the test kernel again, booted
# by QEMU inside the test guest with mediated devices as vfio-pci.  The
# kernel's own drivers drive them: 8250_pci (built in) the mtty devices,
# mdpy-fb (the kernel's sample, loaded here) the mdpy devices.  It reports
# to vmm_boot (vmm_boot.c) on its console, one line each:
#   inner-point: ok|not-ok TEXT, inner-draw: SLOT W H NAME, inner-wait,
#   inner-done.
# vmm_slotN=NAME on the kernel command line (passed to init as environment)
# names the driver of the device in slot N.

export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /tmp && mount -t tmpfs tmpfs /tmp

ok() { echo "inner-point: ok $*"; }
not_ok() { echo "inner-point: not-ok $*"; }
# check DESCRIPTION EXPECTED ACTUAL
check() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1: expected '$2', got '$3'"; fi
}

echo "inner: up, kernel $(uname -r), $(grep -c . /proc/bus/pci/devices) PCI functions"

# irq_count IRQ: the interrupts IRQ has had, over all CPUs.
irq_count() {
	awk -v irq="$1:" '$1 == irq { s = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i; print s }' \
		/proc/interrupts
}

# The ports 8250_pci registered, as the kernel logged them:
# "0000:00:04.0: ttyS1 at I/O 0xc000 (irq = 11, base_baud = 115200) is a 16550A"
dmesg | sed -n 's/.*\(0000:00:[0-9a-f][0-9a-f]\.[0-7]\): \(ttyS[0-9]*\) at I\/O \(0x[0-9a-f]*\) (irq = \([0-9]*\).*/\1 \2 \3 \4/p' \
	> /tmp/ports
for var in $(env | sed -n 's/^vmm_slot\([0-9]*\)=.*/\1/p'); do
	eval name=\$vmm_slot$var
	addr=$(printf '0000:00:%02x.0' "$var")
	case $name in
	mtty*)
		nports=$(grep -c "^$addr " /tmp/ports)
		if [ "$nports" -eq 0 ]; then
			not_ok "$name (slot $var): 8250_pci registers its ports"
			continue
		fi
		ok "$name (slot $var): 8250_pci registers $nports ports: $(grep "^$addr " /tmp/ports | cut -d' ' -f2 | tr '\n' ' ')"
		# The device's first port (mtty's BAR0): a line through the loopback.
		set -- $(grep "^$addr " /tmp/ports | head -n1)
		tty=/dev/$2 irq=$4
		# clocal: the port has no carrier to wait for (else a read ends at
		# once, the line hung up).
		stty -F "$tty" raw -echo clocal 115200 || not_ok "$name: stty $tty"
		# The shell itself opens the port, writes and reads (no process
		# to start, which takes seconds in a machine this slow), with a
		# timeout on the read.
		exec 3<> "$tty"
		before=$(irq_count "$irq")
		echo "inner: $name: $2 at $3, IRQ $irq: $(grep "^ *$irq:" /proc/interrupts | tr -s ' ')"
		# At most 15 bytes, newline included: mtty's loopback FIFO (the
		# C sample's, and mtty_rs's, which behaves the same) has 16
		# places but tells full from empty by its head and tail alone, so
		# a 16th byte makes it read as empty and the bytes after it are
		# overruns; 8250 hands a 16550A's FIFO 16 bytes at a time
		# (Documentation/vmm.rst).
		printf 'mdev %s\n' "$name" >&3
		line=""
		read -t 60 -r line <&3
		after=$(irq_count "$irq")
		# What the driver moved: its tx and rx counts of the port.
		echo "inner: $name: $(grep "^${2#ttyS}:" /proc/tty/driver/serial)"
		exec 3>&-
		check "$name (slot $var): a line written to $2 comes back through the loopback" \
			"mdev $name" "$(echo "$line" | tr -d '\r')"
		if [ "${after:-0}" -gt "${before:-0}" ]; then
			ok "$name (slot $var): the port's interrupts arrive on IRQ $irq ($before, then $after)"
		else
			not_ok "$name (slot $var): the port's interrupts arrive on IRQ $irq ($before, then $after)"
		fi
		;;
	mdpy*)
		[ -e /sys/module/mdpy_fb ] || insmod /mdpy-fb.ko || not_ok "insmod mdpy-fb.ko"
		fb=""
		for f in /sys/class/graphics/fb*; do
			[ "$(basename "$(readlink -f "$f/device")")" = "$addr" ] && fb=$(basename "$f")
		done
		if [ -z "$fb" ]; then
			not_ok "$name (slot $var): mdpy-fb brings up a framebuffer"
			continue
		fi
		size=$(cat /sys/class/graphics/$fb/virtual_size)
		w=${size%,*} h=${size#*,}
		ok "$name (slot $var): mdpy-fb brings up /dev/$fb, ${w}x$h"
		# The picture of vmm_qemu.h: 8 gray rows, then red, green and blue
		# pixels on row 1 from column 1 (XRGB8888, little-endian: B G R X).
		head -c $((w * 8 * 4)) /dev/zero | tr '\000' '\200' > /dev/$fb
		printf '\000\000\377\000\000\377\000\000\377\000\000\000' |
			dd of=/dev/$fb bs=4 seek=$((w + 1)) conv=notrunc 2>/dev/null
		echo "inner-draw: $var $w $h $name"
		;;
	esac
done
echo "inner-wait"
read -r answer
echo "inner: the host said '$answer'"
echo "inner-done"
poweroff -f
