//! The `ThreadPool`'s queued job: a `FnOnce() + Send + 'static` closure stored in the queue
//! slot itself when it is small (up to `INLINE_WORDS` words, word-aligned: a closure that
//! captures an `Arc` and a couple of integers), boxed otherwise.
//!
//! A job is its bytes plus two functions monomorphised for the closure's type: one moves the
//! closure out and calls it, the other drops it uncalled. The bytes are either the closure
//! itself or a `Box<F>`'s pointer; the functions know which.

use ::core::fmt;
use ::core::mem::{self, ManuallyDrop, MaybeUninit};
use ::core::ptr;

/// Words of closure a job holds without allocating.
const INLINE_WORDS: usize = 3;

type Bytes = MaybeUninit<[usize; INLINE_WORDS]>;

/// A type-erased closure to run once (see the module docs).
pub(super) struct PoolJob {
    /// The closure (inline) or a `Box` pointer to it; initialised and owned until `call` or
    /// `discard` consumes it.
    bytes: Bytes,
    /// Moves the closure out of the bytes and runs it.
    call: unsafe fn(*mut Bytes),
    /// Drops the closure in the bytes without running it.
    discard: unsafe fn(*mut Bytes),
}

// SAFETY: built only from `F: Send` closures (`PoolJob::new`), which are the only thing it
// holds.
unsafe impl Send for PoolJob {}

impl PoolJob {
    /// Whether `F` is stored inline.
    const fn fits<F>() -> bool {
        mem::size_of::<F>() <= mem::size_of::<Bytes>()
            && mem::align_of::<F>() <= mem::align_of::<Bytes>()
    }

    /// Wraps `f`. Allocates only if `F` does not fit inline.
    pub(super) fn new<F: FnOnce() + Send + 'static>(f: F) -> Self {
        let mut bytes = Bytes::uninit();
        if Self::fits::<F>() {
            // SAFETY: `F` fits the bytes in size and alignment (checked above).
            unsafe { ptr::write(bytes.as_mut_ptr().cast::<F>(), f) };
            Self {
                bytes,
                call: call_inline::<F>,
                discard: discard_inline::<F>,
            }
        } else {
            // The one allocation of a large closure, freed when it is called or discarded.
            let boxed = Box::into_raw(Box::new(f));
            // SAFETY: a pointer fits the bytes (at least one word, word-aligned).
            unsafe { ptr::write(bytes.as_mut_ptr().cast::<*mut F>(), boxed) };
            Self {
                bytes,
                call: call_boxed::<F>,
                discard: discard_boxed::<F>,
            }
        }
    }

    /// Runs the closure (consuming the job). A panic of the closure propagates; the
    /// closure's captures are dropped by the unwinding as usual, and nothing twice.
    pub(super) fn run(self) {
        let mut this = ManuallyDrop::new(self);
        // `ManuallyDrop` keeps `Drop` from discarding the closure after the call consumed it.
        // SAFETY: the bytes hold the closure, consumed exactly once, here.
        unsafe { (this.call)(&raw mut this.bytes) };
    }
}

impl Drop for PoolJob {
    /// Drops the closure uncalled (a job dropped unrun under `shutdown_now`).
    fn drop(&mut self) {
        // SAFETY: the bytes hold the closure (`run` forgets the job instead of dropping it).
        unsafe { (self.discard)(&raw mut self.bytes) };
    }
}

impl fmt::Debug for PoolJob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolJob").finish_non_exhaustive()
    }
}

/// # Safety
/// `bytes` holds an initialised inline `F`, which the caller will not use again.
unsafe fn call_inline<F: FnOnce()>(bytes: *mut Bytes) {
    // SAFETY: the caller's contract; the read moves the closure out.
    let f = unsafe { ptr::read(bytes.cast::<F>()) };
    f();
}

/// # Safety
/// As `call_inline`.
unsafe fn discard_inline<F>(bytes: *mut Bytes) {
    // SAFETY: the caller's contract.
    unsafe { ptr::drop_in_place(bytes.cast::<F>()) };
}

/// # Safety
/// `bytes` holds a pointer from `Box::<F>::into_raw`, which the caller will not use again.
unsafe fn call_boxed<F: FnOnce()>(bytes: *mut Bytes) {
    // SAFETY: the caller's contract: we own the box.
    let f = unsafe { Box::from_raw(ptr::read(bytes.cast::<*mut F>())) };
    f();
}

/// # Safety
/// As `call_boxed`.
unsafe fn discard_boxed<F>(bytes: *mut Bytes) {
    // SAFETY: the caller's contract: we own the box.
    drop(unsafe { Box::from_raw(ptr::read(bytes.cast::<*mut F>())) });
}

#[cfg(all(test, not(routines_loom)))]
mod tests {
    use super::*;
    use crate::loom::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    /// Counts its drops.
    struct Token(Arc<AtomicUsize>);

    impl Drop for Token {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Small and large closures, run or discarded, panicking or not: each capture is
    /// dropped exactly once, and only the large one is boxed.
    #[test]
    fn inline_and_boxed_jobs_run_or_drop_their_captures_once() {
        let drops = Arc::new(AtomicUsize::new(0));
        let ran = Arc::new(AtomicUsize::new(0));
        let small = |t: Token, ran: Arc<AtomicUsize>| {
            move || {
                let _t = t;
                ran.fetch_add(1, Ordering::SeqCst);
            }
        };
        let large = |t: Token, ran: Arc<AtomicUsize>| {
            let pad = [7_u64; 8];
            move || {
                let _t = t;
                ran.fetch_add(usize::from(pad[7] == 7), Ordering::SeqCst);
            }
        };
        let token = || Token(Arc::clone(&drops));
        assert!(PoolJob::fits::<SmallCaptures<Token>>());
        assert!(!PoolJob::fits::<[u64; 8]>());

        PoolJob::new(small(token(), Arc::clone(&ran))).run();
        PoolJob::new(large(token(), Arc::clone(&ran))).run();
        assert_eq!(
            (ran.load(Ordering::SeqCst), drops.load(Ordering::SeqCst)),
            (2, 2)
        );

        drop(PoolJob::new(small(token(), Arc::clone(&ran))));
        drop(PoolJob::new(large(token(), Arc::clone(&ran))));
        assert_eq!(
            (ran.load(Ordering::SeqCst), drops.load(Ordering::SeqCst)),
            (2, 4)
        );

        let t = token();
        let panicking = PoolJob::new(move || {
            let _t = t;
            panic!("in a job");
        });
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| panicking.run()));
        assert!(caught.is_err());
        assert_eq!(drops.load(Ordering::SeqCst), 5);
    }

    /// The shape of a closure capturing one `T` and one `Arc` (for the `fits` check).
    type SmallCaptures<T> = (T, Arc<AtomicUsize>);
}
