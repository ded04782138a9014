#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check-fresh`: README.md's first commands, as a newcomer types them,
# on a pristine Debian 12.  A root made with debootstrap --variant=minbase
# plus only what README asks a newcomer to have (git and make), the
# machine's own /proc, /sys and /dev mounted, its network and apt sources
# (a real machine has them), and nothing else of this host: none of its
# packages, none of its caches.  The repository is cloned into it with git,
# and each command of README's "Try it first" block that FRESH_RUN names
# runs there as root, in the clone, with an empty cache, exactly as README
# writes it.  A command README no longer shows fails the check.
#
#   tools/check-fresh.sh
#
# Prints every command's output as it runs, each command first as
# "check-fresh: $ make demo", and a last line "N passed, N failed[, N
# skipped]": make check's own count, plus one result for each other
# command.  A failure names the command and its exit status.
#
# FRESH_RUN: the commands to run, "|"-separated (default "make demo|make
# check"); the full bench (23 min) is left to make bench.  The pristine
# root's packages are cached for a day ($SCULL_CACHE/fresh); the root
# itself is made anew from them at every run, outside the tree (see
# below), and its log and the clone's origin are kept in $SCULL_OUT/fresh.
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

is_root || die_with_fix "make check-fresh makes a Debian root with debootstrap and chroots into it: that needs root" \
	"run it as root (sudo make check-fresh)"
"$SCULL_ROOT/tools/deps.sh" fresh

release=bookworm
pkgs="git,make"
run=${FRESH_RUN:-make demo|make check}

# README's "Try it first" block: its commands, without their comments
readme_cmds=$(awk '/^## Try it first/ { s = 1; next } s && /^```sh/ { b = 1; next }
	b && /^```/ { exit } b { sub(/[ \t]*#.*/, ""); print }' "$SCULL_ROOT/README.md")
cmds=()
IFS='|' read -ra wanted <<<"$run"
for c in "${wanted[@]}"; do
	grep -qxF -- "$c" <<<"$readme_cmds" ||
		die "README.md's \"Try it first\" block has no command '$c' (it has: ${readme_cmds//$'\n'/; })"
	cmds+=("$c")
done

# The pristine root's packages: debootstrap's tarball, made once a day.
cache=$SCULL_CACHE/fresh
tarball=$cache/$release-minbase-${pkgs//,/-}.tgz
if [ -z "$(find "$tarball" -mtime -1 2>/dev/null)" ]; then
	log "downloading a Debian 12 minbase with $pkgs (once a day)"
	scull_need_space "$cache" 600 "a Debian 12 minbase"
	mkdir -p "$cache"
	rm -rf "$cache/tmp"
	# shellcheck disable=SC2317  # run by scull_progress
	fresh_progress() { echo "$(scull_mb "$cache/tmp") MB"; }
	scull_progress "debootstrap --make-tarball" fresh_progress \
		debootstrap --variant=minbase --include="$pkgs" --make-tarball="$tarball.tmp" \
		"$release" "$cache/tmp" http://deb.debian.org/debian >"$cache/debootstrap.log" 2>&1 ||
		die "debootstrap --make-tarball failed: $(tail -n 5 "$cache/debootstrap.log")"
	mv "$tarball.tmp" "$tarball"
	rm -rf "$cache/tmp"
fi

top=$SCULL_OUT/fresh
# The root is not under the tree: kbuild's clean (make clean, which make
# lint runs beside CI's check-fresh) deletes every *.o, *.a and *.ko below
# M=, the tree, build/ included.  With the root in build/, it took the
# root's crt files and libgcc.a after make demo had installed them (make
# check could not link a test), and once dpkg's files as it unpacked.
root=${SCULL_FRESH_ROOT:-/var/tmp/scull-fresh-$(printf '%s' "$SCULL_OUT" | cksum | cut -d ' ' -f 1)}/root
mkdir -p "$top"
rm -rf --one-file-system "$top/root" # where an older check-fresh made it
# a root left mounted by a run that was killed is unmounted first
if [ -d "$root" ]; then
	grep -o " $root/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
	rm -rf --one-file-system "$root"
fi
mkdir -p "$root"
log "making a pristine Debian 12 root (minbase, $pkgs) in $root"
debootstrap --variant=minbase --include="$pkgs" --unpack-tarball="$tarball" \
	"$release" "$root" http://deb.debian.org/debian >"$top/debootstrap.log" 2>&1 ||
	die "debootstrap failed: $(tail -n 5 "$top/debootstrap.log")"
# What a real machine has besides its packages: a resolver, and apt's
# sources (Debian 12's security suite, where its current kernel is) and
# configuration as this machine has them.
cp /etc/resolv.conf "$root/etc/resolv.conf"
if [ -d /etc/apt/sources.list.d ]; then
	rm -f "$root/etc/apt/sources.list"
	cp /etc/apt/sources.list "$root/etc/apt/" 2>/dev/null || true
	find /etc/apt/sources.list.d -maxdepth 1 -name '*.sources' -exec cp {} "$root/etc/apt/sources.list.d/" \;
	find /etc/apt/sources.list.d -maxdepth 1 -name '*.list' -exec cp {} "$root/etc/apt/sources.list.d/" \;
fi
cp -r /etc/apt/apt.conf.d/. "$root/etc/apt/apt.conf.d/"
rm -rf "$root/var/cache/apt/archives"/*.deb "$root/root/.cache"

commit=$(git -C "$SCULL_ROOT" rev-parse --short HEAD)
log "the clone: $SCULL_ROOT at $commit (what is committed, nothing else)"
[ -z "$(git -C "$SCULL_ROOT" status --porcelain --untracked-files=no)" ] ||
	log "note: $SCULL_ROOT has uncommitted changes, which the clone does not have"
# What the newcomer clones from: a self-contained copy of the repository
# (a git worktree's .git points outside it), at this checkout's HEAD.
rm -rf "$top/origin.git"
git clone -q --bare --no-local "$SCULL_ROOT" "$top/origin.git"

# One guest at a time on this machine: the root's runs take this
# machine's guest lock, as every guest here does.  Its file and queue are
# bound into the root's /run, and SCULL_GUEST_LOCK names them there, so
# check-fresh can run beside other runs (CI runs it beside check-all) and
# only its guests wait, never its downloads and builds.  A lock is no
# cache: nothing of the host's packages or caches goes in.
lock=${SCULL_GUEST_LOCK:-$SCULL_CACHE/guest.lock}
mkdir -p "$lock.queue"
touch "$lock"

# inside CMD: run CMD (a shell line) in the root as a newcomer's root
# login shell would, in a mount namespace of its own with the machine's
# /proc, /sys and /dev; the repository is reachable at /mnt/origin only for
# the clone.  The root is a mount of its own, as / is on a machine (the
# tests' own unshare -m needs / to be one).
inside() {
	# shellcheck disable=SC2016  # expanded by the inner shell
	unshare --mount --propagation private sh -c '
		root=$1 origin=$2 lock=$3
		shift 3
		mount --bind "$root" "$root" &&
		mount -t proc proc "$root/proc" &&
		mount -t sysfs sysfs "$root/sys" &&
		mount --rbind /dev "$root/dev" &&
		mount -t tmpfs tmpfs "$root/tmp" &&
		mount -t tmpfs tmpfs "$root/run" &&
		mkdir -p "$root/run/scull-guest/guest.lock.queue" &&
		touch "$root/run/scull-guest/guest.lock" &&
		mount --bind "$lock" "$root/run/scull-guest/guest.lock" &&
		mount --bind "$lock.queue" "$root/run/scull-guest/guest.lock.queue" &&
		mkdir -p "$root/mnt/origin" &&
		mount --bind -o ro "$origin" "$root/mnt/origin" &&
		exec chroot "$root" /usr/bin/env -i HOME=/root USER=root LOGNAME=root \
			SHELL=/bin/bash TERM=dumb LANG=C.UTF-8 \
			SCULL_GUEST_LOCK=/run/scull-guest/guest.lock \
			PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			/bin/bash -c "$1"
	' sh "$root" "$top/origin.git" "$lock" "$1"
}

# A machine's package lists are current when its user first logs in (a
# cloud image refreshes them at first boot, an installer at the end):
# debootstrap's hold only the main suite, as it was when the tarball was
# made, and would give an older 6.1 than the security suite's.
inside 'apt-get update -q >/dev/null' || die "apt-get update in the pristine root failed"

inside 'git clone -q /mnt/origin /root/scull && git -C /root/scull log -1 --format="%h %s"' ||
	die "git clone of the repository in the pristine root failed"

pass=0 fail=0 skip=0
for c in "${cmds[@]}"; do
	echo "check-fresh: \$ $c    (as root in /root/scull, a fresh Debian 12)"
	start=$(date +%s)
	set +e
	inside "cd /root/scull && $c" 2>&1 | tee "$top/log"
	rc=${PIPESTATUS[0]}
	set -e
	t=$(($(date +%s) - start))
	count=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$top/log" | tail -n 1 || true)
	if [ "$c" = "make check" ] && [ -n "$count" ]; then
		read -r p _ f _ s _ <<<"${count//,/}"
		pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + ${s:-0}))
		[ "$rc" -eq 0 ] || [ "$f" -gt 0 ] || fail=$((fail + 1))
	elif [ "$rc" -eq 0 ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
	fi
	if [ "$rc" -eq 0 ]; then
		echo "check-fresh: '$c' passed in $t s"
	else
		echo "check-fresh: FAILED at '$c' (exit $rc after $t s); its last lines:"
		tail -n 15 "$top/log" | sed 's/^/check-fresh:   /'
		break
	fi
done
rm -rf "$top/log" "$top/origin.git"
skipped=
[ "$skip" -eq 0 ] || skipped=", $skip skipped"
echo "$pass passed, $fail failed$skipped"
[ "$fail" -eq 0 ]
