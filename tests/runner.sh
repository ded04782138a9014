#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run test programs the way the kernel's kselftest/runner.sh runs a
# directory's (make run_tests): one KTAP result per program, named
# "selftests: scull: PROG", its own TAP nested above it as "# " lines,
# each program stopped after the settings file's timeout; then a totals
# line.  Exits 1 if a program failed.
#
#   runner.sh [-l] [-t PATTERN]... PROG...
#
# TESTS (environment) holds fnmatch patterns over "prog" and "prog.test",
# as `make check TESTS=...` takes them, and each -t PATTERN adds one (as
# kselftest's run_kselftest.sh -t picks a test): only the programs with a
# selected test run, and they get the patterns as arguments
# (tests/harness.h).  Patterns that select no test at all fail.  -l lists
# the selected tests, "scull:prog.test", and runs nothing.  kselftest_override_timeout
# (environment, as kselftest's runner reads it) replaces the settings'
# timeout.  POSIX sh and busybox's applets suffice.
set -u
set -f

here=$(cd "$(dirname "$0")" && pwd)
collection=scull
TESTS=${TESTS:-}
list=
while [ "$#" -gt 0 ]; do
	case "$1" in
	-t)
		[ "$#" -ge 2 ] || { echo "runner.sh: -t needs a pattern" >&2; exit 2; }
		TESTS="$TESTS $2"
		shift 2
		;;
	-l)
		list=1
		shift
		;;
	*) break ;;
	esac
done

# kselftest's default, then the settings file's (comments allowed)
timeout=45
if [ -r "$here/settings" ]; then
	while IFS='=' read -r field value; do
		case "$field" in
		timeout) timeout=$value ;;
		esac
	done <"$here/settings"
fi
timeout=${kselftest_override_timeout:-$timeout}

pass=0
fail=0
skip=0
num=0

result() {
	num=$((num + 1))
	case "$1" in
	pass)
		pass=$((pass + 1))
		echo "ok $num selftests: $collection: $2"
		;;
	skip)
		skip=$((skip + 1))
		echo "ok $num selftests: $collection: $2 # SKIP $3"
		;;
	*)
		fail=$((fail + 1))
		echo "not ok $num selftests: $collection: $2 # $3"
		;;
	esac
}

# Prefix every line of stdin with "# " as it comes; keep the reason of a
# whole program's skip ("1..0 # SKIP why") in file $1.
nest() {
	while IFS= read -r line || [ -n "$line" ]; do
		echo "# $line"
		case "$line" in
		"1..0 # SKIP "*) printf '%s\n' "${line#1..0 # SKIP }" >"$1" ;;
		esac
	done
}

# The programs with a test that TESTS selects (all of them without
# TESTS); a program that cannot list its tests runs all the same, to
# fail with what it says.
selected=
for prog in "$@"; do
	# shellcheck disable=SC2086  # TESTS is a list of patterns
	if [ -z "$TESTS" ] || [ ! -x "$prog" ] ||
		[ -n "$("$prog" --list $TESTS 2>/dev/null)" ] ||
		[ -z "$("$prog" --list 2>/dev/null)" ]; then
		selected="$selected $prog"
	fi
done

if [ -n "$list" ]; then
	for prog in $selected; do
		# shellcheck disable=SC2086  # TESTS is a list of patterns
		"$prog" --list $TESTS | sed "s/^/$collection:/"
	done
	exit 0
fi

echo "TAP version 13"
if [ -z "$selected" ]; then
	echo "1..1"
	result fail tests_selected "TESTS='$TESTS' selects no test of:$(for p in "$@"; do printf ' %s' "${p##*/}"; done)"
else
	# shellcheck disable=SC2086  # a list of paths
	echo "1..$(set -- $selected && echo $#)"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for prog in $selected; do
	name=${prog##*/}
	echo "# selftests: $collection: $name"
	if [ ! -x "$prog" ]; then
		echo "# Warning: file $prog is missing or not executable"
		result fail "$name" "missing"
		continue
	fi
	echo "# timeout set to $timeout"
	rm -f "$tmp/rc" "$tmp/why"
	started=$(date +%s)
	{
		# shellcheck disable=SC2086  # TESTS is a list of patterns
		(cd "$(dirname "$prog")" && exec timeout "$timeout" "./$name" $TESTS) 2>&1
		echo $? >"$tmp/rc"
	} | nest "$tmp/why"
	rc=$(cat "$tmp/rc")
	# each program's time, so that a slow one shows (CI's budget)
	echo "# time $name $(($(date +%s) - started)) s"
	case "$rc" in
	0) result pass "$name" ;;
	4) result skip "$name" "$(cat "$tmp/why" 2>/dev/null || echo "every selected test skipped")" ;;
	124) result fail "$name" "TIMEOUT $timeout seconds" ;;
	*) result fail "$name" "exit=$rc" ;;
	esac
done
echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:0"
[ "$fail" -eq 0 ]
