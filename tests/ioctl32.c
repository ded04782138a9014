// SPDX-License-Identifier: GPL-2.0
/*
 * Built with -m32 (x86) or for AArch32 (arm64): the geometry ioctls and
 * the pipes' size ioctls through compat_ioctl, where pointers are 32 bits
 * wide.  Run by ioctl.compat_32bit as root on an empty device and an empty
 * pipe of the default size, which it leaves so; prints a line per failed
 * check and exits 1 if any failed.
 *
 *   ioctl32 /dev/sculln /dev/scullpipen
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <scull.h>

static int failed;

/* kselftest's order: the expected value first */
static void check(const char *what, long expected, long seen)
{
	if (seen != expected) {
		printf("# ioctl32: %s: expected %ld, seen %ld (errno %s)\n",
		       what, expected, seen, strerror(errno));
		failed = 1;
	}
}

/* The pipes' two commands: integers both, passed on unchanged. */
static void pipe_ioctls(int fd)
{
	char c = 'p';

	check("Q size", 4000, ioctl(fd, SCULL_P_IOCQSIZE));
	check("T size 1000", 0, ioctl(fd, SCULL_P_IOCTSIZE, 1000));
	check("Q size after T", 1000, ioctl(fd, SCULL_P_IOCQSIZE));
	check("T size max", 0, ioctl(fd, SCULL_P_IOCTSIZE, SCULL_P_BUFFER_MAX));
	check("Q size after T max", SCULL_P_BUFFER_MAX, ioctl(fd, SCULL_P_IOCQSIZE));
	errno = 0;
	check("T size max + 1", -1, ioctl(fd, SCULL_P_IOCTSIZE, SCULL_P_BUFFER_MAX + 1));
	check("T size max + 1 errno", EINVAL, errno);
	errno = 0;
	check("T size 0", -1, ioctl(fd, SCULL_P_IOCTSIZE, 0));
	check("T size 0 errno", EINVAL, errno);
	/* bit 31 kept: not 0x400, a valid size */
	errno = 0;
	check("T size 0x80000400", -1, ioctl(fd, SCULL_P_IOCTSIZE, 0x80000400u));
	check("T size 0x80000400 errno", EINVAL, errno);
	errno = 0;
	check("T size -1", -1, ioctl(fd, SCULL_P_IOCTSIZE, -1));
	check("T size -1 errno", EINVAL, errno);
	check("write a byte", 1, write(fd, &c, 1));
	errno = 0;
	check("T size while a byte is buffered", -1, ioctl(fd, SCULL_P_IOCTSIZE, 4000));
	check("T size while a byte is buffered errno", EBUSY, errno);
	check("read the byte", 1, read(fd, &c, 1));
	errno = 0;
	check("geometry command on a pipe", -1, ioctl(fd, SCULL_IOCQQUANTUM));
	check("geometry command on a pipe errno", ENOTTY, errno);
	check("Q size unchanged", SCULL_P_BUFFER_MAX, ioctl(fd, SCULL_P_IOCQSIZE));
	check("T size back to 4000", 0, ioctl(fd, SCULL_P_IOCTSIZE, 4000));
	check("Q size after T back", 4000, ioctl(fd, SCULL_P_IOCQSIZE));
}

int main(int argc, char **argv)
{
	int fd, v;

	if (argc != 3 || sizeof(void *) != 4) {
		fprintf(stderr, "usage: ioctl32 DEVICE PIPE|- (a 32-bit build; - for no pipe)\n");
		return 2;
	}
	fd = open(argv[1], O_RDWR);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}

	v = 0;
	check("G quantum", 0, ioctl(fd, SCULL_IOCGQUANTUM, &v));
	check("G quantum value", 4096, v);
	check("Q qset", 512, ioctl(fd, SCULL_IOCQQSET));
	check("T quantum", 0, ioctl(fd, SCULL_IOCTQUANTUM, 1000));
	check("Q quantum after T", 1000, ioctl(fd, SCULL_IOCQQUANTUM));
	v = 2000;
	check("S quantum", 0, ioctl(fd, SCULL_IOCSQUANTUM, &v));
	v = 3000;
	check("X quantum", 0, ioctl(fd, SCULL_IOCXQUANTUM, &v));
	check("X quantum old value", 2000, v);
	check("H quantum", 3000, ioctl(fd, SCULL_IOCHQUANTUM, 4096));
	v = 0;
	check("G qset", 0, ioctl(fd, SCULL_IOCGQSET, &v));
	check("G qset value", 512, v);
	v = 64;
	check("X qset", 0, ioctl(fd, SCULL_IOCXQSET, &v));
	check("X qset old value", 512, v);
	check("H qset", 64, ioctl(fd, SCULL_IOCHQSET, 128));
	/*
	 * The integer commands (T, H) must reach the driver unchanged: a
	 * compat_ptr() conversion would clear bit 31 on s390 and turn these
	 * out-of-range values into valid ones.
	 */
	errno = 0;
	check("T qset 0x80000040", -1, ioctl(fd, SCULL_IOCTQSET, 0x80000040u));
	check("T qset 0x80000040 errno", EINVAL, errno);
	errno = 0;
	check("H quantum 0x80001000", -1, ioctl(fd, SCULL_IOCHQUANTUM, 0x80001000u));
	check("H quantum 0x80001000 errno", EINVAL, errno);
	check("T qset", 0, ioctl(fd, SCULL_IOCTQSET, 256));
	check("Q qset after T", 256, ioctl(fd, SCULL_IOCQQSET));
	check("H qset after T", 256, ioctl(fd, SCULL_IOCHQSET, 128));
	/* -1 travels as 0xffffffff through compat: out of range */
	errno = 0;
	check("T quantum -1", -1, ioctl(fd, SCULL_IOCTQUANTUM, -1));
	check("T quantum -1 errno", EINVAL, errno);
	v = -5;
	errno = 0;
	check("S qset -5", -1, ioctl(fd, SCULL_IOCSQSET, &v));
	check("S qset -5 errno", EINVAL, errno);
	errno = 0;
	check("unknown command", -1, ioctl(fd, _IO(SCULL_IOC_MAGIC, 13)));
	check("unknown command errno", ENOTTY, errno);
	check("RESET", 0, ioctl(fd, SCULL_IOCRESET));
	check("Q quantum after RESET", 4096, ioctl(fd, SCULL_IOCQQUANTUM));
	check("Q qset after RESET", 512, ioctl(fd, SCULL_IOCQQSET));
	close(fd);

	/* the Rust twin has no pipes */
	if (!strcmp(argv[2], "-"))
		return failed;
	fd = open(argv[2], O_RDWR);
	if (fd < 0) {
		perror(argv[2]);
		return 1;
	}
	pipe_ioctls(fd);
	close(fd);
	return failed;
}
