#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# QEMU as the VMM: for each vendor driver of MDEV_VMM_DRIVERS (default
# mtty_rs; `make vmm` runs all five), two devices are created and handed to
# Debian's qemu-system-x86_64 with -device vfio-pci,sysfsdev=..., through
# the type1 container, on the core under test.  vmm_qtest plays the guest
# through QEMU's qtest protocol and QMP (see vmm_qtest.c): the devices are
# realized with the vendor's IDs and BARs, driven as their guest driver
# would, hot-unplugged with device_del while in use, and removed while QEMU
# holds them.
#
# The transcripts of a C sample and its Rust port (mtty and mtty_rs, mdpy
# and mdpy_rs) must be equal but for the differences listed in
# vmm_trace.allowed.

. ./mdev_lib.sh

RESULTS=/tmp/vmm.results
OUT=/tmp/vmm.out
: > $RESULTS

if ! command -v qemu-system-x86_64 > /dev/null; then
	ktap_print_header
	ktap_set_plan 1
	ktap_test_skip "qemu-system-x86_64 is not in this guest"
	ktap_finished
fi

# driver_info DRIVER: "VENDOR TYPE PCI_ID ROLE PORTS REQUEST" of a driver.
driver_info() {
	case $1 in
	mtty) echo "mtty mtty-2 0x32534348 mtty 2 0" ;;
	mtty_rs) echo "mtty_rs mtty_rs-2 0x32534348 mtty 2 0" ;;
	mdpy) echo "mdpy mdpy-vga 0x000f1b36 mdpy 0 0" ;;
	mdpy_rs) echo "mdpy_rs mdpy_rs-vga 0x000f1b36 mdpy 0 0" ;;
	mbochs) echo "mbochs mbochs-small 0x11111234 mbochs 0 0" ;;
	sample) echo "mdev_rs_sample faux_driver-1 0x7f011b36 sample 0 1" ;;
	*) return 1 ;;
	esac
}

# qemu_run LABEL TRACE [ENV...]: run_driver's devices (two, and for mdpy a
# display device, which QEMU keeps until it quits: vmm_qtest.c) of $dir,
# through vmm_qtest with ENV, its points named LABEL and its transcript
# in TRACE; then the display device is removed.
qemu_run() {
	label=$1 trace=$2
	shift 2
	u1=$(new_device "$dir" "$label: $type") || return 1
	u2=$(new_device "$dir" "$label: $type") || return 1
	u3=""
	[ "$role" = mdpy ] && { u3=$(new_device "$dir" "$label: $type") || return 1; }
	run_harness "$label" env MDEV_VMM_DRIVER="$role" MDEV_UUID="$u1" MDEV_UUID2="$u2" \
		MDEV_UUID3="$u3" MDEV_PCI_ID="$id" MDEV_MTTY_PORTS="$ports" MDEV_VMM_REQUEST="$request" \
		MDEV_VMM_TRACE="$trace" "$@" ./vmm_qtest
	[ -z "$u3" ] || check "$label: the display device's remove succeeds once QEMU has quit" \
		OK "$(remove "$u3")"
}

# run_driver DRIVER: its devices through QEMU; the transcript goes to
# /tmp/vmm-trace.DRIVER.
run_driver() {
	set -- "$1" $(driver_info "$1")
	name=$1 vendor=$2 type=$3 id=$4 role=$5 ports=$6 request=$7
	if [ -z "$(module_path "$vendor")" ]; then
		point skip "$name: $vendor is not built"
		return
	fi
	unload_all
	if ! load_vendor "$vendor" > $OUT; then
		while IFS= read -r line; do note "${line#\# }"; done < $OUT
		point fail "$name: $vendor loads on $(core_desc)"
		return
	fi
	dir=$(readlink -f "$MDEV_CLASS/$vendor")/mdev_supported_types/$type
	qemu_run "$name" /tmp/vmm-trace."$name" || return
	# The same through iommufd, where the guest has a QEMU with that
	# backend (make vmm: qemu-new, from Debian trixie) and the kernel the
	# VFIO device cdev.
	if [ -n "$IOMMUFD_QEMU" ]; then
		qemu_run "$name (iommufd)" /tmp/vmm-trace-iommufd."$name" \
			MDEV_VMM_QEMU="$IOMMUFD_QEMU" MDEV_VMM_IOMMUFD=1 || return
		compare_traces ./vmm_trace.allowed /tmp/vmm-trace."$name" /tmp/vmm-trace-iommufd."$name" \
			"$name (iommufd): the guest sees the same as through the type1 container"
	fi
	# vmm_qtest removed the others: nothing of the driver's is left.
	check "$name: every device is gone after the run" 0 "$(ls /sys/bus/mdev/devices | wc -l)"
	unload_module "$vendor"
}

rm -f /tmp/vmm-trace.* /tmp/vmm-trace-iommufd.*
IOMMUFD_QEMU=""
if command -v qemu-new > /dev/null && [ -c /dev/iommu ]; then
	IOMMUFD_QEMU=qemu-new
else
	point skip "QEMU through iommufd: no QEMU 9.0+ (qemu-new) or no iommufd (/dev/iommu) in this guest"
fi
drivers=${MDEV_VMM_DRIVERS:-mtty_rs}
for d in $(echo "$drivers" | tr ',' ' '); do
	if driver_info "$d" > /dev/null; then
		run_driver "$d"
	else
		point fail "MDEV_VMM_DRIVERS names a driver this test knows ($d)"
	fi
done
for pair in mtty:mtty_rs mdpy:mdpy_rs; do
	c=${pair%%:*} rust=${pair##*:}
	[ -s /tmp/vmm-trace.$c ] && [ -s /tmp/vmm-trace.$rust ] &&
		compare_traces ./vmm_trace.allowed /tmp/vmm-trace.$c /tmp/vmm-trace.$rust \
			"$rust: what QEMU's guest sees equals what it sees of $c, but for the allowed differences"
done
unload_all

results_print
ktap_finished
