#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Turn the guest's result lines (stdin) into one numbered TAP stream and a
# last line "N passed, N failed[, N skipped]".
#
#   tools/collect.sh MODE RUNDIR TESTBIN "PROGS"
#
# Beyond the guest's own lines it reports, as tests of their own:
#   - every expected test (from each program's --list) that never reported;
#   - host.guest_finished: the guest reached its end (no crash, no hang);
#   - host.kernel_log_clean: no kernel complaint in the console or the
#     kernel log (BUG, WARNING, Oops, KASAN, UBSAN, kmemleak, lockdep...).
# Exits non-zero when anything failed.
set -uo pipefail

mode=${1:?} run=${2:?} testbin=${3:?} progs=${4:-}
TESTS=${TESTS:-}

n=0 pass=0 fail=0 skip=0 finished=0
declare -A seen=()

result() {
	# result ok|"not ok" NAME-AND-DIRECTIVE
	n=$((n + 1))
	printf '%s %d - %s\n' "$1" "$n" "$2"
	if [ "$1" != ok ]; then
		fail=$((fail + 1))
	elif [[ "$2" == *"# SKIP"* ]]; then
		skip=$((skip + 1))
	else
		pass=$((pass + 1))
	fi
}

echo "TAP version 13"
while IFS= read -r line; do
	line=${line%$'\r'}
	case "$line" in
	"ok - "* | "not ok - "*)
		status=${line%% - *}
		rest=${line#* - }
		seen[${rest%% \#*}]=1
		result "$status" "$rest"
		;;
	"scull-guest: done")
		finished=1
		break
		;;
	"TAP version"*) ;;
	*) printf '%s\n' "$line" ;;
	esac
done
# drain whatever tail still writes
cat >/dev/null

if [ "$mode" = check ]; then
	expected="guest.scull_load"
	for p in $progs; do
		# shellcheck disable=SC2086  # TESTS is a list of patterns
		expected="$expected $("$testbin/$p" --list $TESTS)"
	done
	expected="$expected guest.scull_unload"
	for t in $expected; do
		[ -n "${seen[$t]:-}" ] || result "not ok" "$t # no result: the guest stopped before reporting it"
	done
fi

if [ "$finished" -eq 1 ]; then
	result ok host.guest_finished
else
	echo "# the guest did not reach its end (crash, panic or timeout)"
	result "not ok" host.guest_finished
fi

# kmemleak's own listing is checked in the guest (tools/guest/kmemleak.sh);
# here only kmemleak giving up counts
pattern='BUG:|WARNING:|Oops|general protection|KASAN:|UBSAN:|ODEBUG:|kernel BUG at|list_(add|del) corruption|kmemleak: .*(disabled|Cannot)|possible .*(locking|deadlock|recursive)|Call Trace|Kernel panic|blocked for more than|rcu: INFO|unable to handle'
complaints=$(cat "$run/console.log" "$run/dmesg.txt" 2>/dev/null | tr -d '\r' |
	grep -E "$pattern" | sort -u)
if [ -z "$complaints" ]; then
	result ok host.kernel_log_clean
else
	# each report whole, in the order it came
	"$(dirname "$0")/log-reports.sh" "$pattern" "$run/console.log" "$run/dmesg.txt" |
		head -n 300 | sed 's/^/# kernel: /'
	result "not ok" host.kernel_log_clean
fi

echo "1..$n"
if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
