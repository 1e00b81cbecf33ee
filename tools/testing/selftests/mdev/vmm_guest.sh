#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A whole virtual machine on our devices (make vmm-guest; skipped unless
# MDEV_VMM_GUEST=1, for it takes minutes under nested TCG): Debian's QEMU
# boots the test kernel again as its guest, with an mtty_rs, an mtty, an
# mdpy_rs and an mdpy device as vfio-pci, on the core under test.  In that
# guest, 8250_pci finds the UART ports and a line written to each mtty
# device's port comes back through the loopback on its interrupt, and the
# kernel's mdpy-fb sample brings up a framebuffer on each mdpy device whose
# picture QEMU's display reads back (vmm_boot.c, vmm-inner-init.sh).

. ./mdev_lib.sh

RESULTS=/tmp/vmm_guest.results
OUT=/tmp/vmm_guest.out
: > $RESULTS
INNER=/usr/share/mdev-vmm

if [ "${MDEV_VMM_GUEST:-0}" != 1 ]; then
	echo "1..0 # SKIP the inner machine's boot takes minutes: make vmm-guest runs it (MDEV_VMM_GUEST=1)"
	exit "$KSFT_SKIP"
fi
if ! command -v qemu-system-x86_64 > /dev/null || [ ! -r $INNER/bzImage ]; then
	echo "1..0 # SKIP QEMU or the inner machine's kernel is not in this guest"
	exit "$KSFT_SKIP"
fi

unload_all
devices=""
# mtty_rs:mtty_rs-2 means: load mtty_rs, create a device of its type
# mtty_rs-2.  The kernel has room for 4 UARTs (SERIAL_8250_NR_UARTS): the
# console's and three of the mtty devices'.
for spec in ${MDEV_VMM_GUEST_DRIVERS:-mtty_rs:mtty_rs-2 mdpy_rs:mdpy_rs-vga mtty:mtty-1 mdpy:mdpy-vga}; do
	vendor=${spec%%:*} type=${spec#*:}
	if ! load_vendor "$vendor" > $OUT; then
		while IFS= read -r line; do note "${line#\# }"; done < $OUT
		point fail "$vendor loads on $(core_desc)"
		continue
	fi
	u=$(new_device "$(readlink -f "$MDEV_CLASS/$vendor")/mdev_supported_types/$type" "$type") || continue
	devices="$devices $vendor=$u"
done
# shellcheck disable=SC2086
run_harness "inner machine" ./vmm_boot $INNER/bzImage $INNER/inner.cpio $devices
check "every device is gone after the run" 0 "$(ls /sys/bus/mdev/devices | wc -l)"
unload_all

results_print
ktap_finished
