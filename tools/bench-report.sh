#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Turn the guest's benchmark results into figures.
#
#   tools/bench-report.sh DIR
#   tools/bench-report.sh --compare DIR_A DIR_B
#
# DIR holds a folder per pass that ran, timed/ and icount/, each with what
# tools/guest/bench.sh saved (runs.tsv, one fio JSON per run, loops.tsv,
# memory.jsonl, guest.json) and host.json (QEMU, wall time) from
# tools/vm.sh.  Writes into DIR:
#   results.json  every figure of both passes, the budget and the targets
#   results.md    the same as Markdown tables
#   bench.png     throughput by block size (timed, and in the guest's
#                 instruction clock), latency, scull's 4K budget
# and prints results.md.  Every ratio compares runs of the same boot.
# Exits non-zero, naming each, when a run failed or was short (fio's
# error, short or dropped I/Os; a call loop without a figure), when a run
# the pass's plan.txt lists left no result (a lost round), or when a
# target's figure is missing though its runs were planned: the figures are
# still written, headed "Not a valid run".  A figure whose runs were not
# in the plan (a short run, one pass alone) is "not run".
#
# --compare prints the deterministic figures of two runs side by side with
# their difference, the largest last: how far two full runs agree.

# the jq programs below are single-quoted on purpose: their $names are jq's
# shellcheck disable=SC2016
set -euo pipefail

# One JSON object per fio run of a pass, from the fio job named in
# runs.tsv (many-jobs.fio has a prefill job before the one measured).
# Latency is completion latency (clat) of the direction that moved data; a
# mixed run gives its reads'.  A run whose JSON is missing or lacks that
# job, or that fio marked failed (an error) or short (short or dropped
# I/Os), is "failed" with the reason: it feeds no figure, and the report
# fails.  Then {entries, problems}: one entry per workload and device, the
# median of its good rounds, in the order the runs were made, each round's
# figure also by its round number (the id's ".rN"), so that two figures'
# per-round ratios pair the same round.  In the icount pass the guest's
# second is 1e9 instructions: ipio is instructions per I/O, 1e9 / IOPS.
fio_runs() {
	local p=$1
	tail -n +2 "$p/runs.tsv" | while IFS=$'\t' read -r id group workload device rw bs size engine depth jobs job; do
		meta=(--arg id "$id" --arg group "$group" --arg workload "$workload" --arg device "$device"
			--arg rw "$rw" --arg bs "$bs" --arg size "$size" --arg engine "$engine" --arg depth "$depth"
			--arg jobs "$jobs" --arg job "$job")
		if ! sed -n '/^{/,$p' "$p/$id.json" 2>/dev/null | jq -c "${meta[@]}" '
			([.jobs[] | select(.jobname == $job)] as $m
			 | if ($m | length) == 1 then $m[0]
			   else error("\($m | length) fio jobs named \"\($job)\", expected one") end) as $j
			| (if $j.read.io_bytes > 0 then $j.read else $j.write end) as $d
			| ([.jobs[].error] | add) as $errors
			| ([.jobs[] | .read.short_ios + .write.short_ios] | add) as $short
			| ([.jobs[] | .read.drop_ios + .write.drop_ios] | add) as $drop
			| {id: $id, group: $group, workload: $workload, device: $device,
			   rw: $rw, bs: $bs, size: $size, engine: $engine, depth: $depth, jobs: $jobs,
			   round: ($id | capture("\\.r(?<r>[0-9]+)$").r // "1"),
			   iops: ($j.read.iops + $j.write.iops),
			   mibs: (($j.read.bw_bytes + $j.write.bw_bytes) / 1048576),
			   p50_us: ($d.clat_ns.percentile["50.000000"] / 1000),
			   p99_us: ($d.clat_ns.percentile["99.000000"] / 1000),
			   write_p50_us: ($j.write.clat_ns.percentile["50.000000"] // 0 | . / 1000),
			   write_p99_us: ($j.write.clat_ns.percentile["99.000000"] // 0 | . / 1000),
			   errors: $errors, short: $short,
			   failed: (if $errors != 0 then "fio error \($errors)"
				    elif $short != 0 then "short: \($short) short I/Os"
				    elif $drop != 0 then "short: \($drop) dropped I/Os"
				    elif ($j.read.iops + $j.write.iops) <= 0 then "no I/O"
				    else null end)}' 2>/dev/null; then
			jq -n -c "${meta[@]}" '{id: $id, workload: $workload, device: $device,
				failed: "its fio JSON is missing or has no job \"\($job)\""}'
		fi
	done | jq -s --arg pass "$(basename "$p")" '
		def median(f): (map(f) | sort) as $v | ($v | length) as $n
			| if $n % 2 == 1 then $v[($n - 1) / 2] else ($v[$n / 2 - 1] + $v[$n / 2]) / 2 end;
		to_entries | map(.value + {seq: .key})
		| {problems: [.[] | select(.failed) | "\($pass): run \(.id) failed (\(.failed)): not counted"],
		   entries: (map(select(.failed == null))
		| group_by(.workload + "." + .device)
		| map(.[0] + {id: (.[0].workload + "." + .[0].device), rounds: length,
			iops: median(.iops), mibs: median(.mibs),
			p50_us: median(.p50_us), p99_us: median(.p99_us),
			write_p50_us: median(.write_p50_us), write_p99_us: median(.write_p99_us),
			iops_rounds: map(.iops),
			iops_by_round: (map({key: .round, value: .iops}) | from_entries),
			errors: (map(.errors) | add), short: (map(.short) | add),
			seq: (map(.seq) | min)}
			| del(.round, .failed)
			| if $pass == "icount" then
				. + {ipio: (1e9 / .iops), ipio_rounds: (.iops_rounds | map(1e9 / .)),
				     ipio_by_round: (.iops_by_round | map_values(1e9 / .)),
				     spread: ((.iops_rounds | max) / (.iops_rounds | min) - 1)}
			  else . + {spread: ((.iops_rounds | max) / (.iops_rounds | min) - 1)} end)
		| sort_by(.seq))}'
}

# The call loop (icount pass): per workload and device the median over
# the rounds of each round's median, in instructions per call; a round
# whose loop failed (no figure) is left out, and fails the report.
loop_runs() {
	tail -n +2 "$1/loops.tsv" | jq -R -s '
		def median(f): (map(f) | sort) as $v | ($v | length) as $n
			| if $n % 2 == 1 then $v[($n - 1) / 2] else ($v[$n / 2 - 1] + $v[$n / 2]) / 2 end;
		split("\n") | map(select(length > 0) | split("\t")
			| {id: .[0], group: .[1], workload: .[2], device: .[3], rw: .[4],
			   bytes: (.[5] | tonumber), span: .[6], flags: .[7],
			   round: (.[0] | capture("\\.r(?<r>[0-9]+)$").r // "1"),
			   ipc: (.[8] | tonumber? // null), min: (.[9] | tonumber? // null),
			   max: (.[10] | tonumber? // null)})
		| {problems: [.[] | select(.ipc == null or .ipc <= 0)
				| "icount: call loop \(.id) failed (no figure): not counted"],
		   entries: (map(select(.ipc != null and .ipc > 0))
		| to_entries | map(.value + {seq: .key})
		| group_by(.workload + "." + .device)
		| map(.[0] + {id: (.[0].workload + "." + .[0].device), rounds: length,
			ipc: median(.ipc), ipc_rounds: map(.ipc),
			ipc_by_round: (map({key: .round, value: .ipc}) | from_entries),
			spread: ((map(.ipc) | max) / (map(.ipc) | min) - 1),
			inner_min: (map(.min) | min), inner_max: (map(.max) | max),
			seq: (map(.seq) | min)} | del(.round))
		| sort_by(.seq))}'
}

# The runs a pass planned (plan.txt: "fio ID ..." and "loop ID ..."
# lines, and "memory") that left no row in runs.tsv or loops.tsv: lost
# rounds.  Prints the problems; writes the planned figures' ids, as
# "PASS:WORKLOAD.DEVICE" (and "icount:memory"), to PASS/planned.txt.
lost_runs() {
	local p=$1 pass results
	pass=$(basename "$p")
	results=("$p/runs.tsv")
	[ ! -f "$p/loops.tsv" ] || results+=("$p/loops.tsv")
	if [ ! -f "$p/plan.txt" ]; then
		echo "$pass: no plan.txt: the runs lost cannot be told"
		: >"$p/planned.txt"
		return
	fi
	awk -v pass="$pass" '
		FILENAME ~ /runs.tsv$|loops.tsv$/ { if (FNR > 1) seen[$1] = 1; next }
		$1 == "memory" { print pass ":memory" >planned; next }
		$1 == "fio" || $1 == "loop" {
			fig = $2
			sub(/\.r[0-9]+$/, "", fig)
			print pass ":" fig >planned
			if (!($2 in seen))
				printf "%s: %s %s planned, and not in the results: a lost round\n", pass, $1, $2
		}' planned="$p/planned.txt" \
		"${results[@]}" "$p/plan.txt"
	sort -u -o "$p/planned.txt" "$p/planned.txt"
}

# --compare A B: the deterministic figures of two runs, side by side
if [ "${1:-}" = --compare ]; then
	a=${2:?usage: bench-report.sh --compare DIR_A DIR_B} b=${3:?usage: bench-report.sh --compare DIR_A DIR_B}
	jq -r -n --slurpfile a "$a/results.json" --slurpfile b "$b/results.json" \
		--arg an "$(basename "$(readlink -f "$a")")" --arg bn "$(basename "$(readlink -f "$b")")" '
		def figs($r): ([$r.loops[] | {key: "call loop: \(.workload) \(.device)", value: .ipc}]
			+ [$r.icount[] | {key: "fio: \(.workload) \(.device)", value: .ipio}]) | from_entries;
		def r1: . * 10 | round / 10;
		figs($a[0]) as $x | figs($b[0]) as $y
		| [$x | keys_unsorted[] | select($y[.] != null)
		   | {k: ., a: $x[.], b: $y[.], d: (($y[.] / $x[.] - 1) * 100)}] as $rows
		| "Instructions per call or I/O in two runs (icount), and their difference.",
		  "",
		  "| figure | \($an) | \($bn) | difference |", "|---|---|---|---|",
		  ($rows[] | "| \(.k) | \(.a | r1) | \(.b | r1) | \(.d | . * 100 | round / 100)% |"),
		  "",
		  ($rows | max_by(.d | fabs)) as $m
		  | "\($rows | length) figures; the largest difference \($m.d | fabs | . * 100 | round / 100)% (\($m.k)); mean of the absolute differences \($rows | map(.d | fabs) | add / length | . * 1000 | round / 1000)%."'
	exit
fi

dir=${1:?usage: bench-report.sh DIR}
cd "$dir"

has() { [ -f "$1/runs.tsv" ]; }
# what makes the report fail: runs that failed, rounds lost, figures missing
: >problems.txt
for p in timed icount; do
	if has "$p"; then
		fio_runs "$p" >"$p/fio.json"
		jq '.entries' "$p/fio.json" >"$p/runs.json"
		jq -r '.problems[]' "$p/fio.json" >>problems.txt
		lost_runs "$p" >>problems.txt
		jq -s '.[0]' "$p/guest.json" >"$p/guest.one.json"
		jq -s '.[0] // {}' "$p/host.json" >"$p/host.one.json" 2>/dev/null || echo '{}' >"$p/host.one.json"
	else
		mkdir -p "$p"
		echo '[]' >"$p/runs.json"
		echo 'null' >"$p/guest.one.json"
		echo 'null' >"$p/host.one.json"
		: >"$p/planned.txt"
	fi
done
if has icount && [ -f icount/loops.tsv ]; then
	loop_runs icount >icount/loops.all.json
	jq '.entries' icount/loops.all.json >icount/loops.json
	jq -r '.problems[]' icount/loops.all.json >>problems.txt
else
	echo '[]' >icount/loops.json
fi
cat timed/planned.txt icount/planned.txt | jq -R -s 'split("\n") | map(select(length > 0) | {key: ., value: true}) | from_entries' >planned.json
if [ -s icount/memory.jsonl ]; then jq -s '.' icount/memory.jsonl >icount/memory.json; else echo '[]' >icount/memory.json; fi

# Every figure, the budget of a 4K call, and the targets of issue 13, each
# a ratio of figures of one boot.  A rate ratio "a / b" is b's
# instructions per call over a's: how many of a's calls fit in the time of
# one of b's.
jq -n --slurpfile timed timed/runs.json --slurpfile icount icount/runs.json \
	--slurpfile loops icount/loops.json --slurpfile mem icount/memory.json \
	--slurpfile tg timed/guest.one.json --slurpfile ig icount/guest.one.json \
	--slurpfile th timed/host.one.json --slurpfile ih icount/host.one.json \
	--slurpfile planned planned.json '
	$timed[0] as $t | $icount[0] as $i | $loops[0] as $l | $planned[0] as $pl
	| def tiops($id): ($t[] | select(.id == $id) | .iops) // null;
	  def ipio($id): ($i[] | select(.id == $id) | .ipio) // null;
	  def ipc($id): ($l[] | select(.id == $id) | .ipc) // null;
	  def div($a; $b): if $a != null and $b != null and $b != 0 then $a / $b else null end;
	  def minus($a; $b): if $a != null and $b != null then $a - $b else null end;
	  # per round: the ratio of two figures measured in the same round
	  # (by round number: a round one of them lost pairs with nothing)
	  def rounds($x; $y): if $x == null or $y == null then null
		else [$x | keys[] as $k | select($y[$k] != null) | $x[$k] / $y[$k]] end;
	  def lrounds($id): ($l[] | select(.id == $id) | .ipc_by_round) // null;
	  def irounds($id): ($i[] | select(.id == $id) | .ipio_by_round) // null;
	  def trounds($id): ($t[] | select(.id == $id) | .iops_by_round) // null;
	  # whether every run a figure needs was planned (PASS:WORKLOAD.DEVICE)
	  def planned($needs): $needs | all($pl[.] == true);
	  def mem($d): ($mem[0][] | select(.device == $d)
		| (.charged_after - .charged_before) / .stored) // null;
	  def memfree($d): ($mem[0][] | select(.device == $d)
		| (.free_before_kb - .free_after_kb) * 1024 / .stored) // null;
	  # a target: VALUE against GOAL; per_round the same ratio in each
	  # round, "settled" when every round lands on the same side of the goal
	  # ($needs: the runs VALUE comes from; planned, it must be there)
	  def target($name; $mode; $value; $goal; $op; $per_round; $fio_icount; $fio_timed; $needs):
		def meets($v): if $op == ">=" then $v >= $goal else $v <= $goal end;
		{name: $name, mode: $mode, value: $value, goal: $goal, op: $op,
		 needs: $needs, planned: planned($needs),
		 met: (if $value == null then null else meets($value) end),
		 round_min: ($per_round // [] | min), round_max: ($per_round // [] | max),
		 settled: (if $per_round == null or ($per_round | length) == 0 then null
			   else ([$per_round[] | meets(.)] | unique | length) == 1 end),
		 fio_icount: $fio_icount, fio_timed: $fio_timed};
	  # scull against device D: rate ratio in the loop (W, D), fio icount
	  # and fio timed (workload F)
	  def vs($name; $w; $d; $f; $fd; $goal):
		target($name; "icount"; div(ipc("\($w).\($d)"); ipc("\($w).scull")); $goal; ">=";
			rounds(lrounds("\($w).\($d)"); lrounds("\($w).scull"));
			div(ipio("\($f).\($fd)"); ipio("\($f).scull"));
			div(tiops("\($f).scull"); tiops("\($f).\($fd)"));
			["icount:\($w).\($d)", "icount:\($w).scull"]);
	  # instructions per I/O that io_uring at depth 8 saves against psync
	  def saving($rw; $d): if ipio("\($rw)-psync-qd1.\($d)") and ipio("\($rw)-io_uring-qd8.\($d)")
		then ipio("\($rw)-psync-qd1.\($d)") - ipio("\($rw)-io_uring-qd8.\($d)") else null end;
	  # by round number, as rounds()
	  def saving_rounds($rw; $d): irounds("\($rw)-psync-qd1.\($d)") as $p | irounds("\($rw)-io_uring-qd8.\($d)") as $u
		| if $p and $u then [$p | keys[] as $k | select($u[$k] != null) | {key: $k, value: ($p[$k] - $u[$k])}]
		    | from_entries else null end;
	  def saving_needs($rw): ["scull", "tmpfs"] | map("icount:\($rw)-psync-qd1.\(.)", "icount:\($rw)-io_uring-qd8.\(.)");
	  def scale($name; $a; $b; $goal):
		target($name; "timed"; div(tiops($a); tiops($b)); $goal; ">="; rounds(trounds($a); trounds($b)); null; null;
			["timed:\($a)", "timed:\($b)"]);
	  # where a 4K call of scull goes: the system call and the VFS (a
	  # 1-byte call of the ceiling), the copy (scull 4096 bytes less 1),
	  # scull'"'"'s own code (scull less the ceiling, 1 byte)
	  def budget($rw; $ceil):
		{rw: $rw, ceiling: $ceil,
		 total: ipc("loop-\($rw)-4096.scull"),
		 syscall_vfs: ipc("loop-\($rw)-1.ceiling"),
		 copy: minus(ipc("loop-\($rw)-4096.scull"); ipc("loop-\($rw)-1.scull")),
		 scull_own: minus(ipc("loop-\($rw)-1.scull"); ipc("loop-\($rw)-1.ceiling")),
		 ceiling_4k: ipc("loop-\($rw)-4096.ceiling"),
		 tmpfs_4k: ipc("loop-\($rw)-4096.tmpfs"),
		 tmpfs_own: minus(ipc("loop-\($rw)-1.tmpfs"); ipc("loop-\($rw)-1.ceiling")),
		 brd_4k: ipc("loop-\($rw)-4096.brd")}
		;
	{passes: {timed: {guest: $tg[0], host: $th[0]}, icount: {guest: $ig[0], host: $ih[0]}},
	 timed: $t, icount: $i, loops: $l, memory: $mem[0],
	 budget: [budget("read"; "/dev/zero"), budget("write"; "/dev/null")],
	 largest_spread: {
		loop: ($l | max_by(.spread) // null | if . then {id, spread} else null end),
		fio: ($i | max_by(.spread) // null | if . then {id, spread} else null end)},
	 targets: [
		vs("4K read: scull / /dev/zero"; "loop-read-4096"; "ceiling"; "seq-read-4k"; "ceiling"; 0.85),
		vs("4K read: scull / tmpfs"; "loop-read-4096"; "tmpfs"; "seq-read-4k"; "tmpfs"; 1.35),
		vs("4K write: scull / tmpfs"; "loop-write-4096"; "tmpfs"; "seq-write-4k"; "tmpfs"; 1.6),
		vs("4K read: scull / brd (O_DIRECT)"; "loop-read-4096"; "brd"; "seq-read-4k"; "brd"; 2.4),
		vs("4K write: scull / brd (O_DIRECT)"; "loop-write-4096"; "brd"; "seq-write-4k"; "brd"; 2.4),
		vs("1M read: scull / /dev/zero"; "loop-read-1048576"; "ceiling"; "seq-read-1m"; "ceiling"; 0.85),
		vs("1M read: scull / tmpfs"; "loop-read-1048576"; "tmpfs"; "seq-read-1m"; "tmpfs"; 1.6),
		vs("1M write: scull / tmpfs"; "loop-write-1048576"; "tmpfs"; "seq-write-1m"; "tmpfs"; 1.9),
		# the large size: 1 GiB, or 256 MiB in a short run
		(([$l[], $i[], $t[] | select(.group | test("size")) | .workload | sub("^loop-"; "")
		   | select(. != "size-8m")] | first // "size-1g") as $lg
		 | ($lg | sub("^size-"; "") | ascii_upcase | sub("G$"; " GiB") | sub("M$"; " MiB")) as $ln
		 | ["scull", "tmpfs"][] as $d
		 | target("size independence, 4K random read, \($ln) / 8 MiB stored: \($d)"
			+ (if $d == "tmpfs" then " (for scale)" else "" end); "icount";
			div(ipc("loop-size-8m.\($d)"); ipc("loop-\($lg).\($d)")); 0.99; ">=";
			rounds(lrounds("loop-size-8m.\($d)"); lrounds("loop-\($lg).\($d)"));
			div(ipio("size-8m.\($d)"); ipio("\($lg).\($d)"));
			div(tiops("\($lg).\($d)"); tiops("size-8m.\($d)"));
			["icount:loop-size-8m.\($d)", "icount:loop-\($lg).\($d)"])),
		(["scull", "tmpfs"][] as $d
		 | target("memory charged / bytes stored: \($d)" + (if $d == "tmpfs" then " (for scale)" else "" end);
			"icount"; mem($d); 1.003; "<="; null; null; null; ["icount:memory"])
		   + {free_pages: memfree($d)}),
		(["randread", "randwrite"][] as $rw
		 | target("\($rw) 4K: instructions per I/O that io_uring qd8 saves against psync, scull (goal: as many as on tmpfs)";
			"icount"; saving($rw; "scull"); saving($rw; "tmpfs"); ">=";
			(saving_rounds($rw; "scull") as $s | saving_rounds($rw; "tmpfs") as $m
			 | if $s and $m then [$s | keys[] as $k | select($m[$k] != null)
				| $s[$k] - $m[$k] + saving($rw; "tmpfs")] else null end);
			null; div(tiops("\($rw)-io_uring-qd8.scull"); tiops("\($rw)-psync-qd1.scull"));
			saving_needs($rw))),
		scale("2 jobs on 2 minors / 1 job"; "minors-2.scull"; "minors-1.scull"; 1.8),
		scale("(for scale: 2 jobs / 1 job reading /dev/zero)"; "minors-2.ceiling"; "minors-1.ceiling"; 1.8),
		scale("4 jobs on 4 minors / 1 job (2 CPUs: 2.0 at most)"; "minors-4.scull"; "minors-1.scull"; 1.8),
		scale("2 readers on one minor / 1 reader"; "readers-2.scull"; "readers-1.scull"; 1.7)
	 ]}' >results.json
jq -r '.targets[] | select(.value == null and .planned)
	| "target \"\(.name)\": no figure, though the runs it needs were planned (\(.needs | join(", ")))"' \
	results.json >>problems.txt

# numbers for the tables
r() { jq -r "$@" results.json; }
defs='def f($n): if . == null then "-" else (. * pow(10; $n) | round / pow(10; $n)) end;
	def pct: if . == null then "-" else "\(. * 1000 | round / 10)%" end;
	def pct2: if . == null then "-" else "\(. * 10000 | round / 100)%" end;'

fmt_targets() {
	r "$defs"'.targets[] | [.name,
		"\(.op) \(.goal | if . > 10 then f(0) else f(3) end)",
		(.value | f(3)),
		(if .value == null then (if .planned then "**missing**" else "not run" end)
		 elif (.name | test("for scale")) then "control"
		 elif .met then "met" else "**missed**" end),
		(if .round_min == null then "-" else "\(.round_min | f(3))-\(.round_max | f(3))" end),
		(if .settled == null then "-" elif .settled then "yes" else "no" end),
		(.fio_icount | f(3)), (.fio_timed | f(3)), .mode] | @tsv'
}

fmt_budget() {
	r "$defs"'.budget[] | select(.total != null and .copy != null)
		| "| \(.rw) | \(.syscall_vfs | f(0)) (\(.syscall_vfs / .total | pct)) | \(.copy | f(0)) (\(.copy / .total | pct)) | \(.scull_own | f(0)) (\(.scull_own / .total | pct)) | \(.total | f(0)) | \(.ceiling_4k | f(0)) | \(.tmpfs_4k | f(0)) (own \(.tmpfs_own | f(0))) | \(.brd_4k | f(0)) |"'
}

# what scull's own code may cost per 4K call for each target to be met
fmt_allowance() {
	r "$defs"'
		.budget as $b | .targets[] | select(.name | test("^4K")) | . as $t
		| ($b[] | select(.rw == (if $t.name | test("read") then "read" else "write" end))) as $x
		| select($x.total != null and $x.copy != null and $t.value != null)
		| ($x.total * $t.value / $t.goal) as $allowed_total
		| ($allowed_total - $x.syscall_vfs - $x.copy) as $own
		| "- \($t.name) >= \($t.goal): scull may take \($allowed_total | f(0)) instructions per call, "
		  + (if $own >= 0 then "so its own code at most \($own | f(0)) (now \($x.scull_own | f(0)))."
		     else "less than the system call and the copy alone (\($x.syscall_vfs + $x.copy | f(0))): out of reach whatever scull'"'"'s own code (now \($x.scull_own | f(0))); with none the ratio would be \($t.value * $x.total / ($x.syscall_vfs + $x.copy) | f(3))." end)'
}

fmt_loops() {
	r "$defs"'
		.loops as $l
		| $l[] | . as $x
		| ($l[] | select(.workload == $x.workload and .device == "scull") | .ipc) as $s
		| [$x.workload | sub("^loop-"; ""), $x.device, ($x.ipc | f(1)), ($x.spread | pct2),
		   "\($x.inner_min | f(1))-\($x.inner_max | f(1))",
		   (if $x.device == "scull" then "-" else ($x.ipc / $s | f(3)) end)] | @tsv' 2>/dev/null
}

fmt_compare() {
	# the fio workloads of both passes, side by side
	r "$defs"'
		.timed as $t | .icount as $i
		| ($t | map({key: .id, value: .}) | from_entries) as $tm
		| ($i | map({key: .id, value: .}) | from_entries) as $im
		# the workloads in the order they ran
		| ($t + $i | map(select(.group == "compare") | .workload)
		   | reduce .[] as $w ([]; if index([$w]) then . else . + [$w] end))[] as $w
		| ["scull", "tmpfs", "brd", "brd-cache", "ceiling"][] as $d
		| "\($w).\($d)" as $id | select($tm[$id] or $im[$id])
		| [$w, $d,
		   ($tm[$id].mibs | f(1)), ($tm[$id].iops | f(0)),
		   (if $tm[$id] then "\($tm[$id].iops_rounds | min | round)-\($tm[$id].iops_rounds | max | round)" else "-" end),
		   ($tm[$id].p50_us | f(1)), ($tm[$id].p99_us | f(1)),
		   (if $d == "scull" or $tm[$id] == null or $tm["\($w).scull"] == null then "-"
		    else $tm["\($w).scull"].iops / $tm[$id].iops | f(2) end),
		   ($im[$id].ipio | f(0)), ($im[$id].spread | pct2),
		   (if $d == "scull" or $im[$id] == null or $im["\($w).scull"] == null then "-"
		    else $im[$id].ipio / $im["\($w).scull"].ipio | f(3) end)] | @tsv'
}

fmt_others() {
	# engines and sizes: timed IOPS beside icount instructions per I/O
	r "$defs"'
		.timed as $t | .icount as $i
		| ($t + $i | map(select(.group == "engines" or .group == "size")) | unique_by(.id) | sort_by(.group, .seq))[] as $x
		| ($t[] | select(.id == $x.id)) as $tt | ($i[] | select(.id == $x.id)) as $ii
		| [$x.workload, $x.device, ($tt.iops | f(0)),
		   (if $tt then "\($tt.iops_rounds | min | round)-\($tt.iops_rounds | max | round)" else "-" end),
		   ($ii.ipio | f(0)), ($ii.spread | pct2)] | @tsv' 2>/dev/null
	# (jq drops a row when either pass lacks it: list those too)
	r "$defs"'
		.timed as $t | .icount as $i
		| ($t + $i | map(select(.group == "engines" or .group == "size")) | group_by(.id)[]
		   | select(length == 1) | .[0]) as $x
		| if ($t | any(.id == $x.id)) then
			[$x.workload, $x.device, ($x.iops | f(0)),
			 "\($x.iops_rounds | min | round)-\($x.iops_rounds | max | round)", "-", "-"]
		  else [$x.workload, $x.device, "-", "-", ($x.ipio | f(0)), ($x.spread | pct2)] end | @tsv'
}

fmt_scaling() {
	r "$defs"'.timed[] | select(.group == "minors" or .group == "readers" or .group == "many")
		| [.workload, .device, (.mibs | f(1)), (.iops | f(0)),
		   "\(.iops_rounds | min | round)-\(.iops_rounds | max | round)",
		   (.p50_us | f(1)), (.p99_us | f(1))] | @tsv'
}

row() { awk -F'\t' '{ s = "|"; for (i = 1; i <= NF; i++) s = s " " $i " |"; print s }'; }

{
	echo "## Benchmark: scull against the kernel's memory devices"
	echo
	if [ -s problems.txt ]; then
		echo "### Not a valid run: $(wc -l <problems.txt) problems"
		echo
		sed 's/^/- /' problems.txt
		echo
	fi
	r 'def secs: tostring | if test("^[0-9.]+$") then . + " s" else . end;
	   def d($p): if $p.guest == null then empty else
		"- \($p.guest.pass) pass: Linux \($p.guest.kernel), \($p.guest.cpus) vCPU\(if $p.guest.cpus > 1 then "s" else "" end), \($p.guest.mem_kb / 1024 | round) MiB, \($p.host.qemu // "QEMU ?")\(if $p.guest.pass == "icount" then " with -icount shift=0,sleep=off (single-threaded TCG; the guest clock counts instructions, 10^9 a second): fio runs of \($p.guest.runtime | secs) of the guest clock" else " (multi-threaded TCG): fio runs of \($p.guest.runtime | secs)" end), \($p.guest.rounds) rounds; \($p.host.wall_s // "?" | if type == "number" then "\(. / 60 | . * 10 | round / 10) min" else . end) of wall time, boot included." end;
		d(.passes.timed), d(.passes.icount)'
	echo
	echo "ceiling = /dev/zero for reads, /dev/null for writes; brd = /dev/ram0 with O_DIRECT (direct=1), brd-cache = /dev/ram0 through the page cache; psync unless named."
	echo "A rate ratio \"scull / X\" is how many of scull's calls fit in the time (timed) or the instructions (icount) of one of X's."
	echo
	echo "### Targets (issue 13)"
	echo
	echo "The per-call and per-byte targets use the call loop under icount (instructions per pread/pwrite, no fio bookkeeping in them); fio's figures for the same ratio, icount and timed, are beside.  The scaling targets are timed (2 vCPUs).  \"rounds\" is the same ratio in each round; \"settled\" says whether every round lands on the same side of the goal."
	echo
	echo "| target | goal | value | | rounds | settled | fio, icount | fio, timed | mode |"
	echo "|---|---|---|---|---|---|---|---|---|"
	fmt_targets | row
	echo
	r '.targets[] | select(.name | test("^memory")) | select(.value != null)
		| "- \(.name): \(.value * 100000 | round / 100000) (memory cgroup, pages charged); free pages cross-check (all kernel memory, noisier): \(.free_pages * 1000 | round / 1000)"'
	r '.targets[] | select(.name | test("io_uring")) | select(.value != null)
		| "- \(.name): scull saves \(.value | round), tmpfs \(.goal | round); fio, timed: io_uring qd8 / psync IOPS on scull \(.fio_timed // null | if . then . * 1000 | round / 1000 else "-" end)"'
	echo
	echo "### Where a 4K call goes (icount, call loop, instructions per call)"
	echo
	echo "system call + VFS = a 1-byte call of the ceiling (/dev/zero, /dev/null); the copy = scull's 4096-byte call less its 1-byte call; scull's own code = scull's 1-byte call less the ceiling's."
	echo
	echo "| scull 4K | system call + VFS | the copy | scull's own code | total | ceiling 4K | tmpfs 4K | brd 4K (O_DIRECT) |"
	echo "|---|---|---|---|---|---|---|---|"
	fmt_budget
	echo
	fmt_allowance
	echo
	echo "### The call loop (icount): instructions per call"
	echo
	echo "| call | device | instructions | spread across rounds | fastest-slowest round of the loop | this / scull |"
	echo "|---|---|---|---|---|---|"
	fmt_loops | row
	echo
	r '"Largest spread across rounds: call loop \(.largest_spread.loop.spread // 0 | . * 10000 | round / 100)% (\(.largest_spread.loop.id // "-")), fio \(.largest_spread.fio.spread // 0 | . * 10000 | round / 100)% (\(.largest_spread.fio.id // "-"))."'
	echo
	echo "### fio: every workload on every device, both passes"
	echo
	echo "| workload | device | timed MiB/s | timed IOPS | slowest-fastest run | p50 us | p99 us | scull / this (timed) | icount: instructions per I/O | spread | scull / this (icount) |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|"
	fmt_compare | row
	echo
	echo "| engines and sizes | device | timed IOPS | slowest-fastest run | icount: instructions per I/O | spread |"
	echo "|---|---|---|---|---|---|"
	fmt_others | row
	echo
	echo "| scaling (timed) | device | MiB/s | IOPS | slowest-fastest run | p50 us | p99 us |"
	echo "|---|---|---|---|---|---|---|"
	fmt_scaling | row
	echo
	r '.timed[] | select(.id == "many-jobs.scull") |
		"Many jobs (fio/many-jobs.fio, \(.iops | round) IOPS): read clat p50 \(.p50_us) us, p99 \(.p99_us) us; write clat p50 \(.write_p50_us) us, p99 \(.write_p99_us) us."'
} >results.md

# Plot data: MiB/s by block size (sequential, both passes: in the icount
# pass MiB per 1e9 instructions), latency per device (timed, random), the
# budget.
for d in scull tmpfs brd brd-cache ceiling; do
	for rw in read write; do
		for p in timed icount; do
			r --arg p "$p" --arg d "$d" --arg rw "$rw" '.[$p][] | select(.group == "compare" and .device == $d
				and (.workload | startswith("seq-\($rw)-"))) | [.bs, .mibs] | @tsv' \
				| sed 's/^4k/4/; s/^64k/64/; s/^1M/1024/' >"plot-$p-$rw-$d.dat"
		done
	done
done
r '.timed[] | select(.group == "compare" and (.workload | startswith("rand-")))
	| [.workload + " " + .device, .p50_us, .p99_us] | @tsv' >plot-latency.dat
r '.budget[] | select(.copy != null) | ["scull 4K " + .rw, .syscall_vfs, .copy, .scull_own] | @tsv' >plot-budget.dat

# the panels that have data
panels=()
for p in timed icount; do
	label="MiB/s (log scale)" what=timed
	[ $p = timed ] || label="MiB per 10^9 instructions (log)" what="icount"
	for rw in read write; do
		# a short run may have measured one direction only
		[ -s "plot-$p-$rw-scull.dat" ] || continue
		panels+=("set logscale x 2; set logscale y 10; set xrange [3:1400]; set xtics (\"4K\" 4, \"64K\" 64, \"1M\" 1024)
set xlabel \"block size\"; set ylabel \"$label\"; set key top left; set grid
set title \"sequential $rw ($what)\"
plot for [d in \"scull tmpfs brd brd-cache ceiling\"] \"plot-$p-$rw-\".d.\".dat\" using 1:2 with linespoints title d
unset logscale x; unset logscale y")
	done
done
if [ -s plot-latency.dat ]; then
	panels+=('set xtics rotate by -30 font ",8"; set style data histograms
set style histogram clustered gap 1; set style fill solid 0.8
set xlabel ""; set ylabel "completion latency, us"; set key top left; set yrange [0:*]
set title "4K random: p50 and p99 latency (timed)"
set datafile separator "\t"
plot "plot-latency.dat" using 2:xtic(1) title "p50", "" using 3 title "p99"
set datafile separator whitespace; set xtics norotate font ",10"')
fi
if [ -s plot-budget.dat ]; then
	panels+=('set style data histograms; set style histogram rowstacked; set style fill solid 0.8
set boxwidth 0.6; set xlabel ""; set ylabel "instructions per call"; set key below; set grid y; set yrange [0:*]
set title "scull 4K call: where the instructions go (icount)"
set datafile separator "\t"
plot "plot-budget.dat" using 2:xtic(1) title "system call + VFS", "" using 3 title "copy", "" using 4 title "scull"
set datafile separator whitespace')
fi
cols=3
rows=$(((${#panels[@]} + cols - 1) / cols))
if [ "${#panels[@]}" -gt 0 ]; then
	{
		echo "set terminal pngcairo size 1500,$((rows * 480)) font \",10\""
		echo 'set output "bench.png"'
		echo "set multiplot layout $rows,$cols title \"scull against the kernel's memory devices (fio psync, same boot; icount: 1 vCPU, instruction clock)\""
		for panel in "${panels[@]}"; do
			printf '%s\nreset\n' "$panel"
		done
		echo 'unset multiplot'
	} | gnuplot
fi
rm -f plot-*.dat

cat results.md
echo
echo "results: $PWD/results.md, results.json, bench.png (fio JSON per run in timed/ and icount/)"
if [ -s problems.txt ]; then
	sed 's/^/bench-report: /' problems.txt >&2
	echo "bench-report: $(wc -l <problems.txt) problems: not a valid run" >&2
	exit 1
fi
