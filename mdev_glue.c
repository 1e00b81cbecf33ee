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
 * - The release trampoline of the Rust vendor API's VFIO devices
 *   (mdev_rs_vfio.h): a function whose code must be in mdev.ko, not in the
 *   vendor module, and which reads the layout of struct vfio_device.
 * - Fault hooks of test builds (MDEV_FAULT_HOOKS=1), as module parameters.
 * - The module version (the Rust module! macro has no such field): the
 *   package version of dkms.conf, passed by Kbuild.  It must stay above the
 *   C core's "0.1", or DKMS refuses to install over the kernel's mdev.ko.
 */
#include <linux/list.h>
#include <linux/mdev.h>
#include <linux/delay.h>
#include <linux/module.h>
#include <linux/wait_bit.h>

#include "mdev_rs_vfio.h"

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
void mdev_rs_fault_unregister_delay(void);

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

#ifdef MDEV_RS_FAULT_HOOKS
/*
 * Test builds only (MDEV_FAULT_HOOKS=1): how long the end of the vendor's
 * part of each release is delayed, with a log line once it is over.  The
 * vendor's module must not be let go before that line
 * (tools/testing/selftests/mdev/unload_race.sh).
 */
static unsigned int release_delay_ms;
module_param(release_delay_ms, uint, 0644);
MODULE_PARM_DESC(release_delay_ms, "test hook: delay the end of the vendor's part of each VFIO device release");

/*
 * How long a parent's unregistration sleeps after it marked a device as
 * being removed and before it deletes it: the window in which a `remove`
 * write must answer ENODEV, as on the C core (unreg_errno.sh).
 */
static unsigned int unregister_delay_ms;
module_param(unregister_delay_ms, uint, 0644);
MODULE_PARM_DESC(unregister_delay_ms, "test hook: sleep between marking and deleting each device of an unregistering parent");
#endif

/* Called by mdev_core.rs; does nothing unless built with the fault hooks. */
void mdev_rs_fault_unregister_delay(void)
{
#ifdef MDEV_RS_FAULT_HOOKS
	if (READ_ONCE(unregister_delay_ms))
		msleep(READ_ONCE(unregister_delay_ms));
#endif
}

/*
 * The ops->release of every VFIO device of the Rust vendor API, when it runs
 * on this core: the vendor's drop, then the count its module's unloading
 * waits for.  From the decrement on, only this module's code runs, and the
 * counter is not read again (wake_up_var() only hashes its address).
 */
void mdev_rs_vfio_release(struct vfio_device *vdev)
{
	struct mdev_rs_vfio_device *dev =
		container_of(vdev, struct mdev_rs_vfio_device, vdev);
	atomic_long_t *unreleased = dev->release.unreleased;

	dev->release.drop(vdev);
#ifdef MDEV_RS_FAULT_HOOKS
	/*
	 * The vendor's part of the release is over only after the decrement
	 * below; the old vendor API decremented in the vendor's module and
	 * returned through it, which this delay models.
	 */
	if (READ_ONCE(release_delay_ms)) {
		msleep(READ_ONCE(release_delay_ms));
		pr_info("release hook: the vendor's part of a release ended %u ms late\n",
			READ_ONCE(release_delay_ms));
	}
#endif
	/* Fully ordered: the waiter sees the drop done, and is seen waiting. */
	if (atomic_long_dec_and_test(unreleased))
		wake_up_var(unreleased);
}
EXPORT_SYMBOL_GPL(mdev_rs_vfio_release);

MODULE_VERSION(MDEV_RS_VERSION);
