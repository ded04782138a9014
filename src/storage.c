// SPDX-License-Identifier: GPL-2.0
/*
 * scull storage: the quantum sets behind one device, and the copies between
 * them and an iov_iter.  Nothing here knows about files or inodes: fops.c
 * and ioctl.c take the store's lock and pass an iterator and an offset.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/build_bug.h>
#include <linux/err.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/log2.h>
#include <linux/lockdep.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include "scull.h"
#include "scull_compat.h"

/* Longest stretch of a hole zeroed in one step, so a fatal signal is seen. */
#define SCULL_HOLE_CHUNK	SZ_1M
/* Bytes a long copy moves between two looks at signals and the scheduler. */
#define SCULL_COPY_BATCH	SZ_64K
/* so every step through a hole looks */
static_assert(SCULL_COPY_BATCH <= SCULL_HOLE_CHUNK);

/*
 * Entries in a store's table of sets: at first, and at most (32 KiB of
 * pointers on a 64-bit kernel, 8 GiB stored in sets of the default 2 MiB).
 */
#define SCULL_TABLE_MIN		16
#define SCULL_TABLE_MAX		4096

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

static __always_inline void scull_pos_decode(const struct scull_store *st,
					     loff_t pos, struct scull_pos *p)
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
 * scull_geometry_check() - validate a geometry for a size limit
 * @quantum: bytes in a quantum
 * @qset: quanta in a quantum set
 * @limit: the most bytes the store may hold
 *
 * Quantum sets are indexed by an unsigned long: on a 32-bit kernel a tiny
 * geometry cannot address a large limit (quantum 1, qset 1 stops at 4 GiB).
 *
 * Return: 0 when both are within bounds and one set spans at most
 * SCULL_QSET_BYTES_MAX bytes; -EINVAL when not; -EFBIG when the index of
 * the set holding byte @limit - 1 does not fit in an unsigned long.
 */
int scull_geometry_check(unsigned long quantum, unsigned long qset,
			 loff_t limit)
{
	u64 last;

	if (quantum < 1 || quantum > SCULL_QUANTUM_MAX)
		return -EINVAL;
	if (qset < 1 || qset > SCULL_QSET_MAX)
		return -EINVAL;
	if ((u64)quantum * qset > SCULL_QSET_BYTES_MAX)
		return -EINVAL;
	last = div64_u64(limit - 1, (u64)quantum * qset);
	if (last != (unsigned long)last)
		return -EFBIG;
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
	if (IS_ALIGNED(quantum, PAGE_SIZE))
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
 * @capacity: 0 for a file-like store, else its fixed size, at most @limit
 */
void scull_store_init(struct scull_store *st, unsigned int quantum,
		      unsigned int qset, loff_t limit, loff_t capacity)
{
	init_rwsem(&st->rwsem);
	INIT_LIST_HEAD(&st->qsets);
	xa_init(&st->index);
	st->table = NULL;
	st->table_len = 0;
	st->hint = NULL;
	st->size = capacity;
	st->data_end = 0;
	st->capacity = capacity;
	st->limit = limit;
	scull_geometry_apply(st, quantum, qset);
	st->default_quantum = quantum;
	st->default_qset = qset;
	st->nr_quanta = 0;
	st->nr_qsets = 0;
	st->budget = NULL;
	st->mapping = NULL;
	spin_lock_init(&st->map_lock);
	atomic_set(&st->mappings, 0);
	st->writer = NULL;
}

/*
 * Take @bytes from @budget, if it has them; none is taken when it has not.
 * Lock-free: stores that share a budget have locks of their own.
 */
static bool scull_budget_charge(struct scull_budget *budget, u64 bytes)
{
	s64 used = atomic64_read(&budget->used);

	do {
		if (bytes > budget->max - used)
			return false;
	} while (!atomic64_try_cmpxchg(&budget->used, &used, used + bytes));
	return true;
}

static void scull_budget_uncharge(struct scull_budget *budget, u64 bytes)
{
	WARN_ON_ONCE(atomic64_sub_return(bytes, &budget->used) < 0);
}

/*
 * A zeroed quantum.  Page-sized ones come from the page allocator, as page
 * cache pages do: objects of their own, which the copies below move with
 * no hardened-usercopy lookup of a slab object on every call.  They may be
 * highmem, as page cache pages may: a 32-bit kernel maps less than 1 GiB
 * of its memory for good (lowmem), and the default four devices of 256 MiB
 * would fill that and start the OOM killer with highmem still free.  So a
 * page quantum is its struct page, mapped for each copy (kmap_local_page(),
 * which is page_address() where there is no highmem).  A larger quantum of
 * whole pages is contiguous pages when memory is not too fragmented for
 * them, otherwise vmalloc() memory, which needs none; either is its
 * address.  Either way each page of it is an order-0 page with a count of
 * its own (alloc_pages_exact() splits the block), so a mapping (mmap.c)
 * can hold a reference to one page of a quantum.  The caller holds the
 * lock for writing, so the geometry cannot change under it.
 */
static void *scull_quantum_alloc(const struct scull_store *st)
{
	gfp_t gfp = GFP_KERNEL_ACCOUNT | __GFP_ZERO;
	void *quantum;

	if (st->quantum_order < 0)
		return kvzalloc(st->quantum, gfp);
	if (!st->quantum_order)
		return alloc_page(gfp | __GFP_HIGHMEM);
	/* try lightly for contiguous pages, as kvmalloc() does */
	quantum = alloc_pages_exact(st->quantum,
				    gfp | __GFP_NOWARN | __GFP_NORETRY);
	if (quantum)
		return quantum;
	return __vmalloc(st->quantum, gfp);
}

/* Whether @quantum is vmalloc() memory rather than pages of its own. */
static bool scull_quantum_is_virt(const struct scull_store *st,
				  const void *quantum)
{
	return st->quantum_order < 0 ||
	       (st->quantum_order > 0 && is_vmalloc_addr(quantum));
}

/*
 * Free a quantum, and give its bytes back to the store's budget.  The
 * geometry cannot change while the store holds a quantum, so @st->quantum
 * is what was charged for it.
 */
static void scull_quantum_free(const struct scull_store *st, void *quantum)
{
	if (st->budget)
		scull_budget_uncharge(st->budget, st->quantum);
	if (!st->quantum_order)
		__free_page(quantum);
	else if (scull_quantum_is_virt(st, quantum))
		kvfree(quantum);
	else
		free_pages_exact(quantum, st->quantum);
}

/*
 * The copies.  A quantum of pages of its own is one object of known bounds,
 * so its bytes go straight to _copy_to_iter() and _copy_from_iter(), as
 * copy_page_to_iter() and copy_page_from_iter() do: no per-call
 * hardened-usercopy lookup of the object, no per-page wrapper.  Skipping
 * that lookup skips its check, so the bounds are checked here instead, on
 * every copy, as those helpers do first (page_copy_sane()): [off, off + n)
 * must lie inside the quantum, or nothing is copied and the kernel warns
 * once (the callers keep it inside: this is a bug trap, two compares).  A
 * pipe iterator (before 6.5) gets a copy into its own pages, never a link
 * to the device's (so never copy_page_to_iter(), which links the page).
 * A page quantum, perhaps highmem, is mapped for the copy as those helpers
 * map theirs (kmap_local_page(), which allows the copy to fault).
 * kvzalloc() and vmalloc() quanta take the checked copies.
 */
static __always_inline bool scull_copy_sane(const struct scull_store *st,
					    unsigned int off, size_t n)
{
	return !WARN_ON_ONCE(off > st->quantum || n > st->quantum - off);
}

static __always_inline size_t scull_copy_to_iter(const struct scull_store *st,
						 void *quantum,
						 unsigned int off, size_t n,
						 struct iov_iter *to)
{
	void *addr;

	if (!st->quantum_order) {
		if (!scull_copy_sane(st, off, n))
			return 0;
		addr = kmap_local_page(quantum);
		n = _copy_to_iter(addr + off, n, to);
		kunmap_local(addr);
		return n;
	}
	if (scull_quantum_is_virt(st, quantum))
		return copy_to_iter(quantum + off, n, to);
	if (!scull_copy_sane(st, off, n))
		return 0;
	return _copy_to_iter(quantum + off, n, to);
}

static __always_inline size_t scull_copy_from_iter(const struct scull_store *st,
						   void *quantum,
						   unsigned int off, size_t n,
						   struct iov_iter *from)
{
	void *addr;

	if (!st->quantum_order) {
		if (!scull_copy_sane(st, off, n))
			return 0;
		addr = kmap_local_page(quantum);
		n = _copy_from_iter(addr + off, n, from);
		kunmap_local(addr);
		return n;
	}
	if (scull_quantum_is_virt(st, quantum))
		return copy_from_iter(quantum + off, n, from);
	if (!scull_copy_sane(st, off, n))
		return 0;
	return _copy_from_iter(quantum + off, n, from);
}

/* The store holds no set: its table goes too. */
static void scull_table_free(struct scull_store *st)
{
	kvfree(st->table);
	st->table = NULL;
	st->table_len = 0;
}

/*
 * A private mapping's write fault got its page from the store under the
 * lock, locked, and the core maps its copy of it after the lock is let go
 * (mmap.c): wait for each page's lock, so that every such copy is mapped,
 * and the trim's second unmapping removes it.  Only a store with mappings
 * has any; its quanta are whole pages.  Caller holds the lock for writing.
 */
static void scull_store_wait_copies(struct scull_store *st)
{
	struct scull_qset *qs;
	unsigned int i, off;
	struct page *page;
	void *quantum;

	list_for_each_entry(qs, &st->qsets, node) {
		for (i = 0; qs->nr_quanta && i < st->qset; i++) {
			quantum = qs->data[i];
			if (!quantum)
				continue;
			for (off = 0; off < st->quantum; off += PAGE_SIZE) {
				if (!st->quantum_order)
					page = quantum;
				else if (scull_quantum_is_virt(st, quantum))
					page = vmalloc_to_page(quantum + off);
				else
					page = virt_to_page(quantum + off);
				lock_page(page);
				unlock_page(page);
			}
		}
		cond_resched();
	}
}

/**
 * scull_store_trim() - free every quantum and quantum set, and the table
 * @st: the store, locked for writing
 *
 * A file-like store's size becomes 0; a fixed-capacity store keeps its
 * size and reads as zeros.  The geometry stays as it is.  Sleeps.
 */
void scull_store_trim(struct scull_store *st)
{
	struct scull_qset *qs, *tmp;
	unsigned int i;

	lockdep_assert_held_write(&st->rwsem);

	/*
	 * Every mapping's view goes first, private copies too, as a
	 * truncated file's: no page is freed while mapped.  Faults wait for
	 * the lock, and find the store empty.
	 */
	if (st->mapping) {
		unmap_mapping_range(st->mapping, 0, 0, 1);
		if (atomic_read(&st->mappings)) {
			scull_store_wait_copies(st);
			unmap_mapping_range(st->mapping, 0, 0, 1);
		}
	}
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
	scull_table_free(st);
	st->hint = NULL;
	st->nr_quanta = 0;
	st->nr_qsets = 0;
	st->data_end = 0;
	st->size = st->capacity;
}

/**
 * scull_store_size() - the size, read under the lock
 * @st: the store, not locked
 *
 * A 64-bit size may tear when read without the lock on a 32-bit kernel.
 *
 * Return: the size in bytes, or -ERESTARTSYS when a fatal signal came first.
 */
loff_t scull_store_size(struct scull_store *st)
{
	loff_t size;

	if (down_read_killable(&st->rwsem))
		return -ERESTARTSYS;
	size = st->size;
	up_read(&st->rwsem);
	return size;
}

/**
 * scull_store_set_geometry() - change the quantum and quantum set sizes
 * @st: the store, locked for writing
 * @quantum: new bytes in a quantum
 * @qset: new quanta in a quantum set
 *
 * Return: 0, -EINVAL for a geometry out of bounds (or one that cannot
 * index the size limit), or -EBUSY when the store holds data (a new
 * geometry would misplace every stored byte) or is mapped.
 */
int scull_store_set_geometry(struct scull_store *st, unsigned long quantum,
			     unsigned long qset)
{
	int err = 0;

	lockdep_assert_held_write(&st->rwsem);

	if (scull_geometry_check(quantum, qset, st->limit))
		return -EINVAL;
	if (st->nr_quanta)
		return -EBUSY;
	/* an mmap() between the check and the change would map the old one */
	spin_lock(&st->map_lock);
	if (atomic_read(&st->mappings))
		err = -EBUSY;
	else
		scull_geometry_apply(st, quantum, qset);
	spin_unlock(&st->map_lock);
	return err;
}

/**
 * scull_store_set_capacity() - make the store fixed-capacity, or file-like
 * @st: the store, locked for writing
 * @capacity: the new fixed size in bytes, or 0 for a file-like store
 *
 * Offsets do not move, so the data stays where it is; only the size
 * changes: to @capacity, or back to the end of the data for 0.
 *
 * Return: 0, -EINVAL for a capacity below 0 or above the limit, or -EBUSY
 * for one below the end of the data (it would cut data off).
 */
int scull_store_set_capacity(struct scull_store *st, loff_t capacity)
{
	lockdep_assert_held_write(&st->rwsem);

	if (capacity < 0 || capacity > st->limit)
		return -EINVAL;
	if (capacity && capacity < st->data_end)
		return -EBUSY;
	st->capacity = capacity;
	st->size = max(capacity, st->data_end);
	return 0;
}

/*
 * Make the table reach set @index, when SCULL_TABLE_MAX allows: a larger
 * copy, the sets past its old end (allocated when it could not grow, or
 * just now) taken from the index.  The table only speeds lookups up, so
 * its allocation gives up rather than wake the OOM killer; when it fails
 * nothing changes, and lookups past the table keep going to the index.
 * Caller holds the lock for writing.
 */
static void scull_table_grow(struct scull_store *st, unsigned long index)
{
	struct scull_qset **table, *qs;
	unsigned long len, i;

	lockdep_assert_held_write(&st->rwsem);

	if (index >= SCULL_TABLE_MAX)
		return;
	len = max_t(unsigned long, roundup_pow_of_two(index + 1),
		    SCULL_TABLE_MIN);
	table = kvcalloc(len, sizeof(*table),
			 GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL | __GFP_NOWARN);
	if (!table)
		return;
	if (st->table_len)
		memcpy(table, st->table, st->table_len * sizeof(*table));
	xa_for_each_range(&st->index, i, qs, st->table_len, len - 1)
		table[i] = qs;
	kvfree(st->table);
	st->table = table;
	st->table_len = len;
}

/*
 * Allocate the quantum set at @index and link it into the index, in order
 * into the list, and into the table when it reaches or can grow to @index.
 * Caller holds the lock for writing.
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
	if (index < st->table_len)
		st->table[index] = qs;
	else
		scull_table_grow(st, index);
	return qs;

out_free_data:
	kvfree(qs->data);
out_free_qset:
	kfree(qs);
	return ERR_PTR(-ENOMEM);
}

/*
 * Unlink and free an empty quantum set, and the table with the last set (a
 * write undone leaves nothing behind).  Caller holds the lock for writing.
 */
static void scull_qset_free(struct scull_store *st, struct scull_qset *qs)
{
	if (st->hint == qs)
		st->hint = NULL;
	if (qs->index < st->table_len)
		st->table[qs->index] = NULL;
	xa_erase(&st->index, qs->index);
	list_del(&qs->node);
	kvfree(qs->data);
	kfree(qs);
	if (!--st->nr_qsets)
		scull_table_free(st);
}

/*
 * The quantum set at @index, or NULL for one never written: the table's
 * entry when the table reaches it; past it, the store's hint when it is
 * that set, else a walk of the index (which becomes the hint).  Caller
 * holds the lock, for reading at least.
 */
static struct scull_qset *scull_qset_lookup(struct scull_store *st,
					    unsigned long index)
{
	struct scull_qset *qs;

	if (likely(index < st->table_len))
		return st->table[index];
	qs = READ_ONCE(st->hint);
	if (qs && qs->index == index)
		return qs;
	qs = xa_load(&st->index, index);
	if (qs)
		WRITE_ONCE(st->hint, qs);
	return qs;
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
		*cache = scull_qset_lookup(st, p->qs);
	return *cache;
}

/*
 * The quantum that holds @p, allocated (zeroed) with its set when missing;
 * *@fresh tells whether it was.  -ENOSPC when the store's budget has no
 * room for a missing one.  Caller holds the lock for writing.
 */
static void *scull_quantum_get(struct scull_store *st,
			       struct scull_qset **cache,
			       const struct scull_pos *p, bool *fresh)
{
	struct scull_qset *qs = scull_qset_find(st, cache, p);
	void *quantum;

	*fresh = false;
	if (!qs) {
		qs = scull_qset_alloc(st, p->qs);
		if (IS_ERR(qs))
			return qs;
		*cache = qs;
	}
	quantum = qs->data[p->q];
	if (quantum)
		return quantum;
	/* charged first, so stores sharing the budget never overshoot it */
	if (st->budget && !scull_budget_charge(st->budget, st->quantum))
		return ERR_PTR(-ENOSPC);
	quantum = scull_quantum_alloc(st);
	if (!quantum) {
		if (st->budget)
			scull_budget_uncharge(st->budget, st->quantum);
		return ERR_PTR(-ENOMEM);
	}
	qs->data[p->q] = quantum;
	qs->nr_quanta++;
	st->nr_quanta++;
	*fresh = true;
	return quantum;
}

/*
 * A write step at @p stored nothing: free what it allocated -- the quantum
 * when @fresh, and its set when that leaves the set empty -- so a failed
 * write leaves the store as it found it.  @qs is the set the step found or
 * made, if any.  Caller holds the lock for writing.
 *
 * A fresh quantum may have been mapped meanwhile: the writer's own faults
 * on a mapping of this store are served under the lock it holds (mmap.c),
 * and one of its source pages may lie in the quantum it is filling.  Its
 * copy then got at least that page's bytes, so it is not undone; but no
 * page is freed while mapped, so the quantum's range is unmapped first
 * all the same (private copies, which are their mappings' own, stay).
 */
static void scull_write_undo(struct scull_store *st, struct scull_qset *qs,
			     const struct scull_pos *p, bool fresh)
{
	if (!qs || qs->index != p->qs)
		return;
	if (fresh) {
		if (st->mapping && atomic_read(&st->mappings))
			unmap_mapping_range(st->mapping,
					    (loff_t)p->qs * scull_qset_bytes(st) +
					    p->in_qset - p->off, st->quantum, 0);
		scull_quantum_free(st, qs->data[p->q]);
		qs->data[p->q] = NULL;
		qs->nr_quanta--;
		st->nr_quanta--;
	}
	if (!qs->nr_quanta)
		scull_qset_free(st, qs);
}

/*
 * Between two steps of a walk over the store under its lock (SEEK_DATA,
 * SEEK_HOLE, the NOWAIT write's range check), which a small geometry can
 * make millions of steps long: once every SCULL_WALK_BATCH steps, give
 * way, and stop for a fatal signal, as the copies do.
 */
#define SCULL_WALK_BATCH	1024

static bool scull_walk_stop(unsigned int *steps)
{
	if (++*steps % SCULL_WALK_BATCH)
		return false;
	if (fatal_signal_pending(current))
		return true;
	cond_resched();
	return false;
}

/*
 * Whether every quantum of [@pos, @pos + @count) exists.  A write that must
 * not sleep (IOCB_NOWAIT) goes ahead only then: it stores all its bytes or,
 * having stored none, returns -EAGAIN for a retry that may allocate.
 */
static bool scull_range_present(struct scull_store *st, loff_t pos,
				size_t count)
{
	struct scull_qset *qs = NULL;
	unsigned int steps = 0;
	struct scull_pos p;

	scull_pos_decode(st, pos, &p);
	while (count) {
		size_t chunk = min_t(size_t, st->quantum - p.off, count);

		if (!scull_qset_find(st, &qs, &p) || !qs->data[p.q])
			return false;
		if (scull_walk_stop(&steps))
			return false;
		scull_pos_advance(st, &p, chunk);
		count -= chunk;
	}
	return true;
}

/*
 * Between two chunks of a long copy: once every SCULL_COPY_BATCH bytes
 * moved (*@batch counts them), give way, and stop for a fatal signal only,
 * as regular files do (filemap_read() once per batch of folios,
 * generic_perform_write()): a handled signal does not shorten a transfer.
 * Called with bytes moved and more to move.
 */
static __always_inline bool scull_copy_stop(size_t *batch, size_t copied)
{
	*batch += copied;
	if (*batch < SCULL_COPY_BATCH)
		return false;
	*batch = 0;
	if (fatal_signal_pending(current))
		return true;
	cond_resched();
	return false;
}

/*
 * The general read: any number of bytes from @pos, across quanta and sets,
 * zeros for holes, pausing once per SCULL_COPY_BATCH bytes.  Out of line, so the one-quantum
 * read in scull_store_read() keeps a small frame.
 */
static noinline ssize_t scull_store_read_span(struct scull_store *st,
					      struct iov_iter *to, loff_t pos)
{
	struct scull_qset *qs = NULL;
	size_t done = 0, batch = 0;
	struct scull_pos p;

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
		if (copied < chunk)
			return done ? done : -EFAULT;
		if (iov_iter_count(to) && scull_copy_stop(&batch, copied))
			break;
	}
	return done;
}

/**
 * scull_store_read() - copy stored bytes from @pos into @to
 * @st: the store, locked for reading
 * @to: where the bytes go; its count is the most to copy
 * @pos: the offset of the first byte
 *
 * Holes read as zeros.  Never allocates.  Copies everything up to the size
 * in one call unless the destination faults or the task is being killed.
 *
 * Return: bytes copied (0 at or past the size), or -EFAULT when nothing
 * was copied.
 */
ssize_t scull_store_read(struct scull_store *st, struct iov_iter *to,
			 loff_t pos)
{
	struct scull_qset *qs;
	struct scull_pos p;
	size_t count, copied;
	void *quantum;

	lockdep_assert_held(&st->rwsem);

	if (pos >= st->size)
		return 0;
	count = iov_iter_count(to);
	if (count > st->size - pos) {
		count = st->size - pos;
		iov_iter_truncate(to, count);
	}
	scull_pos_decode(st, pos, &p);
	if (unlikely(count > st->quantum - p.off))
		return scull_store_read_span(st, to, pos);

	/* within one quantum, the common case: one lookup, one copy */
	if (!count)
		return 0;
	qs = scull_qset_lookup(st, p.qs);
	quantum = qs ? qs->data[p.q] : NULL;
	copied = quantum ? scull_copy_to_iter(st, quantum, p.off, count, to) :
			   iov_iter_zero(count, to);
	return copied ? copied : -EFAULT;
}

/* Bytes up to @end are stored now: the data's end, and the size, follow. */
static void scull_store_grow(struct scull_store *st, loff_t end)
{
	if (end > st->data_end) {
		st->data_end = end;
		st->size = max(end, st->capacity);
	}
}

/**
 * scull_store_page() - the page that holds byte @pos, for a mapping
 * @st: the store, locked for writing with @alloc, for reading at least
 *	without; its quantum is a whole number of pages
 * @pos: the offset, page aligned
 * @alloc: allocate the quantum (zeroed) when it is a hole, as a write
 *	would; the end of the data then covers the page
 *
 * Mappings never grow the store: a page at or past the size (or at a
 * negative @pos) is refused.
 *
 * Return: the page, on which the caller takes a reference before it lets
 * go of the lock; NULL for a hole without @alloc; ERR_PTR(-EFAULT) at or
 * past the size, -ENOSPC when the budget has no room for the quantum,
 * -ENOMEM.
 */
struct page *scull_store_page(struct scull_store *st, loff_t pos, bool alloc)
{
	struct scull_qset *qs = NULL;
	struct scull_pos p;
	void *quantum;
	bool fresh;

	lockdep_assert_held(&st->rwsem);

	if (pos < 0 || pos >= st->size)
		return ERR_PTR(-EFAULT);
	scull_pos_decode(st, pos, &p);
	if (alloc) {
		quantum = scull_quantum_get(st, &qs, &p, &fresh);
		if (IS_ERR(quantum)) {
			scull_write_undo(st, qs, &p, false);
			return quantum;
		}
		scull_store_grow(st, min_t(loff_t, pos + PAGE_SIZE, st->size));
	} else {
		qs = scull_qset_lookup(st, p.qs);
		quantum = qs ? qs->data[p.q] : NULL;
		if (!quantum)
			return NULL;
	}
	if (!st->quantum_order)
		return quantum;
	if (scull_quantum_is_virt(st, quantum))
		return vmalloc_to_page(quantum + p.off);
	return virt_to_page(quantum + p.off);
}

/*
 * The general write: the bytes of @from from @pos, across quanta and sets,
 * allocating what is missing, pausing as the read does.  Out of line, as the
 * general read is.
 */
static noinline ssize_t scull_store_write_span(struct scull_store *st,
					       struct iov_iter *from,
					       loff_t pos, bool *faulted)
{
	struct scull_qset *qs = NULL;
	size_t done = 0, batch = 0;
	ssize_t err = 0;
	struct scull_pos p;
	bool fresh;

	scull_pos_decode(st, pos, &p);
	while (iov_iter_count(from)) {
		size_t chunk, copied;
		void *quantum;

		quantum = scull_quantum_get(st, &qs, &p, &fresh);
		if (IS_ERR(quantum)) {
			err = PTR_ERR(quantum);
			scull_write_undo(st, qs, &p, false);
			break;
		}
		chunk = min_t(size_t, st->quantum - p.off,
			      iov_iter_count(from));
		copied = scull_copy_from_iter(st, quantum, p.off, chunk, from);
		if (!copied)
			scull_write_undo(st, qs, &p, fresh);
		scull_pos_advance(st, &p, copied);
		done += copied;
		pos += copied;
		if (copied < chunk) {
			err = -EFAULT;
			if (faulted)
				*faulted = true;
			break;
		}
		if (iov_iter_count(from) && scull_copy_stop(&batch, copied))
			break;
	}
	if (!done)
		return err;
	scull_store_grow(st, pos);
	return done;
}

/**
 * scull_store_write() - store the bytes of @from at @pos
 * @st: the store, locked for writing
 * @from: the bytes; its count is how many to store
 * @pos: the offset of the first byte
 * @nowait: the caller must not sleep in the allocator (IOCB_NOWAIT)
 * @faulted: when not NULL, set to true when the copy stopped at a source
 *	byte it could not read (left as it is otherwise)
 *
 * Allocates the quantum sets and quanta it needs, zeroed.  Stores all the
 * bytes in one call unless the size limit (or the capacity of a
 * fixed-capacity store), the store's budget (a quantum it has no room
 * for), the source faulting, a failed
 * allocation or the task being killed stops it; the size then grows only
 * by the bytes stored, and what was allocated for no byte is freed again.
 * With @nowait it stores everything or nothing: when anything would have
 * to be allocated it returns -EAGAIN at once.
 *
 * Return: bytes stored, or when none were: -ENOSPC at or past the limit
 * (the capacity) or with the budget spent,
 * -EFAULT, -ENOMEM or -EAGAIN.
 */
ssize_t scull_store_write(struct scull_store *st, struct iov_iter *from,
			  loff_t pos, bool nowait, bool *faulted)
{
	struct scull_qset *qs;
	struct scull_pos p;
	size_t count, copied;
	void *quantum;
	loff_t end;

	lockdep_assert_held_write(&st->rwsem);

	count = iov_iter_count(from);
	if (!count)
		return 0;
	end = st->capacity ?: st->limit;
	if (pos >= end)
		return -ENOSPC;
	if (count > end - pos) {
		count = end - pos;
		iov_iter_truncate(from, count);
	}
	scull_pos_decode(st, pos, &p);
	if (likely(count <= st->quantum - p.off)) {
		/* into one quantum already there, the common case: one copy */
		qs = scull_qset_lookup(st, p.qs);
		quantum = qs ? qs->data[p.q] : NULL;
		if (quantum) {
			copied = scull_copy_from_iter(st, quantum, p.off,
						      count, from);
			if (copied < count && faulted)
				*faulted = true;
			if (!copied)
				return -EFAULT;
			scull_store_grow(st, pos + copied);
			return copied;
		}
	}
	if (nowait && !scull_range_present(st, pos, count))
		return -EAGAIN;
	return scull_store_write_span(st, from, pos, faulted);
}

/**
 * scull_store_seek_data() - the first offset at or after @pos that is data
 * @st: the store, locked for reading
 * @pos: where to start, not negative
 *
 * Data is every quantum ever written, below the size.
 *
 * Return: the offset, -ENXIO when there is no data from @pos on, or -EINTR
 * when a fatal signal stopped a long walk.
 */
loff_t scull_store_seek_data(struct scull_store *st, loff_t pos)
{
	u64 qset_bytes = scull_qset_bytes(st);
	u64 size = st->size, start = pos;
	unsigned int steps = 0;
	struct scull_qset *qs;
	struct scull_pos p;
	unsigned long idx;

	lockdep_assert_held(&st->rwsem);

	while (start < size) {
		if (scull_walk_stop(&steps))
			return -EINTR;
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
		start = ((u64)idx + 1) * qset_bytes;
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
 * Return: the offset, which is at most the size, or -EINTR when a fatal
 * signal stopped a long walk.
 */
loff_t scull_store_seek_hole(struct scull_store *st, loff_t pos)
{
	u64 qset_bytes = scull_qset_bytes(st);
	u64 size = st->size, start = pos;
	unsigned int steps = 0;
	struct scull_qset *qs;
	struct scull_pos p;

	lockdep_assert_held(&st->rwsem);

	while (start < size) {
		if (scull_walk_stop(&steps))
			return -EINTR;
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
		start = ((u64)p.qs + 1) * qset_bytes;
	}
	return size;
}
