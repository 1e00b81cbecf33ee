#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the test guest (busybox).  Runs the installed kselftests with the
# kernel's own kselftest runner, prints KTAP on the console, then powers off.
# The host side (run-vm.sh) reads the verdict from the console.
#
# Environment from the kernel command line:
#   MDEV_CORE=rust|c     which mdev core the tests load (default rust)
#   MDEV_GUEST_MODE=tests|splat-selftest|demo|bench|script
#   MDEV_TESTS=a.sh,b.sh  run only these kselftests (tests mode)
#   MDEV_TEST_TIMEOUT=S   each kselftest's timeout instead of the settings file's
#   MDEV_BENCH_*, MDEV_STORM_*  sizes of the benchmark and the storm
#   MDEV_RACE_*           the unmap race's rounds and delay (unmap_race.sh)
#   MDEV_SWEEP_*          which allocations fault_injection.sh fails
#   MDEV_VMM_DRIVERS      the vendor drivers vmm.sh hands to QEMU
#   MDEV_VFIO_MODES=type1v2,type1v1,cdev  the IOMMU modes in which the tests
#                         run the VFIO clients (mdev_lib.sh; default type1v2)

export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmpfs /tmp
# devtmpfs has no /dev/std* links (udev makes them); the kselftest runner
# writes its log to /dev/stdout.
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
mkdir -p /run && mount -t tmpfs tmpfs /run
export MDEV_CORE=${MDEV_CORE:-rust}
# Whether kobject releases are delayed (the stress kernel), for mdev_lib.sh's
# kobject_release_delayed: reading /proc/kallsyms is slow under TCG, so
# run-vm.sh passes it when the kernel's .config is at hand.
if [ -z "${MDEV_KOBJECT_RELEASE_DELAYED:-}" ]; then
	MDEV_KOBJECT_RELEASE_DELAYED=no
	grep -q ' kobject_delayed_cleanup$' /proc/kallsyms && MDEV_KOBJECT_RELEASE_DELAYED=yes
fi
export MDEV_KOBJECT_RELEASE_DELAYED
export HOME=/root

# kmemleak's periodic scan of all memory is slow under TCG; splat_check.sh
# scans explicitly after the tests, which is what it judges.
[ -w /sys/kernel/debug/kmemleak ] && echo scan=off > /sys/kernel/debug/kmemleak

echo "mdev-guest: kernel $(uname -r), core=$MDEV_CORE, mode=${MDEV_GUEST_MODE:-tests}"
cd /kselftest || exit 1
case "${MDEV_GUEST_MODE:-tests}" in
splat-selftest)
	# Negative test of the splat detector: make the kernel warn on purpose,
	# then run only the detector, which must fail.
	modprobe splat_selftest
	./run_kselftest.sh -t mdev:splat_check.sh
	;;
demo)
	/usr/bin/mdev-demo || echo "mdev-guest: demo failed"
	;;
bench)
	/usr/bin/mdev-bench || echo "mdev-guest: bench failed"
	;;
script)
	# Developer aid: run-vm.sh --script FILE runs FILE here instead of the tests.
	sh /script.sh
	;;
*)
	# MDEV_TESTS=a.sh,b.sh runs only those tests, and MDEV_TEST_TIMEOUT
	# replaces the settings file's timeout (make stress, developers).
	# shellcheck disable=SC2046
	./run_kselftest.sh ${MDEV_TEST_TIMEOUT:+-o $MDEV_TEST_TIMEOUT} \
		$(echo "$MDEV_TESTS" | tr ',' '\n' | sed '/^$/d; s/^/-t mdev:/')
	;;
esac
echo "mdev-guest: finished with status $?"
echo "mdev-guest: done"
sync
poweroff -f
