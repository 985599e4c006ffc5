//! `routines::sync::Semaphore`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use routines::sync::Semaphore;
use routines_tests::{stress, watchdog};

// spec: SY-30
#[test]
fn two_permits_never_admit_a_third_holder() {
    watchdog(120, || {
        let sem = Arc::new(Semaphore::new(2));
        let inside = Arc::new(AtomicUsize::new(0));
        let max_seen = Arc::new(AtomicUsize::new(0));
        let per_thread = stress(30_000);
        let hs: Vec<_> = (0..8)
            .map(|_| {
                let (sem, inside, max_seen) =
                    (Arc::clone(&sem), Arc::clone(&inside), Arc::clone(&max_seen));
                std::thread::spawn(move || {
                    for _ in 0..per_thread {
                        let _permit = sem.acquire();
                        let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                        assert!(now <= 2, "{now} holders of 2 permits");
                        max_seen.fetch_max(now, Ordering::Relaxed);
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(sem.available_permits(), 2);
        assert!(max_seen.load(Ordering::Relaxed) >= 1);
    });
}

// spec: SY-31
#[test]
fn permits_return_on_drop_and_forget_keeps_them() {
    let sem = Semaphore::new(2);
    let a = sem.acquire();
    assert_eq!(sem.available_permits(), 1);
    drop(a);
    assert_eq!(sem.available_permits(), 2);
    sem.try_acquire().unwrap().forget();
    assert_eq!(sem.available_permits(), 1);
    let _b = sem.acquire();
    assert!(sem.try_acquire().is_none());
}

// spec: SY-32
#[test]
fn add_permits_wakes_waiters() {
    watchdog(30, || {
        let sem = Arc::new(Semaphore::new(0));
        let hs: Vec<_> = (0..3)
            .map(|_| {
                let sem = Arc::clone(&sem);
                std::thread::spawn(move || sem.acquire().forget())
            })
            .collect();
        std::thread::sleep(Duration::from_millis(20));
        sem.add_permits(2);
        sem.add_permits(1);
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(sem.available_permits(), 0);
    });
}

// spec: SY-32
#[test]
fn exceeding_max_permits_panics_clearly() {
    let sem = Semaphore::new(Semaphore::MAX_PERMITS);
    let err = std::panic::catch_unwind(|| sem.add_permits(1)).unwrap_err();
    let msg = routines_tests::panic_message(&*err);
    assert!(msg.contains("MAX_PERMITS"), "{msg}");
    assert!(std::panic::catch_unwind(|| Semaphore::new(usize::MAX)).is_err());
}

// spec: SY-2
#[test]
fn acquire_timeout_and_deadline() {
    watchdog(30, || {
        let sem = Arc::new(Semaphore::new(0));
        let start = Instant::now();
        assert!(sem.acquire_timeout(Duration::from_millis(15)).is_none());
        assert!(start.elapsed() >= Duration::from_millis(15));
        assert!(sem.acquire_deadline(Instant::now()).is_none());
        let giver = {
            let sem = Arc::clone(&sem);
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(10));
                sem.add_permits(1);
            })
        };
        assert!(sem.acquire_timeout(Duration::MAX).is_some());
        giver.join().unwrap();
    });
}

// spec: SY-4
#[test]
fn static_semaphore() {
    static SEM: Semaphore = Semaphore::new(1);
    let p = SEM.acquire();
    assert!(SEM.try_acquire().is_none());
    drop(p);
    assert_eq!(format!("{SEM:?}"), "Semaphore { available_permits: 1 }");
}
