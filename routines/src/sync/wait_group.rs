//! `WaitGroup`: Go's `sync.WaitGroup` — wait for a counted set of tasks to finish.

use ::core::fmt;
use std::time::{Duration, Instant};

use crate::core::{deadline_after, WaitQueue};
use crate::loom::sync::atomic::{AtomicUsize, Ordering};

/// Waits for a collection of tasks to finish: [`add`](Self::add) counts tasks in,
/// [`done`](Self::done) counts one out, [`wait`](Self::wait) blocks until the count is zero.
///
/// Go semantics: `add` calls that start from zero should happen before `wait`; once `wait`
/// has returned the group can be reused. Calling `done` more often than `add` panics. Share
/// it by reference (scoped threads) or in an `Arc`. Nothing is allocated after construction.
///
/// # Examples
/// ```
/// use routines::sync::WaitGroup;
///
/// let wg = WaitGroup::new();
/// std::thread::scope(|s| {
///     for _ in 0..4 {
///         wg.add(1);
///         s.spawn(|| wg.done());
///     }
///     wg.wait();
///     assert_eq!(wg.count(), 0);
/// });
/// ```
pub struct WaitGroup {
    count: AtomicUsize,
    queue: WaitQueue,
}

impl WaitGroup {
    crate::loom::const_fn_unless_loom! {
        /// A group with a count of zero.
        ///
        /// # Examples
        /// ```
        /// routines::sync::WaitGroup::new().wait(); // zero: returns at once
        /// ```
        pub fn new() -> Self {
            Self {
                count: AtomicUsize::new(0),
                queue: WaitQueue::new(),
            }
        }
    }

    /// Adds `n` to the count.
    ///
    /// # Panics
    /// If the count would overflow `usize`.
    ///
    /// # Examples
    /// ```
    /// let wg = routines::sync::WaitGroup::new();
    /// wg.add(2);
    /// assert_eq!(wg.count(), 2);
    /// ```
    pub fn add(&self, n: usize) {
        let prev = self.count.fetch_add(n, Ordering::Relaxed);
        if prev.checked_add(n).is_none() {
            self.count.fetch_sub(n, Ordering::Relaxed);
            panic!("WaitGroup::add: count overflow");
        }
    }

    /// Counts one task out; wakes the waiters when the count reaches zero.
    ///
    /// # Panics
    /// If the count is already zero ("`WaitGroup::done` called more times than `add`"); the
    /// count stays zero.
    ///
    /// # Examples
    /// ```
    /// let wg = routines::sync::WaitGroup::new();
    /// wg.add(1);
    /// wg.done();
    /// wg.wait();
    /// ```
    pub fn done(&self) {
        // Release: pairs with the Acquire load in `wait`; the task's work happens before
        // the waiter returns.
        let prev = self
            .count
            .fetch_update(Ordering::Release, Ordering::Relaxed, |c| c.checked_sub(1));
        match prev {
            Err(_) => panic!("WaitGroup::done called more times than WaitGroup::add"),
            Ok(1) => {
                self.queue.notify_all();
            }
            Ok(_) => {}
        }
    }

    /// Blocks until the count is zero.
    ///
    /// # Examples
    /// ```
    /// let wg = routines::sync::WaitGroup::new();
    /// wg.wait();
    /// ```
    pub fn wait(&self) {
        self.wait_until(None);
    }

    /// Blocks until the count is zero or `timeout` passes; `true` if the count reached zero.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let wg = routines::sync::WaitGroup::new();
    /// wg.add(1);
    /// assert!(!wg.wait_timeout(Duration::from_millis(1)));
    /// wg.done();
    /// assert!(wg.wait_timeout(Duration::MAX));
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        self.wait_until(deadline_after(timeout))
    }

    /// Blocks until the count is zero or `deadline` passes; `true` if it reached zero.
    ///
    /// # Examples
    /// ```
    /// let wg = routines::sync::WaitGroup::new();
    /// assert!(wg.wait_deadline(std::time::Instant::now()));
    /// ```
    pub fn wait_deadline(&self, deadline: Instant) -> bool {
        self.wait_until(Some(deadline))
    }

    fn wait_until(&self, deadline: Option<Instant>) -> bool {
        // Acquire: pairs with the Release in `done`.
        let zero = || (self.count.load(Ordering::Acquire) == 0).then_some(());
        zero().is_some() || self.queue.wait_until(deadline, zero).is_some()
    }

    /// The count right now: a snapshot.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(routines::sync::WaitGroup::new().count(), 0);
    /// ```
    pub fn count(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }
}

impl Default for WaitGroup {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for WaitGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitGroup")
            .field("count", &self.count())
            .finish()
    }
}
