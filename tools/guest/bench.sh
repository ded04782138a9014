#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The benchmark, inside the guest: the same workloads against scull and
# the kernel's own memory devices, in one boot.  Every fio run is checked
# (no error, no short I/O) and reported as a TAP line; its JSON goes to
# /results, which leaves the guest as a tar on the virtio disk /dev/vda.
# tools/bench-report.sh turns it into tables and a plot on the host.
#
# Two passes, each its own boot (tools/vm.sh sets BENCH_PASS):
#
#   timed   2 vCPUs, the guest's clock is the host's: every fio workload,
#           each the median of ROUNDS 2-second runs interleaved with the
#           other devices' (TCG timing drifts), and the only pass that
#           measures scaling (several jobs at once).
#   icount  1 vCPU under QEMU's -icount shift=0,sleep=off: the guest's
#           clock advances 1 ns per instruction executed, so a run's IOPS
#           is 1e9 / instructions per I/O, the same every run.  The
#           per-call and per-byte fio workloads; the call loop
#           (tests/callcost: one pread or pwrite, without fio's own
#           bookkeeping per I/O), which the targets and the budget use; and
#           the memory a device is charged per byte stored.
#
# QUICK=1 (the CI's smoke run, to keep the machinery working): fewer
# rounds, shorter runs, a subset of the workloads, 256 MiB for the
# "large" size.
cd /opt/scull || exit 1
# shellcheck source=tools/guest/ktap.sh
. guest/ktap.sh

R=/results
mkdir -p "$R"
pass=${BENCH_PASS:-timed}
size=64M
workloads="seq-write-4k:write:4k seq-read-4k:read:4k seq-write-64k:write:64k
seq-read-64k:read:64k seq-write-1m:write:1M seq-read-1m:read:1M
rand-read-4k:randread:4k rand-write-4k:randwrite:4k"
# the call loop: bytes per call, for every device that takes them
loop_bytes="1 4096 1048576"
engine_rws="randread randwrite"
if [ "$pass" = timed ]; then
	runtime=2 rounds=5 scale_rounds=9 large=1G depths="1 8 32" minors="1 2 4"
	if [ -n "${QUICK:-}" ]; then
		# the engines and most workloads are the icount pass's to check
		runtime=1 rounds=1 scale_rounds=1 large=256M depths=8 minors="1 2"
		workloads="seq-read-4k:read:4k" engine_rws=
	fi
else
	# 1 s of the guest's clock is 1e9 instructions, about 2 s here.  A
	# count needs no long run to settle: 250 ms is 50,000 4K reads
	# through fio, and two rounds show the spread.
	runtime=250ms rounds=2 large=1G depths=8
	if [ -n "${QUICK:-}" ]; then
		runtime=100ms large=256M engine_rws=randread
		workloads="seq-write-4k:write:4k seq-read-4k:read:4k"
		loop_bytes="1 4096"
	fi
fi
# the unrecorded warm-up runs: a tenth of a second of either clock
warm_runtime=100ms

# Devices.  brd is a block device, measured twice: "brd" with direct=1
# (the RAM disk itself, through the block layer) and "brd-cache" through
# the page cache in front of it.  Every job sets invalidate=0: fio's
# default flushes /dev/ram0 (BLKFLSBUF) whenever a job opens it, and made
# brd-cache 2-4x slower.  Every brd-cache run is checked to have run so
# (its JSON), as no counter sees brd-cache go cold: brd reads pages into
# the cache through ->rw_page, which bypasses submit_bio's pgpgin.
mkdir -p /mnt/tmpfs
mount -t tmpfs -o size=1300M tmpfs /mnt/tmpfs

file_of() {
	case "$1:$2" in
	scull:*) echo /dev/scull0 ;;
	tmpfs:*) echo /mnt/tmpfs/file ;;
	brd*:*) echo /dev/ram0 ;;
	ceiling:*read*) echo /dev/zero ;;
	ceiling:*) echo /dev/null ;;
	esac
}

direct_of() { [ "$1" = brd ] && echo 1 || echo 0; }

# One job runs on CPU 0; n jobs get a CPU each, round robin.
ncpu=$(nproc)
cpus_for() { [ "$1" -le 1 ] && echo 0 || echo "0-$((ncpu - 1))"; }

# Every workload on every device it is compared on: NAME DEVICE RW BS.
compared() {
	for w in $workloads; do
		# shellcheck disable=SC2046  # split the workload's fields
		set -- $(echo "$w" | tr ':' ' ')
		for dev in scull tmpfs brd brd-cache ceiling; do
			echo "$1 $dev $2 $3"
		done
	done
}

# Where the size runs keep their data: the small size on scull1 or a
# second tmpfs file, the large one where the other runs go.
size_file() {
	case "$1:$2" in
	scull:8M) echo /dev/scull1 ;;
	tmpfs:8M) echo /mnt/tmpfs/small ;;
	*) file_of "$1" read ;;
	esac
}

# The plan: one line per step.
#   fio  ID GROUP WORKLOAD DEVICE RW BS SIZE ENGINE DEPTH JOBS TEMPLATE [FILE]
#   loop ID GROUP WORKLOAD DEVICE RW BYTES SPAN FLAGS FILE
#                             the call loop (tests/callcost), FLAGS - or
#                             callcost's options (-r random, -d O_DIRECT)
#   warm DEVICE RW BS         an unrecorded fio run
#   fill DEVICE SIZE [FILE]   prefill a device (or FILE in its place)
#   trim DEVICE               empty it
#   memory                    the memory charged per byte stored
plan() {
	for dev in scull tmpfs brd brd-cache; do
		echo "fill $dev $size"
	done
	# an unrecorded pass first: the first runs of a boot come out slow
	# (timed) or about 1% off (icount)
	if [ -z "${QUICK:-}" ]; then
		compared | while read -r name dev rw bs; do
			echo "warm $dev $rw $bs"
		done
	fi
	for r in $(seq "$rounds"); do
		compared | while read -r name dev rw bs; do
			echo "fio $name.$dev.r$r compare $name $dev $rw $bs $size psync 1 1 job.fio"
		done
		for rw in $engine_rws; do
			for e in psync libaio io_uring; do
				for d in $depths; do
					# psync is synchronous: one run, at depth 1
					if [ "$e" = psync ]; then
						[ "$d" = "${depths%% *}" ] || continue
						d=1
					fi
					echo "fio engine-$rw-$e-qd$d.scull.r$r engines $rw-$e-qd$d scull $rw 4k $size $e $d 1 job.fio"
					# the tmpfs file with the same engine, for scale
					if [ "$d" -le 8 ]; then
						echo "fio engine-$rw-$e-qd$d.tmpfs.r$r engines $rw-$e-qd$d tmpfs $rw 4k $size $e $d 1 job.fio"
					fi
				done
			done
		done
		[ "$pass" = icount ] || continue
		for rw in read write; do
			for b in $loop_bytes; do
				for dev in ceiling scull tmpfs brd brd-cache; do
					flags=-
					# O_DIRECT moves whole sectors only
					if [ "$dev" = brd ]; then
						[ "$b" -ge 4096 ] || continue
						flags=-d
					fi
					echo "loop loop-$rw-$b.$dev.r$r loop loop-$rw-$b $dev $rw $b $size $flags $(file_of "$dev" "$rw")"
				done
			done
		done
	done
	# 8 MiB and $large stored side by side (scull1 and scull0, two tmpfs
	# files), so that every round measures both sizes under the same
	# conditions
	echo "trim scull"
	echo "trim tmpfs"
	for s in 8M $large; do
		echo "fill scull $s $(size_file scull "$s")"
		echo "fill tmpfs $s $(size_file tmpfs "$s")"
	done
	for r in $(seq "$rounds"); do
		for dev in scull tmpfs; do
			for s in 8M $large; do
				w=size-$(echo "$s" | tr 'MG' 'mg')
				echo "fio $w.$dev.r$r size $w $dev randread 4k $s psync 1 1 job.fio $(size_file "$dev" "$s")"
				[ "$pass" = icount ] || continue
				echo "loop loop-$w.$dev.r$r loop-size loop-$w $dev read 4096 $s -r $(size_file "$dev" "$s")"
			done
		done
	done
	echo "trim scull"
	echo "trim scull1"
	echo "trim tmpfs"
	if [ "$pass" = icount ]; then
		echo memory
		return
	fi
	for m in 0 1 2 3; do
		echo "fill scull$m $size"
	done
	for r in $(seq "$scale_rounds"); do
		for j in $minors; do
			echo "fio minors-$j.scull.r$r minors minors-$j scull randread 4k $size psync 1 $j minors.fio"
			# the same number of jobs reading /dev/zero: how far this
			# machine scales at all
			echo "fio minors-$j.ceiling.r$r minors minors-$j ceiling randread 4k $size psync 1 $j job.fio"
		done
		for j in 1 2; do
			echo "fio readers-$j.scull.r$r readers readers-$j scull randread 4k $size psync 1 $j job.fio"
		done
	done
	echo "fio many-jobs.scull.r1 many many-jobs scull randrw 1k 1M sync 1 0 ../many-jobs.fio"
}

steps=$(plan | grep -c '^fio\|^loop')
n=0

# The fio job a template reports (the one its figures come from).
job_of() {
	case "$1" in
	job.fio) echo bench ;;
	minors.fio) echo minors ;;
	../many-jobs.fio) echo randrw ;;
	esac
}

# check ID JOB: the run's JSON has JOB, and no error and no short or
# dropped I/O in any job
check() {
	if sed -n '/^{/,$p' "$R/$1.json" | jq -e --arg job "$2" 'any(.jobs[]; .jobname == $job) and
		([.jobs[] | .error == 0 and
		  .read.short_ios + .write.short_ios + .read.drop_ios + .write.drop_ios == 0] | all)' \
		>/dev/null 2>&1; then
		ktap_test_pass "bench.$1"
	else
		ktap_nest <"$R/$1.log"
		ktap_test_fail "bench.$1"
	fi
}

# cache_kept ID: the run's fio kept the page cache (invalidate=0, global or
# per job)
cache_kept() {
	if sed -n '/^{/,$p' "$R/$1.json" | jq -e '[(."global options".invalidate // "1") as $g
		| .jobs[] | (."job options".invalidate // $g) == "0"] | all' >/dev/null 2>&1; then
		ktap_test_pass "bench.$1.cache_kept"
	else
		ktap_test_fail "bench.$1.cache_kept" "fio flushed the page cache (invalidate=1)"
	fi
}

fill() {
	dev=$1
	case "$dev" in
	scull[0-9]) file=/dev/$dev dev=scull ;;
	*) file=${3:-$(file_of "$dev" write)} ;;
	esac
	BENCH_FILE=$file BENCH_SIZE=$2 BENCH_DIRECT=$(direct_of "$dev") \
		fio --output-format=json --output="$R/fill.json" fio/bench/prefill.fio >"$R/fill.log" 2>&1
	if sed -n '/^{/,$p' "$R/fill.json" | jq -e 'any(.jobs[]; .jobname == "prefill") and
		([.jobs[] | .error == 0] | all)' >/dev/null 2>&1; then
		ktap_test_pass "bench.fill.$1-$2"
	else
		ktap_nest <"$R/fill.log"
		ktap_test_fail "bench.fill.$1-$2"
	fi
}

trim() {
	case "$1" in
	scull) : >/dev/scull0 ;;
	scull[0-9]) : >"/dev/$1" ;;
	tmpfs) rm -f /mnt/tmpfs/file /mnt/tmpfs/small ;;
	esac
}

# 64M, 1G: in bytes
bytes_of() {
	case "$1" in
	*G) echo $((${1%G} << 30)) ;;
	*M) echo $((${1%M} << 20)) ;;
	*) echo "$1" ;;
	esac
}

# loop ID BYTES SPAN FLAGS FILE RW: the call loop; its figures (ns or, in
# the icount pass, instructions per call) end loops.tsv's row for ID.  A
# round moves 64 MiB at most: 20,000 calls of a few bytes, 16,384 of
# 4 KiB, 64 of 1 MiB.
loop() {
	calls=$((67108864 / $2))
	[ "$calls" -le 20000 ] || calls=20000
	opts=
	[ "$4" = - ] || opts=$4
	# shellcheck disable=SC2086  # no option, or one
	if out=$(./tests/callcost $opts -n "$calls" -s "$(bytes_of "$3")" "$5" "$6" "$2" 2>&1); then
		# FILE RW BYTES MEDIAN MIN MAX
		echo "$out" | awk '{ printf "\t%s\t%s\t%s\n", $4, $5, $6 }' >>"$R/loops.tsv"
		ktap_test_pass "bench.$1"
	else
		printf '\t\t\t\n' >>"$R/loops.tsv"
		echo "$out" | ktap_nest
		ktap_test_fail "bench.$1"
	fi
}

# memory: what 256 MiB stored costs, for scull and a tmpfs file: the
# memory charged to the writer's own memory cgroup (memory.current, in
# pages, exact once every CPU's charge cache is drained), and the free
# pages (buddy and per-CPU lists) before and after, which count what no
# cgroup is charged for too but move with any other allocation in the
# guest.  Writes memory.jsonl.
cg=/sys/fs/cgroup
cg_run() {
	# cg_run GROUP CMD...: CMD in memory cgroup GROUP, waited for
	g=$1
	shift
	# shellcheck disable=SC2016  # $$ is the inner shell's
	sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$cg/$g" "$@"
}
cg_drain() {
	# a pipe's page charged from another cgroup on each CPU flushes
	# that CPU's cache of the store group's charges
	for c in $(seq 0 $((ncpu - 1))); do
		# shellcheck disable=SC2016  # $$ is the inner shell's
		taskset -c "$c" sh -c 'echo $$ >"$0/cgroup.procs" && echo x | cat >/dev/null' \
			"$cg/bench-drain"
	done
}
cg_current() {
	# memory.current once it holds still (freeing a task waits for RCU)
	prev=-1
	for _ in $(seq 20); do
		cg_drain
		cat "$cg/cpu.stat" >/dev/null
		cur=$(cat "$cg/bench-store/memory.current")
		[ "$cur" != "$prev" ] || break
		prev=$cur
		sleep 0.1
	done
	echo "$cur"
}
free_kb() { sh guest/free-kb.sh; }
memory() {
	stored=268435456
	[ -e "$cg/cgroup.controllers" ] || mount -t cgroup2 none "$cg"
	echo +memory >"$cg/cgroup.subtree_control"
	mkdir -p "$cg/bench-store" "$cg/bench-drain"
	for d in 0 1 2 3; do : >/dev/scull$d; done
	rm -f /mnt/tmpfs/file /mnt/tmpfs/small
	sync
	echo 3 >/proc/sys/vm/drop_caches
	ok=0
	for dev in scull tmpfs; do
		f=$(file_of $dev write)
		b=$(cg_current) fb=$(free_kb)
		cg_run bench-store dd if=/dev/zero of="$f" bs=1M count=$((stored >> 20)) 2>/dev/null
		a=$(cg_current) fa=$(free_kb)
		trim $dev
		t=$(cg_current)
		printf '{"device":"%s","stored":%s,"charged_before":%s,"charged_after":%s,"charged_trimmed":%s,"free_before_kb":%s,"free_after_kb":%s}\n' \
			"$dev" "$stored" "$b" "$a" "$t" "$fb" "$fa" >>"$R/memory.jsonl"
		# every byte charged, and given back on trim; memory.current
		# also counts what each CPU holds charged ahead (the kernel's
		# charge batch, 64 pages a CPU), which may stay after the trim
		# (7.2, 1 vCPU: 262144 bytes; the suite's memory.stat checks are
		# exact)
		[ "$((a - b))" -ge "$stored" ] && [ "$t" -le "$((b + 64 * 4096 * ncpu))" ] && ok=$((ok + 1))
	done
	rmdir "$cg/bench-store" "$cg/bench-drain"
	if [ "$ok" -eq 2 ]; then
		ktap_test_pass bench.memory
	else
		ktap_nest <"$R/memory.jsonl"
		ktap_test_fail bench.memory "a store not charged in full, or not given back on trim"
	fi
}

ktap_print_header
# a result per fio run, loop and fill, per brd-cache run (cache kept), and
# for loading, brd, memory (icount), the results and unloading
ktap_set_plan $(($(plan | grep -c '^fio\|^fill\|^loop\|^memory') + 4 +
	$(plan | awk '$1 == "fio" && $5 == "brd-cache"' | wc -l)))
ktap_test_result bench.scull_load ./scull_load scull_size_limit=1200M
ktap_test_result bench.brd modprobe brd rd_nr=1 rd_size=1048576

printf 'id\tgroup\tworkload\tdevice\trw\tbs\tsize\tengine\tdepth\tjobs\tjob\n' >"$R/runs.tsv"
printf 'id\tgroup\tworkload\tdevice\trw\tbytes\tspan\tflags\tmedian\tmin\tmax\n' >"$R/loops.tsv"
plan >"$R/plan.txt"
while read -r kind a b c d e f g h i j k l; do
	case "$kind" in
	warm)
		BENCH_FILE=$(file_of "$a" "$b") BENCH_RW=$b BENCH_BS=$c BENCH_SIZE=$size \
		BENCH_ENGINE=psync BENCH_DEPTH=1 BENCH_JOBS=1 BENCH_CPUS=0 \
		BENCH_DIRECT=$(direct_of "$a") BENCH_RUNTIME=$warm_runtime \
			fio --output-format=json fio/bench/job.fio >/dev/null 2>&1
		;;
	fill) fill "$a" "$b" "$c" ;;
	trim) trim "$a" ;;
	memory)
		echo "# memory: 256 MiB into scull0, then into a tmpfs file"
		memory
		;;
	loop)
		n=$((n + 1))
		echo "# [$n/$steps] $c on $d (call loop)"
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s' "$a" "$b" "$c" "$d" "$e" "$f" "$g" "$h" >>"$R/loops.tsv"
		loop "$a" "$f" "$g" "$h" "$i" "$e"
		;;
	fio)
		id=$a group=$b workload=$c dev=$d
		n=$((n + 1))
		echo "# [$n/$steps] $workload on $dev"
		if [ "$k" = ../many-jobs.fio ]; then
			fio --output-format=json --output="$R/$id.json" fio/many-jobs.fio >"$R/$id.log" 2>&1
		else
			BENCH_FILE=${l:-$(file_of "$dev" "$e")} BENCH_RW=$e BENCH_BS=$f BENCH_SIZE=$g \
			BENCH_ENGINE=$h BENCH_DEPTH=$i BENCH_JOBS=$j BENCH_CPUS=$(cpus_for "$j") \
			BENCH_DIRECT=$(direct_of "$dev") BENCH_RUNTIME=$runtime \
				fio --output-format=json --output="$R/$id.json" "fio/bench/$k" >"$R/$id.log" 2>&1
		fi
		check "$id" "$(job_of "$k")"
		[ "$dev" != brd-cache ] || cache_kept "$id"
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "$group" "$workload" \
			"$dev" "$e" "$f" "$g" "$h" "$i" "$j" "$(job_of "$k")" >>"$R/runs.tsv"
		;;
	esac
done <"$R/plan.txt"

printf '{"pass":"%s","kernel":"%s","cpus":%s,"mem_kb":%s,"runtime":"%s","rounds":%s,"cpu":"%s"}\n' \
	"$pass" "$(uname -r)" "$(nproc)" "$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)" \
	"$runtime" "$rounds" "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)" >"$R/guest.json"

ktap_test_result bench.scull_unload ./scull_unload
# the results disk: a virtio block device the host reads back as a tar
modprobe virtio_pci
modprobe virtio_blk
udevadm settle
if [ -b /dev/vda ] && tar -C "$R" -cf /dev/vda .; then
	ktap_test_pass bench.results_saved
else
	ktap_test_fail bench.results_saved
fi
ktap_finished
