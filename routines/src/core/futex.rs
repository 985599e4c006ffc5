//! The platform layer of parking: a 32-bit word threads can sleep on while it holds an
//! expected value ("futex semantics").
//!
//! * Linux: the `futex(2)` system call, `FUTEX_WAIT_PRIVATE` / `FUTEX_WAKE_PRIVATE`. Timed
//!   waits pass a relative timeout, which the kernel measures on `CLOCK_MONOTONIC`; the
//!   remaining time is recomputed from an [`Instant`] (also `CLOCK_MONOTONIC`) after every
//!   early return, so interruptions never stretch a deadline.
//! * Elsewhere, or with `--cfg routines_portable_park` (so that Linux CI can test it): a fixed
//!   table of `std::sync::{Mutex, Condvar}` buckets keyed by the word's address.
//! * Under loom: a loom `Mutex` + `Condvar` per word, so that a lost wake-up shows up as a
//!   deadlock in the model. A timed wait there yields once and returns, which models a
//!   timeout firing at an arbitrary point.
//!
//! Contract shared by all three: [`Futex::wait`] returns at once if the word does not hold
//! `expected`; otherwise it sleeps until a `wake_*` call made *after the word was changed*,
//! the deadline, or a spurious wake-up. The check and the sleep are atomic with respect to
//! `wake_*`. Callers always re-check their condition after `wait` returns.

use std::time::Instant;

use crate::loom::sync::atomic::{AtomicU32, Ordering};

/// A 32-bit atomic word with wait-while-equal and wake operations.
pub(crate) struct Futex {
    word: AtomicU32,
    #[cfg(routines_loom)]
    emulation: (crate::loom::sync::Mutex<()>, crate::loom::sync::Condvar),
}

impl Futex {
    crate::loom::const_fn_unless_loom! {
        pub(crate) fn new(value: u32) -> Self {
            Self {
                word: AtomicU32::new(value),
                #[cfg(routines_loom)]
                emulation: (crate::loom::sync::Mutex::new(()), crate::loom::sync::Condvar::new()),
            }
        }
    }

    /// The word itself, for loads and read-modify-writes.
    #[inline]
    pub(crate) fn word(&self) -> &AtomicU32 {
        &self.word
    }

    /// Sleeps while the word holds `expected`, until woken or until `deadline` (`None`:
    /// no deadline). May return spuriously.
    pub(crate) fn wait(&self, expected: u32, deadline: Option<Instant>) {
        imp::wait(self, expected, deadline);
    }

    /// Wakes at most one thread sleeping on this word.
    pub(crate) fn wake_one(&self) {
        imp::wake(self, false);
    }

    /// Wakes every thread sleeping on this word.
    pub(crate) fn wake_all(&self) {
        imp::wake(self, true);
    }
}

impl ::core::fmt::Debug for Futex {
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        f.debug_tuple("Futex")
            .field(&self.word.load(Ordering::Relaxed))
            .finish()
    }
}

#[cfg(all(target_os = "linux", not(routines_loom), not(routines_portable_park)))]
mod imp {
    use super::Futex;
    use std::time::Instant;

    pub(super) fn wait(futex: &Futex, expected: u32, deadline: Option<Instant>) {
        let timeout = match deadline {
            None => None,
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return;
                }
                // A remaining time too large for `time_t` waits without a deadline; the
                // caller's loop re-checks the deadline after every return anyway.
                libc::time_t::try_from(left.as_secs())
                    .ok()
                    .map(|tv_sec| libc::timespec {
                        tv_sec,
                        // Below 10^9: fits every `c_long`.
                        tv_nsec: left.subsec_nanos() as libc::c_long,
                    })
            }
        };
        let timeout_ptr = timeout
            .as_ref()
            .map_or(::core::ptr::null(), |t| t as *const libc::timespec);
        // The kernel only reads both pointers. EINTR, EAGAIN and ETIMEDOUT all mean "return
        // now" to us: the caller re-checks its condition and deadline.
        // The word is a live, aligned `AtomicU32` (layout of `u32`) for the whole call.
        // SAFETY: valid word pointer (above); `timeout_ptr` is null or points to this frame.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                futex.word().as_ptr(),
                libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
                expected,
                timeout_ptr,
            );
        }
    }

    pub(super) fn wake(futex: &Futex, all: bool) {
        let count: libc::c_int = if all { libc::c_int::MAX } else { 1 };
        // SAFETY: FUTEX_WAKE uses the (live, aligned) word's address only as a key.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                futex.word().as_ptr(),
                libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
                count,
            );
        }
    }
}

#[cfg(all(
    not(routines_loom),
    any(not(target_os = "linux"), routines_portable_park)
))]
mod imp {
    //! Portable fallback: a table of mutex/condvar buckets keyed by address. The bucket mutex
    //! makes "check the word, then sleep" atomic with respect to a wake, which takes the same
    //! mutex after the word was changed. Buckets are shared by unrelated words, so a wake
    //! notifies the whole bucket: correct (sleepers re-check), if less precise than a futex.

    use super::Futex;
    use std::sync::{Condvar, Mutex, PoisonError};
    use std::time::Instant;

    use crate::loom::sync::atomic::Ordering;

    const BUCKETS: usize = 64;

    struct Bucket {
        lock: Mutex<()>,
        cond: Condvar,
    }

    static TABLE: [Bucket; BUCKETS] = [const {
        Bucket {
            lock: Mutex::new(()),
            cond: Condvar::new(),
        }
    }; BUCKETS];

    fn bucket(futex: &Futex) -> &'static Bucket {
        let addr = futex.word() as *const _ as usize;
        // Fibonacci hashing of the address; the low bits are alignment.
        &TABLE[(addr >> 2).wrapping_mul(0x9E37_79B9_7F4A_7C15_u64 as usize) % BUCKETS]
    }

    pub(super) fn wait(futex: &Futex, expected: u32, deadline: Option<Instant>) {
        let bucket = bucket(futex);
        let guard = bucket.lock.lock().unwrap_or_else(PoisonError::into_inner);
        // SeqCst (under the bucket lock): the waker changed the word before taking the lock.
        if futex.word().load(Ordering::SeqCst) != expected {
            return;
        }
        match deadline {
            None => drop(bucket.cond.wait(guard)),
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if !left.is_zero() {
                    drop(bucket.cond.wait_timeout(guard, left));
                }
            }
        }
    }

    pub(super) fn wake(futex: &Futex, _all: bool) {
        let bucket = bucket(futex);
        drop(bucket.lock.lock().unwrap_or_else(PoisonError::into_inner));
        bucket.cond.notify_all();
    }
}

#[cfg(routines_loom)]
mod imp {
    use super::Futex;
    use std::time::Instant;

    use crate::loom::sync::atomic::Ordering;

    pub(super) fn wait(futex: &Futex, expected: u32, deadline: Option<Instant>) {
        let (lock, cond) = &futex.emulation;
        let guard = lock.lock().unwrap();
        // Acquire: pairs with the waker's Release change of the word (made before it locked).
        if futex.word().load(Ordering::Acquire) != expected {
            return;
        }
        if deadline.is_some() {
            // A timeout that fires "now": let the others run once, then return.
            drop(guard);
            crate::loom::thread::yield_now();
        } else {
            drop(cond.wait(guard).unwrap());
        }
    }

    pub(super) fn wake(futex: &Futex, all: bool) {
        let (lock, cond) = &futex.emulation;
        drop(lock.lock().unwrap());
        if all {
            cond.notify_all();
        } else {
            cond.notify_one();
        }
    }
}
