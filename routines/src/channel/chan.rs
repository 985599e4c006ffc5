//! The channel core shared by every buffered flavor: handle counts, disconnection and the
//! blocking protocol, written once over a [`Buffer`] (the lock-free queue of a flavor).
//!
//! Waiting uses the library's one parking protocol, [`WaitQueue`]: a sender that finds the
//! buffer full (or a receiver that finds it empty) spins briefly with [`Backoff`], then parks
//! on `not_full` (`not_empty`) with an attempt closure that retries the operation, so no
//! wake-up can be lost between the failed attempt and the sleep (see `core/park.rs`). Every
//! successful push notifies one parked receiver; every successful pop of a bounded buffer
//! notifies one parked sender; disconnection notifies everybody.
//!
//! Disconnection is one flag, set when the last sender or the last receiver goes, or on an
//! explicit `close()`. Sends then fail and hand the value back; receivers still drain what is
//! buffered, then report `Disconnected`.

use ::core::marker::PhantomData;
use std::time::Instant;

use super::context::{Context, Selectors};
use super::error::{RecvTimeoutError, SendTimeoutError, TryRecvError, TrySendError};
use crate::core::{Backoff, WaitQueue};
use crate::loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use crate::loom::sync::Arc;

/// Spin (with `Backoff`) before parking. Not under loom: loom runs a yielding thread again
/// only once the others have moved on, which would keep the models from ever parking.
const SPIN: bool = !cfg!(routines_loom);

/// The queue under a flavor: non-blocking push and pop.
pub(crate) trait Buffer<T> {
    /// `true` if a push can fail for lack of room (then pops wake parked senders).
    const BOUNDED: bool;
    /// Pushes, or gives the value back if full.
    fn try_push(&self, value: T) -> Result<(), T>;
    /// Pops the oldest message, if any.
    fn try_pop(&self) -> Option<T>;
    /// Number of messages (a snapshot).
    fn len(&self) -> usize;
    /// `true` if there is no message (a snapshot).
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The capacity of a bounded buffer.
    fn capacity(&self) -> Option<usize>;
}

/// Live sender and receiver handles of a channel (every flavor); the last handle of either
/// kind to go disconnects the channel.
pub(crate) struct HandleCounts {
    senders: AtomicUsize,
    receivers: AtomicUsize,
}

impl HandleCounts {
    crate::loom::const_fn_unless_loom! {
        /// One sender and one receiver.
        pub(crate) fn new() -> Self {
            Self {
                senders: AtomicUsize::new(1),
                receivers: AtomicUsize::new(1),
            }
        }
    }

    pub(crate) fn add_sender(&self) {
        // Relaxed: a new handle is made from an existing one, which keeps the count above 0.
        self.senders.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn add_receiver(&self) {
        // Relaxed: as in `add_sender`.
        self.receivers.fetch_add(1, Ordering::Relaxed);
    }

    /// A sender goes; `true` if it was the last (the caller disconnects).
    pub(crate) fn remove_sender(&self) -> bool {
        // AcqRel: the last sender's disconnection comes after every other sender's operations.
        self.senders.fetch_sub(1, Ordering::AcqRel) == 1
    }

    /// A receiver goes; `true` if it was the last (the caller disconnects).
    pub(crate) fn remove_receiver(&self) -> bool {
        // AcqRel: as in `remove_sender`.
        self.receivers.fetch_sub(1, Ordering::AcqRel) == 1
    }
}

/// A channel: its buffer, its handle counts, its disconnection flag and its two wait queues.
pub(crate) struct Chan<T, B> {
    buffer: B,
    handles: HandleCounts,
    /// Set once, never cleared: see the module docs.
    disconnected: AtomicBool,
    /// Senders parked until there is room (bounded buffers only).
    not_full: WaitQueue,
    /// Receivers parked until there is a message.
    not_empty: WaitQueue,
    /// Selecting threads waiting to send.
    send_selectors: Selectors,
    /// Selecting threads waiting to receive.
    recv_selectors: Selectors,
    /// Names `T` without affecting auto traits: the buffer owns the messages, and its own
    /// `Send`/`Sync` (`T: Send`) decide the channel's.
    _messages: PhantomData<fn(T) -> T>,
}

impl<T, B: Buffer<T>> Chan<T, B> {
    crate::loom::const_fn_unless_loom! {
        /// A channel with one sender and one receiver.
        pub(crate) fn new(buffer: B) -> Self {
            Self {
                buffer,
                handles: HandleCounts::new(),
                disconnected: AtomicBool::new(false),
                not_full: WaitQueue::new(),
                not_empty: WaitQueue::new(),
                send_selectors: Selectors::new(),
                recv_selectors: Selectors::new(),
                _messages: PhantomData,
            }
        }
    }

    #[inline]
    pub(crate) fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        // Acquire: pairs with the swap in `disconnect`.
        if self.disconnected.load(Ordering::Acquire) {
            return Err(TrySendError::Disconnected(value));
        }
        match self.buffer.try_push(value) {
            Ok(()) => {
                // The push's tail CAS is SeqCst in both buffers (MpmcQueue, SegQueue), and a
                // receiver concludes "empty" from the tail it reads after its fence.
                self.not_empty.notify_one_after_seqcst_rmw();
                self.recv_selectors.notify_one_after_seqcst_rmw();
                Ok(())
            }
            Err(value) => Err(TrySendError::Full(value)),
        }
    }

    /// One send attempt: `Ok(outcome)` once settled (sent, or disconnected with the value),
    /// `Err(value)` when full.
    #[inline]
    fn send_attempt(&self, value: T) -> Result<Result<(), SendTimeoutError<T>>, T> {
        match self.try_send(value) {
            Ok(()) => Ok(Ok(())),
            Err(TrySendError::Disconnected(v)) => Ok(Err(SendTimeoutError::Disconnected(v))),
            Err(TrySendError::Full(v)) => Err(v),
        }
    }

    /// Sends, waiting for room until `deadline` (`None`: forever).
    #[inline]
    pub(crate) fn send(
        &self,
        value: T,
        deadline: Option<Instant>,
    ) -> Result<(), SendTimeoutError<T>> {
        match self.send_attempt(value) {
            Ok(outcome) => outcome,
            Err(v) => self.send_wait(v, deadline),
        }
    }

    /// The buffer was full: spin, then park.
    #[cold]
    #[inline(never)]
    fn send_wait(
        &self,
        mut value: T,
        deadline: Option<Instant>,
    ) -> Result<(), SendTimeoutError<T>> {
        let backoff = Backoff::new();
        while SPIN && !backoff.is_completed() {
            backoff.snooze();
            value = match self.send_attempt(value) {
                Ok(outcome) => return outcome,
                Err(v) => v,
            };
        }
        self.send_slow(value, deadline)
    }

    fn send_slow(&self, value: T, deadline: Option<Instant>) -> Result<(), SendTimeoutError<T>> {
        let mut held = Some(value);
        let outcome =
            self.not_full
                .wait_until(deadline, || match self.send_attempt(held.take()?) {
                    Ok(outcome) => Some(outcome),
                    Err(v) => {
                        held = Some(v);
                        None
                    }
                });
        outcome.unwrap_or_else(|| {
            Err(SendTimeoutError::Timeout(
                held.take().expect("a timed-out send still holds its value"),
            ))
        })
    }

    #[inline]
    pub(crate) fn try_recv(&self) -> Result<T, TryRecvError> {
        match self.pop() {
            Some(value) => Ok(value),
            None => self.try_recv_empty(),
        }
    }

    /// `try_recv` found the buffer empty: disconnected, or empty for now. Out of line so that
    /// a successful receive is only the pop.
    #[cold]
    #[inline(never)]
    fn try_recv_empty(&self) -> Result<T, TryRecvError> {
        // Acquire: pairs with the swap in `disconnect`; every push made before the
        // disconnection is visible to the pop below.
        if self.disconnected.load(Ordering::Acquire) {
            // A message may have landed between the first pop and the disconnection.
            return self.pop().ok_or(TryRecvError::Disconnected);
        }
        Err(TryRecvError::Empty)
    }

    #[inline]
    fn pop(&self) -> Option<T> {
        let value = self.buffer.try_pop()?;
        // The pop's head CAS is SeqCst (MpmcQueue), and a sender concludes "full" from the
        // head it reads after its fence.
        if B::BOUNDED {
            self.not_full.notify_one_after_seqcst_rmw();
            self.send_selectors.notify_one_after_seqcst_rmw();
        }
        Some(value)
    }

    /// One receive attempt: `Some(outcome)` once settled, `None` while empty.
    #[inline]
    fn recv_attempt(&self) -> Option<Result<T, RecvTimeoutError>> {
        match self.try_recv() {
            Ok(value) => Some(Ok(value)),
            Err(TryRecvError::Disconnected) => Some(Err(RecvTimeoutError::Disconnected)),
            Err(TryRecvError::Empty) => None,
        }
    }

    /// Receives, waiting for a message until `deadline` (`None`: forever).
    #[inline]
    pub(crate) fn recv(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        match self.pop() {
            Some(value) => Ok(value),
            None => self.recv_wait(deadline),
        }
    }

    /// The buffer was empty: check for disconnection, spin, then park.
    #[cold]
    #[inline(never)]
    fn recv_wait(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        let backoff = Backoff::new();
        loop {
            if let Some(outcome) = self.recv_attempt() {
                return outcome;
            }
            if !SPIN || backoff.is_completed() {
                return self.recv_slow(deadline);
            }
            backoff.snooze();
        }
    }

    fn recv_slow(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        self.not_empty
            .wait_until(deadline, || self.recv_attempt())
            .unwrap_or(Err(RecvTimeoutError::Timeout))
    }

    /// Marks the channel disconnected and wakes every parked party. Returns `true` if this
    /// call did it.
    pub(crate) fn disconnect(&self) -> bool {
        // AcqRel: Release publishes the pushes made before the disconnection to whoever sees
        // the flag (Acquire loads in `try_send`/`try_recv`); Acquire makes them ours too.
        if self.disconnected.swap(true, Ordering::AcqRel) {
            return false;
        }
        self.not_full.notify_all();
        self.not_empty.notify_all();
        self.send_selectors.notify_all();
        self.recv_selectors.notify_all();
        true
    }

    /// `true` if a receive would not wait: a message, or disconnected.
    pub(crate) fn is_recv_ready(&self) -> bool {
        !self.buffer.is_empty() || self.is_disconnected()
    }

    /// `true` if a send would not wait: room, or disconnected.
    pub(crate) fn is_send_ready(&self) -> bool {
        !B::BOUNDED
            || self
                .buffer
                .capacity()
                .is_some_and(|c| self.buffer.len() < c)
            || self.is_disconnected()
    }

    /// Registers a selecting thread for receiving; returns whether a receive is possible
    /// now (the re-check after registering).
    pub(crate) fn register_recv(&self, cx: &Arc<Context>, oper: usize, observer: bool) -> bool {
        self.recv_selectors.register(cx, oper, observer);
        self.is_recv_ready()
    }

    pub(crate) fn unregister_recv(&self, cx: &Context, oper: usize) {
        self.recv_selectors.unregister(cx, oper);
    }

    /// Registers a selecting thread for sending; returns whether a send is possible now.
    pub(crate) fn register_send(&self, cx: &Arc<Context>, oper: usize, observer: bool) -> bool {
        self.send_selectors.register(cx, oper, observer);
        self.is_send_ready()
    }

    pub(crate) fn unregister_send(&self, cx: &Context, oper: usize) {
        self.send_selectors.unregister(cx, oper);
    }

    pub(crate) fn is_disconnected(&self) -> bool {
        // Acquire: as in `try_recv`.
        self.disconnected.load(Ordering::Acquire)
    }

    pub(crate) fn handles(&self) -> &HandleCounts {
        &self.handles
    }

    pub(crate) fn len(&self) -> usize {
        self.buffer.len()
    }

    pub(crate) fn capacity(&self) -> Option<usize> {
        self.buffer.capacity()
    }
}

/// A buffered channel's operations as a trait object: how a `static` channel (whose
/// capacity is part of its type) is reached from the `Sender`/`Receiver` it hands out.
pub(crate) trait ChanOps<T>: Sync {
    fn try_send(&self, value: T) -> Result<(), TrySendError<T>>;
    fn send(&self, value: T, deadline: Option<Instant>) -> Result<(), SendTimeoutError<T>>;
    fn try_recv(&self) -> Result<T, TryRecvError>;
    fn recv(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError>;
    fn disconnect(&self) -> bool;
    fn is_disconnected(&self) -> bool;
    fn len(&self) -> usize;
    fn capacity(&self) -> Option<usize>;
    fn is_recv_ready(&self) -> bool;
    fn is_send_ready(&self) -> bool;
    fn register_recv(&self, cx: &Arc<Context>, oper: usize, observer: bool) -> bool;
    fn unregister_recv(&self, cx: &Context, oper: usize);
    fn register_send(&self, cx: &Arc<Context>, oper: usize, observer: bool) -> bool;
    fn unregister_send(&self, cx: &Context, oper: usize);
}

/// Forwards to the inherent methods (which method-call syntax prefers).
impl<T, B: Buffer<T> + Sync> ChanOps<T> for Chan<T, B> {
    fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        Chan::try_send(self, value)
    }
    fn send(&self, value: T, deadline: Option<Instant>) -> Result<(), SendTimeoutError<T>> {
        Chan::send(self, value, deadline)
    }
    fn try_recv(&self) -> Result<T, TryRecvError> {
        Chan::try_recv(self)
    }
    fn recv(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        Chan::recv(self, deadline)
    }
    fn disconnect(&self) -> bool {
        Chan::disconnect(self)
    }
    fn is_disconnected(&self) -> bool {
        Chan::is_disconnected(self)
    }
    fn len(&self) -> usize {
        Chan::len(self)
    }
    fn capacity(&self) -> Option<usize> {
        Chan::capacity(self)
    }
    fn is_recv_ready(&self) -> bool {
        Chan::is_recv_ready(self)
    }
    fn is_send_ready(&self) -> bool {
        Chan::is_send_ready(self)
    }
    fn register_recv(&self, cx: &Arc<Context>, oper: usize, observer: bool) -> bool {
        Chan::register_recv(self, cx, oper, observer)
    }
    fn unregister_recv(&self, cx: &Context, oper: usize) {
        Chan::unregister_recv(self, cx, oper);
    }
    fn register_send(&self, cx: &Arc<Context>, oper: usize, observer: bool) -> bool {
        Chan::register_send(self, cx, oper, observer)
    }
    fn unregister_send(&self, cx: &Context, oper: usize) {
        Chan::unregister_send(self, cx, oper);
    }
}
