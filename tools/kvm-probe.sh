#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Print "kvm" when QEMU can boot a guest with KVM here, "tcg" otherwise.
#
# /dev/kvm can exist and still fail (nested virtualization without the
# MSRs QEMU sets, or a guest that never runs), so the probe boots the test
# kernel with an /init that powers off at once.  The answer is cached per
# host kernel and QEMU version.  Needs KIMAGE (tools/kernel.sh).
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"
: "${KIMAGE:?}"

if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	echo tcg
	exit 0
fi
key=$(printf '%s %s %s' "$(uname -r)" "$(qemu-system-x86_64 --version | head -n 1)" "$KIMAGE" |
	sha256sum | cut -c1-16)
cached=$SCULL_CACHE/kvm-probe-$key
if [ -f "$cached" ]; then
	cat "$cached"
	exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/root/bin"
cp /bin/busybox "$tmp/root/bin/busybox"
printf '#!/bin/busybox sh\n/bin/busybox reboot -f\n' >"$tmp/root/init"
chmod +x "$tmp/root/init"
(cd "$tmp/root" && find . | cpio -o -H newc --quiet) >"$tmp/probe.cpio"

answer=tcg
# bash reports a QEMU that aborts on its own stderr: silence it meanwhile
exec 3>&2 2>/dev/null
if (timeout 30 qemu-system-x86_64 -accel kvm -cpu host -m 256 -nodefaults \
	-no-reboot -display none -serial null -kernel "$KIMAGE" \
	-initrd "$tmp/probe.cpio" -append "panic=-1" </dev/null) >/dev/null 2>&1; then
	answer=kvm
fi
exec 2>&3 3>&-
mkdir -p "$SCULL_CACHE"
echo "$answer" >"$cached"
echo "$answer"
