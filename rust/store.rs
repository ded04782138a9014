// SPDX-License-Identifier: GPL-2.0

//! The bytes of one memory device, in safe Rust: quantum sets of quanta,
//! allocated on first write, as in the C driver (src/storage.c).
//!
//! Offset `pos` lives in quantum set `pos / (quantum * qset)`, quantum
//! `(pos % (quantum * qset)) / quantum` of it, byte `pos % quantum` of that.
//! A quantum never written, or a set never written, is a hole: it reads as
//! zeros and is not data for SEEK_DATA.

use kernel::{
    iov::{IovIterDest, IovIterSource},
    prelude::*,
};

/// `SEEK_*` of `include/uapi/linux/fs.h`.
pub(crate) const SEEK_SET: u32 = 0;
pub(crate) const SEEK_CUR: u32 = 1;
pub(crate) const SEEK_END: u32 = 2;
pub(crate) const SEEK_DATA: u32 = 3;
pub(crate) const SEEK_HOLE: u32 = 4;

/// Zeros to copy out for holes, a page at a time.
static ZEROS: [u8; 4096] = [0; 4096];

/// The quanta of one set: `qset` entries, `None` for a hole.
struct QSet {
    quanta: KVec<Option<KVVec<u8>>>,
}

/// One device's bytes.
pub(crate) struct Store {
    quantum: usize,
    qset: usize,
    /// The sets by index; `None` for a set never written.
    sets: KVVec<Option<KBox<QSet>>>,
    /// The size: the furthest byte written, or the capacity when larger.
    size: i64,
    /// The most bytes it may hold.
    limit: i64,
    /// A fixed size (0: grows with writes, as a file).
    capacity: i64,
    /// The end of the furthest byte written.
    data_end: i64,
    /// Quanta allocated, for /proc and the tests.
    nr_quanta: usize,
}

/// Where an offset falls: set, quantum in it, byte in that.
struct Pos {
    set: usize,
    q: usize,
    off: usize,
}

impl Store {
    /// An empty store of that geometry (already checked).
    pub(crate) fn new(quantum: usize, qset: usize, limit: i64, capacity: i64) -> Self {
        Self {
            quantum,
            qset,
            sets: KVVec::new(),
            size: capacity,
            limit,
            capacity,
            data_end: 0,
            nr_quanta: 0,
        }
    }

    fn set_bytes(&self) -> u64 {
        self.quantum as u64 * self.qset as u64
    }

    fn decode(&self, pos: i64) -> Pos {
        let pos = pos as u64;
        let in_set = pos % self.set_bytes();
        Pos {
            set: (pos / self.set_bytes()) as usize,
            q: (in_set / self.quantum as u64) as usize,
            off: (in_set % self.quantum as u64) as usize,
        }
    }

    /// The quantum at `p`, if it was ever written.
    fn quantum_at(&self, p: &Pos) -> Option<&KVVec<u8>> {
        self.sets.get(p.set)?.as_ref()?.quanta.get(p.q)?.as_ref()
    }

    pub(crate) fn size(&self) -> i64 {
        self.size
    }

    pub(crate) fn capacity(&self) -> i64 {
        self.capacity
    }

    pub(crate) fn limit(&self) -> i64 {
        self.limit
    }

    /// Make the store fixed-capacity, or file-like with 0.  Offsets do not
    /// move: only the size changes, to `capacity` or back to the end of
    /// the data.  EINVAL above the limit, EBUSY below the end of the data.
    pub(crate) fn set_capacity(&mut self, capacity: i64) -> Result {
        if capacity < 0 || capacity > self.limit {
            return Err(EINVAL);
        }
        if capacity != 0 && capacity < self.data_end {
            return Err(EBUSY);
        }
        self.capacity = capacity;
        self.size = capacity.max(self.data_end);
        Ok(())
    }

    pub(crate) fn quantum(&self) -> usize {
        self.quantum
    }

    pub(crate) fn qset(&self) -> usize {
        self.qset
    }

    /// Quanta allocated now.
    pub(crate) fn nr_quanta(&self) -> usize {
        self.nr_quanta
    }

    /// Whether nothing is stored (the geometry may change).
    pub(crate) fn is_empty(&self) -> bool {
        self.nr_quanta == 0
    }

    /// Free every byte: the size goes back to the capacity (0 for a
    /// file-like store).
    pub(crate) fn trim(&mut self) {
        self.sets.clear();
        self.nr_quanta = 0;
        self.data_end = 0;
        self.size = self.capacity;
    }

    /// Change the geometry of an empty store.
    pub(crate) fn set_geometry(&mut self, quantum: usize, qset: usize) -> Result {
        if !self.is_empty() {
            return Err(EBUSY);
        }
        self.quantum = quantum;
        self.qset = qset;
        Ok(())
    }

    /// Copy the bytes from `pos` into `dest`, up to the size; holes read as
    /// zeros.  Returns the bytes copied (0 at or past the size), or EFAULT
    /// when none could be.
    pub(crate) fn read(&self, pos: i64, dest: &mut IovIterDest<'_>) -> Result<usize> {
        if pos < 0 || pos >= self.size {
            return Ok(0);
        }
        let count = dest.len().min((self.size - pos) as usize);
        let mut done = 0usize;
        while done < count {
            let p = self.decode(pos + done as i64);
            let chunk = (self.quantum - p.off).min(count - done);
            let copied = match self.quantum_at(&p) {
                Some(q) => dest.copy_to_iter(&q[p.off..p.off + chunk]),
                None => copy_zeros(dest, chunk),
            };
            done += copied;
            if copied < chunk {
                break;
            }
        }
        if done == 0 && count != 0 {
            return Err(EFAULT);
        }
        Ok(done)
    }

    /// Whether every quantum that a write of `count` bytes at `pos` would
    /// touch (up to the limit or capacity) is there already.
    pub(crate) fn range_present(&self, pos: i64, count: usize) -> bool {
        let end = if self.capacity != 0 {
            self.capacity
        } else {
            self.limit
        };
        if pos < 0 || pos >= end {
            return true;
        }
        let stop = pos.saturating_add(count as i64).min(end);
        let mut at = pos;
        while at < stop {
            let p = self.decode(at);
            if self.quantum_at(&p).is_none() {
                return false;
            }
            at += (self.quantum - p.off) as i64;
        }
        true
    }

    /// The set at `index`, made when missing.
    fn set_mut(&mut self, index: usize) -> Result<&mut QSet> {
        while self.sets.len() <= index {
            self.sets.push(None, GFP_KERNEL_ACCOUNT)?;
        }
        let qset = self.qset;
        let slot = &mut self.sets[index];
        if slot.is_none() {
            let mut quanta = KVec::with_capacity(qset, GFP_KERNEL_ACCOUNT)?;
            for _ in 0..qset {
                quanta.push(None, GFP_KERNEL_ACCOUNT)?;
            }
            *slot = Some(KBox::new(QSet { quanta }, GFP_KERNEL_ACCOUNT)?);
        }
        // `slot` was filled just above when it was empty.
        slot.as_deref_mut().ok_or(ENOMEM)
    }

    /// Store the bytes of `src` at `pos`.  Stops at the limit (the
    /// capacity of a fixed-size store): ENOSPC when no byte fits.  Returns
    /// the bytes stored; the size grows to cover them.
    pub(crate) fn write(&mut self, pos: i64, src: &mut IovIterSource<'_>) -> Result<usize> {
        let count = src.len();
        if count == 0 {
            return Ok(0);
        }
        let end = if self.capacity != 0 {
            self.capacity
        } else {
            self.limit
        };
        if pos < 0 || pos >= end {
            return Err(ENOSPC);
        }
        let count = count.min((end - pos) as usize);
        let mut done = 0usize;
        let mut err = None;
        while done < count {
            let p = self.decode(pos + done as i64);
            let chunk = (self.quantum - p.off).min(count - done);
            let quantum = self.quantum;
            let set = match self.set_mut(p.set) {
                Ok(set) => set,
                Err(e) => {
                    err = Some(e);
                    break;
                }
            };
            let slot = &mut set.quanta[p.q];
            let fresh = slot.is_none();
            if fresh {
                match KVVec::from_elem(0u8, quantum, GFP_KERNEL_ACCOUNT) {
                    Ok(q) => *slot = Some(q),
                    Err(_) => {
                        err = Some(ENOMEM);
                        break;
                    }
                }
            }
            let copied = match slot {
                Some(q) => src.copy_from_iter(&mut q[p.off..p.off + chunk]),
                None => 0,
            };
            if copied == 0 && fresh {
                // nothing of the source landed in it: no quantum for it
                *slot = None;
            } else if fresh {
                self.nr_quanta += 1;
            }
            done += copied;
            if copied < chunk {
                err = Some(EFAULT);
                break;
            }
        }
        if done == 0 {
            return Err(err.unwrap_or(EFAULT));
        }
        let new_end = pos + done as i64;
        if new_end > self.data_end {
            self.data_end = new_end;
            self.size = new_end.max(self.capacity);
        }
        Ok(done)
    }

    /// The first offset at or after `pos` that is data (a quantum written),
    /// below the size; ENXIO when none.
    pub(crate) fn seek_data(&self, pos: i64) -> Result<i64> {
        let mut start = pos;
        while start < self.size {
            let p = self.decode(start);
            if self.sets.get(p.set).is_none_or(|s| s.is_none()) {
                // the whole set is a hole: the next one
                start = ((p.set as u64 + 1) * self.set_bytes()) as i64;
                continue;
            }
            if self.quantum_at(&p).is_some() {
                return Ok(start);
            }
            // the next quantum
            start += (self.quantum - p.off) as i64;
        }
        Err(ENXIO)
    }

    /// The first offset at or after `pos` in a hole; the size counts as one.
    pub(crate) fn seek_hole(&self, pos: i64) -> i64 {
        let mut start = pos;
        while start < self.size {
            let p = self.decode(start);
            if self.quantum_at(&p).is_none() {
                return start;
            }
            start += (self.quantum - p.off) as i64;
        }
        self.size
    }
}

/// Copy `n` zeros into `dest`; the bytes copied.
fn copy_zeros(dest: &mut IovIterDest<'_>, n: usize) -> usize {
    let mut done = 0;
    while done < n {
        let chunk = (n - done).min(ZEROS.len());
        let copied = dest.copy_to_iter(&ZEROS[..chunk]);
        done += copied;
        if copied < chunk {
            break;
        }
    }
    done
}
