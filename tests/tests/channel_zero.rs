//! `routines::channel::bounded(0)`: rendezvous channels.

use std::thread;
use std::time::{Duration, Instant};

use routines::channel::{
    bounded, RecvError, RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError,
};
use routines_tests::{stress, watchdog};

const MS: Duration = Duration::from_millis(1);

// spec: CH-14
#[test]
fn a_send_completes_only_when_a_receiver_takes_it() {
    watchdog(60, || {
        let (tx, rx) = bounded(0);
        assert_eq!(
            tx.try_send(1),
            Err(TrySendError::Full(1)),
            "nobody is receiving"
        );
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "nobody is sending");
        assert_eq!(
            tx.send_timeout(2, 10 * MS),
            Err(SendTimeoutError::Timeout(2))
        );
        assert_eq!(
            rx.recv_deadline(Instant::now()),
            Err(RecvTimeoutError::Timeout)
        );
        thread::scope(|s| {
            let sender = s.spawn(|| {
                tx.send(3).unwrap();
                Instant::now()
            });
            thread::sleep(20 * MS);
            let taken = Instant::now();
            assert_eq!(rx.recv(), Ok(3));
            assert!(
                sender.join().unwrap() >= taken,
                "the send returned only after the receive"
            );
        });
    });
}

// spec: CH-14
#[test]
fn try_operations_pair_with_a_parked_counterpart() {
    watchdog(60, || {
        let (tx, rx) = bounded(0);
        thread::scope(|s| {
            let receiver = s.spawn(|| rx.recv());
            // Retry until the receiver has parked.
            let mut v = 7;
            loop {
                match tx.try_send(v) {
                    Ok(()) => break,
                    Err(TrySendError::Full(back)) => {
                        v = back;
                        thread::sleep(MS);
                    }
                    Err(e) => panic!("{e}"),
                }
            }
            assert_eq!(receiver.join().unwrap(), Ok(7));
            let sender = s.spawn(|| tx.send(8));
            let got = loop {
                match rx.try_recv() {
                    Ok(v) => break v,
                    Err(TryRecvError::Empty) => thread::sleep(MS),
                    Err(e) => panic!("{e}"),
                }
            };
            assert_eq!(got, 8);
            assert_eq!(sender.join().unwrap(), Ok(()));
        });
    });
}

// spec: CH-14, CH-4
#[test]
fn disconnection_fails_parked_parties_and_hands_values_back() {
    watchdog(60, || {
        let (tx, rx) = bounded::<String>(0);
        thread::scope(|s| {
            let sender = s.spawn(|| tx.send(String::from("unsent")));
            thread::sleep(20 * MS);
            drop(rx);
            assert_eq!(
                sender.join().unwrap(),
                Err(SendError(String::from("unsent")))
            );
        });
        let (tx, rx) = bounded::<u8>(0);
        thread::scope(|s| {
            let receiver = s.spawn(|| rx.recv());
            thread::sleep(20 * MS);
            assert!(tx.close());
            assert_eq!(receiver.join().unwrap(), Err(RecvError));
        });
        assert_eq!(tx.try_send(1), Err(TrySendError::Disconnected(1)));
    });
}

// spec: CH-14
#[test]
fn timed_out_parties_leave_no_trace() {
    watchdog(60, || {
        let (tx, rx) = bounded(0);
        // Many timed-out sends: none of their values may reach a later receiver.
        for i in 0..stress(50) {
            assert_eq!(tx.send_timeout(i, MS), Err(SendTimeoutError::Timeout(i)));
        }
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        for _ in 0..stress(50) {
            assert_eq!(rx.recv_timeout(MS), Err(RecvTimeoutError::Timeout));
        }
        assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));
    });
}
