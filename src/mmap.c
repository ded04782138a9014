// SPDX-License-Identifier: GPL-2.0
/*
 * scull mmap: the memory devices' quanta mapped into user space, page by
 * page, as they are (LDD3 chapter 15, without its scullp's use-after-free).
 *
 * A device whose quantum is a whole number of pages can be mapped, shared
 * or private.  A fault finds the page that holds its offset in the store,
 * allocating the quantum when it is a hole inside the size, as a write
 * would; past the size it gets SIGBUS.  Mappings never grow the device.
 *
 * Every open file of a device uses the device's one address_space, an
 * inode of a small internal filesystem (as /dev/mem's and DRM's are), so
 * that a trim reaches every mapping of the device, whichever node it was
 * opened through.  A fault installs its page under the store's lock, held
 * for reading; a trim holds it for writing, removes every mapping's view of
 * the store (unmap_mapping_range()) and only then frees the quanta.  So no
 * page is freed while mapped; a page some other user holds (a pinned
 * buffer) lives on, with its reference, after the store lets it go.
 *
 * The store's lock is taken by faults, with mmap_lock (or the VMA's lock)
 * held, but only ever tried: when it is taken, the fault lets go of
 * mmap_lock, waits, and is retried (a fault that may not be retried, from
 * some get_user_pages() callers such as ptrace's, waits with mmap_lock
 * held).  mmap() takes no store lock.  read() copies with page faults
 * disabled and faults its buffer in with the lock let go (fops.c).  write()
 * copies with page faults disabled too; when its source is a mapping of a
 * scull device not all there it lets the lock go to fault it in, and
 * otherwise goes on with faults enabled under the lock (a fault there on
 * a mapping of the same device, from a later vector, is served under the
 * lock the writer holds).  So neither a copy into or from a mapping of
 * the device being read or written, nor two writers each copying from a
 * mapping of the other's device, nor mmap_lock, deadlocks.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/mount.h>
#include <linux/pagemap.h>
#include <linux/pseudo_fs.h>

#include "scull.h"
#include "scull_compat.h"

/* "scmm": the internal filesystem that holds the devices' address_spaces */
#define SCULL_MMAP_MAGIC	0x73636d6d

static struct vfsmount *scull_mmap_mnt;

static int scull_mmap_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, SCULL_MMAP_MAGIC) ? 0 : -ENOMEM;
}

/*
 * No .owner: the module mounts it at load and unmounts it at unload, so a
 * reference of its own to the module would keep it loaded for good.
 */
static struct file_system_type scull_mmap_fs_type = {
	.name			= "scull_mmap",
	.init_fs_context	= scull_mmap_init_fs_context,
	.kill_sb		= kill_anon_super,
};

/**
 * scull_mmap_init() - mount the filesystem of the devices' address_spaces
 *
 * Return: 0 or a negative errno.
 */
int scull_mmap_init(void)
{
	scull_mmap_mnt = kern_mount(&scull_mmap_fs_type);
	return PTR_ERR_OR_ZERO(scull_mmap_mnt);
}

/**
 * scull_mmap_exit() - unmount it, once every device is released
 */
void scull_mmap_exit(void)
{
	kern_unmount(scull_mmap_mnt);
}

/**
 * scull_mmap_attach() - give a store the address_space that makes it
 *	mappable
 * @st: the store, not yet visible
 *
 * Return: 0 or a negative errno.
 */
int scull_mmap_attach(struct scull_store *st)
{
	struct inode *inode = alloc_anon_inode(scull_mmap_mnt->mnt_sb);

	if (IS_ERR(inode))
		return PTR_ERR(inode);
	st->mapping = inode->i_mapping;
	return 0;
}

/**
 * scull_mmap_detach() - let the address_space go, with the store
 * @st: the store, which no file uses any more; may have none
 */
void scull_mmap_detach(struct scull_store *st)
{
	if (st->mapping)
		iput(st->mapping->host);
	st->mapping = NULL;
}

/* A copy of a mapping (fork, a split, mremap): one more to count. */
static void scull_vm_open(struct vm_area_struct *vma)
{
	struct scull_store *st = vma->vm_private_data;

	atomic_inc(&st->mappings);
}

static void scull_vm_close(struct vm_area_struct *vma)
{
	struct scull_store *st = vma->vm_private_data;

	atomic_dec(&st->mappings);
}

/*
 * Take the store's lock for a fault, shared or (@excl) alone, or tell how
 * the fault ends without it.  A fault holds mmap_lock (or the VMA's lock),
 * and a writer holds the store's lock while its copy faults, which may
 * need mmap_lock: so a fault never sleeps on the store's lock with mmap's
 * held.  When the lock is taken it lets go of mmap's, waits for the store's
 * (killably), and has the fault retried (VM_FAULT_RETRY), as filemap_fault()
 * does for a locked folio; the file reference keeps the device while it
 * waits.  Only a fault that may not be retried (some get_user_pages()
 * callers) waits with mmap_lock held.
 *
 * Return: 0 with the lock held, or VM_FAULT_RETRY or VM_FAULT_SIGBUS (a
 * fatal signal) without it.
 */
static vm_fault_t scull_fault_lock(struct vm_fault *vmf, struct scull_store *st,
				   bool excl)
{
	struct file *file;
	int err;

	if (excl ? down_write_trylock(&st->rwsem) : down_read_trylock(&st->rwsem))
		return 0;
	if (!(vmf->flags & FAULT_FLAG_ALLOW_RETRY)) {
		err = excl ? down_write_killable(&st->rwsem) :
			     down_read_killable(&st->rwsem);
		return err ? VM_FAULT_SIGBUS : 0;
	}
	if (vmf->flags & FAULT_FLAG_RETRY_NOWAIT)
		return VM_FAULT_RETRY;
	file = get_file(vmf->vma->vm_file);
	scull_release_fault_lock(vmf);
	if (excl) {
		if (!down_write_killable(&st->rwsem))
			up_write(&st->rwsem);
	} else if (!down_read_killable(&st->rwsem)) {
		up_read(&st->rwsem);
	}
	fput(file);
	return VM_FAULT_RETRY;
}

/*
 * Map @page (or the error for it) at the fault.  A shared mapping, and a
 * private one read, gets the store's page installed while the lock is
 * held, so that a trim, which takes the lock alone and then unmaps, never
 * misses it.  A private mapping's write gets a copy (the core makes it
 * from the page, which the reference keeps, and maps only the copy).
 *
 * Every error of the store is SIGBUS: past the size (-EFAULT), the budget
 * spent (-ENOSPC), and -ENOMEM too, which is the memory cgroup's limit
 * (its OOM killer has had its go in the charge already) or a fatal signal
 * in the allocator.  VM_FAULT_OOM (vmf_error(-ENOMEM)) would only have the
 * fault retried (pagefault_out_of_memory() kills nothing since 5.16, it
 * warns "VM_FAULT_OOM leaked out"), again and again while the cgroup is
 * full: a task spinning in its fault.  A write() there gets -ENOMEM; an
 * access through a mapping gets SIGBUS, as a file's mapping does when its
 * filesystem cannot allocate the page.
 */
static vm_fault_t scull_fault_map(struct vm_fault *vmf, struct page *page)
{
	struct vm_area_struct *vma = vmf->vma;
	int err;

	if (IS_ERR(page))
		return VM_FAULT_SIGBUS;
	if ((vmf->flags & FAULT_FLAG_WRITE) && !(vma->vm_flags & VM_SHARED)) {
		/*
		 * Locked under the store's lock, until the core has mapped its
		 * copy: a trim waits for that (scull_store_trim()), then
		 * removes the copy with the others, as a truncate does.
		 */
		get_page(page);
		lock_page(page);
		vmf->page = page;
		return VM_FAULT_LOCKED;
	}
	err = vm_insert_page(vma, vmf->address, page);
	/* -EBUSY: another thread's fault mapped it first */
	return !err || err == -EBUSY ? VM_FAULT_NOPAGE : vmf_error(err);
}

/*
 * The page at the fault's offset: looked up with the lock shared, and
 * allocated with it held alone when it is a hole.  A write() copying with
 * page faults enabled (its second pass, fops.c) from a mapping of its own
 * device holds the lock alone already: its faults are served under it.
 */
static vm_fault_t scull_vm_fault(struct vm_fault *vmf)
{
	struct scull_store *st = vmf->vma->vm_private_data;
	struct page *page;
	vm_fault_t ret;
	loff_t pos;

	/*
	 * A device's offsets are loff_t, but a char device may be mapped
	 * at any page offset below ULONG_MAX bytes (file_mmap_ok()): one
	 * at 2^63 or more would be a negative position, below every size.
	 */
	if ((u64)vmf->pgoff > (u64)LLONG_MAX >> PAGE_SHIFT)
		return VM_FAULT_SIGBUS;
	pos = (loff_t)vmf->pgoff << PAGE_SHIFT;
	if (READ_ONCE(st->writer) == current)
		return scull_fault_map(vmf, scull_store_page(st, pos, true));
	ret = scull_fault_lock(vmf, st, false);
	if (ret)
		return ret;
	page = scull_store_page(st, pos, false);
	if (!page) {
		up_read(&st->rwsem);
		ret = scull_fault_lock(vmf, st, true);
		if (ret)
			return ret;
		page = scull_store_page(st, pos, true);
		downgrade_write(&st->rwsem);
	}
	ret = scull_fault_map(vmf, page);
	up_read(&st->rwsem);
	return ret;
}

static const struct vm_operations_struct scull_vm_ops = {
	.open	= scull_vm_open,
	.close	= scull_vm_close,
	.fault	= scull_vm_fault,
};

/**
 * scull_mmap_is_source() - whether a copy from user space stopped at a
 *	mapping of a memory device
 * @from: the source, advanced to its first byte not copied
 *
 * Looks at the page of that byte and the next (a copy may stop a few bytes
 * short of the page that faulted).  Called by a writer that holds its
 * store's lock: mmap_lock is taken after it, as the writer's own faults
 * take it.
 *
 * Return: true when a mapping of a scull memory device (any) is there.
 */
bool scull_mmap_is_source(const struct iov_iter *from)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	unsigned long start, end;
	bool found = false;

	if (!mm || !user_backed_iter(from) || !iov_iter_count(from))
		return false;
	start = (unsigned long)scull_iter_addr(from) & PAGE_MASK;
	end = start + 2 * PAGE_SIZE;
	if (mmap_read_lock_killable(mm))
		return false;
	for (vma = find_vma_intersection(mm, start, end); vma;
	     vma = find_vma_intersection(mm, vma->vm_end, end)) {
		if (vma->vm_ops == &scull_vm_ops) {
			found = true;
			break;
		}
	}
	mmap_read_unlock(mm);
	return found;
}

/**
 * scull_mmap() - map a memory device
 * @filp: an open file of it
 * @vma: the new mapping
 *
 * Pages are mapped by the faults, one at a time.  The mapping is
 * VM_MIXEDMAP (it holds the store's own pages, counted), and left out of
 * core dumps, which would fault in every hole of it.
 *
 * Called with mmap_lock held for writing: the store's lock is not taken
 * here (a writer holds it while its copy faults, and a fault of a task of
 * this mm waits for mmap_lock), only the store's map_lock, which orders
 * the check of the quantum and the count of the mapping against a
 * geometry change.
 *
 * Return: 0, or -ENODEV for a device that cannot be mapped (a quantum that
 * is not a whole number of pages, or scullpriv).
 */
int scull_mmap(struct file *filp, struct vm_area_struct *vma)
{
	struct scull_store *st = filp->private_data;
	int err = 0;

	if (!st->mapping)
		return -ENODEV;
	spin_lock(&st->map_lock);
	if (st->quantum_order < 0)
		err = -ENODEV;
	else
		atomic_inc(&st->mappings);
	spin_unlock(&st->map_lock);
	if (err)
		return err;
	scull_vm_flags_set(vma, VM_MIXEDMAP | VM_DONTDUMP);
	vma->vm_ops = &scull_vm_ops;
	vma->vm_private_data = st;
	return 0;
}
