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

use kernel::{prelude::*, sync::Mutex};

mod chrdev;
mod store;

use chrdev::{Operations, Registration};
use store::{Store, SEEK_CUR, SEEK_DATA, SEEK_END, SEEK_HOLE, SEEK_SET};

module! {
    type: ScullRs,
    name: "scull_rs",
    authors: ["The scull developers"],
    description: "LDD3's scull memory devices, in Rust",
    license: "GPL",
    params: {
        scull_major: u32 {
            default: 0,
            description: "Major number, 0 for a dynamic one (default 0)",
        },
        scull_minor: u32 {
            default: 0,
            description: "First minor number (default 0)",
        },
        scull_nr_devs: u32 {
            default: 4,
            description: "Devices scull0..scull<n-1> (default 4, at most 256)",
        },
        scull_quantum: u32 {
            default: 4096,
            description: "Bytes in a quantum (default 4096, at most 4 MiB)",
        },
        scull_qset: u32 {
            default: 512,
            description: "Quanta in a quantum set (default 512, at most 65536)",
        },
        scull_size_limit: u64 {
            default: 256 << 20,
            description: "Bytes one device may hold (default 256 MiB; a number of bytes, no K/M/G yet)",
        },
        scull_capacity: u64 {
            default: 0,
            description: "Fixed size of each device in bytes, at most scull_size_limit (default 0: file-like)",
        },
    },
}

/// `include/uapi/scull.h`
const SCULL_NR_DEVS_MAX: u32 = 256;
const SCULL_QUANTUM_MAX: u32 = 4 << 20;
const SCULL_QSET_MAX: u32 = 1 << 16;
const SCULL_QSET_BYTES_MAX: u64 = 1 << 30;
/// `MINORMASK` of `include/linux/kdev_t.h`
const MINORMASK: u32 = (1 << 20) - 1;
/// `CHRDEV_MAJOR_MAX` of `include/linux/fs.h`
const CHRDEV_MAJOR_MAX: u32 = 512;

/// The ioctls of `include/uapi/scull.h` this twin answers so far:
/// `_IO('k', n)` is `'k' << 8 | n`.
const SCULL_IOC_MAGIC: u32 = b'k' as u32;
const SCULL_IOCRESET: u32 = SCULL_IOC_MAGIC << 8;
const SCULL_IOCTQUANTUM: u32 = SCULL_IOC_MAGIC << 8 | 3;
const SCULL_IOCTQSET: u32 = SCULL_IOC_MAGIC << 8 | 4;
const SCULL_IOCQQUANTUM: u32 = SCULL_IOC_MAGIC << 8 | 7;
const SCULL_IOCQQSET: u32 = SCULL_IOC_MAGIC << 8 | 8;

/// open(2) flags of `include/uapi/asm-generic/fcntl.h`
const O_ACCMODE: u32 = 0o3;
const O_WRONLY: u32 = 0o1;
const O_TRUNC: u32 = 0o1000;
const O_APPEND: u32 = 0o2000;
const O_DIRECT: u32 = 0o40000;

/// A memory device: its bytes, behind a lock.
struct ScullDev {
    store: Pin<KBox<Mutex<Store>>>,
}

impl ScullDev {
    /// The store, locked; with `nowait`, EAGAIN when that would sleep.
    fn lock(&self, nowait: bool) -> Result<kernel::sync::MutexGuard<'_, Store>> {
        if nowait {
            self.store.try_lock().ok_or(EAGAIN)
        } else {
            Ok(self.store.lock())
        }
    }
}

/// Check a geometry as `scull_geometry_check()` does (src/storage.c).
fn geometry_ok(quantum: u64, qset: u64) -> bool {
    (1..=u64::from(SCULL_QUANTUM_MAX)).contains(&quantum)
        && (1..=u64::from(SCULL_QSET_MAX)).contains(&qset)
        && quantum * qset <= SCULL_QSET_BYTES_MAX
}

/// A byte count with an optional K, M or G suffix (powers of 1024) and an
/// optional newline, as `scull_parse_size()` takes it; at most
/// `i64::MAX`.
fn parse_size(text: &[u8]) -> Result<i64> {
    let text = text.strip_suffix(b"\n").unwrap_or(text);
    let (digits, shift) = match text.last() {
        Some(b'k' | b'K') => (&text[..text.len() - 1], 10),
        Some(b'm' | b'M') => (&text[..text.len() - 1], 20),
        Some(b'g' | b'G') => (&text[..text.len() - 1], 30),
        _ => (text, 0),
    };
    if digits.is_empty() {
        return Err(EINVAL);
    }
    let mut n: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return Err(EINVAL);
        }
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(i64::from(c - b'0')))
            .ok_or(EINVAL)?;
    }
    n.checked_mul(1 << shift).ok_or(EINVAL)
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
        let store = self.store.lock();
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
        let capacity = parse_size(text)?;
        self.store.lock().set_capacity(capacity)
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
            self.store.lock().trim();
        }
        Ok(())
    }

    fn read(
        &self,
        pos: &mut i64,
        nowait: bool,
        dest: &mut kernel::iov::IovIterDest<'_>,
    ) -> Result<usize> {
        let n = self.lock(nowait)?.read(*pos, dest)?;
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
        let mut store = self.lock(nowait)?;
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
            SEEK_END => self.store.lock().size().checked_add(off).ok_or(EINVAL),
            SEEK_DATA | SEEK_HOLE => {
                let store = self.store.lock();
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
        match cmd {
            SCULL_IOCQQUANTUM => Ok(self.store.lock().quantum() as isize),
            SCULL_IOCQQSET => Ok(self.store.lock().qset() as isize),
            SCULL_IOCRESET | SCULL_IOCTQUANTUM | SCULL_IOCTQSET => {
                if !chrdev::capable_sys_admin() {
                    return Err(EPERM);
                }
                let mut store = self.store.lock();
                let (quantum, qset) = match cmd {
                    SCULL_IOCTQUANTUM => (arg as u64, store.qset() as u64),
                    SCULL_IOCTQSET => (store.quantum() as u64, arg as u64),
                    _ => (
                        u64::from(*module_parameters::scull_quantum.value()),
                        u64::from(*module_parameters::scull_qset.value()),
                    ),
                };
                if !geometry_ok(quantum, qset) {
                    return Err(EINVAL);
                }
                store.set_geometry(quantum as usize, qset as usize)?;
                Ok(0)
            }
            _ => Err(ENOTTY),
        }
    }
}

struct ScullRs {
    reg: Registration<ScullDev>,
}

impl kernel::Module for ScullRs {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let major = *module_parameters::scull_major.value();
        let minor = *module_parameters::scull_minor.value();
        let nr_devs = *module_parameters::scull_nr_devs.value();
        let quantum = *module_parameters::scull_quantum.value();
        let qset = *module_parameters::scull_qset.value();
        let limit = *module_parameters::scull_size_limit.value();
        let capacity = *module_parameters::scull_capacity.value();

        if major >= CHRDEV_MAJOR_MAX {
            pr_err!(
                "invalid scull_major={major}: expected an integer from 0 to {}\n",
                CHRDEV_MAJOR_MAX - 1
            );
            return Err(EINVAL);
        }
        if !(1..=SCULL_NR_DEVS_MAX).contains(&nr_devs) {
            pr_err!("invalid scull_nr_devs={nr_devs}: expected an integer from 1 to {SCULL_NR_DEVS_MAX}\n");
            return Err(EINVAL);
        }
        if minor > MINORMASK || minor + nr_devs - 1 > MINORMASK {
            pr_err!("invalid scull_minor={minor} with scull_nr_devs={nr_devs}: minors from there end past {MINORMASK}\n");
            return Err(EINVAL);
        }
        if !geometry_ok(u64::from(quantum), u64::from(qset)) {
            pr_err!("invalid scull_quantum={quantum} with scull_qset={qset}: a quantum set may span at most {SCULL_QSET_BYTES_MAX} bytes\n");
            return Err(EINVAL);
        }
        if limit < 1 || limit > i64::MAX as u64 {
            pr_err!(
                "invalid scull_size_limit={limit}: expected a size from 1 to {} bytes\n",
                i64::MAX
            );
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
                    store: KBox::pin_init(kernel::new_mutex!(store), GFP_KERNEL)?,
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
        let quanta: usize = self.reg.data().map(|d| d.store.lock().nr_quanta()).sum();
        pr_info!("unloading: {quanta} quanta freed\n");
    }
}
