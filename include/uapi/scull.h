/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * scull: the user-space interface of the scull memory devices.
 *
 * The ioctl numbers are those of LDD3's scull (magic 'k', 0 to 12), so
 * programs written for the book work unchanged.  Each command acts on the
 * device the file descriptor refers to.
 *
 * The magic 'k' is not scull's alone (Documentation/userspace-api/
 * ioctl/ioctl-number.rst gives it to SPI): SCULL_IOCGQUANTUM has the value
 * of SPI_IOC_RD_MODE32, _IOR('k', 5, __u32).  The numbers stay LDD3's for
 * the book's programs; an ioctl reaches only the driver of the file it is
 * made on, so the two never meet.
 *
 *   S  "set":      the value is read through the int pointer in arg
 *   T  "tell":     the value is arg itself
 *   G  "get":      the value is written through the int pointer in arg
 *   Q  "query":    the value is the return value of ioctl()
 *   X  "exchange": set from *arg, and the old value is written to *arg
 *   H  "shift":    tell, and the old value is the return value
 *
 * RESET, S, T, X and H need CAP_SYS_ADMIN and succeed only while the device
 * holds no data.
 *
 * The pipes (/dev/scullpipe<n>) have commands of their own, LDD3's 13 and
 * 14, and answer no others; the memory devices answer -ENOTTY to them:
 *
 *   SCULL_P_IOCTSIZE  "tell" the buffer size in bytes (1 to
 *                     SCULL_P_BUFFER_MAX); needs CAP_SYS_ADMIN and an
 *                     empty pipe
 *   SCULL_P_IOCQSIZE  "query" it: the return value
 */
#ifndef _UAPI_SCULL_H
#define _UAPI_SCULL_H

#include <linux/ioctl.h>

#define SCULL_IOC_MAGIC		'k'

#define SCULL_IOCRESET		_IO(SCULL_IOC_MAGIC, 0)
#define SCULL_IOCSQUANTUM	_IOW(SCULL_IOC_MAGIC, 1, int)
#define SCULL_IOCSQSET		_IOW(SCULL_IOC_MAGIC, 2, int)
#define SCULL_IOCTQUANTUM	_IO(SCULL_IOC_MAGIC, 3)
#define SCULL_IOCTQSET		_IO(SCULL_IOC_MAGIC, 4)
#define SCULL_IOCGQUANTUM	_IOR(SCULL_IOC_MAGIC, 5, int)
#define SCULL_IOCGQSET		_IOR(SCULL_IOC_MAGIC, 6, int)
#define SCULL_IOCQQUANTUM	_IO(SCULL_IOC_MAGIC, 7)
#define SCULL_IOCQQSET		_IO(SCULL_IOC_MAGIC, 8)
#define SCULL_IOCXQUANTUM	_IOWR(SCULL_IOC_MAGIC, 9, int)
#define SCULL_IOCXQSET		_IOWR(SCULL_IOC_MAGIC, 10, int)
#define SCULL_IOCHQUANTUM	_IO(SCULL_IOC_MAGIC, 11)
#define SCULL_IOCHQSET		_IO(SCULL_IOC_MAGIC, 12)

#define SCULL_P_IOCTSIZE	_IO(SCULL_IOC_MAGIC, 13)
#define SCULL_P_IOCQSIZE	_IO(SCULL_IOC_MAGIC, 14)

#define SCULL_IOC_MAXNR		14

/*
 * Geometry bounds: a quantum holds 1 to SCULL_QUANTUM_MAX bytes, a quantum
 * set holds 1 to SCULL_QSET_MAX quanta, and one quantum set spans at most
 * SCULL_QSET_BYTES_MAX bytes (quantum * qset).
 */
#define SCULL_QUANTUM_MAX	(4 << 20)
#define SCULL_QSET_MAX		(1 << 16)
#define SCULL_QSET_BYTES_MAX	(1 << 30)

/* A pipe's buffer holds 1 to SCULL_P_BUFFER_MAX bytes. */
#define SCULL_P_BUFFER_MAX	(1 << 20)

#endif /* _UAPI_SCULL_H */
