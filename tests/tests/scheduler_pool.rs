//! `routines::scheduler::ThreadPool`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use routines::channel::bounded;
use routines::scheduler::ThreadPool;
use routines_tests::{stress, watchdog, DropCounter};

// spec: SCH-1
#[test]
fn ten_thousand_counting_jobs_run_exactly_once() {
    watchdog(60, || {
        let pool = ThreadPool::new(4);
        let n = stress(10_000);
        let count = Arc::new(AtomicUsize::new(0));
        for _ in 0..n {
            let count = Arc::clone(&count);
            pool.execute(move || {
                count.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap();
        }
        pool.join();
        assert_eq!(count.load(Ordering::SeqCst), n);
        assert_eq!(pool.queued(), 0);
        // Still usable after join.
        assert_eq!(pool.spawn(|| 3).unwrap().wait().unwrap(), 3);
        pool.shutdown();
    });
}

// spec: SCH-1
#[test]
fn builder_names_hooks_and_thread_count() {
    watchdog(30, || {
        let started = Arc::new(AtomicUsize::new(0));
        let exited = Arc::new(AtomicUsize::new(0));
        let (s, e) = (Arc::clone(&started), Arc::clone(&exited));
        let pool = ThreadPool::builder()
            .threads(3)
            .name_prefix("worker-")
            .stack_size(256 * 1024)
            .on_start(move |_| {
                s.fetch_add(1, Ordering::SeqCst);
            })
            .on_exit(move |_| {
                e.fetch_add(1, Ordering::SeqCst);
            })
            .build();
        assert_eq!(pool.threads(), 3);
        let name = pool
            .spawn(|| thread::current().name().unwrap().to_string())
            .unwrap()
            .wait()
            .unwrap();
        assert!(name.starts_with("worker-"), "{name}");
        pool.shutdown();
        assert_eq!(started.load(Ordering::SeqCst), 3);
        assert_eq!(exited.load(Ordering::SeqCst), 3);
        let default = ThreadPool::new(0);
        assert!(default.threads() >= 1, "0 = available parallelism");
        default.shutdown();
    });
}

// spec: SCH-2
#[test]
fn panicking_jobs_never_kill_a_worker() {
    watchdog(30, || {
        let panics = Arc::new(Mutex::new(Vec::new()));
        let p = Arc::clone(&panics);
        let pool = ThreadPool::builder()
            .threads(1)
            .panic_handler(move |panic| p.lock().unwrap().push(panic.message().map(String::from)))
            .build();
        for i in 0..3 {
            pool.execute(move || panic!("job {i} panics (expected in this test)"))
                .unwrap();
        }
        let spawned = pool
            .spawn(|| -> u8 { std::panic::panic_any(9_u16) })
            .unwrap();
        let payload = spawned
            .wait()
            .unwrap_err()
            .rejected()
            .unwrap()
            .into_payload();
        assert_eq!(payload.downcast_ref::<u16>(), Some(&9));
        // The single worker is still alive.
        assert_eq!(pool.spawn(|| 1).unwrap().wait().unwrap(), 1);
        pool.join();
        assert_eq!(
            panics.lock().unwrap().len(),
            3,
            "execute panics reach the handler"
        );
        pool.shutdown();
    });
}

// spec: SCH-3
#[test]
fn shutdown_finishes_queued_work_and_refuses_new_work() {
    watchdog(30, || {
        let pool = ThreadPool::new(2);
        let count = Arc::new(AtomicUsize::new(0));
        for _ in 0..100 {
            let count = Arc::clone(&count);
            pool.execute(move || {
                thread::sleep(Duration::from_micros(100));
                count.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap();
        }
        pool.shutdown();
        assert_eq!(count.load(Ordering::SeqCst), 100, "queued work finished");
        let c = Arc::clone(&count);
        let refused = pool
            .execute(move || {
                c.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap_err();
        assert_eq!(
            refused.to_string(),
            "the thread pool is shut down and accepts no new work"
        );
        (refused.into_inner())(); // the job is handed back whole
        assert_eq!(count.load(Ordering::SeqCst), 101);
        assert!(pool.spawn(|| 1).is_err());
        pool.shutdown(); // idempotent
    });
}

// spec: SCH-3
#[test]
fn shutdown_now_drops_queued_work_and_breaks_spawned_futures() {
    watchdog(30, || {
        let drops = Arc::new(AtomicUsize::new(0));
        let ran = Arc::new(AtomicUsize::new(0));
        let pool = ThreadPool::new(1);
        let (release, blocked) = bounded::<()>(0);
        let (entered_tx, entered) = bounded::<()>(1);
        pool.execute(move || {
            entered_tx.send(()).unwrap();
            let _ = blocked.recv(); // until `release` is dropped
        })
        .unwrap();
        entered.recv().unwrap(); // the worker is busy: everything below stays queued
        let mut futures = Vec::new();
        for i in 0..10 {
            let payload = DropCounter::new(i, &drops);
            let ran = Arc::clone(&ran);
            futures.push(
                pool.spawn(move || {
                    ran.fetch_add(1, Ordering::SeqCst);
                    payload.value
                })
                .unwrap(),
            );
        }
        let pool = Arc::new(pool);
        let stopper = {
            let pool = Arc::clone(&pool);
            thread::spawn(move || {
                // Release the busy job only once the stop is in force (submissions fail).
                while pool.execute(|| {}).is_ok() {
                    thread::sleep(Duration::from_millis(1));
                }
                drop(release);
            })
        };
        pool.shutdown_now(); // returns once the busy job ended and the worker exited
        stopper.join().unwrap();
        assert_eq!(drops.load(Ordering::SeqCst), 10, "every queued job dropped");
        assert_eq!(ran.load(Ordering::SeqCst), 0, "none of them ran");
        for f in futures {
            assert!(f.wait().unwrap_err().is_broken());
        }
    });
}

// spec: SCH-3
#[test]
fn submissions_racing_shutdown_are_run_or_refused_never_lost() {
    watchdog(60, || {
        for _ in 0..stress(200) {
            let pool = Arc::new(ThreadPool::new(2));
            let ran = Arc::new(AtomicUsize::new(0));
            let accepted = Arc::new(AtomicUsize::new(0));
            let submitters: Vec<_> = (0..2)
                .map(|_| {
                    let (pool, ran, accepted) =
                        (Arc::clone(&pool), Arc::clone(&ran), Arc::clone(&accepted));
                    thread::spawn(move || {
                        for _ in 0..50 {
                            let ran = Arc::clone(&ran);
                            let job = move || {
                                ran.fetch_add(1, Ordering::SeqCst);
                            };
                            if pool.execute(job).is_ok() {
                                accepted.fetch_add(1, Ordering::SeqCst);
                            }
                        }
                    })
                })
                .collect();
            pool.shutdown();
            for s in submitters {
                s.join().unwrap();
            }
            assert_eq!(ran.load(Ordering::SeqCst), accepted.load(Ordering::SeqCst));
        }
    });
}

// spec: SCH-4
#[test]
#[cfg_attr(
    miri,
    ignore = "the dropped pool's workers exit after the test (miri rejects that)"
)]
fn dropping_the_pool_still_runs_queued_work() {
    watchdog(30, || {
        let (tx, rx) = bounded::<usize>(16);
        let pool = ThreadPool::new(1);
        for i in 0..8 {
            let tx = tx.clone();
            pool.execute(move || tx.send(i).unwrap()).unwrap();
        }
        drop(tx);
        drop(pool); // does not wait
        let got: Vec<_> = rx.iter().collect();
        assert_eq!(got, (0..8).collect::<Vec<_>>(), "FIFO with one worker");
    });
}

// spec: SCH-3
#[test]
fn a_job_may_shut_its_own_pool_down() {
    watchdog(30, || {
        let pool = Arc::new(ThreadPool::new(2));
        let inner = Arc::clone(&pool);
        let done = pool.spawn(move || inner.shutdown()).unwrap();
        assert!(done.wait().is_ok(), "no self-join panic");
        assert!(pool.execute(|| {}).is_err());
        pool.shutdown(); // joins the worker that ran the job
    });
}

// spec: SCH-2
#[test]
fn a_panicking_start_hook_does_not_lose_its_worker() {
    watchdog(60, || {
        let seen = Arc::new(AtomicUsize::new(0));
        let seen2 = Arc::clone(&seen);
        let pool = ThreadPool::builder()
            .threads(1)
            .on_start(|_| panic!("start hook"))
            .panic_handler(move |_| {
                seen2.fetch_add(1, Ordering::SeqCst);
            })
            .build();
        assert_eq!(pool.spawn(|| 5).unwrap().wait().unwrap(), 5);
        pool.shutdown();
        assert_eq!(seen.load(Ordering::SeqCst), 1);
    });
}
