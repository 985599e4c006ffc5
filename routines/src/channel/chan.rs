//! The channel core shared by every buffered flavor: handle counts, disconnection and the
//! blocking protocol, written once over a [`Buffer`] (the lock-free queue of a flavor).
//!
//! Waiting uses the library's one parking protocol, [`WaitQueue`]: a sender that finds the
//! buffer full (or a receiver that finds it empty) spins briefly with [`Backoff`], then parks
//! on `not_full` (`not_empty`) with an attempt closure that retries the operation, so no
//! wake-up can be lost between the failed attempt and the sleep (see `core/park.rs`). A
//! sender yields more times than the backoff's few before it parks, as many as have lately
//! paid off (`send_yields`); a receiver of a bounded buffer spins for as long as spinning
//! has lately paid off, and may park without the yields (`recv_spin`,
//! `recv_parks_at_once`: spec CH-3). A sender and a receiver that are the only threads
//! lately waiting on their sides, and share a CPU, yield to each other without spinning,
//! and park now and then so that the OS can move them apart (`Pairing`: CH-3). The
//! attempts before the park are weak (`Buffer::try_push_weak`: a "full" may be spurious,
//! and it costs the other side no cache line); the attempt inside the park is exact, so
//! only an exact verdict ever decides a sleep or a timeout (spec CH-15). Every successful
//! push notifies one parked receiver; every successful pop of a bounded buffer notifies one
//! parked sender; disconnection notifies everybody.
//!
//! Disconnection is one flag, set when the last sender or the last receiver goes, or on an
//! explicit `close()`. Sends then fail and hand the value back; receivers still drain what is
//! buffered, then report `Disconnected`.

use ::core::marker::PhantomData;
use std::time::Instant;

use super::context::{Context, Selectors};
use super::error::{RecvTimeoutError, SendTimeoutError, TryRecvError, TrySendError};
use super::pairing::{Pairing, NO_CPU};
use crate::core::{
    current_cpu, several_cpus, spin_briefly_times_until, Backoff, CachePadded, WaitQueue,
};
use crate::loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use crate::loom::sync::Arc;
use crate::loom::{hint, thread};

/// Spin (with `Backoff`) before parking. Not under loom: loom runs a yielding thread again
/// only once the others have moved on, which would keep the models from ever parking.
const SPIN: bool = !cfg!(routines_loom);

/// Most brief spins (about 130 spin-loop hints each, never yielding) a waiting receiver of a
/// bounded channel makes before it yields or parks (CH-3); about 14 us here.
const RECV_SPINS_MAX: usize = 5;

/// Most yields a blocked sender of a bounded channel makes after its backoff (which ends
/// with a few), retrying after each, before it parks (CH-3).
const SEND_YIELDS_MAX: usize = 32;

/// Fewest such yields: enough for a receiver running on another core to make room, so that
/// a channel whose yields stopped paying can see them pay again.
const SEND_YIELDS_MIN: usize = 4;

/// Capacity from which a sender that finds the buffer full skips its backoff's spin steps
/// and yields at once (CH-3). With that much queued, a yield lasts less than the receivers
/// take to drain the buffer, and a sender that spins instead takes each slot as soon as it
/// is freed: it writes right behind the receiver, in the cache lines the receiver reads.
const SEND_YIELD_FIRST_CAPACITY: usize = 128;

/// Weak attempts a receiver makes, a spin-loop hint before each (about half a microsecond
/// here), before it yields to a sender it believes shares its CPU (CH-3): a message in that
/// time came from another CPU, and the belief was wrong.
const BESIDE_CHECKS: usize = 16;

/// The queue under a flavor: non-blocking push and pop.
pub(crate) trait Buffer<T> {
    /// `true` if a push can fail for lack of room (then pops wake parked senders).
    const BOUNDED: bool;
    /// Pushes, or gives the value back if full.
    fn try_push(&self, value: T) -> Result<(), T>;
    /// Pops the oldest message, if any.
    fn try_pop(&self) -> Option<T>;
    /// Like `try_push`, but "full" may be spurious (`MpmcQueue::push_weak`): for the spin
    /// before a wait, which ends in `try_push`.
    fn try_push_weak(&self, value: T) -> Result<(), T> {
        self.try_push(value)
    }
    /// Like `try_pop`, but "empty" may be spurious (`MpmcQueue::pop_weak`).
    fn try_pop_weak(&self) -> Option<T> {
        self.try_pop()
    }
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
pub(crate) struct Chan<T, B: ?Sized> {
    handles: HandleCounts,
    /// Set once, never cleared: see the module docs.
    disconnected: AtomicBool,
    /// Senders parked until there is room (bounded buffers only).
    not_full: WaitQueue,
    /// Receivers parked until there is a message.
    not_empty: WaitQueue,
    /// How many brief spins a waiting receiver of a bounded buffer makes (CH-3): one more
    /// after a spin that ended with a message, half as many after spins that came to nothing.
    recv_spins: AtomicUsize,
    /// Counts the senders' waits for room (CH-3). On a line of its own: senders of a full
    /// buffer write it at every wait.
    send_waits: CachePadded<AtomicUsize>,
    /// `send_waits` as the last receiver to stop spinning saw it.
    send_waits_seen: AtomicUsize,
    /// How many yields a blocked sender makes before it parks (CH-3): twice as many after
    /// yields that ended with the send, half as many after yields that came to nothing.
    send_yields: AtomicUsize,
    /// Where each side last waited (CH-3). On a line of its own: waiting threads write it,
    /// and the wait queues beside which it would otherwise lie are read at every push and
    /// pop.
    pairing: CachePadded<Pairing>,
    /// Selecting threads waiting to send.
    send_selectors: Selectors,
    /// Selecting threads waiting to receive.
    recv_selectors: Selectors,
    /// Names `T` without affecting auto traits: the buffer owns the messages, and its own
    /// `Send`/`Sync` (`T: Send`) decide the channel's.
    _messages: PhantomData<fn(T) -> T>,
    /// Last, so that a reference to the channel of a static buffer of `N` slots coerces to
    /// one whose buffer is unsized (`StaticSlots` in `lockfree::mpmc`).
    buffer: B,
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
                recv_spins: AtomicUsize::new(0),
                send_waits: CachePadded::new(AtomicUsize::new(0)),
                send_waits_seen: AtomicUsize::new(0),
                send_yields: AtomicUsize::new(SEND_YIELDS_MAX),
                pairing: CachePadded::new(Pairing::new()),
                send_selectors: Selectors::new(),
                recv_selectors: Selectors::new(),
                _messages: PhantomData,
            }
        }
    }
}

impl<T, B: Buffer<T> + ?Sized> Chan<T, B> {
    #[inline]
    pub(crate) fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.send_with(value, B::try_push)
    }

    /// `try_send` with `push` as the buffer's push (exact or weak).
    #[inline]
    fn send_with(
        &self,
        value: T,
        push: impl FnOnce(&B, T) -> Result<(), T>,
    ) -> Result<(), TrySendError<T>> {
        // Acquire: pairs with the swap in `disconnect`.
        if self.disconnected.load(Ordering::Acquire) {
            return Err(TrySendError::Disconnected(value));
        }
        match push(&self.buffer, value) {
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
    /// `Err(value)` when full (`EXACT`), or maybe full (weak: see `send`).
    #[inline]
    fn send_attempt<const EXACT: bool>(
        &self,
        value: T,
    ) -> Result<Result<(), SendTimeoutError<T>>, T> {
        let sent = if EXACT {
            self.send_with(value, B::try_push)
        } else {
            self.send_with(value, B::try_push_weak)
        };
        match sent {
            Ok(()) => Ok(Ok(())),
            Err(TrySendError::Disconnected(v)) => Ok(Err(SendTimeoutError::Disconnected(v))),
            Err(TrySendError::Full(v)) => Err(v),
        }
    }

    /// Sends, waiting for room until `deadline` (`None`: forever).
    ///
    /// The attempts before the wait are weak: their "full" may be spurious, but they leave
    /// the receivers' position alone (`MpmcQueue::push_weak`). The wait itself attempts
    /// exactly, so a send only parks, or times out, on a buffer that was full.
    #[inline]
    pub(crate) fn send(
        &self,
        value: T,
        deadline: Option<Instant>,
    ) -> Result<(), SendTimeoutError<T>> {
        match self.send_attempt::<{ !SPIN }>(value) {
            Ok(outcome) => outcome,
            Err(v) => self.send_wait(v, deadline),
        }
    }

    /// The buffer was full: spin, yield, then park.
    #[cold]
    #[inline(never)]
    fn send_wait(
        &self,
        mut value: T,
        deadline: Option<Instant>,
    ) -> Result<(), SendTimeoutError<T>> {
        if SPIN {
            // Relaxed, and a load and a store rather than an increment: a hint for receivers
            // (CH-3) that only needs to change, and a lost count changes it all the same.
            let waits = self.send_waits.load(Ordering::Relaxed);
            self.send_waits
                .store(waits.wrapping_add(1), Ordering::Relaxed);
        }
        // CH-3: beside the one receiver, a spin would only keep it from making room.
        let beside = SPIN && {
            let (noted, beside) = Pairing::look(&self.pairing.send, &self.pairing.recv);
            if noted.successor {
                // CH-3: yields tuned by a sender that has stopped waiting start afresh
                // (Relaxed: a hint, as in the yields below).
                self.send_yields.store(SEND_YIELDS_MAX, Ordering::Relaxed);
            }
            beside
        };
        if beside && self.pairing.send.parks_beside() {
            return self.send_slow(value, deadline);
        }
        let backoff = if beside || self.send_yields_first() {
            Backoff::yielding()
        } else {
            Backoff::new()
        };
        while SPIN && !backoff.is_completed() {
            backoff.snooze();
            value = match self.send_attempt::<false>(value) {
                Ok(outcome) => return outcome,
                Err(v) => v,
            };
        }
        // CH-3: a sender that parks leaves its core to threads that may have nothing to do
        // either, and then needs a wake-up call; yielding keeps it ready for the room a
        // receiver on another core makes, and hands its core over meanwhile. How long it
        // yields adapts, as the receivers' spin does (`recv_spin`): yields that end with the
        // send double the count, yields that come to nothing (a slow receiver) halve it.
        // A yield can last a time slice: past the deadline, the wait below decides.
        if SPIN {
            // Relaxed (the loads and stores of `send_yields`): a hint that only tunes how
            // long to yield; the send itself is decided by the attempts.
            let budget = self.send_yields.load(Ordering::Relaxed);
            for _ in 0..budget {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                thread::yield_now();
                value = match self.send_attempt::<false>(value) {
                    Ok(outcome) => {
                        if budget < SEND_YIELDS_MAX {
                            self.send_yields
                                .store((budget * 2).min(SEND_YIELDS_MAX), Ordering::Relaxed);
                        }
                        return outcome;
                    }
                    Err(v) => v,
                };
            }
            if budget > SEND_YIELDS_MIN {
                self.send_yields
                    .store((budget / 2).max(SEND_YIELDS_MIN), Ordering::Relaxed);
            }
        }
        self.send_slow(value, deadline)
    }

    /// CH-3: whether a sender that found the buffer full yields from the first step of its
    /// backoff (a large buffer: see `SEND_YIELD_FIRST_CAPACITY`) rather than spinning.
    fn send_yields_first(&self) -> bool {
        self.buffer
            .capacity()
            .is_some_and(|c| c >= SEND_YIELD_FIRST_CAPACITY)
    }

    fn send_slow(&self, value: T, deadline: Option<Instant>) -> Result<(), SendTimeoutError<T>> {
        let mut held = Some(value);
        let outcome =
            self.not_full
                .wait_until(deadline, || match self.send_attempt::<true>(held.take()?) {
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

    /// `try_recv` with a weak pop (CH-15): "empty" may be spurious. For attempts that an
    /// exact one follows before anything is decided: a blocking receive's spin, a
    /// selection's trying round.
    #[inline]
    pub(crate) fn try_recv_weak(&self) -> Result<T, TryRecvError> {
        match self.pop_with(B::try_pop_weak) {
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
        self.pop_with(B::try_pop)
    }

    /// `pop` with `pop` as the buffer's pop (exact or weak).
    #[inline]
    fn pop_with(&self, pop: impl FnOnce(&B) -> Option<T>) -> Option<T> {
        let value = pop(&self.buffer)?;
        // The pop's head CAS is SeqCst (MpmcQueue), and a sender concludes "full" from the
        // head it reads after its fence.
        if B::BOUNDED {
            self.not_full.notify_one_after_seqcst_rmw();
            self.send_selectors.notify_one_after_seqcst_rmw();
        }
        Some(value)
    }

    /// One receive attempt: `Some(outcome)` once settled, `None` while empty (`EXACT`), or
    /// maybe empty (weak: see `recv`). Disconnection is always judged exactly: a weak
    /// attempt that sees it drains with an exact `pop` first.
    #[inline]
    fn recv_attempt<const EXACT: bool>(&self) -> Option<Result<T, RecvTimeoutError>> {
        let received = if EXACT {
            self.try_recv()
        } else {
            self.try_recv_weak()
        };
        match received {
            Ok(value) => Some(Ok(value)),
            Err(TryRecvError::Disconnected) => Some(Err(RecvTimeoutError::Disconnected)),
            Err(TryRecvError::Empty) => None,
        }
    }

    /// Receives, waiting for a message until `deadline` (`None`: forever). As in `send`,
    /// a bounded buffer's attempts before the wait are weak (`MpmcQueue::pop_weak`), the
    /// wait's are exact. An unbounded buffer's first attempt is its plain pop (which a sole
    /// receiver makes without a read-modify-write, LF-68); its spin polls with its
    /// `try_pop_weak`, which is exact but claims by CAS.
    #[inline]
    pub(crate) fn recv(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        // Unbounded: the plain pop by name, so that it inlines here (through the trait's
        // weak pop it stayed a call; measured in spec CH-8).
        let popped = if SPIN && B::BOUNDED {
            self.pop_with(B::try_pop_weak)
        } else {
            self.pop()
        };
        match popped {
            Some(value) => Ok(value),
            None => self.recv_wait(deadline),
        }
    }

    /// The buffer was empty: check for disconnection, spin, then park (a bounded buffer's
    /// receiver: adaptive spin, then perhaps a park without yields; CH-3).
    #[cold]
    #[inline(never)]
    fn recv_wait(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        let (one, beside) = if SPIN {
            let (noted, beside) = Pairing::look(&self.pairing.recv, &self.pairing.send);
            if noted.successor {
                // CH-3: a spin tuned by a receiver that has stopped waiting starts afresh
                // (Relaxed: a hint, as in `recv_spin`).
                self.recv_spins.store(0, Ordering::Relaxed);
            }
            (noted.one, beside)
        } else {
            (false, false)
        };
        let backoff = if beside {
            // CH-3: the one sender was last seen on this CPU. A message within a few
            // checks came from another CPU: the sender has moved, and is forgotten.
            let mut outcome = None;
            for _ in 0..BESIDE_CHECKS {
                hint::spin_loop();
                outcome = self.recv_attempt::<false>();
                if outcome.is_some() {
                    self.pairing.send.set_cpu(NO_CPU);
                    break;
                }
            }
            if let Some(outcome) = outcome {
                return outcome;
            }
            if self.pairing.recv.parks_beside() {
                return self.recv_slow(deadline);
            }
            Backoff::yielding()
        } else if SPIN && B::BOUNDED && several_cpus() {
            if let Some(outcome) = self.recv_spin(deadline) {
                return outcome;
            }
            if self.recv_parks_at_once() {
                return self.recv_slow(deadline);
            }
            Backoff::yielding()
        } else {
            Backoff::new()
        };
        // CH-3: with one thread on each side, the first yield tells where the sender runs.
        // A message right after it, when spinning brought none, was sent by a sender that
        // needed this CPU: it is taken to run here. No message after it, when the sender
        // was taken to run here, and it is not.
        let learn = one && several_cpus();
        let mut yields = 0;
        loop {
            if let Some(outcome) = self.recv_attempt::<false>() {
                if learn && yields == 1 && !beside {
                    if let Some(cpu) = current_cpu() {
                        self.pairing.send.set_cpu(cpu);
                    }
                }
                return outcome;
            }
            if learn && yields == 1 && beside {
                self.pairing.send.set_cpu(NO_CPU);
            }
            if !SPIN || backoff.is_completed() {
                return self.recv_slow(deadline);
            }
            if backoff.yields_next() {
                yields += 1;
            }
            backoff.snooze();
        }
    }

    /// CH-3: a waiting receiver of a bounded channel spins without yielding, `recv_spins`
    /// brief spins plus one, and returns the outcome if a message (or the disconnection)
    /// came. A message that lands during the spin was put in by a sender running on another
    /// core, and while that goes on, keeping this core takes each message as soon as it
    /// lands: the count grows. Spins that come to nothing halve it, down to the one brief
    /// spin every waiter makes, so that a receiver whose senders need its core soon stops
    /// holding it.
    fn recv_spin(&self, deadline: Option<Instant>) -> Option<Result<T, RecvTimeoutError>> {
        // Relaxed (the loads and stores of `recv_spins`): a hint that only tunes how long to
        // spin; every decision still rests on an exact attempt.
        let spins = self.recv_spins.load(Ordering::Relaxed);
        let mut outcome = None;
        if spin_briefly_times_until(spins + 1, deadline, || {
            outcome = self.recv_attempt::<false>();
            outcome.is_some()
        }) {
            if spins < RECV_SPINS_MAX {
                self.recv_spins.store(spins + 1, Ordering::Relaxed);
            }
            return outcome;
        }
        if spins > 0 {
            self.recv_spins.store(spins / 2, Ordering::Relaxed);
        }
        None
    }

    /// CH-3: whether a receiver of a bounded channel whose spin came to nothing parks without
    /// yielding first. It does when senders have waited for room since the last receiver
    /// asked (the receivers hold the senders up, and a yield would only hand this core to a
    /// sender that can fill the buffer and wait again), or when spins have lately been
    /// finding messages (the senders run on another core).
    fn recv_parks_at_once(&self) -> bool {
        // Relaxed (all three): hints, as in `recv_spin`.
        let waits = self.send_waits.load(Ordering::Relaxed);
        let seen = self.send_waits_seen.load(Ordering::Relaxed);
        if waits != seen {
            self.send_waits_seen.store(waits, Ordering::Relaxed);
            return true;
        }
        self.recv_spins.load(Ordering::Relaxed) > 0
    }

    fn recv_slow(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        self.not_empty
            .wait_until(deadline, || self.recv_attempt::<true>())
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

    /// The buffer, for what is particular to one flavor (`flavors/`).
    pub(crate) fn buffer(&self) -> &B {
        &self.buffer
    }

    pub(crate) fn len(&self) -> usize {
        self.buffer.len()
    }

    pub(crate) fn capacity(&self) -> Option<usize> {
        self.buffer.capacity()
    }
}

#[cfg(all(test, not(routines_loom)))]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::channel::pairing::{on_one_cpu, BESIDE_PARK_EVERY, ONE_AGAIN_AFTER};
    use crate::lockfree::MpmcQueue;

    /// A bounded buffer whose weak attempts always fail, as if a counterpart were forever
    /// between claiming and releasing a slot.
    struct Spurious(MpmcQueue<u32>);

    impl Buffer<u32> for Spurious {
        const BOUNDED: bool = true;
        fn try_push(&self, value: u32) -> Result<(), u32> {
            self.0.push(value)
        }
        fn try_pop(&self) -> Option<u32> {
            self.0.pop()
        }
        fn try_push_weak(&self, value: u32) -> Result<(), u32> {
            Err(value)
        }
        fn try_pop_weak(&self) -> Option<u32> {
            None
        }
        fn len(&self) -> usize {
            self.0.len()
        }
        fn capacity(&self) -> Option<usize> {
            Some(self.0.capacity())
        }
    }

    /// A buffer (bounded if `BOUNDED`) whose weak pushes fail while `fails` is above zero,
    /// and whose weak pops fail while `pop_fails` is, each counting down, and otherwise
    /// push and pop; `weak_pushes` counts the weak pushes.
    struct Flaky<const BOUNDED: bool> {
        queue: MpmcQueue<u32>,
        fails: AtomicUsize,
        pop_fails: AtomicUsize,
        weak_pushes: AtomicUsize,
    }

    impl<const BOUNDED: bool> Flaky<BOUNDED> {
        /// An empty buffer of `capacity` slots whose weak attempts do not fail yet.
        fn new(capacity: usize) -> Self {
            Self {
                queue: MpmcQueue::new(capacity),
                fails: AtomicUsize::new(0),
                pop_fails: AtomicUsize::new(0),
                weak_pushes: AtomicUsize::new(0),
            }
        }
    }

    /// The snoozes `backoff` makes before it says "park".
    fn snoozes(backoff: Backoff) -> usize {
        let mut n = 0;
        while !backoff.is_completed() {
            backoff.snooze();
            n += 1;
        }
        n
    }

    /// Takes one from `count` if it is above zero; `true` if it was.
    fn count_down(count: &AtomicUsize) -> bool {
        let left = count.load(Ordering::Relaxed);
        if left > 0 {
            count.store(left - 1, Ordering::Relaxed);
        }
        left > 0
    }

    impl<const BOUNDED: bool> Buffer<u32> for Flaky<BOUNDED> {
        const BOUNDED: bool = BOUNDED;
        fn try_push(&self, value: u32) -> Result<(), u32> {
            self.queue.push(value)
        }
        fn try_pop(&self) -> Option<u32> {
            self.queue.pop()
        }
        fn try_push_weak(&self, value: u32) -> Result<(), u32> {
            self.weak_pushes.fetch_add(1, Ordering::Relaxed);
            if count_down(&self.fails) {
                return Err(value);
            }
            self.queue.push(value)
        }
        fn try_pop_weak(&self) -> Option<u32> {
            if count_down(&self.pop_fails) {
                return None;
            }
            self.queue.pop()
        }
        fn len(&self) -> usize {
            self.queue.len()
        }
        fn capacity(&self) -> Option<usize> {
            BOUNDED.then(|| self.queue.capacity())
        }
    }

    // spec: CH-3
    /// CH-3: a blocked sender yields as many times as lately paid off: half as many after
    /// yields that came to nothing (down to `SEND_YIELDS_MIN`), twice as many after yields
    /// that ended with the send (up to `SEND_YIELDS_MAX`).
    #[test]
    fn the_senders_yields_adapt() {
        let chan = Chan::new(Flaky::<true>::new(1));
        let yields = || chan.send_yields.load(Ordering::Relaxed);
        // Long enough that the yields never outlast it (a yield past the deadline ends
        // them, and the count of weak attempts measured below would come out short).
        let soon = || Some(Instant::now() + Duration::from_millis(50));
        assert_eq!(yields(), SEND_YIELDS_MAX, "a new channel yields the most");
        assert!(chan.try_send(0).is_ok());
        // Full, and nobody receives: every send's yields come to nothing.
        let mut expect = SEND_YIELDS_MAX;
        while expect > SEND_YIELDS_MIN {
            assert!(matches!(
                chan.send(1, soon()),
                Err(SendTimeoutError::Timeout(1))
            ));
            expect /= 2;
            assert_eq!(yields(), expect, "halved");
        }
        let before = chan.buffer.weak_pushes.load(Ordering::Relaxed);
        assert!(matches!(
            chan.send(1, soon()),
            Err(SendTimeoutError::Timeout(1))
        ));
        assert_eq!(yields(), SEND_YIELDS_MIN, "no fewer");
        // The weak attempts a send makes before its yields.
        let early = chan.buffer.weak_pushes.load(Ordering::Relaxed) - before - SEND_YIELDS_MIN;
        assert_eq!(chan.try_recv(), Ok(0));
        // Room appears during the second yield of each send.
        while expect < SEND_YIELDS_MAX {
            chan.buffer.fails.store(early + 1, Ordering::Relaxed);
            assert!(chan.send(2, None).is_ok());
            expect *= 2;
            assert_eq!(yields(), expect, "doubled");
            assert_eq!(chan.try_recv(), Ok(2));
        }
        chan.buffer.fails.store(early + 1, Ordering::Relaxed);
        assert!(chan.send(3, None).is_ok());
        assert_eq!(yields(), SEND_YIELDS_MAX, "no more");
    }

    // spec: CH-3
    /// CH-3: the first wait of a thread that follows a side's one thread (here, the first
    /// thread) starts that side's hints afresh: the senders' yields at `SEND_YIELDS_MAX`, the
    /// receivers' spin at none; the first thread's own waits keep them.
    #[test]
    fn a_successors_hints_start_afresh() {
        let chan = Chan::new(Flaky::<true>::new(1));
        let yields = || chan.send_yields.load(Ordering::Relaxed);
        let timed_out = || {
            assert!(matches!(
                chan.send(1, Some(Instant::now())),
                Err(SendTimeoutError::Timeout(1))
            ));
        };
        assert!(chan.try_send(0).is_ok());
        chan.send_yields.store(SEND_YIELDS_MIN, Ordering::Relaxed);
        timed_out();
        assert_eq!(yields(), SEND_YIELDS_MIN, "the first sender's own count");
        // A successor's count starts at the most, and is halved: its yields came to nothing.
        std::thread::scope(|s| {
            s.spawn(timed_out);
        });
        assert_eq!(yields(), SEND_YIELDS_MAX / 2, "a successor's count");
        assert_eq!(chan.try_recv(), Ok(0));
        if !several_cpus() {
            return; // A receiver spins only with several CPUs.
        }
        let spins = || chan.recv_spins.load(Ordering::Relaxed);
        // A receive whose message is there at its spin's first attempt: one spin more.
        let receive = || {
            assert!(chan.buffer.queue.push(7).is_ok());
            assert_eq!(chan.recv_wait(None), Ok(7));
        };
        chan.recv_spins.store(RECV_SPINS_MAX, Ordering::Relaxed);
        receive();
        assert_eq!(spins(), RECV_SPINS_MAX, "the first receiver's own spin");
        std::thread::scope(|s| {
            s.spawn(receive);
        });
        assert_eq!(spins(), 1, "a successor's spin, from none");
    }

    // spec: CH-3
    /// CH-3: a blocked sender of a buffer of `SEND_YIELD_FIRST_CAPACITY` or more skips its
    /// backoff's spin steps; of a smaller buffer, it makes them (where it may spin at all).
    #[test]
    fn a_large_buffers_sender_yields_at_once() {
        // The weak attempts a send into a full buffer of `capacity` makes when its deadline
        // has passed: the first attempt and one per backoff step (the yields after the
        // backoff check the deadline first, and the wait's attempt is exact).
        let early = |capacity: usize| {
            let chan = Chan::new(Flaky::<true>::new(capacity));
            for i in 0..capacity {
                assert!(chan.try_send(i as u32).is_ok());
            }
            let past = Some(Instant::now());
            assert!(matches!(
                chan.send(1, past),
                Err(SendTimeoutError::Timeout(1))
            ));
            chan.buffer.weak_pushes.load(Ordering::Relaxed)
        };
        let (small, large) = (
            early(SEND_YIELD_FIRST_CAPACITY - 1),
            early(SEND_YIELD_FIRST_CAPACITY),
        );
        assert_eq!(small, 1 + snoozes(Backoff::new()));
        assert_eq!(large, 1 + snoozes(Backoff::yielding()));
        if several_cpus() {
            assert!(large < small, "{large} attempts, not fewer than {small}");
        }
    }

    /// Weak verdicts only ever lead to another attempt: the exact attempt of the wait
    /// decides, even with a deadline that has already passed.
    #[test]
    fn a_spurious_full_or_empty_never_decides_a_wait() {
        let chan = Chan::new(Spurious(MpmcQueue::new(1)));
        let past = Some(Instant::now());
        assert!(chan.send(1, past).is_ok());
        assert!(matches!(
            chan.send(2, past),
            Err(SendTimeoutError::Timeout(2))
        ));
        assert_eq!(chan.recv(past), Ok(1));
        assert_eq!(chan.recv(past), Err(RecvTimeoutError::Timeout));
        assert!(chan.send(3, None).is_ok());
        assert_eq!(chan.recv(None), Ok(3));
        assert!(chan.send(4, None).is_ok());
        chan.disconnect();
        // Disconnected: what is buffered is still received (exactly), then the error.
        assert_eq!(chan.recv(None), Ok(4));
        assert_eq!(chan.recv(None), Err(RecvTimeoutError::Disconnected));
    }

    // spec: CH-3
    /// CH-3: a sender that finds the one receiver's thread last seen on its CPU skips its
    /// backoff's spin steps, and parks at once in one such wait in `BESIDE_PARK_EVERY`; with
    /// the receiver elsewhere, or two receiving threads seen, it makes them (where it may
    /// spin at all).
    #[test]
    fn a_sender_beside_its_receiver_yields_at_once() {
        on_one_cpu(|cpu| {
            // As in `a_large_buffers_sender_yields_at_once`: the weak attempts of a send
            // into a full buffer whose deadline has passed.
            let early = |receiver_cpu: u32, receivers: usize| {
                let chan = Chan::new(Flaky::<true>::new(1));
                assert!(chan.try_send(0).is_ok());
                std::thread::scope(|s| {
                    for _ in 0..receivers {
                        s.spawn(|| chan.pairing.recv.note_waiter());
                    }
                });
                chan.pairing.recv.set_cpu(receiver_cpu);
                let past = Some(Instant::now());
                assert!(matches!(
                    chan.send(1, past),
                    Err(SendTimeoutError::Timeout(1))
                ));
                // Its CPU is noted only while each side has had one thread.
                let noted = if receivers == 1 { cpu } else { NO_CPU };
                assert_eq!(chan.pairing.send.cpu.load(Ordering::Relaxed), noted);
                chan.buffer.weak_pushes.load(Ordering::Relaxed)
            };
            assert_eq!(early(cpu, 1), 1 + snoozes(Backoff::yielding()), "beside");
            assert_eq!(early(cpu + 1, 1), 1 + snoozes(Backoff::new()), "elsewhere");
            assert_eq!(early(cpu, 2), 1 + snoozes(Backoff::new()), "two receivers");
            // One wait beside the receiver in `BESIDE_PARK_EVERY` parks at once: its only
            // weak attempt is the send's first.
            let chan = Chan::new(Flaky::<true>::new(1));
            assert!(chan.try_send(0).is_ok());
            std::thread::scope(|s| {
                s.spawn(|| chan.pairing.recv.note_waiter());
            });
            chan.pairing.recv.set_cpu(cpu);
            let attempts: Vec<usize> = (0..2 * BESIDE_PARK_EVERY)
                .map(|_| {
                    let before = chan.buffer.weak_pushes.load(Ordering::Relaxed);
                    assert!(matches!(
                        chan.send(1, Some(Instant::now())),
                        Err(SendTimeoutError::Timeout(1))
                    ));
                    chan.buffer.weak_pushes.load(Ordering::Relaxed) - before
                })
                .collect();
            for (wait, &n) in attempts.iter().enumerate() {
                let parks = (wait + 1) % BESIDE_PARK_EVERY == 0;
                let expect = if parks {
                    1
                } else {
                    1 + snoozes(Backoff::yielding())
                };
                assert_eq!(n, expect, "wait {wait}");
            }
        });
    }

    // spec: CH-3
    /// CH-3: with one thread on each side, a receiver whose first yield brings the message
    /// that its spin steps did not takes the sender to run on its CPU; a message within its
    /// few checks (`BESIDE_CHECKS`), or none right after its first yield, undoes that; once
    /// a second thread has waited to receive, it learns nothing until one thread has waited
    /// `ONE_AGAIN_AFTER` times in a row.
    #[test]
    fn the_receiver_learns_where_its_one_sender_runs() {
        on_one_cpu(|cpu| {
            let chan = Chan::new(Flaky::<false>::new(4));
            let sender_cpu = || chan.pairing.send.cpu.load(Ordering::Relaxed);
            // A waiting receive whose first `fails` weak attempts find nothing.
            let receive = |fails: usize| {
                chan.buffer.pop_fails.store(fails, Ordering::Relaxed);
                assert!(chan.buffer.queue.push(7).is_ok());
                assert_eq!(chan.recv_wait(None), Ok(7));
            };
            // The attempts a waiter makes before its first yield: one before each step.
            let before_yield = {
                let backoff = Backoff::new();
                let mut n = 1;
                while !backoff.yields_next() {
                    backoff.snooze();
                    n += 1;
                }
                n
            };
            let learned = if several_cpus() { cpu } else { NO_CPU };
            receive(before_yield - 1);
            assert_eq!(sender_cpu(), NO_CPU, "the message came while spinning");
            receive(before_yield);
            assert_eq!(
                sender_cpu(),
                learned,
                "the message came with the first yield"
            );
            if several_cpus() {
                receive(BESIDE_CHECKS - 1);
                assert_eq!(sender_cpu(), NO_CPU, "the message came within the checks");
                receive(before_yield);
                assert_eq!(sender_cpu(), cpu);
                // The checks, the attempt after them, and the one after the first yield.
                receive(BESIDE_CHECKS + 2);
                assert_eq!(sender_cpu(), NO_CPU, "no message after the first yield");
            }
            std::thread::scope(|s| {
                s.spawn(|| assert!(!chan.pairing.recv.note_waiter().one));
            });
            receive(before_yield);
            assert_eq!(sender_cpu(), NO_CPU, "two receiving threads");
            let (noted, beside) = Pairing::look(&chan.pairing.send, &chan.pairing.recv);
            assert!(!noted.one && !beside, "from either side");
            // This thread's waits in a row make the side one thread's again (a receiver
            // handed to a new thread): the one above was the first.
            for wait in 2..ONE_AGAIN_AFTER {
                receive(before_yield);
                assert_eq!(sender_cpu(), NO_CPU, "wait {wait} in a row");
            }
            receive(before_yield);
            assert_eq!(sender_cpu(), learned, "one receiving thread again");
        });
    }

    /// CH-3: a bounded channel's receiver spins longer after a spin that ended with a
    /// message and half as long after spins that came to nothing; it parks without yielding
    /// once after senders have waited for room, and while its spins find messages.
    #[test]
    fn the_receivers_spin_adapts() {
        let chan = Chan::new(MpmcQueue::<u32>::new(1));
        let spins = || chan.recv_spins.load(Ordering::Relaxed);
        let past = Some(Instant::now());
        chan.recv_spins.store(3, Ordering::Relaxed);
        assert!(chan.recv_spin(past).is_none());
        assert_eq!(spins(), 1, "halved");
        assert!(chan.recv_parks_at_once(), "its spins found messages lately");
        assert!(chan.recv_spin(past).is_none());
        assert_eq!(spins(), 0);
        assert!(
            !chan.recv_parks_at_once(),
            "nothing says the receiver holds anyone up"
        );
        // A sender waits for room (and times out).
        assert!(chan.send(1, None).is_ok());
        assert!(matches!(
            chan.send(2, past),
            Err(SendTimeoutError::Timeout(2))
        ));
        assert!(chan.recv_parks_at_once(), "a sender waited for room");
        assert!(
            !chan.recv_parks_at_once(),
            "and the next receiver knows it was told"
        );
        // A spin that ends with a message.
        assert_eq!(chan.recv_spin(None), Some(Ok(1)));
        assert_eq!(spins(), 1, "grown");
        for v in 0..10 {
            assert!(chan.send(v, None).is_ok());
            assert_eq!(chan.recv_spin(None), Some(Ok(v)));
        }
        assert_eq!(spins(), RECV_SPINS_MAX, "up to the cap");
    }
}
