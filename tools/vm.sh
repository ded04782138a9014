#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The test bench: install what is missing, fetch the kernel, build scull.ko
# (W=1) and the guest tests, pack an initramfs, boot it in QEMU and collect
# what the guest reports.
#
#   tools/vm.sh check    the suite; TAP on stdout, then "N passed, N failed"
#   tools/vm.sh shell    an interactive root shell in the guest
#   tools/vm.sh bench    the fio benchmark (tools/guest/bench.sh)
#   tools/vm.sh soak     the long randomized runs
#
# Environment: KERNEL (default 6.1; debug: the sanitizer kernel), TESTS (fnmatch patterns, default all),
# TIMEOUT (seconds for the whole guest), QUICK=1 (a short bench),
# SCULL_ACCEL (kvm or tcg; default kvm when it works here, else tcg),
# SCULL_CPU (the TCG guest CPU model), SCULL_CMDLINE (kernel arguments in
# place of the mode's default), SCULL_SRC (build scull.ko from another copy
# of Kbuild, src/ and include/: a planted bug), and for soak:
# SCULL_DIFF_SEEDS, SCULL_DIFF_OPS, SCULL_STRESS_SECONDS; SCULL_TEST_SCALE
# (percent of the suite's largest workloads; 5 on KERNEL=debug).
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

mode=${1:?usage: vm.sh check|shell|bench|soak}
KERNEL=${KERNEL:-6.1}
TESTS=${TESTS:-}
QUICK=${QUICK:-}

# The tests run with mitigations=off (faster, same behaviour); the bench
# keeps the kernel's defaults, as the machines it speaks for run, and has
# QEMU allocate all guest memory up front so that no run pays for the
# host faulting it in.
case "$mode" in
check) timeout_s=${TIMEOUT:-1500} mem=2048 cmdline=mitigations=off ;;
soak) timeout_s=${TIMEOUT:-21600} mem=2048 cmdline=mitigations=off ;;
bench) timeout_s=${TIMEOUT:-3600} mem=3584 cmdline= ;;
shell) timeout_s=0 mem=2048 cmdline=mitigations=off ;;
*) die "unknown mode '$mode'" ;;
esac
# The sanitizer kernel (KERNEL=debug): any WARN, oops or KASAN report
# stops the guest there, with the report on the console; all memory is
# left unzeroed so reads of uninitialised memory show; a large log keeps
# every report.  Everything runs several times slower.
# SCULL_TEST_SCALE (percent) shrinks the workloads that allocate the most
# (tests/util.h: scaled()) so that each test fits its time limit there.
if [ "$KERNEL" = debug ]; then
	cmdline="$cmdline panic_on_warn=1 oops=panic kasan.fault=panic init_on_alloc=0 log_buf_len=16M"
	[ "$mode" != check ] || timeout_s=${TIMEOUT:-5400}
	SCULL_TEST_SCALE=${SCULL_TEST_SCALE:-5}
fi
cmdline=${SCULL_CMDLINE-$cmdline}

"$SCULL_ROOT/tools/deps.sh" "$mode"
eval "$("$SCULL_ROOT/tools/kernel.sh" "$KERNEL")"
export KVER KIMAGE KMODS KDIR KROOT

out=$SCULL_OUT/$KVER
run=$out/$mode
mkdir -p "$out"
rm -rf "$run"
mkdir -p "$run"

"$SCULL_ROOT/tools/build-module.sh" "$out/module"
log "building the guest tests"
make -s -C "$SCULL_ROOT/tests" O="$out/tests" >&2
progs=$(make -s -C "$SCULL_ROOT/tests" print-progs)

cat >"$run/guest.conf" <<EOF
MODE=$mode
PROGS="$progs"
TESTS="$TESTS"
QUICK="$QUICK"
KVER="$KVER"
EOF
# the soak's knobs and the scale, when given; the guest programs have defaults
for v in SCULL_DIFF_SEEDS SCULL_DIFF_OPS SCULL_STRESS_SECONDS SCULL_TEST_SCALE; do
	[ -z "${!v:-}" ] || echo "$v=\"${!v}\"" >>"$run/guest.conf"
done
log "packing the initramfs"
TESTBIN=$out/tests MODULE=$out/module/scull.ko \
	"$SCULL_ROOT/tools/initramfs.sh" "$run/initramfs.cpio" "$run/guest.conf"

# Under TCG the guest CPU hides ERMS and FSRM: with them the kernel copies
# to and from user space with "rep movsb", which TCG emulates a byte at a
# time, making every copy_to_user five times slower than a kernel memcpy
# (measured: 1 MiB reads of /dev/zero 542 MiB/s with ERMS, 3243 without).
# That would distort every comparison between devices in the bench.
accel=${SCULL_ACCEL:-$("$SCULL_ROOT/tools/kvm-probe.sh")}
case "$accel" in
kvm) accel_args=(-accel kvm -cpu host) ;;
tcg) accel_args=(-accel "tcg,thread=multi" -cpu "${SCULL_CPU:-max,-erms,-fsrm}") ;;
*) die "SCULL_ACCEL must be kvm or tcg" ;;
esac
qemu=(qemu-system-x86_64 "${accel_args[@]}" -m "$mem" -smp 2
	-nodefaults -no-reboot -display none
	-kernel "$KIMAGE" -initrd "$run/initramfs.cpio"
	-append "console=ttyS0 loglevel=5 panic=-1 tsc=reliable clocksource=tsc $cmdline")

# One guest at a time on this machine: guests distort each other's timings
# and share two cores.  A second run (another checkout, a helper) waits.
mkdir -p "$SCULL_CACHE"
exec 8>"$SCULL_CACHE/guest.lock"
if ! flock -n 8; then
	log "another guest is running: waiting for it"
	flock 8
fi

if [ "$mode" = shell ]; then
	exec "${qemu[@]}" -serial mon:stdio -serial null -serial null
fi

if [ "$mode" = bench ]; then
	qemu+=(-mem-prealloc)
	# the guest writes a tar of its results onto this disk
	truncate -s 256M "$run/results.img"
	qemu+=(-drive "file=$run/results.img,format=raw,if=virtio")
fi

: >"$run/results.txt"
log "booting $KVER ($mode, $accel); guest log: $run/console.log"
timeout --kill-after=10 "$timeout_s" "${qemu[@]}" \
	-serial "file:$run/console.log" -serial "file:$run/results.txt" \
	-serial "file:$run/dmesg.txt" </dev/null >"$run/qemu.log" 2>&1 &
qpid=$!

# Stream the guest's lines as they come, and let tools/collect.sh number,
# check and count them.
set +e
tail -n +1 -F --pid="$qpid" "$run/results.txt" 2>/dev/null |
	"$SCULL_ROOT/tools/collect.sh" "$mode" "$run" "$out/tests" "$progs"
rc=$?
wait "$qpid"
qrc=$?
set -e
if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
	echo "guest did not finish within ${timeout_s}s: killed" >&2
	[ "$rc" -ne 0 ] || rc=1
fi
if [ "$mode" = bench ]; then
	# the guest left a tar of its results on the virtio disk
	results=$SCULL_OUT/bench/$(date +%Y%m%d-%H%M%S)-$KVER${QUICK:+-quick}
	mkdir -p "$results"
	if tar -xf "$run/results.img" -C "$results" 2>/dev/null && [ -f "$results/runs.tsv" ]; then
		"$SCULL_ROOT/tools/bench-report.sh" "$results" || rc=1
		ln -sfn "$(basename "$results")" "$SCULL_OUT/bench/latest"
	else
		echo "no results came back from the guest" >&2
		rc=1
	fi
fi
if [ "$rc" -ne 0 ]; then
	echo "guest console log: $run/console.log" >&2
	echo "guest kernel log:  $run/dmesg.txt" >&2
fi
exit "$rc"
