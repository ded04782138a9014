// SPDX-License-Identifier: GPL-2.0
/*
 * Print the geometry of scull devices as the driver reports it through
 * the "query" ioctls, SCULL_IOCQQUANTUM and SCULL_IOCQQSET, whose value is
 * ioctl()'s return value.  Not a test: make demo runs it
 * (tools/guest/demo.sh), and anyone who may open a device can.
 *
 *   geometry DEVICE...
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <scull.h>

int main(int argc, char **argv)
{
	int i, fd, quantum, qset, rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: geometry DEVICE...\n");
		return 2;
	}
	for (i = 1; i < argc; i++) {
		/* read-only: opening write-only would trim the device */
		fd = open(argv[i], O_RDONLY);
		if (fd < 0) {
			fprintf(stderr, "geometry: %s: %s\n", argv[i], strerror(errno));
			rc = 1;
			continue;
		}
		quantum = ioctl(fd, SCULL_IOCQQUANTUM);
		qset = quantum < 0 ? -1 : ioctl(fd, SCULL_IOCQQSET);
		if (qset < 0) {
			fprintf(stderr, "geometry: %s: %s\n", argv[i], strerror(errno));
			rc = 1;
		} else {
			printf("%s: SCULL_IOCQQUANTUM %d, SCULL_IOCQQSET %d\n",
			       argv[i], quantum, qset);
		}
		close(fd);
	}
	return rc;
}
