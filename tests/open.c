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
 * Two threads share one file description.  Deterministically, with no
 * timing: the first reads one byte into a page that is not there yet
 * (userfaultfd), so it stops inside the copy, before it can move the
 * position.  The second then reads one byte too.  With atomic f_pos
 * updates (FMODE_ATOMIC_POS, as for a regular file) the second must wait
 * for the first (it sleeps on the file's position lock), and once the page
 * arrives the two read bytes 0 and 1 and the position is 2.  Without them
 * the second would read byte 0 at once, while the first still waits.
 */
struct pos_reader {
	int fd;
	unsigned char *buf;
	pid_t tid;
	ssize_t ret;
	int done;
};

static void *pos_read(void *arg)
{
	struct pos_reader *r = arg;

	__atomic_store_n(&r->tid, gettid(), __ATOMIC_RELEASE);
	r->ret = read(r->fd, r->buf, 1);
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* The state letter of thread tid of this process (R, S, D...). */
static char task_state(pid_t tid)
{
	char path[64], text[512], *p;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	read_text(path, text, sizeof(text));
	p = strrchr(text, ')');
	ASSERT_TRUE(p && p[1] == ' ');
	return p[2];
}

TEST(shared_file_position_is_atomic)
{
	struct pos_reader first = { 0 }, second = { 0 };
	unsigned char data[2] = { 'a', 'b' }, c = 0;
	pthread_t t1, t2;
	struct stall s;
	int i;

	first.fd = second.fd = dev_open(0, O_RDWR);
	write_exact(first.fd, data, sizeof(data));
	ASSERT_EQ(0, lseek(first.fd, 0, SEEK_SET));
	stall_init(&s);
	first.buf = s.buf + STALL_PAGE;
	second.buf = &c;
	ASSERT_EQ(0, pthread_create(&t1, NULL, pos_read, &first));
	stall_wait(&s);		/* the first is in the copy, position not moved */
	ASSERT_EQ(0, pthread_create(&t2, NULL, pos_read, &second));
	/* the second either sleeps (waiting for the first) or finishes */
	for (i = 0; i < 10000; i++) {
		pid_t tid = __atomic_load_n(&second.tid, __ATOMIC_ACQUIRE);

		if (__atomic_load_n(&second.done, __ATOMIC_ACQUIRE))
			FAIL("a second reader read byte '%c' while the first held the position", c);
		if (tid && strchr("SD", task_state(tid)))
			break;
		usleep(1000);
	}
	ASSERT_TRUE(i < 10000);
	stall_release(&s);
	ASSERT_EQ(0, pthread_join(t1, NULL));
	ASSERT_EQ(0, pthread_join(t2, NULL));
	ASSERT_EQ(1, first.ret);
	ASSERT_EQ('a', first.buf[0]);
	ASSERT_EQ(1, second.ret);
	ASSERT_EQ('b', c);
	ASSERT_EQ(2, lseek(first.fd, 0, SEEK_CUR));
	close(first.fd);
}
