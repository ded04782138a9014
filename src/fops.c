// SPDX-License-Identifier: GPL-2.0
/*
 * scull file operations: thin wrappers that take the device's lock and call
 * the storage layer.  The device behaves like a regular file held in RAM.
 * An open file's private_data is the struct scull_store it reads and
 * writes, so the access-controlled devices (access.c) reuse every handler
 * here with open rules of their own.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/overflow.h>
#include <linux/pagemap.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/uaccess.h>
#include <linux/uio.h>

#include "scull.h"
#include "scull_compat.h"

static struct scull_store *scull_store_of(struct file *filp)
{
	return filp->private_data;
}

/*
 * Opening write-only trims the device, as in LDD3, unless O_APPEND asks to
 * add to what is there; O_TRUNC trims with any access mode.
 */
static bool scull_open_trims(const struct file *filp)
{
	if (filp->f_flags & O_TRUNC)
		return true;
	return (filp->f_flags & O_ACCMODE) == O_WRONLY &&
	       !(filp->f_flags & O_APPEND);
}

/**
 * scull_open_store() - open a file on a memory device's store
 * @filp: the file being opened
 * @st: the store it reads and writes
 *
 * Refuses O_DIRECT, makes @st the file's private_data and trims the store
 * when the open mode asks for it.  Every memory device's open ends here.
 *
 * Return: 0, -EINVAL for O_DIRECT, or -ERESTARTSYS when a fatal signal
 * came while waiting to trim.
 */
int scull_open_store(struct file *filp, struct scull_store *st)
{
	/*
	 * The VFS refuses O_DIRECT after ->open (there is no direct I/O to a
	 * char device): refuse it here, before a trim could lose data.
	 */
	if (filp->f_flags & O_DIRECT)
		return -EINVAL;

	filp->private_data = st;
	/* the device's own, whichever node it was opened through (mmap.c) */
	if (st->mapping)
		filp->f_mapping = st->mapping;
	/*
	 * f_pos updates are atomic as for a regular file; NOWAIT is honoured;
	 * on a 32-bit kernel before 6.12, offsets are unsigned for mmap()
	 * past 4 GiB (scull_compat.h)
	 */
	filp->f_mode |= FMODE_ATOMIC_POS | FMODE_NOWAIT | SCULL_FMODE_UNSIGNED_OFFSET;

	if (scull_open_trims(filp)) {
		if (down_write_killable(&st->rwsem))
			return -ERESTARTSYS;
		scull_store_trim(st);
		up_write(&st->rwsem);
	}
	return 0;
}

static int scull_open(struct inode *inode, struct file *filp)
{
	struct scull_dev *dev = container_of(inode->i_cdev, struct scull_dev,
					     cdev);
	int err = scull_open_ready();

	return err ?: scull_open_store(filp, &dev->store);
}

/* Times a read's copy is tried whole again after faulting its buffer in. */
#define SCULL_READ_RETRIES	3

/*
 * Read at *@ppos and advance it.  With @nowait, never sleep on the lock.
 * The wait for the lock is killable, not interruptible: as for a regular
 * file, a handled signal never makes a read fail with -EINTR.
 *
 * A fault on a mapping of a memory device takes that device's lock
 * (mmap.c), and a reader shares it: a read into a mapping of its own
 * device would wait for itself (for the lock held alone, to fill a hole;
 * or behind a writer queued after it).  So the copy runs with page faults
 * disabled; when it stops at a page not present, the rest of the buffer
 * is faulted in with the lock let go, and the read is made again, whole,
 * so that it still sees one state of the device (a few times, then it
 * keeps what it copied and goes on from there), as a regular file's write
 * faults its source in (generic_perform_write()).
 */
/*
 * rw_verify_area()'s check, which the VFS skips for a file whose offsets
 * are unsigned (a 32-bit kernel's, scull_compat.h): no negative position,
 * no end past LLONG_MAX.  On a 64-bit kernel the VFS has made it already.
 */
static bool scull_pos_ok(loff_t pos, size_t count)
{
	return !SCULL_UNSIGNED_OFFSETS ||
	       (pos >= 0 && count <= (u64)(LLONG_MAX - pos));
}

static ssize_t scull_read_at(struct scull_store *st, struct iov_iter *to,
			     loff_t *ppos, bool nowait)
{
	unsigned int tries = 0;
	ssize_t ret, done = 0;
	size_t left;

	if (!scull_pos_ok(*ppos, iov_iter_count(to)))
		return -EINVAL;
	for (;;) {
		if (nowait) {
			if (!down_read_trylock(&st->rwsem))
				return done ? done : -EAGAIN;
		} else if (down_read_killable(&st->rwsem)) {
			return done ? done : -ERESTARTSYS;
		}
		pagefault_disable();
		ret = scull_store_read(st, to, *ppos);
		pagefault_enable();
		up_read(&st->rwsem);
		if (!ret || (ret < 0 && ret != -EFAULT))
			break;
		left = iov_iter_count(to);
		if (!left || !user_backed_iter(to) ||
		    fatal_signal_pending(current) ||
		    fault_in_iov_iter_writeable(to, left) == left)
			break;
		if (ret > 0 && ++tries > SCULL_READ_RETRIES) {
			*ppos += ret;
			done += ret;
			tries = 0;
		} else if (ret > 0) {
			iov_iter_revert(to, ret);
		}
	}
	if (ret > 0) {
		*ppos += ret;
		done += ret;
	}
	return done ? done : ret;
}

/*
 * Write at *@ppos, or at the end with @append, and leave *@ppos after the
 * last byte stored.  With @nowait, never sleep on the lock or allocate:
 * store everything or return -EAGAIN.
 *
 * The copy from user space runs first with page faults disabled, which
 * costs nothing when the source is there.  When it stops at a source page
 * not present, what follows depends on where that page is:
 *
 * - In a mapping of a scull memory device, this one or another: its fault
 *   takes that device's lock (mmap.c), which a writer may hold while its
 *   own copy faults on a mapping of this device, so waiting for it here
 *   could wait for ever.  The lock is let go, the rest of the source
 *   faulted in, and the write goes on where it stopped (the bytes stored
 *   so far are seen meanwhile; with @append, it goes on at the end then).
 *   With @nowait it returns what it stored, or -EAGAIN.
 * - Elsewhere (anonymous memory, a file, userfaultfd, a bad address): the
 *   copy goes on with faults enabled and the lock held, as a regular
 *   file's write holds its inode's (a source stalled by userfaultfd holds
 *   it).  A fault there on a mapping of this store (a later vector of the
 *   same write) finds the writer marked and needs no lock (mmap.c).
 */
static ssize_t scull_write_at(struct scull_store *st, struct iov_iter *from,
			      loff_t *ppos, bool append, bool nowait)
{
	ssize_t ret, done = 0;
	loff_t pos, end = 0;
	bool faulted;
	size_t left;

	if (!scull_pos_ok(*ppos, iov_iter_count(from)))
		return -EINVAL;
	if (nowait) {
		if (!down_write_trylock(&st->rwsem))
			return -EAGAIN;
	} else if (down_write_killable(&st->rwsem)) {
		return -ERESTARTSYS;
	}
	for (;;) {
		pos = append ? st->size : *ppos + done;
		faulted = false;
		pagefault_disable();
		ret = scull_store_write(st, from, pos, nowait, &faulted);
		pagefault_enable();
		if (ret > 0) {
			done += ret;
			pos += ret;
			end = pos;
		}
		if (!faulted || fatal_signal_pending(current))
			break;
		if (!scull_mmap_is_source(from)) {
			WRITE_ONCE(st->writer, current);
			ret = scull_store_write(st, from, pos, nowait, NULL);
			WRITE_ONCE(st->writer, NULL);
			if (ret > 0) {
				done += ret;
				end = pos + ret;
			}
			break;
		}
		if (nowait) {
			ret = -EAGAIN;
			break;
		}
		up_write(&st->rwsem);
		left = iov_iter_count(from);
		if (fault_in_iov_iter_readable(from, left) == left) {
			ret = -EFAULT;
			goto out;
		}
		if (down_write_killable(&st->rwsem)) {
			ret = -ERESTARTSYS;
			goto out;
		}
	}
	up_write(&st->rwsem);
out:
	if (!done)
		return ret;
	*ppos = end;
	return done;
}

ssize_t scull_read(struct file *filp, char __user *buf, size_t count,
		   loff_t *ppos)
{
	struct iov_iter to;

	iov_iter_ubuf(&to, ITER_DEST, buf, count);
	return scull_read_at(scull_store_of(filp), &to, ppos, false);
}

ssize_t scull_write(struct file *filp, const char __user *buf, size_t count,
		    loff_t *ppos)
{
	struct iov_iter from;

	iov_iter_ubuf(&from, ITER_SOURCE, (void __user *)buf, count);
	return scull_write_at(scull_store_of(filp), &from, ppos,
			      filp->f_flags & O_APPEND, false);
}

ssize_t scull_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	return scull_read_at(scull_store_of(iocb->ki_filp), to, &iocb->ki_pos,
			     iocb->ki_flags & IOCB_NOWAIT);
}

ssize_t scull_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	return scull_write_at(scull_store_of(iocb->ki_filp), from,
			      &iocb->ki_pos, iocb->ki_flags & IOCB_APPEND,
			      iocb->ki_flags & IOCB_NOWAIT);
}

/* SEEK_DATA and SEEK_HOLE walk the store; -ENXIO at or past the size. */
static loff_t scull_seek_data_hole(struct scull_store *st, loff_t off,
				   int whence)
{
	loff_t pos;

	if (down_read_killable(&st->rwsem))
		return -ERESTARTSYS;
	if (off < 0 || off >= st->size)
		pos = -ENXIO;
	else if (whence == SEEK_DATA)
		pos = scull_store_seek_data(st, off);
	else
		pos = scull_store_seek_hole(st, off);
	up_read(&st->rwsem);
	return pos;
}

/*
 * The position may go anywhere from 0 to LLONG_MAX, past the size and the
 * limit as in a file, on 32-bit kernels too: nothing here indexes by it
 * beyond the size, which the limit bounds (MAX_LFS_FILESIZE is the page
 * cache's bound, 16 TiB there).  A result out of that range, or one that
 * would overflow, is -EINVAL.
 */
loff_t scull_llseek(struct file *filp, loff_t off, int whence)
{
	struct scull_store *st = scull_store_of(filp);
	loff_t pos, size;

	switch (whence) {
	case SEEK_SET:
		pos = off;
		break;
	case SEEK_CUR:
		if (check_add_overflow(filp->f_pos, off, &pos))
			return -EINVAL;
		break;
	case SEEK_END:
		size = scull_store_size(st);
		if (size < 0)
			return size;
		if (check_add_overflow(size, off, &pos))
			return -EINVAL;
		break;
	case SEEK_DATA:
	case SEEK_HOLE:
		pos = scull_seek_data_hole(st, off, whence);
		if (pos < 0)
			return pos;
		break;
	default:
		return -EINVAL;
	}
	/* vfs_setpos() takes a negative one for unsigned offsets (32-bit) */
	if (pos < 0)
		return -EINVAL;
	return vfs_setpos(filp, pos, LLONG_MAX);
}

/* Like a regular file: always readable and writable. */
__poll_t scull_poll(struct file *filp, struct poll_table_struct *wait)
{
	return EPOLLIN | EPOLLRDNORM | EPOLLOUT | EPOLLWRNORM;
}

const struct file_operations scull_fops = {
	.open		= scull_open,
	SCULL_MEM_FOPS,
};
