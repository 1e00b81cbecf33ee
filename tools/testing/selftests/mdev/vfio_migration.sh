#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# VFIO migration v2 of the C mtty sample and of its Rust port mtty_rs, on
# the core under test, with mig_client (see mig_client.c), for both types
# of each (one port, two ports):
#
# - every arc from every reachable state, with the VFIO core's errno for
#   those the device does not have; PRE_COPY info;
# - save from one device, resume into a second: the guest-visible state
#   (UART registers, divisor, FIFO contents, interrupt identification,
#   config space) after resume equals the saved device's;
# - cross-driver: the C mtty's stream resumed into mtty_rs, and the reverse;
# - bad resume streams (truncated, oversized, another type's, a write after
#   RESUMING, a corrupt port) leave the device as it was;
# - transfers cut short: the data fd closed mid-stream, a reset in
#   STOP_COPY and in RESUMING, the device removed in STOP_COPY.
#
# Each transcript of mtty_rs must equal the C mtty's but for the differences
# listed in mig_trace.allowed.
#
# Then the Rust sample mdev_rs_sample, a device that does DMA and pins guest
# memory, on both its types: the flags and every arc (as mtty_rs answers
# them), PRE_COPY info, a migration between two devices of one container,
# each set up with its own state and a pin: the source does nothing when
# driven in STOP_COPY (no count, no write, no interrupt, no DMA, no unpin);
# the destination's registers,
# config space and BAR2 equal the source's after it, it holds the source's
# pin (its own given back), its doorbell rings, a copy with its resumed
# DMA registers lands, its resumed pin unpins; bad streams (truncated,
# oversized, another magic, another type's, a corrupt config byte, bad pin
# flags, a pin at IOVA nothing maps) are refused with the device as it was,
# which then still resumes a good one; the transfers cut short, with a pin
# held; its device dirty tracking (the pages its copies write and its pin,
# reported once each, through resets, in part and in larger pages, and a
# full log refusing the copy it cannot record); the migration and the
# failed pin once more through iommufd (cdev mode), where the kernel has it.  The points are printed at the end.
# make vmm runs it (MDEV_VMM_MIGRATION=1); it skips itself otherwise.

. ./mdev_lib.sh

# make vmm runs it (on both cores, beside QEMU's tests), not make check,
# whose 6 minutes it would exceed.
if [ "${MDEV_VMM_MIGRATION:-0}" != 1 ]; then
	ktap_print_header
	ktap_skip_all "the migration matrix runs in make vmm (MDEV_VMM_MIGRATION=1)"
	exit "$KSFT_SKIP"
fi

ALLOWED=./mig_trace.allowed
RESULTS=/tmp/vfio_migration.results
OUT=/tmp/vfio_migration.out
T=/tmp/mig
: > $RESULTS
rm -rf $T
mkdir -p $T

# client VENDOR TYPE NAME ARGS...: mig_client ARGS on a new device of
# VENDOR's TYPE; its transcript is $T/NAME.VENDOR-N, one point that it ran
# to its end.  The device is removed after, unless the client did.  With
# PAIR=1, a second device is the destination (MDEV_UUID2); MODE is the
# IOMMU mode (MDEV_VFIO_MODE, default type1v2).
client() {
	vendor=$1 type=$2 name=$3
	shift 3
	n=${type##*-}
	dir=$(readlink -f "$MDEV_CLASS/$vendor")/mdev_supported_types/$type
	uuid=$(new_device "$dir" "$type") || return 1
	# PAIR=1: a second device, the destination (MDEV_UUID2).
	uuid2=
	if [ "${PAIR:-0}" = 1 ]; then
		uuid2=$(new_device "$dir" "$type") || { remove "$uuid" > /dev/null; return 1; }
	fi
	out=$T/$name.$vendor-$n
	MDEV_UUID=$uuid MDEV_UUID2=$uuid2 MDEV_MTTY_PORTS=$n MDEV_MODULE=$vendor \
		MDEV_VFIO_MODE=${MODE:-} ./mig_client "$@" > "$out" 2> $OUT
	rc=$?
	while IFS= read -r line; do note "mig_client $*: $line"; done < $OUT
	if [ "$rc $(tail -n1 "$out")" != "0 end" ]; then
		tail -n 5 "$out" | while IFS= read -r line; do note "mig_client $*, its last lines: $line"; done
	fi
	check "$type: mig_client $* ran to its end" "0 end" "$rc $(tail -n1 "$out")"
	for u in $uuid $uuid2; do
		[ -e "$MDEV_BUS/$u" ] || continue
		result=$(remove "$u")
		[ "$result" = OK ] || note "removing the $type device: $result"
	done
}

# state FILE [NAME]: the guest-visible state a transcript dumped (the one
# called NAME: the sample's runs dump several), without its first line.
state() {
	sed -n "/^== state${2:+ $2}\$/,/^== end state\$/p" "$1" | sed 1d
}

# same_state DESCRIPTION EXPECTED_FILE ACTUAL_FILE [EXPECTED_NAME
# ACTUAL_NAME]: one point, that the two transcripts dumped the same state
# (else the diff is printed).
same_state() {
	state "$2" "${4:-}" > $OUT.a
	state "$3" "${5:-}" > $OUT.b
	if [ -s $OUT.a ] && diff -u $OUT.a $OUT.b > $OUT; then
		point pass "$1"
	else
		note "$1: $2${4:+ ($4)} against $3${5:+ ($5)}:"
		[ -s $OUT.a ] || note "  no state ${4:-} in $2"
		while IFS= read -r line; do note "  $line"; done < $OUT
		point fail "$1"
	fi
	rm -f $OUT.a $OUT.b
}

# other_state DESCRIPTION FILE NAME1 NAME2: one point, that the two states
# FILE dumped differ (so that an equality of them would mean something).
other_state() {
	state "$2" "$3" > $OUT.a
	state "$2" "$4" > $OUT.b
	if [ -s $OUT.a ] && [ -s $OUT.b ] && ! cmp -s $OUT.a $OUT.b; then
		point pass "$1"
	else
		note "$1: the states $3 and $4 of $2 are equal or missing"
		point fail "$1"
	fi
	rm -f $OUT.a $OUT.b
}

# has FILE LINE DESCRIPTION: one point, that the transcript has LINE (else
# the lines that start as it does, to its last colon, are printed).
has() {
	if grep -qxF "$2" "$1"; then
		point pass "$3"
	else
		note "$3: no line '$2' in $1"
		grep -F "${2%:*}:" "$1" | head -n 4 | while IFS= read -r line; do
			note "  there: $line"
		done
		point fail "$3"
	fi
}

# run_vendor VENDOR PREFIX: every scenario on VENDOR's two types.
run_vendor() {
	v=$1 p=$2
	for n in 1 2; do
		client "$v" "$p-$n" arcs arcs
		client "$v" "$p-$n" precopy precopy
		client "$v" "$p-$n" setup setup
		client "$v" "$p-$n" save save "$T/stream.$v-$n"
		client "$v" "$p-$n" resume resume "$T/stream.$v-$n"
		same_state "$p-$n: the state resumed equals the state saved" \
			"$T/save.$v-$n" "$T/resume.$v-$n"
		has "$T/arcs.$v-$n" "MIGRATION: flags 0x7" \
			"$p-$n: STOP_COPY, P2P and PRE_COPY are advertised"
		has "$T/resume.$v-$n" "set STOP: OK, now STOP" "$p-$n: the resume loads"
		has "$T/arcs.$v-$n" "DMA_LOGGING_START: OK" "$p-$n: device dirty tracking starts"
		has "$T/precopy.$v-$n" "PRECOPY_INFO (argsz 24): flags 0x4 initial 24 dirty 0" \
			"$p-$n: PRE_COPY info: the header is the initial data (v1: flags as passed)"
		has "$T/precopy.$v-$n" "PRECOPY_INFO (argsz 24): flags 0x0 initial 24 dirty 0" \
			"$p-$n: PRE_COPY info v2: flags 0"
		for k in close reset remove; do
			client "$v" "$p-$n" "interrupt-$k" interrupt $k
		done
	done
	for n in 1 2; do
		o=$((3 - n))
		for k in truncated oversized after; do
			client "$v" "$p-$n" "bad-$k" bad $k "$T/stream.$v-$n"
			same_state "$p-$n: a $k resume leaves the state as it was" \
				"$T/setup.$v-$n" "$T/bad-$k.$v-$n"
		done
		client "$v" "$p-$n" bad-foreign bad foreign "$T/stream.$v-$o"
		same_state "$p-$n: a resume from a $p-$o stream leaves the state as it was" \
			"$T/setup.$v-$n" "$T/bad-foreign.$v-$n"
		has "$T/bad-foreign.$v-$n" "set STOP: EINVAL, now RESUMING" \
			"$p-$n: a $p-$o stream does not load"
		has "$T/bad-truncated.$v-$n" "set STOP: EINVAL, now RESUMING" \
			"$p-$n: a truncated stream does not load"
		has "$T/bad-after.$v-$n" "write 8: ENODEV" \
			"$p-$n: a write after RESUMING fails with ENODEV"
		has "$T/interrupt-reset.$v-$n" "read 10: ENODEV" \
			"$p-$n: a read after a reset in STOP_COPY fails with ENODEV"
		has "$T/interrupt-remove.$v-$n" "read 10: ENODEV" \
			"$p-$n: a read after the device was removed fails with ENODEV"
		has "$T/interrupt-remove.$v-$n" "rmmod while the data fd is open: refused" \
			"$p-$n: an open data fd keeps the vendor module loaded"
	done
}

unload_all
load_vendor mtty >/dev/null || { ktap_print_header; ktap_exit_fail_msg "cannot load mtty on $(core_desc)"; }
run_vendor mtty mtty

if [ -z "$(module_path mtty_rs)" ]; then
	point skip "mtty_rs is not built"
elif ! load_vendor mtty_rs > $OUT; then
	while IFS= read -r line; do note "${line#\# }"; done < $OUT
	point fail "mtty_rs loads on $(core_desc)"
else
	run_vendor mtty_rs mtty_rs
	# The Rust port checks what it loads; the C sample does not.
	for n in 1 2; do
		client mtty_rs "mtty_rs-$n" bad-corrupt bad corrupt "$T/stream.mtty_rs-$n"
		has "$T/bad-corrupt.mtty_rs-$n" "set STOP: EINVAL, now RESUMING" \
			"mtty_rs-$n: a stream with a FIFO index out of range does not load"
		same_state "mtty_rs-$n: a corrupt resume leaves the state as it was" \
			"$T/setup.mtty_rs-$n" "$T/bad-corrupt.mtty_rs-$n"
	done
	for n in 1 2; do
		for name in arcs precopy save resume interrupt-close interrupt-reset \
			interrupt-remove bad-truncated bad-oversized bad-after bad-foreign; do
			compare_traces $ALLOWED $T/$name.mtty-$n $T/$name.mtty_rs-$n \
				"mtty_rs-$n: $name: the transcript equals mtty-$n's, but for the allowed differences"
		done
		# Cross-driver, both ways.
		client mtty_rs "mtty_rs-$n" cross resume "$T/stream.mtty-$n"
		mv $T/cross.mtty_rs-$n $T/c-to-rust.$n
		same_state "mtty-$n to mtty_rs-$n: the state resumed equals the C mtty's saved" \
			"$T/save.mtty-$n" "$T/c-to-rust.$n"
		client mtty "mtty-$n" cross resume "$T/stream.mtty_rs-$n"
		mv $T/cross.mtty-$n $T/rust-to-c.$n
		same_state "mtty_rs-$n to mtty-$n: the state resumed equals mtty_rs's saved" \
			"$T/save.mtty_rs-$n" "$T/rust-to-c.$n"
	done
	unload_module mtty_rs
fi

# The sample's answers to the arcs equal mtty_rs's (the same flags, the
# same API, dirty tracking that starts, reports and stops) but for the data
# size.
same_arcs() {
	grep -v '^MIG_DATA_SIZE' "$2" > $OUT.a
	grep -v '^MIG_DATA_SIZE' "$3" > $OUT.b
	if [ -s $OUT.a ] && diff -u $OUT.a $OUT.b > $OUT; then
		point pass "$1"
	else
		note "$1: $2 against $3:"
		while IFS= read -r line; do note "  $line"; done < $OUT
		point fail "$1"
	fi
	rm -f $OUT.a $OUT.b
}

# sample_dirty TYPE FILE: the points of the sample's dirty tracking run
# (mig_client sample-dirty) FILE.  Report bitmaps are hex, bit 0 the first
# page of the report: 0x1 the first of the two pages mapped at DMA_IOVA,
# 0x2 the second.
sample_dirty() {
	t=$1 d=$2
	has "$d" "report before a start: EINVAL" "$t: dirty: a report with tracking off fails with EINVAL"
	has "$d" "stop before a start: EINVAL" "$t: dirty: a stop with tracking off fails with EINVAL"
	has "$d" "start of both pages: OK, page size 4096" "$t: dirty: tracking starts in 4 KiB pages"
	has "$d" "start again: EBUSY" "$t: dirty: a second start fails with EBUSY"
	has "$d" "start in pages of 512: OK, page size 4096" \
		"$t: dirty: a start in pages of 512 bytes is answered with the device's 4 KiB"
	# A kernel without CONFIG_IOMMUFD_DRIVER (Debian's) has no iova_bitmap:
	# VFIO fails every report before the driver sees it.
	if grep -qx "report of nothing written: EOPNOTSUPP" "$d"; then
		point skip "$t: dirty: the reports (this kernel has no CONFIG_IOMMUFD_DRIVER)"
		return
	fi
	while IFS='|' read -r line what; do
		has "$d" "$line" "$t: dirty: $what"
	done <<-EOF
	report of nothing written: 0x0|nothing written, nothing reported
	report after it: 0x2|a copy's page is reported
	report again: 0x0|a page is reported once
	report of the second page only: 0x1|a copy across two pages: a report of one page gives it
	report of both, after: 0x1|the page outside the last report's window is still reported
	report of both, again: 0x0|then none
	report in pages of two: 0x1|a report in 8 KiB pages
	report with a pin: 0x2|the pinned page is reported
	report with a pin, again: 0x2|the pinned page is reported at every report
	report after the unpin: 0x0|once unpinned, it is not
	report after the reset: 0x1|tracking goes on through a reset, with what it had logged
	stop of both pages: OK|tracking stops
	stop again: EINVAL|a second stop fails with EINVAL
	report after the stop: EINVAL|a report after the stop fails with EINVAL
	report of the first page's range: 0x1|a page outside the tracked ranges is not logged
	copies into 256 pages: status 0|a full log: 256 copies succeed
	copy into one page more: status 28|a copy beyond the full log fails with ENOSPC
	that page: not written|the copy that does not fit in the log writes nothing
	copy into a page logged already: status 0|a page logged already needs no room
	report of the big mapping: 256 pages dirty|the full log reports its 256 pages
	copy into one page more, after the report: status 0|a report empties the log
	report of the big mapping, again: 1 pages dirty|and then logs anew
	EOF
}

# run_sample: the Rust sample's scenarios on its two types.
run_sample() {
	v=mdev_rs_sample
	for n in 1 2; do
		t=faux_driver-$n
		f=$T/%s.$v-$n
		client $v $t arcs arcs
		has "$T/arcs.$v-$n" "MIGRATION: flags 0x7" "$t: STOP_COPY, P2P and PRE_COPY are advertised"
		has "$T/arcs.$v-$n" "MIG_DATA_SIZE: 65872" "$t: MIG_DATA_SIZE is the stream's length"
		has "$T/arcs.$v-$n" "DMA_LOGGING_START: OK" "$t: device dirty tracking starts"
		has "$T/arcs.$v-$n" "STOP -> STOP_COPY: OK with a data fd, now STOP_COPY" \
			"$t: STOP -> STOP_COPY opens a saving stream"
		has "$T/arcs.$v-$n" "STOP -> RESUMING: OK with a data fd, now RESUMING" \
			"$t: STOP -> RESUMING opens a resuming stream"
		has "$T/arcs.$v-$n" "RUNNING -> PRE_COPY_P2P: OK with a data fd, now PRE_COPY_P2P" \
			"$t: RUNNING -> PRE_COPY_P2P opens a saving stream"
		if [ -f "$T/arcs.mtty_rs-1" ]; then
			same_arcs "$t: every arc from every state answers as mtty_rs's" \
				"$T/arcs.mtty_rs-1" "$T/arcs.$v-$n"
		else
			point skip "$t: the arcs compared with mtty_rs's (mtty_rs did not run)"
		fi
		client $v $t precopy precopy
		has "$T/precopy.$v-$n" "PRECOPY_INFO (argsz 24): flags 0x4 initial 32 dirty 0" \
			"$t: PRE_COPY info: the 32-byte header is the initial data"
		has "$T/precopy.$v-$n" "PRECOPY_INFO (argsz 24): flags 0x0 initial 32 dirty 0" \
			"$t: PRE_COPY info v2: flags 0"
		has "$T/precopy.$v-$n" "rest of the stream: 65864 bytes" \
			"$t: the stream read on after PRE_COPY -> STOP_COPY holds the rest"

		PAIR=1 client $v $t migrate sample-migrate "$T/stream.$v-$n"
		m=$T/migrate.$v-$n
		has "$m" "source: setup: pin: status 0" "$t: the source pins a page of guest memory"
		has "$m" "destination: setup: pin: status 0" "$t: the destination pins a page of its own"
		other_state "$t: the destination's state differs from the source's before the migration" \
			"$m" source "destination before"
		has "$m" "stream: 65872 bytes" "$t: the source's stream is 65872 bytes"
		has "$m" "source: stopped: COUNTER reads 0x100, then 0x100" \
			"$t: in STOP_COPY, a read of COUNTER does not count"
		has "$m" "source: stopped: SCRATCH 0x5ca1ab1e after a write of 0xdead" \
			"$t: in STOP_COPY, a register write changes nothing"
		has "$m" "source: stopped: doorbell: eventfd silent, IRQ_COUNT 2" \
			"$t: in STOP_COPY, the doorbell raises no interrupt"
		has "$m" "source: stopped: copy: 0 bytes of guest memory written, DMA_STATUS 16" \
			"$t: in STOP_COPY, a DMA command does no DMA"
		has "$m" "source: stopped: unpin: DMA_PINNED 1" \
			"$t: in STOP_COPY, an unpin command keeps the pin"
		has "$m" "destination: set STOP: OK, now STOP" "$t: the destination loads the stream"
		same_state "$t: after the migration the destination's registers, DMA registers, config space and BAR2 equal the source's" \
			"$m" "$m" source destination
		has "$m" "destination: DMA_PINNED after resume: 1" \
			"$t: the destination holds one pin: the source's, pinned again; its own given back"
		has "$m" "destination: doorbell: eventfd signalled, IRQ_COUNT 3" \
			"$t: the destination's doorbell signals its eventfd and counts on from the source's 2"
		has "$m" "destination: copy with the resumed DMA_ADDR and DMA_LEN: status 0, 32 bytes at 0x10000200, 0 wrong, 0 other bytes written" \
			"$t: a copy with the resumed DMA_ADDR and DMA_LEN writes the pattern there, nothing else"
		has "$m" "destination: unpin of the resumed pin: status 0, DMA_PINNED 0" \
			"$t: the resumed pin is the destination's to unpin"
		has "$m" "source: unpin: status 0, DMA_PINNED 0" \
			"$t: the source kept its own pin through the migration"

		for k in close reset remove; do
			client $v $t "interrupt-$k" interrupt $k
		done
		has "$T/interrupt-close.$v-$n" "whole stream again: 65872 bytes" \
			"$t: after a data fd closed mid-stream, a new stream is whole"
		has "$T/interrupt-reset.$v-$n" "read 10: ENODEV" \
			"$t: a read after a reset in STOP_COPY fails with ENODEV"
		has "$T/interrupt-reset.$v-$n" "DMA_PINNED after the reset: 0" \
			"$t: a reset during the transfer gives the pin back"
		has "$T/interrupt-reset.$v-$n" "write 10: ENODEV" \
			"$t: a write after a reset in RESUMING fails with ENODEV"
		has "$T/interrupt-reset.$v-$n" "state: RUNNING" "$t: a reset puts the device back in RUNNING"
		has "$T/interrupt-remove.$v-$n" "read 10: ENODEV" \
			"$t: a read after the device was removed fails with ENODEV"
		has "$T/interrupt-remove.$v-$n" "rmmod while the data fd is open: refused" \
			"$t: an open data fd keeps the sample loaded"
	done
	for n in 1 2; do
		t=faux_driver-$n o=$((3 - n))
		client $v $t dirty sample-dirty
		sample_dirty "$t" "$T/dirty.$v-$n"
		for k in truncated oversized garbage foreign corrupt badpin pinfail after; do
			from=$T/stream.$v-$n
			[ $k = foreign ] && from=$T/stream.$v-$o
			client $v $t "bad-$k" sample-bad $k "$from" "$T/stream.$v-$n"
			b=$T/bad-$k.$v-$n
			if [ $k != after ]; then
				same_state "$t: bad stream ($k): the device is left as it was" "$b" "$b" before after
				# A failed pin answers as VFIO does for IOVA that
				# nothing maps: type1 EINVAL, iommufd ENOENT.
				e=EINVAL
				[ $k = pinfail ] && [ "$(vfio_container_kind)" = iommufd ] && e=ENOENT
				has "$b" "set STOP: $e, now RESUMING" "$t: bad stream ($k): it does not load ($e)"
				has "$b" "again: set STOP: OK, now STOP" "$t: bad stream ($k): a good stream loads after it"
				has "$b" "again: DMA_PINNED 1" "$t: bad stream ($k): the good stream's pin is held after it, and only it"
			fi
		done
		has "$T/bad-truncated.$v-$n" "write 65868: OK" "$t: a truncated stream is written"
		has "$T/bad-oversized.$v-$n" "write 65880: ENOMEM" "$t: a write beyond the stream's length fails with ENOMEM"
		has "$T/bad-oversized.$v-$n" "write 1: ENOMEM" "$t: a byte beyond a whole stream fails with ENOMEM"
		has "$T/bad-garbage.$v-$n" "write 65872: EINVAL" "$t: a stream with another magic is refused as it is written"
		has "$T/bad-foreign.$v-$n" "write 65872: EINVAL" "$t: a faux_driver-$o stream is refused as it is written"
		has "$T/bad-corrupt.$v-$n" "write 65872: OK" "$t: a stream with a corrupt config byte is written"
		has "$T/bad-badpin.$v-$n" "write 65872: OK" "$t: a stream with bad pin flags is written"
		has "$T/bad-pinfail.$v-$n" "the stream holds a pin: yes" "$t: the stream holds the source's pin"
		has "$T/bad-after.$v-$n" "set STOP: OK, now STOP" "$t: the stream loads"
		has "$T/bad-after.$v-$n" "write 8: ENODEV" "$t: a write after RESUMING fails with ENODEV"
	done

	# The same migration through iommufd (the devices' cdevs bound to one
	# IOAS), whose pins and errnos are its own.
	t=faux_driver-1
	why=$(vfio_mode_lacking cdev)
	if [ -n "$why" ]; then
		point skip "cdev: $t: the migration through iommufd ($why)"
		return
	fi
	MODE=cdev PAIR=1 client $v $t cdev-migrate sample-migrate "$T/cdev-stream.$v-1"
	m=$T/cdev-migrate.$v-1
	has "$m" "destination: set STOP: OK, now STOP" "cdev: $t: the destination loads the stream"
	same_state "cdev: $t: after the migration the destination's state equals the source's" \
		"$m" "$m" source destination
	has "$m" "destination: DMA_PINNED after resume: 1" \
		"cdev: $t: the destination holds one pin: the source's, pinned again"
	has "$m" "destination: copy with the resumed DMA_ADDR and DMA_LEN: status 0, 32 bytes at 0x10000200, 0 wrong, 0 other bytes written" \
		"cdev: $t: a copy with the resumed DMA registers writes the pattern there, nothing else"
	has "$m" "destination: unpin of the resumed pin: status 0, DMA_PINNED 0" \
		"cdev: $t: the resumed pin is the destination's to unpin"
	MODE=cdev client $v $t cdev-pinfail sample-bad pinfail "$T/cdev-stream.$v-1"
	b=$T/cdev-pinfail.$v-1
	same_state "cdev: $t: bad stream (pinfail): the device is left as it was" "$b" "$b" before after
	has "$b" "set STOP: ENOENT, now RESUMING" \
		"cdev: $t: bad stream (pinfail): it does not load (iommufd's ENOENT)"
	has "$b" "again: DMA_PINNED 1" "cdev: $t: bad stream (pinfail): a good stream loads after it, with its pin"
}

if [ -z "$(module_path mdev_rs_sample)" ]; then
	point skip "mdev_rs_sample is not built"
elif ! load_vendor mdev_rs_sample > $OUT; then
	while IFS= read -r line; do note "${line#\# }"; done < $OUT
	point fail "mdev_rs_sample loads on $(core_desc)"
else
	run_sample
	unload_module mdev_rs_sample
fi
unload_all

results_print
ktap_finished
