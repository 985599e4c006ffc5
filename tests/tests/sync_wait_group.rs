//! `routines::sync::WaitGroup`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use routines::sync::WaitGroup;
use routines_tests::{stress, watchdog};

// spec: SY-40
#[test]
fn wait_sees_all_work_and_group_is_reusable() {
    watchdog(60, || {
        let wg = Arc::new(WaitGroup::new());
        let work = Arc::new(AtomicUsize::new(0));
        for round in 1..=stress(200) {
            wg.add(4);
            for _ in 0..4 {
                let (wg, work) = (Arc::clone(&wg), Arc::clone(&work));
                std::thread::spawn(move || {
                    work.fetch_add(1, Ordering::Relaxed);
                    wg.done();
                });
            }
            wg.wait();
            assert_eq!(work.load(Ordering::Relaxed), 4 * round);
            assert_eq!(wg.count(), 0);
        }
    });
}

// spec: SY-40
#[test]
fn wait_at_zero_returns_at_once() {
    WaitGroup::new().wait();
}

// spec: SY-41
#[test]
fn done_below_zero_panics_and_stays_usable() {
    let wg = WaitGroup::new();
    let err = std::panic::catch_unwind(|| wg.done()).unwrap_err();
    let msg = routines_tests::panic_message(&*err);
    assert!(msg.contains("done called more times than"), "{msg}");
    assert_eq!(wg.count(), 0);
    wg.add(1);
    wg.done();
    wg.wait();
}

// spec: SY-42, SY-2
#[test]
fn wait_timeout_reports_an_unfinished_group() {
    watchdog(30, || {
        let wg = Arc::new(WaitGroup::new());
        wg.add(1);
        let start = Instant::now();
        assert!(!wg.wait_timeout(Duration::from_millis(15)));
        assert!(start.elapsed() >= Duration::from_millis(15));
        assert!(!wg.wait_deadline(Instant::now()));
        let finisher = {
            let wg = Arc::clone(&wg);
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(10));
                wg.done();
            })
        };
        assert!(wg.wait_timeout(Duration::MAX));
        finisher.join().unwrap();
    });
}

// spec: SY-4
#[test]
fn static_wait_group() {
    static WG: WaitGroup = WaitGroup::new();
    WG.add(2);
    WG.done();
    WG.done();
    WG.wait();
    assert_eq!(format!("{WG:?}"), "WaitGroup { count: 0 }");
}
