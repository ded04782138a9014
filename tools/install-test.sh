#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make KERNELRELEASE=, then sudo make install and make uninstall as README
# describes them, for real (no DESTDIR, the headers found through
# /lib/modules/<version>/build), in a private mount namespace where /etc,
# /lib/modules, /usr/local, /usr/lib/udev/rules.d and /run/udev are
# scratch copies: the host sees none of it.  /etc is a copy of the host's
# without a scull group, so the install must create it.  Checks the module
# built for that kernel, installed under updates/ and found by depmod
# (modprobe resolves scull to it), unsigned with the SSL message of
# Debian's headers, the group made before the rule is installed, the rule,
# the scripts and the header, udev asked to reload its rules (a stand-in
# udevadm records it); then that uninstall removes each one and depmod
# forgets the module.  Before them, make install DESTDIR= stages the files
# and leaves depmod, the group and the reload alone.  TAP out; exits
# non-zero when a check fails.
#
#   tools/install-test.sh KVER KDIR
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

if [ "${1:-}" != --inside ]; then
	kver=${1:?usage: install-test.sh KVER KDIR} kdir=${2:?usage: install-test.sh KVER KDIR}
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	mkdir -p "$tmp"/{modules,local,rules,udev,bin}
	# udevadm as the install calls it, recorded
	printf '#!/bin/sh\necho "udevadm $*" >>"%s/udevadm.log"\n' "$tmp" >"$tmp/bin/udevadm"
	chmod +x "$tmp/bin/udevadm"
	cp -a /etc "$tmp/etc"
	sed -i '/^scull:/d' "$tmp/etc/group" "$tmp/etc/gshadow"
	# root's own mount namespace: groupadd gives /etc/gshadow to group
	# shadow, which a user namespace could not
	is_root || die "install-test.sh needs root (as make install does)"
	exec unshare -m "$0" --inside "$kver" "$kdir" "$tmp"
fi
kver=$2 kdir=$3 tmp=$4
mount --bind "$tmp/etc" /etc
mount --bind "$tmp/modules" /lib/modules
mount --bind "$tmp/local" /usr/local
mkdir -p /usr/lib/udev/rules.d
mount --bind "$tmp/rules" /usr/lib/udev/rules.d
# udevadm control --reload must not reach the host's udevd
[ ! -d /run/udev ] || mount --bind "$tmp/udev" /run/udev
cd "$SCULL_ROOT"

n=0 bad=0
# check NAME COMMAND...: one result
check() {
	local name=$1
	shift
	n=$((n + 1))
	if out=$("$@" 2>&1); then
		echo "ok $n $name"
	else
		printf '%s\n' "$out" | sed 's/^/# /'
		echo "not ok $n $name"
		bad=$((bad + 1))
	fi
}
has_line() { grep -qxF -- "$1" "$2"; }
no_line() { ! grep -qF -- "$1" "$2"; }

echo "TAP version 13"
echo "1..18"
# the kernel's headers where make looks for them: /lib/modules/<version>/build
mkdir -p "/lib/modules/$kver"
ln -s "$kdir" "/lib/modules/$kver/build"
make -s clean >/dev/null 2>&1 || true
check "make KERNELRELEASE=$kver builds scull.ko" make KERNELRELEASE="$kver"
check "... for that kernel" has_line "$kver" <(modinfo -F vermagic scull.ko | cut -d' ' -f1)
# staged for a package: depmod, the group and the reload are the package's
stage=$tmp/stage
PATH=$tmp/bin:$PATH make install DESTDIR="$stage" KERNELRELEASE="$kver" >"$tmp/stage.log" 2>&1 ||
	echo "# make install DESTDIR failed: $(tail -n 3 "$tmp/stage.log")"
staged_alone() {
	test -f "$stage/lib/modules/$kver/updates/scull.ko" &&
		test ! -e "$stage/lib/modules/$kver/modules.dep" &&
		test ! -e "/lib/modules/$kver/modules.dep" && ! getent group scull &&
		test ! -e "$tmp/udevadm.log"
}
check "DESTDIR: staged, with no depmod, groupadd or udevadm" staged_alone
ko=/lib/modules/$kver/updates/scull.ko
inst_rc=0
PATH=$tmp/bin:$PATH make install KERNELRELEASE="$kver" >"$tmp/install.log" 2>&1 ||
	inst_rc=$?
check "make install succeeds" test "$inst_rc" -eq 0
check "the module is $ko" test -f "$ko"
check "depmod ran: modules.dep lists updates/scull.ko" has_line "updates/scull.ko:" "/lib/modules/$kver/modules.dep"
check "modprobe resolves scull to it" has_line "insmod $ko " <(modprobe -S "$kver" --show-depends scull 2>&1)
# Debian's headers ship no signing key: modules_install says so, and the
# module goes in unsigned (no signature appended)
signing_message() { grep -q "SSL error" "$1" && grep -q 'signing_key\.pem' "$1"; }
check "modules_install's SSL error about signing_key.pem" signing_message "$tmp/install.log"
check "the module is unsigned" no_line "~Module signature appended~" <(tail -c 64 "$ko")
check "the scull group was created" getent group scull
check "the group is made before the rule is installed" \
	awk '/groupadd --system scull/ { g = NR } /60-scull.rules/ && g && !r { r = NR } END { exit !(g && r > g) }' \
	<(make -n install KERNELRELEASE="$kver" KDIR="$kdir" 2>/dev/null)
check "the udev rule" cmp udev/60-scull.rules /usr/lib/udev/rules.d/60-scull.rules
check "scull_load and scull_unload in /usr/local/sbin" \
	sh -c 'cmp scull_load /usr/local/sbin/scull_load && cmp scull_unload /usr/local/sbin/scull_unload &&
		test -x /usr/local/sbin/scull_load && test -x /usr/local/sbin/scull_unload'
check "the ioctl header is /usr/local/include/scull.h" cmp include/uapi/scull.h /usr/local/include/scull.h
check "udev was asked to reload its rules" has_line "udevadm control --reload" "$tmp/udevadm.log"

un_rc=0
make uninstall KERNELRELEASE="$kver" >"$tmp/uninstall.log" 2>&1 || un_rc=$?
check "make uninstall succeeds" test "$un_rc" -eq 0
check "nothing left" sh -c "! find /lib/modules/$kver/updates /usr/lib/udev/rules.d /usr/local ! -type d | grep ."
check "depmod forgot the module" no_line "scull" "/lib/modules/$kver/modules.dep"
make -s clean KERNELRELEASE="$kver" >/dev/null 2>&1 || true
[ "$bad" -eq 0 ] || sed 's/^/# make install: /' "$tmp/install.log"
[ "$bad" -eq 0 ]
