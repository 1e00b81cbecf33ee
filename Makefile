# SPDX-License-Identifier: GPL-2.0
#
# mdev-rs: the VFIO mediated-device core as a Rust-for-Linux module.
#
#   make demo      boot the test kernel, create and show a mediated device
#   make check     run the test suite under QEMU (MDEV_CORE=rust|c for one core)
#   make modules   build the modules (KDIR=<Rust-enabled 7.2 build or headers> or the test kernel)
#   make install   build and install under /lib/modules/<release>/updates (KDIR=, INSTALL_MOD_PATH=)
#   make uninstall undo make install
#   make check-debian  the suite on Debian's own 7.2 kernel, installed as a user would
#   make bench     both cores on a production-configured kernel: results/bench/
#   make stress    the storm and malformed input under KASAN and KCSAN kernels
#   make vmm       QEMU (vfio-pci) as the VMM of every vendor driver's devices
#   make vmm-guest QEMU boots a guest whose own drivers drive the devices
#   make CLIPPY=1 modules, make rustfmt, make rustfmtcheck: lint and format
#
# The kernel build itself reads ./Kbuild; this Makefile is the user's entry.

VM := $(CURDIR)/tools/testing/vm
BUILD := $(CURDIR)/tools/build
CACHE := $(or $(MDEV_CACHE),/var/cache/mdev-rs)

.PHONY: all modules modules_install install uninstall check check-debian demo bench stress vmm vmm-guest setup kernel clean distclean rustfmt rustfmtcheck

all: modules

setup:
	@$(VM)/setup-toolchain.sh

kernel: setup
	@$(VM)/build-kernel.sh

ifeq ($(KDIR),)
modules modules_install clean: setup
	@$(BUILD)/kmake.sh "$$($(VM)/build-kernel.sh)" $(CURDIR) $@
else
modules modules_install clean:
	@$(BUILD)/kmake.sh $(KDIR) $(CURDIR) $@
endif

# Install for the running kernel unless KDIR names another one's build or
# headers directory; INSTALL_MOD_PATH or DESTDIR stage into an image.
INSTALL_KDIR = $(or $(KDIR),/lib/modules/$(shell uname -r)/build)
install uninstall:
	@$(BUILD)/install.sh $@ $(INSTALL_KDIR)

# Format with the kernel's rustfmt configuration (rustfmtcheck only checks).
rustfmt: kernel
	@$(VM)/rustfmt.sh
rustfmtcheck: kernel
	@$(VM)/rustfmt.sh --check

check:
	@$(VM)/check.sh

demo:
	@$(VM)/run-vm.sh --mode demo --core $(or $(MDEV_CORE),rust)

# Both cores measured on the benchmark kernel (built on first use): cost per
# create and remove as the population grows to 64k devices, concurrency,
# mutex hold time and memory, over 3 boots; writes results/bench/ (table,
# CSV, plot).  MDEV_BENCH_* variables resize it (Documentation/benchmark.rst).
bench:
	@$(CURDIR)/tools/testing/bench/bench.sh

# The storm (many writers, collisions, vendor reloads) and the malformed-input
# table at full size: the Rust core on a KASAN kernel with delayed kobject
# release, the C core there and on a KCSAN kernel for reference; both
# kernels are built with LLVM on first use (Documentation/testing.rst).
stress:
	@$(CURDIR)/tools/testing/stress/stress.sh

# QEMU inside the test guest as the VMM of our devices, on both cores: every
# vendor driver's devices realized, driven through qtest, hot-unplugged and
# removed while held (make vmm); a whole inner machine whose 8250_pci and
# mdpy-fb drive them (make vmm-guest, minutes).  See Documentation/vmm.rst.
vmm:
	@$(CURDIR)/tools/testing/vmm/vmm.sh
vmm-guest:
	@$(CURDIR)/tools/testing/vmm/vmm.sh --guest

# The suite on Debian's own 7.2 kernel image, with the modules built for it
# and installed into its module tree as `make install` does (see
# Documentation/testing.rst).
check-debian:
	@$(CURDIR)/tools/testing/debian/check-debian.sh

# Forget every cached toolchain, kernel build and guest image.
distclean: clean
	rm -rf $(CACHE)
