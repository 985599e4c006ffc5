//! `routines::channel::{after, at, tick, never}`: receiver-only channels of `Instant`s.
//! Only lower bounds on time are asserted (these machines are noisy).

use std::thread;
use std::time::{Duration, Instant};

use routines::channel::{after, at, never, tick, RecvTimeoutError, TryRecvError};
use routines_tests::watchdog;

const MS: Duration = Duration::from_millis(1);

// spec: CH-11
#[test]
fn at_and_after_deliver_once_when_due() {
    watchdog(60, || {
        let when = Instant::now() + 20 * MS;
        let rx = at(when);
        assert_eq!((rx.capacity(), rx.len()), (Some(1), 0));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        assert_eq!(rx.recv(), Ok(when));
        assert!(Instant::now() >= when);
        // Delivered: never again, never disconnected.
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        assert_eq!(rx.recv_timeout(5 * MS), Err(RecvTimeoutError::Timeout));
        assert!(!rx.is_disconnected() && !rx.close());

        let start = Instant::now();
        let rx = after(10 * MS);
        thread::sleep(15 * MS);
        assert_eq!(rx.len(), 1, "due and not yet taken");
        let got = rx.try_recv().unwrap();
        assert!(got >= start + 10 * MS);
        assert_eq!(rx.len(), 0);
        // A clone shares the one delivery.
        let rx = after(MS);
        let rx2 = rx.clone();
        assert!(rx.same_channel(&rx2));
        let both = [
            rx.recv_timeout(50 * MS).ok(),
            rx2.recv_timeout(10 * MS).ok(),
        ];
        assert_eq!(both.iter().flatten().count(), 1);
        // Too far away to represent: never.
        assert_eq!(
            after(Duration::MAX).recv_timeout(MS),
            Err(RecvTimeoutError::Timeout)
        );
    });
}

// spec: CH-12
#[test]
fn tick_delivers_every_period_without_bursts() {
    watchdog(60, || {
        let period = 5 * MS;
        let start = Instant::now();
        let rx = tick(period);
        assert_eq!(rx.capacity(), Some(1));
        let first = rx.recv().unwrap();
        assert!(first >= start + period);
        let second = rx.recv().unwrap();
        assert!(second >= first + period);
        // A receiver that falls behind gets one tick, not a backlog.
        thread::sleep(4 * period);
        assert!(rx.try_recv().is_ok());
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        assert!(!rx.is_disconnected());
    });
}

// spec: CH-13
#[test]
fn never_delivers_nothing_and_never_disconnects() {
    let rx = never::<String>();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    let start = Instant::now();
    assert_eq!(rx.recv_timeout(10 * MS), Err(RecvTimeoutError::Timeout));
    assert!(start.elapsed() >= 10 * MS);
    assert_eq!(
        rx.recv_deadline(Instant::now()),
        Err(RecvTimeoutError::Timeout)
    );
    assert_eq!((rx.len(), rx.capacity()), (0, Some(0)));
    assert!(rx.same_channel(&never()) && rx.same_channel(&rx.clone()));
    assert!(!rx.is_disconnected() && !rx.close());
    assert_eq!(rx.try_iter().count(), 0);
}
