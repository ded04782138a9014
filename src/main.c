// SPDX-License-Identifier: GPL-2.0
/*
 * scull: Simple Character Utility for Loading Localities.
 *
 * The devices of Linux Device Drivers, 3rd edition, chapters 3 and 6, for
 * current kernels: /dev/scull0 .. /dev/scull<N-1>, each a file held in RAM;
 * the pipes /dev/scullpipe0 .. /dev/scullpipe<P-1> (pipe.c); and the
 * access-controlled memory devices scullsingle, sculluid, scullwuid and
 * scullpriv (access.c).  This file owns the module parameters, the char
 * device region, the device class and the life of every memory device.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cdev.h>
#include <linux/ctype.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/kdev_t.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/sysfs.h>
#include <linux/wait_bit.h>

#include "scull.h"
#include "scull_compat.h"

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

/**
 * scull_parse_size() - a byte count with an optional K, M or G suffix
 * @val: the text (64K, 256M, 2G; memparse()'s syntax: decimal, 0x hex or 0
 *	octal, then one of K, M, G, T, P, E in either case); a newline may
 *	end it
 * @n: the value, set only on success
 *
 * memparse() wraps silently: its digits past 2^64 and its suffix's shift
 * (16E is 0, 18446744073709551617 is 1).  Here the digits go to kstrtoull(),
 * which refuses an overflow, and the shift to check_shl_overflow().
 *
 * Return: 0, or -EINVAL when @val is not such a count or is above
 * LLONG_MAX, on every kernel (a 32-bit kernel's geometry may allow less,
 * which scull_geometry_check() tells).
 */
int scull_parse_size(const char *val, unsigned long long *n)
{
	static const char suffixes[] = "KMGTPE";
	char digits[24];	/* 2^64 has 20 decimal, 22 octal digits */
	const char *end = val, *suffix;
	unsigned int shift = 0;
	unsigned long long v;
	size_t len;

	if (end[0] == '0' && (end[1] == 'x' || end[1] == 'X')) {
		end += 2;
		while (isxdigit(*end))
			end++;
	} else {
		while (isdigit(*end))
			end++;
	}
	len = end - val;
	if (!len || len >= sizeof(digits))
		return -EINVAL;
	memcpy(digits, val, len);
	digits[len] = '\0';
	if (kstrtoull(digits, 0, &v))
		return -EINVAL;
	suffix = *end ? strchr(suffixes, toupper(*end)) : NULL;
	if (suffix) {
		shift = 10 * (suffix - suffixes + 1);
		end++;
	}
	if (*end == '\n')
		end++;
	if (*end || check_shl_overflow(v, shift, &v) || v > LLONG_MAX)
		return -EINVAL;
	*n = v;
	return 0;
}

/* A size parameter with a least value; K, M and G suffixes allowed. */
struct scull_param_size {
	unsigned long long *value;
	unsigned long long min;
};

static int scull_param_size_set(const char *val, const struct kernel_param *kp)
{
	const struct scull_param_size *p = kp->arg;
	unsigned long long n;

	if (scull_parse_size(val, &n) || n < p->min) {
		pr_err("invalid %s=%s: expected a size from %llu to %lld bytes, with an optional K, M or G\n",
		       kp->name, val, p->min, LLONG_MAX);
		return -EINVAL;
	}
	*p->value = n;
	return 0;
}

static int scull_param_size_get(char *buf, const struct kernel_param *kp)
{
	const struct scull_param_size *p = kp->arg;

	return sysfs_emit(buf, "%llu\n", *p->value);
}

static const struct kernel_param_ops scull_param_size_ops = {
	.set = scull_param_size_set,
	.get = scull_param_size_get,
};

static unsigned long long scull_size_limit = 256ULL << 20;
static struct scull_param_size scull_size_limit_range = { &scull_size_limit, 1 };
module_param_cb(scull_size_limit, &scull_param_size_ops, &scull_size_limit_range, 0444);
MODULE_PARM_DESC(scull_size_limit,
		 "Bytes one device may hold, K/M/G allowed (default 256M)");

static unsigned long long scull_capacity;
static struct scull_param_size scull_capacity_range = { &scull_capacity, 0 };
module_param_cb(scull_capacity, &scull_param_size_ops, &scull_capacity_range, 0444);
MODULE_PARM_DESC(scull_capacity,
		 "Fixed size of each device, K/M/G allowed, at most scull_size_limit (default 0: file-like, grows with writes)");

static unsigned long long scull_priv_limit = 256ULL << 20;
static struct scull_param_size scull_priv_limit_range = { &scull_priv_limit, 1 };
module_param_cb(scull_priv_limit, &scull_param_size_ops, &scull_priv_limit_range, 0444);
MODULE_PARM_DESC(scull_priv_limit,
		 "Bytes of quanta all scullpriv devices may hold together, K/M/G allowed (default 256M)");

static unsigned int scull_p_nr_devs = 4;
static struct scull_param_uint scull_p_nr_devs_range = { &scull_p_nr_devs, 1, SCULL_NR_DEVS_MAX };
module_param_cb(scull_p_nr_devs, &scull_param_uint_ops, &scull_p_nr_devs_range, 0444);
MODULE_PARM_DESC(scull_p_nr_devs, "Pipes scullpipe0..scullpipe<n-1> (default 4, at most 256)");

static unsigned int scull_p_buffer = 4000;
static struct scull_param_uint scull_p_buffer_range = { &scull_p_buffer, 1, SCULL_P_BUFFER_MAX };
module_param_cb(scull_p_buffer, &scull_param_uint_ops, &scull_p_buffer_range, 0444);
MODULE_PARM_DESC(scull_p_buffer, "Bytes in a pipe's buffer (default 4000, at most 1 MiB)");

static dev_t scull_devt;
static struct scull_dev **scull_devices;
struct class *scull_class;

/*
 * Device releases still to run.  They are this module's code and may run
 * after everything else is torn down (a struct device is released when its
 * last reference goes, and CONFIG_DEBUG_KOBJECT_RELEASE delays that on
 * purpose), so module exit waits for the count to reach zero.
 */
static atomic_t scull_releases_pending = ATOMIC_INIT(0);

/*
 * Set once scull_init() has done everything that can fail.  A node can be
 * opened from its cdev_device_add() on, but a later step may still fail,
 * and a module whose init fails is freed at once, open files or not
 * (do_init_module() does not wait for its references).  Until then every
 * open fails with -ENXIO, as if the node were not there yet: a load that
 * fails never has a file to wait for, nor a store a holder could refill.
 */
static bool scull_ready;

/**
 * scull_open_ready() - the first step of every open
 *
 * Return: 0 once the module is loaded for good, -ENXIO before.
 */
int scull_open_ready(void)
{
	/* pairs with the release in scull_init(): all it made is seen */
	return smp_load_acquire(&scull_ready) ? 0 : -ENXIO;
}

/* Minors in the region: memory devices, pipes, access-controlled devices. */
static unsigned int scull_nr_minors(void)
{
	return scull_nr_devs + scull_p_nr_devs + SCULL_ACCESS_NR_DEVS;
}

/* Checks across parameters; each one alone was checked when it was set. */
static int __init scull_check_params(void)
{
	if (scull_minor + scull_nr_minors() - 1 > MINORMASK) {
		pr_err("invalid scull_minor=%u with scull_nr_devs=%u and scull_p_nr_devs=%u: %u minors from there end past %u\n",
		       scull_minor, scull_nr_devs, scull_p_nr_devs,
		       scull_nr_minors(), MINORMASK);
		return -EINVAL;
	}
	if (scull_capacity > scull_size_limit) {
		pr_err("invalid scull_capacity=%llu: above scull_size_limit=%llu\n",
		       scull_capacity, scull_size_limit);
		return -EINVAL;
	}
	switch (scull_geometry_check(scull_quantum, scull_qset,
				     scull_size_limit)) {
	case 0:
		break;
	case -EFBIG:
		pr_err("invalid scull_size_limit=%llu with scull_quantum=%u and scull_qset=%u: more quantum sets than this kernel can index\n",
		       scull_size_limit, scull_quantum, scull_qset);
		return -EINVAL;
	default:
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
		err = register_chrdev_region(scull_devt, scull_nr_minors(),
					     SCULL_NAME);
	} else {
		err = alloc_chrdev_region(&scull_devt, scull_minor,
					  scull_nr_minors(), SCULL_NAME);
	}
	if (err)
		pr_err("cannot get major %u, minors %u-%u: %d\n", scull_major,
		       scull_minor, scull_minor + scull_nr_minors() - 1, err);
	return err;
}

/**
 * scull_device_init() - prepare the device and cdev of one node
 * @device: the device, in the scull class; @release frees its container
 * @cdev: the character device, serving @fops
 * @devt: the node's numbers
 * @fops: what the node does
 * @release: called when the last reference to @device goes; it must call
 *	scull_device_released() as its last step
 *
 * Nothing becomes visible: cdev_device_add() does that once the container
 * is ready.  From here on the container is freed by put_device(@device),
 * never directly.  The caller names the device.
 */
void scull_device_init(struct device *device, struct cdev *cdev,
		       dev_t devt, const struct file_operations *fops,
		       void (*release)(struct device *device))
{
	atomic_inc(&scull_releases_pending);
	device_initialize(device);
	device->class = scull_class;
	device->devt = devt;
	device->release = release;
	cdev_init(cdev, fops);
	cdev->owner = THIS_MODULE;
}

/**
 * scull_device_released() - the last step of every device release
 */
void scull_device_released(void)
{
	if (atomic_dec_and_test(&scull_releases_pending))
		wake_up_var(&scull_releases_pending);
}

/* The last reference to a memory device: its stored bytes go with it. */
static void scull_dev_release(struct device *device)
{
	struct scull_dev *dev = container_of(device, struct scull_dev, device);

	down_write(&dev->store.rwsem);
	scull_store_trim(&dev->store);
	up_write(&dev->store.rwsem);
	scull_mmap_detach(&dev->store);
	kfree(dev);
	scull_device_released();
}

/* A memory device, ready to be added, or an ERR_PTR. */
static struct scull_dev * __init scull_dev_alloc(unsigned int index)
{
	struct scull_dev *dev;
	int err;

	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return ERR_PTR(-ENOMEM);
	dev->index = index;
	scull_store_init(&dev->store, scull_quantum, scull_qset,
			 scull_size_limit, scull_capacity);
	err = scull_mmap_attach(&dev->store);
	if (err) {
		kfree(dev);
		return ERR_PTR(err);
	}
	scull_device_init(&dev->device, &dev->cdev, scull_devt + index,
			  &scull_fops, scull_dev_release);
	dev->device.groups = scull_dev_groups;
	err = dev_set_name(&dev->device, SCULL_NAME "%u", index);
	if (err) {
		put_device(&dev->device);
		return ERR_PTR(err);
	}
	return dev;
}

/* Drop our reference to every device: each release frees its bytes. */
static void scull_devs_put(void)
{
	unsigned int i;

	for (i = 0; i < scull_nr_devs && scull_devices[i]; i++)
		put_device(&scull_devices[i]->device);
	kfree(scull_devices);
}

static void scull_wait_releases(void)
{
	wait_var_event(&scull_releases_pending,
		       !atomic_read(&scull_releases_pending));
}

/* Add every memory device; on failure none stays added. */
static int __init scull_devs_add(void)
{
	unsigned int i;
	int err;

	for (i = 0; i < scull_nr_devs; i++) {
		err = cdev_device_add(&scull_devices[i]->cdev,
				      &scull_devices[i]->device);
		if (err) {
			pr_err("cannot add scull%u: %d\n", i, err);
			goto out_del_devs;
		}
	}
	return 0;

out_del_devs:
	while (i--)
		cdev_device_del(&scull_devices[i]->cdev,
				&scull_devices[i]->device);
	return err;
}

static void scull_devs_del(void)
{
	unsigned int i = scull_nr_devs;

	while (i--)
		cdev_device_del(&scull_devices[i]->cdev,
				&scull_devices[i]->device);
}

/*
 * The order matters.  Everything a node needs -- its store or buffer, its
 * device, the /proc files that show it -- exists before the first
 * cdev_device_add() makes a node visible, and adding the nodes is the last
 * step that can fail.  Adding one node can still fail after another is
 * there, so the nodes open only once all are (scull_open_ready()).  Exit
 * undoes it in reverse: no node is visible when /proc goes, and the module
 * waits for the device releases, its own code, before it goes.
 */
static int __init scull_init(void)
{
	dev_t pipes_devt, access_devt;
	struct scull_dev *dev;
	unsigned int i;
	int err;

	err = scull_check_params();
	if (err)
		return err;
	err = scull_region_get();
	if (err)
		return err;
	pipes_devt = scull_devt + scull_nr_devs;
	access_devt = pipes_devt + scull_p_nr_devs;
	scull_class = scull_class_create(SCULL_NAME);
	if (IS_ERR(scull_class)) {
		err = PTR_ERR(scull_class);
		goto out_unregister_region;
	}
	err = scull_mmap_init();
	if (err)
		goto out_destroy_class;
	scull_devices = kcalloc(scull_nr_devs, sizeof(*scull_devices),
				GFP_KERNEL);
	if (!scull_devices) {
		err = -ENOMEM;
		goto out_mmap_exit;
	}
	for (i = 0; i < scull_nr_devs; i++) {
		dev = scull_dev_alloc(i);
		if (IS_ERR(dev)) {
			err = PTR_ERR(dev);
			goto out_put_devs;
		}
		scull_devices[i] = dev;
	}
	err = scull_pipes_alloc(pipes_devt, scull_p_nr_devs, scull_p_buffer);
	if (err)
		goto out_put_pipes;
	err = scull_access_alloc(access_devt, scull_quantum, scull_qset,
				 scull_size_limit, scull_capacity,
				 scull_priv_limit);
	if (err)
		goto out_put_access;
	err = scull_proc_init(scull_devices, scull_nr_devs);
	if (err)
		goto out_put_access;
	err = scull_devs_add();
	if (err)
		goto out_proc_exit;
	err = scull_pipes_add();
	if (err)
		goto out_del_devs;
	err = scull_access_add();
	if (err)
		goto out_del_pipes;
	/* nothing fails from here: the nodes open, and see all of the above */
	smp_store_release(&scull_ready, true);

	pr_info("%u devices, %u pipes of %u bytes, major %u, minors %u-%u, quantum %u, qset %u, limit %llu bytes, capacity %llu bytes\n",
		scull_nr_devs, scull_p_nr_devs, scull_p_buffer,
		MAJOR(scull_devt), MINOR(scull_devt),
		MINOR(scull_devt) + scull_nr_minors() - 1, scull_quantum,
		scull_qset, scull_size_limit, scull_capacity);
	return 0;

out_del_pipes:
	scull_pipes_del();
out_del_devs:
	scull_devs_del();
out_proc_exit:
	scull_proc_exit();
out_put_access:
	scull_access_put();
out_put_pipes:
	scull_pipes_put();
out_put_devs:
	scull_devs_put();
	scull_wait_releases();
out_mmap_exit:
	scull_mmap_exit();
out_destroy_class:
	class_destroy(scull_class);
out_unregister_region:
	unregister_chrdev_region(scull_devt, scull_nr_minors());
	return err;
}
module_init(scull_init);

static void __exit scull_exit(void)
{
	scull_access_del();
	scull_pipes_del();
	scull_devs_del();
	scull_proc_exit();
	scull_access_put();
	scull_pipes_put();
	scull_devs_put();
	scull_wait_releases();
	scull_mmap_exit();
	class_destroy(scull_class);
	unregister_chrdev_region(scull_devt, scull_nr_minors());
}
module_exit(scull_exit);

MODULE_DESCRIPTION("LDD3's scull: memory devices, pipes and access-controlled devices");
MODULE_AUTHOR("The scull developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(SCULL_VERSION);
