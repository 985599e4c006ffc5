//! `CancelToken`: cooperative, monotonic cancellation with children, deadlines and
//! callbacks.
//!
//! # Protocol
//!
//! The state word goes once from `ACTIVE` to a reason (`CANCELLED` or `DEADLINE`) by CAS;
//! the winner of that CAS is the cancelling thread. It then wakes `wait`ers, disconnects the
//! token's channel (for `select!`), and drains the callback list: under the list's lock it
//! takes the first callback and marks it *running*, releases the lock, runs it (a panic is
//! caught and the next one runs), marks it done, and repeats until the list is empty. So no
//! callback runs with an internal lock held, and each runs once.
//!
//! A registration takes the same lock: if the state is still `ACTIVE` it appends its
//! callback (a drain in progress will reach it), otherwise it runs the callback at once on
//! its own thread. Dropping a `Registration` removes its callback if still queued; if the
//! callback is running on another thread, the drop waits for it to finish (on
//! `callback_done`); if it is running on this thread (the drop happens inside it), it
//! returns at once.
//!
//! Children and linked tokens are callbacks on their parents that cancel them through a
//! `Weak` reference; the child keeps the `Registration`s, so a dropped child unregisters
//! itself. (The token's shared state uses `std::sync::{Arc, Weak}`: loom has no `Weak`.)

use crate::loom::thread::{self, ThreadId};
use ::core::fmt;
use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};

use super::deadline;
use crate::channel::{bounded, Receiver, Sender};
use crate::core::{deadline_after, WaitQueue};
use crate::loom::sync::atomic::{AtomicU32, Ordering};
use crate::sync::Mutex;

const ACTIVE: u32 = 0;
const CANCELLED: u32 = 1;
const DEADLINE: u32 = 2;

/// Why a token was cancelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CancelReason {
    /// `cancel()` was called (on this token, a parent, or a linked input).
    Cancelled,
    /// The token's deadline (or an ancestor's) passed.
    DeadlineExceeded,
}

impl fmt::Display for CancelReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Cancelled => "cancelled",
            Self::DeadlineExceeded => "deadline exceeded",
        })
    }
}

impl std::error::Error for CancelReason {}

type Callback = Box<dyn FnOnce() + Send + 'static>;

struct Callbacks {
    next_id: u64,
    /// Queued callbacks in registration order.
    queued: VecDeque<(u64, Callback)>,
    /// The callback the cancelling thread is running, and that thread.
    running: Option<(u64, ThreadId)>,
}

pub(super) struct Inner {
    /// `ACTIVE`, then once `CANCELLED` or `DEADLINE` (the reason).
    state: AtomicU32,
    /// Cancel with `DeadlineExceeded` at this instant (never later than a parent's).
    deadline: Option<Instant>,
    callbacks: Mutex<Callbacks>,
    /// `wait`ers park here until cancelled.
    cancelled: WaitQueue,
    /// Registration drops park here until the callback they wait for is done.
    callback_done: WaitQueue,
    /// Registrations on parents / linked inputs; dropped with the token.
    links: Mutex<Vec<Registration>>,
    /// The sending half of `receiver()`'s channel; dropped at cancellation.
    sender: Mutex<Option<Sender<()>>>,
    receiver: OnceLock<Receiver<()>>,
}

impl Inner {
    fn new(deadline: Option<Instant>) -> Arc<Self> {
        // A deadline already passed: born cancelled, nothing to schedule.
        let expired = deadline.is_some_and(|d| Instant::now() >= d);
        let inner = Arc::new(Self {
            state: AtomicU32::new(if expired { DEADLINE } else { ACTIVE }),
            deadline,
            callbacks: Mutex::new(Callbacks {
                next_id: 0,
                queued: VecDeque::new(),
                running: None,
            }),
            cancelled: WaitQueue::new(),
            callback_done: WaitQueue::new(),
            links: Mutex::new(Vec::new()),
            sender: Mutex::new(None),
            receiver: OnceLock::new(),
        });
        if let (Some(at), false) = (deadline, expired) {
            deadline::schedule(at, Arc::downgrade(&inner));
        }
        inner
    }

    fn reason(&self) -> Option<CancelReason> {
        // Acquire: pairs with the AcqRel CAS in `cancel_with`; what the canceller did before
        // cancelling is visible to whoever sees the reason.
        match self.state.load(Ordering::Acquire) {
            ACTIVE => None,
            CANCELLED => Some(CancelReason::Cancelled),
            _ => Some(CancelReason::DeadlineExceeded),
        }
    }

    /// The reason, first cancelling for the deadline if it has passed (so a deadline is
    /// observed on time even if the deadline thread runs late).
    pub(super) fn check(&self) -> Option<CancelReason> {
        self.reason().or_else(|| {
            if self.deadline.is_some_and(|d| Instant::now() >= d) {
                self.cancel_with(CancelReason::DeadlineExceeded);
                self.reason()
            } else {
                None
            }
        })
    }

    /// Cancels with `reason` unless already cancelled; `true` if this call did it.
    pub(super) fn cancel_with(&self, reason: CancelReason) -> bool {
        let code = match reason {
            CancelReason::Cancelled => CANCELLED,
            CancelReason::DeadlineExceeded => DEADLINE,
        };
        // AcqRel: Release publishes the canceller's prior writes (see `reason`); Acquire on
        // the winner orders the drain below after every registration it must see (those
        // are also ordered by the callbacks lock).
        if self
            .state
            .compare_exchange(ACTIVE, code, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return false;
        }
        self.cancelled.notify_all();
        drop(self.sender.lock().take()); // disconnects `receiver()`
        let me = thread::current().id();
        loop {
            let next = {
                let mut cbs = self.callbacks.lock();
                let next = cbs.queued.pop_front();
                cbs.running = next.as_ref().map(|(id, _)| (*id, me));
                next
            };
            let Some((_, callback)) = next else { break };
            // A panicking callback must not stop the others; the panic hook has already
            // reported it.
            let _ = catch_unwind(AssertUnwindSafe(callback));
            self.callbacks.lock().running = None;
            self.callback_done.notify_all();
        }
        true
    }

    /// Queues `callback`, or runs it now if already cancelled.
    fn register(self: &Arc<Self>, callback: Callback) -> Registration {
        let id = {
            let mut cbs = self.callbacks.lock();
            if self.reason().is_none() {
                let id = cbs.next_id;
                cbs.next_id += 1;
                cbs.queued.push_back((id, callback));
                Some(id)
            } else {
                drop(cbs);
                let _ = catch_unwind(AssertUnwindSafe(callback));
                None
            }
        };
        Registration {
            token: Arc::clone(self),
            id,
        }
    }

    /// Cancels `weak`'s token with our reason when we are cancelled.
    fn link(self: &Arc<Self>, weak: Weak<Inner>) -> Registration {
        let me = Arc::downgrade(self);
        self.register(Box::new(move || {
            let reason = me.upgrade().and_then(|p| p.reason());
            if let Some(target) = weak.upgrade() {
                target.cancel_with(reason.unwrap_or(CancelReason::Cancelled));
            }
        }))
    }
}

/// A cancellation token: cheap to clone (clones are the same token), cancelled once and for
/// good, by `cancel()`, by a parent, or by its deadline.
///
/// # Examples
/// ```
/// use routines::structured::{CancelReason, CancelToken};
/// let parent = CancelToken::new();
/// let child = parent.child();
/// parent.cancel();
/// assert!(child.is_cancelled());
/// assert_eq!(child.reason(), Some(CancelReason::Cancelled));
/// ```
#[derive(Clone)]
pub struct CancelToken {
    inner: Arc<Inner>,
}

impl CancelToken {
    /// A fresh, active token without a deadline. One allocation.
    ///
    /// # Examples
    /// ```
    /// assert!(!routines::structured::CancelToken::new().is_cancelled());
    /// ```
    pub fn new() -> Self {
        Self {
            inner: Inner::new(None),
        }
    }

    /// Cancels the token (and its children). Idempotent: returns `true` only for the call
    /// that cancelled it. Callbacks run on this thread, before it returns.
    ///
    /// # Examples
    /// ```
    /// let t = routines::structured::CancelToken::new();
    /// assert!(t.cancel());
    /// assert!(!t.cancel());
    /// ```
    pub fn cancel(&self) -> bool {
        self.inner.cancel_with(CancelReason::Cancelled)
    }

    /// `true` once cancelled (including by a passed deadline, which this call notices).
    ///
    /// # Examples
    /// ```
    /// use std::time::Instant;
    /// let t = routines::structured::CancelToken::new().with_deadline(Instant::now());
    /// assert!(t.is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        self.inner.check().is_some()
    }

    /// Why the token was cancelled; `None` while active.
    ///
    /// # Examples
    /// ```
    /// use routines::structured::{CancelReason, CancelToken};
    /// let t = CancelToken::new().with_timeout(std::time::Duration::ZERO);
    /// assert_eq!(t.reason(), Some(CancelReason::DeadlineExceeded));
    /// ```
    pub fn reason(&self) -> Option<CancelReason> {
        self.inner.check()
    }

    /// This token's deadline, if it has one (a child's is never later than its parent's).
    ///
    /// # Examples
    /// ```
    /// assert_eq!(routines::structured::CancelToken::new().deadline(), None);
    /// ```
    pub fn deadline(&self) -> Option<Instant> {
        self.inner.deadline
    }

    /// A child token: cancelled when this one is (with the same reason), born cancelled if
    /// this one already is; cancelling the child never affects this token or its other
    /// children. It inherits this token's deadline.
    ///
    /// # Examples
    /// ```
    /// let parent = routines::structured::CancelToken::new();
    /// let child = parent.child();
    /// child.cancel();
    /// assert!(!parent.is_cancelled());
    /// ```
    pub fn child(&self) -> CancelToken {
        self.child_with_deadline(self.inner.deadline)
    }

    /// A child (see [`child`](Self::child)) that is also cancelled at `deadline`, or at this
    /// token's deadline if that is earlier.
    ///
    /// # Examples
    /// ```
    /// use std::time::{Duration, Instant};
    /// let t = routines::structured::CancelToken::new();
    /// let soon = Instant::now() + Duration::from_secs(1);
    /// assert_eq!(t.with_deadline(soon).deadline(), Some(soon));
    /// ```
    pub fn with_deadline(&self, deadline: Instant) -> CancelToken {
        let effective = match self.inner.deadline {
            Some(own) => own.min(deadline),
            None => deadline,
        };
        self.child_with_deadline(Some(effective))
    }

    /// A child cancelled after `timeout` (`Duration::MAX`: no deadline of its own).
    ///
    /// # Examples
    /// ```
    /// let t = routines::structured::CancelToken::new().with_timeout(std::time::Duration::MAX);
    /// assert_eq!(t.deadline(), None);
    /// ```
    pub fn with_timeout(&self, timeout: Duration) -> CancelToken {
        match deadline_after(timeout) {
            Some(at) => self.with_deadline(at),
            None => self.child(),
        }
    }

    fn child_with_deadline(&self, deadline: Option<Instant>) -> CancelToken {
        let child = Inner::new(deadline);
        let link = self.inner.link(Arc::downgrade(&child));
        child.links.lock().push(link);
        CancelToken { inner: child }
    }

    /// A token cancelled as soon as any of `tokens` is (with its reason); born cancelled if
    /// one already is. Its deadline is the earliest of theirs. An empty list gives a token
    /// only `cancel()` can cancel.
    ///
    /// # Examples
    /// ```
    /// use routines::structured::CancelToken;
    /// let (a, b) = (CancelToken::new(), CancelToken::new());
    /// let either = CancelToken::any_of(&[a.clone(), b.clone()]);
    /// b.cancel();
    /// assert!(either.is_cancelled() && !a.is_cancelled());
    /// ```
    pub fn any_of(tokens: &[CancelToken]) -> CancelToken {
        let deadline = tokens.iter().filter_map(|t| t.inner.deadline).min();
        let linked = Inner::new(deadline);
        for t in tokens {
            let link = t.inner.link(Arc::downgrade(&linked));
            linked.links.lock().push(link);
        }
        CancelToken { inner: linked }
    }

    /// Blocks until the token is cancelled (or its deadline passes, which cancels it).
    ///
    /// # Examples
    /// ```
    /// let t = routines::structured::CancelToken::new();
    /// let t2 = t.clone();
    /// std::thread::spawn(move || t2.cancel());
    /// t.wait();
    /// assert!(t.is_cancelled());
    /// ```
    pub fn wait(&self) -> CancelReason {
        self.wait_until(None).expect("no deadline of the caller's")
    }

    /// Blocks at most `timeout`; the reason if the token was cancelled, `None` otherwise.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let t = routines::structured::CancelToken::new();
    /// assert_eq!(t.wait_timeout(Duration::from_millis(1)), None);
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> Option<CancelReason> {
        self.wait_until(deadline_after(timeout))
    }

    /// Blocks until `deadline`; as [`wait_timeout`](Self::wait_timeout).
    ///
    /// # Examples
    /// ```
    /// let t = routines::structured::CancelToken::new();
    /// assert_eq!(t.wait_deadline(std::time::Instant::now()), None);
    /// ```
    pub fn wait_deadline(&self, deadline: Instant) -> Option<CancelReason> {
        self.wait_until(Some(deadline))
    }

    fn wait_until(&self, deadline: Option<Instant>) -> Option<CancelReason> {
        let own = self.inner.deadline;
        let park_until = match (deadline, own) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        loop {
            let outcome = self
                .inner
                .cancelled
                .wait_until(park_until, || self.inner.reason());
            if outcome.is_some() {
                return outcome;
            }
            // Our own deadline passed: `check` cancels; the caller's passed: report None.
            if let Some(reason) = self.inner.check() {
                return Some(reason);
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return None;
            }
        }
    }

    /// Sleeps for `duration` unless cancelled first; `Err(reason)` if cancelled (at once if
    /// already), `Ok(())` if the full time passed.
    ///
    /// # Errors
    /// The [`CancelReason`] if the token was cancelled.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let t = routines::structured::CancelToken::new();
    /// assert_eq!(t.sleep(Duration::from_millis(1)), Ok(()));
    /// t.cancel();
    /// assert!(t.sleep(Duration::from_secs(3600)).is_err()); // returns at once
    /// ```
    pub fn sleep(&self, duration: Duration) -> Result<(), CancelReason> {
        match self.wait_until(deadline_after(duration)) {
            Some(reason) => Err(reason),
            None => Ok(()),
        }
    }

    /// Runs `callback` once when the token is cancelled: on the cancelling thread, with no
    /// internal lock held; at once on this thread if already cancelled. A panicking callback
    /// does not stop the others (the panic is caught after the panic hook reported it).
    /// Dropping the returned [`Registration`] unregisters the callback (waiting for it if it
    /// is running on another thread). One allocation (the callback's box).
    ///
    /// # Examples
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    /// let t = routines::structured::CancelToken::new();
    /// let ran = Arc::new(AtomicBool::new(false));
    /// let r = Arc::clone(&ran);
    /// let _reg = t.on_cancel(move || r.store(true, Ordering::SeqCst));
    /// t.cancel();
    /// assert!(ran.load(Ordering::SeqCst));
    /// ```
    pub fn on_cancel(&self, callback: impl FnOnce() + Send + 'static) -> Registration {
        self.inner.register(Box::new(callback))
    }

    /// A guard that cancels the token when dropped (e.g. on an early return or a panic).
    ///
    /// # Examples
    /// ```
    /// let t = routines::structured::CancelToken::new();
    /// drop(t.drop_guard());
    /// assert!(t.is_cancelled());
    /// ```
    pub fn drop_guard(&self) -> DropGuard {
        DropGuard {
            token: Some(self.clone()),
        }
    }

    /// A receiver that is disconnected once the token is cancelled: `recv` on it returns
    /// `Err` at that moment, so a `select!` can wait for a message *or* cancellation. The
    /// channel is made once per token (then cloned).
    ///
    /// # Examples
    /// ```
    /// use routines::channel::unbounded;
    /// use routines::structured::CancelToken;
    /// let t = CancelToken::new();
    /// let (_tx, rx) = unbounded::<u8>();
    /// t.cancel();
    /// routines::select! {
    ///     recv(rx) -> _ => unreachable!(),
    ///     recv(t.receiver()) -> r => assert!(r.is_err()),
    /// }
    /// ```
    pub fn receiver(&self) -> Receiver<()> {
        self.inner
            .receiver
            .get_or_init(|| {
                let (tx, rx) = bounded(1);
                let mut slot = self.inner.sender.lock();
                // Under the sender lock: `cancel_with` takes the sender after setting the
                // state, so either it sees ours or we see the state.
                if self.inner.reason().is_none() {
                    *slot = Some(tx);
                }
                rx
            })
            .clone()
    }

    /// `true` if both handles are the same token.
    ///
    /// # Examples
    /// ```
    /// let t = routines::structured::CancelToken::new();
    /// assert!(t.same_token(&t.clone()) && !t.same_token(&t.child()));
    /// ```
    pub fn same_token(&self, other: &CancelToken) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Default for CancelToken {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelToken")
            .field("reason", &self.inner.reason())
            .field("deadline", &self.inner.deadline)
            .finish()
    }
}

/// An `on_cancel` callback's registration; dropping it unregisters the callback.
#[must_use = "dropping the registration unregisters the callback at once"]
pub struct Registration {
    token: Arc<Inner>,
    /// `None` if the callback ran at registration (the token was already cancelled).
    id: Option<u64>,
}

impl Registration {
    /// Keeps the callback registered for the token's lifetime (it can no longer be
    /// unregistered).
    ///
    /// # Examples
    /// ```
    /// let t = routines::structured::CancelToken::new();
    /// t.on_cancel(|| {}).forget();
    /// ```
    pub fn forget(mut self) {
        self.id = None;
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let Some(id) = self.id else { return };
        let inner = &self.token;
        let mut cbs = inner.callbacks.lock();
        if let Some(pos) = cbs.queued.iter().position(|(i, _)| *i == id) {
            let removed = cbs.queued.remove(pos);
            drop(cbs);
            drop(removed); // outside the lock: the callback's captures may do anything
            return;
        }
        match cbs.running {
            Some((running, runner)) if running == id => {
                drop(cbs);
                if runner == thread::current().id() {
                    return; // dropped from inside the callback itself
                }
                inner.callback_done.wait_until(None, || {
                    let still = inner.callbacks.lock().running.is_some_and(|(r, _)| r == id);
                    (!still).then_some(())
                });
            }
            _ => {} // already ran
        }
    }
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Cancels its token when dropped; [`disarm`](DropGuard::disarm) keeps it active.
#[must_use = "dropping the guard cancels the token at once"]
pub struct DropGuard {
    token: Option<CancelToken>,
}

impl DropGuard {
    /// Gives the token back without cancelling it.
    ///
    /// # Examples
    /// ```
    /// let t = routines::structured::CancelToken::new();
    /// let t2 = t.drop_guard().disarm();
    /// assert!(!t2.is_cancelled());
    /// ```
    pub fn disarm(mut self) -> CancelToken {
        self.token
            .take()
            .expect("a guard holds its token until dropped")
    }
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        if let Some(t) = self.token.take() {
            t.cancel();
        }
    }
}

impl fmt::Debug for DropGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DropGuard")
            .field("token", &self.token)
            .finish()
    }
}
