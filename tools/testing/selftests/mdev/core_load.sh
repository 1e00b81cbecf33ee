#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The mdev core under test loads, registers its bus and unloads cleanly.
# Both cores are modules named mdev; the one loaded must be the one asked
# for (see core_is_under_test in mdev_lib.sh).

. ./mdev_lib.sh

ktap_print_header
ktap_set_plan 5
unload_all

ktap_assert "$(core_desc) has a module file ($(core_path))" test -n "$(core_path)"
ktap_assert "$(core_desc) loads" load_core
ktap_assert "the loaded mdev module is $(core_desc) (taint: '$(cat /sys/module/mdev/taint 2>/dev/null)')" \
	core_is_under_test
ktap_assert "bus mdev is registered" test -d /sys/bus/mdev
ktap_assert "$(core_desc) unloads" unload_module mdev
unload_all
ktap_finished
