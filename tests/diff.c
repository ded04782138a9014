// SPDX-License-Identifier: GPL-2.0
/*
 * Differential testing: random operation sequences applied to a scull
 * minor and to a tmpfs file side by side.  Every return value, errno, byte
 * read and size must match, with scull's documented differences modelled
 * exactly:
 *   - a write stops at the size limit (-ENOSPC, or a partial count);
 *   - a write from a buffer that faults stores the bytes before the fault
 *     (-EFAULT when there are none), as tmpfs does;
 *   - opening write-only without O_APPEND trims (tmpfs: O_TRUNC);
 *   - the model knows which quanta are stored, at any geometry: a quantum
 *     is stored once a write that returned > 0 put a byte in it, until a
 *     trim.  SEEK_DATA/SEEK_HOLE must answer exactly from it (data is a
 *     stored quantum, below the size), and the geometry may change exactly
 *     when no quantum is stored (-EBUSY otherwise);
 *   - every ioctl is drawn (RESET, S, T, G, Q, X, H, for the quantum and
 *     the qset, some with a NULL pointer), as root: its return value, the
 *     int it writes back and the geometry after it must be the model's;
 *   - a fixed-capacity device (capacity_seeds) is a file of that size
 *     (made with ftruncate, and again after every trim) whose writes are
 *     clipped at its end: -ENOSPC at or past it, a partial count across.
 * Every read buffer is filled with a canary beyond the bytes asked for,
 * and nothing past the count returned may change.
 *
 * The generator is seeded and reproducible.  A mismatch prints the seed,
 * the index of the operation, and a minimal replay: the shortest sub-
 * sequence found (by delta debugging) that still mismatches.
 *
 * make check runs 125,000 operations over 32 seeds on a file-like device
 * and 20,000 over 4 seeds on a fixed-capacity one.  diff.soak, run only
 * by name (make soak), runs SCULL_DIFF_SEEDS seeds (default 100) of
 * SCULL_DIFF_OPS operations (default 100,000) from seed SCULL_DIFF_FIRST
 * (default 1000) on minor SCULL_DIFF_MINOR (default 2).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <scull.h>

#include "util.h"

#define DIFF_MAX_LEN	(1 << 20)
#define DIFF_CANARY	64	/* bytes checked past every read */
#define DIFF_READABLE	(64 << 10)	/* most bytes of a faulting source */
/*
 * tmpfs, the reference, holds at most MAX_LFS_FILESIZE bytes: 16 TiB - 4
 * KiB on a 32-bit kernel, where it misbehaves past that (a read there
 * wraps to page 0).  No offset goes beyond it; scull's own answers up to
 * LLONG_MAX are tested by seek.c and badinput.c.
 */
#define DIFF_MAX_OFF	(sizeof(long) == 4 ? 0xffffffff000LL : LLONG_MAX)

/* The minor and the tmpfs file; the soak runs one per CPU. */
static int diff_minor = 2;
static char diff_file[64] = "/tmp/scull-diff-2";

enum op_type {
	OP_READ, OP_PREAD, OP_READV, OP_WRITE, OP_PWRITE, OP_WRITEV,
	OP_LSEEK, OP_REOPEN, OP_IOCTL, OP_NR
};

static const char *const op_names[OP_NR] = {
	"read", "pread", "readv", "write", "pwrite", "writev",
	"lseek", "reopen", "ioctl",
};

struct op {
	enum op_type type;
	long long off;		/* pread/pwrite/lseek offset */
	unsigned int len;	/* bytes */
	int arg;		/* whence, open flags, or ioctl (IOC_*) */
	long long val;		/* ioctl value */
	unsigned int seed;	/* the bytes written, and the iovec split */
	int valid;		/* a write's source: 0 a whole buffer; n + 1:
				 * only n bytes readable, then a fault; an
				 * ioctl's pointer: 1 NULL */
};

/* The quanta stored: disjoint ranges [start, end) of quantum indices. */
struct quanta {
	long long (*r)[2];
	long nr, max;
};

/* Both sides and what the model knows of scull. */
struct diff {
	int fd_s, fd_t;
	int fd_size;		/* scull's sysfs size, kept open */
	int flags;		/* of the current opens */
	long long limit;
	long long capacity;	/* 0: file-like */
	long long end;		/* where writes stop: the capacity, or the limit */
	unsigned int quantum, qset;
	struct quanta stored;
	long long size;		/* tmpfs's, which scull's must equal */
	unsigned char *buf_s, *buf_t, *data;
	unsigned char *faulty;	/* DIFF_READABLE bytes, then a page that faults */
	char why[512];		/* the first mismatch */
};

/* The geometry ioctls, as op->arg. */
enum {
	IOC_RESET, IOC_S, IOC_T, IOC_G, IOC_Q, IOC_X, IOC_H, IOC_NR
};

static const char *const ioc_names[IOC_NR] = { "RESET", "S", "T", "G", "Q", "X", "H" };

static void quanta_clear(struct quanta *q)
{
	q->nr = 0;
}

/* Add [start, end), merging with the ranges it touches. */
static void quanta_add(struct quanta *q, long long start, long long end)
{
	long i = 0, j;

	while (i < q->nr && q->r[i][1] < start)
		i++;
	for (j = i; j < q->nr && q->r[j][0] <= end; j++) {
		if (q->r[j][0] < start)
			start = q->r[j][0];
		if (q->r[j][1] > end)
			end = q->r[j][1];
	}
	/* ranges i..j-1 merge into one at i */
	if (j == i) {
		if (q->nr == q->max) {
			q->max = q->max ? 2 * q->max : 64;
			q->r = realloc(q->r, q->max * sizeof(*q->r));
			if (!q->r)
				FAIL("realloc: out of memory");
		}
		memmove(&q->r[i + 1], &q->r[i], (q->nr - i) * sizeof(*q->r));
		q->nr++;
	} else {
		memmove(&q->r[i + 1], &q->r[j], (q->nr - j) * sizeof(*q->r));
		q->nr -= j - i - 1;
	}
	q->r[i][0] = start;
	q->r[i][1] = end;
}

/* The first quantum at or after k that is stored (want 1) or not (0). */
static long long quanta_next(const struct quanta *q, long long k, int want)
{
	long i;

	for (i = 0; i < q->nr; i++) {
		if (q->r[i][1] <= k)
			continue;
		if (want)
			return k > q->r[i][0] ? k : q->r[i][0];
		if (k < q->r[i][0])
			return k;
		k = q->r[i][1];
	}
	return want ? -1 : k;
}

static unsigned long long rng_state;

static unsigned long long rng(void)
{
	/* splitmix64: small, fast, and the same on every run */
	unsigned long long z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned long long rnd(unsigned long long n)
{
	return n ? rng() % n : 0;
}

/* An offset that lands on the edges where bugs live. */
static long long gen_off_any(const struct diff *d)
{
	long long q = d->quantum, span = (long long)d->quantum * d->qset;

	switch (rnd(12)) {
	case 0: return rnd(4 * q + 1);
	case 1: return rnd(8) * q + rnd(3) - 1;
	case 2: return rnd(4) * span + rnd(3) - 1;
	case 3: return rnd(4) * span + rnd(3) * q + rnd(3) - 1;
	case 4: return d->size + rnd(5) - 2;
	case 5: return d->end - rnd(DIFF_MAX_LEN);
	case 6: return d->end + rnd(5) - 2;
	case 7: return 1LL << (40 + rnd(20));
	case 8: return LLONG_MAX - rnd(4096);
	case 9: return -1 - (long long)rnd(2);
	case 10: return rnd(d->size + 1);
	default: return rnd(1 << 22);
	}
}

static long long gen_off(const struct diff *d)
{
	long long off = gen_off_any(d);

	return off > DIFF_MAX_OFF ? DIFF_MAX_OFF - (long long)rnd(4096) : off;
}

static unsigned int gen_len_any(const struct diff *d)
{
	switch (rnd(10)) {
	case 0: return 0;
	case 1: return 1 + rnd(3);
	case 2: return d->quantum - 1 + rnd(3);
	case 3: return 2 * d->quantum + rnd(3) - 1;
	case 4: return rnd(4096);
	case 5: return rnd(65536);
	case 6: return rnd(10) ? 1 + rnd(300) : DIFF_MAX_LEN - rnd(100);
	default: return 1 + rnd(16384);
	}
}

/* With quanta of a few bytes, every byte written is an allocation: keep
 * such writes short, so the seeds stay quick.
 */
static unsigned int gen_len(const struct diff *d)
{
	unsigned int len = gen_len_any(d);

	return d->quantum < 512 && len > 16384 ? 16384 : len;
}

static const int open_flags[] = {
	O_RDWR, O_RDWR, O_RDONLY, O_WRONLY, O_RDWR | O_APPEND,
	O_WRONLY | O_APPEND, O_RDWR | O_TRUNC, O_RDONLY | O_TRUNC,
};

static const long long geometry_values[] = {
	1, 2, 3, 7, 100, 1000, 4096, 4096, 4096, 8192, 65536, 0, -1,
	SCULL_QUANTUM_MAX + 1, 1LL << 33,
};

static const long long qset_values[] = {
	1, 2, 3, 8, 64, 512, 512, 1000, SCULL_QSET_MAX, SCULL_QSET_MAX + 1, 0,
};

/*
 * For one write in 16: how many bytes of its source can be read before
 * it faults.  None (-EFAULT), any number, or often just enough to end on
 * a quantum's edge, where a write must not leave behind a quantum it
 * stored nothing in.
 */
static unsigned int gen_readable(const struct diff *d, const struct op *op)
{
	long long pos = op->type == OP_PWRITE ? op->off : lseek(d->fd_t, 0, SEEK_CUR);
	long long edge;

	if (d->flags & O_APPEND)
		pos = d->size;
	switch (rnd(4)) {
	case 0:
		return 0;
	case 1:
		return rnd(DIFF_READABLE + 1);
	default:
		if (pos < 0)
			return 0;
		edge = (d->quantum - pos % d->quantum) % d->quantum + rnd(3) * d->quantum;
		return edge <= DIFF_READABLE ? (unsigned int)edge : rnd(DIFF_READABLE + 1);
	}
}

static void gen_op(const struct diff *d, struct op *op)
{
	unsigned int r = rnd(100);

	memset(op, 0, sizeof(*op));
	op->seed = rng();
	op->len = gen_len(d);
	op->off = gen_off(d);
	if (r < 12) {
		op->type = OP_READ;
	} else if (r < 27) {
		op->type = OP_PREAD;
	} else if (r < 32) {
		op->type = OP_READV;
	} else if (r < 44) {
		op->type = OP_WRITE;
	} else if (r < 62) {
		op->type = OP_PWRITE;
	} else if (r < 68) {
		op->type = OP_WRITEV;
	} else if (r < 84) {
		static const int whences[] = {
			SEEK_SET, SEEK_SET, SEEK_CUR, SEEK_END, SEEK_DATA,
			SEEK_HOLE, 7,
		};

		op->type = OP_LSEEK;
		op->arg = whences[rnd(7)];
		if (op->arg == SEEK_CUR || op->arg == SEEK_END)
			op->off = rnd(2) ? -(long long)rnd(65536) : op->off;
	} else if (r < 93) {
		op->type = OP_REOPEN;
		op->arg = open_flags[rnd(8)];
	} else {
		/* arg: the command (IOC_*) times 2, plus 1 for the qset */
		op->type = OP_IOCTL;
		op->arg = rnd(2 * IOC_NR);
		op->val = op->arg & 1 ? qset_values[rnd(11)] : geometry_values[rnd(15)];
		op->valid = !rnd(8);
	}
	if (op->type >= OP_WRITE && op->type <= OP_WRITEV && !rnd(16))
		op->valid = 1 + gen_readable(d, op);
}

/* The bytes a write stores: cheap to make, different for every seed. */
static void data_fill(unsigned char *buf, unsigned int len, unsigned int seed)
{
	unsigned long long x = seed * 0x9e3779b97f4a7c15ULL + 1;
	unsigned int i;

	for (i = 0; i + 8 <= len; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(buf + i, &x, 8);
	}
	for (; i < len; i++)
		buf[i] = x >> (8 * (i % 8));
}

static void op_print(const struct op *op, unsigned int i)
{
	printf("#   %5u: %-8s off=%lld len=%u arg=0x%x val=%lld seed=%u valid=%d\n",
	       i, op_names[op->type], op->off, op->len, op->arg, op->val,
	       op->seed, op->valid);
}

#define MISMATCH(d, ...) ({ snprintf((d)->why, sizeof((d)->why), __VA_ARGS__); -1; })

/* Compare two results: the value, and errno when both failed. */
static int same(struct diff *d, const char *what, long long rs, int es,
		long long rt, int et)
{
	if (rs != rt || (rs < 0 && es != et))
		return MISMATCH(d, "%s: scull %lld (%s), tmpfs %lld (%s)", what,
				rs, rs < 0 ? strerror(es) : "ok", rt,
				rt < 0 ? strerror(et) : "ok");
	return 0;
}

/* scull's size: a sysfs attribute is generated anew by each read from 0. */
static long long scull_size(struct diff *d)
{
	char buf[32];
	ssize_t n = pread(d->fd_size, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		FAIL("reading the size of scull%d: %s", diff_minor, strerror(errno));
	buf[n] = '\0';
	return atoll(buf);
}

static int check_size(struct diff *d)
{
	struct stat st;
	long long size;

	if (fstat(d->fd_t, &st))
		FAIL("fstat: %s", strerror(errno));
	d->size = st.st_size;
	size = scull_size(d);
	if (size != d->size)
		return MISMATCH(d, "size: scull %lld, tmpfs %lld", size, d->size);
	return 0;
}

static int do_open(struct diff *d, int flags)
{
	int tflags = flags;

	/* scull trims on a write-only open without O_APPEND */
	if ((flags & O_ACCMODE) == O_WRONLY && !(flags & O_APPEND))
		tflags |= O_TRUNC;
	if (tflags & O_TRUNC)
		quanta_clear(&d->stored);
	d->fd_s = open(dev_path(diff_minor), flags);
	d->fd_t = open(diff_file, tflags | O_CREAT, 0600);
	if (d->fd_s < 0 || d->fd_t < 0)
		FAIL("open with flags 0x%x: %s", flags, strerror(errno));
	/* a trimmed fixed-capacity device keeps its size, all zeros (by
	 * path: the file may be open read-only)
	 */
	if (d->capacity && (tflags & O_TRUNC) && truncate(diff_file, d->capacity))
		FAIL("truncate: %s", strerror(errno));
	d->flags = flags;
	return check_size(d);
}

/* Split len bytes into 1 to 4 iovecs, the same way for both sides. */
static int split(struct iovec *iov, void *base, unsigned int len,
		 unsigned int seed)
{
	int n = 1 + seed % 4, i;
	unsigned int left = len;

	for (i = 0; i < n; i++) {
		unsigned int part = i == n - 1 ? left : (seed >> (8 * i)) % (left + 1);

		iov[i].iov_base = (char *)base + (len - left);
		iov[i].iov_len = part;
		left -= part;
	}
	return n;
}

/* The canary byte at i of a read buffer: never all one value. */
static unsigned char canary(size_t i, unsigned int seed)
{
	return (i * 131 + seed) | 1;
}

static int do_read(struct diff *d, const struct op *op)
{
	size_t total = op->len + DIFF_CANARY, i;
	struct iovec vs[4], vt[4];
	ssize_t rs, rt;
	int es, et, n;

	for (i = 0; i < total; i++)
		d->buf_s[i] = d->buf_t[i] = canary(i, op->seed);
	errno = 0;
	switch (op->type) {
	case OP_READ:
		rs = read(d->fd_s, d->buf_s, op->len);
		es = errno;
		rt = read(d->fd_t, d->buf_t, op->len);
		break;
	case OP_PREAD:
		rs = pread(d->fd_s, d->buf_s, op->len, op->off);
		es = errno;
		rt = pread(d->fd_t, d->buf_t, op->len, op->off);
		break;
	default:
		n = split(vs, d->buf_s, op->len, op->seed);
		split(vt, d->buf_t, op->len, op->seed);
		rs = readv(d->fd_s, vs, n);
		es = errno;
		rt = readv(d->fd_t, vt, n);
		break;
	}
	et = errno;
	if (same(d, op_names[op->type], rs, es, rt, et))
		return -1;
	for (i = 0; i < (size_t)(rs > 0 ? rs : 0); i++)
		if (d->buf_s[i] != d->buf_t[i])
			return MISMATCH(d, "%s: byte %zu of %zd differs: scull 0x%02x, tmpfs 0x%02x",
					op_names[op->type], i, rs, d->buf_s[i], d->buf_t[i]);
	for (; i < total; i++)
		if (d->buf_s[i] != canary(i, op->seed))
			return MISMATCH(d, "%s: returned %zd of %u bytes, and changed byte %zu past them",
					op_names[op->type], rs, op->len, i);
	return 0;
}

/*
 * The position a write would start at, for the model of the limit; -1
 * when the VFS refuses the call before scull sees it.
 */
static long long write_pos(struct diff *d, const struct op *op)
{
	long long pos = op->type == OP_PWRITE ? op->off : lseek(d->fd_t, 0, SEEK_CUR);

	/* the VFS checks the offset it is given, even with O_APPEND */
	if (pos < 0 || pos > LLONG_MAX - (long long)op->len)
		return -1;
	return d->flags & O_APPEND ? d->size : pos;
}

/* One write call: fd, from buf, len bytes, split as op says. */
static ssize_t write_call(int fd, const struct op *op, unsigned char *buf,
			  unsigned int len)
{
	struct iovec v[4];
	unsigned int left = len;
	int n, i;

	switch (op->type) {
	case OP_WRITE:
		return write(fd, buf, len);
	case OP_PWRITE:
		return pwrite(fd, buf, len, op->off);
	default:
		/* op's split of op->len bytes, cut to len */
		n = split(v, buf, op->len, op->seed);
		for (i = 0; i < n; i++) {
			if (v[i].iov_len > left)
				v[i].iov_len = left;
			left -= v[i].iov_len;
		}
		return writev(fd, v, n);
	}
}

/*
 * scull gets op as drawn, its source faulting after op->valid - 1 bytes
 * when op->valid is set; tmpfs gets, from a sound buffer, the bytes the
 * model says scull stores: what fits under the limit and comes before the
 * fault.  When none do and the call reaches the driver, scull fails alone
 * (-ENOSPC at or past the limit, else -EFAULT) and tmpfs is not called.
 * The quanta the stored bytes touch become stored.
 */
static int do_write(struct diff *d, const struct op *op)
{
	unsigned int len = op->len;
	unsigned char *src = d->data;
	long long pos, rs, rt;
	int es, et = 0, expect = 0, reaches = 0, cut = 0;

	data_fill(d->data, len, op->seed);
	if (op->valid) {
		unsigned int readable = op->valid - 1;

		src = d->faulty + DIFF_READABLE - readable;
		memcpy(src, d->data, readable < len ? readable : len);
	}
	pos = write_pos(d, op);
	/* what reaches scull's store: what fits under the end and the fault */
	if (pos >= 0 && len && (d->flags & O_ACCMODE) != O_RDONLY) {
		reaches = 1;
		if (pos >= d->end)
			len = 0, expect = ENOSPC;
		else if (pos + len > d->end)
			len = d->end - pos;
		if (op->valid && len > (unsigned int)op->valid - 1) {
			len = op->valid - 1;
			cut = 1;
		}
	}
	errno = 0;
	rs = write_call(d->fd_s, op, src, op->len);
	es = errno;
	/*
	 * A copy from user space may stop a little short of a fault (not on
	 * x86_64: util.h's COPY_SLACK); the model takes scull's count when
	 * it is that close.
	 */
	if (cut && rs < (long long)len && len - (rs > 0 ? rs : 0) <= COPY_SLACK)
		len = rs > 0 ? rs : 0;
	if (reaches && !len && !expect)
		expect = EFAULT;
	if (expect) {
		rt = -1;
		et = expect;
	} else {
		rt = write_call(d->fd_t, op, d->data, len);
		et = errno;
	}
	if (same(d, op_names[op->type], rs, es, rt, et))
		return -1;
	if (rs > 0)
		quanta_add(&d->stored, pos / d->quantum, (pos + rs - 1) / d->quantum + 1);
	return check_size(d);
}

/* SEEK_DATA and SEEK_HOLE from the model: -ENXIO, or the offset. */
static long long seek_model(struct diff *d, long long off, int whence)
{
	long long q = d->quantum, k;

	if (off < 0 || off >= d->size)
		return -ENXIO;
	k = quanta_next(&d->stored, off / q, whence == SEEK_DATA);
	if (whence == SEEK_DATA) {
		if (k < 0 || k * q >= d->size)
			return -ENXIO;
		return k * q > off ? k * q : off;
	}
	k = k * q > off ? k * q : off;
	return k < d->size ? k : d->size;
}

static int do_lseek(struct diff *d, const struct op *op)
{
	long long rs, rt, expect;
	int es, et;

	/* a position tmpfs cannot take (32-bit): not tried */
	if (op->arg == SEEK_CUR || op->arg == SEEK_END) {
		long long base = op->arg == SEEK_END ? d->size : lseek(d->fd_t, 0, SEEK_CUR);

		if (!__builtin_add_overflow(base, op->off, &expect) &&
		    expect > DIFF_MAX_OFF)
			return 0;
	}
	errno = 0;
	rs = lseek(d->fd_s, op->off, op->arg);
	es = errno;
	if (op->arg == SEEK_DATA || op->arg == SEEK_HOLE) {
		expect = seek_model(d, op->off, op->arg);
		if (expect < 0 ? rs != -1 || es != -expect : rs != expect)
			return MISMATCH(d, "lseek %s at %lld of %lld (quantum %u): %lld (%s), expected %lld",
					op->arg == SEEK_DATA ? "SEEK_DATA" : "SEEK_HOLE",
					op->off, d->size, d->quantum, rs,
					rs < 0 ? strerror(es) : "ok", expect);
		/* keep the positions together */
		if (rs >= 0 && lseek(d->fd_t, rs, SEEK_SET) != rs)
			FAIL("lseek tmpfs: %s", strerror(errno));
		return 0;
	}
	rt = lseek(d->fd_t, op->off, op->arg);
	et = errno;
	return same(d, "lseek", rs, es, rt, et);
}

static int do_reopen(struct diff *d, const struct op *op)
{
	close(d->fd_s);
	close(d->fd_t);
	return do_open(d, op->arg);
}

/*
 * A geometry ioctl and its model.  Errors come in scull's order: -EFAULT
 * (a pointer that cannot be read), -EINVAL (a value out of range, or a
 * set over SCULL_QSET_BYTES_MAX), -EBUSY (a quantum is stored).  S and X
 * take an int, T and H the argument itself (an unsigned long).
 */
static int do_ioctl(struct diff *d, const struct op *op)
{
	static const unsigned long cmds[IOC_NR][2] = {
		[IOC_RESET] = { SCULL_IOCRESET, SCULL_IOCRESET },
		[IOC_S] = { SCULL_IOCSQUANTUM, SCULL_IOCSQSET },
		[IOC_T] = { SCULL_IOCTQUANTUM, SCULL_IOCTQSET },
		[IOC_G] = { SCULL_IOCGQUANTUM, SCULL_IOCGQSET },
		[IOC_Q] = { SCULL_IOCQQUANTUM, SCULL_IOCQQSET },
		[IOC_X] = { SCULL_IOCXQUANTUM, SCULL_IOCXQSET },
		[IOC_H] = { SCULL_IOCHQUANTUM, SCULL_IOCHQSET },
	};
	int ioc = op->arg >> 1, qset = op->arg & 1, val = op->val, *ptr = &val;
	long long old = qset ? d->qset : d->quantum, nv, q, s, expect, ret;
	int err = 0, sets = 0, back = val, e;
	unsigned long arg;

	if (op->valid)
		ptr = NULL;
	switch (ioc) {
	case IOC_RESET:
		q = SCULL_QUANTUM;
		s = SCULL_QSET;
		sets = 1;
		break;
	case IOC_S:
	case IOC_X:
	case IOC_T:
	case IOC_H:
		/* through an int pointer the value is an int, sign-extended */
		nv = ioc == IOC_S || ioc == IOC_X ? (long long)(int)op->val : op->val;
		if (nv < 0)
			nv = LLONG_MAX;		/* an unsigned long: huge */
		q = qset ? d->quantum : nv;
		s = qset ? nv : d->qset;
		sets = 1;
		if ((ioc == IOC_S || ioc == IOC_X) && !ptr)
			err = EFAULT;
		break;
	default:	/* G and Q */
		q = d->quantum;
		s = d->qset;
		if (ioc == IOC_G && !ptr)
			err = EFAULT;
		break;
	}
	if (sets && !err) {
		if (q < 1 || q > SCULL_QUANTUM_MAX || s < 1 || s > SCULL_QSET_MAX ||
		    q * s > SCULL_QSET_BYTES_MAX)
			err = EINVAL;
		else if (d->stored.nr)
			err = EBUSY;
	}
	expect = err ? -1 : ioc == IOC_Q || ioc == IOC_H ? old : 0;
	if (ioc == IOC_G && !err)
		back = old;
	if (ioc == IOC_X && !err)
		back = old;

	arg = ioc == IOC_T || ioc == IOC_H ? (unsigned long)op->val : (unsigned long)ptr;
	errno = 0;
	ret = ioctl(d->fd_s, cmds[ioc][qset], arg);
	e = errno;
	if (ret != expect || (ret < 0 && e != err) || val != back)
		return MISMATCH(d, "ioctl %s %s %lld%s, %s, geometry %u/%u: "
				"%lld (%s), int %d; expected %lld (%s), int %d",
				ioc_names[ioc], qset ? "qset" : "quantum", op->val,
				ptr ? "" : " (NULL pointer)",
				d->stored.nr ? "quanta stored" : "no quantum stored",
				d->quantum, d->qset, ret, ret < 0 ? strerror(e) : "ok",
				val, expect, err ? strerror(err) : "ok", back);
	if (sets && !err) {
		d->quantum = q;
		d->qset = s;
	}
	return 0;
}

static int do_op(struct diff *d, const struct op *op)
{
	switch (op->type) {
	case OP_READ:
	case OP_PREAD:
	case OP_READV:
		return do_read(d, op);
	case OP_WRITE:
	case OP_PWRITE:
	case OP_WRITEV:
		return do_write(d, op);
	case OP_LSEEK:
		return do_lseek(d, op);
	case OP_REOPEN:
		return do_reopen(d, op);
	default:
		return do_ioctl(d, op);
	}
}

/* The device's capacity, through sysfs (0: file-like). */
static void capacity_set(long long capacity)
{
	char path[64], text[32];
	int fd;

	snprintf(path, sizeof(path), "/sys/class/scull/scull%d/capacity", diff_minor);
	snprintf(text, sizeof(text), "%lld", capacity);
	fd = open(path, O_WRONLY);
	if (fd < 0 || write(fd, text, strlen(text)) < 0)
		FAIL("setting %s to %s: %s", path, text, strerror(errno));
	close(fd);
}

/* From a fresh start, run ops[0..n) where keep[i]; the failing index or -1. */
static long run_ops(struct diff *d, const struct op *ops, long n, const char *keep)
{
	long i;

	if (d->fd_s >= 0) {
		close(d->fd_s);
		close(d->fd_t);
	}
	d->fd_s = open(dev_path(diff_minor), O_RDWR | O_TRUNC);
	if (d->fd_s < 0 || ioctl(d->fd_s, SCULL_IOCRESET))
		FAIL("resetting scull%d: %s", diff_minor, strerror(errno));
	close(d->fd_s);
	capacity_set(d->capacity);
	unlink(diff_file);
	d->quantum = SCULL_QUANTUM;
	d->qset = SCULL_QSET;
	quanta_clear(&d->stored);
	d->why[0] = '\0';
	if (do_open(d, O_RDWR | (d->capacity ? O_TRUNC : 0)))
		return 0;
	for (i = 0; i < n; i++)
		if ((!keep || keep[i]) && do_op(d, &ops[i]))
			return i;
	return -1;
}

/* Delta debugging: drop chunks of operations while the mismatch stays. */
static void minimize(struct diff *d, const struct op *ops, long n)
{
	char *keep = xmalloc(n), *trial = xmalloc(n);
	long chunk, i, j, kept = n;

	memset(keep, 1, n);
	for (chunk = n / 2; chunk >= 1; chunk /= 2) {
		for (i = 0; i < n; i += chunk) {
			memcpy(trial, keep, n);
			for (j = i; j < i + chunk && j < n; j++)
				trial[j] = 0;
			if (!memcmp(trial, keep, n))
				continue;
			if (run_ops(d, ops, n, trial) >= 0)
				memcpy(keep, trial, n);
		}
	}
	for (i = 0, kept = 0; i < n; i++)
		kept += keep[i];
	run_ops(d, ops, n, keep);
	printf("# minimal replay: %ld of %ld operations, from a trimmed device "
	       "and an empty file, opened O_RDWR; it fails with: %s\n", kept, n, d->why);
	for (i = 0; i < n; i++)
		if (keep[i])
			op_print(&ops[i], i);
	free(keep);
	free(trial);
}

/* Run one seed on a device of @capacity (0: file-like); the operations done. */
static long diff_seed(unsigned long long seed, long nops, long long capacity)
{
	struct op *ops = xmalloc(nops * sizeof(*ops));
	struct diff d = { .fd_s = -1, .fd_t = -1 };
	char path[64];
	long i, bad;

	snprintf(path, sizeof(path), "/sys/class/scull/scull%d/size", diff_minor);
	d.fd_size = open(path, O_RDONLY);
	if (d.fd_size < 0)
		FAIL("open %s: %s", path, strerror(errno));

	d.buf_s = xmalloc(DIFF_MAX_LEN + DIFF_CANARY);
	d.buf_t = xmalloc(DIFF_MAX_LEN + DIFF_CANARY);
	d.faulty = mmap(NULL, DIFF_READABLE + 4096, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (d.faulty == MAP_FAILED || mprotect(d.faulty + DIFF_READABLE, 4096, PROT_NONE))
		FAIL("mmap: %s", strerror(errno));
	d.data = xmalloc(DIFF_MAX_LEN);
	d.limit = sysfs_attr(diff_minor, "size_limit");
	d.capacity = capacity;
	d.end = capacity ? capacity : d.limit;
	d.quantum = SCULL_QUANTUM;
	d.qset = SCULL_QSET;
	/* generate as we go: the model steers the generator */
	rng_state = seed;
	run_ops(&d, ops, 0, NULL);
	for (i = 0; i < nops; i++) {
		gen_op(&d, &ops[i]);
		if (do_op(&d, &ops[i])) {
			printf("# seed %llu: operation %ld mismatches: %s\n", seed, i, d.why);
			op_print(&ops[i], i);
			bad = run_ops(&d, ops, i + 1, NULL);
			if (bad < 0)
				FAIL("seed %llu: the mismatch at %ld does not replay", seed, i);
			minimize(&d, ops, i + 1);
			FAIL("seed %llu, operation %ld: scull and tmpfs differ", seed, i);
		}
	}
	if (check_size(&d))
		FAIL("seed %llu: at the end: %s", seed, d.why);
	if (capacity)
		capacity_set(0);
	close(d.fd_s);
	close(d.fd_t);
	close(d.fd_size);
	unlink(diff_file);
	free(ops);
	free(d.buf_s);
	free(d.buf_t);
	free(d.data);
	free(d.stored.r);
	munmap(d.faulty, DIFF_READABLE + 4096);
	return nops;
}

static void diff_seeds(unsigned long long first, unsigned int seeds, long nops,
		       long long capacity)
{
	unsigned long long s;
	long total = 0;

	nops = scaled(nops);

	for (s = first; s < first + seeds; s++)
		total += diff_seed(s, nops, capacity);
	scull_diag("%ld operations, seeds %llu-%llu, each checked against tmpfs%s",
		   total, first, first + seeds - 1,
		   capacity ? " (fixed capacity)" : "");
}

/* 125,000 operations in make check, over four tests (fewer with
 * SCULL_TEST_SCALE: every tiny quantum costs a lot on the debug kernel).
 */
TEST_TIMEOUT(seeds_1_to_5, 600)
{
	diff_seeds(1, 5, 5000, 0);
}

TEST_TIMEOUT(seeds_6_to_10, 600)
{
	diff_seeds(6, 5, 5000, 0);
}

TEST_TIMEOUT(seeds_11_to_12_long, 600)
{
	diff_seeds(11, 2, 25000, 0);
}

TEST_TIMEOUT(seeds_13_to_32, 600)
{
	diff_seeds(13, 20, 1250, 0);
}

/*
 * 20,000 operations on a fixed-capacity device: a file of 3 MiB and 7
 * bytes (no quantum's edge, one set and a half), its writes clipped there.
 */
TEST_TIMEOUT(capacity_seeds_33_to_36, 600)
{
	diff_seeds(33, 4, 5000, (3 << 20) + 7);
}

/*
 * make soak runs two of these at once, each on its own minor
 * (SCULL_DIFF_MINOR): util.c's setup, which resets every device, would trim
 * the other's minor under it and meet scullsingle held open by the other
 * (EBUSY).  Each seed resets its own minor (run_ops()); here the module
 * need only be loaded.
 */
void scull_setup(void)
{
	if (!getenv("SCULL_DIFF_MINOR"))
		scull_restore();
	else
		ASSERT_TRUE(module_loaded());
}

/*
 * make soak: SCULL_DIFF_SEEDS seeds of SCULL_DIFF_OPS operations each, from
 * seed SCULL_DIFF_FIRST, on minor SCULL_DIFF_MINOR.
 */
TEST_MANUAL(soak, 86400)
{
	const char *seeds = getenv("SCULL_DIFF_SEEDS");
	const char *nops = getenv("SCULL_DIFF_OPS");
	const char *first = getenv("SCULL_DIFF_FIRST");
	const char *minor = getenv("SCULL_DIFF_MINOR");

	if (minor) {
		diff_minor = atoi(minor);
		snprintf(diff_file, sizeof(diff_file), "/tmp/scull-diff-%d", diff_minor);
	}
	diff_seeds(first ? atoll(first) : 1000, seeds ? atoi(seeds) : 100,
		   nops ? atol(nops) : 100000, 0);
}
