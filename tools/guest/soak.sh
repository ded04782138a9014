#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# make soak, inside the guest: the long runs the suite keeps short.
#   diff.soak:   SCULL_DIFF_SEEDS seeds x SCULL_DIFF_OPS operations against
#                tmpfs (default 100 x 100,000: ten million), split between
#                minors 2 and 3, one process for each, at once
#   stress.soak: SCULL_STRESS_SECONDS of the concurrency stress (600)
# Each program is one result, from its exit status, with its TAP nested;
# tools/collect.sh checks that each ran exactly the test it was asked for.
cd /opt/scull || exit 1
# shellcheck source=tools/guest/ktap.sh
. guest/ktap.sh

seeds=${SCULL_DIFF_SEEDS:-100}
half=$((seeds / 2))
out=$(mktemp -d)

ktap_print_header
ktap_set_plan 5
ktap_test_result guest.scull_load ./scull_load
# the two halves run at once: their output is kept apart, then shown
(
	SCULL_DIFF_MINOR=2 SCULL_DIFF_FIRST=1000 SCULL_DIFF_SEEDS=$half \
		./tests/diff diff.soak >"$out/a" 2>&1
	echo $? >"$out/a.rc"
) &
(
	SCULL_DIFF_MINOR=3 SCULL_DIFF_FIRST=$((1000 + half)) \
		SCULL_DIFF_SEEDS=$((seeds - half)) ./tests/diff diff.soak >"$out/b" 2>&1
	echo $? >"$out/b.rc"
) &
wait
ktap_prog_result diff "$out/a" "$(cat "$out/a.rc")"
ktap_prog_result diff "$out/b" "$(cat "$out/b.rc")"
ktap_run_prog stress ./tests/stress stress.soak
ktap_test_result guest.scull_unload ./scull_unload
rm -rf "$out"
ktap_finished
