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
    rbtree::RBTree,
};

use crate::task;
use core::num::NonZeroU64;

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
    quanta: KVVec<Option<KVVec<u8>>>,
    /// Quanta allocated in it (never 0 while it is in the tree).
    nr: usize,
}

/// One device's bytes.
pub(crate) struct Store {
    quantum: usize,
    qset: usize,
    /// The sets written to, by index, in offset order: sparse, so a write
    /// far out at a tiny geometry costs one set, not an index of every set
    /// before it.
    sets: RBTree<usize, QSet>,
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
            sets: RBTree::new(),
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
        // Divisors the compiler knows are not zero (the geometry never is):
        // a division that may panic calls a panic function that 7.2's
        // objtool does not know as noreturn, and it warns.
        let set_bytes = NonZeroU64::new(self.set_bytes()).unwrap_or(NonZeroU64::MIN);
        let quantum = NonZeroU64::new(self.quantum as u64).unwrap_or(NonZeroU64::MIN);
        let pos = pos as u64;
        let in_set = pos % set_bytes;
        Pos {
            set: (pos / set_bytes) as usize,
            q: (in_set / quantum) as usize,
            off: (in_set % quantum) as usize,
        }
    }

    /// The quantum at `p`, if it was ever written.
    fn quantum_at(&self, p: &Pos) -> Option<&KVVec<u8>> {
        self.sets.get(&p.set)?.quanta.get(p.q)?.as_ref()
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
        self.sets = RBTree::new();
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
        let mut batch = 0usize;
        while done < count {
            let p = self.decode(pos + done as i64);
            let chunk = (self.quantum - p.off).min(count - done);
            let copied = match self.quantum_at(&p) {
                Some(q) => dest.copy_to_iter(&q[p.off..p.off + chunk]),
                None => copy_zeros(dest, chunk),
            };
            done += copied;
            if copied < chunk || (done < count && task::copy_stop(&mut batch, copied)) {
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

    /// A set of `qset` holes, charged to the writer's memory cgroup.
    fn new_set(qset: usize) -> Result<QSet> {
        let mut quanta = KVVec::with_capacity(qset, GFP_KERNEL_ACCOUNT)?;
        for _ in 0..qset {
            quanta.push(None, GFP_KERNEL_ACCOUNT)?;
        }
        Ok(QSet { quanta, nr: 0 })
    }

    /// Store what `src` holds for the quantum at `p`, up to `chunk` bytes,
    /// making the quantum (and its set) when missing; the bytes stored.  A
    /// quantum or set made for no byte is freed again.
    fn write_step(&mut self, p: &Pos, chunk: usize, src: &mut IovIterSource<'_>) -> Result<usize> {
        let quantum = self.quantum;
        if self.sets.get(&p.set).is_none() {
            let set = Self::new_set(self.qset)?;
            self.sets
                .try_create_and_insert(p.set, set, GFP_KERNEL_ACCOUNT)?;
        }
        let Some(set) = self.sets.get_mut(&p.set) else {
            return Err(ENOMEM);
        };
        let slot = &mut set.quanta[p.q];
        let fresh = slot.is_none();
        let copied = if let Some(q) = slot {
            Ok(src.copy_from_iter(&mut q[p.off..p.off + chunk]))
        } else {
            match KVVec::from_elem(0u8, quantum, GFP_KERNEL_ACCOUNT) {
                Ok(mut q) => {
                    let n = src.copy_from_iter(&mut q[p.off..p.off + chunk]);
                    // nothing of the source landed in it: no quantum for it
                    if n != 0 {
                        *slot = Some(q);
                    }
                    Ok(n)
                }
                Err(_) => Err(ENOMEM),
            }
        };
        if fresh && matches!(copied, Ok(n) if n != 0) {
            set.nr += 1;
            self.nr_quanta += 1;
        }
        if set.nr == 0 {
            // made for no byte
            self.sets.remove(&p.set);
        }
        copied
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
        let mut batch = 0usize;
        let mut err = None;
        while done < count {
            let p = self.decode(pos + done as i64);
            let chunk = (self.quantum - p.off).min(count - done);
            match self.write_step(&p, chunk, src) {
                Ok(copied) => {
                    done += copied;
                    if copied < chunk {
                        // the source faulted
                        err = Some(EFAULT);
                        break;
                    }
                    // dying: what was stored stays, a prefix
                    if done < count && task::copy_stop(&mut batch, copied) {
                        break;
                    }
                }
                Err(e) => {
                    err = Some(e);
                    break;
                }
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
        let first = self.decode(pos);
        for (&index, set) in self.sets.iter().skip_while(|(&i, _)| i < first.set) {
            let from = if index == first.set { first.q } else { 0 };
            if let Some(q) = (from..self.qset).find(|&q| set.quanta[q].is_some()) {
                let start = (index as u64 * self.set_bytes() + (q * self.quantum) as u64) as i64;
                let start = start.max(pos);
                return if start < self.size {
                    Ok(start)
                } else {
                    Err(ENXIO)
                };
            }
        }
        Err(ENXIO)
    }

    /// The sets holding data, in offset order: each one's index and how
    /// many quanta it holds (for /proc/scullmem).
    pub(crate) fn sets(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.sets.iter().map(|(&index, set)| (index, set.nr))
    }

    /// How many sets hold data.
    pub(crate) fn nr_sets(&self) -> usize {
        self.sets.iter().count()
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
