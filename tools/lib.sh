# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# Shared by the tools/ scripts: paths, logging, and the kernel table.
# Source it; it defines functions and variables and runs nothing.

SCULL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Heavy things (kernel packages, chroots, the initramfs base) live outside
# git, keyed by version; per-run output goes to build/ (ignored by git).
SCULL_CACHE=${SCULL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/scull}
SCULL_OUT=${SCULL_OUT:-$SCULL_ROOT/build}

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The kernels the bench can boot, by the name KERNEL= takes:
#   release: the Debian suite whose kernel and headers are used
#   arch:    the Debian architecture of that kernel (and of the guest's
#            user space)
#   flavour: the kernel metapackage is linux-image-<flavour>
#   build:   how the module builds: "host" against headers installed on
#            the host (Debian 12); "chroot" in a debootstrap chroot of that
#            release (a newer compiler); "cross" in an amd64 chroot of the
#            release, against the other architecture's headers and the
#            amd64 kbuild tools (Debian ships linux-kbuild for the build
#            machine's architecture for exactly that): a cross compiler for
#            arm64, the amd64 gcc with -m32 for i386.  Nothing of another
#            architecture runs on the host: many x86_64 hosts run no 32-bit
#            programs at all (no IA32 emulation), and none runs arm64 ones.
#   cc:      the compiler its headers need
# (KERNEL=debug is not a Debian image: tools/kernel.sh hands it to
# tools/debug-kernel.sh, which builds it from linux-source-6.1.)
scull_kernel_table() {
	case "$1" in
	6.1 | bookworm) echo "bookworm amd64 cloud-amd64 host gcc-12" ;;
	6.12 | trixie) echo "trixie amd64 cloud-amd64 chroot gcc-14" ;;
	7.2 | sid | unstable) echo "sid amd64 cloud-amd64 chroot gcc-16" ;;
	i386 | 6.1-i386) echo "bookworm i386 686-pae cross gcc-12" ;;
	arm64 | 6.1-arm64) echo "bookworm arm64 cloud-arm64 cross gcc-12" ;;
	*) return 1 ;;
	esac
}

# The rows of `make check-all`, in the order they run.
# shellcheck disable=SC2034  # used by the scripts that source this file
SCULL_ALL_KERNELS="6.1 6.12 7.2 i386 arm64"

# Per Debian architecture: the GNU triplet, the kernel's ARCH=, the QEMU
# system emulator, and the cross compiler prefix used on this (amd64) host.
scull_arch_table() {
	case "$1" in
	amd64) echo "x86_64-linux-gnu x86 qemu-system-x86_64 -" ;;
	i386) echo "i386-linux-gnu x86 qemu-system-i386 -" ;;
	arm64) echo "aarch64-linux-gnu arm64 qemu-system-aarch64 aarch64-linux-gnu-" ;;
	*) return 1 ;;
	esac
}

# Run apt-get / apt-cache for a release, optionally of another
# architecture ("bookworm:i386"): the host's own lists for bookworm on the
# host's architecture, a private set of lists under the cache for anything
# else, so the host's apt configuration is never touched.  A foreign
# architecture's lists also carry amd64 (the host's kbuild tools for a
# cross build) and, for bookworm, its updates and security suites, as the
# host's do, so every row boots the same 6.1 release.
scull_apt() {
	local spec=$1 tool=$2 release arch
	shift 2
	release=${spec%%:*}
	arch=${spec#"$release"}
	arch=${arch#:}
	if [ "$release" = bookworm ] && { [ -z "$arch" ] || [ "$arch" = amd64 ]; }; then
		"$tool" "$@"
		return
	fi
	local dir=$SCULL_CACHE/apt/$release${arch:+-$arch}
	local archopts=()
	mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
	if [ ! -f "$dir/sources.list" ]; then
		{
			echo "deb http://deb.debian.org/debian $release main"
			if [ "$release" = bookworm ]; then
				echo "deb http://deb.debian.org/debian $release-updates main"
				echo "deb http://deb.debian.org/debian-security $release-security main"
			fi
		} >"$dir/sources.list"
	fi
	if [ -n "$arch" ]; then
		archopts=(-o APT::Architecture="$arch" -o APT::Architectures::="$arch"
			-o APT::Architectures::=amd64 -o Dir::State::status=/dev/null)
	fi
	# root owns the private lists, so apt's _apt sandbox cannot write them
	"$tool" -o APT::Sandbox::User=root \
		-o Dir::Etc::sourcelist="$dir/sources.list" \
		-o Dir::Etc::sourceparts=/nonexistent \
		-o Dir::State::Lists="$dir/lists" \
		-o Dir::Cache="$dir/cache" "${archopts[@]}" "$@"
}

# Refresh a private set of package lists (scull_apt SPEC) once a day.  A
# mirror caught mid-sync can fail one index (seen: bookworm-security's
# i386 Packages.xz of the wrong size); the other lists still name a
# consistent set, so that is a warning, not an error, once lists exist.
scull_apt_update() {
	local spec=$1 release=${1%%:*} arch dir
	arch=${spec#"$release"}
	arch=${arch#:}
	if [ "$release" = bookworm ] && { [ -z "$arch" ] || [ "$arch" = amd64 ]; }; then
		return 0
	fi
	dir=$SCULL_CACHE/apt/$release${arch:+-$arch}
	[ -z "$(find "$dir/lists/updated" -mtime -1 2>/dev/null)" ] || return 0
	mkdir -p "$dir/lists"
	log "updating the $spec package lists"
	# shellcheck disable=SC2317  # run by scull_progress
	lists_progress() { echo "$(scull_mb "$dir/lists") MB of lists so far"; }
	# shellcheck disable=SC2317  # run by scull_progress
	update_lists() { scull_apt "$spec" apt-get update -q >"$dir.update.log" 2>&1; }
	if ! scull_progress "updating the $spec package lists" lists_progress update_lists; then
		ls "$dir"/lists/*_Packages* >/dev/null 2>&1 ||
			die "apt-get update for $spec failed: $(cat "$dir.update.log")"
		log "warning: some $spec package lists failed to update:"
		grep -E '^(E|W):' "$dir.update.log" | head -n 3 >&2
	fi
	touch "$dir/lists/updated"
}

is_root() { [ "$(id -u)" -eq 0 ]; }

# scull_in_chroot ROOT CMD...: run CMD inside the chroot ROOT (root only),
# in a mount namespace of its own with /proc mounted (objtool reads it)
# and /dev bound (apt and the Rust toolchain want /dev/null); nothing stays
# mounted after it.  The module builds (tools/build-module.sh,
# tools/build-rust.sh) and the Rust toolchain (tools/rust.sh) run so.
scull_in_chroot() {
	# shellcheck disable=SC2016  # expanded by the inner shell
	unshare --mount sh -c 'mount -t proc proc "$1/proc" && mount --bind /dev "$1/dev" && shift && exec chroot "$@"' \
		sh "$1" "$@"
}

# scull_guest_lock: take the machine's guest lock on fd 8, first come,
# first served (one guest at a time: guests share two cores and distort
# each other's timings).  A waiter holds a ticket -- a file it keeps locked
# while it lives -- in the lock's queue folder, and takes the lock once its
# ticket is the oldest live one.  flock alone wakes waiters in no order,
# and a runner that takes the lock again at once starves the others.
# SCULL_GUEST_LOCK names the lock when SCULL_CACHE is elsewhere (a cold
# cache measured beside the usual one).
scull_guest_lock() {
	local lock=${SCULL_GUEST_LOCK:-$SCULL_CACHE/guest.lock}
	local queue=$lock.queue ticket f said=
	mkdir -p "$queue"
	# locked before it is visible, so no waiter takes it for a dead one
	ticket=$queue/$(date +%s%N)-$$
	exec 7>"$ticket.new"
	flock 7
	mv "$ticket.new" "$ticket"
	while :; do
		for f in "$queue"/*; do
			case "$f" in *.new) continue ;; esac
			[ "$f" != "$ticket" ] || break 2
			# a ticket nobody holds is left from a run that died
			if flock -n "$f" true 2>/dev/null; then
				rm -f "$f"
				continue
			fi
			break
		done
		[ -n "$said" ] || log "another guest is running or waiting: queued"
		said=1
		sleep 1
	done
	exec 8>"$lock"
	# the guest running now holds it (a runner that predates the queue
	# may too): say so rather than wait in silence
	if ! flock -n 8; then
		[ -n "$said" ] || log "another guest is running: waiting for it"
		flock 8
	fi
	rm -f "$ticket"
	exec 7>&-
}

# Non-root users often lack the sbin directories (depmod, modprobe).
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH=$PATH:/usr/sbin:/sbin ;; esac

# die_with_fix REASON FIX: stop on something a newcomer can hit, with its
# cure: one line for what is wrong, one for what to do.
die_with_fix() {
	printf 'error: %s\n  fix: %s\n' "$1" "$2" >&2
	exit 1
}

# scull_need_space DIR MB WHAT: fail before a big download or build when
# the file system that holds DIR (or would) has less than MB megabytes free.
scull_need_space() {
	local dir=$1 need=$2 what=$3 d=$1 free
	while [ ! -d "$d" ]; do d=$(dirname "$d"); done
	free=$(df -Pm "$d" | awk 'NR == 2 { print $4 }')
	[ "$free" -ge "$need" ] ||
		die_with_fix "no space for $what: it needs about $need MB under $dir, and $free MB are free there" \
			"free some space, or put the cache on a disk with room: SCULL_CACHE=/path/with/room make ..."
}

# scull_mb DIR: the megabytes DIR holds so far (0 when it does not exist)
scull_mb() { { du -sm "$1" 2>/dev/null || true; } | awk '{ print $1 } END { if (!NR) print 0 }'; }

# scull_progress WHAT MEASURE CMD...: run CMD (a download, an unpack, a
# chroot build) and, while it runs, print "WHAT: 1m20s, <MEASURE>" on
# stderr every SCULL_PROGRESS_SECONDS (20), so that no long step is
# silent.  MEASURE is a command (usually a function of the caller) run each
# time, whose output says how far along CMD is, e.g. "140 of about 750 MB";
# empty for none.  Returns CMD's exit status.
scull_progress() {
	local what=$1 measure=$2 every=${SCULL_PROGRESS_SECONDS:-20} ticker rc=0
	shift 2
	(
		start=$SECONDS
		# the sleep holds no pipe of ours; the ticker ends with its script
		while sleep "$every" >/dev/null 2>&1 && kill -0 "$$" 2>/dev/null; do
			t=$((SECONDS - start))
			log "$what: $((t / 60))m$((t % 60))s${measure:+, $(eval "$measure")}"
		done
	) &
	ticker=$!
	"$@" || rc=$?
	kill "$ticker" 2>/dev/null || true
	wait "$ticker" 2>/dev/null || true
	return "$rc"
}
