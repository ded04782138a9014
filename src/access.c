// SPDX-License-Identifier: GPL-2.0
/*
 * scull's access-controlled devices, LDD3 chapter 6: memory devices that
 * read, write, seek and answer ioctls as /dev/scull<n> does (fops.c's
 * handlers), with rules for who may open them.
 *
 *   scullsingle  one open file at a time; another open gets -EBUSY
 *   sculluid     one user at a time; another user gets -EBUSY
 *   scullwuid    one user at a time; another user waits (-EAGAIN with
 *                O_NONBLOCK)
 *   scullpriv    a private memory device per controlling terminal (and
 *                session), all of them bounded together
 *
 * A user is a kuid_t, compared with uid_eq(): the opener's real or
 * effective uid against the uid of the first open file's opener.
 * CAP_DAC_OVERRIDE passes sculluid's and scullwuid's rule.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/lockdep.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/sysfs.h>
#include <linux/tty.h>

#include "scull.h"
#include "scull_compat.h"

static const char *const scull_access_names[] = {
	[SCULL_ACCESS_SINGLE]	= SCULL_NAME "single",
	[SCULL_ACCESS_UID]	= SCULL_NAME "uid",
	[SCULL_ACCESS_WUID]	= SCULL_NAME "wuid",
};

#define SCULL_ACCESS_NR_RULES	ARRAY_SIZE(scull_access_names)

static struct scull_access *scull_access_devs[SCULL_ACCESS_NR_RULES];
static struct scull_priv *scull_priv_dev;

/*
 * The geometry, size limit and capacity of every store here, as the memory
 * devices'.
 */
static unsigned int scull_access_quantum;
static unsigned int scull_access_qset;
static loff_t scull_access_limit;
static loff_t scull_access_capacity;

/*
 * Whether the current task may join the open files of @acc: there are
 * none, or they are its user's.  Read with or without the lock.
 */
static bool scull_access_free_for_me(struct scull_access *acc)
{
	kuid_t owner = READ_ONCE(acc->owner);

	return !READ_ONCE(acc->count) || uid_eq(owner, current_uid()) ||
	       uid_eq(owner, current_euid());
}

/* One more open file; the first makes its opener the owner. */
static void scull_access_take(struct scull_access *acc)
{
	lockdep_assert_held(&acc->lock);

	if (!acc->count)
		WRITE_ONCE(acc->owner, current_uid());
	WRITE_ONCE(acc->count, acc->count + 1);
}

static int scull_single_claim(struct scull_access *acc)
{
	int err = 0;

	spin_lock(&acc->lock);
	if (acc->count)
		err = -EBUSY;
	else
		scull_access_take(acc);
	spin_unlock(&acc->lock);
	return err;
}

/* sculluid: the owner's user, or CAP_DAC_OVERRIDE; others -EBUSY. */
static int scull_uid_claim(struct scull_access *acc)
{
	spin_lock(&acc->lock);
	if (scull_access_free_for_me(acc)) {
		scull_access_take(acc);
		spin_unlock(&acc->lock);
		return 0;
	}
	spin_unlock(&acc->lock);
	/*
	 * Asked only when another user holds the device (capable() marks
	 * the task as having used a privilege), and outside the lock: the
	 * security modules' hooks may sleep.
	 */
	if (!capable(CAP_DAC_OVERRIDE))
		return -EBUSY;
	spin_lock(&acc->lock);
	scull_access_take(acc);
	spin_unlock(&acc->lock);
	return 0;
}

/* scullwuid: as sculluid, but wait until the device is free. */
static int scull_wuid_claim(struct scull_access *acc, bool nonblock)
{
	while (scull_uid_claim(acc)) {
		if (nonblock)
			return -EAGAIN;
		if (wait_event_interruptible(acc->wait,
					     scull_access_free_for_me(acc)))
			return -ERESTARTSYS;
	}
	return 0;
}

/* One open file fewer; the last wakes scullwuid's waiters. */
static void scull_access_leave(struct scull_access *acc)
{
	bool free;

	spin_lock(&acc->lock);
	WRITE_ONCE(acc->count, acc->count - 1);
	free = !acc->count;
	spin_unlock(&acc->lock);
	if (free)
		wake_up_interruptible(&acc->wait);
}

static int scull_access_open(struct inode *inode, struct file *filp)
{
	struct scull_access *acc = container_of(inode->i_cdev,
						struct scull_access, mem.cdev);
	int err;

	err = scull_open_ready();
	if (err)
		return err;
	switch (acc->rule) {
	case SCULL_ACCESS_SINGLE:
		err = scull_single_claim(acc);
		break;
	case SCULL_ACCESS_UID:
		err = scull_uid_claim(acc);
		break;
	default:
		err = scull_wuid_claim(acc, filp->f_flags & O_NONBLOCK);
		break;
	}
	if (err)
		return err;
	err = scull_open_store(filp, &acc->mem.store);
	if (err)
		scull_access_leave(acc);
	return err;
}

static int scull_access_release(struct inode *inode, struct file *filp)
{
	scull_access_leave(container_of(inode->i_cdev, struct scull_access,
					mem.cdev));
	return 0;
}

static const struct file_operations scull_access_fops = {
	.open		= scull_access_open,
	.release	= scull_access_release,
	SCULL_MEM_FOPS,
};

/*
 * The store of the caller's terminal, made on its first open, with one more
 * user; or an ERR_PTR.  Takes over the references to @tty and @session: a
 * new store keeps them, an existing one has its own and they are put.
 *
 * The key is the tty_struct and the session, compared as pointers, never
 * the terminal's number.  A pointer is a safe key because every listed
 * store holds a reference to both: neither struct is freed while its store
 * is listed, so no other terminal or session can be allocated at the same
 * address meanwhile, and a pointer equal to a listed store's is that very
 * terminal.  A tty_struct lives from the first open of its device to the
 * last close: release_tty() takes it out of its driver's table and a later
 * open allocates a new one (tty_init_dev()), even while this reference
 * delays the old one's freeing.  So a new pty that reuses a number, or a
 * pts of another devpts instance with the same number, is another struct
 * and gets a fresh store.  The reference keeps no file open: the number is
 * given back (devpts_kill_index()) at the last close as usual, and what
 * stays is the struct, until this store's last close.
 *
 * The session is in the key for the terminal whose struct outlives a user:
 * a line that is hung up (vhangup(), as getty does) and opened by the next
 * login while a file still holds it keeps its tty_struct, but the next
 * login is a new session.  Processes with the same controlling terminal
 * are always of one session, so this splits no terminal's device.
 */
static struct scull_priv_store *scull_priv_get(struct scull_priv *priv,
					       struct tty_struct *tty,
					       struct pid *session)
{
	struct scull_priv_store *ps;

	if (mutex_lock_killable(&priv->lock)) {
		ps = ERR_PTR(-ERESTARTSYS);
		goto out_put;
	}
	list_for_each_entry(ps, &priv->terminals, node) {
		if (ps->tty == tty && ps->session == session)
			goto out_found;
	}
	/* a mutex, not LDD3's spinlock: the allocation may sleep */
	ps = kzalloc(sizeof(*ps), GFP_KERNEL_ACCOUNT);
	if (!ps) {
		mutex_unlock(&priv->lock);
		ps = ERR_PTR(-ENOMEM);
		goto out_put;
	}
	scull_store_init(&ps->store, scull_access_quantum, scull_access_qset,
			 scull_access_limit, scull_access_capacity);
	ps->store.budget = &priv->budget;
	ps->tty = tty;
	ps->session = session;
	ps->users = 1;
	list_add(&ps->node, &priv->terminals);
	WRITE_ONCE(priv->nr_terminals, priv->nr_terminals + 1);
	mutex_unlock(&priv->lock);
	return ps;

out_found:
	ps->users++;
	mutex_unlock(&priv->lock);
out_put:
	put_pid(session);
	tty_kref_put(tty);
	return ps;
}

/* One user fewer; the last one frees the terminal's store. */
static void scull_priv_put(struct scull_priv *priv,
			   struct scull_priv_store *ps)
{
	bool last;

	mutex_lock(&priv->lock);
	last = !--ps->users;
	if (last) {
		list_del(&ps->node);
		WRITE_ONCE(priv->nr_terminals, priv->nr_terminals - 1);
	}
	mutex_unlock(&priv->lock);
	if (!last)
		return;
	/* unreachable now: nothing waits for the lock */
	down_write(&ps->store.rwsem);
	scull_store_trim(&ps->store);
	up_write(&ps->store.rwsem);
	put_pid(ps->session);
	tty_kref_put(ps->tty);
	kfree(ps);
}

/*
 * The private device of the caller's controlling terminal; -ENXIO without
 * one, as /dev/tty gives.
 */
static int scull_priv_open(struct inode *inode, struct file *filp)
{
	struct scull_priv *priv = container_of(inode->i_cdev, struct scull_priv,
					       cdev);
	struct scull_priv_store *ps;
	struct tty_struct *tty;
	int err;

	err = scull_open_ready();
	if (err)
		return err;
	tty = get_current_tty();
	if (!tty)
		return -ENXIO;
	ps = scull_priv_get(priv, tty, get_task_pid(current, PIDTYPE_SID));
	if (IS_ERR(ps))
		return PTR_ERR(ps);
	err = scull_open_store(filp, &ps->store);
	if (err)
		scull_priv_put(priv, ps);
	return err;
}

static int scull_priv_release(struct inode *inode, struct file *filp)
{
	struct scull_priv *priv = container_of(inode->i_cdev, struct scull_priv,
					       cdev);
	struct scull_store *st = filp->private_data;

	scull_priv_put(priv, container_of(st, struct scull_priv_store, store));
	return 0;
}

static const struct file_operations scull_priv_fops = {
	.open		= scull_priv_open,
	.release	= scull_priv_release,
	SCULL_MEM_FOPS,
};

/* /sys/class/scull/scullpriv/terminals: terminals with a device now */
static ssize_t terminals_show(struct device *device,
			      struct device_attribute *attr, char *buf)
{
	struct scull_priv *priv = container_of(device, struct scull_priv,
					       device);

	return sysfs_emit(buf, "%u\n", READ_ONCE(priv->nr_terminals));
}
static DEVICE_ATTR_RO(terminals);

/*
 * /sys/class/scull/scullpriv/used: bytes of quanta the terminals' devices
 * hold together, at most scull_priv_limit
 */
static ssize_t used_show(struct device *device, struct device_attribute *attr,
			 char *buf)
{
	struct scull_priv *priv = container_of(device, struct scull_priv,
					       device);

	return sysfs_emit(buf, "%lld\n",
			  (long long)atomic64_read(&priv->budget.used));
}
static DEVICE_ATTR_RO(used);

static struct attribute *scull_priv_attrs[] = {
	&dev_attr_terminals.attr,
	&dev_attr_used.attr,
	NULL
};
ATTRIBUTE_GROUPS(scull_priv);

/* The last reference to an access device: its stored bytes go with it. */
static void scull_access_dev_release(struct device *device)
{
	struct scull_access *acc = container_of(device, struct scull_access,
						mem.device);

	down_write(&acc->mem.store.rwsem);
	scull_store_trim(&acc->mem.store);
	up_write(&acc->mem.store.rwsem);
	scull_mmap_detach(&acc->mem.store);
	kfree(acc);
	scull_device_released();
}

static void scull_priv_dev_release(struct device *device)
{
	struct scull_priv *priv = container_of(device, struct scull_priv,
					       device);

	mutex_destroy(&priv->lock);
	kfree(priv);
	scull_device_released();
}

/* An access-controlled memory device, ready to be added, or an ERR_PTR. */
static struct scull_access *scull_access_dev_alloc(dev_t devt,
						   enum scull_access_rule rule)
{
	struct scull_access *acc;
	int err;

	acc = kzalloc(sizeof(*acc), GFP_KERNEL);
	if (!acc)
		return ERR_PTR(-ENOMEM);
	acc->rule = rule;
	spin_lock_init(&acc->lock);
	init_waitqueue_head(&acc->wait);
	scull_store_init(&acc->mem.store, scull_access_quantum, scull_access_qset,
			 scull_access_limit, scull_access_capacity);
	err = scull_mmap_attach(&acc->mem.store);
	if (err) {
		kfree(acc);
		return ERR_PTR(err);
	}
	acc->mem.index = rule;
	scull_device_init(&acc->mem.device, &acc->mem.cdev, devt,
			  &scull_access_fops, scull_access_dev_release);
	acc->mem.device.groups = scull_dev_groups;
	err = dev_set_name(&acc->mem.device, "%s", scull_access_names[rule]);
	if (err) {
		put_device(&acc->mem.device);
		return ERR_PTR(err);
	}
	return acc;
}

static struct scull_priv *scull_priv_dev_alloc(dev_t devt, u64 limit)
{
	struct scull_priv *priv;
	int err;

	priv = kzalloc(sizeof(*priv), GFP_KERNEL);
	if (!priv)
		return ERR_PTR(-ENOMEM);
	mutex_init(&priv->lock);
	INIT_LIST_HEAD(&priv->terminals);
	atomic64_set(&priv->budget.used, 0);
	priv->budget.max = limit;
	scull_device_init(&priv->device, &priv->cdev, devt, &scull_priv_fops,
			  scull_priv_dev_release);
	priv->device.groups = scull_priv_groups;
	err = dev_set_name(&priv->device, SCULL_NAME "priv");
	if (err) {
		put_device(&priv->device);
		return ERR_PTR(err);
	}
	return priv;
}

/**
 * scull_access_alloc() - make the access-controlled devices ready, none
 *	of them visible yet
 * @first: scullsingle's numbers; sculluid, scullwuid, scullpriv follow
 * @quantum: bytes in a quantum of each of their stores
 * @qset: quanta in a quantum set
 * @limit: most bytes a store holds
 * @capacity: 0 for file-like stores, else their fixed size (scull_capacity)
 * @priv_limit: most bytes of quanta scullpriv's stores hold together
 *	(scull_priv_limit)
 *
 * On failure what was made stays for scull_access_put() to undo.
 *
 * Return: 0 or a negative errno.
 */
int scull_access_alloc(dev_t first, unsigned int quantum, unsigned int qset,
		       loff_t limit, loff_t capacity, u64 priv_limit)
{
	struct scull_access *acc;
	struct scull_priv *priv;
	unsigned int rule;

	scull_access_quantum = quantum;
	scull_access_qset = qset;
	scull_access_limit = limit;
	scull_access_capacity = capacity;
	for (rule = 0; rule < SCULL_ACCESS_NR_RULES; rule++) {
		acc = scull_access_dev_alloc(first + rule, rule);
		if (IS_ERR(acc))
			return PTR_ERR(acc);
		scull_access_devs[rule] = acc;
	}
	priv = scull_priv_dev_alloc(first + SCULL_ACCESS_NR_RULES, priv_limit);
	if (IS_ERR(priv))
		return PTR_ERR(priv);
	scull_priv_dev = priv;
	return 0;
}

/**
 * scull_access_add() - make the access-controlled devices visible
 *
 * Return: 0, or a negative errno with none of them left added.
 */
int scull_access_add(void)
{
	unsigned int i;
	int err;

	for (i = 0; i < SCULL_ACCESS_NR_RULES; i++) {
		err = cdev_device_add(&scull_access_devs[i]->mem.cdev,
				      &scull_access_devs[i]->mem.device);
		if (err) {
			pr_err("cannot add %s: %d\n", scull_access_names[i],
			       err);
			goto out_del_devs;
		}
	}
	err = cdev_device_add(&scull_priv_dev->cdev, &scull_priv_dev->device);
	if (err) {
		pr_err("cannot add scullpriv: %d\n", err);
		goto out_del_devs;
	}
	return 0;

out_del_devs:
	while (i--)
		cdev_device_del(&scull_access_devs[i]->mem.cdev,
				&scull_access_devs[i]->mem.device);
	return err;
}

/**
 * scull_access_del() - remove their nodes; undoes scull_access_add()
 */
void scull_access_del(void)
{
	unsigned int i = SCULL_ACCESS_NR_RULES;

	cdev_device_del(&scull_priv_dev->cdev, &scull_priv_dev->device);
	while (i--)
		cdev_device_del(&scull_access_devs[i]->mem.cdev,
				&scull_access_devs[i]->mem.device);
}

/**
 * scull_access_put() - drop our references
 *
 * No file is open (each holds the module), so scullpriv has no terminal's
 * store left.  Each device is freed, with its stored bytes, by its release.
 */
void scull_access_put(void)
{
	struct scull_access *acc;
	unsigned int i;

	if (scull_priv_dev) {
		put_device(&scull_priv_dev->device);
		scull_priv_dev = NULL;
	}
	for (i = 0; i < SCULL_ACCESS_NR_RULES; i++) {
		acc = scull_access_devs[i];
		if (!acc)
			continue;
		put_device(&acc->mem.device);
		scull_access_devs[i] = NULL;
	}
}
