#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build scull.ko for one kernel with W=1, in a copy of the sources, and fail
# on any compiler or modpost warning.
#
#   tools/build-module.sh OUTDIR   (KVER, KDIR, KROOT, KCROSS from tools/kernel.sh)
#
# Leaves OUTDIR/scull.ko, and OUTDIR/build.log with the compiler's output.
# KROOT, when set, is a chroot of the kernel's release and architecture:
# the build runs in it, with /proc mounted (objtool reads it).  KCROSS, when
# set, is the cross compiler's prefix (CROSS_COMPILE=) for a build on the
# host against another architecture's headers.
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

out=${1:?usage: build-module.sh OUTDIR}
: "${KVER:?}" "${KDIR:?}"
KROOT=${KROOT:-}
KCROSS=${KCROSS:-}

if [ -n "$KROOT" ]; then
	# a folder of this build's own: builds for one kernel from two trees
	# (or a lint and a check) may run at once in the same chroot
	src=$KROOT/build/scull.$$
	inside=/build/scull.$$
	trap 'rm -rf "$src"' EXIT
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
make_args=(-C "$KDIR" M="$inside" W=1 ${KCROSS:+CROSS_COMPILE=$KCROSS} ${SCULL_KBUILD_ARGS:-} modules)
log "building scull.ko for $KVER (W=1${KCROSS:+, CROSS_COMPILE=$KCROSS}${KROOT:+, in a chroot})"
if [ -n "$KROOT" ]; then
	set +e
	scull_in_chroot "$KROOT" make "${make_args[@]}" >"$out/build.log" 2>&1
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
# the KUnit suite's module, built where the kernel has KUnit, and the
# number of cases its source declares (tools/guest/kunit.sh expects that
# many results)
rm -f "$out/scull_kunit.ko" "$out/scull_kunit.cases"
if [ -f "$src/scull_kunit.ko" ]; then
	cp "$src/scull_kunit.ko" "$out/scull_kunit.ko"
	grep -c '^[[:space:]]*KUNIT_CASE(' "$src/src/storage_kunit.c" >"$out/scull_kunit.cases" || true
fi
