#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The user's side of `make check-debian`, run by check-debian.sh inside the
# Debian root (debian-root.sh) with the project at /usr/src/mdev-rs-$VERSION:
#
#   in-root.sh RELEASE VERSION STAGE
#
# It does what the README tells a Debian user to do, against the headers of
# the stock kernel RELEASE: make modules, make install (into STAGE, which
# holds Debian's own module tree of that kernel, as the guest will), make
# uninstall and DKMS.  It also builds the C samples and the C test vendor
# out of tree from the same kernel source, as any C vendor module is built,
# and writes STAGE/.initramfs-modules, the files the guest needs, and
# STAGE/.kernel-source, the prepared source tree (for the kselftests).  Prints
# one "ok N - ..." or "not ok N - ..." line per check.

set -uo pipefail
REL=$1 VER=$2 STAGE=$3
SRC=/usr/src/mdev-rs-$VER
KDIR=/lib/modules/$REL/build
MODDIR=$STAGE/lib/modules/$REL
# Debian's signing key is not here, and the out-of-tree C modules are not
# signed (only DKMS signs, with its own key).
NOSIGN=CONFIG_MODULE_SIG_ALL=
n=0 failed=0
point() { # point STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
check() { # check DESCRIPTION COMMAND...: a point from a command's status
	local desc=$1
	shift
	"$@"
	point $? "$desc"
}
note() { echo "# $*"; }
log=/tmp/in-root.log
: > $log

# --- make modules for the stock kernel's headers ---------------------------
start=$(date +%s)
make -C "$SRC" modules KDIR="$KDIR" >>$log 2>&1
rc=$?
note "make modules KDIR=$KDIR: $(($(date +%s) - start)) s (the first run prepares the Rust metadata)"
[ $rc = 0 ] || tail -n 30 $log | sed 's/^/# /'
point $rc "make modules KDIR=$KDIR builds the core and the Rust sample for Debian's kernel"
want=$(modinfo -F vermagic "$(ls "$MODDIR"/kernel/drivers/vfio/vfio.ko*)")
check "mdev.ko has the vermagic of Debian's modules ($want)" \
	test "$(modinfo -F vermagic "$SRC/mdev.ko" 2>/dev/null)" = "$want"

# --- make install / make uninstall into a copy of the module tree ----------
# The copy shares the module files (hard links); depmod replaces its indexes
# by new files, so the stage itself is not touched.
snapshot() { # the file list and every index of a module tree
	(cd "$1" && find . -printf '%p %y %s\n' | sort && md5sum modules.* | sort)
}
copy=/tmp/install-test
rm -rf $copy && mkdir -p $copy/lib/modules && cp -al "$MODDIR" $copy/lib/modules/
depmod -a -b $copy "$REL"
before=$(snapshot $copy/lib/modules/$REL)
make -C "$SRC" install KDIR="$KDIR" INSTALL_MOD_PATH=$copy >>$log 2>&1
point $? "make install INSTALL_MOD_PATH=... succeeds"
check "it installs mdev.ko.xz, and mdev_rs_sample, mtty_rs and mdpy_rs under updates/samples/" \
	sh -c "test -f $copy/lib/modules/$REL/updates/mdev.ko.xz &&
	       for m in mdev_rs_sample mtty_rs mdpy_rs; do
		       test -f $copy/lib/modules/$REL/updates/samples/\$m.ko.xz || exit 1
	       done"
check "depmod ran: modprobe -d resolves mdev to updates/" \
	sh -c "modprobe -d $copy -S $REL --show-depends mdev | grep -q 'updates/mdev.ko'"
make -C "$SRC" uninstall KDIR="$KDIR" INSTALL_MOD_PATH=$copy >>$log 2>&1
point $? "make uninstall INSTALL_MOD_PATH=... succeeds"
after=$(snapshot $copy/lib/modules/$REL)
[ "$before" = "$after" ] || diff <(echo "$before") <(echo "$after") | sed -n '1,10p' | sed 's/^/# /'
check "make uninstall leaves the module tree exactly as before make install" test "$before" = "$after"
rm -rf $copy
mkdir -p /tmp/destdir
make -C "$SRC" install KDIR="$KDIR" DESTDIR=/tmp/destdir >>$log 2>&1
check "make install DESTDIR=... stages the modules into an empty image" \
	test -f /tmp/destdir/lib/modules/$REL/updates/mdev.ko.xz
rm -rf /tmp/destdir

# --- DKMS, as a user would run it -------------------------------------------
dkms add "mdev-rs/$VER" >>$log 2>&1
point $? "dkms add mdev-rs/$VER"
dkms install "mdev-rs/$VER" -k "$REL" >>$log 2>&1
rc=$?
[ $rc = 0 ] || tail -n 30 $log | sed 's/^/# /'
point $rc "dkms install mdev-rs/$VER -k $REL builds and installs"
dk=$(ls /lib/modules/"$REL"/updates/dkms/mdev.ko* 2>/dev/null | sed -n 1p)
check "dkms installed mdev under updates/dkms ($dk)" test -n "$dk"
signer=$(modinfo -F signer "$dk" 2>/dev/null)
note "signer of $dk: '$signer'"
check "dkms signed it with its own key (modinfo signer)" test -n "$signer"
check "depmod of the root resolves mdev to the DKMS module" \
	sh -c "modprobe -S $REL --show-depends mdev | grep -q 'updates/dkms/mdev.ko'"
dkms remove "mdev-rs/$VER" --all >>$log 2>&1
point $? "dkms remove mdev-rs/$VER --all"
check "nothing of mdev-rs is left under /lib/modules/$REL/updates" \
	sh -c "! find /lib/modules/$REL/updates -name 'mdev*.ko*' 2>/dev/null | grep -q ."
check "modprobe resolves mdev to the kernel's C core again" \
	sh -c "modprobe -S $REL --show-depends mdev | grep -q 'kernel/drivers/vfio/mdev/mdev.ko'"
check "dkms status lists nothing" test -z "$(dkms status mdev-rs 2>/dev/null)"

# --- the modules of the guest ------------------------------------------------
make -C "$SRC" install KDIR="$KDIR" INSTALL_MOD_PATH="$STAGE" >>$log 2>&1
point $? "make install INSTALL_MOD_PATH=<guest root> installs the core for the guest"
# The C vendors, out of tree from the kernel source the core was prepared
# from, as any C vendor module: the unmodified samples and our test vendor.
# distro-kdir.sh names the tree it prepared for this kernel (cached by now).
ksrc=$("$SRC/tools/build/distro-kdir.sh" "$KDIR")
echo "$ksrc" > "$STAGE/.kernel-source"
vend=/tmp/c-vendors
rm -rf $vend && mkdir -p $vend/samples $vend/test_vendor
cp "$ksrc"/samples/vfio-mdev/{mtty.c,mdpy.c,mdpy-defs.h,mbochs.c} $vend/samples/
echo 'obj-m := mtty.o mdpy.o mbochs.o' > $vend/samples/Kbuild
cp "$SRC"/tools/testing/selftests/mdev/test_vendor/* $vend/test_vendor/
ok=0
for d in $vend/samples $vend/test_vendor; do
	make -C "$KDIR" M=$d $NOSIGN modules >>$log 2>&1 &&
		make -C "$KDIR" M=$d $NOSIGN INSTALL_MOD_PATH="$STAGE" modules_install >>$log 2>&1 || ok=1
done
[ $ok = 0 ] || tail -n 30 $log | sed 's/^/# /'
point $ok "mtty, mdpy, mbochs and the test vendor build out of tree against Debian's headers"
# The Rust test vendor (leak_unload.sh), through the prepared tree as the
# Rust samples were; for the guest only.
rtv="$SRC/tools/testing/selftests/mdev/rust_test_vendor"
"$SRC/tools/build/kmake.sh" "$KDIR" "$rtv" modules >>$log 2>&1 &&
	"$SRC/tools/build/kmake.sh" "$KDIR" "$rtv" INSTALL_MOD_PATH="$STAGE" modules_install >>$log 2>&1
point $? "the Rust test vendor builds out of tree against Debian's headers"
depmod -a -b "$STAGE" "$REL"
point $? "depmod indexes the guest's module tree"

# The guest's files: every index, and the modules the tests load or ask
# modprobe about, with everything they depend on.
{
	(cd "$STAGE" && ls lib/modules/"$REL"/modules.*)
	for m in vfio vfio_iommu_type1 mdev mtty mdpy mbochs mdev_test_vendor mdev_rs_sample mtty_rs mdpy_rs mdev_rs_leaky kvmgt; do
		modprobe -d "$STAGE" -S "$REL" --show-depends "$m" | awk '$1 == "insmod" {print $2}'
	done
	(cd "$STAGE" && ls lib/modules/"$REL"/kernel/drivers/vfio/mdev/mdev.ko*)
} | sed 's|^/*||; s|^.*/lib/modules/|lib/modules/|' | sort -u > "$STAGE/.initramfs-modules"
check "the guest's modules are listed ($(wc -l < "$STAGE/.initramfs-modules") files)" \
	grep -q "updates/mdev.ko" "$STAGE/.initramfs-modules"

# The uapi headers of this kernel, for the kselftests built on the host;
# with the prepared tree's own make arguments, so its configuration stays.
mapfile -t kargs < "$ksrc/.mdev-make-args"
make -s -C "$ksrc" "${kargs[@]}" headers_install >>$log 2>&1
point $? "headers_install of the kernel source, for the kselftests"

echo "# in-root: $n checks, $failed failed"
[ $failed = 0 ]
