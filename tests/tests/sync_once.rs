//! `routines::sync::Once`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use routines::sync::Once;
use routines_tests::{stress, watchdog};

// spec: SY-70
#[test]
fn runs_once_and_blocks_concurrent_callers() {
    watchdog(60, || {
        for _ in 0..stress(100) {
            let once = Arc::new(Once::new());
            let runs = Arc::new(AtomicUsize::new(0));
            let hs: Vec<_> = (0..4)
                .map(|_| {
                    let (once, runs) = (Arc::clone(&once), Arc::clone(&runs));
                    std::thread::spawn(move || {
                        once.call_once(|| {
                            std::thread::sleep(Duration::from_micros(200));
                            runs.fetch_add(1, Ordering::Relaxed);
                        });
                        // Whoever returns sees the completed initialisation.
                        assert_eq!(runs.load(Ordering::Relaxed), 1);
                    })
                })
                .collect();
            for h in hs {
                h.join().unwrap();
            }
            assert!(once.is_completed());
        }
    });
}

// spec: SY-71
#[test]
fn a_panicking_closure_lets_the_next_caller_run() {
    watchdog(30, || {
        let once = Arc::new(Once::new());
        let started = Arc::new(routines::sync::Latch::new(1));
        let panicker = {
            let (once, started) = (Arc::clone(&once), Arc::clone(&started));
            std::thread::spawn(move || {
                once.call_once(|| {
                    started.count_down();
                    std::thread::sleep(Duration::from_millis(20));
                    panic!("init failed");
                })
            })
        };
        started.wait();
        // Blocks while the first closure runs, then runs its own after the panic.
        let mut ran = false;
        once.call_once(|| ran = true);
        assert!(ran);
        assert!(panicker.join().is_err());
        assert!(once.is_completed());
    });
}

// spec: SY-4
#[test]
fn static_once() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {});
    assert_eq!(format!("{INIT:?}"), "Once { completed: true }");
}
