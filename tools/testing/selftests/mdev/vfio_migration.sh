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
# listed in mig_trace.allowed.  The points are printed at the end.
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
# to its end.  The device is removed after, unless the client did.
client() {
	vendor=$1 type=$2 name=$3
	shift 3
	n=${type##*-}
	dir=$(readlink -f "$MDEV_CLASS/$vendor")/mdev_supported_types/$type
	uuid=$(new_device "$dir" "$type") || return 1
	out=$T/$name.$vendor-$n
	MDEV_UUID=$uuid MDEV_MTTY_PORTS=$n MDEV_MODULE=$vendor ./mig_client "$@" > "$out" 2> $OUT
	rc=$?
	while IFS= read -r line; do note "mig_client $*: $line"; done < $OUT
	check "$type: mig_client $* ran to its end" "0 end" "$rc $(tail -n1 "$out")"
	[ -e "$MDEV_BUS/$uuid" ] || return 0
	result=$(remove "$uuid")
	[ "$result" = OK ] || note "removing the $type device: $result"
}

# state FILE: the guest-visible state a transcript dumped.
state() {
	sed -n '/^== state$/,/^== end state$/p' "$1"
}

# same_state DESCRIPTION EXPECTED_FILE ACTUAL_FILE: one point, that the two
# transcripts dumped the same state (else the diff is printed).
same_state() {
	state "$2" > $OUT.a
	state "$3" > $OUT.b
	if [ -s $OUT.a ] && diff -u $OUT.a $OUT.b > $OUT; then
		point pass "$1"
	else
		note "$1: $2 against $3:"
		while IFS= read -r line; do note "  $line"; done < $OUT
		point fail "$1"
	fi
	rm -f $OUT.a $OUT.b
}

# has FILE LINE DESCRIPTION: one point, that the transcript has LINE.
has() {
	if grep -qxF "$2" "$1"; then
		point pass "$3"
	else
		note "$3: no line '$2' in $1"
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
unload_all

results_print
ktap_finished
