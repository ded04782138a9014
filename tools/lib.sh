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
#   release: the Debian suite whose cloud kernel and headers are used
#   host:    "yes" when the host (Debian 12) builds against it directly;
#            otherwise modules build in a chroot of that release
#   cc:      the compiler its headers need
# (KERNEL=debug is not a Debian image: tools/kernel.sh hands it to
# tools/debug-kernel.sh, which builds it from linux-source-6.1.)
scull_kernel_table() {
	case "$1" in
	6.1 | bookworm) echo "bookworm yes gcc-12" ;;
	6.12 | trixie) echo "trixie no gcc-14" ;;
	7.2 | sid | unstable) echo "sid no gcc-16" ;;
	*) return 1 ;;
	esac
}

# Run apt-get / apt-cache for a release: the host's own lists for bookworm,
# a private set of lists under the cache for any other release, so the
# host's apt configuration is never touched.
scull_apt() {
	local release=$1 tool=$2
	shift 2
	if [ "$release" = bookworm ]; then
		"$tool" "$@"
		return
	fi
	local dir=$SCULL_CACHE/apt/$release
	mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
	if [ ! -f "$dir/sources.list" ]; then
		echo "deb http://deb.debian.org/debian $release main" >"$dir/sources.list"
	fi
	# root owns the private lists, so apt's _apt sandbox cannot write them
	"$tool" -o APT::Sandbox::User=root \
		-o Dir::Etc::sourcelist="$dir/sources.list" \
		-o Dir::Etc::sourceparts=/nonexistent \
		-o Dir::State::Lists="$dir/lists" \
		-o Dir::Cache="$dir/cache" "$@"
}

is_root() { [ "$(id -u)" -eq 0 ]; }
