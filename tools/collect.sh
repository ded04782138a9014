#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Read the guest's TAP (stdin) as it comes, pass it through, check it, and
# end with the suite's own count: "N passed, N failed[, N skipped]".
#
#   tools/collect.sh MODE RUNDIR [HOSTTAP]
#
# HOSTTAP is the TAP of checks run on the host before the guest booted
# (tools/newcomer-test.sh: "ok N - NAME", "# SKIP" directives, "# "
# diagnostics): each result is counted and shown as one of the host's
# own, "# ok host.NAME", and a result its plan promised and never
# printed counts as failed.
# The guest prints kselftest's TAP (tools/guest/ktap.sh): a plan, one
# result per step or test program, and each program's own TAP nested
# below as "# " lines.  This counts every test of every program, and adds
# failures of its own, printed as "# not ok host.NAME: why" lines:
#   - a program that printed fewer results than its plan promised (it
#     crashed or hung), or failed without a failed test; the guest that
#     printed fewer results than its own plan;
#   - in soak mode, a test of the expected list that did not pass;
#   - host.guest_booted, only when the guest died before the suite started
#     (a boot crash, with the kernel's oops text), in place of a failure
#     for every test it never ran;
#   - host.guest_finished: the guest reached its end (no crash, no hang);
#   - host.kernel_log_clean: the guest's whole kernel log came out (read
#     from /dev/kmsg from its first record to an end marker, no record
#     lost) and neither it nor the console has a kernel complaint (BUG,
#     WARNING, Oops, KASAN, UBSAN, kmemleak, lockdep...).
# Exits non-zero when anything failed.
set -uo pipefail

mode=${1:?usage: collect.sh MODE RUNDIR [HOSTTAP]} run=${2:?usage: collect.sh MODE RUNDIR [HOSTTAP]}
hosttap=${3:-}

# What make soak must report, each passing (tools/guest/soak.sh).
soak_expected="guest.scull_load diff.soak diff.soak stress.soak guest.scull_unload"

pass=0 fail=0 skip=0 finished=0 started=0
top_plan='' top_results=0
# the program whose TAP is nested below the line that will report it
n_plan='' n_results=0 n_pass=0 n_fail=0 n_skip=0
passed=()

host() {
	# host ok|"not ok"|skip NAME [WHY]: one of the host's own checks
	case "$1" in
	ok) pass=$((pass + 1)) ;;
	skip)
		skip=$((skip + 1))
		echo "# ok host.$2 # SKIP $3"
		return
		;;
	*) fail=$((fail + 1)) ;;
	esac
	echo "# $1 host.$2${3:+: $3}"
}

# The host's checks that ran before the guest (HOSTTAP), first.
if [ -n "$hosttap" ]; then
	h_plan='' h_results=0
	while IFS= read -r line; do
		case "$line" in
		1..*) h_plan=${line#1..} ;;
		"ok "*"# SKIP"*)
			rest=${line#ok * - }
			host skip "${rest%% *}" "${line#*# SKIP }"
			h_results=$((h_results + 1))
			;;
		"ok "* | "not ok "*)
			status=ok
			[[ "$line" == "not ok "* ]] && status="not ok"
			rest=${line#"$status" * - }
			host "$status" "${rest%% *}"
			h_results=$((h_results + 1))
			;;
		*) printf '# %s\n' "${line#\# }" ;;
		esac
	done <"$hosttap"
	if [ -z "$h_plan" ]; then
		host "not ok" checks_plan "$hosttap has no plan"
	elif [ "$h_results" -lt "$h_plan" ]; then
		# every check that never reported counts as failed
		host "not ok" checks_plan "$h_results results of the $h_plan $hosttap promised"
		fail=$((fail + h_plan - h_results - 1))
	fi
fi

# Count a result line (without its number): STATUS NAME-AND-DIRECTIVE.
count() {
	case "$1:$2" in
	"not ok:"*) return 1 ;;
	*"# SKIP"*) return 4 ;;
	*) passed+=("${2%% *}") ;;
	esac
}

# The nested program has ended: add its tests, and what its plan lacks.
program_done() {
	local name=$1 status=$2 missing
	pass=$((pass + n_pass)) fail=$((fail + n_fail)) skip=$((skip + n_skip))
	missing=$((n_plan - n_results))
	if [ "$missing" -gt 0 ]; then
		# every test that never reported counts as failed
		host "not ok" "$name.plan" "$n_results results of the $n_plan its plan promised"
		fail=$((fail + missing - 1))
	elif [ "$status" = "not ok" ] && [ "$n_fail" -eq 0 ]; then
		host "not ok" "$name.exit" "failed without a failed test"
	fi
	n_plan='' n_results=0 n_pass=0 n_fail=0 n_skip=0
}

while IFS= read -r line; do
	line=${line%$'\r'}
	[ "$line" = "scull-guest: done" ] && {
		finished=1
		break
	}
	printf '%s\n' "$line"
	case "$line" in
	"TAP version"*) started=1 ;;
	"# 1.."*)
		n_plan=${line#\# 1..}
		n_plan=${n_plan%% *}
		;;
	"# ok "* | "# not ok "*)
		rest=${line#\# }
		status=ok
		[[ "$rest" == "not ok "* ]] && status="not ok"
		rest=${rest#"$status" }
		rest=${rest#* }
		n_results=$((n_results + 1))
		count "$status" "$rest"
		case $? in
		0) n_pass=$((n_pass + 1)) ;;
		1) n_fail=$((n_fail + 1)) ;;
		*) n_skip=$((n_skip + 1)) ;;
		esac
		;;
	"1.."*)
		top_plan=${line#1..}
		top_plan=${top_plan%% *}
		;;
	"ok "* | "not ok "*)
		status=ok
		[[ "$line" == "not ok "* ]] && status="not ok"
		rest=${line#"$status" }
		rest=${rest#* }
		top_results=$((top_results + 1))
		if [ -n "$n_plan" ]; then
			program_done "${rest%% *}" "$status"
		else
			count "$status" "$rest"
			case $? in
			0) pass=$((pass + 1)) ;;
			1) fail=$((fail + 1)) ;;
			*) skip=$((skip + 1)) ;;
			esac
		fi
		;;
	esac
done
# drain whatever tail still writes
cat >/dev/null

# a program cut off in the middle
[ -z "$n_plan" ] || program_done "the last program" "not ok"
if [ "$started" -eq 0 ]; then
	# The guest died before its first line: a crash during boot, not a
	# test failure.  Show the kernel's report, from its first line on.
	oops=$(tr -d '\r' <"$run/console.log" 2>/dev/null |
		grep -m 1 -E 'Oops|BUG:|Kernel panic|general protection|unable to handle')
	tr -d '\r' <"$run/console.log" 2>/dev/null |
		sed -n '/Oops\|BUG:\|Kernel panic\|general protection\|unable to handle/,$p' |
		head -n 40 | sed 's/^/# boot: /'
	host "not ok" guest_booted "the guest died before the suite started: ${oops:-no kernel report (hang or early exit)}"
elif [ -z "$top_plan" ]; then
	host "not ok" guest.plan "the guest printed no plan"
elif [ "$top_results" -lt "$top_plan" ]; then
	host "not ok" guest.plan "$top_results results of the $top_plan its plan promised"
	fail=$((fail + top_plan - top_results - 1))
fi

if [ "$mode" = soak ]; then
	for t in $soak_expected; do
		for i in "${!passed[@]}"; do
			if [ "${passed[$i]}" = "$t" ]; then
				unset "passed[$i]"
				continue 2
			fi
		done
		host "not ok" "$t" "expected, and did not pass"
	done
fi

if [ "$finished" -eq 1 ]; then
	host ok guest_finished
else
	host "not ok" guest_finished "the guest did not reach its end (crash, panic or timeout)"
fi

# The kernel log: records "prio,seq,usec,flags;text" from /dev/kmsg, each
# followed by its continuation lines; all of them, from seq 0 to the end
# marker, with no gap.
kmsg=$run/kmsg.txt
shown=$kmsg
[ -f "$kmsg" ] || kmsg=/dev/null
log_problem=$(tr -d '\r' <"$kmsg" | awk -F'[,;]' '
	/^[0-9]+,[0-9]+,/ {
		if (n == 0 && $2 != 0) { bad = "it starts at record " $2 ", not 0"; exit }
		if (n > 0 && $2 != last + 1) { bad = "records " last + 1 "-" $2 - 1 " are missing"; exit }
		last = $2; n++
		if (index($0, "scull-guest: kernel log complete")) done = 1
	}
	END {
		if (!bad && !n) bad = "it is missing or empty"
		if (!bad && !done) bad = "it ends at record " last ", before the end marker"
		print bad
	}')
# kmemleak's own listing is checked in the guest (tools/guest/kmemleak.sh);
# here only kmemleak giving up counts.  A stack dump is a complaint however
# it is headed: x86 prints "Call Trace:", arm64 "Call trace:", and a failed
# allocation without __GFP_NOWARN ("page allocation failure", warn_alloc())
# has no BUG or WARNING line on any architecture.
pattern='BUG:|WARNING:|Oops|general protection|KASAN:|UBSAN:|ODEBUG:|kernel BUG at|list_(add|del) corruption|kmemleak: .*(disabled|Cannot)|possible .*(locking|deadlock|recursive)|Call [Tt]race|page allocation failure|Kernel panic|blocked for more than|rcu: INFO|[Uu]nable to handle|Internal error:'
# the records as dmesg prints them: "[seconds] text"
log=$run/kmsg.log
tr -d '\r' <"$kmsg" | awk -F';' '
	/^[0-9]+,[0-9]+,[0-9]+,/ {
		split($1, h, ",")
		text = substr($0, length($1) + 2)
		printf "[%5d.%06d] %s\n", h[3] / 1000000, h[3] % 1000000, text
		next
	}
	{ print }' >"$log"
complaints=$(cat "$run/console.log" "$log" 2>/dev/null | tr -d '\r' | grep -E "$pattern")
if [ -n "$log_problem" ]; then
	host "not ok" kernel_log_clean "the kernel log ($shown) is incomplete: $log_problem"
elif [ -n "$complaints" ]; then
	# each report whole, in the order it came
	"$(dirname "$0")/log-reports.sh" "$pattern" "$run/console.log" "$log" |
		head -n 300 | sed 's/^/# kernel: /'
	host "not ok" kernel_log_clean
else
	host ok kernel_log_clean "$(grep -c '^[0-9]*,[0-9]*,' "$kmsg") records"
fi

# programs left out of the run (make check IMPL=rust, RUST_PROGS in
# tests/Makefile): each a skip, with why
for prog in ${SCULL_NOT_RUN:-}; do
	case $prog in
	pipe) why="the Rust twin has no pipes (yet)" ;;
	access) why="the Rust twin has no access-controlled devices (yet)" ;;
	mmap) why="the Rust twin has no mmap (yet)" ;;
	module) why="loads and unloads the C module, scull.ko, with the pipes' and access devices' parameters" ;;
	faults) why="needs fault injection (/proc/self/fail-nth), which Debian's kernels lack: make check-debug" ;;
	*) why="not a program of the Rust twin's devices (RUST_PROGS in tests/Makefile)" ;;
	esac
	skip=$((skip + 1))
	echo "# ok $prog # SKIP $why"
done
if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
