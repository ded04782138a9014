// SPDX-License-Identifier: GPL-2.0
/*
 * scull storage: the quantum sets behind one device, and the copies between
 * them and an iov_iter.  Nothing here knows about files or inodes: fops.c
 * and ioctl.c take the store's lock and pass an iterator and an offset.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/gfp.h>
#include <linux/log2.h>
#include <linux/lockdep.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include "scull.h"

/* Longest stretch of a hole zeroed in one step, so a signal is seen. */
#define SCULL_HOLE_CHUNK	SZ_1M

/* Where an offset falls: quantum set, quantum in it, byte in that. */
struct scull_pos {
	unsigned long qs;
	unsigned int q;
	unsigned int off;
	u32 in_qset;		/* byte within the quantum set */
};

static u64 scull_qset_bytes(const struct scull_store *st)
{
	return (u64)st->quantum * st->qset;
}

static void scull_pos_decode(const struct scull_store *st, loff_t pos,
			     struct scull_pos *p)
{
	u64 rem;

	if (st->pow2) {
		p->qs = pos >> (st->quantum_shift + st->qset_shift);
		p->in_qset = pos & (scull_qset_bytes(st) - 1);
		p->q = p->in_qset >> st->quantum_shift;
		p->off = p->in_qset & (st->quantum - 1);
		return;
	}
	p->qs = div64_u64_rem(pos, scull_qset_bytes(st), &rem);
	p->in_qset = rem;	/* below SCULL_QSET_BYTES_MAX */
	p->q = p->in_qset / st->quantum;
	p->off = p->in_qset % st->quantum;
}

/*
 * Move @p forward by @n bytes that stay within its quantum: the copy loops
 * walk quantum by quantum without dividing again.
 */
static void scull_pos_advance(const struct scull_store *st,
			      struct scull_pos *p, unsigned int n)
{
	p->off += n;
	p->in_qset += n;
	if (p->off < st->quantum)
		return;
	p->off = 0;
	if (++p->q < st->qset)
		return;
	p->q = 0;
	p->in_qset = 0;
	p->qs++;
}

/**
 * scull_geometry_check() - validate a quantum size and a quantum set size
 * @quantum: bytes in a quantum
 * @qset: quanta in a quantum set
 *
 * Return: 0 when both are within bounds and one set spans at most
 * SCULL_QSET_BYTES_MAX bytes, -EINVAL otherwise.
 */
int scull_geometry_check(unsigned long quantum, unsigned long qset)
{
	if (quantum < 1 || quantum > SCULL_QUANTUM_MAX)
		return -EINVAL;
	if (qset < 1 || qset > SCULL_QSET_MAX)
		return -EINVAL;
	if ((u64)quantum * qset > SCULL_QSET_BYTES_MAX)
		return -EINVAL;
	return 0;
}

/* Set the geometry and what is derived from it.  The store is empty. */
static void scull_geometry_apply(struct scull_store *st, unsigned int quantum,
				 unsigned int qset)
{
	WRITE_ONCE(st->quantum, quantum);
	WRITE_ONCE(st->qset, qset);
	st->pow2 = is_power_of_2(quantum) && is_power_of_2(qset);
	st->quantum_shift = ilog2(quantum);
	st->qset_shift = ilog2(qset);
	if (quantum >= PAGE_SIZE && is_power_of_2(quantum))
		st->quantum_order = get_order(quantum);
	else
		st->quantum_order = -1;
}

/**
 * scull_store_init() - set up an empty store
 * @st: the store
 * @quantum: bytes in a quantum, already checked
 * @qset: quanta in a quantum set, already checked
 * @limit: the largest size the store may reach, in bytes
 */
void scull_store_init(struct scull_store *st, unsigned int quantum,
		      unsigned int qset, loff_t limit)
{
	init_rwsem(&st->rwsem);
	INIT_LIST_HEAD(&st->qsets);
	xa_init(&st->index);
	st->size = 0;
	st->limit = limit;
	scull_geometry_apply(st, quantum, qset);
	st->default_quantum = quantum;
	st->default_qset = qset;
	st->nr_quanta = 0;
	st->nr_qsets = 0;
}

/*
 * A zeroed quantum.  Page-sized ones come from the page allocator, as page
 * cache pages do: copy_page_to_iter() then needs no hardened-usercopy
 * lookup of the slab object on every copy.  The caller holds the lock for
 * writing, so the geometry cannot change under it.
 */
static void *scull_quantum_alloc(const struct scull_store *st)
{
	gfp_t gfp = GFP_KERNEL_ACCOUNT | __GFP_ZERO;
	struct page *page;

	if (st->quantum_order < 0)
		return kvzalloc(st->quantum, gfp);
	/* a large quantum may not be there: fail quietly, -ENOMEM */
	if (st->quantum_order)
		gfp |= __GFP_COMP | __GFP_NOWARN;
	page = alloc_pages(gfp, st->quantum_order);
	return page ? page_address(page) : NULL;
}

static void scull_quantum_free(const struct scull_store *st, void *quantum)
{
	if (st->quantum_order < 0)
		kvfree(quantum);
	else
		__free_pages(virt_to_page(quantum), st->quantum_order);
}

static size_t scull_copy_to_iter(const struct scull_store *st, void *quantum,
				 unsigned int off, size_t n, struct iov_iter *to)
{
	if (st->quantum_order < 0)
		return copy_to_iter(quantum + off, n, to);
	return copy_page_to_iter(virt_to_page(quantum), off, n, to);
}

static size_t scull_copy_from_iter(const struct scull_store *st,
				   void *quantum, unsigned int off, size_t n,
				   struct iov_iter *from)
{
	if (st->quantum_order < 0)
		return copy_from_iter(quantum + off, n, from);
	return copy_page_from_iter(virt_to_page(quantum), off, n, from);
}

/**
 * scull_store_trim() - free every quantum and quantum set; size becomes 0
 * @st: the store, locked for writing
 *
 * The geometry stays as it is.  Sleeps.
 */
void scull_store_trim(struct scull_store *st)
{
	struct scull_qset *qs, *tmp;
	unsigned int i;

	lockdep_assert_held_write(&st->rwsem);

	list_for_each_entry_safe(qs, tmp, &st->qsets, node) {
		for (i = 0; qs->nr_quanta && i < st->qset; i++) {
			if (qs->data[i]) {
				scull_quantum_free(st, qs->data[i]);
				qs->nr_quanta--;
			}
		}
		kvfree(qs->data);
		list_del(&qs->node);
		kfree(qs);
		cond_resched();
	}
	xa_destroy(&st->index);
	st->nr_quanta = 0;
	st->nr_qsets = 0;
	WRITE_ONCE(st->size, 0);
}

/**
 * scull_store_set_geometry() - change the quantum and quantum set sizes
 * @st: the store, locked for writing
 * @quantum: new bytes in a quantum
 * @qset: new quanta in a quantum set
 *
 * Return: 0, -EINVAL for a geometry out of bounds, or -EBUSY when the store
 * holds data (a new geometry would misplace every stored byte).
 */
int scull_store_set_geometry(struct scull_store *st, unsigned long quantum,
			     unsigned long qset)
{
	int err;

	lockdep_assert_held_write(&st->rwsem);

	err = scull_geometry_check(quantum, qset);
	if (err)
		return err;
	if (st->size || st->nr_qsets)
		return -EBUSY;
	scull_geometry_apply(st, quantum, qset);
	return 0;
}

/*
 * Allocate the quantum set at @index and link it into the index and, in
 * order, into the list.  Caller holds the lock for writing.
 */
static struct scull_qset *scull_qset_alloc(struct scull_store *st,
					   unsigned long index)
{
	unsigned long next_index = index;
	struct scull_qset *qs, *next;
	int err;

	qs = kzalloc(sizeof(*qs), GFP_KERNEL_ACCOUNT);
	if (!qs)
		return ERR_PTR(-ENOMEM);
	qs->data = kvcalloc(st->qset, sizeof(*qs->data), GFP_KERNEL_ACCOUNT);
	if (!qs->data)
		goto out_free_qset;
	qs->index = index;

	next = xa_find(&st->index, &next_index, ULONG_MAX, XA_PRESENT);
	err = xa_err(xa_store(&st->index, index, qs, GFP_KERNEL_ACCOUNT));
	if (err)
		goto out_free_data;
	list_add_tail(&qs->node, next ? &next->node : &st->qsets);
	st->nr_qsets++;
	return qs;

out_free_data:
	kvfree(qs->data);
out_free_qset:
	kfree(qs);
	return ERR_PTR(-ENOMEM);
}

/*
 * Find the quantum set for @p, reusing *@cache when it is the right one.
 * Returns NULL for a set never written.  Caller holds the lock.
 */
static struct scull_qset *scull_qset_find(struct scull_store *st,
					  struct scull_qset **cache,
					  const struct scull_pos *p)
{
	if (!*cache || (*cache)->index != p->qs)
		*cache = xa_load(&st->index, p->qs);
	return *cache;
}

/*
 * The quantum that holds @p, allocated (zeroed) when missing.  With
 * !@may_alloc a missing one gives -EAGAIN instead.  Caller holds the lock
 * for writing.
 */
static void *scull_quantum_get(struct scull_store *st,
			       struct scull_qset **cache,
			       const struct scull_pos *p, bool may_alloc)
{
	struct scull_qset *qs = scull_qset_find(st, cache, p);
	void *quantum;

	if (!qs) {
		if (!may_alloc)
			return ERR_PTR(-EAGAIN);
		qs = scull_qset_alloc(st, p->qs);
		if (IS_ERR(qs))
			return qs;
		*cache = qs;
	}
	quantum = qs->data[p->q];
	if (quantum)
		return quantum;
	if (!may_alloc)
		return ERR_PTR(-EAGAIN);
	quantum = scull_quantum_alloc(st);
	if (!quantum)
		return ERR_PTR(-ENOMEM);
	qs->data[p->q] = quantum;
	qs->nr_quanta++;
	st->nr_quanta++;
	return quantum;
}

/* Between two chunks of a long copy: give way, and stop for a signal. */
static int scull_copy_pause(void)
{
	if (signal_pending(current))
		return -ERESTARTSYS;
	cond_resched();
	return 0;
}

/**
 * scull_store_read() - copy stored bytes from @pos into @to
 * @st: the store, locked for reading
 * @to: where the bytes go; its count is the most to copy
 * @pos: the offset of the first byte
 *
 * Holes read as zeros.  Never allocates.  Copies everything up to the size
 * in one call unless the destination faults or a signal arrives.
 *
 * Return: bytes copied (0 at or past the size), or -EFAULT / -ERESTARTSYS
 * when nothing was copied.
 */
ssize_t scull_store_read(struct scull_store *st, struct iov_iter *to,
			 loff_t pos)
{
	struct scull_qset *qs = NULL;
	struct scull_pos p;
	ssize_t err = 0;
	size_t done = 0;

	lockdep_assert_held(&st->rwsem);

	if (pos >= st->size)
		return 0;
	iov_iter_truncate(to, st->size - pos);

	scull_pos_decode(st, pos, &p);
	while (iov_iter_count(to)) {
		size_t chunk, copied;

		if (scull_qset_find(st, &qs, &p)) {
			void *quantum = qs->data[p.q];

			chunk = min_t(size_t, st->quantum - p.off,
				      iov_iter_count(to));
			copied = quantum ?
				 scull_copy_to_iter(st, quantum, p.off, chunk, to) :
				 iov_iter_zero(chunk, to);
			scull_pos_advance(st, &p, copied);
		} else {
			/* a whole set is missing: zeros, a stretch at a time */
			chunk = min_t(u64, scull_qset_bytes(st) - p.in_qset,
				      SCULL_HOLE_CHUNK);
			chunk = min(chunk, iov_iter_count(to));
			copied = iov_iter_zero(chunk, to);
			scull_pos_decode(st, pos + copied, &p);
		}
		done += copied;
		pos += copied;
		if (copied < chunk) {
			err = -EFAULT;
			break;
		}
		if (iov_iter_count(to)) {
			err = scull_copy_pause();
			if (err)
				break;
		}
	}
	return done ? done : err;
}

/**
 * scull_store_write() - store the bytes of @from at @pos
 * @st: the store, locked for writing
 * @from: the bytes; its count is how many to store
 * @pos: the offset of the first byte
 * @may_alloc: false when the caller must not sleep in the allocator
 *
 * Allocates the quantum sets and quanta it needs, zeroed.  Stores all the
 * bytes in one call unless the size limit, the source faulting, a failed
 * allocation or a signal stops it; the size then grows only by the bytes
 * stored.
 *
 * Return: bytes stored, or when none were: -ENOSPC at or past the limit,
 * -EFAULT, -ENOMEM, -EAGAIN (!@may_alloc and an allocation was needed) or
 * -ERESTARTSYS.
 */
ssize_t scull_store_write(struct scull_store *st, struct iov_iter *from,
			  loff_t pos, bool may_alloc)
{
	struct scull_qset *qs = NULL;
	struct scull_pos p;
	ssize_t err = 0;
	size_t done = 0;

	lockdep_assert_held_write(&st->rwsem);

	if (!iov_iter_count(from))
		return 0;
	if (pos >= st->limit)
		return -ENOSPC;
	iov_iter_truncate(from, st->limit - pos);

	scull_pos_decode(st, pos, &p);
	while (iov_iter_count(from)) {
		size_t chunk, copied;
		void *quantum;

		quantum = scull_quantum_get(st, &qs, &p, may_alloc);
		if (IS_ERR(quantum)) {
			err = PTR_ERR(quantum);
			break;
		}
		chunk = min_t(size_t, st->quantum - p.off,
			      iov_iter_count(from));
		copied = scull_copy_from_iter(st, quantum, p.off, chunk, from);
		scull_pos_advance(st, &p, copied);
		done += copied;
		pos += copied;
		if (copied < chunk) {
			err = -EFAULT;
			break;
		}
		if (iov_iter_count(from)) {
			err = scull_copy_pause();
			if (err)
				break;
		}
	}
	if (pos > st->size)
		WRITE_ONCE(st->size, pos);
	return done ? done : err;
}

/**
 * scull_store_seek_data() - the first offset at or after @pos that is data
 * @st: the store, locked for reading
 * @pos: where to start, not negative
 *
 * Data is every quantum ever written, below the size.
 *
 * Return: the offset, or -ENXIO when there is no data from @pos on.
 */
loff_t scull_store_seek_data(struct scull_store *st, loff_t pos)
{
	u64 qset_bytes = scull_qset_bytes(st);
	u64 size = st->size, start = pos;
	struct scull_qset *qs;
	struct scull_pos p;
	unsigned long idx;

	lockdep_assert_held(&st->rwsem);

	while (start < size) {
		scull_pos_decode(st, start, &p);
		idx = p.qs;
		qs = xa_find(&st->index, &idx, ULONG_MAX, XA_PRESENT);
		if (!qs)
			break;
		if (idx != p.qs) {
			/* jump to the start of the next set that exists */
			start = (u64)idx * qset_bytes;
			continue;
		}
		for (; p.q < st->qset; p.q++) {
			u64 q_start = (u64)idx * qset_bytes +
				      (u64)p.q * st->quantum;

			if (!qs->data[p.q])
				continue;
			q_start = max(start, q_start);
			return q_start < size ? q_start : -ENXIO;
		}
		start = (u64)(idx + 1) * qset_bytes;
	}
	return -ENXIO;
}

/**
 * scull_store_seek_hole() - the first offset at or after @pos in a hole
 * @st: the store, locked for reading
 * @pos: where to start, below the size and not negative
 *
 * The end of the data counts as a hole, as for files.
 *
 * Return: the offset, which is at most the size.
 */
loff_t scull_store_seek_hole(struct scull_store *st, loff_t pos)
{
	u64 qset_bytes = scull_qset_bytes(st);
	u64 size = st->size, start = pos;
	struct scull_qset *qs;
	struct scull_pos p;

	lockdep_assert_held(&st->rwsem);

	while (start < size) {
		scull_pos_decode(st, start, &p);
		qs = xa_load(&st->index, p.qs);
		if (!qs)
			return start;
		for (; p.q < st->qset; p.q++) {
			u64 q_start = (u64)p.qs * qset_bytes +
				      (u64)p.q * st->quantum;

			if (!qs->data[p.q])
				return min(max(start, q_start), size);
		}
		start = (u64)(p.qs + 1) * qset_bytes;
	}
	return size;
}
