//! Where a channel's two sides wait (spec CH-3): a sender and a receiver that are each the
//! only thread waiting on their side of a channel, and that share a CPU, should yield to
//! each other rather than spin, since the thread a spinner waits for cannot run on that CPU
//! until it stops. Used by the buffered flavors (`chan.rs`) and the rendezvous one
//! (`flavors/zero.rs`). Hints only: every field is read and written Relaxed, on the way to a
//! wait, and every decision still rests on an attempt.

use crate::core::current_cpu;
use crate::loom::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use crate::loom::thread;

/// A waiter beside its counterpart parks, rather than yields, once in this many waits (CH-3):
/// a yield never moves a thread to another CPU, while the wake-up of a parked one lets the
/// OS place it, on an idle CPU if there is one. Without it, two threads that yield to each
/// other on one CPU stay there, since each has always just run (the balancer leaves such
/// threads where they are).
pub(crate) const BESIDE_PARK_EVERY: usize = 32;

/// A thread token no thread has: a side of a channel on which two threads have waited.
const MANY: usize = usize::MAX;

/// A CPU number no CPU has: not known.
pub(crate) const NO_CPU: u32 = u32::MAX;

/// One side of a channel, as its waits have shown it (CH-3): hints, all Relaxed, read and
/// written only on the way to a wait.
pub(crate) struct Side {
    /// The token (`thread::token`) of the one thread seen waiting on this side; 0 before
    /// any, `MANY` once a second thread waited (for good).
    thread: AtomicUsize,
    /// The CPU that thread was on when last seen; `NO_CPU` if not known.
    pub(crate) cpu: AtomicU32,
    /// Waits this side's thread has made beside the other side's (`BESIDE_PARK_EVERY`).
    pub(crate) beside_waits: AtomicUsize,
}

impl Side {
    crate::loom::const_fn_unless_loom! {
        pub(crate) fn new() -> Self {
            Self {
                thread: AtomicUsize::new(0),
                cpu: AtomicU32::new(NO_CPU),
                beside_waits: AtomicUsize::new(0),
            }
        }
    }

    /// Notes the calling thread as a waiter of this side; `true` while it is the only one
    /// seen. Two threads noting themselves at once may both see "one": a hint.
    pub(crate) fn note_waiter(&self) -> bool {
        let me = thread::token();
        // Relaxed (every access to `thread` and `cpu`): hints that only choose between
        // spinning and yielding; every decision rests on an attempt.
        match self.thread.load(Ordering::Relaxed) {
            seen if seen == me => true,
            0 => {
                self.thread.store(me, Ordering::Relaxed);
                true
            }
            MANY => false,
            _ => {
                self.thread.store(MANY, Ordering::Relaxed);
                false
            }
        }
    }

    pub(crate) fn is_many(&self) -> bool {
        self.thread.load(Ordering::Relaxed) == MANY
    }

    /// Counts a wait beside the other side; `true` for one in `BESIDE_PARK_EVERY`, which
    /// parks instead of yielding.
    pub(crate) fn parks_beside(&self) -> bool {
        let waits = self.beside_waits.load(Ordering::Relaxed).wrapping_add(1);
        self.beside_waits.store(waits, Ordering::Relaxed);
        waits.is_multiple_of(BESIDE_PARK_EVERY)
    }

    /// Records `cpu` as this side's, storing only a change (the line stays shared).
    pub(crate) fn set_cpu(&self, cpu: u32) {
        if self.cpu.load(Ordering::Relaxed) != cpu {
            self.cpu.store(cpu, Ordering::Relaxed);
        }
    }
}

/// Where a channel's two sides wait (CH-3): a sender and a receiver that are each the only
/// thread waiting on their side, and that share a CPU, yield to each other instead of
/// spinning, since the thread a spinner waits for cannot run on that CPU until it stops;
/// one wait in `BESIDE_PARK_EVERY` parks, so that the OS can move them apart.
pub(crate) struct Pairing {
    pub(crate) send: Side,
    pub(crate) recv: Side,
}

impl Pairing {
    crate::loom::const_fn_unless_loom! {
        pub(crate) fn new() -> Self {
            Self {
                send: Side::new(),
                recv: Side::new(),
            }
        }
    }

    /// A waiter on side `mine` (the other side `theirs`) notes itself. Returns whether each
    /// side has had at most one waiting thread (`one`), and if so whether the other side's
    /// thread was last seen on this thread's CPU (`beside`).
    pub(crate) fn look(mine: &Side, theirs: &Side) -> (bool, bool) {
        if !mine.note_waiter() || theirs.is_many() {
            return (false, false);
        }
        let Some(cpu) = current_cpu() else {
            return (true, false);
        };
        mine.set_cpu(cpu);
        (true, theirs.cpu.load(Ordering::Relaxed) == cpu)
    }
}

#[cfg(all(test, not(routines_loom)))]
/// Runs `f` on a thread pinned to the CPU it starts on, with that CPU; returns without
/// running it where the CPU is not known (not Linux).
pub(crate) fn on_one_cpu(f: impl FnOnce(u32) + Send) {
    std::thread::scope(|s| {
        s.spawn(|| {
            let Some(cpu) = current_cpu() else { return };
            #[cfg(target_os = "linux")]
            // SAFETY: `cpu_set_t` is plain data (all zero is the empty set), passed with
            // its size; `CPU_SET` writes inside it; the mask is this thread's (pid 0).
            unsafe {
                let mut one: libc::cpu_set_t = std::mem::zeroed();
                libc::CPU_SET(cpu as usize, &mut one);
                let size = std::mem::size_of::<libc::cpu_set_t>();
                assert_eq!(libc::sched_setaffinity(0, size, &one), 0);
            }
            f(cpu);
        });
    });
}
