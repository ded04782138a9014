// SPDX-License-Identifier: GPL-2.0
/*
 * Concurrency stress: processes and threads on the same minor and across
 * minors, reading, writing, trimming, seeking, changing the geometry,
 * opening and closing, for a fixed time.
 *
 * Every write is one 16 KiB chunk carrying its writer and round; a writer
 * owns a region and reads each chunk back, checking it whenever no trim
 * intervened (trimmers bump a per-device generation, odd while trimming).
 * Readers check that every chunk they read is whole: zeros, or one round
 * of its region's writer.  At the end every writer rewrites and checks its
 * region and each device's size is exact.
 *
 * It runs 5 seconds in make check; make soak runs stress.soak for
 * SCULL_STRESS_SECONDS (default 600).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <scull.h>

#include "util.h"

#define CHUNK		(16 << 10)
#define REGION		(128 << 10)
#define WRITER_MINORS	2		/* minors 0 and 1 have writers */
#define WRITERS		2		/* per minor */
#define MAX_WORKERS	32

enum role { R_WRITE, R_READ, R_TRIM, R_SEEK, R_IOCTL, R_OPEN, R_THREADS, R_NR };

struct shared {
	volatile int stop;
	unsigned long gen[SCULL_NR_DEVS];	/* trim generations */
	unsigned long counts[R_NR];		/* per role, for the log */
};

static struct shared *sh;

static const char *const role_names[R_NR] = {
	"writes", "reads", "trims", "seeks", "ioctls", "opens", "thread reads",
};

struct head {
	uint32_t writer;	/* minor * WRITERS + writer + 1 */
	uint32_t round;
};


static void chunk_fill(unsigned char *buf, uint32_t writer, uint32_t round,
		       size_t off)
{
	struct head h = { writer, round };

	memcpy(buf, &h, sizeof(h));
	pattern_fill(buf + sizeof(h), CHUNK - sizeof(h), off, writer * 7919u + round);
}

/* A chunk read whole: zeros (never written since a trim) or one round. */
static void chunk_check(const unsigned char *buf, size_t off, uint32_t writer)
{
	struct head h;
	size_t i;

	memcpy(&h, buf, sizeof(h));
	if (!h.writer && !h.round) {
		for (i = 0; i < CHUNK; i++)
			if (buf[i])
				FAIL("chunk at %zu: zero header, byte %zu is 0x%02x", off, i, buf[i]);
		return;
	}
	if (h.writer != writer)
		FAIL("chunk at %zu: written by %u, but the region is %u's", off, h.writer, writer);
	pattern_check(buf + sizeof(h), CHUNK - sizeof(h), off, writer * 7919u + h.round);
}

static unsigned long gen_read(int minor)
{
	return __atomic_load_n(&sh->gen[minor], __ATOMIC_ACQUIRE);
}

static void count(enum role r)
{
	__atomic_add_fetch(&sh->counts[r], 1, __ATOMIC_RELAXED);
}

static void writer(int minor, int w)
{
	uint32_t id = minor * WRITERS + w + 1, round = 0;
	unsigned char buf[CHUNK], back[CHUNK];
	int fd = dev_open(minor, O_RDWR);
	size_t off;

	while (!sh->stop) {
		round++;
		for (off = w * REGION; off < (size_t)(w + 1) * REGION && !sh->stop; off += CHUNK) {
			unsigned long g1 = gen_read(minor);
			ssize_t n;

			chunk_fill(buf, id, round, off);
			pwrite_exact(fd, buf, CHUNK, off);
			n = pread(fd, back, CHUNK, off);
			/* no trim began or ended meanwhile: the chunk is ours */
			if (g1 == gen_read(minor) && !(g1 & 1)) {
				ASSERT_EQ(CHUNK, n);
				ASSERT_MEM_EQ(buf, back, CHUNK);
			}
			count(R_WRITE);
		}
	}
	close(fd);
}

static void reader_loop(int fd, int minor, enum role r)
{
	unsigned char buf[CHUNK];

	while (!sh->stop) {
		int w = rand() % WRITERS;
		size_t off = w * REGION + (rand() % (REGION / CHUNK)) * CHUNK;
		ssize_t n = pread(fd, buf, CHUNK, off);

		if (n != 0 && n != CHUNK)
			FAIL("read of a chunk at %zu returned %zd", off, n);
		if (n)
			chunk_check(buf, off, minor * WRITERS + w + 1);
		count(r);
	}
}

static void reader(int minor)
{
	int fd = dev_open(minor, O_RDONLY);

	reader_loop(fd, minor, R_READ);
	close(fd);
}

struct thread_arg {
	int fd, minor;
};

static void *reader_thread(void *p)
{
	struct thread_arg *a = p;

	reader_loop(a->fd, a->minor, R_THREADS);
	return NULL;
}

/* Threads of one process sharing one file description. */
static void thread_readers(int minor)
{
	struct thread_arg a = { dev_open(minor, O_RDONLY), minor };
	pthread_t t[3];
	int i;

	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, reader_thread, &a));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, pthread_join(t[i], NULL));
	close(a.fd);
}

static void trimmer(void)
{
	while (!sh->stop) {
		int minor = rand() % SCULL_NR_DEVS, fd;

		__atomic_add_fetch(&sh->gen[minor], 1, __ATOMIC_ACQ_REL);
		fd = dev_open(minor, rand() % 2 ? O_WRONLY : O_RDONLY | O_TRUNC);
		close(fd);
		__atomic_add_fetch(&sh->gen[minor], 1, __ATOMIC_ACQ_REL);
		count(R_TRIM);
		usleep(20000 + rand() % 30000);
	}
}

static void seeker(void)
{
	int fd = dev_open(rand() % SCULL_NR_DEVS, O_RDONLY);

	while (!sh->stop) {
		static const int whence[] = { SEEK_SET, SEEK_CUR, SEEK_END, SEEK_DATA, SEEK_HOLE };
		int wh = whence[rand() % 5];
		off_t r = lseek(fd, rand() % (4 * REGION), wh);

		if (r < 0 && !(errno == ENXIO && (wh == SEEK_DATA || wh == SEEK_HOLE)))
			FAIL("lseek(%d): %s", wh, strerror(errno));
		count(R_SEEK);
	}
	close(fd);
}

/* Geometry: reads always work; a change works only on an empty device. */
static void ioctler(void)
{
	static const int quanta[] = { 4096, 1000, 4096, 8192, 4096 };
	int fd = dev_open(rand() % SCULL_NR_DEVS, O_RDONLY);

	while (!sh->stop) {
		long q = ioctl(fd, SCULL_IOCQQUANTUM);
		int v = 0, r;

		if (q < 1 || q > SCULL_QUANTUM_MAX)
			FAIL("query quantum: %ld", q);
		ASSERT_EQ(0, ioctl(fd, SCULL_IOCGQSET, &v));
		if (v < 1 || v > SCULL_QSET_MAX)
			FAIL("get qset: %d", v);
		r = ioctl(fd, SCULL_IOCTQUANTUM, quanta[rand() % 5]);
		if (r && errno != EBUSY)
			FAIL("tell quantum: %s", strerror(errno));
		count(R_IOCTL);
		usleep(1000);
	}
	close(fd);
}

static void opener(void)
{
	static const int flags[] = { O_RDONLY, O_RDWR, O_RDWR | O_APPEND, O_RDONLY | O_NONBLOCK };

	while (!sh->stop) {
		int fd = dev_open(rand() % SCULL_NR_DEVS, flags[rand() % 4]);

		close(fd);
		count(R_OPEN);
	}
}

static pid_t spawn(void (*fn)(int, int), int a, int b, unsigned int seed)
{
	pid_t pid = fork();

	if (pid < 0)
		FAIL("fork: %s", strerror(errno));
	if (!pid) {
		srand(seed);
		fn(a, b);
		_exit(0);
	}
	return pid;
}

static void run_writer(int minor, int w) { writer(minor, w); }
static void run_reader(int minor, int unused) { (void)unused; reader(minor); }
static void run_threads(int minor, int unused) { (void)unused; thread_readers(minor); }
static void run_trimmer(int a, int b) { (void)a; (void)b; trimmer(); }
static void run_seeker(int a, int b) { (void)a; (void)b; seeker(); }
static void run_ioctler(int a, int b) { (void)a; (void)b; ioctler(); }
static void run_opener(int a, int b) { (void)a; (void)b; opener(); }

/* After the storm: every region rewritten and checked, sizes exact. */
static void final_check(void)
{
	unsigned char buf[CHUNK], back[CHUNK];
	int minor, w, fd;
	size_t off;

	for (minor = 0; minor < WRITER_MINORS; minor++) {
		fd = dev_open(minor, O_RDWR);
		for (w = 0; w < WRITERS; w++)
			for (off = w * REGION; off < (size_t)(w + 1) * REGION; off += CHUNK) {
				chunk_fill(buf, minor * WRITERS + w + 1, 1u << 30, off);
				pwrite_exact(fd, buf, CHUNK, off);
			}
		for (w = 0; w < WRITERS; w++)
			for (off = w * REGION; off < (size_t)(w + 1) * REGION; off += CHUNK) {
				chunk_fill(buf, minor * WRITERS + w + 1, 1u << 30, off);
				pread_exact(fd, back, CHUNK, off);
				ASSERT_MEM_EQ(buf, back, CHUNK);
			}
		ASSERT_EQ(WRITERS * REGION, dev_size(minor));
		close(fd);
	}
}

static void stress(unsigned int secs)
{
	pid_t pids[MAX_WORKERS];
	int n = 0, minor, w, status, i, failed = 0;
	unsigned int seed = 1;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(sh != MAP_FAILED);
	memset(sh, 0, sizeof(*sh));
	for (minor = 0; minor < WRITER_MINORS; minor++) {
		for (w = 0; w < WRITERS; w++)
			pids[n++] = spawn(run_writer, minor, w, seed++);
		pids[n++] = spawn(run_reader, minor, 0, seed++);
		pids[n++] = spawn(run_threads, minor, 0, seed++);
	}
	pids[n++] = spawn(run_trimmer, 0, 0, seed++);
	pids[n++] = spawn(run_seeker, 0, 0, seed++);
	pids[n++] = spawn(run_seeker, 0, 0, seed++);
	pids[n++] = spawn(run_ioctler, 0, 0, seed++);
	pids[n++] = spawn(run_opener, 0, 0, seed++);
	sleep(secs);
	sh->stop = 1;
	for (i = 0; i < n; i++) {
		if (waitpid(pids[i], &status, 0) != pids[i])
			FAIL("waitpid: %s", strerror(errno));
		if (status) {
			scull_diag("worker %d ended with status 0x%x", i, status);
			failed = 1;
		}
	}
	for (i = 0; i < R_NR; i++)
		scull_diag("%s: %lu", role_names[i], sh->counts[i]);
	ASSERT_EQ(0, failed);
	ASSERT_TRUE(sh->counts[R_WRITE] > 0 && sh->counts[R_READ] > 0 && sh->counts[R_TRIM] > 0);
	/* the geometry may have changed on an empty device: restore it */
	for (minor = 0; minor < SCULL_NR_DEVS; minor++) {
		int fd = dev_open(minor, O_RDWR | O_TRUNC);

		ASSERT_EQ(0, ioctl(fd, SCULL_IOCRESET));
		close(fd);
	}
	final_check();
}

TEST(everything_at_once)
{
	stress(5);
}

TEST_MANUAL(soak, 36000)
{
	const char *s = getenv("SCULL_STRESS_SECONDS");

	stress(s ? atoi(s) : 600);
}
