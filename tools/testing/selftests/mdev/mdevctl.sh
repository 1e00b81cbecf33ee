#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The userspace tool mdevctl (Debian's package) manages devices on the core
# under test: types, start, list (also --dumpjson), define, stop.

. ./mdev_lib.sh

ktap_print_header
if ! command -v mdevctl >/dev/null; then
	ktap_skip_all "mdevctl is not installed in the guest"
	exit "$KSFT_SKIP"
fi
ktap_set_plan 10
unload_all
rm -rf /etc/mdevctl.d/mtty
load_vendor mtty || ktap_exit_fail_msg "cannot load mtty on $(core_desc)"
U=$(new_uuid)

types=$(mdevctl types 2>&1)
ktap_check "mdevctl types lists both mtty types with their device API" "mtty-1 mtty-2 2" \
	"$(echo "$types" | grep -oE '^  mtty-[12]' | tr -d ' ' | tr '\n' ' ')$(echo "$types" | grep -c 'Device API: vfio-pci')"
ktap_check "mdevctl start creates a device" "0 yes" \
	"$(mdevctl start -u "$U" -p mtty --type mtty-2 >/dev/null 2>&1; echo $?) $(test -d "$MDEV_BUS/$U" && echo yes)"
ktap_check "mdevctl list shows it" "$U mtty mtty-2 manual" "$(mdevctl list 2>&1 | sed 's/ *$//')"
json=$(mdevctl list --dumpjson 2>&1)
ktap_check "mdevctl list --dumpjson has it under its parent, with its type" "1 1 1" \
	"$(echo "$json" | grep -c '"mtty": \[') $(echo "$json" | grep -c "\"$U\": {") $(echo "$json" | grep -c '"mdev_type": "mtty-2"')"
ktap_check "mdevctl define saves its configuration" "0 yes" \
	"$(mdevctl define -u "$U" >/dev/null 2>&1; echo $?) $(test -f "/etc/mdevctl.d/mtty/$U" && echo yes)"
ktap_check "mdevctl list --defined shows it defined and active" "$U mtty mtty-2 manual (active)" \
	"$(mdevctl list --defined 2>&1 | sed 's/ *$//')"
ktap_check "mdevctl stop removes it" "0 no" \
	"$(mdevctl stop -u "$U" >/dev/null 2>&1; echo $?) $(test -d "$MDEV_BUS/$U" && echo yes || echo no)"
ktap_check "mdevctl start of the defined device creates it again" "0 yes" \
	"$(mdevctl start -u "$U" >/dev/null 2>&1; echo $?) $(test -d "$MDEV_BUS/$U" && echo yes)"
ktap_check "mdevctl start of a running UUID fails" 1 \
	"$(mdevctl start -u "$U" -p mtty --type mtty-1 >/dev/null 2>&1; echo $?)"
mdevctl stop -u "$U" >/dev/null 2>&1
ktap_check "mdevctl undefine forgets it" "0 no" \
	"$(mdevctl undefine -u "$U" >/dev/null 2>&1; echo $?) $(test -e "/etc/mdevctl.d/mtty/$U" && echo yes || echo no)"

unload_all
ktap_finished
