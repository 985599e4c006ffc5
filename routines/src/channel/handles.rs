//! `Sender`, `Receiver` and the receive iterators: thin handles over a flavor's [`Chan`].

use ::core::fmt;
use std::time::{Duration, Instant};

use ::core::ptr;

use super::chan::{Chan, HandleCounts};
use super::error::{
    RecvError, RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError,
};
use super::flavors::timer::{sleep_until, Timer};
use super::flavors::zero::ZeroChan;
use crate::core::deadline_after;
use crate::lockfree::{MpmcQueue, SegQueue, Slot, StaticSlots};
use crate::loom::sync::Arc;

/// The shared channel of a handle, by flavor.
pub(crate) enum Flavor<T> {
    /// `bounded(n)`, `n >= 1`.
    Array(Arc<Chan<T, MpmcQueue<T>>>),
    /// `unbounded()`.
    List(Arc<Chan<T, SegQueue<T>>>),
    /// `bounded(0)`.
    Zero(Arc<ZeroChan<T>>),
    /// A [`StaticChannel`]: static storage, never disconnected by handle drops.
    Static(StaticRef<T>),
}

/// The channel of a [`StaticChannel`] of any capacity: its slots are an unsized slice, so
/// the capacity is in the reference (`StaticChannel<T, N>`'s channel coerces to this).
pub(crate) type StaticChan<T> = Chan<T, StaticBuffer<T, [Slot<T>]>>;

/// A static channel's buffer: its slots `A` are `[Slot<T>; N]` in the `static` item, and
/// `[Slot<T>]` behind the handles.
type StaticBuffer<T, A> = MpmcQueue<T, StaticSlots<A>>;

/// A reference to a [`StaticChannel`]'s channel. A pointer rather than a `&'static`
/// reference, so that `Flavor<T>` does not require `T: 'static` of every channel.
pub(crate) struct StaticRef<T>(ptr::NonNull<StaticChan<T>>);

impl<T> StaticRef<T> {
    fn new(chan: &'static StaticChan<T>) -> Self {
        Self(ptr::NonNull::from(chan))
    }
}

impl<T> Clone for StaticRef<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for StaticRef<T> {}

impl<T> ::core::ops::Deref for StaticRef<T> {
    type Target = StaticChan<T>;

    fn deref(&self) -> &Self::Target {
        // SAFETY: made from a `&'static` reference (`StaticRef::new`): valid forever.
        unsafe { self.0.as_ref() }
    }
}

// SAFETY: a shared reference to a channel (which is `Sync` when `T: Send`), made only for
// `T: Send` (`StaticChannel::sender`/`receiver`); like `&'static Chan`, it may move and be
// shared.
unsafe impl<T: Send> Send for StaticRef<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for StaticRef<T> {}

/// Runs `$body` with `$chan` bound to the channel of whichever flavor `$flavor` is.
macro_rules! with_chan {
    ($flavor:expr, $chan:ident => $body:expr) => {
        match $flavor {
            Flavor::Array($chan) => $body,
            Flavor::List($chan) => $body,
            Flavor::Zero($chan) => $body,
            Flavor::Static($chan) => $body,
        }
    };
}

impl<T> Flavor<T> {
    fn same(&self, other: &Self) -> bool {
        match (self, other) {
            (Flavor::Array(a), Flavor::Array(b)) => Arc::ptr_eq(a, b),
            (Flavor::List(a), Flavor::List(b)) => Arc::ptr_eq(a, b),
            (Flavor::Zero(a), Flavor::Zero(b)) => Arc::ptr_eq(a, b),
            (Flavor::Static(a), Flavor::Static(b)) => {
                ::core::ptr::addr_eq(a.0.as_ptr(), b.0.as_ptr())
            }
            _ => false,
        }
    }

    /// The handle counts; `None` for a static channel, which does not count handles.
    fn handles(&self) -> Option<&HandleCounts> {
        match self {
            Flavor::Array(chan) => Some(chan.handles()),
            Flavor::List(chan) => Some(chan.handles()),
            Flavor::Zero(chan) => Some(chan.handles()),
            Flavor::Static(_) => None,
        }
    }

    fn share(&self) -> Self {
        match self {
            Flavor::Array(chan) => Flavor::Array(Arc::clone(chan)),
            Flavor::List(chan) => Flavor::List(Arc::clone(chan)),
            Flavor::Zero(chan) => Flavor::Zero(Arc::clone(chan)),
            Flavor::Static(chan) => Flavor::Static(*chan),
        }
    }
}

/// The sending half of a channel. `Clone` (any number of senders), `Send + Sync` when
/// `T: Send`. When the last sender is dropped the channel disconnects: receivers drain what
/// is buffered, then get `Disconnected`.
///
/// # Examples
/// ```
/// let (tx, rx) = routines::channel::unbounded();
/// let tx2 = tx.clone();
/// std::thread::spawn(move || tx2.send(1).unwrap()).join().unwrap();
/// tx.send(2).unwrap();
/// assert_eq!(rx.iter().take(2).sum::<i32>(), 3);
/// ```
pub struct Sender<T> {
    flavor: Flavor<T>,
}

/// The receiving half of a channel. `Clone` (several receivers share the messages, each
/// message goes to one of them), `Send + Sync` when `T: Send`. When the last receiver is
/// dropped the channel disconnects and sends fail, handing the value back.
///
/// # Examples
/// ```
/// let (tx, rx) = routines::channel::bounded(4);
/// tx.send("hi").unwrap();
/// assert_eq!(rx.recv(), Ok("hi"));
/// ```
pub struct Receiver<T> {
    flavor: RecvFlavor<T>,
}

/// What a receiver receives from.
pub(crate) enum RecvFlavor<T> {
    /// A buffered channel shared with senders.
    Chan(Flavor<T>),
    /// `at` / `after` / `tick`: a schedule, and how its `Instant`s become `T` (the identity:
    /// those constructors return `Receiver<Instant>`).
    Timer(Arc<Timer>, fn(Instant) -> T),
    /// `never()`: nothing, ever.
    Never,
}

/// A channel that holds at most `cap` messages; `send` waits while it is full. With `cap` 0
/// it is a rendezvous channel: a send completes only when a receiver takes the value (and
/// `try_send` succeeds only if a receiver is waiting right then).
///
/// # Examples
/// ```
/// let (tx, rx) = routines::channel::bounded(1);
/// tx.send(1).unwrap();
/// assert!(tx.try_send(2).unwrap_err().is_full());
/// assert_eq!(rx.recv(), Ok(1));
/// ```
pub fn bounded<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    if cap == 0 {
        return pair(Flavor::Zero(Arc::new(ZeroChan::new())));
    }
    pair(Flavor::Array(Arc::new(Chan::new(MpmcQueue::new(cap)))))
}

/// A channel without a capacity limit; `send` never waits.
///
/// # Examples
/// ```
/// let (tx, rx) = routines::channel::unbounded();
/// for i in 0..1000 {
///     tx.send(i).unwrap();
/// }
/// assert_eq!(rx.len(), 1000);
/// ```
pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    pair(Flavor::List(Arc::new(Chan::new(
        SegQueue::new_with_sole_consumer(),
    ))))
}

fn pair<T>(flavor: Flavor<T>) -> (Sender<T>, Receiver<T>) {
    let receiver = Receiver {
        flavor: RecvFlavor::Chan(flavor.share()),
    };
    (Sender { flavor }, receiver)
}

/// A receiver that gets one message, the `Instant` `when`, once `when` has come. It never
/// disconnects; after its message it never delivers again.
///
/// # Examples
/// ```
/// use std::time::{Duration, Instant};
/// let when = Instant::now() + Duration::from_millis(5);
/// let rx = routines::channel::at(when);
/// assert_eq!(rx.recv(), Ok(when));
/// assert!(rx.try_recv().unwrap_err().is_empty());
/// ```
pub fn at(when: Instant) -> Receiver<Instant> {
    Receiver {
        flavor: RecvFlavor::Timer(Arc::new(Timer::at(when)), |t| t),
    }
}

/// A receiver that gets one message, its scheduled `Instant`, after `duration` (never, if
/// `now + duration` is not representable).
///
/// # Examples
/// ```
/// use std::time::{Duration, Instant};
/// let start = Instant::now();
/// let rx = routines::channel::after(Duration::from_millis(5));
/// assert!(rx.recv().unwrap() >= start + Duration::from_millis(5));
/// ```
pub fn after(duration: Duration) -> Receiver<Instant> {
    match Instant::now().checked_add(duration) {
        Some(when) => at(when),
        None => never(),
    }
}

/// A receiver that gets a message every `duration`: the `Instant` it was due. A slow receiver
/// does not get a burst of missed ticks: the next tick is due a full period after the last
/// one taken.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// let rx = routines::channel::tick(Duration::from_millis(2));
/// let (a, b) = (rx.recv().unwrap(), rx.recv().unwrap());
/// assert!(b >= a + Duration::from_millis(2));
/// ```
pub fn tick(duration: Duration) -> Receiver<Instant> {
    Receiver {
        flavor: RecvFlavor::Timer(Arc::new(Timer::tick(duration)), |t| t),
    }
}

/// A receiver that never gets a message and never disconnects.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// let rx = routines::channel::never::<u8>();
/// assert!(rx.recv_timeout(Duration::from_millis(1)).unwrap_err().is_timeout());
/// ```
pub fn never<T>() -> Receiver<T> {
    Receiver {
        flavor: RecvFlavor::Never,
    }
}

impl<T> Sender<T> {
    /// The channel, for `Select`.
    pub(crate) fn flavor(&self) -> &Flavor<T> {
        &self.flavor
    }

    /// Sends `value` without waiting.
    ///
    /// # Errors
    /// [`TrySendError::Full`] if a bounded channel is full, [`TrySendError::Disconnected`] if
    /// the channel is disconnected; both hand `value` back.
    ///
    /// # Examples
    /// ```
    /// let (tx, rx) = routines::channel::bounded(1);
    /// assert_eq!(tx.try_send(1), Ok(()));
    /// drop(rx);
    /// assert!(tx.try_send(2).unwrap_err().is_disconnected());
    /// ```
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        with_chan!(&self.flavor, chan => chan.try_send(value))
    }

    /// Sends `value`, waiting while a bounded channel is full.
    ///
    /// # Errors
    /// [`SendError`] (with `value`) if the channel is or becomes disconnected.
    ///
    /// # Examples
    /// ```
    /// let (tx, rx) = routines::channel::bounded(1);
    /// let t = std::thread::spawn(move || (0..3).for_each(|i| tx.send(i).unwrap()));
    /// assert_eq!(rx.iter().collect::<Vec<_>>(), [0, 1, 2]);
    /// t.join().unwrap();
    /// ```
    #[inline]
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        with_chan!(&self.flavor, chan => chan.send(value, None)).map_err(|e| match e {
            SendTimeoutError::Disconnected(v) | SendTimeoutError::Timeout(v) => SendError(v),
        })
    }

    /// Sends `value`, waiting at most `timeout` for room (`Duration::MAX`: forever).
    ///
    /// # Errors
    /// [`SendTimeoutError::Timeout`] or [`SendTimeoutError::Disconnected`], with `value`.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let (tx, _rx) = routines::channel::bounded(1);
    /// tx.send(1).unwrap();
    /// assert!(tx.send_timeout(2, Duration::from_millis(1)).unwrap_err().is_timeout());
    /// ```
    pub fn send_timeout(&self, value: T, timeout: Duration) -> Result<(), SendTimeoutError<T>> {
        with_chan!(&self.flavor, chan => chan.send(value, deadline_after(timeout)))
    }

    /// Sends `value`, waiting for room until `deadline`.
    ///
    /// # Errors
    /// As [`send_timeout`](Self::send_timeout).
    ///
    /// # Examples
    /// ```
    /// use std::time::{Duration, Instant};
    /// let (tx, rx) = routines::channel::bounded(1);
    /// tx.send_deadline(1, Instant::now() + Duration::from_secs(1)).unwrap();
    /// assert_eq!(rx.recv(), Ok(1));
    /// ```
    pub fn send_deadline(&self, value: T, deadline: Instant) -> Result<(), SendTimeoutError<T>> {
        with_chan!(&self.flavor, chan => chan.send(value, Some(deadline)))
    }

    /// `true` if no message is buffered (a snapshot).
    ///
    /// # Examples
    /// ```
    /// let (tx, _rx) = routines::channel::unbounded::<u8>();
    /// assert!(tx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `true` if a bounded channel is at capacity (a snapshot; never for unbounded ones).
    ///
    /// # Examples
    /// ```
    /// let (tx, _rx) = routines::channel::bounded(1);
    /// tx.send(()).unwrap();
    /// assert!(tx.is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        self.capacity().is_some_and(|cap| self.len() >= cap)
    }

    /// Number of buffered messages (a snapshot).
    ///
    /// # Examples
    /// ```
    /// let (tx, _rx) = routines::channel::unbounded();
    /// tx.send(1).unwrap();
    /// assert_eq!(tx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        with_chan!(&self.flavor, chan => chan.len())
    }

    /// The capacity of a bounded channel; `None` for unbounded ones.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(routines::channel::bounded::<u8>(5).0.capacity(), Some(5));
    /// assert_eq!(routines::channel::unbounded::<u8>().0.capacity(), None);
    /// ```
    pub fn capacity(&self) -> Option<usize> {
        with_chan!(&self.flavor, chan => chan.capacity())
    }

    /// `true` if both handles belong to the same channel.
    ///
    /// # Examples
    /// ```
    /// let (tx, _rx) = routines::channel::unbounded::<u8>();
    /// assert!(tx.same_channel(&tx.clone()));
    /// assert!(!tx.same_channel(&routines::channel::unbounded().0));
    /// ```
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        self.flavor.same(&other.flavor)
    }

    /// Closes the channel for everybody, as if every receiver were gone: parked senders and
    /// receivers wake, further sends fail with their value, receivers still get what is
    /// buffered and then `Disconnected`. Returns `true` if this call closed it.
    ///
    /// # Examples
    /// ```
    /// let (tx, rx) = routines::channel::unbounded();
    /// tx.send(1).unwrap();
    /// assert!(tx.close());
    /// assert!(tx.send(2).is_err());
    /// assert_eq!(rx.recv(), Ok(1));
    /// assert!(rx.recv().is_err());
    /// ```
    pub fn close(&self) -> bool {
        with_chan!(&self.flavor, chan => chan.disconnect())
    }

    /// `true` once the channel is disconnected (all receivers gone, all senders gone, or
    /// closed).
    ///
    /// # Examples
    /// ```
    /// let (tx, rx) = routines::channel::unbounded::<u8>();
    /// assert!(!tx.is_disconnected());
    /// drop(rx);
    /// assert!(tx.is_disconnected());
    /// ```
    pub fn is_disconnected(&self) -> bool {
        with_chan!(&self.flavor, chan => chan.is_disconnected())
    }
}

impl<T> Receiver<T> {
    /// What the receiver receives from, for `Select`.
    pub(crate) fn recv_flavor(&self) -> &RecvFlavor<T> {
        &self.flavor
    }

    /// Receives a message without waiting.
    ///
    /// # Errors
    /// [`TryRecvError::Empty`] if nothing is buffered, [`TryRecvError::Disconnected`] if
    /// nothing is buffered and the channel is disconnected.
    ///
    /// # Examples
    /// ```
    /// let (tx, rx) = routines::channel::unbounded();
    /// tx.send(5).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(5));
    /// assert!(rx.try_recv().unwrap_err().is_empty());
    /// ```
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        match &self.flavor {
            RecvFlavor::Chan(flavor) => with_chan!(flavor, chan => chan.try_recv()),
            RecvFlavor::Timer(timer, make) => timer
                .try_take(Instant::now())
                .map(make)
                .ok_or(TryRecvError::Empty),
            RecvFlavor::Never => Err(TryRecvError::Empty),
        }
    }

    /// Receives, waiting until `deadline` (`None`: forever). Inline, so that a receive from
    /// a buffered channel is the flavor match and the buffer's pop.
    #[inline]
    fn recv_until(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        match &self.flavor {
            RecvFlavor::Chan(flavor) => with_chan!(flavor, chan => chan.recv(deadline)),
            _ => self.recv_from_schedule(deadline),
        }
    }

    /// `recv_until` of `at` / `after` / `tick` / `never` receivers.
    #[cold]
    #[inline(never)]
    fn recv_from_schedule(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        match &self.flavor {
            RecvFlavor::Chan(flavor) => with_chan!(flavor, chan => chan.recv(deadline)),
            RecvFlavor::Timer(timer, make) => timer
                .recv(deadline)
                .map(make)
                .ok_or(RecvTimeoutError::Timeout),
            RecvFlavor::Never => {
                sleep_until(deadline);
                Err(RecvTimeoutError::Timeout)
            }
        }
    }

    /// Receives a message, waiting for one.
    ///
    /// # Errors
    /// [`RecvError`] once the channel is empty and disconnected.
    ///
    /// # Examples
    /// ```
    /// let (tx, rx) = routines::channel::unbounded();
    /// std::thread::spawn(move || tx.send(1).unwrap());
    /// assert_eq!(rx.recv(), Ok(1));
    /// assert!(rx.recv().is_err()); // the sender is gone
    /// ```
    #[inline]
    pub fn recv(&self) -> Result<T, RecvError> {
        self.recv_until(None).map_err(|_| RecvError)
    }

    /// Receives a message, waiting at most `timeout` (`Duration::MAX`: forever).
    ///
    /// # Errors
    /// [`RecvTimeoutError::Timeout`] or [`RecvTimeoutError::Disconnected`].
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let (_tx, rx) = routines::channel::unbounded::<u8>();
    /// assert!(rx.recv_timeout(Duration::from_millis(1)).unwrap_err().is_timeout());
    /// ```
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        self.recv_until(deadline_after(timeout))
    }

    /// Receives a message, waiting until `deadline`.
    ///
    /// # Errors
    /// As [`recv_timeout`](Self::recv_timeout).
    ///
    /// # Examples
    /// ```
    /// use std::time::Instant;
    /// let (_tx, rx) = routines::channel::unbounded::<u8>();
    /// assert!(rx.recv_deadline(Instant::now()).unwrap_err().is_timeout());
    /// ```
    pub fn recv_deadline(&self, deadline: Instant) -> Result<T, RecvTimeoutError> {
        self.recv_until(Some(deadline))
    }

    /// A blocking iterator: yields messages until the channel is empty and disconnected.
    ///
    /// # Examples
    /// ```
    /// let (tx, rx) = routines::channel::unbounded();
    /// (1..=3).for_each(|i| tx.send(i).unwrap());
    /// drop(tx);
    /// assert_eq!(rx.iter().collect::<Vec<_>>(), [1, 2, 3]);
    /// ```
    pub fn iter(&self) -> Iter<'_, T> {
        Iter { receiver: self }
    }

    /// A non-blocking iterator: yields what is buffered now.
    ///
    /// # Examples
    /// ```
    /// let (tx, rx) = routines::channel::unbounded();
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.try_iter().collect::<Vec<_>>(), [1]);
    /// ```
    pub fn try_iter(&self) -> TryIter<'_, T> {
        TryIter { receiver: self }
    }

    /// `true` if no message is buffered (a snapshot).
    ///
    /// # Examples
    /// ```
    /// let (_tx, rx) = routines::channel::unbounded::<u8>();
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `true` if a bounded channel is at capacity (a snapshot).
    ///
    /// # Examples
    /// ```
    /// let (tx, rx) = routines::channel::bounded(1);
    /// tx.send(()).unwrap();
    /// assert!(rx.is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        self.capacity().is_some_and(|cap| self.len() >= cap)
    }

    /// Number of buffered messages (a snapshot).
    ///
    /// # Examples
    /// ```
    /// let (tx, rx) = routines::channel::bounded(3);
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        match &self.flavor {
            RecvFlavor::Chan(flavor) => with_chan!(flavor, chan => chan.len()),
            RecvFlavor::Timer(timer, _) => usize::from(timer.is_due(Instant::now())),
            RecvFlavor::Never => 0,
        }
    }

    /// The capacity of a bounded channel; `None` for unbounded ones; `Some(1)` for `at`,
    /// `after` and `tick`; `Some(0)` for `never`.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(routines::channel::bounded::<u8>(2).1.capacity(), Some(2));
    /// ```
    pub fn capacity(&self) -> Option<usize> {
        match &self.flavor {
            RecvFlavor::Chan(flavor) => with_chan!(flavor, chan => chan.capacity()),
            RecvFlavor::Timer(..) => Some(1),
            RecvFlavor::Never => Some(0),
        }
    }

    /// `true` if both handles belong to the same channel.
    ///
    /// # Examples
    /// ```
    /// let (_tx, rx) = routines::channel::unbounded::<u8>();
    /// assert!(rx.same_channel(&rx.clone()));
    /// ```
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        match (&self.flavor, &other.flavor) {
            (RecvFlavor::Chan(a), RecvFlavor::Chan(b)) => a.same(b),
            (RecvFlavor::Timer(a, _), RecvFlavor::Timer(b, _)) => Arc::ptr_eq(a, b),
            (RecvFlavor::Never, RecvFlavor::Never) => true,
            _ => false,
        }
    }

    /// Closes the channel for everybody (see [`Sender::close`]). Returns `true` if this call
    /// closed it. The `at`/`after`/`tick`/`never` channels cannot be closed (`false`).
    ///
    /// # Examples
    /// ```
    /// let (tx, rx) = routines::channel::bounded(1);
    /// assert!(rx.close());
    /// assert!(tx.send(1).is_err());
    /// ```
    pub fn close(&self) -> bool {
        match &self.flavor {
            RecvFlavor::Chan(flavor) => with_chan!(flavor, chan => chan.disconnect()),
            RecvFlavor::Timer(..) | RecvFlavor::Never => false,
        }
    }

    /// `true` once the channel is disconnected.
    ///
    /// # Examples
    /// ```
    /// let (tx, rx) = routines::channel::unbounded::<u8>();
    /// drop(tx);
    /// assert!(rx.is_disconnected());
    /// ```
    pub fn is_disconnected(&self) -> bool {
        match &self.flavor {
            RecvFlavor::Chan(flavor) => with_chan!(flavor, chan => chan.is_disconnected()),
            RecvFlavor::Timer(..) | RecvFlavor::Never => false,
        }
    }
}

// A panic during an operation leaves the channel consistent (there is no poisoning): the
// handles may cross `catch_unwind`, as crossbeam-channel's do.
impl<T> std::panic::UnwindSafe for Sender<T> {}
impl<T> std::panic::RefUnwindSafe for Sender<T> {}
impl<T> std::panic::UnwindSafe for Receiver<T> {}
impl<T> std::panic::RefUnwindSafe for Receiver<T> {}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        if let Some(handles) = self.flavor.handles() {
            handles.add_sender();
        }
        Self {
            flavor: self.flavor.share(),
        }
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        let flavor = match &self.flavor {
            RecvFlavor::Chan(flavor) => {
                if let Some(handles) = flavor.handles() {
                    handles.add_receiver();
                }
                if let Flavor::List(chan) = flavor {
                    chan.receiver_cloned();
                }
                RecvFlavor::Chan(flavor.share())
            }
            RecvFlavor::Timer(timer, make) => RecvFlavor::Timer(Arc::clone(timer), *make),
            RecvFlavor::Never => RecvFlavor::Never,
        };
        Self { flavor }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        // A static channel counts no handles: it disconnects only by `close()`.
        if self
            .flavor
            .handles()
            .is_some_and(HandleCounts::remove_sender)
        {
            with_chan!(&self.flavor, chan => chan.disconnect());
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if let RecvFlavor::Chan(flavor) = &self.flavor {
            if flavor.handles().is_some_and(HandleCounts::remove_receiver) {
                with_chan!(flavor, chan => chan.disconnect());
            }
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Sender { .. }")
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Receiver { .. }")
    }
}

/// Blocking iterator over a [`Receiver`]'s messages (see [`Receiver::iter`]).
pub struct Iter<'a, T> {
    receiver: &'a Receiver<T>,
}

/// Non-blocking iterator over what a [`Receiver`] has buffered (see [`Receiver::try_iter`]).
pub struct TryIter<'a, T> {
    receiver: &'a Receiver<T>,
}

/// Owning blocking iterator over a [`Receiver`]'s messages.
pub struct IntoIter<T> {
    receiver: Receiver<T>,
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.receiver.recv().ok()
    }
}

impl<T> Iterator for TryIter<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.receiver.try_recv().ok()
    }
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.receiver.recv().ok()
    }
}

impl<'a, T> IntoIterator for &'a Receiver<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;

    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

impl<T> IntoIterator for Receiver<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;

    fn into_iter(self) -> IntoIter<T> {
        IntoIter { receiver: self }
    }
}

impl<T> fmt::Debug for Iter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Iter { .. }")
    }
}

impl<T> fmt::Debug for TryIter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("TryIter { .. }")
    }
}

impl<T> fmt::Debug for IntoIter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("IntoIter { .. }")
    }
}

/// A bounded channel in static storage, for a `static` item: `const`-constructed, no heap
/// allocation at all, handles that are `'static`. Made by `channel! { static NAME: T,
/// capacity = N; }` or by hand.
///
/// Handles do not count: a static channel is never disconnected by dropping its senders
/// or receivers (a temporary `LOG.sender()` would otherwise disconnect it for good), only
/// by [`Sender::close`] / [`Receiver::close`], which is final.
///
/// # Examples
/// ```
/// use routines::channel::StaticChannel;
///
/// static LOG: StaticChannel<&str, 16> = StaticChannel::new();
/// LOG.sender().send("hello").unwrap();
/// assert_eq!(LOG.receiver().recv(), Ok("hello"));
/// ```
pub struct StaticChannel<T, const N: usize> {
    chan: Chan<T, StaticBuffer<T, [Slot<T>; N]>>,
}

impl<T, const N: usize> StaticChannel<T, N> {
    /// The capacity, `N`.
    pub const CAPACITY: usize = N;

    crate::loom::const_fn_unless_loom! {
        /// An empty channel of capacity `N`.
        ///
        /// # Panics
        /// If `N` is 0 (at compile time in a `static`).
        pub fn new() -> Self {
            Self {
                chan: Chan::new(MpmcQueue::new_static()),
            }
        }
    }
}

impl<T: Send, const N: usize> StaticChannel<T, N> {
    /// A sender on this channel (allocates nothing).
    pub fn sender(&'static self) -> Sender<T> {
        Sender {
            flavor: Flavor::Static(StaticRef::new(&self.chan)),
        }
    }

    /// A receiver on this channel (allocates nothing).
    pub fn receiver(&'static self) -> Receiver<T> {
        Receiver {
            flavor: RecvFlavor::Chan(Flavor::Static(StaticRef::new(&self.chan))),
        }
    }
}

impl<T, const N: usize> Default for StaticChannel<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, const N: usize> fmt::Debug for StaticChannel<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticChannel")
            .field("capacity", &N)
            .finish_non_exhaustive()
    }
}
