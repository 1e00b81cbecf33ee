// SPDX-License-Identifier: GPL-2.0
/*
 * C glue of the Rust mdev core: only what Rust cannot express.
 *
 * - The exported ABI of include/linux/mdev.h.  Each function is a one-line
 *   wrapper of its Rust implementation, so that the compiler checks it
 *   against the header's prototype and EXPORT_SYMBOL works as for any C
 *   module (the C core exports them the same way, not GPL-only).
 * - list_del(), a static inline function the kernel crate has no helper for.
 * - The wait for a type's kobject release, made of the wait_var_event() and
 *   store_release_wake_up() macros.
 * - The module version (the Rust module! macro has no such field): the
 *   package version of dkms.conf, passed by Kbuild.  It must stay above the
 *   C core's "0.1", or DKMS refuses to install over the kernel's mdev.ko.
 */
#include <linux/list.h>
#include <linux/mdev.h>
#include <linux/module.h>
#include <linux/wait_bit.h>

/* Implemented in Rust (mdev_core.rs, mdev_driver.rs). */
int mdev_rs_register_parent(struct mdev_parent *parent, struct device *dev,
			    struct mdev_driver *mdev_driver,
			    struct mdev_type **types, unsigned int nr_types);
void mdev_rs_unregister_parent(struct mdev_parent *parent);
int mdev_rs_register_driver(struct mdev_driver *drv);
void mdev_rs_unregister_driver(struct mdev_driver *drv);
void mdev_rs_list_del(struct list_head *entry);
void mdev_rs_type_released(struct mdev_type *mtype);
void mdev_rs_wait_type_released(struct mdev_type *mtype);

int mdev_register_parent(struct mdev_parent *parent, struct device *dev,
			 struct mdev_driver *mdev_driver,
			 struct mdev_type **types, unsigned int nr_types)
{
	return mdev_rs_register_parent(parent, dev, mdev_driver, types, nr_types);
}
EXPORT_SYMBOL(mdev_register_parent);

void mdev_unregister_parent(struct mdev_parent *parent)
{
	mdev_rs_unregister_parent(parent);
}
EXPORT_SYMBOL(mdev_unregister_parent);

int mdev_register_driver(struct mdev_driver *drv)
{
	return mdev_rs_register_driver(drv);
}
EXPORT_SYMBOL(mdev_register_driver);

void mdev_unregister_driver(struct mdev_driver *drv)
{
	mdev_rs_unregister_driver(drv);
}
EXPORT_SYMBOL(mdev_unregister_driver);

/* Called by the global device list (mdev_list.rs) with its mutex held. */
void mdev_rs_list_del(struct list_head *entry)
{
	list_del(entry);
}

/*
 * A type's kobject release has run (mdev_sysfs.rs): clear its parent, which
 * the core set when it added the type, and wake whoever waits for that.
 */
void mdev_rs_type_released(struct mdev_type *mtype)
{
	store_release_wake_up(&mtype->parent, NULL);
}

/*
 * Sleeps until the release of @mtype's kobject has run, so that the vendor
 * may free the memory holding it as soon as mdev_unregister_parent()
 * returns, even with CONFIG_DEBUG_KOBJECT_RELEASE delaying releases.
 */
void mdev_rs_wait_type_released(struct mdev_type *mtype)
{
	wait_var_event(&mtype->parent, !smp_load_acquire(&mtype->parent));
}

MODULE_VERSION(MDEV_RS_VERSION);
