//! `WaitQueue`: the one waiting protocol of the library.
//!
//! Every blocking primitive (locks, semaphores, barriers, and later channels, futures and the
//! scheduler) keeps its condition in atomics of its own and parks on a `WaitQueue` when the
//! condition does not hold. The queue is an *event count*: a registration word plus an epoch
//! word that sleepers wait on with futex semantics. The registration word counts registered
//! waiters in two halves: those no notifier has claimed yet, and claims whose wake-up is on
//! its way.
//!
//! # The protocol, and why no wake-up is lost
//!
//! Waiter (in [`WaitQueue::wait_until`]):
//! 1. read the epoch `e` (Acquire);
//! 2. **register**: one more unclaimed registration (a Release read-modify-write), then a
//!    SeqCst fence (F1);
//! 3. **re-check** the condition (the caller's `attempt` closure); on success leave and
//!    return;
//! 4. **park**: sleep while the epoch still equals `e`; then leave and go to 1.
//!
//! *Leaving* takes back one outstanding claim if there is any, else one unclaimed
//! registration.
//!
//! Notifier (in [`WaitQueue::notify_one`] / [`notify_all`](WaitQueue::notify_all)), called
//! *after* it made the condition true:
//! 1. a SeqCst fence (F2), then read the registration word; if no registration is unclaimed,
//!    return (no write, no system call);
//! 2. **claim** one (for `notify_all`: every) unclaimed registration, by an Acquire
//!    compare-and-swap that moves it to the claimed half;
//! 3. `epoch += 1` (Release), then **wake** one (all) sleepers on the epoch.
//!
//! Claims bound the sleepers: *every thread asleep on the epoch is matched by an unclaimed
//! registration or by a claim whose wake-up is still to come.* A claim reads (Acquire) the
//! registrations it counts, which were made (Release) after their threads read the epoch,
//! so every thread registered when the claim was made read the epoch before the claim's
//! increment: it cannot go to sleep after it (the futex wait returns at once), and if it is
//! asleep already, the wake that follows the increment wakes it or another sleeper. One
//! claim, one registration and one wake-up go together; a leaving thread takes a claim
//! before its own registration (a woken thread that took an unclaimed registration instead
//! would leave a sleeper unmatched). Under contention this is the point of the claims: a
//! notifier whose waiter is already woken, but not yet running, makes no system call (in a
//! 4 x 4 channel on 2 cores ~99 % of the wake-ups were such calls before).
//!
//! Take a waiter that parks and a notifier whose condition change it should have seen.
//! F1 and F2 are ordered in the single total order of SeqCst fences.
//! * F2 before F1: the waiter's re-check (after F1) sees the condition change (before F2):
//!   it does not park.
//! * F1 before F2: the notifier's read (after F2) sees the registration (before F1). If it
//!   finds a registration unclaimed, it claims one, increments the epoch and wakes: the
//!   waiter's futex wait returns at once (it read the epoch before the increment, see
//!   above), or it is asleep and is woken (or, if the wake-up goes to another sleeper, that
//!   one takes the change and the waiter stays matched by its unclaimed registration). If
//!   every registration is claimed, the waiter has a wake-up on its way; after it, it
//!   registers anew, and the notifier's read came before that registration, so by the case
//!   above its next re-check sees the change.
//!
//! `notify_one` may wake a waiter that then loses the condition to a barging thread; that
//! thread's own release notifies again, so progress is never lost. A waiter whose deadline
//! passed makes one last attempt before reporting a timeout, so a wake it consumed is never
//! dropped while the condition holds. This protocol is model-checked in `loom_tests.rs`
//! (`wait_queue_*`; `wait_queue_claims_survive_barging` deadlocks if a woken waiter leaves
//! with an unclaimed registration, or if a waiter registers before it reads the epoch).

use ::core::fmt;
use std::time::{Duration, Instant};

use super::futex::Futex;
use crate::loom::sync::atomic::{fence, AtomicU64, Ordering};

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
    /// Sleepers wait on this word; every claim increments it.
    epoch: Futex,
    /// Threads between "register" and "leave" of [`WaitQueue::wait_until`], in two
    /// counts: the low half ([`UNCLAIMED`] units) those no notifier has claimed, the high
    /// half ([`CLAIMED`] units) claims whose wake-up is on its way and that no leaving
    /// waiter has taken yet.
    waiters: AtomicU64,
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
                waiters: AtomicU64::new(0),
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
            // Acquire: pairs with the Release increment in `notify_slow`; a waiter that sees
            // a new epoch also sees the condition change made before it.
            let epoch = self.epoch.word().load(Ordering::Acquire);
            // Register. Release: a claim that counts this registration (its Acquire CAS
            // reads it) comes after our epoch read, and so does its epoch increment.
            self.waiters.fetch_add(UNCLAIMED, Ordering::Release);
            // SeqCst fence F1: pairs with F2 in `notify`; orders "registered" before the
            // re-check below (see the protocol above).
            fence(Ordering::SeqCst);
            let outcome = attempt();
            let timed_out = outcome.is_none() && deadline.is_some_and(|d| Instant::now() >= d);
            if outcome.is_none() && !timed_out {
                self.epoch.wait(epoch, deadline);
            }
            self.leave();
            if outcome.is_some() || timed_out {
                return outcome;
            }
        }
    }

    /// Deregisters: takes back a claim if one is outstanding (ours, or one whose wake-up
    /// went to nobody), else our own unclaimed registration.
    fn leave(&self) {
        // Relaxed: an RMW continues the release sequence of the registrations; nothing
        // else is published here.
        let mut state = self.waiters.load(Ordering::Relaxed);
        loop {
            let next = if state >= CLAIMED {
                state - CLAIMED
            } else {
                state - UNCLAIMED
            };
            match self.waiters.compare_exchange_weak(
                state,
                next,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return,
                Err(now) => state = now,
            }
        }
    }

    /// Wakes one parked waiter, if any is registered and not already being woken. Returns
    /// whether one was registered (a hint: it may be about to find the condition true
    /// without sleeping, or be on its way back from a wake-up).
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
    /// the load is a plain `mov`, where the fence is a locked instruction. Under loom (which does
    /// not model the SeqCst order of loads) it takes the fenced path.
    #[inline]
    pub(crate) fn notify_one_after_seqcst_rmw(&self) -> bool {
        self.notify_after_seqcst_rmw_if(false, || true)
    }

    /// [`notify_all`](Self::notify_all) after a SeqCst read-modify-write, as
    /// [`notify_one_after_seqcst_rmw`](Self::notify_one_after_seqcst_rmw), and only if
    /// `worth_it()` (asked only when someone waits): for a caller whose change completes the
    /// waiters' condition only sometimes. `worth_it` must be true whenever the change may have
    /// made a waiter's condition true.
    #[inline]
    pub(crate) fn notify_all_after_seqcst_rmw_if(&self, worth_it: impl FnOnce() -> bool) {
        self.notify_after_seqcst_rmw_if(true, worth_it);
    }

    /// The two above: returns whether any waiter was registered.
    #[inline]
    fn notify_after_seqcst_rmw_if(&self, all: bool, worth_it: impl FnOnce() -> bool) -> bool {
        if cfg!(routines_loom) {
            // SeqCst fence F2, as in `notify` (loom does not model the SeqCst order of
            // loads).
            fence(Ordering::SeqCst);
        }
        // SeqCst: L in the argument of `notify_one_after_seqcst_rmw`.
        let state = self.waiters.load(Ordering::SeqCst);
        if state & UNCLAIMED_MASK != 0 && worth_it() {
            self.notify_slow(all);
        }
        state != 0
    }

    #[inline]
    fn notify(&self, all: bool) -> bool {
        // SeqCst fence F2: pairs with F1 in `wait_until`; orders the caller's condition
        // change before the read of `waiters`.
        fence(Ordering::SeqCst);
        let state = self.waiters.load(Ordering::Relaxed);
        if state & UNCLAIMED_MASK != 0 {
            self.notify_slow(all);
        }
        state != 0
    }

    /// Claims one unclaimed waiter (all of them for `all`), then moves the epoch and wakes.
    /// Nothing to do if every registered waiter is claimed already: each claim moved the
    /// epoch after its waiter read it and wakes a sleeper afterwards.
    #[cold]
    fn notify_slow(&self, all: bool) {
        // Acquire (CAS): pairs with the Release registration of the waiters we count, whose
        // epoch reads thereby precede our increment below.
        let mut state = self.waiters.load(Ordering::Acquire);
        loop {
            let unclaimed = state & UNCLAIMED_MASK;
            if unclaimed == 0 {
                return;
            }
            let claims = if all { unclaimed } else { 1 };
            match self.waiters.compare_exchange_weak(
                state,
                state - claims * UNCLAIMED + claims * CLAIMED,
                Ordering::Acquire,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(now) => state = now,
            }
        }
        // Release: pairs with the Acquire epoch load in `wait_until`.
        self.epoch.word().fetch_add(1, Ordering::Release);
        if all {
            self.epoch.wake_all();
        } else {
            self.epoch.wake_one();
        }
    }
}

/// One unclaimed registration in `WaitQueue::waiters`.
const UNCLAIMED: u64 = 1;
/// One outstanding claim in `WaitQueue::waiters`.
const CLAIMED: u64 = 1 << 32;
/// The unclaimed half of `WaitQueue::waiters`.
const UNCLAIMED_MASK: u64 = CLAIMED - 1;

impl Default for WaitQueue {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for WaitQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.waiters.load(Ordering::Relaxed);
        f.debug_struct("WaitQueue")
            .field("unclaimed", &(state & UNCLAIMED_MASK))
            .field("claimed", &(state / CLAIMED))
            .finish_non_exhaustive()
    }
}

/// `now + timeout`, or `None` ("wait forever") when that is not representable, so that
/// `Duration::MAX` never panics.
#[inline]
pub(crate) fn deadline_after(timeout: Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}

#[cfg(all(test, not(routines_loom)))]
mod tests {
    use super::*;

    /// The claim accounting, one step at a time on one thread (a registration made by hand
    /// stands for a waiter that has registered and not yet left).
    #[test]
    fn a_claimed_waiter_is_not_woken_twice() {
        let q = WaitQueue::new();
        let epoch = || q.epoch.word().load(Ordering::Relaxed);
        q.waiters.fetch_add(UNCLAIMED, Ordering::Relaxed);
        assert!(q.notify_one());
        assert_eq!(q.waiters.load(Ordering::Relaxed), CLAIMED);
        assert_eq!(epoch(), 1);
        // Claimed already: no epoch change, so no wake-up either.
        assert!(q.notify_one());
        assert!(q.notify_all());
        assert_eq!(epoch(), 1);
        // A second waiter registers: the next notify claims it.
        q.waiters.fetch_add(UNCLAIMED, Ordering::Relaxed);
        assert!(q.notify_all());
        assert_eq!(q.waiters.load(Ordering::Relaxed), 2 * CLAIMED);
        assert_eq!(epoch(), 2);
        // Leaving takes claims back first, then registrations.
        q.waiters.fetch_add(UNCLAIMED, Ordering::Relaxed);
        q.leave();
        assert_eq!(q.waiters.load(Ordering::Relaxed), CLAIMED + UNCLAIMED);
        q.leave();
        q.leave();
        assert_eq!(q.waiters.load(Ordering::Relaxed), 0);
        assert!(!q.notify_one());
    }
}
