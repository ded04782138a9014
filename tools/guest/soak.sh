#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# make soak, inside the guest: the long runs the suite keeps short.
#   diff.soak:   SCULL_DIFF_SEEDS seeds x SCULL_DIFF_OPS operations against
#                tmpfs (default 100 x 100,000: ten million), split between
#                minors 2 and 3, one process per CPU
#   stress.soak: SCULL_STRESS_SECONDS of the concurrency stress (600)
cd /opt/scull || exit 1

seeds=${SCULL_DIFF_SEEDS:-100}
half=$((seeds / 2))

echo "TAP version 13"
if ./scull_load; then
	echo "ok - guest.scull_load"
else
	echo "not ok - guest.scull_load"
fi
SCULL_DIFF_MINOR=2 SCULL_DIFF_FIRST=1000 SCULL_DIFF_SEEDS=$half ./tests/diff diff.soak &
SCULL_DIFF_MINOR=3 SCULL_DIFF_FIRST=$((1000 + half)) SCULL_DIFF_SEEDS=$((seeds - half)) \
	./tests/diff diff.soak &
wait
./tests/stress stress.soak
if ./scull_unload; then
	echo "ok - guest.scull_unload"
else
	echo "not ok - guest.scull_unload"
fi
