#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install what a tools/ mode needs, from Debian's packages.
#
#   tools/deps.sh MODE [extra-package ...]
#
# MODE is check, shell, bench, profile, soak, callcost, lint or
# debug-kernel.  As root on Debian, missing packages are installed with
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
check | shell | soak | callcost) pkgs="$vm_pkgs" ;;
bench) pkgs="$vm_pkgs gnuplot-nox" ;;
profile) pkgs="$vm_pkgs linux-perf" ;;
lint) pkgs="sparse shellcheck linux-source-6.1 dkms gcc make libc6-dev perl xz-utils" ;;
# tools/debug-kernel.sh: Debian's kernel source and what building it takes
debug-kernel) pkgs="linux-source-6.1 gcc make libc6-dev perl xz-utils bc bison flex libelf-dev libssl-dev kmod" ;;
*) die "unknown mode '$mode'" ;;
esac
pkgs="$pkgs $*"

missing=
for p in $pkgs; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$status" = installed ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

cmd="apt-get install -y --no-install-recommends$missing"
if ! is_root || [ ! -f /etc/debian_version ]; then
	printf 'missing packages:%s\nrun as root on Debian:\n  apt-get update && %s\n' \
		"$missing" "$cmd" >&2
	exit 1
fi

log "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086  # word splitting of the package list is wanted
if ! apt-get install -y -q --no-install-recommends $missing >/dev/null; then
	log "apt-get install failed; running apt-get update and trying again"
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends $missing >/dev/null
fi
