//! `routines::channel`: bounded and unbounded channels (crossbeam-channel semantics).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use routines::channel::{
    bounded, unbounded, Receiver, RecvError, RecvTimeoutError, SendError, SendTimeoutError, Sender,
    TryRecvError, TrySendError,
};
use routines_tests::{assert_mpmc_delivery, stress, watchdog, DropCounter};

/// The buffered flavors, with a name for messages: bounded(1), bounded(4), unbounded.
fn flavors<T>() -> Vec<(&'static str, Sender<T>, Receiver<T>)> {
    let (a, b) = bounded(1);
    let (c, d) = bounded(4);
    let (e, f) = unbounded();
    vec![
        ("bounded(1)", a, b),
        ("bounded(4)", c, d),
        ("unbounded", e, f),
    ]
}

/// Every flavor, the rendezvous one included.
fn all_flavors<T>() -> Vec<(&'static str, Sender<T>, Receiver<T>)> {
    let (z, w) = bounded(0);
    let mut all = flavors();
    all.push(("bounded(0)", z, w));
    all
}

// spec: CH-1
#[test]
fn capacity_is_exact_and_unbounded_never_fills() {
    let (tx, rx) = bounded(3);
    for i in 0..3 {
        tx.try_send(i).unwrap();
    }
    assert_eq!(tx.try_send(3), Err(TrySendError::Full(3)));
    assert!(tx.is_full() && rx.is_full());
    assert_eq!((tx.capacity(), rx.len()), (Some(3), 3));
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), [0, 1, 2]);
    let (tx, rx) = unbounded();
    let many = stress(10_000);
    for i in 0..many {
        tx.try_send(i).unwrap();
    }
    assert!(!tx.is_full());
    assert_eq!((rx.capacity(), rx.len()), (None, many));
    let (tx, rx) = bounded::<u8>(0);
    assert_eq!((tx.capacity(), rx.len()), (Some(0), 0));
    assert!(tx.is_full() && rx.is_empty(), "nothing is ever buffered");
}

// spec: CH-2
#[test]
fn send_errors_hand_the_value_back_and_timeouts_expire() {
    let (tx, rx) = bounded(1);
    tx.send(1).unwrap();
    let start = Instant::now();
    assert_eq!(
        tx.send_timeout(2, Duration::from_millis(20)),
        Err(SendTimeoutError::Timeout(2))
    );
    assert!(start.elapsed() >= Duration::from_millis(20));
    assert_eq!(
        tx.send_deadline(3, Instant::now()),
        Err(SendTimeoutError::Timeout(3))
    );
    assert_eq!(rx.recv_timeout(Duration::MAX), Ok(1));
    assert_eq!(
        rx.recv_timeout(Duration::from_millis(20)),
        Err(RecvTimeoutError::Timeout)
    );
    assert_eq!(
        rx.recv_deadline(Instant::now()),
        Err(RecvTimeoutError::Timeout)
    );
    drop(rx);
    assert_eq!(tx.send(4), Err(SendError(4)));
    assert_eq!(tx.try_send(5), Err(TrySendError::Disconnected(5)));
    assert_eq!(
        tx.send_timeout(6, Duration::MAX),
        Err(SendTimeoutError::Disconnected(6))
    );
}

// spec: CH-2, CH-3
#[test]
fn duration_max_waits_and_a_blocked_party_is_woken() {
    watchdog(60, || {
        for (name, tx, rx) in flavors::<u32>() {
            // A receiver parked with Duration::MAX gets a message sent later.
            thread::scope(|s| {
                let waiter = s.spawn(|| rx.recv_timeout(Duration::MAX));
                thread::sleep(Duration::from_millis(20));
                tx.send(7).unwrap();
                assert_eq!(waiter.join().unwrap(), Ok(7), "{name}");
            });
        }
        // A sender parked on a full channel is woken by a receive.
        let (tx, rx) = bounded(1);
        tx.send(1).unwrap();
        thread::scope(|s| {
            let waiter = s.spawn(|| tx.send_timeout(2, Duration::MAX));
            thread::sleep(Duration::from_millis(20));
            assert_eq!(rx.recv(), Ok(1));
            assert_eq!(waiter.join().unwrap(), Ok(()));
            assert_eq!(rx.recv(), Ok(2));
        });
    });
}

// spec: CH-4
#[test]
fn dropping_every_receiver_fails_sends_and_wakes_parked_senders() {
    watchdog(60, || {
        let (tx, rx) = bounded(1);
        tx.send(1).unwrap();
        let rx2 = rx.clone();
        thread::scope(|s| {
            let parked = s.spawn(|| tx.send(2));
            thread::sleep(Duration::from_millis(20));
            drop(rx);
            assert!(!tx.is_disconnected(), "one receiver left");
            drop(rx2);
            assert_eq!(parked.join().unwrap(), Err(SendError(2)));
        });
        assert!(tx.is_disconnected());
    });
}

// spec: CH-4
#[test]
fn dropping_every_sender_drains_then_disconnects_and_wakes_receivers() {
    watchdog(60, || {
        for (name, tx, rx) in flavors::<u32>() {
            tx.send(1).unwrap();
            let tx2 = tx.clone();
            drop(tx);
            drop(tx2);
            assert_eq!(rx.try_recv(), Ok(1), "{name}: buffered messages first");
            assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
            assert_eq!(rx.recv(), Err(RecvError));
        }
        let (tx, rx) = unbounded::<u8>();
        thread::scope(|s| {
            let parked = s.spawn(|| rx.recv());
            thread::sleep(Duration::from_millis(20));
            drop(tx);
            assert_eq!(parked.join().unwrap(), Err(RecvError));
        });
    });
}

// spec: CH-4
#[test]
fn a_panicking_sender_thread_disconnects_cleanly() {
    watchdog(60, || {
        let (tx, rx) = unbounded();
        let t = thread::spawn(move || {
            tx.send(1).unwrap();
            panic!("worker failed");
        });
        assert!(t.join().is_err());
        assert_eq!(rx.recv(), Ok(1));
        assert_eq!(rx.recv(), Err(RecvError));
    });
}

// spec: CH-5
#[test]
fn close_wakes_everybody_and_keeps_buffered_messages() {
    watchdog(60, || {
        for (name, tx, rx) in flavors::<u32>() {
            tx.send(1).unwrap();
            let receivers_done = thread::scope(|s| {
                let (rx2, tx2) = (rx.clone(), tx.clone());
                let waiter = s.spawn(move || {
                    // Drain the buffered message, then park until the close.
                    let first = rx2.recv();
                    (first, rx2.recv())
                });
                thread::sleep(Duration::from_millis(20));
                assert!(tx2.close(), "{name}: the first close closes");
                assert!(!rx.close(), "{name}: the second does not");
                waiter.join().unwrap()
            });
            assert_eq!(receivers_done, (Ok(1), Err(RecvError)), "{name}");
            assert!(tx.is_disconnected() && rx.is_disconnected());
            assert_eq!(tx.send(2), Err(SendError(2)));
        }
        // Buffered messages survive a close.
        let (tx, rx) = bounded(2);
        tx.send('a').unwrap();
        rx.close();
        assert_eq!(rx.try_recv(), Ok('a'));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    });
}

// spec: CH-6, CH-3, CH-14
#[test]
fn four_senders_four_receivers_exactly_once_per_sender_order() {
    let per = stress(50_000);
    watchdog(300, move || {
        for (name, tx, rx) in all_flavors() {
            // Blocking sends and receives (a timeout keeps the checker's loop going).
            assert_mpmc_delivery(
                4,
                4,
                per,
                |item| tx.send(item).map_err(|e| panic!("{name}: {e}")),
                || rx.recv_timeout(Duration::from_millis(1)).ok(),
            );
        }
    });
}

// spec: CH-15, CH-6
/// The weak attempts of the spin before a wait, at the capacity where they matter most: a
/// spurious "full" or "empty" must never lose, duplicate or strand a message. (That the
/// wait's own attempt is exact, so a spurious verdict cannot decide a park or a timeout, is
/// checked on a buffer whose weak attempts always fail: `chan.rs`'s unit tests.)
#[test]
fn weak_attempts_before_a_wait_lose_nothing_at_capacity_one() {
    let per = stress(20_000);
    watchdog(300, move || {
        let (tx, rx) = bounded(1);
        assert_mpmc_delivery(
            2,
            2,
            per,
            |item| tx.send(item).map_err(|e| panic!("{e}")),
            || rx.recv_timeout(Duration::from_millis(1)).ok(),
        );
        // Ping-pong: each side waits on an empty channel for every message.
        let (ping_tx, ping_rx) = bounded(1);
        let (pong_tx, pong_rx) = bounded(1);
        let rounds = per;
        let echo = thread::spawn(move || {
            for v in ping_rx.iter() {
                pong_tx.send(v + 1).unwrap();
            }
        });
        for i in 0..rounds {
            ping_tx.send(i).unwrap();
            assert_eq!(pong_rx.recv(), Ok(i + 1));
        }
        drop(ping_tx);
        echo.join().unwrap();
    });
}

// spec: CH-6
#[test]
fn messages_left_in_a_dropped_channel_are_dropped_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    for (name, tx, rx) in flavors() {
        drops.store(0, Ordering::SeqCst);
        let sent = tx.capacity().unwrap_or(100);
        for i in 0..sent {
            tx.send(DropCounter::new(i, &drops)).unwrap();
        }
        drop(rx.recv().unwrap());
        drop(tx);
        assert_eq!(drops.load(Ordering::SeqCst), 1, "{name}");
        drop(rx);
        assert_eq!(drops.load(Ordering::SeqCst), sent, "{name}");
    }
}

// spec: CH-7
#[test]
fn handles_iterators_and_snapshots() {
    let (tx, rx) = unbounded();
    assert!(tx.same_channel(&tx.clone()) && rx.same_channel(&rx.clone()));
    let (other, _) = bounded::<i32>(1);
    assert!(!tx.same_channel(&other));
    assert!(tx.is_empty() && rx.is_empty());
    (1..=3).for_each(|i| tx.send(i).unwrap());
    assert_eq!(rx.try_iter().take(1).collect::<Vec<_>>(), [1]);
    assert_eq!((&rx).into_iter().take(1).collect::<Vec<_>>(), [2]);
    drop(tx);
    assert_eq!(rx.into_iter().collect::<Vec<_>>(), [3]);
    let (tx, rx) = bounded::<u8>(1);
    assert_eq!(
        format!("{tx:?} {rx:?} {:?}", rx.iter()),
        "Sender { .. } Receiver { .. } Iter { .. }"
    );
    assert_eq!(format!("{:?}", rx.try_iter()), "TryIter { .. }");
    assert_eq!(format!("{:?}", rx.into_iter()), "IntoIter { .. }");
}

// spec: CH-9
#[test]
fn errors_match_crossbeam() {
    struct Opaque;
    assert_eq!(format!("{:?}", SendError(Opaque)), "SendError { .. }");
    assert_eq!(format!("{:?}", TrySendError::Full(Opaque)), "Full(..)");
    assert_eq!(
        format!("{:?}", SendTimeoutError::Timeout(Opaque)),
        "Timeout(..)"
    );
    assert_eq!(
        SendError(1).to_string(),
        "sending on a disconnected channel"
    );
    assert_eq!(
        TrySendError::Full(1).to_string(),
        "sending on a full channel"
    );
    assert_eq!(
        TrySendError::Disconnected(1).to_string(),
        "sending on a disconnected channel"
    );
    assert_eq!(
        SendTimeoutError::Timeout(1).to_string(),
        "timed out waiting on send operation"
    );
    assert_eq!(
        RecvError.to_string(),
        "receiving on an empty and disconnected channel"
    );
    assert_eq!(
        TryRecvError::Empty.to_string(),
        "receiving on an empty channel"
    );
    assert_eq!(
        RecvTimeoutError::Timeout.to_string(),
        "timed out waiting on receive operation"
    );
    assert_eq!(
        TrySendError::from(SendError(3)),
        TrySendError::Disconnected(3)
    );
    assert_eq!(
        SendTimeoutError::from(SendError(3)),
        SendTimeoutError::Disconnected(3)
    );
    assert_eq!(TryRecvError::from(RecvError), TryRecvError::Disconnected);
    assert_eq!(
        RecvTimeoutError::from(RecvError),
        RecvTimeoutError::Disconnected
    );
    assert!(TrySendError::Full(1).is_full() && TrySendError::Disconnected(1).is_disconnected());
    assert_eq!(SendTimeoutError::Timeout(9).into_inner(), 9);
    assert!(TryRecvError::Empty.is_empty() && RecvTimeoutError::Timeout.is_timeout());
    let boxed: Box<dyn std::error::Error> = Box::new(SendError(1));
    assert_eq!(boxed.to_string(), "sending on a disconnected channel");
}

// spec: CH-8, LF-68
#[test]
fn an_unbounded_receiver_shared_by_reference_hands_over_mid_stream() {
    // One thread receives alone (blocking, so it also parks), then a second thread starts
    // receiving through the same `&Receiver` (no clone): it takes the sole receiver's mode
    // away while the first may be inside a receive or parked. Half the messages are sent
    // up front, so the first receiver starts far behind the tail, where it claims by plain
    // stores. Every message arrives once.
    let rounds = stress(100);
    watchdog(300, move || {
        let total = if cfg!(miri) { 100 } else { 3_000 };
        for round in 0..rounds {
            let (tx, rx) = unbounded();
            let drops = Arc::new(AtomicUsize::new(0));
            let seen: Vec<AtomicUsize> = (0..total).map(|_| AtomicUsize::new(0)).collect();
            let received = AtomicUsize::new(0);
            let join_at = round * 37 % total;
            let receive = |wait_for: usize| {
                while received.load(Ordering::SeqCst) < wait_for {
                    thread::yield_now();
                }
                while let Ok(item) = rx.recv() {
                    let item: DropCounter = item;
                    seen[item.value].fetch_add(1, Ordering::SeqCst);
                    received.fetch_add(1, Ordering::SeqCst);
                }
            };
            let receive = &receive;
            for i in 0..total / 2 {
                tx.send(DropCounter::new(i, &drops)).unwrap();
            }
            thread::scope(|s| {
                s.spawn(move || receive(0));
                s.spawn(move || receive(join_at));
                for i in total / 2..total {
                    tx.send(DropCounter::new(i, &drops)).unwrap();
                    if i % 97 == 0 {
                        thread::yield_now(); // let the receivers catch up and park
                    }
                }
                drop(tx);
            });
            for (i, count) in seen.iter().enumerate() {
                assert_eq!(
                    count.load(Ordering::SeqCst),
                    1,
                    "round {round}: message {i}"
                );
            }
            assert_eq!(drops.load(Ordering::SeqCst), total, "round {round}");
        }
    });
}

/// Pins the calling thread to `cpu`.
#[cfg(all(target_os = "linux", not(miri)))]
fn pin_to(cpu: usize) {
    // SAFETY: `cpu_set_t` is plain data (all zero is the empty set), passed with its size;
    // `CPU_SET` writes inside it; the mask is the calling thread's (pid 0).
    unsafe {
        let mut one: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut one);
        let size = std::mem::size_of::<libc::cpu_set_t>();
        assert_eq!(libc::sched_setaffinity(0, size, &one), 0);
    }
}

/// The CPUs the process may run on.
#[cfg(all(target_os = "linux", not(miri)))]
fn allowed_cpus() -> Vec<usize> {
    // SAFETY: plain data passed with its size; `CPU_ISSET` reads inside it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        let size = std::mem::size_of::<libc::cpu_set_t>();
        assert_eq!(libc::sched_getaffinity(0, size, &mut set), 0);
        (0..libc::CPU_SETSIZE as usize)
            .filter(|&cpu| libc::CPU_ISSET(cpu, &set))
            .collect()
    }
}

// spec: CH-3
#[cfg(all(target_os = "linux", not(miri)))]
#[test]
fn a_sender_and_a_receiver_on_one_cpu_yield_to_each_other() {
    // Both threads pinned to one CPU, where a spin only delays the thread it waits for and
    // the waiters yield to each other instead (CH-3); then, with two CPUs, the sender moves
    // to the other one mid-stream and the hint that it runs beside the receiver goes stale.
    // Ping-pong and a stream over `bounded(0)`, `bounded(1)` and `unbounded()`: every
    // message arrives once, in order, and is dropped once.
    let rounds = stress(4);
    watchdog(300, move || {
        let cpus = allowed_cpus();
        let total = 20_000;
        for round in 0..rounds {
            for capacity in [Some(0), Some(1), None] {
                let channel = || match capacity {
                    Some(cap) => bounded::<DropCounter>(cap),
                    None => unbounded::<DropCounter>(),
                };
                let drops = Arc::new(AtomicUsize::new(0));
                let ((ping_tx, ping_rx), (pong_tx, pong_rx)) = (channel(), channel());
                let (tx, rx) = channel();
                let moves_at = if cpus.len() > 1 { total / 2 } else { total };
                thread::scope(|s| {
                    s.spawn(|| {
                        pin_to(cpus[0]);
                        for i in 0..total {
                            let item = ping_rx.recv().unwrap();
                            assert_eq!(item.value, i, "round {round}: ping {i}");
                            pong_tx.send(item).unwrap();
                        }
                        for i in 0..total {
                            let item = rx.recv().unwrap();
                            assert_eq!(item.value, total + i, "round {round}: message {i}");
                        }
                    });
                    s.spawn(|| {
                        pin_to(cpus[0]);
                        for i in 0..total {
                            if i == moves_at {
                                pin_to(cpus[1]);
                            }
                            ping_tx.send(DropCounter::new(i, &drops)).unwrap();
                            let item = pong_rx.recv().unwrap();
                            assert_eq!(item.value, i, "round {round}: pong {i}");
                        }
                        pin_to(cpus[0]);
                        for i in 0..total {
                            if i == moves_at {
                                pin_to(cpus[1]);
                            }
                            tx.send(DropCounter::new(total + i, &drops)).unwrap();
                        }
                    });
                });
                assert_eq!(drops.load(Ordering::SeqCst), 2 * total, "round {round}");
            }
        }
    });
}
