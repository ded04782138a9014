// SPDX-License-Identifier: GPL-2.0
/*
 * scull sysfs attributes, one set per device in /sys/class/scull/scull<n>/:
 * size, quantum, qset, size_limit, read-only, and capacity, which root may
 * write (all decimal, sizes in bytes).  The size is read under the device's lock (a 64-bit
 * value may tear on a 32-bit kernel); quantum and qset are single words
 * written with WRITE_ONCE and read without it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/sysfs.h>

#include "scull.h"

static struct scull_store *scull_store_of_dev(struct device *device)
{
	return &container_of(device, struct scull_dev, device)->store;
}

static ssize_t size_show(struct device *device, struct device_attribute *attr,
			 char *buf)
{
	loff_t size = scull_store_size(scull_store_of_dev(device));

	if (size < 0)
		return size;
	return sysfs_emit(buf, "%lld\n", size);
}
static DEVICE_ATTR_RO(size);

static ssize_t quantum_show(struct device *device,
			    struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n",
			  READ_ONCE(scull_store_of_dev(device)->quantum));
}
static DEVICE_ATTR_RO(quantum);

static ssize_t qset_show(struct device *device, struct device_attribute *attr,
			 char *buf)
{
	return sysfs_emit(buf, "%u\n",
			  READ_ONCE(scull_store_of_dev(device)->qset));
}
static DEVICE_ATTR_RO(qset);

/* Writable by root: a size (K, M, G allowed), or 0 for file-like. */
static ssize_t capacity_show(struct device *device,
			     struct device_attribute *attr, char *buf)
{
	struct scull_store *st = scull_store_of_dev(device);
	loff_t capacity;

	if (down_read_killable(&st->rwsem))
		return -ERESTARTSYS;
	capacity = st->capacity;
	up_read(&st->rwsem);
	return sysfs_emit(buf, "%lld\n", capacity);
}

static ssize_t capacity_store(struct device *device,
			      struct device_attribute *attr, const char *buf,
			      size_t count)
{
	struct scull_store *st = scull_store_of_dev(device);
	unsigned long long capacity;
	int err;

	if (scull_parse_size(buf, &capacity))
		return -EINVAL;
	if (down_write_killable(&st->rwsem))
		return -ERESTARTSYS;
	err = scull_store_set_capacity(st, capacity);
	up_write(&st->rwsem);
	return err ? err : count;
}
static DEVICE_ATTR_RW(capacity);

static ssize_t size_limit_show(struct device *device,
			       struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%lld\n", scull_store_of_dev(device)->limit);
}
static DEVICE_ATTR_RO(size_limit);

static struct attribute *scull_dev_attrs[] = {
	&dev_attr_size.attr,
	&dev_attr_quantum.attr,
	&dev_attr_qset.attr,
	&dev_attr_size_limit.attr,
	&dev_attr_capacity.attr,
	NULL
};

static const struct attribute_group scull_dev_group = {
	.attrs = scull_dev_attrs,
};

const struct attribute_group *scull_dev_groups[] = {
	&scull_dev_group,
	NULL
};
