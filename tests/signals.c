// SPDX-License-Identifier: GPL-2.0
/*
 * Waiting, signals and the lock, made deterministic with userfaultfd: a
 * write whose source buffer's middle page is missing stops inside the
 * driver, holding the device's lock, until the test supplies the page.
 *
 *   - a read, an lseek, the sysfs and /proc files waiting for that lock
 *     ignore a handled signal, as a regular file's calls would: no EINTR,
 *     and the exact result once the write is done;
 *   - a reader, a seeker, a writer and a trimming open waiting for it die
 *     of SIGKILL, having changed nothing;
 *   - readers do not wait for each other;
 *   - the stalled write completes, whole, once the page arrives;
 *   - a handled signal does not shorten a long copy (as for a regular
 *     file: only a fatal signal stops one part-way);
 *   - SIGKILL ends a long copy part-way: a read, and a write, which keeps
 *     the bytes it stored.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <scull.h>

#include "util.h"

#define PAGE STALL_PAGE
#define SPAN (3 * PAGE)		/* a stalled buffer: the middle page is missing */

struct writer_arg {
	struct stall *s;
	ssize_t ret;
};

static void *stalled_writer(void *p)
{
	struct writer_arg *a = p;
	int fd = dev_open(0, O_RDWR);

	a->ret = pwrite(fd, a->s->buf, SPAN, 0);
	close(fd);
	return NULL;
}

/*
 * Whether thread tid of this process sits in syscall nr (from /proc; a
 * running task shows "running", which atol() would take for 0, read's
 * number on x86_64).
 */
static int in_syscall(pid_t pid, pid_t tid, long nr)
{
	char path[64], text[256];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", pid, tid);
	read_text(path, text, sizeof(text));
	return isdigit((unsigned char)text[0]) && atol(text) == nr;
}

static void wait_in_syscall(pid_t pid, pid_t tid, long nr)
{
	int i;

	for (i = 0; i < 1000 && !in_syscall(pid, tid, nr); i++)
		usleep(10000);
	if (i == 1000)
		FAIL("task %d never entered syscall %ld", tid, nr);
	usleep(50000);	/* and went to sleep in it */
}

static void on_signal(int sig)
{
	(void)sig;
}

struct reader_arg {
	pid_t tid;
	ssize_t ret;
	int err;
	unsigned char *buf;
	size_t len;
};

static void *blocked_reader(void *p)
{
	struct reader_arg *a = p;
	int fd = dev_open(0, O_RDONLY);

	a->tid = gettid();
	errno = 0;
	a->ret = pread(fd, a->buf, a->len, 0);
	a->err = errno;
	close(fd);
	return NULL;
}

/* A signal handler without SA_RESTART, so an interrupted wait shows. */
static void catch_sigusr1(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	ASSERT_OK(sigaction(SIGUSR1, &sa, NULL));
}

/*
 * The calls that wait for the lock a stalled write holds: each one runs in
 * a thread of its own, which records its result.  A read and every lseek
 * that looks at the store (SEEK_END, SEEK_DATA, SEEK_HOLE), and the sysfs
 * and /proc files that show it.
 */
#ifdef SYS__llseek
#define SYS_LSEEK	SYS__llseek	/* glibc's lseek on 32-bit ABIs */
#else
#define SYS_LSEEK	SYS_lseek
#endif

enum wait_op { OP_READ, OP_SEEK_END, OP_SEEK_DATA, OP_SEEK_HOLE, OP_SYSFS_SIZE, OP_PROC };
#define NR_WAIT_OPS	6

static const char *const wait_op_names[NR_WAIT_OPS] = {
	"pread", "lseek SEEK_END", "lseek SEEK_DATA", "lseek SEEK_HOLE",
	"read sysfs size", "read /proc/scullmem",
};

struct waiter {
	enum wait_op op;
	pid_t tid;
	int done;
	long long ret;
	int err;
	char buf[SPAN];
};

/* The call and the system call number it sleeps in. */
static long long wait_op_run(struct waiter *w)
{
	long long ret;
	int fd;

	switch (w->op) {
	case OP_SYSFS_SIZE:
	case OP_PROC:
		fd = open(w->op == OP_PROC ? "/proc/scullmem" : "/sys/class/scull/scull0/size",
			  O_RDONLY);
		if (fd < 0)
			return -1;
		ret = read(fd, w->buf, sizeof(w->buf) - 1);
		break;
	default:
		fd = dev_open(0, O_RDONLY);
		if (w->op == OP_READ)
			ret = pread(fd, w->buf, sizeof(w->buf), 0);
		else
			ret = lseek(fd, 0, w->op == OP_SEEK_END ? SEEK_END :
				    w->op == OP_SEEK_DATA ? SEEK_DATA : SEEK_HOLE);
		break;
	}
	w->err = ret < 0 ? errno : 0;
	close(fd);
	return ret;
}

static long wait_op_syscall(enum wait_op op)
{
	switch (op) {
	case OP_READ:
		return SYS_pread64;
	case OP_SYSFS_SIZE:
	case OP_PROC:
		return SYS_read;
	default:
		return SYS_LSEEK;
	}
}

static void *waiter_thread(void *p)
{
	struct waiter *w = p;

	__atomic_store_n(&w->tid, gettid(), __ATOMIC_RELEASE);
	w->ret = wait_op_run(w);
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* What each call gives once the write of SPAN bytes at 0 is done. */
static void waiter_check(struct waiter *w)
{
	static const long long expect[NR_WAIT_OPS] = {
		[OP_READ] = SPAN, [OP_SEEK_END] = SPAN, [OP_SEEK_DATA] = 0,
		[OP_SEEK_HOLE] = SPAN,
	};

	scull_diag("%s: %lld (%s)", wait_op_names[w->op], w->ret,
		   w->ret < 0 ? strerror(w->err) : "ok");
	ASSERT_EQ(0, w->err);
	switch (w->op) {
	case OP_READ:
		pattern_check(w->buf, SPAN, 0, 5);
		break;
	case OP_SYSFS_SIZE:
		ASSERT_EQ(6, w->ret);
		ASSERT_MEM_EQ("12288\n", w->buf, 6);
		break;
	case OP_PROC:
		ASSERT_TRUE(w->ret > 0);
		w->buf[w->ret] = '\0';
		ASSERT_TRUE(strstr(w->buf, "Device 0: qset 512, q 4096, sz 12288, limit 268435456, quanta 3\n") != NULL);
		break;
	default:
		ASSERT_EQ(expect[w->op], w->ret);
	}
}

/*
 * Every call that waits for the lock behind a long write -- a read, the
 * lseeks that look at the store, sysfs and /proc -- ignores a handled
 * signal (SIGUSR1, without SA_RESTART) as a regular file's would: it goes
 * on waiting, never fails with EINTR, and once the write is done gives its
 * exact result, the bytes and sizes of the whole write.
 */
TEST(waiting_for_lock_ignores_handled_signals)
{
	static struct waiter ws[NR_WAIT_OPS];
	struct writer_arg wr = { 0 };
	pthread_t wt, t[NR_WAIT_OPS];
	struct stall s;
	int i;

	catch_sigusr1();
	stall_init(&s);
	wr.s = &s;
	ASSERT_EQ(0, pthread_create(&wt, NULL, stalled_writer, &wr));
	stall_wait(&s);		/* the writer holds the lock now */
	for (i = 0; i < NR_WAIT_OPS; i++) {
		ws[i].op = i;
		ASSERT_EQ(0, pthread_create(&t[i], NULL, waiter_thread, &ws[i]));
		while (!__atomic_load_n(&ws[i].tid, __ATOMIC_ACQUIRE))
			usleep(1000);
		wait_in_syscall(getpid(), ws[i].tid, wait_op_syscall(i));
	}
	for (i = 0; i < NR_WAIT_OPS; i++)
		ASSERT_EQ(0, pthread_kill(t[i], SIGUSR1));
	usleep(200000);
	/* none of them gave up */
	for (i = 0; i < NR_WAIT_OPS; i++)
		if (__atomic_load_n(&ws[i].done, __ATOMIC_ACQUIRE))
			FAIL("%s returned %lld (%s) while the write held the lock",
			     wait_op_names[i], ws[i].ret, strerror(ws[i].err));
	/* the writer goes on once its page is there, and stores it all */
	stall_release(&s);
	ASSERT_EQ(0, pthread_join(wt, NULL));
	ASSERT_EQ(SPAN, wr.ret);
	for (i = 0; i < NR_WAIT_OPS; i++) {
		ASSERT_EQ(0, pthread_join(t[i], NULL));
		waiter_check(&ws[i]);
	}
}

/*
 * A waiter dies of SIGKILL all the same: a process waiting for the lock
 * (a read, an lseek, a write, an open that trims) is still in its call
 * after a handled signal, and gone at SIGKILL, having changed nothing.
 */
static void waiter_is_killable(const char *what, long nr)
{
	static unsigned char buf[SPAN];
	struct writer_arg w = { 0 };
	int status = 0, i, fd;
	struct stall s;
	pthread_t wt;
	pid_t child;

	stall_init(&s);
	w.s = &s;
	ASSERT_EQ(0, pthread_create(&wt, NULL, stalled_writer, &w));
	stall_wait(&s);
	child = fork();
	if (!child) {
		char c;

		catch_sigusr1();
		if (nr == SYS_openat)
			dev_open(0, O_RDWR | O_TRUNC);
		fd = dev_open(0, O_RDWR);
		if (nr == SYS_pwrite64)
			pwrite(fd, "x", 1, 0);
		else if (nr == SYS_pread64)
			pread(fd, &c, 1, 0);
		else
			lseek(fd, 0, SEEK_END);
		_exit(3);
	}
	wait_in_syscall(child, child, nr);
	/* a plain signal does not end the wait (the handler runs later) */
	ASSERT_OK(kill(child, SIGUSR1));
	usleep(100000);
	if (waitpid(child, &status, WNOHANG))
		FAIL("%s waiting for the lock ended at a handled signal", what);
	ASSERT_TRUE(in_syscall(child, child, nr));
	/* SIGKILL does, at once */
	ASSERT_OK(kill(child, SIGKILL));
	for (i = 0; i < 200 && !waitpid(child, &status, WNOHANG); i++)
		usleep(10000);
	if (i == 200)
		FAIL("%s waiting for the lock outlived SIGKILL by 2 s", what);
	ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	stall_release(&s);
	ASSERT_EQ(0, pthread_join(wt, NULL));
	ASSERT_EQ(SPAN, w.ret);
	/* and did nothing: the bytes are all there (no trim, no write) */
	ASSERT_EQ(SPAN, dev_size(0));
	fd = dev_open(0, O_RDONLY);
	read_exact(fd, buf, SPAN);
	pattern_check(buf, SPAN, 0, 5);
	close(fd);
}

TEST(reader_waiting_for_lock_is_killable)
{
	waiter_is_killable("pread", SYS_pread64);
}

TEST(seeker_waiting_for_lock_is_killable)
{
	waiter_is_killable("lseek", SYS_LSEEK);
}

TEST(writer_waiting_for_lock_is_killable)
{
	waiter_is_killable("pwrite", SYS_pwrite64);
}

/* An open that trims (O_TRUNC) waits for the lock as the trim's writer. */
TEST(trimming_open_waiting_for_lock_is_killable)
{
	waiter_is_killable("open O_TRUNC", SYS_openat);
}

/*
 * A reader stalled on its own destination's middle page holds no lock: the
 * copy runs with page faults disabled, and a read lets go of the lock to
 * fault its buffer in (a fault may need the store itself, when the buffer
 * is a scull mapping).  So another reader, and a writer that only tries
 * the lock (RWF_NOWAIT), go through meanwhile.  A signal that arrives
 * meanwhile does not cut the copy short: once the page is there the read
 * returns all three quanta.  (A copy to user space waiting on userfaultfd
 * ends early only for a fatal signal: the fault is retried until the page
 * arrives.)  That readers share the lock is shown by a walk, below.
 */
TEST(a_stalled_read_holds_no_lock_and_a_signal_does_not_shorten_it)
{
	unsigned char data[SPAN], back[SPAN];
	struct reader_arg r = { 0 };
	struct iovec iov = { data, SPAN };
	struct stall s;
	pthread_t rt;
	int fd;

	catch_sigusr1();
	pattern_fill(data, sizeof(data), 0, 8);
	fd = dev_open(0, O_RDWR);
	pwrite_exact(fd, data, sizeof(data), 0);
	stall_init(&s);
	r.buf = s.buf;
	r.len = SPAN;
	ASSERT_EQ(0, pthread_create(&rt, NULL, blocked_reader, &r));
	stall_wait(&s);		/* the reader waits for its page */
	/* another reader is not held up, nor a writer that only tries (the
	 * Rust twin, which has no mmap, copies under the lock: EAGAIN)
	 */
	pread_exact(fd, back, sizeof(back), 0);
	ASSERT_MEM_EQ(data, back, sizeof(back));
	if (scull_is_rust())
		ASSERT_ERRNO(pwritev2(fd, &iov, 1, 0, RWF_NOWAIT), EAGAIN);
	else
		ASSERT_EQ(SPAN, pwritev2(fd, &iov, 1, 0, RWF_NOWAIT));
	ASSERT_EQ(0, pthread_kill(rt, SIGUSR1));
	stall_release(&s);
	ASSERT_EQ(0, pthread_join(rt, NULL));
	ASSERT_EQ(SPAN, r.ret);
	ASSERT_MEM_EQ(data, s.buf, SPAN);
	close(fd);
}

/*
 * A SIGALRM every millisecond, handled, without SA_RESTART: a program
 * written for regular files expects whole transfers all the same.
 */
static void alarm_every_ms(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct itimerval it = { { 0, 1000 }, { 0, 1000 } };

	ASSERT_OK(sigaction(SIGALRM, &sa, NULL));
	ASSERT_OK(setitimer(ITIMER_REAL, &it, NULL));
}

TEST_TIMEOUT(handled_signals_do_not_shorten_256mib_transfers, 300)
{
	size_t len = 256 << 20;
	unsigned char *buf = xmalloc(len), *back = xmalloc(len);
	int fd = dev_open(0, O_RDWR);

	pattern_fill(buf, len, 0, 12);
	alarm_every_ms();
	ASSERT_EQ(len, pwrite(fd, buf, len, 0));
	memset(back, 0, len);
	ASSERT_EQ(len, pread(fd, back, len, 0));
	ASSERT_MEM_EQ(buf, back, len);
	close(fd);
	free(buf);
	free(back);
}

/*
 * SIGKILL ends a long read part-way.  The read: 2 GiB of a hole, through
 * 1024 vectors over one 2 MiB buffer (one call moves at most MAX_RW_COUNT,
 * INT_MAX rounded down to pages: 0x7ffff000 bytes).  It is timed whole
 * (the faster of two runs); then a child starts the same read and is
 * killed an eighth of that time into it.  Its read count (rchar in
 * /proc/<pid>/io, read before it is reaped) must show that the copy had
 * started and stopped well short: at most half of what one call moves.
 * A read that did not look for the fatal signal would move it all.
 */
#define KILL_VECS	1024
#define KILL_VEC_LEN	(2 << 20)
#define KILL_MAX_RW	0x7ffff000LL

static char *kill_buf(void)
{
	static char *buf;

	if (!buf)
		buf = xmalloc(KILL_VEC_LEN);
	return buf;
}

/* @nr vectors, each the whole 2 MiB buffer. */
static struct iovec *kill_vecs(int nr)
{
	static struct iovec iov[KILL_VECS];
	int i;

	for (i = 0; i < nr; i++)
		iov[i] = (struct iovec){ kill_buf(), KILL_VEC_LEN };
	return iov;
}

static ssize_t long_read(int fd)
{
	return preadv(fd, kill_vecs(KILL_VECS), KILL_VECS, 0);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Kill @child, which must die of it; returns with it a zombie. */
static void kill_and_wait(pid_t child)
{
	siginfo_t info;

	ASSERT_OK(kill(child, SIGKILL));
	ASSERT_OK(waitid(P_PID, child, &info, WEXITED | WNOWAIT));
	ASSERT_EQ(CLD_KILLED, info.si_code);
	ASSERT_EQ(SIGKILL, info.si_status);
}

TEST_TIMEOUT(sigkill_ends_a_long_read, 300)
{
	long long total = (long long)KILL_VECS * KILL_VEC_LEN, rchar;
	char path[64], io[512], *p, c;
	double start, whole = 0;
	int fd, ready[2], i;
	pid_t child;

	ASSERT_EQ(0, scull_reload("scull_size_limit=4G"));
	fd = dev_open(0, O_RDWR);
	pwrite_exact(fd, "e", 1, total);
	for (i = 0; i < 2; i++) {
		start = now();
		ASSERT_EQ(KILL_MAX_RW, long_read(fd));
		if (!i || now() - start < whole)
			whole = now() - start;
	}
	scull_diag("a whole 2 GiB read takes %.3f s", whole);
	ASSERT_TRUE(whole > 0.04);
	ASSERT_OK(pipe(ready));
	child = fork();
	if (!child) {
		if (write(ready[1], "r", 1) != 1)
			_exit(2);
		long_read(fd);
		_exit(0);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));
	usleep(whole * 1e6 / 8);
	kill_and_wait(child);
	snprintf(path, sizeof(path), "/proc/%d/io", child);
	read_text(path, io, sizeof(io));
	ASSERT_OK(waitpid(child, NULL, 0));
	p = strstr(io, "rchar: ");
	ASSERT_TRUE(p != NULL);
	rchar = atoll(p + 7);
	scull_diag("killed after reading %lld of %lld bytes", rchar, KILL_MAX_RW);
	if (rchar <= 0 || rchar > KILL_MAX_RW / 2)
		FAIL("the killed read moved %lld bytes: expected some, and at most %lld",
		     rchar, KILL_MAX_RW / 2);
	close(fd);
}

/*
 * SIGKILL ends a long write part-way too, keeping what it stored: 1 GiB
 * through 512 vectors over one 2 MiB buffer, into a device limited to
 * 1 GiB (a write that did not stop would store it all, half the guest's
 * memory).  The child is killed once 32 MiB of free memory went to the
 * device: the size must then be short of half the write, and every byte
 * below it the one written there, with no quantum past it.
 */
#define KILL_WRITE_VECS	512

static long long mem_free_meminfo_kb(void)
{
	char text[4096], *p;

	read_text("/proc/meminfo", text, sizeof(text));
	p = strstr(text, "MemFree:");
	ASSERT_TRUE(p != NULL);
	return atoll(p + 8);
}

TEST_TIMEOUT(sigkill_ends_a_long_write, 300)
{
	long long total = (long long)KILL_WRITE_VECS * KILL_VEC_LEN, size, off;
	unsigned char *back = xmalloc(KILL_VEC_LEN);
	long long before;
	int fd, ready[2], i;
	pid_t child;
	char c;

	ASSERT_EQ(0, scull_reload("scull_size_limit=1G"));
	fd = dev_open(0, O_RDWR);
	pattern_fill(kill_buf(), KILL_VEC_LEN, 0, 31);
	before = mem_free_meminfo_kb();
	ASSERT_OK(pipe(ready));
	child = fork();
	if (!child) {
		if (write(ready[1], "r", 1) != 1)
			_exit(2);
		pwritev(fd, kill_vecs(KILL_WRITE_VECS), KILL_WRITE_VECS, 0);
		_exit(0);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));
	for (i = 0; i < 10000 && mem_free_meminfo_kb() > before - (32 << 10); i++)
		usleep(1000);
	if (i == 10000)
		FAIL("the write never took 32 MiB of memory");
	kill_and_wait(child);
	ASSERT_OK(waitpid(child, NULL, 0));
	size = dev_size(0);
	scull_diag("killed after storing %lld of %lld bytes", size, total);
	if (size <= 0 || size > total / 2)
		FAIL("the killed write stored %lld bytes: expected some, and at most %lld",
		     size, total / 2);
	ASSERT_EQ((size + SCULL_QUANTUM - 1) / SCULL_QUANTUM, dev_quanta(0));
	for (off = 0; off < size; off += KILL_VEC_LEN) {
		long long n = size - off < KILL_VEC_LEN ? size - off : KILL_VEC_LEN;

		pread_exact(fd, back, n, off);
		ASSERT_MEM_EQ(kill_buf(), back, n);
	}
	close(fd);
	free(back);
}

/*
 * SIGKILL ends a long walk over the store under its lock: SEEK_HOLE, and
 * an RWF_NOWAIT write's check that every quantum it covers is there (one
 * byte past the store, so the check walks it all, then says EAGAIN), over
 * a dense store of one-byte quanta in sets of one (a step per byte).  The
 * store grows until one SEEK_HOLE from 0 takes WALK_MIN_S (the sanitizer
 * kernel walks 64Ki sets in about 0.6 s under TCG); then a child
 * starts each walk and is killed WALK_KILL_S into it, and must be gone
 * within a quarter of that walk's time: the walks look for a fatal signal
 * (and give way) every 1024 steps.  A walk that did not would run to its
 * end, never giving way meanwhile (the soft-lockup detector's case).  Where
 * WALK_MAX_SETS sets would walk faster than that (judged from 32Ki), the
 * kill cannot be timed against the walk: a SKIP.
 */
#define WALK_MIN_S	0.4
#define WALK_KILL_S	0.05
#define WALK_MAX_SETS	(1 << 18)

enum walk { WALK_SEEK_HOLE, WALK_NOWAIT_WRITE };

/* One walk over the @n sets; returns what the call must return. */
static long long walk_run(int fd, enum walk walk, char *buf, long long n)
{
	struct iovec iov = { buf, n + 1 };

	if (walk == WALK_SEEK_HOLE)
		return lseek(fd, 0, SEEK_HOLE) == n ? 0 : -1;
	return pwritev2(fd, &iov, 1, 0, RWF_NOWAIT) == -1 && errno == EAGAIN ? 0 : -1;
}

static double walk_kill(int fd, enum walk walk, char *buf, long long n)
{
	int ready[2];
	double start;
	pid_t child;
	char c;

	ASSERT_OK(pipe(ready));
	child = fork();
	ASSERT_TRUE(child >= 0);
	if (!child) {
		if (write(ready[1], "r", 1) != 1)
			_exit(2);
		for (;;)
			walk_run(fd, walk, buf, n);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));
	usleep(WALK_KILL_S * 1e6);
	start = now();
	kill_and_wait(child);
	ASSERT_OK(waitpid(child, NULL, 0));
	close(ready[0]);
	close(ready[1]);
	return now() - start;
}

TEST_TIMEOUT(sigkill_ends_a_long_walk, 300)
{
	static const char *const names[] = { "SEEK_HOLE", "an RWF_NOWAIT write" };
	char *buf = xmalloc(WALK_MAX_SETS + 1);
	long long n = 0, grow = 1 << 15;
	int fd = dev_open(1, O_RDWR | O_TRUNC), one = 1;
	double whole = 0, start, gone;
	enum walk walk;

	ASSERT_OK(ioctl(fd, SCULL_IOCSQUANTUM, &one));
	ASSERT_OK(ioctl(fd, SCULL_IOCSQSET, &one));
	memset(buf, 'w', WALK_MAX_SETS + 1);
	for (;;) {
		pwrite_exact(fd, buf, grow, n);
		n += grow;
		start = now();
		ASSERT_EQ(n, lseek(fd, 0, SEEK_HOLE));
		whole = now() - start;
		if (whole >= WALK_MIN_S)
			break;
		/* half again the sets the walk's pace so far asks for */
		grow = whole > 0 ? (long long)(1.5 * n * WALK_MIN_S / whole) - n :
				   WALK_MAX_SETS;
		if (n + grow > WALK_MAX_SETS) {
			close(fd);
			SKIP("a SEEK_HOLE over %lld quantum sets takes %.0f ms here: too fast to time a kill against",
			     n, whole * 1e3);
		}
	}
	scull_diag("a SEEK_HOLE over %lld quantum sets takes %.0f ms", n, whole * 1e3);
	for (walk = WALK_SEEK_HOLE; walk <= WALK_NOWAIT_WRITE; walk++) {
		start = now();
		if (walk_run(fd, walk, buf, n))
			FAIL("%s over %lld quantum sets: %s, expected %s", names[walk], n,
			     strerror(errno), walk == WALK_SEEK_HOLE ? "the size" : "EAGAIN");
		whole = now() - start;
		gone = walk_kill(fd, walk, buf, n);
		scull_diag("%s: %.0f ms; killed %.0f ms into it: gone %.1f ms later",
			   names[walk], whole * 1e3, WALK_KILL_S * 1e3, gone * 1e3);
		if (gone > whole / 4)
			FAIL("%s over %lld quantum sets, killed %.0f ms into it, was gone only %.0f ms later, expected within %.0f ms",
			     names[walk], n, WALK_KILL_S * 1e3, gone * 1e3, whole / 4 * 1e3);
	}
	/* the store is as it was: the NOWAIT writes stored nothing */
	ASSERT_EQ(n, lseek(fd, 0, SEEK_HOLE));
	ASSERT_EQ(n, dev_quanta(1));
	close(fd);
	free(buf);
}

/*
 * Readers share the lock.  A child runs SEEK_HOLE over and over on a dense
 * store (as above, grown until one walk takes SHARE_WALK_S), each walk
 * under the lock for reading, and counts its walks in shared memory.
 * Meanwhile: an RWF_NOWAIT write, which only tries the lock, then an
 * RWF_NOWAIT read, which only tries it for reading, then the write again.
 * When both writes say EAGAIN and no walk ended in between, one walk held
 * the lock throughout, and the read must have gone through beside it, with
 * the stored byte.  Several such tries must be seen.
 */
#define SHARE_WALK_S	0.005
#define SHARE_TRIES	2000
#define SHARE_SEEN	5

TEST(readers_share_the_lock_with_a_walk)
{
	char *buf = xmalloc(WALK_MAX_SETS + 1), c = 0;
	struct iovec wv = { buf, 1 }, rv = { &c, 1 };
	long long n = 0, grow = 1 << 12;
	int fd = dev_open(1, O_RDWR | O_TRUNC), one = 1;
	unsigned int tries, seen = 0;
	unsigned long *walks, before;
	double whole = 0, start;
	ssize_t got;
	pid_t child;
	int err;

	ASSERT_OK(ioctl(fd, SCULL_IOCSQUANTUM, &one));
	ASSERT_OK(ioctl(fd, SCULL_IOCSQSET, &one));
	memset(buf, 'w', WALK_MAX_SETS + 1);
	for (;;) {
		pwrite_exact(fd, buf, grow, n);
		n += grow;
		start = now();
		ASSERT_EQ(n, lseek(fd, 0, SEEK_HOLE));
		whole = now() - start;
		if (whole >= SHARE_WALK_S)
			break;
		grow = whole > 0 ? (long long)(1.5 * n * SHARE_WALK_S / whole) - n : n;
		if (n + grow > WALK_MAX_SETS)
			grow = WALK_MAX_SETS - n;
		if (grow <= 0)
			FAIL("a SEEK_HOLE over %lld quantum sets takes %.2f ms: too fast to hold the lock for a try",
			     n, whole * 1e3);
	}
	scull_diag("a SEEK_HOLE over %lld quantum sets takes %.1f ms", n, whole * 1e3);
	walks = mmap(NULL, sizeof(*walks), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(walks != MAP_FAILED);
	*walks = 0;
	child = fork();
	ASSERT_TRUE(child >= 0);
	if (!child) {
		int walker = dev_open(1, O_RDONLY);

		for (;;) {
			if (lseek(walker, 0, SEEK_HOLE) != n)
				_exit(3);
			__atomic_fetch_add(walks, 1, __ATOMIC_SEQ_CST);
		}
	}
	while (!__atomic_load_n(walks, __ATOMIC_SEQ_CST))
		usleep(1000);
	for (tries = 0; tries < SHARE_TRIES && seen < SHARE_SEEN; tries++) {
		before = __atomic_load_n(walks, __ATOMIC_SEQ_CST);
		if (pwritev2(fd, &wv, 1, 0, RWF_NOWAIT) != -1 || errno != EAGAIN)
			continue;
		got = preadv2(fd, &rv, 1, 0, RWF_NOWAIT);
		err = errno;
		if (pwritev2(fd, &wv, 1, 0, RWF_NOWAIT) != -1 || errno != EAGAIN ||
		    __atomic_load_n(walks, __ATOMIC_SEQ_CST) != before)
			continue;
		if (got != 1)
			FAIL("an RWF_NOWAIT read while a SEEK_HOLE held the lock for reading: %zd (%s), expected 1 byte: readers share the lock",
			     got, got < 0 ? strerror(err) : "short");
		ASSERT_EQ('w', c);
		seen++;
	}
	kill_and_wait(child);
	ASSERT_OK(waitpid(child, NULL, 0));
	scull_diag("%u tries, %u with one walk holding the lock around the read", tries, seen);
	if (seen < SHARE_SEEN)
		FAIL("in %u tries a walk held the lock around the read only %u times, expected %u",
		     tries, seen, SHARE_SEEN);
	/* nothing changed: the writes that went through wrote 'w' over 'w' */
	ASSERT_EQ(n, lseek(fd, 0, SEEK_HOLE));
	ASSERT_EQ(n, dev_quanta(1));
	munmap(walks, sizeof(*walks));
	close(fd);
	free(buf);
}
