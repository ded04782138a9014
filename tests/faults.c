// SPDX-License-Identifier: GPL-2.0
/*
 * Every allocation failed on purpose, one at a time.  For each operation
 * that can allocate (writes into new space, a write after SEEK_HOLE, trim,
 * the geometry ioctls, the /proc files, module load) the operation runs
 * with its k-th allocation failing (/proc/thread-self/fail-nth, failslab
 * and fail_page_alloc), for k = 1, 2, ... until a run completes without
 * meeting the injected failure.  Each run must fail with -ENOMEM or store a
 * prefix; the bytes stored before must read back unchanged; the driver's
 * counters (/proc/scullmem: quanta and sets per device; sysfs size) must
 * show exactly what is stored, so nothing leaked; the device must stay
 * usable; a load that fails part-way must leave nothing registered, and
 * the next load must work.  kmemleak is scanned after the suite
 * (tools/guest/kmemleak.sh).
 *
 * Needs a kernel with CONFIG_FAULT_INJECTION_DEBUG_FS, FAILSLAB and
 * FAIL_PAGE_ALLOC (make check-debug); elsewhere every test is a SKIP.
 * Each test prints one row of the table "operation | injection points |
 * result".
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <scull.h>

#include "util.h"

#define FAIL_NTH	"/proc/thread-self/fail-nth"
#define SET_BYTES	((long long)SCULL_QUANTUM * SCULL_QSET)
/* a fail-nth count no operation reaches: how many points one run has */
#define COUNT_ALL	10000000

/*
 * Where the k-th allocation is failed.  Fail every allocation that may
 * sleep too (ignore-gfp-wait), order-0 pages too (min-order), without
 * printing a stack trace for each (verbose); only fail-nth triggers
 * (probability 0, and task-filter in case someone sets one).
 */
static void fault_knobs(void)
{
	static const char *const knobs[][2] = {
		{ "failslab/ignore-gfp-wait", "N" },
		{ "failslab/verbose", "0" },
		{ "failslab/task-filter", "Y" },
		{ "failslab/probability", "0" },
		{ "fail_page_alloc/ignore-gfp-wait", "N" },
		{ "fail_page_alloc/ignore-gfp-highmem", "N" },
		{ "fail_page_alloc/min-order", "0" },
		{ "fail_page_alloc/verbose", "0" },
		{ "fail_page_alloc/task-filter", "Y" },
		{ "fail_page_alloc/probability", "0" },
	};
	char path[128];
	unsigned int i;
	int fd;

	for (i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
		snprintf(path, sizeof(path), "/sys/kernel/debug/%s", knobs[i][0]);
		fd = open(path, O_WRONLY);
		if (fd < 0)
			FAIL("open %s: %s", path, strerror(errno));
		if (write(fd, knobs[i][1], strlen(knobs[i][1])) < 0)
			FAIL("write %s to %s: %s", knobs[i][1], path, strerror(errno));
		close(fd);
	}
}

static int fail_nth_fd = -1;

void scull_setup(void)
{
	if (access(FAIL_NTH, F_OK))
		SKIP("no fault injection in this kernel (" FAIL_NTH
		     " is missing: Debian's kernels lack CONFIG_FAULT_INJECTION); make check-debug runs these");
	fault_knobs();
	fail_nth_fd = open(FAIL_NTH, O_RDWR);
	if (fail_nth_fd < 0)
		FAIL("open " FAIL_NTH ": %s", strerror(errno));
	/* the buffers an operation copies from are faulted in beforehand:
	 * a page fault inside the copy would be an injection point too
	 */
	if (mlockall(MCL_CURRENT | MCL_FUTURE))
		FAIL("mlockall: %s", strerror(errno));
	scull_restore();
}

/* Arm: the k-th allocation of this thread from now on fails. */
static void fail_nth_arm(unsigned int k)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", k);

	if (pwrite(fail_nth_fd, buf, len, 0) != len)
		FAIL("write %s: %s", FAIL_NTH, strerror(errno));
}

/* Disarm; returns 1 when the armed failure was injected. */
static int fail_nth_disarm(void)
{
	char buf[16];
	ssize_t n;
	long left;

	n = pread(fail_nth_fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		FAIL("read %s: %s", FAIL_NTH, n < 0 ? strerror(errno) : "empty");
	buf[n] = '\0';
	left = strtol(buf, NULL, 10);
	if (left && pwrite(fail_nth_fd, "0", 1, 0) != 1)
		FAIL("write %s: %s", FAIL_NTH, strerror(errno));
	return left == 0;
}

/* How the runs of one operation ended, for its row of the table. */
struct tally {
	unsigned int points;	/* allocations the operation makes */
	unsigned int enomem;	/* ... and returned -ENOMEM */
	unsigned int partial;	/* ... and returned a partial count */
	unsigned int absorbed;	/* ... and still completed (a failure
				 * the kernel recovered from, such as
				 * kmemleak's own metadata)
				 */
};

static void table_row(const char *op, const struct tally *t, const char *extra)
{
	static int header;

	if (!header++)
		scull_diag("| operation | injection points | result |");
	scull_diag("| %s | %u | ok: %u ENOMEM, %u partial, %u completed%s |",
		   op, t->points, t->enomem, t->partial, t->absorbed, extra);
}

/* --- the store's expected state ----------------------------------- */

/* A range of bytes stored on scull0 with a pattern seed. */
struct range {
	long long off, len;
	uint32_t seed;
};

#define MAX_RANGES	8
#define MAX_SETS	64

struct model {
	struct range r[MAX_RANGES];
	unsigned int n;
	long long size;
	long long quantum, qset;
};

static void model_init(struct model *m, long long quantum, long long qset)
{
	memset(m, 0, sizeof(*m));
	m->quantum = quantum;
	m->qset = qset;
}

static void model_add(struct model *m, long long off, long long len, uint32_t seed)
{
	if (!len)
		return;
	if (m->n == MAX_RANGES)
		FAIL("too many ranges in the model");
	m->r[m->n++] = (struct range){ off, len, seed };
	if (off + len > m->size)
		m->size = off + len;
}

/* The pattern a model expects at one offset: the last range covering it. */
static int model_byte(const struct model *m, long long off)
{
	int i;

	for (i = m->n - 1; i >= 0; i--)
		if (off >= m->r[i].off && off < m->r[i].off + m->r[i].len)
			return pattern_byte(off, m->r[i].seed);
	return 0;
}

/*
 * The sets /proc/scullmem must list for the model, with their quanta:
 * exactly the quanta holding a stored byte, nothing else.
 */
struct set_count {
	long long index;
	long long quanta;
};

static unsigned int model_sets(const struct model *m, struct set_count *sets,
			       long long *total)
{
	long long q, first, last, seen[4096];
	unsigned int nseen = 0, nsets = 0, i, j;

	for (i = 0; i < m->n; i++) {
		first = m->r[i].off / m->quantum;
		last = (m->r[i].off + m->r[i].len - 1) / m->quantum;
		for (q = first; q <= last; q++) {
			for (j = 0; j < nseen && seen[j] != q; j++)
				;
			if (j < nseen)
				continue;
			if (nseen == 4096)
				FAIL("model too large");
			seen[nseen++] = q;
		}
	}
	/* sets in index order, as /proc lists them */
	*total = nseen;
	for (;;) {
		long long next = -1;

		for (j = 0; j < nseen; j++) {
			long long s = seen[j] / m->qset;

			if (s > (nsets ? sets[nsets - 1].index : -1) &&
			    (next < 0 || s < next))
				next = s;
		}
		if (next < 0)
			break;
		if (nsets == MAX_SETS)
			FAIL("too many sets in the model");
		sets[nsets] = (struct set_count){ next, 0 };
		for (j = 0; j < nseen; j++)
			sets[nsets].quanta += seen[j] / m->qset == next;
		nsets++;
	}
	return nsets;
}

/*
 * /proc/scullmem must read, for every device, what the models say (NULL:
 * an empty device with the default geometry).  Checks the counters in
 * which a leaked set or quantum would show.
 */
static void proc_matches(const struct model *m0)
{
	char text[16384], want[16384], *p = want;
	const struct model *m;
	struct model empty;
	struct set_count sets[MAX_SETS];
	unsigned int nsets, i;
	long long total;
	int dev;

	model_init(&empty, SCULL_QUANTUM, SCULL_QSET);
	for (dev = 0; dev < SCULL_NR_DEVS; dev++) {
		m = dev == 0 && m0 ? m0 : &empty;
		nsets = model_sets(m, sets, &total);
		p += sprintf(p, "Device %d: qset %lld, q %lld, sz %lld, limit %lld, quanta %lld\n",
			     dev, m->qset, m->quantum, m->size, SCULL_LIMIT, total);
		for (i = 0; i < nsets; i++)
			p += sprintf(p, "  qset %lld: %lld quanta\n",
				     sets[i].index, sets[i].quanta);
	}
	read_text("/proc/scullmem", text, sizeof(text));
	ASSERT_STR_EQ(want, text);
	ASSERT_EQ(m0 ? m0->size : 0, dev_size(0));
}

/* Every byte of scull0 in [off, off + len) is what the model says. */
static void bytes_match(int fd, const struct model *m, long long off, long long len)
{
	unsigned char *buf = xmalloc(len);
	long long end = off + len, want, i;
	ssize_t n;

	if (end > m->size)
		end = m->size;
	want = end > off ? end - off : 0;
	n = pread(fd, buf, len, off);
	if (n != want)
		FAIL("pread of %lld at %lld returned %zd (%s), expected %lld",
		     len, off, n, n < 0 ? strerror(errno) : "short", want);
	for (i = 0; i < want; i++)
		if (buf[i] != model_byte(m, off + i))
			FAIL("byte at %lld: 0x%02x, expected 0x%02x", off + i,
			     buf[i], model_byte(m, off + i));
	free(buf);
}

/* The whole device matches the model: every range, a margin around each. */
static void store_matches(int fd, const struct model *m)
{
	unsigned int i;

	proc_matches(m);
	for (i = 0; i < m->n; i++) {
		long long start = m->r[i].off - m->quantum;

		bytes_match(fd, m, start < 0 ? 0 : start,
			    m->r[i].len + 2 * m->quantum);
	}
}

/* Empty scull0 and give it a geometry (nothing stored: must not be EBUSY). */
static int empty_device(long long quantum, long long qset)
{
	int fd = dev_open(0, O_RDWR | O_TRUNC);

	ASSERT_EQ(0, ioctl(fd, SCULL_IOCTQUANTUM, quantum));
	ASSERT_EQ(0, ioctl(fd, SCULL_IOCTQSET, qset));
	return fd;
}

static void store(int fd, struct model *m, long long off, long long len, uint32_t seed)
{
	unsigned char *buf = xmalloc(len);

	pattern_fill(buf, len, off, seed);
	pwrite_exact(fd, buf, len, off);
	free(buf);
	model_add(m, off, len, seed);
}

/* --- writes -------------------------------------------------------- */

struct write_case {
	const char *name;
	long long quantum, qset;
	/* stored before the write under test */
	struct { long long off, len; } before[3];
	long long off, len;	/* the write under test */
	int after_hole;		/* write at lseek(SEEK_HOLE from 0) with write() */
};

/*
 * Run one write case with its k-th allocation failing, for every k until
 * the write meets no injected failure.  After each run the store must
 * hold exactly the bytes before plus the prefix the write reported, with
 * no set or quantum more; the write must then succeed when repeated.
 */
static void write_case_run(const struct write_case *c)
{
	unsigned char *buf = xmalloc(c->len);
	struct tally t = { 0 };
	unsigned int k;

	pattern_fill(buf, c->len, c->off, 7);
	for (k = 1;; k++) {
		struct model m;
		long long off = c->off;
		ssize_t n;
		int fd, i, hit, err;

		model_init(&m, c->quantum, c->qset);
		fd = empty_device(c->quantum, c->qset);
		for (i = 0; i < 3 && c->before[i].len; i++)
			store(fd, &m, c->before[i].off, c->before[i].len, 100 + i);
		if (c->after_hole) {
			off = ASSERT_OK(lseek(fd, 0, SEEK_HOLE));
			ASSERT_EQ(c->off, off);
		}

		fail_nth_arm(k);
		if (c->after_hole)
			n = write(fd, buf, c->len);
		else
			n = pwrite(fd, buf, c->len, off);
		err = errno;
		hit = fail_nth_disarm();

		if (n < 0 && (!hit || err != ENOMEM))
			FAIL("%s, k=%u: write returned -1 (%s), %s", c->name, k,
			     strerror(err), hit ? "expected ENOMEM" : "with no failure injected");
		if (n >= 0 && n != c->len && !hit)
			FAIL("%s, k=%u: short write %zd of %lld with no failure injected",
			     c->name, k, n, c->len);
		if (n >= 0 && n > c->len)
			FAIL("%s, k=%u: write returned %zd of %lld", c->name, k, n, c->len);
		/* a write of len > 0 stores a byte or fails: 0 is neither */
		if (!n)
			FAIL("%s, k=%u: write returned 0 of %lld%s", c->name, k, c->len,
			     hit ? " after an injected failure, expected -1 (ENOMEM) or a partial count" : "");
		if (n > 0)
			model_add(&m, off, n, 7);
		/* the file position moved by exactly what was stored */
		if (c->after_hole)
			ASSERT_EQ(off + (n > 0 ? n : 0), lseek(fd, 0, SEEK_CUR));
		if (hit)
			scull_diag("%s, k=%u: %zd%s%s", c->name, k, n,
				   n < 0 ? " " : "", n < 0 ? strerror(err) : "");
		store_matches(fd, &m);

		if (!hit) {
			close(fd);
			break;
		}
		if (n < 0)
			t.enomem++;
		else if (n > 0 && n < c->len)
			t.partial++;	/* 0 < n < len: n = 0 failed above */
		else
			t.absorbed++;
		/* still usable: the same write, without a failure, stores all */
		pwrite_exact(fd, buf, c->len, off);
		model_add(&m, off, c->len, 7);
		store_matches(fd, &m);
		close(fd);
	}
	free(buf);
	/* the geometry can be restored: nothing is left behind */
	close(empty_device(SCULL_QUANTUM, SCULL_QSET));
	proc_matches(NULL);
	t.points = k - 1;
	table_row(c->name, &t, "");
}

#define MIB (1LL << 20)

TEST_TIMEOUT(write_first_byte, 600)
{
	write_case_run(&(struct write_case){
		.name = "write 1 byte at 0, empty device",
		.quantum = SCULL_QUANTUM, .qset = SCULL_QSET,
		.off = 0, .len = 1 });
}

TEST_TIMEOUT(write_three_quanta, 600)
{
	write_case_run(&(struct write_case){
		.name = "write 10000 bytes at 5000 (3 new quanta)",
		.quantum = SCULL_QUANTUM, .qset = SCULL_QSET,
		.off = 5000, .len = 10000 });
}

TEST_TIMEOUT(write_across_set_boundary, 600)
{
	write_case_run(&(struct write_case){
		.name = "write 12000 bytes across the set boundary at 2 MiB, set 0 partly stored",
		.quantum = SCULL_QUANTUM, .qset = SCULL_QSET,
		.before = { { 0, 100 } },
		.off = 2 * MIB - 6000, .len = 12000 });
}

TEST_TIMEOUT(write_into_stored_set, 600)
{
	write_case_run(&(struct write_case){
		.name = "write 9000 bytes at 4000, over a stored quantum into new ones",
		.quantum = SCULL_QUANTUM, .qset = SCULL_QSET,
		.before = { { 0, 5000 } },
		.off = 4000, .len = 9000 });
}

TEST_TIMEOUT(write_far_sparse, 600)
{
	write_case_run(&(struct write_case){
		.name = "write 2 bytes across quanta at 200 MiB + 4095 (set 100)",
		.quantum = SCULL_QUANTUM, .qset = SCULL_QSET,
		.before = { { 0, 10 }, { 64 * SET_BYTES, 10 } },
		.off = 200 * MIB + 4095, .len = 2 });
}

TEST_TIMEOUT(write_odd_geometry, 600)
{
	/* quantum 1000, qset 10: kvzalloc'ed quanta, 10000-byte sets */
	write_case_run(&(struct write_case){
		.name = "write 25000 bytes at 9500, quantum 1000 qset 10 (4 sets)",
		.quantum = 1000, .qset = 10,
		.before = { { 0, 10 } },
		.off = 9500, .len = 25000 });
}

TEST_TIMEOUT(write_after_seek_hole, 600)
{
	/* data in quanta 0-2 of set 0 and in set 1: the hole is at 12288 */
	write_case_run(&(struct write_case){
		.name = "write 8192 bytes after SEEK_HOLE (at 12288)",
		.quantum = SCULL_QUANTUM, .qset = SCULL_QSET,
		.before = { { 0, 3 * SCULL_QUANTUM }, { SET_BYTES, 100 } },
		.off = 3 * SCULL_QUANTUM, .len = 8192, .after_hole = 1 });
}

/* --- trim ---------------------------------------------------------- */

/* open(O_TRUNC) frees everything or, when the open fails, changes nothing. */
TEST_TIMEOUT(trim_by_open, 600)
{
	struct tally t = { 0 };
	unsigned int k;

	for (k = 1;; k++) {
		struct model m, empty;
		int fd, tfd, err, hit;

		model_init(&m, SCULL_QUANTUM, SCULL_QSET);
		model_init(&empty, SCULL_QUANTUM, SCULL_QSET);
		fd = empty_device(SCULL_QUANTUM, SCULL_QSET);
		store(fd, &m, 0, 3 * SCULL_QUANTUM + 5, 11);
		store(fd, &m, 3 * SET_BYTES, 100, 12);

		fail_nth_arm(k);
		tfd = open(dev_path(0), O_RDWR | O_TRUNC);
		err = errno;
		hit = fail_nth_disarm();

		if (tfd < 0 && (!hit || err != ENOMEM))
			FAIL("k=%u: open(O_TRUNC) failed: %s%s", k, strerror(err),
			     hit ? ", expected ENOMEM" : " with no failure injected");
		if (tfd >= 0) {
			store_matches(fd, &empty);
			close(tfd);
		} else {
			store_matches(fd, &m);
		}
		close(fd);
		if (!hit)
			break;
		if (tfd < 0)
			t.enomem++;
		else
			t.absorbed++;
	}
	proc_matches(NULL);
	t.points = k - 1;
	table_row("trim (open O_TRUNC) of 2 sets, 5 quanta", &t, "");
}

/* --- a fault through a mapping ------------------------------------ */

static sigjmp_buf bus_jmp;

static void on_sigbus(int sig)
{
	siglongjmp(bus_jmp, sig);
}

/*
 * A fault on a hole inside the size allocates its quantum (src/mmap.c):
 * each allocation of it failed in turn, the access gets SIGBUS -- never
 * VM_FAULT_OOM, which would only have the fault retried, with "VM_FAULT_OOM
 * leaked out" in the log -- and the store is unchanged (the set kept, no
 * quantum added); the next access allocates the quantum.
 */
TEST_TIMEOUT(mmap_fault_on_a_hole, 600)
{
	struct sigaction sa = { .sa_handler = on_sigbus };
	struct tally t = { 0 };
	volatile unsigned char *m, c;
	unsigned int k;
	int fd, sig, hit;

	if (sysconf(_SC_PAGESIZE) != SCULL_QUANTUM)
		SKIP("a quantum of one page is what this test maps");
	ASSERT_OK(sigaction(SIGBUS, &sa, NULL));
	/* MCL_FUTURE would fault the whole mapping in at mmap() */
	ASSERT_OK(munlockall());
	for (k = 1;; k++) {
		struct model mod;

		model_init(&mod, SCULL_QUANTUM, SCULL_QSET);
		fd = empty_device(SCULL_QUANTUM, SCULL_QSET);
		store(fd, &mod, 0, 1, 13);
		store(fd, &mod, 2 * SCULL_QUANTUM, 1, 14);
		m = mmap(NULL, 3 * SCULL_QUANTUM, PROT_READ, MAP_SHARED, fd, 0);
		ASSERT_TRUE(m != MAP_FAILED);
		/* its page table in place: the fault below allocates a quantum only */
		ASSERT_EQ(model_byte(&mod, 0), m[0]);

		c = 1;
		fail_nth_arm(k);
		sig = sigsetjmp(bus_jmp, 1);
		if (!sig)
			c = m[SCULL_QUANTUM];
		hit = fail_nth_disarm();

		if (sig && (!hit || sig != SIGBUS))
			FAIL("k=%u: the fault on the hole got signal %d%s", k, sig,
			     hit ? ", expected SIGBUS (7)" : " with no failure injected");
		if (sig) {
			store_matches(fd, &mod);
			t.enomem++;
			c = m[SCULL_QUANTUM];
		}
		ASSERT_EQ(0, c);
		ASSERT_EQ(3, dev_quanta(0));
		ASSERT_OK(munmap((void *)m, 3 * SCULL_QUANTUM));
		close(fd);
		if (!hit)
			break;
		if (!sig)
			t.absorbed++;
	}
	t.points = k - 1;
	if (!t.enomem)
		FAIL("no injected failure gave SIGBUS (%u points, %u absorbed)",
		     t.points, t.absorbed);
	close(empty_device(SCULL_QUANTUM, SCULL_QSET));
	table_row("fault on a hole of a mapping", &t, " (each ENOMEM a SIGBUS)");
}

/* --- geometry ioctls ------------------------------------------------ */

/*
 * Each command, on an empty device and on one holding data (EBUSY for the
 * changes): none allocates, so each has no injection point, and each
 * result is exact.
 */
TEST_TIMEOUT(geometry_ioctls, 600)
{
	static const struct {
		const char *name;
		unsigned long cmd;
		int by_ptr;		/* the argument is an int pointer */
		long arg;
		long empty;		/* result on an empty device */
		int changes;		/* a change: EBUSY with data */
	} cmds[] = {
		{ "RESET", SCULL_IOCRESET, 0, 0, 0, 1 },
		{ "SQUANTUM", SCULL_IOCSQUANTUM, 1, 2048, 0, 1 },
		{ "SQSET", SCULL_IOCSQSET, 1, 256, 0, 1 },
		{ "TQUANTUM", SCULL_IOCTQUANTUM, 0, 2048, 0, 1 },
		{ "TQSET", SCULL_IOCTQSET, 0, 256, 0, 1 },
		{ "GQUANTUM", SCULL_IOCGQUANTUM, 1, 0, 0, 0 },
		{ "GQSET", SCULL_IOCGQSET, 1, 0, 0, 0 },
		{ "QQUANTUM", SCULL_IOCQQUANTUM, 0, 0, SCULL_QUANTUM, 0 },
		{ "QQSET", SCULL_IOCQQSET, 0, 0, SCULL_QSET, 0 },
		{ "XQUANTUM", SCULL_IOCXQUANTUM, 1, 2048, 0, 1 },
		{ "XQSET", SCULL_IOCXQSET, 1, 256, 0, 1 },
		{ "HQUANTUM", SCULL_IOCHQUANTUM, 0, 2048, SCULL_QUANTUM, 1 },
		{ "HQSET", SCULL_IOCHQSET, 0, 256, SCULL_QSET, 1 },
	};
	struct tally t = { 0 };
	unsigned int i, with_data;
	char extra[64];

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		for (with_data = 0; with_data < 2; with_data++) {
			struct model m;
			long ret, want;
			int fd, err, val, hit;

			model_init(&m, SCULL_QUANTUM, SCULL_QSET);
			fd = empty_device(SCULL_QUANTUM, SCULL_QSET);
			if (with_data)
				store(fd, &m, 4096, 10, 13);
			val = cmds[i].arg;
			fail_nth_arm(1);
			errno = 0;
			ret = ioctl(fd, cmds[i].cmd,
				    cmds[i].by_ptr ? (long)&val : cmds[i].arg);
			err = errno;
			hit = fail_nth_disarm();
			if (hit)
				FAIL("SCULL_IOC%s allocated", cmds[i].name);
			want = with_data && cmds[i].changes ? -1 : cmds[i].empty;
			if (ret != want || (want < 0 && err != EBUSY))
				FAIL("SCULL_IOC%s%s: got %ld (%s), expected %ld%s",
				     cmds[i].name, with_data ? " with data" : "",
				     ret, strerror(err), want, want < 0 ? " (EBUSY)" : "");
			if (cmds[i].cmd == SCULL_IOCGQUANTUM ||
			    (cmds[i].cmd == SCULL_IOCXQUANTUM && !with_data))
				ASSERT_EQ(SCULL_QUANTUM, val);
			if (cmds[i].cmd == SCULL_IOCGQSET ||
			    (cmds[i].cmd == SCULL_IOCXQSET && !with_data))
				ASSERT_EQ(SCULL_QSET, val);
			if (with_data)
				store_matches(fd, &m);
			close(fd);
		}
	}
	close(empty_device(SCULL_QUANTUM, SCULL_QSET));
	proc_matches(NULL);
	snprintf(extra, sizeof(extra), "; 13 commands x (empty, holding data)");
	table_row("geometry ioctls", &t, extra);
}

/* --- /proc ---------------------------------------------------------- */

/*
 * open, read to the end in 100-byte reads, close: the text is whole or
 * the call fails with ENOMEM.  The devices hold data, so every line kind
 * is printed.
 */
static void proc_read_run(const char *path)
{
	char want[16384], got[16384], name[64];
	struct tally t = { 0 };
	struct model m;
	unsigned int k;
	int fd;

	model_init(&m, SCULL_QUANTUM, SCULL_QSET);
	fd = empty_device(SCULL_QUANTUM, SCULL_QSET);
	store(fd, &m, 0, 5000, 21);
	store(fd, &m, 5 * SET_BYTES + 10, 10, 22);
	read_text(path, want, sizeof(want));
	memset(got, 0, sizeof(got));	/* faulted in before any run */
	for (k = 1;; k++) {
		size_t len = 0;
		ssize_t n = 0;
		int pfd, err = 0, hit;

		fail_nth_arm(k);
		pfd = open(path, O_RDONLY);
		if (pfd < 0) {
			err = errno;
		} else {
			while ((n = read(pfd, got + len, 100)) > 0)
				len += n;
			err = errno;
			close(pfd);
		}
		hit = fail_nth_disarm();
		if ((pfd < 0 || n < 0) && (!hit || err != ENOMEM))
			FAIL("%s, k=%u: %s failed: %s", path, k, pfd < 0 ? "open" : "read",
			     strerror(err));
		if (pfd >= 0 && n == 0) {
			got[len] = '\0';
			ASSERT_STR_EQ(want, got);
		}
		store_matches(fd, &m);
		if (!hit)
			break;
		if (pfd < 0 || n < 0)
			t.enomem++;
		else
			t.absorbed++;
	}
	t.points = k - 1;
	close(fd);
	close(empty_device(SCULL_QUANTUM, SCULL_QSET));
	snprintf(name, sizeof(name), "read %s", path);
	table_row(name, &t, "");
}

TEST_TIMEOUT(proc_scullmem, 600)
{
	proc_read_run("/proc/scullmem");
}

TEST_TIMEOUT(proc_scullseq, 600)
{
	proc_read_run("/proc/scullseq");
}

/* --- module load ---------------------------------------------------- */

static int module_fd(void)
{
	const char *ko = scull_ko();
	int fd = open(ko, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		FAIL("open %s: %s", ko, strerror(errno));
	return fd;
}

static void unload_now(void)
{
	if (module_loaded() && syscall(SYS_delete_module, "scull", O_NONBLOCK))
		FAIL("delete_module scull: %s", strerror(errno));
}

/*
 * A load that worked: nr memory devices, each there and usable, and the
 * pipes and the four access-controlled devices registered beside them.
 */
static void loaded_whole(unsigned int nr)
{
	char out[64], path[64];
	unsigned int i;
	int fd;

	ASSERT_EQ(0, run_sh(out, sizeof(out), "ls /sys/class/scull | grep -c '^scull[0-9]'"));
	ASSERT_EQ(nr, atoi(out));
	ASSERT_EQ(0, run_sh(out, sizeof(out), "ls /sys/class/scull | grep -c '^scullpipe[0-9]'"));
	ASSERT_EQ(read_ll("/sys/module/scull/parameters/scull_p_nr_devs"), atoi(out));
	ASSERT_EQ(0, run_sh(out, sizeof(out),
			    "ls /sys/class/scull | grep -cxE 'scull(single|uid|wuid|priv)'"));
	ASSERT_EQ(4, atoi(out));
	ASSERT_EQ(0, run_sh(out, sizeof(out), "grep -c '^Device' /proc/scullmem"));
	ASSERT_EQ(nr, atoi(out));
	for (i = 0; i < nr; i += nr - 1 ? nr - 1 : 1) {
		snprintf(path, sizeof(path), "/dev/scull%u", i);
		fd = open(path, O_RDWR);
		if (fd < 0)
			FAIL("open %s: %s", path, strerror(errno));
		pwrite_exact(fd, "ok", 2, 4096);
		pread_exact(fd, out, 2, 4096);
		ASSERT_MEM_EQ("ok", out, 2);
		close(fd);
	}
}

/*
 * Load with fail-nth armed past any load's end: returns how many
 * allocation points the load had, and the load's result in *@ret.
 */
static unsigned int load_count(int fd, const char *params, long *ret, int *err)
{
	char buf[16];
	ssize_t n;

	fail_nth_arm(COUNT_ALL);
	*ret = syscall(SYS_finit_module, fd, params, 0);
	*err = errno;
	n = pread(fail_nth_fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		FAIL("read %s: %s", FAIL_NTH, strerror(errno));
	buf[n] = '\0';
	ASSERT_EQ(1, pwrite(fail_nth_fd, "0", 1, 0));
	return COUNT_ALL - atoi(buf);
}

/*
 * Which k run.  A load's allocation points are the module loader's (the
 * copy of the image, its sections, sysfs: the kernel's code) up to about
 * @loader, then scull_init's.  Of the loader's, every @loader_stride-th
 * runs; of scull_init's, all when @stride is 0, otherwise the first
 * @head, the last @tail before @total and every @stride-th between; and
 * every k past @total, until a load meets no failure.
 */
struct load_plan {
	unsigned int loader, loader_stride;
	unsigned int head, tail, stride;
	unsigned int total;
};

static int load_plan_runs(const struct load_plan *p, unsigned int k)
{
	if (k <= p->loader)
		return k % p->loader_stride == 0;
	if (!p->stride || k - p->loader <= p->head || k + p->tail > p->total)
		return 1;
	return (k - p->loader) % p->stride == 0;
}

/*
 * finit_module from this thread, so fail-nth applies to the whole load:
 * the module's copy and relocation, then scull_init.  udevd is stopped
 * meanwhile (devtmpfs makes the nodes): it would only slow each load.
 * Every failed load must leave nothing registered, every load that works
 * must have all its devices, and the next load must work.  Each load that
 * fails after the module's sysfs directory exists takes 1-4 s here: the
 * debug kernel delays every kobject release (DEBUG_KOBJECT_RELEASE) and
 * the loader waits for the module's.
 */
/*
 * A refused load's count of allocation points includes the loader's
 * unwinding after scull_init() returned: scull_init()'s first point comes
 * before it.  The full test starts LOADER_MARGIN points early.  The
 * sampled one (make check-debug) starts SAMPLED_MARGIN early: on the
 * sanitizer kernel the refused load counts 332 and scull_init()'s first
 * two points (the chrdev region, the class) are 329 and 330 (seen), and
 * each of the loader's points before them is a load that works, some
 * 20 s there (40 early took 11 minutes: 36 such loads).
 */
#define LOADER_MARGIN	40
#define SAMPLED_MARGIN	8

static void load_run(unsigned int nr, unsigned int loader_stride,
		     unsigned int head, unsigned int tail, unsigned int stride,
		     unsigned int samples)
{
	struct load_plan plan = { .loader_stride = loader_stride, .head = head,
				  .tail = tail, .stride = stride };
	unsigned int k, tried = 0, tried_loader = 0, margin;
	struct tally t = { 0 };
	char params[64], extra[256], failed[1024] = "";
	int fd = module_fd(), err;
	long ret;

	ASSERT_EQ(0, run_sh(NULL, 0, "udevadm control --exit; %s/scull_unload", scull_dir()));
	snprintf(params, sizeof(params), "scull_nr_devs=%u", nr);

	/* a whole load's points; then a load scull_init refuses at once (its
	 * parameters checked before it allocates): the loader's points, give
	 * or take its unwinding, which a margin of LOADER_MARGIN covers
	 */
	plan.total = load_count(fd, params, &ret, &err);
	ASSERT_EQ(0, ret);
	loaded_whole(nr);
	unload_now();
	plan.loader = load_count(fd, "scull_minor=1048575 scull_nr_devs=2", &ret, &err);
	if (ret != -1 || err != EINVAL)
		FAIL("a load with scull_minor=1048575 scull_nr_devs=2: %ld (%s), expected EINVAL",
		     ret, strerror(err));
	nothing_registered();
	/* The refused load's count is the loader's points before scull_init
	 * and those of its unwinding after (the module's sysfs directory
	 * going), so scull_init's first points come before it: every run
	 * starts a margin earlier.  @samples: about that many of scull_init's
	 * points between the first @head (counted from the refused load's
	 * count, after the margin, all of whose points run) and the last
	 * @tail, whatever their number.
	 */
	margin = samples ? SAMPLED_MARGIN : LOADER_MARGIN;
	if (margin > plan.loader)
		margin = plan.loader;
	if (samples) {
		plan.head += margin;
		if (plan.total > plan.loader + head + tail + samples)
			plan.stride = (plan.total - plan.loader - head - tail) / samples;
	}
	scull_diag("a whole load: %u allocation points; a refused load %u, the loader's and its unwinding%s",
		   plan.total, plan.loader, plan.stride ? "; sampled" : "");
	plan.loader -= margin;
	stride = plan.stride;

	for (k = 1;; k++) {
		int hit;

		if (!load_plan_runs(&plan, k))
			continue;
		tried++;
		tried_loader += k <= plan.loader;
		fail_nth_arm(k);
		ret = syscall(SYS_finit_module, fd, params, 0);
		err = errno;
		hit = fail_nth_disarm();
		if (ret && (!hit || err != ENOMEM))
			FAIL("load, k=%u: %s%s", k, strerror(err),
			     hit ? ", expected ENOMEM" : " with no failure injected");
		if (ret) {
			/* nothing of it stays */
			nothing_registered();
			t.enomem++;
			snprintf(failed + strlen(failed), sizeof(failed) - strlen(failed),
				 " %u", k);
			continue;
		}
		loaded_whole(nr);
		unload_now();
		nothing_registered();
		if (!hit)
			break;
		t.absorbed++;
	}
	close(fd);
	/* the next load works: the one that met no failure above; and the
	 * project's scripts still load it for the next test
	 */
	ASSERT_EQ(0, run_sh(NULL, 0, "/usr/lib/systemd/systemd-udevd --daemon && udevadm settle"));
	t.points = k - 1;
	scull_diag("loads that failed with ENOMEM, at k =%s", failed);
	if (loader_stride == UINT_MAX)
		snprintf(extra, sizeof(extra),
			 "; %u loads: none of the loader's first %u points, %s of the %u after",
			 tried, plan.loader, stride ? "some" : "all", k - 1 - plan.loader);
	else
		snprintf(extra, sizeof(extra),
			 "; %u loads: 1 in %u of the loader's first %u points, %s of the %u after",
			 tried, loader_stride, plan.loader,
			 stride ? "some" : "all", k - 1 - plan.loader);
	if (stride)
		snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra),
			 " (the first %u, the last %u, 1 in %u between)", plan.head, tail, stride);
	snprintf(params, sizeof(params), "load, scull_nr_devs=%u", nr);
	table_row(params, &t, extra);
}

/* --- a load that fails with a process at its nodes ------------------ */

/* Seconds a holder keeps /dev/scull0 open once it could open it. */
#define HOLD_S		3
/* Loads tried, at most, before the holder must have seen a node. */
#define NODE_TRIES	20
/* Points skipped at once while loads still work: past scull_init()'s. */
#define NODE_STRIDE	4

/* What the process at /dev/scull0 saw; shared with it. */
struct holder {
	volatile int stop;		/* the load returned: stop trying */
	int opened;			/* an open worked */
	unsigned int enxio, enoent;	/* opens that failed so */
	int other;			/* an open failed otherwise: its errno */
	double opened_at, closed_at;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Open /dev/scull0 again and again until the load returns; once an open
 * works, write, keep the file HOLD_S seconds, write past what the unwind
 * would have freed, and close.
 */
static void holder_run(struct holder *h)
{
	int fd;

	while (!h->stop) {
		fd = open("/dev/scull0", O_RDWR);
		if (fd < 0) {
			if (errno == ENXIO)
				h->enxio++;
			else if (errno == ENOENT)
				h->enoent++;
			else
				h->other = errno;
			continue;
		}
		h->opened_at = now_s();
		h->opened = 1;
		if (pwrite(fd, "held", 4, 0) != 4)
			h->other = errno;
		sleep(HOLD_S);
		if (pwrite(fd, "late", 4, 1 << 20) != 4)
			h->other = errno;
		h->closed_at = now_s();
		close(fd);
		break;
	}
	_exit(0);
}

/*
 * One load with its k-th allocation failing and a holder at /dev/scull0:
 * 1 when it failed with /dev/scull0 there (an open saw ENXIO), 0 when it
 * failed before, -1 when it worked (a point past scull_init()'s, or none:
 * the failure absorbed).
 */
static int load_with_holder(int fd, const char *params, unsigned int k,
			    struct holder *h)
{
	double start, took;
	int err, hit, status;
	long ret;
	pid_t pid;

	memset(h, 0, sizeof(*h));
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (!pid)
		holder_run(h);
	start = now_s();
	fail_nth_arm(k);
	ret = syscall(SYS_finit_module, fd, params, 0);
	err = errno;
	hit = fail_nth_disarm();
	took = now_s() - start;
	h->stop = 1;
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	if (!ret) {
		unload_now();
		return -1;
	}
	if (!hit || err != ENOMEM)
		FAIL("load, k=%u: %s%s", k, strerror(err),
		     hit ? ", expected ENOMEM" : " with no failure injected");
	if (h->opened)
		FAIL("load, k=%u: /dev/scull0 opened during a load that then failed (ENOMEM), expected ENXIO; the load returned %.1f s after that open, %s",
		     k, start + took - h->opened_at,
		     start + took >= h->closed_at ?
		     "only once the holder had closed it" : "with the file still open");
	if (h->other)
		FAIL("load, k=%u: open /dev/scull0 during the load: %s, expected ENXIO or ENOENT",
		     k, strerror(h->other));
	nothing_registered();
	if (!h->enxio)
		return 0;
	scull_diag("load, k=%u: ENOMEM after %.1f s; /dev/scull0 meanwhile: %u opens ENXIO, %u ENOENT",
		   k, took, h->enxio, h->enoent);
	return 1;
}

/*
 * A load made to fail late (fail-nth on one of scull_init()'s last
 * allocations, after /dev/scull0 is there), while another process opens
 * /dev/scull0 as soon as it appears and would write to it and keep it
 * open.  No open may work before the load is done: the load fails at
 * once, with ENOMEM, whatever that process does, and leaves nothing
 * registered (and kmemleak, after the suite, nothing leaked).  The points
 * are tried from the load's last one down, NODE_STRIDE at a time while
 * loads work (the loader's points after scull_init() returned, about 10
 * here), then one at a time, until a failed load was seen with
 * /dev/scull0 there (an open failed with ENXIO); each load takes 5-20 s
 * here.
 */
TEST_TIMEOUT(load_fails_with_a_node_open, 600)
{
	static const char params[] = "scull_nr_devs=1";
	unsigned int total, k, loads = 0;
	int fd = module_fd(), err, r = -1;
	struct holder *h;
	long ret;

	h = mmap(NULL, sizeof(*h), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(h != MAP_FAILED);
	ASSERT_EQ(0, run_sh(NULL, 0, "udevadm control --exit; %s/scull_unload", scull_dir()));
	total = load_count(fd, params, &ret, &err);
	ASSERT_EQ(0, ret);
	unload_now();
	for (k = total; r <= 0 && k > NODE_STRIDE && loads < NODE_TRIES; loads++) {
		k -= r < 0 ? NODE_STRIDE : 1;
		r = load_with_holder(fd, params, k, h);
	}
	close(fd);
	munmap(h, sizeof(*h));
	ASSERT_EQ(0, run_sh(NULL, 0, "/usr/lib/systemd/systemd-udevd --daemon && udevadm settle"));
	if (r <= 0)
		FAIL("/dev/scull0 never seen during a failed load (%u loads from point %u down)",
		     loads, total);
	scull_diag("%u loads from point %u down", loads, total);
}

/*
 * Every point of scull_init()'s own for one device (none of the module
 * loader's, which are the kernel's code).  Each load and unload there
 * waits 1-4 s for DEBUG_KOBJECT_RELEASE's delayed releases: a TEST_LONG,
 * run by make check-debug FULL=1.  make check-debug (CI) runs a sample of
 * the same points: every one from SAMPLED_MARGIN before the refused load's
 * count to 4 after it (scull_init's first points are in that margin), the
 * last 4 of the load and about 8 between, evenly spaced.  The
 * samples of the loader's points below take 15 minutes and more each
 * under TCG: they run only by name, e.g.
 * make check-debug TESTS=faults.load_4_devices.
 */
TEST_LONG(load_1_device_scull_init_points, 10800)
{
	load_run(1, UINT_MAX, 0, 0, 0, 0);
}

TEST_TIMEOUT(load_1_device_scull_init_sampled, 1200)
{
	load_run(1, UINT_MAX, 4, 4, 0, 8);
}

/* The same sample with 4 and with 256 devices, run by name. */
TEST_MANUAL(load_4_devices_sampled, 3600)
{
	load_run(4, UINT_MAX, 4, 4, 0, 8);
}

TEST_MANUAL(load_256_devices_sampled, 3600)
{
	load_run(256, UINT_MAX, 4, 4, 0, 8);
}

TEST_MANUAL(load_1_device, 3600)
{
	load_run(1, 10, 0, 0, 0, 0);
}

TEST_MANUAL(load_4_devices, 3600)
{
	load_run(4, 10, 0, 0, 0, 0);
}

TEST_MANUAL(load_256_devices, 3600)
{
	load_run(256, 10, 100, 60, 250, 0);
}

/* Every point of every load: hours under TCG, run only by name. */
TEST_MANUAL(load_every_point, 86400)
{
	load_run(1, 1, 0, 0, 0, 0);
	load_run(4, 1, 0, 0, 0, 0);
	load_run(256, 1, 0, 0, 0, 0);
}
