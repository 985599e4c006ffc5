//! What a selecting thread waits with: its [`Context`], and the per-channel lists
//! ([`Selectors`]) it registers in.
//!
//! A thread blocked in `Select` waits for several channels at once, so it cannot park on one
//! channel's [`WaitQueue`]. It registers an [`Entry`] (its context and the index of the
//! operation) with every channel of the selection, then parks on its own context until the
//! context's `select` word leaves `WAITING`. Whoever makes one of the operations possible
//! *claims* the context by a compare-and-swap of `select` from `WAITING` to that operation's
//! index, then wakes it. Exactly one claim succeeds per round, so a selecting thread is woken
//! for at most one operation; a thread giving up (timeout, or an operation found ready while
//! registering) claims its own context with `ABORTED`, and then no one else can.
//!
//! A thread registered as an *observer* (`Select::ready`) is woken the same way but only
//! learns that an operation may be ready: nothing was reserved for it.

use ::core::fmt;
use ::core::ptr;
use std::time::Instant;

use crate::core::{spin_briefly_until, spin_until, WaitQueue};
use crate::loom::sync::atomic::{fence, AtomicPtr, AtomicUsize, Ordering};
use crate::loom::sync::Arc;
use crate::sync::Mutex;

/// `select` before anyone claimed the context in this round.
pub(crate) const WAITING: usize = 0;
/// The owner gave up this round (timeout, or it found an operation ready itself).
pub(crate) const ABORTED: usize = 1;
/// `select` = `FIRST_OPERATION + i`: operation `i` of the selection was claimed.
const FIRST_OPERATION: usize = 2;

/// A pointer no packet ever has: published by a claimer that will not complete after all
/// (its `SelectedOperation` was dropped), so the claimed owner goes back to waiting.
pub(crate) fn abandoned_packet() -> *mut () {
    ptr::without_provenance_mut(1)
}

/// The outcome of a round of waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Selected {
    /// Nobody claimed the context: the owner aborted it itself.
    Aborted,
    /// Operation `i` was claimed by another thread.
    Operation(usize),
}

/// One selecting thread (reused by that thread across selections). Not public API (named by
/// code `select!` generates).
#[doc(hidden)]
pub struct Context {
    /// `WAITING`, `ABORTED` or `FIRST_OPERATION + i`; see the module docs.
    select: AtomicUsize,
    /// Rendezvous channels only: the packet a claimer exchanges through (see `zero.rs`).
    packet: AtomicPtr<()>,
    /// The owner parks here.
    wake: WaitQueue,
}

impl Context {
    fn new() -> Self {
        Self {
            select: AtomicUsize::new(WAITING),
            packet: AtomicPtr::new(ptr::null_mut()),
            wake: WaitQueue::new(),
        }
    }

    /// Runs `f` with this thread's context (made once per thread and reused; a fresh one
    /// when the thread-local is gone, e.g. in a destructor at thread exit).
    pub(crate) fn with<R>(f: impl FnOnce(&Arc<Context>) -> R) -> R {
        #[cfg(not(routines_loom))]
        {
            use ::core::cell::Cell;
            std::thread_local! {
                static CONTEXT: Cell<Option<Arc<Context>>> = const { Cell::new(None) };
            }
            // Taken out while in use, so a nested selection (from a destructor) makes its own.
            let cx = CONTEXT
                .try_with(Cell::take)
                .ok()
                .flatten()
                .unwrap_or_else(|| Arc::new(Context::new()));
            cx.reset();
            let outcome = f(&cx);
            let _ = CONTEXT.try_with(|slot| slot.set(Some(cx)));
            outcome
        }
        #[cfg(routines_loom)]
        {
            f(&Arc::new(Context::new()))
        }
    }

    /// Starts a new round. Only while no entry of this context is registered anywhere.
    pub(crate) fn reset(&self) {
        // Relaxed: nobody else can reach the context while it is registered nowhere; the
        // registration (under a channel lock) publishes these values.
        self.select.store(WAITING, Ordering::Relaxed);
        self.packet.store(ptr::null_mut(), Ordering::Relaxed);
    }

    /// Claims the context for operation `oper`; `false` if it was claimed (or aborted)
    /// already this round. The caller then wakes it with [`unpark`](Self::unpark).
    pub(crate) fn try_claim(&self, oper: usize) -> bool {
        // AcqRel: Release publishes what the claimer did before (a pushed message) to the
        // owner's Acquire load of `select`; Acquire orders the claimer after the owner's
        // registration.
        self.select
            .compare_exchange(
                WAITING,
                FIRST_OPERATION + oper,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok()
    }

    /// The owner gives up the round. Returns what it ended with: `Aborted`, or the
    /// operation somebody claimed first.
    pub(crate) fn abort(&self) -> Selected {
        // AcqRel: pairs with `try_claim`; if it won, its work is visible to us.
        match self
            .select
            .compare_exchange(WAITING, ABORTED, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => Selected::Aborted,
            Err(s) => Self::decode(s),
        }
    }

    fn decode(s: usize) -> Selected {
        if s == ABORTED {
            Selected::Aborted
        } else {
            Selected::Operation(s - FIRST_OPERATION)
        }
    }

    /// `true` while nobody has claimed the context this round.
    pub(crate) fn is_waiting(&self) -> bool {
        // Acquire: pairs with `try_claim`.
        self.select.load(Ordering::Acquire) == WAITING
    }

    /// What a claimer (or the owner) ended the round with; `None` while waiting.
    pub(crate) fn selected(&self) -> Option<Selected> {
        // Acquire: pairs with `try_claim`.
        match self.select.load(Ordering::Acquire) {
            WAITING => None,
            s => Some(Self::decode(s)),
        }
    }

    /// Wakes the owner after a successful claim (or a packet publication).
    pub(crate) fn unpark(&self) {
        self.wake.notify_one();
    }

    /// The owner parks until it is claimed or `deadline` passes; then it aborts the round
    /// (which fails if a claim came first, and returns that claim). It spins briefly first
    /// but does not yield (see `spin_briefly_until`): a selecting thread usually waits on
    /// several senders at once, more threads than there are cores, and a yield would only
    /// send it to the back of the run queue behind them (measured: select over four
    /// capacity-1 channels, four senders, two cores, ~1.8x faster than with yields).
    pub(crate) fn wait_until(&self, deadline: Option<Instant>) -> Selected {
        if !spin_briefly_until(|| self.selected().is_some()) {
            self.wake
                .wait_until(deadline, || self.selected().map(|_| ()));
        }
        self.abort()
    }

    /// Publishes the packet a claimer exchanges through (under the channel lock), and wakes
    /// the owner.
    pub(crate) fn publish_packet(&self, packet: *mut ()) {
        // Release: pairs with the Acquire load in `wait_packet`.
        self.packet.store(packet, Ordering::Release);
        self.unpark();
    }

    /// The owner waits for its claimer's packet (`abandoned_packet()` if the claimer gave
    /// up).
    pub(crate) fn wait_packet(&self) -> *mut () {
        // Acquire: pairs with `publish_packet`.
        spin_until(|| !self.packet.load(Ordering::Acquire).is_null());
        self.wake
            .wait_until(None, || {
                // Acquire: pairs with `publish_packet`.
                let p = self.packet.load(Ordering::Acquire);
                (!p.is_null()).then_some(p)
            })
            .expect("waits without a deadline")
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context").finish_non_exhaustive()
    }
}

/// A registration: a selecting thread's context and the index of its operation.
pub(crate) struct Entry {
    pub(crate) cx: Arc<Context>,
    pub(crate) oper: usize,
    /// `Select::ready`: woken on every change, nothing reserved.
    pub(crate) observer: bool,
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("oper", &self.oper)
            .field("observer", &self.observer)
            .finish_non_exhaustive()
    }
}

impl Entry {
    /// `true` if this entry belongs to `cx`.
    pub(crate) fn is(&self, cx: &Context) -> bool {
        ptr::eq(Arc::as_ptr(&self.cx), cx)
    }
}

/// The selecting threads waiting on one side (send or receive) of a buffered channel. A
/// notifier that finds `count` zero skips the list without taking its lock.
pub(crate) struct Selectors {
    entries: Mutex<Vec<Entry>>,
    /// `entries.len()`, readable without the lock.
    count: AtomicUsize,
}

impl Selectors {
    crate::loom::const_fn_unless_loom! {
        pub(crate) fn new() -> Self {
            Self {
                entries: Mutex::new(Vec::new()),
                count: AtomicUsize::new(0),
            }
        }
    }

    /// Registers `cx` for operation `oper`. The caller then re-checks its operation (after
    /// the SeqCst fence this issues): the registration plays the waiter's part of the
    /// protocol in `core/park.rs`, with `count` as the waiter count (see `notify_one`).
    pub(crate) fn register(&self, cx: &Arc<Context>, oper: usize, observer: bool) {
        let mut entries = self.entries.lock();
        // Allocates only when the list outgrows its largest size so far.
        entries.push(Entry {
            cx: Arc::clone(cx),
            oper,
            observer,
        });
        // Relaxed: ordered for notifiers by the fence below (R in the argument of
        // `WaitQueue::notify_one_after_seqcst_rmw`).
        self.count.store(entries.len(), Ordering::Relaxed);
        drop(entries);
        // SeqCst fence: the waiter's F1 of that argument; orders the registration before
        // the caller's re-check.
        fence(Ordering::SeqCst);
    }

    /// Undoes [`register`](Self::register).
    pub(crate) fn unregister(&self, cx: &Context, oper: usize) {
        let mut entries = self.entries.lock();
        if let Some(i) = entries.iter().position(|e| e.is(cx) && e.oper == oper) {
            entries.remove(i);
        }
        // Relaxed: as in `register`.
        self.count.store(entries.len(), Ordering::Relaxed);
    }

    /// After the condition of this side changed (a message to receive, room to send) by a
    /// SeqCst read-modify-write that registrations' re-checks read: claims one selecting
    /// thread and every observer. Without anyone registered this is one SeqCst load (a
    /// plain load on x86); the argument is `WaitQueue::notify_one_after_seqcst_rmw`'s, with
    /// `count` as the waiter count. Under loom (no SeqCst loads) a fence precedes it.
    #[inline]
    pub(crate) fn notify_one_after_seqcst_rmw(&self) {
        if cfg!(routines_loom) {
            fence(Ordering::SeqCst);
        }
        // SeqCst: L in that argument.
        if self.count.load(Ordering::SeqCst) == 0 {
            return;
        }
        self.notify_one_slow();
    }

    /// Someone is registered: claim one selecting thread and every observer. Out of line so
    /// that the check above is all a push or pop pays without selectors.
    #[cold]
    #[inline(never)]
    fn notify_one_slow(&self) {
        let entries = self.entries.lock();
        let mut woke = false;
        for e in entries.iter() {
            if (e.observer || !woke) && e.cx.try_claim(e.oper) {
                e.cx.unpark();
                woke |= !e.observer;
            }
        }
    }

    /// Disconnection: claims everyone. Called after a SeqCst fence (the WaitQueues'
    /// `notify_all`) that follows the disconnection flag's change.
    pub(crate) fn notify_all(&self) {
        // SeqCst: as in `notify_one_after_seqcst_rmw`, after the caller's fence.
        if self.count.load(Ordering::SeqCst) == 0 {
            return;
        }
        for e in self.entries.lock().iter() {
            if e.cx.try_claim(e.oper) {
                e.cx.unpark();
            }
        }
    }
}
