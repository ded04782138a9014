/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scull: private declarations shared by the files in src/.
 */
#ifndef _SCULL_H
#define _SCULL_H

#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/list.h>
#include <linux/rwsem.h>
#include <linux/types.h>
#include <linux/uio.h>
#include <linux/xarray.h>

#include "uapi/scull.h"

#define SCULL_NAME		"scull"

/**
 * struct scull_qset - one quantum set: LDD3's unit of the storage list
 * @data: @qset pointers (the owning store's) to quanta of @quantum bytes;
 *	a NULL entry is a quantum never written, which reads as zeros
 * @node: in &scull_store.qsets, ordered by @index
 * @index: the set covers bytes [@index, @index + 1) * quantum * qset
 * @nr_quanta: non-NULL entries in @data; never 0 outside a write in
 *	progress (a write that stores nothing frees what it allocated)
 */
struct scull_qset {
	void **data;
	struct list_head node;
	unsigned long index;
	unsigned int nr_quanta;
};

/**
 * struct scull_store - the bytes of one scull memory device
 * @rwsem: readers share it; writes, trims and geometry changes hold it
 *	exclusively.  It protects every field below.  Only @quantum and
 *	@qset, single words written with WRITE_ONCE(), are also read without
 *	it (sysfs, the get and query ioctls); a 64-bit @size could tear on a
 *	32-bit kernel, so it never is.
 * @qsets: the quantum sets, ordered by index, as in LDD3
 * @index: the same sets by index, so finding the quantum for an offset
 *	takes O(log n) steps however much is stored
 * @hint: the set found last, or NULL: sequential I/O stays in one set for
 *	quantum * qset bytes, and then needs no walk of @index.  Readers
 *	update it too, with WRITE_ONCE(), under the lock held for reading;
 *	it never points at a freed set, because sets are freed only under
 *	the lock held for writing, which clears it.
 * @size: what the device presents, in bytes: the larger of @data_end and
 *	@capacity
 * @data_end: end of the furthest write since the last trim
 * @capacity: 0 for a file-like device, which grows with its writes;
 *	otherwise the fixed size of the device, at most @limit, below which
 *	every byte reads (as zeros until written) and past which no write goes
 * @limit: @data_end never grows past this
 * @quantum: bytes in a quantum
 * @qset: quanta in a quantum set
 * @pow2: @quantum and @qset are both powers of two (the defaults): shifts
 *	replace divisions when an offset is located
 * @quantum_shift: log2(@quantum) when @pow2
 * @qset_shift: log2(@qset) when @pow2
 * @quantum_order: a quantum of a page or more that is a power of two comes
 *	from the page allocator at this order (vmalloc() when a high order
 *	is not to be had); any other quantum is kvmalloc()ed and this is -1
 * @default_quantum: the load-time @quantum, restored by SCULL_IOCRESET
 * @default_qset: the load-time @qset
 * @nr_quanta: quanta allocated
 * @nr_qsets: quantum sets allocated
 *
 * Sets and quanta are allocated zeroed by the first write that touches
 * them; ranges never written are holes and read as zeros.
 */
struct scull_store {
	struct rw_semaphore rwsem;
	struct list_head qsets;
	struct xarray index;
	struct scull_qset *hint;
	loff_t size;
	loff_t data_end;
	loff_t capacity;
	loff_t limit;
	unsigned int quantum;
	unsigned int qset;
	bool pow2;
	unsigned int quantum_shift;
	unsigned int qset_shift;
	int quantum_order;
	unsigned int default_quantum;
	unsigned int default_qset;
	unsigned long nr_quanta;
	unsigned long nr_qsets;
};

/**
 * struct scull_dev - one memory device, /dev/scull<index>
 * @store: its bytes
 * @cdev: the character device; a child of @device, which it pins
 * @device: the device in /sys/class/scull; its release frees this struct
 * @index: n in scull<n>
 *
 * Allocated and made ready in full before cdev_device_add() makes it
 * visible; freed by @device's release once the last reference is gone.
 */
struct scull_dev {
	struct scull_store store;
	struct cdev cdev;
	struct device device;
	unsigned int index;
};

/* main.c */
extern struct class *scull_class;
int scull_parse_size(const char *val, unsigned long long *n);
void scull_device_init(struct device *device, struct cdev *cdev,
		       dev_t devt, const struct file_operations *fops,
		       void (*release)(struct device *device));
void scull_device_released(void);

/* storage.c */
int scull_geometry_check(unsigned long quantum, unsigned long qset,
			 loff_t limit);
void scull_store_init(struct scull_store *st, unsigned int quantum,
		      unsigned int qset, loff_t limit, loff_t capacity);
void scull_store_trim(struct scull_store *st);
loff_t scull_store_size(struct scull_store *st);
int scull_store_set_geometry(struct scull_store *st, unsigned long quantum,
			     unsigned long qset);
int scull_store_set_capacity(struct scull_store *st, loff_t capacity);
ssize_t scull_store_read(struct scull_store *st, struct iov_iter *to,
			 loff_t pos);
ssize_t scull_store_write(struct scull_store *st, struct iov_iter *from,
			  loff_t pos, bool nowait);
loff_t scull_store_seek_data(struct scull_store *st, loff_t pos);
loff_t scull_store_seek_hole(struct scull_store *st, loff_t pos);

/* fops.c */
extern const struct file_operations scull_fops;

/* ioctl.c */
long scull_ioctl(struct file *filp, unsigned int cmd, unsigned long arg);
long scull_compat_ioctl(struct file *filp, unsigned int cmd,
			unsigned long arg);

/* proc.c */
int scull_proc_init(struct scull_dev **devs, unsigned int nr_devs);
void scull_proc_exit(void);

/* sysfs.c */
extern const struct attribute_group *scull_dev_groups[];

#endif /* _SCULL_H */
