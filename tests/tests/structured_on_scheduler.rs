//! `routines::structured` scopes and task groups running on the work-stealing scheduler.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use routines::scheduler::{self, Scheduler};
use routines::structured::{scope_in, CancelReason, Failure, Scope, TaskGroup};
use routines_tests::{watchdog, DropCounter};

/// Tracks how many tasks run at once, and the most ever seen.
#[derive(Default)]
struct Concurrency {
    now: AtomicUsize,
    max: AtomicUsize,
}

impl Concurrency {
    fn enter(&self) {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.max.fetch_max(now, Ordering::SeqCst);
    }
    fn leave(&self) {
        self.now.fetch_sub(1, Ordering::SeqCst);
    }
}

// spec: ST-18, SCH-15
#[test]
fn scope_in_runs_tasks_on_workers_and_fails_fast() {
    watchdog(60, || {
        let sched = Scheduler::new(3);
        let mut seen = [None; 4];
        let r: Result<(), ()> = scope_in(&sched, |s| {
            for slot in seen.iter_mut() {
                s.spawn(move |_| *slot = scheduler::current_thread_index());
            }
            Ok(())
        });
        assert_eq!(r, Ok(()));
        assert!(
            seen.iter().all(|i| matches!(i, Some(i) if *i < 3)),
            "{seen:?}"
        );

        // One failing task cancels the others, which would otherwise wait an hour.
        let observed = AtomicUsize::new(0);
        let r = scope_in(&sched, |s| {
            for _ in 0..2 {
                s.spawn(|cx| {
                    if cx.token().wait_timeout(Duration::from_secs(3600))
                        == Some(CancelReason::Cancelled)
                    {
                        observed.fetch_add(1, Ordering::SeqCst);
                    }
                });
            }
            s.spawn(|_| Err("task failed"));
            Ok(())
        });
        assert_eq!(r, Err("task failed"));
        assert_eq!(observed.load(Ordering::SeqCst), 2);
        sched.shutdown();
    });
}

// spec: ST-18
#[test]
fn limit_on_one_worker_queues_instead_of_blocking() {
    watchdog(60, || {
        // One worker, running the body: a blocking limit would deadlock here.
        let sched = Scheduler::new(1);
        let c = Concurrency::default();
        let n = 20;
        let done = AtomicUsize::new(0);
        let r: Result<(), ()> = Scope::builder().limit(2).run_in(&sched, |s| {
            for _ in 0..n {
                s.spawn(|_| {
                    c.enter();
                    thread::sleep(Duration::from_micros(200));
                    c.leave();
                    done.fetch_add(1, Ordering::SeqCst);
                });
            }
            Ok(())
        });
        assert_eq!(r, Ok(()));
        assert_eq!(done.load(Ordering::SeqCst), n);
        assert!(c.max.load(Ordering::SeqCst) <= 2);

        // Several workers: never more than `limit` at once; try_spawn refuses when full.
        let sched3 = Scheduler::new(3);
        let c = Concurrency::default();
        let refused = AtomicUsize::new(0);
        let r: Result<(), ()> = Scope::builder().limit(2).run_in(&sched3, |s| {
            for _ in 0..n {
                s.spawn(|_| {
                    c.enter();
                    thread::sleep(Duration::from_millis(1));
                    c.leave();
                });
            }
            if s.try_spawn(|_| {}).is_err() {
                refused.fetch_add(1, Ordering::SeqCst);
            }
            Ok(())
        });
        assert_eq!(r, Ok(()));
        assert!(
            c.max.load(Ordering::SeqCst) <= 2,
            "{}",
            c.max.load(Ordering::SeqCst)
        );
        assert_eq!(refused.load(Ordering::SeqCst), 1);
        sched.shutdown();
        sched3.shutdown();
    });
}

// spec: ST-18
#[test]
fn supervised_in_collects_failures_and_nested_tasks_spawn_through_a_clone() {
    watchdog(60, || {
        let sched = Scheduler::new(2);
        let count = AtomicUsize::new(0);
        let (r, failures) = Scope::builder().run_supervised_in(&sched, |s| {
            let inner = s.clone();
            let count = &count;
            s.spawn(move |_| {
                for _ in 0..5 {
                    inner.spawn(move |_| {
                        count.fetch_add(1, Ordering::SeqCst);
                    });
                }
            });
            s.spawn(|_| Err("one"));
            s.spawn(|_| -> Result<(), &str> { panic!("two") });
            Ok::<_, &str>(7)
        });
        assert_eq!(r, Ok(7));
        assert_eq!(count.load(Ordering::SeqCst), 5);
        assert_eq!(failures.len(), 2);
        assert!(failures
            .iter()
            .any(|f| matches!(&f.failure, Failure::Error("one"))));
        assert!(failures
            .iter()
            .any(|f| matches!(&f.failure, Failure::Panic(p) if p.message() == Some("two"))));
        sched.shutdown();
    });
}

// spec: ST-19, SCH-15
#[test]
fn task_group_on_a_scheduler_joins_in_order_and_honours_its_limit() {
    watchdog(60, || {
        let sched = Scheduler::new(2);
        let c = Arc::new(Concurrency::default());
        let mut g = TaskGroup::<usize, ()>::new()
            .with_scheduler(&sched)
            .with_limit(1);
        for i in 0..10 {
            let c = Arc::clone(&c);
            g.spawn(move |_| {
                c.enter();
                assert!(scheduler::current_thread_index().is_some());
                thread::sleep(Duration::from_micros(300));
                c.leave();
                Ok(i * 3)
            });
        }
        assert_eq!(g.join(), Ok((0..10).map(|i| i * 3).collect::<Vec<_>>()));
        assert_eq!(c.max.load(Ordering::SeqCst), 1);

        // Fail-fast: a failure cancels the rest.
        let mut g = TaskGroup::<u8, &str>::new().with_scheduler(&sched);
        g.spawn(|cx| {
            cx.token().wait();
            Ok(1)
        });
        g.spawn(|_| Err("boom"));
        assert_eq!(g.join(), Err("boom"));
        sched.shutdown();
    });
}

// spec: ST-19
#[test]
#[cfg_attr(miri, ignore = "the workers exit after the test, unjoined")]
fn a_task_group_keeps_its_scheduler_alive_and_drop_waits_for_its_tasks() {
    watchdog(60, || {
        let sched = Scheduler::new(2);
        let drops = Arc::new(AtomicUsize::new(0));
        let finished = Arc::new(AtomicUsize::new(0));
        let mut g = TaskGroup::<(), ()>::new()
            .with_scheduler(&sched)
            .with_limit(1);
        drop(sched); // the group still owns the workers
        for i in 0..4 {
            let payload = DropCounter::new(i, &drops);
            let finished = Arc::clone(&finished);
            g.spawn(move |cx| {
                let _payload = payload;
                cx.token().wait_timeout(Duration::from_secs(3600));
                finished.fetch_add(1, Ordering::SeqCst);
                Ok(())
            });
        }
        drop(g); // cancels, then waits for every task (running or queued)
        assert_eq!(finished.load(Ordering::SeqCst), 4);
        assert_eq!(drops.load(Ordering::SeqCst), 4);
    });
}
