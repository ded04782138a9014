#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The suite, inside the guest, run as kselftest's runner runs a directory:
# load with ./scull_load, run every test program that TESTS selects (each
# one result here, its own TAP nested below it as "# " lines), unload with
# ./scull_unload.  TESTS holds fnmatch patterns for the programs, never
# expanded by this shell; a TESTS that selects no test at all fails.
cd /opt/scull || exit 1
# shellcheck source=tools/guest/ktap.sh
. guest/ktap.sh
set -f

# Every program must list at least one test: one that lists none (its
# binary missing, a library the guest lacks) is a failure of its own, never
# a program left out of the plan.  Then the programs with at least one
# selected test.
broken=
selected=
# shellcheck disable=SC2086  # TESTS is a list of patterns
for prog in $PROGS; do
	if [ -z "$(./tests/"$prog" --list 2>/dev/null)" ]; then
		broken="$broken $prog"
	elif [ -n "$(./tests/"$prog" --list $TESTS)" ]; then
		selected="$selected $prog"
	fi
done
# a program that lists no test: its result, with what running it says
list_failed() {
	list_out=$(./tests/"$1" --list 2>&1)
	printf '%s\n' "$list_out" "(exit status $?)" | ktap_nest
	ktap_test_fail "$1" "--list printed no test"
}

ktap_print_header
# (make boot-loop runs no program at all: PROGS empty)
if [ -n "$PROGS" ] && [ -z "$selected" ] && [ -z "$broken" ]; then
	echo "# TESTS='$TESTS' selects no test of: $PROGS"
	ktap_set_plan 1
	ktap_test_fail guest.tests_selected "no test selected"
	ktap_finished
	exit
fi
# The sanitizer kernel's extras (KERNEL=debug): kmemleak after the suite
# and after unloading, and the storage layer's KUnit suite (scull_kunit.ko
# is built only against a kernel with KUnit).
# shellcheck source=tools/guest/kmemleak.sh
. guest/kmemleak.sh
kmemleak=$(kmemleak_present && echo 2 || echo 0)
# TESTS selects kunit as the programs select a test: named by a pattern,
# or by none when every pattern is an exclusion ("!pattern"), never when
# an exclusion matches it
name=kunit includes=0 included=0 excluded=0
for p in $TESTS; do
	# shellcheck disable=SC2254  # a pattern, as the programs match it
	case $p in
	!*) case $name in ${p#!}) excluded=1 ;; esac ;;
	*) includes=1 && case $name in $p) included=1 ;; esac ;;
	esac
done
kunit=0
if [ -f scull_kunit.ko ] && [ "$excluded" -eq 0 ] &&
	{ [ "$includes" -eq 0 ] || [ "$included" -eq 1 ]; }; then
	kunit=1
fi
# make demo's session (tools/guest/demo.sh), run to its end, its output
# shown only when it fails; not when TESTS names a subset (exclusions
# alone leave it in)
demo=1
[ "$includes" -eq 0 ] || demo=0
# shellcheck disable=SC2086  # lists of names
ktap_set_plan $(($(set -- $selected $broken && echo $#) + 2 + kmemleak + kunit + demo))
for prog in $broken; do
	list_failed "$prog"
done
[ "$kmemleak" -eq 0 ] || kmemleak_start
ktap_test_result guest.scull_load ./scull_load
[ "$kunit" -eq 0 ] || ktap_run_prog kunit sh guest/kunit.sh
for prog in $selected; do
	started=$(date +%s)
	# shellcheck disable=SC2086
	ktap_run_prog "$prog" ./tests/"$prog" $TESTS
	# each program's time, so that a slow one shows (CI's budget)
	echo "# time $prog $(($(date +%s) - started)) s"
done
# the module tests end with scull unloaded: load it back to unload it
[ -d /sys/module/scull ] || [ -d /sys/module/scull_rs ] || ./scull_load >/dev/null
[ "$kmemleak" -eq 0 ] || kmemleak_check after_suite
ktap_test_result guest.scull_unload ./scull_unload
[ "$demo" -eq 0 ] || ktap_test_result guest.demo sh guest/demo.sh
[ "$kmemleak" -eq 0 ] || kmemleak_check after_unload
ktap_finished
