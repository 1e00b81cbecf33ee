# SPDX-License-Identifier: GPL-2.0
#
# Running totals of test points over several runs, and the one summary line
# "N passed, N failed, N skipped" that ends make check, make check-debian
# and .ci/run.  Sourced; every function reads a run's saved output.
#   totals_add_summary FILE WHAT  add the run's own last summary line
#   totals_add_points FILE WHAT   add its "ok N ..." and "not ok N ..." lines
#   totals_print                  print the summary; false if anything failed

pass=0 fail=0 skip=0

totals_add_summary() {
	local line p f s
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$1" | tail -n1)
	if [ -z "$line" ]; then
		echo "FAILED: $2 printed no summary"
		fail=$((fail + 1))
		return
	fi
	read -r p _ f _ s _ <<< "$(echo "$line" | tr -d ',')"
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
}

totals_add_points() {
	local p f
	p=$(grep -c '^ok ' "$1" || true)
	f=$(grep -c '^not ok ' "$1" || true)
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		echo "FAILED: $2 ran no check"
		f=1
	fi
	pass=$((pass + p)) fail=$((fail + f))
}

totals_print() {
	echo "$pass passed, $fail failed, $skip skipped"
	[ "$fail" -eq 0 ]
}
