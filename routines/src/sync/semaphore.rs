//! `Semaphore`: counting permits on one state word and a [`WaitQueue`].

use ::core::fmt;
use std::time::{Duration, Instant};

use crate::core::{deadline_after, Backoff, WaitQueue};
use crate::loom::sync::atomic::{AtomicUsize, Ordering};

/// Top bit of the state word: threads may be parked on the queue (a conservative hint, set
/// in the re-check before parking, cleared by the releaser that notifies, set again by a
/// thread that acquires after parking). The other bits count available permits.
const PARKED: usize = 1 << (usize::BITS - 1);
const PERMITS: usize = !PARKED;

/// A counting semaphore: `acquire` takes a permit, blocking while none is available; the
/// returned [`SemaphorePermit`] gives it back when dropped.
///
/// Not fair: a releasing thread or a newcomer may take a permit before a woken waiter runs.
/// Nothing is allocated after construction.
///
/// # Examples
/// ```
/// use routines::sync::Semaphore;
///
/// let sem = Semaphore::new(2);
/// let a = sem.acquire();
/// let b = sem.acquire();
/// assert!(sem.try_acquire().is_none());
/// drop(a);
/// assert!(sem.try_acquire().is_some());
/// # drop(b);
/// ```
pub struct Semaphore {
    state: AtomicUsize,
    queue: WaitQueue,
}

impl Semaphore {
    /// Largest number of permits a semaphore can hold (`usize::MAX >> 1`).
    pub const MAX_PERMITS: usize = PERMITS;

    crate::loom::const_fn_unless_loom! {
        /// A semaphore with `permits` available permits (0 is allowed: every acquirer waits
        /// for [`add_permits`](Self::add_permits)).
        ///
        /// # Panics
        /// If `permits` exceeds [`MAX_PERMITS`](Self::MAX_PERMITS).
        ///
        /// # Examples
        /// ```
        /// let sem = routines::sync::Semaphore::new(3);
        /// assert_eq!(sem.available_permits(), 3);
        /// ```
        pub fn new(permits: usize) -> Self {
            assert!(permits <= PERMITS, "Semaphore::new: more than Semaphore::MAX_PERMITS permits");
            Self {
                state: AtomicUsize::new(permits),
                queue: WaitQueue::new(),
            }
        }
    }

    /// Takes a permit, blocking until one is available.
    ///
    /// # Examples
    /// ```
    /// let sem = routines::sync::Semaphore::new(1);
    /// let permit = sem.acquire();
    /// assert_eq!(sem.available_permits(), 0);
    /// drop(permit);
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    #[inline]
    pub fn acquire(&self) -> SemaphorePermit<'_> {
        if !self.try_take(false) {
            self.acquire_slow(None);
        }
        SemaphorePermit { semaphore: self }
    }

    /// Takes a permit if one is available now; never blocks.
    ///
    /// # Examples
    /// ```
    /// let sem = routines::sync::Semaphore::new(0);
    /// assert!(sem.try_acquire().is_none());
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> Option<SemaphorePermit<'_>> {
        self.try_take(false)
            .then(|| SemaphorePermit { semaphore: self })
    }

    /// Takes a permit, waiting at most `timeout` (`Duration::MAX`: forever).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let sem = routines::sync::Semaphore::new(0);
    /// assert!(sem.acquire_timeout(Duration::from_millis(1)).is_none());
    /// ```
    #[inline]
    pub fn acquire_timeout(&self, timeout: Duration) -> Option<SemaphorePermit<'_>> {
        self.acquire_until(deadline_after(timeout))
    }

    /// Takes a permit, waiting until `deadline` at most.
    ///
    /// # Examples
    /// ```
    /// let sem = routines::sync::Semaphore::new(1);
    /// assert!(sem.acquire_deadline(std::time::Instant::now()).is_some());
    /// ```
    #[inline]
    pub fn acquire_deadline(&self, deadline: Instant) -> Option<SemaphorePermit<'_>> {
        self.acquire_until(Some(deadline))
    }

    fn acquire_until(&self, deadline: Option<Instant>) -> Option<SemaphorePermit<'_>> {
        (self.try_take(false) || self.acquire_slow(deadline))
            .then(|| SemaphorePermit { semaphore: self })
    }

    /// Adds `n` permits (beyond any initial count) and wakes waiters for them.
    ///
    /// # Panics
    /// If the total would exceed [`MAX_PERMITS`](Self::MAX_PERMITS).
    ///
    /// # Examples
    /// ```
    /// let sem = routines::sync::Semaphore::new(0);
    /// sem.add_permits(2);
    /// assert_eq!(sem.available_permits(), 2);
    /// ```
    pub fn add_permits(&self, n: usize) {
        if n == 0 {
            return;
        }
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            let total = (state & PERMITS)
                .checked_add(n)
                .filter(|&total| total <= PERMITS)
                .expect("Semaphore::add_permits: more than Semaphore::MAX_PERMITS permits");
            // Release: pairs with the Acquire CAS in `try_take`; what we did before adding
            // the permits is visible to whoever takes them.
            match self.state.compare_exchange_weak(
                state,
                total,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(now) => state = now,
            }
        }
        if state & PARKED != 0 {
            if n == 1 {
                self.queue.notify_one();
            } else {
                self.queue.notify_all();
            }
        }
    }

    /// Permits available right now: a snapshot, stale as soon as it is returned.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(routines::sync::Semaphore::new(4).available_permits(), 4);
    /// ```
    #[inline]
    pub fn available_permits(&self) -> usize {
        self.state.load(Ordering::Relaxed) & PERMITS
    }

    /// One attempt to take a permit. A thread that has parked passes `mark_parked = true`
    /// and keeps the `PARKED` hint set, since others may still be parked.
    #[inline]
    fn try_take(&self, mark_parked: bool) -> bool {
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if state & PERMITS == 0 {
                return false;
            }
            let next = (state - 1) | if mark_parked { PARKED } else { 0 };
            // Acquire: pairs with the Release in `add_permits` (permit drops go there).
            match self.state.compare_exchange_weak(
                state,
                next,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(now) => state = now,
            }
        }
    }

    /// Takes a permit, waiting until one is available or `stop()` holds (checked after
    /// every wake-up; whoever makes it hold then calls [`wake_waiters`](Self::wake_waiters)).
    /// A permit that is available is taken even if `stop()` holds, so a wake-up meant for a
    /// permit is never swallowed. For the cancellable acquire in `structured`.
    pub(crate) fn acquire_or_stop(&self, stop: &dyn Fn() -> bool) -> Option<SemaphorePermit<'_>> {
        if self.try_take(false) {
            return Some(SemaphorePermit { semaphore: self });
        }
        let taken = self.queue.wait_until(None, || {
            if self.try_take(true) {
                return Some(true);
            }
            if stop() {
                return Some(false);
            }
            // As in `acquire_slow`.
            let state = self.state.fetch_or(PARKED, Ordering::Relaxed);
            (state & PERMITS != 0 && self.try_take(true)).then_some(true)
        });
        (taken == Some(true)).then(|| SemaphorePermit { semaphore: self })
    }

    /// Wakes every parked acquirer (so that an `acquire_or_stop` re-checks its `stop`).
    pub(crate) fn wake_waiters(&self) {
        self.queue.notify_all();
    }

    #[cold]
    fn acquire_slow(&self, deadline: Option<Instant>) -> bool {
        let backoff = Backoff::new();
        while !backoff.is_completed() {
            if self.try_take(false) {
                return true;
            }
            if self.state.load(Ordering::Relaxed) & PARKED != 0 {
                break;
            }
            backoff.snooze();
        }
        self.queue
            .wait_until(deadline, || {
                if self.try_take(true) {
                    return Some(());
                }
                // Publish "parked" before sleeping; if a permit arrived meanwhile, retry.
                let state = self.state.fetch_or(PARKED, Ordering::Relaxed);
                (state & PERMITS != 0 && self.try_take(true)).then_some(())
            })
            .is_some()
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("available_permits", &self.available_permits())
            .finish()
    }
}

/// One permit taken from a [`Semaphore`]; returned to it when dropped.
#[must_use = "the permit is returned as soon as it is dropped"]
pub struct SemaphorePermit<'a> {
    semaphore: &'a Semaphore,
}

impl SemaphorePermit<'_> {
    /// Keeps the permit taken for good: it is not returned to the semaphore.
    ///
    /// # Examples
    /// ```
    /// let sem = routines::sync::Semaphore::new(1);
    /// sem.acquire().forget();
    /// assert_eq!(sem.available_permits(), 0);
    /// ```
    pub fn forget(self) {
        ::core::mem::forget(self);
    }
}

impl Drop for SemaphorePermit<'_> {
    #[inline]
    fn drop(&mut self) {
        self.semaphore.add_permits(1);
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit").finish_non_exhaustive()
    }
}
