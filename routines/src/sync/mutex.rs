//! `Mutex<T>`: a raw lock (one state word + a [`WaitQueue`]) under a safe generic wrapper.

use ::core::fmt;
use ::core::marker::PhantomData;
use ::core::ops::{Deref, DerefMut};
use std::time::{Duration, Instant};

use crate::core::{deadline_after, Backoff, WaitQueue};
use crate::loom::cell::UnsafeCell;
use crate::loom::sync::atomic::{AtomicU32, Ordering};

/// State word of [`RawMutex`].
///
/// | value        | meaning                                                  |
/// |--------------|----------------------------------------------------------|
/// | `UNLOCKED`   | free                                                     |
/// | `LOCKED`     | held; no thread has gone to park                         |
/// | `CONTENDED`  | held; threads may be registered on the queue, so the    |
/// |              | unlocker must notify it                                  |
const UNLOCKED: u32 = 0;
const LOCKED: u32 = 1;
const CONTENDED: u32 = 2;

/// The lock without data: a state word and a wait queue.
///
/// The uncontended paths are one CAS (lock) and one swap (unlock). A locker that fails spins
/// with [`Backoff`] while the lock is held by a running thread, then marks the word
/// `CONTENDED` and parks. `CONTENDED` is a conservative "someone may be parked": a thread
/// that acquires after parking sets it again, because it cannot know whether it was the last
/// one, so one unlock after contention may notify an empty queue (a fence and a load).
///
/// Not fair: an unlocking thread may take the lock again before a woken thread runs
/// (throughput over fairness, as `std` and `parking_lot` in their fast modes).
pub(crate) struct RawMutex {
    state: AtomicU32,
    queue: WaitQueue,
}

impl RawMutex {
    crate::loom::const_fn_unless_loom! {
        pub(crate) fn new() -> Self {
            Self {
                state: AtomicU32::new(UNLOCKED),
                queue: WaitQueue::new(),
            }
        }
    }

    #[inline]
    pub(crate) fn try_lock(&self) -> bool {
        // Acquire: pairs with the Release swap in `unlock`; the previous holder's writes to
        // the protected data are visible to us.
        self.state
            .compare_exchange(UNLOCKED, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    #[inline]
    pub(crate) fn lock(&self) {
        if !self.try_lock() {
            self.lock_slow(None);
        }
    }

    /// Locks, giving up at `deadline`; `false` on timeout.
    #[inline]
    pub(crate) fn lock_until(&self, deadline: Option<Instant>) -> bool {
        self.try_lock() || self.lock_slow(deadline)
    }

    #[cold]
    fn lock_slow(&self, deadline: Option<Instant>) -> bool {
        let backoff = Backoff::new();
        // Spin while the holder is running and nobody parked; parking costs two syscalls.
        while !backoff.is_completed() {
            match self.state.load(Ordering::Relaxed) {
                UNLOCKED if self.try_lock() => return true,
                CONTENDED => break,
                _ => backoff.snooze(),
            }
        }
        self.queue
            .wait_until(deadline, || {
                // Acquire: pairs with the Release swap in `unlock` (as in `try_lock`).
                (self.state.swap(CONTENDED, Ordering::Acquire) == UNLOCKED).then_some(())
            })
            .is_some()
    }

    /// # Safety
    /// The lock is held by the caller (locked and not yet unlocked by it or on its behalf).
    #[inline]
    pub(crate) unsafe fn unlock(&self) {
        // Release: pairs with the Acquire CAS/swap of the next locker; publishes our writes
        // to the protected data.
        if self.state.swap(UNLOCKED, Ordering::Release) == CONTENDED {
            self.unlock_slow();
        }
    }

    #[cold]
    fn unlock_slow(&self) {
        self.queue.notify_one();
    }

    #[inline]
    pub(crate) fn is_locked(&self) -> bool {
        self.state.load(Ordering::Relaxed) != UNLOCKED
    }
}

impl fmt::Debug for RawMutex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawMutex")
            .field("locked", &self.is_locked())
            .finish()
    }
}

/// A mutual-exclusion lock protecting a `T`.
///
/// `lock()` spins briefly, then parks; `lock_timeout`/`lock_deadline` give up at a deadline;
/// `try_lock` never blocks. No poisoning: see the [module docs](crate::sync#no-poisoning).
/// Locking and unlocking allocate nothing.
///
/// # Examples
/// ```
/// use routines::sync::Mutex;
/// use std::sync::Arc;
///
/// let counter = Arc::new(Mutex::new(0));
/// let handles: Vec<_> = (0..4)
///     .map(|_| {
///         let counter = Arc::clone(&counter);
///         std::thread::spawn(move || *counter.lock() += 1)
///     })
///     .collect();
/// for h in handles { h.join().unwrap(); }
/// assert_eq!(*counter.lock(), 4);
/// ```
pub struct Mutex<T> {
    raw: RawMutex,
    /// Accessed only through a [`MutexGuard`], which exists only while `raw` is held.
    data: UnsafeCell<T>,
}

// SAFETY: the mutex hands `T` from thread to thread (so `T: Send`) and gives `&mut T` to one
// thread at a time, never `&T` to two at once (so `T: Sync` is not needed).
unsafe impl<T: Send> Send for Mutex<T> {}
// SAFETY: as above: shared access to the `Mutex` only yields exclusive access to `T`.
unsafe impl<T: Send> Sync for Mutex<T> {}

impl<T> Mutex<T> {
    crate::loom::const_fn_unless_loom! {
        /// A new unlocked mutex holding `value`. `const`, so it can initialise a `static`.
        ///
        /// # Examples
        /// ```
        /// static COUNT: routines::sync::Mutex<u32> = routines::sync::Mutex::new(0);
        /// *COUNT.lock() += 1;
        /// assert_eq!(*COUNT.lock(), 1);
        /// ```
        pub fn new(value: T) -> Self {
            Self {
                raw: RawMutex::new(),
                data: UnsafeCell::new(value),
            }
        }
    }

    /// Locks, blocking until the lock is free.
    ///
    /// Not re-entrant: locking again from the thread that holds the guard deadlocks.
    ///
    /// # Examples
    /// ```
    /// let m = routines::sync::Mutex::new(vec![1]);
    /// m.lock().push(2);
    /// assert_eq!(*m.lock(), [1, 2]);
    /// ```
    #[inline]
    pub fn lock(&self) -> MutexGuard<'_, T> {
        self.raw.lock();
        MutexGuard::new(self)
    }

    /// Locks if the lock is free right now; never blocks.
    ///
    /// # Examples
    /// ```
    /// let m = routines::sync::Mutex::new(1);
    /// let held = m.lock();
    /// assert!(m.try_lock().is_none());
    /// drop(held);
    /// assert!(m.try_lock().is_some());
    /// ```
    #[inline]
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        self.raw.try_lock().then(|| MutexGuard::new(self))
    }

    /// Locks, waiting at most `timeout`; `None` if the lock stayed held. A timeout too large
    /// to represent (`Duration::MAX`) waits forever.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let m = routines::sync::Mutex::new(1);
    /// let held = m.lock();
    /// assert!(m.lock_timeout(Duration::from_millis(1)).is_none());
    /// drop(held);
    /// assert!(m.lock_timeout(Duration::MAX).is_some());
    /// ```
    #[inline]
    pub fn lock_timeout(&self, timeout: Duration) -> Option<MutexGuard<'_, T>> {
        self.raw
            .lock_until(deadline_after(timeout))
            .then(|| MutexGuard::new(self))
    }

    /// Locks, waiting until `deadline` at most; `None` if the lock stayed held.
    ///
    /// # Examples
    /// ```
    /// use std::time::Instant;
    /// let m = routines::sync::Mutex::new(1);
    /// assert!(m.lock_deadline(Instant::now()).is_some()); // free: no waiting needed
    /// ```
    #[inline]
    pub fn lock_deadline(&self, deadline: Instant) -> Option<MutexGuard<'_, T>> {
        self.raw
            .lock_until(Some(deadline))
            .then(|| MutexGuard::new(self))
    }

    /// Whether the lock is held right now: a snapshot, stale as soon as it is returned.
    ///
    /// # Examples
    /// ```
    /// let m = routines::sync::Mutex::new(());
    /// let g = m.lock();
    /// assert!(m.is_locked());
    /// drop(g);
    /// assert!(!m.is_locked());
    /// ```
    #[inline]
    pub fn is_locked(&self) -> bool {
        self.raw.is_locked()
    }

    /// Mutable access without locking: `&mut self` proves no guard exists.
    ///
    /// # Examples
    /// ```
    /// let mut m = routines::sync::Mutex::new(1);
    /// *m.get_mut() = 2;
    /// assert_eq!(m.into_inner(), 2);
    /// ```
    #[inline]
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// Consumes the mutex and returns the data.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(routines::sync::Mutex::new("x").into_inner(), "x");
    /// ```
    #[inline]
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Self {
        Self::new(value)
    }
}

impl<T: fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Some(guard) => d.field("data", &&*guard),
            None => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// Exclusive access to the data of a locked [`Mutex`]; unlocks when dropped (also during a
/// panic: see [no poisoning](crate::sync#no-poisoning)).
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct MutexGuard<'a, T> {
    mutex: &'a Mutex<T>,
    /// `Send`/`Sync` exactly as `&mut T`: sending the guard sends access to `T`.
    _marker: PhantomData<&'a mut T>,
}

impl<'a, T> MutexGuard<'a, T> {
    #[inline]
    fn new(mutex: &'a Mutex<T>) -> Self {
        Self {
            mutex,
            _marker: PhantomData,
        }
    }
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while this thread holds the lock (`Mutex::data`).
        self.mutex.data.with(|p| unsafe { &*p })
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock and `&mut self` makes this the only access.
        self.mutex.data.with_mut(|p| unsafe { &mut *p })
    }
}

impl<T> Drop for MutexGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: a guard is created only after locking and is dropped once: the lock is held.
        unsafe { self.mutex.raw.unlock() }
    }
}

impl<T: fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}
