#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# kmemleak in the guest of `make check-debug`, for check.sh to source
# (after ktap.sh):
#
#   kmemleak_present         whether this kernel has kmemleak (Debian's
#                            does not)
#   kmemleak_start           forget what is unreferenced already (boot)
#   kmemleak_check NAME      scan; one result "debug.kmemleak_NAME", failed
#                            when an unreferenced object was allocated by
#                            scull, with its report
#
# An object is scull's when a line of its backtrace names a scull function
# ("[scull]" while the module is loaded, or a scull_ function) or is a bare
# address: code of a module unloaded since, and in the test guest scull
# (with scull_kunit) is the only module that comes and goes.  The frame's
# "[<...>]" part is the address through %pK, which this guest prints as
# "(____ptrval____)" until the kernel's random pool is ready, so only the
# symbol part is matched.  Other unreferenced objects (the kernel's own
# false positives) are counted, not failed, and shown.
KMEMLEAK=/sys/kernel/debug/kmemleak

kmemleak_present() {
	[ -w "$KMEMLEAK" ]
}

# Two scans: an object must be seen unreferenced, and be older than
# kmemleak's minimum age (5 s), to be reported.
kmemleak_scan() {
	sleep 5
	echo scan >"$KMEMLEAK"
	echo scan >"$KMEMLEAK"
}

kmemleak_start() {
	kmemleak_scan
	echo clear >"$KMEMLEAK"
}

# kmemleak_records ours|known FILE: split FILE into one record per object
# and print scull's ("ours"), or those scull's backtrace reaches but the
# kernel leaks on its own ("known"): one, found by the load fault
# injection.  When kset_register() fails, this kernel (Debian's 6.1.192)
# leaves the kobject's name allocated, and __class_register() then frees
# only the class's private part: an object of kstrdup_const() under
# kobject_set_name() under __class_register(), leaked whoever called
# class_create().  (Later kernels free the name in kset_register().)
kmemleak_records() {
	awk -v want="$1" '
		/^unreferenced object/ { flush(); rec = $0 "\n"; next }
		{
			rec = rec $0 "\n"
			if ($0 ~ /\[scull\]|scull_/ || $0 ~ /^ *\[<[^>]*>\] 0x[0-9a-f]+$/)
				mine = 1
			if ($0 ~ / kobject_set_name\+/)
				named = 1
			else if (named && $0 ~ / __class_register\+/)
				known = 1
			else if ($0 !~ / kobject_set_name_vargs\+| kstrdup_const\+| __kmalloc/)
				named = 0
		}
		function flush() {
			if (mine && (want == "known") == known)
				printf "%s", rec
			rec = ""; mine = 0; named = 0; known = 0
		}
		END { flush() }' "$2"
}

kmemleak_check() {
	kmemleak_name=$1
	kmemleak_scan
	kmemleak_report=/tmp/kmemleak.$kmemleak_name
	cat "$KMEMLEAK" >"$kmemleak_report"
	# forget them: the next check reports only new ones
	echo clear >"$KMEMLEAK"
	kmemleak_ours=$(kmemleak_records ours "$kmemleak_report")
	kmemleak_known=$(kmemleak_records known "$kmemleak_report")
	kmemleak_all=$(grep -c '^unreferenced object' "$kmemleak_report")
	[ -z "$kmemleak_known" ] || {
		echo "# kmemleak: the kernel's own leak on a failed class_create() (kset_register() keeps the name; not counted):"
		echo "$kmemleak_known" | sed 's/^/# /'
	}
	if [ -n "$kmemleak_ours" ]; then
		echo "# kmemleak: scull leaked (of $kmemleak_all unreferenced objects):"
		echo "$kmemleak_ours" | sed 's/^/# /'
		ktap_test_fail "debug.kmemleak_$kmemleak_name"
	else
		kmemleak_nknown=$(echo "$kmemleak_known" | grep -c '^unreferenced object')
		[ "$kmemleak_all" -eq "$kmemleak_nknown" ] || {
			echo "# kmemleak: $kmemleak_all unreferenced objects, none allocated by scull (not counted):"
			sed 's/^/# /' "$kmemleak_report" | head -40
		}
		ktap_test_pass "debug.kmemleak_$kmemleak_name"
	fi
}
