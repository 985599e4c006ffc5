//! `Latch`: a one-shot countdown that releases its waiters at zero.

use ::core::fmt;
use std::time::{Duration, Instant};

use crate::core::{deadline_after, WaitQueue};
use crate::loom::sync::atomic::{AtomicUsize, Ordering};

/// A countdown latch: starts at `count`, [`count_down`](Self::count_down) decrements it,
/// and [`wait`](Self::wait) blocks until it reaches zero. Once open it stays open; further
/// `count_down` calls saturate at zero and do nothing. (Unlike [`WaitGroup`], it cannot
/// count up and is not reused.)
///
/// [`WaitGroup`]: crate::sync::WaitGroup
///
/// # Examples
/// ```
/// use routines::sync::Latch;
///
/// let ready = Latch::new(2);
/// std::thread::scope(|s| {
///     s.spawn(|| ready.count_down());
///     s.spawn(|| ready.count_down());
///     ready.wait();
/// });
/// assert_eq!(ready.count(), 0);
/// ```
pub struct Latch {
    count: AtomicUsize,
    queue: WaitQueue,
}

impl Latch {
    crate::loom::const_fn_unless_loom! {
        /// A latch that opens after `count` calls to `count_down` (0: open already).
        ///
        /// # Examples
        /// ```
        /// routines::sync::Latch::new(0).wait();
        /// ```
        pub fn new(count: usize) -> Self {
            Self {
                count: AtomicUsize::new(count),
                queue: WaitQueue::new(),
            }
        }
    }

    /// Decrements the count, saturating at zero; opens the latch when it reaches zero.
    ///
    /// # Examples
    /// ```
    /// let latch = routines::sync::Latch::new(1);
    /// latch.count_down();
    /// latch.count_down(); // extra: stays at zero
    /// assert_eq!(latch.count(), 0);
    /// ```
    pub fn count_down(&self) {
        // Release: pairs with the Acquire load in `wait`; work done before counting down
        // is visible to every thread the latch releases.
        let prev = self
            .count
            .fetch_update(Ordering::Release, Ordering::Relaxed, |c| c.checked_sub(1));
        if prev == Ok(1) {
            self.queue.notify_all();
        }
    }

    /// Blocks until the count is zero.
    ///
    /// # Examples
    /// ```
    /// let latch = routines::sync::Latch::new(1);
    /// latch.count_down();
    /// latch.wait();
    /// ```
    pub fn wait(&self) {
        self.wait_until(None);
    }

    /// `true` if the latch is open, without blocking.
    ///
    /// # Examples
    /// ```
    /// assert!(!routines::sync::Latch::new(1).try_wait());
    /// ```
    pub fn try_wait(&self) -> bool {
        // Acquire: pairs with the Release in `count_down`.
        self.count.load(Ordering::Acquire) == 0
    }

    /// Blocks until the latch opens or `timeout` passes; `true` if it opened.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// assert!(!routines::sync::Latch::new(1).wait_timeout(Duration::from_millis(1)));
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        self.wait_until(deadline_after(timeout))
    }

    /// Blocks until the latch opens or `deadline` passes; `true` if it opened.
    ///
    /// # Examples
    /// ```
    /// assert!(routines::sync::Latch::new(0).wait_deadline(std::time::Instant::now()));
    /// ```
    pub fn wait_deadline(&self, deadline: Instant) -> bool {
        self.wait_until(Some(deadline))
    }

    fn wait_until(&self, deadline: Option<Instant>) -> bool {
        let open = || self.try_wait().then_some(());
        open().is_some() || self.queue.wait_until(deadline, open).is_some()
    }

    /// The remaining count: a snapshot.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(routines::sync::Latch::new(3).count(), 3);
    /// ```
    pub fn count(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }
}

impl fmt::Debug for Latch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Latch")
            .field("count", &self.count())
            .finish()
    }
}
