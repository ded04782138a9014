#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/bench-report.sh checked on the host against recorded bench results
# (tools/testdata/bench/: a timed and an icount pass of two rounds each,
# written by hand in the guest's formats -- runs.tsv, loops.tsv, plan.txt,
# fio's JSON reduced to the fields the report reads -- not captured from a
# run).  The whole results, then each way a run can go wrong, made on a
# copy: a run fio marked failed, one with short I/Os, a lost round, a lost
# round whose per-round ratios must pair by round number, a call loop
# without its figure (a target's figure missing), and a plan.txt missing.
# Each must give the expected status and the expected line.  TAP out;
# exits non-zero when any differs.
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

data=$SCULL_ROOT/tools/testdata/bench
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# set KEY VALUE FILE: a fio JSON's first job's field, e.g. .error
set_json() {
	jq "$1 = $2" "$3" >"$3.new"
	mv "$3.new" "$3"
}

# the mutations, each on the copy in the current folder
whole() { :; }
run_failed() { set_json '.jobs[0].error' 5 timed/seq-read-4k.scull.r2.json; }
run_short() { set_json '.jobs[0].read.short_ios' 3 icount/seq-read-4k.tmpfs.r1.json; }
json_lost() { rm icount/seq-read-4k.scull.r1.json; }
round_lost() { sed -i '/^minors-2\.scull\.r2\t/d' timed/runs.tsv; }
# round 1 of minors-2 lost: its round 2 (2200 IOPS) pairs with minors-1's
# round 2 (1100): 2, not 2.2 (with minors-1's round 1, by index)
first_round_lost() { sed -i '/^minors-2\.scull\.r1\t/d' timed/runs.tsv; }
loop_lost() { sed -i 's/^\(loop-read-4096\.scull\.r[12]\(\t[^\t]*\)\{7\}\)\t.*/\1\t\t\t/' icount/loops.tsv; }
no_plan() { rm timed/plan.txt; }

# mutation | status (0 pass, 1 fail) | a line of the output
cases=(
	"whole|0|| 2 jobs on 2 minors / 1 job | >= 1.8 | 1.952 | met | 1.9-2 | yes | - | - | timed |"
	"whole|0|| 4K read: scull / /dev/zero | >= 0.85 | 0.891 | met | 0.874-0.909 | yes | - | - | icount |"
	"whole|0|| 4K write: scull / tmpfs | >= 1.6 | - | not run | - | - | - | - | icount |"
	"run_failed|1|bench-report: timed: run seq-read-4k.scull.r2 failed (fio error 5): not counted"
	"run_failed|1|| seq-read-4k | scull | 195.3 | 50000 | 50000-50000 | 1.5 | 4 | - | 20000 | 0% | - |"
	"run_short|1|bench-report: icount: run seq-read-4k.tmpfs.r1 failed (short: 3 short I/Os): not counted"
	"json_lost|1|bench-report: icount: run seq-read-4k.scull.r1 failed (its fio JSON is missing or has no job \"bench\"): not counted"
	"round_lost|1|bench-report: timed: fio minors-2.scull.r2 planned, and not in the results: a lost round"
	"first_round_lost|1|| 2 jobs on 2 minors / 1 job | >= 1.8 | 2.095 | met | 2-2 | yes | - | - | timed |"
	"loop_lost|1|bench-report: icount: call loop loop-read-4096.scull.r1 failed (no figure): not counted"
	"loop_lost|1|| 4K read: scull / /dev/zero | >= 0.85 | - | **missing** | - | - | - | - | icount |"
	"loop_lost|1|bench-report: target \"4K read: scull / /dev/zero\": no figure, though the runs it needs were planned (icount:loop-read-4096.ceiling, icount:loop-read-4096.scull)"
	"no_plan|1|bench-report: timed: no plan.txt: the runs lost cannot be told"
)
echo "TAP version 13"
echo "1..${#cases[@]}"
n=0 bad=0
for c in "${cases[@]}"; do
	mutation=${c%%|*}
	rest=${c#*|}
	want=${rest%%|*}
	line=${rest#*|}
	n=$((n + 1))
	rm -rf "$work/r"
	cp -r "$data" "$work/r"
	(cd "$work/r" && "$mutation")
	set +e
	out=$("$SCULL_ROOT/tools/bench-report.sh" "$work/r" 2>&1)
	rc=$?
	set -e
	[ "$rc" -eq 0 ] || rc=1
	if [ "$rc" -eq "$want" ] && grep -qxF -- "$line" <<<"$out"; then
		echo "ok $n $mutation: $line"
	else
		printf '%s\n' "$out" | grep -v 'warning: Skipping data file' | sed 's/^/# /'
		echo "not ok $n $mutation: expected status $want and \"$line\", seen status $rc"
		bad=$((bad + 1))
	fi
done
[ "$bad" -eq 0 ]
