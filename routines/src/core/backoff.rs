//! `Backoff`: bounded exponential spinning, then yielding, then a signal to park.

use ::core::cell::Cell;
use ::core::fmt;
use std::time::Instant;

use crate::loom::{hint, thread};

/// Spin steps: step `s` (below this) spins `2^s` times.
#[cfg(not(routines_loom))]
const SPIN_LIMIT: u32 = 6;
/// Steps up to this one yield the time slice; past it, [`Backoff::is_completed`] says "park".
#[cfg(not(routines_loom))]
const YIELD_LIMIT: u32 = 10;

// Under loom every spin is an interleaving point to explore: keep the schedule tiny.
#[cfg(routines_loom)]
const SPIN_LIMIT: u32 = 1;
#[cfg(routines_loom)]
const YIELD_LIMIT: u32 = 1;

/// Exponential backoff for spin loops: a bounded number of busy-wait steps, then a bounded
/// number of `yield_now` steps, after which [`is_completed`](Backoff::is_completed) returns
/// `true` and the caller should park on the [`WaitQueue`](crate::core::WaitQueue) instead.
///
/// A `Backoff` never sleeps and never blocks by itself: it only bounds how long a caller
/// busy-waits. When the process may run on one CPU only, [`snooze`](Backoff::snooze) skips
/// the busy-wait steps.
///
/// # Examples
/// ```
/// use routines::core::Backoff;
/// use std::sync::atomic::{AtomicBool, Ordering};
///
/// let ready = AtomicBool::new(true);
/// let backoff = Backoff::new();
/// while !ready.load(Ordering::Acquire) {
///     if backoff.is_completed() {
///         break; // time to park instead
///     }
///     backoff.snooze();
/// }
/// ```
pub struct Backoff {
    step: Cell<u32>,
}

impl Backoff {
    /// A fresh backoff at its first step.
    ///
    /// # Examples
    /// ```
    /// assert!(!routines::core::Backoff::new().is_completed());
    /// ```
    #[inline]
    pub const fn new() -> Self {
        Self { step: Cell::new(0) }
    }

    /// A backoff past its spin steps: its first `snooze` yields. For a waiter that has just
    /// spun by other means ([`spin_briefly_until`]).
    #[inline]
    pub(crate) const fn yielding() -> Self {
        Self {
            step: Cell::new(SPIN_LIMIT + 1),
        }
    }

    /// Starts over from the first step.
    ///
    /// # Examples
    /// ```
    /// let b = routines::core::Backoff::new();
    /// for _ in 0..20 { b.snooze(); }
    /// b.reset();
    /// assert!(!b.is_completed());
    /// ```
    #[inline]
    pub fn reset(&self) {
        self.step.set(0);
    }

    /// Backs off in a lock-free loop that lost a race (a failed CAS): spins only, never
    /// yields, since the other thread is making progress.
    ///
    /// # Examples
    /// ```
    /// routines::core::Backoff::new().spin();
    /// ```
    #[inline]
    pub fn spin(&self) {
        // Under miri every spin is interpreted (and a scheduling point) and buys nothing:
        // one per call keeps the loop's shape.
        let step = if cfg!(miri) {
            0
        } else {
            self.step.get().min(SPIN_LIMIT)
        };
        for _ in 0..1u32 << step {
            hint::spin_loop();
        }
        if self.step.get() <= SPIN_LIMIT {
            self.step.set(self.step.get() + 1);
        }
    }

    /// Backs off while waiting for another thread to make progress: spins at first, then
    /// yields the time slice. When this process may run on one CPU only, it yields from the
    /// first step (CORE-2): there the thread it waits for cannot run while it spins.
    ///
    /// # Examples
    /// ```
    /// let b = routines::core::Backoff::new();
    /// while !b.is_completed() { b.snooze(); }
    /// ```
    #[inline]
    pub fn snooze(&self) {
        self.snooze_on(cfg!(routines_loom) || several_cpus());
    }

    /// `snooze`, told whether spinning can help (more than one CPU).
    #[inline]
    fn snooze_on(&self, several_cpus: bool) {
        if !several_cpus && self.step.get() <= SPIN_LIMIT {
            // The same number of yields as after the spin steps, then completed.
            self.step.set(SPIN_LIMIT + 1);
        }
        if self.step.get() <= SPIN_LIMIT {
            // (One spin per step under miri, as in `spin`.)
            let spins = if cfg!(miri) {
                1
            } else {
                1u32 << self.step.get()
            };
            for _ in 0..spins {
                hint::spin_loop();
            }
        } else {
            thread::yield_now();
        }
        if self.step.get() <= YIELD_LIMIT {
            self.step.set(self.step.get() + 1);
        }
    }

    /// `true` if the next [`snooze`](Self::snooze) yields rather than spins.
    #[inline]
    pub(crate) fn yields_next(&self) -> bool {
        self.step.get() > SPIN_LIMIT || !(cfg!(routines_loom) || several_cpus())
    }

    /// `true` once spinning and yielding are used up: the caller should park.
    ///
    /// # Examples
    /// ```
    /// let b = routines::core::Backoff::new();
    /// let mut steps = 0;
    /// while !b.is_completed() { b.snooze(); steps += 1; }
    /// assert!(steps > 0 && steps < 100);
    /// ```
    #[inline]
    pub fn is_completed(&self) -> bool {
        self.step.get() > YIELD_LIMIT
    }
}

/// Spins (then yields) with a [`Backoff`] until `done` returns `true` or the backoff is
/// used up; returns whether `done` did. A blocking wait calls it before parking, so that a
/// counterpart arriving within a few microseconds costs no system call on either side.
/// Under loom it only checks once: loom's yields would keep models from ever parking.
#[inline]
pub(crate) fn spin_until(mut done: impl FnMut() -> bool) -> bool {
    if cfg!(routines_loom) {
        return done();
    }
    let backoff = Backoff::new();
    loop {
        if done() {
            return true;
        }
        if backoff.is_completed() {
            return false;
        }
        backoff.snooze();
    }
}

/// Like [`spin_until`], but only the busy-wait steps (about 130 spin-loop hints in all),
/// never yielding. For a waiter that another thread will claim and wake (a registered
/// selecting thread): when threads outnumber cores, yielding hands the core round-robin to
/// every runnable thread, the ones it waits for included, and the waiter only gets it back
/// after all of them, whereas a parked waiter is woken by its claimer and scheduled
/// promptly. Under loom, and when this process may run on one CPU only, it only checks
/// once: there the thread it waits for can only make progress once this one gives the CPU
/// up, so every spin is lost time (spsc over `bounded(0)` under `taskset -c 0`: 2 300 ms
/// spinning, against crossbeam's 800).
#[inline]
pub(crate) fn spin_briefly_until(mut done: impl FnMut() -> bool) -> bool {
    if cfg!(routines_loom) || !several_cpus() {
        return done();
    }
    let backoff = Backoff::new();
    for _ in 0..=SPIN_LIMIT {
        if done() {
            return true;
        }
        backoff.spin();
    }
    done()
}

/// [`spin_briefly_until`] up to `times` times in a row, stopping early once `deadline` has
/// passed; returns whether `done` did. For waiters that spin longer than one brief spin
/// before they park (a rendezvous packet's owner, a bounded channel's receiver: CH-3).
#[inline]
pub(crate) fn spin_briefly_times_until(
    times: usize,
    deadline: Option<Instant>,
    mut done: impl FnMut() -> bool,
) -> bool {
    for _ in 0..times {
        if spin_briefly_until(&mut done) {
            return true;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
    }
    false
}

/// Whether the process may run on more than one CPU: on Linux, the CPUs of the first thread
/// to ask and of the main thread together (their affinity masks), else
/// `available_parallelism`; asked once, then cached. A constant of the process, never part
/// of a protocol, and never asked under loom. Under miri: no (spinning means nothing there).
///
/// Why both masks: threads inherit the mask of the thread that starts them, so a process
/// started under `taskset -c 0` has every thread, the main one included, on that CPU. But a
/// program may also pin each of its threads to a CPU of its own. If the first to ask is such
/// a thread, its own mask alone would read "one CPU" and switch spinning off for the whole
/// process (spsc over `bounded(0)`, producer pinned to CPU 1 and consumer to CPU 0 and the
/// first to ask: 12.5 ms -> 2 200 ms; CH-3).
pub(crate) fn several_cpus() -> bool {
    static SEVERAL: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *SEVERAL.get_or_init(|| !cfg!(miri) && cpus_in_affinity_mask() > 1)
}

/// The CPU the calling thread runs on, as a hint (it may move right after): on Linux from
/// `sched_getcpu`, which glibc answers from the thread's rseq area without a system call
/// (about 2 ns here); `None` elsewhere, under miri and under loom. Never part of a protocol:
/// a channel uses it to tell whether its two sides share a CPU (CH-3).
#[inline]
pub(crate) fn current_cpu() -> Option<u32> {
    #[cfg(all(target_os = "linux", not(miri), not(routines_loom)))]
    {
        // SAFETY: `sched_getcpu` has no preconditions; it returns -1 on failure.
        let cpu = unsafe { libc::sched_getcpu() };
        u32::try_from(cpu).ok()
    }
    #[cfg(not(all(target_os = "linux", not(miri), not(routines_loom))))]
    {
        None
    }
}

/// The CPUs this thread or the main thread may run on (see [`several_cpus`]). On Linux from
/// the affinity masks, without allocating (`available_parallelism` reads cgroup files into
/// fresh strings, and the first blocking receive must not allocate: CH-8). A failed query
/// of this thread's mask counts as several; a failed query of the main thread's (it may have
/// exited) leaves this thread's.
#[cfg(all(target_os = "linux", not(miri)))]
fn cpus_in_affinity_mask() -> usize {
    let size = std::mem::size_of::<libc::cpu_set_t>();
    // The calls write at most `size` bytes each, for the calling thread (pid 0) and for the
    // main thread (its thread id is the process id).
    // SAFETY: `cpu_set_t` is plain data (all zero is the empty set), passed with its size.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, size, &mut set) != 0 {
            return usize::MAX;
        }
        let mut main: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(libc::getpid(), size, &mut main) == 0 {
            return cpus_in_union(&set, &main);
        }
        cpus_in_union(&set, &set)
    }
}

/// The number of CPUs in `a` or `b`.
#[cfg(all(target_os = "linux", not(miri)))]
fn cpus_in_union(a: &libc::cpu_set_t, b: &libc::cpu_set_t) -> usize {
    let cpus = usize::try_from(libc::CPU_SETSIZE).unwrap_or(0);
    (0..cpus)
        .filter(|&cpu| {
            // SAFETY: `CPU_ISSET` reads bit `cpu < CPU_SETSIZE` of a whole `cpu_set_t`.
            unsafe { libc::CPU_ISSET(cpu, a) || libc::CPU_ISSET(cpu, b) }
        })
        .count()
}

#[cfg(not(all(target_os = "linux", not(miri))))]
fn cpus_in_affinity_mask() -> usize {
    std::thread::available_parallelism().map_or(usize::MAX, |n| n.get())
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Backoff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Backoff")
            .field("step", &self.step.get())
            .field("is_completed", &self.is_completed())
            .finish()
    }
}

#[cfg(all(test, target_os = "linux", not(miri), not(routines_loom)))]
mod tests {
    use super::{cpus_in_affinity_mask, cpus_in_union, Backoff, SPIN_LIMIT, YIELD_LIMIT};

    /// CORE-2: on one CPU, a backoff yields from its first snooze, as many times as it
    /// would after its spin steps, then says "park".
    #[test]
    fn on_one_cpu_a_backoff_only_yields() {
        let count = |several: bool| {
            let backoff = Backoff::new();
            let mut snoozes = 0;
            while !backoff.is_completed() {
                backoff.snooze_on(several);
                snoozes += 1;
            }
            snoozes
        };
        let yields = (YIELD_LIMIT - SPIN_LIMIT) as usize;
        assert_eq!(count(true), SPIN_LIMIT as usize + 1 + yields);
        assert_eq!(count(false), yields);
    }

    // spec: CH-3
    #[test]
    fn the_cpu_count_is_the_callers_and_the_main_threads() {
        let size = std::mem::size_of::<libc::cpu_set_t>();
        // SAFETY: plain data passed with its size; `CPU_ISSET` / `CPU_COUNT` read inside it.
        let (main, first) = unsafe {
            let mut main: libc::cpu_set_t = std::mem::zeroed();
            assert_eq!(libc::sched_getaffinity(libc::getpid(), size, &mut main), 0);
            let first = (0..libc::CPU_SETSIZE as usize)
                .find(|&cpu| libc::CPU_ISSET(cpu, &main))
                .expect("some CPU is allowed");
            (libc::CPU_COUNT(&main) as usize, first)
        };
        std::thread::spawn(move || {
            // Pinned to one of the main thread's CPUs: this thread alone now has one CPU.
            // SAFETY: as above; `CPU_SET` writes inside the set, the mask is this thread's.
            unsafe {
                let mut one: libc::cpu_set_t = std::mem::zeroed();
                libc::CPU_SET(first, &mut one);
                assert_eq!(libc::sched_setaffinity(0, size, &one), 0);
            }
            assert_eq!(cpus_in_affinity_mask(), main);
        })
        .join()
        .unwrap();
    }

    // spec: CH-3
    #[test]
    fn a_process_on_one_cpu_counts_one() {
        // SAFETY: plain data; `CPU_SET` stays inside the set.
        let (a, b) = unsafe {
            let mut a: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(0, &mut a);
            let mut b: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(1, &mut b);
            (a, b)
        };
        assert_eq!(cpus_in_union(&a, &a), 1);
        assert_eq!(cpus_in_union(&a, &b), 2);
        assert_eq!(cpus_in_union(&b, &a), 2);
    }
}
