/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scull: private declarations shared by the files in src/.
 *
 * Minors, from scull_minor on: the memory devices scull0..N-1, the pipes
 * scullpipe0..P-1, then scullsingle, sculluid, scullwuid and scullpriv.
 * All are in one char region and one class, "scull".
 */
#ifndef _SCULL_H
#define _SCULL_H

#include <linux/atomic.h>
#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/rwsem.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/uio.h>
#include <linux/wait.h>
#include <linux/xarray.h>

#include "uapi/scull.h"

struct pid;
struct task_struct;
struct tty_struct;

#define SCULL_NAME		"scull"
/* scullsingle, sculluid, scullwuid, scullpriv */
#define SCULL_ACCESS_NR_DEVS	4

/**
 * struct scull_qset - one quantum set: LDD3's unit of the storage list
 * @data: @qset pointers (the owning store's) to quanta of @quantum bytes,
 *	each the quantum's address, or its struct page when the quantum is
 *	one page (&scull_store.quantum_order 0: maybe highmem, not mapped);
 *	a NULL entry is a quantum never written, which reads as zeros
 * @node: in &scull_store.qsets, ordered by @index
 * @index: the set covers bytes [@index, @index + 1) * quantum * qset
 * @nr_quanta: non-NULL entries in @data; never 0 outside a write in
 *	progress (a write that stores nothing frees what it allocated)
 */
struct scull_qset {
	void **data;
	struct list_head node;
	unsigned long index;
	unsigned int nr_quanta;
};

/**
 * struct scull_budget - the bytes of quanta several stores hold together,
 *	bounded: scullpriv's terminals share one
 * @used: bytes of the quanta allocated now by the stores that share it;
 *	charged before a quantum is allocated, given back when it is freed
 * @max: the most @used may reach; a write that needs a quantum past it
 *	stops there, as at a store's size limit (-ENOSPC when it stored
 *	nothing)
 */
struct scull_budget {
	atomic64_t used;
	u64 max;
};

/**
 * struct scull_store - the bytes of one scull memory device
 * @rwsem: readers share it; writes, trims and geometry changes hold it
 *	exclusively.  It protects every field below.  Only @quantum and
 *	@qset, single words written with WRITE_ONCE(), are also read without
 *	it (sysfs, the get and query ioctls); a 64-bit @size could tear on a
 *	32-bit kernel, so it never is.  Every wait for it is killable: as
 *	for a regular file, only a fatal signal ends one (never -EINTR).
 * @qsets: the quantum sets, ordered by index, as in LDD3
 * @index: the same sets by index: the ordered walks (the seeks, a new
 *	set's place in @qsets) and the lookups past @table_len, which take
 *	O(log n) steps however much is stored
 * @table: the sets below @table_len by index, NULL where none, so a lookup
 *	there is one load whatever is stored (a walk of @index takes one
 *	step more at 1 GiB than at 8 MiB).  The write that allocates a set
 *	past it grows it, to a power of two of at most SCULL_TABLE_MAX
 *	entries; when that allocation fails the lookups past it go to @index
 * @table_len: entries in @table
 * @hint: the set found last past @table_len, or NULL: sequential I/O stays
 *	in one set for quantum * qset bytes, and then needs no walk of
 *	@index.  Readers update it too, with WRITE_ONCE(), under the lock
 *	held for reading; it never points at a freed set, because sets are
 *	freed only under the lock held for writing, which clears it.
 * @size: what the device presents, in bytes: the larger of @data_end and
 *	@capacity
 * @data_end: end of the furthest write since the last trim
 * @capacity: 0 for a file-like device, which grows with its writes;
 *	otherwise the fixed size of the device, at most @limit, below which
 *	every byte reads (as zeros until written) and past which no write goes
 * @limit: @data_end never grows past this
 * @quantum: bytes in a quantum
 * @qset: quanta in a quantum set
 * @pow2: @quantum and @qset are both powers of two (the defaults): shifts
 *	replace divisions when an offset is located
 * @quantum_shift: log2(@quantum) when @pow2
 * @qset_shift: log2(@qset) when @pow2
 * @quantum_order: a quantum of whole pages comes from the page allocator
 *	as that many order-0 pages, contiguous, of a block of this order
 *	(vmalloc() when such a block is not to be had); any other quantum
 *	is kvmalloc()ed and this is -1
 * @default_quantum: the load-time @quantum, restored by SCULL_IOCRESET
 * @default_qset: the load-time @qset
 * @nr_quanta: quanta allocated
 * @nr_qsets: quantum sets allocated
 * @budget: shared with other stores, which together may hold at most its
 *	@max bytes of quanta; NULL (the default) for a store bounded by
 *	@limit alone.  Set before the first write and never changed.
 * @mapping: the device's one address_space, which every open file of it
 *	uses (mmap.c), so that a trim reaches every mapping; NULL for a
 *	store that cannot be mapped.  Set before the device is visible.
 * @map_lock: orders mmap() against geometry changes: mmap() checks that
 *	the quantum can be mapped and counts the mapping under it, a
 *	geometry change checks @mappings and applies under it.  A spinlock,
 *	not @rwsem: mmap() runs with mmap_lock held for writing, and a
 *	writer holds @rwsem while its copy faults, which takes mmap_lock.
 * @mappings: the store's mappings (VMAs); its geometry cannot change while
 *	there are any.  Raised from 0 only under @map_lock (mmap()); a copy
 *	of a mapping (fork, split, mremap) raises it from 1 or more, and
 *	munmap drops it, without a lock.
 * @writer: the task whose write() holds the lock now, copying with page
 *	faults enabled (a fault of that task on a mapping of this store is
 *	served without the lock, which it holds already), or NULL.  Set and
 *	cleared under the lock.
 *
 * Sets and quanta are allocated zeroed by the first write that touches
 * them; ranges never written are holes and read as zeros.
 */
struct scull_store {
	struct rw_semaphore rwsem;
	struct list_head qsets;
	struct xarray index;
	struct scull_qset **table;
	unsigned long table_len;
	struct scull_qset *hint;
	loff_t size;
	loff_t data_end;
	loff_t capacity;
	loff_t limit;
	unsigned int quantum;
	unsigned int qset;
	bool pow2;
	unsigned int quantum_shift;
	unsigned int qset_shift;
	int quantum_order;
	unsigned int default_quantum;
	unsigned int default_qset;
	unsigned long nr_quanta;
	unsigned long nr_qsets;
	struct scull_budget *budget;
	struct address_space *mapping;
	spinlock_t map_lock;	/* mmap() against geometry changes */
	atomic_t mappings;
	struct task_struct *writer;
};

/**
 * struct scull_dev - one memory device, /dev/scull<index>
 * @store: its bytes
 * @cdev: the character device; a child of @device, which it pins
 * @device: the device in /sys/class/scull; its release frees this struct
 * @index: n in scull<n>
 *
 * Allocated and made ready in full before cdev_device_add() makes it
 * visible; freed by @device's release once the last reference is gone.
 */
struct scull_dev {
	struct scull_store store;
	struct cdev cdev;
	struct device device;
	unsigned int index;
};

/**
 * struct scull_pipe - one pipe, /dev/scullpipe<index>: LDD3's scullpipe
 * @lock: protects every field from @buffer to @writer_opens.  Held while
 *	bytes are copied to or from user space, never while waiting for data
 *	or room.  @size, @len, @nwriters and @writer_opens change with
 *	WRITE_ONCE() and are also read without it (poll, wait conditions,
 *	which are checked again under the lock).
 * @inq: readers wait here for bytes, or for the last writer to leave
 * @outq: writers wait here for room
 * @buffer: the circular buffer, @size bytes
 * @size: bytes @buffer holds; a write of at most PIPE_BUF bytes, or of
 *	@size if that is smaller, is atomic (pipe(7)): its bytes go in
 *	together, never mixed with another's
 * @rp: where in @buffer the next byte to read sits
 * @len: bytes buffered, from @rp on, wrapping at @size
 * @nwriters: open files that may write
 * @writer_opens: writers opened so far; see struct scull_pipe_file.  64
 *	bits, so that it never wraps back to a reader's @writers_seen.  On
 *	a 32-bit kernel a lockless read may tear in the instant a writer's
 *	open carries into the high half (once in 2^32 opens): a poll then
 *	may misreport end of file once; a wait rechecks under the lock.
 * @atomic_waiters: writers asleep for room for a whole atomic write, until
 *	they hold @lock again; while any waits, the buffer does not shrink
 *	below their atomic size (-EBUSY).  Changed without @lock.
 * @async_queue: files that asked for SIGIO; fasync_helper() and
 *	kill_fasync() lock it themselves
 * @cdev: the character device; a child of @device, which it pins
 * @device: the device in /sys/class/scull; its release frees this struct
 * @index: n in scullpipe<n>
 *
 * Allocated, buffer included, and made ready in full before
 * cdev_device_add() makes it visible; freed by @device's release.
 */
struct scull_pipe {
	struct mutex lock;		/* the buffer and counts below */
	wait_queue_head_t inq;
	wait_queue_head_t outq;
	char *buffer;
	unsigned int size;
	unsigned int rp;
	unsigned int len;
	unsigned int nwriters;
	u64 writer_opens;
	atomic_t atomic_waiters;
	struct fasync_struct *async_queue;
	struct cdev cdev;
	struct device device;
	unsigned int index;
};

/**
 * struct scull_pipe_file - one open file of a pipe: its private_data
 * @pipe: the pipe
 * @writers_seen: the pipe's @writer_opens when the file was opened on an
 *	empty pipe with no writer, or one less when it found a writer or
 *	bytes.  A reader reaches end of file on an empty pipe with no writer
 *	only once @writer_opens differs from this: a file opened before any
 *	writer came waits for one, as a FIFO's reader does.
 */
struct scull_pipe_file {
	struct scull_pipe *pipe;
	u64 writers_seen;
};

/**
 * enum scull_access_rule - who may open an access-controlled device
 * @SCULL_ACCESS_SINGLE: one open file at a time (scullsingle)
 * @SCULL_ACCESS_UID: one user at a time, others -EBUSY (sculluid)
 * @SCULL_ACCESS_WUID: one user at a time, others wait (scullwuid)
 */
enum scull_access_rule {
	SCULL_ACCESS_SINGLE,
	SCULL_ACCESS_UID,
	SCULL_ACCESS_WUID,
};

/**
 * struct scull_access - a memory device with an open rule: scullsingle,
 *	sculluid or scullwuid
 * @mem: the memory device it is (its store, cdev, device and attributes)
 * @lock: protects @count and @owner.  Nothing sleeps under it; @count and
 *	@owner change with WRITE_ONCE() and scullwuid's wait condition also
 *	reads them without it, to be checked again under it.
 * @count: open files
 * @owner: the user whose files are open, while @count is not 0
 *	(sculluid, scullwuid)
 * @rule: who may open it
 * @wait: scullwuid's openers wait here until the device is free for them
 */
struct scull_access {
	struct scull_dev mem;
	spinlock_t lock;		/* @count, @owner */
	unsigned int count;
	kuid_t owner;
	enum scull_access_rule rule;
	wait_queue_head_t wait;
};

/**
 * struct scull_priv_store - the private memory device of one terminal
 * @store: its bytes, charged to &scull_priv.budget
 * @node: in &scull_priv.terminals
 * @tty: the controlling terminal, with a reference (tty_kref_get()) held
 *	for as long as this exists; with @session, the key
 * @session: the session that had @tty as its controlling terminal, with
 *	a reference (get_pid()) held as long
 * @users: open files; the last one to close frees this
 */
struct scull_priv_store {
	struct scull_store store;
	struct list_head node;
	struct tty_struct *tty;
	struct pid *session;
	unsigned int users;
};

/**
 * struct scull_priv - /dev/scullpriv: a memory device per controlling
 *	terminal
 * @lock: a mutex: protects @terminals, @nr_terminals and each entry's
 *	users; an entry is allocated (GFP_KERNEL) with it held
 * @terminals: the terminals' devices, struct scull_priv_store
 * @nr_terminals: entries in @terminals
 * @budget: the bytes all the terminals' stores may hold together
 *	(scull_priv_limit)
 * @cdev: the character device; a child of @device, which it pins
 * @device: the device in /sys/class/scull; its release frees this struct
 */
struct scull_priv {
	struct mutex lock;		/* @terminals and their users */
	struct list_head terminals;
	unsigned int nr_terminals;
	struct scull_budget budget;
	struct cdev cdev;
	struct device device;
};

/* main.c */
extern struct class *scull_class;
int scull_parse_size(const char *val, unsigned long long *n);
void scull_device_init(struct device *device, struct cdev *cdev,
		       dev_t devt, const struct file_operations *fops,
		       void (*release)(struct device *device));
void scull_device_released(void);
int scull_open_ready(void);

/* storage.c */
int scull_geometry_check(unsigned long quantum, unsigned long qset,
			 loff_t limit);
void scull_store_init(struct scull_store *st, unsigned int quantum,
		      unsigned int qset, loff_t limit, loff_t capacity);
void scull_store_trim(struct scull_store *st);
loff_t scull_store_size(struct scull_store *st);
int scull_store_set_geometry(struct scull_store *st, unsigned long quantum,
			     unsigned long qset);
int scull_store_set_capacity(struct scull_store *st, loff_t capacity);
ssize_t scull_store_read(struct scull_store *st, struct iov_iter *to,
			 loff_t pos);
ssize_t scull_store_write(struct scull_store *st, struct iov_iter *from,
			  loff_t pos, bool nowait, bool *faulted);
loff_t scull_store_seek_data(struct scull_store *st, loff_t pos);
loff_t scull_store_seek_hole(struct scull_store *st, loff_t pos);
struct page *scull_store_page(struct scull_store *st, loff_t pos, bool alloc);

/* mmap.c: mapping the memory devices */
int scull_mmap_init(void);
void scull_mmap_exit(void);
int scull_mmap_attach(struct scull_store *st);
void scull_mmap_detach(struct scull_store *st);
int scull_mmap(struct file *filp, struct vm_area_struct *vma);
bool scull_mmap_is_source(const struct iov_iter *from);

/* fops.c: the memory devices' handlers, shared with access.c */
extern const struct file_operations scull_fops;
int scull_open_store(struct file *filp, struct scull_store *st);
ssize_t scull_read(struct file *filp, char __user *buf, size_t count,
		   loff_t *ppos);
ssize_t scull_write(struct file *filp, const char __user *buf, size_t count,
		    loff_t *ppos);
ssize_t scull_read_iter(struct kiocb *iocb, struct iov_iter *to);
ssize_t scull_write_iter(struct kiocb *iocb, struct iov_iter *from);
loff_t scull_llseek(struct file *filp, loff_t off, int whence);
__poll_t scull_poll(struct file *filp, struct poll_table_struct *wait);

/* 6.12: flags of the file operations, unsigned offsets among them */
#ifdef FOP_UNSIGNED_OFFSET
#define SCULL_MEM_FOP_FLAGS	.fop_flags = SCULL_FOP_FLAGS,
#else
#define SCULL_MEM_FOP_FLAGS
#endif

/*
 * The memory devices' file operations but .open and .release, for
 * scull_fops and access.c's devices, which differ only in those two.
 */
#define SCULL_MEM_FOPS							\
	SCULL_MEM_FOP_FLAGS						\
	.owner		= THIS_MODULE,					\
	.read		= scull_read,					\
	.write		= scull_write,					\
	.read_iter	= scull_read_iter,				\
	.write_iter	= scull_write_iter,				\
	.llseek		= scull_llseek,					\
	.poll		= scull_poll,					\
	.fsync		= noop_fsync,					\
	.mmap		= scull_mmap,					\
	.splice_read	= scull_splice_read,				\
	.splice_write	= iter_file_splice_write,			\
	.unlocked_ioctl	= scull_ioctl,					\
	.compat_ioctl	= scull_compat_ioctl

/* ioctl.c */
long scull_ioctl(struct file *filp, unsigned int cmd, unsigned long arg);
long scull_compat_ioctl(struct file *filp, unsigned int cmd,
			unsigned long arg);

/* pipe.c */
int scull_pipes_alloc(dev_t first, unsigned int nr, unsigned int size);
int scull_pipes_add(void);
void scull_pipes_del(void);
void scull_pipes_put(void);

/* access.c */
int scull_access_alloc(dev_t first, unsigned int quantum, unsigned int qset,
		       loff_t limit, loff_t capacity, u64 priv_limit);
int scull_access_add(void);
void scull_access_del(void);
void scull_access_put(void);

/* proc.c */
int scull_proc_init(struct scull_dev **devs, unsigned int nr_devs);
void scull_proc_exit(void);

/* sysfs.c */
extern const struct attribute_group *scull_dev_groups[];

#endif /* _SCULL_H */
