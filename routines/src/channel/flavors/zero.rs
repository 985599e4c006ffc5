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
//! Progress: blocking by nature; the lock is held only for a few pointer operations and one
//! wake call.

use ::core::cell::Cell;
use ::core::ptr;
use std::time::Instant;

use crate::channel::chan::HandleCounts;
use crate::channel::error::{RecvTimeoutError, SendTimeoutError, TryRecvError, TrySendError};
use crate::core::WaitQueue;
use crate::loom::cell::UnsafeCell;
use crate::loom::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use crate::sync::Mutex;

/// Packet states; changed only under the channel lock.
const WAITING: u32 = 0;
/// The counterpart completed the exchange.
const DONE: u32 = 1;
/// The channel was disconnected while the packet waited.
const DISCONNECTED: u32 = 2;

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
    disconnected: bool,
}

// SAFETY: the lists only hold pointers to packets whose owners wait for the lock before
// freeing them; values in packets move between threads (`T: Send`).
unsafe impl<T: Send> Send for Lists<T> {}

/// A rendezvous channel.
pub(crate) struct ZeroChan<T> {
    lists: Mutex<Lists<T>>,
    handles: HandleCounts,
    /// A lock-free copy of `Lists::disconnected`, for `is_disconnected`.
    disconnected: AtomicBool,
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
                disconnected: false,
            }),
            handles: HandleCounts::new(),
            disconnected: AtomicBool::new(false),
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

    fn send_inner(&self, value: T, wait: Wait) -> Result<(), SendTimeoutError<T>> {
        let mut lists = self.lists.lock();
        if lists.disconnected {
            return Err(SendTimeoutError::Disconnected(value));
        }
        if let Some(r) = lists.receivers.pop_front() {
            // SAFETY: `r` was just unlinked under the lock we hold; its owner waits for the lock before it looks at its slot.
            unsafe { (*r).slot.with_mut(|s| *s = Some(value)) };
            // SAFETY: as above.
            unsafe { finish(r, DONE) };
            return Ok(());
        }
        let Wait::Until(deadline) = wait else {
            return Err(SendTimeoutError::Timeout(value));
        };
        let packet = Packet::new(Some(value));
        // SAFETY: `packet` stays in this frame until it is unlinked (below, or by a receiver or the disconnection, under the lock we take again before leaving).
        unsafe { lists.senders.push_back(&packet) };
        drop(lists);
        park(&packet, deadline);
        let mut lists = self.lists.lock();
        // Relaxed: under the lock, which every state change is made under.
        let state = packet.state.load(Ordering::Relaxed);
        if state == WAITING {
            lists.senders.remove(&packet);
        }
        drop(lists);
        // SAFETY: the packet is unlinked and we hold no reference others can use: the slot is ours.
        let back = || unsafe { packet.slot.with_mut(|s| (*s).take()) }.expect("unsent value");
        match state {
            DONE => Ok(()),
            DISCONNECTED => Err(SendTimeoutError::Disconnected(back())),
            _ => Err(SendTimeoutError::Timeout(back())),
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
        let mut lists = self.lists.lock();
        if let Some(s) = lists.senders.pop_front() {
            // SAFETY: `s` was just unlinked under the lock we hold; its owner waits for the lock before it looks at its slot.
            let value = unsafe { (*s).slot.with_mut(|v| (*v).take()) };
            // SAFETY: as above.
            unsafe { finish(s, DONE) };
            return Ok(value.expect("a waiting sender's packet holds its value"));
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
        drop(lists);
        park(&packet, deadline);
        let mut lists = self.lists.lock();
        // Relaxed: under the lock, as in `send_inner`.
        let state = packet.state.load(Ordering::Relaxed);
        if state == WAITING {
            lists.receivers.remove(&packet);
        }
        drop(lists);
        match state {
            DONE => {
                // SAFETY: the sender filled the slot under the lock we have since taken; the packet is unlinked.
                let value = unsafe { packet.slot.with_mut(|s| (*s).take()) };
                Ok(value.expect("a completed receive holds its value"))
            }
            DISCONNECTED => Err(RecvTimeoutError::Disconnected),
            _ => Err(RecvTimeoutError::Timeout),
        }
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

/// Waits until the packet leaves `WAITING` or `deadline` passes.
fn park<T>(packet: &Packet<T>, deadline: Option<Instant>) {
    packet.wake.wait_until(deadline, || {
        // Acquire: pairs with the Release store in `finish`.
        (packet.state.load(Ordering::Acquire) != WAITING).then_some(())
    });
}
