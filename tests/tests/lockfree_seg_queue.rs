//! `routines::lockfree::SegQueue`.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use routines::lockfree::SegQueue;
use routines_tests::{assert_mpmc_delivery, stress, watchdog, DropCounter};

// spec: LF-10, LF-23
#[test]
fn unbounded_fifo_across_many_blocks() {
    static EMPTY: SegQueue<u8> = SegQueue::new();
    assert!(EMPTY.is_empty());
    let q = SegQueue::new();
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

// spec: LF-22
#[test]
fn len_is_exact_at_every_block_boundary() {
    let q = SegQueue::new();
    for n in 0..200 {
        assert_eq!(q.len(), n);
        assert_eq!(q.is_empty(), n == 0);
        q.push(n);
    }
    for n in (0..200).rev() {
        q.pop().unwrap();
        assert_eq!(q.len(), n);
    }
    assert_eq!(q.pop(), None);
}

// spec: LF-20, LF-11
#[test]
fn four_producers_four_consumers_nothing_lost_or_duplicated() {
    let per = stress(100_000);
    watchdog(300, move || {
        let q = SegQueue::new();
        assert_mpmc_delivery(
            4,
            4,
            per,
            |item| {
                q.push(item);
                Ok(())
            },
            || q.pop(),
        );
        assert!(q.is_empty());
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
        (63, 63),
        (64, 5),
        (200, 126),
        (126, 126),
    ] {
        drops.store(0, Ordering::SeqCst);
        let q = SegQueue::new();
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

// spec: LF-10
#[test]
fn push_mut_and_pop_mut() {
    let mut q = SegQueue::new();
    q.push_mut(1);
    q.push_mut(2);
    assert_eq!(q.pop_mut(), Some(1));
    assert_eq!(format!("{q:?}"), "SegQueue { len: 1 }");
}

// spec: LF-68
#[test]
fn a_second_consumer_joining_a_sole_one_mid_stream_loses_and_duplicates_nothing() {
    // One thread pops alone (the sole consumer, claiming by plain stores while far behind
    // the tail) while a producer pushes; a second thread starts popping at a different
    // point of each round, so the revocation lands while the first is between pops, inside
    // one, or at a block switch.
    let rounds = stress(300);
    watchdog(300, move || {
        const TOTAL: usize = if cfg!(miri) { 200 } else { 3_000 };
        for round in 0..rounds {
            let join_at = round * 61 % TOTAL;
            let q = Arc::new(SegQueue::<DropCounter>::new());
            let drops = Arc::new(AtomicUsize::new(0));
            let taken = Arc::new(AtomicUsize::new(0));
            let seen: Arc<Vec<AtomicUsize>> =
                Arc::new((0..TOTAL).map(|_| AtomicUsize::new(0)).collect());
            let pushed = Arc::new(AtomicBool::new(false));
            // Pops until the producer is done and the queue is empty (a lost value shows in
            // `seen`, not as a hang).
            let consumer = |wait_for: usize| {
                let (q, taken, seen, pushed) = (
                    Arc::clone(&q),
                    Arc::clone(&taken),
                    Arc::clone(&seen),
                    Arc::clone(&pushed),
                );
                std::thread::spawn(move || {
                    while taken.load(Ordering::SeqCst) < wait_for && !pushed.load(Ordering::SeqCst)
                    {
                        std::hint::spin_loop();
                    }
                    loop {
                        let done = pushed.load(Ordering::SeqCst);
                        match q.pop() {
                            Some(item) => {
                                seen[item.value].fetch_add(1, Ordering::SeqCst);
                                taken.fetch_add(1, Ordering::SeqCst);
                            }
                            None if done => break,
                            None => {}
                        }
                    }
                })
            };
            // Half the values queued up front: the first consumer starts far behind the
            // tail, where the sole consumer claims by plain stores.
            for i in 0..TOTAL / 2 {
                q.push(DropCounter::new(i, &drops));
            }
            let first = consumer(0);
            let second = consumer(join_at);
            for i in TOTAL / 2..TOTAL {
                q.push(DropCounter::new(i, &drops));
            }
            pushed.store(true, Ordering::SeqCst);
            first.join().unwrap();
            second.join().unwrap();
            for (i, count) in seen.iter().enumerate() {
                assert_eq!(count.load(Ordering::SeqCst), 1, "round {round}: value {i}");
            }
            assert_eq!(q.pop().map(|item| item.value), None);
            assert_eq!(drops.load(Ordering::SeqCst), TOTAL, "round {round}");
        }
    });
}
