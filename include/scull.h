/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scull: private declarations shared by the files in src/.
 */
#ifndef _SCULL_H
#define _SCULL_H

#include <linux/cdev.h>
#include <linux/fs.h>
#include <linux/list.h>
#include <linux/rwsem.h>
#include <linux/types.h>
#include <linux/uio.h>
#include <linux/xarray.h>

#include "uapi/scull.h"

#define SCULL_NAME		"scull"

/*
 * A quantum set: an array of @qset pointers to quanta of @quantum bytes
 * (both taken from the owning store).  A NULL entry is a quantum that was
 * never written; it reads as zeros.
 */
struct scull_qset {
	void **data;
	struct list_head node;		/* in scull_store.qsets, by index */
	unsigned long index;		/* covers [index, index + 1) * qset bytes */
	unsigned int nr_quanta;		/* non-NULL entries in data */
};

/*
 * The bytes of one scull device.  The quantum sets form a list ordered by
 * index, as in LDD3; the xarray maps an index to its set, so finding the
 * quantum for an offset takes O(log n) steps however much is stored.  Sets
 * and quanta are allocated zeroed by the first write that touches them;
 * ranges never written are holes and read as zeros.
 *
 * @rwsem: readers share it, writers, trims and geometry changes hold it
 *	exclusively.  It protects every field below.
 */
struct scull_store {
	struct rw_semaphore rwsem;
	struct list_head qsets;
	struct xarray index;
	loff_t size;			/* end of the furthest write, bytes */
	loff_t limit;			/* size never grows past this */
	unsigned int quantum;		/* bytes in a quantum */
	unsigned int qset;		/* quanta in a quantum set */
	/*
	 * Derived from the two above.  Both powers of two (the defaults): the
	 * shifts replace divisions when an offset is located.  A quantum of
	 * a page or more that is a power of two is a (compound) page of
	 * order quantum_order; any other is kvmalloc()ed and quantum_order
	 * is -1.
	 */
	bool pow2;
	unsigned int quantum_shift;
	unsigned int qset_shift;
	int quantum_order;
	unsigned int default_quantum;	/* restored by SCULL_IOCRESET */
	unsigned int default_qset;
	unsigned long nr_quanta;	/* quanta allocated */
	unsigned long nr_qsets;		/* quantum sets allocated */
};

/* One minor: /dev/scull<index>. */
struct scull_dev {
	struct scull_store store;
	struct cdev cdev;
	struct device *device;
	unsigned int index;
};

/* storage.c */
int scull_geometry_check(unsigned long quantum, unsigned long qset);
void scull_store_init(struct scull_store *st, unsigned int quantum,
		      unsigned int qset, loff_t limit);
void scull_store_trim(struct scull_store *st);
int scull_store_set_geometry(struct scull_store *st, unsigned long quantum,
			     unsigned long qset);
ssize_t scull_store_read(struct scull_store *st, struct iov_iter *to,
			 loff_t pos);
ssize_t scull_store_write(struct scull_store *st, struct iov_iter *from,
			  loff_t pos, bool may_alloc);
loff_t scull_store_seek_data(struct scull_store *st, loff_t pos);
loff_t scull_store_seek_hole(struct scull_store *st, loff_t pos);

/* fops.c */
extern const struct file_operations scull_fops;

/* ioctl.c */
long scull_ioctl(struct file *filp, unsigned int cmd, unsigned long arg);

/* proc.c */
int scull_proc_init(struct scull_dev *devs, unsigned int nr_devs);
void scull_proc_exit(void);

/* sysfs.c */
extern const struct attribute_group *scull_dev_groups[];

#endif /* _SCULL_H */
