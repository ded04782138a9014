// SPDX-License-Identifier: GPL-2.0
/*
 * Built with -m32: the geometry ioctls through compat_ioctl, where pointers
 * are 32 bits wide.  Run by ioctl.compat_32bit as root on an empty device;
 * prints a line per failed check and exits 1 if any failed.
 *
 *   ioctl32 /dev/sculln
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <scull.h>

static int failed;

static void check(const char *what, long got, long want)
{
	if (got != want) {
		printf("# ioctl32: %s: got %ld, expected %ld (errno %s)\n", what,
		       got, want, strerror(errno));
		failed = 1;
	}
}

int main(int argc, char **argv)
{
	int fd, v;

	if (argc != 2 || sizeof(void *) != 4) {
		fprintf(stderr, "usage: ioctl32 DEVICE (a 32-bit build)\n");
		return 2;
	}
	fd = open(argv[1], O_RDWR);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}

	v = 0;
	check("G quantum", ioctl(fd, SCULL_IOCGQUANTUM, &v), 0);
	check("G quantum value", v, 4096);
	check("Q qset", ioctl(fd, SCULL_IOCQQSET), 512);
	check("T quantum", ioctl(fd, SCULL_IOCTQUANTUM, 1000), 0);
	check("Q quantum after T", ioctl(fd, SCULL_IOCQQUANTUM), 1000);
	v = 2000;
	check("S quantum", ioctl(fd, SCULL_IOCSQUANTUM, &v), 0);
	v = 3000;
	check("X quantum", ioctl(fd, SCULL_IOCXQUANTUM, &v), 0);
	check("X quantum old value", v, 2000);
	check("H quantum", ioctl(fd, SCULL_IOCHQUANTUM, 4096), 3000);
	v = 0;
	check("G qset", ioctl(fd, SCULL_IOCGQSET, &v), 0);
	check("G qset value", v, 512);
	v = 64;
	check("X qset", ioctl(fd, SCULL_IOCXQSET, &v), 0);
	check("X qset old value", v, 512);
	check("H qset", ioctl(fd, SCULL_IOCHQSET, 128), 64);
	/*
	 * The integer commands (T, H) must reach the driver unchanged: a
	 * compat_ptr() conversion would clear bit 31 on s390 and turn these
	 * out-of-range values into valid ones.
	 */
	errno = 0;
	check("T qset 0x80000040", ioctl(fd, SCULL_IOCTQSET, 0x80000040u), -1);
	check("T qset 0x80000040 errno", errno, EINVAL);
	errno = 0;
	check("H quantum 0x80001000", ioctl(fd, SCULL_IOCHQUANTUM, 0x80001000u), -1);
	check("H quantum 0x80001000 errno", errno, EINVAL);
	check("T qset", ioctl(fd, SCULL_IOCTQSET, 256), 0);
	check("Q qset after T", ioctl(fd, SCULL_IOCQQSET), 256);
	check("H qset after T", ioctl(fd, SCULL_IOCHQSET, 128), 256);
	/* -1 travels as 0xffffffff through compat: out of range */
	errno = 0;
	check("T quantum -1", ioctl(fd, SCULL_IOCTQUANTUM, -1), -1);
	check("T quantum -1 errno", errno, EINVAL);
	v = -5;
	errno = 0;
	check("S qset -5", ioctl(fd, SCULL_IOCSQSET, &v), -1);
	check("S qset -5 errno", errno, EINVAL);
	errno = 0;
	check("unknown command", ioctl(fd, _IO(SCULL_IOC_MAGIC, 13)), -1);
	check("unknown command errno", errno, ENOTTY);
	check("RESET", ioctl(fd, SCULL_IOCRESET), 0);
	check("Q quantum after RESET", ioctl(fd, SCULL_IOCQQUANTUM), 4096);
	check("Q qset after RESET", ioctl(fd, SCULL_IOCQQSET), 512);
	close(fd);
	return failed;
}
