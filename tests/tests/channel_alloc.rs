//! Channel sends and receives allocate nothing on bounded channels (CH-8).

use std::time::Duration;

use routines::channel::{bounded, oneshot, unbounded};
use routines_tests::{allocations_in, stress, watchdog, CountingAllocator};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

// spec: CH-8
#[test]
fn bounded_send_recv_allocate_nothing() {
    let rounds = stress(10_000) as u64; // reading the environment allocates: not in the window
    let (tx, rx) = bounded(4);
    let n = allocations_in(|| {
        for i in 0..rounds {
            tx.send(i).unwrap();
            tx.try_send(i).unwrap();
            tx.send_timeout(i, Duration::from_secs(1)).unwrap();
            assert_eq!(rx.recv(), Ok(i));
            assert_eq!(rx.try_recv(), Ok(i));
            assert_eq!(rx.recv_timeout(Duration::from_secs(1)), Ok(i));
        }
        // Timeouts on a full and on an empty channel (the parking path) allocate nothing either.
        (0..4).for_each(|i| tx.send(i).unwrap());
        assert!(tx.send_timeout(9, Duration::from_millis(1)).is_err());
        while rx.try_recv().is_ok() {}
        assert!(rx.recv_timeout(Duration::from_millis(1)).is_err());
    });
    assert_eq!(n, 0);
}

// spec: CH-8, CH-14
#[test]
fn contended_bounded_channel_allocates_nothing() {
    let rounds = stress(20_000) as u64;
    watchdog(120, move || {
        // Capacity 1 and rendezvous: both sides park often. The counting allocator counts per thread, so each
        // side measures its own window (spawning the producer allocates, outside both).
        for cap in [1, 0] {
            let (tx, rx) = bounded(cap);
            std::thread::scope(|s| {
                let producer =
                    s.spawn(|| allocations_in(|| (0..rounds).for_each(|i| tx.send(i).unwrap())));
                let consumer = allocations_in(|| {
                    for i in 0..rounds {
                        assert_eq!(rx.recv(), Ok(i));
                    }
                });
                assert_eq!(
                    (producer.join().unwrap(), consumer),
                    (0, 0),
                    "capacity {cap}"
                );
            });
        }
    });
}

// spec: CH-8
#[test]
fn unbounded_allocates_one_block_per_63_sends() {
    let (tx, rx) = unbounded();
    let sends = allocations_in(|| (0..630u64).for_each(|i| tx.send(i).unwrap()));
    assert!(
        (10..=11).contains(&sends),
        "{sends} allocations for 630 sends"
    );
    assert_eq!(allocations_in(|| while rx.try_recv().is_ok() {}), 0);
}

// spec: CH-10
#[test]
fn oneshot_is_one_allocation() {
    let n = allocations_in(|| {
        let (tx, rx) = oneshot();
        tx.send(1u64).unwrap();
        assert_eq!(rx.recv(), Ok(1));
    });
    assert_eq!(n, 1);
}

// spec: SEL-7
#[test]
fn select_macro_allocates_nothing_once_warm() {
    let rounds = stress(5_000) as u64;
    watchdog(120, move || {
        for cap in [0, 1] {
            let (tx, rx) = bounded(cap);
            let (_tx2, rx2) = bounded::<u64>(cap);
            std::thread::scope(|s| {
                let producer = s.spawn(|| {
                    // Warm-up, late enough that the consumer has registered: its thread-local
                    // context and the channel's selector list get their memory now.
                    std::thread::sleep(Duration::from_millis(20));
                    tx.send(u64::MAX).unwrap();
                    allocations_in(|| (0..rounds).for_each(|i| tx.send(i).unwrap()))
                });
                let recv_one = || {
                    routines::select! {
                        recv(rx) -> v => v.unwrap(),
                        recv(rx2) -> _ => unreachable!(),
                    }
                };
                assert_eq!(recv_one(), u64::MAX);
                let consumer = allocations_in(|| {
                    for i in 0..rounds {
                        assert_eq!(recv_one(), i);
                    }
                });
                assert_eq!(
                    (producer.join().unwrap(), consumer),
                    (0, 0),
                    "capacity {cap}"
                );
            });
        }
    });
}
