// SPDX-License-Identifier: GPL-2.0
/*
 * The cost of one call: pread or pwrite of N bytes in a loop on one file,
 * timed with CLOCK_MONOTONIC.  In a guest under QEMU's -icount shift=0
 * the clock advances one nanosecond per instruction, so the figure is
 * instructions per call, the same every run; under a normal clock it is
 * nanoseconds.  Used by the bench (make bench ICOUNT=1), not a test.
 *
 *   callcost FILE read|write BYTES [CALLS [SPAN]]
 *
 * Calls cycle over the first SPAN bytes of FILE (default 64 MiB, which a
 * read needs stored).  Prints "FILE read|write BYTES ns_per_call", the
 * median of five rounds of CALLS calls (default 20000), after a warm-up.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
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

int main(int argc, char **argv)
{
	long long span = 64LL << 20, off = 0;
	double round[ROUNDS], start;
	long calls = 20000, i;
	int write_op, fd, r;
	size_t bytes;
	char *buf;

	if (argc < 4) {
		fprintf(stderr, "usage: callcost FILE read|write BYTES [CALLS [SPAN]]\n");
		return 2;
	}
	write_op = !strcmp(argv[2], "write");
	bytes = strtoul(argv[3], NULL, 0);
	if (argc > 4)
		calls = strtol(argv[4], NULL, 0);
	if (argc > 5)
		span = strtoll(argv[5], NULL, 0);
	if (span < (long long)bytes)
		span = bytes;
	/* O_RDWR, not O_WRONLY: a write-only open trims a scull device */
	fd = open(argv[1], write_op ? O_RDWR | O_CREAT : O_RDONLY, 0600);
	if (fd < 0) {
		fprintf(stderr, "callcost: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (posix_memalign((void **)&buf, 4096, bytes ? bytes : 1))
		return 1;
	memset(buf, 0x5a, bytes);
	for (r = -1; r < ROUNDS; r++) {
		start = now_ns();
		for (i = 0; i < calls; i++) {
			ssize_t n = write_op ? pwrite(fd, buf, bytes, off) :
					       pread(fd, buf, bytes, off);

			if (n != (ssize_t)bytes) {
				fprintf(stderr, "callcost: %s %s of %zu at %lld: %zd (%s)\n",
					argv[1], argv[2], bytes, off, n,
					n < 0 ? strerror(errno) : "short");
				return 1;
			}
			off += bytes;
			if (off + (long long)bytes > span)
				off = 0;
		}
		if (r >= 0)
			round[r] = (now_ns() - start) / calls;
	}
	qsort(round, ROUNDS, sizeof(round[0]), cmp);
	printf("%s %s %zu %.1f\n", argv[1], argv[2], bytes, round[ROUNDS / 2]);
	return 0;
}
