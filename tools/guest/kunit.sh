#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The storage layer's KUnit suite (src/storage_kunit.c, scull_kunit.ko,
# built against kernels with KUnit: the sanitizer kernel), run as a test
# program: loading the module runs the suite; its results, read from
# debugfs, come out as this program's TAP, one line per KUnit case.
cd /opt/scull || exit 1
# shellcheck source=tools/guest/ktap.sh
. guest/ktap.sh

results=/sys/kernel/debug/kunit/scull_storage/results
ktap_print_header
if ! insmod scull_kunit.ko; then
	ktap_set_plan 1
	ktap_test_fail kunit.scull_storage "insmod scull_kunit.ko failed"
	ktap_finished
	exit
fi
# the cases' own lines: "    ok 1 - name" (the suite's line is not indented)
cases=/tmp/kunit.cases
grep -E '^[[:space:]]+(not )?ok [0-9]+ ' "$results" >"$cases"
sed 's/^/# /' "$results"
rmmod scull_kunit
ktap_set_plan "$(grep -c . "$cases")"
while read -r ok rest; do
	[ "$ok" = ok ] || rest=${rest#ok }
	rest=${rest#* }
	rest=${rest#- }
	name=${rest%% *}
	case "$ok:$rest" in
	not:*) ktap_test_fail "kunit.$name" ;;
	*"# SKIP"*) ktap_test_skip "kunit.$name" "${rest#*# SKIP }" ;;
	*) ktap_test_pass "kunit.$name" ;;
	esac
done <"$cases"
ktap_finished
