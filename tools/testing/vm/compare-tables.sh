#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Compare the malformed-input tables (malformed_input.sh, mdev_malformed)
# of a Rust-core guest and a C-core guest:
#
#   compare-tables.sh RUST_CONSOLE_LOG C_CONSOLE_LOG
#
# Every input must have the same errno and effect on both cores, but for the
# inputs mdev_malformed marks as documented improvements of the Rust core.
# Prints one "ok: ..." or "FAILED: ..." line (after the differences) and
# exits non-zero on a failure.

set -uo pipefail
table() { grep -o 'table: .*' "$1" | tr -d '\r'; }
rust_table=$(table "$1") c_table=$(table "$2")
inputs=$(echo "$rust_table" | grep -c '^table' || true)
improved=$(diff <(echo "$rust_table" | grep ' improvement$') \
		<(echo "$c_table" | grep ' improvement$') | grep -c '^<' || true)
if [ "$inputs" -ge 225 ] &&
   [ "$(echo "$rust_table" | grep -v ' improvement$')" = "$(echo "$c_table" | grep -v ' improvement$')" ] &&
   [ "$(echo "$rust_table" | grep -c ' improvement$')" = "$(echo "$c_table" | grep -c ' improvement$')" ]; then
	echo "ok: the cores agree on all $inputs inputs but the $improved documented improvements that differ"
else
	diff <(echo "$c_table") <(echo "$rust_table") | grep -v ' improvement$' | sed -n '1,20p' | sed 's/^/  | /'
	echo "FAILED: the cores' malformed-input tables differ beyond the documented improvements ($inputs inputs; < C, > Rust)"
	exit 1
fi
