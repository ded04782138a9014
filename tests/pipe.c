// SPDX-License-Identifier: GPL-2.0
/*
 * scullpipe: blocking reads and writes and their wake-ups, end of file
 * when the last writer leaves, poll/select/epoll readiness, SIGIO,
 * O_NONBLOCK, signals, seeks, the pipe's ioctls, and many writers and
 * readers at once (every byte once, atomic writes whole).  Atomic writes
 * and POLLOUT follow pipe(7): PIPE_BUF bytes, or the whole buffer if that
 * is smaller.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <scull.h>

#include "util.h"

#define BUF	SCULL_P_BUFFER
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * The system calls glibc's poll() and epoll_wait() make, for
 * wait_blocked(): arm64 has only ppoll and epoll_pwait.
 */
#ifdef SYS_poll
#define SYS_POLL	SYS_poll
#else
#define SYS_POLL	SYS_ppoll
#endif
#ifdef SYS_epoll_wait
#define SYS_EPOLL_WAIT	SYS_epoll_wait
#else
#define SYS_EPOLL_WAIT	SYS_epoll_pwait
#endif

static int pipe_open(int n, int flags)
{
	int fd = open(pipe_path(n), flags);

	if (fd < 0)
		FAIL("open %s (flags 0x%x): %s", pipe_path(n), flags,
		     strerror(errno));
	return fd;
}

static volatile sig_atomic_t signals_caught;

static void on_signal(int sig)
{
	(void)sig;
	signals_caught++;
}

/* A SIGALRM handler, with or without SA_RESTART, and a timer for it. */
static void alarm_in(int ms, int restart)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct itimerval it = { .it_value = { ms / 1000, ms % 1000 * 1000 } };

	sa.sa_flags = restart ? SA_RESTART : 0;
	ASSERT_OK(sigaction(SIGALRM, &sa, NULL));
	ASSERT_OK(setitimer(ITIMER_REAL, &it, NULL));
}

/* What poll, select and epoll say about fd; they must agree. */
static int readiness(int fd)
{
	struct pollfd p = {
		.fd = fd, .events = POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM
	};
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLRDNORM | EPOLLOUT | EPOLLWRNORM
	}, got;
	struct timeval tv = { 0, 0 };
	fd_set rd, wr;
	int ep, n;

	ASSERT_OK(poll(&p, 1, 0));
	FD_ZERO(&rd);
	FD_ZERO(&wr);
	FD_SET(fd, &rd);
	FD_SET(fd, &wr);
	ASSERT_OK(select(fd + 1, &rd, &wr, NULL, &tv));
	/* select: readable on data or hang-up, writable on room */
	ASSERT_EQ(!!(p.revents & (POLLIN | POLLHUP)), !!FD_ISSET(fd, &rd));
	ASSERT_EQ(!!(p.revents & POLLOUT), !!FD_ISSET(fd, &wr));
	ep = ASSERT_OK(epoll_create1(0));
	ASSERT_OK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
	n = ASSERT_OK(epoll_wait(ep, &got, 1, 0));
	ASSERT_EQ(p.revents ? 1 : 0, n);
	if (n)
		ASSERT_EQ((unsigned int)p.revents, got.events);
	close(ep);
	return p.revents;
}

/* A reader asleep on an empty pipe wakes with the bytes a write brings. */
TEST(blocked_reader_wakes_on_write)
{
	int w = pipe_open(0, O_WRONLY);
	pid_t pid = fork();

	if (!pid) {
		char buf[100];
		int r = pipe_open(0, O_RDONLY);

		close(w);	/* the parent's writer is the one that counts */
		ASSERT_EQ(5, read(r, buf, sizeof(buf)));
		ASSERT_MEM_EQ("hello", buf, 5);
		_exit(0);
	}
	wait_blocked(pid, SYS_read);
	write_exact(w, "hello", 5);
	join_ok(pid);
	close(w);
}

/*
 * A writer asleep on a full pipe wakes when a read makes room for its
 * whole write (10 bytes: atomic, so 5 bytes of room are not enough), and
 * its bytes follow the ones before them.  With 5 bytes of room it waits
 * whole, nothing of it copied: a read then takes only the bytes before
 * it, and its 10 bytes arrive later in one read.
 */
TEST(blocked_writer_wakes_on_read)
{
	char full[BUF], back[2 * BUF];
	int r = pipe_open(0, O_RDONLY | O_NONBLOCK);
	int w = pipe_open(0, O_WRONLY);
	pid_t pid;

	pattern_fill(full, BUF, 0, 1);
	write_exact(w, full, BUF);
	pid = fork();
	if (!pid) {
		ASSERT_EQ(10, write(w, "0123456789", 10));
		_exit(0);
	}
	wait_blocked(pid, SYS_write);
	read_exact(r, back, 5);
	wait_blocked(pid, SYS_write);
	ASSERT_EQ(BUF - 5, read(r, back + 5, BUF));
	pattern_check(back, BUF, 0, 1);
	join_ok(pid);
	ASSERT_EQ(10, read(r, back, BUF));
	ASSERT_MEM_EQ("0123456789", back, 10);
	ASSERT_ERRNO(read(r, back, 1), EAGAIN);
}

/* Two processes stream 1 MB through the pipe, blocking both ways. */
TEST(two_processes_stream)
{
	size_t total = 1000000, done = 0;
	int w = pipe_open(0, O_WRONLY);
	char *buf = xmalloc(total + 1);
	pid_t pid = fork();

	if (!pid) {
		int r = pipe_open(0, O_RDONLY);
		ssize_t n;

		close(w);
		while ((n = read(r, buf + done, total + 1 - done)) > 0)
			done += n;
		ASSERT_EQ(0, n);
		ASSERT_EQ(total, done);
		pattern_check(buf, total, 0, 2);
		_exit(0);
	}
	pattern_fill(buf, total, 0, 2);
	/* writes of odd sizes, some larger than the buffer */
	while (done < total) {
		size_t n = done % 7919 + 1;

		n = n < total - done ? n : total - done;
		write_exact(w, buf + done, n);
		done += n;
	}
	close(w);
	join_ok(pid);
}

/* The bytes before the last writer's close are read, then end of file. */
TEST(eof_when_last_writer_closes)
{
	int w1 = pipe_open(0, O_WRONLY), w2 = pipe_open(0, O_RDWR);
	int r = pipe_open(0, O_RDONLY | O_NONBLOCK);
	char buf[16];

	write_exact(w1, "ab", 2);
	close(w1);
	ASSERT_EQ(2, read(r, buf, sizeof(buf)));
	ASSERT_MEM_EQ("ab", buf, 2);
	/* a writer is left: no end of file yet */
	ASSERT_ERRNO(read(r, buf, sizeof(buf)), EAGAIN);
	write_exact(w2, "c", 1);
	close(w2);
	ASSERT_EQ(1, read(r, buf, sizeof(buf)));
	ASSERT_EQ('c', buf[0]);
	ASSERT_EQ(0, read(r, buf, sizeof(buf)));
	ASSERT_EQ(0, read(r, buf, sizeof(buf)));
	close(r);
}

/* A reader asleep on an empty pipe wakes with 0 when the writer leaves. */
TEST(blocked_reader_gets_eof)
{
	int w = pipe_open(0, O_WRONLY);
	pid_t pid = fork();

	if (!pid) {
		int r = pipe_open(0, O_RDONLY);
		char buf[16];

		close(w);
		ASSERT_EQ(0, read(r, buf, sizeof(buf)));
		_exit(0);
	}
	wait_blocked(pid, SYS_read);
	close(w);
	join_ok(pid);
}

/*
 * A reader that came to an empty pipe with no writer waits for one, as a
 * FIFO's reader does, and its end of file comes when that writer leaves;
 * one that found bytes left by a writer now gone reads them, then gets
 * end of file.  So `echo hi > /dev/scullpipe0; cat /dev/scullpipe0` works.
 */
TEST(reader_waits_for_a_writer)
{
	char out[64], buf[8];
	int r = pipe_open(0, O_RDONLY | O_NONBLOCK), w;

	ASSERT_ERRNO(read(r, buf, sizeof(buf)), EAGAIN);
	ASSERT_EQ(0, readiness(r));
	/* an O_DIRECT open is refused, and is no writer */
	ASSERT_ERRNO(open(pipe_path(0), O_WRONLY | O_DIRECT), EINVAL);
	ASSERT_ERRNO(read(r, buf, sizeof(buf)), EAGAIN);
	/* a writer came and went: end of file */
	w = pipe_open(0, O_WRONLY);
	close(w);
	ASSERT_EQ(0, read(r, buf, sizeof(buf)));
	ASSERT_EQ(POLLHUP, readiness(r));
	close(r);
	/* a new reader waits for the next one */
	r = pipe_open(0, O_RDONLY | O_NONBLOCK);
	ASSERT_ERRNO(read(r, buf, sizeof(buf)), EAGAIN);
	close(r);
	ASSERT_EQ(0, run_sh(out, sizeof(out),
			    "echo hi > /dev/scullpipe0 && timeout 10 cat /dev/scullpipe0"));
	ASSERT_STR_EQ("hi\n", out);
}

/* poll, select and epoll give the same, exact, answers at every step. */
TEST(poll_select_epoll_readiness)
{
	int w = pipe_open(0, O_WRONLY | O_NONBLOCK);
	int r = pipe_open(0, O_RDONLY | O_NONBLOCK);
	int rw = pipe_open(0, O_RDWR | O_NONBLOCK);
	char buf[2 * PIPE_BUF];

	ASSERT_EQ(0, readiness(r));
	ASSERT_EQ(POLLOUT | POLLWRNORM, readiness(w));
	ASSERT_EQ(POLLOUT | POLLWRNORM, readiness(rw));
	write_exact(w, "0123456789", 10);
	ASSERT_EQ(POLLIN | POLLRDNORM, readiness(r));
	/*
	 * Writable means room for an atomic write (pipe(7)): PIPE_BUF bytes,
	 * or the whole buffer if that is smaller, as the default 4000 is.
	 */
	ASSERT_EQ(0, readiness(w));
	ASSERT_EQ(POLLIN | POLLRDNORM, readiness(rw));
	memset(buf, 'f', sizeof(buf));
	write_exact(w, buf, BUF - 10);
	ASSERT_EQ(0, readiness(w));
	ASSERT_EQ(POLLIN | POLLRDNORM, readiness(rw));
	read_exact(r, buf, 1);
	ASSERT_EQ(0, readiness(w));
	read_exact(r, buf, BUF - 2);
	ASSERT_EQ(0, readiness(w));
	read_exact(r, buf, 1);
	ASSERT_EQ(POLLOUT | POLLWRNORM, readiness(w));
	/* a buffer of 2 * PIPE_BUF: writable while PIPE_BUF bytes fit */
	ASSERT_EQ(0, ioctl(w, SCULL_P_IOCTSIZE, 2 * PIPE_BUF));
	write_exact(w, buf, PIPE_BUF);
	ASSERT_EQ(POLLOUT | POLLWRNORM, readiness(w));
	ASSERT_EQ(POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM, readiness(rw));
	write_exact(w, "x", 1);
	ASSERT_EQ(0, readiness(w));
	ASSERT_EQ(POLLIN | POLLRDNORM, readiness(rw));
	read_exact(r, buf, PIPE_BUF - 4);
	ASSERT_EQ(POLLOUT | POLLWRNORM, readiness(w));
	close(w);
	close(rw);
	/* no writer left: hang-up, and bytes still to read */
	ASSERT_EQ(POLLIN | POLLRDNORM | POLLHUP, readiness(r));
	read_exact(r, buf, 5);
	ASSERT_EQ(POLLHUP, readiness(r));
	close(r);
}

/*
 * A level-triggered writer's loop, polling for POLLOUT and writing @len
 * bytes when it comes, on a pipe of @size bytes that starts one byte
 * short of full; from round 50 on a reader takes some bytes a round.
 * POLLOUT must come exactly when there is room for an atomic write
 * (PIPE_BUF bytes, or the whole buffer if that is smaller), and the write
 * it announces must go in: whole if it is atomic, else what fits.  A
 * POLLOUT followed by EAGAIN would make such a loop spin.
 */
static void pollout_loop(unsigned int size, unsigned int len)
{
	unsigned int atomic = size < PIPE_BUF ? size : PIPE_BUF;
	unsigned int room = 1, step = atomic / 25 + 1;
	int w = pipe_open(0, O_WRONLY | O_NONBLOCK);
	int r = pipe_open(0, O_RDONLY | O_NONBLOCK);
	char *buf = xmalloc(size + len);
	int i, spins = 0, wrong = 0, writes = 0;
	ssize_t n, want;

	ASSERT_EQ(0, ioctl(w, SCULL_P_IOCTSIZE, size));
	memset(buf, 'p', size + len);
	write_exact(w, buf, size - 1);
	for (i = 0; i < 100; i++) {
		struct pollfd p = { .fd = w, .events = POLLOUT };

		ASSERT_OK(poll(&p, 1, 0));
		wrong += !!(p.revents & POLLOUT) != (room >= atomic);
		if (p.revents & POLLOUT) {
			n = write(w, buf, len);
			if (n < 0 && errno == EAGAIN) {
				spins++;
			} else {
				want = len <= atomic || len <= room ? len : room;
				ASSERT_EQ(want, n);
				room -= n;
				writes++;
			}
		}
		if (i >= 50 && room < size) {
			want = step < size - room ? step : size - room;
			ASSERT_EQ(want, read(r, buf, step));
			room += want;
		}
	}
	if (spins || wrong)
		FAIL("pipe %u, writes %u: %d POLLOUT then EAGAIN, %d POLLOUT != room >= %u",
		     size, len, spins, wrong, atomic);
	ASSERT_TRUE(writes > 0);
	if (room < size)
		read_exact(r, buf, size - room);
	close(w);
	close(r);
	free(buf);
}

TEST(pollout_means_an_atomic_write_fits)
{
	pollout_loop(BUF, 2);
	pollout_loop(BUF, PIPE_BUF);
	pollout_loop(2 * PIPE_BUF, 2);
	pollout_loop(2 * PIPE_BUF, PIPE_BUF);
	pollout_loop(2 * PIPE_BUF, PIPE_BUF + 1);
	pollout_loop(1, 2);
}

/*
 * In a buffer larger than PIPE_BUF, a write of PIPE_BUF bytes is atomic
 * and a larger one is not: with PIPE_BUF - 1 bytes of room, O_NONBLOCK
 * gives EAGAIN for the first and writes what fits of the second.
 */
TEST(atomic_size_is_pipe_buf)
{
	int rw = pipe_open(0, O_RDWR | O_NONBLOCK);
	char *buf = xmalloc(4 * PIPE_BUF), *back = xmalloc(4 * PIPE_BUF);

	ASSERT_EQ(0, ioctl(rw, SCULL_P_IOCTSIZE, 4 * PIPE_BUF));
	pattern_fill(buf, 4 * PIPE_BUF, 0, 6);
	write_exact(rw, buf, 3 * PIPE_BUF + 1);
	ASSERT_EQ(POLLIN | POLLRDNORM, readiness(rw));
	ASSERT_ERRNO(write(rw, buf, PIPE_BUF), EAGAIN);
	ASSERT_EQ(PIPE_BUF - 1, write(rw, buf + 3 * PIPE_BUF + 1, PIPE_BUF + 1));
	read_exact(rw, back, 4 * PIPE_BUF);
	pattern_check(back, 4 * PIPE_BUF, 0, 6);
	ASSERT_EQ(POLLOUT | POLLWRNORM, readiness(rw));
	close(rw);
	free(buf);
	free(back);
}

/*
 * Wake-ups carry their event: a read that makes room wakes writers'
 * epoll entries only, a write readers' only.  Edge-triggered entries
 * show each wake-up: one woken while its file is ready reports it again.
 * The O_RDWR file is on both wait queues; its entry for EPOLLIN must not
 * wake for room, nor its entry for EPOLLOUT for bytes.
 */
TEST(epoll_wakes_only_for_its_event)
{
	int r = pipe_open(0, O_RDONLY | O_NONBLOCK);
	int w = pipe_open(0, O_WRONLY | O_NONBLOCK);
	int rw = pipe_open(0, O_RDWR | O_NONBLOCK);
	struct { int fd; unsigned int events; int ep; } e[] = {
		{ r, EPOLLIN }, { rw, EPOLLIN }, { w, EPOLLOUT }, { rw, EPOLLOUT },
	};
	struct epoll_event ev, got;
	unsigned int i;
	char c;

	/* larger than PIPE_BUF: with 10 bytes in, an atomic write fits */
	ASSERT_EQ(0, ioctl(rw, SCULL_P_IOCTSIZE, 2 * PIPE_BUF));
	write_exact(w, "0123456789", 10);
	for (i = 0; i < ARRAY_SIZE(e); i++) {
		ev.events = e[i].events | EPOLLET;
		e[i].ep = ASSERT_OK(epoll_create1(0));
		ASSERT_OK(epoll_ctl(e[i].ep, EPOLL_CTL_ADD, e[i].fd, &ev));
		ASSERT_EQ(1, epoll_wait(e[i].ep, &got, 1, 0));
		ASSERT_EQ(e[i].events, got.events);
		ASSERT_EQ(0, epoll_wait(e[i].ep, &got, 1, 0));
	}
	/* room: the writers' entries wake, and only they */
	read_exact(r, &c, 1);
	for (i = 0; i < ARRAY_SIZE(e); i++) {
		if (e[i].events == EPOLLIN) {
			ASSERT_EQ(0, epoll_wait(e[i].ep, &got, 1, 0));
			continue;
		}
		ASSERT_EQ(1, epoll_wait(e[i].ep, &got, 1, 0));
		ASSERT_EQ(EPOLLOUT, got.events);
	}
	/* bytes: the readers' entries wake, and only they */
	write_exact(w, "a", 1);
	for (i = 0; i < ARRAY_SIZE(e); i++) {
		if (e[i].events == EPOLLOUT) {
			ASSERT_EQ(0, epoll_wait(e[i].ep, &got, 1, 0));
			continue;
		}
		ASSERT_EQ(1, epoll_wait(e[i].ep, &got, 1, 0));
		ASSERT_EQ(EPOLLIN, got.events);
	}
	for (i = 0; i < ARRAY_SIZE(e); i++)
		close(e[i].ep);
	close(r);
	close(w);
	close(rw);
}

/*
 * A buffer never shrinks below an atomic write that a writer sleeps to
 * put in whole: a pipe of 100 bytes, full, and a writer asleep for room
 * for 80.  A read empties the pipe and wakes the writer, which cannot run
 * yet (it shares this test's CPU, and the test runs SCHED_FIFO until it
 * is done): shrinking to 50 now gives EBUSY, growing to 200 does not.
 * The writer's 80 bytes then arrive whole, and once it is gone the
 * shrink is allowed.
 */
TEST(shrink_waits_for_a_sleeping_atomic_writer)
{
	struct sched_param fifo = { .sched_priority = 1 }, other = { 0 };
	int r = pipe_open(0, O_RDONLY | O_NONBLOCK);
	int w = pipe_open(0, O_WRONLY);
	char rec[80], back[200];
	int shrink, shrink_errno, grow;
	cpu_set_t cpu0;
	pid_t pid;

	ASSERT_EQ(0, ioctl(w, SCULL_P_IOCTSIZE, 100));
	memset(back, 'f', 100);
	write_exact(w, back, 100);
	pattern_fill(rec, sizeof(rec), 0, 7);
	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	ASSERT_OK(sched_setaffinity(0, sizeof(cpu0), &cpu0));
	pid = fork();
	if (!pid) {
		ASSERT_EQ(80, write(w, rec, sizeof(rec)));
		_exit(0);
	}
	wait_blocked(pid, SYS_write);
	ASSERT_OK(sched_setscheduler(0, SCHED_FIFO, &fifo));
	read_exact(r, back, 100);
	shrink = ioctl(w, SCULL_P_IOCTSIZE, 50);
	shrink_errno = errno;
	grow = ioctl(w, SCULL_P_IOCTSIZE, 200);
	ASSERT_OK(sched_setscheduler(0, SCHED_OTHER, &other));
	if (shrink != -1 || shrink_errno != EBUSY)
		FAIL("shrinking under a sleeping atomic writer: %d (%s), not EBUSY",
		     shrink, shrink ? strerror(shrink_errno) : "done");
	ASSERT_EQ(0, grow);
	join_ok(pid);
	ASSERT_EQ(80, read(r, back, sizeof(back)));
	pattern_check(back, 80, 0, 7);
	ASSERT_EQ(200, ioctl(w, SCULL_P_IOCQSIZE));
	ASSERT_EQ(0, ioctl(w, SCULL_P_IOCTSIZE, 50));
	close(r);
	close(w);
}

/* A sleeping poll or epoll_wait wakes for bytes, and for the hang-up. */
TEST(poll_wakes_up)
{
	int w = pipe_open(0, O_WRONLY);
	int r = pipe_open(0, O_RDONLY | O_NONBLOCK);
	pid_t pid = fork();

	if (!pid) {
		struct pollfd p = { .fd = r, .events = POLLIN | POLLRDNORM };
		struct epoll_event ev = { .events = EPOLLIN }, got;
		char buf[8];
		int ep;

		close(w);
		ASSERT_EQ(1, poll(&p, 1, 10000));
		ASSERT_EQ(POLLIN | POLLRDNORM, p.revents);
		ASSERT_EQ(1, read(r, buf, sizeof(buf)));
		ep = ASSERT_OK(epoll_create1(0));
		ASSERT_OK(epoll_ctl(ep, EPOLL_CTL_ADD, r, &ev));
		ASSERT_EQ(1, epoll_wait(ep, &got, 1, 10000));
		ASSERT_EQ(EPOLLHUP, got.events);
		_exit(0);
	}
	wait_blocked(pid, SYS_POLL);
	write_exact(w, "x", 1);
	wait_blocked(pid, SYS_EPOLL_WAIT);
	close(w);
	join_ok(pid);
}

/* fasync: SIGIO to the owner when bytes arrive, and at the hang-up. */
TEST(sigio_when_data_arrives)
{
	struct timespec now = { 0, 0 }, second = { 1, 0 };
	int r = pipe_open(0, O_RDONLY | O_NONBLOCK);
	int w = pipe_open(0, O_WRONLY);
	siginfo_t si;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGIO);
	ASSERT_OK(sigprocmask(SIG_BLOCK, &set, NULL));
	ASSERT_OK(fcntl(r, F_SETOWN, getpid()));
	ASSERT_OK(fcntl(r, F_SETSIG, SIGIO));	/* with siginfo */
	ASSERT_OK(fcntl(r, F_SETFL, O_RDONLY | O_NONBLOCK | O_ASYNC));
	ASSERT_ERRNO(sigtimedwait(&set, &si, &now), EAGAIN);

	write_exact(w, "x", 1);
	ASSERT_EQ(SIGIO, sigtimedwait(&set, &si, &second));
	ASSERT_EQ(POLL_IN, si.si_code);
	ASSERT_EQ(r, si.si_fd);
	ASSERT_EQ(POLLIN | POLLRDNORM, si.si_band);
	ASSERT_ERRNO(sigtimedwait(&set, &si, &now), EAGAIN);

	close(w);
	ASSERT_EQ(SIGIO, sigtimedwait(&set, &si, &second));
	ASSERT_EQ(POLL_HUP, si.si_code);
	ASSERT_EQ(r, si.si_fd);

	/* O_ASYNC off: no more signals */
	ASSERT_OK(fcntl(r, F_SETFL, O_RDONLY | O_NONBLOCK));
	w = pipe_open(0, O_WRONLY);
	write_exact(w, "y", 1);
	ASSERT_ERRNO(sigtimedwait(&set, &si, &now), EAGAIN);
	close(w);
}

/*
 * O_NONBLOCK: -EAGAIN from an empty pipe and into a full one.  A write
 * of at most the buffer's size goes in whole or not at all; a larger one
 * takes what room there is.
 */
TEST(nonblock_eagain_both_ways)
{
	char in[3 * BUF], out[3 * BUF];
	int w = pipe_open(0, O_WRONLY | O_NONBLOCK);
	int r = pipe_open(0, O_RDONLY | O_NONBLOCK);

	pattern_fill(in, sizeof(in), 0, 3);
	ASSERT_ERRNO(read(r, out, sizeof(out)), EAGAIN);
	ASSERT_EQ(BUF, write(w, in, BUF));
	ASSERT_ERRNO(write(w, in, 1), EAGAIN);
	read_exact(r, out, BUF / 2);
	/* 3000 bytes, 2000 of room: atomic, so nothing */
	ASSERT_ERRNO(write(w, in + BUF, 3 * BUF / 4), EAGAIN);
	/* 5000 bytes: more than the buffer, so the 2000 that fit */
	ASSERT_EQ(BUF / 2, write(w, in + BUF, BUF + BUF / 4));
	ASSERT_EQ(BUF, read(r, out + BUF / 2, sizeof(out) - BUF / 2));
	pattern_check(out, BUF + BUF / 2, 0, 3);
	ASSERT_ERRNO(read(r, out, sizeof(out)), EAGAIN);
}

/* Blocked reads and writes end with EINTR for a handler without
 * SA_RESTART; a write interrupted part-way returns what it wrote.
 */
TEST(signals_interrupt_waits)
{
	int rw = pipe_open(0, O_RDWR);
	char *buf = xmalloc(3 * BUF);

	alarm_in(100, 0);
	ASSERT_ERRNO(read(rw, buf, 10), EINTR);
	memset(buf, 'z', 3 * BUF);
	write_exact(rw, buf, BUF);
	alarm_in(100, 0);
	ASSERT_ERRNO(write(rw, buf, 1), EINTR);
	read_exact(rw, buf, BUF);
	/* 12000 bytes: 4000 go in, then the wait for room is interrupted */
	alarm_in(100, 0);
	ASSERT_EQ(BUF, write(rw, buf, 3 * BUF));
	free(buf);
}

/*
 * With SA_RESTART the handler runs and the read goes on waiting.  The
 * signal is sent once the reader sleeps (a timer of its own could fire
 * while wait_blocked() still watched it, and fail it for leaving the call).
 */
TEST(sa_restart_read_goes_on)
{
	int w = pipe_open(0, O_WRONLY), i;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (!pid) {
		struct sigaction sa = { .sa_handler = on_signal,
					.sa_flags = SA_RESTART };
		int r = pipe_open(0, O_RDONLY);
		char buf[8];

		close(w);
		ASSERT_OK(sigaction(SIGALRM, &sa, NULL));
		ASSERT_EQ(3, read(r, buf, sizeof(buf)));
		ASSERT_MEM_EQ("end", buf, 3);
		ASSERT_EQ(1, signals_caught);
		_exit(0);
	}
	wait_blocked(pid, SYS_read);
	ASSERT_OK(kill(pid, SIGALRM));
	for (i = 0; i < 200 && !no_signal_pending(pid); i++)
		usleep(10000);
	ASSERT_TRUE(no_signal_pending(pid));
	/* the handler ran, and the read sleeps again */
	wait_blocked(pid, SYS_read);
	write_exact(w, "end", 3);
	join_ok(pid);
}

/*
 * A write waiting for room restarts with SA_RESTART: the handler runs,
 * the write sleeps again and goes in whole once a read makes room.  A
 * write that had already put bytes in returns their count, handler with
 * SA_RESTART or not.
 */
TEST(sa_restart_write_goes_on)
{
	int rw = pipe_open(0, O_RDWR), i;
	char *buf = xmalloc(3 * BUF);
	pid_t pid;

	memset(buf, 'z', BUF);
	write_exact(rw, buf, BUF);
	fflush(stdout);
	pid = fork();
	if (!pid) {
		struct sigaction sa = { .sa_handler = on_signal,
					.sa_flags = SA_RESTART };
		int w = pipe_open(0, O_WRONLY);

		memset(buf, 'r', 100);
		ASSERT_OK(sigaction(SIGALRM, &sa, NULL));
		ASSERT_EQ(100, write(w, buf, 100));
		ASSERT_EQ(1, signals_caught);
		_exit(0);
	}
	wait_blocked(pid, SYS_write);
	ASSERT_OK(kill(pid, SIGALRM));
	for (i = 0; i < 200 && !no_signal_pending(pid); i++)
		usleep(10000);
	ASSERT_TRUE(no_signal_pending(pid));
	/* the handler ran, and the write sleeps again */
	wait_blocked(pid, SYS_write);
	read_exact(rw, buf, BUF);
	join_ok(pid);
	read_exact(rw, buf, 100);
	for (i = 0; i < 100; i++)
		ASSERT_EQ('r', buf[i]);
	/* 12000 bytes: 4000 go in, then the wait for room is interrupted */
	for (i = 0; i < 3 * BUF; i++)
		buf[i] = (char)i;
	alarm_in(100, 1);
	ASSERT_EQ(BUF, write(rw, buf + 0, 3 * BUF));
	ASSERT_EQ(1, signals_caught);
	read_exact(rw, buf + BUF, BUF);
	ASSERT_MEM_EQ(buf, buf + BUF, BUF);
	free(buf);
	close(rw);
}

TEST(not_seekable)
{
	int fd = pipe_open(0, O_RDWR);
	char c = 'x';

	ASSERT_ERRNO(lseek(fd, 0, SEEK_SET), ESPIPE);
	ASSERT_ERRNO(lseek(fd, 0, SEEK_CUR), ESPIPE);
	ASSERT_ERRNO(pwrite(fd, &c, 1, 0), ESPIPE);
	ASSERT_ERRNO(pread(fd, &c, 1, 0), ESPIPE);
	close(fd);
}

static void pipe_tell_as_user(void *arg)
{
	int fd = pipe_open(0, O_RDWR);

	(void)arg;
	ASSERT_ERRNO(ioctl(fd, SCULL_P_IOCTSIZE, 100), EPERM);
	ASSERT_ERRNO(ioctl(fd, SCULL_P_IOCTSIZE, 0), EPERM);
	ASSERT_EQ(BUF, ioctl(fd, SCULL_P_IOCQSIZE));
	close(fd);
}

/*
 * SCULL_P_IOCQSIZE reads the size; SCULL_P_IOCTSIZE sets it, for root,
 * 1 to SCULL_P_BUFFER_MAX bytes, only while the pipe is empty; each pipe
 * has its own.  The memory devices' commands are not the pipe's.
 */
TEST(pipe_ioctls)
{
	int fd = pipe_open(0, O_RDWR | O_NONBLOCK), other = pipe_open(1, O_RDWR);
	char *buf = xmalloc(SCULL_P_BUFFER_MAX);

	ASSERT_EQ(BUF, ioctl(fd, SCULL_P_IOCQSIZE));
	ASSERT_EQ(0, as_user(USER_IN_UID, pipe_tell_as_user, NULL));
	ASSERT_ERRNO(ioctl(fd, SCULL_P_IOCTSIZE, 0), EINVAL);
	ASSERT_ERRNO(ioctl(fd, SCULL_P_IOCTSIZE, SCULL_P_BUFFER_MAX + 1), EINVAL);
	ASSERT_ERRNO(ioctl(fd, SCULL_P_IOCTSIZE, -1), EINVAL);
	ASSERT_EQ(BUF, ioctl(fd, SCULL_P_IOCQSIZE));

	ASSERT_EQ(0, ioctl(fd, SCULL_P_IOCTSIZE, 100));
	ASSERT_EQ(100, ioctl(fd, SCULL_P_IOCQSIZE));
	ASSERT_EQ(BUF, ioctl(other, SCULL_P_IOCQSIZE));
	/* 150 bytes into 100: more than the buffer, so 100 go in */
	pattern_fill(buf, 150, 0, 4);
	ASSERT_EQ(100, write(fd, buf, 150));
	ASSERT_ERRNO(ioctl(fd, SCULL_P_IOCTSIZE, 200), EBUSY);
	ASSERT_EQ(100, ioctl(fd, SCULL_P_IOCQSIZE));
	ASSERT_EQ(100, read(fd, buf, 150));
	pattern_check(buf, 100, 0, 4);
	ASSERT_EQ(0, ioctl(fd, SCULL_P_IOCTSIZE, SCULL_P_BUFFER_MAX));
	ASSERT_EQ(SCULL_P_BUFFER_MAX, ioctl(fd, SCULL_P_IOCQSIZE));
	pattern_fill(buf, SCULL_P_BUFFER_MAX, 0, 5);
	ASSERT_EQ(SCULL_P_BUFFER_MAX, write(fd, buf, SCULL_P_BUFFER_MAX));
	ASSERT_ERRNO(write(fd, buf, 1), EAGAIN);
	memset(buf, 0, SCULL_P_BUFFER_MAX);
	ASSERT_EQ(SCULL_P_BUFFER_MAX, read(fd, buf, SCULL_P_BUFFER_MAX));
	pattern_check(buf, SCULL_P_BUFFER_MAX, 0, 5);
	ASSERT_EQ(0, ioctl(fd, SCULL_P_IOCTSIZE, 1));
	ASSERT_EQ(1, ioctl(fd, SCULL_P_IOCQSIZE));
	ASSERT_EQ(1, write(fd, "ab", 2));

	ASSERT_ERRNO(ioctl(fd, SCULL_IOCQQUANTUM), ENOTTY);
	ASSERT_ERRNO(ioctl(fd, SCULL_IOCRESET), ENOTTY);
	ASSERT_ERRNO(ioctl(fd, _IO(SCULL_IOC_MAGIC, 15)), ENOTTY);
	ASSERT_ERRNO(ioctl(fd, _IOR(SCULL_IOC_MAGIC, 14, int), buf), ENOTTY);
	close(fd);
	close(other);
	free(buf);
}

/*
 * Many writers and readers at once.  Each writer sends records of RECORD
 * bytes (writer, number, pattern), each in one write; the buffer holds
 * whole records only, so each read of RECORD bytes takes one.  Every
 * record must arrive exactly once, whole, and each reader must see each
 * writer's records in order.
 */
#define WRITERS		4
#define READERS		3
#define RECORDS		1000
#define RECORD		1000

struct record_head {
	uint32_t writer;
	uint32_t seq;
	uint32_t len;
	uint32_t magic;
};

#define RECORD_MAGIC	0x5c011a9e

static void record_fill(char *buf, uint32_t w, uint32_t seq, uint32_t len)
{
	struct record_head h = { w, seq, len, RECORD_MAGIC };

	memcpy(buf, &h, sizeof(h));
	pattern_fill(buf + sizeof(h), len - sizeof(h), 0, w << 20 | seq);
}

/* The head of a whole record, checked byte by byte. */
static struct record_head record_check(const char *buf, size_t len)
{
	struct record_head h;

	if (len < sizeof(h))
		FAIL("a record of %zu bytes", len);
	memcpy(&h, buf, sizeof(h));
	if (h.magic != RECORD_MAGIC || h.writer >= WRITERS || h.len != len)
		FAIL("bad record head: writer %u seq %u len %u magic 0x%x (read %zu bytes)",
		     h.writer, h.seq, h.len, h.magic, len);
	pattern_check(buf + sizeof(h), len - sizeof(h), 0,
		      h.writer << 20 | h.seq);
	return h;
}

static void record_writer(uint32_t w, uint32_t len_of(uint32_t, uint32_t))
{
	int fd = pipe_open(0, O_WRONLY);
	char buf[BUF];
	uint32_t seq;

	for (seq = 0; seq < RECORDS; seq++) {
		uint32_t len = len_of(w, seq);

		record_fill(buf, w, seq, len);
		write_exact(fd, buf, len);
	}
	close(fd);
	_exit(0);
}

static uint32_t fixed_len(uint32_t w, uint32_t seq)
{
	(void)w;
	(void)seq;
	return RECORD;
}

TEST_TIMEOUT(many_writers_and_readers, 300)
{
	unsigned int *seen = mmap(NULL, WRITERS * RECORDS * sizeof(*seen),
				  PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t readers[READERS], writers[WRITERS];
	int hold = pipe_open(0, O_WRONLY), i, w;

	ASSERT_TRUE(seen != MAP_FAILED);
	/*
	 * Each reader's file is opened here, while hold is a writer: one
	 * opened after the last writer left would wait for the next one.
	 */
	for (i = 0; i < READERS; i++) {
		int fd = pipe_open(0, O_RDONLY);

		readers[i] = fork();
		if (!readers[i]) {
			int next[WRITERS] = { 0 };
			char buf[BUF];
			ssize_t n;

			close(hold);
			while ((n = read(fd, buf, RECORD)) > 0) {
				struct record_head h = record_check(buf, n);

				if ((int)h.seq < next[h.writer])
					FAIL("writer %u's record %u after %d", h.writer,
					     h.seq, next[h.writer] - 1);
				next[h.writer] = h.seq + 1;
				__atomic_fetch_add(&seen[h.writer * RECORDS + h.seq], 1,
						   __ATOMIC_RELAXED);
			}
			ASSERT_EQ(0, n);
			_exit(0);
		}
		close(fd);
	}
	for (w = 0; w < WRITERS; w++) {
		writers[w] = fork();
		if (!writers[w]) {
			close(hold);
			record_writer(w, fixed_len);
		}
	}
	close(hold);
	for (w = 0; w < WRITERS; w++)
		join_ok(writers[w]);
	for (i = 0; i < READERS; i++)
		join_ok(readers[i]);
	for (i = 0; i < WRITERS * RECORDS; i++)
		if (seen[i] != 1)
			FAIL("writer %d's record %d arrived %u times", i / RECORDS,
			     i % RECORDS, seen[i]);
}

/* Record sizes from 16 bytes to the whole buffer, the atomic size. */
static uint32_t varied_len(uint32_t w, uint32_t seq)
{
	uint32_t x = (w * 2654435761u) ^ (seq * 40503u + 7);

	if (seq % 10 == 9)
		return BUF;
	return sizeof(struct record_head) + x % (BUF - sizeof(struct record_head));
}

/*
 * Writers of every size up to the buffer's at once, one reader taking
 * the stream in reads of other sizes: the records follow one another
 * whole, never interleaved, each writer's in order, none missing.
 */
TEST_TIMEOUT(atomic_writes_arrive_whole, 300)
{
	static char stream[2 * BUF];
	uint32_t next[WRITERS] = { 0 };
	int hold = pipe_open(0, O_WRONLY), w, fd;
	size_t have = 0, records = 0;
	pid_t writers[WRITERS];
	ssize_t n;

	fd = pipe_open(0, O_RDONLY);
	for (w = 0; w < WRITERS; w++) {
		writers[w] = fork();
		if (!writers[w]) {
			close(fd);
			close(hold);
			record_writer(w, varied_len);
		}
	}
	close(hold);
	for (;;) {
		struct record_head h;

		n = read(fd, stream + have, (records * 997 % BUF) + 1);
		ASSERT_OK(n);
		have += n;
		while (have >= sizeof(h)) {
			memcpy(&h, stream, sizeof(h));
			if (h.len > BUF || h.len < sizeof(h))
				FAIL("bad record head after %zu records: writer %u seq %u len %u magic 0x%x",
				     records, h.writer, h.seq, h.len, h.magic);
			if (have < h.len)
				break;
			h = record_check(stream, h.len);
			ASSERT_EQ(next[h.writer], h.seq);
			next[h.writer]++;
			records++;
			memmove(stream, stream + h.len, have - h.len);
			have -= h.len;
		}
		if (!n)
			break;
	}
	ASSERT_EQ(0, have);
	ASSERT_EQ(WRITERS * RECORDS, records);
	for (w = 0; w < WRITERS; w++)
		join_ok(writers[w]);
}
