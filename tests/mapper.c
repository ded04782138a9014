// SPDX-License-Identifier: GPL-2.0
/*
 * LDD3's misc-progs/mapper: map a range of a file and print it.
 *
 *   mapper FILE OFFSET LENGTH
 *
 * Maps LENGTH bytes of FILE from OFFSET (shared, read-only; the mapping
 * starts at the page that holds OFFSET) and writes them to standard
 * output.  Not a test: mmap.c runs it on /dev/scull0.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	unsigned long long offset, length, delta;
	long page = sysconf(_SC_PAGESIZE);
	char *end;
	void *addr;
	int fd;

	if (argc != 4) {
		fprintf(stderr, "usage: %s FILE OFFSET LENGTH\n", argv[0]);
		return 2;
	}
	errno = 0;
	offset = strtoull(argv[2], &end, 0);
	if (errno || *end) {
		fprintf(stderr, "%s: bad offset '%s'\n", argv[0], argv[2]);
		return 2;
	}
	length = strtoull(argv[3], &end, 0);
	if (errno || *end || !length) {
		fprintf(stderr, "%s: bad length '%s'\n", argv[0], argv[3]);
		return 2;
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "%s: %s: %s\n", argv[0], argv[1], strerror(errno));
		return 1;
	}
	delta = offset % page;
	addr = mmap(NULL, length + delta, PROT_READ, MAP_SHARED, fd,
		    offset - delta);
	if (addr == MAP_FAILED) {
		fprintf(stderr, "%s: mmap: %s\n", argv[0], strerror(errno));
		return 1;
	}
	if (fwrite((char *)addr + delta, 1, length, stdout) != length ||
	    fflush(stdout)) {
		fprintf(stderr, "%s: write: %s\n", argv[0], strerror(errno));
		return 1;
	}
	munmap(addr, length + delta);
	close(fd);
	return 0;
}
