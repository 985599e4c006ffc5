//! `routines::lockfree::spsc`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use routines::lockfree::spsc::{chunks::ChunkError, PeekError, PopError, PushError, SpscQueue};
use routines_tests::{stress, watchdog, DropCounter};

// spec: LF-30
#[test]
fn capacity_n_holds_n_including_zero() {
    for cap in 0..6 {
        let (mut tx, mut rx) = SpscQueue::new(cap);
        for round in 0..3 {
            for i in 0..cap {
                assert_eq!(tx.push(i + round), Ok(()));
            }
            assert_eq!(tx.push(99), Err(PushError::Full(99)));
            assert!(tx.is_full() && tx.slots() == 0);
            assert_eq!(rx.slots(), cap);
            for i in 0..cap {
                assert_eq!(rx.peek(), Ok(&(i + round)));
                assert_eq!(rx.pop(), Ok(i + round));
            }
            assert_eq!(rx.pop(), Err(PopError::Empty));
            assert_eq!(rx.peek(), Err(PeekError::Empty));
        }
    }
}

// spec: LF-31, LF-20
#[test]
fn a_million_items_in_order() {
    let n = stress(1_000_000);
    watchdog(300, move || {
        let (mut tx, mut rx) = SpscQueue::new(64);
        let producer = std::thread::spawn(move || {
            for i in 0..n {
                let mut v = i;
                while let Err(PushError::Full(back)) = tx.push(v) {
                    v = back;
                    std::hint::spin_loop();
                }
            }
        });
        let mut next = 0;
        while next < n {
            match rx.pop() {
                Ok(v) => {
                    assert_eq!(v, next);
                    next += 1;
                }
                Err(PopError::Empty) => std::hint::spin_loop(),
            }
        }
        producer.join().unwrap();
        assert!(rx.is_abandoned());
    });
}

// spec: LF-31
#[test]
fn chunked_transfer_in_order() {
    let n = stress(200_000);
    watchdog(300, move || {
        let (mut tx, mut rx) = SpscQueue::new(100);
        let producer = std::thread::spawn(move || {
            let mut next = 0;
            while next < n {
                let want = tx.slots().min(n - next).min(7);
                if want == 0 {
                    std::thread::yield_now();
                    continue;
                }
                next += tx.write_chunk_uninit(want).unwrap().fill_from_iter(next..);
            }
        });
        let mut next = 0;
        while next < n {
            let available = rx.slots();
            if available == 0 {
                std::thread::yield_now();
                continue;
            }
            let chunk = rx.read_chunk(available).unwrap();
            let (a, b) = chunk.as_slices();
            for &v in a.iter().chain(b) {
                assert_eq!(v, next);
                next += 1;
            }
            chunk.commit_all();
        }
        producer.join().unwrap();
    });
}

// spec: LF-21
#[test]
fn dropping_a_non_empty_ring_drops_each_item_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (mut tx, mut rx) = SpscQueue::new(4);
    for round in 0..3 {
        tx.push(DropCounter::new(round, &drops)).unwrap();
        tx.push(DropCounter::new(round, &drops)).unwrap();
        drop(rx.pop().unwrap());
    }
    assert_eq!(drops.load(Ordering::SeqCst), 3);
    drop(tx);
    assert!(rx.is_abandoned());
    drop(rx);
    assert_eq!(drops.load(Ordering::SeqCst), 6);
}

// spec: LF-32
#[test]
fn chunk_errors_and_partial_commits() {
    let (mut tx, mut rx) = SpscQueue::<u32>::new(3);
    assert_eq!(tx.write_chunk(4).unwrap_err(), ChunkError::TooFewSlots(3));
    assert_eq!(rx.read_chunk(1).unwrap_err(), ChunkError::TooFewSlots(0));
    assert_eq!(
        ChunkError::TooFewSlots(0).to_string(),
        "only 0 slots available in ring buffer"
    );
    let mut chunk = tx.write_chunk(3).unwrap();
    chunk.as_mut_slices().0.copy_from_slice(&[1, 2, 3]);
    chunk.commit(2);
    assert_eq!(rx.slots(), 2);
    let chunk = rx.read_chunk(2).unwrap();
    assert_eq!(chunk.as_slices(), (&[1, 2][..], &[][..]));
    chunk.commit(1);
    assert_eq!(rx.pop(), Ok(2));
    // Wrapped chunk: two runs.
    tx.push_entire_slice(&[4, 5, 6]).unwrap();
    let chunk = rx.read_chunk(3).unwrap();
    let (a, b) = chunk.as_slices();
    assert_eq!([a, b].concat(), [4, 5, 6]);
    assert!(!b.is_empty(), "the ring wrapped");
    chunk.commit_all();
    assert!(rx.is_empty());
}

// spec: LF-32
#[test]
fn io_read_and_write_on_byte_rings() {
    use std::io::{ErrorKind, Read, Write};
    let (mut tx, mut rx) = SpscQueue::new(2);
    assert_eq!(tx.write(&[1, 2, 3]).unwrap(), 2);
    assert_eq!(tx.write(&[9]).unwrap_err().kind(), ErrorKind::WouldBlock);
    let mut buf = [0; 4];
    assert_eq!(rx.read(&mut buf).unwrap(), 2);
    assert_eq!(&buf[..2], &[1, 2]);
    assert_eq!(rx.read(&mut buf).unwrap_err().kind(), ErrorKind::WouldBlock);
}
