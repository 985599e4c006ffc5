//! Sleeping and waking the work-stealing scheduler's workers.
//!
//! # State
//!
//! * `searching`: workers currently looking for work in other workers' deques and the
//!   injector. A worker starts searching only while fewer than half the workers search
//!   (or when it was woken to search, or saw work nobody else was searching for).
//! * `sleepers`: workers between announcing sleep and leaving it.
//! * per worker: a `state` (`AWAKE`, `SLEEPING`, `WOKEN`) and its own [`WaitQueue`], so a
//!   latch can wake exactly the worker that waits for it.
//!
//! # Protocol
//!
//! Worker `W` going to sleep: stores `SLEEPING`, increments `sleepers` (both SeqCst), and
//! parks on its queue, whose registration is followed by a SeqCst fence `F_W` before each
//! re-check. The re-check leaves the sleep if `W` was claimed (`WOKEN`), if the waiter's own
//! condition holds (a latch set, its broadcast inbox non-empty, termination), or if there is
//! visible work **and** nobody is searching.
//!
//! A thread `P` that made work visible (a push onto a deque or the injector) calls
//! [`Sleep::notify_work`]: SeqCst fence `F_P`; if someone is searching, or nobody sleeps,
//! return; else claim one `SLEEPING` worker by CAS to `WOKEN` and wake its queue. A claimed
//! worker starts searching without asking. A searcher that stops searching (it found work,
//! or its wait ended) and was the last searcher fences and, if work is still visible, calls
//! `notify_work` itself, so one more worker searches while work keeps coming (the cascade);
//! a claimed worker that does not search passes the claim on the same way.
//!
//! # Why the work is never stranded while a worker sleeps
//!
//! Take a push by `P` and the worker `Z` whose fence `F_Z` comes last in the SeqCst order
//! among the workers that end up asleep. Every one of those workers stored `SLEEPING` and
//! stopped searching before its own fence.
//! * `F_P` before `F_Z`: `Z`'s re-check sees the push. It also sees `searching` without the
//!   decrements of every worker asleep (each made before a fence ordered before `F_Z`). If a
//!   worker still counts as searching, it is awake and searching: it scans every queue after
//!   its increment, and when it stops, it either found work (and, as last searcher, wakes a
//!   sleeper) or goes to sleep itself, becoming a later `Z`. Otherwise `Z` sees nobody
//!   searching and leaves its sleep to search.
//! * `F_Z` before `F_P`: `P` sees every sleeper's `SLEEPING` and `sleepers` increment and
//!   every searcher decrement made before those fences. If `P` sees nobody searching it
//!   claims a sleeper; the claimed worker's re-check sees `WOKEN` (the [`WaitQueue`]
//!   argument: the CAS comes before `P`'s notify). If `P` sees a searcher, that searcher was
//!   awake after `F_P` and ends as in the first case.
//! * A searcher that stops without sleeping (found work, or its wait ended) decrements and
//!   then fences: a push whose `F_P` came before that fence is seen by its look at the
//!   queues (and it wakes a sleeper); a push whose `F_P` came after sees the decrement.
//!
//! A latch set for a sleeping worker wakes that worker's own queue after the setting
//! store; the waiter's re-check reads the latch: the [`WaitQueue`] argument again.
//!
//! # The one push without a fence: `join`'s second half
//!
//! `join` pushes `b` on the worker's own deque and calls [`Sleep::notify_join_push`], which
//! reads `searching` and `sleepers` without `F_P`. That fence was about 5 % of a `join`
//! (fib(27) on one worker: 4.3 against 4.1 ms; rayon's push has none either). Without it
//! the push may still sit in the pusher's store buffer while its loads run, so a worker
//! falling asleep at that moment can miss the push, and the pusher can miss the sleeper.
//! That costs parallelism, never progress:
//! * the pusher is awake, running `a`; when `a` returns it pops `b` back or finds it stolen
//!   (`a` cannot be waiting for `b`: `join`'s halves may always run one after the other);
//! * a worker whose wait goes to sleep while its own deque still holds jobs first calls
//!   [`Sleep::notify_work`], whose fence comes after every earlier push of its own: the
//!   protocol above then applies to those jobs as if they had been pushed just now;
//! * every later push by anyone (`a`'s own nested joins included) that sees the sleeper
//!   claims it, and the claimed worker searches every deque.
//!
//! So a missed wake-up leaves `b` unstolen for at most the rest of `a` (loom:
//! `scheduler_join_push_missed_by_a_sleeper_is_recovered_when_its_owner_sleeps`, which
//! deadlocks without the fenced notify before the owner's sleep).
//!
//! Loom models: `scheduler_sleep_*` and the others in `loom_models.rs`.

use ::core::fmt;

use crate::core::{CachePadded, WaitQueue};
use crate::loom::sync::atomic::{fence, AtomicU32, AtomicUsize, Ordering};

const AWAKE: u32 = 0;
const SLEEPING: u32 = 1;
const WOKEN: u32 = 2;

struct WorkerSleep {
    /// `AWAKE`, `SLEEPING` (set by the worker), `WOKEN` (set by a claimer's CAS from
    /// `SLEEPING`). Only the worker resets it to `AWAKE`.
    state: AtomicU32,
    queue: WaitQueue,
}

pub(super) struct Sleep {
    searching: CachePadded<AtomicUsize>,
    sleepers: CachePadded<AtomicUsize>,
    workers: Box<[CachePadded<WorkerSleep>]>,
}

impl Sleep {
    pub(super) fn new(workers: usize) -> Self {
        Sleep {
            searching: CachePadded::new(AtomicUsize::new(0)),
            sleepers: CachePadded::new(AtomicUsize::new(0)),
            workers: (0..workers)
                .map(|_| {
                    CachePadded::new(WorkerSleep {
                        state: AtomicU32::new(AWAKE),
                        queue: WaitQueue::new(),
                    })
                })
                .collect(),
        }
    }

    /// Whether anyone is searching (for a sleeping worker's re-check).
    #[inline]
    pub(super) fn nobody_searching(&self) -> bool {
        // SeqCst: read after F_W in the re-check; see the module docs.
        self.searching.load(Ordering::SeqCst) == 0
    }

    /// Registers the caller as a searcher if fewer than half the workers search, or
    /// unconditionally with `force`. Returns whether it now searches.
    #[inline]
    pub(super) fn start_searching(&self, force: bool) -> bool {
        let n = self.workers.len();
        if !force && n > 1 && 2 * self.searching.load(Ordering::Relaxed) >= n {
            return false;
        }
        // SeqCst: read by pushers after F_P and by sleepers after F_W.
        self.searching.fetch_add(1, Ordering::SeqCst);
        true
    }

    /// The caller stops searching because it is about to sleep (its sleep's re-check takes
    /// over the search's duty; see the module docs).
    #[inline]
    pub(super) fn stop_searching_to_sleep(&self) {
        // SeqCst: as in `start_searching`; made before the fence of the coming sleep.
        self.searching.fetch_sub(1, Ordering::SeqCst);
    }

    /// The caller stops searching because it found work, or because it returns to other
    /// business (its wait ended). If it was the last searcher, a push that counted on it
    /// might be left with nobody looking: if work is visible, it wakes a sleeper in its
    /// place (the cascade: while work keeps coming, one more worker searches).
    #[inline]
    pub(super) fn stop_searching(&self, has_work: impl FnOnce() -> bool) {
        // SeqCst: as in `start_searching`.
        let before = self.searching.fetch_sub(1, Ordering::SeqCst);
        if before == 1 {
            self.pass_on(has_work);
        }
    }

    /// Wakes a sleeper to search in the caller's place (a claimed or last searching worker
    /// that goes back to other business), if `has_work` sees work after a fence.
    #[cold]
    pub(super) fn pass_on(&self, has_work: impl FnOnce() -> bool) {
        // SeqCst fence: orders our decrement (or our claim) before the reads of the queues:
        // a push whose fence F_P came before this one is seen by `has_work`; a later push
        // sees our decrement and wakes someone itself.
        fence(Ordering::SeqCst);
        if has_work() {
            self.notify_work();
        }
    }

    /// Called after making work visible: wakes a sleeping worker unless someone searches.
    #[inline]
    pub(super) fn notify_work(&self) {
        // SeqCst fence F_P: orders the push before the reads in `claim_unless_searching`
        // (see the module docs).
        fence(Ordering::SeqCst);
        self.claim_unless_searching();
    }

    /// [`notify_work`](Self::notify_work) without the fence, for `join`'s push of its second
    /// half only: a sleeper may miss that push (see the module docs for why that is safe).
    #[inline]
    pub(super) fn notify_join_push(&self) {
        self.claim_unless_searching();
    }

    /// Claims a sleeper unless someone searches or nobody sleeps.
    #[inline]
    fn claim_unless_searching(&self) {
        // Relaxed (both): ordered after the push by the caller's fence, if any; `claim_one`'s
        // CAS decides the claim itself.
        if self.searching.load(Ordering::Relaxed) != 0 || self.sleepers.load(Ordering::Relaxed) == 0
        {
            return;
        }
        self.claim_one();
    }

    #[cold]
    fn claim_one(&self) {
        for worker in self.workers.iter() {
            // SeqCst: the claim is ordered with the sleeper's SLEEPING store and F_W.
            if worker
                .state
                .compare_exchange(SLEEPING, WOKEN, Ordering::SeqCst, Ordering::Relaxed)
                .is_ok()
            {
                worker.queue.notify_all();
                return;
            }
        }
    }

    /// Wakes worker `index` if it sleeps (its own condition changed: a latch, its inbox).
    #[inline]
    pub(super) fn wake_worker(&self, index: usize) {
        self.workers[index].queue.notify_all();
    }

    /// Wakes every sleeping worker (termination).
    pub(super) fn wake_all(&self) {
        for worker in self.workers.iter() {
            worker.queue.notify_all();
        }
    }

    /// Sleeps worker `index` until it is claimed or `ready` returns true; returns whether
    /// it was claimed by [`notify_work`](Self::notify_work) (it must then search). `ready` runs
    /// after the registration fence; it must check the worker's own conditions, and "work
    /// visible and [`nobody_searching`](Self::nobody_searching)".
    ///
    /// A worker that may not run other work meanwhile (a wait that does not steal) sleeps
    /// unclaimable: claimers skip it, and only its own condition wakes it.
    pub(super) fn sleep(
        &self,
        index: usize,
        claimable: bool,
        mut ready: impl FnMut() -> bool,
    ) -> bool {
        let me = &self.workers[index];
        if !claimable {
            me.queue.wait_until(None, || ready().then_some(()));
            return false;
        }
        // SeqCst (both): ordered before F_W, read by claimers after F_P.
        me.state.store(SLEEPING, Ordering::SeqCst);
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        me.queue.wait_until(None, || {
            // Acquire: pairs with the claimer's SeqCst CAS (nothing else to publish).
            (me.state.load(Ordering::Acquire) == WOKEN || ready()).then_some(())
        });
        // AcqRel: the swap reads a claim made up to this point.
        let claimed = me.state.swap(AWAKE, Ordering::AcqRel) == WOKEN;
        // SeqCst: as the increment.
        self.sleepers.fetch_sub(1, Ordering::SeqCst);
        claimed
    }

    #[cfg(all(test, routines_loom))]
    pub(super) fn searching(&self) -> usize {
        self.searching.load(Ordering::SeqCst)
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("searching", &self.searching.load(Ordering::Relaxed))
            .field("sleepers", &self.sleepers.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}
