#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A parent registration that fails half-way, while creates race it.  The
# test vendor registers one parent whose second type cannot be added: its
# sysfs name repeats the first type's (dup_type_name), or an allocation in
# it fails (reg_fail_nth, failslab).  It is loaded again and again while
# mdev_race_create writes fresh UUIDs to the first type's create file as
# fast as it can.  Every load must fail with the registration's error and
# return, and no create may succeed on a parent whose registration failed.
#
# The C core lets creates in while the types are being added: a create on
# the first type succeeds, the failed registration then tears the type
# down under the device, and the device stays on a parent that is gone
# (Documentation/mdev-core.rst, "A failed registration never had
# devices").  That wrecks the guest, so on the C core the races are not run
# unless MDEV_REG_RACE_ON_C=1 (a kernel argument through MDEV_KERNEL_ARGS).

. ./mdev_lib.sh

ktap_print_header
ktap_set_plan 12
ROUNDS=${MDEV_REG_RACE_ROUNDS:-3}
DEV=/sys/devices/virtual/mdev_test/mdev_test0
CREATE=$DEV/mdev_supported_types/mdev_test-a/create
F=/sys/kernel/debug/failslab
HUNG=/proc/sys/kernel/hung_task_timeout_secs
OUT=/tmp/reg_race
unload_all
load_core || ktap_exit_fail_msg "cannot load $(core_desc)"
TV_PATH=$(module_path $TV)

race=yes
if [ "$MDEV_CORE" = c ] && [ "${MDEV_REG_RACE_ON_C:-0}" != 1 ]; then
	race=no
fi
C_DEFECT="[C-core defect: a create racing a failed registration leaves a device on a parent that is gone; not run there]"

# A load that hangs is reported by the hung-task detector within the test.
hung_saved=
if [ -w "$HUNG" ]; then
	hung_saved=$(cat "$HUNG")
	echo 10 > "$HUNG"
fi
restore() {
	[ -z "$hung_saved" ] || echo "$hung_saved" > "$HUNG"
	if [ -d $F ]; then
		echo 0 > $F/require-start
		echo 0 > $F/require-end
		echo 0 > $F/reject-start
		echo 0 > $F/reject-end
		echo Y > $F/ignore-gfp-wait
	fi
}

# try_load PARAM...: insmod the test vendor with one parent; returns 0 if it
# loaded, 1 if the load failed, and gives up the whole test if insmod did
# not return within 20 seconds.  $OUT.errors gets the errno of each failed
# registration, from the vendor's log line (the module loader turns an
# init's EEXIST into EBUSY, and busybox's insmod tries twice).
try_load() {
	rm -f $OUT.rc
	loads=$((loads + 1))
	echo "reg_race: load $loads" > /dev/kmsg
	# Without the test's output: the kselftest runner waits for its end,
	# which a hung insmod would keep open.
	(insmod "$TV_PATH" nr_parents=1 "$@"; echo $? > $OUT.rc) \
		</dev/null > $OUT.insmod 2>&1 &
	if ! wait_for 20 test -e $OUT.rc; then
		ktap_print_msg "insmod $TV $* did not return within 20 s; its stack:"
		for p in $(pidof insmod); do
			sed 's/^/  /' /proc/$p/stack 2>/dev/null | while IFS= read -r l; do ktap_print_msg "$l"; done
		done
		# Let the hung-task detector report it (10 s, checked every 10 s).
		wait_for 30 sh -c "dmesg | grep -q 'INFO: task .* blocked'"
		dmesg | grep -A3 'INFO: task .* blocked' | head -n 8 | while IFS= read -r l; do ktap_print_msg "$l"; done
		restore
		ktap_test_fail "every load returns"
		ktap_exit_fail_msg "insmod hangs on $(core_desc)"
	fi
	# One pipeline: a process costs a tenth of a second under TCG.
	dmesg | awk -v mark="reg_race: load $loads" '
		index($0, mark) && substr($0, length($0) - length(mark) + 1) == mark { found = 1; next }
		found && /mdev_test_vendor: registration failed: / { e[$NF] = 1 }
		END { for (x in e) printf "%s ", x }' > $OUT.errors
	read -r rc < $OUT.rc
	[ "$rc" = 0 ]
}
loads=0

# errors_are ERRNO: every registration of the last try_load failed with -ERRNO.
errors_are() {
	read -r errors < $OUT.errors
	[ "$errors" = "-$1" ]
}

# no_devices: the bus has no device (without a process: see try_load).  A
# device left on a parent that is gone is a dangling link there.
no_devices() {
	set -- "$MDEV_BUS"/*
	[ ! -e "$1" ] && [ ! -L "$1" ]
}

# race_rounds ERRNO PARAM...: $ROUNDS loads failing with ERRNO, with a writer
# on the first type's create file; sets $bad (what went wrong, by round),
# $created (how many creates succeeded) and $unexpected (the writer's other
# results but ENODEV and ENOENT).  The probe does not log (quiet): the
# console would slow the creates down.
race_rounds() {
	want=$1
	shift
	./mdev_race_create "$CREATE" 300 </dev/null > $OUT.writer 2>&1 &
	writer=$!
	bad="" round=1
	while [ $round -le "$ROUNDS" ]; do
		if try_load "$@"; then
			bad="$bad $round:loaded"
			unload_module $TV
		elif ! errors_are "$want"; then
			bad="$bad $round:$errors"
		fi
		no_devices || bad="$bad $round:device-left"
		[ -d /sys/module/$TV ] && bad="$bad $round:still-loaded"
		round=$((round + 1))
	done
	kill -TERM $writer
	wait_for 10 grep -q '^writes' $OUT.writer || ktap_print_msg "the writer did not stop"
	ktap_print_msg "writer: $(grep '^writes' $OUT.writer)"
	created=$(grep -c '^created' $OUT.writer)
	# The results other than ENODEV (the parent is closed) and ENOENT (the
	# type has gone since the open).
	unexpected=$(sed -n 's/^writes [0-9]*:\([^;]*\);.*/\1/p' $OUT.writer | tr ',' '\n' |
		grep -vE '^ *$|^ *(ENODEV|ENOENT) ' | sed 's/^ *//' | tr '\n' ' ')
	[ "$created" = 0 ] || ktap_print_msg "created: $(grep '^created' $OUT.writer | head -n 3 | tr '\n' ' ')"
	# A device left behind: try to clean up, so the next steps can run.
	for u in $(ls "$MDEV_BUS" 2>/dev/null); do
		ktap_print_msg "left behind: $u ($(readlink "$MDEV_BUS/$u"))"
	done
}

# --- A type name used twice ---
dups=$(dmesg | grep -c 'cannot create duplicate filename')
if try_load dup_type_name=1; then
	unload_module $TV
	ktap_test_fail "a type name used twice fails the registration with EEXIST"
else
	ktap_assert "a type name used twice fails the registration with EEXIST" errors_are 17
fi
ktap_improvement "it is refused before sysfs is touched, with a log line naming it" \
	sh -c "[ \$(dmesg | grep -c 'cannot create duplicate filename') = $dups ] &&
		dmesg | grep -q 'types 0 and 1 share the sysfs name \"a\"'"

if [ $race = yes ]; then
	race_rounds 17 quiet=1 dup_type_name=1
	ktap_check "$ROUNDS loads with a duplicate type name, raced by creates, fail with EEXIST" "" "$bad"
	ktap_check "no create succeeds on a parent whose registration failed" 0 "$created"
	ktap_check "each create that reached it answers ENODEV (or ENOENT once the type is gone)" "" "$unexpected"
else
	ktap_test_skip "$ROUNDS loads with a duplicate type name, raced by creates, fail with EEXIST $C_DEFECT"
	ktap_test_skip "no create succeeds on a parent whose registration failed $C_DEFECT"
	ktap_test_skip "each create that reached it answers ENODEV (or ENOENT once the type is gone) $C_DEFECT"
fi

# --- An allocation failing in the second type ---
if [ ! -d $F ] || [ ! -w /proc/self/fail-nth ]; then
	for t in "the registration passes failslab points in both types' files" \
		"a failure injected in the second type fails the registration with ENOMEM" \
		"$ROUNDS loads failing in the second type, raced by creates, fail with ENOMEM" \
		"no create succeeds on a parent whose registration failed there" \
		"each create that reached it there answers ENODEV (or ENOENT)"; do
		ktap_test_skip "$t [no fault injection: CONFIG_FAILSLAB, CONFIG_FAULT_INJECTION_DEBUG_FS]"
	done
else
	# Only the allocations made under sysfs_create_groups(), which adds a
	# type's files, count: the same points on both cores, as many for each
	# type.  sysfs_create_groups() itself jumps to its helpers, whose frames
	# are the ones on the stack: the range spans those of them that the
	# compiler kept, up to the next symbol.  The IDR of kernfs's inode
	# numbers is left out (idr_preload() to idr_get_free(), which hold
	# lib/radix-tree.c between them): it allocates a node only when its
	# per-CPU reserve runs low or its tree grows, so its points come and go
	# between two loads.  The kernel's symbols are listed in address order,
	# and awk stops once it has them all (reading all of /proc/kallsyms
	# takes seconds under TCG).
	set -- $(awk 'function range(names,   n, i, start, last, end) {
			n = split(names, name)
			for (i = 1; i <= n; i++) {
				if (!(name[i] in nx)) continue
				if (start == "" || at[name[i]] < start) start = at[name[i]]
				if (last == "" || at[name[i]] > last) { last = at[name[i]]; end = nx[name[i]] }
			}
			return end == "" ? "" : "0x" start " 0x" end
		}
		BEGIN {
			req = "internal_create_group internal_create_groups sysfs_create_groups"
			rej = "idr_preload idr_get_free"
			n = split(req " " rej, all)
			for (i = 1; i <= n; i++) need[all[i]]
		}
		pend != "" && $1 > at[pend] { nx[pend] = $1; pend = ""; found++ }
		($3 in need) && !($3 in at) { at[$3] = $1; pend = $3 }
		found == n { exit }
		END {
			r = range(req)
			if (r == "") exit
			j = range(rej)
			print r, (j == "" ? "0 0" : j)
		}' /proc/kallsyms)
	[ $# = 4 ] || ktap_exit_fail_msg "sysfs_create_groups is not in /proc/kallsyms"
	echo "$1" > $F/require-start
	echo "$2" > $F/require-end
	echo "$3" > $F/reject-start
	echo "$4" > $F/reject-end
	echo N > $F/ignore-gfp-wait
	echo 0 > $F/verbose
	points=0
	if try_load reg_fail_nth=100000; then
		points=$((100000 - $(tv_param reg_fail_left)))
		unload_module $TV
	fi
	ktap_print_msg "the registration passes $points failslab points under sysfs_create_groups"
	ktap_assert "the registration passes failslab points in both types' files" test "$points" -ge 4
	# The last point but one is in the second type's files.
	nth=$((points - 1))
	if [ "$points" -lt 4 ]; then
		ktap_test_fail "a failure injected in the second type fails the registration with ENOMEM"
	elif try_load reg_fail_nth=$nth; then
		unload_module $TV
		ktap_test_fail "a failure injected in the second type fails the registration with ENOMEM"
	else
		ktap_assert "a failure injected in the second type fails the registration with ENOMEM" \
			errors_are 12
	fi
	if [ $race = yes ] && [ "$points" -lt 4 ]; then
		ktap_test_fail "$ROUNDS loads failing in the second type, raced by creates, fail with ENOMEM"
		ktap_test_fail "no create succeeds on a parent whose registration failed there"
		ktap_test_fail "each create that reached it there answers ENODEV (or ENOENT)"
	elif [ $race = yes ]; then
		race_rounds 12 quiet=1 reg_fail_nth=$nth
		ktap_check "$ROUNDS loads failing in the second type, raced by creates, fail with ENOMEM" "" "$bad"
		ktap_check "no create succeeds on a parent whose registration failed there" 0 "$created"
		ktap_check "each create that reached it there answers ENODEV (or ENOENT)" "" "$unexpected"
	else
		ktap_test_skip "$ROUNDS loads failing in the second type, raced by creates, fail with ENOMEM $C_DEFECT"
		ktap_test_skip "no create succeeds on a parent whose registration failed there $C_DEFECT"
		ktap_test_skip "each create that reached it there answers ENODEV (or ENOENT) $C_DEFECT"
	fi
fi
restore

# --- Afterwards ---
ktap_assert "the test vendor loads normally afterwards" tv_load
U=$(new_uuid)
ktap_check "a create and a remove work on it" "OK OK" "$(create "$(tv_type 0 a)" "$U") $(remove "$U")"
# The next test unloads the rest (a process per module is slow under TCG).
unload_module $TV
rm -f $OUT.*
ktap_finished
