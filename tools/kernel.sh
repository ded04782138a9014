#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Make a Debian cloud kernel ready to boot and to build against.
#
#   tools/kernel.sh KERNEL
#
# KERNEL is a name from scull_kernel_table (6.1, 6.12, 7.2 or a suite name),
# or debug: tools/debug-kernel.sh builds that one from source.
# The image package is unpacked under $SCULL_CACHE/kernels/<version>/, never
# installed into /boot.  Headers: for the host's release they are installed
# on the host; for another release they live in a chroot of that release
# under $SCULL_CACHE/chroots/<version>/, where the module is built.
#
# Prints shell assignments on stdout:
#   KVER    kernel release (uname -r in the guest)
#   KIMAGE  the vmlinuz to boot
#   KMODS   the image's /lib/modules/<KVER> (brd, virtio for the bench)
#   KDIR    the headers tree, as seen by the build
#   KROOT   the chroot the build runs in, empty for the host
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

name=${1:?usage: kernel.sh KERNEL}
# debug: the sanitizer kernel built from Debian's 6.1 source (check-debug)
if [ "$name" = debug ]; then
	exec "$(dirname "$0")/debug-kernel.sh"
fi
read -r release on_host cc <<<"$(scull_kernel_table "$name")" ||
	die "unknown KERNEL=$name (known: 6.1, 6.12, 7.2, debug)"

# The package lists of a foreign release are refreshed once a day.
if [ "$release" != bookworm ]; then
	stamp=$SCULL_CACHE/apt/$release/lists/updated
	if [ -z "$(find "$stamp" -mtime -1 2>/dev/null)" ]; then
		log "updating the $release package lists"
		scull_apt "$release" apt-get update -q >/dev/null
		touch "$stamp"
	fi
fi

# The current cloud kernel of the release, from its metapackage.
image_pkg=$(scull_apt "$release" apt-cache depends linux-image-cloud-amd64 2>/dev/null |
	awk '/Depends: linux-image-/ { print $2; exit }')
if [ -z "$image_pkg" ] && [ "$release" = bookworm ] && is_root; then
	apt-get update -q >/dev/null
	image_pkg=$(apt-cache depends linux-image-cloud-amd64 |
		awk '/Depends: linux-image-/ { print $2; exit }')
fi
[ -n "$image_pkg" ] || die "cannot find linux-image-cloud-amd64 for $release (apt-get update?)"
KVER=${image_pkg#linux-image-}
KVER=${KVER%-unsigned}

kdir=$SCULL_CACHE/kernels/$KVER
if [ ! -f "$kdir/vmlinuz" ]; then
	log "fetching $image_pkg"
	mkdir -p "$SCULL_CACHE"
	tmp=$(mktemp -d "$SCULL_CACHE/tmp.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	# Newer kernels split the image: linux-binary (vmlinuz),
	# linux-modules, linux-base (config), all for the same version.
	pkgs="$image_pkg $(scull_apt "$release" apt-cache depends "$image_pkg" |
		awk -v v="$KVER" '$1 == "Depends:" && $2 ~ /^linux-(binary|modules|base)-/ &&
			substr($2, length($2) - length(v) + 1) == v { print $2 }')"
	# shellcheck disable=SC2086  # a list of packages
	(cd "$tmp" && scull_apt "$release" apt-get download -q $pkgs >/dev/null 2>&1) ||
		die "cannot download $pkgs"
	for deb in "$tmp"/*.deb; do
		dpkg-deb -x "$deb" "$tmp/x"
	done
	# merged-/usr packages (Debian 13 on) ship /usr/lib/modules, and
	# from 7.x vmlinuz and config live there too
	mods=$tmp/x/usr/lib/modules/$KVER
	[ -d "$mods" ] || mods=$tmp/x/lib/modules/$KVER
	mkdir -p "$tmp/k/lib/modules"
	for f in vmlinuz config; do
		if [ -f "$tmp/x/boot/$f-$KVER" ]; then
			mv "$tmp/x/boot/$f-$KVER" "$tmp/k/$f"
		else
			mv "$mods/$f" "$tmp/k/$f"
		fi
	done
	mv "$mods" "$tmp/k/lib/modules/"
	depmod -b "$tmp/k" "$KVER"
	rm -rf "$kdir"
	mkdir -p "$(dirname "$kdir")"
	mv "$tmp/k" "$kdir"
fi

if [ "$on_host" = yes ]; then
	"$(dirname "$0")/deps.sh" check "linux-headers-$KVER" >&2
	KDIR=/usr/src/linux-headers-$KVER
	KROOT=
else
	KROOT=$SCULL_CACHE/chroots/$KVER
	KDIR=/usr/src/linux-headers-$KVER
	if [ ! -x "$KROOT/usr/bin/make" ] || [ ! -d "$KROOT$KDIR" ]; then
		"$(dirname "$0")/deps.sh" check debootstrap >&2
		is_root || die "building a $release chroot needs root"
		log "building a $release chroot for $KVER (a few minutes, once)"
		rm -rf "$KROOT.tmp"
		debootstrap --variant=minbase \
			--include="$cc,make,libc6-dev,perl,linux-headers-$KVER" \
			"$release" "$KROOT.tmp" http://deb.debian.org/debian >&2
		rm -rf "$KROOT"
		mv "$KROOT.tmp" "$KROOT"
	fi
fi

printf 'KVER=%q\nKIMAGE=%q\nKMODS=%q\nKDIR=%q\nKROOT=%q\n' \
	"$KVER" "$kdir/vmlinuz" "$kdir/lib/modules/$KVER" "$KDIR" "$KROOT"
