//! Latches: one-way "done" signals that a waiting thread blocks on.
//!
//! The setter's last access to a latch is the store that sets it: after that store the
//! waiter may return and free the frame the latch lives in. Everything the setter needs
//! afterwards (whom to wake) is copied out first, and points at memory that outlives the
//! waiter's frame (the scheduler's [`Sleep`], kept alive by the setting worker's own handle
//! on the scheduler; or the `Arc` of a [`LockLatch`]).

use super::sleep::Sleep;
use crate::core::WaitQueue;
use crate::loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use crate::loom::sync::Arc;

/// Something a job sets when it finished.
pub(super) trait Latch {
    /// Sets the latch and wakes its waiter.
    ///
    /// # Safety
    /// `this` is live when the call starts; after the setting store the implementation must
    /// not touch `*this` (the waiter may free it).
    unsafe fn set(this: *const Self);
}

/// Set once; waited for by worker `target` of a scheduler, which sleeps on its own queue in
/// [`Sleep`] (and steals while it waits, unless told not to).
pub(super) struct SpinLatch<'s> {
    /// Set (Release) by the job's runner; the owner reads the job's result after an Acquire
    /// load of `true`.
    done: AtomicBool,
    sleep: &'s Sleep,
    target: usize,
}

impl<'s> SpinLatch<'s> {
    pub(super) fn new(sleep: &'s Sleep, target: usize) -> Self {
        SpinLatch {
            done: AtomicBool::new(false),
            sleep,
            target,
        }
    }

    #[inline]
    pub(super) fn probe(&self) -> bool {
        // Acquire: pairs with the Release store in `set`; publishes the job's result.
        self.done.load(Ordering::Acquire)
    }
}

impl Latch for SpinLatch<'_> {
    unsafe fn set(this: *const Self) {
        // SAFETY: `this` is live until the store below (the trait's contract).
        let (sleep, target) = unsafe { ((*this).sleep, (*this).target) };
        // Release: pairs with the Acquire in `probe`. After this store `*this` may be gone.
        // SAFETY: as above.
        unsafe { (*this).done.store(true, Ordering::Release) };
        // `sleep` outlives the latch: the setter runs on one of the scheduler's workers,
        // which holds the scheduler alive.
        sleep.wake_worker(target);
    }
}

/// Counts outstanding jobs; set when the count reaches zero. Waited for by worker `target`
/// (a scope's owner, a broadcast's caller).
pub(super) struct CountLatch<'s> {
    /// Outstanding jobs. Decremented with AcqRel: the waiter's Acquire load of zero sees
    /// every job's effects.
    count: AtomicUsize,
    sleep: &'s Sleep,
    target: usize,
}

impl<'s> CountLatch<'s> {
    pub(super) fn new(count: usize, sleep: &'s Sleep, target: usize) -> Self {
        CountLatch {
            count: AtomicUsize::new(count),
            sleep,
            target,
        }
    }

    /// One more outstanding job. Called by a thread that itself holds a count (the owner, or
    /// a job not yet finished), so the count cannot reach zero meanwhile.
    #[inline]
    pub(super) fn increment(&self) {
        // Relaxed: the caller's own unit keeps the count above zero; the job it guards is
        // published by the deque push that follows.
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    #[inline]
    pub(super) fn probe(&self) -> bool {
        // Acquire: pairs with the AcqRel decrements; publishes every job's effects.
        self.count.load(Ordering::Acquire) == 0
    }

    /// One job finished.
    ///
    /// # Safety
    /// `this` is live at the call; the latch may be freed once the count reaches zero.
    pub(super) unsafe fn decrement(this: *const Self) {
        // SAFETY: live until our decrement (the contract).
        let (sleep, target) = unsafe { ((*this).sleep, (*this).target) };
        // AcqRel: Release publishes this job's effects; Acquire chains the earlier ones, so
        // the waiter's Acquire load of zero sees them all.
        // SAFETY: as above.
        if unsafe { (*this).count.fetch_sub(1, Ordering::AcqRel) } == 1 {
            sleep.wake_worker(target);
        }
    }
}

impl Latch for &CountLatch<'_> {
    unsafe fn set(this: *const Self) {
        // SAFETY: `this` (the reference) is live now; the latch it names is live until the
        // count reaches zero.
        unsafe { CountLatch::decrement(*this) }
    }
}

/// A latch for a thread that is not one of the scheduler's workers: it parks on the
/// latch's own queue. Shared by `Arc` (one allocation per external call) so that the
/// setter's wake-up never touches a freed frame.
pub(super) struct LockLatch(Arc<LockInner>);

struct LockInner {
    /// Set (Release) once; see [`SpinLatch`].
    done: AtomicBool,
    queue: WaitQueue,
}

impl LockLatch {
    pub(super) fn new() -> Self {
        LockLatch(Arc::new(LockInner {
            done: AtomicBool::new(false),
            queue: WaitQueue::new(),
        }))
    }

    /// Blocks until set.
    pub(super) fn wait(&self) {
        let inner = &*self.0;
        // Acquire: pairs with the Release store in `set`.
        inner
            .queue
            .wait_until(None, || inner.done.load(Ordering::Acquire).then_some(()));
    }
}

impl Latch for LockLatch {
    unsafe fn set(this: *const Self) {
        // SAFETY: live until the store below; our clone keeps the queue alive after it.
        let inner = unsafe { Arc::clone(&(*this).0) };
        // Release: pairs with the Acquire in `wait`.
        inner.done.store(true, Ordering::Release);
        inner.queue.notify_all();
    }
}
