#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/collect.sh, which counts and checks every guest run, held to what
# README says of it, on the host: each way a run can go wrong, provoked
# with recorded inputs (tools/testdata/collect/: the guest's TAP as
# tools/guest/ktap.sh prints it, and the run folder's console.log and
# kmsg.txt as QEMU and the guest write them; written from those formats,
# not captured from a run).  Each case must give the expected exit status
# and the expected line, whole.  Then the guest's own check.sh, run for
# real in a private mount namespace with /opt/scull made of this tree's
# tools/guest and a stand-in test program: a TESTS that selects no test
# fails, through collect.sh too.  TAP out; exits non-zero when any case
# differs.
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

data=$SCULL_ROOT/tools/testdata/collect
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# guest TAP | run folder | mode | host TAP | status (0 pass, 1 fail) | a line of the output
cases=(
	"pass.tap|clean|check||0|5 passed, 0 failed, 1 skipped"
	"pass.tap|clean|check||0|# ok host.guest_finished"
	"pass.tap|clean|check||0|# ok host.kernel_log_clean: 3 records"
	# a program that printed fewer results than its plan: the missing count as failed
	"plan-short.tap|clean|check||1|# not ok host.rw.plan: 1 results of the 3 its plan promised"
	"plan-short.tap|clean|check||1|5 passed, 2 failed"
	"exit-only.tap|clean|check||1|# not ok host.rw.exit: failed without a failed test"
	# the guest cut off in a program: both plans short, and no end
	"cut-off.tap|clean|check||1|# not ok host.the last program.plan: 1 results of the 2 its plan promised"
	"cut-off.tap|clean|check||1|# not ok host.guest.plan: 1 results of the 3 its plan promised"
	"cut-off.tap|clean|check||1|# not ok host.guest_finished: the guest did not reach its end (crash, panic or timeout)"
	"cut-off.tap|clean|check||1|3 passed, 4 failed"
	# the guest died before the suite: host.guest_booted with the kernel's report
	"empty.tap|boot-oops|check||1|# not ok host.guest_booted: the guest died before the suite started: [    1.300000] BUG: kernel NULL pointer dereference, address: 0000000000000008"
	"empty.tap|boot-oops|check||1|# boot: [    1.300100] Kernel panic - not syncing: Fatal exception"
	"empty.tap|boot-oops|check||1|0 passed, 3 failed"
	"empty.tap|boot-hang|check||1|# not ok host.guest_booted: the guest died before the suite started: no kernel report (hang or early exit)"
	# the kernel log: a complaint, a record lost, no end, not from the start
	"pass.tap|warning|check||1|# not ok host.kernel_log_clean"
	"pass.tap|warning|check||1|4 passed, 1 failed, 1 skipped"
	"pass.tap|call-trace-console|check||1|# not ok host.kernel_log_clean"
	# what DEBUG_ATOMIC_SLEEP (make check-debug) logs for a sleep under a spinlock
	"pass.tap|atomic-sleep|check||1|# not ok host.kernel_log_clean"
	"pass.tap|gap|check||1|# not ok host.kernel_log_clean: the kernel log (RUN/kmsg.txt) is incomplete: records 2-3 are missing"
	"pass.tap|unfinished|check||1|# not ok host.kernel_log_clean: the kernel log (RUN/kmsg.txt) is incomplete: it ends at record 1, before the end marker"
	"pass.tap|late-start|check||1|# not ok host.kernel_log_clean: the kernel log (RUN/kmsg.txt) is incomplete: it starts at record 5, not 0"
	"pass.tap|boot-hang|check||1|# not ok host.kernel_log_clean: the kernel log (RUN/kmsg.txt) is incomplete: it is missing or empty"
	# the host's checks before the guest: counted, their missing ones failed
	"pass.tap|clean|check|host-short.tap|1|# not ok host.checks_plan: 2 results of the 3 HOSTTAP promised"
	"pass.tap|clean|check|host-short.tap|1|# ok host.newcomer.not_root # SKIP needs root"
	"pass.tap|clean|check|host-short.tap|1|6 passed, 1 failed, 2 skipped"
	"pass.tap|clean|check|host-none.tap|1|# not ok host.checks_plan: HOSTTAP has no plan"
	# make soak: each expected result must pass
	"pass.tap|clean|soak||1|# not ok host.diff.soak: expected, and did not pass"
)
echo "TAP version 13"
echo "1..$((${#cases[@]} + 4))"
n=0 bad=0

# result NAME STATUS-WANTED STATUS-SEEN LINE OUTPUT
result() {
	n=$((n + 1))
	if [ "$3" -eq "$2" ] && grep -qxF -- "$4" <<<"$5"; then
		echo "ok $n $1: $4"
	else
		printf '%s\n' "$5" | sed 's/^/# /'
		echo "not ok $n $1: expected status $2 and \"$4\", seen status $3"
		bad=$((bad + 1))
	fi
}

for c in "${cases[@]}"; do
	IFS='|' read -r tap rundir mode host want line <<<"$c"
	# collect.sh writes kmsg.log into the run folder: a copy
	run=$tmp/run-$n
	mkdir -p "$run"
	cp "$data/$rundir"/* "$run/"
	line=${line//RUN/$run}
	line=${line//HOSTTAP/${host:+$data/$host}}
	set +e
	out=$("$SCULL_ROOT/tools/collect.sh" "$mode" "$run" ${host:+"$data/$host"} \
		<"$data/$tap" 2>&1)
	rc=$?
	set -e
	[ "$rc" -eq 0 ] || rc=1
	result "$tap ($rundir, $mode${host:+, $host})" "$want" "$rc" "$line" "$out"
done

# make check IMPL=rust: the programs it does not run are skips, each with
# its reason, never passes
run=$tmp/run-not-run
mkdir -p "$run"
cp "$data/clean"/* "$run/"
set +e
out=$(SCULL_NOT_RUN="pipe mmap" "$SCULL_ROOT/tools/collect.sh" check "$run" <"$data/pass.tap" 2>&1)
rc=$?
set -e
result "pass.tap, SCULL_NOT_RUN=\"pipe mmap\"" 0 "$rc" "# ok pipe # SKIP the Rust twin has no pipes (yet)" "$out"
result "pass.tap, SCULL_NOT_RUN=\"pipe mmap\"" 0 "$rc" "5 passed, 0 failed, 3 skipped" "$out"

# The guest's check.sh with a TESTS that selects nothing: /opt/scull is
# this tree's tools/guest and one program that lists a test only when no
# pattern is given (so it is not "broken", and never selected).
opt=$tmp/opt
mkdir -p "$opt/scull/tests"
cp -r "$SCULL_ROOT/tools/guest" "$opt/scull/"
# shellcheck disable=SC2016  # the stub's own $1 and $#
printf '#!/bin/sh\n[ "$1" = --list ] && [ $# -eq 1 ] && echo stub.one\nexit 0\n' \
	>"$opt/scull/tests/stub"
chmod +x "$opt/scull/tests/stub"
set +e
# shellcheck disable=SC2016  # expanded by the inner shell
guest=$(unshare -Urm sh -c 'mount --bind "$1" /opt && cd / &&
	PROGS=stub TESTS="nothing.matches" sh /opt/scull/guest/check.sh' sh "$opt" 2>&1)
rc=$?
set -e
[ "$rc" -eq 0 ] || rc=1
result "guest/check.sh TESTS=nothing.matches" 1 "$rc" \
	"not ok 1 guest.tests_selected # no test selected" "$guest"
mkdir -p "$tmp/run-guest"
cp "$data/clean"/* "$tmp/run-guest/"
set +e
out=$(printf '%s\nscull-guest: done\n' "$guest" |
	"$SCULL_ROOT/tools/collect.sh" check "$tmp/run-guest" 2>&1)
rc=$?
set -e
[ "$rc" -eq 0 ] || rc=1
result "collect.sh after it" 1 "$rc" "2 passed, 1 failed" "$out"
[ "$bad" -eq 0 ]
