# SPDX-License-Identifier: GPL-2.0
#
# Build support for Rust mdev vendor drivers.  A vendor driver's Kbuild
# names its Rust objects and includes this file:
#
#   obj-m += my_vendor.o
#   mdev_vendor_objs := my_vendor.o
#   include <path to mdev-rs>/vendor_api.mk
#
# and its crate root includes the API source (see
# Documentation/rust-vendor-driver.rst):
#
#   #[path = "<path to mdev-rs>/mdev_vendor_api.rs"]
#   pub mod mdev_vendor_api;
#
# This generates the vendor bindings in the vendor's build directory and
# tells the API source where they are (MDEV_VENDOR_BINDINGS, read by env!
# at compile time): a Rust module cannot use another module's crate, so
# every vendor crate compiles the API, and its bindings, itself.

mdev_rs_dir := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
include $(mdev_rs_dir)/bindgen.mk

mdev_vendor_bindings := $(obj)/mdev_vendor_bindings_generated.rs

$(mdev_vendor_bindings): mdev_bindgen_allow := \
	--allowlist-type 'mdev_.*|vfio_.*' \
	--allowlist-type 'kvm|iommufd_(access|ctx|device)' \
	--allowlist-var 'VFIO_.*' \
	--allowlist-function 'mdev_(un)?register_(parent|driver)' \
	--allowlist-function '_vfio_alloc_device|vfio_register_emulated_iommu_dev' \
	--allowlist-function 'vfio_unregister_group_dev|vfio_set_irqs_validate_and_prepare' \
	--allowlist-function 'vfio_info_add_capability' \
	--allowlist-function 'vfio_iommufd_emulated_.*' \
	--allowlist-function 'vfio_(un)?pin_pages|vfio_dma_rw' \
	--allowlist-function 'vfio_mig_get_next_state|anon_inode_getfile' \
	--allowlist-function 'iova_bitmap_set' \
	--allowlist-var 'IOMMU_(READ|WRITE)' \
	--allowlist-type 'mdev_rs_.*' \
	--allowlist-function '__symbol_(get|put)' \
	--allowlist-type 'wait_bit_queue_entry|wait_bit_key' \
	--allowlist-function '__var_waitqueue|init_wait_var_entry|wake_up_var'
$(mdev_vendor_bindings): $(mdev_rs_dir)/vendor_bindings.h FORCE
	$(call if_changed_dep,mdev_bindgen)
targets += mdev_vendor_bindings_generated.rs

$(addprefix $(obj)/,$(mdev_vendor_objs)): $(mdev_vendor_bindings)
$(addprefix $(obj)/,$(mdev_vendor_objs)): \
	export MDEV_VENDOR_BINDINGS := $(abspath $(mdev_vendor_bindings))
