#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# make demo, inside the guest: a short session as a person would type it
# at a root shell in the source tree.  Each command is printed after a
# "$ " prompt, run, and followed by its own output; nothing is canned.
# A command that fails (or, for the few that state a pattern, prints
# something else) stops the demo with "demo: FAILED ..." and exit status
# 1.  The last line, "demo: all N commands ...", says it ran to its end.
# make check runs this script too (tools/guest/check.sh).
cd /opt/scull || exit 1

steps=0
start=$(date +%s)
out=/tmp/demo.out

# run CMD [PATTERN...]: show CMD at a prompt, run it (pipefail: a failure
# anywhere in a pipeline counts), show its output; every PATTERN (grep -E)
# must match a line of it.
run() {
	cmd=$1
	shift
	steps=$((steps + 1))
	printf '$ %s\n' "$cmd"
	busybox sh -o pipefail -c "$cmd" >"$out" 2>&1
	rc=$?
	cat "$out"
	[ "$rc" -eq 0 ] || fail "exit status $rc"
	for pattern in "$@"; do
		grep -Eq -- "$pattern" "$out" || fail "no line matches /$pattern/"
	done
}

# refused CMD: the same for a command that must fail with EACCES
refused() {
	cmd=$1
	steps=$((steps + 1))
	printf '$ %s\n' "$cmd"
	busybox sh -c "$cmd" >"$out" 2>&1
	rc=$?
	cat "$out"
	[ "$rc" -ne 0 ] || fail "it succeeded; expected Permission denied"
	grep -q 'Permission denied' "$out" || fail "expected Permission denied"
}

fail() {
	echo "demo: FAILED at command $steps ($cmd): $*"
	exit 1
}

echo "scull demo: Linux $(uname -r) in QEMU, $(nproc) CPUs; a root shell in"
echo "/opt/scull (this source tree, built); users sculler (group scull), outsider (not)"
echo

run './scull_load'
run 'dmesg | grep scull' 'scull: 4 devices, 4 pipes of [0-9]+ bytes, major [0-9]+, minors 0-[0-9]+'
run 'ls -l /dev/scull*' '^crw-rw---- +1 root +scull .* /dev/scull0$' \
	'^crw-rw---- +1 root +scull .* /dev/scull3$' '/dev/scull -> scull0$'

# data in and out: a line, then a MiB of random bytes in 64 KiB blocks
run "echo 'hello, scull' > /dev/scull0"
run 'cat /dev/scull0' '^hello, scull$'
run "echo 'opened for append: not trimmed' >> /dev/scull0"
run 'cat /dev/scull0' '^hello, scull$' '^opened for append: not trimmed$'
run 'dd if=/dev/urandom of=/tmp/random bs=64k count=16' '^16\+0 records out$'
run 'dd if=/tmp/random of=/dev/scull1 bs=64k' '^16\+0 records out$'
run 'cmp /tmp/random /dev/scull1 && echo same bytes' '^same bytes$'

# a hole: 10000 bytes never written, then "end"; the hole reads as zeros
run 'printf end | dd of=/dev/scull2 bs=1 seek=10000' '^3\+0 records out$'
run 'od -A d -c /dev/scull2' '^0000000 +(\\0 +){15}\\0$' '^\*$' '^0010000 +e +n +d$'
run 'cat /sys/class/scull/scull2/size' '^10003$'
run 'cat /proc/scullmem' '^Device 1: qset 512, q 4096, sz 1048576, limit [0-9]+, quanta 256$' \
	'^Device 2: qset 512, q 4096, sz 10003, limit [0-9]+, quanta 1$'

# the geometry, asked with an ioctl (tests/geometry.c)
run './tests/geometry /dev/scull0 /dev/scull3' \
	'^/dev/scull0: SCULL_IOCQQUANTUM 4096, SCULL_IOCQQSET 512$'

# who may use the devices: the udev rule's group scull, mode 0660
run 'id sculler; id outsider' '^uid=1000\(sculler\) .*990\(scull\)'
run "su sculler -c 'echo from sculler > /dev/scull3; cat /dev/scull3'" '^from sculler$'
refused "su outsider -c 'cat /dev/scull3'"

# fio: four jobs, one per minor, writing 32 MiB each, then reading it back
# at random in 4 KiB blocks (fio/minors.fio); its summary lines
run "fio --section=write-4 --section=randread-4 fio/minors.fio | grep -E '^[a-z0-9-]+: \(g|IOPS=|(READ|WRITE): bw'" \
	'^ *write: IOPS=' '^ *read: IOPS=' '^ *WRITE: bw=.*io=128MiB' '^ *READ: bw=.*io=128MiB'

run './scull_unload'

echo
echo "demo: all $steps commands ran and showed what they should ($(($(date +%s) - start)) s in the guest)"
