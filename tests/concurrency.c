// SPDX-License-Identifier: GPL-2.0
/*
 * Concurrent readers and writers keep the data consistent: a write is
 * seen whole or not at all by a read of the same bytes, every writer finds
 * its own bytes at the end, and devices do not disturb each other.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define REGION		(256 << 10)	/* bytes each writer owns */
#define CHUNK		(16 << 10)	/* one write, one read */
#define WRITERS		3
#define READERS		3
#define SECONDS		3

/*
 * A chunk written by writer w in round v starts with a header (w, v); the
 * rest is a pattern of w, v and the offset.  A read sees one chunk whole.
 */
struct chunk_head {
	uint32_t writer;
	uint32_t round;
};

static void chunk_fill(unsigned char *buf, int w, uint32_t v, size_t off)
{
	struct chunk_head h = { w, v };

	memcpy(buf, &h, sizeof(h));
	pattern_fill(buf + sizeof(h), CHUNK - sizeof(h), off + sizeof(h),
		     w * 1000003u + v);
}

/* The round of a chunk read at off, which must be writer w's, whole. */
static uint32_t chunk_check(const unsigned char *buf, int w, size_t off)
{
	struct chunk_head h;

	memcpy(&h, buf, sizeof(h));
	if (h.writer != (uint32_t)w || !h.round)
		FAIL("chunk at %zu: header says writer %u round %u, expected writer %d",
		     off, h.writer, h.round, w);
	pattern_check(buf + sizeof(h), CHUNK - sizeof(h), off + sizeof(h),
		      w * 1000003u + h.round);
	return h.round;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Writer w rewrites its region chunk by chunk, round after round. */
static void writer(int minor, int w)
{
	unsigned char buf[CHUNK];
	double end = now() + SECONDS;
	uint32_t v = 1;
	size_t off;
	int fd = dev_open(minor, O_RDWR);

	while (now() < end) {
		v++;
		for (off = w * REGION; off < (size_t)(w + 1) * REGION; off += CHUNK) {
			chunk_fill(buf, w, v, off);
			pwrite_exact(fd, buf, CHUNK, off);
		}
	}
	scull_diag("writer %d: %u rounds", w, v - 1);
	close(fd);
}

/* Readers pick chunks at random; each must be one round of its writer. */
static void reader(int minor, unsigned int seed)
{
	unsigned char buf[CHUNK];
	double end = now() + SECONDS;
	unsigned long reads = 0;
	int fd = dev_open(minor, O_RDONLY);

	srand(seed);
	while (now() < end) {
		int w = rand() % WRITERS;
		size_t off = w * REGION + (rand() % (REGION / CHUNK)) * CHUNK;

		pread_exact(fd, buf, CHUNK, off);
		chunk_check(buf, w, off);
		reads++;
	}
	scull_diag("reader %u: %lu reads", seed, reads);
	close(fd);
}

static void wait_all(int n)
{
	int status;

	while (n--) {
		if (wait(&status) < 0)
			FAIL("wait: %s", strerror(errno));
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			FAIL("a worker failed (status 0x%x)", status);
	}
}

/* At the end each writer's region holds one round, whole: its last. */
static void check_final(int minor)
{
	unsigned char buf[CHUNK];
	int w, fd = dev_open(minor, O_RDONLY);
	uint32_t last;
	size_t off;

	for (w = 0; w < WRITERS; w++) {
		last = 0;
		for (off = w * REGION; off < (size_t)(w + 1) * REGION; off += CHUNK) {
			uint32_t v;

			pread_exact(fd, buf, CHUNK, off);
			v = chunk_check(buf, w, off);
			if (last && v != last)
				FAIL("writer %d's region mixes rounds %u and %u", w, last, v);
			last = v;
		}
	}
	ASSERT_EQ(WRITERS * REGION, dev_size(minor));
	close(fd);
}

TEST(readers_and_writers_one_minor)
{
	unsigned char buf[CHUNK];
	int w, r, fd = dev_open(0, O_RDWR);
	size_t off;

	/* every region starts written, as round 1 */
	for (w = 0; w < WRITERS; w++)
		for (off = w * REGION; off < (size_t)(w + 1) * REGION; off += CHUNK) {
			chunk_fill(buf, w, 1, off);
			pwrite_exact(fd, buf, CHUNK, off);
		}
	close(fd);
	for (w = 0; w < WRITERS; w++)
		if (!fork()) {
			writer(0, w);
			_exit(0);
		}
	for (r = 0; r < READERS; r++)
		if (!fork()) {
			reader(0, r + 1);
			_exit(0);
		}
	wait_all(WRITERS + READERS);
	check_final(0);
}

/* Each minor its own writer and reader, all at once. */
TEST(writers_across_minors)
{
	int m, status;
	pid_t pids[SCULL_NR_DEVS];

	for (m = 0; m < SCULL_NR_DEVS; m++) {
		pids[m] = fork();
		if (!pids[m]) {
			unsigned char *buf = xmalloc(4 << 20), *back = xmalloc(4 << 20);
			int fd = dev_open(m, O_RDWR), round;

			for (round = 0; round < 4; round++) {
				pattern_fill(buf, 4 << 20, 0, m * 10 + round);
				pwrite_exact(fd, buf, 4 << 20, 0);
				pread_exact(fd, back, 4 << 20, 0);
				ASSERT_MEM_EQ(buf, back, 4 << 20);
			}
			_exit(0);
		}
	}
	for (m = 0; m < SCULL_NR_DEVS; m++) {
		ASSERT_EQ(pids[m], waitpid(pids[m], &status, 0));
		ASSERT_EQ(0, status);
		ASSERT_EQ(4 << 20, dev_size(m));
	}
}
