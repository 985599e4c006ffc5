//! Zero-capacity (rendezvous) flavor: `bounded(0)`. A send completes only when a receiver
//! takes the value, and the other way round.
//!
//! A blocked operation puts a *packet* on its own stack (the value of a sender, or an empty
//! slot for a receiver), links it into the channel's list of waiting senders or receivers,
//! and parks on the packet's own [`WaitQueue`]. The counterpart pops the first packet under
//! the channel lock, completes the exchange through it, marks it `DONE` and wakes its owner,
//! all before unlocking. The owner, once woken (or timed out), takes the lock before it
//! returns: so the lock is the proof that nobody touches its packet any more, and it can
//! free its stack frame. A timed-out owner still linked unlinks itself; if it was already
//! taken, the exchange happened and it reports success. Nothing is allocated per message.
//!
//! Selection (`Select`, `select!`): a selecting receive first tries `try_recv`; a selecting
//! thread that waits registers an [`Entry`] in the channel's `send_selectors` /
//! `recv_selectors` instead of a packet. An arriving counterpart
//! (plain or itself selecting) that finds no packet *claims* such an entry's context (a CAS,
//! see `channel/context.rs`), publishes a packet of its own to it (a sender's holds the
//! value, a receiver's is empty) and waits until the selecting thread completes the exchange
//! through that packet; such a packet is `CLAIMED`: its owner waits for the end without a
//! deadline. A selecting *sender* that finds a waiting receiver reserves its packet
//! (`CLAIMED`) and fills it when `SelectedOperation::send` comes with the value; if the
//! operation is dropped instead, the packet is marked `RETRY` and its owner waits again.
//! A thread never claims its own entries. Registering (or parking a packet) wakes the
//! observers (`Select::ready`) of the other side.
//!
//! Progress: blocking by nature; the lock is held only for a few pointer operations and one
//! wake call.

use ::core::cell::Cell;
use ::core::ptr;
use std::time::Instant;

use crate::channel::chan::HandleCounts;
use crate::channel::context::{abandoned_packet, Context, Entry};
use crate::channel::error::{
    RecvError, RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError,
};
use crate::channel::pairing::{Pairing, Side};
use crate::core::{spin_briefly_times_until, spin_until, Backoff, CachePadded, WaitQueue};
use crate::loom::cell::UnsafeCell;
use crate::loom::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use crate::loom::sync::Arc;
use crate::sync::Mutex;

/// Packet states; changed only under the channel lock.
const WAITING: u32 = 0;
/// The counterpart completed the exchange.
const DONE: u32 = 1;
/// The channel was disconnected while the packet waited.
const DISCONNECTED: u32 = 2;
/// Reserved by a selecting counterpart (or handed to one): the owner waits for `DONE` or
/// `RETRY` without a deadline.
const CLAIMED: u32 = 3;
/// The selecting counterpart dropped its operation: the owner starts over.
const RETRY: u32 = 4;

/// A blocked operation, on its owner's stack.
struct Packet<T> {
    /// A waiting sender's value, or the slot a waiting receiver gets its value in. Touched
    /// under the channel lock, or by the owner once it holds the lock after waiting.
    slot: UnsafeCell<Option<T>>,
    /// `WAITING`, `DONE` or `DISCONNECTED`; written under the lock, polled by the owner.
    state: AtomicU32,
    /// The owner parks here.
    wake: WaitQueue,
    /// The next packet in its list; under the lock.
    next: Cell<*const Packet<T>>,
}

impl<T> Packet<T> {
    fn new(slot: Option<T>) -> Self {
        Self {
            slot: UnsafeCell::new(slot),
            state: AtomicU32::new(WAITING),
            wake: WaitQueue::new(),
            next: Cell::new(ptr::null()),
        }
    }
}

/// A FIFO of waiting packets, linked through `Packet::next`.
struct List<T> {
    head: *const Packet<T>,
    tail: *const Packet<T>,
}

impl<T> List<T> {
    const fn new() -> Self {
        Self {
            head: ptr::null(),
            tail: ptr::null(),
        }
    }

    /// # Safety
    /// `p` is a live, unlinked packet that stays put until it is unlinked; the caller holds
    /// the channel lock.
    unsafe fn push_back(&mut self, p: *const Packet<T>) {
        // SAFETY: the caller's contract: `p` is live and the lock is held.
        unsafe { (*p).next.set(ptr::null()) };
        if self.tail.is_null() {
            self.head = p;
        } else {
            // SAFETY: linked packets are live (their owners wait until unlinked).
            unsafe { (*self.tail).next.set(p) };
        }
        self.tail = p;
    }

    fn is_empty(&self) -> bool {
        self.head.is_null()
    }

    /// The first packet, unlinked. The caller holds the channel lock.
    fn pop_front(&mut self) -> Option<*const Packet<T>> {
        let p = self.head;
        if p.is_null() {
            return None;
        }
        // SAFETY: linked packets are live.
        self.head = unsafe { (*p).next.get() };
        if self.head.is_null() {
            self.tail = ptr::null();
        }
        Some(p)
    }

    /// Unlinks `p` if it is linked. The caller holds the channel lock.
    fn remove(&mut self, p: *const Packet<T>) {
        let mut prev: *const Packet<T> = ptr::null();
        let mut cur = self.head;
        while !cur.is_null() {
            // SAFETY: linked packets are live.
            let next = unsafe { (*cur).next.get() };
            if ptr::eq(cur, p) {
                if prev.is_null() {
                    self.head = next;
                } else {
                    // SAFETY: as above.
                    unsafe { (*prev).next.set(next) };
                }
                if ptr::eq(self.tail, p) {
                    self.tail = prev;
                }
                return;
            }
            prev = cur;
            cur = next;
        }
    }
}

/// The lock-protected part of the channel.
struct Lists<T> {
    senders: List<T>,
    receivers: List<T>,
    /// Selecting threads (and observers) waiting to send.
    send_selectors: Vec<Entry>,
    /// Selecting threads (and observers) waiting to receive.
    recv_selectors: Vec<Entry>,
    disconnected: bool,
}

/// Claims the first selecting thread in `entries` that is not `me` and still waiting, and
/// unlinks its entry.
fn claim(entries: &mut Vec<Entry>, me: Option<&Context>) -> Option<Entry> {
    let i = entries
        .iter()
        .position(|e| !e.observer && me.is_none_or(|me| !e.is(me)) && e.cx.try_claim(e.oper))?;
    Some(entries.remove(i))
}

/// `true` if `entries` has a selecting thread other than `me` that could still be claimed.
fn can_claim(entries: &[Entry], me: Option<&Context>) -> bool {
    entries
        .iter()
        .any(|e| !e.observer && me.is_none_or(|me| !e.is(me)) && e.cx.is_waiting())
}

/// Wakes every observer in `entries` but `me`'s: the other side just got a counterpart.
fn notify_observers(entries: &[Entry], me: Option<&Context>) {
    for e in entries
        .iter()
        .filter(|e| e.observer && me.is_none_or(|me| !e.is(me)))
    {
        if e.cx.try_claim(e.oper) {
            e.cx.unpark();
        }
    }
}

/// What a selecting sender reserved (see the module docs); type-free, so it can travel in a
/// `SelectedOperation`.
#[derive(Debug)]
pub(crate) enum Reservation {
    /// Nothing reserved yet.
    None,
    /// The channel is disconnected: completing hands the value back.
    Disconnected,
    /// A waiting receiver's packet (a `*const Packet<T>`), unlinked and `CLAIMED`.
    Packet(*const ()),
    /// A selecting receiver, claimed: it waits for our packet.
    Selector(Entry),
}

// SAFETY: a reserved packet's owner waits (without a deadline) until the reservation is
// completed or given back, and either is done under the channel lock from any thread; the
// pointer itself is never dereferenced outside that lock.
unsafe impl Send for Reservation {}
// SAFETY: `&Reservation` gives no access to the packet.
unsafe impl Sync for Reservation {}

// SAFETY: the lists only hold pointers to packets whose owners wait for the lock before
// freeing them; values in packets move between threads (`T: Send`).
unsafe impl<T: Send> Send for Lists<T> {}

/// A rendezvous channel.
pub(crate) struct ZeroChan<T> {
    lists: Mutex<Lists<T>>,
    handles: HandleCounts,
    /// A lock-free copy of `Lists::disconnected`, for `is_disconnected`.
    disconnected: AtomicBool,
    /// Where each side last waited (CH-3). On a line of its own: waiting threads write it,
    /// and the lock beside which it would otherwise lie is taken at every operation.
    pairing: CachePadded<Pairing>,
}

/// Completes the exchange through packet `p` (popped under the lock): marks it `state` and
/// wakes its owner, still under the lock.
///
/// # Safety
/// `p` was just unlinked under the lock the caller still holds.
unsafe fn finish<T>(p: *const Packet<T>, state: u32) {
    // SAFETY: the owner of `p` does not return before it gets the lock we hold.
    let packet = unsafe { &*p };
    // Release: pairs with the owner's Acquire poll in `wait`; the slot change is visible.
    packet.state.store(state, Ordering::Release);
    packet.wake.notify_one();
}

impl<T> ZeroChan<T> {
    /// A channel with one sender and one receiver.
    pub(crate) fn new() -> Self {
        Self {
            lists: Mutex::new(Lists {
                senders: List::new(),
                receivers: List::new(),
                send_selectors: Vec::new(),
                recv_selectors: Vec::new(),
                disconnected: false,
            }),
            handles: HandleCounts::new(),
            disconnected: AtomicBool::new(false),
            pairing: CachePadded::new(Pairing::new()),
        }
    }

    /// Sends if a receiver is waiting right now.
    pub(crate) fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        match self.send_inner(value, Wait::No) {
            Ok(()) => Ok(()),
            Err(SendTimeoutError::Disconnected(v)) => Err(TrySendError::Disconnected(v)),
            Err(SendTimeoutError::Timeout(v)) => Err(TrySendError::Full(v)),
        }
    }

    /// Sends, waiting for a receiver until `deadline` (`None`: forever).
    pub(crate) fn send(
        &self,
        value: T,
        deadline: Option<Instant>,
    ) -> Result<(), SendTimeoutError<T>> {
        self.send_inner(value, Wait::Until(deadline))
    }

    fn send_inner(&self, mut value: T, wait: Wait) -> Result<(), SendTimeoutError<T>> {
        loop {
            let mut lists = self.lists.lock();
            if lists.disconnected {
                return Err(SendTimeoutError::Disconnected(value));
            }
            if let Some(r) = lists.receivers.pop_front() {
                // SAFETY: `r` was just unlinked under the lock we hold; its owner waits for the lock before it looks at its slot.
                unsafe { (*r).slot.with_mut(|s| *s = Some(value)) };
                // SAFETY: as above.
                unsafe { finish(r, DONE) };
                // CH-3: a sender that never waits still tells the receiver where it runs.
                Pairing::look(&self.pairing.send, &self.pairing.recv);
                return Ok(());
            }
            if let Some(e) = claim(&mut lists.recv_selectors, None) {
                drop(lists);
                // A selecting receiver takes the value from our packet.
                let packet = Packet::new(Some(value));
                if self.hand_over(&e, &packet) == DONE {
                    return Ok(());
                }
                // SAFETY: the selecting receiver gave up without touching the slot, and the lock taken in `wait_claimed` proves it is done with the packet.
                value = unsafe { packet.slot.with_mut(|s| (*s).take()) }.expect("unsent value");
                continue;
            }
            let Wait::Until(deadline) = wait else {
                return Err(SendTimeoutError::Timeout(value));
            };
            let packet = Packet::new(Some(value));
            // SAFETY: `packet` stays in this frame until it is unlinked (below, or by a receiver or the disconnection, under the lock we take again before leaving).
            unsafe { lists.senders.push_back(&packet) };
            notify_observers(&lists.recv_selectors, None);
            drop(lists);
            let beside = Pairing::look(&self.pairing.send, &self.pairing.recv).1;
            park(&packet, deadline, beside.then_some(&self.pairing.send));
            let mut lists = self.lists.lock();
            // Relaxed: under the lock, which every state change is made under.
            let state = packet.state.load(Ordering::Relaxed);
            if state == WAITING {
                lists.senders.remove(&packet);
            }
            drop(lists);
            // SAFETY: the packet is unlinked and we hold no reference others can use: the slot is ours.
            let back = || unsafe { packet.slot.with_mut(|s| (*s).take()) }.expect("unsent value");
            return match state {
                DONE => Ok(()),
                DISCONNECTED => Err(SendTimeoutError::Disconnected(back())),
                _ => Err(SendTimeoutError::Timeout(back())),
            };
        }
    }

    /// Receives if a sender is waiting right now.
    pub(crate) fn try_recv(&self) -> Result<T, TryRecvError> {
        self.recv_inner(Wait::No).map_err(|e| match e {
            RecvTimeoutError::Timeout => TryRecvError::Empty,
            RecvTimeoutError::Disconnected => TryRecvError::Disconnected,
        })
    }

    /// Receives, waiting for a sender until `deadline` (`None`: forever).
    pub(crate) fn recv(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        self.recv_inner(Wait::Until(deadline))
    }

    fn recv_inner(&self, wait: Wait) -> Result<T, RecvTimeoutError> {
        loop {
            let mut lists = self.lists.lock();
            if let Some(s) = lists.senders.pop_front() {
                // SAFETY: `s` was just unlinked under the lock we hold; its owner waits for the lock before it looks at its slot.
                let value = unsafe { (*s).slot.with_mut(|v| (*v).take()) };
                // SAFETY: as above.
                unsafe { finish(s, DONE) };
                // CH-3: as in `send_inner`.
                Pairing::look(&self.pairing.recv, &self.pairing.send);
                return Ok(value.expect("a waiting sender's packet holds its value"));
            }
            if let Some(e) = claim(&mut lists.send_selectors, None) {
                drop(lists);
                // A selecting sender fills our packet.
                let packet = Packet::new(None);
                if self.hand_over(&e, &packet) == DONE {
                    return Ok(take_received(&packet));
                }
                continue;
            }
            if lists.disconnected {
                return Err(RecvTimeoutError::Disconnected);
            }
            let Wait::Until(deadline) = wait else {
                return Err(RecvTimeoutError::Timeout);
            };
            let packet = Packet::new(None);
            // SAFETY: as in `send_inner`.
            unsafe { lists.receivers.push_back(&packet) };
            notify_observers(&lists.send_selectors, None);
            drop(lists);
            let beside = Pairing::look(&self.pairing.recv, &self.pairing.send).1;
            park(&packet, deadline, beside.then_some(&self.pairing.recv));
            let mut lists = self.lists.lock();
            // Relaxed: under the lock, as in `send_inner`.
            let mut state = packet.state.load(Ordering::Relaxed);
            if state == WAITING {
                lists.receivers.remove(&packet);
            }
            drop(lists);
            if state == CLAIMED {
                // A selecting sender reserved us: it fills the packet or gives it back.
                state = self.wait_claimed(&packet);
            }
            return match state {
                DONE => Ok(take_received(&packet)),
                DISCONNECTED => Err(RecvTimeoutError::Disconnected),
                RETRY => continue,
                _ => Err(RecvTimeoutError::Timeout),
            };
        }
    }

    /// Hands `packet` (on the caller's stack) to the selecting thread of `e`, which the
    /// caller has just claimed (its entry is unlinked), and waits until that thread has
    /// completed the exchange through it. Returns `DONE` or `RETRY`.
    fn hand_over(&self, e: &Entry, packet: &Packet<T>) -> u32 {
        // Relaxed: published by the Release in `publish_packet`.
        packet.state.store(CLAIMED, Ordering::Relaxed);
        e.cx.publish_packet(ptr::from_ref(packet).cast_mut().cast());
        self.wait_claimed(packet)
    }

    /// Waits (without a deadline) for the end of a `CLAIMED` packet's exchange, then takes
    /// the lock once: the completer finished under it, so afterwards nobody touches the
    /// packet. Returns `DONE` or `RETRY`.
    fn wait_claimed(&self, packet: &Packet<T>) -> u32 {
        // Acquire: pairs with the Release store in `finish`.
        spin_until(|| packet.state.load(Ordering::Acquire) != CLAIMED);
        packet.wake.wait_until(None, || {
            // Acquire: pairs with the Release store in `finish`.
            let state = packet.state.load(Ordering::Acquire);
            (state != CLAIMED).then_some(state)
        });
        drop(self.lists.lock());
        // Relaxed: after the lock, under which it was written.
        packet.state.load(Ordering::Relaxed)
    }

    // ---- selection (see the module docs) ----

    /// A selecting send, now: reserves a waiting receiver (or a selecting one); the value
    /// comes later, in [`complete_send`](Self::complete_send).
    pub(crate) fn select_send(&self) -> Reservation {
        let mut lists = self.lists.lock();
        if lists.disconnected {
            return Reservation::Disconnected;
        }
        if let Some(r) = lists.receivers.pop_front() {
            // SAFETY: just unlinked under the lock we hold; its owner waits for the lock.
            unsafe { &*r }.state.store(CLAIMED, Ordering::Release);
            return Reservation::Packet(r.cast());
        }
        // As in `select_recv`: no entry is the caller's own.
        match claim(&mut lists.recv_selectors, None) {
            Some(e) => Reservation::Selector(e),
            None => Reservation::None,
        }
    }

    /// A selecting receiver that was claimed: waits for the claimer's packet and takes its
    /// value. `None` if the claimer gave up (or it was the disconnection).
    pub(crate) fn accept_recv(&self, cx: &Context) -> Option<Result<T, RecvError>> {
        let p = cx.wait_packet();
        if p == abandoned_packet() {
            return None;
        }
        let p: *const Packet<T> = p.cast_const().cast();
        let lists = self.lists.lock();
        // SAFETY: a claimer's packet: its owner waits for `DONE` and then for the lock we hold.
        let value = unsafe { (*p).slot.with_mut(|v| (*v).take()) };
        // SAFETY: as above.
        unsafe { finish(p, DONE) };
        drop(lists);
        Some(Ok(value.expect("a selected receive's packet holds a value")))
    }

    /// A selecting sender that was claimed: the claimer's (empty) packet becomes its
    /// reservation.
    pub(crate) fn accept_send(&self, cx: &Context) -> Reservation {
        let p = cx.wait_packet();
        if p == abandoned_packet() {
            return Reservation::None;
        }
        Reservation::Packet(p.cast_const())
    }

    /// Completes a reservation of [`select_send`](Self::select_send) with `value`.
    pub(crate) fn complete_send(
        &self,
        reservation: Reservation,
        value: T,
    ) -> Result<(), SendError<T>> {
        match reservation {
            Reservation::Packet(p) => {
                let p: *const Packet<T> = p.cast();
                let lists = self.lists.lock();
                // SAFETY: a reserved (`CLAIMED`) packet: its owner waits for `DONE`/`RETRY` and then for the lock we hold.
                unsafe { (*p).slot.with_mut(|s| *s = Some(value)) };
                // SAFETY: as above.
                unsafe { finish(p, DONE) };
                drop(lists);
                Ok(())
            }
            Reservation::Selector(e) => {
                let packet = Packet::new(Some(value));
                // A claimed selecting receiver always takes the value (`accept_recv`).
                let state = self.hand_over(&e, &packet);
                debug_assert_eq!(state, DONE);
                Ok(())
            }
            Reservation::Disconnected => Err(SendError(value)),
            Reservation::None => self
                .send(value, None)
                .map_err(|e| SendError(e.into_inner())),
        }
    }

    /// Gives a reservation back (its `SelectedOperation` was dropped).
    pub(crate) fn abandon_send(&self, reservation: Reservation) {
        match reservation {
            Reservation::Packet(p) => {
                let _lists = self.lists.lock();
                // SAFETY: as in `complete_send`.
                unsafe { finish(p.cast::<Packet<T>>(), RETRY) };
            }
            Reservation::Selector(e) => e.cx.publish_packet(abandoned_packet()),
            Reservation::Disconnected | Reservation::None => {}
        }
    }

    /// Registers a selecting receiver (or an observer); returns whether a receive is
    /// possible now.
    pub(crate) fn register_recv(&self, cx: &Arc<Context>, oper: usize, observer: bool) -> bool {
        let mut lists = self.lists.lock();
        lists.recv_selectors.push(Entry {
            cx: Arc::clone(cx),
            oper,
            observer,
        });
        notify_observers(&lists.send_selectors, Some(cx));
        !lists.senders.is_empty()
            || can_claim(&lists.send_selectors, Some(cx))
            || lists.disconnected
    }

    /// Registers a selecting sender (or an observer); returns whether a send is possible
    /// now.
    pub(crate) fn register_send(&self, cx: &Arc<Context>, oper: usize, observer: bool) -> bool {
        let mut lists = self.lists.lock();
        lists.send_selectors.push(Entry {
            cx: Arc::clone(cx),
            oper,
            observer,
        });
        notify_observers(&lists.recv_selectors, Some(cx));
        !lists.receivers.is_empty()
            || can_claim(&lists.recv_selectors, Some(cx))
            || lists.disconnected
    }

    pub(crate) fn unregister_recv(&self, cx: &Context, oper: usize) {
        let mut lists = self.lists.lock();
        lists
            .recv_selectors
            .retain(|e| !(e.is(cx) && e.oper == oper));
    }

    pub(crate) fn unregister_send(&self, cx: &Context, oper: usize) {
        let mut lists = self.lists.lock();
        lists
            .send_selectors
            .retain(|e| !(e.is(cx) && e.oper == oper));
    }

    /// `true` if a receive would not wait (`Select::ready`).
    pub(crate) fn is_recv_ready(&self) -> bool {
        let lists = self.lists.lock();
        !lists.senders.is_empty() || can_claim(&lists.send_selectors, None) || lists.disconnected
    }

    /// `true` if a send would not wait (`Select::ready`).
    pub(crate) fn is_send_ready(&self) -> bool {
        let lists = self.lists.lock();
        !lists.receivers.is_empty() || can_claim(&lists.recv_selectors, None) || lists.disconnected
    }

    /// Marks the channel disconnected and fails every waiting operation. Returns `true` if
    /// this call did it.
    pub(crate) fn disconnect(&self) -> bool {
        let mut lists = self.lists.lock();
        if lists.disconnected {
            return false;
        }
        lists.disconnected = true;
        // Release: pairs with the Acquire load in `is_disconnected`.
        self.disconnected.store(true, Ordering::Release);
        while let Some(p) = lists.senders.pop_front() {
            // SAFETY: just unlinked under the lock we hold.
            unsafe { finish(p, DISCONNECTED) };
        }
        while let Some(p) = lists.receivers.pop_front() {
            // SAFETY: just unlinked under the lock we hold.
            unsafe { finish(p, DISCONNECTED) };
        }
        for e in lists.send_selectors.iter().chain(&lists.recv_selectors) {
            if e.cx.try_claim(e.oper) {
                // A claimed selecting thread waits for a packet: there is none, it retries
                // and finds the channel disconnected.
                e.cx.publish_packet(abandoned_packet());
            }
        }
        true
    }

    pub(crate) fn is_disconnected(&self) -> bool {
        // Acquire: pairs with the Release store in `disconnect`.
        self.disconnected.load(Ordering::Acquire)
    }

    pub(crate) fn handles(&self) -> &HandleCounts {
        &self.handles
    }

    /// Always 0: nothing is ever buffered.
    pub(crate) fn len(&self) -> usize {
        0
    }

    pub(crate) fn capacity(&self) -> Option<usize> {
        Some(0)
    }
}

/// How long an operation may wait for its counterpart.
#[derive(Clone, Copy)]
enum Wait {
    /// Not at all (`try_send` / `try_recv`).
    No,
    /// Until the deadline (`None`: forever).
    Until(Option<Instant>),
}

/// Takes the value a completed (`DONE`) receive's packet holds.
fn take_received<T>(packet: &Packet<T>) -> T {
    // SAFETY: the exchange is over (`DONE`, seen after taking the lock): nobody else touches the packet.
    let value = unsafe { packet.slot.with_mut(|s| (*s).take()) };
    value.expect("a completed receive holds its value")
}

/// Brief spins (about 130 spin-loop hints each, a few microseconds) a waiting packet's owner
/// makes before it parks (CH-3): long enough for a counterpart that is already running to
/// arrive, so that a steady rendezvous costs no system call. 1 under loom (each spin is one
/// check there).
const PARK_SPINS: usize = if cfg!(routines_loom) { 1 } else { 5 };

/// Waits until the packet leaves `WAITING` or `deadline` passes. Spins without yielding, as
/// a selecting thread does (`Context::wait_until`): a counterpart will claim and wake it,
/// and a yield under more threads than cores only queues it behind the others (measured on
/// 2 cores: mpsc and mpmc over `bounded(0)` ~1.4x faster than with yields). How long to
/// spin: see `PARK_SPINS`. But when `beside` names the owner's side, the one counterpart
/// thread was last seen on this CPU, where it cannot run while the owner spins: the owner
/// yields a few times instead, or, one wait in `BESIDE_PARK_EVERY`, parks at once (CH-3).
fn park<T>(packet: &Packet<T>, deadline: Option<Instant>, beside: Option<&Side>) {
    // Acquire: pairs with the Release store in `finish`.
    let done = || packet.state.load(Ordering::Acquire) != WAITING;
    match beside {
        Some(side) => {
            if !side.parks_beside() {
                let backoff = Backoff::yielding();
                while !backoff.is_completed() && deadline.is_none_or(|d| Instant::now() < d) {
                    backoff.snooze();
                    if done() {
                        return;
                    }
                }
            }
        }
        None => {
            if spin_briefly_times_until(PARK_SPINS, deadline, done) {
                return;
            }
        }
    }
    packet.wake.wait_until(deadline, || {
        // Acquire: pairs with the Release store in `finish`.
        (packet.state.load(Ordering::Acquire) != WAITING).then_some(())
    });
}

#[cfg(all(test, not(routines_loom)))]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::channel::pairing::{on_one_cpu, NO_CPU};

    // spec: CH-3
    /// CH-3: a rendezvous sender notes where it runs when it hands its value to a waiting
    /// receiver, and a waiting sender beside the one receiver's thread takes the waits
    /// beside it (yields, or a park), not the spin.
    #[test]
    fn a_rendezvous_sender_beside_its_receiver_does_not_spin() {
        on_one_cpu(|cpu| {
            let chan = ZeroChan::<u32>::new();
            let sender_cpu = || chan.pairing.send.cpu.load(Ordering::Relaxed);
            std::thread::scope(|s| {
                s.spawn(|| assert_eq!(chan.recv(None), Ok(7)));
                while !chan.is_send_ready() {
                    std::thread::yield_now();
                }
                assert_eq!(sender_cpu(), NO_CPU);
                assert!(chan.send(7, None).is_ok());
            });
            assert_eq!(sender_cpu(), cpu, "noted at the hand-over");
            let beside_waits = || chan.pairing.send.beside_waits.load(Ordering::Relaxed);
            // Nobody receives: each send waits until its deadline, which has passed.
            let past = Some(Instant::now());
            chan.pairing.recv.set_cpu(cpu + 1);
            assert!(chan.send(1, past).is_err());
            assert_eq!(beside_waits(), 0, "the receiver runs elsewhere: a spin");
            chan.pairing.recv.set_cpu(cpu);
            assert!(chan.send(2, past).is_err());
            assert!(chan.send(3, past).is_err());
            assert_eq!(beside_waits(), 2, "beside the receiver");
        });
    }
}
