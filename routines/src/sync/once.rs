//! `Once`: run an initialisation exactly once, however many threads ask.

use ::core::fmt;

use crate::core::WaitQueue;
use crate::loom::sync::atomic::{AtomicU32, Ordering};

/// States of [`Once::state`].
///
/// | value        | meaning                                                        |
/// |--------------|----------------------------------------------------------------|
/// | `INCOMPLETE` | not run, or the last run panicked                              |
/// | `RUNNING`    | one thread is running the closure; others park on the queue    |
/// | `COMPLETE`   | a closure returned; every later call returns at once           |
const INCOMPLETE: u32 = 0;
const RUNNING: u32 = 1;
const COMPLETE: u32 = 2;

/// Runs a closure exactly once to completion.
///
/// Concurrent callers of [`call_once`](Self::call_once) block until the running closure
/// finishes. No poisoning: if the closure panics, the panic propagates to its caller, the
/// `Once` returns to "not run", and the next caller (or a blocked one) runs its own closure.
///
/// # Examples
/// ```
/// use routines::sync::Once;
/// static INIT: Once = Once::new();
/// let mut runs = 0;
/// INIT.call_once(|| runs += 1);
/// INIT.call_once(|| runs += 1);
/// assert_eq!(runs, 1);
/// assert!(INIT.is_completed());
/// ```
pub struct Once {
    state: AtomicU32,
    queue: WaitQueue,
}

impl Once {
    crate::loom::const_fn_unless_loom! {
        /// A `Once` that has not run.
        ///
        /// # Examples
        /// ```
        /// assert!(!routines::sync::Once::new().is_completed());
        /// ```
        pub fn new() -> Self {
            Self {
                state: AtomicU32::new(INCOMPLETE),
                queue: WaitQueue::new(),
            }
        }
    }

    /// Runs `f` if no call has completed yet; otherwise returns at once. When this returns
    /// normally, some closure has completed and its effects are visible to this thread.
    ///
    /// # Panics
    /// If `f` panics (the panic propagates; the `Once` can be run again).
    ///
    /// # Examples
    /// ```
    /// let once = routines::sync::Once::new();
    /// let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
    ///     once.call_once(|| panic!("first try fails"))
    /// }));
    /// assert!(r.is_err() && !once.is_completed());
    /// once.call_once(|| {});
    /// assert!(once.is_completed());
    /// ```
    #[inline]
    pub fn call_once(&self, f: impl FnOnce()) {
        if !self.is_completed() {
            self.call_once_slow(f);
        }
    }

    #[cold]
    fn call_once_slow(&self, f: impl FnOnce()) {
        loop {
            // Acquire (on failure reading COMPLETE): pairs with the Release store below.
            match self.state.compare_exchange(
                INCOMPLETE,
                RUNNING,
                Ordering::Acquire,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(COMPLETE) => return,
                Err(_) => {
                    self.queue.wait_until(None, || {
                        (self.state.load(Ordering::Relaxed) != RUNNING).then_some(())
                    });
                }
            }
        }

        /// Resets to `INCOMPLETE` and wakes the parked callers if `f` unwinds.
        struct Reset<'a>(&'a Once);
        impl Drop for Reset<'_> {
            fn drop(&mut self) {
                self.0.state.store(INCOMPLETE, Ordering::Relaxed);
                self.0.queue.notify_all();
            }
        }
        let reset = Reset(self);
        f();
        ::core::mem::forget(reset);
        // Release: pairs with the Acquire loads in `is_completed`/`call_once_slow`;
        // publishes the closure's effects.
        self.state.store(COMPLETE, Ordering::Release);
        self.queue.notify_all();
    }

    /// `true` once a closure has completed.
    ///
    /// # Examples
    /// ```
    /// let once = routines::sync::Once::new();
    /// once.call_once(|| {});
    /// assert!(once.is_completed());
    /// ```
    #[inline]
    pub fn is_completed(&self) -> bool {
        // Acquire: pairs with the Release store of COMPLETE.
        self.state.load(Ordering::Acquire) == COMPLETE
    }
}

impl Default for Once {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Once {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Once")
            .field("completed", &self.is_completed())
            .finish()
    }
}
