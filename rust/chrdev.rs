// SPDX-License-Identifier: GPL-2.0

//! A char device region with a cdev and a device node per minor.
//!
//! Linux 7.2's Rust API has no cdev abstraction (`MiscDevice` has one minor
//! per registration, no llseek and no per-registration data), so this is
//! scull's own small wrapper over `kernel::bindings`: every `unsafe` block of
//! the twin's registration and file operations is here, each with the
//! reason it is sound.  The rest of the module sees a safe trait,
//! [`Operations`], implemented by the data behind each minor.
//!
//! As in the C driver (src/main.c): a region of minors from
//! `alloc_chrdev_region()` (or `register_chrdev_region()` for a fixed
//! major), a class, and per minor a cdev added after its data is ready and
//! a device in the class named by the caller, so udev makes the node.

use core::marker::PhantomData;
use kernel::{
    bindings,
    error::{from_err_ptr, to_result},
    iov::{IovIterDest, IovIterSource},
    prelude::*,
    seq_file::SeqFile,
    str::CString,
    types::Opaque,
};

/// `include/linux/fs.h`: `FMODE_ATOMIC_POS`, a cast bindgen does not
/// translate.  The VFS then serialises `f_pos` updates of a file shared
/// between threads, as for a regular file.
const FMODE_ATOMIC_POS: u32 = 1 << 15;
/// `include/linux/fs.h`: `FMODE_NOWAIT`: the file takes `IOCB_NOWAIT`
/// (RWF_NOWAIT, io_uring's non-blocking attempt).
const FMODE_NOWAIT: u32 = 1 << 27;
/// `include/linux/fs.h`: `IOCB_NOWAIT`, which is `RWF_NOWAIT` of
/// `include/uapi/linux/fs.h` (0x08).
const IOCB_NOWAIT: i32 = 0x08;
/// `include/linux/fs.h`: `IOCB_APPEND`, which is `RWF_APPEND` of
/// `include/uapi/linux/fs.h` (0x10), a cast bindgen does not translate.
const IOCB_APPEND: i32 = 0x10;

/// A sysfs attribute of every device of the registration.
pub(crate) struct Attr {
    /// Its file name.
    pub(crate) name: &'static CStr,
    /// Whether root may write it (mode 0644, else 0444).
    pub(crate) writable: bool,
}

/// What an open file on one minor does; implemented by that minor's data.
///
/// The file position is the file's own (`f_pos`, `ki_pos`): every open has
/// its own, as for a regular file.
pub(crate) trait Operations: Send + Sync + Sized + 'static {
    /// A file is being opened with open(2) flags `flags`.
    fn open(&self, flags: u32) -> Result;
    /// Read into `dest` from `*pos`, and advance `*pos` by what was read;
    /// with `nowait`, EAGAIN rather than sleep.
    fn read(&self, pos: &mut i64, nowait: bool, dest: &mut IovIterDest<'_>) -> Result<usize>;
    /// Write `src` at `*pos`, or at the end with `append`, and leave `*pos`
    /// after the last byte written; with `nowait`, EAGAIN rather than
    /// sleep.
    fn write(
        &self,
        pos: &mut i64,
        append: bool,
        nowait: bool,
        src: &mut IovIterSource<'_>,
    ) -> Result<usize>;
    /// The new position for lseek(2) from `cur` (the file's position).
    fn llseek(&self, cur: i64, off: i64, whence: u32) -> Result<i64>;
    /// An ioctl(2) on the file.
    fn ioctl(&self, cmd: u32, arg: usize) -> Result<isize>;
    /// The sysfs attributes of each device.
    const ATTRS: &'static [Attr];
    /// The value of `ATTRS[index]`, shown as a decimal number.
    fn attr_show(&self, index: usize) -> Result<i64>;
    /// A write of `text` to `ATTRS[index]`, a writable one.
    fn attr_store(&self, index: usize, text: &[u8]) -> Result;
    /// The lines of this device, the `index`-th, in the /proc files.
    fn proc_show(&self, index: usize, m: &SeqFile) -> Result;
}

// proc_fs.h is not among the headers the 7.2 bindings are generated from;
// these are its exported functions (fs/proc/generic.c), declared as there.
unsafe extern "C" {
    fn proc_create_single_data(
        name: *const c_char,
        mode: bindings::umode_t,
        parent: *mut c_void,
        show: Option<unsafe extern "C" fn(*mut bindings::seq_file, *mut c_void) -> c_int>,
        data: *mut c_void,
    ) -> *mut c_void;
    fn proc_create_seq_private(
        name: *const c_char,
        mode: bindings::umode_t,
        parent: *mut c_void,
        ops: *const bindings::seq_operations,
        state_size: c_uint,
        data: *mut c_void,
    ) -> *mut c_void;
    fn remove_proc_entry(name: *const c_char, parent: *mut c_void);
}

/// What the /proc files show: the nodes of a registration.
///
/// # Invariants
///
/// `nodes` points at `count` nodes that outlive the /proc files (the
/// registration removes them first, and `remove_proc_entry()` waits for
/// their readers to leave).
struct ProcData<T: Operations> {
    nodes: *const Pin<KBox<Node<T>>>,
    count: usize,
}

/// The /proc files of a registration: `<name>mem`, read in one go
/// (`single_open`), and `<name>seq`, a `seq_file` iterator with a step per
/// device, both made root's alone (0400), as the C driver's (src/proc.c).
struct ProcFiles<T: Operations> {
    mem: CString,
    seq: CString,
    ops: KBox<bindings::seq_operations>,
    data: KBox<ProcData<T>>,
    made: u32,
}

/// One minor: its cdev, and the data its files use.
///
/// # Invariants
///
/// `cdev` was initialised by `cdev_init()` with the registration's file
/// operations; the node never moves (it lives in a `Pin<KBox>`).
#[repr(C)]
struct Node<T> {
    cdev: Opaque<bindings::cdev>,
    data: T,
}

/// A registered region of minors with a class, each minor a cdev and a
/// device of the class.  Dropping it removes every node, the class and the
/// region, in that order.
///
/// # Invariants
///
/// - `devt` is the first of `count` minors registered to this
///   registration, unless `count` is 0.
/// - `class` is null or a class this registration created.
/// - Every node in `nodes`, the `i`-th at minor `devt + i`, has its cdev
///   added and a device created in `class`.
/// - `fops` is not changed after the first node is added, and outlives
///   every file opened on a node: each such file holds a reference to
///   `fops.owner`, the module this registration belongs to, so the module's
///   exit (and this drop) waits until every file is closed.
pub(crate) struct Registration<T: Operations> {
    devt: bindings::dev_t,
    count: u32,
    class: *mut bindings::class,
    nodes: KVec<Pin<KBox<Node<T>>>>,
    fops: KBox<bindings::file_operations>,
    attrs: Attrs,
    proc: Option<ProcFiles<T>>,
    _t: PhantomData<T>,
}

/// The attribute group of every device, built from `T::ATTRS`.
///
/// # Invariants
///
/// `groups` points at `group`, which points at `ptrs`, which point into
/// `dattrs`; none of the vectors grows after `Attrs::new`, so the
/// pointers stay valid while the `Attrs` lives.
// the fields are held for the addresses sysfs keeps, never read here
#[allow(dead_code)]
struct Attrs {
    dattrs: KVec<bindings::device_attribute>,
    ptrs: KVec<*mut bindings::attribute>,
    group: KBox<bindings::attribute_group>,
    groups: KVec<*const bindings::attribute_group>,
}

impl Attrs {
    fn new<T: Operations>() -> Result<Self> {
        let n = T::ATTRS.len();
        let mut dattrs = KVec::with_capacity(n, GFP_KERNEL)?;
        for a in T::ATTRS {
            let mut d: bindings::device_attribute = pin_init::zeroed();
            d.attr.name = a.name.as_char_ptr();
            d.attr.mode = if a.writable { 0o644 } else { 0o444 };
            d.__bindgen_anon_1.show = Some(attr_show::<T>);
            if a.writable {
                d.__bindgen_anon_2.store = Some(attr_store::<T>);
            }
            dattrs.push(d, GFP_KERNEL)?;
        }
        let mut ptrs = KVec::with_capacity(n + 1, GFP_KERNEL)?;
        for d in dattrs.iter_mut() {
            ptrs.push(&raw mut d.attr, GFP_KERNEL)?;
        }
        ptrs.push(core::ptr::null_mut(), GFP_KERNEL)?;
        let mut group: bindings::attribute_group = pin_init::zeroed();
        group.__bindgen_anon_2.attrs = ptrs.as_mut_ptr();
        let group = KBox::new(group, GFP_KERNEL)?;
        let mut groups = KVec::with_capacity(2, GFP_KERNEL)?;
        groups.push(&raw const *group, GFP_KERNEL)?;
        groups.push(core::ptr::null(), GFP_KERNEL)?;
        Ok(Self {
            dattrs,
            ptrs,
            group,
            groups,
        })
    }
}

// SAFETY: the raw pointers are of the class and the file operations this
// registration owns; the kernel functions that take them may be called
// from any thread.
unsafe impl<T: Operations> Send for Registration<T> {}
// SAFETY: no method of `&self` touches the raw pointers.
unsafe impl<T: Operations> Sync for Registration<T> {}

impl<T: Operations> Registration<T> {
    /// Register `data.len()` minors from `major:first_minor` (a dynamic
    /// major when `major` is 0), named `name` in /proc/devices, with a
    /// class `name`; the device of the `i`-th is named `name` followed by
    /// `i` (scull0, scull1, ...).  On failure nothing stays registered.
    pub(crate) fn new(
        module: &'static ThisModule,
        name: &'static CStr,
        major: u32,
        first_minor: u32,
        data: KVec<T>,
    ) -> Result<Self> {
        let count = u32::try_from(data.len())?;
        let mut fops: bindings::file_operations = pin_init::zeroed();
        fops.owner = module.as_ptr();
        fops.open = Some(open::<T>);
        fops.read_iter = Some(read_iter::<T>);
        fops.write_iter = Some(write_iter::<T>);
        fops.llseek = Some(llseek::<T>);
        fops.unlocked_ioctl = Some(ioctl::<T>);
        fops.compat_ioctl = Some(ioctl::<T>);
        // like a regular file: always ready, fsync has nothing to do,
        // splice and sendfile through read_iter and write_iter
        fops.poll = Some(poll);
        fops.fsync = Some(bindings::noop_fsync);
        fops.splice_read = Some(bindings::copy_splice_read);
        fops.splice_write = Some(bindings::iter_file_splice_write);
        let mut reg = Self {
            devt: 0,
            count: 0,
            class: core::ptr::null_mut(),
            nodes: KVec::with_capacity(data.len(), GFP_KERNEL)?,
            fops: KBox::new(fops, GFP_KERNEL)?,
            attrs: Attrs::new::<T>()?,
            proc: None,
            _t: PhantomData,
        };

        let mut devt: bindings::dev_t = 0;
        let err = if major != 0 {
            devt = mkdev(major, first_minor);
            // SAFETY: `name` is a NUL-terminated string that lives for the
            // module's life, as the region's name must.
            unsafe { bindings::register_chrdev_region(devt, count, name.as_char_ptr()) }
        } else {
            // SAFETY: `devt` is a valid place for the result; `name` as
            // above.
            unsafe {
                bindings::alloc_chrdev_region(&mut devt, first_minor, count, name.as_char_ptr())
            }
        };
        if let Err(e) = to_result(err) {
            pr_err!(
                "cannot get major {}, minors {}-{}: {}\n",
                major,
                first_minor,
                first_minor + count - 1,
                e.to_errno()
            );
            return Err(e);
        }
        // INVARIANT: the region is ours from here; drop unregisters it.
        reg.devt = devt;
        reg.count = count;

        // SAFETY: `name` is a NUL-terminated string that outlives the
        // class (the class is destroyed in drop, before the module goes).
        reg.class = from_err_ptr(unsafe { bindings::class_create(name.as_char_ptr()) })?;

        for (i, d) in data.into_iter().enumerate() {
            let i = i as u32;
            let node = KBox::pin(
                Node {
                    cdev: Opaque::uninit(),
                    data: d,
                },
                GFP_KERNEL,
            )?;
            let devt = devt + i;
            let cdev = node.cdev.get();
            let node_name = CString::try_from_fmt(fmt!("{}{}", name.to_str()?, i))?;
            // SAFETY: `cdev` is the node's, pinned, and not yet in use;
            // `reg.fops` lives in its box as long as the registration.
            unsafe {
                bindings::cdev_init(cdev, &*reg.fops);
                (*cdev).owner = module.as_ptr();
            }
            // SAFETY: `cdev` was initialised above; the node's data is
            // ready before the cdev becomes reachable by open(2).
            to_result(unsafe { bindings::cdev_add(cdev, devt, 1) })?;
            // SAFETY: `reg.class` is the class created above; the
            // attribute groups live as long as the registration, which
            // destroys the device first; the device's driver data is the
            // node's data, pinned, which outlives the device likewise; the
            // format "%s" takes the one string argument given, which lives
            // until `device_create_with_groups()` has copied it.
            let dev = unsafe {
                bindings::device_create_with_groups(
                    reg.class,
                    core::ptr::null_mut(),
                    devt,
                    (&raw const node.data).cast_mut().cast(),
                    reg.attrs.groups.as_mut_ptr(),
                    c"%s".as_char_ptr(),
                    node_name.as_char_ptr(),
                )
            };
            if let Err(e) = from_err_ptr(dev) {
                // SAFETY: the cdev was added above.  No node exists for it
                // yet (udev makes it from the device that failed here), so
                // no open file holds the node being freed.
                unsafe { bindings::cdev_del(cdev) };
                pr_err!("cannot add {}: {}\n", &*node_name, e.to_errno());
                return Err(e);
            }
            // INVARIANT: the node has its cdev added and its device
            // created; drop removes both.  The room was reserved above, so
            // this push does not allocate and cannot fail.
            if let Err(e) = reg.nodes.push_within_capacity(node) {
                // SAFETY: both were made just above, and the node (in the
                // error) is still alive here.
                unsafe {
                    bindings::device_destroy(reg.class, devt);
                    bindings::cdev_del(cdev);
                }
                drop(e);
                return Err(ENOMEM);
            }
        }
        reg.proc = Some(ProcFiles::new(name, &reg.nodes)?);
        Ok(reg)
    }

    /// The first device number of the region.
    pub(crate) fn devt(&self) -> bindings::dev_t {
        self.devt
    }

    /// The data of every minor, in order.
    pub(crate) fn data(&self) -> impl Iterator<Item = &T> {
        self.nodes.iter().map(|n| &n.data)
    }
}

impl<T: Operations> Drop for Registration<T> {
    fn drop(&mut self) {
        // the /proc files first: they show the nodes
        self.proc = None;
        for (i, node) in self.nodes.iter().enumerate().rev() {
            // SAFETY: by the type invariants the node's device exists in
            // `class` at this number and its cdev is added.  The module
            // holds no open file here (each holds a module reference), so
            // nothing uses the cdev once it is deleted.
            unsafe {
                bindings::device_destroy(self.class, self.devt + i as u32);
                bindings::cdev_del(node.cdev.get());
            }
        }
        self.nodes.clear();
        if !self.class.is_null() {
            // SAFETY: the class is ours and has no device left.
            unsafe { bindings::class_destroy(self.class) };
        }
        if self.count != 0 {
            // SAFETY: the region is ours and no cdev uses it any more.
            unsafe { bindings::unregister_chrdev_region(self.devt, self.count) };
        }
    }
}

/// `MKDEV()` of `include/linux/kdev_t.h`, a macro bindgen does not see.
pub(crate) const fn mkdev(major: u32, minor: u32) -> bindings::dev_t {
    (major << bindings::MINORBITS) | minor
}

/// `MAJOR()` of `include/linux/kdev_t.h`.
pub(crate) const fn major(devt: bindings::dev_t) -> u32 {
    devt >> bindings::MINORBITS
}

/// The data of the minor an open file is on.
///
/// # Safety
///
/// `file` must be a file opened by [`open`] of this `T`, not yet released.
unsafe fn data_of<'a, T: Operations>(file: *mut bindings::file) -> &'a T {
    // SAFETY: `open` set `private_data` to the node's data, which outlives
    // every open file (see the invariants of `Registration`).
    unsafe { &*(*file).private_data.cast::<T>() }
}

/// # Safety
///
/// Called by the VFS only, for an inode of one of the registration's nodes
/// and a file being opened on it.
unsafe extern "C" fn open<T: Operations>(
    inode: *mut bindings::inode,
    file: *mut bindings::file,
) -> c_int {
    // SAFETY: `chrdev_open()` set `i_cdev` (in a union with the fields of
    // other inode types: this one is a char device's) to the cdev it found for this
    // device number, one of ours, and holds a reference to it.
    let cdev = unsafe { (*inode).__bindgen_anon_5.i_cdev };
    // SAFETY: every cdev with these file operations is the `cdev` field of
    // a `Node<T>` (`Opaque` is transparent), which outlives the open file.
    let node =
        unsafe { &*kernel::container_of!(cdev.cast::<Opaque<bindings::cdev>>(), Node<T>, cdev) };
    // SAFETY: the file is being opened: nothing else uses these fields.
    let flags = unsafe {
        (*file).private_data = (&raw const node.data).cast_mut().cast();
        (*file).f_mode |= FMODE_ATOMIC_POS | FMODE_NOWAIT;
        (*file).f_flags
    };
    match node.data.open(flags) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// Called by the VFS only, for a file opened by [`open`] and an iterator
/// to copy into.
unsafe extern "C" fn read_iter<T: Operations>(
    kiocb: *mut bindings::kiocb,
    iter: *mut bindings::iov_iter,
) -> isize {
    // SAFETY: the VFS gives a valid kiocb, ours alone for this call.
    let kiocb = unsafe { &mut *kiocb };
    // SAFETY: its file was opened by `open`.
    let data = unsafe { data_of::<T>(kiocb.ki_filp) };
    // SAFETY: a valid iterator of the destination, for this call.
    let dest = unsafe { IovIterDest::from_raw(iter) };
    let nowait = kiocb.ki_flags & IOCB_NOWAIT != 0;
    match data.read(&mut kiocb.ki_pos, nowait, dest) {
        Ok(n) => n as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// # Safety
///
/// Called by the VFS only, for a file opened by [`open`] and an iterator
/// to copy from.
unsafe extern "C" fn write_iter<T: Operations>(
    kiocb: *mut bindings::kiocb,
    iter: *mut bindings::iov_iter,
) -> isize {
    // SAFETY: the VFS gives a valid kiocb, ours alone for this call.
    let kiocb = unsafe { &mut *kiocb };
    // SAFETY: its file was opened by `open`.
    let data = unsafe { data_of::<T>(kiocb.ki_filp) };
    // SAFETY: a valid iterator of the source, for this call.
    let src = unsafe { IovIterSource::from_raw(iter) };
    let append = kiocb.ki_flags & IOCB_APPEND != 0;
    let nowait = kiocb.ki_flags & IOCB_NOWAIT != 0;
    match data.write(&mut kiocb.ki_pos, append, nowait, src) {
        Ok(n) => n as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// # Safety
///
/// Called by the VFS only, for a file opened by [`open`].
unsafe extern "C" fn llseek<T: Operations>(
    file: *mut bindings::file,
    off: bindings::loff_t,
    whence: c_int,
) -> bindings::loff_t {
    // SAFETY: the file was opened by `open`.
    let data = unsafe { data_of::<T>(file) };
    // SAFETY: the VFS holds the file's position lock where it is shared
    // (FMODE_ATOMIC_POS), so reading it here is as `generic_file_llseek`'s.
    let cur = unsafe { (*file).f_pos };
    match data.llseek(cur, off, whence as u32) {
        // SAFETY: `file` is valid; `vfs_setpos()` checks the bound.
        Ok(pos) => unsafe { bindings::vfs_setpos(file, pos, i64::MAX) },
        Err(e) => bindings::loff_t::from(e.to_errno()),
    }
}

/// `EPOLLIN | EPOLLRDNORM | EPOLLOUT | EPOLLWRNORM` of
/// `include/uapi/linux/eventpoll.h`, casts bindgen does not translate.
const POLL_READY: bindings::__poll_t = 0x1 | 0x40 | 0x4 | 0x100;

/// A memory device, like a regular file, is always readable and writable.
///
/// # Safety
///
/// Called by the VFS only; it touches neither argument.
unsafe extern "C" fn poll(
    _file: *mut bindings::file,
    _wait: *mut bindings::poll_table_struct,
) -> bindings::__poll_t {
    POLL_READY
}

/// # Safety
///
/// Called by the VFS only, for a file opened by [`open`].
unsafe extern "C" fn ioctl<T: Operations>(
    file: *mut bindings::file,
    cmd: c_uint,
    arg: c_ulong,
) -> c_long {
    // SAFETY: the file was opened by `open`.
    let data = unsafe { data_of::<T>(file) };
    match data.ioctl(cmd, arg) {
        Ok(n) => n as c_long,
        Err(e) => e.to_errno() as c_long,
    }
}

/// The index in `T::ATTRS` of the attribute `attr`, and the data of its
/// device.
///
/// # Safety
///
/// `dev` must be a device of a `Registration<T>` and `attr` one of its
/// attributes, as sysfs passes them to a show or store callback.
unsafe fn attr_of<'a, T: Operations>(
    dev: *mut bindings::device,
    attr: *mut bindings::device_attribute,
) -> Option<(&'a T, usize)> {
    // SAFETY: the device's driver data is its node's data (set by
    // `device_create_with_groups()`), alive while the device is.
    let data = unsafe { &*(*dev).driver_data.cast::<T>() };
    // SAFETY: `attr` is one of the attributes `Attrs::new` made.
    let name = unsafe { (*attr).attr.name };
    let index = T::ATTRS.iter().position(|a| a.name.as_char_ptr() == name)?;
    Some((data, index))
}

/// # Safety
///
/// Called by sysfs only, for an attribute of a device of the registration,
/// with a page-sized buffer.
unsafe extern "C" fn attr_show<T: Operations>(
    dev: *mut bindings::device,
    attr: *mut bindings::device_attribute,
    buf: *mut c_char,
) -> isize {
    // SAFETY: as the caller promises.
    let Some((data, index)) = (unsafe { attr_of::<T>(dev, attr) }) else {
        return EINVAL.to_errno() as isize;
    };
    match data.attr_show(index) {
        // SAFETY: `buf` is the page sysfs gave; "%lld\n" takes one long
        // long.
        Ok(v) => unsafe {
            bindings::sysfs_emit(buf, c"%lld\n".as_char_ptr(), v as c_longlong) as isize
        },
        Err(e) => e.to_errno() as isize,
    }
}

/// # Safety
///
/// Called by sysfs only, for a writable attribute of a device of the
/// registration, with `count` bytes at `buf`.
unsafe extern "C" fn attr_store<T: Operations>(
    dev: *mut bindings::device,
    attr: *mut bindings::device_attribute,
    buf: *const c_char,
    count: usize,
) -> isize {
    // SAFETY: as the caller promises.
    let Some((data, index)) = (unsafe { attr_of::<T>(dev, attr) }) else {
        return EINVAL.to_errno() as isize;
    };
    // SAFETY: sysfs gives `count` readable bytes at `buf` for this call.
    let text = unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), count) };
    match data.attr_store(index, text) {
        Ok(()) => count as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// Whether the calling task has `CAP_SYS_ADMIN`.
pub(crate) fn capable_sys_admin() -> bool {
    // SAFETY: `capable()` may be called from any process context.
    unsafe { bindings::capable(bindings::CAP_SYS_ADMIN as i32) }
}

impl<T: Operations> ProcFiles<T> {
    /// Make `<name>mem` and `<name>seq` for `nodes`, which must not move
    /// or change while the files exist (a full `KVec` of boxed nodes that
    /// outlives them).
    fn new(name: &CStr, nodes: &KVec<Pin<KBox<Node<T>>>>) -> Result<Self> {
        let mut ops: bindings::seq_operations = pin_init::zeroed();
        ops.start = Some(seq_start::<T>);
        ops.next = Some(seq_next::<T>);
        ops.stop = Some(seq_stop);
        ops.show = Some(seq_show::<T>);
        let mut files = Self {
            mem: CString::try_from_fmt(fmt!("{}mem", name.to_str()?))?,
            seq: CString::try_from_fmt(fmt!("{}seq", name.to_str()?))?,
            ops: KBox::new(ops, GFP_KERNEL)?,
            // INVARIANT: the caller keeps the nodes in place while the
            // files exist; drop removes the files first.
            data: KBox::new(
                ProcData {
                    nodes: nodes.as_ptr(),
                    count: nodes.len(),
                },
                GFP_KERNEL,
            )?,
            made: 0,
        };
        let data = (&raw const *files.data).cast_mut().cast::<c_void>();
        // SAFETY: the name is copied by proc; `data` outlives the entry
        // (dropping `files` removes the entry before freeing it).
        let mem = unsafe {
            proc_create_single_data(
                files.mem.as_char_ptr(),
                0o400,
                core::ptr::null_mut(),
                Some(mem_show::<T>),
                data,
            )
        };
        if mem.is_null() {
            return Err(ENOMEM);
        }
        files.made = 1;
        // SAFETY: as above; `ops` lives in its box as long as the entry.
        let seq = unsafe {
            proc_create_seq_private(
                files.seq.as_char_ptr(),
                0o400,
                core::ptr::null_mut(),
                &*files.ops,
                0,
                data,
            )
        };
        if seq.is_null() {
            return Err(ENOMEM);
        }
        files.made = 2;
        Ok(files)
    }
}

impl<T: Operations> Drop for ProcFiles<T> {
    fn drop(&mut self) {
        if self.made == 2 {
            // SAFETY: the entry is ours; this waits for its readers.
            unsafe { remove_proc_entry(self.seq.as_char_ptr(), core::ptr::null_mut()) };
        }
        if self.made >= 1 {
            // SAFETY: as above.
            unsafe { remove_proc_entry(self.mem.as_char_ptr(), core::ptr::null_mut()) };
        }
    }
}

/// The data of the /proc file a `seq_file` reads.
///
/// # Safety
///
/// `m` must be a `seq_file` of one of the entries [`ProcFiles`] made, in
/// one of its callbacks.
unsafe fn proc_data_of<'a, T: Operations>(m: *mut bindings::seq_file) -> &'a ProcData<T> {
    // SAFETY: the seq_file's file is open on the entry's proc inode, which
    // holds the entry's data in `i_private` (`pde_data()`, an inline
    // function of proc_fs.h); `ProcFiles::new` gave a `ProcData<T>` that
    // outlives the entry.
    unsafe { &*(*(*(*m).file).f_inode).i_private.cast::<ProcData<T>>() }
}

/// The data of the `index`-th node, if there is one.
fn proc_node<T: Operations>(data: &ProcData<T>, index: usize) -> Option<&T> {
    if index >= data.count {
        return None;
    }
    // SAFETY: `nodes` holds `count` nodes that outlive the /proc files
    // (the type invariants of `ProcData`).
    let node: &Pin<KBox<Node<T>>> = unsafe { &*data.nodes.add(index) };
    Some(&node.data)
}

/// The show of `<name>mem`: every device.  (`single_open()` passes
/// `(void *)1` as the record: the data is the entry's.)
///
/// # Safety
///
/// Called by `single_open`'s seq_file of the `<name>mem` entry only.
unsafe extern "C" fn mem_show<T: Operations>(m: *mut bindings::seq_file, _v: *mut c_void) -> c_int {
    // SAFETY: as the caller promises.
    let data = unsafe { proc_data_of::<T>(m) };
    // SAFETY: `m` is valid for this call.
    let file = unsafe { SeqFile::from_raw(m) };
    for i in 0..data.count {
        if let Some(node) = proc_node(data, i) {
            if let Err(e) = node.proc_show(i, file) {
                return e.to_errno();
            }
        }
    }
    0
}

/// # Safety
///
/// Called by seq_file only, for the `<name>seq` entry.
unsafe extern "C" fn seq_start<T: Operations>(
    m: *mut bindings::seq_file,
    pos: *mut bindings::loff_t,
) -> *mut c_void {
    // SAFETY: as the caller promises.
    let data = unsafe { proc_data_of::<T>(m) };
    // SAFETY: `pos` is valid for this call.
    let index = unsafe { *pos };
    match usize::try_from(index) {
        // the record is the index plus one, never null
        Ok(i) if i < data.count => (i + 1) as *mut c_void,
        _ => core::ptr::null_mut(),
    }
}

/// # Safety
///
/// As [`seq_start`].
unsafe extern "C" fn seq_next<T: Operations>(
    m: *mut bindings::seq_file,
    _v: *mut c_void,
    pos: *mut bindings::loff_t,
) -> *mut c_void {
    // SAFETY: `pos` is valid for this call.
    unsafe { *pos += 1 };
    // SAFETY: as the caller promises.
    unsafe { seq_start::<T>(m, pos) }
}

/// # Safety
///
/// As [`seq_start`]; it has nothing to release.
unsafe extern "C" fn seq_stop(_m: *mut bindings::seq_file, _v: *mut c_void) {}

/// # Safety
///
/// As [`seq_start`], with `v` a record it returned.
unsafe extern "C" fn seq_show<T: Operations>(m: *mut bindings::seq_file, v: *mut c_void) -> c_int {
    // SAFETY: as the caller promises.
    let data = unsafe { proc_data_of::<T>(m) };
    let index = (v as usize).wrapping_sub(1);
    // SAFETY: `m` is valid for this call.
    let file = unsafe { SeqFile::from_raw(m) };
    match proc_node(data, index).map(|node| node.proc_show(index, file)) {
        Some(Err(e)) => e.to_errno(),
        _ => 0,
    }
}
