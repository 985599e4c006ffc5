//! `routines::structured::CancelToken`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use routines::channel::unbounded;
use routines::future::promise;
use routines::structured::{CancelReason, CancelToken};
use routines_tests::{stress, watchdog, DropCounter};

// spec: ST-1
#[test]
fn cancel_is_idempotent_and_monotonic() {
    let t = CancelToken::new();
    assert!(!t.is_cancelled());
    assert_eq!(t.reason(), None);
    let clone = t.clone();
    assert!(clone.cancel());
    assert!(!t.cancel());
    assert!(t.is_cancelled());
    assert_eq!(t.reason(), Some(CancelReason::Cancelled));
    assert!(t.same_token(&clone));
}

// spec: ST-1, ST-4
#[test]
fn eight_threads_racing_cancel_run_each_callback_exactly_once() {
    watchdog(60, || {
        for _ in 0..stress(200) {
            let t = CancelToken::new();
            let counts: Vec<_> = (0..16).map(|_| Arc::new(AtomicUsize::new(0))).collect();
            let regs: Vec<_> = counts
                .iter()
                .map(|c| {
                    let c = Arc::clone(c);
                    t.on_cancel(move || {
                        c.fetch_add(1, Ordering::SeqCst);
                    })
                })
                .collect();
            let start = Arc::new(Barrier::new(8));
            let winners: usize = (0..8)
                .map(|_| {
                    let (t, start) = (t.clone(), Arc::clone(&start));
                    thread::spawn(move || {
                        start.wait();
                        usize::from(t.cancel())
                    })
                })
                .collect::<Vec<_>>()
                .into_iter()
                .map(|h| h.join().unwrap())
                .sum();
            assert_eq!(winners, 1);
            for c in &counts {
                assert_eq!(c.load(Ordering::SeqCst), 1);
            }
            drop(regs);
        }
    });
}

// spec: ST-2
#[test]
fn children_follow_parents_never_the_reverse() {
    let parent = CancelToken::new();
    let (a, b) = (parent.child(), parent.child());
    let grandchild = a.child();
    a.cancel();
    assert!(grandchild.is_cancelled());
    assert!(!parent.is_cancelled() && !b.is_cancelled());
    parent.cancel();
    assert!(b.is_cancelled());
    let late = parent.child();
    assert!(late.is_cancelled(), "born cancelled");
}

// spec: ST-2
#[test]
fn dropped_children_are_freed_and_unregister_from_the_parent() {
    let drops = Arc::new(AtomicUsize::new(0));
    let parent = CancelToken::new();
    for i in 0..1_000 {
        let child = parent.child();
        let payload = DropCounter::new(i, &drops);
        child
            .on_cancel(move || {
                let _ = &payload;
            })
            .forget();
    }
    // Every child is gone, with its callbacks: the parent holds its children weakly, and
    // each child's drop removed its link from the parent's list.
    assert_eq!(drops.load(Ordering::SeqCst), 1_000);
    parent.cancel();
}

// spec: ST-3
#[test]
#[cfg_attr(
    miri,
    ignore = "starts the deadline thread, which outlives the test (miri rejects that)"
)]
fn deadlines_cancel_on_time_and_never_later_than_the_parent() {
    watchdog(30, || {
        let parent = CancelToken::new().with_timeout(Duration::from_millis(30));
        let child = parent.with_timeout(Duration::from_secs(3600));
        assert_eq!(child.deadline(), parent.deadline());
        assert_eq!(
            CancelToken::new().with_timeout(Duration::MAX).deadline(),
            None
        );
        // Nobody looks at `child`: the deadline thread runs its callback.
        let fired = Arc::new(Mutex::new(None));
        let f = Arc::clone(&fired);
        let _reg = child.on_cancel(move || *f.lock().unwrap() = Some(Instant::now()));
        let start = Instant::now();
        while fired.lock().unwrap().is_none() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "deadline never fired"
            );
            thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(child.reason(), Some(CancelReason::DeadlineExceeded));
        assert_eq!(parent.reason(), Some(CancelReason::DeadlineExceeded));
    });
}

// spec: ST-4
#[test]
fn callbacks_run_at_once_if_already_cancelled_and_on_the_cancelling_thread_otherwise() {
    let t = CancelToken::new();
    let ran_on = Arc::new(Mutex::new(None));
    let r = Arc::clone(&ran_on);
    let _reg = t.on_cancel(move || *r.lock().unwrap() = Some(thread::current().id()));
    let t2 = t.clone();
    let canceller = thread::spawn(move || {
        t2.cancel();
        thread::current().id()
    })
    .join()
    .unwrap();
    assert_eq!(*ran_on.lock().unwrap(), Some(canceller));
    let here = Arc::new(Mutex::new(None));
    let h = Arc::clone(&here);
    let _reg = t.on_cancel(move || *h.lock().unwrap() = Some(thread::current().id()));
    assert_eq!(*here.lock().unwrap(), Some(thread::current().id()));
}

// spec: ST-4
#[test]
fn a_panicking_callback_does_not_stop_the_others() {
    let t = CancelToken::new();
    let count = Arc::new(AtomicUsize::new(0));
    let c1 = Arc::clone(&count);
    let _a = t.on_cancel(move || {
        c1.fetch_add(1, Ordering::SeqCst);
    });
    let _b = t.on_cancel(|| panic!("callback panics (expected in this test)"));
    let c2 = Arc::clone(&count);
    let _c = t.on_cancel(move || {
        c2.fetch_add(1, Ordering::SeqCst);
    });
    assert!(t.cancel());
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

// spec: ST-4
#[test]
fn dropping_a_registration_unregisters_or_waits_for_the_running_callback() {
    watchdog(30, || {
        // Unregistered before cancellation: never runs.
        let t = CancelToken::new();
        let ran = Arc::new(AtomicUsize::new(0));
        let r = Arc::clone(&ran);
        drop(t.on_cancel(move || {
            r.fetch_add(1, Ordering::SeqCst);
        }));
        t.cancel();
        assert_eq!(ran.load(Ordering::SeqCst), 0);

        // Running on another thread: the drop waits until it finished.
        let t = CancelToken::new();
        let (entered_tx, entered_rx) = unbounded::<()>();
        let finished = Arc::new(AtomicUsize::new(0));
        let f = Arc::clone(&finished);
        let reg = t.on_cancel(move || {
            entered_tx.send(()).unwrap();
            thread::sleep(Duration::from_millis(50));
            f.store(1, Ordering::SeqCst);
        });
        let t2 = t.clone();
        let canceller = thread::spawn(move || t2.cancel());
        entered_rx.recv().unwrap();
        drop(reg);
        assert_eq!(
            finished.load(Ordering::SeqCst),
            1,
            "the drop returned too early"
        );
        canceller.join().unwrap();

        // Dropped inside the callback itself: no self-deadlock.
        let t = CancelToken::new();
        let slot: Arc<Mutex<Option<routines::structured::Registration>>> =
            Arc::new(Mutex::new(None));
        let s = Arc::clone(&slot);
        let reg = t.on_cancel(move || drop(s.lock().unwrap().take()));
        *slot.lock().unwrap() = Some(reg);
        t.cancel();
    });
}

// spec: ST-5
#[test]
#[cfg_attr(
    miri,
    ignore = "starts the deadline thread, which outlives the test (miri rejects that)"
)]
fn wait_forms() {
    watchdog(30, || {
        let t = CancelToken::new();
        assert_eq!(t.wait_timeout(Duration::from_millis(5)), None);
        assert_eq!(t.wait_deadline(Instant::now()), None);
        let t2 = t.clone();
        let waiter = thread::spawn(move || t2.wait());
        thread::sleep(Duration::from_millis(10));
        t.cancel();
        assert_eq!(waiter.join().unwrap(), CancelReason::Cancelled);
        let timed = CancelToken::new().with_timeout(Duration::from_millis(10));
        assert_eq!(timed.wait(), CancelReason::DeadlineExceeded);
        assert_eq!(
            timed.wait_timeout(Duration::MAX),
            Some(CancelReason::DeadlineExceeded)
        );
    });
}

// spec: ST-6
#[test]
fn drop_guard_cancels_on_drop_and_unwinding_but_not_when_disarmed() {
    let t = CancelToken::new();
    let kept = t.drop_guard().disarm();
    assert!(!kept.is_cancelled());
    let guard = t.drop_guard();
    let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let _guard = guard;
        panic!("unwind (expected in this test)");
    }));
    assert!(unwound.is_err());
    assert!(t.is_cancelled());
}

// spec: ST-7
#[test]
#[cfg_attr(
    miri,
    ignore = "starts the deadline thread, which outlives the test (miri rejects that)"
)]
fn any_of_links_inputs() {
    let (a, b) = (
        CancelToken::new(),
        CancelToken::new().with_timeout(Duration::from_secs(60)),
    );
    let either = CancelToken::any_of(&[a.clone(), b.clone()]);
    assert_eq!(either.deadline(), b.deadline());
    assert!(!either.is_cancelled());
    a.cancel();
    assert_eq!(either.reason(), Some(CancelReason::Cancelled));
    assert!(!b.is_cancelled());
    let born = CancelToken::any_of(std::slice::from_ref(&a));
    assert!(born.is_cancelled());
    let none = CancelToken::any_of(&[]);
    assert!(!none.is_cancelled());
    assert!(none.cancel());
}

// spec: ST-8
#[test]
fn cancellable_waits_end_promptly_on_cancellation() {
    watchdog(30, || {
        let t = CancelToken::new();
        let t2 = t.clone();
        let sleeper = thread::spawn(move || {
            let start = Instant::now();
            (t2.sleep(Duration::from_secs(3600)), start.elapsed())
        });
        let (_p, pending) = promise::<u8, ()>();
        let t3 = t.clone();
        let future_waiter = thread::spawn(move || t3.wait_future(&pending).is_err());
        let (_tx, rx) = unbounded::<u8>();
        let t4 = t.clone();
        let selecter = thread::spawn(move || {
            let cancel = t4.receiver();
            routines::select! {
                recv(rx) -> _ => false,
                recv(cancel) -> r => r.is_err(),
            }
        });
        thread::sleep(Duration::from_millis(20));
        t.cancel();
        let (slept, took) = sleeper.join().unwrap();
        assert_eq!(slept, Err(CancelReason::Cancelled));
        assert!(took < Duration::from_secs(60));
        assert!(future_waiter.join().unwrap());
        assert!(selecter.join().unwrap());
        assert!(
            t.receiver().recv().is_err(),
            "made after cancellation: disconnected"
        );

        let (p, f) = promise::<u8, ()>();
        p.resolve(4);
        assert_eq!(CancelToken::new().wait_future(&f), Ok(Ok(&4)));
        assert_eq!(CancelToken::new().sleep(Duration::from_millis(1)), Ok(()));
    });
}

// spec: ST-2, ST-4
#[test]
fn nothing_leaks_whatever_the_token_drop_order() {
    let drops = Arc::new(AtomicUsize::new(0));
    let counted = |i| {
        let payload = DropCounter::new(i, &drops);
        move || {
            let _ = &payload;
        }
    };
    // Parent dropped before its child; the child's callback is still registered.
    let parent = CancelToken::new();
    let child = parent.child();
    let reg = child.on_cancel(counted(0));
    drop(parent);
    drop(child);
    drop(reg);
    // Registration outlives its token and forgotten registrations go with the token.
    let t = CancelToken::new();
    let reg = t.on_cancel(counted(1));
    t.on_cancel(counted(2)).forget();
    drop(t);
    drop(reg);
    // Cancelled then dropped: callbacks ran and were freed.
    let t = CancelToken::new();
    let g = t.drop_guard();
    t.on_cancel(counted(3)).forget();
    let linked = CancelToken::any_of(&[t.clone(), CancelToken::new()]);
    linked.on_cancel(counted(4)).forget();
    drop(t);
    drop(g);
    assert!(linked.is_cancelled());
    drop(linked);
    assert_eq!(drops.load(Ordering::SeqCst), 5);
}
