/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a VFIO device made by the Rust vendor API (vfio_glue.rs) shares with
 * the Rust core's release trampoline (mdev_glue.c).
 *
 * VFIO calls a device's ops->release when the last reference on it goes,
 * which may be long after the vendor's remove op returned, and then frees the
 * device.  If release pointed into the vendor module, that module could be
 * unloaded while the release still runs there.  On the Rust core it points to
 * mdev_rs_vfio_release() instead, which lives in mdev.ko, a module every
 * vendor module depends on: the trampoline calls the vendor's drop through
 * the hook that follows the vfio_device, and only then counts the device out,
 * so the vendor's last instruction has run before its module may go.
 * The trampoline's own last instructions run in mdev.ko, which cannot be
 * unloaded before every vendor module is: only an rmmod of mdev.ko within
 * those few instructions, right after the last vendor's unload, would
 * race them.
 */
#ifndef MDEV_RS_VFIO_H
#define MDEV_RS_VFIO_H

#include <linux/atomic.h>
#include <linux/vfio.h>

/* How the trampoline finishes the release of one device. */
struct mdev_rs_release_hook {
	/* Drops the vendor's state of @vdev; runs in the vendor module. */
	void (*drop)(struct vfio_device *vdev);
	/*
	 * The vendor module's count of devices not released yet; the
	 * trampoline decrements it after @drop returned and wakes its waiter
	 * (wake_up_var()).  It may be freed as soon as it reads zero.
	 */
	atomic_long_t *unreleased;
};

/* The head of every VFIO device of the Rust vendor API. */
struct mdev_rs_vfio_device {
	struct vfio_device vdev;
	struct mdev_rs_release_hook release;
};

void mdev_rs_vfio_release(struct vfio_device *vdev);

#endif /* MDEV_RS_VFIO_H */
