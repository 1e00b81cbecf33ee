# SPDX-License-Identifier: GPL-2.0
#
# Turn the guest console log into totals.  Counts every leaf test point: the
# KTAP results that each kselftest program prints (prefixed "# " by the
# kselftest runner).  A program that fails or is skipped without printing
# leaf results of that kind counts as one failed or skipped point itself.
# Prints "N passed, N failed, N skipped" last.

function flush_program(result, line) {
	if (result == "fail" && prog_fail == 0)
		{ fail++; print "FAILED: " line }
	else if (result == "skip" && prog_pass + prog_fail + prog_skip == 0)
		skip++
	else if (result == "pass" && prog_pass + prog_fail + prog_skip == 0)
		pass++
	prog_pass = prog_fail = prog_skip = 0
}

{ sub(/\r$/, "") }

/^# (ok|not ok) [0-9]+ / {
	if ($0 ~ /^# not ok/) {
		prog_fail++; fail++; print "FAILED: " substr($0, 3)
	} else if ($0 ~ /# (SKIP|skip)/) {
		prog_skip++; skip++
	} else {
		prog_pass++; pass++
	}
	next
}

/^(ok|not ok) [0-9]+ selftests: / {
	if ($0 ~ /^not ok/)
		flush_program("fail", $0)
	else if ($0 ~ /# SKIP/)
		flush_program("skip", $0)
	else
		flush_program("pass", $0)
	next
}

/^mdev-guest: done/ { done = 1 }

# A kernel report printed on the console at any time, also after
# splat_check.sh read the log (a delayed release that fires late, say),
# fails the run.  Kernel lines start with their timestamp; the tests' own
# quotes of the log start with "#".  The runner's self-test warns on purpose
# and is judged by check.sh instead (splat_ok=1).
/^\[ *[0-9]+\.[0-9]+\] / && !splat_ok &&
/WARNING:|BUG:|Oops|general protection fault|Kernel panic|UBSAN:|possible recursive locking|possible circular locking|inconsistent lock state|INFO: task .* blocked|ODEBUG:|list_(add|del) corruption|refcount_t:/ {
	if (!console_splats++)
		first_splat = $0
}

END {
	if (!done) {
		fail++
		print "FAILED: the guest did not finish (kernel panic, hang or timeout)"
	}
	if (console_splats) {
		fail++
		print "FAILED: the kernel printed " console_splats " report lines on the console; the first: " first_splat
	}
	printf "%d passed, %d failed, %d skipped\n", pass, fail, skip
	exit fail != 0
}
