#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install everything needed to build a Rust-enabled Linux 7.2 test kernel and
# this project's modules, on Debian 12 as root.  Idempotent: each ingredient is
# fetched once into the cache ($MDEV_CACHE, default /var/cache/mdev-rs) and
# reused afterwards.  Writes $MDEV_CACHE/toolchain.env for the other scripts.
#
# Nothing is upgraded on the system: the two packages that bookworm lacks
# (linux-source-7.2 and a rust-src matching rustc) come from newer suites
# through a private apt state and are only unpacked into the cache.

set -euo pipefail

CACHE=${MDEV_CACHE:-/var/cache/mdev-rs}
die() { echo "setup-toolchain: error: $*" >&2; exit 1; }
say() { echo "setup-toolchain: $*" >&2; }

[ "$(id -u)" = 0 ] || die "must run as root (it installs Debian packages)"
command -v apt-get >/dev/null || die "apt-get not found: this needs a Debian 12 machine"
command -v rustc >/dev/null || die "rustc not found: install a Rust toolchain (rustup) first"
command -v cargo >/dev/null || die "cargo not found: install a Rust toolchain (rustup) first"
mkdir -p "$CACHE" || die "cannot create the cache directory $CACHE"

# Fail early and clearly when the disk cannot hold a kernel build (~6 GiB).
avail_kb=$(df -Pk "$CACHE" | awk 'NR==2 {print $4}')
[ "${avail_kb:-0}" -ge $((6 * 1024 * 1024)) ] ||
	die "less than 6 GiB free under $CACHE (df says ${avail_kb} KiB): free some disk space"

# --- Debian packages from the machine's own suites ---------------------------
DEB_PKGS="flex bison libelf-dev libssl-dev bc cpio xz-utils make gcc python3-pip
	  qemu-system-x86 busybox-static mdevctl rsync kmod"
missing=""
for p in $DEB_PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	say "installing Debian packages:$missing"
	apt-get update -qq || die "apt-get update failed"
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
		die "apt-get install failed for:$missing"
fi

# --- linux-source-7.2 and rust-src through a private apt state ---------------
RUSTC_VER=$(rustc --version | awk '{print $2}')
APTDIR=$CACHE/apt
O=(-o "Dir::Etc::sourcelist=$APTDIR/sources.list" -o "Dir::Etc::sourceparts=-"
   -o "Dir::State::Lists=$APTDIR/lists" -o "Dir::Cache=$APTDIR/cache"
   -o "Dir::State::status=$APTDIR/status" -o "APT::Get::List-Cleanup=0" -o "APT::Sandbox::User=root")

private_apt_update() {
	mkdir -p "$APTDIR/lists/partial" "$APTDIR/cache/archives/partial"
	: > "$APTDIR/status"
	# Reuse the mirror the machine's own Debian source points at.
	local uri
	uri=$(apt-get indextargets --format '$(SITE) $(RELEASE)' 2>/dev/null |
	      awk '$2 == "bookworm" {print $1; exit}')
	[ -n "$uri" ] || uri=http://deb.debian.org/debian
	cat > "$APTDIR/sources.list" <<-SRC
	deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri trixie-backports main
	deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri sid main
	SRC
	say "reading package lists of trixie-backports and sid (private apt state)"
	apt-get "${O[@]}" update -qq || die "apt-get update of the private apt state failed"
}

# Print the newest version of package $1 whose version starts with $2.
newest_version() {
	apt-cache "${O[@]}" madison "$1" 2>/dev/null | awk -F'|' '{gsub(/ /,"",$2); print $2}' |
		grep -E "^$2" | sort -V | tail -n1
}

fetch_deb() { # package version destdir
	local tmp
	tmp=$(mktemp -d)
	(cd "$tmp" && apt-get "${O[@]}" download -qq "$1=$2") || die "cannot download $1=$2"
	mkdir -p "$3"
	dpkg-deb -x "$tmp"/*.deb "$3"
	rm -rf "$tmp"
}

RUSTSRC_DIR=$CACHE/rust-src-$RUSTC_VER
KSRC_STAMP=$CACHE/linux-source.version
if [ ! -d "$RUSTSRC_DIR/usr/src" ] || [ ! -s "$KSRC_STAMP" ]; then
	private_apt_update
fi
if [ ! -s "$KSRC_STAMP" ]; then
	kver=$(newest_version linux-source-7.2 "7\\.2\\.")
	[ -n "$kver" ] || die "no linux-source-7.2 package is on offer in trixie-backports or sid"
	say "fetching linux-source-7.2 $kver"
	rm -rf "$CACHE/linux-source-deb"
	fetch_deb linux-source-7.2 "$kver" "$CACHE/linux-source-deb"
	echo "$kver" > "$KSRC_STAMP"
fi
if [ ! -d "$RUSTSRC_DIR/usr/src" ]; then
	rver=$(newest_version rust-src "${RUSTC_VER//./\\.}\\+")
	[ -n "$rver" ] || die "no rust-src package matches rustc $RUSTC_VER (the kernel needs the exact same version)"
	say "fetching rust-src $rver"
	fetch_deb rust-src "$rver" "$RUSTSRC_DIR.tmp"
	mv "$RUSTSRC_DIR.tmp" "$RUSTSRC_DIR"
fi
RUST_LIB_SRC=$(echo "$RUSTSRC_DIR"/usr/src/rustc-*/library)
[ -d "$RUST_LIB_SRC/core" ] || die "rust-src unpacked, but $RUST_LIB_SRC/core is missing"

# --- bindgen and libclang ----------------------------------------------------
BINDGEN_VER=0.72.1
if ! "$CACHE/bindgen/bin/bindgen" --version 2>/dev/null | grep -q "$BINDGEN_VER"; then
	say "installing bindgen-cli $BINDGEN_VER (about a minute)"
	cargo install -q --locked --root "$CACHE/bindgen" bindgen-cli --version "$BINDGEN_VER" ||
		die "cargo install bindgen-cli failed"
fi
LIBCLANG_VER=18.1.1
LIBCLANG_PATH=$CACHE/libclang/clang/native
if [ ! -e "$LIBCLANG_PATH/libclang.so" ]; then
	say "installing libclang $LIBCLANG_VER from PyPI"
	python3 -m pip install -q --root-user-action=ignore --no-deps --target "$CACHE/libclang" "libclang==$LIBCLANG_VER" ||
		die "pip install libclang==$LIBCLANG_VER failed"
fi
[ -e "$LIBCLANG_PATH/libclang.so" ] || die "libclang.so missing under $LIBCLANG_PATH"

cat > "$CACHE/toolchain.env" <<ENV
# Generated by setup-toolchain.sh; sourced by the build scripts.
export PATH="$CACHE/bindgen/bin:\$PATH"
export LIBCLANG_PATH="$LIBCLANG_PATH"
export RUST_LIB_SRC="$RUST_LIB_SRC"
LINUX_SOURCE_TARBALL="$(echo "$CACHE"/linux-source-deb/usr/src/linux-source-7.2.tar.xz)"
LINUX_SOURCE_VERSION="$(cat "$KSRC_STAMP")"
ENV
say "toolchain ready (cache: $CACHE)"
