#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Turn the guest's benchmark results into figures.
#
#   tools/bench-report.sh DIR
#
# DIR holds what tools/guest/bench.sh saved: runs.tsv, one fio JSON per
# run, memory.jsonl, guest.json.  Writes into DIR:
#   results.json  every run (IOPS, MiB/s, latency p50/p99) and the targets
#   results.md    the same as Markdown tables
#   bench.png     throughput by block size, latency percentiles per device
# and prints the tables.  Every ratio compares runs of the same boot.
set -euo pipefail

dir=${1:?usage: bench-report.sh DIR}
cd "$dir"

# One JSON object per run, from the fio job named in runs.tsv (many-jobs.fio
# has a prefill job before the one measured): a run without that job stops
# the report.  Latency is completion latency (clat) of the direction that
# moved data; a mixed run gives its reads'.
{
	tail -n +2 runs.tsv | while IFS=$'\t' read -r id group workload device rw bs size engine depth jobs job; do
		sed -n '/^{/,$p' "$id.json" | jq -c --arg id "$id" --arg group "$group" \
			--arg workload "$workload" --arg device "$device" --arg rw "$rw" \
			--arg bs "$bs" --arg size "$size" --arg engine "$engine" --arg depth "$depth" --arg jobs "$jobs" \
			--arg job "$job" '
			([.jobs[] | select(.jobname == $job)] as $m
			 | if ($m | length) == 1 then $m[0]
			   else error("\($id).json: \($m | length) fio jobs named \"\($job)\", expected one") end) as $j
			| (if $j.read.io_bytes > 0 then $j.read else $j.write end) as $d
			| {id: $id, group: $group, workload: $workload, device: $device,
			   rw: $rw, bs: $bs, size: $size, engine: $engine, depth: $depth, jobs: $jobs,
			   iops: ($j.read.iops + $j.write.iops),
			   mibs: (($j.read.bw_bytes + $j.write.bw_bytes) / 1048576),
			   p50_us: ($d.clat_ns.percentile["50.000000"] / 1000),
			   p99_us: ($d.clat_ns.percentile["99.000000"] / 1000),
			   write_p50_us: ($j.write.clat_ns.percentile["50.000000"] // 0 | . / 1000),
			   write_p99_us: ($j.write.clat_ns.percentile["99.000000"] // 0 | . / 1000),
			   errors: ([.jobs[].error] | add),
			   short: ([.jobs[] | .read.short_ios + .write.short_ios] | add)}'
	done
} | jq -s '
	# one entry per workload and device: the median of its rounds, in the
	# order the runs were made
	def median(f): (map(f) | sort) as $v | ($v | length) as $n
		| if $n % 2 == 1 then $v[($n - 1) / 2] else ($v[$n / 2 - 1] + $v[$n / 2]) / 2 end;
	to_entries | map(.value + {seq: .key})
	| group_by(.workload + "." + .device)
	| map(.[0] + {id: (.[0].workload + "." + .[0].device), rounds: length,
		iops: median(.iops), mibs: median(.mibs),
		p50_us: median(.p50_us), p99_us: median(.p99_us),
		write_p50_us: median(.write_p50_us), write_p99_us: median(.write_p99_us),
		iops_rounds: map(.iops | round),
		errors: (map(.errors) | add), short: (map(.short) | add),
		seq: (map(.seq) | min)})
	| sort_by(.seq)' >runs.json

jq -s '.' memory.jsonl >memory.json

# The targets of issue 5, each a ratio of two runs of this boot.
jq -n --slurpfile runs runs.json --slurpfile mem memory.json --slurpfile guest guest.json '
	($runs[0]) as $r
	| def iops($id): ($r[] | select(.id == $id) | .iops) // null;
	  def ratio($a; $b): if iops($a) and iops($b) and iops($b) > 0 then iops($a) / iops($b) else null end;
	  def mem($d): ($mem[0][] | select(.device == $d)
		| ((.free_before_kb - .free_after_kb) * 1024 / .stored));
	  def target($name; $value; $goal; $op):
		{name: $name, value: $value, goal: $goal,
		 met: (if $value == null then false
		       elif $op == ">=" then $value >= $goal
		       else $value <= $goal end), op: $op};
	  # scull against the three memory devices, on workload $w
	  def baselines($w; $tmpfs; $brd):
		target("\($w): scull / tmpfs"; ratio("\($w).scull"; "\($w).tmpfs"); $tmpfs; ">="),
		target("\($w): scull / brd"; ratio("\($w).scull"; "\($w).brd"); $brd; ">="),
		target("\($w): scull / brd-cache"; ratio("\($w).scull"; "\($w).brd-cache"); $brd; ">=");
	{guest: $guest[0],
	 runs: $r,
	 memory: $mem[0],
	 targets: [
		(["seq-read-4k", "seq-write-4k", "rand-read-4k", "rand-write-4k"][] | baselines(.; 1.1; 2)),
		(["seq-read-1m", "seq-write-1m"][] | baselines(.; 1.0; 1.0)),
		target("size independence: scull (1G/8M) / tmpfs (1G/8M)";
			(if ratio("size-1g.tmpfs"; "size-8m.tmpfs") then
				ratio("size-1g.scull"; "size-8m.scull") / ratio("size-1g.tmpfs"; "size-8m.tmpfs")
			 else null end); 0.95; ">="),
		target("2 jobs on 2 minors / 1 job"; ratio("minors-2.scull"; "minors-1.scull"); 1.8; ">="),
		target("(for scale: 2 jobs / 1 job reading /dev/zero)"; ratio("minors-2.ceiling"; "minors-1.ceiling"); 1.8; ">="),
		target("4 jobs on 4 minors / 1 job (2 CPUs: 2.0 at most)"; ratio("minors-4.scull"; "minors-1.scull"); 1.8; ">="),
		target("2 readers on one minor / 1 reader"; ratio("readers-2.scull"; "readers-1.scull"); 1.7; ">="),
		(["randread", "randwrite"][] as $rw | ["libaio", "io_uring"][] as $e
		 | target("\($rw) \($e) qd8 / psync"; ratio("\($rw)-\($e)-qd8.scull"; "\($rw)-psync-qd1.scull"); 1.0; ">="),
		   target("(for scale: the same on tmpfs)"; ratio("\($rw)-\($e)-qd8.tmpfs"; "\($rw)-psync-qd1.tmpfs"); 1.0; ">=")),
		target("memory used / bytes stored (scull)"; mem("scull"); 1.005; "<="),
		target("memory used / bytes stored (tmpfs, for scale)"; mem("tmpfs"); 1.005; "<=")
	 ]}' >results.json

fmt_rows() {
	# the comparison table: one row per workload and device
	jq -r '
		.runs as $r
		| ($r[] | select(.group == "compare")) as $x
		| ($r[] | select(.group == "compare" and .workload == $x.workload and .device == "scull")) as $s
		| [$x.workload, $x.device, ($x.mibs | . * 10 | round / 10), ($x.iops | round),
		   "\($x.iops_rounds | min)-\($x.iops_rounds | max)",
		   ($x.p50_us | . * 10 | round / 10), ($x.p99_us | . * 10 | round / 10),
		   (if $x.device == "scull" then "-" else ($s.iops / $x.iops | . * 100 | round / 100) end)]
		| @tsv' results.json
	jq -r '.runs[] | select(.group != "compare")
		| [.workload, .device, (.mibs | . * 10 | round / 10), (.iops | round),
		   "\(.iops_rounds | min)-\(.iops_rounds | max)",
		   (.p50_us | . * 10 | round / 10), (.p99_us | . * 10 | round / 10), "-"] | @tsv' results.json
}

fmt_targets() {
	jq -r '.targets[] | [.name,
		(if .value == null then "n/a" else (.value | . * 1000 | round / 1000) end),
		"\(.op) \(.goal * 1000 | round / 1000)",
		(if .value == null then "not run"
		 elif (.name | test("for scale")) then "control"
		 elif .met then "met" else "MISSED" end)] | @tsv' results.json
}

{
	echo "## Benchmark: scull against the kernel's memory devices"
	echo
	jq -r '"Guest: Linux \(.guest.kernel), \(.guest.cpus) vCPUs, \(.guest.mem_kb / 1024 | round) MiB; each figure the median of \(.runs[0].rounds) runs of \(.guest.runtime_s) s; CPU: \(.guest.cpu)."' results.json
	echo "ceiling = /dev/zero for reads, /dev/null for writes; brd = /dev/ram0 with direct=1, brd-cache = /dev/ram0 through the page cache; psync unless named."
	echo
	echo "| workload | device | MiB/s | IOPS | IOPS, slowest-fastest run | p50 us | p99 us | scull / this |"
	echo "|---|---|---|---|---|---|---|---|"
	fmt_rows | awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8 }'
	echo
	echo "| target | value | goal | |"
	echo "|---|---|---|---|"
	fmt_targets | awk -F'\t' '{ printf "| %s | %s | %s | %s |\n", $1, $2, $3, $4 }'
	echo
	jq -r '.runs[] | select(.id == "many-jobs.scull") |
		"Many jobs (fio/many-jobs.fio, \(.iops | round) IOPS): read clat p50 \(.p50_us) us, p99 \(.p99_us) us; write clat p50 \(.write_p50_us) us, p99 \(.write_p99_us) us."' results.json
} >results.md

# Plot data: MiB/s by block size (sequential), latency per device (random).
for d in scull tmpfs brd brd-cache ceiling; do
	for rw in read write; do
		jq -r --arg d "$d" --arg rw "$rw" '.runs[] | select(.group == "compare" and .device == $d
			and (.workload | startswith("seq-\($rw)-"))) | [.bs, .mibs] | @tsv' results.json \
			| sed 's/^4k/4/; s/^64k/64/; s/^1M/1024/' >"plot-$rw-$d.dat"
	done
done
jq -r '.runs[] | select(.group == "compare" and (.workload | startswith("rand-")))
	| [.workload + " " + .device, .p50_us, .p99_us] | @tsv' results.json >plot-latency.dat

# The latency panel only when the run had random workloads to show.
latency_panel=
if [ -s plot-latency.dat ]; then
	latency_panel='set title "4K random: p50 and p99 latency"
set datafile separator "\t"
plot "plot-latency.dat" using 2:xtic(1) title "p50", "" using 3 title "p99"'
fi

gnuplot <<EOF
set terminal pngcairo size 1500,520 font ",10"
set output "bench.png"
set multiplot layout 1,3 title "scull against the kernel's memory devices (fio psync, same boot)"
set logscale x 2
set logscale y 10
set xtics ("4K" 4, "64K" 64, "1M" 1024)
set xlabel "block size"
set ylabel "MiB/s (log scale)"
set key top left
set grid
set title "sequential read"
plot for [d in "scull tmpfs brd brd-cache ceiling"] "plot-read-".d.".dat" using 1:2 with linespoints title d
set title "sequential write"
plot for [d in "scull tmpfs brd brd-cache ceiling"] "plot-write-".d.".dat" using 1:2 with linespoints title d
unset logscale x
unset logscale y
set xtics rotate by -30 font ",8"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8
set xlabel ""
set ylabel "completion latency, us"
$latency_panel
unset multiplot
EOF
rm -f plot-*.dat

cat results.md
echo
echo "results: $PWD/results.md, results.json, bench.png (fio JSON per run beside them)"
