//! `routines::lockfree::MpscQueue`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use routines::lockfree::MpscQueue;
use routines_tests::{assert_mpmc_delivery, stress, watchdog, DropCounter};

// spec: LF-50, LF-23
#[test]
fn unbounded_fifo_across_many_blocks() {
    static EMPTY: MpscQueue<u8> = MpscQueue::new();
    assert!(EMPTY.is_empty());
    let mut q = MpscQueue::new();
    for i in 0..1_000 {
        q.push(i);
        assert_eq!(q.len(), i + 1);
    }
    for i in 0..500 {
        assert_eq!(q.pop(), Some(i));
    }
    assert_eq!(q.len(), 500);
    assert_eq!(
        q.into_iter().collect::<Vec<_>>(),
        (500..1_000).collect::<Vec<_>>()
    );
}

// spec: LF-22, LF-50
#[test]
fn len_is_exact_at_every_block_boundary() {
    let mut q = MpscQueue::new();
    for round in 0..3 {
        for n in 0..200 {
            assert_eq!(q.len(), n, "round {round}");
            assert_eq!(q.is_empty(), n == 0);
            q.push(n);
        }
        for n in (0..200).rev() {
            q.pop().unwrap();
            assert_eq!(q.len(), n);
        }
        assert_eq!(q.pop(), None);
    }
}

// spec: LF-51
#[test]
fn one_consumer_handle_at_a_time() {
    let q = MpscQueue::new();
    q.push(1);
    let mut c = q.consumer().expect("first consumer");
    assert!(q.consumer().is_none(), "a second consumer while one exists");
    assert_eq!(c.pop(), Some(1));
    assert_eq!(c.pop(), None);
    assert!(std::ptr::eq(c.queue(), &q));
    assert_eq!(format!("{c:?}"), "MpscConsumer { len: 0 }");
    drop(c);
    q.push(2);
    // The next consumer continues where the last one stopped.
    assert_eq!(q.consumer().expect("released").pop(), Some(2));
    assert_eq!(format!("{q:?}"), "MpscQueue { len: 0 }");
}

// spec: LF-51
#[test]
fn consumer_handle_moves_between_threads() {
    let q = MpscQueue::new();
    for i in 0..100 {
        q.push(i);
    }
    let mut c = q.consumer().unwrap();
    let first: Vec<_> = std::thread::scope(|s| {
        s.spawn(|| (0..50).map(|_| c.pop().unwrap()).collect())
            .join()
            .unwrap()
    });
    assert_eq!(first, (0..50).collect::<Vec<_>>());
    assert_eq!(c.pop(), Some(50));
}

// spec: LF-52, LF-11
#[test]
fn four_producers_one_consumer_nothing_lost_or_duplicated() {
    let per = stress(100_000);
    watchdog(300, move || {
        let q = MpscQueue::new();
        assert_mpmc_delivery(
            4,
            1,
            per,
            |item| {
                q.push(item);
                Ok(())
            },
            || {
                // SAFETY: one consumer thread pops; the final emptiness check runs after it
                // has been joined.
                unsafe { q.pop_unchecked() }
            },
        );
        assert!(q.is_empty());
    });
}

// spec: LF-52
#[test]
fn a_completed_push_is_seen_even_behind_an_unfinished_one() {
    // Each round: producer A pushes, then tells the consumer, which must find A's item (or an
    // earlier one) at once: `pop` may not answer `None` while a completed push is queued.
    let rounds = stress(20_000);
    watchdog(120, move || {
        let q = MpscQueue::new();
        let told = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    for i in 0..rounds {
                        q.push(i);
                        told.fetch_add(1, Ordering::Release);
                    }
                });
            }
            let mut c = q.consumer().unwrap();
            let mut taken = 0;
            while taken < 2 * rounds {
                if told.load(Ordering::Acquire) > taken {
                    assert!(c.pop().is_some(), "a completed push was not visible");
                    taken += 1;
                } else {
                    std::thread::yield_now();
                }
            }
            assert_eq!(c.pop(), None);
        });
    });
}

// spec: LF-21, LF-11
#[test]
fn dropping_a_non_empty_queue_drops_each_element_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    for (pushed, popped) in [
        (0, 0),
        (1, 0),
        (63, 0),
        (63, 62),
        (63, 63),
        (64, 5),
        (200, 126),
        (126, 126),
    ] {
        drops.store(0, Ordering::SeqCst);
        let mut q = MpscQueue::new();
        for i in 0..pushed {
            q.push(DropCounter::new(i, &drops));
        }
        for _ in 0..popped {
            drop(q.pop().unwrap());
        }
        drop(q);
        assert_eq!(
            drops.load(Ordering::SeqCst),
            pushed,
            "{pushed} pushed, {popped} popped"
        );
    }
}
