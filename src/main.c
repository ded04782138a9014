// SPDX-License-Identifier: GPL-2.0
/*
 * scull: Simple Character Utility for Loading Localities.
 *
 * The memory devices of Linux Device Drivers, 3rd edition, chapter 3, for
 * current kernels: /dev/scull0 .. /dev/scull<N-1>, each a file held in RAM.
 * This file owns the module parameters, the char device region, the device
 * class and the life of every minor.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/kdev_t.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/sysfs.h>

#include "scull.h"

#define SCULL_VERSION		"1.0.0"
#define SCULL_NR_DEVS_MAX	256

/*
 * An unsigned int parameter with bounds: a value out of range, or not a
 * number, makes insmod fail with a line in dmesg that gives the range.
 */
struct scull_param_uint {
	unsigned int *value;
	unsigned int min;
	unsigned int max;
};

static int scull_param_uint_set(const char *val, const struct kernel_param *kp)
{
	const struct scull_param_uint *p = kp->arg;
	unsigned int n;

	if (kstrtouint(val, 0, &n) || n < p->min || n > p->max) {
		pr_err("invalid %s=%s: expected an integer from %u to %u\n",
		       kp->name, val, p->min, p->max);
		return -EINVAL;
	}
	*p->value = n;
	return 0;
}

static int scull_param_uint_get(char *buf, const struct kernel_param *kp)
{
	const struct scull_param_uint *p = kp->arg;

	return sysfs_emit(buf, "%u\n", *p->value);
}

static const struct kernel_param_ops scull_param_uint_ops = {
	.set = scull_param_uint_set,
	.get = scull_param_uint_get,
};

static unsigned int scull_major;
static struct scull_param_uint scull_major_range = { &scull_major, 0, CHRDEV_MAJOR_MAX - 1 };
module_param_cb(scull_major, &scull_param_uint_ops, &scull_major_range, 0444);
MODULE_PARM_DESC(scull_major, "Major number, 0 for a dynamic one (default 0)");

static unsigned int scull_minor;
static struct scull_param_uint scull_minor_range = { &scull_minor, 0, MINORMASK };
module_param_cb(scull_minor, &scull_param_uint_ops, &scull_minor_range, 0444);
MODULE_PARM_DESC(scull_minor, "First minor number (default 0)");

static unsigned int scull_nr_devs = 4;
static struct scull_param_uint scull_nr_devs_range = { &scull_nr_devs, 1, SCULL_NR_DEVS_MAX };
module_param_cb(scull_nr_devs, &scull_param_uint_ops, &scull_nr_devs_range, 0444);
MODULE_PARM_DESC(scull_nr_devs, "Devices scull0..scull<n-1> (default 4, at most 256)");

static unsigned int scull_quantum = 4096;
static struct scull_param_uint scull_quantum_range = { &scull_quantum, 1, SCULL_QUANTUM_MAX };
module_param_cb(scull_quantum, &scull_param_uint_ops, &scull_quantum_range, 0444);
MODULE_PARM_DESC(scull_quantum, "Bytes in a quantum (default 4096, at most 4 MiB)");

static unsigned int scull_qset = 512;
static struct scull_param_uint scull_qset_range = { &scull_qset, 1, SCULL_QSET_MAX };
module_param_cb(scull_qset, &scull_param_uint_ops, &scull_qset_range, 0444);
MODULE_PARM_DESC(scull_qset, "Quanta in a quantum set (default 512, at most 65536)");

/* The size limit takes memparse() suffixes: 64K, 256M, 2G. */
static unsigned long long scull_size_limit = 256ULL << 20;

static int scull_param_size_set(const char *val, const struct kernel_param *kp)
{
	unsigned long long n;
	char *end;

	n = memparse(val, &end);
	if (*end == '\n')
		end++;
	if (end == val || *end || n < 1 || n > MAX_LFS_FILESIZE) {
		pr_err("invalid %s=%s: expected a size from 1 to %lld bytes, with an optional K, M or G\n",
		       kp->name, val, (long long)MAX_LFS_FILESIZE);
		return -EINVAL;
	}
	*(unsigned long long *)kp->arg = n;
	return 0;
}

static const struct kernel_param_ops scull_param_size_ops = {
	.set = scull_param_size_set,
	.get = param_get_ullong,
};

module_param_cb(scull_size_limit, &scull_param_size_ops, &scull_size_limit,
		0444);
MODULE_PARM_DESC(scull_size_limit,
		 "Bytes one device may hold, K/M/G allowed (default 256M)");

static dev_t scull_devt;
static struct scull_dev *scull_devices;

static struct class scull_class = {
	.name		= SCULL_NAME,
	.dev_groups	= scull_dev_groups,
};

/* Checks across parameters; each one alone was checked when it was set. */
static int __init scull_check_params(void)
{
	if (scull_minor + scull_nr_devs - 1 > MINORMASK) {
		pr_err("invalid scull_minor=%u with scull_nr_devs=%u: minors end at %u\n",
		       scull_minor, scull_nr_devs, MINORMASK);
		return -EINVAL;
	}
	if (scull_geometry_check(scull_quantum, scull_qset)) {
		pr_err("invalid scull_quantum=%u with scull_qset=%u: a quantum set may span at most %u bytes\n",
		       scull_quantum, scull_qset, SCULL_QSET_BYTES_MAX);
		return -EINVAL;
	}
	return 0;
}

static int __init scull_region_get(void)
{
	int err;

	if (scull_major) {
		scull_devt = MKDEV(scull_major, scull_minor);
		err = register_chrdev_region(scull_devt, scull_nr_devs,
					     SCULL_NAME);
	} else {
		err = alloc_chrdev_region(&scull_devt, scull_minor,
					  scull_nr_devs, SCULL_NAME);
	}
	if (err)
		pr_err("cannot get major %u, minors %u-%u: %d\n", scull_major,
		       scull_minor, scull_minor + scull_nr_devs - 1, err);
	return err;
}

/*
 * Bring up one minor.  The store is ready before cdev_add() makes the
 * device live, and the device (and its uevent) comes last, so udev never
 * sees a node that cannot be opened.
 */
static int __init scull_dev_add(struct scull_dev *dev, unsigned int index)
{
	dev_t devt = scull_devt + index;
	int err;

	dev->index = index;
	scull_store_init(&dev->store, scull_quantum, scull_qset,
			 scull_size_limit);
	cdev_init(&dev->cdev, &scull_fops);
	dev->cdev.owner = THIS_MODULE;
	err = cdev_add(&dev->cdev, devt, 1);
	if (err) {
		pr_err("cannot add cdev for scull%u: %d\n", index, err);
		return err;
	}
	dev->device = device_create(&scull_class, NULL, devt, dev,
				    SCULL_NAME "%u", index);
	if (IS_ERR(dev->device)) {
		err = PTR_ERR(dev->device);
		pr_err("cannot create device scull%u: %d\n", index, err);
		cdev_del(&dev->cdev);
		return err;
	}
	return 0;
}

/* Take one minor down, in the reverse order of scull_dev_add(). */
static void scull_dev_remove(struct scull_dev *dev)
{
	device_destroy(&scull_class, dev->cdev.dev);
	cdev_del(&dev->cdev);
	down_write(&dev->store.rwsem);
	scull_store_trim(&dev->store);
	up_write(&dev->store.rwsem);
}

static int __init scull_init(void)
{
	unsigned int i;
	int err;

	err = scull_check_params();
	if (err)
		return err;
	err = scull_region_get();
	if (err)
		return err;
	err = class_register(&scull_class);
	if (err)
		goto out_unregister_region;
	scull_devices = kcalloc(scull_nr_devs, sizeof(*scull_devices),
				GFP_KERNEL);
	if (!scull_devices) {
		err = -ENOMEM;
		goto out_unregister_class;
	}
	for (i = 0; i < scull_nr_devs; i++) {
		err = scull_dev_add(&scull_devices[i], i);
		if (err)
			goto out_remove_devs;
	}
	err = scull_proc_init(scull_devices, scull_nr_devs);
	if (err)
		goto out_remove_devs;

	pr_info("%u devices, major %u, minors %u-%u, quantum %u, qset %u, limit %llu bytes\n",
		scull_nr_devs, MAJOR(scull_devt), MINOR(scull_devt),
		MINOR(scull_devt) + scull_nr_devs - 1, scull_quantum,
		scull_qset, scull_size_limit);
	return 0;

out_remove_devs:
	while (i--)
		scull_dev_remove(&scull_devices[i]);
	kfree(scull_devices);
out_unregister_class:
	class_unregister(&scull_class);
out_unregister_region:
	unregister_chrdev_region(scull_devt, scull_nr_devs);
	return err;
}
module_init(scull_init);

static void __exit scull_exit(void)
{
	unsigned int i = scull_nr_devs;

	scull_proc_exit();
	while (i--)
		scull_dev_remove(&scull_devices[i]);
	kfree(scull_devices);
	class_unregister(&scull_class);
	unregister_chrdev_region(scull_devt, scull_nr_devs);
}
module_exit(scull_exit);

MODULE_DESCRIPTION("LDD3's scull: memory-backed devices /dev/scull0..N-1");
MODULE_AUTHOR("The scull developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(SCULL_VERSION);
