#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the Rust twin, scull_rs.ko, for a Debian kernel built with Rust, in
# the toolchain chroot of tools/rust.sh, and fail on any warning.
#
#   tools/build-rust.sh OUTDIR [KERNEL]    (KERNEL defaults to 7.2)
#
# Leaves OUTDIR/scull_rs.ko and OUTDIR/build.log.  SCULL_SRC builds the
# rust/ of another copy of the sources (a planted bug); SCULL_RUST_ARGS
# adds to kbuild's make line (CLIPPY=1).
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

# a folder of this build's own: make check and make lint may build at once
src=$RUST_ROOT/build/scull_rs.$$
trap 'rm -rf "$src"' EXIT
rm -rf "$src"
mkdir -p "$src" "$out"
from=${SCULL_SRC:-$SCULL_ROOT}
cp "$from"/rust/Kbuild "$from"/rust/*.rs "$src/"

log "building scull_rs.ko for $KVER (rustc $RUSTC_VER, in a chroot)"
t0=$SECONDS
set +e
# SCULL_RUST_ARGS adds to the make line (tools/rust-lint.sh passes CLIPPY=1)
# shellcheck disable=SC2086  # a list of make arguments
scull_in_chroot "$RUST_ROOT" nice -n 10 make -C "$RUST_KDIR" M="/build/${src##*/}" \
	CC="$RUST_CC" KERNELRELEASE="$KVER" ${SCULL_RUST_ARGS:-} modules >"$out/build.log" 2>&1
rc=$?
set -e
if [ "$rc" -ne 0 ] || grep -qiE 'warning' "$out/build.log"; then
	cat "$out/build.log" >&2
	die "building scull_rs.ko for $KVER failed or warned (log: $out/build.log)"
fi
cp "$src/scull_rs.ko" "$out/scull_rs.ko"
log "built $out/scull_rs.ko in $((SECONDS - t0)) s"
