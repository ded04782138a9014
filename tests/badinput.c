// SPDX-License-Identifier: GPL-2.0
/*
 * Hostile input, as tables: every row is one bad call with its exact
 * result, and after every row the data stored before it is still there,
 * byte for byte, with the same size and geometry.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <scull.h>

#include "util.h"

#define KADDR		((void *)0xffffffff81000000UL)
#define DATA_SIZE	(3 * SCULL_QUANTUM + 5)
#define SEED		77

enum who { ROOT, MEMBER, OUTSIDER };

struct row {
	const char *name;
	long long (*call)(int fd);	/* on /dev/scull0 opened O_RDWR */
	long long expect;	/* the return value (an lseek's is 64-bit) */
	int err;		/* errno when expect is -1 */
	enum who who;
	long long size;		/* the size after the call; 0: unchanged */
};

/* A page of memory that can be read but not written. */
static void *ro_page(void)
{
	int *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		FAIL("mmap: %s", strerror(errno));
	*p = 1234;
	if (mprotect(p, 4096, PROT_READ))
		FAIL("mprotect: %s", strerror(errno));
	return p;
}

/* Two pages of which only the first is mapped: a half-valid buffer. */
static unsigned char *half_valid(void)
{
	unsigned char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || munmap(p + 4096, 4096))
		FAIL("mmap: %s", strerror(errno));
	pattern_fill(p, 4096, 0, 99);
	return p;
}

/* Geometry: invalid values are -EINVAL even on a device with data. */
static long long t_quantum_0(int fd) { return ioctl(fd, SCULL_IOCTQUANTUM, 0); }
static long long t_quantum_neg(int fd) { return ioctl(fd, SCULL_IOCTQUANTUM, -1L); }
static long long t_quantum_big(int fd) { return ioctl(fd, SCULL_IOCTQUANTUM, SCULL_QUANTUM_MAX + 1); }
static long long t_quantum_huge(int fd) { return ioctl(fd, SCULL_IOCTQUANTUM, 1UL << (sizeof(long) > 4 ? 40 : 31)); }
static long long t_quantum_product(int fd) { return ioctl(fd, SCULL_IOCTQUANTUM, SCULL_QUANTUM_MAX); }
static long long t_qset_0(int fd) { return ioctl(fd, SCULL_IOCTQSET, 0); }
static long long t_qset_neg(int fd) { return ioctl(fd, SCULL_IOCTQSET, -1L); }
static long long t_qset_big(int fd) { return ioctl(fd, SCULL_IOCTQSET, SCULL_QSET_MAX + 1); }
static long long h_quantum_0(int fd) { return ioctl(fd, SCULL_IOCHQUANTUM, 0); }
static long long s_quantum_neg(int fd) { int v = -4096; return ioctl(fd, SCULL_IOCSQUANTUM, &v); }

static long long x_qset_0(int fd)
{
	int v = 0;
	long r = ioctl(fd, SCULL_IOCXQSET, &v);

	if (v != 0)
		FAIL("a failed exchange wrote %d back", v);
	return r;
}

static long long t_quantum_busy(int fd) { return ioctl(fd, SCULL_IOCTQUANTUM, 1000); }
static long long reset_busy(int fd) { return ioctl(fd, SCULL_IOCRESET); }

/* Pointers. */
static long long s_null(int fd) { return ioctl(fd, SCULL_IOCSQUANTUM, NULL); }
static long long g_null(int fd) { return ioctl(fd, SCULL_IOCGQUANTUM, NULL); }
static long long g_kernel(int fd) { return ioctl(fd, SCULL_IOCGQSET, KADDR); }
static long long x_kernel(int fd) { return ioctl(fd, SCULL_IOCXQUANTUM, KADDR); }
static long long g_readonly(int fd) { return ioctl(fd, SCULL_IOCGQSET, ro_page()); }

static long long x_readonly(int fd)
{
	int *p = ro_page();
	long r;

	r = ioctl(fd, SCULL_IOCXQUANTUM, p);
	if (*p != 1234)
		FAIL("the read-only int changed to %d", *p);
	return r;
}

/* Commands that are not scull's. */
static long long nr_13(int fd) { return ioctl(fd, _IO(SCULL_IOC_MAGIC, 13)); }
static long long nr_255(int fd) { return ioctl(fd, _IO(SCULL_IOC_MAGIC, 255)); }
static long long magic_j(int fd) { return ioctl(fd, _IO('j', 7)); }
static long long dir_read_set(int fd) { int v = 1; return ioctl(fd, _IOR(SCULL_IOC_MAGIC, 1, int), &v); }
static long long dir_write_get(int fd) { int v = 1; return ioctl(fd, _IOW(SCULL_IOC_MAGIC, 5, int), &v); }
/* long long: on 32-bit a long has an int's size, and the command is S */
static long long size_long(int fd) { long long v = 1; return ioctl(fd, _IOW(SCULL_IOC_MAGIC, 1, long long), &v); }
static long long dir_none_exchange(int fd) { return ioctl(fd, _IO(SCULL_IOC_MAGIC, 9)); }

/* Unprivileged geometry changes (run as a member of the scull group). */
static long long u_reset(int fd) { return ioctl(fd, SCULL_IOCRESET); }
static long long u_set(int fd) { int v = 100; return ioctl(fd, SCULL_IOCSQUANTUM, &v); }
static long long u_tell(int fd) { return ioctl(fd, SCULL_IOCTQSET, 100); }
static long long u_exchange(int fd) { int v = 100; return ioctl(fd, SCULL_IOCXQSET, &v); }
static long long u_shift(int fd) { return ioctl(fd, SCULL_IOCHQUANTUM, 100); }
static long long u_invalid(int fd) { return ioctl(fd, SCULL_IOCTQUANTUM, 0); }

/* Offsets at the edges of loff_t and of the device. */
static long long seek_neg(int fd) { return lseek(fd, -1, SEEK_SET); }
static long long seek_cur_min(int fd) { return lseek(fd, LLONG_MIN, SEEK_CUR); }
static long long seek_end_max(int fd) { return lseek(fd, LLONG_MAX, SEEK_END); }
static long long seek_whence(int fd) { return lseek(fd, 0, 5); }
static long long seek_data_end(int fd) { return lseek(fd, DATA_SIZE, SEEK_DATA); }
static long long seek_hole_neg(int fd) { return lseek(fd, -1, SEEK_HOLE); }
static long long seek_max(int fd) { return lseek(fd, LLONG_MAX, SEEK_SET); }

static long long read_at_max(int fd)
{
	char c;

	if (lseek(fd, LLONG_MAX, SEEK_SET) != LLONG_MAX)
		FAIL("lseek to LLONG_MAX: %s", strerror(errno));
	return read(fd, &c, 1);
}

static long long pread_neg(int fd) { char c; return pread(fd, &c, 1, -1); }
static long long pread_max(int fd) { char c; return pread(fd, &c, 1, LLONG_MAX); }
static long long pread_max_1(int fd) { char c; return pread(fd, &c, 1, LLONG_MAX - 1); }
static long long pwrite_neg(int fd) { return pwrite(fd, "x", 1, -1); }
static long long pwrite_max(int fd) { return pwrite(fd, "x", 1, LLONG_MAX); }
static long long pwrite_max_1(int fd) { return pwrite(fd, "x", 1, LLONG_MAX - 1); }
static long long pwrite_limit(int fd) { return pwrite(fd, "x", 1, SCULL_LIMIT); }
static long long pwrite_past(int fd) { return pwrite(fd, "x", 1, 1LL << 50); }
static long long pwrite_across(int fd) { return pwrite(fd, "xyz", 3, SCULL_LIMIT - 1); }

/* Buffers that are not the caller's to use.  NULL goes through a volatile
 * so the compiler lets it be passed.
 */
static void *volatile null_buf;
static long long write_null(int fd) { return pwrite(fd, null_buf, 100, DATA_SIZE); }
static long long read_null(int fd) { return pread(fd, null_buf, 100, 0); }
static long long write_kernel(int fd) { return pwrite(fd, KADDR, 100, 10); }
static long long read_kernel(int fd) { return pread(fd, KADDR, 100, 0); }
static long long read_readonly(int fd) { return pread(fd, ro_page(), 100, 0); }

/*
 * Where a copy from user space may stop short of a fault (COPY_SLACK), a
 * short count is topped up from the same (readable) bytes by a second
 * call, so the row still checks one exact result and every stored byte.
 */
static long long write_half(int fd)
{
	unsigned char back[4096], *src = half_valid();
	long r = pwrite(fd, src, 8192, DATA_SIZE);

	if (r >= 4096 - (long)COPY_SLACK && r < 4096 &&
	    pwrite(fd, src + r, 4096 - r, DATA_SIZE + r) == 4096 - r)
		r = 4096;

	/* the first page arrived, exactly */
	pread_exact(fd, back, 4096, DATA_SIZE);
	pattern_check(back, 4096, 0, 99);
	return r;
}

static long long read_half(int fd)
{
	unsigned char *p = half_valid();
	long r = pread(fd, p, 8192, 0);

	pattern_check(p, r > 0 ? r : 0, 0, SEED);
	return r;
}

static long long writev_bad_second(int fd)
{
	char ok[100];
	struct iovec iov[2] = { { ok, 100 }, { NULL, 100 } };

	memset(ok, 'v', sizeof(ok));
	return pwritev(fd, iov, 2, DATA_SIZE);
}

/*
 * An open device holds the module: delete_module(2), as rmmod calls it,
 * fails with EWOULDBLOCK (the module is in use) and the module stays.
 */
static long long rmmod_open(int fd)
{
	long r;

	(void)fd;
	r = syscall(SYS_delete_module, scull_module(), O_NONBLOCK);
	if (!module_loaded())
		FAIL("%s was unloaded while open", scull_module());
	return r;
}

/* The nodes are the scull group's: others cannot open them at all. */
static long long outsider_open(int fd)
{
	(void)fd;
	return open("/dev/scull0", O_RDONLY);
}

static const struct row rows[] = {
	{ "tell quantum 0", t_quantum_0, -1, EINVAL },
	{ "tell quantum -1", t_quantum_neg, -1, EINVAL },
	{ "tell quantum 4 MiB + 1", t_quantum_big, -1, EINVAL },
	{ "tell quantum 2^40", t_quantum_huge, -1, EINVAL },
	{ "tell quantum 4 MiB: 2 GiB sets", t_quantum_product, -1, EINVAL },
	{ "tell qset 0", t_qset_0, -1, EINVAL },
	{ "tell qset -1", t_qset_neg, -1, EINVAL },
	{ "tell qset 65537", t_qset_big, -1, EINVAL },
	{ "shift quantum 0", h_quantum_0, -1, EINVAL },
	{ "set quantum -4096", s_quantum_neg, -1, EINVAL },
	{ "exchange qset 0", x_qset_0, -1, EINVAL },
	{ "tell a valid quantum while holding data", t_quantum_busy, -1, EBUSY },
	{ "reset while holding data", reset_busy, -1, EBUSY },
	{ "set from NULL", s_null, -1, EFAULT },
	{ "get into NULL", g_null, -1, EFAULT },
	{ "get into a kernel address", g_kernel, -1, EFAULT },
	{ "exchange with a kernel address", x_kernel, -1, EFAULT },
	{ "get into a read-only page", g_readonly, -1, EFAULT },
	{ "exchange with a read-only int, data held", x_readonly, -1, EBUSY },
	{ "command 13", nr_13, -1, ENOTTY },
	{ "command 255", nr_255, -1, ENOTTY },
	{ "magic 'j'", magic_j, -1, ENOTTY },
	{ "set with the read direction", dir_read_set, -1, ENOTTY },
	{ "get with the write direction", dir_write_get, -1, ENOTTY },
	{ "set with a long long argument", size_long, -1, ENOTTY },
	{ "exchange without a direction", dir_none_exchange, -1, ENOTTY },
	{ "unprivileged reset", u_reset, -1, EPERM, MEMBER },
	{ "unprivileged set", u_set, -1, EPERM, MEMBER },
	{ "unprivileged tell", u_tell, -1, EPERM, MEMBER },
	{ "unprivileged exchange", u_exchange, -1, EPERM, MEMBER },
	{ "unprivileged shift", u_shift, -1, EPERM, MEMBER },
	{ "unprivileged invalid tell", u_invalid, -1, EPERM, MEMBER },
	{ "lseek to -1", seek_neg, -1, EINVAL },
	{ "lseek by LLONG_MIN", seek_cur_min, -1, EINVAL },
	{ "lseek to end + LLONG_MAX", seek_end_max, -1, EINVAL },
	{ "lseek whence 5", seek_whence, -1, EINVAL },
	{ "SEEK_DATA at the end", seek_data_end, -1, ENXIO },
	{ "SEEK_HOLE at -1", seek_hole_neg, -1, ENXIO },
	{ "lseek to LLONG_MAX", seek_max, LLONG_MAX, 0 },
	{ "read at LLONG_MAX", read_at_max, -1, EINVAL },
	{ "pread at -1", pread_neg, -1, EINVAL },
	{ "pread at LLONG_MAX", pread_max, -1, EINVAL },
	{ "pread at LLONG_MAX - 1", pread_max_1, 0, 0 },
	{ "pwrite at -1", pwrite_neg, -1, EINVAL },
	{ "pwrite at LLONG_MAX", pwrite_max, -1, EINVAL },
	{ "pwrite at LLONG_MAX - 1", pwrite_max_1, -1, ENOSPC },
	{ "pwrite at the limit", pwrite_limit, -1, ENOSPC },
	{ "pwrite at 2^50", pwrite_past, -1, ENOSPC },
	{ "pwrite across the limit", pwrite_across, 1, 0, ROOT, SCULL_LIMIT },
	{ "write from NULL", write_null, -1, EFAULT },
	{ "read into NULL", read_null, -1, EFAULT },
	{ "write from a kernel address", write_kernel, -1, EFAULT },
	{ "read into a kernel address", read_kernel, -1, EFAULT },
	{ "read into a read-only page", read_readonly, -1, EFAULT },
	{ "write from a half-valid buffer", write_half, 4096, 0, ROOT, DATA_SIZE + 4096 },
	{ "read into a half-valid buffer", read_half, 4096, 0 },
	{ "writev with a NULL second vector", writev_bad_second, 100, 0, ROOT, DATA_SIZE + 100 },
	{ "rmmod while open", rmmod_open, -1, EWOULDBLOCK },
	{ "open by a user outside the group", outsider_open, -1, EACCES, OUTSIDER },
};

/* One row, in a child: the call and its exact result. */
static void row_call(void *arg)
{
	const struct row *r = arg;
	int fd = -1, err;
	long long ret;

	if (r->who != OUTSIDER)
		fd = dev_open(0, O_RDWR);
	errno = 0;
	ret = r->call(fd);
	err = errno;
	/* a failure must be the row's errno, whatever it is */
	if (ret != r->expect || (r->expect == -1 && err != r->err))
		FAIL("%s: expected %lld (%s), seen %lld (%s)", r->name, r->expect,
		     r->expect == -1 ? strerror(r->err) : "no error",
		     ret, ret == -1 ? strerror(err) : "no error");
}

static int run_row(const struct row *r)
{
	static const uid_t uids[] = { [ROOT] = 0, [MEMBER] = USER_IN_UID,
				      [OUTSIDER] = USER_OUT_UID };

	return as_user(uids[r->who], row_call, (void *)r);
}

/* The data before every row, and after it. */
static void store_data(void)
{
	unsigned char buf[DATA_SIZE];
	int fd = dev_open(0, O_RDWR | O_TRUNC);

	pattern_fill(buf, DATA_SIZE, 0, SEED);
	write_exact(fd, buf, DATA_SIZE);
	close(fd);
}

static int data_intact(const struct row *r)
{
	unsigned char buf[DATA_SIZE];
	long long size = dev_size(0);
	int fd = dev_open(0, O_RDONLY), ok = 1;
	unsigned int i;

	pread_exact(fd, buf, DATA_SIZE, 0);
	for (i = 0; i < DATA_SIZE; i++)
		if (buf[i] != pattern_byte(i, SEED)) {
			scull_diag("%s: stored byte %u changed", r->name, i);
			ok = 0;
			break;
		}
	if (size != (r->size ? r->size : DATA_SIZE)) {
		scull_diag("%s: size: expected %lld, seen %lld", r->name,
			   r->size ? r->size : (long long)DATA_SIZE, size);
		ok = 0;
	}
	if (sysfs_attr(0, "quantum") != SCULL_QUANTUM || sysfs_attr(0, "qset") != SCULL_QSET) {
		scull_diag("%s: the geometry changed", r->name);
		ok = 0;
	}
	close(fd);
	return ok;
}

TEST(hostile_calls)
{
	unsigned int i, failed = 0;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		store_data();
		if (run_row(&rows[i]) | !data_intact(&rows[i])) {
			scull_diag("row %u failed: %s", i, rows[i].name);
			failed++;
		}
	}
	scull_diag("%zu rows", sizeof(rows) / sizeof(rows[0]));
	ASSERT_EQ(0, failed);
}

/*
 * Sizes that do not fit: digits past 2^64, a suffix whose shift leaves 64
 * bits, a value past LLONG_MAX, trailing garbage.  Each is refused with
 * EINVAL and changes nothing -- never wrapped into a small size (16E would
 * be 0, 18446744073709551617 would be 1).
 */
static const char *const bad_sizes[] = {
	"16E", "8E", "9E", "16384P", "17179869184G", "18014398509481984M",
	"18446744073709551616", "18446744073709551617", "36893488147419103232",
	"99999999999999999999", "99999999999999999999K", "9223372036854775808",
	"0x10000000000000001", "0x8000000000000000", "02000000000000000000001",
	"4096 ", "4096K0", "4096KB", "4096\n\n", "1.5K", "+4096", "4096x",
	"\n", "K",
};

#define NR_BAD_SIZES	(sizeof(bad_sizes) / sizeof(bad_sizes[0]))

/* Write value to a sysfs attribute; the errno of the write, or 0. */
static int sysfs_write(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY), err = 0;

	if (fd < 0)
		return errno;
	if (write(fd, value, strlen(value)) < 0)
		err = errno;
	close(fd);
	return err;
}

TEST(capacity_refuses_sizes_that_do_not_fit)
{
	const char *path = "/sys/class/scull/scull1/capacity";
	unsigned int i, failed = 0;

	/* an empty device takes any capacity up to its limit: 4096 here */
	ASSERT_EQ(0, sysfs_write(path, "4K"));
	for (i = 0; i < NR_BAD_SIZES; i++) {
		int err = sysfs_write(path, bad_sizes[i]);
		long long capacity = sysfs_attr(1, "capacity");

		if (err != EINVAL || capacity != 4096) {
			scull_diag("capacity \"%s\": expected EINVAL and 4096, seen %s and %lld",
				   bad_sizes[i], err ? strerror(err) : "success", capacity);
			failed++;
		}
	}
	ASSERT_EQ(4096, dev_size(1));
	/* sizes that fit are taken, in memparse()'s syntax */
	ASSERT_EQ(0, sysfs_write(path, "0x100000\n"));
	ASSERT_EQ(1 << 20, sysfs_attr(1, "capacity"));
	ASSERT_EQ(0, sysfs_write(path, "256M"));
	ASSERT_EQ(SCULL_LIMIT, sysfs_attr(1, "capacity"));
	ASSERT_EQ(0, sysfs_write(path, "0"));
	ASSERT_EQ(0, failed);
}

/* Module parameters: insmod fails, dmesg says why, nothing stays. */
struct bad_param {
	const char *params;
	const char *message;	/* the C driver's; "scull: " is the module's name */
	int c_only;		/* of the pipes or access devices, or the C
				 * driver's count of minors: not the Rust twin's */
};

static const struct bad_param bad_params[] = {
	{ "scull_quantum=0", "scull: invalid scull_quantum=0: expected an integer from 1 to 4194304" },
	{ "scull_quantum=-1", "scull: invalid scull_quantum=-1: expected an integer from 1 to 4194304" },
	{ "scull_quantum=4194305", "scull: invalid scull_quantum=4194305: expected an integer from 1 to 4194304" },
	{ "scull_quantum=4k", "scull: invalid scull_quantum=4k: expected an integer from 1 to 4194304" },
	{ "scull_quantum=99999999999999999999", "scull: invalid scull_quantum=99999999999999999999: expected an integer from 1 to 4194304" },
	{ "scull_qset=0", "scull: invalid scull_qset=0: expected an integer from 1 to 65536" },
	{ "scull_qset=65537", "scull: invalid scull_qset=65537: expected an integer from 1 to 65536" },
	{ "scull_nr_devs=0", "scull: invalid scull_nr_devs=0: expected an integer from 1 to 256" },
	{ "scull_nr_devs=257", "scull: invalid scull_nr_devs=257: expected an integer from 1 to 256" },
	{ "scull_major=512", "scull: invalid scull_major=512: expected an integer from 0 to 511" },
	{ "scull_minor=1048576", "scull: invalid scull_minor=1048576: expected an integer from 0 to 1048575" },
	{ "scull_size_limit=0", "scull: invalid scull_size_limit=0: expected a size from 1 to 9223372036854775807 bytes, with an optional K, M or G" },
	{ "scull_size_limit=12Q", "scull: invalid scull_size_limit=12Q: expected a size from 1 to 9223372036854775807 bytes, with an optional K, M or G" },
	{ "scull_size_limit=much", "scull: invalid scull_size_limit=much: expected a size from 1 to 9223372036854775807 bytes, with an optional K, M or G" },
	{ "scull_size_limit=9E", "scull: invalid scull_size_limit=9E: expected a size from 1 to 9223372036854775807 bytes, with an optional K, M or G" },
	{ "scull_minor=1048574 scull_nr_devs=4", "scull: invalid scull_minor=1048574 with scull_nr_devs=4 and scull_p_nr_devs=4: 12 minors from there end past 1048575", 1 },
	/* the pipes and the four access-controlled devices need minors too */
	{ "scull_minor=1048565", "scull: invalid scull_minor=1048565 with scull_nr_devs=4 and scull_p_nr_devs=4: 12 minors from there end past 1048575", 1 },
	{ "scull_minor=1048100 scull_nr_devs=256 scull_p_nr_devs=256", "scull: invalid scull_minor=1048100 with scull_nr_devs=256 and scull_p_nr_devs=256: 516 minors from there end past 1048575", 1 },
	{ "scull_priv_limit=0", "scull: invalid scull_priv_limit=0: expected a size from 1 to 9223372036854775807 bytes, with an optional K, M or G", 1 },
	{ "scull_priv_limit=12Q", "scull: invalid scull_priv_limit=12Q: expected a size from 1 to 9223372036854775807 bytes, with an optional K, M or G", 1 },
	{ "scull_p_nr_devs=0", "scull: invalid scull_p_nr_devs=0: expected an integer from 1 to 256", 1 },
	{ "scull_p_nr_devs=257", "scull: invalid scull_p_nr_devs=257: expected an integer from 1 to 256", 1 },
	{ "scull_p_buffer=0", "scull: invalid scull_p_buffer=0: expected an integer from 1 to 1048576", 1 },
	{ "scull_p_buffer=1048577", "scull: invalid scull_p_buffer=1048577: expected an integer from 1 to 1048576", 1 },
	{ "scull_p_buffer=4k", "scull: invalid scull_p_buffer=4k: expected an integer from 1 to 1048576", 1 },
	{ "scull_quantum=65536 scull_qset=65536", "scull: invalid scull_quantum=65536 with scull_qset=65536: a quantum set may span at most 1073741824 bytes" },
	/* major 1 is /dev/mem and friends: the region is taken */
	{ "scull_major=1", "scull: cannot get major 1, minors 0-11: -16", 1 },
};

/* The Rust twin's own, where its count of minors (its devices only) differs. */
static const struct bad_param bad_params_rust[] = {
	{ "scull_minor=1048574 scull_nr_devs=4", "scull: invalid scull_minor=1048574 with scull_nr_devs=4: 4 minors from there end past 1048575" },
	{ "scull_minor=1048400 scull_nr_devs=256", "scull: invalid scull_minor=1048400 with scull_nr_devs=256: 256 minors from there end past 1048575" },
	{ "scull_major=1", "scull: cannot get major 1, minors 0-3: -16" },
};

/* Load the module with @b's parameters: it must fail, saying why. */
static void bad_param_check(const struct bad_param *b)
{
	char out[1024], marker[64], log[8192], message[512];

	/* the message as the loaded driver prints it: its name first */
	snprintf(message, sizeof(message), "%s%s", scull_module(),
		 b->message + strlen("scull"));
	scull_diag("insmod %s.ko %s", scull_module(), b->params);
	kmsg_mark(marker, sizeof(marker));
	ASSERT_NE(0, run_sh(out, sizeof(out), "insmod %s %s",
			    scull_ko(), b->params));
	kmsg_since(marker, log, sizeof(log));
	if (!strstr(log, message))
		FAIL("insmod %s: kernel log lacks \"%s\"; it has:\n%s",
		     b->params, message, log);
	nothing_registered();
}

TEST(hostile_module_parameters)
{
	char out[1024];
	unsigned int i;

	ASSERT_EQ(0, run_sh(out, sizeof(out), "%s/scull_unload", scull_dir()));
	for (i = 0; i < sizeof(bad_params) / sizeof(bad_params[0]); i++)
		if (!scull_is_rust() || !bad_params[i].c_only)
			bad_param_check(&bad_params[i]);
	for (i = 0; scull_is_rust() && i < sizeof(bad_params_rust) / sizeof(bad_params_rust[0]); i++)
		bad_param_check(&bad_params_rust[i]);
}

/*
 * The size parameters refuse every size that does not fit: the load fails
 * (never a limit or a capacity wrapped to 0 or 1), dmesg names the range,
 * nothing stays.
 */
TEST(size_parameters_refuse_sizes_that_do_not_fit)
{
	static const struct {
		const char *name;
		unsigned int min;
	} params[] = { { "scull_size_limit", 1 }, { "scull_capacity", 0 } };
	char out[1024], marker[64], log[8192], message[256];
	unsigned int i, p, failed = 0;

	ASSERT_EQ(0, run_sh(out, sizeof(out), "%s/scull_unload", scull_dir()));
	for (p = 0; p < 2; p++)
		for (i = 0; i < NR_BAD_SIZES; i++) {
			/* what a shell word can carry to insmod */
			if (!*bad_sizes[i] || strpbrk(bad_sizes[i], " \n"))
				continue;
			snprintf(message, sizeof(message),
				 "%s: invalid %s=%s: expected a size from %u to 9223372036854775807 bytes, with an optional K, M or G",
				 scull_module(), params[p].name, bad_sizes[i], params[p].min);
			kmsg_mark(marker, sizeof(marker));
			if (!run_sh(out, sizeof(out), "insmod %s %s=%s",
				    scull_ko(), params[p].name, bad_sizes[i])) {
				snprintf(message, sizeof(message), "/sys/module/%s/parameters/%s",
					 scull_module(), params[p].name);
				read_text(message, out, sizeof(out));
				scull_diag("insmod %s.ko %s=%s: loaded, with %s=%s", scull_module(),
					   params[p].name, bad_sizes[i], params[p].name, out);
				ASSERT_EQ(0, run_sh(NULL, 0, "rmmod %s", scull_module()));
				failed++;
				continue;
			}
			kmsg_since(marker, log, sizeof(log));
			if (!strstr(log, message)) {
				scull_diag("insmod %s.ko %s=%s: kernel log lacks \"%s\"; it has:\n%s",
					   scull_module(), params[p].name, bad_sizes[i], message, log);
				failed++;
			}
			nothing_registered();
		}
	ASSERT_EQ(0, failed);
}
