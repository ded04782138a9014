#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Inside the guest: the cost of one call (tests/callcost.c) on scull, on
# the kernel's ceilings (/dev/zero, /dev/null) and on a tmpfs file, for
# several sizes.  Under QEMU's -icount shift=0 (SCULL_ICOUNT=1) each
# figure is instructions per call.  Prints one line per run:
#   FILE read|write BYTES PER_CALL FASTEST SLOWEST
# (the median, fastest and slowest of callcost's five rounds).  make bench
# measures the same in its icount pass, for the report's budget.
cd /opt/scull || exit 1
# shellcheck source=tools/guest/ktap.sh
. guest/ktap.sh
ktap_print_header
ktap_set_plan 1
./scull_load scull_size_limit=1G >/dev/null || exit 1
mkdir -p /mnt/tmpfs
mount -t tmpfs -o size=256M tmpfs /mnt/tmpfs
# 64 MiB stored in both, so reads find data everywhere
head -c 67108864 /dev/urandom >/tmp/data
cat /tmp/data >/dev/scull0
cat /tmp/data >/mnt/tmpfs/file
rm /tmp/data
failed=0
out=/tmp/callcost.out
for bytes in ${CALLCOST_SIZES:-1 64 4096 65536 1048576}; do
	calls=$((bytes >= 65536 ? 2000 : 20000))
	for f in /dev/zero /dev/scull0 /mnt/tmpfs/file; do
		./tests/callcost -n "$calls" "$f" read "$bytes" >>"$out" 2>&1 || failed=1
	done
	for f in /dev/null /dev/scull0 /mnt/tmpfs/file; do
		./tests/callcost -n "$calls" "$f" write "$bytes" >>"$out" 2>&1 || failed=1
	done
done
sed 's/^/# /' "$out"
./scull_unload || failed=1
if [ "$failed" -eq 0 ]; then
	ktap_test_pass callcost
else
	ktap_test_fail callcost
fi
ktap_finished
