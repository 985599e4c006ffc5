//! Shared workload bodies for the benchmarks in `benches/`: each is written once, generic
//! over the lock under test, and run for every contender (routines and its peers).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant};

/// Registers criterion cell `name/case` in `group`, timed by `sample`: one call runs the
/// workload once and returns the time it measured itself (so thread start-up stays out).
///
/// With `BENCH_GATE_NS=N` in the environment, each call is gated on the machine's state
/// (benches/README.md, "Reading the ratios"): it starts once [`line_round_trip_ns`] reads at
/// most `N`, and is taken again (three tries in all; the last one stands) when the reading
/// right after it is above `N`. The number of calls taken again is printed per cell, on
/// stderr.
pub fn timed_cell(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    case: &str,
    sample: impl Fn() -> Duration,
) {
    let gate: Option<f64> = std::env::var("BENCH_GATE_NS")
        .ok()
        .and_then(|v| v.parse().ok());
    let retaken = std::cell::Cell::new(0_u32);
    let called = std::cell::Cell::new(false);
    group.bench_function(criterion::BenchmarkId::new(name, case), |b| {
        called.set(true);
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| match gate {
                    None => sample(),
                    Some(max) => gated(max, &sample, &retaken),
                })
                .sum::<Duration>()
        })
    });
    // `called` stays false when a filter on the command line skips the cell.
    if gate.is_some() && called.get() {
        eprintln!("gate: {name}/{case}: {} calls taken again", retaken.get());
    }
}

/// One call of `sample` that began and ended with the machine in its usual state, if one
/// comes within three tries (see [`timed_cell`]).
fn gated(max_ns: f64, sample: &impl Fn() -> Duration, retaken: &std::cell::Cell<u32>) -> Duration {
    let probe = || line_round_trip_ns(5_000, true);
    let mut time = Duration::ZERO;
    for _ in 0..3 {
        // Wait out a slow stretch, for at most ten seconds.
        for _ in 0..200 {
            if probe() <= max_ns {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        time = sample();
        if probe() <= max_ns {
            return time;
        }
        retaken.set(retaken.get() + 1);
    }
    time
}

/// The mean time, in ns, of one round trip of a cache line between two spinning threads
/// over `rounds` round trips (after one untimed round, which waits for the second thread to
/// start): the floor of any hand-off between threads, and a reading of the machine's state
/// (`--example line_probe`, benches/README.md). `hint: false` spins without the spin-loop
/// hint (x86 `pause`).
pub fn line_round_trip_ns(rounds: u64, hint: bool) -> f64 {
    let wait = |line: &AtomicU64, value: u64| {
        // Acquire: pairs with the other thread's Release store of `value`; each turn hands
        // the line over, no data rides on it.
        while line.load(Ordering::Acquire) != value {
            if hint {
                std::hint::spin_loop();
            }
        }
    };
    // Odd values are the bouncer's turn, even ones the calling thread's.
    let line = AtomicU64::new(0);
    let start = std::thread::scope(|s| {
        s.spawn(|| {
            for i in 0..=rounds {
                wait(&line, 2 * i + 1);
                // Release: pairs with the Acquire in the calling thread's `wait`.
                line.store(2 * i + 2, Ordering::Release);
            }
        });
        let mut start = Instant::now();
        for i in 0..=rounds {
            if i == 1 {
                start = Instant::now();
            }
            // Release: pairs with the Acquire in the bouncer's `wait`.
            line.store(2 * i + 1, Ordering::Release);
            wait(&line, 2 * i + 2);
        }
        start
    });
    start.elapsed().as_secs_f64() * 1e9 / rounds as f64
}

/// A mutual-exclusion lock around a `u64`, as each contender spells it.
pub trait BenchMutex: Sync + Send {
    /// Contender name in reports.
    const NAME: &'static str;
    /// A lock holding `value`.
    fn new(value: u64) -> Self;
    /// Runs `f` under the lock.
    fn with<R>(&self, f: impl FnOnce(&mut u64) -> R) -> R;
}

/// A reader–writer lock around a `u64`.
pub trait BenchRwLock: Sync + Send {
    /// Contender name in reports.
    const NAME: &'static str;
    /// A lock holding `value`.
    fn new(value: u64) -> Self;
    /// Runs `f` under a read lock.
    fn read<R>(&self, f: impl FnOnce(&u64) -> R) -> R;
    /// Runs `f` under the write lock.
    fn write<R>(&self, f: impl FnOnce(&mut u64) -> R) -> R;
}

impl BenchMutex for routines::sync::Mutex<u64> {
    const NAME: &'static str = "routines";
    fn new(value: u64) -> Self {
        routines::sync::Mutex::new(value)
    }
    fn with<R>(&self, f: impl FnOnce(&mut u64) -> R) -> R {
        f(&mut self.lock())
    }
}

impl BenchMutex for std::sync::Mutex<u64> {
    const NAME: &'static str = "std";
    fn new(value: u64) -> Self {
        std::sync::Mutex::new(value)
    }
    fn with<R>(&self, f: impl FnOnce(&mut u64) -> R) -> R {
        f(&mut self.lock().unwrap())
    }
}

impl BenchMutex for parking_lot::Mutex<u64> {
    const NAME: &'static str = "parking_lot";
    fn new(value: u64) -> Self {
        parking_lot::Mutex::new(value)
    }
    fn with<R>(&self, f: impl FnOnce(&mut u64) -> R) -> R {
        f(&mut self.lock())
    }
}

impl BenchRwLock for routines::sync::RwLock<u64> {
    const NAME: &'static str = "routines";
    fn new(value: u64) -> Self {
        routines::sync::RwLock::new(value)
    }
    fn read<R>(&self, f: impl FnOnce(&u64) -> R) -> R {
        f(&self.read())
    }
    fn write<R>(&self, f: impl FnOnce(&mut u64) -> R) -> R {
        f(&mut self.write())
    }
}

impl BenchRwLock for std::sync::RwLock<u64> {
    const NAME: &'static str = "std";
    fn new(value: u64) -> Self {
        std::sync::RwLock::new(value)
    }
    fn read<R>(&self, f: impl FnOnce(&u64) -> R) -> R {
        f(&self.read().unwrap())
    }
    fn write<R>(&self, f: impl FnOnce(&mut u64) -> R) -> R {
        f(&mut self.write().unwrap())
    }
}

impl BenchRwLock for parking_lot::RwLock<u64> {
    const NAME: &'static str = "parking_lot";
    fn new(value: u64) -> Self {
        parking_lot::RwLock::new(value)
    }
    fn read<R>(&self, f: impl FnOnce(&u64) -> R) -> R {
        f(&self.read())
    }
    fn write<R>(&self, f: impl FnOnce(&mut u64) -> R) -> R {
        f(&mut self.write())
    }
}

/// Runs `work` on `threads` threads released together from a start line; returns the time
/// from the first thread's start to the last thread's finish (each thread stamps its own
/// start and end, so a main thread that is scheduled late cannot shorten the window).
/// `work` gets the thread's index (0..threads).
pub fn timed_threads(threads: usize, work: impl Fn(usize) + Sync) -> Duration {
    timed_threads_with(threads, |_| {}, work)
}

/// [`timed_threads`] with `setup(i)` run on thread `i` before the start line (untimed).
pub fn timed_threads_with(
    threads: usize,
    setup: impl Fn(usize) + Sync,
    work: impl Fn(usize) + Sync,
) -> Duration {
    let start_line = Barrier::new(threads);
    let spans: Vec<(Instant, Instant)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|i| {
                let (start_line, setup, work) = (&start_line, &setup, &work);
                s.spawn(move || {
                    setup(i);
                    start_line.wait();
                    let start = Instant::now();
                    work(i);
                    (start, Instant::now())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let first = spans.iter().map(|s| s.0).min().unwrap();
    let last = spans.iter().map(|s| s.1).max().unwrap();
    last - first
}

/// With `PIN=1` in the environment (Linux): pins the calling thread, a producer to CPU 1 and
/// a consumer to CPU 0, so the contended channel cells can be run with every consumer on a
/// CPU of its own side (see the README: how much of a cell is the channel and how much the
/// OS's placement of 5 to 8 threads on 2 CPUs). With `PIN=same`: every role on CPU 0, the
/// placement the OS sometimes makes by itself for a while (the process keeps both CPUs, only
/// the threads are pinned). Otherwise does nothing.
pub fn pin_role(producer: bool) {
    static PIN: std::sync::OnceLock<Option<bool>> = std::sync::OnceLock::new();
    let same = match PIN.get_or_init(|| match std::env::var("PIN").as_deref() {
        Ok("1") => Some(false),
        Ok("same") => Some(true),
        _ => None,
    }) {
        Some(same) => *same,
        None => return,
    };
    #[cfg(target_os = "linux")]
    {
        let cpu = usize::from(producer && !same);
        // For the calling thread (pid 0).
        // SAFETY: `cpu_set_t` is plain data (all zero is the empty set), passed with its size.
        let rc = unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(cpu, &mut set);
            libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set)
        };
        assert_eq!(rc, 0, "PIN needs CPU 0 (and CPU 1 for PIN=1)");
    }
    #[cfg(not(target_os = "linux"))]
    let _ = same;
}

/// `threads` threads each do `ops_per_thread` lock–increment–unlock rounds on one lock;
/// returns the wall time (see [`timed_threads`]) and the final count (which must be
/// `threads * ops_per_thread`).
pub fn mutex_contended<L: BenchMutex>(threads: usize, ops_per_thread: u64) -> (Duration, u64) {
    let lock = L::new(0);
    let elapsed = timed_threads(threads, |_| {
        for _ in 0..ops_per_thread {
            lock.with(|v| *v += 1);
        }
    });
    (elapsed, lock.with(|v| *v))
}

/// `threads` threads each do `ops_per_thread` operations on one lock, one write in every
/// `write_every` (the rest reads); returns the wall time and the number of writes done.
pub fn rwlock_read_heavy<L: BenchRwLock>(
    threads: usize,
    ops_per_thread: u64,
    write_every: u64,
) -> (Duration, u64) {
    let lock = L::new(0);
    let elapsed = timed_threads(threads, |_| {
        let mut sum = 0u64;
        for i in 0..ops_per_thread {
            if i % write_every == 0 {
                lock.write(|v| *v += 1);
            } else {
                sum = sum.wrapping_add(lock.read(|v| *v));
            }
        }
        std::hint::black_box(sum);
    });
    (elapsed, lock.read(|v| *v))
}

/// A multi-producer multi-consumer queue of `u64`, as each contender spells it.
pub trait BenchQueue: Sync + Send {
    /// Contender name in reports.
    const NAME: &'static str;
    /// A queue; bounded ones get `capacity`.
    fn new(capacity: usize) -> Self;
    /// Pushes; gives the value back if full.
    fn push(&self, value: u64) -> Result<(), u64>;
    /// Pops; `None` if empty.
    fn pop(&self) -> Option<u64>;
}

macro_rules! bench_queue {
    ($($ty:ty => $name:literal, |$cap:ident| $new:expr, |$q:ident, $v:ident| $push:expr, |$p:ident| $pop:expr;)*) => {$(
        impl BenchQueue for $ty {
            const NAME: &'static str = $name;
            fn new($cap: usize) -> Self {
                $new
            }
            fn push(&self, $v: u64) -> Result<(), u64> {
                let $q = self;
                $push
            }
            fn pop(&self) -> Option<u64> {
                let $p = self;
                $pop
            }
        }
    )*};
}

/// `concurrent_queue::ConcurrentQueue` in its bounded and unbounded forms.
#[derive(Debug)]
pub struct ConcurrentBounded(pub concurrent_queue::ConcurrentQueue<u64>);
/// See [`ConcurrentBounded`].
#[derive(Debug)]
pub struct ConcurrentUnbounded(pub concurrent_queue::ConcurrentQueue<u64>);

bench_queue! {
    routines::lockfree::MpmcQueue<u64> => "routines", |cap| Self::new(cap), |q, v| q.push(v), |q| q.pop();
    crossbeam_queue::ArrayQueue<u64> => "crossbeam", |cap| Self::new(cap), |q, v| q.push(v), |q| q.pop();
    ConcurrentBounded => "concurrent-queue",
        |cap| Self(concurrent_queue::ConcurrentQueue::bounded(cap)),
        |q, v| q.0.push(v).map_err(concurrent_queue::PushError::into_inner),
        |q| q.0.pop().ok();
    routines::lockfree::SegQueue<u64> => "routines", |_cap| Self::new(), |q, v| { q.push(v); Ok(()) }, |q| q.pop();
    crossbeam_queue::SegQueue<u64> => "crossbeam", |_cap| Self::new(), |q, v| { q.push(v); Ok(()) }, |q| q.pop();
    ConcurrentUnbounded => "concurrent-queue",
        |_cap| Self(concurrent_queue::ConcurrentQueue::unbounded()),
        |q, v| q.0.push(v).map_err(concurrent_queue::PushError::into_inner),
        |q| q.0.pop().ok();
}

/// `pairs` producers and `pairs` consumers move `per_producer` items each through one queue
/// (bounded ones with `capacity`); a full or empty queue makes the thread yield. Returns the
/// wall time and the sum of everything received (which must be the sum of everything sent).
pub fn queue_pairs<Q: BenchQueue>(
    pairs: usize,
    per_producer: u64,
    capacity: usize,
) -> (Duration, u64) {
    use std::sync::atomic::{AtomicU64, Ordering};
    let queue = Q::new(capacity);
    let received = AtomicU64::new(0);
    let sum = AtomicU64::new(0);
    let total = pairs as u64 * per_producer;
    let elapsed = timed_threads(2 * pairs, |i| {
        if i < pairs {
            for v in 0..per_producer {
                let mut v = v;
                while let Err(back) = queue.push(v) {
                    v = back;
                    std::thread::yield_now();
                }
            }
        } else {
            let mut local = 0u64;
            while received.load(Ordering::Relaxed) < total {
                match queue.pop() {
                    Some(v) => {
                        local += v;
                        received.fetch_add(1, Ordering::Relaxed);
                    }
                    None => std::thread::yield_now(),
                }
            }
            sum.fetch_add(local, Ordering::Relaxed);
        }
    });
    (elapsed, sum.load(Ordering::Relaxed))
}

/// Fan-in, as an actor mailbox sees it: `producers` threads push `per_producer` items each
/// into `queue` while one consumer thread runs `drain(queue, total)`, which must take all
/// `total` items and return their sum. Returns the wall time and that sum.
pub fn fan_in<Q: Sync>(
    producers: usize,
    per_producer: u64,
    queue: &Q,
    push: impl Fn(&Q, u64) + Sync,
    drain: impl Fn(&Q, u64) -> u64 + Sync,
) -> (Duration, u64) {
    use std::sync::atomic::{AtomicU64, Ordering};
    let sum = AtomicU64::new(0);
    let elapsed = timed_threads(producers + 1, |i| {
        if i < producers {
            (0..per_producer).for_each(|v| push(queue, v));
        } else {
            sum.store(
                drain(queue, producers as u64 * per_producer),
                Ordering::Relaxed,
            );
        }
    });
    (elapsed, sum.load(Ordering::Relaxed))
}

/// The consumer loop of [`fan_in`] over any `pop`: spins (yielding) until `total` items came.
pub fn drain_with(total: u64, mut pop: impl FnMut() -> Option<u64>) -> u64 {
    let (mut got, mut sum) = (0, 0);
    while got < total {
        match pop() {
            Some(v) => {
                sum += v;
                got += 1;
            }
            None => std::thread::yield_now(),
        }
    }
    sum
}

/// Defines, for an SPSC ring module with rtrb's API (`$m::RingBuffer`, `$m::PushError`;
/// `routines::lockfree::spsc` has the same), two workloads written once for every contender:
/// `single(items, capacity)` pushes and pops `u64`s one at a time, `chunked(items, capacity,
/// chunk)` moves them in chunks of up to `chunk` slots. Both run a producer and a consumer
/// thread and return the wall time and the sum received.
#[macro_export]
macro_rules! spsc_workloads {
    ($module:ident, $m:path) => {
        /// SPSC workloads for one contender.
        pub mod $module {
            use std::sync::atomic::{AtomicU64, Ordering};
            use std::sync::Mutex;
            use std::time::Duration;

            use $m as ring;

            /// One-at-a-time transfer.
            pub fn single(items: u64, capacity: usize) -> (Duration, u64) {
                let (tx, rx) = ring::RingBuffer::<u64>::new(capacity);
                let ends = (Mutex::new(Some(tx)), Mutex::new(Some(rx)));
                let sum = AtomicU64::new(0);
                let elapsed = $crate::timed_threads(2, |i| {
                    if i == 0 {
                        let mut tx = ends.0.lock().unwrap().take().unwrap();
                        for v in 0..items {
                            let mut v = v;
                            while let Err(ring::PushError::Full(back)) = tx.push(v) {
                                v = back;
                                std::hint::spin_loop();
                            }
                        }
                    } else {
                        let mut rx = ends.1.lock().unwrap().take().unwrap();
                        let (mut local, mut got) = (0u64, 0u64);
                        while got < items {
                            match rx.pop() {
                                Ok(v) => {
                                    local += v;
                                    got += 1;
                                }
                                Err(_) => std::hint::spin_loop(),
                            }
                        }
                        sum.store(local, Ordering::Relaxed);
                    }
                });
                (elapsed, sum.load(Ordering::Relaxed))
            }

            /// Transfer in chunks of up to `chunk` slots.
            pub fn chunked(items: u64, capacity: usize, chunk: usize) -> (Duration, u64) {
                let (tx, rx) = ring::RingBuffer::<u64>::new(capacity);
                let ends = (Mutex::new(Some(tx)), Mutex::new(Some(rx)));
                let sum = AtomicU64::new(0);
                let elapsed = $crate::timed_threads(2, |i| {
                    if i == 0 {
                        let mut tx = ends.0.lock().unwrap().take().unwrap();
                        let mut next = 0u64;
                        while next < items {
                            let n = tx.slots().min(chunk).min((items - next) as usize);
                            if n == 0 {
                                std::hint::spin_loop();
                                continue;
                            }
                            let c = tx.write_chunk_uninit(n).unwrap();
                            next += c.fill_from_iter(next..) as u64;
                        }
                    } else {
                        let mut rx = ends.1.lock().unwrap().take().unwrap();
                        let (mut local, mut got) = (0u64, 0u64);
                        while got < items {
                            let n = rx.slots().min(chunk);
                            if n == 0 {
                                std::hint::spin_loop();
                                continue;
                            }
                            let c = rx.read_chunk(n).unwrap();
                            let (a, b) = c.as_slices();
                            local += a.iter().chain(b).sum::<u64>();
                            got += n as u64;
                            c.commit_all();
                        }
                        sum.store(local, Ordering::Relaxed);
                    }
                });
                (elapsed, sum.load(Ordering::Relaxed))
            }
        }
    };
}

spsc_workloads!(spsc_routines, routines::lockfree::spsc);
spsc_workloads!(spsc_rtrb, rtrb);

/// Defines, for a work-stealing deque module with crossbeam-deque's API (`$m::Worker`,
/// `$m::Steal`; `routines::lockfree` has the same), workloads written once for every
/// contender. Each returns the time it measured and the sum of what was taken.
/// * `push_pop(items)`: the owner alone pushes 64 and pops 64, repeatedly (LIFO).
/// * `steal_uncontended(items)`: one thread pushes 64 and steals them back, repeatedly.
/// * `steal_contended(items)`: the owner pushes `items` (popping after every fourth push)
///   while one thief steals one at a time, until everything is taken.
#[macro_export]
macro_rules! deque_workloads {
    ($module:ident, $m:path) => {
        /// Deque workloads for one contender.
        pub mod $module {
            use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
            use std::time::{Duration, Instant};

            use $m as deque;

            /// Owner-only push/pop rounds.
            pub fn push_pop(items: u64) -> (Duration, u64) {
                let w = deque::Worker::new_lifo();
                let mut sum = 0;
                let start = Instant::now();
                for round in 0..items / 64 {
                    for i in 0..64 {
                        w.push(round * 64 + i);
                    }
                    for _ in 0..64 {
                        sum += w.pop().unwrap();
                    }
                }
                (start.elapsed(), sum)
            }

            /// Single-thread steals (the cost of the steal protocol itself).
            pub fn steal_uncontended(items: u64) -> (Duration, u64) {
                let w = deque::Worker::new_lifo();
                let s = w.stealer();
                let mut sum = 0;
                let start = Instant::now();
                for round in 0..items / 64 {
                    for i in 0..64 {
                        w.push(round * 64 + i);
                    }
                    for _ in 0..64 {
                        sum += s.steal().success().unwrap();
                    }
                }
                (start.elapsed(), sum)
            }

            /// One owner, one thief.
            pub fn steal_contended(items: u64) -> (Duration, u64) {
                let w = deque::Worker::new_lifo();
                let s = w.stealer();
                // `Worker` is not `Sync`: hand it to the owner thread whole.
                let owner = std::sync::Mutex::new(Some(w));
                let owner_done = AtomicBool::new(false);
                let stolen = AtomicU64::new(0);
                let elapsed = $crate::timed_threads(2, |i| {
                    if i == 0 {
                        let w = owner.lock().unwrap().take().unwrap();
                        let mut local = 0;
                        for v in 0..items {
                            w.push(v);
                            if v % 4 == 3 {
                                local += w.pop().unwrap_or(0);
                            }
                        }
                        while let Some(v) = w.pop() {
                            local += v;
                        }
                        owner_done.store(true, Ordering::Release);
                        stolen.fetch_add(local, Ordering::Relaxed);
                    } else {
                        let mut local = 0;
                        loop {
                            let finished = owner_done.load(Ordering::Acquire);
                            match s.steal() {
                                deque::Steal::Success(v) => local += v,
                                deque::Steal::Empty if finished => break,
                                _ => std::hint::spin_loop(),
                            }
                        }
                        stolen.fetch_add(local, Ordering::Relaxed);
                    }
                });
                (elapsed, stolen.load(Ordering::Relaxed))
            }
        }
    };
}

deque_workloads!(deque_routines, routines::lockfree);
deque_workloads!(deque_crossbeam, crossbeam_deque);

/// Defines, for a channel module with crossbeam-channel's API (`$m::bounded`, `$m::unbounded`;
/// `routines::channel` has the same), one workload written once for every contender:
/// `run(producers, consumers, capacity, per_producer)` — producers `send` `per_producer`
/// `u64`s each (blocking), consumers `recv` an equal share each (blocking); `capacity` `None`
/// means unbounded. Returns the wall time and the sum received.
#[macro_export]
macro_rules! channel_workloads {
    ($module:ident, $m:path) => {
        /// Channel workloads for one contender.
        pub mod $module {
            use std::sync::atomic::{AtomicU64, Ordering};
            use std::time::{Duration, Instant};

            use $m as chan;

            /// See the macro's docs.
            pub fn run(
                producers: usize,
                consumers: usize,
                capacity: Option<usize>,
                per_producer: u64,
            ) -> (Duration, u64) {
                let (tx, rx) = match capacity {
                    Some(cap) => chan::bounded::<u64>(cap),
                    None => chan::unbounded::<u64>(),
                };
                let total = producers as u64 * per_producer;
                assert_eq!(total % consumers as u64, 0, "equal shares");
                let share = total / consumers as u64;
                let sum = AtomicU64::new(0);
                let pin = |i: usize| $crate::pin_role(i < producers);
                let elapsed = $crate::timed_threads_with(producers + consumers, pin, |i| {
                    if i < producers {
                        (0..per_producer).for_each(|v| tx.send(v).unwrap());
                    } else {
                        let local: u64 = (0..share).map(|_| rx.recv().unwrap()).sum();
                        sum.fetch_add(local, Ordering::Relaxed);
                    }
                });
                (elapsed, sum.load(Ordering::Relaxed))
            }

            /// One thread sends `n` messages into a channel of capacity `n` (or unbounded),
            /// then receives them; returns the time and the sum.
            pub fn seq(bounded: bool, n: u64) -> (Duration, u64) {
                let (tx, rx) = if bounded {
                    chan::bounded::<u64>(n as usize)
                } else {
                    chan::unbounded::<u64>()
                };
                let start = Instant::now();
                (0..n).for_each(|v| tx.send(v).unwrap());
                let sum: u64 = (0..n).map(|_| rx.recv().unwrap()).sum();
                (start.elapsed(), sum)
            }

            /// Two threads bounce a message `rounds` times over two channels of `capacity`;
            /// returns the time and the sum of what came back.
            pub fn ping_pong(capacity: Option<usize>, rounds: u64) -> (Duration, u64) {
                let make = || match capacity {
                    Some(cap) => chan::bounded::<u64>(cap),
                    None => chan::unbounded::<u64>(),
                };
                let (ping_tx, ping_rx) = make();
                let (pong_tx, pong_rx) = make();
                let sum = AtomicU64::new(0);
                let pin = |i: usize| $crate::pin_role(i == 0);
                let elapsed = $crate::timed_threads_with(2, pin, |i| {
                    if i == 0 {
                        let mut local = 0;
                        for v in 0..rounds {
                            ping_tx.send(v).unwrap();
                            local += pong_rx.recv().unwrap();
                        }
                        sum.store(local, Ordering::Relaxed);
                    } else {
                        for _ in 0..rounds {
                            pong_tx.send(ping_rx.recv().unwrap()).unwrap();
                        }
                    }
                });
                (elapsed, sum.load(Ordering::Relaxed))
            }
        }
    };
}

channel_workloads!(channel_routines, routines::channel);
channel_workloads!(channel_crossbeam, crossbeam_channel);
channel_workloads!(channel_flume, flume);
channel_workloads!(channel_kanal, kanal);
channel_workloads!(channel_std, crate::std_channel);

/// `std::sync::mpsc` under the names the channel workloads use (one receiver only). Its
/// `Receiver` is not `Sync`, and the workloads share handles by reference between threads,
/// so it sits in a `Mutex`: one uncontended lock per receive (~15 ns), a small handicap.
pub mod std_channel {
    use std::sync::{mpsc, Mutex};

    /// A `Sync` receiver: `std::sync::mpsc::Receiver` in a `Mutex`.
    #[derive(Debug)]
    pub struct Receiver<T>(Mutex<mpsc::Receiver<T>>);

    impl<T> Receiver<T> {
        /// Receives, waiting for a message.
        ///
        /// # Errors
        /// If every sender is gone.
        pub fn recv(&self) -> Result<T, mpsc::RecvError> {
            self.0.lock().unwrap().recv()
        }
    }

    /// `sync_channel` or `channel`'s sender.
    #[derive(Debug, Clone)]
    pub enum Sender<T> {
        /// `sync_channel(cap)`.
        Bounded(mpsc::SyncSender<T>),
        /// `channel()`.
        Unbounded(mpsc::Sender<T>),
    }

    impl<T> Sender<T> {
        /// Sends, waiting for room.
        ///
        /// # Errors
        /// The value, if the receiver is gone.
        pub fn send(&self, value: T) -> Result<(), mpsc::SendError<T>> {
            match self {
                Sender::Bounded(s) => s.send(value),
                Sender::Unbounded(s) => s.send(value),
            }
        }
    }

    /// `sync_channel(cap)`.
    pub fn bounded<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
        let (s, r) = mpsc::sync_channel(cap);
        (Sender::Bounded(s), Receiver(Mutex::new(r)))
    }

    /// `channel()`.
    pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
        let (s, r) = mpsc::channel();
        (Sender::Unbounded(s), Receiver(Mutex::new(r)))
    }
}

/// `select!` over four channels: four producers, one per channel, `per` messages each, one
/// consumer selecting over the four receivers. Returns the time and the sum.
macro_rules! select_workload {
    ($name:ident, $m:ident, $select:path) => {
        /// `select!` over four channels: four producers, one consumer selecting.
        pub fn $name(capacity: Option<usize>, per: u64) -> (Duration, u64) {
            use $select as select;
            let make = || match capacity {
                Some(cap) => $m::bounded::<u64>(cap),
                None => $m::unbounded::<u64>(),
            };
            let chans = [make(), make(), make(), make()];
            let [r0, r1, r2, r3] = [&chans[0].1, &chans[1].1, &chans[2].1, &chans[3].1];
            let sum = std::sync::atomic::AtomicU64::new(0);
            let elapsed = timed_threads(5, |i| {
                if i < 4 {
                    (0..per).for_each(|v| chans[i].0.send(v).unwrap());
                } else {
                    let mut local = 0;
                    for _ in 0..4 * per {
                        local += select! {
                            recv(r0) -> v => v.unwrap(),
                            recv(r1) -> v => v.unwrap(),
                            recv(r2) -> v => v.unwrap(),
                            recv(r3) -> v => v.unwrap(),
                        };
                    }
                    sum.store(local, std::sync::atomic::Ordering::Relaxed);
                }
            });
            (elapsed, sum.load(std::sync::atomic::Ordering::Relaxed))
        }
    };
}

select_workload!(select4_routines, routines_channel_path, routines::select);
select_workload!(
    select4_crossbeam,
    crossbeam_channel,
    crossbeam_channel::select
);

use routines::channel as routines_channel_path;

/// flume's `Selector` over four channels (the same workload as [`select4_routines`]).
pub fn select4_flume(capacity: Option<usize>, per: u64) -> (Duration, u64) {
    let make = || match capacity {
        Some(cap) => flume::bounded::<u64>(cap),
        None => flume::unbounded::<u64>(),
    };
    let chans = [make(), make(), make(), make()];
    let sum = std::sync::atomic::AtomicU64::new(0);
    let elapsed = timed_threads(5, |i| {
        if i < 4 {
            (0..per).for_each(|v| chans[i].0.send(v).unwrap());
        } else {
            let mut local = 0;
            for _ in 0..4 * per {
                local += flume::Selector::new()
                    .recv(&chans[0].1, Result::unwrap)
                    .recv(&chans[1].1, Result::unwrap)
                    .recv(&chans[2].1, Result::unwrap)
                    .recv(&chans[3].1, Result::unwrap)
                    .wait();
            }
            sum.store(local, std::sync::atomic::Ordering::Relaxed);
        }
    });
    (elapsed, sum.load(std::sync::atomic::Ordering::Relaxed))
}

/// A LIFO stack of `u64`, as each contender spells it.
pub trait BenchStack: Sync + Send {
    /// Contender name in reports.
    const NAME: &'static str;
    /// An empty stack.
    fn new() -> Self;
    /// Pushes.
    fn push(&self, value: u64);
    /// Pops; `None` if empty.
    fn pop(&self) -> Option<u64>;
}

impl BenchStack for routines::lockfree::TreiberStack<u64> {
    const NAME: &'static str = "routines";
    fn new() -> Self {
        routines::lockfree::TreiberStack::new()
    }
    fn push(&self, value: u64) {
        routines::lockfree::TreiberStack::push(self, value);
    }
    fn pop(&self) -> Option<u64> {
        routines::lockfree::TreiberStack::pop(self)
    }
}

impl BenchStack for std::sync::Mutex<Vec<u64>> {
    const NAME: &'static str = "mutex_vec";
    fn new() -> Self {
        std::sync::Mutex::new(Vec::new())
    }
    fn push(&self, value: u64) {
        self.lock().unwrap().push(value);
    }
    fn pop(&self) -> Option<u64> {
        self.lock().unwrap().pop()
    }
}

/// `threads` threads each do `pairs` push-then-pop pairs on one stack; returns the wall time
/// and the number of values left (which must be 0).
pub fn stack_pairs<S: BenchStack>(threads: usize, pairs: u64) -> (Duration, u64) {
    let stack = S::new();
    let elapsed = timed_threads(threads, |_| {
        for v in 0..pairs {
            stack.push(v);
            std::hint::black_box(stack.pop());
        }
    });
    let mut left = 0;
    while stack.pop().is_some() {
        left += 1;
    }
    (elapsed, left)
}

/// A one-value handoff as each contender spells it: routines' promise/future, the `oneshot`
/// crate, `std::sync::mpsc::sync_channel(1)`.
pub trait OneShot {
    /// The producing half.
    type Tx: Send;
    /// The consuming half.
    type Rx: Send;
    /// A fresh pair.
    fn pair() -> (Self::Tx, Self::Rx);
    /// Hands `v` over.
    fn put(tx: Self::Tx, v: u64);
    /// Waits for the value.
    fn take(rx: Self::Rx) -> u64;
}

/// `routines::future::promise`.
#[derive(Debug)]
pub struct RoutinesPromise;
impl OneShot for RoutinesPromise {
    type Tx = routines::future::Promise<u64, ()>;
    type Rx = routines::future::Future<u64, ()>;
    fn pair() -> (Self::Tx, Self::Rx) {
        routines::future::promise()
    }
    fn put(tx: Self::Tx, v: u64) {
        tx.resolve(v);
    }
    fn take(rx: Self::Rx) -> u64 {
        rx.wait().unwrap()
    }
}

/// The `oneshot` crate.
#[derive(Debug)]
pub struct OneshotCrate;
impl OneShot for OneshotCrate {
    type Tx = oneshot::Sender<u64>;
    type Rx = oneshot::Receiver<u64>;
    fn pair() -> (Self::Tx, Self::Rx) {
        oneshot::channel()
    }
    fn put(tx: Self::Tx, v: u64) {
        tx.send(v).unwrap();
    }
    fn take(rx: Self::Rx) -> u64 {
        rx.recv().unwrap()
    }
}

/// `std::sync::mpsc::sync_channel(1)`.
#[derive(Debug)]
pub struct StdSyncChannel;
impl OneShot for StdSyncChannel {
    type Tx = std::sync::mpsc::SyncSender<u64>;
    type Rx = std::sync::mpsc::Receiver<u64>;
    fn pair() -> (Self::Tx, Self::Rx) {
        std::sync::mpsc::sync_channel(1)
    }
    fn put(tx: Self::Tx, v: u64) {
        tx.send(v).unwrap();
    }
    fn take(rx: Self::Rx) -> u64 {
        rx.recv().unwrap()
    }
}

/// Two threads bounce a value `rounds` times, each hop through a fresh one-shot pair made
/// before the clock starts: thread 0 puts into `ping[i]` and takes from `pong[i]`, thread 1
/// the reverse. Returns the time (workers' own clocks) and the sum thread 0 got back.
pub fn oneshot_ping_pong<C: OneShot>(rounds: u64) -> (Duration, u64) {
    let (ping_tx, ping_rx): (Vec<_>, Vec<_>) = (0..rounds).map(|_| C::pair()).unzip();
    let (pong_tx, pong_rx): (Vec<_>, Vec<_>) = (0..rounds).map(|_| C::pair()).unzip();
    let halves = [
        std::sync::Mutex::new(Some((ping_tx, pong_rx))),
        std::sync::Mutex::new(None),
    ];
    let other = std::sync::Mutex::new(Some((pong_tx, ping_rx)));
    let sum = AtomicU64::new(0);
    let elapsed = timed_threads(2, |i| {
        if i == 0 {
            let (txs, rxs) = halves[0].lock().unwrap().take().unwrap();
            let mut local = 0;
            for (v, (tx, rx)) in txs.into_iter().zip(rxs).enumerate() {
                C::put(tx, v as u64);
                local += C::take(rx);
            }
            sum.store(local, Ordering::Relaxed);
        } else {
            let (txs, rxs) = other.lock().unwrap().take().unwrap();
            for (tx, rx) in txs.into_iter().zip(rxs) {
                C::put(tx, C::take(rx));
            }
        }
    });
    (elapsed, sum.load(Ordering::Relaxed))
}

/// One thread settles `n` promises (in reverse order) while another waits for all of them
/// with `routines::future::all`; returns the time and the sum.
pub fn future_all(n: u64) -> (Duration, u64) {
    let (promises, futures): (Vec<_>, Vec<_>) = (0..n)
        .map(|_| routines::future::promise::<u64, ()>())
        .unzip();
    let promises = std::sync::Mutex::new(Some(promises));
    let futures = std::sync::Mutex::new(Some(futures));
    let sum = AtomicU64::new(0);
    let elapsed = timed_threads(2, |i| {
        if i == 0 {
            let promises = promises.lock().unwrap().take().unwrap();
            for (v, p) in promises.into_iter().enumerate().rev() {
                p.resolve(v as u64);
            }
        } else {
            let futures = futures.lock().unwrap().take().unwrap();
            let got = routines::future::all(futures).unwrap();
            sum.store(got.into_iter().sum(), Ordering::Relaxed);
        }
    });
    (elapsed, sum.load(Ordering::Relaxed))
}

/// The same handoff pattern as [`future_all`] through `n` `sync_channel(1)`s, waited for in
/// input order: a baseline for the combinator's bookkeeping.
pub fn std_wait_each(n: u64) -> (Duration, u64) {
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..n).map(|_| std::sync::mpsc::sync_channel(1)).unzip();
    let txs = std::sync::Mutex::new(Some(txs));
    let rxs = std::sync::Mutex::new(Some(rxs));
    let sum = AtomicU64::new(0);
    let elapsed = timed_threads(2, |i| {
        if i == 0 {
            let txs = txs.lock().unwrap().take().unwrap();
            for (v, tx) in txs.into_iter().enumerate().rev() {
                tx.send(v as u64).unwrap();
            }
        } else {
            let rxs = rxs.lock().unwrap().take().unwrap();
            let got: u64 = rxs.into_iter().map(|rx| rx.recv().unwrap()).sum();
            sum.store(got, Ordering::Relaxed);
        }
    });
    (elapsed, sum.load(Ordering::Relaxed))
}

/// `routines::structured::scope` spawning `tasks` tasks that each add their index to a
/// shared counter; returns the time (spawn to the last join) and the sum.
pub fn scope_routines(tasks: u64) -> (Duration, u64) {
    let sum = AtomicU64::new(0);
    let start = Instant::now();
    let r: Result<(), ()> = routines::structured::scope(|s| {
        for i in 0..tasks {
            let sum = &sum;
            s.spawn(move |_| {
                sum.fetch_add(i, Ordering::Relaxed);
            });
        }
        Ok(())
    });
    r.unwrap();
    (start.elapsed(), sum.load(Ordering::Relaxed))
}

/// [`scope_routines`] with `std::thread::scope`.
pub fn scope_std(tasks: u64) -> (Duration, u64) {
    let sum = AtomicU64::new(0);
    let start = Instant::now();
    std::thread::scope(|s| {
        for i in 0..tasks {
            let sum = &sum;
            s.spawn(move || {
                sum.fetch_add(i, Ordering::Relaxed);
            });
        }
    });
    (start.elapsed(), sum.load(Ordering::Relaxed))
}

/// A pool of worker threads running boxed jobs, as each contender spells it.
pub trait BenchPool {
    /// A pool of `threads` workers.
    fn new(threads: usize) -> Self;
    /// Queues a job.
    fn execute(&self, job: impl FnOnce() + Send + 'static);
    /// Waits until every queued job has run.
    fn join(&self);
}

impl BenchPool for routines::scheduler::ThreadPool {
    fn new(threads: usize) -> Self {
        routines::scheduler::ThreadPool::new(threads)
    }
    fn execute(&self, job: impl FnOnce() + Send + 'static) {
        routines::scheduler::ThreadPool::execute(self, job).unwrap();
    }
    fn join(&self) {
        routines::scheduler::ThreadPool::join(self);
    }
}

impl BenchPool for threadpool::ThreadPool {
    fn new(threads: usize) -> Self {
        threadpool::ThreadPool::new(threads)
    }
    fn execute(&self, job: impl FnOnce() + Send + 'static) {
        threadpool::ThreadPool::execute(self, job);
    }
    fn join(&self) {
        threadpool::ThreadPool::join(self);
    }
}

/// Queues `jobs` jobs that each add their index to a counter on an already running pool,
/// then waits for all; returns the time and the sum.
pub fn pool_spawn<P: BenchPool>(pool: &P, jobs: u64) -> (Duration, u64) {
    let sum = std::sync::Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    for i in 0..jobs {
        let sum = std::sync::Arc::clone(&sum);
        pool.execute(move || {
            sum.fetch_add(i, Ordering::Relaxed);
        });
    }
    pool.join();
    (start.elapsed(), sum.load(Ordering::Relaxed))
}

/// A work-stealing scheduler as each contender spells it (routines' `Scheduler`, rayon's
/// `ThreadPool`). `join` and the scope are the free functions, called inside `install`, so
/// they run on the pool under test.
pub trait BenchStealer: Sync + Sized {
    /// A pool of `threads` workers.
    fn new(threads: usize) -> Self;
    /// Runs `f` on one of the workers.
    fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R;
    /// `join` on the current pool (call inside `install`).
    fn join<RA: Send, RB: Send>(
        a: impl FnOnce() -> RA + Send,
        b: impl FnOnce() -> RB + Send,
    ) -> (RA, RB);
    /// A scope on the current pool with `n` spawns, each adding its index to `sum`.
    fn scope_spawns(n: u64, sum: &AtomicU64);
    /// Fire-and-forget spawn onto this pool.
    fn spawn(&self, f: impl FnOnce() + Send + 'static);
}

impl BenchStealer for routines::scheduler::Scheduler {
    fn new(threads: usize) -> Self {
        routines::scheduler::Scheduler::new(threads)
    }
    fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        routines::scheduler::Scheduler::install(self, f)
    }
    fn join<RA: Send, RB: Send>(
        a: impl FnOnce() -> RA + Send,
        b: impl FnOnce() -> RB + Send,
    ) -> (RA, RB) {
        routines::scheduler::join(a, b)
    }
    fn scope_spawns(n: u64, sum: &AtomicU64) {
        routines::scheduler::scope(|s| {
            for i in 0..n {
                s.spawn(move |_| {
                    sum.fetch_add(i, Ordering::Relaxed);
                });
            }
        });
    }
    fn spawn(&self, f: impl FnOnce() + Send + 'static) {
        routines::scheduler::Scheduler::spawn(self, f);
    }
}

impl BenchStealer for rayon::ThreadPool {
    fn new(threads: usize) -> Self {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("rayon pool")
    }
    fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        rayon::ThreadPool::install(self, f)
    }
    fn join<RA: Send, RB: Send>(
        a: impl FnOnce() -> RA + Send,
        b: impl FnOnce() -> RB + Send,
    ) -> (RA, RB) {
        rayon::join(a, b)
    }
    fn scope_spawns(n: u64, sum: &AtomicU64) {
        rayon::scope(|s| {
            for i in 0..n {
                s.spawn(move |_| {
                    sum.fetch_add(i, Ordering::Relaxed);
                });
            }
        });
    }
    fn spawn(&self, f: impl FnOnce() + Send + 'static) {
        rayon::ThreadPool::spawn(self, f);
    }
}

/// Recursive Fibonacci with a `join` at every level (no sequential cut-off): measures the
/// cost of `join` itself.
pub fn ws_fib<S: BenchStealer>(n: u32) -> u64 {
    if n < 2 {
        return n.into();
    }
    let (a, b) = S::join(|| ws_fib::<S>(n - 1), || ws_fib::<S>(n - 2));
    a + b
}

/// Sum of a slice by recursive halving down to 4 096 elements.
pub fn ws_sum<S: BenchStealer>(v: &[u64]) -> u64 {
    if v.len() <= 4096 {
        return sum_leaf(v);
    }
    let (l, r) = v.split_at(v.len() / 2);
    let (a, b) = S::join(|| ws_sum::<S>(l), || ws_sum::<S>(r));
    a.wrapping_add(b)
}

/// Parallel quicksort: Hoare-style partition around the middle element's value, halves
/// sorted with `join`, slices of up to 1 024 elements by `sort_unstable`.
pub fn ws_quicksort<S: BenchStealer>(v: &mut [u32]) {
    if v.len() <= 1024 {
        sort_leaf(v);
        return;
    }
    let mid = partition(v);
    let (l, r) = v.split_at_mut(mid);
    S::join(|| ws_quicksort::<S>(l), || ws_quicksort::<S>(r));
}

// The sequential kernels below are never inlined, so every contender runs the very same
// machine code for them and a cell measures the scheduler, not where the compiler placed
// each contender's copy of the hot loop. (Inlined, the copies differed: quicksort on ONE
// worker, where no scheduling happens, ran 1.4 % slower in the routines copy.)

#[inline(never)]
fn sum_leaf(v: &[u64]) -> u64 {
    v.iter().sum()
}

#[inline(never)]
fn sort_leaf(v: &mut [u32]) {
    v.sort_unstable();
}

#[inline(never)]
fn partition(v: &mut [u32]) -> usize {
    let pivot = v[v.len() / 2];
    let (mut i, mut j) = (0, v.len() - 1);
    loop {
        while v[i] < pivot {
            i += 1;
        }
        while v[j] > pivot {
            j -= 1;
        }
        if i >= j {
            return j + 1;
        }
        v.swap(i, j);
        i += 1;
        j -= 1;
    }
}

/// `n` pseudo-random u32 (xorshift; the same sequence for every contender).
pub fn random_u32s(n: usize) -> Vec<u32> {
    let mut x: u32 = 0x9E37_79B9;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        })
        .collect()
}

/// Spawns `n` empty fire-and-forget tasks from outside the pool; the last to finish
/// signals. Returns the time from the first spawn to the signal.
pub fn ws_spawn<S: BenchStealer>(pool: &S, n: u64) -> Duration {
    let left = std::sync::Arc::new(AtomicU64::new(n));
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let start = Instant::now();
    for _ in 0..n {
        let (left, tx) = (std::sync::Arc::clone(&left), tx.clone());
        pool.spawn(move || {
            if left.fetch_sub(1, Ordering::AcqRel) == 1 {
                tx.send(()).unwrap();
            }
        });
    }
    rx.recv().unwrap();
    start.elapsed()
}

/// The `channel!` contenders of the `generated` cells: typed handles stamped out by the
/// macro, compared with the generic `bounded(1024)` they wrap.
pub mod generated {
    use std::time::Duration;

    routines::channel! {
        /// The `channel!` contender: capacity 1024 at compile time.
        pub Generated: u64, capacity = 1024;
        /// The static `channel!` contender: capacity 1024, static storage.
        pub static STATIC_CHANNEL: u64, capacity = 1024;
    }

    /// A generic handle as a `Deref` type, like the generated ones.
    #[derive(Debug)]
    pub struct Plain<T>(pub T);

    impl<T> std::ops::Deref for Plain<T> {
        type Target = T;
        fn deref(&self) -> &T {
            &self.0
        }
    }

    /// One producer sends `n` values, one consumer receives and checks them (pinned as
    /// `PIN` says: [`crate::pin_role`]).
    pub fn spsc<S, R>(tx: &S, rx: &R, n: u64) -> Duration
    where
        S: std::ops::Deref<Target = routines::channel::Sender<u64>> + Sync,
        R: std::ops::Deref<Target = routines::channel::Receiver<u64>> + Sync,
    {
        crate::timed_threads_with(
            2,
            |i| crate::pin_role(i == 0),
            |i| {
                if i == 0 {
                    (0..n).for_each(|v| tx.send(v).unwrap());
                } else {
                    assert_eq!(
                        (0..n).map(|_| rx.recv().unwrap()).sum::<u64>(),
                        n * (n - 1) / 2
                    );
                }
            },
        )
    }
}
