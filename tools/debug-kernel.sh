#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the sanitizer kernel of `make check-debug` from Debian's
# linux-source-6.1 (the source of the default test kernel): tinyconfig plus
# tools/debug-kernel.config (KASAN, lockdep, kmemleak, UBSAN, KFENCE,
# debug-objects, fault injection, KUnit and what the guest needs).
#
#   tools/debug-kernel.sh
#
# The tree, its bzImage and its modules_install stay under
# $SCULL_CACHE/debug-kernel/<source version>-<hash>/, the hash covering the
# fragment and this script; a second run prints the same and builds
# nothing.  Fails, naming each one, when `make olddefconfig` dropped or
# changed an option the fragment asks for.
#
# Prints shell assignments on stdout, as tools/kernel.sh does:
#   KVER    the kernel release
#   KIMAGE  its bzImage
#   KMODS   its modules, installed (modules.builtin, modules.dep, brd...)
#   KDIR    the built tree: out-of-tree modules build against it
#   KROOT   empty: the host builds against it
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

fragment=$SCULL_ROOT/tools/debug-kernel.config
tarball=/usr/src/linux-source-6.1.tar.xz
# seconds between progress lines during the long steps
tick=20

"$SCULL_ROOT/tools/deps.sh" debug-kernel >&2
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
key=$(cat "$fragment" "$0" | sha256sum | cut -c1-12)
top=$SCULL_CACHE/debug-kernel
dir=$top/$srcver-$key
tree=$dir/linux-source-6.1

emit() {
	local kver
	kver=$(cat "$dir/kernelrelease")
	printf 'KVER=%q\nKIMAGE=%q\nKMODS=%q\nKDIR=%q\nKROOT=\n' \
		"$kver" "$dir/bzImage" "$dir/lib/modules/$kver" "$tree"
}

if [ -f "$dir/done" ]; then
	emit
	exit 0
fi

# One build at a time: a second run waits, then finds it done.
mkdir -p "$top"
exec 9>"$top/build.lock"
if ! flock -n 9; then
	log "another run is building the debug kernel: waiting for it"
	flock 9
fi
if [ -f "$dir/done" ]; then
	emit
	exit 0
fi

# progress WHAT STATUS-COMMAND -- COMMAND...: run COMMAND with its output in
# $dir/build.log, printing "WHAT: <status>" every $tick seconds meanwhile.
progress() {
	local what=$1 status=$2 start=$SECONDS next=$((SECONDS + tick)) pid rc
	shift 3
	"$@" >>"$dir/build.log" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		sleep 1
		if [ "$SECONDS" -ge "$next" ] && kill -0 "$pid" 2>/dev/null; then
			log "$what: $($status), $((SECONDS - start)) s"
			next=$((next + tick))
		fi
	done
	set +e
	wait "$pid"
	rc=$?
	set -e
	if [ "$rc" -ne 0 ]; then
		tail -n 40 "$dir/build.log" >&2
		die "$what failed (log: $dir/build.log)"
	fi
}

files_unpacked() { echo "$(find "$dir" -type f | wc -l) files unpacked"; }
# the object count of the last build, for scale
last_objects=$(cat "$top/objects" 2>/dev/null || echo "?")
objects_built() {
	echo "$(find "$tree" -name '*.o' -newer "$dir/build.start" | wc -l) objects built (last build: $last_objects)"
}

# tinyconfig, the fragment merged on top, then olddefconfig fills in the
# rest; an option whose dependencies are missing is dropped silently, so
# every line of the fragment is checked against the result.
configure() {
	rm -rf "$dir"
	mkdir -p "$dir"
	: >"$dir/build.log"
	progress "unpacking $tarball" files_unpacked -- \
		tar -xf "$tarball" -C "$dir" --no-same-owner
	log "configuring: tinyconfig + $(basename "$fragment")"
	(
		cd "$tree"
		make tinyconfig
		scripts/kconfig/merge_config.sh -m .config "$fragment"
		make olddefconfig
	) >>"$dir/build.log" 2>&1 || die "configuring failed (log: $dir/build.log)"
	config_check
	touch "$dir/configured"
}

# Every line of the fragment must be in .config as written.
config_check() {
	local line opt got bad=0

	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*)
			opt=${line%%=*}
			grep -qxF -- "$line" "$tree/.config" && continue
			;;
		"# CONFIG_"*" is not set")
			opt=${line#\# }
			opt=${opt%% *}
			grep -q "^$opt=" "$tree/.config" || continue
			;;
		*) continue ;;
		esac
		got=$(grep -E "^($opt=|# $opt is not set)" "$tree/.config" ||
			echo "absent (dependencies not met)")
		printf 'error: olddefconfig changed %s: asked "%s", got "%s"\n' \
			"$opt" "$line" "$got" >&2
		bad=1
	done <"$fragment"
	[ "$bad" -eq 0 ] || die "the debug kernel's config lost options of $fragment (see above)"
}

start=$SECONDS resumed=
if [ -f "$dir/configured" ]; then
	# an interrupted build goes on where it stopped
	log "resuming the interrupted build of the debug kernel in $dir"
	resumed=" (resumed)"
else
	log "building the debug kernel: linux-source-6.1 $srcver, fragment $key (cached afterwards)"
	configure
fi

touch "$dir/build.start"
progress "building bzImage and modules (make -j$(nproc))" objects_built -- \
	make -C "$tree" -j"$(nproc)" bzImage modules
[ -n "$resumed" ] || find "$tree" -name '*.o' -newer "$dir/build.start" | wc -l >"$top/objects"
make -s -C "$tree" kernelrelease >"$dir/kernelrelease"
kver=$(cat "$dir/kernelrelease")
cp "$tree/arch/x86/boot/bzImage" "$dir/bzImage"
# modules.builtin, modules.order, modules.dep and the modules themselves,
# where tools/initramfs.sh and modprobe -d look for them
make -C "$tree" INSTALL_MOD_PATH="$dir" modules_install >>"$dir/build.log" 2>&1 ||
	die "modules_install failed (log: $dir/build.log)"
rm -f "$dir/lib/modules/$kver/build" "$dir/lib/modules/$kver/source"
touch "$dir/done"

# older builds (another fragment or source version) go
for old in "$top"/*/; do
	[ "${old%/}" = "$dir" ] || rm -rf "${old%/}"
done
elapsed=$((SECONDS - start))
log "debug kernel $kver built in $((elapsed / 60)) min $((elapsed % 60)) s$resumed ($dir)"
emit
