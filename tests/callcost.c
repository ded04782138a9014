// SPDX-License-Identifier: GPL-2.0
/*
 * The cost of one call: pread or pwrite of N bytes in a loop on one file,
 * timed with CLOCK_MONOTONIC.  In a guest under QEMU's -icount shift=0
 * the clock advances one nanosecond per instruction, so the figure is
 * instructions per call, the same every run; under a normal clock it is
 * nanoseconds.  The loop itself adds a few instructions per call in user
 * space, unlike fio, which adds a few thousand (its bookkeeping per I/O).
 * Used by the bench (tools/guest/bench.sh), not a test.
 *
 *   callcost [-d] [-r] [-n CALLS] [-s SPAN] FILE read|write BYTES
 *
 * Calls cycle over the first SPAN bytes of FILE (default 64 MiB, which a
 * read needs stored), in order, or at random BYTES-aligned offsets with
 * -r (xorshift64, the same sequence every run).  -d opens FILE with
 * O_DIRECT (a block device without its page cache).  A write opens FILE
 * O_RDWR, as fio does: scull trims a device opened write-only.
 *
 * Prints "FILE read|write BYTES MEDIAN MIN MAX": nanoseconds per call, the
 * median, fastest and slowest of five rounds of CALLS calls each (default
 * 20000), after one unrecorded round.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS	5

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void usage(void)
{
	fprintf(stderr, "usage: callcost [-d] [-r] [-n CALLS] [-s SPAN] FILE read|write BYTES\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int write_op, direct = 0, random = 0, fd, r, opt;
	long long span = 64LL << 20, off = 0, blocks;
	double round[ROUNDS], start;
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	long calls = 20000, i;
	size_t bytes;
	char *buf;

	while ((opt = getopt(argc, argv, "drn:s:")) != -1) {
		switch (opt) {
		case 'd':
			direct = O_DIRECT;
			break;
		case 'r':
			random = 1;
			break;
		case 'n':
			calls = strtol(optarg, NULL, 0);
			break;
		case 's':
			span = strtoll(optarg, NULL, 0);
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 3 || calls < 1)
		usage();
	write_op = !strcmp(argv[optind + 1], "write");
	if (!write_op && strcmp(argv[optind + 1], "read"))
		usage();
	bytes = strtoul(argv[optind + 2], NULL, 0);
	if (!bytes)
		usage();
	if (span < (long long)bytes)
		span = bytes;
	blocks = span / bytes;
	/* O_RDWR, not O_WRONLY: a write-only open trims a scull device */
	fd = open(argv[optind], (write_op ? O_RDWR | O_CREAT : O_RDONLY) | direct, 0600);
	if (fd < 0) {
		fprintf(stderr, "callcost: %s: %s\n", argv[optind], strerror(errno));
		return 1;
	}
	if (posix_memalign((void **)&buf, 4096, bytes))
		return 1;
	memset(buf, 0x5a, bytes);
	for (r = -1; r < ROUNDS; r++) {
		start = now_ns();
		for (i = 0; i < calls; i++) {
			ssize_t n;

			if (random) {
				x ^= x << 13;
				x ^= x >> 7;
				x ^= x << 17;
				off = (long long)(x % blocks) * bytes;
			}
			n = write_op ? pwrite(fd, buf, bytes, off) : pread(fd, buf, bytes, off);
			if (n != (ssize_t)bytes) {
				fprintf(stderr, "callcost: %s %s of %zu at %lld: %zd (%s)\n",
					argv[optind], argv[optind + 1], bytes, off, n,
					n < 0 ? strerror(errno) : "short");
				return 1;
			}
			if (!random) {
				off += bytes;
				if (off + (long long)bytes > span)
					off = 0;
			}
		}
		if (r >= 0)
			round[r] = (now_ns() - start) / calls;
	}
	qsort(round, ROUNDS, sizeof(round[0]), cmp);
	printf("%s %s %zu %.1f %.1f %.1f\n", argv[optind], argv[optind + 1], bytes,
	       round[ROUNDS / 2], round[0], round[ROUNDS - 1]);
	return 0;
}
