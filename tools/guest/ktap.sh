#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# TAP for the guest's shell pieces (check.sh, soak.sh, bench.sh), printed
# the way kselftest prints it; modelled on the kernel's
# tools/testing/selftests/kselftest/ktap_helpers.sh.  Source it, then:
#
#   ktap_print_header            TAP version 13
#   ktap_set_plan N              1..N
#   ktap_test_pass NAME          ok <n> NAME
#   ktap_test_fail NAME [WHY]    not ok <n> NAME [# WHY]
#   ktap_test_skip NAME WHY      ok <n> NAME # SKIP WHY
#   ktap_test_result NAME CMD... one result for a command; its output as
#                                "# " lines when it fails
#   ktap_run_prog NAME CMD...    a test program: its TAP nested as "# "
#                                lines, the result from its exit status
#                                (kselftest's codes: 0 pass, 4 skip)
#   ktap_prog_result NAME FILE RC  the same for a program run earlier,
#                                its output in FILE, its exit status RC
#   ktap_finished                the totals line; returns 1 if anything
#                                failed or the plan was not kept
# Counters live in KTAP_* variables of the sourcing shell.

# kselftest's exit codes (a failure is any other)
KSFT_PASS=0
KSFT_SKIP=4

KTAP_TESTNO=0
KTAP_PLAN=
KTAP_CNT_PASS=0
KTAP_CNT_FAIL=0
KTAP_CNT_SKIP=0

ktap_print_header() {
	echo "TAP version 13"
}

ktap_set_plan() {
	KTAP_PLAN=$1
	echo "1..$1"
}

ktap_test_pass() {
	KTAP_TESTNO=$((KTAP_TESTNO + 1))
	KTAP_CNT_PASS=$((KTAP_CNT_PASS + 1))
	echo "ok $KTAP_TESTNO $1"
}

ktap_test_fail() {
	KTAP_TESTNO=$((KTAP_TESTNO + 1))
	KTAP_CNT_FAIL=$((KTAP_CNT_FAIL + 1))
	echo "not ok $KTAP_TESTNO $1${2:+ # $2}"
}

ktap_test_skip() {
	KTAP_TESTNO=$((KTAP_TESTNO + 1))
	KTAP_CNT_SKIP=$((KTAP_CNT_SKIP + 1))
	echo "ok $KTAP_TESTNO $1 # SKIP $2"
}

# Prefix every line of stdin with "# " as it comes.
ktap_nest() {
	while IFS= read -r ktap_line || [ -n "$ktap_line" ]; do
		echo "# $ktap_line"
	done
}

ktap_test_result() {
	ktap_name=$1
	shift
	if ktap_out=$("$@" 2>&1); then
		ktap_test_pass "$ktap_name"
	else
		printf '%s\n' "$ktap_out" | ktap_nest
		ktap_test_fail "$ktap_name"
	fi
}

# The result line for a program that exited with status $2.
ktap_prog_status() {
	case "$2" in
	"$KSFT_PASS") ktap_test_pass "$1" ;;
	"$KSFT_SKIP") ktap_test_skip "$1" "exit=$2" ;;
	*) ktap_test_fail "$1" "exit=$2" ;;
	esac
}

ktap_run_prog() {
	ktap_name=$1
	shift
	ktap_rc=$(mktemp)
	{
		"$@" 2>&1
		echo $? >"$ktap_rc"
	} | ktap_nest
	ktap_prog_status "$ktap_name" "$(cat "$ktap_rc")"
	rm -f "$ktap_rc"
}

ktap_prog_result() {
	ktap_nest <"$2"
	ktap_prog_status "$1" "$3"
}

ktap_finished() {
	if [ -n "$KTAP_PLAN" ] && [ "$KTAP_PLAN" -ne "$KTAP_TESTNO" ]; then
		echo "# Planned tests != run tests ($KTAP_PLAN != $KTAP_TESTNO)"
		KTAP_CNT_FAIL=$((KTAP_CNT_FAIL + 1))
	fi
	echo "# Totals: pass:$KTAP_CNT_PASS fail:$KTAP_CNT_FAIL xfail:0 xpass:0 skip:$KTAP_CNT_SKIP error:0"
	[ "$KTAP_CNT_FAIL" -eq 0 ]
}
