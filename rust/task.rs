// SPDX-License-Identifier: GPL-2.0

//! What a long copy asks of the task it runs in, between two chunks, as
//! the C driver's `scull_copy_stop()` (src/storage.c): give way, and stop
//! for a fatal signal only, as regular files do.  The two inline C
//! functions this needs have no Rust helper in 7.2; their `unsafe` is here.

use kernel::bindings;

/// `SIGKILL` of `include/uapi/asm-generic/signal.h`.
const SIGKILL: u32 = 9;

/// Whether the current task has been sent SIGKILL (it is dying):
/// `fatal_signal_pending(current)` of `include/linux/sched/signal.h`.
pub(crate) fn fatal_signal_pending() -> bool {
    let task = kernel::current!();
    if !task.signal_pending() {
        return false;
    }
    // SAFETY: the current task is valid while it runs; its pending set is
    // read as `__fatal_signal_pending()` reads it, without a lock (a
    // signal arriving meanwhile is seen at the next check).
    let word = unsafe { (*task.as_ptr()).pending.signal.sig[0] };
    word & (1 << (SIGKILL - 1)) != 0
}

/// Let another task run if this one should give way: `cond_resched()`.
pub(crate) fn cond_resched() {
    // SAFETY: called in process context, with no spinlock held (the
    // store's lock is a sleeping one).
    unsafe { bindings::__cond_resched() };
}

/// Bytes a copy moves between two checks, as `SCULL_COPY_BATCH`.
pub(crate) const COPY_BATCH: usize = 64 << 10;

/// Between two chunks of a long copy: once every [`COPY_BATCH`] bytes
/// moved (`batch` counts them), give way; true when the task is dying and
/// the copy should stop with what it moved.
pub(crate) fn copy_stop(batch: &mut usize, copied: usize) -> bool {
    *batch += copied;
    if *batch < COPY_BATCH {
        return false;
    }
    *batch = 0;
    if fatal_signal_pending() {
        return true;
    }
    cond_resched();
    false
}
