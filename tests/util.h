/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the scull guest tests: device paths, exact-size I/O,
 * byte patterns, users, commands, sysfs and the kernel log.
 */
#ifndef SCULL_TEST_UTIL_H
#define SCULL_TEST_UTIL_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include "harness.h"

/* The module's defaults. */
#define SCULL_NR_DEVS		4
#define SCULL_QUANTUM		4096
#define SCULL_QSET		512
#define SCULL_LIMIT		(256LL << 20)
/* bytes of quanta all of scullpriv's devices hold together */
#define SCULL_PRIV_LIMIT	(256LL << 20)
#define SCULL_GROUP		"scull"
#define SCULL_MODE		0660
#define SCULL_P_NR_DEVS		4
#define SCULL_P_BUFFER		4000
/* after the memory devices and the pipes, in this order */
#define SCULL_ACCESS_NAMES	{ "scullsingle", "sculluid", "scullwuid", "scullpriv" }
#define SCULL_ACCESS_NR_DEVS	4

/* Test users: one in the scull group, one outside it. */
#define USER_IN_UID		1000
#define USER_OUT_UID		1001

/*
 * Where the project's files are -- scull_load, scull_unload, the built
 * modules, fio/: $SCULL_DIR, or else the folder above the one this program
 * is in (tests/ of a source tree, or of the test guest's copy of one).
 * scull_precheck() skips the program when the path is one the tests'
 * shell commands cannot carry unquoted.
 */
const char *scull_dir(void);
/* SCULL_DIR/name */
const char *scull_file(const char *name);
/* The loaded driver's module file, SCULL_DIR/scull.ko (or scull_rs.ko);
 * skips the test when it is not there.
 */
const char *scull_ko(void);
/* A file beside this program (ioctl32, mapper: tests/Makefile builds them
 * there).
 */
const char *test_file(const char *name);
/* Skips the test unless the program name is installed (fio, jq). */
void need_program(const char *name);

const char *dev_path(int minor);
int dev_open(int minor, int flags);
/* /dev/scullpipe<n> */
const char *pipe_path(int n);
/* Empty every device and restore its load-time geometry; empty every
 * pipe and give it back its load-time buffer size.
 */
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

/* Wait until process pid sleeps in system call nr (SYS_read...), as
 * /proc/<pid>/syscall and /proc/<pid>/stat show, and stays there for
 * 50 ms; fails after 10 s.
 */
void wait_blocked(pid_t pid, long nr);
/*
 * Whether process pid has no signal pending, private or shared (its
 * handler ran for each one sent).
 */
int no_signal_pending(pid_t pid);
/* Wait for child pid; fails unless it exited with status 0. */
void join_ok(pid_t pid);

/* The major in /proc/devices; and every node -- memory devices, pipes,
 * access-controlled devices, with the default counts -- is a char device
 * with numbers from the first minor on, root's, group scull, mode 0660.
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
/* The first record of the whole log that contains needle; fails if none. */
void kmsg_find(const char *needle, char *line, size_t size);

/* Whether the run is against the Rust twin (SCULL_IMPL=rust), and the
 * loaded module's name: "scull_rs" then, else "scull".
 */
int scull_is_rust(void);
const char *scull_module(void);
/* A parameter of the loaded module, from /sys/module/<module>/parameters. */
long long module_param(const char *name);
int module_loaded(void);
/* Free memory in kB: the buddy allocator's and the per-CPU lists'. */
long long mem_free_kb(void);
/* Whether the running kernel is a 32-bit one (uname's machine). */
int kernel_is_32bit(void);
/*
 * How many bytes short of a fault a copy from user space may stop.
 * copy_from_user() promises the bytes it reports, not every byte before
 * the fault: x86_64's copies the tail a byte at a time and stops at the
 * fault itself (0 here); i386's and arm64's stop up to a block short
 * (seen: 5 to 66 bytes).
 */
#if defined(__x86_64__)
#define COPY_SLACK	0U
#else
#define COPY_SLACK	128U
#endif
/* Nothing of scull is registered anywhere: module, major, class, /proc
 * files, nodes (no /dev/scull* at all).
 */
void nothing_registered(void);
/* Unload and load with the given parameters through the project scripts. */
int scull_reload(const char *params);
long long dev_quanta(int minor);
/* Make sure scull is loaded with defaults and its devices are empty. */
void scull_restore(void);

/*
 * Kernel memory charged to a memory cgroup (cgroup2): "kernel" from its
 * memory.stat (pages: quanta and slab pages), and "slab" (bytes of slab
 * objects, reclaimable and not, as charged: the object's size in its cache
 * plus the pointer to its cgroup).
 */
struct memcg_use {
	long long kernel;
	long long slab;
};

/*
 * Run work(fd, arg) on a device opened read-write, in a process that sits
 * in a memory cgroup of its own and does nothing else meanwhile (it opened
 * the device before joining, so only scull's allocations are charged
 * there).  Measures the cgroup before, after work with the file still open,
 * and after undo() has run in this process with the worker's file closed:
 * use[0], use[1], use[2].  For the "after" figure it waits up to 2 s for
 * frees that the kernel defers (RCU), and until it equals use[0] when it
 * does.
 */
void memcg_run(int minor, void (*work)(int fd, void *arg), void *arg,
	       void (*undo)(void), struct memcg_use use[3]);
/* memcg_run() storing len bytes (0x5a) from offset 0 of the device. */
void memcg_store(int minor, size_t len, void (*undo)(void),
		 struct memcg_use use[3]);
/*
 * What len bytes stored from offset 0 must cost at the default geometry:
 * the quanta (pages), and in slab the pointer arrays and the quantum sets
 * (struct scull_qset), at the running kernel's object sizes.
 */
void scull_cost(size_t len, struct memcg_use *cost);
/* How far a cgroup's kernel memory may move in a run without scull. */
long long memcg_slack(void);
/* Check use[] from memcg_store(): exactly cost stored, all of it freed. */
void memcg_check(const struct memcg_use use[3], const struct memcg_use *cost);

/*
 * A buffer that stops a copy inside the kernel until the test lets it go:
 * three pages, the outer two holding pattern_fill(seed 5) bytes of offsets
 * 0 and 2 * STALL_PAGE, the middle one missing and registered with
 * userfaultfd.  A copy that reaches the middle page waits, in the kernel,
 * until stall_release() supplies it (the pattern's middle page).
 */
#define STALL_PAGE	4096

struct stall {
	int uffd;
	unsigned char *buf;
};

void stall_init(struct stall *s);
/* Wait until a copy faults on the missing page. */
void stall_wait(struct stall *s);
void stall_release(struct stall *s);

#endif /* SCULL_TEST_UTIL_H */
