#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The storage layer's KUnit suite (src/storage_kunit.c, scull_kunit.ko,
# built against kernels with KUnit: the sanitizer kernel), run as a test
# program: loading the module runs the suite; its results, read from
# debugfs, come out as this program's TAP, one line per KUnit case and
# one for the suite (tools/guest/kunit-tap.sh), against the number of
# cases the source declares (scull_kunit.cases, written at build time).
cd /opt/scull || exit 1
# shellcheck source=tools/guest/ktap.sh
. guest/ktap.sh
# shellcheck source=tools/guest/kunit-tap.sh
. guest/kunit-tap.sh

results=/tmp/kunit.results
ktap_print_header
if ! insmod scull_kunit.ko; then
	ktap_set_plan 1
	ktap_test_fail kunit.scull_storage "insmod scull_kunit.ko failed"
	ktap_finished
	exit
fi
rm -f "$results"
cp /sys/kernel/debug/kunit/scull_storage/results "$results"
rmmod scull_kunit
kunit_tap scull_storage "$results" "$(cat scull_kunit.cases)"
