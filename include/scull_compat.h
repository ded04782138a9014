/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scull: the one place where the kernels scull supports (6.1 and later)
 * differ.  Everything else in src/ is written once for all of them.
 */
#ifndef _SCULL_COMPAT_H
#define _SCULL_COMPAT_H

#include <linux/device.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/uio.h>
#include <linux/version.h>

/* 6.4: class_create() lost its owner argument. */
#if KERNEL_VERSION(6, 4, 0) > LINUX_VERSION_CODE
#define scull_class_create(name)	class_create(THIS_MODULE, name)
#else
#define scull_class_create(name)	class_create(name)
#endif

/*
 * 6.5: generic_file_splice_read() went; copy_splice_read() reads through
 * ->read_iter into freshly allocated pipe pages, as the old helper did for
 * any file without a page cache.
 */
#if KERNEL_VERSION(6, 5, 0) > LINUX_VERSION_CODE
#define scull_splice_read		generic_file_splice_read
#else
#define scull_splice_read		copy_splice_read
#endif

/* 6.3: a VMA's flags change through vm_flags_set() only. */
#if KERNEL_VERSION(6, 3, 0) > LINUX_VERSION_CODE
#define scull_vm_flags_set(vma, flags)	((vma)->vm_flags |= (flags))
#else
#define scull_vm_flags_set(vma, flags)	vm_flags_set(vma, flags)
#endif

/*
 * 6.5: a fault may hold the VMA's lock instead of mmap_lock; the handler
 * that returns VM_FAULT_RETRY lets go of whichever it holds.
 */
#if KERNEL_VERSION(6, 5, 0) > LINUX_VERSION_CODE
#define scull_release_fault_lock(vmf)	mmap_read_unlock((vmf)->vma->vm_mm)
#else
#define scull_release_fault_lock(vmf)	release_fault_lock(vmf)
#endif

/* 6.4: an iov_iter's user address is iter_iov_addr() (its iovec __iov) */
#if KERNEL_VERSION(6, 4, 0) > LINUX_VERSION_CODE
static inline void __user *scull_iter_addr(const struct iov_iter *i)
{
	if (iter_is_ubuf(i))
		return i->ubuf + i->iov_offset;
	return i->iov->iov_base + i->iov_offset;
}
#else
#define scull_iter_addr(i)		iter_iov_addr(i)
#endif

/*
 * A 32-bit kernel maps a driver's file only below ULONG_MAX bytes (4 GiB,
 * file_mmap_size_max()) unless the VFS takes its offsets as unsigned, as
 * /dev/mem's: an f_mode bit set at open until 6.12, a flag of the
 * file_operations since.  rw_verify_area() then lets a negative position,
 * or one whose end passes LLONG_MAX, through: fops.c refuses those itself
 * (scull_pos_ok()).  A 64-bit kernel needs neither.
 */
#if BITS_PER_LONG == 32
#define SCULL_UNSIGNED_OFFSETS		1
#else
#define SCULL_UNSIGNED_OFFSETS		0
#endif
#if SCULL_UNSIGNED_OFFSETS && !defined(FOP_UNSIGNED_OFFSET)
#define SCULL_FMODE_UNSIGNED_OFFSET	FMODE_UNSIGNED_OFFSET
#else
#define SCULL_FMODE_UNSIGNED_OFFSET	((__force fmode_t)0)
#endif
#if SCULL_UNSIGNED_OFFSETS && defined(FOP_UNSIGNED_OFFSET)
#define SCULL_FOP_FLAGS			FOP_UNSIGNED_OFFSET
#else
#define SCULL_FOP_FLAGS			0
#endif

#endif /* _SCULL_COMPAT_H */
