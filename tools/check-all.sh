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
# CHECK_ALL= (e.g. CHECK_ALL="6.1 arm64").  Each row's full output streams
# as it runs and is kept in $SCULL_OUT/check-all/<name>.log; the table in
# $SCULL_OUT/check-all/table.md.
#
# --boot (make boot-all): instead of the suite, BOOTS= boots in a row of
# each kernel (tools/vm.sh boot: boot, load and unload scull, power off),
# and a table of boots and failures.
#
# The guest lock (tools/vm.sh) is taken once for all rows, so that the
# rows run back to back on a machine where other guests wait too.
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

if [ "${SCULL_GUEST_LOCKED:-}" != 1 ]; then
	scull_guest_lock
	export SCULL_GUEST_LOCKED=1
fi
lines=()
tpass=0 tfail=0 tskip=0 status=0
all_start=$(date +%s)

mmss() { printf '%d:%02d' $(($1 / 60)) $(($1 % 60)); }

for k in $rows; do
	start=$(date +%s) note=
	log "check-all: KERNEL=$k"
	KVER=$k KDEBARCH="?"
	if info=$("$SCULL_ROOT/tools/kernel.sh" "$k"); then
		eval "$info"
	fi
	rm -f "$SCULL_OUT/$KVER/module/build.log"
	KERNEL=$k "$SCULL_ROOT/tools/vm.sh" "$mode" 2>&1 | tee "$dir/$k.log"
	rc=${PIPESTATUS[0]}
	wall=$(($(date +%s) - start))

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
