//! `routines::channel::oneshot`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use routines::channel::{oneshot, RecvError, RecvTimeoutError, SendError, TryRecvError};
use routines_tests::{stress, watchdog, DropCounter};

// spec: CH-10
#[test]
fn one_value_across_threads() {
    watchdog(60, || {
        for _ in 0..stress(1_000) {
            let (tx, rx) = oneshot();
            let t = thread::spawn(move || tx.send(String::from("done")).unwrap());
            assert_eq!(rx.recv().as_deref(), Ok("done"));
            t.join().unwrap();
            assert_eq!(
                rx.try_recv(),
                Err(TryRecvError::Disconnected),
                "received already"
            );
        }
    });
}

// spec: CH-10
#[test]
fn a_dropped_sender_fails_the_receiver_at_once() {
    watchdog(60, || {
        let (tx, rx) = oneshot::<u8>();
        thread::scope(|s| {
            let waiter = s.spawn(|| rx.recv_timeout(Duration::MAX));
            thread::sleep(Duration::from_millis(20));
            drop(tx);
            assert_eq!(waiter.join().unwrap(), Err(RecvTimeoutError::Disconnected));
        });
        assert_eq!(rx.recv(), Err(RecvError));
    });
}

// spec: CH-10
#[test]
fn a_dropped_receiver_hands_the_value_back_or_drops_it_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = oneshot();
    assert!(!tx.is_closed());
    drop(rx);
    assert!(tx.is_closed());
    let back = tx.send(DropCounter::new(1, &drops)).unwrap_err();
    assert_eq!(back.0.value, 1);
    drop(back);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    // Sent, never received: the receiver's drop drops it.
    let (tx, rx) = oneshot();
    tx.send(DropCounter::new(2, &drops)).unwrap();
    drop(rx);
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}

// spec: CH-10
#[test]
fn try_recv_and_timeouts() {
    let (tx, rx) = oneshot();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(
        rx.recv_timeout(Duration::from_millis(10)),
        Err(RecvTimeoutError::Timeout)
    );
    assert_eq!(
        rx.recv_deadline(Instant::now()),
        Err(RecvTimeoutError::Timeout)
    );
    tx.send(5).unwrap();
    assert_eq!(rx.recv_deadline(Instant::now()), Ok(5));
    let (tx, _rx) = oneshot::<u8>();
    assert_eq!(format!("{tx:?}"), "OneshotSender { .. }");
    let (_tx, rx) = oneshot::<u8>();
    assert_eq!(format!("{rx:?}"), "OneshotReceiver { .. }");
    assert_eq!(SendError(3).into_inner(), 3);
}

// spec: CH-10
#[test]
fn racing_receives_through_a_shared_receiver_take_the_value_once() {
    watchdog(60, || {
        for _ in 0..stress(500) {
            let (tx, rx) = oneshot();
            let got = thread::scope(|s| {
                let a = s.spawn(|| rx.recv_timeout(Duration::from_millis(50)).ok());
                let b = s.spawn(|| rx.recv_timeout(Duration::from_millis(50)).ok());
                tx.send(9).unwrap();
                [a.join().unwrap(), b.join().unwrap()]
            });
            assert_eq!(got.iter().flatten().count(), 1, "{got:?}");
        }
    });
}
