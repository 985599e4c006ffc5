//! `RwLock<T>`: a writer-preferring reader–writer lock on one state word and two wait queues.

use ::core::fmt;
use ::core::marker::PhantomData;
use ::core::mem::ManuallyDrop;
use ::core::ops::{Deref, DerefMut};
use std::time::{Duration, Instant};

use crate::core::{deadline_after, Backoff, WaitQueue};
use crate::loom::cell::UnsafeCell;
use crate::loom::sync::atomic::{AtomicU32, Ordering};

/// Layout of the state word.
///
/// | bits   | name             | meaning                                                   |
/// |--------|------------------|-----------------------------------------------------------|
/// | 0..=28 | reader count     | threads holding a read lock                               |
/// | 29     | `WRITE_LOCKED`   | a writer holds the lock (the reader count is then 0)      |
/// | 30     | `READERS_PARKED` | readers may be parked on `readers`                        |
/// | 31     | `WRITERS_PARKED` | writers may be parked on `writers`; new readers wait too  |
///
/// The two `*_PARKED` bits are conservative hints, set by a thread before it parks (in the
/// re-check of the [`WaitQueue`] protocol) and cleared by the thread that notifies. A stale
/// bit costs one notification that finds nobody; a missing bit would lose a wake-up, so a
/// writer that acquires after contention sets `WRITERS_PARKED` again.
const READER: u32 = 1;
const READERS_MASK: u32 = (1 << 29) - 1;
const WRITE_LOCKED: u32 = 1 << 29;
const READERS_PARKED: u32 = 1 << 30;
const WRITERS_PARKED: u32 = 1 << 31;
const PARKED: u32 = READERS_PARKED | WRITERS_PARKED;

struct RawRwLock {
    state: AtomicU32,
    readers: WaitQueue,
    writers: WaitQueue,
}

impl RawRwLock {
    crate::loom::const_fn_unless_loom! {
        fn new() -> Self {
            Self {
                state: AtomicU32::new(0),
                readers: WaitQueue::new(),
                writers: WaitQueue::new(),
            }
        }
    }

    /// One attempt to take a read lock. Readers enter only if no writer holds the lock and
    /// none is waiting (writer preference).
    #[inline]
    fn try_read(&self) -> bool {
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if state & (WRITE_LOCKED | WRITERS_PARKED) != 0 {
                return false;
            }
            assert!(
                state & READERS_MASK != READERS_MASK,
                "too many concurrent readers on one RwLock"
            );
            // Acquire: pairs with the Release in `write_unlock`/`downgrade`; the last
            // writer's changes to the data are visible to this reader.
            match self.state.compare_exchange_weak(
                state,
                state + READER,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(now) => state = now,
            }
        }
    }

    #[inline]
    fn read_until(&self, deadline: Option<Instant>) -> bool {
        self.try_read() || self.read_slow(deadline)
    }

    #[cold]
    fn read_slow(&self, deadline: Option<Instant>) -> bool {
        let backoff = Backoff::new();
        while !backoff.is_completed() {
            if self.try_read() {
                return true;
            }
            if self.state.load(Ordering::Relaxed) & PARKED != 0 {
                break;
            }
            backoff.snooze();
        }
        self.readers
            .wait_until(deadline, || {
                let mut state = self.state.load(Ordering::Relaxed);
                loop {
                    if state & (WRITE_LOCKED | WRITERS_PARKED) == 0 {
                        if self.try_read() {
                            return Some(());
                        }
                        state = self.state.load(Ordering::Relaxed);
                        continue;
                    }
                    if state & READERS_PARKED != 0 {
                        return None;
                    }
                    // Register intent in the word before parking (the re-check step).
                    match self.state.compare_exchange_weak(
                        state,
                        state | READERS_PARKED,
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                    ) {
                        Ok(_) => return None,
                        Err(now) => state = now,
                    }
                }
            })
            .is_some()
    }

    /// # Safety
    /// The caller holds a read lock, which this releases.
    #[inline]
    unsafe fn read_unlock(&self) {
        // Release: pairs with the Acquire of the next writer; our reads of the data happen
        // before its writes.
        let prev = self.state.fetch_sub(READER, Ordering::Release);
        if prev & READERS_MASK == READER && prev & PARKED != 0 {
            self.wake_parked();
        }
    }

    #[inline]
    fn try_write(&self) -> bool {
        // Acquire: pairs with the Release in `read_unlock`/`write_unlock`.
        self.state
            .compare_exchange(0, WRITE_LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    #[inline]
    fn write_until(&self, deadline: Option<Instant>) -> bool {
        self.try_write() || self.write_slow(deadline)
    }

    #[cold]
    fn write_slow(&self, deadline: Option<Instant>) -> bool {
        let backoff = Backoff::new();
        while !backoff.is_completed() {
            let state = self.state.load(Ordering::Relaxed);
            if state == 0 && self.try_write() {
                return true;
            }
            if state & PARKED != 0 {
                break;
            }
            backoff.snooze();
        }
        let acquired = self
            .writers
            .wait_until(deadline, || {
                let mut state = self.state.load(Ordering::Relaxed);
                loop {
                    let (next, acquired) = if state & (WRITE_LOCKED | READERS_MASK) == 0 {
                        // Others may still be parked: keep `WRITERS_PARKED` set so that our
                        // unlock notifies them.
                        (state | WRITE_LOCKED | WRITERS_PARKED, true)
                    } else if state & WRITERS_PARKED == 0 {
                        (state | WRITERS_PARKED, false)
                    } else {
                        return None;
                    };
                    // Acquire (on success): pairs with the Release of the previous holder.
                    match self.state.compare_exchange_weak(
                        state,
                        next,
                        Ordering::Acquire,
                        Ordering::Relaxed,
                    ) {
                        Ok(_) => return acquired.then_some(()),
                        Err(now) => state = now,
                    }
                }
            })
            .is_some();
        if !acquired {
            self.writer_withdraw();
        }
        acquired
    }

    /// A writer gave up (timeout). Its `WRITERS_PARKED` may be holding readers back, and it
    /// may have consumed a hand-off meant for the next writer. Clear the bit, wake one
    /// writer (which publishes the bit again if it still has to wait, or acquires), and let
    /// the parked readers re-check. Spurious wake-ups are harmless; a lost one is not.
    #[cold]
    fn writer_withdraw(&self) {
        let prev = self.state.fetch_and(!WRITERS_PARKED, Ordering::Relaxed);
        if prev & WRITERS_PARKED != 0 {
            self.writers.notify_one();
        }
        if self.state.fetch_and(!READERS_PARKED, Ordering::Relaxed) & READERS_PARKED != 0 {
            self.readers.notify_all();
        }
    }

    /// # Safety
    /// The caller holds the write lock, which this releases.
    #[inline]
    unsafe fn write_unlock(&self) {
        // Release: pairs with the Acquire of the next reader or writer; publishes our writes.
        let prev = self.state.fetch_and(!WRITE_LOCKED, Ordering::Release);
        if prev & PARKED != 0 {
            self.wake_parked();
        }
    }

    /// # Safety
    /// The caller holds the write lock, which becomes a read lock without a gap.
    #[inline]
    unsafe fn downgrade(&self) {
        // Release: as in `write_unlock`, for readers admitted after the downgrade.
        let prev = self
            .state
            .fetch_sub(WRITE_LOCKED - READER, Ordering::Release);
        if prev & READERS_PARKED != 0 && prev & WRITERS_PARKED == 0 {
            self.wake_parked();
        }
    }

    /// After a release left parked-bits set: hands the lock to one parked writer if any is
    /// registered, otherwise wakes every parked reader. Does nothing while someone holds the
    /// lock (that holder's release will come here) — except that parked readers may be
    /// woken whenever no writer holds or waits for the lock.
    #[cold]
    fn wake_parked(&self) {
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if state & WRITE_LOCKED != 0 {
                return;
            }
            if state & WRITERS_PARKED != 0 {
                if state & READERS_MASK != 0 {
                    return; // the last reader's unlock will hand over
                }
                match self.state.compare_exchange_weak(
                    state,
                    state & !WRITERS_PARKED,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        if self.writers.notify_one() {
                            return; // hand-off: the writer sets the bit again if needed
                        }
                        state &= !WRITERS_PARKED; // stale bit: fall through to readers
                        continue;
                    }
                    Err(now) => {
                        state = now;
                        continue;
                    }
                }
            }
            if state & READERS_PARKED == 0 {
                return;
            }
            match self.state.compare_exchange_weak(
                state,
                state & !READERS_PARKED,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    self.readers.notify_all();
                    return;
                }
                Err(now) => state = now,
            }
        }
    }
}

/// A reader–writer lock protecting a `T`: many readers or one writer.
///
/// **Writer-preferring**: once a writer is waiting, new readers wait too, so a stream of
/// readers can never starve a writer. The price: a thread that already holds a read lock
/// and asks for another may deadlock if a writer arrived in between (do not re-enter).
/// A write lock can be [downgraded](RwLockWriteGuard::downgrade) to a read lock atomically.
/// No poisoning; nothing allocated after construction.
///
/// # Examples
/// ```
/// use routines::sync::RwLock;
///
/// let lock = RwLock::new(5);
/// {
///     let (a, b) = (lock.read(), lock.read());
///     assert_eq!(*a + *b, 10);
/// }
/// *lock.write() += 1;
/// assert_eq!(*lock.read(), 6);
/// ```
pub struct RwLock<T> {
    raw: RawRwLock,
    /// Shared by read guards, exclusive to the write guard; guards exist only while `raw`
    /// is held in the matching mode.
    data: UnsafeCell<T>,
}

// SAFETY: the lock hands `T` between threads (`T: Send`).
unsafe impl<T: Send> Send for RwLock<T> {}
// SAFETY: readers on several threads share `&T` at once (`T: Sync`); a writer gets `&mut T`
// on whichever thread (`T: Send`).
unsafe impl<T: Send + Sync> Sync for RwLock<T> {}

impl<T> RwLock<T> {
    crate::loom::const_fn_unless_loom! {
        /// A new unlocked lock holding `value`; `const`.
        ///
        /// # Examples
        /// ```
        /// static CONFIG: routines::sync::RwLock<u8> = routines::sync::RwLock::new(1);
        /// assert_eq!(*CONFIG.read(), 1);
        /// ```
        pub fn new(value: T) -> Self {
            Self {
                raw: RawRwLock::new(),
                data: UnsafeCell::new(value),
            }
        }
    }

    /// Locks for reading, blocking while a writer holds or waits for the lock.
    ///
    /// # Examples
    /// ```
    /// let lock = routines::sync::RwLock::new(1);
    /// assert_eq!(*lock.read(), 1);
    /// ```
    #[inline]
    pub fn read(&self) -> RwLockReadGuard<'_, T> {
        self.raw.read_until(None);
        RwLockReadGuard::new(self)
    }

    /// Locks for reading if that is possible without waiting.
    ///
    /// # Examples
    /// ```
    /// let lock = routines::sync::RwLock::new(1);
    /// let w = lock.write();
    /// assert!(lock.try_read().is_none());
    /// drop(w);
    /// assert!(lock.try_read().is_some());
    /// ```
    #[inline]
    pub fn try_read(&self) -> Option<RwLockReadGuard<'_, T>> {
        self.raw.try_read().then(|| RwLockReadGuard::new(self))
    }

    /// Locks for reading, waiting at most `timeout` (`Duration::MAX`: forever).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let lock = routines::sync::RwLock::new(1);
    /// let w = lock.write();
    /// assert!(lock.read_timeout(Duration::from_millis(1)).is_none());
    /// ```
    #[inline]
    pub fn read_timeout(&self, timeout: Duration) -> Option<RwLockReadGuard<'_, T>> {
        self.read_until(deadline_after(timeout))
    }

    /// Locks for reading, waiting until `deadline` at most.
    ///
    /// # Examples
    /// ```
    /// let lock = routines::sync::RwLock::new(1);
    /// assert!(lock.read_deadline(std::time::Instant::now()).is_some());
    /// ```
    #[inline]
    pub fn read_deadline(&self, deadline: Instant) -> Option<RwLockReadGuard<'_, T>> {
        self.read_until(Some(deadline))
    }

    fn read_until(&self, deadline: Option<Instant>) -> Option<RwLockReadGuard<'_, T>> {
        self.raw
            .read_until(deadline)
            .then(|| RwLockReadGuard::new(self))
    }

    /// Locks for writing, blocking until no reader or writer holds the lock.
    ///
    /// # Examples
    /// ```
    /// let lock = routines::sync::RwLock::new(1);
    /// *lock.write() = 2;
    /// assert_eq!(lock.into_inner(), 2);
    /// ```
    #[inline]
    pub fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.raw.write_until(None);
        RwLockWriteGuard::new(self)
    }

    /// Locks for writing if that is possible without waiting.
    ///
    /// # Examples
    /// ```
    /// let lock = routines::sync::RwLock::new(1);
    /// let r = lock.read();
    /// assert!(lock.try_write().is_none());
    /// ```
    #[inline]
    pub fn try_write(&self) -> Option<RwLockWriteGuard<'_, T>> {
        self.raw.try_write().then(|| RwLockWriteGuard::new(self))
    }

    /// Locks for writing, waiting at most `timeout` (`Duration::MAX`: forever).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let lock = routines::sync::RwLock::new(1);
    /// let r = lock.read();
    /// assert!(lock.write_timeout(Duration::from_millis(1)).is_none());
    /// ```
    #[inline]
    pub fn write_timeout(&self, timeout: Duration) -> Option<RwLockWriteGuard<'_, T>> {
        self.write_until(deadline_after(timeout))
    }

    /// Locks for writing, waiting until `deadline` at most.
    ///
    /// # Examples
    /// ```
    /// let lock = routines::sync::RwLock::new(1);
    /// assert!(lock.write_deadline(std::time::Instant::now()).is_some());
    /// ```
    #[inline]
    pub fn write_deadline(&self, deadline: Instant) -> Option<RwLockWriteGuard<'_, T>> {
        self.write_until(Some(deadline))
    }

    fn write_until(&self, deadline: Option<Instant>) -> Option<RwLockWriteGuard<'_, T>> {
        self.raw
            .write_until(deadline)
            .then(|| RwLockWriteGuard::new(self))
    }

    /// Mutable access without locking: `&mut self` proves no guard exists.
    ///
    /// # Examples
    /// ```
    /// let mut lock = routines::sync::RwLock::new(1);
    /// *lock.get_mut() += 1;
    /// assert_eq!(*lock.read(), 2);
    /// ```
    #[inline]
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// Consumes the lock and returns the data.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(routines::sync::RwLock::new(3).into_inner(), 3);
    /// ```
    #[inline]
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T> From<T> for RwLock<T> {
    fn from(value: T) -> Self {
        Self::new(value)
    }
}

impl<T: fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
            Some(guard) => d.field("data", &&*guard),
            None => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// Shared access to the data of a read-locked [`RwLock`]; unlocks when dropped.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RwLockReadGuard<'a, T> {
    lock: &'a RwLock<T>,
    /// `Send`/`Sync` as `&T`.
    _marker: PhantomData<&'a T>,
}

impl<'a, T> RwLockReadGuard<'a, T> {
    fn new(lock: &'a RwLock<T>) -> Self {
        Self {
            lock,
            _marker: PhantomData,
        }
    }
}

impl<T> Deref for RwLockReadGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: read lock held while the guard lives, so no `&mut T` exists (`RwLock::data`).
        self.lock.data.with(|p| unsafe { &*p })
    }
}

impl<T> Drop for RwLockReadGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: created after taking a read lock, dropped once.
        unsafe { self.lock.raw.read_unlock() }
    }
}

impl<T: fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// Exclusive access to the data of a write-locked [`RwLock`]; unlocks when dropped.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RwLockWriteGuard<'a, T> {
    lock: &'a RwLock<T>,
    /// `Send`/`Sync` as `&mut T`.
    _marker: PhantomData<&'a mut T>,
}

impl<'a, T> RwLockWriteGuard<'a, T> {
    fn new(lock: &'a RwLock<T>) -> Self {
        Self {
            lock,
            _marker: PhantomData,
        }
    }

    /// Turns the write lock into a read lock without releasing it: no writer can get in
    /// between. Parked readers are admitted unless a writer is waiting (writer preference).
    ///
    /// # Examples
    /// ```
    /// use routines::sync::{RwLock, RwLockWriteGuard};
    /// let lock = RwLock::new(1);
    /// let mut w = lock.write();
    /// *w = 2;
    /// let r = RwLockWriteGuard::downgrade(w);
    /// assert_eq!(*r, 2);
    /// assert!(lock.try_read().is_some());
    /// assert!(lock.try_write().is_none());
    /// ```
    pub fn downgrade(this: Self) -> RwLockReadGuard<'a, T> {
        let this = ManuallyDrop::new(this);
        // `ManuallyDrop` keeps the write guard's destructor from releasing the lock; the read
        // guard returned takes over the read lock.
        // SAFETY: `this` holds the write lock, which `downgrade` turns into a read lock.
        unsafe { this.lock.raw.downgrade() };
        RwLockReadGuard::new(this.lock)
    }
}

impl<T> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: the write guard holds the lock exclusively (`RwLock::data`).
        self.lock.data.with(|p| unsafe { &*p })
    }
}

impl<T> DerefMut for RwLockWriteGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: exclusive lock, and `&mut self` makes this the only access.
        self.lock.data.with_mut(|p| unsafe { &mut *p })
    }
}

impl<T> Drop for RwLockWriteGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        // Not reached after `downgrade`, which wraps the guard in `ManuallyDrop`.
        // SAFETY: created after taking the write lock, dropped once.
        unsafe { self.lock.raw.write_unlock() }
    }
}

impl<T: fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: fmt::Display> fmt::Display for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: fmt::Display> fmt::Display for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}
