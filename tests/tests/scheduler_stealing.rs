//! `routines::scheduler::Scheduler` (work stealing) and the free functions.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use routines::scheduler::{self, Scheduler};
use routines_tests::{panic_message, stress, watchdog, DropCounter};

fn fib(n: u32) -> u64 {
    if n < 2 {
        return n.into();
    }
    let (a, b) = scheduler::join(|| fib(n - 1), || fib(n - 2));
    a + b
}

fn fib_on(s: &Scheduler, n: u32) -> u64 {
    if n < 2 {
        return n.into();
    }
    let (a, b) = s.join(|| fib_on(s, n - 1), || fib_on(s, n - 2));
    a + b
}

fn fib_n() -> u32 {
    if cfg!(miri) {
        8
    } else {
        25
    }
}

fn fib_plain(n: u32) -> u64 {
    if n < 2 {
        n.into()
    } else {
        fib_plain(n - 1) + fib_plain(n - 2)
    }
}

// spec: SCH-6, SCH-13
#[test]
fn ten_thousand_counting_spawns_run_exactly_once_and_nothing_leaks() {
    watchdog(60, || {
        let s = Scheduler::new(4);
        let n = stress(10_000);
        let count = Arc::new(AtomicUsize::new(0));
        let drops = Arc::new(AtomicUsize::new(0));
        for i in 0..n {
            let count = Arc::clone(&count);
            let payload = DropCounter::new(i, &drops);
            s.spawn(move || {
                let payload = payload;
                count.fetch_add(1, Ordering::SeqCst);
                drop(payload);
            });
        }
        s.shutdown();
        assert_eq!(count.load(Ordering::SeqCst), n);
        assert_eq!(drops.load(Ordering::SeqCst), n);
    });
}

// spec: SCH-7
#[test]
fn recursive_fib_via_join_is_exact() {
    watchdog(120, || {
        let n = fib_n();
        let s = Scheduler::new(4);
        assert_eq!(fib_on(&s, n), fib_plain(n));
        // The free function, run inside the scheduler: uses the current worker's.
        assert_eq!(s.install(|| fib(n)), fib_plain(n));
        s.shutdown();
    });
}

// spec: SCH-14
#[test]
#[cfg_attr(miri, ignore = "the global scheduler's threads outlive the test")]
fn free_join_from_outside_uses_the_global_scheduler() {
    watchdog(120, || {
        assert_eq!(fib(20), 6765);
        assert!(scheduler::current_num_threads() >= 1);
        assert_eq!(scheduler::current_thread_index(), None);
    });
}

// spec: SCH-7
#[test]
fn join_resumes_a_panic_after_both_sides_finished() {
    watchdog(60, || {
        let s = Scheduler::new(2);
        let b_done = AtomicBool::new(false);
        let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            s.join(
                || -> () { panic!("left side") },
                || {
                    thread::sleep(Duration::from_millis(20));
                    b_done.store(true, Ordering::SeqCst);
                },
            )
        }))
        .unwrap_err();
        assert_eq!(panic_message(&*err), "left side");
        assert!(b_done.load(Ordering::SeqCst));
        let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            s.join(|| 1, || -> u8 { panic!("right side") })
        }))
        .unwrap_err();
        assert_eq!(panic_message(&*err), "right side");
        // Both panic: the left one wins.
        let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            s.join(|| -> u8 { panic!("a") }, || -> u8 { panic!("b") })
        }))
        .unwrap_err();
        assert_eq!(panic_message(&*err), "a");
        // The workers survived.
        assert_eq!(s.join(|| 1, || 2), (1, 2));
        s.shutdown();
    });
}

// spec: SCH-8
#[test]
fn nested_scopes_borrow_and_count_exactly() {
    watchdog(60, || {
        let s = Scheduler::new(4);
        let outer = if cfg!(miri) { 3 } else { 50 };
        let inner = if cfg!(miri) { 3 } else { 40 };
        let count = AtomicUsize::new(0);
        let mut slots = vec![0_usize; outer];
        s.scope(|sc| {
            for (i, slot) in slots.iter_mut().enumerate() {
                let count = &count;
                sc.spawn(move |_| {
                    let local = AtomicUsize::new(0);
                    scheduler::scope(|inner_scope| {
                        for _ in 0..inner {
                            inner_scope.spawn(|_| {
                                local.fetch_add(1, Ordering::Relaxed);
                                count.fetch_add(1, Ordering::Relaxed);
                            });
                        }
                    });
                    *slot = i + local.into_inner();
                });
            }
        });
        assert_eq!(count.into_inner(), outer * inner);
        assert!(slots.iter().enumerate().all(|(i, v)| *v == i + inner));
        s.shutdown();
    });
}

// spec: SCH-8
#[test]
fn scope_jobs_that_spawn_jobs_all_finish_before_scope_returns() {
    watchdog(60, || {
        fn tree<'s>(sc: &scheduler::Scope<'s>, depth: u32, count: &'s AtomicUsize) {
            count.fetch_add(1, Ordering::Relaxed);
            if depth > 0 {
                sc.spawn(move |sc| tree(sc, depth - 1, count));
                sc.spawn(move |sc| tree(sc, depth - 1, count));
            }
        }
        let s = Scheduler::new(3);
        let depth = if cfg!(miri) { 3 } else { 12 };
        let count = AtomicUsize::new(0);
        s.scope(|sc| tree(sc, depth, &count));
        assert_eq!(count.into_inner(), (1 << (depth + 1)) - 1);
        s.shutdown();
    });
}

// spec: SCH-8
#[test]
fn scope_resumes_the_first_job_panic_after_all_jobs_finished() {
    watchdog(60, || {
        let s = Scheduler::new(2);
        let finished = AtomicUsize::new(0);
        let drops = Arc::new(AtomicUsize::new(0));
        let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            s.scope(|sc| {
                sc.spawn(|_| panic!("job failed"));
                for i in 0..4 {
                    let payload = DropCounter::new(i, &drops);
                    let finished = &finished;
                    sc.spawn(move |_| {
                        let _payload = payload;
                        thread::sleep(Duration::from_millis(5));
                        finished.fetch_add(1, Ordering::SeqCst);
                    });
                }
            })
        }))
        .unwrap_err();
        assert_eq!(panic_message(&*err), "job failed");
        assert_eq!(finished.load(Ordering::SeqCst), 4);
        assert_eq!(drops.load(Ordering::SeqCst), 4);
        // The function's own panic wins over a job's.
        let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            s.scope(|sc| {
                sc.spawn(|_| panic!("job"));
                thread::sleep(Duration::from_millis(5));
                panic!("body");
            })
        }))
        .unwrap_err();
        assert_eq!(panic_message(&*err), "body");
        s.shutdown();
    });
}

// spec: SCH-9
#[test]
fn tasks_that_spawn_tasks_all_run_before_shutdown_returns() {
    watchdog(60, || {
        fn spread(count: Arc<AtomicUsize>, depth: u32) {
            count.fetch_add(1, Ordering::SeqCst);
            if depth > 0 {
                for _ in 0..2 {
                    let count = Arc::clone(&count);
                    scheduler::spawn(move || spread(count, depth - 1));
                }
            }
        }
        let s = Scheduler::new(4);
        let depth = if cfg!(miri) { 3 } else { 12 };
        let count = Arc::new(AtomicUsize::new(0));
        let c = Arc::clone(&count);
        s.spawn(move || spread(c, depth));
        s.shutdown();
        assert_eq!(count.load(Ordering::SeqCst), (1 << (depth + 1)) - 1);
    });
}

// spec: SCH-13
#[test]
fn shutdown_is_clean_with_work_queued() {
    watchdog(60, || {
        let s = Scheduler::new(2);
        let n = stress(2_000);
        let ran = Arc::new(AtomicUsize::new(0));
        let drops = Arc::new(AtomicUsize::new(0));
        let futures: Vec<_> = (0..n)
            .map(|i| {
                let ran = Arc::clone(&ran);
                let payload = DropCounter::new(i, &drops);
                s.spawn_future(move || {
                    ran.fetch_add(1, Ordering::SeqCst);
                    payload.value
                })
            })
            .collect();
        s.shutdown(); // most of the work is still queued here
        assert_eq!(ran.load(Ordering::SeqCst), n);
        let sum: usize = futures.into_iter().map(|f| f.wait().unwrap()).sum();
        assert_eq!(sum, n * (n - 1) / 2);
        assert_eq!(drops.load(Ordering::SeqCst), n);
    });
}

// spec: SCH-13
#[test]
#[cfg_attr(miri, ignore = "the workers exit after the test, unjoined")]
fn dropping_the_scheduler_still_runs_spawned_jobs() {
    watchdog(60, || {
        let s = Scheduler::new(2);
        let (tx, rx) = routines::channel::unbounded();
        for i in 0..100 {
            let tx = tx.clone();
            s.spawn(move || tx.send(i).unwrap());
        }
        drop(tx);
        drop(s);
        let mut got: Vec<i32> = rx.iter().collect();
        got.sort_unstable();
        assert_eq!(got, (0..100).collect::<Vec<_>>());
    });
}

// spec: SCH-13
#[test]
#[cfg_attr(miri, ignore = "the workers are joined by nobody")]
fn shutdown_from_inside_a_job_returns_at_once() {
    watchdog(60, || {
        let s = Arc::new(Mutex::new(Some(Scheduler::new(2))));
        let s2 = Arc::clone(&s);
        let (tx, rx) = routines::channel::bounded(1);
        s.lock().unwrap().as_ref().unwrap().spawn(move || {
            let sched = s2.lock().unwrap().take().unwrap();
            sched.shutdown();
            tx.send(()).unwrap();
        });
        rx.recv_timeout(Duration::from_secs(30)).unwrap();
    });
}

// spec: SCH-9
#[test]
fn spawn_panics_go_to_the_handler_and_futures_carry_theirs() {
    watchdog(60, || {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen2 = Arc::clone(&seen);
        let s = Scheduler::builder()
            .threads(2)
            .panic_handler(move |p| seen2.lock().unwrap().push(p.message().map(String::from)))
            .build();
        s.spawn(|| panic!("fire and forget"));
        let f = s.spawn_future(|| -> u8 { panic!("in a future") });
        let p = f.wait().unwrap_err().rejected().unwrap();
        assert_eq!(p.message(), Some("in a future"));
        assert_eq!(s.spawn_future(|| 3).wait().unwrap(), 3);
        s.shutdown();
        assert_eq!(*seen.lock().unwrap(), [Some("fire and forget".to_string())]);
    });
}

// spec: SCH-10
#[test]
fn install_broadcast_and_thread_indices() {
    watchdog(60, || {
        let started = Arc::new(AtomicUsize::new(0));
        let exited = Arc::new(AtomicUsize::new(0));
        let (st, ex) = (Arc::clone(&started), Arc::clone(&exited));
        let s = Scheduler::builder()
            .threads(3)
            .name_prefix("ws-test-")
            .on_start(move |i| {
                // Hooks run on the worker, which already knows its index.
                if scheduler::current_thread_index() == Some(i) {
                    st.fetch_add(1, Ordering::SeqCst);
                }
            })
            .on_exit(move |_| {
                ex.fetch_add(1, Ordering::SeqCst);
            })
            .build();
        assert_eq!(s.current_thread_index(), None);
        let (index, name) = s.install(|| {
            (
                scheduler::current_thread_index().unwrap(),
                thread::current().name().map(String::from),
            )
        });
        assert!(index < 3);
        assert_eq!(name, Some(format!("ws-test-{index}")));
        // install from one of our own workers runs in place.
        let same = s.install(|| {
            let me = thread::current().id();
            s.install(|| thread::current().id()) == me
        });
        assert!(same);
        // broadcast: each worker exactly once, in index order; from outside and inside.
        let ids = s.broadcast(|ctx| {
            (
                ctx.index(),
                ctx.num_threads(),
                scheduler::current_thread_index(),
            )
        });
        assert_eq!(ids, [(0, 3, Some(0)), (1, 3, Some(1)), (2, 3, Some(2))]);
        let inner = s.install(|| scheduler::broadcast(|ctx| ctx.index()));
        assert_eq!(inner, [0, 1, 2]);
        let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            s.broadcast(|ctx| {
                if ctx.index() == 1 {
                    panic!("broadcast 1");
                }
            })
        }))
        .unwrap_err();
        assert_eq!(panic_message(&*err), "broadcast 1");
        // A worker of another scheduler blocks in install (and is not confused with ours).
        let other = Scheduler::new(1);
        assert_eq!(
            other.install(|| (s.current_thread_index(), s.install(|| 7))),
            (None, 7)
        );
        other.shutdown();
        s.shutdown();
        assert_eq!(started.load(Ordering::SeqCst), 3);
        assert_eq!(exited.load(Ordering::SeqCst), 3);
    });
}

// spec: SCH-11
#[test]
#[cfg_attr(miri, ignore = "timing-based setup (sleeps); too slow under miri")]
fn a_wait_without_stealing_runs_no_unrelated_job() {
    watchdog(120, || {
        let s = Scheduler::new(2);
        // Tries until the second half of the join was stolen (the situation under test).
        for _ in 0..50 {
            let in_region: Arc<Mutex<Option<usize>>> = Arc::new(Mutex::new(None));
            let violations = Arc::new(AtomicUsize::new(0));
            let done = Arc::new(AtomicUsize::new(0));
            let jobs = 50;
            let stolen = s.install(|| {
                let me = scheduler::current_thread_index().unwrap();
                scheduler::without_stealing(|| {
                    *in_region.lock().unwrap() = Some(me);
                    let ((), b_on) = scheduler::join(
                        || {
                            thread::sleep(Duration::from_millis(5));
                            for _ in 0..jobs {
                                let (in_region, violations, done) = (
                                    Arc::clone(&in_region),
                                    Arc::clone(&violations),
                                    Arc::clone(&done),
                                );
                                scheduler::spawn(move || {
                                    let here = scheduler::current_thread_index();
                                    if *in_region.lock().unwrap() == here {
                                        violations.fetch_add(1, Ordering::SeqCst);
                                    }
                                    done.fetch_add(1, Ordering::SeqCst);
                                });
                            }
                        },
                        || {
                            thread::sleep(Duration::from_millis(30));
                            scheduler::current_thread_index().unwrap()
                        },
                    );
                    *in_region.lock().unwrap() = None;
                    b_on != me
                })
            });
            while done.load(Ordering::SeqCst) < jobs {
                thread::sleep(Duration::from_millis(1));
            }
            assert_eq!(violations.load(Ordering::SeqCst), 0);
            if stolen {
                s.shutdown();
                return;
            }
        }
        panic!("the second half of join was never stolen in 50 tries");
    });
}

// spec: SCH-12
#[test]
fn external_callers_with_idle_gaps_never_strand_work() {
    // Workers go to sleep between bursts; every burst must be picked up (a lost wake-up
    // shows as the watchdog firing).
    watchdog(120, || {
        let s = Arc::new(Scheduler::new(3));
        let rounds = stress(200);
        let callers: Vec<_> = (0..4_u64)
            .map(|t| {
                let s = Arc::clone(&s);
                thread::spawn(move || {
                    for r in 0..rounds as u64 {
                        match (t + r) % 4 {
                            0 => assert_eq!(s.install(|| fib(12)), 144),
                            1 => assert_eq!(s.join(|| fib(10), || fib(11)), (55, 89)),
                            2 => {
                                let n = AtomicUsize::new(0);
                                s.scope(|sc| {
                                    for _ in 0..8 {
                                        sc.spawn(|_| {
                                            n.fetch_add(1, Ordering::Relaxed);
                                        });
                                    }
                                });
                                assert_eq!(n.into_inner(), 8);
                            }
                            _ => assert_eq!(s.spawn_future(move || r * 2).wait().unwrap(), r * 2),
                        }
                        if r % 3 == 0 {
                            thread::sleep(Duration::from_micros(50 * ((t + r) % 5)));
                        }
                    }
                })
            })
            .collect();
        for c in callers {
            c.join().unwrap();
        }
        Arc::try_unwrap(s).unwrap().shutdown();
    });
}

// spec: SCH-16
#[test]
#[cfg_attr(
    miri,
    ignore = "spins on another worker's progress; too slow under miri"
)]
fn a_join_half_left_in_a_sleeping_owners_deque_is_stolen() {
    // Three workers. Inside `without_stealing`, `join(a, b)` where `a` is a broadcast whose
    // call on another worker waits until `b` has run: the owner sleeps in its broadcast wait
    // with `b` still in its deque (its non-stealing wait may not run it), so a third worker
    // must take `b`. If nobody were woken for `b`, the watchdog would fire.
    watchdog(60, || {
        let s = Scheduler::new(3);
        for _ in 0..stress(50) {
            let b_ran = AtomicBool::new(false);
            s.install(|| {
                let me = scheduler::current_thread_index().unwrap();
                scheduler::without_stealing(|| {
                    scheduler::join(
                        || {
                            scheduler::broadcast(|ctx| {
                                if ctx.index() == (me + 1) % 3 {
                                    while !b_ran.load(Ordering::SeqCst) {
                                        thread::yield_now();
                                    }
                                }
                            })
                        },
                        || b_ran.store(true, Ordering::SeqCst),
                    )
                })
            });
        }
        s.shutdown();
    });
}

// spec: SCH-6
#[test]
fn a_panicking_start_hook_does_not_lose_its_worker() {
    watchdog(60, || {
        let seen = Arc::new(AtomicUsize::new(0));
        let seen2 = Arc::clone(&seen);
        let s = Scheduler::builder()
            .threads(2)
            .on_start(|i| {
                if i == 0 {
                    panic!("start hook");
                }
            })
            .on_exit(|_| panic!("exit hook"))
            .panic_handler(move |p| {
                assert!(p.message().unwrap().ends_with("hook"));
                seen2.fetch_add(1, Ordering::SeqCst);
            })
            .build();
        // Worker 0 is still there: a broadcast reaches it.
        assert_eq!(s.broadcast(|ctx| ctx.index()), [0, 1]);
        s.shutdown();
        assert_eq!(seen.load(Ordering::SeqCst), 3); // one start, two exits
    });
}

// spec: SCH-11
#[test]
fn waits_without_stealing_still_run_their_own_jobs() {
    // One worker: nobody else could run the scope's jobs or join's second half, so a
    // non-stealing wait that did not run its own jobs would hang (the watchdog fires).
    watchdog(60, || {
        let s = Scheduler::new(1);
        let total = s.install(|| {
            scheduler::without_stealing(|| {
                let n = AtomicUsize::new(0);
                scheduler::scope(|sc| {
                    for _ in 0..10 {
                        sc.spawn(|sc| {
                            n.fetch_add(1, Ordering::Relaxed);
                            sc.spawn(|_| {
                                n.fetch_add(1, Ordering::Relaxed);
                            });
                        });
                    }
                });
                let (a, b) = scheduler::join(|| fib(8), || fib(9));
                n.into_inner() as u64 + a + b
            })
        });
        assert_eq!(total, 20 + 21 + 34);
        s.shutdown();
    });
}
