#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Pack the guest's initramfs: a cached base (busybox, dash, kmod, udev, fio,
# jq and their libraries, users, the kernel modules the bench needs) plus
# a small overlay with this project's files, concatenated (the kernel
# unpacks one cpio archive after the other).
#
#   tools/initramfs.sh OUT.cpio CONF
#
# CONF is a file copied to /etc/scull-guest.conf (the guest's orders).
# SCULL_EXTRA_BINS adds host programs, with their libraries, to the overlay
# (e.g. SCULL_EXTRA_BINS=/usr/bin/perf make vm-shell).
# Needs KVER, KMODS and KDEBARCH (tools/kernel.sh) and TESTBIN, the built
# tests, and MODULE, the built scull.ko.
#
# For an amd64 guest the programs are the host's.  For another architecture
# (i386, arm64) they come from that architecture's Debian 12 packages,
# unpacked into a sysroot under $SCULL_CACHE/sysroots/ (private package
# lists, see scull_apt); the packages are the ones that hold the host's
# copies of the same programs and libraries, and every library a program
# needs is looked up in the sysroot (readelf), so a missing one fails here
# rather than in the guest.  KROOT, the chroot the tests were built in, is
# searched too for libraries the tests link.
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

out=${1:?usage: initramfs.sh OUT.cpio CONF}
conf=${2:?usage: initramfs.sh OUT.cpio CONF}
: "${KVER:?}" "${KMODS:?}" "${TESTBIN:?}" "${MODULE:?}"
KDEBARCH=${KDEBARCH:-amd64}
KROOT=${KROOT:-}
read -r triplet _ <<<"$(scull_arch_table "$KDEBARCH")" || die "unknown KDEBARCH=$KDEBARCH"

# Binaries copied from the host with their libraries; busybox fills in
# every command none of them provides.
base_bins="/usr/bin/dash /usr/bin/kmod /usr/bin/udevadm /usr/bin/fio /usr/bin/jq /usr/sbin/groupadd"
base_pkgs="busybox-static dash kmod udev fio jq passwd libc6"
# Kernel modules for the bench: brd (a baseline) and a virtio disk that
# carries results out of the guest.
base_kmods="brd virtio_blk virtio_pci"
# arm64's virt machine has one UART: results and the kernel log leave the
# guest through virtio-serial ports (tools/vm.sh)
[ "$KDEBARCH" != arm64 ] || base_kmods="$base_kmods virtio_console"

pack() { (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet); }

# Copy a binary and every library ldd names, each at the path ldd shows
# (under the merged /usr), so the loader and the libraries are found.
copy_with_libs() {
	local root=$1 bin=$2 lib dest
	install -D -m 0755 "$bin" "$root$bin"
	for lib in $(ldd "$bin" | awk '/=> \// { print $3 } /^\t\// { print $1 }'); do
		case "$lib" in
		/usr/*) dest=$root$lib ;;
		*) dest=$root/usr$lib ;;
		esac
		[ -e "$dest" ] || install -D -m 0755 "$(readlink -f "$lib")" "$dest"
	done
}

# The packages holding the host's copies of the base programs' libraries.
host_lib_pkgs() {
	local f lib
	# shellcheck disable=SC2086  # a list of paths
	for lib in $(ldd $base_bins | awk '/=> \// { print $3 } /^\t\// { print $1 }' | sort -u); do
		# dpkg knows a file by the path its package ships (/lib or /usr/lib)
		f=$({ dpkg -S "$lib" || dpkg -S "/usr$lib" || dpkg -S "${lib#/usr}"; } 2>/dev/null |
			head -n 1 | cut -d: -f1)
		[ -n "$f" ] || die "no package holds $lib"
		echo "$f"
	done | sort -u
}

# The sysroot of a foreign architecture: base_pkgs and the packages of the
# libraries, unpacked into a merged-/usr tree, cached by their versions.
# Prints its path.
sysroot() {
	local spec=bookworm:$KDEBARCH pkgs p list key dir tmp deb
	scull_apt_update "$spec" >&2
	# shellcheck disable=SC2086,SC2046  # lists of packages
	pkgs=$(printf '%s\n' $base_pkgs libgcc-s1 $(host_lib_pkgs) | sort -u)
	# "pkg=version" for each, from one apt-cache call.  A library the
	# host's build links may not exist on every architecture: it is left
	# out, and copy_foreign says so if a program needs it.
	# shellcheck disable=SC2086  # a list of packages
	list=$(scull_apt "$spec" apt-cache policy $pkgs 2>/dev/null | awk '
		/^[^ ]/ { p = $1; sub(/:$/, "", p) }
		$1 == "Candidate:" && $2 != "(none)" && p !~ /:/ { printf " %s=%s", p, $2 }')
	for p in $pkgs; do
		[[ "$list " == *" $p="* ]] || log "no $p for $KDEBARCH: left out" >&2
	done
	key=$(echo "$list" | sha256sum | cut -c1-16)
	dir=$SCULL_CACHE/sysroots/bookworm-$KDEBARCH-$key
	if [ ! -d "$dir" ]; then
		log "unpacking Debian 12 $KDEBARCH packages into a sysroot (once)" >&2
		mkdir -p "$SCULL_CACHE/sysroots"
		tmp=$(mktemp -d "$SCULL_CACHE/sysroots/tmp.XXXXXX")
		mkdir -p "$tmp/debs" "$tmp/root/usr/bin" "$tmp/root/usr/sbin" "$tmp/root/usr/lib"
		ln -s usr/bin "$tmp/root/bin"
		ln -s usr/sbin "$tmp/root/sbin"
		ln -s usr/lib "$tmp/root/lib"
		# shellcheck disable=SC2086  # a list of packages
		(cd "$tmp/debs" && scull_apt "$spec" apt-get download -q $list >/dev/null 2>&1) ||
			die "cannot download the $KDEBARCH packages:$list"
		for deb in "$tmp"/debs/*.deb; do
			dpkg-deb --fsys-tarfile "$deb" |
				tar -x --keep-directory-symlink -C "$tmp/root"
		done
		mv "$tmp/root" "$dir"
		rm -rf "$tmp"
	fi
	echo "$dir"
}

# Find a library by its soname in the sysroot (then in KROOT), as the
# guest's loader would: the needing object's RUNPATH (e.g. ceph's private
# directory), the multiarch directories, then /usr/lib.  Prints the root
# it was found in and its path there, merged under /usr.
find_lib() {
	local name=$1 runpath=${2:-} r d
	for r in "$SYSROOT" $KROOT; do
		for d in ${runpath//:/ } "/usr/lib/$triplet" "/lib/$triplet" /usr/lib /lib; do
			d=/usr${d#/usr}
			if [ -e "$r$d/$name" ]; then
				echo "$r $d/$name"
				return 0
			fi
		done
	done
	return 1
}

# Copy a foreign-architecture program or library (SRC, a file) to DEST in
# the initramfs and, recursively, every library it needs, each where the
# guest's loader finds it, and its loader (to /usr/lib, where PT_INTERP
# finds it through the /lib symlink).
copy_foreign() {
	local root=$1 src=$2 dest=$3 lib found interp runpath
	[ -e "$root$dest" ] && return 0
	install -D -m 0755 "$(readlink -f "$src")" "$root$dest"
	interp=$(readelf -lW "$src" 2>/dev/null | sed -n 's/.*Requesting program interpreter: \(.*\)\]/\1/p')
	if [ -n "$interp" ] && [ ! -e "$root/usr/lib/${interp##*/}" ]; then
		found=$(find_lib "${interp##*/}") || die "no loader ${interp##*/} for $src"
		install -D -m 0755 "$(readlink -f "${found/ /}")" "$root/usr/lib/${interp##*/}"
	fi
	runpath=$(readelf -dW "$src" 2>/dev/null | sed -n 's/.*(R[UN]*PATH).*\[\(.*\)\]/\1/p')
	for lib in $(readelf -dW "$src" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		found=$(find_lib "$lib" "$runpath") ||
			die "$src needs $lib: not in the $KDEBARCH sysroot"
		copy_foreign "$root" "${found/ /}" "${found#* }"
	done
}

# A program of the guest's architecture, with its libraries.
copy_prog() {
	if [ "$KDEBARCH" = amd64 ]; then
		copy_with_libs "$1" "$2"
	else
		copy_foreign "$1" "$SYSROOT$2" "/usr${2#/usr}"
	fi
}

build_base() {
	local root=$1 m f applet
	mkdir -p "$root"/{usr/bin,usr/sbin,usr/lib,usr/lib64,etc,proc,sys,dev,run,tmp,root,opt/scull}
	ln -s usr/bin "$root/bin"
	ln -s usr/sbin "$root/sbin"
	ln -s usr/lib "$root/lib"
	ln -s usr/lib64 "$root/lib64"
	chmod 1777 "$root/tmp"

	for f in $base_bins; do
		copy_prog "$root" "$f"
	done
	ln -s dash "$root/usr/bin/sh"
	for f in insmod rmmod modprobe lsmod depmod modinfo; do
		ln -s ../bin/kmod "$root/usr/sbin/$f"
	done
	mkdir -p "$root/usr/lib/systemd"
	ln -s ../../bin/udevadm "$root/usr/lib/systemd/systemd-udevd"

	# busybox is static; Debian 12 builds it with the same applets on
	# every architecture, so the host's copy lists them
	install -m 0755 "${SYSROOT:-}/bin/busybox" "$root/usr/bin/busybox"
	for applet in $(/bin/busybox --list); do
		[ -e "$root/usr/bin/$applet" ] || [ -e "$root/usr/sbin/$applet" ] ||
			ln -s busybox "$root/usr/bin/$applet"
	done

	# Users: root; sculler (1000) in the scull group; outsider (1001) not.
	cat >"$root/etc/passwd" <<-'EOF'
		root:x:0:0:root:/root:/bin/sh
		sculler:x:1000:1000:in the scull group:/tmp:/bin/sh
		outsider:x:1001:1001:outside the scull group:/tmp:/bin/sh
	EOF
	cat >"$root/etc/group" <<-'EOF'
		root:x:0:
		sculler:x:1000:
		outsider:x:1001:
		scull:x:990:sculler
	EOF
	printf 'passwd: files\ngroup: files\nshadow: files\n' >"$root/etc/nsswitch.conf"
	cp /etc/login.defs "$root/etc/login.defs"
	mkdir -p "$root/etc/udev/rules.d" "$root/usr/lib/udev/rules.d"

	mkdir -p "$root/usr/lib/modules/$KVER"
	cp "$KMODS"/modules.builtin* "$KMODS"/modules.order "$root/usr/lib/modules/$KVER/"
	for m in $base_kmods; do
		for f in $(modprobe -S "$KVER" -d "${KMODS%/lib/modules/*}" \
			--show-depends "$m" | awk '$1 == "insmod" { print $2 }'); do
			f=${f#*/lib/modules/"$KVER"/}
			install -D -m 0644 "$KMODS/$f" "$root/usr/lib/modules/$KVER/$f"
		done
	done
}

SYSROOT=
[ "$KDEBARCH" = amd64 ] || SYSROOT=$(sysroot)

# The base changes only with the kernel, the packages and this script.
key=$( {
	echo "$KVER $KDEBARCH $SYSROOT"
	# shellcheck disable=SC2086
	[ -n "$SYSROOT" ] || dpkg-query -W -f='${Package} ${Version}\n' $base_pkgs
	cat "$0"
} | sha256sum | cut -c1-16)
base=$SCULL_CACHE/initramfs/base-$KVER-$key.cpio
if [ ! -f "$base" ]; then
	log "packing the initramfs base for $KVER (once)"
	mkdir -p "$SCULL_CACHE/initramfs"
	tmp=$(mktemp -d "$SCULL_CACHE/initramfs/tmp.XXXXXX")
	build_base "$tmp/root"
	pack "$tmp/root" >"$tmp/base.cpio"
	mv "$tmp/base.cpio" "$base"
	rm -rf "$tmp"
fi

# The overlay: this project, installed where a user would put it.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
r=$tmp/root
mkdir -p "$r/opt/scull/tests" "$r/usr/lib/udev/rules.d" "$r/etc" \
	"$r/usr/lib/modules/$KVER/updates"
install -m 0755 "$SCULL_ROOT/tools/guest-init" "$r/init"
install -m 0755 "$SCULL_ROOT/scull_load" "$SCULL_ROOT/scull_unload" "$r/opt/scull/"
install -m 0644 "$MODULE" "$r/opt/scull/scull.ko"
install -m 0644 "$MODULE" "$r/usr/lib/modules/$KVER/updates/scull.ko"
# the Rust twin, when the guest loads it (IMPL=rust)
[ -z "${RUST_MODULE:-}" ] || install -m 0644 "$RUST_MODULE" "$r/opt/scull/scull_rs.ko"
# the storage layer's KUnit suite, where the kernel has KUnit
kunit=$(dirname "$MODULE")/scull_kunit.ko
if [ -f "$kunit" ]; then
	install -m 0644 "$kunit" "$r/opt/scull/scull_kunit.ko"
	install -m 0644 "${kunit%.ko}.cases" "$r/opt/scull/scull_kunit.cases"
fi
cp -r "$SCULL_ROOT/udev" "$SCULL_ROOT/fio" "$r/opt/scull/"
install -m 0644 "$SCULL_ROOT"/udev/*.rules "$r/usr/lib/udev/rules.d/"
cp -r "$TESTBIN"/. "$r/opt/scull/tests/"
# on another architecture, the libraries the tests link beyond the base's
if [ -n "$SYSROOT" ]; then
	for f in "$TESTBIN"/*; do
		[ -x "$f" ] || continue
		for lib in $(readelf -dW "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
			found=$(find_lib "$lib") || die "$f needs $lib: not in the sysroot or $KROOT"
			# the base has what the sysroot has
			[ "${found%% *}" = "$SYSROOT" ] ||
				copy_foreign "$r" "${found/ /}" "${found#* }"
		done
	done
fi
cp -r "$SCULL_ROOT/tools/guest" "$r/opt/scull/"
# SCULL_EXTRA_BINS: more host programs for a debugging session (perf...)
for f in ${SCULL_EXTRA_BINS:-}; do
	copy_with_libs "$r" "$f"
done
install -m 0644 "$conf" "$r/etc/scull-guest.conf"
pack "$r" >"$tmp/overlay.cpio"
cat "$base" "$tmp/overlay.cpio" >"$out"
