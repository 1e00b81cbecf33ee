#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Report the KUnit results of the core module's own Rust unit tests.  The
# suites run when the module loads; their KTAP results are read from
# debugfs (CONFIG_KUNIT_DEBUGFS) and re-emitted one test point per case.

. ./mdev_lib.sh

ktap_print_header
if [ "$MDEV_CORE" = c ]; then
	ktap_skip_all "the C core has no KUnit suites"
	exit "$KSFT_SKIP"
fi
unload_all
load_core || ktap_exit_fail_msg "cannot load $(core_module)"

results=$(mktemp)
for suite in /sys/kernel/debug/kunit/mdev*; do
	[ -r "$suite/results" ] || continue
	# Nested KTAP: the case lines are indented by four spaces.
	sed -n 's/^    \(\(not \)\{0,1\}ok [0-9][0-9]* .*\)$/\1/p' "$suite/results" |
		sed "s/^\(\(not \)\{0,1\}ok [0-9]*\) /\1 $(basename "$suite"): /" >> "$results"
done
n=$(wc -l < "$results")
if [ "$n" -eq 0 ]; then
	ktap_skip_all "no KUnit suite of the core was found"
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
