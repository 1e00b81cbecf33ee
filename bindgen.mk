# SPDX-License-Identifier: GPL-2.0
#
# The bindgen rule shared by the core's Kbuild and by Rust vendor drivers
# (through vendor_api.mk): a Rust view of a header of ours, generated with
# the including module's own C flags so that every layout matches the kernel
# configuration.  Each generated file sets `mdev_bindgen_allow`, the
# allowlist of what it needs; what those items refer to (struct device,
# kobject, ...) comes from the kernel crate's bindings.  The C flags are
# filtered exactly as the kernel's rust/Makefile filters them for its own
# bindings: that list is read from the kernel source, not copied.

ifndef mdev_bindgen_included
mdev_bindgen_included := y

$(eval $(shell sed -n '/^bindgen_skip_c_flags :=/,/[^\\]$$/p' $(srctree)/rust/Makefile))

mdev_bindgen_target := $(if $(CONFIG_X86_64),x86_64-linux-gnu,$(error only x86_64 is supported))

quiet_cmd_mdev_bindgen = BINDGEN $@
      cmd_mdev_bindgen = \
	$(BINDGEN) $< --rust-target 1.85 --use-core --ctypes-prefix kernel::ffi \
		--no-layout-tests --no-debug '.*' --no-doc-comments \
		$(mdev_bindgen_allow) --no-recursive-allowlist \
		--raw-line 'use kernel::bindings::*;' \
		-o $@ -- $(filter-out $(bindgen_skip_c_flags), $(c_flags)) \
		-w --target=$(mdev_bindgen_target) -fno-builtin -D__BINDGEN__ -DMODULE
endif
