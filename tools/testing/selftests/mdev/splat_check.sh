#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Judge the kernel log left by all the tests before this one: any WARNING,
# BUG, oops, lockdep report, UBSAN report, hung task or kmemleak leak (after
# an explicit scan) is a failing test point, with the offending lines shown.
# Run last.

. ./mdev_lib.sh

ktap_print_header
ktap_set_plan 2

# Unload everything first so that leaks at module unload are visible too.
unload_all
# With CONFIG_DEBUG_KOBJECT_RELEASE (the stress kernel), releases run one to
# four seconds after the last put: wait for those of the unloads above.
if kobject_release_delayed; then
	sleep 5
fi

log=$(mktemp)
dmesg > "$log"
pattern='WARNING:|BUG:|Oops|general protection fault|Kernel panic|UBSAN:|possible recursive locking|possible circular locking|inconsistent lock state|suspicious RCU usage|INFO: trying to register non-static key|INFO: task .* blocked|ODEBUG:|list_add corruption|list_del corruption|refcount_t:|kobject .* has no release|returned bad count'
# Reports by checker, for make stress's figures (a report may match two).
nr() { grep -cE "$1" "$log"; }
echo "splat-counts kasan=$(nr 'BUG: KASAN') kcsan=$(nr 'BUG: KCSAN') \
lockdep=$(nr 'possible recursive locking|possible circular locking|inconsistent lock state|suspicious RCU usage|non-static key') \
debug_objects=$(nr 'ODEBUG:') ubsan=$(nr 'UBSAN:') hung_task=$(nr 'INFO: task .* blocked') \
all=$(nr "$pattern")"
if grep -E "$pattern" "$log" > "$log.hits"; then
	ktap_print_msg "kernel log has splats:"
	grep -E -B2 -A20 "$pattern" "$log" | sed -n '1,200p' | while IFS= read -r l; do ktap_print_msg "$l"; done
	ktap_test_fail "no WARNING, BUG, oops, lockdep or UBSAN report in the kernel log"
else
	ktap_test_pass "no WARNING, BUG, oops, lockdep or UBSAN report in the kernel log"
fi

if [ ! -w /sys/kernel/debug/kmemleak ]; then
	# The test kernel has kmemleak; a distribution kernel may not.
	ktap_test_skip "kmemleak finds no unreferenced objects [this kernel has no kmemleak]"
	rm -f "$log" "$log.hits"
	ktap_finished
	exit
fi
# Two scans: kmemleak reports an object only once it was seen unreferenced twice.
echo scan > /sys/kernel/debug/kmemleak
sleep 1
echo scan > /sys/kernel/debug/kmemleak
leaks=$(grep -c 'unreferenced object' /sys/kernel/debug/kmemleak)
echo "splat-counts kmemleak=$leaks"
if [ "$leaks" -ne 0 ]; then
	head -n 100 /sys/kernel/debug/kmemleak | while IFS= read -r l; do ktap_print_msg "$l"; done
fi
ktap_check "kmemleak finds no unreferenced objects" 0 "$leaks"
rm -f "$log" "$log.hits"
ktap_finished
