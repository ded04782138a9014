// SPDX-License-Identifier: GPL-2.0

//! A reader-writer semaphore whose waits are killable, as the C driver's
//! `down_read_killable()` and `down_write_killable()` (src/fops.c).
//!
//! Linux 7.2's Rust `Mutex` has `lock()` and `try_lock()` only: a task
//! waiting behind a stalled copy could not be killed, and readers could not
//! share the lock.  This wraps `struct rw_semaphore` from
//! `kernel::bindings`; its `unsafe` blocks are here, each with a
//! `// SAFETY:` comment, and the rest of the module sees guards.

use core::{cell::UnsafeCell, marker::PhantomPinned, ops::Deref, ops::DerefMut};
use kernel::{
    bindings,
    prelude::*,
    sync::LockClassKey,
    types::{NotThreadSafe, Opaque},
};

/// `T` behind a kernel `rw_semaphore`: shared by readers, one writer.
///
/// # Invariants
///
/// `sem` was initialised by `__init_rwsem()` and never moves (pinned).
#[pin_data]
pub(crate) struct RwSem<T> {
    #[pin]
    sem: Opaque<bindings::rw_semaphore>,
    data: UnsafeCell<T>,
    #[pin]
    _pin: PhantomPinned,
}

// SAFETY: the semaphore serialises writers against everyone, so `T` may be
// reached from any thread that holds it, as for `Mutex<T>`.
unsafe impl<T: Send> Send for RwSem<T> {}
// SAFETY: readers share `&T` (hence `T: Sync`), a writer has `&mut T`
// alone (hence `T: Send`).
unsafe impl<T: Send + Sync> Sync for RwSem<T> {}

impl<T> RwSem<T> {
    /// A semaphore around `data`, of lock class `key` named `name` (for
    /// lockdep).
    pub(crate) fn new(
        data: T,
        name: &'static CStr,
        key: Pin<&'static LockClassKey>,
    ) -> impl PinInit<Self> {
        pin_init!(Self {
            data: UnsafeCell::new(data),
            _pin: PhantomPinned,
            // SAFETY: `slot` is valid for writes while the closure runs;
            // `name` and `key` are static.
            sem <- Opaque::ffi_init(|slot| unsafe {
                bindings::__init_rwsem(slot, name.as_char_ptr(), key.as_ptr())
            }),
        })
    }

    /// Shared access; ERESTARTSYS when a fatal signal ends the wait (only a
    /// dying task sees it).
    pub(crate) fn read(&self) -> Result<ReadGuard<'_, T>> {
        // SAFETY: `sem` is initialised (type invariant).
        if unsafe { bindings::down_read_killable(self.sem.get()) } != 0 {
            return Err(ERESTARTSYS);
        }
        Ok(ReadGuard {
            lock: self,
            _not_send: NotThreadSafe,
        })
    }

    /// Shared access without sleeping, or `None`.
    pub(crate) fn try_read(&self) -> Option<ReadGuard<'_, T>> {
        // SAFETY: as above.
        if unsafe { bindings::down_read_trylock(self.sem.get()) } == 0 {
            // no guard made: its drop would release a hold never taken
            return None;
        }
        Some(ReadGuard {
            lock: self,
            _not_send: NotThreadSafe,
        })
    }

    /// Exclusive access; ERESTARTSYS when a fatal signal ends the wait.
    pub(crate) fn write(&self) -> Result<WriteGuard<'_, T>> {
        // SAFETY: as above.
        if unsafe { bindings::down_write_killable(self.sem.get()) } != 0 {
            return Err(ERESTARTSYS);
        }
        Ok(WriteGuard {
            lock: self,
            _not_send: NotThreadSafe,
        })
    }

    /// Exclusive access without sleeping, or `None`.
    pub(crate) fn try_write(&self) -> Option<WriteGuard<'_, T>> {
        // SAFETY: as above.
        if unsafe { bindings::down_write_trylock(self.sem.get()) } == 0 {
            // no guard made: its drop would release a hold never taken
            return None;
        }
        Some(WriteGuard {
            lock: self,
            _not_send: NotThreadSafe,
        })
    }
}

/// Shared access to the data of an [`RwSem`]; released when dropped.
///
/// # Invariants
///
/// The holder owns a read hold of `lock.sem`, taken by this task, which
/// releases it (the guard is not `Send`).
pub(crate) struct ReadGuard<'a, T> {
    lock: &'a RwSem<T>,
    _not_send: NotThreadSafe,
}

impl<T> Deref for ReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: a read hold excludes every writer, so no `&mut T` exists.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> Drop for ReadGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: this guard holds the semaphore for reading.
        unsafe { bindings::up_read(self.lock.sem.get()) };
    }
}

/// Exclusive access to the data of an [`RwSem`]; released when dropped.
///
/// # Invariants
///
/// The holder owns the write hold of `lock.sem`, taken by this task,
/// which releases it (the guard is not `Send`).
pub(crate) struct WriteGuard<'a, T> {
    lock: &'a RwSem<T>,
    _not_send: NotThreadSafe,
}

impl<T> Deref for WriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the write hold excludes every other holder.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> DerefMut for WriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the write hold excludes every other holder, and the
        // guard is borrowed mutably, so this is the only reference.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T> Drop for WriteGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: this guard holds the semaphore for writing.
        unsafe { bindings::up_write(self.lock.sem.get()) };
    }
}
