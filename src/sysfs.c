// SPDX-License-Identifier: GPL-2.0
/*
 * scull sysfs attributes, read-only, one set per device in
 * /sys/class/scull/scull<n>/: size, quantum, qset, size_limit (all decimal,
 * sizes in bytes).  The size is read under the device's lock (a 64-bit
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
	NULL
};

static const struct attribute_group scull_dev_group = {
	.attrs = scull_dev_attrs,
};

const struct attribute_group *scull_dev_groups[] = {
	&scull_dev_group,
	NULL
};
