#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# kmemleak in the guest of `make check-debug`; does nothing on a kernel
# without it (Debian's).
#
#   kmemleak.sh start        forget what is unreferenced already (boot)
#   kmemleak.sh check NAME   scan; one TAP line "debug.kmemleak_NAME", failed
#                            when an unreferenced object was allocated by
#                            scull, with its report
#
# An object is scull's when a line of its backtrace names a scull function
# ("[scull]" while the module is loaded, or a scull_ function) or is a bare
# address: code of a module unloaded since, and in the test guest scull is
# the only module that comes and goes.  Other unreferenced objects (the
# kernel's own false positives) are counted, not failed.
KMEMLEAK=/sys/kernel/debug/kmemleak

[ -w "$KMEMLEAK" ] || exit 0

# Two scans: an object must be seen unreferenced, and be older than
# kmemleak's minimum age (5 s), to be reported.
scan() {
	sleep 5
	echo scan >"$KMEMLEAK"
	echo scan >"$KMEMLEAK"
}

case "$1" in
start)
	scan
	echo clear >"$KMEMLEAK"
	;;
check)
	name=$2
	scan
	report=/tmp/kmemleak.$name
	cat "$KMEMLEAK" >"$report"
	# forget them: the next check reports only new ones
	echo clear >"$KMEMLEAK"
	# split into one record per object; print scull's
	ours=$(awk '
		/^unreferenced object/ { flush(); rec = $0 "\n"; mine = 0; next }
		{
			rec = rec $0 "\n"
			if ($0 ~ /\[scull\]|scull_/ || $0 ~ /^ *\[<[0-9a-f]+>\] 0x[0-9a-f]+$/)
				mine = 1
		}
		function flush() { if (mine) printf "%s", rec; rec = ""; mine = 0 }
		END { flush() }' "$report")
	all=$(grep -c '^unreferenced object' "$report")
	if [ -n "$ours" ]; then
		echo "# kmemleak: scull leaked (of $all unreferenced objects):"
		echo "$ours" | sed 's/^/# /'
		echo "not ok - debug.kmemleak_$name"
	else
		[ "$all" -eq 0 ] ||
			echo "# kmemleak: $all unreferenced objects, none allocated by scull (not counted)"
		echo "ok - debug.kmemleak_$name"
	fi
	;;
*)
	echo "usage: kmemleak.sh start | check NAME" >&2
	exit 2
	;;
esac
