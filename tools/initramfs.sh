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
# Needs KVER and KMODS (tools/kernel.sh) and TESTBIN, the built tests, and
# MODULE, the built scull.ko.
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

out=${1:?usage: initramfs.sh OUT.cpio CONF}
conf=${2:?usage: initramfs.sh OUT.cpio CONF}
: "${KVER:?}" "${KMODS:?}" "${TESTBIN:?}" "${MODULE:?}"

# Binaries copied from the host with their libraries; busybox fills in
# every command none of them provides.
base_bins="/usr/bin/dash /usr/bin/kmod /usr/bin/udevadm /usr/bin/fio /usr/bin/jq /usr/sbin/groupadd"
base_pkgs="busybox-static dash kmod udev fio jq passwd libc6"
# Kernel modules for the bench: brd (a baseline) and a virtio disk that
# carries results out of the guest.
base_kmods="brd virtio_blk virtio_pci"

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

build_base() {
	local root=$1 m f applet
	mkdir -p "$root"/{usr/bin,usr/sbin,usr/lib,usr/lib64,etc,proc,sys,dev,run,tmp,root,opt/scull}
	ln -s usr/bin "$root/bin"
	ln -s usr/sbin "$root/sbin"
	ln -s usr/lib "$root/lib"
	ln -s usr/lib64 "$root/lib64"
	chmod 1777 "$root/tmp"

	for f in $base_bins; do
		copy_with_libs "$root" "$f"
	done
	ln -s dash "$root/usr/bin/sh"
	for f in insmod rmmod modprobe lsmod depmod modinfo; do
		ln -s ../bin/kmod "$root/usr/sbin/$f"
	done
	mkdir -p "$root/usr/lib/systemd"
	ln -s ../../bin/udevadm "$root/usr/lib/systemd/systemd-udevd"

	install -m 0755 /bin/busybox "$root/usr/bin/busybox"
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

# The base changes only with the kernel, the packages and this script.
key=$( {
	echo "$KVER"
	# shellcheck disable=SC2086
	dpkg-query -W -f='${Package} ${Version}\n' $base_pkgs
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
cp -r "$SCULL_ROOT/udev" "$SCULL_ROOT/fio" "$r/opt/scull/"
install -m 0644 "$SCULL_ROOT"/udev/*.rules "$r/usr/lib/udev/rules.d/"
cp -r "$TESTBIN"/. "$r/opt/scull/tests/"
cp -r "$SCULL_ROOT/tools/guest" "$r/opt/scull/"
# SCULL_EXTRA_BINS: more host programs for a debugging session (perf...)
for f in ${SCULL_EXTRA_BINS:-}; do
	copy_with_libs "$r" "$f"
done
install -m 0644 "$conf" "$r/etc/scull-guest.conf"
pack "$r" >"$tmp/overlay.cpio"
cat "$base" "$tmp/overlay.cpio" >"$out"
