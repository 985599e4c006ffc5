//! Helpers shared by the integration tests: stress scaling, a watchdog, drop counting.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

/// Scales a stress-test size by the `ROUTINES_STRESS` environment variable (a float,
/// default 1.0), and shrinks it 1000-fold under miri. Never returns 0.
///
/// # Examples
/// ```
/// assert!(routines_tests::stress(1000) >= 1);
/// ```
pub fn stress(n: usize) -> usize {
    let factor: f64 = std::env::var("ROUTINES_STRESS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1.0);
    let scaled = if cfg!(miri) {
        n as f64 * factor / 1000.0
    } else {
        n as f64 * factor
    };
    (scaled as usize).max(1)
}

/// Runs `body` on a helper thread and fails the test (panics) if it does not finish within
/// `secs` seconds, so that a deadlock fails instead of hanging CI. A panic in `body` is
/// re-raised with its original payload.
///
/// # Examples
/// ```
/// assert_eq!(routines_tests::watchdog(5, || 2 + 2), 4);
/// ```
pub fn watchdog<T: Send + 'static>(secs: u64, body: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::Builder::new()
        .name("watched".into())
        .spawn(move || {
            let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body));
            let _ = tx.send(out);
        })
        .expect("spawn watched thread");
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(Ok(value)) => {
            worker.join().expect("watched thread");
            value
        }
        Ok(Err(payload)) => std::panic::resume_unwind(payload),
        Err(_) => {
            panic!("watchdog: test did not finish within {secs} s (deadlock or lost wake-up?)")
        }
    }
}

/// A payload that counts its drops in a shared counter, to prove nothing is leaked or
/// dropped twice.
#[derive(Debug)]
pub struct DropCounter {
    /// The value carried.
    pub value: usize,
    drops: Arc<AtomicUsize>,
}

impl DropCounter {
    /// A payload counting into `drops`.
    pub fn new(value: usize, drops: &Arc<AtomicUsize>) -> Self {
        Self {
            value,
            drops: Arc::clone(drops),
        }
    }
}

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

/// The message of a panic payload (`&str` or `String`), or `""`.
///
/// # Examples
/// ```
/// let err = std::panic::catch_unwind(|| panic!("boom {}", 1)).unwrap_err();
/// assert_eq!(routines_tests::panic_message(&*err), "boom 1");
/// ```
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        String::new()
    }
}

/// A global allocator that counts each thread's allocations, to show that hot paths
/// allocate nothing. Install it in a test binary with
/// `#[global_allocator] static GLOBAL: CountingAllocator = CountingAllocator;` and measure with
/// [`allocations_in`].
#[derive(Debug)]
pub struct CountingAllocator;

thread_local! {
    static ALLOCATIONS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

// SAFETY: forwards every call to `System` unchanged; the counter is a const-initialised
// thread-local `Cell` without a destructor, so counting itself never allocates.
unsafe impl std::alloc::GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as our caller's.
        unsafe { std::alloc::System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as our caller's.
        unsafe { std::alloc::System.realloc(ptr, layout, new_size) }
    }
}

/// Allocations made by the calling thread while running `f` (counted only where
/// [`CountingAllocator`] is the global allocator; 0 elsewhere).
pub fn allocations_in(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(std::cell::Cell::get);
    f();
    ALLOCATIONS.with(std::cell::Cell::get) - before
}

/// Moves `producers * per` drop-counted items from `producers` threads to `consumers` threads
/// through one queue, given as its `push` (handing the item back when full) and `pop`, and
/// asserts the MPMC contract: every item arrives exactly once, each consumer sees each
/// producer's items in push order, and every item is dropped exactly once.
pub fn assert_mpmc_delivery(
    producers: usize,
    consumers: usize,
    per: usize,
    push: impl Fn(DropCounter) -> Result<(), DropCounter> + Sync,
    pop: impl Fn() -> Option<DropCounter> + Sync,
) {
    let drops = Arc::new(AtomicUsize::new(0));
    let received = AtomicUsize::new(0);
    let total = producers * per;
    let per_consumer: Vec<Vec<usize>> = std::thread::scope(|s| {
        for p in 0..producers {
            let (push, drops) = (&push, &drops);
            s.spawn(move || {
                for i in 0..per {
                    let mut item = DropCounter::new(p * per + i, drops);
                    while let Err(back) = push(item) {
                        item = back;
                        std::thread::yield_now();
                    }
                }
            });
        }
        let consumers: Vec<_> = (0..consumers)
            .map(|_| {
                s.spawn(|| {
                    let mut seen = Vec::new();
                    while received.load(Ordering::Relaxed) < total {
                        match pop() {
                            Some(item) => {
                                received.fetch_add(1, Ordering::Relaxed);
                                seen.push(item.value);
                            }
                            None => std::thread::yield_now(),
                        }
                    }
                    seen
                })
            })
            .collect();
        consumers.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for seen in &per_consumer {
        let mut last = vec![None; producers];
        for &v in seen {
            let p = v / per;
            assert!(last[p].is_none_or(|l| l < v), "producer {p} reordered");
            last[p] = Some(v);
        }
    }
    let mut all: Vec<usize> = per_consumer.into_iter().flatten().collect();
    all.sort_unstable();
    assert_eq!(all.len(), total, "lost or duplicated items");
    assert!(
        all.iter().enumerate().all(|(i, &v)| i == v),
        "lost or duplicated items"
    );
    assert!(pop().is_none(), "items left behind");
    assert_eq!(
        drops.load(Ordering::SeqCst),
        total,
        "every item dropped exactly once"
    );
}

/// CPU time consumed so far by the calling thread (`CLOCK_THREAD_CPUTIME_ID`).
pub fn thread_cpu_time() -> std::time::Duration {
    cpu_time(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// CPU time consumed so far by the whole process, every thread (`CLOCK_PROCESS_CPUTIME_ID`).
pub fn process_cpu_time() -> std::time::Duration {
    cpu_time(libc::CLOCK_PROCESS_CPUTIME_ID)
}

fn cpu_time(clock: libc::clockid_t) -> std::time::Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; `clock` is one of the constants above.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime failed");
    std::time::Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}
