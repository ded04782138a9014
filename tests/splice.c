// SPDX-License-Identifier: GPL-2.0
/*
 * splice(2) and sendfile(2) with a scull device on either side, against a
 * tmpfs file: transfers that cross quanta and quantum sets, and ones that
 * start in a hole.  copy_file_range(2) is for regular files only: the VFS
 * refuses it before scull is asked.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define TMPFILE	"/tmp/scull-splice"

static int tmp_file(const void *buf, size_t len)
{
	int fd = open(TMPFILE, O_RDWR | O_CREAT | O_TRUNC, 0600);

	if (fd < 0)
		FAIL("open " TMPFILE ": %s", strerror(errno));
	if (len)
		pwrite_exact(fd, buf, len, 0);
	return fd;
}

static void tmp_check(int fd, size_t len, uint64_t off, uint32_t seed)
{
	unsigned char *back = xmalloc(len);
	struct stat st;

	ASSERT_OK(fstat(fd, &st));
	ASSERT_EQ(len, st.st_size);
	pread_exact(fd, back, len, 0);
	pattern_check(back, len, off, seed);
	free(back);
}

/* The device holds a pattern over [start, start + len) and nothing else. */
static int dev_with_pattern(int minor, off_t start, size_t len, uint32_t seed)
{
	unsigned char *buf = xmalloc(len);
	int fd = dev_open(minor, O_RDWR);

	pattern_fill(buf, len, start, seed);
	pwrite_exact(fd, buf, len, start);
	free(buf);
	return fd;
}

/* sendfile from scull to a file: 3 MiB from just below a set boundary. */
TEST(sendfile_from_scull_crosses_quanta_and_sets)
{
	off_t start = (2 << 20) - 4097, off = start;
	size_t len = 3 << 20;
	int fd = dev_with_pattern(0, start, len, 31), out = tmp_file(NULL, 0);
	ssize_t n;
	size_t done = 0;

	/* sendfile moves at most what a pipe holds per round: loop */
	while (done < len) {
		n = sendfile(out, fd, &off, len - done);
		if (n <= 0)
			FAIL("sendfile after %zu bytes: %zd (%s)", done, n,
			     n < 0 ? strerror(errno) : "end of file");
		done += n;
	}
	ASSERT_EQ(start + (off_t)len, off);
	tmp_check(out, len, start, 31);
	/* at the end of the device: 0, as for a file */
	ASSERT_EQ(0, sendfile(out, fd, &off, 4096));
	close(out);
	close(fd);
}

/* sendfile from a file into scull, at the file position of the device. */
TEST(sendfile_into_scull)
{
	size_t len = (1 << 20) + 333;
	unsigned char *buf = xmalloc(len), *back = xmalloc(len);
	int in, fd = dev_open(1, O_RDWR);
	size_t done = 0;
	ssize_t n;

	pattern_fill(buf, len, 0, 32);
	in = tmp_file(buf, len);
	ASSERT_EQ(4095, lseek(fd, 4095, SEEK_SET));
	ASSERT_EQ(0, lseek(in, 0, SEEK_SET));
	while (done < len) {
		n = sendfile(fd, in, NULL, len - done);
		if (n <= 0)
			FAIL("sendfile after %zu bytes: %zd (%s)", done, n,
			     n < 0 ? strerror(errno) : "end of file");
		done += n;
	}
	ASSERT_EQ(4095 + (off_t)len, lseek(fd, 0, SEEK_CUR));
	ASSERT_EQ(4095 + (long long)len, dev_size(1));
	pread_exact(fd, back, len, 4095);
	ASSERT_MEM_EQ(buf, back, len);
	close(in);
	close(fd);
	free(buf);
	free(back);
}

/*
 * splice through a pipe, both ways: scull -> pipe -> file, then file ->
 * pipe -> scull, starting in a hole (the device's first 10000 bytes were
 * never written).
 */
TEST(splice_both_ways_from_a_hole)
{
	size_t len = 200000, hole = 10000;
	unsigned char *buf = xmalloc(len), *back = xmalloc(len);
	int p[2], fd, out;
	loff_t off = 0, toff = 0;
	size_t done;
	ssize_t n;

	fd = dev_with_pattern(2, hole, len - hole, 33);
	out = tmp_file(NULL, 0);
	ASSERT_OK(pipe(p));
	for (done = 0; done < len; done += n) {
		n = splice(fd, &off, p[1], NULL, len - done, 0);
		if (n <= 0)
			FAIL("splice from scull after %zu bytes: %zd (%s)", done,
			     n, n < 0 ? strerror(errno) : "end of file");
		ASSERT_EQ(n, splice(p[0], NULL, out, &toff, n, 0));
	}
	ASSERT_EQ((loff_t)len, off);
	pread_exact(out, back, len, 0);
	for (done = 0; done < hole; done++)
		if (back[done])
			FAIL("hole byte %zu read through splice is 0x%02x", done,
			     back[done]);
	pattern_check(back + hole, len - hole, hole, 33);

	/* and back into another device, whose position follows */
	pattern_fill(buf, len, 0, 34);
	pwrite_exact(out, buf, len, 0);
	close(fd);
	fd = dev_open(3, O_RDWR);
	toff = 0;
	for (done = 0; done < len; done += n) {
		n = splice(out, &toff, p[1], NULL, len - done, 0);
		ASSERT_TRUE(n > 0);
		ASSERT_EQ(n, splice(p[0], NULL, fd, NULL, n, 0));
	}
	ASSERT_EQ((off_t)len, lseek(fd, 0, SEEK_CUR));
	ASSERT_EQ((long long)len, dev_size(3));
	pread_exact(fd, back, len, 0);
	ASSERT_MEM_EQ(buf, back, len);
	close(p[0]);
	close(p[1]);
	close(out);
	close(fd);
	free(buf);
	free(back);
}

/*
 * What splice puts in the pipe is a copy of the device's bytes, not the
 * device's own pages: bytes overwritten and then trimmed away after the
 * splice still come out of the pipe as they were when spliced.  Two
 * quanta and a piece of a third, from an offset inside a quantum.  (6.1's
 * generic_file_splice_read() gives ->read_iter a pipe iterator, into which
 * copy_page_to_iter() would pass the page itself; later kernels'
 * copy_splice_read() always copies.)
 */
TEST(splice_gives_the_pipe_a_copy)
{
	size_t len = 2 * 4096 + 1000;
	off_t start = 100;
	unsigned char *buf = xmalloc(len), *back = xmalloc(len);
	int fd = dev_with_pattern(0, 0, start + len, 37), p[2], t;
	loff_t off = start;
	size_t done;
	ssize_t n;

	ASSERT_OK(pipe(p));
	for (done = 0; done < len; done += n) {
		n = splice(fd, &off, p[1], NULL, len - done, 0);
		if (n <= 0)
			FAIL("splice from scull after %zu bytes: %zd (%s)", done,
			     n, n < 0 ? strerror(errno) : "end of file");
	}
	/* overwritten, then trimmed, then written again */
	memset(buf, 0xee, len);
	pwrite_exact(fd, buf, len, start);
	t = dev_open(0, O_WRONLY | O_TRUNC);
	close(t);
	ASSERT_EQ(0, dev_size(0));
	pwrite_exact(fd, buf, len, 0);
	for (done = 0; done < len; done += n) {
		n = read(p[0], back + done, len - done);
		ASSERT_TRUE(n > 0);
	}
	pattern_check(back, len, start, 37);
	close(p[0]);
	close(p[1]);
	close(fd);
	free(buf);
	free(back);
}

/* Scull to scull through sendfile: two devices, one copy. */
TEST(sendfile_scull_to_scull)
{
	size_t len = 70000;
	unsigned char *back = xmalloc(len);
	int in = dev_with_pattern(0, 0, len, 35), out = dev_open(1, O_RDWR);
	off_t off = 0;
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = sendfile(out, in, &off, len - done);
		ASSERT_TRUE(n > 0);
		done += n;
	}
	pread_exact(out, back, len, 0);
	pattern_check(back, len, 0, 35);
	close(in);
	close(out);
	free(back);
}

/* The VFS allows copy_file_range only between regular files. */
/*
 * A negative offset is EINVAL both ways, and so is one whose end would
 * pass LLONG_MAX; nothing moves.  On a 64-bit kernel the VFS says so; on a
 * 32-bit one, where the devices' offsets are unsigned for mmap() past
 * 4 GiB, the driver does (fops.c, scull_pos_ok()), but for a negative
 * offset whose transfer would reach 0: the VFS's EOVERFLOW there, as for
 * /dev/mem (rw_verify_area()).
 */
TEST(negative_offsets_are_einval)
{
	int fd = dev_open(1, O_RDWR), null = ASSERT_OK(open("/dev/null", O_WRONLY)), p[2];
	char back[4] = "";
	off_t off = -4096;
	loff_t loff = -10;

	write_exact(fd, "0123456789", 10);
	ASSERT_OK(pipe(p));
	ASSERT_ERRNO(sendfile(null, fd, &off, 10), EINVAL);
	ASSERT_EQ(-4096, off);
	ASSERT_ERRNO(splice(fd, &loff, p[1], NULL, 10, 0), kernel_is_32bit() ? EOVERFLOW : EINVAL);
	loff = -4096;
	ASSERT_ERRNO(splice(fd, &loff, p[1], NULL, 10, 0), EINVAL);
	write_exact(p[1], "abc", 3);
	loff = -4096;
	ASSERT_ERRNO(splice(p[0], NULL, fd, &loff, 3, 0), EINVAL);
	loff = LLONG_MAX - 1;
	ASSERT_ERRNO(splice(p[0], NULL, fd, &loff, 3, 0), EINVAL);
	ASSERT_EQ(LLONG_MAX - 1, loff);
	/* the pipe keeps its 3 bytes, the device its 10 */
	read_exact(p[0], back, 3);
	ASSERT_MEM_EQ("abc", back, 3);
	ASSERT_EQ(10, dev_size(1));
	close(p[0]);
	close(p[1]);
	close(null);
	close(fd);
}

TEST(copy_file_range_is_refused_by_the_vfs)
{
	int fd = dev_with_pattern(0, 0, 100, 36), out = tmp_file(NULL, 0);
	loff_t a = 0, b = 0;

	ASSERT_ERRNO(copy_file_range(fd, &a, out, &b, 100, 0), EINVAL);
	ASSERT_ERRNO(copy_file_range(out, &b, fd, &a, 100, 0), EINVAL);
	ASSERT_EQ(100, dev_size(0));
	close(fd);
	close(out);
}
