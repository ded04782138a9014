#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The failures a newcomer meets first, each provoked for real on this host,
# and their messages checked: a reason and its fix, never make's or the
# shell's own error.  TAP, one line per case ("ok N - newcomer.NAME");
# tools/vm.sh check runs this before it boots the guest, and
# tools/collect.sh counts its results with the suite's, as host.newcomer.*.
#
#   tools/newcomer-test.sh
#
# Needs root for the cases that change what the host looks like (a fake
# /etc/os-release, a full disk), each in a private mount namespace; without
# root those are SKIPs.
set -uo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

echo "1..9"
n=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"

# check NAME STATUS OUTPUT PATTERN...: ok when STATUS is non-zero and every
# line of OUTPUT matches one of the PATTERNs (grep -E) in turn: the first
# line the first pattern, and so on, with nothing more.
check() {
	local name=$1 status=$2 output=$3 i=0 line
	shift 3
	local patterns=("$@")
	local why=
	if [ "$status" -eq 0 ]; then
		why="it succeeded"
	else
		while IFS= read -r line; do
			if [ "$i" -ge "${#patterns[@]}" ]; then
				why="an extra line"
				break
			fi
			if ! grep -Eq -- "${patterns[$i]}" <<<"$line"; then
				why="line $((i + 1)) does not match /${patterns[$i]}/"
				break
			fi
			i=$((i + 1))
		done <<<"$output"
		[ -n "$why" ] || [ "$i" -eq "${#patterns[@]}" ] || why="fewer lines than expected"
	fi
	result "$name" "$why" "$output"
}

# result NAME WHY OUTPUT: ok when WHY is empty, else not ok with OUTPUT
result() {
	n=$((n + 1))
	if [ -z "$2" ]; then
		echo "ok $n - newcomer.$1"
	else
		printf '%s\n' "$3" | sed 's/^/# got: /'
		echo "# $2"
		echo "not ok $n - newcomer.$1"
	fi
}

skip() {
	n=$((n + 1))
	echo "ok $n - newcomer.$1 # SKIP $2"
}

# As a user types it: not as a sub-make of make check, and without the
# KDIR, KERNELRELEASE... that tools/vm.sh exports.
user_make() { env -i PATH="$PATH" HOME="${HOME:-/}" make "$@"; }

# A user without root: nobody when this runs as root, else the caller.
as_nobody() {
	if is_root; then
		setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
	else
		"$@"
	fi
}

# Plain make for a kernel whose headers are not installed.
out=$(cd "$SCULL_ROOT" && user_make KERNELRELEASE=0.0.0-none 2>&1)
check no_headers $? "$out" \
	'^Makefile:[0-9]+: \*\*\* no headers for kernel 0\.0\.0-none \(/lib/modules/0\.0\.0-none/build is missing\): Debian has no linux-headers-0\.0\.0-none .*give its tree with KDIR=<dir>; make check and make demo need none .*Stop\.$'

# ... and for a Debian kernel whose headers package exists, not installed:
# the hint names the package.
ver=
for p in $(apt-cache pkgnames linux-headers- 2>/dev/null | grep -E '^linux-headers-[0-9].*-(cloud-)?amd64$' | sort); do
	v=${p#linux-headers-}
	if [ ! -e "/lib/modules/$v/build" ] && apt-cache show "$p" >/dev/null 2>&1; then
		ver=$v
		break
	fi
done
# Where apt's lists hold none (a machine without them), an apt-cache that
# knows one such package stands in, so the message is checked every time.
path=$PATH
if [ -z "$ver" ]; then
	ver=6.1.0-99-scull-amd64
	mkdir -p "$tmp/apt-bin"
	# shellcheck disable=SC2016  # the stand-in's own arguments
	printf '#!/bin/sh\n[ "$1 $2" = "show linux-headers-%s" ]\n' "$ver" >"$tmp/apt-bin/apt-cache"
	chmod +x "$tmp/apt-bin/apt-cache"
	path=$tmp/apt-bin:$PATH
fi
out=$(cd "$SCULL_ROOT" && PATH=$path user_make KERNELRELEASE="$ver" 2>&1)
check headers_package_named $? "$out" \
	"^Makefile:[0-9]+: \\*\\*\\* no headers for kernel ${ver//./\\.} \\(/lib/modules/${ver//./\\.}/build is missing\\): install them with sudo apt-get install linux-headers-${ver//./\\.}; make check and make demo need none .*Stop\\.\$"

out=$(cd "$SCULL_ROOT" && user_make KDIR="$tmp" 2>&1)
check kdir_not_a_tree $? "$out" \
	"^Makefile:[0-9]+: \\*\\*\\* KDIR=$tmp is not a kernel tree \\(it has no Makefile\\): give the headers or source tree of the kernel to build for\\.  Stop\\.\$"

# make install as a user: refused before anything is built or written,
# from a copy nobody can read (the checkout may be private).
cp "$SCULL_ROOT/Makefile" "$tmp/"
out=$(cd "$tmp" && as_nobody env -i PATH="$PATH" make install 2>&1)
check install_needs_root $? "$out" \
	'^Makefile:[0-9]+: \*\*\* make install writes to /lib/modules and /usr: run it as root \(sudo make install\), or stage the files with DESTDIR=<dir>\.  Stop\.$'

# The bench as a user, with a package missing.
mkdir -p "$tmp/tools"
cp "$SCULL_ROOT/tools/deps.sh" "$SCULL_ROOT/tools/lib.sh" "$tmp/tools/"
out=$(cd "$tmp" && as_nobody tools/deps.sh check scull-no-such-package 2>&1)
check package_missing_not_root $? "$out" \
	'^error: packages this needs are not installed: scull-no-such-package, and installing them needs root$' \
	'^  fix: run the same make command as root \(sudo make \.\.\.\), or install them first: sudo apt-get install -y --no-install-recommends scull-no-such-package$'

# make help has a line for every target of the Makefile.
missing=
help=$(cd "$SCULL_ROOT" && user_make -s help)
while read -r t; do
	case "$t" in all | modules | help) continue ;; esac
	grep -Eq "make $t( |\$)" <<<"$help" || missing="$missing $t"
done < <(sed -n 's/^\([a-z][a-z-]*\):.*/\1/p' "$SCULL_ROOT/Makefile")
result help_lists_every_target "${missing:+make help does not mention:$missing}" "$help"

# A long step says every SCULL_PROGRESS_SECONDS what it is doing and how
# far along it is (tools/lib.sh), and passes its exit status on.
# shellcheck disable=SC2016  # expanded by the inner shell
out=$(SCULL_PROGRESS_SECONDS=1 bash -c '. "$1"; measure() { echo "3 of 5 MB"; }
	scull_progress "fetching a thing" measure sh -c "sleep 2.5; exit 3"' sh "$SCULL_ROOT/tools/lib.sh" 2>&1)
status=$?
why=
if [ "$status" -ne 3 ]; then
	why="exit status $status (expected 3)"
elif ! grep -Eq '^\[[0-9:]+\] fetching a thing: 0m[1-4]s, 3 of 5 MB$' <<<"$out" ||
	grep -Evq '^\[[0-9:]+\] fetching a thing: 0m[1-4]s, 3 of 5 MB$' <<<"$out"; then
	# a second or two late is fine: on a busy machine (CI builds beside
	# this) the ticker's sleep and fork can take that long
	why="expected progress lines while it ran (at 1 s, 2 s: a busy machine may be late), nothing else"
fi
result progress_lines "$why" "$out"

if ! is_root || ! unshare -m true 2>/dev/null; then
	skip not_debian "needs root and unshare (a private /etc/os-release)"
	skip no_space "needs root and unshare (a private small tmpfs)"
	exit 0
fi

# Another distribution: /etc/os-release says Fedora.
printf 'ID=fedora\nPRETTY_NAME="Fedora Linux 40"\n' >"$tmp/os-release"
# shellcheck disable=SC2016  # expanded by the inner shell
out=$(unshare -m sh -c 'mount --bind "$1" /etc/os-release && "$2" check' \
	sh "$tmp/os-release" "$SCULL_ROOT/tools/deps.sh" 2>&1)
check not_debian $? "$out" \
	"^error: this machine runs Fedora Linux 40, not Debian: the test bench installs Debian packages and boots Debian's kernels with apt-get\$" \
	'^  fix: run it on Debian 12 or later \(a VM, or a container run with --privileged\), where it installs what it needs: qemu-system-x86 busybox-static fio .*$'

# A cache on a nearly full disk: an 8 MB tmpfs, and no kernel in it yet.
mkdir -p "$tmp/small"
# shellcheck disable=SC2016  # expanded by the inner shell
out=$(unshare -m sh -c 'mount -t tmpfs -o size=8m tmpfs "$1" && SCULL_CACHE=$1/cache "$2" 6.1' \
	sh "$tmp/small" "$SCULL_ROOT/tools/kernel.sh" 2>&1)
check no_space $? "$out" \
	'^\[[0-9:]+\] fetching linux-image-' \
	"^error: no space for the kernel [^ ]+: it needs about 600 MB under $tmp/small/cache, and [0-8] MB are free there\$" \
	'^  fix: free some space, or put the cache on a disk with room: SCULL_CACHE=/path/with/room make \.\.\.$'
