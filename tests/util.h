/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the scull guest tests: device paths, exact-size I/O,
 * byte patterns, users, commands, sysfs and the kernel log.
 */
#ifndef SCULL_TEST_UTIL_H
#define SCULL_TEST_UTIL_H

#include <stdint.h>
#include <sys/types.h>

#include "harness.h"

/* The guest layout (tools/initramfs.sh) and the module's defaults. */
#define SCULL_DIR		"/opt/scull"
#define SCULL_NR_DEVS		4
#define SCULL_QUANTUM		4096
#define SCULL_QSET		512
#define SCULL_LIMIT		(256LL << 20)
#define SCULL_GROUP		"scull"
#define SCULL_MODE		0660

/* Test users: one in the scull group, one outside it. */
#define USER_IN_UID		1000
#define USER_OUT_UID		1001

const char *dev_path(int minor);
int dev_open(int minor, int flags);
/* Empty every device and restore its load-time geometry. */
void dev_reset_all(void);
long long dev_size(int minor);

/* Deterministic bytes: the byte at absolute offset off for seed. */
unsigned char pattern_byte(uint64_t off, uint32_t seed);
void pattern_fill(void *buf, size_t len, uint64_t off, uint32_t seed);
/* Check len bytes read from offset off; fails naming the first bad byte. */
void pattern_check(const void *buf, size_t len, uint64_t off, uint32_t seed);

/* I/O that must move exactly len bytes in one call. */
void write_exact(int fd, const void *buf, size_t len);
void read_exact(int fd, void *buf, size_t len);
void pwrite_exact(int fd, const void *buf, size_t len, off_t off);
void pread_exact(int fd, void *buf, size_t len, off_t off);

void *xmalloc(size_t len);

/*
 * A workload size scaled by SCULL_TEST_SCALE percent (default 100; the
 * sanitizer kernel of make check-debug runs smaller ones), at least 1.
 */
long scaled(long n);

/* sysfs / procfs values. */
long long read_ll(const char *path);
/* Read a whole small file into buf (NUL-terminated); returns its length. */
ssize_t read_text(const char *path, char *buf, size_t size);
long long sysfs_attr(int minor, const char *attr);

/* Become a test user: USER_IN_UID gets the scull group as well. */
void become_user(uid_t uid);
/*
 * Run fn(arg) in a child that has become the given test user (0: stays
 * root); returns the child's exit status (0 when every assertion in fn
 * held).
 */
int as_user(uid_t uid, void (*fn)(void *), void *arg);
gid_t scull_gid(void);

/* The major in /proc/devices; and every node: char device, numbers from
 * the first minor on, root, group scull, mode 0660.
 */
unsigned int scull_major(void);
void nodes_check(unsigned int first_minor);

/*
 * Run a shell command; stdout and stderr go to out (NUL-terminated, may be
 * NULL).  Returns the exit status, or 128 + signal.
 */
int run_sh(char *out, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The kernel log: put a marker in it, then read what came after. */
void kmsg_mark(char *marker, size_t size);
void kmsg_since(const char *marker, char *buf, size_t size);

int module_loaded(void);
/* Nothing of scull is registered anywhere: module, major, class, /proc
 * files, nodes.
 */
void nothing_registered(void);
/* Unload and load with the given parameters through the project scripts. */
int scull_reload(const char *params);
/* Make sure scull is loaded with defaults and its devices are empty. */
void scull_restore(void);

#endif /* SCULL_TEST_UTIL_H */
