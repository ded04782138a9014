// SPDX-License-Identifier: GPL-2.0
/*
 * scullpipe: LDD3's pipe devices (chapter 6), /dev/scullpipe0 .. P-1.
 *
 * Each pipe is a circular buffer of scull_p_buffer bytes.  Readers wait on
 * a wait queue for bytes, writers on another for room; O_NONBLOCK gives
 * -EAGAIN instead; poll, select and epoll report exactly when a read or an
 * atomic write would not wait; fasync sends SIGIO when bytes arrive.
 * Unlike LDD3's, a reader of an empty pipe that no writer holds open any
 * more gets end of file, as with a FIFO, and writes follow pipe(7): one of
 * at most PIPE_BUF bytes, or of the whole buffer if that is smaller, is
 * atomic (its bytes are never mixed with another writer's), a larger one
 * may be split.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/lockdep.h>
#include <linux/limits.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "scull.h"

static struct scull_pipe **scull_pipes;
static unsigned int scull_nr_pipes;

static struct scull_pipe_file *scull_p_file(struct file *filp)
{
	return filp->private_data;
}

/*
 * Whether a reader of @pf that finds the pipe empty is at end of file: no
 * writer is left, and one has been there since the reader came.  Read with
 * or without the lock.
 */
static bool scull_p_eof(const struct scull_pipe_file *pf)
{
	const struct scull_pipe *pipe = pf->pipe;

	return !READ_ONCE(pipe->nwriters) &&
	       READ_ONCE(pipe->writer_opens) != pf->writers_seen;
}

/* A read would not wait: bytes, or end of file.  Without the lock. */
static bool scull_p_readable(const struct scull_pipe_file *pf)
{
	return READ_ONCE(pf->pipe->len) || scull_p_eof(pf);
}

/*
 * The largest write the pipe keeps whole, as pipe(7) says: PIPE_BUF bytes,
 * or the whole buffer if that is smaller.
 */
static unsigned int scull_p_atomic(unsigned int size)
{
	return min_t(unsigned int, size, PIPE_BUF);
}

/*
 * A write of @rest more bytes, @first when none has gone in yet, would
 * not wait: an atomic one (@first, and at most scull_p_atomic()) when
 * there is room for all of it, a larger one when there is room for a
 * byte.  Read with or without the lock.
 */
static bool scull_p_writable(const struct scull_pipe *pipe, size_t rest,
			     bool first)
{
	unsigned int size = READ_ONCE(pipe->size);
	unsigned int room = size - min(READ_ONCE(pipe->len), size);

	if (first && rest <= scull_p_atomic(size))
		return room >= rest;
	return room > 0;
}

/* Room for an atomic write of any size: EPOLLOUT.  Without the lock. */
static bool scull_p_pollout(const struct scull_pipe *pipe)
{
	unsigned int size = READ_ONCE(pipe->size);

	return size - min(READ_ONCE(pipe->len), size) >= scull_p_atomic(size);
}

/*
 * Copy up to @count buffered bytes to @buf, in two pieces when the bytes
 * wrap around the end of the buffer.  Caller holds the lock; the pipe
 * holds bytes.  Returns the bytes copied, or -EFAULT when none were.
 */
static ssize_t scull_p_copy_out(struct scull_pipe *pipe, char __user *buf,
				size_t count)
{
	size_t done = 0, chunk, left;

	lockdep_assert_held(&pipe->lock);

	count = min_t(size_t, count, pipe->len);
	while (done < count) {
		chunk = min_t(size_t, count - done, pipe->size - pipe->rp);
		left = copy_to_user(buf + done, pipe->buffer + pipe->rp, chunk);
		chunk -= left;
		pipe->rp += chunk;
		if (pipe->rp == pipe->size)
			pipe->rp = 0;
		WRITE_ONCE(pipe->len, pipe->len - chunk);
		done += chunk;
		if (left)
			break;
	}
	return done ? done : -EFAULT;
}

/*
 * Copy up to @count bytes from @buf into the room after the buffered
 * bytes, in two pieces when the room wraps.  Caller holds the lock.
 * Returns the bytes copied, or -EFAULT when none were.
 */
static ssize_t scull_p_copy_in(struct scull_pipe *pipe,
			       const char __user *buf, size_t count)
{
	size_t done = 0, chunk, left;
	unsigned int wp;

	lockdep_assert_held(&pipe->lock);

	count = min_t(size_t, count, pipe->size - pipe->len);
	while (done < count) {
		wp = pipe->rp + pipe->len;
		if (wp >= pipe->size)
			wp -= pipe->size;
		chunk = min_t(size_t, count - done, pipe->size - wp);
		left = copy_from_user(pipe->buffer + wp, buf + done, chunk);
		chunk -= left;
		WRITE_ONCE(pipe->len, pipe->len + chunk);
		done += chunk;
		if (left)
			break;
	}
	return done ? done : -EFAULT;
}

static int scull_p_open(struct inode *inode, struct file *filp)
{
	struct scull_pipe *pipe = container_of(inode->i_cdev, struct scull_pipe,
					       cdev);
	struct scull_pipe_file *pf;
	int err = scull_open_ready();

	if (err)
		return err;
	/* no direct I/O: refuse it before the open counts as a writer's */
	if (filp->f_flags & O_DIRECT)
		return -EINVAL;
	pf = kmalloc(sizeof(*pf), GFP_KERNEL);
	if (!pf)
		return -ENOMEM;
	pf->pipe = pipe;
	if (mutex_lock_interruptible(&pipe->lock)) {
		kfree(pf);
		return -ERESTARTSYS;
	}
	if (filp->f_mode & FMODE_WRITE) {
		WRITE_ONCE(pipe->nwriters, pipe->nwriters + 1);
		WRITE_ONCE(pipe->writer_opens, pipe->writer_opens + 1);
	}
	pf->writers_seen = pipe->writer_opens;
	if (pipe->nwriters || pipe->len)
		pf->writers_seen--;
	mutex_unlock(&pipe->lock);
	filp->private_data = pf;
	/* not seekable: lseek, pread and pwrite give -ESPIPE */
	return stream_open(inode, filp);
}

/* The last writer's close ends the file for readers: wake them. */
static int scull_p_release(struct inode *inode, struct file *filp)
{
	struct scull_pipe_file *pf = scull_p_file(filp);
	struct scull_pipe *pipe = pf->pipe;
	bool last_writer = false;

	/* the VFS has already taken the file off @async_queue (fasync) */
	if (filp->f_mode & FMODE_WRITE) {
		mutex_lock(&pipe->lock);
		WRITE_ONCE(pipe->nwriters, pipe->nwriters - 1);
		last_writer = !pipe->nwriters;
		mutex_unlock(&pipe->lock);
	}
	if (last_writer) {
		wake_up_interruptible_poll(&pipe->inq, EPOLLHUP);
		kill_fasync(&pipe->async_queue, SIGIO, POLL_HUP);
	}
	kfree(pf);
	return 0;
}

/*
 * Returns what is buffered, up to @count bytes, once there is something;
 * 0 at end of file.
 */
static ssize_t scull_p_read(struct file *filp, char __user *buf,
			    size_t count, loff_t *ppos)
{
	struct scull_pipe_file *pf = scull_p_file(filp);
	struct scull_pipe *pipe = pf->pipe;
	ssize_t ret;

	if (!count)
		return 0;
	if (mutex_lock_interruptible(&pipe->lock))
		return -ERESTARTSYS;
	while (!pipe->len) {
		if (scull_p_eof(pf)) {
			ret = 0;
			goto out_unlock;
		}
		if (filp->f_flags & O_NONBLOCK) {
			ret = -EAGAIN;
			goto out_unlock;
		}
		mutex_unlock(&pipe->lock);
		if (wait_event_interruptible(pipe->inq, scull_p_readable(pf)))
			return -ERESTARTSYS;
		if (mutex_lock_interruptible(&pipe->lock))
			return -ERESTARTSYS;
	}
	ret = scull_p_copy_out(pipe, buf, count);
	mutex_unlock(&pipe->lock);
	if (ret > 0)
		wake_up_interruptible_poll(&pipe->outq, EPOLLOUT | EPOLLWRNORM);
	return ret;

out_unlock:
	mutex_unlock(&pipe->lock);
	return ret;
}

/*
 * Sleep until a write of @rest more bytes (@first: none went in yet)
 * would not wait, and take the lock again.  Caller holds the lock.  A
 * writer waiting to put an atomic write in whole counts in
 * @atomic_waiters until it holds the lock again, so the buffer does not
 * shrink under it (scull_p_resize()).  Returns 0 with the lock held, or
 * -ERESTARTSYS without it.
 */
static int scull_p_wait_room(struct scull_pipe *pipe, size_t rest, bool first)
{
	bool whole = first && rest <= scull_p_atomic(pipe->size);
	int err;

	lockdep_assert_held(&pipe->lock);
	if (whole)
		atomic_inc(&pipe->atomic_waiters);
	mutex_unlock(&pipe->lock);
	err = wait_event_interruptible(pipe->outq,
				       scull_p_writable(pipe, rest, first));
	if (!err)
		err = mutex_lock_interruptible(&pipe->lock);
	if (whole)
		atomic_dec(&pipe->atomic_waiters);
	return err;
}

/*
 * pipe(7): a write of at most scull_p_atomic() bytes waits for room for
 * all of it and goes in at once; a larger one goes in as room appears,
 * and may be interleaved with other writers.  A signal or O_NONBLOCK
 * stops a write part-way: it returns the bytes written so far, or
 * -ERESTARTSYS / -EAGAIN when there are none.
 */
static ssize_t scull_p_write(struct file *filp, const char __user *buf,
			     size_t count, loff_t *ppos)
{
	struct scull_pipe *pipe = scull_p_file(filp)->pipe;
	size_t done = 0;
	ssize_t ret = 0, n;

	if (!count)
		return 0;
	if (mutex_lock_interruptible(&pipe->lock))
		return -ERESTARTSYS;
	while (done < count) {
		if (!scull_p_writable(pipe, count - done, !done)) {
			if (filp->f_flags & O_NONBLOCK) {
				ret = -EAGAIN;
				break;
			}
			if (scull_p_wait_room(pipe, count - done, !done))
				return done ? done : -ERESTARTSYS;
			continue;
		}
		n = scull_p_copy_in(pipe, buf + done, count - done);
		if (n < 0) {
			ret = n;
			break;
		}
		done += n;
		wake_up_interruptible_poll(&pipe->inq, EPOLLIN | EPOLLRDNORM);
		kill_fasync(&pipe->async_queue, SIGIO, POLL_IN);
	}
	mutex_unlock(&pipe->lock);
	return done ? done : ret;
}

/*
 * Readable (EPOLLIN) while bytes are buffered; EPOLLHUP at end of file,
 * as for a FIFO (select counts it as readable); writable (EPOLLOUT) while
 * an atomic write of any size fits, as pipe(7) has it: room for
 * scull_p_atomic() bytes.  A larger write then goes in at least in part.
 * A file waits on the queue of each side it is open for, and the
 * wake-ups carry their event, so an epoll entry wakes for its own only.
 */
static __poll_t scull_p_poll(struct file *filp, struct poll_table_struct *wait)
{
	struct scull_pipe_file *pf = scull_p_file(filp);
	struct scull_pipe *pipe = pf->pipe;
	__poll_t mask = 0;

	if (filp->f_mode & FMODE_READ) {
		poll_wait(filp, &pipe->inq, wait);
		if (READ_ONCE(pipe->len))
			mask |= EPOLLIN | EPOLLRDNORM;
		if (scull_p_eof(pf))
			mask |= EPOLLHUP;
	}
	if (filp->f_mode & FMODE_WRITE) {
		poll_wait(filp, &pipe->outq, wait);
		if (scull_p_pollout(pipe))
			mask |= EPOLLOUT | EPOLLWRNORM;
	}
	return mask;
}

static int scull_p_fasync(int fd, struct file *filp, int on)
{
	return fasync_helper(fd, filp, on, &scull_p_file(filp)->pipe->async_queue);
}

/*
 * The buffer belongs to the device, not to a process: allocated at load,
 * sized only by CAP_SYS_ADMIN, at most scull_p_nr_devs * SCULL_P_BUFFER_MAX
 * bytes in all, and it stays when the caller is gone.  So it is charged to
 * no memory cgroup, at load as at resize: a charge would fall on whichever
 * cgroup ran insmod or the ioctl, not on the pipe's users, and would pin
 * that cgroup after it is gone.  (The memory devices' quanta are
 * charged to their writer, who chooses to store them.)
 */
#define SCULL_P_GFP	GFP_KERNEL

/*
 * A new buffer of @size bytes, only while the pipe is empty, and never
 * smaller than an atomic write a writer sleeps to put in whole: -EBUSY
 * rather than a promise broken.
 */
static long scull_p_resize(struct scull_pipe *pipe, unsigned int size)
{
	char *buffer, *old;
	long ret = 0;

	buffer = kvmalloc(size, SCULL_P_GFP);
	if (!buffer)
		return -ENOMEM;
	if (mutex_lock_interruptible(&pipe->lock)) {
		kvfree(buffer);
		return -ERESTARTSYS;
	}
	if (pipe->len ||
	    (scull_p_atomic(size) < scull_p_atomic(pipe->size) &&
	     atomic_read(&pipe->atomic_waiters))) {
		old = buffer;
		ret = -EBUSY;
	} else {
		old = pipe->buffer;
		pipe->buffer = buffer;
		pipe->rp = 0;
		WRITE_ONCE(pipe->size, size);
	}
	mutex_unlock(&pipe->lock);
	kvfree(old);
	if (!ret)
		wake_up_interruptible_poll(&pipe->outq, EPOLLOUT | EPOLLWRNORM);
	return ret;
}

/*
 * The pipe's own commands: "tell" a new buffer size (CAP_SYS_ADMIN, 1 to
 * SCULL_P_BUFFER_MAX bytes, only while empty) and "query" it.  Both take
 * an integer, not a pointer, so 32-bit callers need no conversion.
 */
static long scull_p_ioctl(struct file *filp, unsigned int cmd,
			  unsigned long arg)
{
	struct scull_pipe *pipe = scull_p_file(filp)->pipe;

	switch (cmd) {
	case SCULL_P_IOCTSIZE:
		if (!capable(CAP_SYS_ADMIN))
			return -EPERM;
		if (arg < 1 || arg > SCULL_P_BUFFER_MAX)
			return -EINVAL;
		return scull_p_resize(pipe, arg);
	case SCULL_P_IOCQSIZE:
		return READ_ONCE(pipe->size);
	}
	return -ENOTTY;
}

static const struct file_operations scull_pipe_fops = {
	.owner		= THIS_MODULE,
	.open		= scull_p_open,
	.release	= scull_p_release,
	.read		= scull_p_read,
	.write		= scull_p_write,
	.poll		= scull_p_poll,
	.fasync		= scull_p_fasync,
	.unlocked_ioctl	= scull_p_ioctl,
	.compat_ioctl	= scull_p_ioctl,
};

static void scull_pipe_release(struct device *device)
{
	struct scull_pipe *pipe = container_of(device, struct scull_pipe,
					       device);

	mutex_destroy(&pipe->lock);
	kvfree(pipe->buffer);
	kfree(pipe);
	scull_device_released();
}

/* A pipe with its buffer, ready to be added, or an ERR_PTR. */
static struct scull_pipe *scull_pipe_alloc(dev_t devt, unsigned int index,
					   unsigned int size)
{
	struct scull_pipe *pipe;
	int err;

	pipe = kzalloc(sizeof(*pipe), GFP_KERNEL);
	if (!pipe)
		return ERR_PTR(-ENOMEM);
	pipe->buffer = kvmalloc(size, SCULL_P_GFP);
	if (!pipe->buffer) {
		kfree(pipe);
		return ERR_PTR(-ENOMEM);
	}
	pipe->size = size;
	pipe->index = index;
	mutex_init(&pipe->lock);
	atomic_set(&pipe->atomic_waiters, 0);
	init_waitqueue_head(&pipe->inq);
	init_waitqueue_head(&pipe->outq);
	scull_device_init(&pipe->device, &pipe->cdev, devt, &scull_pipe_fops,
			  scull_pipe_release);
	err = dev_set_name(&pipe->device, SCULL_NAME "pipe%u", index);
	if (err) {
		put_device(&pipe->device);
		return ERR_PTR(err);
	}
	return pipe;
}

/**
 * scull_pipes_alloc() - make the pipes ready, none of them visible yet
 * @first: the first pipe's numbers; the others follow
 * @nr: how many pipes
 * @size: bytes in each pipe's buffer
 *
 * On failure what was made stays for scull_pipes_put() to undo.
 *
 * Return: 0 or a negative errno.
 */
int scull_pipes_alloc(dev_t first, unsigned int nr, unsigned int size)
{
	struct scull_pipe *pipe;
	unsigned int i;

	scull_pipes = kcalloc(nr, sizeof(*scull_pipes), GFP_KERNEL);
	if (!scull_pipes)
		return -ENOMEM;
	scull_nr_pipes = nr;
	for (i = 0; i < nr; i++) {
		pipe = scull_pipe_alloc(first + i, i, size);
		if (IS_ERR(pipe))
			return PTR_ERR(pipe);
		scull_pipes[i] = pipe;
	}
	return 0;
}

/**
 * scull_pipes_add() - make every pipe visible
 *
 * Return: 0, or a negative errno with no pipe left added.
 */
int scull_pipes_add(void)
{
	unsigned int i;
	int err;

	for (i = 0; i < scull_nr_pipes; i++) {
		err = cdev_device_add(&scull_pipes[i]->cdev,
				      &scull_pipes[i]->device);
		if (err) {
			pr_err("cannot add scullpipe%u: %d\n", i, err);
			goto out_del_pipes;
		}
	}
	return 0;

out_del_pipes:
	while (i--)
		cdev_device_del(&scull_pipes[i]->cdev, &scull_pipes[i]->device);
	return err;
}

/**
 * scull_pipes_del() - remove every pipe's node; undoes scull_pipes_add()
 */
void scull_pipes_del(void)
{
	unsigned int i = scull_nr_pipes;

	while (i--)
		cdev_device_del(&scull_pipes[i]->cdev, &scull_pipes[i]->device);
}

/**
 * scull_pipes_put() - drop our reference to every pipe made
 *
 * Each is freed by its device release, once nothing else holds it.
 */
void scull_pipes_put(void)
{
	unsigned int i;

	for (i = 0; i < scull_nr_pipes && scull_pipes[i]; i++)
		put_device(&scull_pipes[i]->device);
	kfree(scull_pipes);
	scull_pipes = NULL;
	scull_nr_pipes = 0;
}
