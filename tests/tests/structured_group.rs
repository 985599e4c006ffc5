//! `routines::structured::TaskGroup`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use routines::structured::{CancelReason, CancelToken, Failure, TaskGroup};
use routines_tests::{watchdog, DropCounter};

// spec: ST-15
#[test]
fn join_collects_in_spawn_order_and_join_next_as_they_finish() {
    watchdog(30, || {
        let mut g = TaskGroup::<usize, ()>::new();
        for i in 0..5 {
            g.spawn(move |_| {
                thread::sleep(Duration::from_millis(10 * (5 - i as u64)));
                Ok(i)
            });
        }
        assert_eq!(g.join(), Ok(vec![0, 1, 2, 3, 4]));

        let mut g = TaskGroup::<usize, ()>::new();
        let gate = CancelToken::new();
        let g2 = gate.clone();
        g.spawn(move |_| {
            g2.wait();
            Ok(0)
        });
        g.spawn(|_| Ok(1));
        assert!(
            matches!(g.join_next(), Some((1, Ok(1)))),
            "the finished one first"
        );
        gate.cancel();
        assert!(matches!(g.join_next(), Some((0, Ok(0)))));
        assert!(g.join_next().is_none());
        assert_eq!(g.join(), Ok(vec![]), "everything was handed out");
    });
}

// spec: ST-16
#[test]
fn fail_fast_cancels_siblings_and_join_reports_the_first_failure() {
    watchdog(30, || {
        let observed = Arc::new(AtomicUsize::new(0));
        let mut g = TaskGroup::<u8, String>::new();
        for _ in 0..2 {
            let observed = Arc::clone(&observed);
            g.spawn(move |cx| {
                assert_eq!(
                    cx.token().sleep(Duration::from_secs(3600)),
                    Err(CancelReason::Cancelled)
                );
                observed.fetch_add(1, Ordering::SeqCst);
                Ok(0)
            });
        }
        g.spawn(|_| Err(String::from("third failed")));
        assert_eq!(g.join(), Err(String::from("third failed")));
        assert_eq!(observed.load(Ordering::SeqCst), 2);

        let mut g = TaskGroup::<u8, ()>::new();
        g.spawn(|_| std::panic::panic_any(7_i64));
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| g.join()));
        assert_eq!(caught.unwrap_err().downcast_ref::<i64>(), Some(&7));
    });
}

// spec: ST-16
#[test]
fn supervised_groups_cancel_nothing_and_join_all_keeps_every_outcome() {
    watchdog(30, || {
        let mut g = TaskGroup::<u8, &str>::supervised();
        g.spawn(|_| Err("a"));
        g.spawn(|cx| {
            thread::sleep(Duration::from_millis(20));
            Ok(u8::from(cx.is_cancelled()))
        });
        g.spawn(|_| -> Result<u8, &str> { panic!("c") });
        let all = g.join_all();
        assert!(matches!(all[0], Err(Failure::Error("a"))));
        assert!(matches!(all[1], Ok(0)), "not cancelled");
        assert!(matches!(&all[2], Err(Failure::Panic(p)) if p.message() == Some("c")));
    });
}

// spec: ST-17
#[test]
#[cfg_attr(
    miri,
    ignore = "starts the deadline thread, which outlives the test (miri rejects that)"
)]
fn limits_timeouts_and_dropping_a_group() {
    watchdog(30, || {
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let mut g = TaskGroup::<(), ()>::new().with_limit(2);
        for _ in 0..6 {
            let (running, peak) = (Arc::clone(&running), Arc::clone(&peak));
            g.spawn(move |_| {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                thread::sleep(Duration::from_millis(5));
                running.fetch_sub(1, Ordering::SeqCst);
                Ok(())
            });
        }
        assert_eq!(g.join().map(|v| v.len()), Ok(6));
        assert!(peak.load(Ordering::SeqCst) <= 2);

        let mut g = TaskGroup::<u8, ()>::new();
        let gate = CancelToken::new();
        let g2 = gate.clone();
        g.spawn(move |_| {
            g2.wait();
            Ok(1)
        });
        assert!(g.join_timeout(Duration::from_millis(5)).is_none());
        assert!(g.join_next_timeout(Duration::from_millis(5)).is_none());
        gate.cancel();
        assert_eq!(g.join_timeout(Duration::MAX), Some(Ok(vec![1])));

        // A group deadline cancels its tasks; dropping a group cancels and joins them.
        let mut g = TaskGroup::<(), ()>::new().with_timeout(Duration::from_millis(10));
        g.spawn(|cx| {
            assert_eq!(cx.token().wait(), CancelReason::DeadlineExceeded);
            Ok(())
        });
        assert_eq!(g.join(), Ok(vec![()]));
        let finished = Arc::new(AtomicUsize::new(0));
        let mut g = TaskGroup::<(), ()>::new();
        let f = Arc::clone(&finished);
        g.spawn(move |cx| {
            cx.token().wait();
            f.store(1, Ordering::SeqCst);
            Ok(())
        });
        drop(g);
        assert_eq!(
            finished.load(Ordering::SeqCst),
            1,
            "the drop joined the task"
        );
    });
}

// spec: ST-15
#[test]
fn nothing_leaks_whatever_is_joined() {
    let drops = Arc::new(AtomicUsize::new(0));
    {
        let mut g = TaskGroup::<DropCounter, DropCounter>::new();
        for i in 0..6 {
            let d = Arc::clone(&drops);
            g.spawn(move |_| {
                if i == 3 {
                    Err(DropCounter::new(i, &d))
                } else {
                    Ok(DropCounter::new(i, &d))
                }
            });
        }
        let _ = g.join_next();
        drop(g.join());
    }
    {
        let mut g = TaskGroup::<DropCounter, ()>::supervised();
        for i in 0..3 {
            let d = Arc::clone(&drops);
            g.spawn(move |_| Ok(DropCounter::new(i, &d)));
        }
        // Dropped without joining.
    }
    assert_eq!(drops.load(Ordering::SeqCst), 9);
}
