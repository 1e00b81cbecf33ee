# SPDX-License-Identifier: GPL-2.0
#
# mdev-rs: the VFIO mediated-device core as a Rust-for-Linux module.
#
#   make demo      boot the test kernel, create and show a mediated device
#   make check     run the test suite under QEMU (MDEV_CORE=rust|c for one core)
#   make modules   build the modules (KDIR=<Rust-enabled 7.2 build> or the test kernel)
#   make CLIPPY=1 modules, make rustfmt, make rustfmtcheck: lint and format
#
# The kernel build itself reads ./Kbuild; this Makefile is the user's entry.

VM := $(CURDIR)/tools/testing/vm
CACHE := $(or $(MDEV_CACHE),/var/cache/mdev-rs)

.PHONY: all modules modules_install check demo bench setup kernel clean distclean rustfmt rustfmtcheck

all: modules

setup:
	@$(VM)/setup-toolchain.sh

kernel: setup
	@$(VM)/build-kernel.sh

ifeq ($(KDIR),)
modules modules_install clean: setup
	@$(VM)/kmake.sh "$$($(VM)/build-kernel.sh)" $(CURDIR) $@
else
modules modules_install clean:
	@$(VM)/kmake.sh $(KDIR) $(CURDIR) $@
endif

# Format with the kernel's rustfmt configuration (rustfmtcheck only checks).
rustfmt: kernel
	@$(VM)/rustfmt.sh
rustfmtcheck: kernel
	@$(VM)/rustfmt.sh --check

check:
	@$(VM)/check.sh

demo:
	@$(VM)/run-vm.sh --mode demo --core $(or $(MDEV_CORE),rust)

# Create/remove cost with 50 and with 50,000 devices, C core vs Rust core,
# in one boot (MDEV_BENCH_LARGE=N for another size).
bench:
	@$(VM)/run-vm.sh --mode bench --timeout 3600

# Forget every cached toolchain, kernel build and guest image.
distclean: clean
	rm -rf $(CACHE)
