#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# QEMU from Debian 13's packages for the x86 test guests, kept in a chroot
# under the cache (by version), and run on the host through the chroot's
# own loader and libraries: the host's apt configuration stays untouched.
#
#   tools/qemu.sh qemu-system-x86_64|qemu-system-i386
#
# Prints the path of a wrapper that runs that emulator.
#
# Why: Debian 12's QEMU 7.2 lets a vCPU run a stale translation of kernel
# text that another vCPU is live-patching under multi-threaded TCG.  x86
# kernels patch static keys with text_poke_bp (an int3 first, the rest,
# then the first byte, each step followed by a sync IPI); the stale int3
# then traps when the patch is over or between batches, and the kernel
# dies with "Oops: int3" ... "Fatal exception in interrupt" (seen at boot
# on 6.12 once in 20 boots, reported on 7.2).  A guest flipping the
# sched_schedstats static key 1500 times while both CPUs run crashed 6.12
# and 7.2 in 3 of 4 boots under QEMU 7.2 (6.1 passed once and hung once,
# silent, killed after 4 minutes); QEMU 10.0 from Debian 13 ran the same
# stress 8 times out of 8 without a crash, in the same 16-31 s;
# single-threaded TCG avoided it too (3 of 3) but took 48-55 s.  arm64 guests keep Debian 12's QEMU: arm64 patches a branch or
# NOP in place, with no breakpoint, so a stale translation runs a valid
# instruction.
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

bin=${1:?usage: qemu.sh qemu-system-x86_64|qemu-system-i386}
release=trixie

scull_apt_update "$release"
version=$(scull_apt "$release" apt-cache policy qemu-system-x86 2>/dev/null |
	awk '$1 == "Candidate:" { print $2 }')
if [ -z "$version" ] || [ "$version" = "(none)" ]; then
	die "no qemu-system-x86 in $release's package lists"
fi
dir=$SCULL_CACHE/qemu/$release-${version//[:~]/_}

if [ ! -x "$dir/bin/$bin" ]; then
	"$(dirname "$0")/deps.sh" check debootstrap >&2
	is_root || die_with_fix "the test guests run $release's QEMU, kept in a chroot, and making it needs root" \
		"run the same make command as root (sudo make ...)"
	log "fetching QEMU $version from $release into the cache (once)"
	rm -rf "$dir.tmp"
	mkdir -p "$dir.tmp"
	# measured: 25 s here, 309 MB kept (more while the packages are there)
	scull_need_space "$SCULL_CACHE/qemu" 600 "QEMU $version"
	# shellcheck disable=SC2317  # run by scull_progress
	qemu_progress() { echo "$(scull_mb "$dir.tmp") MB so far (about 310 kept)"; }
	# shellcheck disable=SC2317  # run by scull_progress
	qemu_debootstrap() {
		debootstrap --variant=minbase --include=qemu-system-x86 \
			"$release" "$dir.tmp/root" http://deb.debian.org/debian >"$dir.tmp/debootstrap.log" 2>&1
	}
	scull_progress "debootstrap $release with QEMU" qemu_progress qemu_debootstrap ||
		die "debootstrap of QEMU failed: $(tail -n 5 "$dir.tmp/debootstrap.log")"
	rm -rf "$dir.tmp/root/var/cache/apt/archives"/*.deb
	mkdir -p "$dir.tmp/bin"
	for b in qemu-system-x86_64 qemu-system-i386; do
		# the chroot's loader, libraries, modules and firmware
		cat >"$dir.tmp/bin/$b" <<-EOF
			#!/bin/sh
			R=$dir/root
			QEMU_MODULE_DIR=\$R/usr/lib/x86_64-linux-gnu/qemu
			export QEMU_MODULE_DIR
			exec "\$R/usr/lib64/ld-linux-x86-64.so.2" \\
				--library-path "\$R/usr/lib/x86_64-linux-gnu" \\
				"\$R/usr/bin/$b" -L "\$R/usr/share/seabios" \
				-L "\$R/usr/share/qemu" "\$@"
		EOF
		chmod +x "$dir.tmp/bin/$b"
	done
	rm -rf "$dir"
	mv "$dir.tmp" "$dir"
fi
"$dir/bin/$bin" --version >/dev/null || die "QEMU $version from $release does not run here"
echo "$dir/bin/$bin"
