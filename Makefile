# SPDX-License-Identifier: GPL-2.0
#
# scull: build the module for a kernel, install it, and run the test bench.
#
#   make help                 every target, one line each, with its time
#   make                      scull.ko for the running kernel
#   make rust                 scull_rs.ko, the Rust twin of the memory devices
#                             for Debian's 7.2 kernel
#   make KERNELRELEASE=<ver>  ... for another installed kernel (or KDIR=<tree>)
#   sudo make install         modules_install + depmod + udev rule + scripts
#   make demo                 a one-minute session with scull in QEMU
#   make check                the whole suite inside a booted kernel (QEMU)
#   make check-all            ... on every kernel and architecture claimed
#                             (6.1, 6.12, 7.2 on x86_64; 6.1 on i386, arm64)
#   make check-debug          ... on a sanitizer kernel, with fault injection
#   make check-fresh          make demo and make check as README gives them,
#                             in a pristine Debian 12 root (debootstrap)
#   make bench                scull against the kernel's memory devices: a
#                             timed boot and a deterministic (icount) one
#   make profile              where scull's 4K reads and writes spend their
#                             instructions (perf in an icount guest)
#   make vm-shell             a root shell in the test guest, scull loaded
#   make lint                 checkpatch --strict, sparse, W=1, shellcheck
#
# Bench knobs: KERNEL=6.1 (default; 6.12, 7.2, i386, arm64) picks the guest
# kernel, TESTS= a subset of the suite, QUICK=1 a short bench, ICOUNT=1
# the bench's deterministic pass alone (ICOUNT=0 its timed pass), CHECK_ALL=
# the rows of check-all (CHECK_QUICK= those of them that leave out the
# long tests), BOOTS= the boots of boot-loop.  See README.md.

KERNELRELEASE	?= $(shell uname -r)
KDIR		?= /lib/modules/$(KERNELRELEASE)/build
PREFIX		?= /usr/local
UDEVDIR		?= /usr/lib/udev/rules.d
DESTDIR		?=

KERNEL		?= 6.1
TESTS		?=
QUICK		?=
ICOUNT		?=
CHECK_ALL	?=
CHECK_QUICK	?=
BOOTS		?= 20
export KERNEL TESTS QUICK ICOUNT CHECK_ALL CHECK_QUICK BOOTS

# Without the kernel's headers kbuild stops deep inside with "No such file
# or directory"; say instead what is missing and how to get it (Debian's
# package when it has one).  Expanded only by the recipes that need a
# kernel tree.
ifeq ($(origin KDIR),file)
kdir_pkg = $(shell apt-cache show linux-headers-$(KERNELRELEASE) >/dev/null 2>&1 && echo yes)
kdir_hint = no headers for $(if $(filter $(shell uname -r),$(KERNELRELEASE)),the running kernel,kernel) \
	$(KERNELRELEASE) ($(KDIR) is missing): \
	$(if $(kdir_pkg),install them with sudo apt-get install linux-headers-$(KERNELRELEASE), \
	Debian has no linux-headers-$(KERNELRELEASE) (not a Debian kernel?): give its tree with KDIR=<dir>); \
	make check and make demo need none (they build for the kernel they boot in QEMU)
else
kdir_hint = KDIR=$(KDIR) is not a kernel tree (it has no Makefile): give the headers or \
	source tree of the kernel to build for
endif
need_kdir = $(if $(wildcard $(KDIR)/Makefile),,$(error $(strip $(kdir_hint))))

# install and uninstall write to /lib/modules and /usr: without root they
# would stop half-way on "Permission denied", so say it before anything runs.
root_goals := $(filter install uninstall,$(MAKECMDGOALS))
ifneq ($(root_goals),)
ifeq ($(DESTDIR),)
ifneq ($(shell id -u),0)
$(error make $(root_goals) writes to /lib/modules and /usr: run it as root \
	(sudo make $(root_goals)), or stage the files with DESTDIR=<dir>)
endif
endif
endif

all: modules

modules:
	$(need_kdir)$(MAKE) -C $(KDIR) M=$(CURDIR) modules

# The Rust twin (rust/) for Debian's 7.2 kernel, built in a chroot with the
# rustc that kernel was built with and a prepared linux-source tree
# (tools/rust.sh makes both once, as root); leaves ./scull_rs.ko beside
# scull_load.  Plain make never needs Rust.
rust:
	tools/build-rust.sh $(CURDIR)/build/rust 7.2
	cp build/rust/scull_rs.ko scull_rs.ko

# Without headers there is nothing kbuild could have built here but what
# an earlier build left: remove that by name.  kbuild's clean deletes every
# *.o, *.a, *.ko and .*.cmd below this tree, build/ included: nothing that
# must outlive a make clean lives there (check-fresh's root does not).
clean:
ifneq ($(wildcard $(KDIR)/Makefile),)
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
else
	rm -f scull_rs.ko scull.ko scull.o scull.mod scull.mod.c scull.mod.o Module.symvers modules.order \
		.*.cmd src/*.o src/.*.cmd
endif

# build/ holds the bench's kernels' builds, guest logs and bench results
distclean: clean
	rm -rf build

# The module goes to /lib/modules/<version>/updates/ on every kernel.  The
# group exists before the rule is installed: udevd resolves group names
# when it reads its rules.  With DESTDIR (packaging) depmod, the group and
# the udev reload are left to the package's scripts.
install: modules
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_PATH=$(DESTDIR) \
		INSTALL_MOD_DIR=updates modules_install
ifeq ($(DESTDIR),)
	depmod -a $(KERNELRELEASE)
	getent group scull >/dev/null || groupadd --system scull
endif
	install -D -m 0644 udev/60-scull.rules $(DESTDIR)$(UDEVDIR)/60-scull.rules
	install -D -m 0755 scull_load $(DESTDIR)$(PREFIX)/sbin/scull_load
	install -D -m 0755 scull_unload $(DESTDIR)$(PREFIX)/sbin/scull_unload
	install -D -m 0644 include/uapi/scull.h $(DESTDIR)$(PREFIX)/include/scull.h
ifeq ($(DESTDIR),)
	-udevadm control --reload
endif

# modules_install compresses the module when the kernel's configuration
# says so (CONFIG_MODULE_COMPRESS_*: Debian's 7.2 installs scull.ko.xz)
installed_ko = $(DESTDIR)/lib/modules/$(KERNELRELEASE)/updates/scull.ko
uninstall:
	rm -f $(DESTDIR)$(UDEVDIR)/60-scull.rules
	rm -f $(DESTDIR)$(PREFIX)/sbin/scull_load $(DESTDIR)$(PREFIX)/sbin/scull_unload
	rm -f $(DESTDIR)$(PREFIX)/include/scull.h
	rm -f $(installed_ko) $(installed_ko).gz $(installed_ko).xz $(installed_ko).zst
ifeq ($(DESTDIR),)
	depmod -a $(KERNELRELEASE)
endif

check:
	tools/vm.sh check

demo:
	tools/vm.sh demo

check-all:
	tools/check-all.sh

# README's first commands (make demo, make check) as a newcomer types them,
# in a pristine Debian 12 root made with debootstrap, with an empty cache
check-fresh:
	tools/check-fresh.sh

# boot, load and unload scull, power off: BOOTS times in a row on KERNEL,
# or on every kernel of check-all
boot-loop:
	tools/vm.sh boot

boot-all:
	tools/check-all.sh --boot

# the suite on a KASAN/lockdep/kmemleak/fault-injection kernel built from
# Debian's 6.1 source (tools/debug-kernel.sh, cached)
check-debug:
	KERNEL=debug tools/vm.sh check

vm-shell:
	tools/vm.sh shell

bench:
	tools/vm.sh bench

profile:
	tools/vm.sh profile

soak:
	tools/vm.sh soak

lint:
	tools/lint.sh

# Every target, one line each, with its time on the project's machine (2
# cores, QEMU under TCG, no KVM); "warm" is with the cache already filled.
help:
	@echo 'Try it and test it in QEMU: no kernel headers, no module loaded on this machine.'
	@echo 'Debian 12; as root they install what they lack with apt-get.  Times: 2 cores, TCG.'
	@echo '  make demo            a real session with scull in a booted guest     under 1 min'
	@echo '  make check           the whole test suite, TAP                       about 6 min warm'
	@echo '  make vm-shell        a root shell in the test guest, scull loaded    15 s to a prompt'
	@echo '  make bench QUICK=1   the fio benchmark, short: checks its machinery  under 3 min'
	@echo '  make bench           fio: scull against tmpfs, brd, /dev/zero        about 23 min'
	@echo '  make bench ICOUNT=1  the same counted in instructions (deterministic) about 3 min'
	@echo '  make profile         where scull'"'"'s 4K reads and writes spend time     under 1 min'
	@echo '  make soak            long randomized runs against a model, stress    about 45 min'
	@echo '  make check-debug     the suite on a sanitizer kernel (KASAN...)      about 40 min (+12 to build its kernel once)'
	@echo '  make check-debug FULL=1   ... with its long tests too                   hours'
	@echo '  make check-all       the suite on 6.1, 6.12, 7.2, i386, arm64        about 35 min warm'
	@echo '  make check-fresh     README'"'"'s make demo, make check on a pristine Debian 12  about 15 min'
	@echo '  make boot-loop       boot, load, unload, power off: BOOTS=20 times   about 2.5 min'
	@echo '  make boot-all        boot-loop on every kernel of check-all          about 15 min'
	@echo '  make lint            checkpatch, sparse, W=1, shellcheck, install    3.5 min warm'
	@echo '  options: KERNEL=6.1|6.12|7.2|i386|arm64 the guest kernel, TESTS=<patterns> a subset'
	@echo "Build and use it on this machine (needs the running kernel's headers):"
	@echo '  make                 scull.ko for the running kernel                 5 s'
	@echo '  make KERNELRELEASE=<version> or KDIR=<tree>: for another kernel'
	@echo '  make rust            scull_rs.ko, the Rust twin, for 7.2             10 s (+15-45 min once)'
	@echo '  sudo ./scull_load    load it: /dev/scull0..3, group scull, mode 0660'
	@echo '  sudo ./scull_unload  unload it'
	@echo '  sudo make install    module, udev rule, scull_load and scull_unload'
	@echo '  sudo make uninstall  remove what make install installed'
	@echo '  make clean           remove what kbuild built'
	@echo '  make distclean       that, and build/ (bench builds, logs, results)'
	@echo '  make help            this list'

.PHONY: all modules rust clean distclean install uninstall check demo check-all check-debug check-fresh \
	boot-loop boot-all vm-shell bench profile soak lint help
