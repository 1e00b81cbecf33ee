#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The mdev core under test loads, registers its bus and unloads cleanly.

. ./mdev_lib.sh

ktap_print_header
ktap_set_plan 4
unload_all

core=$(core_module)
ktap_assert "core module $core loads" load_core
ktap_assert "core module $core is listed in /proc/modules" is_loaded "$core"
ktap_assert "bus mdev is registered" test -d /sys/bus/mdev
ktap_assert "core module $core unloads" unload_module "$core"
unload_all
ktap_finished
