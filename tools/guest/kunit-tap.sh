#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A KUnit suite's debugfs results as this program's TAP (ktap.sh's): one
# result per case, then the suite's own.  Source ktap.sh and this, then:
#
#   kunit_tap SUITE RESULTS DECLARED
#
# RESULTS is a copy of /sys/kernel/debug/kunit/SUITE/results; DECLARED the
# number of cases the module declares (its KUNIT_CASE() lines).  The plan
# is DECLARED + 1 whatever RESULTS holds, so nothing passes by being left
# out: the suite's result is "not ok" unless RESULTS exists, KUnit's plan
# for the suite ("    1..N") says DECLARED, that many cases reported, and
# the suite's own line (not indented: "ok 1 - SUITE") is "ok"; a declared
# case without a result line is a failure of its own.  DECLARED must be at
# least 1.  Returns ktap_finished's status.
#
# The format, from KUnit's debugfs (lib/kunit/debugfs.c, test.c), 6.1 on:
#       # Subtest: scull_storage
#       1..10
#       ok 1 - pos_decode_test        (6.1; later kernels drop the "- ")
#       not ok 2 - hole_test
#       ok 3 - limit_test # SKIP why
#   ok 1 - scull_storage
kunit_tap() {
	kunit_suite=$1
	kunit_results=$2
	kunit_declared=$3
	kunit_why=
	case "$kunit_declared" in
	'' | *[!0-9]*) kunit_declared=0 ;;
	esac
	[ "$kunit_declared" -ge 1 ] || kunit_why="the module declares no case"
	ktap_set_plan $((kunit_declared + 1))
	if [ ! -r "$kunit_results" ]; then
		kunit_plan='' kunit_seen=0 kunit_line=''
		kunit_why=${kunit_why:-"no results ($kunit_results)"}
	else
		sed 's/^/# /' "$kunit_results"
		kunit_plan=$(sed -n 's/^[[:space:]]\{1,\}1\.\.\([0-9]\{1,\}\)[[:space:]]*$/\1/p' \
			"$kunit_results" | head -n 1)
		# the suite's own line: not indented, naming the suite
		kunit_line=$(grep -E "^(not )?ok [0-9]+ (- )?$kunit_suite( |\$)" \
			"$kunit_results" | tail -n 1)
		kunit_seen=0
		# the cases' lines: "    ok 1 - name" (indented)
		while read -r kunit_ok kunit_rest; do
			case "$kunit_ok:$kunit_rest" in
			ok:[0-9]* | not:ok\ [0-9]*) ;;
			*) continue ;;
			esac
			[ "$kunit_ok" = ok ] || kunit_rest=${kunit_rest#ok }
			kunit_rest=${kunit_rest#* }
			kunit_rest=${kunit_rest#- }
			kunit_name=${kunit_rest%% *}
			kunit_seen=$((kunit_seen + 1))
			case "$kunit_ok:$kunit_rest" in
			not:*) ktap_test_fail "kunit.$kunit_name" ;;
			*"# SKIP"*) ktap_test_skip "kunit.$kunit_name" "${kunit_rest#*# SKIP }" ;;
			*) ktap_test_pass "kunit.$kunit_name" ;;
			esac
		done <<-KUNIT_CASES
			$(grep -E '^[[:space:]]+(not )?ok [0-9]+ ' "$kunit_results")
		KUNIT_CASES
	fi
	# every declared case that printed no result
	kunit_i=$kunit_seen
	while [ "$kunit_i" -lt "$kunit_declared" ]; do
		kunit_i=$((kunit_i + 1))
		ktap_test_fail "kunit.case_$kunit_i" "declared, and no result"
	done
	if [ -z "$kunit_why" ]; then
		if [ -z "$kunit_line" ]; then
			kunit_why="no result line for the suite"
		elif [ "$kunit_plan" != "$kunit_declared" ]; then
			kunit_why="KUnit's plan is ${kunit_plan:-missing}, the module declares $kunit_declared"
		elif [ "$kunit_seen" -ne "$kunit_declared" ]; then
			kunit_why="$kunit_seen case results, $kunit_declared declared"
		fi
	fi
	case "$kunit_why:$kunit_line" in
	:ok\ *) ktap_test_pass "kunit.$kunit_suite" ;;
	:*) ktap_test_fail "kunit.$kunit_suite" "$kunit_line" ;;
	*) ktap_test_fail "kunit.$kunit_suite" "$kunit_why" ;;
	esac
	ktap_finished
}
