// SPDX-License-Identifier: GPL-2.0
/*
 * scull /proc files, as in LDD3: /proc/scullmem is built in one go
 * (single_open), /proc/scullseq is a seq_file iterator with one step per
 * device.  Both print the same text: for each device a summary line, then
 * a line per quantum set, in offset order, at most SCULL_PROC_QSETS of them
 * (a device with a tiny geometry can have millions, and seq_file would try
 * to hold them all in one buffer).
 *
 * They show every device's layout, so they are as private as the devices:
 * made root's alone (0400); scull_load then gives them to group scull
 * (chgrp and chmod 0440, which proc keeps in the entry).  The kernel
 * cannot do that itself: it has no notion of the group's name.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/proc_fs.h>
#include <linux/seq_file.h>

#include "scull.h"

#define SCULL_PROC_QSETS	32

static struct scull_dev **scull_proc_devs;
static unsigned int scull_proc_nr_devs;

static int scull_proc_show_dev(struct seq_file *m, struct scull_dev *dev)
{
	struct scull_store *st = &dev->store;
	struct scull_qset *qs;
	unsigned long shown = 0;

	if (down_read_killable(&st->rwsem))
		return -ERESTARTSYS;
	seq_printf(m, "Device %u: qset %u, q %u, sz %lld, limit %lld, quanta %lu\n",
		   dev->index, st->qset, st->quantum, st->size, st->limit,
		   st->nr_quanta);
	list_for_each_entry(qs, &st->qsets, node) {
		if (shown++ == SCULL_PROC_QSETS) {
			seq_printf(m, "  ... %lu more quantum sets\n",
				   st->nr_qsets - SCULL_PROC_QSETS);
			break;
		}
		seq_printf(m, "  qset %lu: %u quanta\n", qs->index,
			   qs->nr_quanta);
	}
	up_read(&st->rwsem);
	return 0;
}

static int scull_mem_show(struct seq_file *m, void *v)
{
	unsigned int i;
	int err;

	for (i = 0; i < scull_proc_nr_devs; i++) {
		err = scull_proc_show_dev(m, scull_proc_devs[i]);
		if (err)
			return err;
	}
	return 0;
}

static void *scull_seq_start(struct seq_file *m, loff_t *pos)
{
	if (*pos >= scull_proc_nr_devs)
		return NULL;
	return scull_proc_devs[*pos];
}

static void *scull_seq_next(struct seq_file *m, void *v, loff_t *pos)
{
	++*pos;
	return scull_seq_start(m, pos);
}

static void scull_seq_stop(struct seq_file *m, void *v)
{
}

static int scull_seq_show(struct seq_file *m, void *v)
{
	return scull_proc_show_dev(m, v);
}

static const struct seq_operations scull_seq_ops = {
	.start	= scull_seq_start,
	.next	= scull_seq_next,
	.stop	= scull_seq_stop,
	.show	= scull_seq_show,
};

/**
 * scull_proc_init() - create /proc/scullmem and /proc/scullseq
 * @devs: the devices to show
 * @nr_devs: how many
 *
 * Return: 0 or -ENOMEM.
 */
int scull_proc_init(struct scull_dev **devs, unsigned int nr_devs)
{
	scull_proc_devs = devs;
	scull_proc_nr_devs = nr_devs;
	if (!proc_create_single("scullmem", 0400, NULL, scull_mem_show))
		return -ENOMEM;
	if (!proc_create_seq("scullseq", 0400, NULL, &scull_seq_ops)) {
		remove_proc_entry("scullmem", NULL);
		return -ENOMEM;
	}
	return 0;
}

/**
 * scull_proc_exit() - remove the /proc files; waits for readers to leave
 */
void scull_proc_exit(void)
{
	remove_proc_entry("scullseq", NULL);
	remove_proc_entry("scullmem", NULL);
}
