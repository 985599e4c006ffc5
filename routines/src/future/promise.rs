//! A promise and its future: one value or error, settled once, waited for by parking.
//!
//! # The shared state
//!
//! One allocation (`Inner`) holds the outcome cell, an optional continuation, a consumer
//! count and the waiters' [`WaitQueue`]. The state word has two bits, each set once by one
//! `fetch_or`:
//!
//! | bit        | set by                                  | means                               |
//! |------------|-----------------------------------------|-------------------------------------|
//! | `SETTLED`  | the promise side (`resolve`, `reject`, its drop) | the outcome is written       |
//! | `CALLBACK` | the consumer side (`map`, `and_then`, the combinators) | a continuation is written |
//!
//! Each side writes its cell *before* setting its bit (AcqRel), so whichever side sets the
//! second bit sees both cells and runs the continuation: on the settling thread if the
//! continuation came first, on the installing thread if the outcome did. Nothing is locked,
//! so a continuation never runs under an internal lock. Waiters block on the `WaitQueue`
//! until `SETTLED` (the settler notifies after setting it).
//!
//! Who touches the outcome cell: the promise writes it once, before `SETTLED`; after
//! `SETTLED` it is read through shared references (one `Future`, or any number of
//! `SharedFuture`s), and taken by value only by an owner that is the sole consumer: a
//! `Future` consumed by `wait`, or the continuation once both bits are set (installing it
//! consumed the `Future`).

use ::core::fmt;
use ::core::marker::PhantomData;
use ::core::mem::ManuallyDrop;
use ::core::ptr;
use ::core::task::Poll;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use super::error::{FutureError, Panic};
use crate::core::{deadline_after, spin_until, WaitQueue};
use crate::loom::cell::UnsafeCell;
use crate::loom::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use crate::loom::sync::Arc;

/// What a future settles to.
pub(crate) type Outcome<T, E> = Result<T, FutureError<E>>;

/// A continuation: runs once with the outcome. One allocation each (`map`, `and_then`, one
/// per input of a combinator).
type Callback<T, E> = Box<dyn FnOnce(Outcome<T, E>) + Send + 'static>;

const SETTLED: u32 = 1;
const CALLBACK: u32 = 2;

struct Inner<T, E> {
    /// `SETTLED | CALLBACK` bits; see the module docs.
    state: AtomicU32,
    /// Written once by the promise side before `SETTLED`; see the module docs for readers.
    outcome: UnsafeCell<Option<Outcome<T, E>>>,
    /// Written once by the consumer side before `CALLBACK`; taken by whoever sets the
    /// second bit.
    callback: UnsafeCell<Option<Callback<T, E>>>,
    /// Live consumer handles (`Future`, `SharedFuture`s); an installed continuation counts
    /// as one for good. Zero means the promise is canceled.
    consumers: AtomicUsize,
    /// Waiters park here until `SETTLED`.
    ready: WaitQueue,
}

// SAFETY: the outcome moves from the settling thread to a consumer's (`T`, `E`: Send) and the
// continuation is `Send`; the state bits give each cell one writer before its bit and
// readers after it (module docs). Shared `&T` access across threads is gated by the handles'
// own bounds (`PhantomData<(T, E)>` in `Future`/`SharedFuture`).
unsafe impl<T: Send, E: Send> Send for Inner<T, E> {}
// SAFETY: as above.
unsafe impl<T: Send, E: Send> Sync for Inner<T, E> {}

impl<T, E> Inner<T, E> {
    fn new(outcome: Option<Outcome<T, E>>) -> Arc<Self> {
        let state = if outcome.is_some() { SETTLED } else { 0 };
        Arc::new(Self {
            state: AtomicU32::new(state),
            outcome: UnsafeCell::new(outcome),
            callback: UnsafeCell::new(None),
            consumers: AtomicUsize::new(1),
            ready: WaitQueue::new(),
        })
    }

    #[inline]
    fn is_settled(&self) -> bool {
        // Acquire: pairs with the AcqRel `fetch_or(SETTLED)` in `settle`; the outcome is
        // visible.
        self.state.load(Ordering::Acquire) & SETTLED != 0
    }

    /// The promise side: writes the outcome, then runs the continuation or wakes waiters.
    /// Called once (the promise is consumed or dropped).
    fn settle(&self, outcome: Outcome<T, E>) {
        // SAFETY: only the promise side writes the cell, once, and nobody reads it before
        // `SETTLED` (set below).
        self.outcome.with_mut(|p| unsafe { *p = Some(outcome) });
        // AcqRel: Release publishes the outcome to whoever sees SETTLED (`is_settled`,
        // `install`); Acquire pairs with the Release of `install`, making the continuation
        // visible if CALLBACK was already set.
        let before = self.state.fetch_or(SETTLED, Ordering::AcqRel);
        if before & CALLBACK != 0 {
            // SAFETY: both bits are set and we set the second one.
            unsafe { self.run_callback() };
        } else {
            self.ready.notify_all();
        }
    }

    /// The consumer side: installs the continuation, running it now if the outcome is
    /// already there. Called once (it consumes the `Future`).
    fn install(&self, callback: Callback<T, E>) {
        // SAFETY: only the (sole) consumer writes the cell, once, and `settle` reads it only
        // after seeing CALLBACK (set below).
        self.callback.with_mut(|p| unsafe { *p = Some(callback) });
        // AcqRel: Release publishes the continuation to `settle`; Acquire pairs with its
        // Release, making the outcome visible if SETTLED was already set.
        let before = self.state.fetch_or(CALLBACK, Ordering::AcqRel);
        if before & SETTLED != 0 {
            // SAFETY: both bits are set and we set the second one.
            unsafe { self.run_callback() };
        }
    }

    /// Takes the outcome and the continuation and runs it.
    ///
    /// # Safety
    /// Both bits are set, and the caller set the second one (so it is the only thread that
    /// runs this, and it synchronised with the other bit's writer).
    unsafe fn run_callback(&self) {
        // SAFETY: the caller's guarantee: both cells are written and published, and nobody
        // else reads them any more (the Future that installed the continuation is gone).
        let callback = self.callback.with_mut(|p| unsafe { (*p).take() });
        // SAFETY: as above.
        let outcome = self.outcome.with_mut(|p| unsafe { (*p).take() });
        if let (Some(callback), Some(outcome)) = (callback, outcome) {
            callback(outcome);
        }
    }

    /// Borrows the outcome if settled.
    ///
    /// # Safety
    /// The caller is a consumer handle (a `Future` or `SharedFuture`) and the returned
    /// borrow lives no longer than its `&self`: only an owned `Future` takes the outcome,
    /// and no shared borrow of that handle can be alive then.
    unsafe fn peek(&self) -> Option<Result<&T, &FutureError<E>>> {
        if !self.is_settled() {
            return None;
        }
        // SAFETY: SETTLED was seen (Acquire): the cell is written and will not change while
        // the caller's borrow lives (caller's guarantee).
        let outcome = self.outcome.with(|p| unsafe { &*p });
        outcome.as_ref().map(Result::as_ref)
    }

    /// Waits until settled or until `deadline`; `true` if settled. A bounded spin first (a
    /// settle within microseconds then costs no system call on either side), then a park.
    fn wait_until(&self, deadline: Option<Instant>) -> bool {
        self.is_settled()
            || (deadline.is_none_or(|d| Instant::now() < d) && spin_until(|| self.is_settled()))
            || self
                .ready
                .wait_until(deadline, || self.is_settled().then_some(()))
                .is_some()
    }
}

/// Makes a promise and the future it settles. One allocation (the shared state).
///
/// # Examples
/// ```
/// let (promise, future) = routines::future::promise::<u32, String>();
/// std::thread::spawn(move || promise.resolve(42));
/// assert_eq!(future.wait().unwrap(), 42);
/// ```
pub fn promise<T, E>() -> (Promise<T, E>, Future<T, E>) {
    let inner = Inner::new(None);
    (
        Promise {
            inner: Some(Arc::clone(&inner)),
            _marker: PhantomData,
        },
        Future {
            inner,
            _marker: PhantomData,
        },
    )
}

/// The producing half: settles its [`Future`] once, by [`resolve`](Promise::resolve),
/// [`reject`](Promise::reject), or (as [`FutureError::Broken`]) by being dropped.
pub struct Promise<T, E> {
    /// `None` only after settling (in `resolve`/`reject`, before the drop).
    inner: Option<Arc<Inner<T, E>>>,
    _marker: PhantomData<fn(T, E)>,
}

impl<T, E> Promise<T, E> {
    /// Fulfils the future with `value`, waking its waiters (or running its continuation on
    /// this thread).
    ///
    /// # Examples
    /// ```
    /// let (p, f) = routines::future::promise::<u8, ()>();
    /// p.resolve(1);
    /// assert_eq!(f.wait(), Ok(1));
    /// ```
    pub fn resolve(self, value: T) {
        self.settle(Ok(value));
    }

    /// Rejects the future with `error`.
    ///
    /// # Examples
    /// ```
    /// let (p, f) = routines::future::promise::<u8, &str>();
    /// p.reject("bad");
    /// assert!(f.wait().unwrap_err().is_rejected());
    /// ```
    pub fn reject(self, error: E) {
        self.settle(Err(FutureError::Rejected(error)));
    }

    /// `true` once every consumer (the `Future`, every `SharedFuture` made from it) is gone:
    /// the outcome would be dropped unseen, so the producer may stop early. A future with a
    /// continuation (`map`, `and_then`, a combinator) counts as consumed for good.
    ///
    /// # Examples
    /// ```
    /// let (p, f) = routines::future::promise::<u8, ()>();
    /// assert!(!p.is_canceled());
    /// drop(f);
    /// assert!(p.is_canceled());
    /// ```
    pub fn is_canceled(&self) -> bool {
        self.inner
            .as_ref()
            // Relaxed: a hint; no data is read on the strength of it.
            .is_none_or(|inner| inner.consumers.load(Ordering::Relaxed) == 0)
    }

    pub(crate) fn settle(mut self, outcome: Outcome<T, E>) {
        if let Some(inner) = self.inner.take() {
            inner.settle(outcome);
        }
    }
}

impl<T, E> Drop for Promise<T, E> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            inner.settle(Err(FutureError::Broken));
        }
    }
}

impl<T, E> fmt::Debug for Promise<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Promise")
            .field("canceled", &self.is_canceled())
            .finish_non_exhaustive()
    }
}

/// The consuming half: the value or error its [`Promise`] settles to, waited for by
/// parking (never by polling with sleeps).
pub struct Future<T, E> {
    inner: Arc<Inner<T, E>>,
    /// Sharing `&Future` across threads shares `&T` and `&E` (`try_get`).
    _marker: PhantomData<(T, E)>,
}

impl<T, E> Future<T, E> {
    /// A future already fulfilled with `value`. One allocation.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(routines::future::Future::<u8, ()>::ready(3).wait(), Ok(3));
    /// ```
    pub fn ready(value: T) -> Self {
        Self::settled(Ok(value))
    }

    /// A future already rejected with `error`. One allocation.
    ///
    /// # Examples
    /// ```
    /// let f = routines::future::Future::<u8, &str>::failed("no");
    /// assert_eq!(f.wait().unwrap_err().rejected(), Some("no"));
    /// ```
    pub fn failed(error: E) -> Self {
        Self::settled(Err(FutureError::Rejected(error)))
    }

    fn settled(outcome: Outcome<T, E>) -> Self {
        Self {
            inner: Inner::new(Some(outcome)),
            _marker: PhantomData,
        }
    }

    /// `true` once settled (then `try_get` returns the outcome and `wait` does not block).
    ///
    /// # Examples
    /// ```
    /// let (p, f) = routines::future::promise::<u8, ()>();
    /// assert!(!f.is_ready());
    /// p.resolve(1);
    /// assert!(f.is_ready());
    /// ```
    #[inline]
    pub fn is_ready(&self) -> bool {
        self.inner.is_settled()
    }

    /// The outcome by reference if settled; `None` while pending. Never blocks and does
    /// not consume the future.
    ///
    /// # Examples
    /// ```
    /// let (p, f) = routines::future::promise::<u8, ()>();
    /// assert!(f.try_get().is_none());
    /// p.resolve(5);
    /// assert_eq!(f.try_get(), Some(Ok(&5)));
    /// ```
    pub fn try_get(&self) -> Option<Result<&T, &FutureError<E>>> {
        // SAFETY: we are the sole consumer handle and the borrow is tied to `&self`; only
        // `wait(self)` takes the outcome.
        unsafe { self.inner.peek() }
    }

    /// [`try_get`](Self::try_get) as a [`Poll`].
    ///
    /// # Examples
    /// ```
    /// let f = routines::future::Future::<u8, ()>::ready(1);
    /// assert!(f.poll().is_ready());
    /// ```
    pub fn poll(&self) -> Poll<Result<&T, &FutureError<E>>> {
        self.try_get().map_or(Poll::Pending, Poll::Ready)
    }

    /// Waits for the outcome and takes it.
    ///
    /// # Errors
    /// The rejection ([`FutureError::Rejected`]), a dropped promise ([`FutureError::Broken`])
    /// or a panicking continuation ([`FutureError::Panicked`]).
    ///
    /// # Examples
    /// ```
    /// let (p, f) = routines::future::promise::<u8, ()>();
    /// drop(p);
    /// assert!(f.wait().unwrap_err().is_broken());
    /// ```
    pub fn wait(self) -> Outcome<T, E> {
        self.inner.wait_until(None);
        let inner = self.into_inner();
        // SAFETY: settled (seen with Acquire above) and we own the only consumer handle:
        // nobody else reads the cell, and no borrow of ours is alive.
        let outcome = inner.outcome.with_mut(|p| unsafe { (*p).take() });
        // Relaxed: a hint for `is_canceled`; nothing is published.
        inner.consumers.fetch_sub(1, Ordering::Relaxed);
        outcome.expect("a settled future holds its outcome until taken")
    }

    /// Waits at most `timeout` (`Duration::MAX`: forever); the outcome by reference if it
    /// settled, `None` if the time ran out. The future is not consumed either way.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let (p, f) = routines::future::promise::<u8, ()>();
    /// assert!(f.wait_timeout(Duration::from_millis(1)).is_none());
    /// p.resolve(2);
    /// assert_eq!(f.wait_timeout(Duration::from_millis(1)), Some(Ok(&2)));
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> Option<Result<&T, &FutureError<E>>> {
        self.inner.wait_until(deadline_after(timeout));
        self.try_get()
    }

    /// Waits until `deadline`; as [`wait_timeout`](Self::wait_timeout).
    ///
    /// # Examples
    /// ```
    /// let f = routines::future::Future::<u8, ()>::ready(1);
    /// assert!(f.wait_deadline(std::time::Instant::now()).is_some());
    /// ```
    pub fn wait_deadline(&self, deadline: Instant) -> Option<Result<&T, &FutureError<E>>> {
        self.inner.wait_until(Some(deadline));
        self.try_get()
    }

    /// Makes a future that many threads can wait on (each gets a clone of the outcome).
    ///
    /// # Examples
    /// ```
    /// let (p, f) = routines::future::promise::<u8, ()>();
    /// let shared = f.shared();
    /// let other = shared.clone();
    /// p.resolve(9);
    /// assert_eq!((shared.wait(), other.wait()), (Ok(9), Ok(9)));
    /// ```
    pub fn shared(self) -> SharedFuture<T, E> {
        SharedFuture {
            inner: self.into_inner(),
            _marker: PhantomData,
        }
    }

    /// The shared state, without running our drop (the consumer count moves with it).
    fn into_inner(self) -> Arc<Inner<T, E>> {
        let this = ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again, so the `Arc` is moved out once.
        unsafe { ptr::read(&this.inner) }
    }

    /// Waits until settled or until `stop()` (checked after every wake-up; whoever makes it
    /// true calls the closure from [`waker`](Self::waker)). `true` if settled.
    pub(crate) fn wait_or(&self, stop: impl Fn() -> bool) -> bool {
        self.inner
            .ready
            .wait_until(None, || (self.inner.is_settled() || stop()).then_some(()));
        self.inner.is_settled()
    }

    /// Wakes this future's waiters (so that a `wait_or` re-checks its `stop`).
    pub(crate) fn waker(&self) -> impl Fn() + Send + Sync + 'static
    where
        T: Send + 'static,
        E: Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        move || {
            inner.ready.notify_all();
        }
    }

    /// Runs `callback` with the outcome once settled: on the settling thread, or on this
    /// one at once if already settled. One allocation (the box).
    pub(crate) fn on_settle(self, callback: impl FnOnce(Outcome<T, E>) + Send + 'static) {
        self.into_inner().install(Box::new(callback));
    }
}

impl<T: Send + 'static, E: Send + 'static> Future<T, E> {
    /// A future of `f(value)`: `f` runs on the thread that fulfils this future (at once on
    /// this thread if it already is), never under an internal lock. Errors pass through; a
    /// panic in `f` becomes [`FutureError::Panicked`] with its payload. Two allocations (the
    /// new future and the continuation).
    ///
    /// # Examples
    /// ```
    /// let (p, f) = routines::future::promise::<u8, ()>();
    /// let doubled = f.map(|v| u32::from(v) * 2);
    /// p.resolve(21);
    /// assert_eq!(doubled.wait(), Ok(42));
    /// ```
    pub fn map<U, F>(self, f: F) -> Future<U, E>
    where
        U: Send + 'static,
        F: FnOnce(T) -> U + Send + 'static,
    {
        let (promise, future) = promise();
        self.on_settle(move |outcome| match outcome {
            Ok(value) => promise.settle(
                catch_unwind(AssertUnwindSafe(|| f(value)))
                    .map_err(|payload| FutureError::Panicked(Panic::new(payload))),
            ),
            Err(e) => promise.settle(Err(e)),
        });
        future
    }

    /// A future of the future `f(value)` returns (flattened): `f` runs as in
    /// [`map`](Self::map), and the result settles when the returned future does.
    ///
    /// # Examples
    /// ```
    /// use routines::future::Future;
    /// let f = Future::<u8, ()>::ready(2).and_then(|v| Future::ready(v + 1));
    /// assert_eq!(f.wait(), Ok(3));
    /// ```
    pub fn and_then<U, F>(self, f: F) -> Future<U, E>
    where
        U: Send + 'static,
        F: FnOnce(T) -> Future<U, E> + Send + 'static,
    {
        let (promise, future) = promise();
        self.on_settle(move |outcome| match outcome {
            Ok(value) => match catch_unwind(AssertUnwindSafe(|| f(value))) {
                Ok(next) => next.on_settle(move |outcome| promise.settle(outcome)),
                Err(payload) => promise.settle(Err(FutureError::Panicked(Panic::new(payload)))),
            },
            Err(e) => promise.settle(Err(e)),
        });
        future
    }
}

impl<T, E> Drop for Future<T, E> {
    fn drop(&mut self) {
        // Relaxed: a hint for `is_canceled`; nothing is published.
        self.inner.consumers.fetch_sub(1, Ordering::Relaxed);
    }
}

impl<T: fmt::Debug, E: fmt::Debug> fmt::Debug for Future<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Future")
            .field("outcome", &self.try_get())
            .finish()
    }
}

/// A future any number of threads can wait on; each gets a clone of the outcome. Made by
/// [`Future::shared`]; cloning makes another waiter.
pub struct SharedFuture<T, E> {
    inner: Arc<Inner<T, E>>,
    /// Clones on several threads read one `T`/`E` at once.
    _marker: PhantomData<(T, E)>,
}

impl<T, E> SharedFuture<T, E> {
    /// `true` once settled.
    ///
    /// # Examples
    /// ```
    /// assert!(routines::future::Future::<u8, ()>::ready(1).shared().is_ready());
    /// ```
    pub fn is_ready(&self) -> bool {
        self.inner.is_settled()
    }

    /// The outcome by reference if settled; `None` while pending.
    ///
    /// # Examples
    /// ```
    /// let s = routines::future::Future::<u8, ()>::ready(1).shared();
    /// assert_eq!(s.try_get(), Some(Ok(&1)));
    /// ```
    pub fn try_get(&self) -> Option<Result<&T, &FutureError<E>>> {
        // SAFETY: no `SharedFuture` takes the outcome (only reads it), and a `Future` that
        // could take it was consumed to make us.
        unsafe { self.inner.peek() }
    }
}

impl<T: Clone, E: Clone> SharedFuture<T, E> {
    /// Waits for the outcome; a clone of it.
    ///
    /// # Errors
    /// As [`Future::wait`] (a panic's copy carries its message, see [`Panic`]).
    ///
    /// # Examples
    /// ```
    /// let s = routines::future::Future::<u8, ()>::ready(4).shared();
    /// assert_eq!(s.wait(), Ok(4));
    /// assert_eq!(s.wait(), Ok(4));
    /// ```
    pub fn wait(&self) -> Outcome<T, E> {
        self.inner.wait_until(None);
        self.cloned().expect("settled")
    }

    /// Waits at most `timeout`; a clone of the outcome, or `None` if the time ran out.
    ///
    /// # Examples
    /// ```
    /// let (_p, f) = routines::future::promise::<u8, ()>();
    /// assert!(f.shared().wait_timeout(std::time::Duration::from_millis(1)).is_none());
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> Option<Outcome<T, E>> {
        self.inner.wait_until(deadline_after(timeout));
        self.cloned()
    }

    /// Waits until `deadline`; as [`wait_timeout`](Self::wait_timeout).
    ///
    /// # Examples
    /// ```
    /// let s = routines::future::Future::<u8, ()>::ready(1).shared();
    /// assert_eq!(s.wait_deadline(std::time::Instant::now()), Some(Ok(1)));
    /// ```
    pub fn wait_deadline(&self, deadline: Instant) -> Option<Outcome<T, E>> {
        self.inner.wait_until(Some(deadline));
        self.cloned()
    }

    fn cloned(&self) -> Option<Outcome<T, E>> {
        self.try_get()
            .map(|r| r.cloned().map_err(FutureError::clone))
    }
}

impl<T, E> Clone for SharedFuture<T, E> {
    fn clone(&self) -> Self {
        // Relaxed: a new handle is made from a live one, which keeps the count above 0.
        self.inner.consumers.fetch_add(1, Ordering::Relaxed);
        Self {
            inner: Arc::clone(&self.inner),
            _marker: PhantomData,
        }
    }
}

impl<T, E> Drop for SharedFuture<T, E> {
    fn drop(&mut self) {
        // Relaxed: a hint for `is_canceled`.
        self.inner.consumers.fetch_sub(1, Ordering::Relaxed);
    }
}

impl<T: fmt::Debug, E: fmt::Debug> fmt::Debug for SharedFuture<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedFuture")
            .field("outcome", &self.try_get())
            .finish()
    }
}
