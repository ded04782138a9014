#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Make a Debian kernel ready to boot and to build against.
#
#   tools/kernel.sh KERNEL
#
# KERNEL is a name from scull_kernel_table (6.1, 6.12, 7.2, i386, arm64 or a
# suite name), or debug: tools/debug-kernel.sh builds that one from source.  The image package is unpacked under
# $SCULL_CACHE/kernels/<version>/, never installed into /boot.  Headers: for
# the host's release and architecture they are installed on the host; for a
# chroot build they live in a chroot of that release and architecture under
# $SCULL_CACHE/chroots/<version>/, where the module is built; for a cross
# build, in an amd64 chroot of the release with its cross compilers, at
# the same place.
#
# Prints shell assignments on stdout:
#   KVER    kernel release (uname -r in the guest)
#   KIMAGE  the vmlinuz to boot
#   KMODS   the image's /lib/modules/<KVER> (brd, virtio for the bench)
#   KDIR    the headers tree, as seen by the build
#   KROOT   the chroot the build runs in, empty for the host; for another
#           architecture the guest test programs are built there too
#   KDEBARCH  the Debian architecture of kernel and guest (amd64, i386, arm64)
#   KCROSS  CROSS_COMPILE= for a cross build, empty otherwise
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

name=${1:?usage: kernel.sh KERNEL}
# One kernel.sh per kernel at a time: runs that overlap (check-all's rows
# beside make lint, CI's sanitizer kernel build beside make check-debug)
# may ask for the same kernel, whose download, chroot or build one of them
# makes while the other waits, then finds them ready.
mkdir -p "$SCULL_CACHE"
exec 9>"$SCULL_CACHE/.kernel-$name.lock"
flock 9
# debug: the sanitizer kernel built from Debian's 6.1 source (check-debug)
if [ "$name" = debug ]; then
	exec "$(dirname "$0")/debug-kernel.sh"
fi
read -r release arch flavour build cc <<<"$(scull_kernel_table "$name")" ||
	die "unknown KERNEL=$name (known: $SCULL_ALL_KERNELS debug)"
read -r _ _ _ cross <<<"$(scull_arch_table "$arch")"
[ "$cross" != - ] || cross=
# the package lists this kernel comes from: "trixie", "bookworm:i386"...
spec=$release
[ "$arch" = amd64 ] || spec=$release:$arch

# What this script runs beyond a minimal Debian (depmod), installed before
# it runs; the chroots' debootstrap below.
"$(dirname "$0")/deps.sh" kernel >&2

# The package lists of a foreign release or architecture are refreshed
# once a day.
scull_apt_update "$spec"

# The release's current kernel of that flavour, from its metapackage.
image_pkg=$(scull_apt "$spec" apt-cache depends "linux-image-$flavour" 2>/dev/null |
	awk '/Depends: linux-image-/ { print $2; exit }')
if [ -z "$image_pkg" ] && [ "$spec" = bookworm ] && is_root; then
	apt-get update -q >/dev/null
	image_pkg=$(apt-cache depends "linux-image-$flavour" |
		awk '/Depends: linux-image-/ { print $2; exit }')
fi
[ -n "$image_pkg" ] || die "cannot find linux-image-$flavour for $spec (apt-get update?)"
KVER=${image_pkg#linux-image-}
KVER=${KVER%-unsigned}

# Download packages (apt-get download names, "pkg" or "pkg:arch") from the
# release's lists and unpack them under $1.  tar keeps the chroot's
# merged-/usr symlinks (/lib -> usr/lib): plain dpkg-deb -x would replace
# /lib with the package's directory.
unpack_debs() {
	local dest=$1 d deb
	shift
	d=$(mktemp -d "$SCULL_CACHE/tmp.XXXXXX")
	(cd "$d" && scull_apt "$spec" apt-get download -q "$@" >/dev/null 2>&1) ||
		die "cannot download $*"
	for deb in "$d"/*.deb; do
		dpkg-deb --fsys-tarfile "$deb" | tar -x --keep-directory-symlink -C "$dest"
	done
	rm -rf "$d"
}

# debootstrap ARGS... TARGET MIRROR, with a progress line every 20 s (how
# much of its usual 750 MB it has written), after checking there is room.
chroot_debootstrap() {
	local target=${*: -2:1} what="$release ($build"
	[ "$build" != cross ] || what="$what, amd64"
	what="$what chroot)"
	# measured: 700-800 MB per chroot
	scull_need_space "$SCULL_CACHE/chroots" 1000 "a $what"
	chroot_progress() { echo "$(scull_mb "$target") of about 750 MB"; }
	scull_progress "debootstrap $what" chroot_progress debootstrap "$@"
}

# The libraries the guest test programs link (tests/Makefile), for the
# guest's architecture, in the chroot they are built in.
test_libs="liburing-dev liburing2"

# Download the headers package of KVER with the packages it takes its
# Makefile and kbuild tools from (linux-headers-*-common, linux-kbuild-*),
# and unpack them under $1.  KBUILD_ARCH is the architecture the kbuild
# tools run on: the kernel's own inside a chroot, amd64 for a cross build.
unpack_headers() {
	local dest=$1 kbuild_arch=$2 pkgs deps d
	deps=$(scull_apt "$spec" apt-cache depends "linux-headers-$KVER" |
		awk '$1 == "Depends:" && $2 ~ /^linux-(headers-.*-common|kbuild-)/ { print $2 }' |
		sed 's/:.*//' | sort -u)
	[ -n "$deps" ] || die "cannot find what linux-headers-$KVER depends on"
	pkgs="linux-headers-$KVER"
	for d in $deps; do
		case "$d" in
		linux-kbuild-*) pkgs="$pkgs $d:$kbuild_arch" ;;
		*) pkgs="$pkgs $d" ;;
		esac
	done
	# shellcheck disable=SC2086  # a list of packages
	unpack_debs "$dest" $pkgs
}

kdir=$SCULL_CACHE/kernels/$KVER
if [ ! -f "$kdir/vmlinuz" ]; then
	log "fetching $image_pkg"
	# the packages, what they unpack to, and the copy kept (measured:
	# 6.1 cloud, 106 MB kept; 686-pae, 194 MB)
	scull_need_space "$SCULL_CACHE" 600 "the kernel $KVER"
	mkdir -p "$SCULL_CACHE"
	tmp=$(mktemp -d "$SCULL_CACHE/tmp.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	# Newer kernels split the image: linux-binary (vmlinuz),
	# linux-modules, linux-base (config), all for the same version.
	pkgs="$image_pkg $(scull_apt "$spec" apt-cache depends "$image_pkg" |
		awk -v v="$KVER" '$1 == "Depends:" && $2 ~ /^linux-(binary|modules|base)-/ &&
			substr($2, length($2) - length(v) + 1) == v { print $2 }')"
	# shellcheck disable=SC2086  # a list of packages
	total_mb=$(scull_apt "$spec" apt-cache show --no-all-versions $pkgs 2>/dev/null |
		awk '/^Size:/ { b += $2 } END { if (b) printf "%d", b / 1048576; else print "?" }')
	download_progress() { echo "$(scull_mb "$tmp") of $total_mb MB"; }
	# shellcheck disable=SC2086  # a list of packages
	download() { scull_apt "$spec" apt-get download -q $pkgs >/dev/null 2>&1; }
	(cd "$tmp" && scull_progress "downloading $pkgs" download_progress download) ||
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

case "$build" in
host)
	"$(dirname "$0")/deps.sh" check "linux-headers-$KVER" >&2
	KDIR=/usr/src/linux-headers-$KVER
	KROOT=
	;;
chroot)
	KROOT=$SCULL_CACHE/chroots/$KVER
	KDIR=/usr/src/linux-headers-$KVER
	# Another architecture's chroot builds the guest tests too; it says
	# what it was made with, and is made again when that changes.
	recipe="$spec $cc gcc make libc6-dev perl $test_libs"
	ready=yes
	if [ ! -x "$KROOT/usr/bin/make" ] || [ ! -d "$KROOT$KDIR" ]; then
		ready=no
	elif [ "$arch" != amd64 ] && [ "$(cat "$KROOT/.scull-recipe" 2>/dev/null)" != "$recipe" ]; then
		ready=no
	fi
	if [ "$ready" = no ]; then
		"$(dirname "$0")/deps.sh" check debootstrap >&2
		is_root || die_with_fix "building against $KVER needs a chroot of $spec, and making one needs root" \
			"run the same make command as root (sudo make ... KERNEL=$name)"
		log "building a $spec chroot for $KVER (a few minutes, once)"
		rm -rf "$KROOT.tmp"
		if [ "$release" = bookworm ]; then
			# Debian 12's current kernel comes from its security
			# suite, which debootstrap does not read: unpack the
			# headers from the private lists instead.
			chroot_debootstrap --variant=minbase --arch="$arch" \
				--include="$cc,gcc,make,libc6-dev,perl,${test_libs// /,}" \
				"$release" "$KROOT.tmp" http://deb.debian.org/debian >&2
			unpack_headers "$KROOT.tmp" "$arch"
			echo "$recipe" >"$KROOT.tmp/.scull-recipe"
		else
			chroot_debootstrap --variant=minbase --arch="$arch" \
				--include="$cc,make,libc6-dev,perl,linux-headers-$KVER" \
				"$release" "$KROOT.tmp" http://deb.debian.org/debian >&2
		fi
		rm -rf "$KROOT"
		mv "$KROOT.tmp" "$KROOT"
	fi
	;;
cross)
	# Debian's cross compilers cannot be installed beside gcc-multilib
	# (which the host needs for the x86 tests' -m32 program), so the
	# toolchain lives in an amd64 chroot of the release, with the headers
	# unpacked at their usual paths and the amd64 kbuild tools, which
	# Debian ships for exactly this.  arm64: Debian's cross compilers
	# (and armhf's, for the AArch32 compat test).  i386: the amd64 gcc,
	# which builds a 32-bit kernel's modules itself (the kernel's x86
	# Makefile adds -m32 for CONFIG_X86_32) and the tests with -m32
	# (gcc-multilib): so no i386 program ever runs here.
	KROOT=$SCULL_CACHE/chroots/$KVER
	KDIR=/usr/src/linux-headers-$KVER
	case "$arch" in
	i386) toolchain="$cc,gcc,gcc-multilib,libc6-dev" ;;
	*) toolchain="$cc-${cross%-},gcc-${cross%-},libc6-dev-$arch-cross,gcc-arm-linux-gnueabihf,libc6-dev-armhf-cross" ;;
	esac
	recipe="$spec ${toolchain//,/ } $test_libs"
	if [ ! -x "$KROOT/usr/bin/${cross}gcc" ] || [ ! -d "$KROOT$KDIR" ] ||
		[ "$(cat "$KROOT/.scull-recipe" 2>/dev/null)" != "$recipe" ]; then
		"$(dirname "$0")/deps.sh" check debootstrap >&2
		is_root || die_with_fix "building against $KVER needs a cross chroot of $release, and making one needs root" \
			"run the same make command as root (sudo make ... KERNEL=$name)"
		log "building a $release cross chroot for $KVER (a few minutes, once)"
		rm -rf "$KROOT.tmp"
		chroot_debootstrap --variant=minbase \
			--include="make,perl,$toolchain" \
			"$release" "$KROOT.tmp" http://deb.debian.org/debian >&2
		unpack_headers "$KROOT.tmp" amd64
		# the test libraries of the guest's architecture, where the
		# cross compiler looks (/usr/lib/<triplet>, /usr/include)
		# shellcheck disable=SC2046  # a list of packages
		unpack_debs "$KROOT.tmp" $(for p in $test_libs; do echo "$p:$arch"; done)
		echo "$recipe" >"$KROOT.tmp/.scull-recipe"
		rm -rf "$KROOT"
		mv "$KROOT.tmp" "$KROOT"
	fi
	;;
esac

printf 'KVER=%q\nKIMAGE=%q\nKMODS=%q\nKDIR=%q\nKROOT=%q\nKDEBARCH=%q\nKCROSS=%q\n' \
	"$KVER" "$kdir/vmlinuz" "$kdir/lib/modules/$KVER" "$KDIR" "$KROOT" "$arch" "$cross"
