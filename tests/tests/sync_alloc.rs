//! Hot paths allocate nothing: a counting global allocator measures each thread's own
//! allocations across a window of lock/unlock, acquire/release, add/done/wait calls.

use std::sync::Arc;

use routines::sync::{Barrier, Latch, Mutex, Once, RwLock, Semaphore, WaitGroup};
use routines_tests::{allocations_in, watchdog, CountingAllocator};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

#[test]
fn counter_detects_an_allocation() {
    // The measuring tool itself must be able to fail.
    assert!(allocations_in(|| drop(std::hint::black_box(vec![1u8; 16]))) >= 1);
}

// spec: SY-3, CORE-8
#[test]
fn uncontended_hot_paths_allocate_nothing() {
    let m = Mutex::new(0u64);
    let rw = RwLock::new(0u64);
    let sem = Semaphore::new(1);
    let wg = WaitGroup::new();
    let latch = Latch::new(1_000);
    let barrier = Barrier::new(1);
    let once = Once::new();
    let n = allocations_in(|| {
        for _ in 0..1_000 {
            *m.lock() += 1;
            drop(m.try_lock());
            *rw.write() += 1;
            std::hint::black_box(*rw.read());
            drop(sem.acquire());
            drop(sem.try_acquire());
            wg.add(1);
            wg.done();
            wg.wait();
            latch.count_down();
            barrier.wait();
            once.call_once(|| {});
        }
        latch.wait();
    });
    assert_eq!(n, 0);
}

// spec: SY-3, CORE-8
#[test]
fn contended_paths_with_parking_allocate_nothing() {
    watchdog(60, || {
        let m = Arc::new(Mutex::new(0u64));
        let sem = Arc::new(Semaphore::new(1));
        let barrier = Arc::new(Barrier::new(2));
        let rw = Arc::new(RwLock::new(0u64));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let (m, sem, barrier, rw) = (
                    Arc::clone(&m),
                    Arc::clone(&sem),
                    Arc::clone(&barrier),
                    Arc::clone(&rw),
                );
                std::thread::spawn(move || {
                    allocations_in(|| {
                        for i in 0..2_000u64 {
                            *m.lock() += 1;
                            drop(sem.acquire());
                            if i % 2 == 0 {
                                *rw.write() += 1;
                            } else {
                                std::hint::black_box(*rw.read());
                            }
                            barrier.wait(); // forces parking every round
                        }
                    })
                })
            })
            .collect();
        for t in threads {
            assert_eq!(t.join().unwrap(), 0);
        }
        assert_eq!(*m.lock(), 4_000);
    });
}
