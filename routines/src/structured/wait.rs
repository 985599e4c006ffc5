//! Cancellable forms of the library's blocking waits that live below this module (future
//! wait, semaphore acquire; sleep and the `select!` receiver are in `cancel.rs`).

use super::cancel::{CancelReason, CancelToken};
use crate::future::{Future, FutureError};
use crate::sync::{Semaphore, SemaphorePermit};

/// A semaphore to wake from a cancellation callback (which must be `'static + Send`).
struct WakeSemaphore(*const Semaphore);

// SAFETY: the pointer is only dereferenced to call `wake_waiters` (`&self`, and `Semaphore`
// is `Sync`), and only while the semaphore is alive (see `CancelToken::acquire`).
unsafe impl Send for WakeSemaphore {}

impl WakeSemaphore {
    fn wake(&self) {
        // SAFETY: `CancelToken::acquire` drops the registration holding us before its
        // borrow of the semaphore ends, and a registration's drop either removes the
        // callback or waits until it has finished: no call happens after the borrow.
        unsafe { (*self.0).wake_waiters() }
    }
}

impl CancelToken {
    /// Waits for `future` to settle unless this token is cancelled first; the outcome by
    /// reference, or `Err(reason)` (at once if already cancelled). The future is not
    /// consumed either way. Cancellation wakes the wait through an `on_cancel` callback
    /// (one allocation per call), so it is prompt, not polled.
    ///
    /// # Errors
    /// The [`CancelReason`] if the token was cancelled before the future settled.
    ///
    /// # Examples
    /// ```
    /// use routines::future::promise;
    /// use routines::structured::CancelToken;
    /// let (_p, f) = promise::<u8, ()>();
    /// let t = CancelToken::new();
    /// let t2 = t.clone();
    /// std::thread::spawn(move || t2.cancel());
    /// assert!(t.wait_future(&f).is_err()); // never settles; cancellation ends the wait
    /// ```
    #[allow(
        clippy::type_complexity,
        reason = "the future's own borrowed outcome, wrapped in the cancellation result"
    )]
    pub fn wait_future<'f, T, E>(
        &self,
        future: &'f Future<T, E>,
    ) -> Result<Result<&'f T, &'f FutureError<E>>, CancelReason>
    where
        T: Send + 'static,
        E: Send + 'static,
    {
        if let Some(outcome) = future.try_get() {
            return Ok(outcome);
        }
        if let Some(reason) = self.reason() {
            return Err(reason);
        }
        let registration = self.on_cancel(future.waker());
        future.wait_or(|| self.reason().is_some());
        drop(registration);
        match future.try_get() {
            Some(outcome) => Ok(outcome),
            None => Err(self.reason().expect("the wait ended without a settle")),
        }
    }

    /// Takes a permit from `semaphore` unless this token is cancelled first (at once if it
    /// already is and no permit is free). A free permit is taken even when cancelled, as
    /// `try_acquire` would. Cancellation wakes the wait through an `on_cancel` callback (one
    /// allocation per call that has to wait).
    ///
    /// # Errors
    /// The [`CancelReason`] if the token was cancelled before a permit was free.
    ///
    /// # Examples
    /// ```
    /// use routines::structured::CancelToken;
    /// use routines::sync::Semaphore;
    /// let sem = Semaphore::new(0);
    /// let t = CancelToken::new();
    /// let t2 = t.clone();
    /// std::thread::spawn(move || t2.cancel());
    /// assert!(t.acquire(&sem).is_err()); // no permit ever comes; cancellation ends the wait
    /// ```
    pub fn acquire<'s>(
        &self,
        semaphore: &'s Semaphore,
    ) -> Result<SemaphorePermit<'s>, CancelReason> {
        if let Some(permit) = semaphore.try_acquire() {
            return Ok(permit);
        }
        if let Some(reason) = self.reason() {
            return Err(reason);
        }
        let waker = WakeSemaphore(semaphore);
        // Dropped before we return (also when unwinding): see `WakeSemaphore::wake`.
        let registration = self.on_cancel(move || waker.wake());
        let permit = semaphore.acquire_or_stop(&|| self.reason().is_some());
        drop(registration);
        permit.ok_or_else(|| self.reason().expect("the wait ended without a permit"))
    }
}
