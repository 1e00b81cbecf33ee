#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Kernel uevent helper of the test guest: one line per event in
# /run/uevents.log with the action, the device path and the environment.
echo "$ACTION $DEVPATH $(env | grep -E '^(MDEV_STATE|SUBSYSTEM|DRIVER)=' | sort | tr '\n' ' ')" >> /run/uevents.log
