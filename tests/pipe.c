// SPDX-License-Identifier: GPL-2.0
/*
 * scullpipe: blocking reads and writes and their wake-ups, end of file
 * when the last writer leaves, poll/select/epoll readiness, SIGIO,
 * O_NONBLOCK, signals, seeks, the pipe's ioctls, and many writers and
 * readers at once (every byte once, atomic writes whole).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
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
 * its bytes follow the ones before them.
 */
TEST(blocked_writer_wakes_on_read)
{
	char full[BUF], back[BUF];
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
	read_exact(r, back + 5, 5);
	join_ok(pid);
	read_exact(r, back + 10, BUF - 10);
	pattern_check(back, BUF, 0, 1);
	read_exact(r, back, 10);
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
	char buf[BUF];

	ASSERT_EQ(0, readiness(r));
	ASSERT_EQ(POLLOUT | POLLWRNORM, readiness(w));
	ASSERT_EQ(POLLOUT | POLLWRNORM, readiness(rw));
	write_exact(w, "0123456789", 10);
	ASSERT_EQ(POLLIN | POLLRDNORM, readiness(r));
	ASSERT_EQ(POLLOUT | POLLWRNORM, readiness(w));
	ASSERT_EQ(POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM, readiness(rw));
	memset(buf, 'f', sizeof(buf));
	write_exact(w, buf, BUF - 10);
	ASSERT_EQ(0, readiness(w));
	ASSERT_EQ(POLLIN | POLLRDNORM, readiness(rw));
	read_exact(r, buf, 1);
	ASSERT_EQ(POLLOUT | POLLWRNORM, readiness(w));
	close(w);
	close(rw);
	/* no writer left: hang-up, and bytes still to read */
	ASSERT_EQ(POLLIN | POLLRDNORM | POLLHUP, readiness(r));
	read_exact(r, buf, BUF - 1);
	ASSERT_EQ(POLLHUP, readiness(r));
	close(r);
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

/* Whether @pid has no signal pending (its handler ran for each one sent). */
static int nothing_pending(pid_t pid)
{
	char path[64], text[4096], *p;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	read_text(path, text, sizeof(text));
	p = strstr(text, "\nSigPnd:\t");
	if (!p || strtoull(p + 9, NULL, 16))
		return 0;
	p = strstr(text, "\nShdPnd:\t");
	return p && !strtoull(p + 9, NULL, 16);
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
	for (i = 0; i < 200 && !nothing_pending(pid); i++)
		usleep(10000);
	ASSERT_TRUE(nothing_pending(pid));
	/* the handler ran, and the read sleeps again */
	wait_blocked(pid, SYS_read);
	write_exact(w, "end", 3);
	join_ok(pid);
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
