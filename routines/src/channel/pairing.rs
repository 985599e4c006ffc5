//! Where a channel's two sides wait (spec CH-3): a sender and a receiver that are each the
//! one thread lately waiting on their side of a channel, and that share a CPU, should yield
//! to each other rather than spin, since the thread a spinner waits for cannot run on that
//! CPU until it stops. Used by the buffered flavors (`chan.rs`) and the rendezvous one
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

/// Waits in a row by one thread after which a side that has seen other threads waiting
/// counts as having one thread again (CH-3): a handle moved to a new thread (a new pair of
/// threads on a reused channel, a pool's worker taking over) regains the pairing, while
/// threads whose waits interleave keep it off.
pub(crate) const ONE_AGAIN_AFTER: usize = 8;

/// Low bits of `Side::thread` that count the waits in a row; the token is above them.
const STREAK_BITS: u32 = 6;

/// Mask of the streak bits.
const STREAK: usize = (1 << STREAK_BITS) - 1;

const _: () = assert!(ONE_AGAIN_AFTER <= STREAK);

/// A CPU number no CPU has: not known.
pub(crate) const NO_CPU: u32 = u32::MAX;

/// What [`Side::note_waiter`] and [`Pairing::look`] saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Noted {
    /// Whether the side counts as having one waiting thread (see `Side::thread`); for
    /// `Pairing::look`, whether both sides do.
    pub(crate) one: bool,
    /// Whether this is the first wait of a thread that follows a side's one thread (a
    /// handle passed to another thread, a channel reused by new threads): the hints that
    /// side's waits have tuned were learned by a thread that has stopped waiting, and start
    /// afresh (CH-3).
    pub(crate) successor: bool,
}

/// One side of a channel, as its waits have shown it (CH-3): hints, all Relaxed, read and
/// written only on the way to a wait.
pub(crate) struct Side {
    /// The token (`thread::token`) of the last thread seen waiting on this side, shifted
    /// up by `STREAK_BITS`, and in the bits below how many waits in a row it has made, up
    /// to `ONE_AGAIN_AFTER`; 0 before any wait. The first thread starts at `ONE_AGAIN_AFTER`
    /// (the side has one thread), a different one at 1 (it has several, until the new one
    /// has waited `ONE_AGAIN_AFTER` times in a row). Tokens past `usize::BITS - STREAK_BITS`
    /// bits wrap, so two threads may look like one: a hint.
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

    /// Notes the calling thread as a waiter of this side. Two threads noting themselves at
    /// once may both see "one": a hint.
    pub(crate) fn note_waiter(&self) -> Noted {
        let me = thread::token() << STREAK_BITS;
        // Relaxed (every access to `thread` and `cpu`): hints that only choose between
        // spinning and yielding; every decision rests on an attempt. A store only on a
        // change, so that the line stays shared once one thread has its streak.
        let seen = self.thread.load(Ordering::Relaxed);
        let streak = seen & STREAK;
        if seen & !STREAK == me {
            if streak < ONE_AGAIN_AFTER {
                self.thread.store(seen + 1, Ordering::Relaxed);
            }
            return Noted {
                one: streak + 1 >= ONE_AGAIN_AFTER,
                successor: false,
            };
        }
        let first = seen == 0;
        self.thread.store(
            me | if first { ONE_AGAIN_AFTER } else { 1 },
            Ordering::Relaxed,
        );
        Noted {
            one: first,
            successor: !first && streak >= ONE_AGAIN_AFTER,
        }
    }

    /// Whether the side counts as having several threads (see `thread`).
    pub(crate) fn is_many(&self) -> bool {
        let seen = self.thread.load(Ordering::Relaxed);
        seen != 0 && seen & STREAK < ONE_AGAIN_AFTER
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

/// Where a channel's two sides wait (CH-3): a sender and a receiver that are each the one
/// thread lately waiting on their side (`ONE_AGAIN_AFTER`), and that share a CPU, yield to
/// each other instead of spinning, since the thread a spinner waits for cannot run on that
/// CPU until it stops; one wait in `BESIDE_PARK_EVERY` parks, so that the OS can move them
/// apart.
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
    /// side counts as having one waiting thread (`Noted::one`), whether this thread follows
    /// its side's one thread (`Noted::successor`), and, when each side has one, whether the
    /// other side's thread was last seen on this thread's CPU (`beside`).
    pub(crate) fn look(mine: &Side, theirs: &Side) -> (Noted, bool) {
        let noted = mine.note_waiter();
        if !noted.one || theirs.is_many() {
            let noted = Noted {
                one: false,
                ..noted
            };
            return (noted, false);
        }
        let Some(cpu) = current_cpu() else {
            return (noted, false);
        };
        mine.set_cpu(cpu);
        (noted, theirs.cpu.load(Ordering::Relaxed) == cpu)
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

#[cfg(all(test, not(routines_loom)))]
mod tests {
    use super::*;

    fn noted(one: bool, successor: bool) -> Noted {
        Noted { one, successor }
    }

    // spec: CH-3
    /// CH-3: a side stays at "several threads" while two threads' waits interleave, and is
    /// one thread's again once one of them has waited `ONE_AGAIN_AFTER` times in a row; the
    /// first wait of a thread after such a streak (or after the first thread's) is a
    /// successor's.
    #[test]
    fn a_side_has_one_thread_again_after_waits_in_a_row() {
        let side = Side::new();
        assert!(!side.is_many(), "no waits yet");
        assert_eq!(side.note_waiter(), noted(true, false), "the first thread");
        let turn = std::sync::Barrier::new(2);
        std::thread::scope(|s| {
            s.spawn(|| {
                for wait in 0..2 * ONE_AGAIN_AFTER {
                    turn.wait();
                    assert_eq!(side.note_waiter(), noted(false, wait == 0), "wait {wait}");
                    turn.wait();
                }
            });
            for wait in 0..2 * ONE_AGAIN_AFTER {
                turn.wait();
                turn.wait();
                assert_eq!(side.note_waiter(), noted(false, false), "wait {wait}");
                assert!(side.is_many());
            }
        });
        // This thread's last wait above was the first in a row.
        for wait in 2..ONE_AGAIN_AFTER {
            assert_eq!(
                side.note_waiter(),
                noted(false, false),
                "wait {wait} in a row"
            );
        }
        assert_eq!(side.note_waiter(), noted(true, false), "one thread again");
        assert!(!side.is_many());
        std::thread::scope(|s| {
            s.spawn(|| assert_eq!(side.note_waiter(), noted(false, true), "a successor"));
        });
    }
}
