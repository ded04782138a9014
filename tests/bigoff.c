// SPDX-License-Identifier: GPL-2.0
/*
 * Offsets beyond 32 bits.  Quantum sets are indexed by an unsigned long,
 * 32 bits on a 32-bit kernel: a geometry that would need more sets than
 * that for the size limit is refused (at load, and by the geometry
 * ioctls), so no offset ever wraps onto another.  And the 64-bit size is
 * never read torn.  Run on 64-bit and 32-bit kernels alike; the expected
 * results differ only where the index width does.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <scull.h>

#include "util.h"

#define G (1LL << 30)

TEST(tiny_geometry_and_8g_limit)
{
	char marker[64], log[4096];
	char c;
	int fd;

	kmsg_mark(marker, sizeof(marker));
	if (kernel_is_32bit()) {
		ASSERT_NE(0, scull_reload("scull_quantum=1 scull_qset=1 scull_size_limit=8G"));
		kmsg_since(marker, log, sizeof(log));
		if (!strstr(log, "scull: invalid scull_size_limit=8589934592 with scull_quantum=1 and scull_qset=1: more quantum sets than this kernel can index"))
			FAIL("no reason in the kernel log:\n%s", log);
		nothing_registered();
		/* 4 GiB of 1-byte sets is the most 32 bits index */
		ASSERT_EQ(0, scull_reload("scull_quantum=1 scull_qset=1 scull_size_limit=4G"));
		fd = dev_open(0, O_RDWR);
		pwrite_exact(fd, "A", 1, 5);
		pwrite_exact(fd, "Z", 1, 4 * G - 1);
		ASSERT_ERRNO(pwrite(fd, "B", 1, 4 * G), ENOSPC);
		pread_exact(fd, &c, 1, 5);
		ASSERT_EQ('A', c);
		pread_exact(fd, &c, 1, 4 * G - 1);
		ASSERT_EQ('Z', c);
		close(fd);
		return;
	}
	ASSERT_EQ(0, scull_reload("scull_quantum=1 scull_qset=1 scull_size_limit=8G"));
	fd = dev_open(0, O_RDWR);
	pwrite_exact(fd, "A", 1, 5);
	pwrite_exact(fd, "B", 1, 4 * G + 5);
	pwrite_exact(fd, "C", 1, 8 * G - 1);
	pread_exact(fd, &c, 1, 5);
	ASSERT_EQ('A', c);
	pread_exact(fd, &c, 1, 4 * G + 5);
	ASSERT_EQ('B', c);
	pread_exact(fd, &c, 1, 8 * G - 1);
	ASSERT_EQ('C', c);
	ASSERT_EQ(8 * G, dev_size(0));
	close(fd);
}

/*
 * The geometry ioctls check the same bound against the device's limit.
 * This and the next are about 32-bit kernels (check-all runs i386); a
 * reload each, TEST_LONG on the sanitizer kernel (x86_64).
 */
TEST_LONG(geometry_change_checks_the_index_width, SCULL_TEST_DEFAULT_TIMEOUT)
{
	int fd;

	ASSERT_EQ(0, scull_reload("scull_size_limit=8G"));
	fd = dev_open(1, O_RDWR);
	ASSERT_EQ(0, ioctl(fd, SCULL_IOCTQUANTUM, 1));
	if (kernel_is_32bit()) {
		/* 8 GiB of 1-byte sets: 2^33 indexes */
		ASSERT_ERRNO(ioctl(fd, SCULL_IOCTQSET, 1), EINVAL);
		ASSERT_EQ(0, ioctl(fd, SCULL_IOCTQSET, 2));
	} else {
		ASSERT_EQ(0, ioctl(fd, SCULL_IOCTQSET, 1));
	}
	close(fd);
}

/*
 * The size goes 0 -> 2^32 - 1 -> 2^32 -> 0 ... while readers look at it
 * through sysfs and SEEK_END.  A read torn between its two 32-bit halves
 * would show 0x1ffffffff (the high half of 2^32, the low one of 2^32 - 1).
 */
static volatile int size_stop;

static void *size_changer(void *arg)
{
	int fd = dev_open(0, O_RDWR);

	(void)arg;
	while (!size_stop) {
		int t = dev_open(0, O_RDWR | O_TRUNC);

		close(t);
		pwrite_exact(fd, "x", 1, 4 * G - 2);
		pwrite_exact(fd, "y", 1, 4 * G - 1);
	}
	close(fd);
	return NULL;
}

TEST_LONG(size_is_never_read_torn, 120)
{
	long long seen, reads = 0;
	pthread_t t;
	time_t end;
	int fd;

	ASSERT_EQ(0, scull_reload("scull_size_limit=5G"));
	fd = dev_open(0, O_RDONLY);
	ASSERT_EQ(0, pthread_create(&t, NULL, size_changer, NULL));
	end = time(NULL) + 3;
	while (time(NULL) < end) {
		seen = reads & 1 ? lseek(fd, 0, SEEK_END) : dev_size(0);
		if (seen != 0 && seen != 4 * G - 1 && seen != 4 * G)
			FAIL("size read as %#llx after %lld reads", seen, reads);
		reads++;
	}
	size_stop = 1;
	ASSERT_EQ(0, pthread_join(t, NULL));
	scull_diag("%lld size reads, none torn", reads);
	close(fd);
}
