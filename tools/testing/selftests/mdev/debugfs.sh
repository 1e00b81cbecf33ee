#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /sys/kernel/debug/mdev/devices lists every device in creation order with
# its parent, type and state (reserved / active / removing).  An improvement
# of the Rust core: the C core has no such file.

. ./mdev_lib.sh

ktap_print_header
if [ "$MDEV_CORE" = c ]; then
	ktap_skip_all "the device list in debugfs is an improvement of the Rust core"
	exit "$KSFT_SKIP"
fi
ktap_set_plan 6
unload_all
tv_load || ktap_exit_fail_msg "cannot load $TV on $(core_desc)"
LIST=/sys/kernel/debug/mdev/devices

u1=$(new_uuid) u2=$(new_uuid) u3=$(new_uuid)
create "$(tv_type 1 b)" "$u1" >/dev/null
create "$(tv_type 0 a)" "$u2" >/dev/null
ktap_check "active devices are listed in creation order with parent and type" \
	"$u1 mdev_test1 mdev_test-b active;$u2 mdev_test0 mdev_test-a active;" "$(tr '\n' ';' < $LIST)"

tv_param hold_ops 1
create "$(tv_type 0 a)" "$u3" >/dev/null &
wait_for 20 ops_running_is 1
ktap_check "a device in its create op is listed as reserved" "$u3 mdev_test0 mdev_test-a reserved" \
	"$(grep "^$u3" $LIST)"
tv_param hold_ops 0
wait

tv_param hold_ops 1
remove "$u1" >/dev/null &
wait_for 20 ops_running_is 1
ktap_check "a device in its remove op is listed as removing" "$u1 - - removing" "$(grep "^$u1" $LIST)"
tv_param hold_ops 0
wait
ktap_check "a removed device is no longer listed" 0 "$(grep -c "^$u1" $LIST)"

unload_module $TV
ktap_check "the list is empty once the parents are gone" "" "$(cat $LIST)"

# The file is formatted from a copy of the list, without the list's mutex:
# read it in a loop while devices come and go and their parents unregister
# under it (the copy's type references keep the names it prints).  A
# hundred devices (about 8 KiB of text) make the text outgrow seq_file's
# first buffer, so reads also format it again, from a new copy.
tv_load max_instances=400 quiet=1
out=/tmp/debugfs.loop
: > $out.lines
echo 0 > $out.reads
touch $out.run
(
	reads=0
	while [ -e $out.run ]; do
		cat $LIST >> $out.lines
		reads=$((reads + 1))
	done
	echo $reads > $out.reads
) &
reader=$!
./mdev_bench grow "$(tv_type 0 a)" 60 11 >/dev/null
./mdev_bench grow "$(tv_type 1 b)" 60 12 >/dev/null
./mdev_bench drain "$(tv_type 0 a)" >/dev/null
./mdev_bench grow "$(tv_type 0 b)" 40 13 >/dev/null
unload_module $TV
rm $out.run
wait $reader
uuid='[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
ktap_check "read in a loop while devices and parents go: whole reads, and every line well-formed" \
	"reads 0 bad lines" \
	"$(sed 's/^[1-9][0-9]*$/reads/' $out.reads) $(grep -cvE "^$uuid (mdev_test[01] mdev_test-[ab] (reserved|active)|- - removing)$" $out.lines) bad lines"
rm -f $out.lines $out.reads
unload_all
ktap_finished
