// SPDX-License-Identifier: GPL-2.0
/*
 * Differential testing: random operation sequences applied to a scull
 * minor and to a tmpfs file side by side.  Every return value, errno, byte
 * read and size must match, with scull's documented differences modelled:
 *   - a write stops at the size limit (-ENOSPC, or a partial count);
 *   - opening write-only without O_APPEND trims (tmpfs: O_TRUNC);
 *   - the geometry ioctls exist (tmpfs has none): -EINVAL out of range,
 *     -EBUSY while data is held;
 *   - SEEK_DATA/SEEK_HOLE work per quantum: compared with tmpfs (pages)
 *     when the quantum is a page, checked for range otherwise.
 *
 * The generator is seeded and reproducible.  A mismatch prints the seed,
 * the index of the operation, and a minimal replay: the shortest sub-
 * sequence found (by delta debugging) that still mismatches.
 *
 * make check runs 125,000 operations over 32 seeds.  diff.soak, run only
 * by name (make soak), runs SCULL_DIFF_SEEDS seeds (default 100) of
 * SCULL_DIFF_OPS operations (default 100,000) from seed SCULL_DIFF_FIRST
 * (default 1000) on minor SCULL_DIFF_MINOR (default 2).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <scull.h>

#include "util.h"

#define DIFF_MAX_LEN	(1 << 20)

/* The minor and the tmpfs file; the soak runs one per CPU. */
static int diff_minor = 2;
static char diff_file[64] = "/tmp/scull-diff-2";

enum op_type {
	OP_READ, OP_PREAD, OP_READV, OP_WRITE, OP_PWRITE, OP_WRITEV,
	OP_LSEEK, OP_REOPEN, OP_GEOMETRY, OP_NR
};

static const char *const op_names[OP_NR] = {
	"read", "pread", "readv", "write", "pwrite", "writev",
	"lseek", "reopen", "geometry",
};

struct op {
	enum op_type type;
	long long off;		/* pread/pwrite/lseek offset */
	unsigned int len;	/* bytes */
	int arg;		/* whence, open flags, or geometry field */
	long long val;		/* geometry value */
	unsigned int seed;	/* the bytes written, and the iovec split */
};

/* Both sides and what the model knows of scull. */
struct diff {
	int fd_s, fd_t;
	int fd_size;		/* scull's sysfs size, kept open */
	int flags;		/* of the current opens */
	long long limit;
	unsigned int quantum, qset;
	long long size;		/* tmpfs's, which scull's must equal */
	unsigned char *buf_s, *buf_t, *data;
	char why[512];		/* the first mismatch */
};

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
static long long gen_off(const struct diff *d)
{
	long long q = d->quantum, span = (long long)d->quantum * d->qset;

	switch (rnd(12)) {
	case 0: return rnd(4 * q + 1);
	case 1: return rnd(8) * q + rnd(3) - 1;
	case 2: return rnd(4) * span + rnd(3) - 1;
	case 3: return rnd(4) * span + rnd(3) * q + rnd(3) - 1;
	case 4: return d->size + rnd(5) - 2;
	case 5: return d->limit - rnd(DIFF_MAX_LEN);
	case 6: return d->limit + rnd(5) - 2;
	case 7: return 1LL << (40 + rnd(20));
	case 8: return LLONG_MAX - rnd(4096);
	case 9: return -1 - (long long)rnd(2);
	case 10: return rnd(d->size + 1);
	default: return rnd(1 << 22);
	}
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
	} else if (r < 95) {
		op->type = OP_REOPEN;
		op->arg = open_flags[rnd(8)];
	} else {
		op->type = OP_GEOMETRY;
		op->arg = rnd(2);
		op->val = op->arg ? qset_values[rnd(11)] : geometry_values[rnd(15)];
	}
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
	printf("#   %5u: %-8s off=%lld len=%u arg=0x%x val=%lld seed=%u\n", i,
	       op_names[op->type], op->off, op->len, op->arg, op->val, op->seed);
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
	d->fd_s = open(dev_path(diff_minor), flags);
	d->fd_t = open(diff_file, tflags | O_CREAT, 0600);
	if (d->fd_s < 0 || d->fd_t < 0)
		FAIL("open with flags 0x%x: %s", flags, strerror(errno));
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

static int do_read(struct diff *d, const struct op *op)
{
	struct iovec vs[4], vt[4];
	ssize_t rs, rt;
	int es, et, n;

	memset(d->buf_s, 0xaa, op->len);
	memset(d->buf_t, 0x55, op->len);
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
	if (rs > 0 && memcmp(d->buf_s, d->buf_t, rs)) {
		ssize_t i;

		for (i = 0; d->buf_s[i] == d->buf_t[i]; i++)
			;
		return MISMATCH(d, "%s: byte %zd of %zd differs: scull 0x%02x, tmpfs 0x%02x",
				op_names[op->type], i, rs, d->buf_s[i], d->buf_t[i]);
	}
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

static int do_write(struct diff *d, const struct op *op)
{
	unsigned int len = op->len;
	struct iovec vs[4], vt[4];
	long long pos, rs, rt;
	int es, et = 0, n, to_tmpfs;

	data_fill(d->data, len, op->seed);
	pos = write_pos(d, op);
	/* what fits under scull's limit goes to tmpfs too */
	if (pos >= 0 && len && (d->flags & O_ACCMODE) != O_RDONLY) {
		if (pos >= d->limit)
			len = 0;
		else if (pos + len > d->limit)
			len = d->limit - pos;
	}
	/* nothing fits: scull's -ENOSPC has no tmpfs call to compare with */
	to_tmpfs = len || !op->len;
	errno = 0;
	switch (op->type) {
	case OP_WRITE:
		rs = write(d->fd_s, d->data, op->len);
		es = errno;
		rt = to_tmpfs ? write(d->fd_t, d->data, len) : -1;
		break;
	case OP_PWRITE:
		rs = pwrite(d->fd_s, d->data, op->len, op->off);
		es = errno;
		rt = to_tmpfs ? pwrite(d->fd_t, d->data, len, op->off) : -1;
		break;
	default:
		n = split(vs, d->data, op->len, op->seed);
		rs = writev(d->fd_s, vs, n);
		es = errno;
		/* the same split, cut at the limit */
		split(vt, d->data, op->len, op->seed);
		{
			unsigned int left = len;
			int i;

			for (i = 0; i < n; i++) {
				if (vt[i].iov_len > left)
					vt[i].iov_len = left;
				left -= vt[i].iov_len;
			}
		}
		rt = to_tmpfs ? writev(d->fd_t, vt, n) : -1;
		break;
	}
	if (!to_tmpfs)
		errno = ENOSPC;		/* the model: at or past the limit */
	et = errno;
	if (same(d, op_names[op->type], rs, es, rt, et))
		return -1;
	return check_size(d);
}

static int do_lseek(struct diff *d, const struct op *op)
{
	long long rs, rt;
	int es, et;

	errno = 0;
	rs = lseek(d->fd_s, op->off, op->arg);
	es = errno;
	if ((op->arg == SEEK_DATA || op->arg == SEEK_HOLE) && d->quantum != 4096) {
		/* quantum granularity: only the range can be checked */
		long long lo = op->off;

		if (op->off < 0 || op->off >= d->size) {
			if (rs != -1 || es != ENXIO)
				return MISMATCH(d, "lseek %d at %lld of %lld: %lld, expected ENXIO",
						op->arg, op->off, d->size, rs);
		} else if (rs == -1 ? !(op->arg == SEEK_DATA && es == ENXIO) :
			   rs < lo || rs > d->size || (op->arg == SEEK_DATA && rs == d->size)) {
			return MISMATCH(d, "lseek %d at %lld of %lld: %lld (%s) out of range",
					op->arg, op->off, d->size, rs, strerror(es));
		}
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

static int do_geometry(struct diff *d, const struct op *op)
{
	long long q = op->arg ? d->quantum : op->val;
	long long s = op->arg ? op->val : d->qset;
	int expect = 0, ret, fd = d->fd_s;

	if (q < 1 || q > SCULL_QUANTUM_MAX || s < 1 || s > SCULL_QSET_MAX ||
	    q * s > SCULL_QSET_BYTES_MAX)
		expect = EINVAL;
	else if (d->size)
		expect = EBUSY;
	errno = 0;
	ret = ioctl(fd, op->arg ? SCULL_IOCTQSET : SCULL_IOCTQUANTUM, (unsigned long)op->val);
	if (expect ? ret != -1 || errno != expect : ret != 0)
		return MISMATCH(d, "geometry %s=%lld with %lld bytes: %d (%s), expected %s",
				op->arg ? "qset" : "quantum", op->val, d->size, ret,
				ret ? strerror(errno) : "ok", expect ? strerror(expect) : "ok");
	if (!expect) {
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
		return do_geometry(d, op);
	}
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
	unlink(diff_file);
	d->quantum = SCULL_QUANTUM;
	d->qset = SCULL_QSET;
	d->why[0] = '\0';
	if (do_open(d, O_RDWR))
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

/* Run one seed; returns the operations done. */
static long diff_seed(unsigned long long seed, long nops)
{
	struct op *ops = xmalloc(nops * sizeof(*ops));
	struct diff d = { .fd_s = -1, .fd_t = -1 };
	char path[64];
	long i, bad;

	snprintf(path, sizeof(path), "/sys/class/scull/scull%d/size", diff_minor);
	d.fd_size = open(path, O_RDONLY);
	if (d.fd_size < 0)
		FAIL("open %s: %s", path, strerror(errno));

	d.buf_s = xmalloc(DIFF_MAX_LEN);
	d.buf_t = xmalloc(DIFF_MAX_LEN);
	d.data = xmalloc(DIFF_MAX_LEN);
	d.limit = sysfs_attr(diff_minor, "size_limit");
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
	close(d.fd_s);
	close(d.fd_t);
	close(d.fd_size);
	unlink(diff_file);
	free(ops);
	free(d.buf_s);
	free(d.buf_t);
	free(d.data);
	return nops;
}

static void diff_seeds(unsigned long long first, unsigned int seeds, long nops)
{
	unsigned long long s;
	long total = 0;

	nops = scaled(nops);

	for (s = first; s < first + seeds; s++)
		total += diff_seed(s, nops);
	scull_diag("%ld operations, seeds %llu-%llu, each checked against tmpfs",
		   total, first, first + seeds - 1);
}

void scull_setup(void)
{
	scull_restore();
}

/* 125,000 operations in make check, over four tests (fewer with
 * SCULL_TEST_SCALE: every tiny quantum costs a lot on the debug kernel).
 */
TEST_TIMEOUT(seeds_1_to_5, 600)
{
	diff_seeds(1, 5, 5000);
}

TEST_TIMEOUT(seeds_6_to_10, 600)
{
	diff_seeds(6, 5, 5000);
}

TEST_TIMEOUT(seeds_11_to_12_long, 600)
{
	diff_seeds(11, 2, 25000);
}

TEST_TIMEOUT(seeds_13_to_32, 600)
{
	diff_seeds(13, 20, 1250);
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
		   nops ? atol(nops) : 100000);
}

int main(int argc, char **argv)
{
	return scull_test_main(argc, argv);
}
