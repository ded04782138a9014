#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The Rust twin's lint, for make lint: rustfmt --check (the kernel's
# .rustfmt.toml) and clippy (kbuild's CLIPPY=1, which fails the build on
# any warning here) on rust/, in the toolchain chroot of tools/rust.sh.
#
#   tools/rust-lint.sh
#
# Never builds that chroot (12 to 16 minutes): without it, prints
# "rust: skipped: <why>" and exits 3, so make lint says it did not check
# rust/ rather than calling it clean.  rustfmt and clippy, not part of the
# build chroot, are added to it the first time (the same rustc release
# from the same suite; about 30 s once).  Exits 1 on any finding.
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

skip() {
	echo "rust: skipped: $*"
	exit 3
}
is_root || skip "the Rust toolchain runs in a chroot, which needs root"
# no chroot at all: say so before tools/rust.sh, which would first fetch
# the 7.2 kernel to learn which chroot it wants
ready=$(find "$SCULL_CACHE/rust" -maxdepth 2 -name .scull-ready 2>/dev/null | head -n 1 || true)
[ -n "$ready" ] || skip "no Rust toolchain chroot under $SCULL_CACHE/rust (make rust makes it, 12 to 16 minutes once)"
vars=$(SCULL_RUST_IF_READY=1 "$SCULL_ROOT/tools/rust.sh" 7.2 2>&1) ||
	skip "$(tail -n 1 <<<"$vars")"
eval "$(grep -E '^[A-Z_]+=' <<<"$vars")"
: "${RUST_ROOT:?}" "${RUST_KDIR:?}" "${RUSTC_VER:?}"

if [ ! -f "$RUST_ROOT/.scull-lint-tools" ]; then
	log "adding rustfmt and clippy $RUSTC_VER to the Rust chroot (once)"
	cp /etc/resolv.conf "$RUST_ROOT/etc/resolv.conf"
	if ! scull_in_chroot "$RUST_ROOT" sh -c \
		'apt-get -qq -o Acquire::Check-Valid-Until=false update &&
		 DEBIAN_FRONTEND=noninteractive apt-get -qq -y install rustfmt rust-clippy' \
		>"$RUST_ROOT.lint-tools.log" 2>&1; then
		cat "$RUST_ROOT.lint-tools.log"
		die "cannot install rustfmt and rust-clippy in $RUST_ROOT (log: $RUST_ROOT.lint-tools.log)"
	fi
	# they must be of the compiler's own package version
	# shellcheck disable=SC2016  # a dpkg-query format
	versions=$(scull_in_chroot "$RUST_ROOT" dpkg-query -W -f '${Version}\n' rustc rustfmt rust-clippy | sort -u)
	[ "$(wc -l <<<"$versions")" -eq 1 ] ||
		die "rustc, rustfmt and rust-clippy in $RUST_ROOT are of different versions: $(tr '\n' ' ' <<<"$versions")"
	touch "$RUST_ROOT/.scull-lint-tools"
fi

rc=0
lint=$RUST_ROOT/build/scull_rs-lint
rm -rf "$lint"
mkdir -p "$lint"
cp "$SCULL_ROOT"/rust/*.rs "$lint/"
log "rustfmt --check (rust/)"
# shellcheck disable=SC2016  # expanded by the inner shell
if ! out=$(scull_in_chroot "$RUST_ROOT" sh -c 'cd /build/scull_rs-lint &&
	rustfmt --check --config-path "$1/.rustfmt.toml" scull_rs.rs' sh "$RUST_KDIR" 2>&1); then
	# the paths as they are in the tree
	printf '%s\n' "${out//\/build\/scull_rs-lint\//rust/}"
	rc=1
fi
rm -rf "$lint"

log "clippy (CLIPPY=1, rust/)"
if ! SCULL_RUST_ARGS=CLIPPY=1 "$SCULL_ROOT/tools/build-rust.sh" "$SCULL_OUT/lint-rust" 7.2 >/dev/null 2>&1; then
	grep -E 'warning|error' -A8 "$SCULL_OUT/lint-rust/build.log" || cat "$SCULL_OUT/lint-rust/build.log"
	rc=1
fi
exit "$rc"
