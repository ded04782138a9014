#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the Rust twin, scull_rs.ko, for a Debian kernel built with Rust, in
# the toolchain chroot of tools/rust.sh, and fail on any warning.
#
#   tools/build-rust.sh OUTDIR [KERNEL]    (KERNEL defaults to 7.2)
#
# Leaves OUTDIR/scull_rs.ko and OUTDIR/build.log.  SCULL_SRC builds the
# rust/ of another copy of the sources (a planted bug).
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

out=${1:?usage: build-rust.sh OUTDIR [KERNEL]}
name=${2:-7.2}
is_root || die_with_fix "building the Rust twin runs its toolchain in a chroot, which needs root" \
	"run the same make command as root (sudo make rust)"
vars=$("$(dirname "$0")/rust.sh" "$name") || exit 1
eval "$vars"
: "${RUST_ROOT:?}" "${RUST_KDIR:?}" "${KVER:?}"

src=$RUST_ROOT/build/scull_rs
rm -rf "$src"
mkdir -p "$src" "$out"
from=${SCULL_SRC:-$SCULL_ROOT}
cp "$from"/rust/Kbuild "$from"/rust/*.rs "$src/"

log "building scull_rs.ko for $KVER (rustc $RUSTC_VER, in a chroot)"
t0=$SECONDS
set +e
# shellcheck disable=SC2016  # expanded by the inner shell
unshare --mount sh -c 'mount -t proc proc "$1/proc" && shift && exec chroot "$@"' \
	sh "$RUST_ROOT" "$RUST_ROOT" nice -n 10 make -C "$RUST_KDIR" M=/build/scull_rs \
	CC="$RUST_CC" KERNELRELEASE="$KVER" modules >"$out/build.log" 2>&1
rc=$?
set -e
if [ "$rc" -ne 0 ] || grep -qiE 'warning' "$out/build.log"; then
	cat "$out/build.log" >&2
	die "building scull_rs.ko for $KVER failed or warned (log: $out/build.log)"
fi
cp "$src/scull_rs.ko" "$out/scull_rs.ko"
log "built $out/scull_rs.ko in $((SECONDS - t0)) s"
