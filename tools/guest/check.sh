#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The suite, inside the guest: load with ./scull_load, run every test
# program (TESTS= narrows them), unload with ./scull_unload.  Prints TAP
# lines; the host numbers and counts them.
cd /opt/scull || exit 1

tap() {
	# tap NAME COMMAND...: one result line for a command
	name=$1
	shift
	if out=$("$@" 2>&1); then
		echo "ok - $name"
	else
		echo "$out" | sed 's/^/# /'
		echo "not ok - $name"
	fi
}

echo "TAP version 13"
# kmemleak (debug kernel only): forget boot's objects, check after the
# suite and after unloading
sh guest/kmemleak.sh start
tap guest.scull_load ./scull_load
for prog in $PROGS; do
	# shellcheck disable=SC2086  # TESTS is a list of patterns
	./tests/"$prog" $TESTS
done
# the module tests end with scull unloaded: load it back to unload it
[ -d /sys/module/scull ] || ./scull_load >/dev/null
sh guest/kmemleak.sh check after_suite
tap guest.scull_unload ./scull_unload
sh guest/kmemleak.sh check after_unload
