#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The benchmark, inside the guest: the same fio workloads against scull
# and the kernel's own memory devices, in one boot, then memory per byte
# stored.  Every fio run is checked (no error, no short I/O) and reported
# as a TAP line; its JSON goes to /results, which leaves the guest as a tar
# on the virtio disk /dev/vda.  tools/bench-report.sh turns it into tables
# and a plot on the host.
#
# Every measurement is taken ROUNDS times, interleaved with the other
# devices' (TCG timing drifts), and the report takes the median.
# QUICK=1 (the CI's smoke run, to keep the machinery working): one round
# of one second, a subset of the workloads, 256 MiB for the "large" size.
cd /opt/scull || exit 1
# shellcheck source=tools/guest/ktap.sh
. guest/ktap.sh

R=/results
mkdir -p "$R"
runtime=2 rounds=5 large=1G depths="1 8 32" minors="1 2 4"
workloads="seq-write-4k:write:4k seq-read-4k:read:4k seq-write-64k:write:64k
seq-read-64k:read:64k seq-write-1m:write:1M seq-read-1m:read:1M
rand-read-4k:randread:4k rand-write-4k:randwrite:4k"
if [ -n "${QUICK:-}" ]; then
	runtime=1 rounds=1 large=256M depths=8 minors="1 2"
	workloads="seq-write-4k:write:4k seq-read-4k:read:4k seq-read-1m:read:1M
	rand-read-4k:randread:4k"
fi
size=64M

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
#   fill DEVICE SIZE [FILE]   prefill a device (or FILE in its place)
#   trim DEVICE               empty it
plan() {
	for dev in scull tmpfs brd brd-cache; do
		echo "fill $dev $size"
	done
	# an unrecorded pass first: the first runs of a boot come out slow
	if [ -z "${QUICK:-}" ]; then
		compared | while read -r name dev rw bs; do
			echo "warm $dev $rw $bs"
		done
	fi
	for r in $(seq "$rounds"); do
		compared | while read -r name dev rw bs; do
			echo "fio $name.$dev.r$r compare $name $dev $rw $bs $size psync 1 1 job.fio"
		done
		for rw in randread randwrite; do
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
			done
		done
	done
	echo "trim scull"
	echo "trim scull1"
	echo "trim tmpfs"
	for m in 0 1 2 3; do
		echo "fill scull$m $size"
	done
	for r in $(seq "$rounds"); do
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

steps=$(plan | grep -c '^fio')
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

ktap_print_header
# a result per fio run and fill, per brd-cache run (cache kept), and for
# loading, brd, memory, the results and unloading
ktap_set_plan $(($(plan | grep -c '^fio\|^fill') + 5 +
	$(plan | awk '$1 == "fio" && $5 == "brd-cache"' | wc -l)))
ktap_test_result bench.scull_load ./scull_load scull_size_limit=1200M
ktap_test_result bench.brd modprobe brd rd_nr=1 rd_size=1048576

printf 'id\tgroup\tworkload\tdevice\trw\tbs\tsize\tengine\tdepth\tjobs\tjob\n' >"$R/runs.tsv"
plan >"$R/plan.txt"
while read -r kind a b c d e f g h i j k l; do
	case "$kind" in
	warm)
		BENCH_FILE=$(file_of "$a" "$b") BENCH_RW=$b BENCH_BS=$c BENCH_SIZE=$size \
		BENCH_ENGINE=psync BENCH_DEPTH=1 BENCH_JOBS=1 BENCH_CPUS=0 \
		BENCH_DIRECT=$(direct_of "$a") BENCH_RUNTIME=1 \
			fio --output-format=json fio/bench/job.fio >/dev/null 2>&1
		;;
	fill) fill "$a" "$b" "$c" ;;
	trim) trim "$a" ;;
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

# Memory: what 256 MiB stored costs the kernel, counting free pages
# (buddy and per-CPU lists) before and after; tmpfs alongside for scale.
free_kb() { sh guest/free-kb.sh; }
slab_kb() { awk '/^Slab:/ { print $2 }' /proc/meminfo; }

echo "# memory: 256 MiB into scull0, then into a tmpfs file"
for d in 0 1 2 3; do : >/dev/scull$d; done
rm -f /mnt/tmpfs/file
rmmod brd
sync
echo 3 >/proc/sys/vm/drop_caches
for dev in scull tmpfs; do
	f=$(file_of $dev write)
	b=$(free_kb) bs=$(slab_kb)
	head -c 268435456 /dev/zero >"$f"
	sync
	a=$(free_kb) as=$(slab_kb)
	printf '{"device":"%s","stored":268435456,"free_before_kb":%s,"free_after_kb":%s,"slab_before_kb":%s,"slab_after_kb":%s}\n' \
		"$dev" "$b" "$a" "$bs" "$as" >>"$R/memory.jsonl"
	trim $dev
done
if [ "$(wc -l <"$R/memory.jsonl")" -eq 2 ]; then
	ktap_test_pass bench.memory
else
	ktap_test_fail bench.memory
fi

printf '{"kernel":"%s","cpus":%s,"mem_kb":%s,"runtime_s":%s,"cpu":"%s"}\n' \
	"$(uname -r)" "$(nproc)" "$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)" \
	"$runtime" "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)" >"$R/guest.json"

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
