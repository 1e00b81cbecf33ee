#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The compile-fail tests of the Rust vendor API:  run.sh KBUILD
#
# Each case here is a small vendor module. A case whose header says
# "expect: builds" must build (it proves the harness builds a right crate);
# every other case must fail to build, and its build output must contain
# each of its "expect:" lines. A case that builds, or fails with another
# error, fails the test: a change to the API has made a wrong order of
# ownership compile again, or the case is broken.
# Prints one TAP line per case ("ok N - ..." or "not ok N - ...").

set -uo pipefail
KBUILD=$1
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
log=$(mktemp)
trap 'rm -f "$log"' EXIT

n=0
point() { n=$((n + 1)); echo "$1 $n - $2"; }
for src in "$HERE"/*.rs; do
	case=$(basename "$src" .rs)
	case $case in common | *_generated) continue ;; esac
	mapfile -t expects < <(sed -n 's|^//! expect: ||p' "$src")
	if [ ${#expects[@]} -eq 0 ]; then
		point "not ok" "compile-fail case $case has no expect: line"
		continue
	fi
	"$REPO/tools/build/kmake.sh" "$KBUILD" "$HERE" MDEV_CF_CASE="$case" modules > "$log" 2>&1
	built=$?
	if [ "${expects[0]}" = builds ]; then
		if [ $built -eq 0 ]; then
			point ok "compile-fail control case $case builds"
		else
			grep -E '^error' -A6 "$log" | sed -n '1,30p'
			point "not ok" "compile-fail control case $case does not build"
		fi
		continue
	fi
	if [ $built -eq 0 ]; then
		point "not ok" "compile-fail case $case builds, but must not: the wrong order it writes compiles again"
		continue
	fi
	missing=""
	for want in "${expects[@]}"; do
		grep -qF -- "$want" "$log" || missing="$missing [$want]"
	done
	if [ -z "$missing" ]; then
		point ok "compile-fail case $case is refused: ${expects[*]}"
	else
		grep -E '^error' -A6 "$log" | sed -n '1,30p'
		point "not ok" "compile-fail case $case failed to build, but without$missing"
	fi
done
