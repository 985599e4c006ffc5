//! `routines::future`: promises, futures, continuations, shared futures, spawn.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::thread;
use std::time::{Duration, Instant};

use routines::future::{promise, spawn, Future, FutureError, Panic};
use routines_tests::{stress, watchdog, DropCounter};

// spec: FUT-1, FUT-5
#[test]
fn cross_thread_resolve_wakes_a_waiter() {
    watchdog(60, || {
        for i in 0..stress(1_000) {
            let (p, f) = promise::<usize, ()>();
            let t = thread::spawn(move || p.resolve(i));
            assert_eq!(f.wait(), Ok(i));
            t.join().unwrap();
        }
    });
}

// spec: FUT-5
#[test]
fn a_waiter_parked_before_the_resolve_wakes() {
    watchdog(60, || {
        let (p, f) = promise::<u8, ()>();
        let waiter = thread::spawn(move || f.wait());
        thread::sleep(Duration::from_millis(20)); // let it park (not needed for correctness)
        p.resolve(3);
        assert_eq!(waiter.join().unwrap(), Ok(3));
    });
}

// spec: FUT-1
#[test]
fn reject_and_ready_and_failed() {
    let (p, f) = promise::<u8, &str>();
    p.reject("no");
    assert_eq!(f.wait(), Err(FutureError::Rejected("no")));
    assert_eq!(Future::<u8, ()>::ready(1).wait(), Ok(1));
    assert_eq!(
        Future::<u8, &str>::failed("e").wait(),
        Err(FutureError::Rejected("e"))
    );
}

// spec: FUT-2
#[test]
fn dropped_promise_breaks_a_parked_waiter_at_once() {
    watchdog(30, || {
        let (p, f) = promise::<u8, ()>();
        let waiter = thread::spawn(move || f.wait());
        thread::sleep(Duration::from_millis(20));
        drop(p);
        assert!(waiter.join().unwrap().unwrap_err().is_broken());
    });
}

// spec: FUT-3
#[test]
fn promise_sees_every_consumer_gone() {
    let (p, f) = promise::<u8, ()>();
    assert!(!p.is_canceled());
    let s = f.shared();
    let s2 = s.clone();
    drop(s);
    assert!(!p.is_canceled(), "one shared future is still alive");
    drop(s2);
    assert!(p.is_canceled());

    let (p, f) = promise::<u8, ()>();
    let mapped = f.map(|v| v + 1);
    drop(mapped);
    assert!(
        !p.is_canceled(),
        "a continuation counts as a consumer for good"
    );
    p.resolve(1);
}

// spec: FUT-4
#[test]
fn non_blocking_reads_do_not_consume() {
    let (p, f) = promise::<String, ()>();
    assert!(!f.is_ready());
    assert_eq!(f.try_get(), None);
    assert!(f.poll().is_pending());
    let start = Instant::now();
    assert_eq!(f.wait_timeout(Duration::from_millis(20)), None);
    assert!(start.elapsed() >= Duration::from_millis(20));
    assert_eq!(f.wait_deadline(Instant::now()), None);
    p.resolve(String::from("x"));
    assert!(f.is_ready());
    assert_eq!(f.try_get().unwrap().unwrap(), "x");
    assert!(matches!(f.poll(), Poll::Ready(Ok(s)) if s == "x"));
    assert_eq!(f.wait_timeout(Duration::ZERO).unwrap().unwrap(), "x");
    assert_eq!(f.wait().unwrap(), "x", "still there after the borrows");
}

// spec: FUT-4
#[test]
fn duration_max_waits_forever_without_panicking() {
    watchdog(30, || {
        let (p, f) = promise::<u8, ()>();
        let t = thread::spawn(move || {
            thread::sleep(Duration::from_millis(20));
            p.resolve(5);
        });
        assert_eq!(f.wait_timeout(Duration::MAX), Some(Ok(&5)));
        t.join().unwrap();
    });
}

// spec: FUT-6
#[test]
fn map_on_a_pending_future_runs_on_the_settling_thread() {
    watchdog(30, || {
        let (p, f) = promise::<u8, ()>();
        let mapped = f.map(|v| (v * 2, thread::current().id()));
        let settler = thread::spawn(move || {
            p.resolve(21);
            thread::current().id()
        });
        let settler_id = settler.join().unwrap();
        assert_eq!(mapped.wait(), Ok((42, settler_id)));
    });
}

// spec: FUT-6
#[test]
fn map_on_a_settled_future_runs_at_once_on_the_caller() {
    let me = thread::current().id();
    let mapped = Future::<u8, ()>::ready(1).map(move |v| (v, thread::current().id()));
    assert_eq!(mapped.try_get(), Some(Ok(&(1, me))));
}

// spec: FUT-6
#[test]
fn errors_pass_through_continuations_without_calling_them() {
    let called = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&called);
    let f = Future::<u8, &str>::failed("e").map(move |v| {
        c.fetch_add(1, Ordering::SeqCst);
        v
    });
    assert_eq!(f.wait(), Err(FutureError::Rejected("e")));
    let (p, f) = promise::<u8, &str>();
    let chained = f.and_then(|v| Future::ready(v + 1));
    drop(p);
    assert!(chained.wait().unwrap_err().is_broken());
    assert_eq!(called.load(Ordering::SeqCst), 0);
}

// spec: FUT-6
#[test]
fn a_panicking_continuation_becomes_a_rejection_with_its_payload() {
    let (p, f) = promise::<u8, ()>();
    let mapped = f.map(|_| -> u8 { std::panic::panic_any(17_u32) });
    p.resolve(1); // the panic is caught on this (the settling) thread
    match mapped.wait() {
        Err(FutureError::Panicked(panic)) => {
            assert_eq!(panic.into_payload().downcast_ref::<u32>(), Some(&17));
        }
        other => panic!("expected Panicked, got {other:?}"),
    }
    let chained = Future::<u8, ()>::ready(1).and_then(|_| -> Future<u8, ()> { panic!("inner") });
    match chained.wait() {
        Err(FutureError::Panicked(panic)) => assert_eq!(panic.message(), Some("inner")),
        other => panic!("expected Panicked, got {other:?}"),
    }
}

// spec: FUT-6
#[test]
fn and_then_flattens_a_pending_inner_future() {
    watchdog(30, || {
        let (p1, f1) = promise::<u8, ()>();
        let (p2, f2) = promise::<u16, ()>();
        let chained = f1.and_then(move |v| f2.map(move |w| u32::from(v) + u32::from(w)));
        p1.resolve(1);
        assert!(!chained.is_ready());
        let t = thread::spawn(move || p2.resolve(2));
        assert_eq!(chained.wait(), Ok(3));
        t.join().unwrap();
    });
}

// spec: FUT-6
#[test]
fn continuation_racing_the_settle_runs_exactly_once() {
    watchdog(60, || {
        for i in 0..stress(2_000) {
            let runs = Arc::new(AtomicUsize::new(0));
            let (p, f) = promise::<usize, ()>();
            let t = thread::spawn(move || p.resolve(i));
            let r = Arc::clone(&runs);
            let mapped = f.map(move |v| {
                r.fetch_add(1, Ordering::SeqCst);
                v + 1
            });
            assert_eq!(mapped.wait(), Ok(i + 1));
            t.join().unwrap();
            assert_eq!(runs.load(Ordering::SeqCst), 1);
        }
    });
}

// spec: FUT-7
#[test]
fn shared_future_gives_every_waiter_a_clone() {
    watchdog(30, || {
        let (p, f) = promise::<String, ()>();
        let shared = f.shared();
        let waiters: Vec<_> = (0..4)
            .map(|_| {
                let s = shared.clone();
                thread::spawn(move || s.wait())
            })
            .collect();
        p.resolve(String::from("all"));
        for w in waiters {
            assert_eq!(w.join().unwrap().as_deref(), Ok("all"));
        }
        assert_eq!(shared.try_get().unwrap().unwrap(), "all");
        assert_eq!(shared.wait_timeout(Duration::ZERO).unwrap().unwrap(), "all");
    });
}

// spec: FUT-7
#[test]
fn shared_copies_of_a_panic_carry_its_message() {
    let (p, f) = promise::<u8, ()>();
    let shared = f.map(|_| -> u8 { panic!("boom") }).shared();
    p.resolve(0);
    for _ in 0..2 {
        match shared.wait() {
            Err(FutureError::Panicked(panic)) => assert_eq!(panic.message(), Some("boom")),
            other => panic!("expected Panicked, got {other:?}"),
        }
    }
}

// spec: FUT-13
#[test]
fn spawn_delivers_the_value_or_the_original_panic() {
    watchdog(30, || {
        assert_eq!(spawn(|| 6 * 7).wait().unwrap(), 42);
        let err = spawn(|| -> u8 { std::panic::panic_any(String::from("p")) })
            .wait()
            .unwrap_err();
        let panic: Panic = err.rejected().expect("a rejection");
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| panic.resume()));
        assert_eq!(
            caught
                .unwrap_err()
                .downcast_ref::<String>()
                .map(String::as_str),
            Some("p")
        );
    });
}

// spec: FUT-1, FUT-2
#[test]
fn nothing_leaks_whatever_the_drop_order() {
    let drops = Arc::new(AtomicUsize::new(0));
    let mut made = 0;
    // Settled, then future dropped unread.
    let (p, f) = promise::<DropCounter, ()>();
    p.resolve(DropCounter::new(1, &drops));
    made += 1;
    drop(f);
    // Future dropped first, then settled.
    let (p, f) = promise::<DropCounter, ()>();
    drop(f);
    p.resolve(DropCounter::new(2, &drops));
    made += 1;
    // Rejected with a counted error, shared clones dropped in between.
    let (p, f) = promise::<(), DropCounter>();
    let s = f.shared();
    let s2 = s.clone();
    p.reject(DropCounter::new(3, &drops));
    made += 1;
    drop(s);
    drop(s2);
    // A continuation holding a counted value, never settled (promise dropped).
    let (p, f) = promise::<u8, ()>();
    let held = DropCounter::new(4, &drops);
    made += 1;
    let mapped = f.map(move |v| {
        let held = held; // the whole payload, not just the field (precise captures)
        (v, held.value)
    });
    drop(mapped);
    drop(p);
    // Taken by wait, then dropped by the caller.
    let (p, f) = promise::<DropCounter, ()>();
    p.resolve(DropCounter::new(5, &drops));
    made += 1;
    drop(f.wait());
    assert_eq!(drops.load(Ordering::SeqCst), made);
}
