#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Inside the guest of `make profile` (tools/vm.sh profile: one vCPU under
# QEMU's -icount shift=0,sleep=off): perf's cpu-clock samples of scull's
# 4 KiB reads and writes, made by the call loop (tests/callcost), and the
# symbols they land in, by share of samples.  The guest's clock counts
# instructions, so a sample every PROFILE_PERIOD ns is a sample every
# PROFILE_PERIOD instructions, and a symbol's share of the samples is its
# share of the instructions executed (the sampling interrupt's own are
# not in the profile: the samples are taken from it).
#
# Kernel symbols, scull's included, come from /proc/kallsyms
# (kptr_restrict=0).  perf is the host's (linux-perf, copied in by
# SCULL_EXTRA_BINS): Debian 12's, made for the 6.1 kernel it profiles.
cd /opt/scull || exit 1
# shellcheck source=tools/guest/ktap.sh
. guest/ktap.sh

period=${PROFILE_PERIOD:-20011}
calls=${PROFILE_CALLS:-200000}
echo 0 >/proc/sys/kernel/kptr_restrict
echo -1 >/proc/sys/kernel/perf_event_paranoid

ktap_print_header
ktap_set_plan 5
ktap_test_result profile.scull_load ./scull_load
ktap_test_result profile.fill dd if=/dev/zero of=/dev/scull0 bs=1M count=64

for rw in read write; do
	data=/tmp/perf-$rw.data
	echo "# scull, 4 KiB ${rw}s: $calls calls of tests/callcost, a sample every $period instructions"
	if perf record -q -e cpu-clock -c "$period" -o "$data" -- \
		./tests/callcost -n "$calls" /dev/scull0 "$rw" 4096 >/tmp/perf.out 2>&1 &&
		perf report -i "$data" --kallsyms=/proc/kallsyms --stdio --sort dso \
			>/tmp/report.txt 2>&1 &&
		perf report -i "$data" --kallsyms=/proc/kallsyms --stdio --sort sym \
			--percent-limit 0.5 >>/tmp/report.txt 2>&1; then
		grep -v '^#\|^$' /tmp/report.txt | ktap_nest
		ktap_test_pass "profile.$rw"
	else
		ktap_nest </tmp/perf.out
		ktap_nest </tmp/report.txt
		ktap_test_fail "profile.$rw"
	fi
done
ktap_test_result profile.scull_unload ./scull_unload
ktap_finished
