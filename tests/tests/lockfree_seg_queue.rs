//! `routines::lockfree::SegQueue`.

use std::sync::atomic::{AtomicUsize, Ordering};
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
