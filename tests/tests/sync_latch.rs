//! `routines::sync::Latch`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use routines::sync::Latch;
use routines_tests::watchdog;

// spec: SY-60
#[test]
fn opens_after_count_downs() {
    watchdog(30, || {
        let latch = Arc::new(Latch::new(3));
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let latch = Arc::clone(&latch);
                std::thread::spawn(move || latch.wait())
            })
            .collect();
        for _ in 0..3 {
            assert!(!latch.try_wait());
            latch.count_down();
        }
        for w in waiters {
            w.join().unwrap();
        }
        assert!(latch.try_wait());
        Latch::new(0).wait();
    });
}

// spec: SY-61
#[test]
fn extra_count_downs_saturate() {
    let latch = Latch::new(1);
    for _ in 0..5 {
        latch.count_down();
    }
    assert_eq!(latch.count(), 0);
    latch.wait();
}

// spec: SY-62, SY-2
#[test]
fn wait_timeout_on_a_closed_latch() {
    let latch = Latch::new(1);
    let start = Instant::now();
    assert!(!latch.wait_timeout(Duration::from_millis(15)));
    assert!(start.elapsed() >= Duration::from_millis(15));
    assert!(!latch.wait_deadline(Instant::now()));
    latch.count_down();
    assert!(latch.wait_timeout(Duration::ZERO));
    assert_eq!(format!("{latch:?}"), "Latch { count: 0 }");
}
