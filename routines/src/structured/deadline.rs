//! The deadline thread: cancels tokens whose deadline has passed, so that callbacks and
//! waiters of a token with a deadline run on time even if nobody looks at the token.
//!
//! One background thread, started by the first token with a deadline, sleeps on the
//! library's `WaitQueue` until the earliest deadline (or until an earlier one is added). It
//! holds tokens weakly: a dropped token is skipped when its deadline comes. (Tokens also
//! notice their own passed deadline whenever they are looked at, so a late thread delays
//! only callbacks of tokens nobody is watching.) Allocation: one heap entry per token with
//! a deadline, freed at that deadline.

use ::core::cmp::{Ordering as CmpOrdering, Reverse};
use std::collections::BinaryHeap;
use std::sync::{OnceLock, Weak};
use std::time::Instant;

use super::cancel::{CancelReason, Inner};
use crate::core::WaitQueue;
use crate::loom::sync::atomic::{AtomicU64, Ordering};
use crate::sync::Mutex;

struct Entry {
    at: Instant,
    token: Weak<Inner>,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> CmpOrdering {
        self.at.cmp(&other.at)
    }
}

struct Timer {
    heap: Mutex<BinaryHeap<Reverse<Entry>>>,
    /// Bumped after every insertion; the thread parks until it changes or the earliest
    /// deadline comes.
    epoch: AtomicU64,
    changed: WaitQueue,
}

static TIMER: OnceLock<Timer> = OnceLock::new();

/// Cancels `token` with `DeadlineExceeded` at `at`.
pub(super) fn schedule(at: Instant, token: Weak<Inner>) {
    let mut started = false;
    let timer = TIMER.get_or_init(|| {
        started = true;
        Timer {
            heap: Mutex::new(BinaryHeap::new()),
            epoch: AtomicU64::new(0),
            changed: WaitQueue::new(),
        }
    });
    if started {
        std::thread::Builder::new()
            .name("routines-deadlines".into())
            .spawn(move || run(timer))
            .expect("could not start the deadline thread");
    }
    timer.heap.lock().push(Reverse(Entry { at, token }));
    // Release: pairs with the Acquire loads in `run`; the insertion is visible to a thread
    // that sees the new epoch.
    timer.epoch.fetch_add(1, Ordering::Release);
    timer.changed.notify_all();
}

fn run(timer: &'static Timer) -> ! {
    loop {
        // Acquire: pairs with the Release increment in `schedule` (read before the heap, so
        // an insertion after this point changes the epoch we wait on).
        let seen = timer.epoch.load(Ordering::Acquire);
        let now = Instant::now();
        let mut due = Vec::new();
        let next = {
            let mut heap = timer.heap.lock();
            while heap.peek().is_some_and(|Reverse(e)| e.at <= now) {
                if let Some(Reverse(e)) = heap.pop() {
                    due.push(e.token);
                }
            }
            heap.peek().map(|Reverse(e)| e.at)
        };
        if due.is_empty() {
            timer.changed.wait_until(next, || {
                // Acquire: as above.
                (timer.epoch.load(Ordering::Acquire) != seen).then_some(())
            });
        }
        for token in due {
            if let Some(token) = token.upgrade() {
                token.cancel_with(CancelReason::DeadlineExceeded);
            }
        }
    }
}
