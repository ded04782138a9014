#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build scull.ko for one kernel with W=1, in a copy of the sources, and fail
# on any compiler or modpost warning.
#
#   tools/build-module.sh OUTDIR   (KVER, KDIR and KROOT from tools/kernel.sh)
#
# Leaves OUTDIR/scull.ko.  KROOT, when set, is a chroot of the kernel's
# release: the build runs in it, with /proc mounted (objtool reads it).
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

out=${1:?usage: build-module.sh OUTDIR}
: "${KVER:?}" "${KDIR:?}"
KROOT=${KROOT:-}

if [ -n "$KROOT" ]; then
	src=$KROOT/build/scull
	inside=/build/scull
else
	src=$out/src
	inside=$src
fi
rm -rf "$src"
mkdir -p "$src" "$out"
# SCULL_SRC builds another copy of the sources (a planted bug, in a
# scratch folder holding Kbuild, src/ and include/)
from=${SCULL_SRC:-$SCULL_ROOT}
cp -r "$from/Kbuild" "$from/src" "$from/include" "$src/"

# SCULL_KBUILD_ARGS adds to the make line (tools/lint.sh passes C=2)
# shellcheck disable=SC2206  # a list of make arguments
make_args=(-C "$KDIR" M="$inside" W=1 ${SCULL_KBUILD_ARGS:-} modules)
log "building scull.ko for $KVER (W=1)"
if [ -n "$KROOT" ]; then
	set +e
	# shellcheck disable=SC2016  # expanded by the inner shell
	unshare --mount sh -c 'mount -t proc proc "$1/proc" && shift && exec chroot "$@"' \
		sh "$KROOT" "$KROOT" make "${make_args[@]}" >"$out/build.log" 2>&1
	rc=$?
	set -e
else
	set +e
	make "${make_args[@]}" >"$out/build.log" 2>&1
	rc=$?
	set -e
fi
if [ "$rc" -ne 0 ] || grep -qiE 'warning:' "$out/build.log"; then
	cat "$out/build.log" >&2
	die "building scull.ko for $KVER failed or warned (log: $out/build.log)"
fi
cp "$src/scull.ko" "$out/scull.ko"
