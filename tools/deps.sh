#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install what a tools/ mode needs, from Debian's packages.
#
#   tools/deps.sh MODE [extra-package ...]
#
# MODE is check, shell, bench, profile, soak, callcost, lint, kernel,
# fresh, rust or debug-kernel.  As root on Debian, missing packages are installed with
# apt-get (one `apt-get update` first when the install needs it).
# Otherwise the exact command to run is printed and the script fails.
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

mode=${1:?usage: deps.sh MODE [package ...]}
shift

# What the guest and the bench machinery need.
vm_pkgs="qemu-system-x86 busybox-static fio udev kmod cpio dash jq gcc make libc6-dev gcc-multilib liburing-dev"

case "$mode" in
# tools/kernel.sh: unpacking a kernel package and its module index (depmod)
kernel) pkgs="kmod" ;;
# tools/check-fresh.sh: a pristine Debian root, and git to clone into it
fresh) pkgs="debootstrap git" ;;
check | shell | soak | callcost) pkgs="$vm_pkgs" ;;
bench) pkgs="$vm_pkgs gnuplot-nox" ;;
profile) pkgs="$vm_pkgs linux-perf" ;;
lint) pkgs="sparse shellcheck linux-source-6.1 dkms gcc make libc6-dev perl xz-utils jq gnuplot-nox" ;;
# tools/rust.sh: the Rust twin's toolchain chroot
rust) pkgs="debootstrap xz-utils" ;;
# tools/debug-kernel.sh: Debian's kernel source and what building it takes
debug-kernel) pkgs="linux-source-6.1 gcc make libc6-dev perl xz-utils bc bison flex libelf-dev libssl-dev kmod" ;;
*) die "unknown mode '$mode'" ;;
esac
pkgs="$pkgs $*"

# Debian only: the packages come from apt, and the guest boots Debian's
# kernels, fetched with apt-get.
os_id=$( (. /etc/os-release && echo "${ID:-}") 2>/dev/null || true)
if [ "$os_id" != debian ]; then
	os_name=$( (. /etc/os-release && echo "${PRETTY_NAME:-$ID}") 2>/dev/null || uname -s)
	read -ra list <<<"$pkgs"
	die_with_fix "this machine runs $os_name, not Debian: the test bench installs Debian packages and boots Debian's kernels with apt-get" \
		"run it on Debian 12 or later (a VM, or a container run with --privileged), where it installs what it needs: ${list[*]}"
fi

installed() { [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]; }

missing=
for p in $pkgs; do
	installed "$p" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

cmd="apt-get install -y --no-install-recommends$missing"
if ! is_root; then
	die_with_fix "packages this needs are not installed:$missing, and installing them needs root" \
		"run the same make command as root (sudo make ...), or install them first: sudo $cmd"
fi

# How far apt-get is, for the progress lines: MB downloaded so far of the
# total it will fetch, and how many of the packages are installed.
cache=/var/cache/apt/archives
cache_mb0=$(scull_mb "$cache")
install_progress() {
	local p n=0 k=0
	for p in $missing; do
		n=$((n + 1))
		! installed "$p" || k=$((k + 1))
	done
	echo "$(($(scull_mb "$cache") - cache_mb0)) of ${total_mb:-?} MB downloaded, $k of $n packages installed"
}
update_progress() { echo "$(scull_mb /var/lib/apt/lists) MB of package lists"; }

# One install at a time on this machine: parts of a run that overlap
# (check-all's rows, CI's parts) may need packages at once, and a second
# apt-get would fail on dpkg's lock.  The one that waited installs what is
# still missing then.
mkdir -p /run/lock
exec 9>/run/lock/scull-deps.lock
flock 9
missing_before=$missing
missing=
for p in $missing_before; do
	installed "$p" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

log "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# apt-get's own output is kept, and shown when it fails: dpkg names what
# went wrong there, not in apt's one-line error
aptlog=$(mktemp)
trap 'rm -f "$aptlog"' EXIT
# show_log WHO: the log's last lines, each marked with WHO
show_log() { tail -n 20 "$aptlog" | sed "s/^/  $1: /" >&2; }
# shellcheck disable=SC2086  # word splitting of the package list is wanted
apt_install() {
	total_mb=$(apt-get install -qq --print-uris --no-install-recommends $missing 2>/dev/null |
		awk '{ b += $3 } END { printf "%d", b / 1048576 }')
	scull_progress "apt-get install" install_progress \
		apt-get install -y -q --no-install-recommends $missing >"$aptlog" 2>&1
}
if ! apt_install; then
	log "apt-get install failed ($(df -Pk /var | awk 'NR == 2 { printf "%d MB", $4 / 1024 }') free on /var); its last lines:"
	show_log apt
	# a dpkg that stopped half way blocks every later install until its
	# packages are configured (apt says so: "dpkg was interrupted")
	if [ -n "$(ls -A /var/lib/dpkg/updates 2>/dev/null)" ]; then
		log "dpkg stopped half way: dpkg --configure -a"
		dpkg --configure -a >"$aptlog" 2>&1 || show_log dpkg
	fi
	log "running apt-get update and trying again"
	scull_progress "apt-get update" update_progress \
		apt-get update -q >/dev/null || true
	apt_install || {
		show_log apt
		die_with_fix "apt-get could not install:$missing (its messages are above)" \
			"check the network and apt's sources (/etc/apt/sources.list), then run the same make command again"
	}
fi
