//! `Barrier`: a reusable rendezvous of `n` threads, with one leader per generation.

use ::core::fmt;

use super::RawMutex;
use crate::core::WaitQueue;
use crate::loom::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

/// Blocks threads until `n` of them have called [`wait`](Self::wait), then releases them all
/// at once and starts a new generation; it is reusable indefinitely. In each generation
/// exactly one thread (the last to arrive) is told it is the leader.
///
/// A barrier for 0 or 1 threads never blocks and makes every caller a leader (as `std`).
/// Nothing is allocated after construction.
///
/// # Examples
/// ```
/// use routines::sync::Barrier;
///
/// let barrier = Barrier::new(3);
/// let leaders = std::thread::scope(|s| {
///     let hs: Vec<_> = (0..3).map(|_| s.spawn(|| barrier.wait().is_leader())).collect();
///     hs.into_iter().map(|h| h.join().unwrap()).filter(|&l| l).count()
/// });
/// assert_eq!(leaders, 1);
/// ```
pub struct Barrier {
    parties: usize,
    /// Guards the arrival count and the generation change together, so that a thread of
    /// the next generation never counts into the current one.
    lock: RawMutex,
    /// Arrivals in the current generation; written only under `lock`.
    arrived: AtomicUsize,
    /// Incremented (under `lock`) when a generation completes; waiters park until it
    /// differs from the value they arrived in. Wrapping is harmless: it would take 2^32
    /// generations while one waiter sleeps, and a generation needs that waiter.
    generation: AtomicU32,
    queue: WaitQueue,
}

impl Barrier {
    crate::loom::const_fn_unless_loom! {
        /// A barrier for `n` threads.
        ///
        /// # Examples
        /// ```
        /// assert!(routines::sync::Barrier::new(1).wait().is_leader());
        /// ```
        pub fn new(n: usize) -> Self {
            Self {
                parties: n,
                lock: RawMutex::new(),
                arrived: AtomicUsize::new(0),
                generation: AtomicU32::new(0),
                queue: WaitQueue::new(),
            }
        }
    }

    /// Blocks until `n` threads have called `wait` in this generation.
    ///
    /// # Examples
    /// ```
    /// use routines::sync::Barrier;
    /// let b = Barrier::new(2);
    /// std::thread::scope(|s| {
    ///     let other = s.spawn(|| b.wait().is_leader());
    ///     let me = b.wait().is_leader();
    ///     assert!(me ^ other.join().unwrap()); // exactly one leader
    /// });
    /// ```
    pub fn wait(&self) -> BarrierWaitResult {
        self.lock.lock();
        let generation = self.generation.load(Ordering::Relaxed);
        let arrived = self.arrived.load(Ordering::Relaxed) + 1;
        if arrived >= self.parties {
            self.arrived.store(0, Ordering::Relaxed);
            // Release: pairs with the Acquire load of the waiters below; everything the
            // arrivals did before `wait` is visible to all of them after it.
            self.generation
                .store(generation.wrapping_add(1), Ordering::Release);
            // SAFETY: locked above on this thread.
            unsafe { self.lock.unlock() };
            self.queue.notify_all();
            return BarrierWaitResult { is_leader: true };
        }
        self.arrived.store(arrived, Ordering::Relaxed);
        // SAFETY: locked above on this thread.
        unsafe { self.lock.unlock() };
        self.queue.wait_until(None, || {
            // Acquire: pairs with the leader's Release store.
            (self.generation.load(Ordering::Acquire) != generation).then_some(())
        });
        BarrierWaitResult { is_leader: false }
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier")
            .field("parties", &self.parties)
            .finish_non_exhaustive()
    }
}

/// What [`Barrier::wait`] tells a thread: whether it was this generation's leader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarrierWaitResult {
    is_leader: bool,
}

impl BarrierWaitResult {
    /// `true` for exactly one thread per generation: the last to arrive.
    ///
    /// # Examples
    /// ```
    /// assert!(routines::sync::Barrier::new(0).wait().is_leader());
    /// ```
    pub fn is_leader(&self) -> bool {
        self.is_leader
    }
}
