//! `routines::core`: padding, backoff and the parking layer.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use routines::core::{Backoff, CachePadded, WaitQueue};
use routines_tests::{stress, watchdog};

// spec: CORE-1
#[test]
fn cache_padded_alignment() {
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    assert_eq!(std::mem::align_of::<CachePadded<u8>>(), 128);
    assert!(std::mem::align_of::<CachePadded<u8>>() >= 64);
    let pair = [CachePadded::new(1u8), CachePadded::new(2u8)];
    let gap = (&*pair[1] as *const u8 as usize) - (&*pair[0] as *const u8 as usize);
    assert!(gap >= 64);
    assert_eq!(*pair[1], 2);
}

// spec: CORE-2
#[test]
fn backoff_is_bounded() {
    let backoff = Backoff::new();
    let mut steps = 0;
    while !backoff.is_completed() {
        backoff.snooze();
        steps += 1;
        assert!(steps < 1_000, "backoff never completes");
    }
    backoff.reset();
    assert!(!backoff.is_completed());
}

// spec: CORE-3
#[test]
fn notify_after_change_wakes_waiter() {
    watchdog(30, || {
        for _ in 0..stress(2_000) {
            let shared = Arc::new((AtomicBool::new(false), WaitQueue::new()));
            let waiter = {
                let shared = Arc::clone(&shared);
                std::thread::spawn(move || {
                    shared
                        .1
                        .wait_until(None, || shared.0.load(Ordering::Acquire).then_some(()))
                })
            };
            shared.0.store(true, Ordering::Release);
            shared.1.notify_one();
            assert_eq!(waiter.join().unwrap(), Some(()));
        }
    });
}

// spec: CORE-3
#[test]
fn notify_all_wakes_every_waiter() {
    watchdog(30, || {
        let shared = Arc::new((
            AtomicBool::new(false),
            WaitQueue::new(),
            AtomicUsize::new(0),
        ));
        let waiters: Vec<_> = (0..6)
            .map(|_| {
                let shared = Arc::clone(&shared);
                std::thread::spawn(move || {
                    shared
                        .1
                        .wait_until(None, || shared.0.load(Ordering::Acquire).then_some(()));
                    shared.2.fetch_add(1, Ordering::Relaxed);
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(20));
        shared.0.store(true, Ordering::Release);
        shared.1.notify_all();
        for w in waiters {
            w.join().unwrap();
        }
        assert_eq!(shared.2.load(Ordering::Relaxed), 6);
    });
}

// spec: CORE-4
#[test]
fn timed_wait_times_out_after_final_attempt() {
    let q = WaitQueue::new();
    let start = Instant::now();
    let mut attempts = 0;
    let got = q.wait_until(Some(start + Duration::from_millis(30)), || {
        attempts += 1;
        None::<()>
    });
    assert_eq!(got, None);
    assert!(start.elapsed() >= Duration::from_millis(30));
    assert!(
        attempts >= 2,
        "an attempt before parking and one after the deadline"
    );

    // A condition that holds at the final attempt wins over the timeout.
    let mut calls = 0;
    let got = q.wait_until(Some(Instant::now()), || {
        calls += 1;
        Some(calls)
    });
    assert_eq!(got, Some(1));
}

// spec: CORE-5
#[test]
fn huge_timeouts_mean_forever_without_panicking() {
    let m = routines::sync::Mutex::new(1);
    assert!(m.lock_timeout(Duration::MAX).is_some());
    let sem = routines::sync::Semaphore::new(1);
    assert!(sem.acquire_timeout(Duration::MAX).is_some());
    let latch = routines::sync::Latch::new(1);
    std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(10));
            latch.count_down();
        });
        assert!(latch.wait_timeout(Duration::MAX));
    });
    let far = Instant::now() + Duration::from_secs(u32::MAX as u64 * 100);
    assert!(WaitQueue::new()
        .wait_until(Some(far), || Some(()))
        .is_some());
}

// spec: CORE-6
#[test]
fn notify_without_waiters_is_a_no_op() {
    let q = WaitQueue::new();
    assert!(!q.notify_one());
    assert!(!q.notify_all());
}

// spec: CORE-9
#[test]
fn every_permit_notify_wakes_a_waiter_while_others_are_claimed() {
    // Four waiters take one permit each; permits come one at a time, each with one
    // `notify_one`, often while the waiters woken before have not run yet (so their claims
    // are outstanding), and with the giver barging in to take a permit back now and then.
    // A notify skipped while some waiter slept unclaimed would leave it asleep: the
    // watchdog fires.
    watchdog(60, || {
        for round in 0..stress(300) {
            let shared = Arc::new((AtomicUsize::new(0), WaitQueue::new()));
            let take = |permits: &AtomicUsize| {
                permits
                    .fetch_update(Ordering::Acquire, Ordering::Relaxed, |p| p.checked_sub(1))
                    .is_ok()
            };
            let waiters: Vec<_> = (0..4)
                .map(|_| {
                    let shared = Arc::clone(&shared);
                    std::thread::spawn(move || {
                        shared.1.wait_until(None, || take(&shared.0).then_some(()))
                    })
                })
                .collect();
            for i in 0..4 {
                shared.0.fetch_add(1, Ordering::Release);
                shared.1.notify_one();
                if (round + i) % 3 == 0 && take(&shared.0) {
                    shared.0.fetch_add(1, Ordering::Release);
                    shared.1.notify_one();
                }
            }
            for w in waiters {
                assert_eq!(w.join().unwrap(), Some(()));
            }
            assert_eq!(shared.0.load(Ordering::Relaxed), 0);
        }
    });
}

// spec: CORE-7
#[test]
fn timed_wait_on_the_platform_layer_honours_the_deadline() {
    // Several short timed waits: each one must return, none may return far too early.
    let q = WaitQueue::new();
    for ms in [1u64, 5, 20] {
        let start = Instant::now();
        assert!(q
            .wait_until(Some(start + Duration::from_millis(ms)), || None::<()>)
            .is_none());
        assert!(start.elapsed() >= Duration::from_millis(ms));
    }
}
