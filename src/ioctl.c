// SPDX-License-Identifier: GPL-2.0
/*
 * scull ioctls: LDD3's geometry commands, acting on one device.
 *
 * Every command that changes the geometry needs CAP_SYS_ADMIN, checks the
 * new value, and succeeds only while the device holds no data.  Errors come
 * in that order: -EPERM, then -EFAULT / -EINVAL, then -EBUSY.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/compat.h>
#include <linux/fs.h>
#include <linux/pagemap.h>
#include <linux/uaccess.h>

#include "scull.h"

enum scull_field {
	SCULL_QUANTUM,
	SCULL_QSET,
};

/*
 * Set one geometry field to @val (an int from user space, or the raw
 * argument of a "tell"; out-of-range values fail the geometry check).
 * Returns the value it replaced, or a negative errno.  When @old is not
 * NULL the replaced value is also written there; if that faults, the change
 * is undone, so a failed call changes nothing.  The write to @old runs with
 * page faults disabled, as the copies of read() and write() do (a fault on
 * a scull mapping takes a store's lock), and is tried again once the
 * lock is let go and @old faulted in.
 */
static long scull_field_set(struct scull_store *st, enum scull_field field,
			    unsigned long val, int __user *old)
{
	unsigned int quantum, qset, prev;
	int fault;
	long ret;

again:
	if (down_write_killable(&st->rwsem))
		return -ERESTARTSYS;
	quantum = st->quantum;
	qset = st->qset;
	if (field == SCULL_QUANTUM) {
		prev = quantum;
		ret = scull_store_set_geometry(st, val, qset);
	} else {
		prev = qset;
		ret = scull_store_set_geometry(st, quantum, val);
	}
	fault = 0;
	if (!ret && old) {
		pagefault_disable();
		fault = put_user(prev, old);
		pagefault_enable();
		if (fault)
			scull_store_set_geometry(st, quantum, qset);
	}
	up_write(&st->rwsem);
	if (fault) {
		if (fault_in_safe_writeable((const char __user *)old,
					    sizeof(*old)))
			return -EFAULT;
		goto again;
	}
	return ret ? ret : prev;
}

static long scull_reset(struct scull_store *st)
{
	int err;

	if (down_write_killable(&st->rwsem))
		return -ERESTARTSYS;
	err = scull_store_set_geometry(st, st->default_quantum,
				       st->default_qset);
	up_write(&st->rwsem);
	return err;
}

/* The commands that change the geometry. */
static bool scull_cmd_writes(unsigned int cmd)
{
	switch (cmd) {
	case SCULL_IOCRESET:
	case SCULL_IOCSQUANTUM:
	case SCULL_IOCSQSET:
	case SCULL_IOCTQUANTUM:
	case SCULL_IOCTQSET:
	case SCULL_IOCXQUANTUM:
	case SCULL_IOCXQSET:
	case SCULL_IOCHQUANTUM:
	case SCULL_IOCHQSET:
		return true;
	}
	return false;
}

static enum scull_field scull_cmd_field(unsigned int cmd)
{
	switch (cmd) {
	case SCULL_IOCSQUANTUM:
	case SCULL_IOCTQUANTUM:
	case SCULL_IOCXQUANTUM:
	case SCULL_IOCHQUANTUM:
		return SCULL_QUANTUM;
	}
	return SCULL_QSET;
}

long scull_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
{
	struct scull_store *st = filp->private_data;
	int __user *uarg = (int __user *)arg;
	long ret;
	int val;

	if (scull_cmd_writes(cmd) && !capable(CAP_SYS_ADMIN))
		return -EPERM;

	switch (cmd) {
	case SCULL_IOCRESET:
		return scull_reset(st);

	case SCULL_IOCSQUANTUM:
	case SCULL_IOCSQSET:
		if (get_user(val, uarg))
			return -EFAULT;
		ret = scull_field_set(st, scull_cmd_field(cmd), val, NULL);
		return ret < 0 ? ret : 0;

	case SCULL_IOCTQUANTUM:
	case SCULL_IOCTQSET:
		ret = scull_field_set(st, scull_cmd_field(cmd), arg, NULL);
		return ret < 0 ? ret : 0;

	case SCULL_IOCGQUANTUM:
		return put_user(READ_ONCE(st->quantum), uarg);
	case SCULL_IOCGQSET:
		return put_user(READ_ONCE(st->qset), uarg);

	case SCULL_IOCQQUANTUM:
		return READ_ONCE(st->quantum);
	case SCULL_IOCQQSET:
		return READ_ONCE(st->qset);

	case SCULL_IOCXQUANTUM:
	case SCULL_IOCXQSET:
		if (get_user(val, uarg))
			return -EFAULT;
		ret = scull_field_set(st, scull_cmd_field(cmd), val, uarg);
		return ret < 0 ? ret : 0;

	case SCULL_IOCHQUANTUM:
	case SCULL_IOCHQSET:
		return scull_field_set(st, scull_cmd_field(cmd), arg, NULL);
	}
	return -ENOTTY;
}

/*
 * 32-bit callers on a 64-bit kernel.  The S, G and X commands carry a
 * pointer, which compat_ptr() widens (on s390 it also clears bit 31); T, H,
 * Q and RESET carry a plain integer, which must reach scull_ioctl() as it
 * is -- so compat_ptr_ioctl(), which converts every argument, will not do.
 * The direction bits of the command tell which is which.
 */
long scull_compat_ioctl(struct file *filp, unsigned int cmd,
			unsigned long arg)
{
	if (_IOC_DIR(cmd) != _IOC_NONE)
		arg = (unsigned long)compat_ptr(arg);
	return scull_ioctl(filp, cmd, arg);
}
