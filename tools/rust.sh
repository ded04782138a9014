#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Make the toolchain and the prepared kernel tree that the Rust twin
# (rust/, scull_rs.ko) builds against, for a Debian kernel built with
# CONFIG_RUST=y.
#
#   tools/rust.sh [KERNEL]      (default 7.2)
#
# Debian's headers packages carry no Rust metadata (rust/*.rmeta), so a
# Rust module cannot build against them: this makes, once, a chroot of the
# kernel's release with the rustc the kernel was built with, rust-src,
# bindgen and libclang, unpacks linux-source of the same version there,
# configures it with Debian's config of the exact kernel and runs
# modules_prepare (which builds the kernel crate) with the kernel's own
# release string, then copies in Debian's Module.symvers.  A module built
# there carries the stock kernel's vermagic and links against its symbols.
#
# The crate hashes in Rust symbol names depend on the rustc version, so the
# chroot is keyed by both the kernel release and the rustc version under
# $SCULL_CACHE/rust/, and the script stops when the release's rustc is not
# the one the kernel was built with (CONFIG_RUSTC_VERSION).
#
# Prints shell assignments on stdout (plus those of tools/kernel.sh):
#   RUST_ROOT   the chroot the build runs in
#   RUST_KDIR   the prepared kernel tree, as seen inside RUST_ROOT
#   RUSTC_VER   the rustc version (1.97.1)
#
# SCULL_RUST_IF_READY=1: only look; exit 3, with the reason on stderr,
# when the chroot is not made yet (make lint must stay fast).
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

name=${1:-7.2}
read -r release arch _ build cc <<<"$(scull_kernel_table "$name")" ||
	die "unknown KERNEL=$name (known: $SCULL_ALL_KERNELS)"
if [ "$arch" != amd64 ] || [ "$build" != chroot ]; then
	die_with_fix "the Rust twin builds for Debian's amd64 kernels built with Rust (7.x), not KERNEL=$name" \
		"use KERNEL=7.2"
fi

# the kernel itself: KVER, KMODS, KROOT (its headers chroot)
kernel_vars=$("$(dirname "$0")/kernel.sh" "$name")
eval "$kernel_vars"
kconfig=$SCULL_CACHE/kernels/$KVER/config
[ -f "$kconfig" ] || die "no config for $KVER at $kconfig"

# What this script runs on the host: debootstrap, xz for the source.
"$(dirname "$0")/deps.sh" rust >&2

want=$(sed -n 's/^CONFIG_RUSTC_VERSION=//p' "$kconfig")
if [ -z "$want" ] || ! grep -q '^CONFIG_RUST=y' "$kconfig"; then
	die_with_fix "the kernel $KVER was built without Rust (no CONFIG_RUST=y in its config): no Rust module can load on it" \
		"build the Rust twin for a kernel built with Rust: make rust KERNEL=7.2"
fi
want_text=$(sed -n 's/^CONFIG_RUSTC_VERSION_TEXT="\(.*\)"$/\1/p' "$kconfig")

# The rustc of the release, from its package lists: 1.97.1+dfsg1-1 ->
# 1.97.1 -> 109701, the kernel's encoding.
rustc_pkg=$(scull_apt "$release" apt-cache show --no-all-versions rustc 2>/dev/null |
	awk '/^Version:/ { print $2; exit }')
[ -n "$rustc_pkg" ] || die "no rustc package in $release's lists"
RUSTC_VER=$(echo "$rustc_pkg" | sed -E 's/^[0-9]+://; s/^([0-9]+\.[0-9]+\.[0-9]+).*/\1/')
have=$(echo "$RUSTC_VER" | awk -F. '{ printf "%d", $1 * 100000 + $2 * 100 + $3 }')
[ "$have" = "$want" ] ||
	die_with_fix "$KVER was built with $want_text (CONFIG_RUSTC_VERSION=$want), but $release has rustc $rustc_pkg ($have): a module built with another rustc does not link against the kernel's Rust symbols" \
		"wait until Debian's $release kernel and rustc agree again (they move together), or give a kernel built with rustc $RUSTC_VER"

# linux-source of the kernel's own upstream version (7.2.13 for
# 7.2.13+deb14-cloud-amd64)
series=$(echo "$KVER" | cut -d. -f1-2)
upstream=${KVER%%+*}
upstream=${upstream%%-*}
src_pkg=linux-source-$series
src_ver=$(scull_apt "$release" apt-cache show --no-all-versions "$src_pkg" 2>/dev/null |
	awk '/^Version:/ { print $2; exit }')
[ -n "$src_ver" ] || die "no $src_pkg in $release's lists"
case "$src_ver" in
"$upstream"-*) ;;
*) die_with_fix "$release's $src_pkg is $src_ver, not the source of $KVER ($upstream)" \
	"wait until the mirror carries both of the same version (apt lists of $release are refreshed daily)" ;;
esac

RUST_ROOT=$SCULL_CACHE/rust/$KVER-rustc$RUSTC_VER
RUST_KDIR=/usr/src/linux-prepared
# what the chroot is made of; it is made again when that changes
# (pahole and openssl: without them olddefconfig drops DEBUG_INFO_BTF and
# the options that need it, and struct module loses fields: a module
# built so is refused, "Invalid relocation target")
pkgs="$cc make libc6-dev perl rustc rust-src bindgen libclang-dev $src_pkg xz-utils bc bison flex libelf-dev libssl-dev openssl pahole python3 cpio kmod"
# the compiler by the name the kernel's config gives (CONFIG_CC_VERSION_TEXT)
kcc=x86_64-linux-gnu-$cc
recipe="$release $KVER rustc $rustc_pkg $src_pkg $src_ver $pkgs"


if [ ! -f "$RUST_ROOT/.scull-ready" ] || [ "$(cat "$RUST_ROOT/.scull-recipe" 2>/dev/null)" != "$recipe" ]; then
	# SCULL_RUST_IF_READY=1 (make lint): never build it, say why and exit 3
	if [ -n "${SCULL_RUST_IF_READY:-}" ]; then
		echo "no Rust toolchain chroot for $KVER with rustc $RUSTC_VER at $RUST_ROOT (make rust makes it, 12 to 16 minutes once)" >&2
		exit 3
	fi
	is_root || die_with_fix "building the Rust toolchain chroot for $KVER needs root" \
		"run the same make command as root (sudo make rust)"
	tmp=$RUST_ROOT.tmp
	# measured: the chroot with the toolchain about 2.5 GB, the unpacked and
	# prepared source about 1.8 GB
	scull_need_space "$SCULL_CACHE/rust" 5000 "the Rust chroot for $KVER"
	rm -rf "$tmp"
	mkdir -p "$(dirname "$tmp")"
	log "building a $release chroot with rustc $RUSTC_VER for $KVER (12 to 16 minutes on 2 busy cores, once)"
	t0=$SECONDS
	# (the functions run by scull_progress redirect their own output, so
	# that its progress lines still reach stderr)
	rust_progress() { echo "$(scull_mb "$tmp") of about 2500 MB"; }
	rust_debootstrap() {
		nice -n 10 debootstrap --variant=minbase --arch=amd64 --include="${pkgs// /,}" \
			"$release" "$tmp" http://deb.debian.org/debian >"$tmp.log" 2>&1
	}
	scull_progress "debootstrap $release (Rust toolchain chroot)" rust_progress rust_debootstrap ||
		die "debootstrap of the Rust chroot failed (log: $tmp.log)"
	log "chroot and toolchain: $((SECONDS - t0)) s"
	got=$(scull_in_chroot "$tmp" rustc --version)
	case "$got" in
	"rustc $RUSTC_VER "*) ;;
	*) die "the chroot's rustc says '$got', not $RUSTC_VER" ;;
	esac

	t0=$SECONDS
	log "unpacking $src_pkg $src_ver"
	unpack_progress() { echo "$(scull_mb "$tmp$RUST_KDIR") of about 1600 MB"; }
	mkdir -p "$tmp$RUST_KDIR"
	scull_progress "unpacking $src_pkg" unpack_progress \
		nice -n 10 tar -xaf "$tmp/usr/src/$src_pkg.tar.xz" -C "$tmp$RUST_KDIR" --strip-components=1 ||
		die "cannot unpack $src_pkg"
	cp "$kconfig" "$tmp$RUST_KDIR/.config"
	# Debian's symbol versions and exports of the exact kernel, so modpost
	# resolves the module's undefined symbols against them
	cp "$KROOT/usr/src/linux-headers-$KVER/Module.symvers" "$tmp$RUST_KDIR/Module.symvers" ||
		die "no Module.symvers in the headers of $KVER"
	log "unpacked in $((SECONDS - t0)) s; modules_prepare (about 7 minutes on 2 busy cores, once)"
	t0=$SECONDS
	prep_progress() { echo "$(find "$tmp$RUST_KDIR/rust" -name '*.rmeta' 2>/dev/null | wc -l) Rust crates built"; }
	prepare() {
		scull_in_chroot "$tmp" nice -n 10 make -C "$RUST_KDIR" CC="$kcc" HOSTCC="$kcc" \
			KERNELRELEASE="$KVER" olddefconfig >"$tmp.prepare.log" 2>&1 || return
		# The configuration must be the kernel's own: an option lost
		# (a tool missing here) can change the layout of structures
		# the module shares with the kernel.  Only the signing key's
		# settings, blank in Debian's config, may differ.
		if ! diff <(grep '^CONFIG_' "$kconfig" | sort) \
			<(grep '^CONFIG_' "$tmp$RUST_KDIR/.config" |
				grep -vE '^CONFIG_(BUILD_SALT|MODULE_SIG_ALL|MODULE_SIG_KEY|SYSTEM_TRUSTED_KEYS)=' | sort) \
			>"$tmp.config.diff"; then
			echo "the configuration differs from $KVER's own ($tmp.config.diff):" >>"$tmp.prepare.log"
			cat "$tmp.config.diff" >>"$tmp.prepare.log"
			return 1
		fi
		scull_in_chroot "$tmp" nice -n 10 make -C "$RUST_KDIR" -j2 CC="$kcc" HOSTCC="$kcc" \
			KERNELRELEASE="$KVER" modules_prepare >>"$tmp.prepare.log" 2>&1
	}
	scull_progress "modules_prepare of $KVER" prep_progress prepare ||
		die "modules_prepare of $KVER failed (log: $tmp.prepare.log): $(tail -n 5 "$tmp.prepare.log")"
	log "modules_prepare: $((SECONDS - t0)) s"
	[ -f "$tmp$RUST_KDIR/rust/kernel.o" ] || [ -n "$(find "$tmp$RUST_KDIR/rust" -name 'libkernel.rmeta')" ] ||
		die "modules_prepare built no kernel crate (is CONFIG_RUST set in .config?): $tmp.prepare.log"
	# modules_prepare may have rewritten it; the module links against these
	cp "$KROOT/usr/src/linux-headers-$KVER/Module.symvers" "$tmp$RUST_KDIR/Module.symvers"
	echo "$recipe" >"$tmp/.scull-recipe"
	touch "$tmp/.scull-ready"
	rm -rf "$RUST_ROOT"
	mv "$tmp" "$RUST_ROOT"
	mv "$tmp.log" "$RUST_ROOT.debootstrap.log"
	mv "$tmp.prepare.log" "$RUST_ROOT.prepare.log"
	rm -f "$tmp.config.diff"
fi

printf '%s\n' "$kernel_vars"
printf 'RUST_ROOT=%q\nRUST_KDIR=%q\nRUSTC_VER=%q\nRUST_CC=%q\n' \
	"$RUST_ROOT" "$RUST_KDIR" "$RUSTC_VER" "$kcc"
