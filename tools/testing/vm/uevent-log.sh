#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Uevent helper of the test guest: one line per event in /run/uevents.log
# with the action, the device path and the variables the tests read, in
# sorted order.  Shell builtins only: it runs for every uevent.
vars=""
[ -n "${DRIVER+set}" ] && vars="${vars}DRIVER=$DRIVER "
[ -n "${MDEV_STATE+set}" ] && vars="${vars}MDEV_STATE=$MDEV_STATE "
[ -n "${SUBSYSTEM+set}" ] && vars="${vars}SUBSYSTEM=$SUBSYSTEM "
echo "$ACTION $DEVPATH $vars" >> /run/uevents.log
