//! Waiting on several channel operations at once: [`Select`], [`SelectedOperation`], and
//! the engine under them and under `select!`.
//!
//! # The engine
//! A selection runs rounds until one operation completes (or the deadline passes):
//! 1. **try**: every operation is tried without waiting, starting at a random one (fairness)
//!    or at the first (`new_biased`). A receive that succeeds has *completed*: its message
//!    is kept until [`SelectedOperation::recv`] hands it over. A send cannot complete yet
//!    (its value comes with [`SelectedOperation::send`]): it succeeds if a send would not
//!    wait, and on a rendezvous channel it *reserves* its counterpart.
//! 2. **register** the thread's context with every channel (see `channel/context.rs`); each
//!    registration re-checks its operation, and one found possible aborts the round (back
//!    to 1). Timer channels register nothing: their next delivery time bounds the park.
//! 3. **park** until a channel *claims* the context for one of the operations, or the
//!    deadline; then unregister everywhere. A claimed operation is accepted (a buffered
//!    channel's operation is tried again and may have been taken by someone else: back to
//!    1; a rendezvous counterpart is waiting in an exchange with us, which completes).
//!
//! No wake-up is lost: a registration is the waiter's half of the `WaitQueue` protocol of
//! `core/park.rs` (the registration is counted, a SeqCst fence follows, then the operation
//! is re-checked; the notifier's SeqCst change is followed by a SeqCst load of the count),
//! and a notifier claims one registered selecting thread per message (every observer of
//! `ready`). A thread claimed for an operation that someone else then takes
//! simply goes around again: nothing was reserved for it.

use ::core::fmt;
use ::core::marker::PhantomData;
use ::core::ptr;
use std::time::{Duration, Instant};

use super::context::{Context, Selected};
use super::error::{
    ReadyTimeoutError, RecvError, SelectTimeoutError, SendError, TryReadyError, TryRecvError,
    TrySelectError,
};
use super::flavors::zero::Reservation;
use super::handles::{Flavor, RecvFlavor};
use super::{Receiver, Sender};
use crate::core::deadline_after;
use crate::loom::sync::Arc;

/// When a selection gives up.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub enum Timeout {
    /// After one try round.
    Now,
    /// At the instant (`None`: never).
    At(Option<Instant>),
}

/// What a selection waits for.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Complete an operation (`select`).
    Select,
    /// Only learn that one may be possible (`ready`).
    Ready,
}

/// One operation of a selection, type-erased. Implemented by [`RecvOp`] and [`SendOp`].
pub trait Operation<'a> {
    /// Step 1: completes a receive (keeps the message) or readies a send; `true` if so.
    /// Runs only while the thread is registered nowhere (so it needs no context).
    #[doc(hidden)]
    fn try_select(&mut self) -> bool;
    /// Step 1 of a trying round: `try_select`, but a bounded channel's "empty" may be
    /// spurious (CH-15); the registration round re-checks exactly.
    #[doc(hidden)]
    fn try_select_weak(&mut self) -> bool {
        self.try_select()
    }
    /// Step 2: registers `cx` for operation `oper`; `true` if the operation is possible
    /// right now (the round is then aborted).
    #[doc(hidden)]
    fn register(&mut self, cx: &Arc<Context>, oper: usize, observer: bool) -> bool;
    /// Undoes `register`.
    #[doc(hidden)]
    fn unregister(&mut self, cx: &Context, oper: usize);
    /// Step 3: the context was claimed for this operation; completes it as in `try_select`.
    #[doc(hidden)]
    fn accept(&mut self, cx: &Context) -> bool;
    /// `ready`: `true` if the operation would not wait.
    #[doc(hidden)]
    fn is_ready(&self) -> bool;
    /// The time this operation becomes possible by itself (timer channels).
    #[doc(hidden)]
    fn deadline(&self) -> Option<Instant>;
    /// The address of the handle, to check `SelectedOperation::recv`/`send` arguments.
    #[doc(hidden)]
    fn handle(&self) -> (*const u8, Kind);
}

/// An operation of the dynamic [`Select`]: it can move its outcome out and copy itself.
/// `Send + Sync` (the messages are `Send`), so that a `Select` is.
trait DynOp<'a>: Operation<'a> + Send + Sync {
    /// Moves the outcome of a completed `try_select`/`accept` into a new box, leaving this
    /// operation ready for another selection.
    fn detach(&mut self) -> BoxedOp<'a>;
    /// A copy of this operation without its outcome (`Select: Clone`).
    fn fresh(&self) -> BoxedOp<'a>;
}

type BoxedOp<'a> = Box<dyn DynOp<'a> + 'a>;

/// Which kind of handle an operation was built from.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `Select::recv`.
    Recv,
    /// `Select::send`.
    Send,
}

/// A receive operation and, once selected, its outcome. Used by `select!`.
#[doc(hidden)]
pub struct RecvOp<'a, T> {
    receiver: &'a Receiver<T>,
    outcome: Option<Result<T, RecvError>>,
}

impl<'a, T> RecvOp<'a, T> {
    /// An operation receiving from `receiver`.
    pub fn new(receiver: &'a Receiver<T>) -> Self {
        Self {
            receiver,
            outcome: None,
        }
    }

    /// The outcome of the selected receive.
    pub fn take(&mut self) -> Result<T, RecvError> {
        self.outcome
            .take()
            .expect("a selected receive has an outcome")
    }
}

// SAFETY: through `&RecvOp` only the receiver is reachable (`Receiver<T>: Sync` for
// `T: Send`); the received message is touched through `&mut` only, so it needs just `Send`.
unsafe impl<T: Send> Sync for RecvOp<'_, T> {}

impl<T> RecvOp<'_, T> {
    /// Keeps the outcome of a receive attempt; `true` if it completed the operation.
    fn keep(&mut self, received: Result<T, TryRecvError>) -> bool {
        self.outcome = match received {
            Ok(value) => Some(Ok(value)),
            Err(e) if e.is_disconnected() => Some(Err(RecvError)),
            Err(_) => None,
        };
        self.outcome.is_some()
    }
}

impl<T> fmt::Debug for RecvOp<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecvOp").finish_non_exhaustive()
    }
}

impl<'a, T> Operation<'a> for RecvOp<'a, T> {
    fn try_select(&mut self) -> bool {
        // On a rendezvous channel `try_recv` also pairs with a selecting sender (it claims
        // it and waits for its value).
        self.keep(self.receiver.try_recv())
    }

    fn try_select_weak(&mut self) -> bool {
        let received = match self.receiver.recv_flavor() {
            RecvFlavor::Chan(Flavor::Array(chan)) => chan.try_recv_weak(),
            RecvFlavor::Chan(Flavor::Static(chan)) => chan.try_recv_weak(),
            // Exact, but claims by CAS even for a sole receiver (LF-68).
            RecvFlavor::Chan(Flavor::List(chan)) => chan.try_recv_weak(),
            _ => return self.try_select(),
        };
        self.keep(received)
    }

    fn register(&mut self, cx: &Arc<Context>, oper: usize, observer: bool) -> bool {
        match self.receiver.recv_flavor() {
            RecvFlavor::Chan(Flavor::Array(chan)) => chan.register_recv(cx, oper, observer),
            RecvFlavor::Chan(Flavor::Static(chan)) => chan.register_recv(cx, oper, observer),
            RecvFlavor::Chan(Flavor::List(chan)) => chan.register_recv(cx, oper, observer),
            RecvFlavor::Chan(Flavor::Zero(chan)) => chan.register_recv(cx, oper, observer),
            RecvFlavor::Timer(..) | RecvFlavor::Never => self.is_ready(),
        }
    }

    fn unregister(&mut self, cx: &Context, oper: usize) {
        match self.receiver.recv_flavor() {
            RecvFlavor::Chan(Flavor::Array(chan)) => chan.unregister_recv(cx, oper),
            RecvFlavor::Chan(Flavor::Static(chan)) => chan.unregister_recv(cx, oper),
            RecvFlavor::Chan(Flavor::List(chan)) => chan.unregister_recv(cx, oper),
            RecvFlavor::Chan(Flavor::Zero(chan)) => chan.unregister_recv(cx, oper),
            RecvFlavor::Timer(..) | RecvFlavor::Never => {}
        }
    }

    fn accept(&mut self, cx: &Context) -> bool {
        match self.receiver.recv_flavor() {
            RecvFlavor::Chan(Flavor::Zero(chan)) => {
                self.outcome = chan.accept_recv(cx);
                self.outcome.is_some()
            }
            _ => self.try_select(),
        }
    }

    fn is_ready(&self) -> bool {
        match self.receiver.recv_flavor() {
            RecvFlavor::Chan(Flavor::Array(chan)) => chan.is_recv_ready(),
            RecvFlavor::Chan(Flavor::Static(chan)) => chan.is_recv_ready(),
            RecvFlavor::Chan(Flavor::List(chan)) => chan.is_recv_ready(),
            RecvFlavor::Chan(Flavor::Zero(chan)) => chan.is_recv_ready(),
            RecvFlavor::Timer(timer, _) => timer.is_due(Instant::now()),
            RecvFlavor::Never => false,
        }
    }

    fn deadline(&self) -> Option<Instant> {
        match self.receiver.recv_flavor() {
            RecvFlavor::Timer(timer, _) => timer.next(),
            _ => None,
        }
    }

    fn handle(&self) -> (*const u8, Kind) {
        (ptr::from_ref(self.receiver).cast(), Kind::Recv)
    }
}

/// A send operation and, once selected, what it reserved. Used by `select!`. Dropping a
/// selected, uncompleted operation gives its reservation back.
#[doc(hidden)]
pub struct SendOp<'a, T> {
    sender: &'a Sender<T>,
    reservation: Reservation,
}

impl<'a, T> SendOp<'a, T> {
    /// An operation sending on `sender`.
    pub fn new(sender: &'a Sender<T>) -> Self {
        Self {
            sender,
            reservation: Reservation::None,
        }
    }

    /// Completes the selected send with `value`. Never waits, except on a bounded
    /// buffered channel whose room another sender took since the selection (SEL-4).
    ///
    /// # Errors
    /// The value, if the channel is disconnected.
    pub fn complete(&mut self, value: T) -> Result<(), SendError<T>> {
        let reservation = ::core::mem::replace(&mut self.reservation, Reservation::None);
        match self.sender.flavor() {
            Flavor::Zero(chan) => chan.complete_send(reservation, value),
            _ => self.sender.send(value),
        }
    }
}

impl<T> Drop for SendOp<'_, T> {
    fn drop(&mut self) {
        if let Flavor::Zero(chan) = self.sender.flavor() {
            let reservation = ::core::mem::replace(&mut self.reservation, Reservation::None);
            chan.abandon_send(reservation);
        }
    }
}

impl<T> fmt::Debug for SendOp<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendOp").finish_non_exhaustive()
    }
}

impl<'a, T> Operation<'a> for SendOp<'a, T> {
    fn try_select(&mut self) -> bool {
        match self.sender.flavor() {
            Flavor::Array(chan) => chan.is_send_ready(),
            Flavor::List(chan) => chan.is_send_ready(),
            Flavor::Static(chan) => chan.is_send_ready(),
            Flavor::Zero(chan) => {
                self.reservation = chan.select_send();
                !matches!(self.reservation, Reservation::None)
            }
        }
    }

    fn register(&mut self, cx: &Arc<Context>, oper: usize, observer: bool) -> bool {
        match self.sender.flavor() {
            Flavor::Array(chan) => chan.register_send(cx, oper, observer),
            Flavor::Static(chan) => chan.register_send(cx, oper, observer),
            Flavor::List(chan) => chan.register_send(cx, oper, observer),
            Flavor::Zero(chan) => chan.register_send(cx, oper, observer),
        }
    }

    fn unregister(&mut self, cx: &Context, oper: usize) {
        match self.sender.flavor() {
            Flavor::Array(chan) => chan.unregister_send(cx, oper),
            Flavor::Static(chan) => chan.unregister_send(cx, oper),
            Flavor::List(chan) => chan.unregister_send(cx, oper),
            Flavor::Zero(chan) => chan.unregister_send(cx, oper),
        }
    }

    fn accept(&mut self, cx: &Context) -> bool {
        match self.sender.flavor() {
            Flavor::Zero(chan) => {
                self.reservation = chan.accept_send(cx);
                !matches!(self.reservation, Reservation::None)
            }
            _ => self.try_select(),
        }
    }

    fn is_ready(&self) -> bool {
        match self.sender.flavor() {
            Flavor::Array(chan) => chan.is_send_ready(),
            Flavor::List(chan) => chan.is_send_ready(),
            Flavor::Static(chan) => chan.is_send_ready(),
            Flavor::Zero(chan) => chan.is_send_ready(),
        }
    }

    fn deadline(&self) -> Option<Instant> {
        None
    }

    fn handle(&self) -> (*const u8, Kind) {
        (ptr::from_ref(self.sender).cast(), Kind::Send)
    }
}

impl<'a, T: Send> DynOp<'a> for RecvOp<'a, T> {
    fn detach(&mut self) -> BoxedOp<'a> {
        // Allocates: the dynamic `Select` moves a received message out of the selection.
        Box::new(RecvOp {
            receiver: self.receiver,
            outcome: self.outcome.take(),
        })
    }

    fn fresh(&self) -> BoxedOp<'a> {
        Box::new(RecvOp::new(self.receiver))
    }
}

impl<'a, T: Send> DynOp<'a> for SendOp<'a, T> {
    fn detach(&mut self) -> BoxedOp<'a> {
        // Allocates: the dynamic `Select` moves a reservation out of the selection.
        Box::new(SendOp {
            sender: self.sender,
            reservation: ::core::mem::replace(&mut self.reservation, Reservation::None),
        })
    }

    fn fresh(&self) -> BoxedOp<'a> {
        Box::new(SendOp::new(self.sender))
    }
}

/// Shuffles `order` (Fisher–Yates) with this thread's xorshift generator, for an unbiased
/// round (SEL-3). One thread-local access per round, and a multiplication rather than a
/// division per draw (position `(x * bound) >> 64` for a 64-bit `x`: uniform to within
/// `bound / 2^64`): in a `select!` over four ready channels, drawing each position with a
/// division and a thread-local access of its own took about an eighth of the selecting
/// thread's time. Under loom every draw is 0 (a fixed rotation), as before; while the
/// thread's locals are being destroyed the order stays as it was.
fn shuffle(order: &mut [usize]) {
    #[cfg(not(routines_loom))]
    {
        use ::core::cell::Cell;
        std::thread_local! {
            static SEED: Cell<u64> = const { Cell::new(0) };
        }
        let _ = SEED.try_with(|seed| {
            let mut x = seed.get();
            if x == 0 {
                // Seeded from a process-wide sequence (distinct per thread) and the
                // address of this thread's seed.
                static SEEDS: crate::loom::sync::atomic::AtomicU64 =
                    crate::loom::sync::atomic::AtomicU64::new(0x9E37_79B9_7F4A_7C15);
                // Relaxed: any distinct value will do.
                let n = SEEDS.fetch_add(
                    0x9E37_79B9_7F4A_7C15,
                    crate::loom::sync::atomic::Ordering::Relaxed,
                );
                x = n ^ (ptr::from_ref(seed).addr() as u64).rotate_left(32) | 1;
            }
            for k in (1..order.len()).rev() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // The position `(x * (k + 1)) >> 64`: one 64-by-64-bit multiplication.
                #[allow(clippy::cast_possible_truncation, reason = "below k + 1, a usize")]
                let j = ((u128::from(x) * (k as u128 + 1)) >> 64) as usize;
                order.swap(k, j);
            }
            seed.set(x);
        });
    }
    #[cfg(routines_loom)]
    for k in (1..order.len()).rev() {
        order.swap(k, 0);
    }
}

/// Where `run` finds an operation: the macro's `&mut dyn Operation`s, or a `Select`'s
/// entries (so that `Select::select` collects nothing and allocates nothing per call).
#[doc(hidden)]
pub trait OpSlot<'a> {
    /// The operation.
    fn op(&mut self) -> &mut (dyn Operation<'a> + 'a);
    /// The operation, shared.
    fn op_ref(&self) -> &(dyn Operation<'a> + 'a);
}

impl<'a> OpSlot<'a> for &mut (dyn Operation<'a> + 'a) {
    fn op(&mut self) -> &mut (dyn Operation<'a> + 'a) {
        &mut **self
    }
    fn op_ref(&self) -> &(dyn Operation<'a> + 'a) {
        &**self
    }
}

impl<'a> OpSlot<'a> for (usize, BoxedOp<'a>) {
    fn op(&mut self) -> &mut (dyn Operation<'a> + 'a) {
        &mut *self.1
    }
    fn op_ref(&self) -> &(dyn Operation<'a> + 'a) {
        &*self.1
    }
}

/// Operations with more than this many entries make `run` allocate its order list.
const INLINE_ORDER: usize = 32;

/// Runs a selection over `ops` (see the module docs); the index of the operation that
/// completed (or is ready, in `Mode::Ready`), or `None` at the deadline.
///
/// Each round visits (and registers) the operations in a fresh random order unless
/// `biased`, so that among several possible operations each is equally likely, duplicates
/// of one channel included. When the deadline has passed (or for `try_*`), one round of
/// registration still runs, so that "none was possible" is true at one instant
/// (linearizable), not just for each operation at a different time.
#[doc(hidden)]
pub fn run<'a, S: OpSlot<'a>>(
    ops: &mut [S],
    timeout: Timeout,
    biased: bool,
    mode: Mode,
) -> Option<usize> {
    let n = ops.len();
    let mut inline = [0; INLINE_ORDER];
    let mut heap = Vec::new();
    let order: &mut [usize] = if n <= INLINE_ORDER {
        &mut inline[..n]
    } else {
        // Allocates: only for selections over more than `INLINE_ORDER` operations.
        heap.extend(0..n);
        &mut heap
    };
    for (k, slot) in order.iter_mut().enumerate() {
        *slot = k;
    }
    let deadline = match timeout {
        Timeout::Now => Some(None),
        Timeout::At(d) => d.map(Some),
    };
    // 1. try: first without the thread's context (the common case ends here).
    let try_round = |order: &mut [usize], ops: &mut [S]| {
        if !biased {
            shuffle(order);
        }
        order.iter().copied().find(|&i| match mode {
            Mode::Select => ops[i].op().try_select_weak(),
            Mode::Ready => ops[i].op().is_ready(),
        })
    };
    if let Some(i) = try_round(order, ops) {
        return Some(i);
    }
    Context::with(|cx| loop {
        // `Some(None)`: no waiting at all; `Some(Some(d))`: until `d`; `None`: forever.
        let expired = match deadline {
            Some(None) => true,
            Some(Some(d)) => Instant::now() >= d,
            None => false,
        };
        // 2. register
        cx.reset();
        let mut registered = 0;
        let mut selected = None;
        let mut became_ready = false;
        for &i in order.iter() {
            registered += 1;
            if ops[i].op().register(cx, i, mode == Mode::Ready) {
                became_ready = true;
                selected = Some(cx.abort());
                break;
            }
            if let Some(s) = cx.selected() {
                selected = Some(s);
                break;
            }
        }
        // 3. park (not when expired)
        let selected = selected.unwrap_or_else(|| {
            if expired {
                return cx.abort();
            }
            let wake_at = ops
                .iter()
                .filter_map(|op| op.op_ref().deadline())
                .chain(deadline.flatten())
                .min();
            cx.wait_until(wake_at)
        });
        for &i in order.iter().take(registered) {
            ops[i].op().unregister(cx, i);
        }
        match selected {
            Selected::Operation(i) => {
                let done = match mode {
                    Mode::Select => ops[i].op().accept(cx),
                    Mode::Ready => ops[i].op().is_ready(),
                };
                if done {
                    return Some(i);
                }
            }
            Selected::Aborted if expired && !became_ready => return None,
            Selected::Aborted => {}
        }
        if let Some(i) = try_round(order, ops) {
            return Some(i);
        }
    })
}

/// A selection over a dynamic set of send and receive operations: waits until one of them
/// can complete, and completes it. The same API as `crossbeam_channel::Select`.
///
/// Operations are added with [`send`](Self::send) and [`recv`](Self::recv), which return
/// their index. [`select`](Self::select) and its variants return a [`SelectedOperation`]
/// that must be completed with [`SelectedOperation::send`] or [`SelectedOperation::recv`]
/// on the same handle. The receive has in fact already happened, and the send does not wait
/// (on a rendezvous channel its receiver is reserved; see spec/channel.md SEL-4 for the one
/// exception). [`ready`](Self::ready) and its variants only report an operation that may be
/// possible, and the caller performs it itself (it may then find it taken).
///
/// When several operations are possible, one is chosen at random ([`new`](Self::new)) or
/// the first one added ([`new_biased`](Self::new_biased)).
///
/// Allocation: adding an operation allocates (one box per operation); a completed
/// selection allocates one box to carry its outcome to the `SelectedOperation`. The
/// `select!` macro allocates nothing.
///
/// # Examples
/// ```
/// use routines::channel::{unbounded, Select};
///
/// let (s1, r1) = unbounded::<i32>();
/// let (s2, r2) = unbounded::<i32>();
/// s2.send(10).unwrap();
///
/// let mut sel = Select::new();
/// let i1 = sel.recv(&r1);
/// let i2 = sel.recv(&r2);
/// let oper = sel.select();
/// assert_eq!(oper.index(), i2);
/// assert_eq!(oper.recv(&r2), Ok(10));
/// # let _ = (i1, s1);
/// ```
pub struct Select<'a> {
    ops: Vec<(usize, BoxedOp<'a>)>,
    next_index: usize,
    biased: bool,
}

impl fmt::Debug for Select<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Select")
            .field("operations", &self.ops.len())
            .field("biased", &self.biased)
            .finish()
    }
}

impl Default for Select<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> Select<'a> {
    /// An empty, fair selection.
    pub fn new() -> Self {
        Self {
            ops: Vec::new(),
            next_index: 0,
            biased: false,
        }
    }

    /// An empty selection that prefers the operations in the order they were added.
    ///
    /// # Examples
    /// ```
    /// use routines::channel::{unbounded, Select};
    /// let (s1, r1) = unbounded();
    /// let (s2, r2) = unbounded();
    /// s1.send(1).unwrap();
    /// s2.send(2).unwrap();
    /// let mut sel = Select::new_biased();
    /// sel.recv(&r1);
    /// sel.recv(&r2);
    /// assert_eq!(sel.select().recv(&r1), Ok(1));
    /// ```
    pub fn new_biased() -> Self {
        Self {
            biased: true,
            ..Self::new()
        }
    }

    fn add(&mut self, op: BoxedOp<'a>) -> usize {
        let index = self.next_index;
        self.next_index += 1;
        self.ops.push((index, op));
        index
    }

    /// Adds a send operation on `s`; returns its index.
    pub fn send<T: Send>(&mut self, s: &'a Sender<T>) -> usize {
        // Allocates the operation's box.
        self.add(Box::new(SendOp::new(s)))
    }

    /// Adds a receive operation on `r`; returns its index.
    pub fn recv<T: Send>(&mut self, r: &'a Receiver<T>) -> usize {
        // Allocates the operation's box.
        self.add(Box::new(RecvOp::new(r)))
    }

    /// Removes the operation with index `index` (as returned by `send`/`recv`).
    ///
    /// # Panics
    /// If there is no such operation (never added, or removed already).
    pub fn remove(&mut self, index: usize) {
        let pos = self
            .ops
            .iter()
            .position(|(i, _)| *i == index)
            .expect("no operation with this index");
        self.ops.swap_remove(pos);
    }

    fn run(&mut self, timeout: Timeout, mode: Mode) -> Option<usize> {
        run(&mut self.ops, timeout, self.biased, mode)
    }

    fn selected(&mut self, pos: usize) -> SelectedOperation<'a> {
        let (index, op) = &mut self.ops[pos];
        SelectedOperation {
            index: *index,
            op: Some(op.detach()),
            _not_send: PhantomData,
        }
    }

    /// Waits until one operation completes; returns it, to be finished with
    /// [`SelectedOperation::send`] / [`SelectedOperation::recv`].
    ///
    /// # Panics
    /// If there are no operations (it would wait forever).
    pub fn select(&mut self) -> SelectedOperation<'a> {
        assert!(!self.ops.is_empty(), "no operations to select from");
        let pos = self
            .run(Timeout::At(None), Mode::Select)
            .expect("a selection without a deadline completes");
        self.selected(pos)
    }

    /// Completes an operation that can complete right now, if any.
    ///
    /// # Errors
    /// [`TrySelectError`] if none can.
    pub fn try_select(&mut self) -> Result<SelectedOperation<'a>, TrySelectError> {
        match self.run(Timeout::Now, Mode::Select) {
            Some(pos) => Ok(self.selected(pos)),
            None => Err(TrySelectError),
        }
    }

    /// [`select`](Self::select) with a timeout; `Duration::MAX` waits forever.
    ///
    /// # Errors
    /// [`SelectTimeoutError`] if nothing completed in time.
    pub fn select_timeout(
        &mut self,
        timeout: Duration,
    ) -> Result<SelectedOperation<'a>, SelectTimeoutError> {
        self.select_until(deadline_after(timeout))
    }

    /// [`select`](Self::select) with a deadline.
    ///
    /// # Errors
    /// [`SelectTimeoutError`] if nothing completed by `deadline`.
    pub fn select_deadline(
        &mut self,
        deadline: Instant,
    ) -> Result<SelectedOperation<'a>, SelectTimeoutError> {
        self.select_until(Some(deadline))
    }

    fn select_until(
        &mut self,
        deadline: Option<Instant>,
    ) -> Result<SelectedOperation<'a>, SelectTimeoutError> {
        match self.run(Timeout::At(deadline), Mode::Select) {
            Some(pos) => Ok(self.selected(pos)),
            None => Err(SelectTimeoutError),
        }
    }

    /// Waits until one operation may be possible; returns its index. Nothing is performed
    /// or reserved: the caller tries the operation and may find it taken.
    ///
    /// # Panics
    /// If there are no operations.
    pub fn ready(&mut self) -> usize {
        assert!(!self.ops.is_empty(), "no operations to wait for");
        let pos = self
            .run(Timeout::At(None), Mode::Ready)
            .expect("waiting without a deadline ends with an operation");
        self.ops[pos].0
    }

    /// The index of an operation that is possible right now, if any.
    ///
    /// # Errors
    /// [`TryReadyError`] if none is.
    pub fn try_ready(&mut self) -> Result<usize, TryReadyError> {
        match self.run(Timeout::Now, Mode::Ready) {
            Some(pos) => Ok(self.ops[pos].0),
            None => Err(TryReadyError),
        }
    }

    /// [`ready`](Self::ready) with a timeout; `Duration::MAX` waits forever.
    ///
    /// # Errors
    /// [`ReadyTimeoutError`] if nothing became possible in time.
    pub fn ready_timeout(&mut self, timeout: Duration) -> Result<usize, ReadyTimeoutError> {
        self.ready_until(deadline_after(timeout))
    }

    /// [`ready`](Self::ready) with a deadline.
    ///
    /// # Errors
    /// [`ReadyTimeoutError`] if nothing became possible by `deadline`.
    pub fn ready_deadline(&mut self, deadline: Instant) -> Result<usize, ReadyTimeoutError> {
        self.ready_until(Some(deadline))
    }

    fn ready_until(&mut self, deadline: Option<Instant>) -> Result<usize, ReadyTimeoutError> {
        match self.run(Timeout::At(deadline), Mode::Ready) {
            Some(pos) => Ok(self.ops[pos].0),
            None => Err(ReadyTimeoutError),
        }
    }
}

impl Clone for Select<'_> {
    /// A selection over the same operations.
    fn clone(&self) -> Self {
        Self {
            ops: self.ops.iter().map(|(i, op)| (*i, op.fresh())).collect(),
            next_index: self.next_index,
            biased: self.biased,
        }
    }
}

/// The operation a [`Select`] completed: finish it with [`send`](Self::send) or
/// [`recv`](Self::recv) on the handle it was added with.
///
/// Dropping it unfinished panics (as in crossbeam-channel); a received message is dropped
/// and a reserved rendezvous counterpart is released, so no other thread is left waiting.
pub struct SelectedOperation<'a> {
    index: usize,
    op: Option<BoxedOp<'a>>,
    _not_send: PhantomData<*const ()>,
}

impl fmt::Debug for SelectedOperation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SelectedOperation")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

impl<'a> SelectedOperation<'a> {
    /// The index of the operation (as returned by `Select::send`/`Select::recv`).
    pub fn index(&self) -> usize {
        self.index
    }

    fn take_op(&mut self, handle: *const u8, kind: Kind) -> BoxedOp<'a> {
        let op = self.op.take().expect("an operation is completed once");
        let (addr, op_kind) = op.handle();
        if op_kind != kind || !ptr::eq(addr, handle) {
            // Release the operation before panicking (dropping it does).
            drop(op);
            match kind {
                Kind::Send => panic!("passed a sender that wasn't selected"),
                Kind::Recv => panic!("passed a receiver that wasn't selected"),
            }
        }
        op
    }

    /// Completes a selected send with `msg`.
    ///
    /// # Errors
    /// The message, if the channel is disconnected.
    ///
    /// # Panics
    /// If `s` is not the sender this operation was added with.
    pub fn send<'s, T>(mut self, s: &'s Sender<T>, msg: T) -> Result<(), SendError<T>> {
        let op = self.take_op(ptr::from_ref(s).cast(), Kind::Send);
        let raw: *mut (dyn DynOp<'a> + 'a) = Box::into_raw(op);
        // SAFETY: the operation was built by `Select::send` from the very sender `s` points to (same address, checked above, and borrowed for 'a so it could not be replaced), so it is a `SendOp<'_, T>` (lifetimes do not change the layout).
        let mut op = unsafe { Box::from_raw(raw.cast::<SendOp<'s, T>>()) };
        op.complete(msg)
    }

    /// Completes a selected receive: its message, or `RecvError` if the channel is
    /// disconnected and empty.
    ///
    /// # Errors
    /// [`RecvError`] if the channel is disconnected and empty.
    ///
    /// # Panics
    /// If `r` is not the receiver this operation was added with.
    pub fn recv<'r, T>(mut self, r: &'r Receiver<T>) -> Result<T, RecvError> {
        let op = self.take_op(ptr::from_ref(r).cast(), Kind::Recv);
        let raw: *mut (dyn DynOp<'a> + 'a) = Box::into_raw(op);
        // SAFETY: as in `send`: the operation is the `RecvOp<'a, T>` built from `r`.
        let mut op = unsafe { Box::from_raw(raw.cast::<RecvOp<'r, T>>()) };
        op.take()
    }
}

impl Drop for SelectedOperation<'_> {
    fn drop(&mut self) {
        if let Some(op) = self.op.take() {
            drop(op);
            if !std::thread::panicking() {
                panic!("dropped `SelectedOperation` without completing the operation");
            }
        }
    }
}

#[cfg(all(test, not(routines_loom)))]
mod tests {
    use super::shuffle;

    // spec: SEL-3
    /// SEL-3: a round's order is uniformly random: each of the 24 orders of four operations
    /// comes up about equally often (a rotation, or a shuffle that can only make cycles,
    /// leaves most of them out).
    #[test]
    fn every_order_is_equally_likely() {
        let rounds = if cfg!(miri) { 9_600 } else { 48_000 };
        let mut seen = std::collections::HashMap::new();
        for _ in 0..rounds {
            let mut order = [0, 1, 2, 3];
            shuffle(&mut order);
            *seen.entry(order).or_insert(0_usize) += 1;
        }
        assert_eq!(seen.len(), 24, "{seen:?}");
        // Each count has mean rounds / 24 and a standard deviation below its square root:
        // a quarter of the mean off is over 7 deviations (over 5 under miri).
        let mean = rounds / 24;
        assert!(
            seen.values().all(|&n| n.abs_diff(mean) < mean / 4),
            "{seen:?}"
        );
    }
}
