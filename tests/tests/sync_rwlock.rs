//! `routines::sync::RwLock`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use routines::sync::{RwLock, RwLockWriteGuard};
use routines_tests::{stress, watchdog};

/// Spins (with short sleeps) until `lock` refuses new readers: a writer is then waiting.
fn until_writer_waits<T>(lock: &RwLock<T>) {
    while let Some(r) = lock.try_read() {
        drop(r);
        std::thread::sleep(Duration::from_millis(1));
    }
}

// spec: SY-20
#[test]
fn readers_share_and_writers_exclude() {
    let lock = RwLock::new(1);
    let a = lock.read();
    let b = lock.try_read().expect("a second reader gets in");
    assert!(lock.try_write().is_none());
    drop((a, b));
    let w = lock.write();
    assert!(lock.try_read().is_none());
    assert!(lock.try_write().is_none());
    drop(w);
}

// spec: SY-20
#[test]
fn stress_three_readers_two_writers_never_overlap_a_writer() {
    watchdog(120, || {
        let lock = Arc::new(RwLock::new(0usize));
        let readers_in = Arc::new(AtomicUsize::new(0));
        let writers_in = Arc::new(AtomicUsize::new(0));
        let iterations = stress(20_000);
        let mut hs = Vec::new();
        for _ in 0..3 {
            let (lock, readers_in, writers_in) = (
                Arc::clone(&lock),
                Arc::clone(&readers_in),
                Arc::clone(&writers_in),
            );
            hs.push(std::thread::spawn(move || {
                for _ in 0..iterations {
                    let g = lock.read();
                    readers_in.fetch_add(1, Ordering::SeqCst);
                    assert_eq!(
                        writers_in.load(Ordering::SeqCst),
                        0,
                        "reader overlaps writer"
                    );
                    std::hint::black_box(*g);
                    readers_in.fetch_sub(1, Ordering::SeqCst);
                }
            }));
        }
        for _ in 0..2 {
            let (lock, readers_in, writers_in) = (
                Arc::clone(&lock),
                Arc::clone(&readers_in),
                Arc::clone(&writers_in),
            );
            hs.push(std::thread::spawn(move || {
                for _ in 0..iterations {
                    let mut g = lock.write();
                    assert_eq!(writers_in.fetch_add(1, Ordering::SeqCst), 0, "two writers");
                    assert_eq!(
                        readers_in.load(Ordering::SeqCst),
                        0,
                        "writer overlaps reader"
                    );
                    *g += 1;
                    writers_in.fetch_sub(1, Ordering::SeqCst);
                }
            }));
        }
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(*lock.read(), 2 * iterations);
    });
}

// spec: SY-21
#[test]
fn waiting_writer_holds_back_new_readers() {
    watchdog(30, || {
        let lock = Arc::new(RwLock::new(0));
        let r = lock.read();
        let writer = {
            let lock = Arc::clone(&lock);
            std::thread::spawn(move || *lock.write() += 1)
        };
        until_writer_waits(&lock);
        assert!(lock.read_timeout(Duration::from_millis(10)).is_none());
        drop(r);
        writer.join().unwrap();
        assert_eq!(*lock.read(), 1);
    });
}

// spec: SY-21
#[test]
fn continuous_readers_do_not_starve_a_writer() {
    watchdog(60, || {
        let lock = Arc::new(RwLock::new(0u64));
        let stop = Arc::new(AtomicUsize::new(0));
        let readers: Vec<_> = (0..3)
            .map(|_| {
                let (lock, stop) = (Arc::clone(&lock), Arc::clone(&stop));
                std::thread::spawn(move || {
                    while stop.load(Ordering::Relaxed) == 0 {
                        let g = lock.read();
                        std::hint::black_box(*g);
                        std::thread::yield_now();
                    }
                })
            })
            .collect();
        for _ in 0..100 {
            *lock.write() += 1;
        }
        stop.store(1, Ordering::Relaxed);
        for r in readers {
            r.join().unwrap();
        }
        assert_eq!(*lock.read(), 100);
    });
}

// spec: SY-22
#[test]
fn downgrade_keeps_writers_out() {
    watchdog(30, || {
        let lock = Arc::new(RwLock::new(0));
        let mut w = lock.write();
        let other_writer = {
            let lock = Arc::clone(&lock);
            std::thread::spawn(move || *lock.write() = 99)
        };
        std::thread::sleep(Duration::from_millis(10));
        *w = 1;
        let r = RwLockWriteGuard::downgrade(w);
        assert_eq!(*r, 1, "no writer got in between");
        std::thread::sleep(Duration::from_millis(10));
        assert_eq!(*r, 1);
        drop(r);
        other_writer.join().unwrap();
        assert_eq!(*lock.read(), 99);
    });
}

// spec: SY-22
#[test]
fn downgrade_admits_parked_readers() {
    watchdog(30, || {
        let lock = Arc::new(RwLock::new(0));
        let w = lock.write();
        let reader = {
            let lock = Arc::clone(&lock);
            std::thread::spawn(move || *lock.read())
        };
        std::thread::sleep(Duration::from_millis(10));
        let r = RwLockWriteGuard::downgrade(w);
        assert_eq!(
            reader.join().unwrap(),
            0,
            "the parked reader got in beside us"
        );
        drop(r);
    });
}

// spec: SY-23, SY-2
#[test]
fn timed_out_writer_does_not_strand_readers() {
    watchdog(30, || {
        let lock = Arc::new(RwLock::new(0));
        let r = lock.read();
        let writer = {
            let lock = Arc::clone(&lock);
            std::thread::spawn(move || lock.write_timeout(Duration::from_millis(100)).is_none())
        };
        until_writer_waits(&lock);
        let reader = {
            let lock = Arc::clone(&lock);
            std::thread::spawn(move || *lock.read())
        };
        assert!(writer.join().unwrap(), "the writer timed out");
        // The first reader still holds its lock; the reader parked behind the writer must
        // get in now that the writer has gone.
        assert_eq!(reader.join().unwrap(), 0);
        assert!(lock.try_read().is_some());
        drop(r);
        assert!(lock.try_write().is_some());
    });
}

// spec: SY-2
#[test]
fn timeouts_and_deadlines() {
    let lock = RwLock::new(0);
    let w = lock.write();
    let start = Instant::now();
    assert!(lock.read_timeout(Duration::from_millis(15)).is_none());
    assert!(start.elapsed() >= Duration::from_millis(15));
    assert!(lock.write_deadline(Instant::now()).is_none());
    drop(w);
    assert!(lock.read_timeout(Duration::MAX).is_some());
    assert!(lock.write_timeout(Duration::MAX).is_some());
    assert!(lock.read_deadline(Instant::now()).is_some());
}

// spec: SY-1
#[test]
fn panic_under_write_lock_does_not_poison() {
    let lock = Arc::new(RwLock::new(1));
    let l2 = Arc::clone(&lock);
    assert!(std::thread::spawn(move || {
        let mut w = l2.write();
        *w = 2;
        panic!("boom");
    })
    .join()
    .is_err());
    assert_eq!(*lock.read(), 2);
    assert!(lock.try_write().is_some());
}

// spec: SY-4
#[test]
fn const_static_and_accessors() {
    static LOCK: RwLock<u32> = RwLock::new(7);
    assert_eq!(*LOCK.read(), 7);
    let mut lock = RwLock::new(vec![1]);
    lock.get_mut().push(2);
    assert_eq!(format!("{lock:?}"), "RwLock { data: [1, 2] }");
    assert_eq!(lock.into_inner(), [1, 2]);
}
