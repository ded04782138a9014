#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/guest/kunit-tap.sh, which reads the KUnit suite's results in the
# guest (make check-debug only: Debian's kernels lack KUnit), checked on
# the host against results files in KUnit's debugfs format
# (tools/testdata/kunit/: written from lib/kunit's format strings, 6.1's
# "ok 1 - name" and later kernels' "ok 1 name", not captured from a run;
# a whole pass, a skip, and each way a run can go wrong).  Each must give
# the expected verdict and the expected result line.  TAP out; exits
# non-zero when any differs.
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

data=$SCULL_ROOT/tools/testdata/kunit
# results file | cases declared | status (0 pass, 1 fail) | a line of the output
cases=(
	"pass-6.1.results|10|0|ok 11 kunit.scull_storage"
	"pass-later.results|10|0|ok 11 kunit.scull_storage"
	"skip.results|10|0|ok 9 kunit.capacity_test # SKIP no capacity here"
	"case-fails.results|10|1|not ok 8 kunit.write_undo_test"
	"case-fails.results|10|1|not ok 11 kunit.scull_storage # not ok 1 - scull_storage"
	"zero-cases.results|10|1|not ok 11 kunit.scull_storage # KUnit's plan is 0, the module declares 10"
	"zero-cases.results|10|1|not ok 1 kunit.case_1 # declared, and no result"
	"zero-cases.results|0|1|not ok 1 kunit.scull_storage # the module declares no case"
	"missing.results|10|1|not ok 11 kunit.scull_storage # no results ($data/missing.results)"
	"suite-not-ok.results|10|1|not ok 11 kunit.scull_storage # not ok 1 - scull_storage"
	"cases-lost.results|10|1|not ok 11 kunit.scull_storage # 7 case results, 10 declared"
	"cases-lost.results|10|1|not ok 10 kunit.case_10 # declared, and no result"
	"no-suite-line.results|10|1|not ok 11 kunit.scull_storage # no result line for the suite"
	"pass-6.1.results|9|1|not ok 11 kunit.scull_storage # KUnit's plan is 10, the module declares 9"
	"pass-6.1.results||1|not ok 11 kunit.scull_storage # the module declares no case"
)
echo "TAP version 13"
echo "1..${#cases[@]}"
n=0 bad=0
for c in "${cases[@]}"; do
	IFS='|' read -r file declared want line <<<"$c"
	n=$((n + 1))
	set +e
	# shellcheck disable=SC2016  # expanded by the inner shell
	out=$(sh -c '. "$1/ktap.sh" && . "$1/kunit-tap.sh" && kunit_tap scull_storage "$2" "$3"' \
		sh "$SCULL_ROOT/tools/guest" "$data/$file" "$declared" 2>&1)
	rc=$?
	set -e
	[ "$rc" -eq 0 ] || rc=1
	if [ "$rc" -eq "$want" ] && grep -qxF -- "$line" <<<"$out"; then
		echo "ok $n $file ($declared declared): $line"
	else
		printf '%s\n' "$out" | sed 's/^/# /'
		echo "not ok $n $file ($declared declared): expected status $want and \"$line\", seen status $rc"
		bad=$((bad + 1))
	fi
done
[ "$bad" -eq 0 ]
