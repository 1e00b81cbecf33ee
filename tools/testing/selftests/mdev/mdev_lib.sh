# SPDX-License-Identifier: GPL-2.0
#
# Shared helpers of the mdev kselftests (sourced, busybox sh compatible).

. ../kselftest/ktap_helpers.sh

MDEV_CORE=${MDEV_CORE:-rust}
KMODDIR=/lib/modules/$(uname -r)
MDEV_BUS=/sys/bus/mdev/devices
MDEV_CLASS=/sys/class/mdev_bus
PASSED_POINTS=0

# Mark each test's start in the kernel log, whose timestamps then tell how
# long each test took (Documentation/testing.rst, "Where the time goes").
echo "mdev-selftest: $(basename "$0") starts" > /dev/kmsg 2>/dev/null || true

# How messages name the core under test.
core_desc() {
	echo "the $MDEV_CORE mdev core"
}

# Both cores are modules named mdev: the C core ships in the kernel's tree
# (kernel/drivers/vfio/mdev/), this project installs the Rust core under
# updates/, where depmod and modprobe prefer it.  The tests load the core
# under test by path, so either can be chosen whatever depmod prefers.
# core_path: its module file (.ko, or compressed as the kernel's
# configuration asks).
core_path() {
	if [ "$MDEV_CORE" = c ]; then dir=$KMODDIR/kernel/drivers/vfio/mdev; else dir=$KMODDIR/updates; fi
	ls "$dir"/mdev.ko* 2>/dev/null | sed -n 1p
}

# The loaded mdev module is the core under test: the Rust core is built out
# of tree, so the kernel marks it with the O taint; the C core is in-tree.
core_is_under_test() {
	is_loaded mdev || return 1
	if [ "$MDEV_CORE" = c ]; then
		! grep -q O /sys/module/mdev/taint
	else
		grep -q O /sys/module/mdev/taint
	fi
}

# Path of a vendor module file by name, wherever depmod placed it.
module_path() {
	find "$KMODDIR" -name "$1.ko" -o -name "$1.ko.*" | sed -n 1p
}

is_loaded() {
	grep -q "^$1 " /proc/modules
}

# Load the VFIO stack and the mdev core under test.  A kernel with
# iommufd's compatibility container (CONFIG_IOMMUFD_VFIO_CONTAINER, the
# KCSAN kernel) has no vfio_iommu_type1: iommufd serves /dev/vfio/vfio.
load_core() {
	modprobe vfio || return 1
	if [ -n "$(module_path vfio_iommu_type1)" ]; then
		modprobe vfio_iommu_type1 || return 1
	fi
	is_loaded mdev && { core_is_under_test; return; }
	path=$(core_path)
	[ -n "$path" ] || { echo "# no mdev.ko of the $MDEV_CORE core under $KMODDIR"; return 1; }
	insmod "$path"
}

# Load a vendor driver module on top of the core under test.  insmod, not
# modprobe, so that a vendor never pulls in a core by itself: the core under
# test is always loaded first, by path.
load_vendor() {
	name=$1
	shift
	load_core || return 1
	is_loaded "$name" && return 0
	insmod "$(module_path "$name")" "$@" 2>&1 | sed 's/^/# /'
	is_loaded "$name"
}

unload_module() {
	is_loaded "$1" || return 0
	rmmod "$1"
}

# Unload every vendor driver (the C samples, the Rust sample) and both cores;
# used as cleanup.  With delayed kobject releases (the stress kernel), a C
# sample that is loaded stays: mtty, mdpy and mbochs register a static class
# and parent device, whose releases would read their memory after rmmod; so
# do vfio and vfio_iommu_type1, for vfio's class.  On the C core every
# vendor stays there too: the C core's type release reads the vendor's
# struct mdev_type after mdev_unregister_parent() has returned and the
# vendor has freed it (Documentation/testing.rst).
unload_all() {
	for m in mdev_test_vendor mtty mdpy mbochs mdev_rs_sample mtty_rs mdpy_rs mdev vfio_iommu_type1 vfio; do
		case $m in
		mtty|mdpy|mbochs) kobject_release_delayed && is_loaded $m && return 0 ;;
		# vfio's own static class is read by its delayed release after
		# rmmod (KASAN in class_release, upstream): vfio stays loaded there.
		vfio_iommu_type1|vfio) kobject_release_delayed && continue ;;
		mdev) ;;
		*) [ "$MDEV_CORE" = c ] && kobject_release_delayed && is_loaded "$m" && return 0 ;;
		esac
		unload_module "$m" 2>/dev/null
	done
	return 0
}

# --- IOMMU modes of the VFIO clients (vfio_dev.h) -------------------------
#
# MDEV_VFIO_MODES lists the modes in which the tests that run VFIO clients
# run them (commas or spaces between; default type1v2): type1v2 and type1v1
# (the group in the container /dev/vfio/vfio, VFIO's type1 or iommufd's
# compatibility container), cdev (the device cdev bound to iommufd).  Each
# client gets one as MDEV_VFIO_MODE.

# vfio_modes: the modes to run, one a line.
vfio_modes() {
	echo "${MDEV_VFIO_MODES:-type1v2}" | tr ', ' '\n\n' | grep -v '^$'
}

# vfio_mode_lacking MODE: why this kernel cannot run MODE; nothing if it
# can.  Call it with vfio loaded (load_core).
vfio_mode_lacking() {
	case $1 in
	type1v1|type1v2)
		[ -c /dev/vfio/vfio ] || echo "no VFIO container (/dev/vfio/vfio)" ;;
	cdev)
		if [ ! -c /dev/iommu ]; then
			echo "no iommufd (/dev/iommu: CONFIG_IOMMUFD)"
		elif ! grep -q ' vfio-dev$' /proc/devices; then
			echo "no VFIO device cdev (CONFIG_VFIO_DEVICE_CDEV)"
		fi ;;
	*) echo "unknown mode" ;;
	esac
}

# vfio_container_kind: whose container /dev/vfio/vfio is: "type1" (VFIO's,
# with vfio_iommu_type1) or "iommufd" (the compatibility container).
vfio_container_kind() {
	if [ -n "$(module_path vfio_iommu_type1)" ] || [ -d /sys/module/vfio_iommu_type1 ]; then
		echo type1
	else
		echo iommufd
	fi
}

# vfio_mode_name MODE: how points name MODE: the mode, and "-compat" for a
# type1 mode through iommufd's compatibility container.
vfio_mode_name() {
	case $1 in
	type1*) [ "$(vfio_container_kind)" = iommufd ] && { echo "$1-compat"; return; } ;;
	esac
	echo "$1"
}

# vfio_modes_here: the modes of vfio_modes that this kernel has, on one
# line; a skipped point for each mode it lacks (a ksft skip that says why),
# a failed one for a name that is no mode.  Uses point (below): call it
# with $RESULTS set, after load_core.
vfio_modes_here() {
	for mode in $(vfio_modes); do
		why=$(vfio_mode_lacking "$mode")
		case $why in
		"") printf '%s ' "$mode" ;;
		"unknown mode") point fail "MDEV_VFIO_MODES: $mode is a mode (type1v2, type1v1, cdev)" ;;
		*) point skip "$mode: the clients' IOMMU mode $mode ($why)" ;;
		esac
	done
	echo
}

# Write STRING to FILE in one write(2); prints OK or the errno name.
mdev_write() {
	./mdev_write "$@"
}

# ktap_check DESCRIPTION EXPECTED ACTUAL: one test point comparing strings.
ktap_check() {
	if [ "$2" = "$3" ]; then
		ktap_test_pass "$1"
	else
		ktap_print_msg "$1: expected '$2', got '$3'"
		ktap_test_fail "$1"
	fi
}

# ktap_assert DESCRIPTION COMMAND...: one test point from a command's status.
ktap_assert() {
	desc=$1
	shift
	if "$@"; then
		ktap_test_pass "$desc"
	else
		ktap_print_msg "$desc: '$*' failed"
		ktap_test_fail "$desc"
	fi
}

# vfio_client_modes VENDOR TYPE PCI_ID BAR0_SIZE [CLIENT ARGS...]: load
# VENDOR on the core under test and, in each IOMMU mode of MDEV_VFIO_MODES
# that the kernel has, create a device of its parent's TYPE and run
# vfio_client on it; its points become the calling test's, named
# "<mode>: vfio_client: <test>", printed at the end.  A device the client
# left (its request fixture removes it) is removed.
vfio_client_modes() {
	vendor=$1 type=$2
	export MDEV_PCI_ID=$3 MDEV_BAR0_SIZE=$4
	shift 4
	RESULTS=/tmp/vfio_client.results OUT=/tmp/vfio_client.out
	: > $RESULTS
	unload_all
	if ! load_vendor "$vendor" >/dev/null; then
		ktap_print_header
		ktap_exit_fail_msg "cannot load $vendor on $(core_desc)"
	fi
	dir=$(readlink -f "$MDEV_CLASS/$vendor")/mdev_supported_types/$type
	for mode in $(vfio_modes_here); do
		mn=$(vfio_mode_name "$mode")
		uuid=$(new_device "$dir" "$mn: $type") || continue
		run_harness "$mn: vfio_client" env MDEV_VFIO_MODE="$mode" MDEV_UUID="$uuid" \
			./vfio_client "$@"
		[ ! -e "$MDEV_BUS/$uuid" ] || [ "$(remove "$uuid")" = OK ] ||
			point fail "$mn: the $type device is removed after vfio_client"
	done
	unload_all
	results_print
	ktap_finished
}

# uevents_start / uevents_stop: log every uevent to /run/uevents.log (see
# uevent-log.sh) in between.  Through the kernel's uevent helper where it
# has one (the test kernel), else busybox's netlink listener (a distribution
# kernel has CONFIG_UEVENT_HELPER off).  Only the tests that read uevents
# turn this on: a helper process per uevent would slow every other test.
uevents_start() {
	: > /run/uevents.log
	if [ -w /proc/sys/kernel/hotplug ]; then
		echo /usr/bin/uevent-log > /proc/sys/kernel/hotplug
	else
		# Started from a subshell so that it is no child of the test,
		# whose bare `wait`s would wait for it, and with no stdio of the
		# test, whose runner waits for the output's end.
		(uevent /usr/bin/uevent-log </dev/null >/dev/null 2>&1 &
		 echo $! > /run/uevent-listener.pid)
		sleep 1
	fi
}
uevents_stop() {
	if [ -w /proc/sys/kernel/hotplug ]; then
		echo > /proc/sys/kernel/hotplug
	elif [ -r /run/uevent-listener.pid ]; then
		kill "$(cat /run/uevent-listener.pid)"
		rm -f /run/uevent-listener.pid
	fi
}

# A fresh random UUID in the canonical lower-case form.
new_uuid() {
	cat /proc/sys/kernel/random/uuid
}

# --- The test vendor (test_vendor/mdev_test_vendor.c) ---------------------

TV=mdev_test_vendor
TV_PARAMS=/sys/module/$TV/parameters

# tv_load [param=value...]: (re)load the test vendor on the core under test.
tv_load() {
	unload_module $TV
	load_vendor $TV "$@"
}

# tv_param NAME [VALUE]: read or set a run-time knob of the test vendor.
tv_param() {
	if [ $# -eq 2 ]; then echo "$2" > "$TV_PARAMS/$1"; else cat "$TV_PARAMS/$1"; fi
}

# tv_type PARENT TYPE: the type directory of test parent 0 or 1, type a or b.
tv_type() {
	echo "/sys/class/mdev_bus/mdev_test$1/mdev_supported_types/mdev_test-$2"
}

# The kernel log line the test vendor prints when it unloads.
tv_exit_line() {
	dmesg | grep 'mdev_test_vendor: exit:' | tail -n1 | sed 's/.*exit: //'
}

# create TYPE_DIR UUID: create a device, print OK or the errno name.
create() {
	mdev_write -n "$1/create" "$2"
}

# remove UUID: remove a device, print OK or the errno name.
remove() {
	mdev_write "$MDEV_BUS/$1/remove" 1
}

# Number of mediated devices on the bus.
nr_devices() {
	ls "$MDEV_BUS" 2>/dev/null | wc -l
}

# wait_for SECONDS COMMAND...: poll until COMMAND succeeds (0.1 s steps).
wait_for() {
	tries=$(($1 * 10))
	shift
	while ! "$@"; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || return 1
		sleep 0.1
	done
}

# The kernel delays every kobject release (CONFIG_DEBUG_KOBJECT_RELEASE, the
# stress kernel): its delayed-cleanup function is there.  Reading
# /proc/kallsyms takes seconds under TCG, so the answer is kept in the
# environment (the guest's /init finds it once for all tests).
kobject_release_delayed() {
	if [ -z "${MDEV_KOBJECT_RELEASE_DELAYED:-}" ]; then
		MDEV_KOBJECT_RELEASE_DELAYED=no
		grep -q ' kobject_delayed_cleanup$' /proc/kallsyms && MDEV_KOBJECT_RELEASE_DELAYED=yes
		export MDEV_KOBJECT_RELEASE_DELAYED
	fi
	[ "$MDEV_KOBJECT_RELEASE_DELAYED" = yes ]
}

# Number of kernel log lines that report a splat (see splat_check.sh).
nr_warnings() {
	dmesg | grep -cE 'WARNING:|BUG:|Oops'
}

# ktap_improvement DESCRIPTION: a point that checks a documented improvement
# of the Rust core over the C core.  Reads "$@" after the description as the
# check; on the C core the point is skipped, and says so.
ktap_improvement() {
	desc=$1
	shift
	if [ "$MDEV_CORE" = c ]; then
		ktap_test_skip "$desc [improvement over the C core, not checked there]"
	else
		ktap_assert "$desc [improvement over the C core]" "$@"
	fi
}

# ops_running_is N: exactly N test-vendor ops are waiting in hold_ops.
ops_running_is() {
	test "$(tv_param ops_running)" = "$1"
}

# --- Points printed at the end (vfio_mtty.sh, vfio_mdpy.sh) ---------------
#
# A test that runs client programs collects its points in the file
# $RESULTS, one a line (pass, fail or skip, or msg for a diagnostic, then a
# TAB and the text), and prints them all as KTAP with results_print once
# their number is known.  $OUT is a scratch file.

TAB=$(printf '\t')

# point pass|fail|skip DESCRIPTION: a test point, printed at the end.
point() {
	printf '%s\t%s\n' "$1" "$2" >> "$RESULTS"
}

# note TEXT: a diagnostic line, printed at the end in its place.
note() {
	printf 'msg\t%s\n' "$1" >> "$RESULTS"
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
	"$@" > "$OUT" 2>&1
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
	}' "$OUT" >> "$RESULTS"
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

# compare_traces ALLOWED C_TRACE RUST_TRACE DESCRIPTION: one point, that a
# C sample's transcript equals its Rust port's once the differences listed
# in ALLOWED are applied (the format is in mtty_trace.allowed's header);
# else the diff is printed.
compare_traces() {
	awk -F"$TAB" 'FNR == NR {
		if ($0 ~ /^#/ || $0 == "" || $1 == "") next
		map[$1] = $2
		next
	}
	$0 in map { if (map[$0] != "") print map[$0]; next }
	{ print }' "$1" "$2" > "$OUT.c"
	awk -F"$TAB" 'FNR == NR {
		if ($0 ~ /^#/ || $0 == "") next
		if ($1 == "") extra[$2] = 1
		next
	}
	!($0 in extra) { print }' "$1" "$3" > "$OUT.rust"
	if diff -u "$OUT.c" "$OUT.rust" > "$OUT"; then
		point pass "$4"
	else
		note "$2 (C, allowed differences applied) against $3:"
		while IFS= read -r line; do note "  $line"; done < "$OUT"
		point fail "$4"
	fi
	rm -f "$OUT.c" "$OUT.rust"
}

# results_print: the KTAP header and plan, then every point and diagnostic
# of $RESULTS in its order; removes $RESULTS and $OUT.
results_print() {
	ktap_print_header
	ktap_set_plan "$(grep -vc '^msg' "$RESULTS")"
	while IFS="$TAB" read -r kind text; do
		case $kind in
		pass) ktap_test_pass "$text" ;;
		fail) ktap_test_fail "$text" ;;
		skip) ktap_test_skip "$text" ;;
		*) printf '# %s\n' "$text" ;;
		esac
	done < "$RESULTS"
	rm -f "$RESULTS" "$OUT"
}
