#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Report the KUnit results of our modules' own Rust unit tests: the Rust
# core's suites (mdev_rs_*), the Rust sample's (mdev_rs_sample, with the
# vendor API's own) and the Rust ports' (mtty_rs_*, mdpy_rs_*), on either
# core; the C core has none of its own.  The suites run when a module
# loads; their KTAP results are read from debugfs (CONFIG_KUNIT_DEBUGFS) and
# re-emitted one test point per case.

. ./mdev_lib.sh

ktap_print_header
unload_all
for vendor in mdev_rs_sample mtty_rs mdpy_rs; do
	load_vendor $vendor >/dev/null || ktap_exit_fail_msg "cannot load $vendor on $(core_desc)"
done

results=$(mktemp)
for suite in /sys/kernel/debug/kunit/mdev* /sys/kernel/debug/kunit/mtty_rs* /sys/kernel/debug/kunit/mdpy_rs*; do
	[ -r "$suite/results" ] || continue
	# Nested KTAP: the case lines are indented by four spaces.
	sed -n 's/^    \(\(not \)\{0,1\}ok [0-9][0-9]* .*\)$/\1/p' "$suite/results" |
		sed "s/^\(\(not \)\{0,1\}ok [0-9]*\) /\1 $(basename "$suite"): /" >> "$results"
done
n=$(wc -l < "$results")
if [ "$n" -eq 0 ]; then
	ktap_skip_all "no KUnit suite was found"
	rm -f "$results"
	unload_all
	exit "$KSFT_SKIP"
fi
ktap_set_plan "$n"
while read -r line; do
	desc=$(echo "$line" | sed 's/^\(not \)\{0,1\}ok [0-9]* //')
	case "$line" in
	"not ok"*) ktap_test_fail "$desc" ;;
	*"# SKIP"*) ktap_test_skip "$desc" ;;
	*) ktap_test_pass "$desc" ;;
	esac
done < "$results"
rm -f "$results"
unload_all
ktap_finished
