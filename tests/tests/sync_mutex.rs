//! `routines::sync::Mutex`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use routines::sync::Mutex;
use routines_tests::{stress, thread_cpu_time, watchdog};

// spec: SY-10
#[test]
fn counts_are_exact_under_contention() {
    let per_thread = stress(50_000);
    let total = watchdog(120, move || {
        let m = Arc::new(Mutex::new(0usize));
        let hs: Vec<_> = (0..8)
            .map(|_| {
                let m = Arc::clone(&m);
                std::thread::spawn(move || {
                    for _ in 0..per_thread {
                        *m.lock() += 1;
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        let total = *m.lock();
        total
    });
    assert_eq!(total, 8 * per_thread);
}

// spec: SY-10
#[test]
fn non_atomic_critical_sections_never_interleave() {
    watchdog(60, || {
        let m = Arc::new(Mutex::new((0u64, 0u64)));
        let hs: Vec<_> = (0..4)
            .map(|_| {
                let m = Arc::clone(&m);
                std::thread::spawn(move || {
                    for _ in 0..stress(20_000) {
                        let mut g = m.lock();
                        let a = g.0;
                        std::hint::black_box(&a);
                        g.0 = a + 1;
                        g.1 += 1;
                        assert_eq!(g.0, g.1);
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
    });
}

// spec: SY-11
#[test]
fn try_lock_fails_while_held_and_never_blocks() {
    let m = Mutex::new(5);
    let g = m.lock();
    let start = Instant::now();
    assert!(m.try_lock().is_none());
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(m.is_locked());
    drop(g);
    assert_eq!(*m.try_lock().unwrap(), 5);
}

// spec: SY-12, SY-2
#[test]
fn lock_timeout_gives_up_and_succeeds_when_released_in_time() {
    watchdog(30, || {
        let m = Arc::new(Mutex::new(0));
        let g = m.lock();
        let start = Instant::now();
        assert!(m.lock_timeout(Duration::from_millis(20)).is_none());
        assert!(start.elapsed() >= Duration::from_millis(20));
        assert!(m.lock_deadline(Instant::now()).is_none());

        let releaser = {
            let m = Arc::clone(&m);
            std::thread::spawn(move || {
                let got = m.lock_timeout(Duration::from_secs(20));
                assert!(got.is_some(), "released well before the deadline");
            })
        };
        std::thread::sleep(Duration::from_millis(10));
        drop(g);
        releaser.join().unwrap();
    });
}

// spec: SY-1
#[test]
fn panic_while_locked_releases_without_poisoning() {
    let m = Arc::new(Mutex::new(vec![1]));
    let m2 = Arc::clone(&m);
    let r = std::thread::spawn(move || {
        let mut g = m2.lock();
        g.push(2);
        panic!("boom while holding the lock");
    })
    .join();
    assert!(r.is_err());
    assert!(!m.is_locked());
    let g = m.lock();
    assert_eq!(*g, [1, 2], "data as the panicking thread left it");
}

// spec: SY-4
#[test]
fn const_constructible_in_a_static() {
    static COUNTER: Mutex<u64> = Mutex::new(0);
    *COUNTER.lock() += 2;
    assert_eq!(*COUNTER.lock(), 2);
}

#[test]
fn accessors_and_formatting() {
    let mut m = Mutex::new(String::from("a"));
    m.get_mut().push('b');
    assert_eq!(format!("{m:?}"), "Mutex { data: \"ab\" }");
    {
        let g = m.lock();
        assert_eq!(format!("{m:?}"), "Mutex { data: <locked> }");
        assert_eq!(format!("{g}"), "ab");
    }
    assert_eq!(m.into_inner(), "ab");
    assert_eq!(*Mutex::<u8>::default().lock(), 0);
    assert_eq!(*Mutex::from(3).lock(), 3);
}

// spec: SY-13
#[test]
fn not_reentrant_same_thread_cannot_relock() {
    let m = Mutex::new(0);
    let _g = m.lock();
    assert!(m.try_lock().is_none());
    // A blocking `lock()` here would deadlock; the timed form shows it would wait.
    assert!(m.lock_timeout(Duration::from_millis(5)).is_none());
}

// spec: SY-6, CORE-2
#[test]
#[cfg_attr(miri, ignore = "miri has no thread CPU clock")]
fn a_blocked_locker_parks_instead_of_spinning() {
    watchdog(30, || {
        let m = Arc::new(Mutex::new(()));
        let g = m.lock();
        let waiter = {
            let m = Arc::clone(&m);
            std::thread::spawn(move || {
                let start = thread_cpu_time();
                drop(m.lock());
                thread_cpu_time() - start
            })
        };
        std::thread::sleep(Duration::from_millis(400));
        drop(g);
        let cpu = waiter.join().unwrap();
        // A spinning waiter would burn most of the 400 ms; a parked one a few ms at most.
        // The bound is generous on purpose (shared, noisy machines).
        assert!(
            cpu < Duration::from_millis(150),
            "waiter used {cpu:?} of CPU"
        );
    });
}
