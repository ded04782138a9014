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
#   tools/vm.sh callcost the cost of one call per device (SCULL_ICOUNT=1:
#                        in instructions)
#
# Environment: KERNEL (default 6.1), TESTS (fnmatch patterns, default all),
# TIMEOUT (seconds for the whole guest), QUICK=1 (a short bench),
# SCULL_ACCEL (kvm or tcg; default kvm when it works here, else tcg),
# SCULL_CPU (the TCG guest CPU model), SCULL_CMDLINE (kernel arguments in
# place of the mode's default), and for soak: SCULL_DIFF_SEEDS,
# SCULL_DIFF_OPS, SCULL_STRESS_SECONDS.  SCULL_ICOUNT=1 runs the guest
# on one vCPU under -icount shift=0,sleep=off: its clock counts
# instructions, so timed figures become instruction counts.
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
# host faulting it in.  The tests also turn off Debian's
# init_on_alloc=1 (whatever SCULL_CMDLINE says): with it the kernel zeroes
# every allocation, and rw.fresh_quantum_is_zeroed could not see scull
# forget __GFP_ZERO.
case "$mode" in
check) timeout_s=${TIMEOUT:-1500} mem=2048 cmdline=mitigations=off ;;
soak) timeout_s=${TIMEOUT:-21600} mem=2048 cmdline=mitigations=off ;;
callcost) timeout_s=${TIMEOUT:-3600} mem=2048 cmdline= ;;
bench) timeout_s=${TIMEOUT:-3600} mem=3584 cmdline= ;;
shell) timeout_s=0 mem=2048 cmdline=mitigations=off ;;
*) die "unknown mode '$mode'" ;;
esac
cmdline=${SCULL_CMDLINE-$cmdline}
[ "$mode" = bench ] || cmdline="init_on_alloc=0 $cmdline"

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

# TESTS reaches the guest's shell single-quoted: patterns, never expanded
tests_quoted=${TESTS//\'/\'\\\'\'}
cat >"$run/guest.conf" <<EOF
MODE=$mode
PROGS="$progs"
TESTS='$tests_quoted'
QUICK="$QUICK"
KVER="$KVER"
EOF
# the soak's knobs, when given; their defaults are the guest programs'
for v in SCULL_DIFF_SEEDS SCULL_DIFF_OPS SCULL_STRESS_SECONDS; do
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
smp=2
if [ -n "${SCULL_ICOUNT:-}" ]; then
	accel_args=(-accel "tcg,thread=single" -icount "shift=0,sleep=off"
		-cpu "${SCULL_CPU:-max,-erms,-fsrm}")
	smp=1
fi
qemu=(qemu-system-x86_64 "${accel_args[@]}" -m "$mem" -smp "$smp"
	-nodefaults -no-reboot -display none
	-kernel "$KIMAGE" -initrd "$run/initramfs.cpio"
	-append "console=ttyS0 loglevel=5 log_buf_len=16M panic=-1 tsc=reliable clocksource=tsc $cmdline")

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
	-serial "file:$run/kmsg.txt" </dev/null >"$run/qemu.log" 2>&1 &
qpid=$!

# Stream the guest's lines as they come, and let tools/collect.sh
# check and count them.
set +e
tail -n +1 -F --pid="$qpid" "$run/results.txt" 2>/dev/null |
	"$SCULL_ROOT/tools/collect.sh" "$mode" "$run"
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
	echo "guest kernel log:  $run/kmsg.txt" >&2
fi
exit "$rc"
