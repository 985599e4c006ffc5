//! A one-shot channel: one value, one sender (consumed by `send`), one receiver, one
//! allocation.
//!
//! The state word moves through these states, each change by one atomic operation:
//!
//! | state            | meaning                                     | set by                 |
//! |------------------|---------------------------------------------|------------------------|
//! | `EMPTY`          | nothing sent yet, both halves alive         | construction           |
//! | `SENT`           | the value is written and not yet taken      | `send` (CAS from EMPTY)|
//! | `TAKEN`          | a receive took the value                    | receive (CAS from SENT)|
//! | `SENDER_GONE`    | the sender was dropped without sending      | sender drop (CAS)      |
//! | `RECEIVER_GONE`  | the receiver was dropped                    | receiver drop (swap)   |
//!
//! The sender writes the value *before* its CAS publishes `SENT`; if the CAS fails the
//! receiver is gone, and the sender reads its value back and returns it. The receiver reads
//! the value only after winning the CAS `SENT -> TAKEN`, so it is read once even when several
//! threads share `&OneshotReceiver`. A receiver dropped while `SENT` drops the value.

use ::core::fmt;
use ::core::mem::{ManuallyDrop, MaybeUninit};
use ::core::ptr;
use std::time::{Duration, Instant};

use super::error::{RecvError, RecvTimeoutError, SendError, TryRecvError};
use crate::core::{deadline_after, WaitQueue};
use crate::loom::cell::UnsafeCell;
use crate::loom::sync::atomic::{AtomicU32, Ordering};
use crate::loom::sync::Arc;

const EMPTY: u32 = 0;
const SENT: u32 = 1;
const TAKEN: u32 = 2;
const SENDER_GONE: u32 = 3;
const RECEIVER_GONE: u32 = 4;

struct Inner<T> {
    /// See the state table in the module docs.
    state: AtomicU32,
    /// Written by the sender before `SENT`; read once by the receive that moves it to `TAKEN`
    /// (or by the receiver's drop, or by the sender when its CAS fails).
    value: UnsafeCell<MaybeUninit<T>>,
    /// The receiver parks here until the state leaves `EMPTY`.
    ready: WaitQueue,
}

// SAFETY: the value moves from the sender's thread to the receiver's (`T: Send`); the state
// protocol gives the cell one writer, then one reader.
unsafe impl<T: Send> Send for Inner<T> {}
// SAFETY: as above; shared access goes through the state CASes.
unsafe impl<T: Send> Sync for Inner<T> {}

/// The sending half of a [`oneshot`] channel. `send` consumes it; dropping it unsent makes
/// the receiver's `recv` fail at once.
pub struct OneshotSender<T> {
    inner: Arc<Inner<T>>,
}

/// The receiving half of a [`oneshot`] channel.
pub struct OneshotReceiver<T> {
    inner: Arc<Inner<T>>,
}

/// A channel for exactly one value. One allocation (the shared state).
///
/// # Examples
/// ```
/// let (tx, rx) = routines::channel::oneshot();
/// std::thread::spawn(move || tx.send(42).unwrap());
/// assert_eq!(rx.recv(), Ok(42));
/// ```
pub fn oneshot<T>() -> (OneshotSender<T>, OneshotReceiver<T>) {
    let inner = Arc::new(Inner {
        state: AtomicU32::new(EMPTY),
        value: UnsafeCell::new(MaybeUninit::uninit()),
        ready: WaitQueue::new(),
    });
    (
        OneshotSender {
            inner: Arc::clone(&inner),
        },
        OneshotReceiver { inner },
    )
}

impl<T> OneshotSender<T> {
    /// Sends the value, consuming the sender; never waits.
    ///
    /// # Errors
    /// [`SendError`] with the value if the receiver is gone.
    ///
    /// # Examples
    /// ```
    /// let (tx, rx) = routines::channel::oneshot();
    /// drop(rx);
    /// assert_eq!(tx.send(1).unwrap_err().into_inner(), 1);
    /// ```
    pub fn send(self, value: T) -> Result<(), SendError<T>> {
        // Take the shared state out without running our `Drop`, which would mark the channel
        // abandoned.
        let this = ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again, so the `Arc` is moved out exactly once.
        let inner = unsafe { ptr::read(&this.inner) };
        // SAFETY: only the sender writes the cell, once, and nobody reads it before `SENT`.
        inner.value.with_mut(|v| unsafe { (*v).write(value) });
        // Release: publishes the value to the receive that sees `SENT` (its Acquire CAS or
        // swap). Relaxed on failure: the receiver is gone, nothing of its is read.
        match inner
            .state
            .compare_exchange(EMPTY, SENT, Ordering::Release, Ordering::Relaxed)
        {
            Ok(_) => {
                inner.ready.notify_all();
                Ok(())
            }
            Err(_) => {
                // SAFETY: the CAS failed, so the state never said `SENT`: nobody else has read or will read the value we wrote.
                let value = inner.value.with(|v| unsafe { (*v).assume_init_read() });
                Err(SendError(value))
            }
        }
    }

    /// `true` if the receiver is gone (a send would fail).
    ///
    /// # Examples
    /// ```
    /// let (tx, rx) = routines::channel::oneshot::<u8>();
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        // Relaxed: a snapshot; no data is read on its strength.
        self.inner.state.load(Ordering::Relaxed) == RECEIVER_GONE
    }
}

impl<T> Drop for OneshotSender<T> {
    fn drop(&mut self) {
        // Relaxed: no data is published; the notify below orders the change before its wake
        // (WaitQueue protocol). The CAS fails harmlessly if the receiver is already gone.
        if self
            .inner
            .state
            .compare_exchange(EMPTY, SENDER_GONE, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
        {
            self.inner.ready.notify_all();
        }
    }
}

impl<T> OneshotReceiver<T> {
    /// Takes the value if it has been sent.
    ///
    /// # Errors
    /// [`TryRecvError::Empty`] if nothing was sent yet; [`TryRecvError::Disconnected`] if the
    /// sender was dropped unsent or the value was already received.
    ///
    /// # Examples
    /// ```
    /// let (tx, rx) = routines::channel::oneshot();
    /// assert!(rx.try_recv().unwrap_err().is_empty());
    /// tx.send('x').unwrap();
    /// assert_eq!(rx.try_recv(), Ok('x'));
    /// assert!(rx.try_recv().unwrap_err().is_disconnected());
    /// ```
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        let inner = &*self.inner;
        // Acquire: pairs with the sender's Release CAS to `SENT` (the value is written).
        match inner
            .state
            .compare_exchange(SENT, TAKEN, Ordering::Acquire, Ordering::Acquire)
        {
            // SAFETY: we moved `SENT -> TAKEN`: the value is written (Acquire) and ours alone.
            Ok(_) => Ok(inner.value.with(|v| unsafe { (*v).assume_init_read() })),
            Err(EMPTY) => Err(TryRecvError::Empty),
            Err(_) => Err(TryRecvError::Disconnected),
        }
    }

    /// Waits for the value.
    ///
    /// # Errors
    /// [`RecvError`] if the sender was dropped unsent (at once) or the value was already
    /// received.
    ///
    /// # Examples
    /// ```
    /// let (tx, rx) = routines::channel::oneshot::<u8>();
    /// drop(tx);
    /// assert!(rx.recv().is_err());
    /// ```
    pub fn recv(&self) -> Result<T, RecvError> {
        self.wait(None).map_err(|_| RecvError)
    }

    /// Waits at most `timeout` for the value (`Duration::MAX`: forever).
    ///
    /// # Errors
    /// [`RecvTimeoutError::Timeout`], or [`RecvTimeoutError::Disconnected`] as for
    /// [`recv`](Self::recv).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let (_tx, rx) = routines::channel::oneshot::<u8>();
    /// assert!(rx.recv_timeout(Duration::from_millis(1)).unwrap_err().is_timeout());
    /// ```
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        self.wait(deadline_after(timeout))
    }

    /// Waits for the value until `deadline`.
    ///
    /// # Errors
    /// As [`recv_timeout`](Self::recv_timeout).
    ///
    /// # Examples
    /// ```
    /// let (tx, rx) = routines::channel::oneshot();
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.recv_deadline(std::time::Instant::now()), Ok(1));
    /// ```
    pub fn recv_deadline(&self, deadline: Instant) -> Result<T, RecvTimeoutError> {
        self.wait(Some(deadline))
    }

    fn wait(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        let attempt = || match self.try_recv() {
            Ok(value) => Some(Ok(value)),
            Err(TryRecvError::Disconnected) => Some(Err(RecvTimeoutError::Disconnected)),
            Err(TryRecvError::Empty) => None,
        };
        self.inner
            .ready
            .wait_until(deadline, attempt)
            .unwrap_or(Err(RecvTimeoutError::Timeout))
    }
}

impl<T> Drop for OneshotReceiver<T> {
    fn drop(&mut self) {
        // Acquire: pairs with the sender's Release CAS to `SENT`, so a value we find is
        // written and ours to drop.
        if self.inner.state.swap(RECEIVER_GONE, Ordering::Acquire) == SENT {
            let value = &self.inner.value;
            // SAFETY: the state was `SENT` and is now `RECEIVER_GONE`: nobody else will read the value.
            value.with_mut(|v| unsafe { (*v).assume_init_drop() });
        }
    }
}

impl<T> fmt::Debug for OneshotSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("OneshotSender { .. }")
    }
}

impl<T> fmt::Debug for OneshotReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("OneshotReceiver { .. }")
    }
}
