//! `routines::future::{all, race, any, all_settled}`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use routines::future::{
    all, all_settled, all_settled_timeout, all_timeout, any, any_timeout, promise, race,
    race_timeout, spawn, Future, FutureError, RaceError, Settled,
};
use routines_tests::{watchdog, DropCounter};

// spec: FUT-8
#[test]
fn all_keeps_input_order_whatever_the_settle_order() {
    watchdog(30, || {
        let (promises, futures): (Vec<_>, Vec<_>) = (0..8).map(|_| promise::<usize, ()>()).unzip();
        let t = thread::spawn(move || {
            for (i, p) in promises.into_iter().enumerate().rev() {
                p.resolve(i * 10);
            }
        });
        assert_eq!(all(futures), Ok((0..8).map(|i| i * 10).collect::<Vec<_>>()));
        t.join().unwrap();
    });
}

// spec: FUT-8
#[test]
fn all_fails_fast_with_an_input_pending_forever() {
    watchdog(30, || {
        let (_never, pending) = promise::<u8, &str>();
        let (p, failing) = promise::<u8, &str>();
        let failed_at = thread::spawn(move || {
            thread::sleep(Duration::from_millis(20));
            let at = Instant::now();
            p.reject("x");
            at
        });
        let out = all(vec![Future::ready(1), pending, failing]);
        let returned = Instant::now();
        assert_eq!(out, Err(FutureError::Rejected("x")));
        let failed_at = failed_at.join().unwrap();
        let lag = returned.saturating_duration_since(failed_at);
        assert!(
            lag < Duration::from_millis(100),
            "returned {lag:?} after the failure"
        );
    });
}

// spec: FUT-8, FUT-10, FUT-11, FUT-9
#[test]
fn empty_inputs() {
    assert_eq!(all(Vec::<Future<u8, ()>>::new()), Ok(vec![]));
    assert!(all_settled(Vec::<Future<u8, ()>>::new()).is_empty());
    assert!(any(Vec::<Future<u8, ()>>::new()).unwrap_err().0.is_empty());
    assert!(matches!(
        race(Vec::<Future<u8, ()>>::new()),
        Err(RaceError::EmptyRace)
    ));
}

// spec: FUT-9
#[test]
fn race_takes_the_first_settlement_success_or_failure() {
    watchdog(30, || {
        let (_slow, pending) = promise::<u8, &str>();
        assert_eq!(race(vec![pending, Future::ready(2)]).unwrap(), 2);
        let (_slow, pending) = promise::<u8, &str>();
        assert!(matches!(
            race(vec![pending, Future::failed("f")]),
            Err(RaceError::Failed(FutureError::Rejected("f")))
        ));
        let (p, f) = promise::<u8, &str>();
        let (_slow, pending) = promise::<u8, &str>();
        let t = thread::spawn(move || p.resolve(9));
        assert_eq!(race(vec![pending, f]).unwrap(), 9);
        t.join().unwrap();
    });
}

// spec: FUT-10
#[test]
fn any_takes_the_first_success_or_aggregates_errors_in_input_order() {
    watchdog(30, || {
        let (p, late) = promise::<u8, usize>();
        let t = thread::spawn(move || p.resolve(7));
        assert_eq!(any(vec![Future::failed(0), late]).unwrap(), 7);
        t.join().unwrap();

        let (promises, futures): (Vec<_>, Vec<_>) = (0..5).map(|_| promise::<u8, usize>()).unzip();
        let t = thread::spawn(move || {
            for (i, p) in promises.into_iter().enumerate().rev() {
                p.reject(i);
            }
        });
        let err = any(futures).unwrap_err();
        let got: Vec<_> = err.0.into_iter().map(|e| e.rejected().unwrap()).collect();
        assert_eq!(got, vec![0, 1, 2, 3, 4]);
        t.join().unwrap();
    });
}

// spec: FUT-11
#[test]
fn all_settled_never_fails_and_keeps_input_order() {
    let (p, f) = promise::<u8, &str>();
    drop(p);
    let out = all_settled(vec![Future::ready(1), Future::failed("e"), f]);
    assert!(matches!(out[0], Settled::Fulfilled(1)));
    assert!(matches!(
        out[1],
        Settled::Rejected(FutureError::Rejected("e"))
    ));
    assert!(matches!(out[2], Settled::Rejected(FutureError::Broken)));
}

// spec: FUT-12
#[test]
fn timeouts_return_none_and_pending_inputs_are_dropped_cleanly() {
    let drops = Arc::new(AtomicUsize::new(0));
    let short = Duration::from_millis(10);
    let (p1, f1) = promise::<DropCounter, ()>();
    assert!(all_timeout(vec![f1], short).is_none());
    let (p2, f2) = promise::<DropCounter, ()>();
    assert!(race_timeout(vec![f2], short).is_none());
    let (p3, f3) = promise::<DropCounter, ()>();
    assert!(any_timeout(vec![f3], short).is_none());
    let (p4, f4) = promise::<DropCounter, ()>();
    assert!(all_settled_timeout(vec![f4], short).is_none());
    // Settled later: the outcomes go nowhere and are dropped exactly once.
    for (i, p) in [p1, p2, p3, p4].into_iter().enumerate() {
        p.resolve(DropCounter::new(i, &drops));
    }
    assert_eq!(drops.load(Ordering::SeqCst), 4);
    assert_eq!(
        all_timeout(vec![Future::<u8, ()>::ready(1)], Duration::MAX),
        Some(Ok(vec![1]))
    );
}

// spec: FUT-12
#[test]
fn combinators_over_spawned_threads() {
    watchdog(60, || {
        let futures: Vec<_> = (0..100_u64).map(|i| spawn(move || i * i)).collect();
        let got = all(futures).unwrap();
        assert_eq!(got, (0..100_u64).map(|i| i * i).collect::<Vec<_>>());
    });
}
