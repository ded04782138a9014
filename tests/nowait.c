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
#include <pthread.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <time.h>
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

/*
 * Another task holds the device's lock: a write stalled by userfaultfd on
 * its source's middle page (util.h's struct stall).  A watchdog supplies
 * the page after 3 s whatever happens, so a call that does wait for the
 * lock comes back (and fails the test) rather than hanging it.
 */
#define SPAN		(3 * STALL_PAGE)
#define WATCHDOG_S	3

struct held {
	struct stall s;
	pthread_t writer, watchdog;
	ssize_t written;
	int released;		/* the page was supplied */
	pthread_mutex_t lock;
};

static void release_once(struct held *h)
{
	pthread_mutex_lock(&h->lock);
	if (!h->released) {
		h->released = 1;
		stall_release(&h->s);
	}
	pthread_mutex_unlock(&h->lock);
}

static void *held_writer(void *p)
{
	struct held *h = p;
	int fd = dev_open(0, O_RDWR);

	h->written = pwrite(fd, h->s.buf, SPAN, 0);
	close(fd);
	return NULL;
}

static void *held_watchdog(void *p)
{
	sleep(WATCHDOG_S);
	release_once(p);
	return NULL;
}

static void hold_lock(struct held *h)
{
	memset(h, 0, sizeof(*h));
	pthread_mutex_init(&h->lock, NULL);
	stall_init(&h->s);
	ASSERT_EQ(0, pthread_create(&h->writer, NULL, held_writer, h));
	stall_wait(&h->s);	/* the writer holds the lock for writing now */
	ASSERT_EQ(0, pthread_create(&h->watchdog, NULL, held_watchdog, h));
}

/* Let the writer finish: it stored its SPAN bytes of the stall pattern. */
static void free_lock(struct held *h)
{
	release_once(h);
	ASSERT_EQ(0, pthread_join(h->writer, NULL));
	ASSERT_EQ(SPAN, h->written);
	pthread_cancel(h->watchdog);
	pthread_join(h->watchdog, NULL);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* At once: well under the watchdog's time, on the slowest guest. */
#define AT_ONCE_S	1.0

static void at_once(const char *what, double start)
{
	double took = now() - start;

	if (took >= AT_ONCE_S)
		FAIL("%s took %.2f s: it waited for the lock", what, took);
}

TEST(rwf_nowait_calls_do_not_wait_for_the_lock)
{
	unsigned char buf[100], back[SPAN];
	struct iovec iov = { buf, sizeof(buf) };
	struct held h;
	double start;
	int fd = dev_open(0, O_RDWR);

	hold_lock(&h);
	/* into a quantum that exists (the writer's), and past the size */
	memset(buf, 0xee, sizeof(buf));
	start = now();
	ASSERT_ERRNO(pwritev2(fd, &iov, 1, 100, RWF_NOWAIT), EAGAIN);
	at_once("a RWF_NOWAIT write", start);
	start = now();
	ASSERT_ERRNO(pwritev2(fd, &iov, 1, SPAN + 100, RWF_NOWAIT), EAGAIN);
	at_once("a RWF_NOWAIT write past the size", start);
	memset(buf, 0xa5, sizeof(buf));
	start = now();
	ASSERT_ERRNO(preadv2(fd, &iov, 1, 0, RWF_NOWAIT), EAGAIN);
	at_once("a RWF_NOWAIT read", start);
	for (size_t i = 0; i < sizeof(buf); i++)
		if (buf[i] != 0xa5)
			FAIL("the refused read wrote byte %zu: 0x%02x", i, buf[i]);
	free_lock(&h);
	/* nothing changed: the writer's bytes, and only those */
	ASSERT_EQ(SPAN, dev_size(0));
	ASSERT_EQ(3, dev_quanta(0));
	pread_exact(fd, back, sizeof(back), 0);
	pattern_check(back, sizeof(back), 0, 5);
	close(fd);
}

/*
 * io_uring's inline attempt at a read meets the held lock, returns
 * -EAGAIN at once, and the request goes on in a worker: submitting does
 * not wait, nothing completes while the lock is held, and once it is
 * free the read completes whole, with the writer's bytes.
 */
TEST(io_uring_read_during_a_held_lock_completes_whole_after)
{
	unsigned char back[SPAN];
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	struct io_uring ring;
	struct held h;
	double start;
	int fd = dev_open(0, O_RDWR);

	ASSERT_EQ(0, io_uring_queue_init(4, &ring, 0));
	memset(back, 0xa5, sizeof(back));
	hold_lock(&h);
	sqe = io_uring_get_sqe(&ring);
	ASSERT_TRUE(sqe != NULL);
	io_uring_prep_read(sqe, fd, back, sizeof(back), 0);
	start = now();
	ASSERT_EQ(1, io_uring_submit(&ring));
	at_once("submitting an io_uring read", start);
	usleep(200000);
	ASSERT_EQ(-EAGAIN, io_uring_peek_cqe(&ring, &cqe));
	free_lock(&h);
	ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
	ASSERT_EQ(SPAN, cqe->res);
	io_uring_cqe_seen(&ring, cqe);
	pattern_check(back, sizeof(back), 0, 5);
	io_uring_queue_exit(&ring);
	close(fd);
}
