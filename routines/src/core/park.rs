//! `WaitQueue`: the one waiting protocol of the library.
//!
//! Every blocking primitive (locks, semaphores, barriers, and later channels, futures and the
//! scheduler) keeps its condition in atomics of its own and parks on a `WaitQueue` when the
//! condition does not hold. The queue is an *event count*: a registration counter plus an
//! epoch word that sleepers wait on with futex semantics.
//!
//! # The protocol, and why no wake-up is lost
//!
//! Waiter (in [`WaitQueue::wait_until`]):
//! 1. **register**: `waiters += 1`, then a SeqCst fence (F1);
//! 2. read the epoch `e` (Acquire);
//! 3. **re-check** the condition (the caller's `attempt` closure); on success deregister and
//!    return;
//! 4. **park**: sleep while the epoch still equals `e`; then deregister and go to 1.
//!
//! Notifier (in [`WaitQueue::notify_one`] / [`notify_all`](WaitQueue::notify_all)), called
//! *after* it made the condition true:
//! 1. a SeqCst fence (F2), then read `waiters`; if zero, return (no system call);
//! 2. otherwise `epoch += 1` (Release), then **wake** one or all sleepers on the epoch.
//!
//! Take a waiter that parks and a notifier whose condition change it should have seen.
//! F1 and F2 are ordered in the single total order of SeqCst fences.
//! * F2 before F1: the waiter's re-check (after F1) sees the condition change (before F2):
//!   it does not park.
//! * F1 before F2: the notifier's read of `waiters` (after F2) sees the registration (before
//!   F1), so it increments the epoch and wakes. If the waiter read the epoch before the
//!   increment, its futex wait either finds the word changed and returns at once, or is
//!   already asleep and is woken by the wake that follows the increment. If the waiter read
//!   the epoch after the increment (Acquire, pairing with the Release increment), it also
//!   sees the condition change made before it, so its re-check succeeds.
//!
//! `notify_one` may wake a waiter that then loses the condition to a barging thread; that
//! thread's own release notifies again, so progress is never lost. A waiter whose deadline
//! passed makes one last attempt before reporting a timeout, so a wake it consumed is never
//! dropped while the condition holds. This protocol is model-checked in `core::tests::loom`.

use ::core::fmt;
use std::time::{Duration, Instant};

use super::futex::Futex;
use crate::loom::sync::atomic::{fence, AtomicU32, Ordering};

/// A queue of parked threads waiting for a condition held elsewhere to become true.
///
/// See the module documentation above for the protocol. The queue allocates nothing:
/// sleeping threads are tracked by the kernel (or by the portable fallback's static table).
///
/// # Examples
/// ```
/// use routines::core::WaitQueue;
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
///
/// let flag = Arc::new((AtomicBool::new(false), WaitQueue::new()));
/// let setter = {
///     let flag = Arc::clone(&flag);
///     std::thread::spawn(move || {
///         flag.0.store(true, Ordering::Release);
///         flag.1.notify_all();
///     })
/// };
/// flag.1.wait_until(None, || flag.0.load(Ordering::Acquire).then_some(()));
/// setter.join().unwrap();
/// ```
pub struct WaitQueue {
    /// Sleepers wait on this word; every notification that finds a registered waiter
    /// increments it.
    epoch: Futex,
    /// Threads between "register" and "deregister" of [`WaitQueue::wait_until`].
    waiters: AtomicU32,
}

impl WaitQueue {
    crate::loom::const_fn_unless_loom! {
        /// An empty queue.
        ///
        /// # Examples
        /// ```
        /// static QUEUE: routines::core::WaitQueue = routines::core::WaitQueue::new();
        /// assert!(!QUEUE.notify_one());
        /// ```
        pub fn new() -> Self {
            Self {
                epoch: Futex::new(0),
                waiters: AtomicU32::new(0),
            }
        }
    }

    /// Blocks until `attempt` returns `Some`, or until `deadline` passes (`None`: no deadline).
    ///
    /// `attempt` is the re-check: it runs after registration, before every park, and once
    /// more after the deadline passes; it may be called any number of times and should try
    /// to take what it waits for (a lock, a permit) rather than only look. Returns its value,
    /// or `None` on timeout. A condition-changing thread must call
    /// [`notify_one`](Self::notify_one) or [`notify_all`](Self::notify_all) *after* its change.
    ///
    /// # Examples
    /// ```
    /// use routines::core::WaitQueue;
    /// use std::time::{Duration, Instant};
    ///
    /// let q = WaitQueue::new();
    /// let deadline = Instant::now() + Duration::from_millis(5);
    /// assert_eq!(q.wait_until(Some(deadline), || None::<()>), None);
    /// assert_eq!(q.wait_until(None, || Some(3)), Some(3));
    /// ```
    pub fn wait_until<R>(
        &self,
        deadline: Option<Instant>,
        mut attempt: impl FnMut() -> Option<R>,
    ) -> Option<R> {
        loop {
            // Register. Relaxed increment; the fence orders it before the re-check.
            self.waiters.fetch_add(1, Ordering::Relaxed);
            // SeqCst fence F1: pairs with F2 in `notify`; orders "registered" before the
            // re-check below (see the protocol above).
            fence(Ordering::SeqCst);
            // Acquire: pairs with the Release increment in `notify`; a waiter that sees a
            // new epoch also sees the condition change made before it.
            let epoch = self.epoch.word().load(Ordering::Acquire);
            let outcome = attempt();
            let timed_out = outcome.is_none() && deadline.is_some_and(|d| Instant::now() >= d);
            if outcome.is_none() && !timed_out {
                self.epoch.wait(epoch, deadline);
            }
            self.waiters.fetch_sub(1, Ordering::Relaxed);
            if outcome.is_some() || timed_out {
                return outcome;
            }
        }
    }

    /// Wakes one parked waiter, if any is registered. Returns whether one was registered
    /// (a hint: it may be about to find the condition true without sleeping).
    ///
    /// # Examples
    /// ```
    /// let q = routines::core::WaitQueue::new();
    /// assert!(!q.notify_one()); // nobody waits: no system call
    /// ```
    #[inline]
    pub fn notify_one(&self) -> bool {
        self.notify(false)
    }

    /// Wakes every parked waiter. Returns whether any was registered.
    ///
    /// # Examples
    /// ```
    /// let q = routines::core::WaitQueue::new();
    /// assert!(!q.notify_all());
    /// ```
    #[inline]
    pub fn notify_all(&self) -> bool {
        self.notify(true)
    }

    /// [`notify_one`](Self::notify_one) without the fence, for a caller whose condition
    /// change was a SeqCst read-modify-write (X) of a location that every waiter's re-check
    /// reads (Y). Correct under C++20's SeqCst rules: X precedes this SeqCst load of
    /// `waiters` (L) in the single order S; if L misses a waiter's registration R, then L
    /// precedes that waiter's fence F1 in S (R happens before F1); if the waiter's Y then
    /// missed X, F1 (which happens before Y) would precede X in S: a cycle. So either this
    /// call sees the waiter or the waiter sees the change, as with the fence pair. On x86
    /// the load is a plain `mov`, where the fence is an `mfence`. Under loom (which does
    /// not model the SeqCst order of loads) it takes the fenced path.
    #[inline]
    pub(crate) fn notify_one_after_seqcst_rmw(&self) -> bool {
        if cfg!(routines_loom) {
            return self.notify(false);
        }
        // SeqCst: L in the argument above.
        if self.waiters.load(Ordering::SeqCst) == 0 {
            return false;
        }
        self.notify_slow(false);
        true
    }

    #[inline]
    fn notify(&self, all: bool) -> bool {
        // SeqCst fence F2: pairs with F1 in `wait_until`; orders the caller's condition
        // change before the read of `waiters`.
        fence(Ordering::SeqCst);
        if self.waiters.load(Ordering::Relaxed) == 0 {
            return false;
        }
        self.notify_slow(all);
        true
    }

    #[cold]
    fn notify_slow(&self, all: bool) {
        // Release: pairs with the Acquire epoch load in `wait_until`.
        self.epoch.word().fetch_add(1, Ordering::Release);
        if all {
            self.epoch.wake_all();
        } else {
            self.epoch.wake_one();
        }
    }
}

impl Default for WaitQueue {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for WaitQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitQueue")
            .field("waiters", &self.waiters.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// `now + timeout`, or `None` ("wait forever") when that is not representable, so that
/// `Duration::MAX` never panics.
#[inline]
pub(crate) fn deadline_after(timeout: Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}
