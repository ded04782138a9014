// SPDX-License-Identifier: GPL-2.0
/*
 * The LDD3 geometry ioctls: each command, per device, its privilege, its
 * validation, -EBUSY while data is held, -ENOTTY for anything else, and
 * the 32-bit compat path.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <scull.h>

#include "util.h"

static void geometry_is(int fd, int minor, int quantum, int qset)
{
	int v = -1;

	ASSERT_EQ(quantum, ioctl(fd, SCULL_IOCQQUANTUM));
	ASSERT_EQ(qset, ioctl(fd, SCULL_IOCQQSET));
	ASSERT_EQ(0, ioctl(fd, SCULL_IOCGQUANTUM, &v));
	ASSERT_EQ(quantum, v);
	ASSERT_EQ(0, ioctl(fd, SCULL_IOCGQSET, &v));
	ASSERT_EQ(qset, v);
	ASSERT_EQ(quantum, sysfs_attr(minor, "quantum"));
	ASSERT_EQ(qset, sysfs_attr(minor, "qset"));
}

TEST(get_and_query_defaults)
{
	int fd = dev_open(0, O_RDONLY);

	geometry_is(fd, 0, SCULL_QUANTUM, SCULL_QSET);
	close(fd);
}

TEST(set_tell_exchange_shift_quantum)
{
	int fd = dev_open(0, O_RDWR), v;

	v = 1000;
	ASSERT_EQ(0, ioctl(fd, SCULL_IOCSQUANTUM, &v));
	geometry_is(fd, 0, 1000, SCULL_QSET);
	ASSERT_EQ(0, ioctl(fd, SCULL_IOCTQUANTUM, 2000));
	geometry_is(fd, 0, 2000, SCULL_QSET);
	v = 3000;
	ASSERT_EQ(0, ioctl(fd, SCULL_IOCXQUANTUM, &v));
	ASSERT_EQ(2000, v);
	geometry_is(fd, 0, 3000, SCULL_QSET);
	ASSERT_EQ(3000, ioctl(fd, SCULL_IOCHQUANTUM, 4000));
	geometry_is(fd, 0, 4000, SCULL_QSET);
	ASSERT_EQ(0, ioctl(fd, SCULL_IOCRESET));
	geometry_is(fd, 0, SCULL_QUANTUM, SCULL_QSET);
	close(fd);
}

TEST(set_tell_exchange_shift_qset)
{
	int fd = dev_open(1, O_RDWR), v;

	v = 10;
	ASSERT_EQ(0, ioctl(fd, SCULL_IOCSQSET, &v));
	geometry_is(fd, 1, SCULL_QUANTUM, 10);
	ASSERT_EQ(0, ioctl(fd, SCULL_IOCTQSET, 20));
	geometry_is(fd, 1, SCULL_QUANTUM, 20);
	v = 30;
	ASSERT_EQ(0, ioctl(fd, SCULL_IOCXQSET, &v));
	ASSERT_EQ(20, v);
	geometry_is(fd, 1, SCULL_QUANTUM, 30);
	ASSERT_EQ(30, ioctl(fd, SCULL_IOCHQSET, 40));
	geometry_is(fd, 1, SCULL_QUANTUM, 40);
	ASSERT_EQ(0, ioctl(fd, SCULL_IOCRESET));
	geometry_is(fd, 1, SCULL_QUANTUM, SCULL_QSET);
	close(fd);
}

/* A geometry change is per device, and it shapes the storage. */
TEST(geometry_is_per_device_and_used)
{
	char text[4096];
	int a = dev_open(0, O_RDWR), b = dev_open(3, O_RDWR);
	char buf[2500];

	ASSERT_EQ(0, ioctl(b, SCULL_IOCTQUANTUM, 1000));
	ASSERT_EQ(0, ioctl(b, SCULL_IOCTQSET, 2));
	geometry_is(a, 0, SCULL_QUANTUM, SCULL_QSET);
	geometry_is(b, 3, 1000, 2);
	memset(buf, 'q', sizeof(buf));
	write_exact(b, buf, sizeof(buf));
	/* 2500 bytes in 1000-byte quanta, 2 per set: 3 quanta in 2 sets */
	read_text("/proc/scullseq", text, sizeof(text));
	ASSERT_TRUE(strstr(text, "Device 3: qset 2, q 1000, sz 2500, limit 268435456, quanta 3\n"
				"  qset 0: 2 quanta\n"
				"  qset 1: 1 quanta\n"));
	close(a);
	close(b);
}

TEST(invalid_values_are_einval)
{
	int fd = dev_open(0, O_RDWR), v;

	ASSERT_ERRNO(ioctl(fd, SCULL_IOCTQUANTUM, 0), EINVAL);
	ASSERT_ERRNO(ioctl(fd, SCULL_IOCTQSET, 0), EINVAL);
	ASSERT_ERRNO(ioctl(fd, SCULL_IOCTQUANTUM, -1), EINVAL);
	ASSERT_ERRNO(ioctl(fd, SCULL_IOCTQUANTUM, SCULL_QUANTUM_MAX + 1), EINVAL);
	ASSERT_ERRNO(ioctl(fd, SCULL_IOCTQSET, SCULL_QSET_MAX + 1), EINVAL);
	ASSERT_ERRNO(ioctl(fd, SCULL_IOCHQUANTUM, 0), EINVAL);
	ASSERT_ERRNO(ioctl(fd, SCULL_IOCHQSET, 1UL << (sizeof(long) > 4 ? 40 : 31)), EINVAL);
	v = 0;
	ASSERT_ERRNO(ioctl(fd, SCULL_IOCSQUANTUM, &v), EINVAL);
	v = -4096;
	ASSERT_ERRNO(ioctl(fd, SCULL_IOCSQSET, &v), EINVAL);
	v = -1;
	ASSERT_ERRNO(ioctl(fd, SCULL_IOCXQUANTUM, &v), EINVAL);
	ASSERT_EQ(-1, v);
	/* each alone is fine, the product is over SCULL_QSET_BYTES_MAX */
	ASSERT_EQ(0, ioctl(fd, SCULL_IOCTQUANTUM, 65536));
	ASSERT_ERRNO(ioctl(fd, SCULL_IOCTQSET, 65536), EINVAL);
	ASSERT_EQ(0, ioctl(fd, SCULL_IOCTQSET, 16384));
	/* the bounds themselves are accepted */
	ASSERT_EQ(0, ioctl(fd, SCULL_IOCTQSET, 1));
	ASSERT_EQ(0, ioctl(fd, SCULL_IOCTQUANTUM, SCULL_QUANTUM_MAX));
	ASSERT_EQ(0, ioctl(fd, SCULL_IOCTQUANTUM, 1));
	ASSERT_EQ(0, ioctl(fd, SCULL_IOCTQSET, SCULL_QSET_MAX));
	geometry_is(fd, 0, 1, SCULL_QSET_MAX);
	close(fd);
}

TEST(busy_while_holding_data)
{
	int fd = dev_open(0, O_RDWR), v = 100;

	write_exact(fd, "data", 4);
	ASSERT_ERRNO(ioctl(fd, SCULL_IOCTQUANTUM, 100), EBUSY);
	ASSERT_ERRNO(ioctl(fd, SCULL_IOCSQUANTUM, &v), EBUSY);
	ASSERT_ERRNO(ioctl(fd, SCULL_IOCXQSET, &v), EBUSY);
	ASSERT_EQ(100, v);
	ASSERT_ERRNO(ioctl(fd, SCULL_IOCHQSET, 100), EBUSY);
	ASSERT_ERRNO(ioctl(fd, SCULL_IOCRESET), EBUSY);
	/* invalid beats busy */
	ASSERT_ERRNO(ioctl(fd, SCULL_IOCTQUANTUM, 0), EINVAL);
	geometry_is(fd, 0, SCULL_QUANTUM, SCULL_QSET);
	/* reading is always allowed */
	ASSERT_EQ(SCULL_QUANTUM, ioctl(fd, SCULL_IOCQQUANTUM));
	{
		char buf[4];

		pread_exact(fd, buf, 4, 0);
		ASSERT_MEM_EQ("data", buf, 4);
	}
	/* once trimmed, the geometry may change again */
	close(fd);
	fd = dev_open(0, O_RDWR | O_TRUNC);
	ASSERT_EQ(0, ioctl(fd, SCULL_IOCTQUANTUM, 100));
	close(fd);
}

TEST(unknown_commands_are_enotty)
{
	int fd = dev_open(0, O_RDWR), v = 0;

	ASSERT_ERRNO(ioctl(fd, _IO(SCULL_IOC_MAGIC, 13)), ENOTTY);
	ASSERT_ERRNO(ioctl(fd, _IO(SCULL_IOC_MAGIC, 14)), ENOTTY);
	ASSERT_ERRNO(ioctl(fd, _IO(SCULL_IOC_MAGIC, 255)), ENOTTY);
	/* the right number with the wrong magic, direction or size */
	ASSERT_ERRNO(ioctl(fd, _IO('j', 7)), ENOTTY);
	ASSERT_ERRNO(ioctl(fd, _IOR(SCULL_IOC_MAGIC, 1, int), &v), ENOTTY);
	ASSERT_ERRNO(ioctl(fd, _IOW(SCULL_IOC_MAGIC, 5, int), &v), ENOTTY);
	/* (long long: on 32-bit a long has an int's size, and this is S) */
	ASSERT_ERRNO(ioctl(fd, _IOW(SCULL_IOC_MAGIC, 1, long long), &v), ENOTTY);
	ASSERT_ERRNO(ioctl(fd, _IOR(SCULL_IOC_MAGIC, 7, int), &v), ENOTTY);
	ASSERT_ERRNO(ioctl(fd, 0), ENOTTY);
	geometry_is(fd, 0, SCULL_QUANTUM, SCULL_QSET);
	close(fd);
}

TEST(bad_pointers_are_efault)
{
	int fd = dev_open(0, O_RDWR);
	int *ro;

	ASSERT_ERRNO(ioctl(fd, SCULL_IOCGQUANTUM, NULL), EFAULT);
	ASSERT_ERRNO(ioctl(fd, SCULL_IOCSQSET, NULL), EFAULT);
	ASSERT_ERRNO(ioctl(fd, SCULL_IOCXQUANTUM, (int *)16), EFAULT);
	/* a kernel address is not a user pointer */
	ASSERT_ERRNO(ioctl(fd, SCULL_IOCGQSET, (int *)0xffffffff81000000UL), EFAULT);
	/* exchange with a read-only int: it reads 77, cannot write back, and
	 * changes nothing
	 */
	ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(ro != MAP_FAILED);
	*ro = 77;
	ASSERT_OK(mprotect(ro, 4096, PROT_READ));
	ASSERT_ERRNO(ioctl(fd, SCULL_IOCXQUANTUM, ro), EFAULT);
	ASSERT_EQ(77, *ro);
	geometry_is(fd, 0, SCULL_QUANTUM, SCULL_QSET);
	close(fd);
}

static void unprivileged_ioctls(void *arg)
{
	int fd, v = 100;

	(void)arg;
	fd = dev_open(2, O_RDWR);
	ASSERT_ERRNO(ioctl(fd, SCULL_IOCRESET), EPERM);
	ASSERT_ERRNO(ioctl(fd, SCULL_IOCSQUANTUM, &v), EPERM);
	ASSERT_ERRNO(ioctl(fd, SCULL_IOCSQSET, &v), EPERM);
	ASSERT_ERRNO(ioctl(fd, SCULL_IOCTQUANTUM, 100), EPERM);
	ASSERT_ERRNO(ioctl(fd, SCULL_IOCTQSET, 100), EPERM);
	ASSERT_ERRNO(ioctl(fd, SCULL_IOCXQUANTUM, &v), EPERM);
	ASSERT_EQ(100, v);
	ASSERT_ERRNO(ioctl(fd, SCULL_IOCXQSET, &v), EPERM);
	ASSERT_ERRNO(ioctl(fd, SCULL_IOCHQUANTUM, 100), EPERM);
	ASSERT_ERRNO(ioctl(fd, SCULL_IOCHQSET, 100), EPERM);
	/* an invalid value from an unprivileged user is still EPERM */
	ASSERT_ERRNO(ioctl(fd, SCULL_IOCTQUANTUM, 0), EPERM);
	/* get and query need no privilege */
	ASSERT_EQ(SCULL_QUANTUM, ioctl(fd, SCULL_IOCQQUANTUM));
	ASSERT_EQ(0, ioctl(fd, SCULL_IOCGQSET, &v));
	ASSERT_EQ(SCULL_QSET, v);
	ASSERT_ERRNO(ioctl(fd, _IO(SCULL_IOC_MAGIC, 99)), ENOTTY);
	close(fd);
}

TEST(unprivileged_user_gets_eperm)
{
	int fd;

	ASSERT_EQ(0, as_user(USER_IN_UID, unprivileged_ioctls, NULL));
	fd = dev_open(2, O_RDONLY);
	geometry_is(fd, 2, SCULL_QUANTUM, SCULL_QSET);
	close(fd);
}

/*
 * The numbers are LDD3's, an ABI: a program built with the book's header,
 * or an older copy of this one, sends these values.  They are spelled out
 * here, not taken from scull.h, so that a renumbered header fails (every
 * other test would follow it).  Generic _IOC encoding (x86, arm64): the
 * direction in bits 30-31 (1 write, 2 read), the argument's size in 16-29,
 * the magic 'k' (0x6b) in 8-15, the number in 0-7.
 */
static const struct {
	const char *name;
	unsigned long header, ldd3;
} numbers[] = {
	{ "SCULL_IOCRESET", SCULL_IOCRESET, 0x6b00 },
	{ "SCULL_IOCSQUANTUM", SCULL_IOCSQUANTUM, 0x40046b01 },
	{ "SCULL_IOCSQSET", SCULL_IOCSQSET, 0x40046b02 },
	{ "SCULL_IOCTQUANTUM", SCULL_IOCTQUANTUM, 0x6b03 },
	{ "SCULL_IOCTQSET", SCULL_IOCTQSET, 0x6b04 },
	{ "SCULL_IOCGQUANTUM", SCULL_IOCGQUANTUM, 0x80046b05 },
	{ "SCULL_IOCGQSET", SCULL_IOCGQSET, 0x80046b06 },
	{ "SCULL_IOCQQUANTUM", SCULL_IOCQQUANTUM, 0x6b07 },
	{ "SCULL_IOCQQSET", SCULL_IOCQQSET, 0x6b08 },
	{ "SCULL_IOCXQUANTUM", SCULL_IOCXQUANTUM, 0xc0046b09 },
	{ "SCULL_IOCXQSET", SCULL_IOCXQSET, 0xc0046b0a },
	{ "SCULL_IOCHQUANTUM", SCULL_IOCHQUANTUM, 0x6b0b },
	{ "SCULL_IOCHQSET", SCULL_IOCHQSET, 0x6b0c },
	{ "SCULL_P_IOCTSIZE", SCULL_P_IOCTSIZE, 0x6b0d },
	{ "SCULL_P_IOCQSIZE", SCULL_P_IOCQSIZE, 0x6b0e },
};

TEST(numbers_are_ldd3s)
{
	int fd, v;
	unsigned int i;

	for (i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++)
		if (numbers[i].header != numbers[i].ldd3)
			FAIL("scull.h's %s is %#lx, LDD3's is %#lx", numbers[i].name,
			     numbers[i].header, numbers[i].ldd3);
	ASSERT_EQ('k', SCULL_IOC_MAGIC);
	ASSERT_EQ(14, SCULL_IOC_MAXNR);

	/* the driver answers each literal number as its command */
	fd = dev_open(1, O_RDWR | O_TRUNC);
	v = 0;
	ASSERT_EQ(0, ioctl(fd, 0x80046b05, &v));
	ASSERT_EQ(4096, v);
	ASSERT_EQ(0, ioctl(fd, 0x80046b06, &v));
	ASSERT_EQ(512, v);
	ASSERT_EQ(0, ioctl(fd, 0x6b03, 1000));
	ASSERT_EQ(1000, ioctl(fd, 0x6b07));
	v = 2000;
	ASSERT_EQ(0, ioctl(fd, 0x40046b01, &v));
	v = 3000;
	ASSERT_EQ(0, ioctl(fd, 0xc0046b09, &v));
	ASSERT_EQ(2000, v);
	ASSERT_EQ(3000, ioctl(fd, 0x6b0b, 100));
	ASSERT_EQ(0, ioctl(fd, 0x6b04, 10));
	ASSERT_EQ(10, ioctl(fd, 0x6b08));
	v = 20;
	ASSERT_EQ(0, ioctl(fd, 0x40046b02, &v));
	v = 30;
	ASSERT_EQ(0, ioctl(fd, 0xc0046b0a, &v));
	ASSERT_EQ(20, v);
	ASSERT_EQ(30, ioctl(fd, 0x6b0c, 40));
	geometry_is(fd, 1, 100, 40);
	ASSERT_EQ(0, ioctl(fd, 0x6b00));
	geometry_is(fd, 1, SCULL_QUANTUM, SCULL_QSET);
	close(fd);

	if (scull_is_rust()) {
		scull_diag("the Rust twin has no pipes: their numbers 13 and 14 not checked");
		return;
	}
	fd = open("/dev/scullpipe1", O_RDWR);
	ASSERT_OK(fd);
	ASSERT_EQ(SCULL_P_BUFFER, ioctl(fd, 0x6b0e));
	ASSERT_EQ(0, ioctl(fd, 0x6b0d, 1000));
	ASSERT_EQ(1000, ioctl(fd, 0x6b0e));
	ASSERT_EQ(0, ioctl(fd, 0x6b0d, SCULL_P_BUFFER));
	ASSERT_EQ(SCULL_P_BUFFER, ioctl(fd, 0x6b0e));
	close(fd);
}

TEST(compat_32bit)
{
	char out[4096];
	FILE *f;
	int fd, ret;

	/*
	 * tests/Makefile leaves ioctl32.skip, saying why, instead of the
	 * program on an architecture with no compat path (a 32-bit kernel);
	 * a program missing without that file is a failure.
	 */
	f = fopen(test_file("ioctl32.skip"), "r");
	if (f) {
		if (!fgets(out, sizeof(out), f))
			FAIL("ioctl32.skip is empty: no reason to skip");
		fclose(f);
		out[strcspn(out, "\n")] = '\0';
		SKIP("%s", out);
	}
	/* the Rust twin has no pipes: "-" */
	ret = run_sh(out, sizeof(out), "%s /dev/scull3 %s", test_file("ioctl32"),
		     scull_is_rust() ? "-" : "/dev/scullpipe3");
	ASSERT_STR_EQ("", out);		/* a line per failed check */
	ASSERT_EQ(0, ret);
	if (scull_is_rust())
		return;
	fd = open("/dev/scullpipe3", O_RDWR);
	ASSERT_OK(fd);
	ASSERT_EQ(SCULL_P_BUFFER, ioctl(fd, SCULL_P_IOCQSIZE));
	close(fd);
}
