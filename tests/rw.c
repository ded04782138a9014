// SPDX-License-Identifier: GPL-2.0
/*
 * Reading and writing: a file held in RAM.  Round trips, whole transfers
 * across quanta, holes, zeroed quanta, end of file, positional and vector
 * I/O, independent minors.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <scull.h>

#include "util.h"

TEST(echo_cat_round_trip)
{
	char out[256];

	ASSERT_EQ(0, run_sh(out, sizeof(out), "echo hi > /dev/scull0 && cat /dev/scull0"));
	ASSERT_STR_EQ("hi\n", out);
	ASSERT_EQ(3, dev_size(0));
	/* a second redirection trims: the device holds only the new text */
	ASSERT_EQ(0, run_sh(out, sizeof(out), "echo a > /dev/scull0 && cat /dev/scull0"));
	ASSERT_STR_EQ("a\n", out);
	/* >> appends */
	ASSERT_EQ(0, run_sh(out, sizeof(out), "echo b >> /dev/scull0 && cat /dev/scull0"));
	ASSERT_STR_EQ("a\nb\n", out);
}

/* Write len bytes of pattern in chunks cycling through wsizes, read them
 * back in chunks cycling through rsizes; every call must move all it asks.
 */
static void pattern_round_trip(int minor, size_t len, const size_t *wsizes,
			       const size_t *rsizes, uint32_t seed)
{
	unsigned char *buf = xmalloc(len), *back = xmalloc(len);
	size_t done, n, i;
	int fd;

	pattern_fill(buf, len, 0, seed);
	fd = dev_open(minor, O_RDWR);
	for (done = 0, i = 0; done < len; done += n, i++) {
		n = wsizes[i % 8];
		if (n > len - done)
			n = len - done;
		write_exact(fd, buf + done, n);
	}
	ASSERT_EQ(len, dev_size(minor));
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	for (done = 0, i = 0; done < len; done += n, i++) {
		n = rsizes[i % 8];
		if (n > len - done)
			n = len - done;
		read_exact(fd, back + done, n);
	}
	ASSERT_EQ(0, read(fd, back, 1));
	ASSERT_MEM_EQ(buf, back, len);
	close(fd);
	free(buf);
	free(back);
}

static const size_t odd_writes[8] = { 1, 7, 4095, 4097, 12345, 65537, 3, 333333 };
static const size_t odd_reads[8] = { 4096, 5, 100000, 8191, 1, 65536, 777, 4000 };

TEST(pattern_1mib_odd_chunks)
{
	pattern_round_trip(0, 1 << 20, odd_writes, odd_reads, 1);
}

/* The same with a geometry where no request lines up with a quantum. */
TEST(pattern_1mib_odd_geometry)
{
	int fd = dev_open(1, O_RDWR);

	ASSERT_OK(ioctl(fd, SCULL_IOCTQUANTUM, 1000));
	ASSERT_OK(ioctl(fd, SCULL_IOCTQSET, 7));
	close(fd);
	pattern_round_trip(1, 1 << 20, odd_writes, odd_reads, 2);
	ASSERT_EQ(1000, sysfs_attr(1, "quantum"));
	ASSERT_EQ(7, sysfs_attr(1, "qset"));
}

/*
 * Across the end of the store's table of sets (its first 4096, looked up
 * by one load; the rest through the xarray): with 64-byte sets the table
 * ends at 256 KiB, and single calls of the round trip cross it.  1 MiB in
 * odd chunks, read back in others; then a byte far past it, the hole
 * before that byte, and the bytes either side of the table's end again.
 * (User space cannot tell which lookup ran: KUnit's table_test can.)
 */
TEST(pattern_across_the_set_table)
{
	unsigned char want[4096], back[4096], c = 'z';
	int fd = dev_open(2, O_RDWR);

	ASSERT_OK(ioctl(fd, SCULL_IOCTQUANTUM, 16));
	ASSERT_OK(ioctl(fd, SCULL_IOCTQSET, 4));
	close(fd);
	pattern_round_trip(2, 1 << 20, odd_writes, odd_reads, 4);
	fd = dev_open(2, O_RDWR);
	pwrite_exact(fd, &c, 1, 3 << 20);
	ASSERT_EQ((3 << 20) + 1, dev_size(2));
	c = 0;
	pread_exact(fd, &c, 1, 3 << 20);
	ASSERT_EQ('z', c);
	pread_exact(fd, &c, 1, (3 << 20) - 1);
	ASSERT_EQ(0, c);
	pattern_fill(want, sizeof(want), (256 << 10) - 2048, 4);
	pread_exact(fd, back, sizeof(back), (256 << 10) - 2048);
	ASSERT_MEM_EQ(want, back, sizeof(back));
	close(fd);
}

/* One call moves a whole large request, whatever the alignment. */
TEST(whole_request_in_one_call)
{
	size_t len = 3 << 20;
	unsigned char *buf = xmalloc(len), *back = xmalloc(len);
	int fd = dev_open(0, O_RDWR);

	pattern_fill(buf, len, 4095, 3);
	pwrite_exact(fd, buf, len, 4095);
	pread_exact(fd, back, len, 4095);
	ASSERT_MEM_EQ(buf, back, len);
	ASSERT_EQ(4095 + len, dev_size(0));
	close(fd);
	free(buf);
	free(back);
}

TEST(hole_reads_as_zeros)
{
	size_t len = 10 << 20;
	unsigned char *buf = xmalloc(len + 1), *zero = calloc(1, len);
	int fd = dev_open(0, O_RDWR);

	ASSERT_TRUE(zero);
	pwrite_exact(fd, "x", 1, len);
	ASSERT_EQ(len + 1, dev_size(0));
	memset(buf, 0xa5, len + 1);
	pread_exact(fd, buf, len + 1, 0);
	ASSERT_MEM_EQ(zero, buf, len);
	ASSERT_EQ('x', buf[len]);
	/* reading the hole stored nothing: one quantum holds the byte */
	ASSERT_EQ(0, run_sh(NULL, 0, "grep -q '^Device 0: .* quanta 1$' /proc/scullmem"));
	close(fd);
	free(buf);
	free(zero);
}

/* Bytes of a quantum that were never written read as zeros, even where
 * an earlier trim freed memory full of other bytes.  Only scull's own
 * zeroing can make them so: the guest boots with init_on_alloc=0
 * (tools/vm.sh), and the kernel says so when it starts.
 */
TEST(fresh_quantum_is_zeroed)
{
	unsigned char buf[SCULL_QUANTUM], junk[SCULL_QUANTUM];
	char line[256];
	int fd, i;

	kmsg_find("mem auto-init:", line, sizeof(line));
	if (!strstr(line, "heap alloc:off"))
		FAIL("the kernel zeroes every allocation (\"%s\"): boot with init_on_alloc=0", line);
	memset(junk, 0xee, sizeof(junk));
	fd = dev_open(0, O_RDWR);
	for (i = 0; i < 256; i++)
		write_exact(fd, junk, sizeof(junk));
	close(fd);
	fd = dev_open(0, O_RDWR | O_TRUNC);
	ASSERT_EQ(0, dev_size(0));
	pwrite_exact(fd, "a", 1, 0);
	pwrite_exact(fd, "z", 1, SCULL_QUANTUM - 1);
	pread_exact(fd, buf, sizeof(buf), 0);
	ASSERT_EQ('a', buf[0]);
	ASSERT_EQ('z', buf[SCULL_QUANTUM - 1]);
	for (i = 1; i < SCULL_QUANTUM - 1; i++)
		if (buf[i])
			FAIL("byte %d of a fresh quantum is 0x%02x", i, buf[i]);
	close(fd);
}

TEST(end_of_file)
{
	char buf[100];
	int fd = dev_open(0, O_RDWR);

	write_exact(fd, "0123456789", 10);
	/* at the end */
	ASSERT_EQ(0, read(fd, buf, sizeof(buf)));
	/* a read across the end returns what is there */
	ASSERT_EQ(6, pread(fd, buf, sizeof(buf), 4));
	ASSERT_MEM_EQ("456789", buf, 6);
	/* past the end */
	ASSERT_EQ(0, pread(fd, buf, sizeof(buf), 11));
	ASSERT_EQ(0, pread(fd, buf, sizeof(buf), 1LL << 40));
	/* zero-length read and write */
	ASSERT_EQ(0, pread(fd, buf, 0, 0));
	ASSERT_EQ(0, pwrite(fd, buf, 0, 1 << 20));
	ASSERT_EQ(10, dev_size(0));
	close(fd);
}

TEST(size_is_furthest_write)
{
	int fd = dev_open(0, O_RDWR);

	pwrite_exact(fd, "abc", 3, 100);
	ASSERT_EQ(103, dev_size(0));
	pwrite_exact(fd, "de", 2, 50);
	ASSERT_EQ(103, dev_size(0));
	pwrite_exact(fd, "f", 1, 102);
	ASSERT_EQ(103, dev_size(0));
	pwrite_exact(fd, "g", 1, 103);
	ASSERT_EQ(104, dev_size(0));
	close(fd);
}

TEST(pread_pwrite_keep_position)
{
	char buf[8];
	int fd = dev_open(0, O_RDWR);

	write_exact(fd, "abcdefgh", 8);
	ASSERT_EQ(2, lseek(fd, 2, SEEK_SET));
	pwrite_exact(fd, "XY", 2, 6);
	pread_exact(fd, buf, 3, 5);
	ASSERT_MEM_EQ("fXY", buf, 3);
	ASSERT_EQ(2, lseek(fd, 0, SEEK_CUR));
	read_exact(fd, buf, 2);
	ASSERT_MEM_EQ("cd", buf, 2);
	ASSERT_EQ(4, lseek(fd, 0, SEEK_CUR));
	close(fd);
}

TEST(readv_writev)
{
	char a[5000], b[3], c[9000], back[14003];
	struct iovec wv[3] = { { a, sizeof(a) }, { b, sizeof(b) }, { c, sizeof(c) } };
	struct iovec rv[2] = { { back, 4097 }, { back + 4097, sizeof(back) - 4097 } };
	unsigned char all[14003];
	int fd = dev_open(2, O_RDWR);

	pattern_fill(a, sizeof(a), 0, 9);
	pattern_fill(b, sizeof(b), sizeof(a), 9);
	pattern_fill(c, sizeof(c), sizeof(a) + sizeof(b), 9);
	pattern_fill(all, sizeof(all), 0, 9);
	ASSERT_EQ(sizeof(all), writev(fd, wv, 3));
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	ASSERT_EQ(sizeof(all), readv(fd, rv, 2));
	ASSERT_MEM_EQ(all, back, sizeof(all));
	/* positional vectors, and RWF_NOWAIT (the device honours it) */
	memset(back, 0, sizeof(back));
	ASSERT_EQ(sizeof(all), preadv2(fd, rv, 2, 0, RWF_NOWAIT));
	ASSERT_MEM_EQ(all, back, sizeof(all));
	ASSERT_EQ(sizeof(a), pwritev2(fd, wv, 1, 20000, 0));
	ASSERT_EQ(25000, dev_size(2));
	close(fd);
}

TEST(minors_are_independent)
{
	unsigned char buf[3 * SCULL_QUANTUM], back[sizeof(buf)];
	int fd[SCULL_NR_DEVS], i;

	for (i = 0; i < SCULL_NR_DEVS; i++) {
		fd[i] = dev_open(i, O_RDWR);
		pattern_fill(buf, sizeof(buf), 0, 100 + i);
		write_exact(fd[i], buf, sizeof(buf) - i * 1000);
	}
	for (i = 0; i < SCULL_NR_DEVS; i++) {
		ASSERT_EQ(sizeof(buf) - i * 1000, dev_size(i));
		pread_exact(fd[i], back, sizeof(buf) - i * 1000, 0);
		pattern_check(back, sizeof(buf) - i * 1000, 0, 100 + i);
	}
	/* trimming one leaves the others */
	close(dev_open(1, O_WRONLY));
	ASSERT_EQ(0, dev_size(1));
	ASSERT_EQ(sizeof(buf), dev_size(0));
	ASSERT_EQ(sizeof(buf) - 2000, dev_size(2));
	pread_exact(fd[2], back, sizeof(buf) - 2000, 0);
	pattern_check(back, sizeof(buf) - 2000, 0, 102);
	for (i = 0; i < SCULL_NR_DEVS; i++)
		close(fd[i]);
}

/* Two descriptors of one device see one file. */
TEST(two_opens_share_data)
{
	char buf[4];
	int a = dev_open(3, O_RDWR), b = dev_open(3, O_RDONLY);

	write_exact(a, "ping", 4);
	read_exact(b, buf, 4);
	ASSERT_MEM_EQ("ping", buf, 4);
	close(a);
	close(b);
}
