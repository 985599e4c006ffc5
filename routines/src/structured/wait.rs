//! Cancellable forms of the library's blocking waits that live below this module.

use super::cancel::{CancelReason, CancelToken};
use crate::future::{Future, FutureError};

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
}
