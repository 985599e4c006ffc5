//! `routines::structured::scope` and `Scope::builder()`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use routines::structured::{scope, CancelReason, CancelToken, Failure, Scope};
use routines_tests::{watchdog, DropCounter};

// spec: ST-9
#[test]
fn tasks_borrow_from_the_stack_and_the_scope_waits_for_all() {
    let data: Vec<u64> = (1..=100).collect();
    let mut sums = [0_u64; 4];
    let finished = AtomicUsize::new(0);
    let r: Result<(), ()> = scope(|s| {
        for (i, sum) in sums.iter_mut().enumerate() {
            let (data, finished) = (&data, &finished);
            s.spawn(move |_| {
                thread::sleep(Duration::from_millis(5));
                *sum = data.iter().skip(i).step_by(4).sum();
                finished.fetch_add(1, Ordering::SeqCst);
            });
        }
        Ok(())
    });
    assert_eq!(r, Ok(()));
    assert_eq!(
        finished.load(Ordering::SeqCst),
        4,
        "returned before every task ended"
    );
    assert_eq!(sums.iter().sum::<u64>(), 5050);
}

// spec: ST-10
#[test]
fn fail_fast_reports_the_error_and_the_siblings_observe_cancellation() {
    watchdog(30, || {
        let observed = AtomicUsize::new(0);
        let r: Result<(), String> = scope(|s| {
            for _ in 0..2 {
                s.spawn(|cx| {
                    // Would run for an hour without cancellation.
                    if cx.token().sleep(Duration::from_secs(3600)).is_err() {
                        observed.fetch_add(1, Ordering::SeqCst);
                    }
                });
            }
            s.spawn(|_| Err(String::from("task 3 failed")));
            Ok(())
        });
        assert_eq!(r, Err(String::from("task 3 failed")));
        assert_eq!(observed.load(Ordering::SeqCst), 2);
    });
}

// spec: ST-10
#[test]
fn a_child_panic_propagates_with_its_original_payload() {
    watchdog(30, || {
        let caught = std::panic::catch_unwind(|| {
            let _: Result<(), ()> = scope(|s| {
                s.spawn(|cx| {
                    cx.token().wait();
                });
                s.spawn(|_| -> Result<(), ()> { std::panic::panic_any(42_u32) });
                Ok(())
            });
        });
        assert_eq!(caught.unwrap_err().downcast_ref::<u32>(), Some(&42));
    });
}

// spec: ST-11
#[test]
fn a_body_error_or_panic_cancels_the_children_waits_then_propagates() {
    watchdog(30, || {
        let cancelled = AtomicUsize::new(0);
        let r: Result<(), &str> = scope(|s| {
            s.spawn(|cx| {
                cx.token().wait();
                cancelled.fetch_add(1, Ordering::SeqCst);
            });
            Err("body failed")
        });
        assert_eq!(r, Err("body failed"));
        assert_eq!(
            cancelled.load(Ordering::SeqCst),
            1,
            "the child ran to its end first"
        );

        let caught = std::panic::catch_unwind(|| {
            let _: Result<(), ()> = scope(|s| {
                s.spawn(|cx| {
                    cx.token().wait();
                });
                panic!("body panics");
            });
        });
        let payload = caught.unwrap_err();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"body panics"));
    });
}

// spec: ST-12
#[test]
fn supervise_isolates_and_collects_failures() {
    watchdog(30, || {
        let survivor_cancelled = AtomicUsize::new(0);
        let (result, failures) = Scope::builder().run_supervised(|s| {
            s.spawn(|_| Err::<(), _>("a"));
            s.spawn(|_| -> Result<(), &str> { panic!("b") });
            s.spawn(|cx| {
                thread::sleep(Duration::from_millis(30));
                if cx.is_cancelled() {
                    survivor_cancelled.fetch_add(1, Ordering::SeqCst);
                }
            });
            Ok::<_, &str>(7)
        });
        assert_eq!(result, Ok(7));
        assert_eq!(
            survivor_cancelled.load(Ordering::SeqCst),
            0,
            "nothing was cancelled"
        );
        let mut seen: Vec<_> = failures
            .into_iter()
            .map(|f| match f.failure {
                Failure::Error(e) => (f.index, e.to_string()),
                Failure::Panic(p) => (f.index, p.message().unwrap().to_string()),
            })
            .collect();
        seen.sort();
        assert_eq!(seen, vec![(0, "a".to_string()), (1, "b".to_string())]);
    });
}

// spec: ST-13
#[test]
fn the_concurrency_limit_blocks_spawn_and_fails_try_spawn() {
    watchdog(30, || {
        let running = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        let r: Result<(), ()> = Scope::builder().limit(2).run(|s| {
            for _ in 0..8 {
                s.spawn(|_| {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    thread::sleep(Duration::from_millis(10));
                    running.fetch_sub(1, Ordering::SeqCst);
                });
            }
            Ok(())
        });
        assert_eq!(r, Ok(()));
        assert!(peak.load(Ordering::SeqCst) <= 2);

        let gate = CancelToken::new();
        let r: Result<(), ()> = Scope::builder().limit(1).run(|s| {
            s.spawn(|_| {
                gate.wait();
            });
            assert!(s.try_spawn(|_| {}).is_err(), "the limit is reached");
            gate.cancel();
            Ok(())
        });
        assert_eq!(r, Ok(()));
    });
}

// spec: ST-14
#[test]
#[cfg_attr(
    miri,
    ignore = "starts the deadline thread, which outlives the test (miri rejects that)"
)]
fn a_scope_deadline_cancels_the_tasks() {
    watchdog(30, || {
        let start = Instant::now();
        let reason = std::sync::Mutex::new(None);
        let r: Result<(), ()> = Scope::builder()
            .timeout(Duration::from_millis(20))
            .run(|s| {
                s.spawn(|cx| {
                    *reason.lock().unwrap() = Some(cx.token().wait());
                });
                Ok(())
            });
        assert_eq!(r, Ok(()));
        assert_eq!(
            *reason.lock().unwrap(),
            Some(CancelReason::DeadlineExceeded)
        );
        assert!(start.elapsed() >= Duration::from_millis(20));
    });
}

// spec: ST-9
#[test]
fn tasks_spawn_tasks_through_a_clone_and_parent_tokens_reach_them() {
    watchdog(30, || {
        let count = AtomicUsize::new(0);
        let r: Result<(), ()> = scope(|s| {
            let s2 = s.clone();
            let count = &count;
            s.spawn(move |_| {
                for _ in 0..3 {
                    s2.spawn(move |_| {
                        count.fetch_add(1, Ordering::SeqCst);
                    });
                }
            });
            Ok(())
        });
        assert_eq!(r, Ok(()));
        assert_eq!(count.load(Ordering::SeqCst), 3);

        let parent = CancelToken::new();
        parent.cancel();
        let r: Result<bool, ()> = Scope::builder()
            .token(&parent)
            .run(|s| Ok(s.token().is_cancelled()));
        assert_eq!(r, Ok(true));
    });
}

// spec: ST-9
#[test]
fn nothing_leaks_from_failed_or_cancelled_scopes() {
    let drops = Arc::new(AtomicUsize::new(0));
    let r: Result<(), DropCounter> = scope(|s| {
        for i in 0..4 {
            let payload = DropCounter::new(i, &drops);
            s.spawn(move |_| {
                if i == 2 {
                    Err(payload)
                } else {
                    drop(payload);
                    Ok(())
                }
            });
        }
        Ok(())
    });
    drop(r);
    assert_eq!(drops.load(Ordering::SeqCst), 4);
}
