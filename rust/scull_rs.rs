// SPDX-License-Identifier: GPL-2.0

//! scull_rs: the Rust twin of scull's memory devices.
//!
//! /dev/scull0 .. /dev/scull<N-1>, each a file held in RAM in quantum sets,
//! with the C driver's design (src/main.c, src/fops.c, src/storage.c): a
//! cdev per minor in the class "scull", so the same udev rule and node
//! names serve both drivers (which is also why only one of them can be
//! loaded at a time).  The registration and the file operations' entry
//! points are in `chrdev.rs`, the only place with `unsafe` code; the bytes
//! are kept by `store.rs`, in safe Rust.

use kernel::{
    prelude::*,
    seq_file::{seq_print, SeqFile},
    uaccess::{UserPtr, UserSlice},
};

mod chrdev;
mod params;
mod rwsem;
mod store;
mod task;

use chrdev::{Operations, Registration};
use params::scull_param;
use rwsem::{ReadGuard, RwSem, WriteGuard};
use store::{Store, SEEK_CUR, SEEK_DATA, SEEK_END, SEEK_HOLE, SEEK_SET};

module! {
    type: ScullRs,
    name: "scull_rs",
    authors: ["The scull developers"],
    description: "LDD3's scull memory devices, in Rust",
    license: "GPL",
}

// The parameters, checked when set (params.rs), shown in
// /sys/module/scull_rs/parameters/ as the C driver's in /sys/module/scull/.
scull_param!(
    scull_major,
    Uint,
    UINT_OPS,
    "uint",
    params::Uint::new(0, 0, CHRDEV_MAJOR_MAX - 1),
    "Major number, 0 for a dynamic one (default 0)"
);
scull_param!(
    scull_minor,
    Uint,
    UINT_OPS,
    "uint",
    params::Uint::new(0, 0, MINORMASK),
    "First minor number (default 0)"
);
scull_param!(
    scull_nr_devs,
    Uint,
    UINT_OPS,
    "uint",
    params::Uint::new(4, 1, SCULL_NR_DEVS_MAX),
    "Devices scull0..scull<n-1> (default 4, at most 256)"
);
scull_param!(
    scull_quantum,
    Uint,
    UINT_OPS,
    "uint",
    params::Uint::new(4096, 1, SCULL_QUANTUM_MAX),
    "Bytes in a quantum (default 4096, at most 4 MiB)"
);
scull_param!(
    scull_qset,
    Uint,
    UINT_OPS,
    "uint",
    params::Uint::new(512, 1, SCULL_QSET_MAX),
    "Quanta in a quantum set (default 512, at most 65536)"
);
scull_param!(
    scull_size_limit,
    Size,
    SIZE_OPS,
    "ullong",
    params::Size::new(256 << 20, 1),
    "Bytes one device may hold, K/M/G allowed (default 256M)"
);
scull_param!(
    scull_capacity,
    Size,
    SIZE_OPS,
    "ullong",
    params::Size::new(0, 0),
    "Fixed size of each device, K/M/G allowed, at most scull_size_limit (default 0: file-like, grows with writes)"
);

/// The C driver's version (`MODULE_VERSION`), in /sys/module/scull_rs/version.
#[link_section = ".modinfo"]
#[used(compiler)]
static MODINFO_VERSION: [u8; 14] = *b"version=1.0.0\0";

/// `include/uapi/scull.h`
const SCULL_NR_DEVS_MAX: u32 = 256;
const SCULL_QUANTUM_MAX: u32 = 4 << 20;
const SCULL_QSET_MAX: u32 = 1 << 16;
const SCULL_QSET_BYTES_MAX: u64 = 1 << 30;
/// `MINORMASK` of `include/linux/kdev_t.h`
const MINORMASK: u32 = (1 << 20) - 1;
/// `CHRDEV_MAJOR_MAX` of `include/linux/fs.h`
const CHRDEV_MAJOR_MAX: u32 = 512;

/// The ioctls of `include/uapi/scull.h`: `_IOC(dir, 'k', nr, size)` is
/// `dir << 30 | size << 16 | 'k' << 8 | nr` (`include/uapi/asm-generic/
/// ioctl.h`), with `size` that of an int for S, G and X.
const SCULL_IOC_MAGIC: u32 = b'k' as u32;
const IOC_WRITE: u32 = 1;
const IOC_READ: u32 = 2;
const fn scull_ioc(dir: u32, nr: u32) -> u32 {
    let size = if dir == 0 { 0 } else { 4 };
    dir << 30 | size << 16 | SCULL_IOC_MAGIC << 8 | nr
}
const SCULL_IOCRESET: u32 = scull_ioc(0, 0);
const SCULL_IOCSQUANTUM: u32 = scull_ioc(IOC_WRITE, 1);
const SCULL_IOCSQSET: u32 = scull_ioc(IOC_WRITE, 2);
const SCULL_IOCTQUANTUM: u32 = scull_ioc(0, 3);
const SCULL_IOCTQSET: u32 = scull_ioc(0, 4);
const SCULL_IOCGQUANTUM: u32 = scull_ioc(IOC_READ, 5);
const SCULL_IOCGQSET: u32 = scull_ioc(IOC_READ, 6);
const SCULL_IOCQQUANTUM: u32 = scull_ioc(0, 7);
const SCULL_IOCQQSET: u32 = scull_ioc(0, 8);
const SCULL_IOCXQUANTUM: u32 = scull_ioc(IOC_READ | IOC_WRITE, 9);
const SCULL_IOCXQSET: u32 = scull_ioc(IOC_READ | IOC_WRITE, 10);
const SCULL_IOCHQUANTUM: u32 = scull_ioc(0, 11);
const SCULL_IOCHQSET: u32 = scull_ioc(0, 12);

/// The most quantum sets the /proc files list per device, as src/proc.c.
const SCULL_PROC_QSETS: usize = 32;

/// open(2) flags of `include/uapi/asm-generic/fcntl.h`
const O_ACCMODE: u32 = 0o3;
const O_WRONLY: u32 = 0o1;
const O_TRUNC: u32 = 0o1000;
const O_APPEND: u32 = 0o2000;
const O_DIRECT: u32 = 0o40000;

/// A memory device: its bytes, behind a reader-writer lock whose waits
/// are killable, as the C driver's.
struct ScullDev {
    store: Pin<KBox<RwSem<Store>>>,
}

impl ScullDev {
    /// The store, shared; with `nowait`, EAGAIN when that would sleep.
    fn read_lock(&self, nowait: bool) -> Result<ReadGuard<'_, Store>> {
        if nowait {
            self.store.try_read().ok_or(EAGAIN)
        } else {
            self.store.read()
        }
    }

    /// The store, exclusive; with `nowait`, EAGAIN when that would sleep.
    fn write_lock(&self, nowait: bool) -> Result<WriteGuard<'_, Store>> {
        if nowait {
            self.store.try_write().ok_or(EAGAIN)
        } else {
            self.store.write()
        }
    }

    /// Set the quantum (`quantum`) or the qset to `val`, as the C driver's
    /// `scull_field_set()`: the value replaced, or EINVAL (out of range)
    /// or EBUSY (data stored).  With `old`, the value replaced is also
    /// written there; when that faults the change is undone (EFAULT).
    fn field_set(&self, quantum: bool, val: u64, old: Option<UserPtr>) -> Result<u32> {
        let mut store = self.store.write()?;
        let (q, s) = (store.quantum() as u64, store.qset() as u64);
        let (prev, new) = if quantum {
            (q, (val, s))
        } else {
            (s, (q, val))
        };
        if !geometry_ok(new.0, new.1) {
            return Err(EINVAL);
        }
        store.set_geometry(new.0 as usize, new.1 as usize)?;
        if let Some(old) = old {
            let mut w = UserSlice::new(old, core::mem::size_of::<i32>()).writer();
            if w.write(&(prev as i32)).is_err() {
                store.set_geometry(q as usize, s as usize)?;
                return Err(EFAULT);
            }
        }
        Ok(prev as u32)
    }
}

/// The int an S or X ioctl points at, widened as C's `unsigned long`
/// argument of `scull_field_set()` (a negative int fails the range check).
fn get_int(arg: usize) -> Result<u64> {
    let mut r = UserSlice::new(UserPtr::from_addr(arg), core::mem::size_of::<i32>()).reader();
    Ok(i64::from(r.read::<i32>()?) as u64)
}

/// Write `val` to the int a G ioctl points at.
fn put_int(arg: usize, val: usize) -> Result<isize> {
    let mut w = UserSlice::new(UserPtr::from_addr(arg), core::mem::size_of::<i32>()).writer();
    w.write(&(val as i32))?;
    Ok(0)
}

/// Check a geometry as `scull_geometry_check()` does (src/storage.c).
fn geometry_ok(quantum: u64, qset: u64) -> bool {
    (1..=u64::from(SCULL_QUANTUM_MAX)).contains(&quantum)
        && (1..=u64::from(SCULL_QSET_MAX)).contains(&qset)
        && quantum * qset <= SCULL_QSET_BYTES_MAX
}

impl Operations for ScullDev {
    const ATTRS: &'static [chrdev::Attr] = &[
        chrdev::Attr {
            name: c"size",
            writable: false,
        },
        chrdev::Attr {
            name: c"quantum",
            writable: false,
        },
        chrdev::Attr {
            name: c"qset",
            writable: false,
        },
        chrdev::Attr {
            name: c"size_limit",
            writable: false,
        },
        chrdev::Attr {
            name: c"capacity",
            writable: true,
        },
    ];

    fn attr_show(&self, index: usize) -> Result<i64> {
        let store = self.store.read()?;
        Ok(match index {
            0 => store.size(),
            1 => store.quantum() as i64,
            2 => store.qset() as i64,
            3 => store.limit(),
            _ => store.capacity(),
        })
    }

    fn attr_store(&self, index: usize, text: &[u8]) -> Result {
        if index != 4 {
            return Err(EINVAL);
        }
        let capacity = params::parse_size(text)?;
        self.store.write()?.set_capacity(capacity as i64)
    }

    fn proc_show(&self, index: usize, m: &SeqFile) -> Result {
        let store = self.store.read()?;
        seq_print!(
            m,
            "Device {}: qset {}, q {}, sz {}, limit {}, quanta {}\n",
            index,
            store.qset(),
            store.quantum(),
            store.size(),
            store.limit(),
            store.nr_quanta()
        );
        for (shown, (set, quanta)) in store.sets().enumerate() {
            if shown == SCULL_PROC_QSETS {
                seq_print!(
                    m,
                    "  ... {} more quantum sets\n",
                    store.nr_sets() - SCULL_PROC_QSETS
                );
                break;
            }
            seq_print!(m, "  qset {}: {} quanta\n", set, quanta);
        }
        Ok(())
    }

    fn open(&self, flags: u32) -> Result {
        // no direct I/O to a char device: refuse before a trim loses data
        if flags & O_DIRECT != 0 {
            return Err(EINVAL);
        }
        // write-only trims, as in LDD3, unless appending; O_TRUNC always
        let trims =
            flags & O_TRUNC != 0 || (flags & O_ACCMODE == O_WRONLY && flags & O_APPEND == 0);
        if trims {
            self.store.write()?.trim();
        }
        Ok(())
    }

    fn read(
        &self,
        pos: &mut i64,
        nowait: bool,
        dest: &mut kernel::iov::IovIterDest<'_>,
    ) -> Result<usize> {
        let n = self.read_lock(nowait)?.read(*pos, dest)?;
        *pos += n as i64;
        Ok(n)
    }

    fn write(
        &self,
        pos: &mut i64,
        append: bool,
        nowait: bool,
        src: &mut kernel::iov::IovIterSource<'_>,
    ) -> Result<usize> {
        let mut store = self.write_lock(nowait)?;
        let at = if append { store.size() } else { *pos };
        // without sleeping, store everything or nothing: no allocation
        if nowait && !store.range_present(at, src.len()) {
            return Err(EAGAIN);
        }
        let n = store.write(at, src)?;
        *pos = at + n as i64;
        Ok(n)
    }

    fn llseek(&self, cur: i64, off: i64, whence: u32) -> Result<i64> {
        match whence {
            SEEK_SET => Ok(off),
            SEEK_CUR => cur.checked_add(off).ok_or(EINVAL),
            SEEK_END => self.store.read()?.size().checked_add(off).ok_or(EINVAL),
            SEEK_DATA | SEEK_HOLE => {
                let store = self.store.read()?;
                if off < 0 || off >= store.size() {
                    Err(ENXIO)
                } else if whence == SEEK_DATA {
                    store.seek_data(off)
                } else {
                    Ok(store.seek_hole(off))
                }
            }
            _ => Err(EINVAL),
        }
    }

    fn ioctl(&self, cmd: u32, arg: usize) -> Result<isize> {
        let writes = matches!(
            cmd,
            SCULL_IOCRESET
                | SCULL_IOCSQUANTUM
                | SCULL_IOCSQSET
                | SCULL_IOCTQUANTUM
                | SCULL_IOCTQSET
                | SCULL_IOCXQUANTUM
                | SCULL_IOCXQSET
                | SCULL_IOCHQUANTUM
                | SCULL_IOCHQSET
        );
        if writes && !chrdev::capable_sys_admin() {
            return Err(EPERM);
        }
        let quantum = matches!(
            cmd,
            SCULL_IOCSQUANTUM | SCULL_IOCTQUANTUM | SCULL_IOCXQUANTUM | SCULL_IOCHQUANTUM
        );
        match cmd {
            SCULL_IOCRESET => {
                let mut store = self.store.write()?;
                let quantum = scull_quantum.get();
                let qset = scull_qset.get();
                store.set_geometry(quantum as usize, qset as usize)?;
                Ok(0)
            }
            SCULL_IOCSQUANTUM | SCULL_IOCSQSET => {
                let val = get_int(arg)?;
                self.field_set(quantum, val, None).map(|_| 0)
            }
            SCULL_IOCTQUANTUM | SCULL_IOCTQSET => {
                self.field_set(quantum, arg as u64, None).map(|_| 0)
            }
            SCULL_IOCGQUANTUM => put_int(arg, self.store.read()?.quantum()),
            SCULL_IOCGQSET => put_int(arg, self.store.read()?.qset()),
            SCULL_IOCQQUANTUM => Ok(self.store.read()?.quantum() as isize),
            SCULL_IOCQQSET => Ok(self.store.read()?.qset() as isize),
            SCULL_IOCXQUANTUM | SCULL_IOCXQSET => {
                let val = get_int(arg)?;
                self.field_set(quantum, val, Some(UserPtr::from_addr(arg)))
                    .map(|_| 0)
            }
            SCULL_IOCHQUANTUM | SCULL_IOCHQSET => self
                .field_set(quantum, arg as u64, None)
                .map(|prev| prev as isize),
            _ => Err(ENOTTY),
        }
    }
}

struct ScullRs {
    reg: Registration<ScullDev>,
}

impl kernel::Module for ScullRs {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let major = scull_major.get();
        let minor = scull_minor.get();
        let nr_devs = scull_nr_devs.get();
        let quantum = scull_quantum.get();
        let qset = scull_qset.get();
        let limit = scull_size_limit.get();
        let capacity = scull_capacity.get();

        // each parameter alone was checked when it was set
        if minor > MINORMASK || minor + nr_devs - 1 > MINORMASK {
            pr_err!("invalid scull_minor={minor} with scull_nr_devs={nr_devs}: {nr_devs} minors from there end past {MINORMASK}\n");
            return Err(EINVAL);
        }
        if !geometry_ok(u64::from(quantum), u64::from(qset)) {
            pr_err!("invalid scull_quantum={quantum} with scull_qset={qset}: a quantum set may span at most {SCULL_QSET_BYTES_MAX} bytes\n");
            return Err(EINVAL);
        }
        if capacity > limit {
            pr_err!("invalid scull_capacity={capacity}: above scull_size_limit={limit}\n");
            return Err(EINVAL);
        }

        let mut devs = KVec::with_capacity(nr_devs as usize, GFP_KERNEL)?;
        for _ in 0..nr_devs {
            let store = Store::new(
                quantum as usize,
                qset as usize,
                limit as i64,
                capacity as i64,
            );
            devs.push(
                ScullDev {
                    store: KBox::pin_init(
                        RwSem::new(store, c"scull_rs:store", kernel::static_lock_class!()),
                        GFP_KERNEL,
                    )?,
                },
                GFP_KERNEL,
            )?;
        }
        let reg = Registration::new(module, c"scull", major, minor, devs)?;
        pr_info!(
            "{nr_devs} devices (Rust), major {}, minors {minor}-{}, quantum {quantum}, qset {qset}, limit {limit} bytes, capacity {capacity} bytes\n",
            chrdev::major(reg.devt()),
            minor + nr_devs - 1
        );
        Ok(Self { reg })
    }
}

impl Drop for ScullRs {
    fn drop(&mut self) {
        // no file is open (each holds the module), so nothing waits here
        let quanta: usize = self
            .reg
            .data()
            .map(|d| d.store.read().map_or(0, |s| s.nr_quanta()))
            .sum();
        pr_info!("unloading: {quanta} quanta freed\n");
    }
}
