//! `spawn`: run a closure on a new OS thread and get its result as a future.

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::error::Panic;
use super::promise::{promise, Future};

/// Runs `f` on a new OS thread; the future fulfils with its return value, or is rejected
/// with the [`Panic`] (original payload) if `f` panics. If the OS refuses to create the
/// thread, the future is rejected at once with a `Panic` whose message says so (no panic
/// here). Allocations: the future's state, and what `std::thread` allocates. To run `f` on
/// a pool instead of a thread of its own, use `routines::scheduler::spawn_future` (or
/// `Scheduler::spawn_future`): the same contract, on the work-stealing scheduler.
///
/// # Examples
/// ```
/// let f = routines::future::spawn(|| 6 * 7);
/// assert_eq!(f.wait().unwrap(), 42);
///
/// let g = routines::future::spawn(|| -> u8 { panic!("boom") });
/// let panic = g.wait().unwrap_err().rejected().unwrap();
/// assert_eq!(panic.message(), Some("boom"));
/// ```
pub fn spawn<T, F>(f: F) -> Future<T, Panic>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (promise, future) = promise();
    let spawned =
        std::thread::Builder::new().spawn(move || match catch_unwind(AssertUnwindSafe(f)) {
            Ok(value) => promise.resolve(value),
            Err(payload) => promise.reject(Panic::new(payload)),
        });
    match spawned {
        Ok(_) => future,
        // The closure, and the promise in it, were dropped: `future` is broken. Report why.
        Err(e) => Future::failed(Panic::new(Box::new(format!(
            "could not spawn a thread: {e}"
        )))),
    }
}
