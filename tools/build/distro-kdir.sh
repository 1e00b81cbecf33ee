#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Prepare the Rust metadata that a distribution's kernel headers lack:
#
#   distro-kdir.sh KDIR
#
# KDIR is a kernel's headers directory (/lib/modules/<release>/build) with
# CONFIG_RUST=y but no rust/libkernel.rmeta.  Rust symbol names carry a hash
# of the exact compiler, so the metadata has to be rebuilt from the kernel's
# own source, configuration and Module.symvers, with the very rustc, bindgen,
# C compiler and pahole that the configuration names.  This script finds
# them, checks them and runs `make modules_prepare` once into a cache
# ($MDEV_CACHE, default /var/cache/mdev-rs); later calls reuse it.
#
# On success it prints the prepared build directory on stdout.  Its file
# .mdev-make-args holds the make arguments every later make on it needs
# (compilers, KERNELRELEASE), one per line.  When something cannot be had,
# it stops with one sentence saying what is missing and how to get it.
#
# Environment: MDEV_KSRC, the kernel source (a linux-source tarball or an
# unpacked tree) when it is not /usr/src/linux-source-X.Y.tar.xz; RUSTC,
# BINDGEN, RUST_LIB_SRC to point at a toolchain outside the usual places.

set -euo pipefail

CACHE=${MDEV_CACHE:-/var/cache/mdev-rs}
die() { echo "error: $*" >&2; exit 1; }
say() { echo "distro-kdir: $*" >&2; }

KDIR=${1:?usage: distro-kdir.sh KDIR}
KDIR=$(cd "$KDIR" 2>/dev/null && pwd -P) || die "$1 does not exist; install the kernel's headers (on Debian: apt install linux-headers-\$(uname -r))."
CONFIG=$KDIR/.config
[ -r "$CONFIG" ] || die "$KDIR has no .config, so it is not a kernel build or headers directory; install the kernel's headers (on Debian: apt install linux-headers-<release>)."

# config_str NAME: the value of a string option of the kernel's .config.
config_str() {
	sed -n "s/^CONFIG_$1=\"\\(.*\\)\"\$/\\1/p" "$CONFIG"
}
config_val() {
	sed -n "s/^CONFIG_$1=//p" "$CONFIG"
}

grep -qx 'CONFIG_RUST=y' "$CONFIG" ||
	die "the kernel in $KDIR is built without Rust support (CONFIG_RUST is not set), so no Rust module can load into it; use a kernel built with CONFIG_RUST=y, such as Debian's 7.2 kernel from trixie-backports."
for opt in VFIO VFIO_MDEV; do
	case "$(config_val $opt)" in y|m) ;; *)
		die "the kernel in $KDIR is built without CONFIG_$opt, which the mdev core needs; use a kernel with CONFIG_$opt=m." ;;
	esac
done

RELEASE=$(cat "$KDIR/include/config/kernel.release" 2>/dev/null) ||
	die "$KDIR/include/config/kernel.release is missing: the headers are incomplete; reinstall the kernel's headers package."
KVERSION=${RELEASE%%[-+]*}
case "$KVERSION" in 7.2|7.2.*) ;; *)
	die "the kernel in $KDIR is $RELEASE, but this module is written for Linux 7.2; use a 7.2 kernel." ;;
esac
# The distribution's package version, where the headers record it (Debian
# does in package.h: " Debian 7.2.12-1~bpo13+1").
PKGVER=$(sed -n 's/^#define LINUX_PACKAGE_ID " *[A-Za-z]* *\(.*\)"$/\1/p' \
	"$KDIR/include/generated/package.h" 2>/dev/null || true)

# --- the exact tools the configuration names ---------------------------------
CC_TEXT=$(config_str CC_VERSION_TEXT)
RUSTC_TEXT=$(config_str RUSTC_VERSION_TEXT)
BINDGEN_TEXT=$(config_str BINDGEN_VERSION_TEXT)
PAHOLE_VER=$(config_val PAHOLE_VERSION)

# find_tool TEXT CANDIDATE...: the first candidate whose `--version` first
# line is TEXT.
find_tool() {
	local text=$1 c
	shift
	for c in "$@"; do
		[ -n "$c" ] && command -v "$c" >/dev/null 2>&1 || continue
		if [ "$("$c" --version 2>/dev/null | sed -n 1p)" = "$text" ]; then
			command -v "$c"
			return 0
		fi
	done
	return 1
}

[ -n "$CC_TEXT" ] && [ -n "$RUSTC_TEXT" ] ||
	die "$CONFIG names no compiler (CONFIG_CC_VERSION_TEXT, CONFIG_RUSTC_VERSION_TEXT), so it is not a complete kernel configuration; reinstall the kernel's headers."
CC_NAME=${CC_TEXT%% *}
CC=$(find_tool "$CC_TEXT" "$CC_NAME") ||
	die "the C compiler that built this kernel, '$CC_TEXT', is not installed; install it (on Debian: apt install ${CC_NAME#x86_64-linux-gnu-})."

# shellcheck disable=SC2046
RUSTC_BIN=$(find_tool "$RUSTC_TEXT" "${RUSTC:-}" rustc /usr/bin/rustc \
	$(ls /usr/bin/rustc-* "$HOME"/.rustup/toolchains/*/bin/rustc 2>/dev/null)) ||
	die "the Rust compiler that built this kernel, '$RUSTC_TEXT', is not installed; install exactly that version (on Debian trixie: apt install rustc rust-src), or set RUSTC to it."
RUST_SRC=${RUST_LIB_SRC:-$("$RUSTC_BIN" --print sysroot)/lib/rustlib/src/rust/library}
[ -d "$RUST_SRC/core" ] ||
	die "the Rust standard library source for $RUSTC_BIN is missing (no $RUST_SRC/core); install it (on Debian: apt install rust-src), or set RUST_LIB_SRC."

# shellcheck disable=SC2046
BINDGEN_BIN=$(find_tool "$BINDGEN_TEXT" "${BINDGEN:-}" bindgen /usr/bin/bindgen "$HOME/.cargo/bin/bindgen") ||
	die "the bindgen that built this kernel, '$BINDGEN_TEXT', is not installed; install exactly that version (on Debian trixie: apt install bindgen libclang-dev), or set BINDGEN to it."

PAHOLE_ARG=()
if [ -n "$PAHOLE_VER" ] && [ "$PAHOLE_VER" != 0 ]; then
	want="v$((PAHOLE_VER / 100)).$((PAHOLE_VER % 100))"
	[ "$(pahole --version 2>/dev/null)" = "$want" ] ||
		die "pahole $want, which this kernel's configuration names for module BTF, is not installed; install it (on Debian: apt install pahole)."
	PAHOLE_ARG=(PAHOLE="$(command -v pahole)")
fi

# --- the matching kernel source ----------------------------------------------
KSRC_IN=${MDEV_KSRC:-}
if [ -z "$KSRC_IN" ]; then
	for c in "/usr/src/linux-source-${KVERSION%.*}.tar.xz" "/usr/src/linux-source-${KVERSION%.*}"; do
		[ -e "$c" ] && KSRC_IN=$c && break
	done
fi
src_pkg_hint="install the source of exactly this kernel (on Debian: apt install linux-source-${KVERSION%.*}${PKGVER:+=$PKGVER}, from the suite the kernel came from), or set MDEV_KSRC to it"
[ -n "$KSRC_IN" ] || die "no kernel source for $RELEASE was found in /usr/src; $src_pkg_hint."
if [ -n "$PKGVER" ] && command -v dpkg-query >/dev/null; then
	owner=$(dpkg-query -S "$(readlink -f "$KSRC_IN")" 2>/dev/null | cut -d: -f1 | sed -n 1p || true)
	if [ -n "$owner" ]; then
		have=$(dpkg-query -W -f='${Version}' "$owner")
		[ "$have" = "$PKGVER" ] ||
			die "the kernel is $PKGVER but $KSRC_IN comes from $owner $have; $src_pkg_hint."
	fi
fi

# --- prepare once, into the cache ---------------------------------------------
# Keyed by everything the output depends on.
key=$({
	echo "$RELEASE $PKGVER"
	ls -lL "$KSRC_IN"
	cat "$CONFIG" "$KDIR/Module.symvers"
	echo "$CC $RUSTC_BIN $BINDGEN_BIN $RUST_SRC"
} | sha256sum | cut -c1-12)
TOP=$CACHE/distro-kdir/$RELEASE-$key
PREP=$TOP/linux
ARGS=(CC="$CC" HOSTCC="$CC" RUSTC="$RUSTC_BIN" BINDGEN="$BINDGEN_BIN"
      RUST_LIB_SRC="$RUST_SRC" KERNELRELEASE="$RELEASE" "${PAHOLE_ARG[@]}")

mkdir -p "$TOP" || die "cannot create $TOP; set MDEV_CACHE to a writable directory."
exec 9>"$TOP/.lock"
flock 9
if [ -f "$PREP/.mdev-prepared" ]; then
	echo "$PREP"
	exit 0
fi

say "preparing the Rust metadata of $RELEASE in $PREP (once; about a minute or two)"
rm -rf "$PREP" "$TOP/unpack"
mkdir -p "$TOP/unpack"
if [ -d "$KSRC_IN" ]; then
	cp -a "$KSRC_IN/." "$TOP/unpack/src"
else
	tar -C "$TOP/unpack" -xf "$KSRC_IN" || die "cannot unpack $KSRC_IN; $src_pkg_hint."
	mv "$TOP/unpack"/* "$TOP/unpack/src" 2>/dev/null || true
fi
mv "$TOP/unpack/src" "$PREP"
rm -rf "$TOP/unpack"
[ -f "$PREP/Makefile" ] || die "$KSRC_IN holds no kernel source tree; $src_pkg_hint."
srcver=$(make -s -C "$PREP" kernelversion 2>/dev/null)
[ "$srcver" = "$KVERSION" ] ||
	die "the kernel is $KVERSION but the source in $KSRC_IN is $srcver; $src_pkg_hint."

cp "$CONFIG" "$PREP/.config"
cp "$KDIR/Module.symvers" "$PREP/Module.symvers"
# Module BTF is generated against the kernel's vmlinux, where the headers
# ship one (Debian's holds only its BTF).
[ -f "$KDIR/vmlinux" ] && cp "$KDIR/vmlinux" "$PREP/vmlinux"
# The distribution's signing key is not ours to have: modules_prepare would
# otherwise stop at the missing key file.  Modules built here are signed by
# DKMS (see README) or not at all.
sed -i 's|^CONFIG_MODULE_SIG_KEY=.*|CONFIG_MODULE_SIG_KEY="certs/signing_key.pem"|' "$PREP/.config"

log=$TOP/prepare.log
make -C "$PREP" "${ARGS[@]}" olddefconfig >"$log" 2>&1 ||
	die "make olddefconfig failed in $PREP (log: $log)."
# The configuration must come out unchanged, or the compilers differ from
# the kernel's in a way their version texts did not show.
# (The key path and OPENSSL_SUPPORTS_ML_DSA, a detail of the build host, may.)
compared() {
	grep '^CONFIG_' "$1" | grep -vE '^CONFIG_(MODULE_SIG_KEY|OPENSSL_SUPPORTS_ML_DSA)=' | sort
}
changed=$(diff <(compared "$CONFIG") <(compared "$PREP/.config") |
	  grep '^[<>]' | sed -n '1,5p' | tr '\n' ' ' || true)
[ -z "$changed" ] ||
	die "the kernel's configuration does not reproduce with the tools found here (it changed: $changed); the build host must match the one that built $RELEASE."
make -C "$PREP" "${ARGS[@]}" rustavailable >>"$log" 2>&1 ||
	die "the kernel says Rust is not available with $RUSTC_BIN and $BINDGEN_BIN (log: $log); install libclang (on Debian: apt install libclang-dev)."
make -C "$PREP" "${ARGS[@]}" -j"$(($(nproc) + 1))" modules_prepare >>"$log" 2>&1 ||
	die "make modules_prepare failed in $PREP (log: $log)."

# The metadata must be the kernel's: the crate hash of the kernel crate in
# the exported Rust symbols of Module.symvers must be the one just built.
want=$(grep -o 'Cs[0-9A-Za-z]*_6kernel' "$KDIR/Module.symvers" | sort | uniq -c | sort -rn |
	awk 'NR == 1 {print $2}' || true)
if [ -n "$want" ] && ! nm "$PREP/rust/kernel.o" 2>/dev/null | grep -c "$want" >/dev/null; then
	die "the Rust metadata built in $PREP does not match the kernel (crate hash $want not found); the compilers differ from the kernel's."
fi

printf '%s\n' "${ARGS[@]}" > "$PREP/.mdev-make-args"
touch "$PREP/.mdev-prepared"
say "prepared $RELEASE"
echo "$PREP"
