#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host-side checks of tools/build/distro-kdir.sh on headers directories that
# cannot be built for: each must stop it with one line, "error: ...", that
# says what is missing and how to get it, before anything is prepared.
# Run by check.sh; prints "ok N - ..." or "not ok N - ..." per check.
#
#   distro_kdir_errors.sh   (needs the test bed's toolchain.env)

set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PREPARE=$HERE/../../build/distro-kdir.sh
CACHE=${MDEV_CACHE:-/var/cache/mdev-rs}
# shellcheck source=/dev/null
. "$CACHE/toolchain.env"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
n=0 failed=0

# headers DIR RELEASE CONFIG-LINES...: a fake headers directory.
headers() {
	local dir=$1 release=$2
	shift 2
	mkdir -p "$dir/include/config"
	echo "$release" > "$dir/include/config/kernel.release"
	printf '%s\n' "$@" > "$dir/.config"
	: > "$dir/Module.symvers"
}

# expect DESCRIPTION PHRASE KDIR: the script fails with one error line that
# contains PHRASE, and leaves no prepared tree behind.
expect() {
	local desc=$1 phrase=$2 out rc
	out=$(MDEV_CACHE=$TMP/cache BINDGEN=$CACHE/bindgen/bin/bindgen "$PREPARE" "$3" 2>&1 >/dev/null)
	rc=$?
	n=$((n + 1))
	if [ $rc -ne 0 ] && [ "$(echo "$out" | wc -l)" = 1 ] &&
	   [[ $out == "error: "*"$phrase"* ]] && [ ! -d "$TMP/cache/distro-kdir" ]; then
		echo "ok $n - $desc"
	else
		echo "# exit $rc, said: $out"
		echo "not ok $n - $desc"
		failed=$((failed + 1))
	fi
}

# What this host's tools say of themselves, for headers it can match.
cc_text=$(gcc --version | sed -n 1p)
rustc_text=$(rustc --version)
bindgen_text=$("$CACHE/bindgen/bin/bindgen" --version)
good=(CONFIG_RUST=y CONFIG_VFIO=m CONFIG_VFIO_MDEV=m "CONFIG_CC_VERSION_TEXT=\"$cc_text\""
      "CONFIG_RUSTC_VERSION_TEXT=\"$rustc_text\"" "CONFIG_BINDGEN_VERSION_TEXT=\"$bindgen_text\""
      CONFIG_PAHOLE_VERSION=0)
# with NAME=VALUE: the configuration lines above, with NAME's value replaced.
with() {
	local l
	for l in "${good[@]}"; do
		if [ "${l%%=*}" = "${1%%=*}" ]; then echo "$1"; else echo "$l"; fi
	done
}

expect "a missing headers directory" "install the kernel's headers" "$TMP/none"

headers "$TMP/norust" 7.2.12-test CONFIG_VFIO=m CONFIG_VFIO_MDEV=m
expect "a kernel without CONFIG_RUST" "built without Rust support" "$TMP/norust"

headers "$TMP/nomdev" 7.2.12-test CONFIG_RUST=y CONFIG_VFIO=m
expect "a kernel without CONFIG_VFIO_MDEV" "without CONFIG_VFIO_MDEV" "$TMP/nomdev"

headers "$TMP/old" 6.1.0-test "${good[@]}"
expect "a kernel that is not 7.2" "written for Linux 7.2" "$TMP/old"

mapfile -t cfg < <(with 'CONFIG_CC_VERSION_TEXT="x86_64-linux-gnu-gcc-99 (Debian 99.1.0-1) 99.1.0"')
headers "$TMP/cc" 7.2.12-test "${cfg[@]}"
expect "a C compiler that is not installed" "install it (on Debian: apt install gcc-99)" "$TMP/cc"

mapfile -t cfg < <(with 'CONFIG_RUSTC_VERSION_TEXT="rustc 1.0.0 (00000000 2015-05-15)"')
headers "$TMP/rustc" 7.2.12-test "${cfg[@]}"
expect "a rustc of another version" "rustc 1.0.0 (00000000 2015-05-15)', is not installed" "$TMP/rustc"

mapfile -t cfg < <(with 'CONFIG_BINDGEN_VERSION_TEXT="bindgen 0.1.0"')
headers "$TMP/bindgen" 7.2.12-test "${cfg[@]}"
expect "a bindgen of another version" "'bindgen 0.1.0', is not installed" "$TMP/bindgen"

headers "$TMP/nosrc" 7.2.12-test "${good[@]}"
expect "no kernel source for it" "no kernel source for 7.2.12-test was found" "$TMP/nosrc"

echo "# distro-kdir errors: $n checks, $failed failed"
[ $failed = 0 ]
