#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check-all`: the whole suite (tools/vm.sh check) on every kernel and
# architecture the project claims, one after the other, then one table:
# kernel, architecture, build warnings (W=1), passed, failed, skipped, wall
# time; and a last line "N passed, N failed, N skipped" over all rows.
# Exits non-zero when any row failed (a failed test, a build that failed or
# warned, a guest that crashed or hung).
#
#   tools/check-all.sh [--boot] [KERNEL...]
#
# The rows are SCULL_ALL_KERNELS (tools/lib.sh) unless named here or in
# CHECK_ALL= (e.g. CHECK_ALL="6.1 arm64").  Rows also named in
# CHECK_QUICK= run the quick profile (SCULL_TEST_QUICK=1: each TEST_LONG
# test reports SKIP with the reason), as CI runs the kernels other than
# 6.1 and i386, whose make check runs them all.  Each row's full output streams
# as it runs and is kept in $SCULL_OUT/check-all/<name>.log; the table in
# $SCULL_OUT/check-all/table.md.  CHECK_TESTS_<row> (the row's name with
# "_" for ".", e.g. CHECK_TESTS_6_12) is that row's TESTS, in place of
# TESTS: CI leaves out there what it runs on another row.
#
# --boot (make boot-all): instead of the suite, BOOTS= boots in a row of
# each kernel (tools/vm.sh boot: boot, load and unload scull, power off),
# and a table of boots and failures.
#
# Rows overlap: a row's preparation (tools/kernel.sh, the module and test
# builds, the initramfs; no guest) runs while the row before it has its
# guest, which saves the build's minute or so on every row after the
# first.  The guests still run one at a time, in row order: tools/vm.sh
# takes the guest lock only to boot, and a row starts only once the row
# before it has booted.  A caller that holds the lock already
# (SCULL_GUEST_LOCKED=1) gets the rows one after the other, as before.
# Each row's output is kept in its log and shown whole, in row order.
set -uo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

mode=check
if [ "${1:-}" = --boot ]; then
	mode=boot
	shift
fi
rows=${*:-${CHECK_ALL:-$SCULL_ALL_KERNELS}}
dir=$SCULL_OUT/check-all
[ "$mode" = check ] || dir=$SCULL_OUT/boot-all
mkdir -p "$dir" "$SCULL_CACHE"

lines=()
tpass=0 tfail=0 tskip=0 status=0
all_start=$(date +%s)

mmss() { printf '%d:%02d' $(($1 / 60)) $(($1 % 60)); }

# run_row ROW: the row's kernel (its KVER in ROW.kinfo) and its vm.sh run,
# all output in ROW.log, the exit status in ROW.rc
run_row() {
	local k=$1 info quick tests_var
	date +%s >"$dir/$k.start"
	{
		if info=$("$SCULL_ROOT/tools/kernel.sh" "$k"); then
			printf '%s\n' "$info" >"$dir/$k.kinfo"
			eval "$info"
			rm -f "$SCULL_OUT/$KVER/module/build.log"
		fi
		quick=${SCULL_TEST_QUICK:-}
		case " ${CHECK_QUICK:-} " in *" $k "*) quick=1 ;; esac
		tests_var=CHECK_TESTS_${k//./_}
		SCULL_TEST_QUICK=$quick TESTS=${!tests_var:-${TESTS:-}} KERNEL=$k \
			"$SCULL_ROOT/tools/vm.sh" "$mode"
	} >"$dir/$k.log" 2>&1
	echo $? >"$dir/$k.rc"
}

# start_rows: every row in the background, each once the one before it
# has booted (or ended), with its pid in ROW.pid
start_rows() {
	local k pid
	for k in $rows; do
		: >"$dir/$k.log"
		run_row "$k" &
		pid=$!
		echo "$pid" >"$dir/$k.pid"
		while kill -0 "$pid" 2>/dev/null; do
			[ "${SCULL_GUEST_LOCKED:-}" = 1 ] ||
				! grep -q '\] booting ' "$dir/$k.log" || break
			sleep 1
		done
	done
	wait
}

for k in $rows; do
	rm -f "$dir/$k.pid" "$dir/$k.rc" "$dir/$k.kinfo" "$dir/$k.start"
done
start_rows &
starter=$!

for k in $rows; do
	note=
	while [ ! -s "$dir/$k.pid" ]; do
		kill -0 "$starter" 2>/dev/null || break
		sleep 1
	done
	log "check-all: KERNEL=$k"
	# the row's output so far, then as it comes, until it ends
	tail -n +1 -f --pid="$(cat "$dir/$k.pid" 2>/dev/null || echo "$starter")" "$dir/$k.log"
	while [ ! -s "$dir/$k.rc" ] && kill -0 "$starter" 2>/dev/null; do
		sleep 1
	done
	rc=$(cat "$dir/$k.rc" 2>/dev/null || echo 1)
	start=$(cat "$dir/$k.start" 2>/dev/null || echo "$all_start")
	wall=$(($(date +%s) - start))
	KVER=$k KDEBARCH="?"
	[ ! -s "$dir/$k.kinfo" ] || eval "$(cat "$dir/$k.kinfo")"

	if [ "$mode" = boot ]; then
		summary=$(grep -E '^[0-9]+ booted, [0-9]+ failed' "$dir/$k.log" | tail -n 1)
		read -r pass _ fail _ <<<"${summary//,/}"
		pass=${pass:-0} fail=${fail:-1}
		[ -n "$summary" ] || note="no result: see $dir/$k.log"
		[ "$rc" -eq 0 ] && [ "$fail" -eq 0 ] || status=1
		tpass=$((tpass + pass)) tfail=$((tfail + fail))
		lines+=("$(printf '| %s | %s | %s | %s | %s |%s' "$KVER" "$KDEBARCH" \
			"$pass" "$fail" "$(mmss "$wall")" "${note:+ $note |}")")
		continue
	fi

	warnings=-
	if [ -f "$SCULL_OUT/$KVER/module/build.log" ]; then
		warnings=$(grep -c 'warning:' "$SCULL_OUT/$KVER/module/build.log")
	fi
	summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$dir/$k.log" | tail -n 1)
	if [ -n "$summary" ]; then
		read -r pass _ fail _ skip _ <<<"${summary//,/}"
		skip=${skip:-0}
	else
		# the suite never ran: say where it stopped
		pass=0 fail=1 skip=0
		if [ "$warnings" != - ] && [ "$warnings" != 0 ]; then
			note="module build warned"
		elif grep -q 'building scull.ko .* failed' "$dir/$k.log"; then
			note="module build failed"
		else
			note="no result: $(grep -m 1 -E '^error:' "$dir/$k.log" || echo "see $dir/$k.log")"
		fi
	fi
	if grep -q '^# not ok host.guest_booted: ' "$dir/$k.log"; then
		note="boot crash: $(sed -n 's/^# not ok host.guest_booted: //p' "$dir/$k.log" | head -n 1)"
	fi
	if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
		fail=1
		note="exit status $rc"
	fi
	[ "$fail" -eq 0 ] || status=1
	tpass=$((tpass + pass)) tfail=$((tfail + fail)) tskip=$((tskip + skip))
	lines+=("$(printf '| %s | %s | %s | %s | %s | %s | %s |%s' "$KVER" "$KDEBARCH" \
		"$warnings" "$pass" "$fail" "$skip" "$(mmss "$wall")" "${note:+ $note |}")")
done

{
	echo
	echo "$(basename "$dir"), $(date +%Y-%m-%d), $(mmss $(($(date +%s) - all_start))) in all:"
	echo
	if [ "$mode" = boot ]; then
		echo "| kernel | arch | booted | failed | wall |"
		echo "|---|---|---|---|---|"
	else
		echo "| kernel | arch | W=1 warnings | passed | failed | skipped | wall |"
		echo "|---|---|---|---|---|---|---|"
	fi
	printf '%s\n' "${lines[@]}"
	echo
} | tee "$dir/table.md"
if [ "$mode" = boot ]; then
	echo "$tpass booted, $tfail failed"
else
	echo "$tpass passed, $tfail failed, $tskip skipped"
fi
exit "$status"
