//! `channel!`-generated channels behave as the generic ones (spec/macros.md).

use std::thread;
use std::time::Duration;

use routines::channel::{Receiver, Select, Sender};
use routines::{channel, select};
use routines_tests::{allocations_in, stress, watchdog, CountingAllocator};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

channel! {
    /// Work items.
    pub Jobs: u64, capacity = 8;
    Rendezvous: u64, capacity = rendezvous;
}

channel! {
    #[derive(Debug, PartialEq, Eq)]
    enum Command, capacity = 4 {
        Move { dx: i32, dy: i32 },
        Say(String, u8),
        Stop,
    }
}

channel! {
    static LINES: u64, capacity = 16;
    static CLOSED: u8, capacity = 1;
    static SMALL: u32, capacity = 3;
    static LARGE: u32, capacity = 1024;
}

// spec: MAC-1, MAC-2
#[test]
fn generated_handles_are_the_generic_ones() {
    watchdog(60, || {
        assert_eq!(Jobs::CAPACITY, Some(8));
        let (tx, rx) = Jobs::new();
        assert_eq!(tx.capacity(), Jobs::CAPACITY);
        thread::scope(|s| {
            s.spawn(|| (0..100).for_each(|i| tx.send(i).unwrap()));
            assert_eq!((&rx).into_iter().take(100).sum::<u64>(), 4950);
        });
        // select! and Select through deref
        tx.send(7).unwrap();
        select! {
            recv(rx) -> v => assert_eq!(v, Ok(7)),
            default => panic!("a message was waiting"),
        }
        let mut sel = Select::new();
        let i = sel.send(&*tx);
        let oper = sel.select();
        assert_eq!(oper.index(), i);
        oper.send(&tx, 8).unwrap();
        assert_eq!(rx.try_recv(), Ok(8));
        drop(sel);
        // into the generic handles
        let (tx, rx): (Sender<u64>, Receiver<u64>) = (tx.into(), rx.into());
        drop(tx);
        assert!(rx.recv().is_err());
        assert_eq!(Rendezvous::CAPACITY, Some(0));
        let (tx, rx) = Rendezvous::new();
        assert!(tx.send_timeout(1, Duration::from_millis(1)).is_err());
        drop(rx);
    });
}

// spec: MAC-3
#[test]
fn enum_senders_send_their_variant() {
    watchdog(60, || {
        let (tx, rx) = Command::channel();
        assert_eq!(Command::CAPACITY, Some(4));
        tx.r#move(1, -1).unwrap(); // `Move` is `r#move`: a keyword
        tx.say("hi".into(), 2).unwrap();
        tx.stop().unwrap();
        drop(tx);
        let got: Vec<Command> = rx.into_iter().collect();
        assert_eq!(
            got,
            [
                Command::Move { dx: 1, dy: -1 },
                Command::Say("hi".into(), 2),
                Command::Stop
            ]
        );
    });
}

// spec: MAC-4 (handles of static channels of one message type share one channel type; each
// keeps the capacity it was declared with)
#[test]
fn static_channels_of_one_type_keep_their_own_capacities() {
    watchdog(60, || {
        let small = (SMALL.sender(), SMALL.receiver(), 3u32);
        let large = (LARGE.sender(), LARGE.receiver(), 1024);
        for (tx, rx, cap) in [small, large] {
            assert_eq!(tx.capacity(), Some(cap as usize));
            // Two laps around the slots: full at exactly `cap`, FIFO, empty after.
            for lap in 0..2 {
                for i in 0..cap {
                    tx.try_send(lap * cap + i).unwrap();
                }
                assert!(tx.is_full());
                assert_eq!(tx.len(), cap as usize);
                assert_eq!(
                    tx.try_send(u32::MAX),
                    Err(routines::channel::TrySendError::Full(u32::MAX))
                );
                for i in 0..cap {
                    assert_eq!(rx.try_recv(), Ok(lap * cap + i));
                }
                assert!(rx.is_empty());
            }
            // A sender blocked on the full channel goes on when a receiver makes room.
            for i in 0..cap {
                tx.send(i).unwrap();
            }
            thread::scope(|s| {
                s.spawn(|| tx.send(cap).unwrap());
                thread::sleep(Duration::from_millis(20));
                assert_eq!(rx.recv(), Ok(0));
            });
            assert_eq!(rx.iter().take(cap as usize).last(), Some(cap));
            assert!(rx.is_empty());
        }
        assert!(!SMALL.sender().same_channel(&LARGE.sender()));
    });
}

// spec: MAC-4
#[test]
fn static_channels_allocate_nothing_and_close_only_explicitly() {
    let rounds = stress(10_000) as u64;
    watchdog(60, move || {
        let n = allocations_in(|| {
            for i in 0..rounds {
                LINES.sender().send(i).unwrap();
                assert_eq!(LINES.receiver().recv(), Ok(i));
            }
        });
        assert_eq!(n, 0, "static channel send/recv allocated");
        // Dropping every handle does not disconnect it...
        drop(CLOSED.sender());
        drop(CLOSED.receiver());
        CLOSED.sender().send(1).unwrap();
        assert_eq!(CLOSED.receiver().recv(), Ok(1));
        // ...close() does, for good.
        assert!(CLOSED.sender().close());
        assert!(CLOSED.sender().send(2).is_err());
        assert!(CLOSED.receiver().recv().is_err());
        assert!(LINES.sender().same_channel(&LINES.sender()));
        assert!(!LINES.sender().is_disconnected());
    });
}
