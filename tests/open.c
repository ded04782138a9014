// SPDX-License-Identifier: GPL-2.0
/*
 * Opening and the calls around the data: write-only trim, O_TRUNC,
 * O_APPEND, poll/select/epoll, fsync, and the f_pos of a shared file.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <unistd.h>

#include "util.h"

static void fill(int minor, const char *text)
{
	int fd = dev_open(minor, O_RDWR);

	write_exact(fd, text, strlen(text));
	close(fd);
	ASSERT_EQ(strlen(text), dev_size(minor));
}

TEST(write_only_open_trims)
{
	int fd;

	fill(0, "old data");
	fd = dev_open(0, O_WRONLY);
	ASSERT_EQ(0, dev_size(0));
	write_exact(fd, "new", 3);
	close(fd);
	ASSERT_EQ(3, dev_size(0));
}

TEST(read_and_rdwr_opens_keep_data)
{
	fill(0, "kept");
	close(dev_open(0, O_RDONLY));
	close(dev_open(0, O_RDWR));
	close(dev_open(0, O_RDONLY | O_APPEND));
	ASSERT_EQ(4, dev_size(0));
}

TEST(o_trunc_trims_with_any_mode)
{
	fill(0, "one");
	close(dev_open(0, O_RDONLY | O_TRUNC));
	ASSERT_EQ(0, dev_size(0));
	fill(0, "two");
	close(dev_open(0, O_RDWR | O_TRUNC));
	ASSERT_EQ(0, dev_size(0));
	fill(0, "three");
	close(dev_open(0, O_WRONLY | O_APPEND | O_TRUNC));
	ASSERT_EQ(0, dev_size(0));
}

TEST(o_append_writes_at_end)
{
	char buf[16];
	int fd;

	fill(0, "abc");
	fd = dev_open(0, O_WRONLY | O_APPEND);
	ASSERT_EQ(3, dev_size(0));
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	write_exact(fd, "de", 2);
	ASSERT_EQ(5, lseek(fd, 0, SEEK_CUR));
	/* pwrite on an O_APPEND file appends too, as for regular files */
	ASSERT_EQ(1, pwrite(fd, "f", 1, 0));
	close(fd);
	fd = dev_open(0, O_RDONLY);
	ASSERT_EQ(6, read(fd, buf, sizeof(buf)));
	ASSERT_MEM_EQ("abcdef", buf, 6);
	close(fd);
}

TEST(o_append_via_fcntl)
{
	char buf[8];
	int fd;

	fill(1, "xy");
	fd = dev_open(1, O_RDWR);
	ASSERT_OK(fcntl(fd, F_SETFL, O_APPEND));
	write_exact(fd, "z", 1);
	ASSERT_EQ(3, pread(fd, buf, sizeof(buf), 0));
	ASSERT_MEM_EQ("xyz", buf, 3);
	close(fd);
}

TEST(poll_select_epoll_ready)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT }, got;
	struct pollfd pfd;
	fd_set r, w;
	int fd, ep;

	fd = dev_open(0, O_RDWR);
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN | POLLOUT };
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	ASSERT_EQ(POLLIN | POLLOUT, pfd.revents);

	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(fd, &r);
	FD_SET(fd, &w);
	ASSERT_EQ(2, select(fd + 1, &r, &w, NULL, &(struct timeval){ 0, 0 }));

	ep = ASSERT_OK(epoll_create1(0));
	ASSERT_OK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
	ASSERT_EQ(1, epoll_wait(ep, &got, 1, 0));
	ASSERT_EQ(EPOLLIN | EPOLLOUT, got.events);
	close(ep);
	close(fd);
}

TEST(fsync_succeeds)
{
	int fd = dev_open(0, O_RDWR);

	write_exact(fd, "sync", 4);
	ASSERT_EQ(0, fsync(fd));
	ASSERT_EQ(0, fdatasync(fd));
	close(fd);
}

/*
 * Threads sharing one file description, each reading one byte at a time:
 * with atomic f_pos updates (as for a regular file) no two reads take the
 * same offset, so the position ends exactly at the end.
 */
#define SHARED_READS	2000
#define SHARED_THREADS	4

static int shared_fd;

static void *shared_reader(void *arg)
{
	unsigned char c;
	int i;

	(void)arg;
	for (i = 0; i < SHARED_READS; i++) {
		if (read(shared_fd, &c, 1) != 1)
			return (void *)1;
	}
	return NULL;
}

TEST(shared_file_position_is_atomic)
{
	pthread_t t[SHARED_THREADS];
	void *ret;
	int i;

	shared_fd = dev_open(0, O_RDWR);
	{
		static unsigned char buf[SHARED_READS * SHARED_THREADS];

		write_exact(shared_fd, buf, sizeof(buf));
	}
	ASSERT_EQ(0, lseek(shared_fd, 0, SEEK_SET));
	for (i = 0; i < SHARED_THREADS; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, shared_reader, NULL));
	for (i = 0; i < SHARED_THREADS; i++) {
		ASSERT_EQ(0, pthread_join(t[i], &ret));
		ASSERT_TRUE(ret == NULL);
	}
	/* every byte read exactly once: the position ends at the end */
	ASSERT_EQ(SHARED_READS * SHARED_THREADS, lseek(shared_fd, 0, SEEK_CUR));
	close(shared_fd);
}
