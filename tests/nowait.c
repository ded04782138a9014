// SPDX-License-Identifier: GPL-2.0
/*
 * Calls that must not wait (IOCB_NOWAIT): pwritev2/preadv2 with RWF_NOWAIT
 * and io_uring's inline attempt.  A write that cannot complete without
 * allocating returns -EAGAIN having stored nothing, never a short count:
 * io_uring retries short transfers only for regular files and block
 * devices, so for a char device a short count would reach the program.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <liburing.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <scull.h>

#include "util.h"

/* One byte at 0, then 8192 bytes at 4095: the second quantum is new. */
TEST(rwf_nowait_write_that_must_allocate_stores_nothing)
{
	unsigned char buf[8192], back[8192];
	struct iovec iov = { buf, sizeof(buf) };
	int fd = dev_open(0, O_RDWR);

	pattern_fill(buf, sizeof(buf), 4095, 21);
	pwrite_exact(fd, "a", 1, 0);
	ASSERT_ERRNO(pwritev2(fd, &iov, 1, 4095, RWF_NOWAIT), EAGAIN);
	ASSERT_EQ(1, dev_size(0));
	ASSERT_EQ(1, dev_quanta(0));
	/* the same call without the flag allocates, and then the flag is fine */
	ASSERT_EQ(sizeof(buf), pwritev2(fd, &iov, 1, 4095, 0));
	ASSERT_EQ(3, dev_quanta(0));
	pattern_fill(buf, sizeof(buf), 4095, 22);
	ASSERT_EQ(sizeof(buf), pwritev2(fd, &iov, 1, 4095, RWF_NOWAIT));
	pread_exact(fd, back, sizeof(back), 4095);
	pattern_check(back, sizeof(back), 4095, 22);
	ASSERT_EQ(4095 + sizeof(buf), dev_size(0));
	close(fd);
}

/* Into an empty device: -EAGAIN, and nothing was allocated. */
TEST(rwf_nowait_write_to_empty_device_allocates_nothing)
{
	struct iovec iov = { "abc", 3 };
	int fd = dev_open(1, O_RDWR);

	ASSERT_ERRNO(pwritev2(fd, &iov, 1, 123, RWF_NOWAIT), EAGAIN);
	ASSERT_EQ(0, dev_size(1));
	ASSERT_EQ(0, dev_quanta(1));
	/* holding no data, the geometry may change */
	ASSERT_EQ(0, ioctl(fd, SCULL_IOCTQUANTUM, 1000));
	close(fd);
}

static void uring_rw(int fd, int write, void *buf, unsigned int len,
		     off_t off, int expect)
{
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	struct io_uring ring;

	ASSERT_EQ(0, io_uring_queue_init(4, &ring, 0));
	sqe = io_uring_get_sqe(&ring);
	ASSERT_TRUE(sqe != NULL);
	if (write)
		io_uring_prep_write(sqe, fd, buf, len, off);
	else
		io_uring_prep_read(sqe, fd, buf, len, off);
	ASSERT_EQ(1, io_uring_submit(&ring));
	ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
	if (cqe->res != expect)
		FAIL("io_uring %s of %u bytes at %lld: res %d, expected %d",
		     write ? "write" : "read", len, (long long)off, cqe->res,
		     expect);
	io_uring_cqe_seen(&ring, cqe);
	io_uring_queue_exit(&ring);
}

/*
 * io_uring tries a write inline with IOCB_NOWAIT first; the -EAGAIN sends
 * it to a worker that may allocate.  The completion reports every byte.
 */
TEST(io_uring_write_that_must_allocate_completes_whole)
{
	unsigned char buf[8192], back[8192];
	int fd = dev_open(0, O_RDWR);

	pwrite_exact(fd, "a", 1, 0);
	pattern_fill(buf, sizeof(buf), 4095, 23);
	uring_rw(fd, 1, buf, sizeof(buf), 4095, sizeof(buf));
	pread_exact(fd, back, sizeof(back), 4095);
	pattern_check(back, sizeof(back), 4095, 23);
	ASSERT_EQ(4095 + sizeof(buf), dev_size(0));
	ASSERT_EQ(3, dev_quanta(0));
	close(fd);
}

/* A large write across quanta and sets, then a read of it, both whole. */
TEST(io_uring_large_transfers_are_whole)
{
	size_t len = 5 << 20;
	unsigned char *buf = xmalloc(len), *back = xmalloc(len);
	off_t off = (2 << 20) - 12345;
	int fd = dev_open(2, O_RDWR);

	pattern_fill(buf, len, off, 24);
	uring_rw(fd, 1, buf, len, off, len);
	memset(back, 0xa5, len);
	uring_rw(fd, 0, back, len, off, len);
	pattern_check(back, len, off, 24);
	/* and the hole before it reads as zeros, through io_uring too */
	memset(back, 0xa5, 4096);
	uring_rw(fd, 0, back, 4096, 4096, 4096);
	for (size_t i = 0; i < 4096; i++)
		if (back[i])
			FAIL("hole byte %zu is 0x%02x", i, back[i]);
	close(fd);
	free(buf);
	free(back);
}
