#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The test bench: install what is missing, fetch the kernel, build scull.ko
# (W=1) and the guest tests, pack an initramfs, boot it in QEMU and collect
# what the guest reports.
#
#   tools/vm.sh check    the suite; TAP on stdout, then "N passed, N failed"
#   tools/vm.sh demo     a short session in the guest, each command shown
#                        as typed, then its output (tools/guest/demo.sh)
#   tools/vm.sh shell    an interactive root shell in the guest
#   tools/vm.sh bench    the benchmark (tools/guest/bench.sh): a timed boot,
#                        then a boot under icount (ICOUNT=1: that one alone,
#                        ICOUNT=0: the timed one alone)
#   tools/vm.sh profile  perf in an icount guest: where scull's 4K reads and
#                        writes spend their instructions (tools/guest/profile.sh)
#   tools/vm.sh soak     the long randomized runs
#   tools/vm.sh callcost the cost of one call per device (SCULL_ICOUNT=1:
#                        in instructions)
#   tools/vm.sh boot     boot, load and unload scull, power off; BOOTS= times
#                        in a row (default 20), each boot reported, and a
#                        last line "N booted, N failed"
#
# Environment: KERNEL (default 6.1; any name of scull_kernel_table: 6.1,
# 6.12, 7.2, i386, arm64; or debug, the sanitizer kernel), IMPL (c, the
# default, or rust: the guest loads the Rust twin scull_rs.ko, built by
# tools/build-rust.sh, in place of scull.ko; KERNEL=7.2 only), TESTS (fnmatch
# patterns, default all; "!pattern" leaves out what it matches), TIMEOUT (seconds for the whole guest), QUICK=1
# (a short bench), SCULL_ACCEL (kvm or tcg; default kvm when it works
# here, else tcg), SCULL_CPU (the TCG guest CPU model), SCULL_TCG_THREAD
# (multi or single), SCULL_QEMU (another QEMU binary), SCULL_CMDLINE
# (kernel arguments in place of the mode's default), SCULL_SRC (build
# scull.ko from another copy of Kbuild, src/ and include/: a planted bug),
# SCULL_TEST_SCALE (percent of the suite's largest workloads; 5 on
# KERNEL=debug), FULL=1 (KERNEL=debug: the TEST_LONG tests too, which
# SCULL_TEST_QUICK=1 otherwise reports skipped), and for soak: SCULL_DIFF_SEEDS, SCULL_DIFF_OPS,
# SCULL_STRESS_SECONDS.  SCULL_ICOUNT=1 runs the guest on one vCPU under
# -icount shift=0,sleep=off: its clock counts instructions, so timed
# figures become instruction counts (the bench takes ICOUNT, above;
# profile always runs so).
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

mode=${1:?usage: vm.sh check|demo|shell|bench|profile|soak|callcost|boot}
KERNEL=${KERNEL:-6.1}
TESTS=${TESTS:-}
# the patterns of TESTS that name tests; "!pattern" ones leave tests out,
# and TESTS of those alone is the whole suite less them
tests_named=
set -f
for p in $TESTS; do
	case $p in !*) ;; *) tests_named="$tests_named $p" ;; esac
done
set +f
QUICK=${QUICK:-}
IMPL=${IMPL:-c}
case "$IMPL" in
c) ;;
rust)
	[ "$KERNEL" = 7.2 ] ||
		die_with_fix "IMPL=rust needs a kernel built with Rust: of the kernels here only Debian's 7.2 is" \
			"make check KERNEL=7.2 IMPL=rust"
	;;
*) die "IMPL must be c or rust, not '$IMPL'" ;;
esac

# The tests run with mitigations=off (faster, same behaviour); the bench
# keeps the kernel's defaults, as the machines it speaks for run, and has
# QEMU allocate all guest memory up front so that no run pays for the
# host faulting it in.  The tests also turn off Debian's
# init_on_alloc=1 (whatever SCULL_CMDLINE says): with it the kernel zeroes
# every allocation, and rw.fresh_quantum_is_zeroed could not see scull
# forget __GFP_ZERO.
case "$mode" in
check) timeout_s=${TIMEOUT:-1500} mem=2048 cmdline=mitigations=off ;;
demo) timeout_s=${TIMEOUT:-300} mem=2048 cmdline=mitigations=off ;;
soak) timeout_s=${TIMEOUT:-21600} mem=2048 cmdline=mitigations=off ;;
callcost) timeout_s=${TIMEOUT:-3600} mem=2048 cmdline= ;;
bench) timeout_s=${TIMEOUT:-3600} mem=3584 cmdline= ;;
profile) timeout_s=${TIMEOUT:-1800} mem=2048 cmdline= ;;
shell) timeout_s=0 mem=2048 cmdline=mitigations=off ;;
boot) timeout_s=${TIMEOUT:-300} mem=2048 cmdline=mitigations=off ;;
*) die "unknown mode '$mode'" ;;
esac
# The sanitizer kernel (KERNEL=debug): any WARN, oops or KASAN report
# stops the guest there, with the report on the console (every guest but
# the bench's boots with init_on_alloc=0, so reads of uninitialised
# memory show, and a large log).  Everything runs several times slower.
# SCULL_TEST_SCALE (percent) shrinks the workloads that allocate the most
# (tests/util.h: scaled()) so that each test fits its time limit there.
# Its guest has 4 GiB: KASAN's shadow and quarantine, kmemleak's objects
# and the debug page tables leave 2 GiB short of the 1024 processes of
# fio/ramdisk.fio (run unmodified, so not scaled), which the OOM killer
# then ends.
# no5lvl: four-level paging, as under -cpu max's LA57 its 6.1 kernel has
# a window where KASAN takes the direct map for unshadowed memory: an
# interrupt while identify_cpu() has cleared the boot CPU's feature bits
# (LA57 among them) reports a wild-memory-access in the interrupt's
# spinlock and panics the boot (seen once, in a cold CI run).
if [ "$KERNEL" = debug ]; then
	cmdline="$cmdline panic_on_warn=1 oops=panic kasan.fault=panic no5lvl"
	# four hours with FULL=1, or for tests named in TESTS (a long one
	# named runs whatever SCULL_TEST_QUICK says)
	[ "$mode" != check ] || timeout_s=${TIMEOUT:-$([ "${FULL:-0}" != 0 ] || [ -n "$tests_named" ] && echo 14400 || echo 5400)}
	[ "$mem" -ge 4096 ] || mem=4096
	SCULL_TEST_SCALE=${SCULL_TEST_SCALE:-5}
	# the tests that take minutes here (TEST_LONG) report SKIP unless
	# FULL=1: CI runs make check-debug, and every one of them runs in
	# make check on the stock kernels
	[ "${FULL:-0}" != 0 ] || SCULL_TEST_QUICK=${SCULL_TEST_QUICK:-1}
fi
# i386: a 32-bit kernel maps less than 1 GiB of its memory for good
# (lowmem); with 3 GiB the rest, highmem, holds the four default devices
# filled (limit.default_devices_filled_from_highmem)
[ "$KERNEL" != i386 ] || [ "$mode" != check ] || [ "$mem" -ge 3072 ] || mem=3072
cmdline=${SCULL_CMDLINE-$cmdline}
case "$mode" in bench | profile) ;; *) cmdline="init_on_alloc=0 $cmdline" ;; esac
# what the guest runs: boot is the suite with no test program in it
guest_mode=$mode
[ "$mode" != boot ] || guest_mode=check

# What this mode runs is installed before anything runs it (a fresh
# Debian has no depmod, which kernel.sh needs).  qemu-system-x86 holds the
# x86_64 and i386 emulators; the sanitizer kernel is x86_64.
read -r _ guest_arch _ <<<"$(scull_kernel_table "$KERNEL" || echo "- amd64")"
qemu_pkg=
[ "$guest_arch" != arm64 ] || qemu_pkg="qemu-system-arm"
case "$mode" in boot | callcost | demo) deps_mode=check ;; esac
# shellcheck disable=SC2086  # no package, or one
"$SCULL_ROOT/tools/deps.sh" "${deps_mode:-$mode}" $qemu_pkg

kinfo=$("$SCULL_ROOT/tools/kernel.sh" "$KERNEL") || exit 1
eval "$kinfo"
# a kernel built here rather than fetched may leave these out: x86_64
KDEBARCH=${KDEBARCH:-amd64} KCROSS=${KCROSS:-}
export KVER KIMAGE KMODS KDIR KROOT KDEBARCH KCROSS
read -r _ _ qemu_bin _ <<<"$(scull_arch_table "$KDEBARCH")"

out=$SCULL_OUT/$KVER
run=$out/$mode
# the initramfs (about 100 MB) and the logs of this run
scull_need_space "$out" 300 "this run's initramfs and logs"
mkdir -p "$out"
rm -rf "$run"
mkdir -p "$run"

"$SCULL_ROOT/tools/build-module.sh" "$out/module"
# the Rust twin, loaded in place of scull.ko (the C module is built all the
# same: the suite's module tests load it by name)
rust_module=
if [ "$IMPL" = rust ]; then
	"$SCULL_ROOT/tools/build-rust.sh" "$out/rust" "$KERNEL"
	rust_module=$out/rust/scull_rs.ko
fi
log "building the guest tests ($KDEBARCH)"
if [ "$KDEBARCH" = amd64 ]; then
	# make demo runs one program of them (a cold build of all takes 20 s)
	targets=
	[ "$mode" != demo ] || targets=$out/tests/geometry
	# shellcheck disable=SC2086  # no target (all), or one
	make -s -C "$SCULL_ROOT/tests" O="$out/tests" $targets >&2
else
	# built where the module was, with that architecture's compiler
	# (a folder of this tree's own: two trees may build at once)
	tb_in=/build/scull-tests-$(printf '%s' "$out" | cksum | cut -d ' ' -f 1)
	tb=$KROOT$tb_in
	rm -rf "$tb" "$out/tests"
	mkdir -p "$tb/include"
	cp -r "$SCULL_ROOT/tests" "$tb/"
	cp -r "$SCULL_ROOT/include/uapi" "$tb/include/"
	chroot "$KROOT" make -s -C "$tb_in/tests" O="$tb_in/out" \
		TARGET="$KDEBARCH" >&2
	cp -r "$tb/out" "$out/tests"
fi
progs=$(make -s -C "$SCULL_ROOT/tests" print-progs)
# IMPL=rust: the memory devices' programs only; the others are not run,
# and collect.sh says which (never counted as passes)
not_run=
if [ "$IMPL" = rust ]; then
	rust_progs=$(make -s -C "$SCULL_ROOT/tests" print-rust-progs)
	for p in $progs; do
		case " $rust_progs " in *" $p "*) ;; *) not_run="$not_run $p" ;; esac
	done
	progs=$rust_progs
	log "IMPL=rust: not running$not_run (the pipes, the access devices, the C module's own loading)"
fi
export SCULL_NOT_RUN=${not_run# }
[ "$mode" != boot ] || progs=

# Per architecture: the machine, the CPU model, the console, and where the
# results and the kernel log leave the guest.
#
# x86 (x86_64, i386): under TCG the guest CPU hides ERMS and FSRM: with
# them the kernel copies to and from user space with "rep movsb", which TCG
# emulates a byte at a time, making every copy_to_user five times slower
# than a kernel memcpy (measured: 1 MiB reads of /dev/zero 542 MiB/s with
# ERMS, 3243 without).  That would distort every comparison between
# devices in the bench.  Three UARTs: console, results, kernel log.
#
# arm64: QEMU's virt board with a Cortex-A72 (the Raspberry Pi 4's core;
# "max" enables pointer authentication, whose emulation made boot 4x
# slower here), which also runs AArch32 programs (the compat ioctl test).
# The board has one UART, the console; results and the kernel log go
# through two virtio-serial ports.
accel=tcg
[ "$KDEBARCH" != amd64 ] || accel=${SCULL_ACCEL:-$("$SCULL_ROOT/tools/kvm-probe.sh")}
case "$KDEBARCH" in
amd64 | i386)
	console=ttyS0
	results_port=/dev/ttyS1 klog_port=/dev/ttyS2
	machine=()
	cpu=${SCULL_CPU:-max,-erms,-fsrm}
	# TCG's "max" says AuthenticAMD, family 6: a 32-bit kernel takes that
	# for an Athlon (K7) and warns "This combination of AMD processors is
	# not suitable for SMP" at every boot
	[ "$KDEBARCH" != i386 ] || cpu=${SCULL_CPU:-max,vendor=GenuineIntel,-erms,-fsrm}
	cmdline="tsc=reliable clocksource=tsc $cmdline"
	;;
arm64)
	console=ttyAMA0
	results_port=/dev/vport0p1 klog_port=/dev/vport0p2
	machine=(-M virt)
	cpu=${SCULL_CPU:-cortex-a72}
	;;
esac
# guest_io CONSOLE RESULTS KLOG sets io, the QEMU arguments of the three
# channels, each "file:PATH" or "null" (the console also "mon:stdio").
guest_io() {
	local n=1 spec
	io=(-serial "$1")
	case "$KDEBARCH" in
	arm64)
		io+=(-device virtio-serial-pci)
		for spec in "$2" "$3"; do
			case "$spec" in
			file:*) io+=(-chardev "file,id=port$n,path=${spec#file:}") ;;
			*) io+=(-chardev "$spec,id=port$n") ;;
			esac
			io+=(-device "virtserialport,chardev=port$n,nr=$n")
			n=$((n + 1))
		done
		;;
	*) io+=(-serial "$2" -serial "$3") ;;
	esac
}

# TESTS reaches the guest's shell single-quoted: patterns, never expanded
tests_quoted=${TESTS//\'/\'\\\'\'}
# pack_guest [LINE...]: the guest's orders (guest.conf, with LINEs added)
# and the initramfs that carries them, in $run
pack_guest() {
	cat >"$run/guest.conf" <<-EOF
		MODE=$guest_mode
		RESULTS_PORT=$results_port
		KLOG_PORT=$klog_port
		PROGS="$progs"
		TESTS='$tests_quoted'
		QUICK="$QUICK"
		KVER="$KVER"
		export SCULL_IMPL=$IMPL
	EOF
	[ "$#" -eq 0 ] || printf '%s\n' "$@" >>"$run/guest.conf"
	# the soak's knobs and the scale, when given; the guest programs have
	# defaults
	for v in SCULL_DIFF_SEEDS SCULL_DIFF_OPS SCULL_STRESS_SECONDS SCULL_TEST_SCALE SCULL_TEST_QUICK CALLCOST_SIZES; do
		[ -z "${!v:-}" ] || echo "$v=\"${!v}\"" >>"$run/guest.conf"
	done
	log "packing the initramfs"
	TESTBIN=$out/tests MODULE=$out/module/scull.ko RUST_MODULE=$rust_module \
		"$SCULL_ROOT/tools/initramfs.sh" "$run/initramfs.cpio" "$run/guest.conf"
}

# x86 guests under TCG run Debian 13's QEMU (tools/qemu.sh says why: QEMU
# 7.2's multi-threaded TCG crashes kernels that live-patch their text),
# the bench's too.
if [ "$accel" = tcg ] && [ "$KDEBARCH" != arm64 ]; then
	qemu_bin=$("$SCULL_ROOT/tools/qemu.sh" "$qemu_bin")
fi
qemu_bin=${SCULL_QEMU:-$qemu_bin}
case "$accel" in
kvm) accel_args=(-accel kvm -cpu host) ;;
tcg) accel_args=(-accel "tcg,thread=${SCULL_TCG_THREAD:-multi}" -cpu "$cpu") ;;
*) die "SCULL_ACCEL must be kvm or tcg" ;;
esac
# qemu_cmd ICOUNT: the QEMU command line in qemu[], booting $run's
# initramfs; ICOUNT=1 runs one vCPU under single-threaded TCG with the
# guest's clock counting instructions (-icount shift=0: 1 ns each;
# sleep=off: idle time skipped)
qemu_cmd() {
	local args=("${accel_args[@]}") smp=2
	if [ "$1" = 1 ]; then
		args=(-accel "tcg,thread=single" -icount "shift=0,sleep=off" -cpu "$cpu")
		smp=1
	fi
	qemu=("$qemu_bin" "${machine[@]}" "${args[@]}" -m "$mem" -smp "$smp"
		-nodefaults -no-reboot -display none
		-kernel "$KIMAGE" -initrd "$run/initramfs.cpio"
		-append "console=$console loglevel=5 log_buf_len=16M panic=-1 $cmdline")
}

# The whole suite starts with the host's own checks: the failures a
# newcomer meets first (tools/newcomer-test.sh), counted with the guest's
# results by tools/collect.sh.  They boot no guest: no lock.
host_tap=
if [ "$mode" = check ] && [ -z "$tests_named" ]; then
	host_tap=$run/host.tap
	log "checking the friendly failures on the host (tools/newcomer-test.sh)"
	"$SCULL_ROOT/tools/newcomer-test.sh" >"$host_tap" 2>&1 || true
fi

mkdir -p "$SCULL_CACHE"
# One guest at a time on this machine, in the order they asked
# (scull_guest_lock); SCULL_GUEST_LOCKED=1 says the caller holds the lock
# already (tools/check-all.sh, for all its rows).
# (waited: the seconds spent waiting for it, which make demo leaves out)
waited=0
lock_guest() {
	local t=$SECONDS
	[ "${SCULL_GUEST_LOCKED:-}" = 1 ] || scull_guest_lock
	waited=$((SECONDS - t))
}

# make demo's session as it comes (tools/guest/demo.sh), without the
# guest's end marker; it ran to its end when its last line says so.
demo_show() {
	local line rc=1
	while IFS= read -r line; do
		line=${line%$'\r'}
		[ "$line" != "scull-guest: done" ] || break
		printf '%s\n' "$line"
		case "$line" in "demo: all "*) rc=0 ;; esac
	done
	cat >/dev/null
	return "$rc"
}

# One boot: the guest's lines streamed as they come through
# tools/collect.sh, which checks and counts them (make demo: demo_show,
# which shows them).  Returns non-zero when anything failed.
boot_guest() {
	local rc qrc
	: >"$run/results.txt"
	rm -f "$run/console.log" "$run/kmsg.txt"
	guest_io "file:$run/console.log" "file:$run/results.txt" "file:$run/kmsg.txt"
	timeout --kill-after=10 "$timeout_s" "${qemu[@]}" "${io[@]}" \
		</dev/null >"$run/qemu.log" 2>&1 &
	qpid=$!
	set +e
	if [ "$mode" = demo ]; then
		tail -n +1 -F --pid="$qpid" "$run/results.txt" 2>/dev/null | demo_show
	else
		tail -n +1 -F --pid="$qpid" "$run/results.txt" 2>/dev/null |
			"$SCULL_ROOT/tools/collect.sh" "$guest_mode" "$run" ${host_tap:+"$host_tap"}
	fi
	rc=$?
	wait "$qpid"
	qrc=$?
	set -e
	if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
		echo "guest did not finish within ${timeout_s}s: killed" >&2
		[ "$rc" -ne 0 ] || rc=1
	fi
	return "$rc"
}

if [ "$mode" = bench ]; then
	# The bench: a boot per pass (tools/guest/bench.sh), each leaving a tar
	# of its results on a virtio disk, then one report for all of them.
	# ICOUNT=1 runs the deterministic pass alone, ICOUNT=0 the timed one.
	case "${ICOUNT:-}" in
	'') passes="timed icount" ;;
	1) passes=icount ;;
	0) passes=timed ;;
	*) die "ICOUNT must be 1 (the icount pass alone), 0 (the timed pass alone) or unset (both)" ;;
	esac
	results=$SCULL_OUT/bench/$(date +%Y%m%d-%H%M%S)-$KVER${QUICK:+-quick}${ICOUNT:+-icount$ICOUNT}
	qemu_version=$("$qemu_bin" --version | head -n 1)
	# one lock for every pass: the passes run back to back
	lock_guest
	rc=0
	for pass in $passes; do
		run=$out/bench/$pass
		rm -rf "$run"
		mkdir -p "$run" "$results/$pass"
		pack_guest "BENCH_PASS=$pass"
		qemu_cmd "$([ "$pass" = icount ] && echo 1 || echo 0)"
		# all guest memory allocated up front, so that no run pays for
		# the host faulting it in; the guest writes a tar of its results
		# onto the disk
		truncate -s 256M "$run/results.img"
		qemu+=(-mem-prealloc -drive "file=$run/results.img,format=raw,if=virtio")
		log "booting $KVER (bench, $pass pass, $qemu_version); guest log: $run/console.log"
		start=$(date +%s)
		boot_guest || rc=1
		if tar -xf "$run/results.img" -C "$results/$pass" 2>/dev/null &&
			[ -f "$results/$pass/runs.tsv" ]; then
			printf '{"pass":"%s","qemu":"%s","wall_s":%s,"date":"%s"}\n' "$pass" \
				"$qemu_version" "$(($(date +%s) - start))" "$(date -u +%FT%TZ)" \
				>"$results/$pass/host.json"
		else
			echo "no results came back from the guest ($pass pass)" >&2
			echo "guest console log: $run/console.log" >&2
			echo "guest kernel log:  $run/kmsg.txt" >&2
			rm -rf "${results:?}/$pass"
			rc=1
		fi
	done
	if [ -n "$(ls "$results")" ]; then
		"$SCULL_ROOT/tools/bench-report.sh" "$results" || rc=1
	fi
	# latest names the last run that passed: a failed one (a pass that
	# brought nothing back, a guest failure, a report that fails) stays
	# where it is, named, and latest keeps pointing at the good one
	if [ "$rc" -eq 0 ]; then
		ln -sfn "$(basename "$results")" "$SCULL_OUT/bench/latest"
	else
		echo "bench failed: its results stay in $results; $SCULL_OUT/bench/latest not changed" >&2
	fi
	exit "$rc"
fi

if [ "$mode" = profile ]; then
	# perf in the guest, on one vCPU under icount: cpu-clock samples every
	# N ns of the guest's clock, which is every N instructions
	export SCULL_EXTRA_BINS="${SCULL_EXTRA_BINS:-} /usr/bin/perf"
fi
pack_guest
icount=${SCULL_ICOUNT:-}
[ "$mode" != profile ] || icount=1
qemu_cmd "${icount:-0}"
lock_guest

if [ "$mode" = shell ]; then
	guest_io mon:stdio null null
	exec "${qemu[@]}" "${io[@]}"
fi

if [ "$mode" = boot ]; then
	# Boots in a row, each its own guest (20 take about as long as one
	# make check, so the lock is held throughout).
	boots=${BOOTS:-20} booted=0 failed=0
	log "booting $KVER $boots times ($accel); guest logs: $run/"
	for i in $(seq "$boots"); do
		start=$(date +%s)
		if boot_guest >"$run/boot-$i.tap" 2>&1; then
			booted=$((booted + 1))
			echo "boot $i/$boots: ok ($(($(date +%s) - start)) s)"
		else
			failed=$((failed + 1))
			cp "$run/console.log" "$run/boot-$i.console.log" 2>/dev/null || true
			echo "boot $i/$boots: FAILED ($(($(date +%s) - start)) s): $(grep -m 1 '^not ok' "$run/boot-$i.tap")"
			grep '^# ' "$run/boot-$i.tap" | head -n 12
			echo "  console log: $run/boot-$i.console.log"
		fi
	done
	echo "$booted booted, $failed failed"
	[ "$failed" -eq 0 ]
	exit
fi

log "booting $KVER ($mode, $KDEBARCH, $accel${icount:+, icount}); guest log: $run/console.log"
# (boot_guest turns set -e back on: its status is taken with ||, or a
# failed run would end here, before the log paths)
rc=0
boot_guest || rc=$?
if [ "$mode" = demo ] && [ "$rc" -eq 0 ]; then
	msg="make demo: done in $((SECONDS - waited)) s (build, boot and session)"
	[ "$waited" -eq 0 ] || msg="$msg, after $waited s waiting for another guest"
	log "$msg"
fi
if [ "$rc" -ne 0 ]; then
	[ "$mode" != demo ] || echo "make demo: FAILED: the session did not run to its end" >&2
	echo "guest console log: $run/console.log" >&2
	echo "guest kernel log:  $run/kmsg.txt" >&2
fi
exit "$rc"
