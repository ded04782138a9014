# SPDX-License-Identifier: GPL-2.0
#
# scull: build the module for a kernel, install it, and run the test bench.
#
#   make                      scull.ko for the running kernel
#   make KERNELRELEASE=<ver>  ... for another installed kernel (or KDIR=<tree>)
#   sudo make install         modules_install + depmod + udev rule + scripts
#   make check                the whole suite inside a booted kernel (QEMU)
#   make check-all            ... on every kernel and architecture claimed
#                             (6.1, 6.12, 7.2 on x86_64; 6.1 on i386, arm64)
#   make check-debug          ... on a sanitizer kernel, with fault injection
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
# the rows of check-all, BOOTS= the boots of boot-loop.  See README.md.

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
BOOTS		?= 20
export KERNEL TESTS QUICK ICOUNT CHECK_ALL BOOTS

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean

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

uninstall:
	rm -f $(DESTDIR)$(UDEVDIR)/60-scull.rules
	rm -f $(DESTDIR)$(PREFIX)/sbin/scull_load $(DESTDIR)$(PREFIX)/sbin/scull_unload
	rm -f $(DESTDIR)$(PREFIX)/include/scull.h
	rm -f $(DESTDIR)/lib/modules/$(KERNELRELEASE)/updates/scull.ko
ifeq ($(DESTDIR),)
	depmod -a $(KERNELRELEASE)
endif

check:
	tools/vm.sh check

check-all:
	tools/check-all.sh

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

.PHONY: all modules clean distclean install uninstall check check-all check-debug boot-loop \
	boot-all vm-shell bench profile soak lint
