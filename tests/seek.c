// SPDX-License-Identifier: GPL-2.0
/*
 * lseek: SEEK_SET, SEEK_CUR, SEEK_END, SEEK_DATA, SEEK_HOLE, their errors,
 * and offsets at the edge of loff_t.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <scull.h>

#include "util.h"

TEST(seek_set_cur_end)
{
	char c;
	int fd = dev_open(0, O_RDWR);

	write_exact(fd, "0123456789", 10);
	ASSERT_EQ(3, lseek(fd, 3, SEEK_SET));
	read_exact(fd, &c, 1);
	ASSERT_EQ('3', c);
	ASSERT_EQ(6, lseek(fd, 2, SEEK_CUR));
	ASSERT_EQ(5, lseek(fd, -1, SEEK_CUR));
	read_exact(fd, &c, 1);
	ASSERT_EQ('5', c);
	ASSERT_EQ(10, lseek(fd, 0, SEEK_END));
	ASSERT_EQ(6, lseek(fd, -4, SEEK_END));
	read_exact(fd, &c, 1);
	ASSERT_EQ('6', c);
	ASSERT_EQ(7, lseek(fd, 0, SEEK_CUR));
	close(fd);
}

TEST(seek_past_end_then_write_makes_hole)
{
	char buf[8];
	int fd = dev_open(0, O_RDWR);

	write_exact(fd, "ab", 2);
	ASSERT_EQ(7, lseek(fd, 5, SEEK_END));
	ASSERT_EQ(0, read(fd, buf, sizeof(buf)));
	write_exact(fd, "z", 1);
	ASSERT_EQ(8, dev_size(0));
	pread_exact(fd, buf, 8, 0);
	ASSERT_MEM_EQ("ab\0\0\0\0\0z", buf, 8);
	close(fd);
}

TEST(seek_errors)
{
	int fd = dev_open(0, O_RDWR);

	write_exact(fd, "0123456789", 10);
	ASSERT_EQ(4, lseek(fd, 4, SEEK_SET));
	ASSERT_ERRNO(lseek(fd, -1, SEEK_SET), EINVAL);
	ASSERT_ERRNO(lseek(fd, -5, SEEK_CUR), EINVAL);
	ASSERT_ERRNO(lseek(fd, -11, SEEK_END), EINVAL);
	ASSERT_ERRNO(lseek(fd, 0, 5), EINVAL);
	ASSERT_ERRNO(lseek(fd, 0, -1), EINVAL);
	/* a failed seek leaves the position */
	ASSERT_EQ(4, lseek(fd, 0, SEEK_CUR));
	close(fd);
}

TEST(seek_overflow)
{
	int fd = dev_open(0, O_RDWR);

	write_exact(fd, "0123456789", 10);
	ASSERT_EQ(LLONG_MAX, lseek(fd, LLONG_MAX, SEEK_SET));
	ASSERT_ERRNO(lseek(fd, 1, SEEK_CUR), EINVAL);
	ASSERT_EQ(LLONG_MAX, lseek(fd, 0, SEEK_CUR));
	ASSERT_ERRNO(lseek(fd, LLONG_MAX, SEEK_END), EINVAL);
	ASSERT_EQ(LLONG_MAX, lseek(fd, LLONG_MAX - 10, SEEK_END));
	ASSERT_ERRNO(lseek(fd, LLONG_MIN, SEEK_CUR), EINVAL);
	ASSERT_EQ(5, lseek(fd, 5, SEEK_SET));
	ASSERT_ERRNO(lseek(fd, LLONG_MIN, SEEK_END), EINVAL);
	ASSERT_EQ(5, lseek(fd, -15 + 20, SEEK_SET));
	/* a read whose end would pass LLONG_MAX is refused by the VFS; one
	 * that fits finds end of file
	 */
	{
		char c;

		ASSERT_EQ(LLONG_MAX, lseek(fd, LLONG_MAX, SEEK_SET));
		ASSERT_ERRNO(read(fd, &c, 1), EINVAL);
		ASSERT_EQ(0, pread(fd, &c, 1, LLONG_MAX - 1));
		ASSERT_ERRNO(pwrite(fd, &c, 1, LLONG_MAX), EINVAL);
		ASSERT_ERRNO(pwrite(fd, &c, 1, LLONG_MAX - 1), ENOSPC);
	}
	close(fd);
}

/*
 * Data and holes at quantum granularity: write quanta 1 and 3 of a device
 * 5 quanta long (the tail byte in quantum 4), then walk with SEEK_DATA and
 * SEEK_HOLE.
 */
TEST(seek_data_hole)
{
	const off_t q = SCULL_QUANTUM;
	int fd = dev_open(0, O_RDWR);

	pwrite_exact(fd, "a", 1, q + 10);
	pwrite_exact(fd, "b", 1, 3 * q);
	pwrite_exact(fd, "c", 1, 5 * q - 1);
	ASSERT_EQ(5 * q, dev_size(0));

	ASSERT_EQ(q, lseek(fd, 0, SEEK_DATA));
	ASSERT_EQ(q + 100, lseek(fd, q + 100, SEEK_DATA));
	ASSERT_EQ(3 * q, lseek(fd, 2 * q, SEEK_DATA));
	ASSERT_EQ(4 * q - 1, lseek(fd, 4 * q - 1, SEEK_DATA));
	ASSERT_EQ(5 * q - 1, lseek(fd, 5 * q - 1, SEEK_DATA));
	ASSERT_ERRNO(lseek(fd, 5 * q, SEEK_DATA), ENXIO);
	ASSERT_ERRNO(lseek(fd, 1LL << 40, SEEK_DATA), ENXIO);
	ASSERT_ERRNO(lseek(fd, -1, SEEK_DATA), ENXIO);

	ASSERT_EQ(0, lseek(fd, 0, SEEK_HOLE));
	ASSERT_EQ(2 * q, lseek(fd, q, SEEK_HOLE));
	ASSERT_EQ(5 * q, lseek(fd, 3 * q + 5, SEEK_HOLE));
	ASSERT_EQ(5 * q, lseek(fd, 5 * q - 1, SEEK_HOLE));
	ASSERT_ERRNO(lseek(fd, 5 * q, SEEK_HOLE), ENXIO);
	ASSERT_EQ(5 * q, lseek(fd, 0, SEEK_CUR));
	close(fd);
}

/* Whole quantum sets missing: the walk jumps over them. */
TEST(seek_data_hole_sparse_sets)
{
	const off_t span = (off_t)SCULL_QUANTUM * SCULL_QSET;
	int fd = dev_open(0, O_RDWR);

	pwrite_exact(fd, "x", 1, 5 * span + 7);
	pwrite_exact(fd, "y", 1, 9 * span);
	ASSERT_EQ(5 * span, lseek(fd, 0, SEEK_DATA));
	ASSERT_EQ(9 * span, lseek(fd, 5 * span + SCULL_QUANTUM, SEEK_DATA));
	ASSERT_EQ(0, lseek(fd, 0, SEEK_HOLE));
	ASSERT_EQ(5 * span + SCULL_QUANTUM, lseek(fd, 5 * span, SEEK_HOLE));
	ASSERT_EQ(9 * span + 1, lseek(fd, 9 * span, SEEK_HOLE));
	close(fd);
}

TEST(seek_data_empty_device)
{
	int fd = dev_open(0, O_RDWR);

	ASSERT_ERRNO(lseek(fd, 0, SEEK_DATA), ENXIO);
	ASSERT_ERRNO(lseek(fd, 0, SEEK_HOLE), ENXIO);
	ASSERT_EQ(0, lseek(fd, 0, SEEK_END));
	close(fd);
}
