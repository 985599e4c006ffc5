//! `routines::lockfree::MpmcQueue`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use routines::lockfree::{InlineSlots, MpmcQueue, Slot, ZeroCapacity};
use routines_tests::{assert_mpmc_delivery, panic_message, stress, watchdog, DropCounter};

// spec: LF-1
#[test]
fn capacity_is_exact_and_zero_is_refused() {
    for cap in [1, 2, 3, 5, 8, 100] {
        let q = MpmcQueue::new(cap);
        for i in 0..cap {
            assert_eq!(q.push(i), Ok(()), "cap {cap}");
        }
        assert_eq!(q.push(cap), Err(cap), "cap {cap} holds exactly {cap}");
        assert!(q.is_full());
        assert_eq!(q.len(), cap);
    }
    let err = std::panic::catch_unwind(|| MpmcQueue::<u8>::new(0)).unwrap_err();
    assert!(panic_message(&*err).contains("capacity must be non-zero"));
    assert_eq!(MpmcQueue::<u8>::try_new(0).unwrap_err(), ZeroCapacity);
    assert_eq!(
        ZeroCapacity.to_string(),
        "queue capacity must be at least 1"
    );
}

// spec: LF-1
#[test]
fn capacity_one_alternates_forever() {
    let q = MpmcQueue::new(1);
    for i in 0..stress(10_000) {
        q.push(i).unwrap();
        assert_eq!(q.push(i), Err(i));
        assert_eq!(q.pop(), Some(i));
        assert_eq!(q.pop(), None);
    }
}

// spec: LF-1
#[test]
fn capacity_one_across_threads() {
    let n = stress(100_000);
    watchdog(60, move || {
        let q = Arc::new(MpmcQueue::new(1));
        let producer = {
            let q = Arc::clone(&q);
            std::thread::spawn(move || {
                for i in 0..n {
                    let mut v = i;
                    while let Err(back) = q.push(v) {
                        v = back;
                        // A yield, not a spin: on one CPU the consumer runs only then.
                        std::thread::yield_now();
                    }
                }
            })
        };
        let mut next = 0;
        while next < n {
            if let Some(v) = q.pop() {
                assert_eq!(v, next);
                next += 1;
            } else {
                std::thread::yield_now();
            }
        }
        producer.join().unwrap();
    });
}

// spec: LF-2
#[test]
fn full_and_empty_return_at_once() {
    let q = MpmcQueue::new(2);
    assert_eq!(q.pop(), None::<String>);
    q.push("a".to_string()).unwrap();
    q.push("b".to_string()).unwrap();
    assert_eq!(q.push("c".to_string()), Err("c".to_string()));
}

// spec: LF-6
#[test]
fn weak_push_and_pop_match_the_exact_ones_when_nothing_is_in_flight() {
    let weak = MpmcQueue::new(2);
    let exact = MpmcQueue::new(2);
    for round in 0..5 {
        assert_eq!(weak.pop_weak(), exact.pop());
        assert_eq!(weak.push_weak(round), exact.push(round));
        assert_eq!(weak.push_weak(round + 10), exact.push(round + 10));
        assert_eq!(weak.push_weak(round + 20), exact.push(round + 20));
        assert_eq!(weak.push_weak(round + 20), Err(round + 20));
        assert_eq!(weak.pop_weak(), exact.pop());
    }
    assert_eq!(weak.into_iter().collect::<Vec<_>>(), [14]);
}

// spec: LF-6, LF-20
#[test]
fn weak_push_and_pop_lose_nothing() {
    let per = stress(20_000);
    watchdog(300, move || {
        for (cap, threads) in [(1, 2), (64, 4)] {
            let q = MpmcQueue::new(cap);
            assert_mpmc_delivery(
                threads,
                threads,
                per,
                |item| q.push_weak(item),
                || q.pop_weak(),
            );
        }
    });
}

// spec: LF-3
#[test]
fn force_push_replaces_the_oldest() {
    let q = MpmcQueue::new(3);
    for i in 0..3 {
        assert_eq!(q.force_push(i), None);
    }
    assert_eq!(q.force_push(3), Some(0));
    assert_eq!(q.force_push(4), Some(1));
    assert_eq!(q.into_iter().collect::<Vec<_>>(), [2, 3, 4]);
}

// spec: LF-4
#[test]
fn inline_static_and_borrowed_storage_behave_alike() {
    static Q: MpmcQueue<u32, InlineSlots<u32, 3>> = MpmcQueue::new_inline();
    let mut storage: Vec<Slot<u32>> = (0..3).map(|_| Slot::new()).collect();
    let borrowed = MpmcQueue::with_slots(&mut storage);
    let heap = MpmcQueue::new(3);
    for i in 0..3 {
        Q.push(i).unwrap();
        borrowed.push(i).unwrap();
        heap.push(i).unwrap();
    }
    assert_eq!(Q.push(9), Err(9));
    assert_eq!(borrowed.push(9), Err(9));
    assert_eq!(Q.force_push(3), Some(0));
    assert_eq!(borrowed.force_push(3), Some(0));
    assert_eq!(heap.force_push(3), Some(0));
    for expected in 1..4 {
        assert_eq!(Q.pop(), Some(expected));
        assert_eq!(borrowed.pop(), Some(expected));
        assert_eq!(heap.pop(), Some(expected));
    }
    assert!(Q.is_empty() && borrowed.is_empty() && heap.is_empty());
    drop(borrowed);
    // The storage can be reused by a new queue.
    let again = MpmcQueue::with_slots(&mut storage);
    again.push(7).unwrap();
    assert_eq!(again.pop(), Some(7));
}

fn stress_mpmc(q: MpmcQueue<DropCounter>, producers: usize, consumers: usize, per: usize) {
    assert_mpmc_delivery(producers, consumers, per, |item| q.push(item), || q.pop());
}

// spec: LF-20
#[test]
fn four_producers_four_consumers_nothing_lost_or_duplicated() {
    let per = stress(100_000);
    watchdog(300, move || stress_mpmc(MpmcQueue::new(64), 4, 4, per));
}

// spec: LF-20, LF-1
#[test]
fn stress_at_capacity_one() {
    let per = stress(20_000);
    watchdog(300, move || stress_mpmc(MpmcQueue::new(1), 2, 2, per));
}

// spec: LF-21
#[test]
fn dropping_a_non_empty_queue_drops_each_element_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let q = MpmcQueue::new(5);
    for i in 0..4 {
        q.push(DropCounter::new(i, &drops)).unwrap();
    }
    drop(q.pop());
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    drop(q);
    assert_eq!(drops.load(Ordering::SeqCst), 4);
    // Wrapped-around queue.
    let q = MpmcQueue::new(3);
    for i in 0..7 {
        drop(q.force_push(DropCounter::new(i, &drops)));
    }
    drop(q);
    assert_eq!(drops.load(Ordering::SeqCst), 4 + 7);
}

// spec: LF-22, LF-23
#[test]
fn snapshots_and_iteration() {
    let q = MpmcQueue::new(4);
    assert!(q.is_empty() && !q.is_full());
    assert_eq!(q.len(), 0);
    for round in 0..10 {
        q.push(round).unwrap();
        q.push(round + 100).unwrap();
        assert_eq!(q.len(), 2);
        q.pop().unwrap();
        assert_eq!(q.len(), 1);
        q.pop().unwrap();
    }
    q.push(1).unwrap();
    q.push(2).unwrap();
    let mut it = q.into_iter();
    assert_eq!(it.len(), 2);
    assert_eq!(it.next(), Some(1));
    assert_eq!(it.next(), Some(2));
    assert_eq!(it.next(), None);
    assert_eq!(
        format!("{:?}", MpmcQueue::<u8>::new(2)),
        "MpmcQueue { len: 0, capacity: 2 }"
    );
}
