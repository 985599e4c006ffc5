//! A short tour of what routines has so far. Run: `cargo run --release --example tour`.
#![allow(
    clippy::disallowed_types,
    reason = "user code: the loom facade rule applies to the library, not its examples"
)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use routines::core::{Backoff, CachePadded, WaitQueue};
use routines::sync::{Barrier, Latch, Mutex, Once, RwLock, RwLockWriteGuard, Semaphore, WaitGroup};

fn main() {
    println!("routines tour: core and sync\n");

    // core
    let padded = CachePadded::new(AtomicUsize::new(0));
    println!(
        "CachePadded<AtomicUsize>: size {} bytes, alignment {}",
        std::mem::size_of_val(&padded),
        std::mem::align_of_val(&padded)
    );
    let backoff = Backoff::new();
    let mut steps = 0;
    while !backoff.is_completed() {
        backoff.snooze();
        steps += 1;
    }
    println!("Backoff: {steps} spin/yield steps, then it tells the caller to park");

    let flag = Arc::new((AtomicUsize::new(0), WaitQueue::new()));
    let start = Instant::now();
    let setter = {
        let flag = Arc::clone(&flag);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            flag.0.store(42, Ordering::Release);
            flag.1.notify_all();
        })
    };
    let value = flag.1.wait_until(None, || {
        let v = flag.0.load(Ordering::Acquire);
        (v != 0).then_some(v)
    });
    setter.join().unwrap();
    println!(
        "WaitQueue: parked, woken with {value:?} after {:?}\n",
        start.elapsed()
    );

    // Mutex: 4 threads x 100 000 increments
    let counter = Arc::new(Mutex::new(0u64));
    let start = Instant::now();
    let hs: Vec<_> = (0..4)
        .map(|_| {
            let counter = Arc::clone(&counter);
            std::thread::spawn(move || {
                for _ in 0..100_000 {
                    *counter.lock() += 1;
                }
            })
        })
        .collect();
    hs.into_iter().for_each(|h| h.join().unwrap());
    println!(
        "Mutex: 4 threads x 100 000 increments = {} in {:?}",
        counter.lock(),
        start.elapsed()
    );
    let guard = counter.lock();
    println!(
        "Mutex: lock_timeout(5 ms) while held -> {}",
        if counter.lock_timeout(Duration::from_millis(5)).is_none() {
            "None (timed out)"
        } else {
            "Some"
        }
    );
    drop(guard);

    // RwLock
    let config = RwLock::new(String::from("v1"));
    {
        let (a, b) = (config.read(), config.read());
        println!("RwLock: two readers at once see {a} and {b}");
    }
    let mut w = config.write();
    w.push_str("->v2");
    let r = RwLockWriteGuard::downgrade(w);
    println!("RwLock: wrote and downgraded without a gap: {}", *r);
    drop(r);

    // Semaphore
    let sem = Arc::new(Semaphore::new(2));
    let inside = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let hs: Vec<_> = (0..6)
        .map(|_| {
            let (sem, inside, peak) = (Arc::clone(&sem), Arc::clone(&inside), Arc::clone(&peak));
            std::thread::spawn(move || {
                for _ in 0..1_000 {
                    let _permit = sem.acquire();
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::Relaxed);
                    inside.fetch_sub(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    hs.into_iter().for_each(|h| h.join().unwrap());
    println!(
        "Semaphore(2): 6 threads x 1 000 acquisitions, at most {} inside at once",
        peak.load(Ordering::Relaxed)
    );

    // WaitGroup, Latch, Barrier, Once
    let wg = WaitGroup::new();
    let done = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..5 {
            wg.add(1);
            s.spawn(|| {
                done.fetch_add(1, Ordering::Relaxed);
                wg.done();
            });
        }
        wg.wait();
        println!(
            "WaitGroup: waited for {} tasks",
            done.load(Ordering::Relaxed)
        );
    });
    let latch = Latch::new(3);
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| latch.count_down());
        }
        latch.wait();
    });
    latch.count_down(); // extra: saturates
    println!(
        "Latch: opened after 3 count-downs (count now {})",
        latch.count()
    );

    let barrier = Barrier::new(3);
    let leaders = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                for _ in 0..100 {
                    if barrier.wait().is_leader() {
                        leaders.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    println!(
        "Barrier(3): 100 generations, {} leaders (one each)",
        leaders.load(Ordering::Relaxed)
    );

    let once = Once::new();
    let runs = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                once.call_once(|| {
                    runs.fetch_add(1, Ordering::Relaxed);
                })
            });
        }
    });
    println!(
        "Once: 4 callers, the closure ran {} time(s)",
        runs.load(Ordering::Relaxed)
    );
    println!("\nMore arrives with the lock-free, channel, future and scheduler issues.");
}
