#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The checks the kernel community runs on every patch, on every file here:
#   checkpatch.pl --strict --no-tree -f   on src/ and include/
#   sparse (make C=2) and W=1             against the 6.1 headers
#   W=1 for 32-bit x86                    against Debian 12's 686-pae headers
#   rustfmt --check and clippy on rust/  in the Rust chroot, if made
#   and every shell script through shellcheck (and tools/guest/kunit-tap.sh
#   against recorded KUnit results, tools/collect.sh against recorded
#   runs gone wrong, tools/bench-report.sh against recorded bench
#   results); and make install into a
#   staging folder ships every file it should, make install for real in a
#   private mount namespace (tools/install-test.sh), and dkms builds the
#   module.
# checkpatch comes from Debian's linux-source-6.1, unpacked once into the
# cache.  Exits non-zero on any finding.
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

"$SCULL_ROOT/tools/deps.sh" lint
cd "$SCULL_ROOT"
rc=0

src=$SCULL_CACHE/linux-source-6.1-scripts
if [ ! -x "$src/scripts/checkpatch.pl" ]; then
	log "unpacking checkpatch.pl from linux-source-6.1 (once)"
	mkdir -p "$src.tmp"
	tar -xf /usr/src/linux-source-6.1.tar.xz -C "$src.tmp" --strip-components=1 \
		linux-source-6.1/scripts/checkpatch.pl \
		linux-source-6.1/scripts/spelling.txt \
		linux-source-6.1/scripts/const_structs.checkpatch
	rm -rf "$src"
	mv "$src.tmp" "$src"
fi

log "checkpatch --strict"
for f in src/*.c include/*.h include/uapi/*.h; do
	# include/scull_compat.h exists to compare kernel versions: the one
	# file where LINUX_VERSION_CODE belongs in an out-of-tree module
	ignore=
	[ "$f" != include/scull_compat.h ] || ignore=--ignore=LINUX_VERSION_CODE
	# shellcheck disable=SC2086  # an optional argument
	if ! out=$("$src/scripts/checkpatch.pl" --strict --no-tree --quiet --show-types $ignore -f "$f"); then
		printf '%s\n' "$out"
		rc=1
	fi
done

log "sparse (C=2) and W=1"
# kernel.sh's failure must stop us: "eval $(...)" alone would ignore it
kinfo=$("$SCULL_ROOT/tools/kernel.sh" 6.1) || exit 1
eval "$kinfo"
export KVER KDIR KROOT
if ! SCULL_KBUILD_ARGS=C=2 "$SCULL_ROOT/tools/build-module.sh" "$SCULL_OUT/lint"; then
	rc=1
fi

# 32-bit x86 (Debian 12's 686-pae headers, in the i386 row's chroot): long is
# 32 bits there, so truncations and 64-bit divisions show up as warnings
# or modpost errors; W=1 fails on any of them.
log "W=1 for i386 (32-bit)"
if ! (kinfo=$("$SCULL_ROOT/tools/kernel.sh" i386) && eval "$kinfo" &&
	export KVER KDIR KROOT KCROSS &&
	"$SCULL_ROOT/tools/build-module.sh" "$SCULL_OUT/lint-i386"); then
	rc=1
fi

log "make install DESTDIR (what a package would ship)"
stage=$(mktemp -d)
make -s install DESTDIR="$stage" KERNELRELEASE="$KVER" KDIR="$KDIR" >"$stage.log" 2>&1 || {
	cat "$stage.log"
	rc=1
}
for f in "lib/modules/$KVER/updates/scull.ko" usr/lib/udev/rules.d/60-scull.rules \
	usr/local/sbin/scull_load usr/local/sbin/scull_unload usr/local/include/scull.h; do
	[ -f "$stage/$f" ] || {
		echo "make install did not install $f"
		rc=1
	}
done
# make uninstall removes every file make install put there, also when the
# kernel compresses its modules (Debian's 7.2: scull.ko.xz), forced here
# on 6.1's headers
for compress in "" CONFIG_MODULE_COMPRESS_XZ=y; do
	if [ -n "$compress" ]; then
		make -s install DESTDIR="$stage" KERNELRELEASE="$KVER" KDIR="$KDIR" "$compress" \
			>"$stage.log" 2>&1 || cat "$stage.log"
		[ -f "$stage/lib/modules/$KVER/updates/scull.ko.xz" ] || {
			echo "make install $compress did not install scull.ko.xz"
			rc=1
		}
	fi
	make -s uninstall DESTDIR="$stage" KERNELRELEASE="$KVER" >"$stage.log" 2>&1 || {
		cat "$stage.log"
		rc=1
	}
	left=$(find "$stage" ! -type d)
	[ -z "$left" ] || {
		echo "make uninstall${compress:+ (after an install with $compress)} left: $left"
		rc=1
	}
done
# and for real, as sudo make install runs, in a private mount namespace
log "make install and uninstall for real (a private mount namespace)"
if ! out=$(tools/install-test.sh "$KVER" "$KDIR"); then
	printf '%s\n' "$out"
	rc=1
fi
make -s clean KDIR="$KDIR" >/dev/null
left=$(find . \( -path ./build -o -path ./.git \) -prune -o \( -name '*.ko' -o -name '*.o' \
	-o -name '*.mod' -o -name '*.mod.c' -o -name '.*.cmd' -o -name Module.symvers \
	-o -name modules.order \) -print)
[ -z "$left" ] || {
	echo "make clean left: $(tr '\n' ' ' <<<"$left")"
	rc=1
}
rm -rf "$stage" "$stage.log"

log "dkms build (dkms.conf, and its version is the module's)"
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
grep -q "#define SCULL_VERSION[[:space:]]*\"$ver\"" src/main.c || {
	echo "dkms.conf says version $ver, src/main.c says otherwise"
	rc=1
}
dk=$(mktemp -d)
mkdir -p "$dk/src/scull-$ver" "$dk/tree"
cp -r Kbuild Makefile dkms.conf src include "$dk/src/scull-$ver/"
if ! dkms add -m scull -v "$ver" --sourcetree "$dk/src" --dkmstree "$dk/tree" >"$dk/log" 2>&1 ||
	! dkms build -m scull -v "$ver" -k "$KVER" --sourcetree "$dk/src" --dkmstree "$dk/tree" \
		>>"$dk/log" 2>&1 ||
	[ -z "$(find "$dk/tree" -name 'scull.ko*' -path "*/$KVER/*")" ]; then
	cat "$dk/log"
	echo "dkms did not build scull.ko for $KVER"
	rc=1
fi
rm -rf "$dk"

log "shellcheck"
if ! shellcheck scull_load scull_unload tools/*.sh tools/guest-init tools/guest/*.sh tests/*.sh .ci/run; then
	rc=1
fi

# the guest's reading of KUnit's results, which only make check-debug runs
log "kunit-tap.sh on recorded KUnit results"
if ! out=$(tools/kunit-tap-test.sh); then
	printf '%s\n' "$out"
	rc=1
fi

# the collector of every guest run: each of its failure paths, provoked
log "collect.sh on recorded runs gone wrong"
if ! out=$(tools/collect-test.sh); then
	printf '%s\n' "$out"
	rc=1
fi

# the bench's report, against recorded results
log "bench-report.sh on recorded bench results"
if ! out=$(tools/bench-report-test.sh 2>&1); then
	printf '%s\n' "$out"
	rc=1
fi

# the Rust twin: rustfmt and clippy, where its toolchain chroot exists
# (never made here: 12 to 16 minutes); without it rust/ is reported
# unchecked, never clean
log "rust/: rustfmt --check and clippy (CLIPPY=1)"
rust_skipped=
set +e
rust_out=$(tools/rust-lint.sh)
rust_rc=$?
set -e
[ -z "$rust_out" ] || printf '%s\n' "$rust_out"
case "$rust_rc" in
0) ;;
3) rust_skipped=${rust_out#rust: skipped: } ;;
*) rc=1 ;;
esac

if [ "$rc" -eq 0 ]; then
	if [ -n "$rust_skipped" ]; then
		log "lint: clean, except rust/, which was NOT checked: $rust_skipped"
	else
		log "lint: clean (rust/ included)"
	fi
fi
exit "$rc"
