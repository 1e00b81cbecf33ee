#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The in-tree C mtty sample through VFIO on the core under test, with both
# of its types (mtty-1: one port on BAR0, mtty-2: two ports on BAR0 and
# BAR1): mtty_client's transcript (--trace) of a fresh device, saved as
# /tmp/mtty-trace.<type>; then, on another device, vfio_client's generic
# fixture vfio_mdev and mtty_client, which checks mtty's device in detail
# (see mtty_client.c).  The two types run at the same time.
#
# Then, if it was built, the same for mtty_rs, the Rust port of mtty (types
# mtty_rs-1 and mtty_rs-2), whose transcripts must equal the C mtty's but
# for the differences listed in mtty_trace.allowed; any other difference
# fails, and the diff is printed.
#
# The two client programs print KTAP of their own.  Their results are kept
# as this test's points, named "<type>: <program>: <test>", with their
# diagnostics (as kunit.sh does with the KUnit suites), plus one point per
# run: it ran every test it planned.  All points are printed at the end,
# once their number is known.

. ./mdev_lib.sh

MTTY_ID=0x32534348	# device 3253, vendor 4348
ALLOWED=./mtty_trace.allowed
RESULTS=/tmp/vfio_mtty.results
OUT=/tmp/vfio_mtty.out
TAB=$(printf '\t')
: > $RESULTS

# point pass|fail|skip DESCRIPTION: a test point, printed at the end.
point() {
	printf '%s\t%s\n' "$1" "$2" >> $RESULTS
}

# note TEXT: a diagnostic line, printed at the end in its place.
note() {
	printf 'msg\t%s\n' "$1" >> $RESULTS
}

# check DESCRIPTION EXPECTED ACTUAL: one point comparing strings.
check() {
	if [ "$2" = "$3" ]; then
		point pass "$1"
	else
		note "$1: expected '$2', got '$3'"
		point fail "$1"
	fi
}

# run_harness PREFIX PROGRAM [ARGS...]: run a kselftest harness program;
# each of its results becomes a point "PREFIX: TEST", its diagnostics ours
# (less the harness's own RUN/OK lines), and one more point says whether it
# reported as many results as it planned (a crash or a bail-out does not).
# One awk for the whole output: a process per line is slow under TCG.
run_harness() {
	prefix=$1
	shift
	"$@" > $OUT 2>&1
	awk -v prefix="$prefix" -v rc=$? '
	function point(kind, text) { printf "%s\t%s: %s\n", kind, prefix, text }
	{ last[NR % 5] = $0 }
	/^1\.\.[0-9]+/ && plan == "" { plan = substr($0, 4) + 0; next }
	/^(not )?ok [0-9]+ / {
		ran++
		kind = /^not ok/ ? "fail" : /# [Ss][Kk][Ii][Pp]/ ? "skip" : "pass"
		name = $0
		sub(/^(not )?ok [0-9]+ /, "", name)
		if (kind == "skip") {
			reason = name
			sub(/.*# *[Ss][Kk][Ii][Pp] */, "", reason)
			if (reason != "")
				reason = " (" reason ")"
		}
		sub(/ *# *[Ss][Kk][Ii][Pp].*/, "", name)
		if (kind == "skip")
			name = name reason
		point(kind, name)
		next
	}
	/^#  RUN |^# +OK  |^# Starting |^# PASSED:|^# Totals:/ { next }
	/^#/ { text = $0; sub(/^# ?/, "", text); printf "msg\t%s\n", text }
	END {
		if (plan != "" && ran == plan) {
			point("pass", "reported all " plan " planned tests (exit status " rc ")")
			exit
		}
		printf "msg\t%s: planned %s tests, reported %d, exit status %s; its last lines:\n",
			prefix, plan == "" ? "no" : plan, ran, rc
		for (i = NR - 4; i <= NR; i++)
			if (i > 0)
				printf "msg\t  %s\n", last[i % 5]
		point("fail", "reported all its planned tests")
	}' $OUT >> $RESULTS
}

# new_device DIR TYPE: create a device of the type in DIR; prints its UUID,
# or fails with a failed point.
new_device() {
	u=$(new_uuid)
	result=$(create "$1" "$u")
	if [ "$result" != OK ]; then
		note "creating a $2 device in $1: $result"
		point fail "$2: a device is created"
		return 1
	fi
	echo "$u"
}

# run_type VENDOR TYPE [ENV...]: save the transcript of mtty_client --trace
# on a fresh device of VENDOR's TYPE (mtty answers some ioctls differently
# before the first GET_INFO, and some writes of the trace stay for the
# device's lifetime), then run vfio_client's generic fixture and mtty_client
# on another.  ENV (NAME=VALUE) goes to the clients' environment.
run_type() {
	vendor=$1 type=$2
	shift 2
	ports=${type##*-}
	dir=$(readlink -f "$MDEV_CLASS/$vendor")/mdev_supported_types/$type
	trace=/tmp/mtty-trace.$type

	uuid=$(new_device "$dir" "$type") || return 1
	env MDEV_UUID="$uuid" MDEV_MTTY_PORTS="$ports" "$@" ./mtty_client --trace > "$trace" 2> $OUT
	rc=$?
	while IFS= read -r line; do note "mtty_client --trace: $line"; done < $OUT
	check "$type: mtty_client --trace ran to its end (exit status, last line)" "0 end of trace" \
		"$rc $(tail -n1 "$trace")"
	result=$(remove "$uuid")
	[ "$result" = OK ] || note "removing the $type device: $result"

	uuid=$(new_device "$dir" "$type") || return 1
	run_harness "$type: vfio_client" env MDEV_UUID="$uuid" MDEV_PCI_ID=$MTTY_ID \
		MDEV_BAR0_SIZE=8 "$@" ./vfio_client -f vfio_mdev
	run_harness "$type: mtty_client" env MDEV_UUID="$uuid" MDEV_MTTY_PORTS="$ports" "$@" \
		./mtty_client
	result=$(remove "$uuid")
	[ "$result" = OK ] || note "removing the $type device: $result"
}

# run_types VENDOR TYPE... [-- ENV...]: run_type for every TYPE at once,
# each with its own files, then their points in the order of the types.
# Their devices are independent, and under TCG this halves the time that
# the clients spend waiting for interrupts that must not come.
run_types() {
	vendor=$1
	shift
	types=""
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		types="$types $1"
		shift
	done
	[ "${1:-}" = -- ] && shift
	for t in $types; do
		(RESULTS=$RESULTS.$t OUT=$OUT.$t; : > "$RESULTS"; run_type "$vendor" "$t" "$@") &
	done
	wait
	for t in $types; do
		cat "$RESULTS.$t" >> $RESULTS
		rm -f "$RESULTS.$t" "$OUT.$t"
	done
}

# compare_traces C_TRACE RUST_TRACE DESCRIPTION: the transcripts are equal
# after mtty_trace.allowed is applied (see its header); else the diff is
# printed.
compare_traces() {
	awk -F"$TAB" 'FNR == NR {
		if ($0 ~ /^#/ || $0 == "" || $1 == "") next
		map[$1] = $2
		next
	}
	$0 in map { if (map[$0] != "") print map[$0]; next }
	{ print }' $ALLOWED "$1" > /tmp/vfio_mtty.c
	awk -F"$TAB" 'FNR == NR {
		if ($0 ~ /^#/ || $0 == "") next
		if ($1 == "") extra[$2] = 1
		next
	}
	!($0 in extra) { print }' $ALLOWED "$2" > /tmp/vfio_mtty.rust
	if diff -u /tmp/vfio_mtty.c /tmp/vfio_mtty.rust > $OUT; then
		point pass "$3"
	else
		note "$1 (C, allowed differences applied) against $2:"
		while IFS= read -r line; do note "  $line"; done < $OUT
		point fail "$3"
	fi
}

unload_all
load_vendor mtty >/dev/null || { ktap_print_header; ktap_exit_fail_msg "cannot load mtty on $(core_desc)"; }
rm -f /tmp/mtty-trace.*
run_types mtty mtty-1 mtty-2

if [ -z "$(module_path mtty_rs)" ]; then
	point skip "mtty_rs is not built"
elif ! load_vendor mtty_rs > $OUT; then
	while IFS= read -r line; do note "${line#\# }"; done < $OUT
	point fail "mtty_rs loads on $(core_desc)"
else
	# The port is held to what mtty should do: every access outside a
	# region fails (see mtty_client.c, past_region_end).
	run_types mtty_rs mtty_rs-1 mtty_rs-2 -- MDEV_MTTY_STRICT_BOUNDS=1
	for n in 1 2; do
		[ -e /tmp/mtty-trace.mtty_rs-$n ] &&
			compare_traces /tmp/mtty-trace.mtty-$n /tmp/mtty-trace.mtty_rs-$n \
				"mtty_rs-$n: the transcript equals mtty-$n's, but for the allowed differences"
	done
	unload_module mtty_rs
fi
unload_all

ktap_print_header
ktap_set_plan "$(grep -vc '^msg' $RESULTS)"
while IFS="$TAB" read -r kind text; do
	case $kind in
	pass) ktap_test_pass "$text" ;;
	fail) ktap_test_fail "$text" ;;
	skip) ktap_test_skip "$text" ;;
	*) printf '# %s\n' "$text" ;;
	esac
done < $RESULTS
rm -f $RESULTS $OUT /tmp/vfio_mtty.c /tmp/vfio_mtty.rust
ktap_finished
