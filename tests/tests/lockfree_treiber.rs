//! `routines::lockfree::TreiberStack`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use routines::lockfree::TreiberStack;
use routines_tests::{stress, watchdog, DropCounter};

// spec: LF-40
#[test]
fn lifo_order_and_node_reuse() {
    let s = TreiberStack::new();
    let n = if cfg!(miri) { 100 } else { 500 }; // crosses several arena segments either way
    for round in 0..3 {
        for i in 0..n {
            s.push(i + round);
        }
        for i in (0..n).rev() {
            assert_eq!(s.pop(), Some(i + round));
        }
        assert!(s.is_empty());
        assert_eq!(s.pop(), None);
    }
    assert!(format!("{s:?}").starts_with("TreiberStack"));
}

// spec: LF-41, LF-20
#[test]
fn four_threads_push_pop_pairs_conserve_the_count() {
    let pairs = stress(200_000);
    watchdog(300, move || {
        let s = Arc::new(TreiberStack::new());
        let drops = Arc::new(AtomicUsize::new(0));
        let seeded = 64;
        for i in 0..seeded {
            s.push(DropCounter::new(i, &drops));
        }
        let hs: Vec<_> = (0..4)
            .map(|t| {
                let (s, drops) = (Arc::clone(&s), Arc::clone(&drops));
                std::thread::spawn(move || {
                    for i in 0..pairs {
                        s.push(DropCounter::new(seeded + t * pairs + i, &drops));
                        let item = s.pop().expect("a push precedes every pop: never empty");
                        drop(item);
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        let mut left = Vec::new();
        while let Some(item) = s.pop() {
            left.push(item.value);
        }
        assert_eq!(left.len(), seeded, "count conserved");
        left.sort_unstable();
        left.dedup();
        assert_eq!(left.len(), seeded, "no value duplicated");
        drop(left);
        assert_eq!(drops.load(Ordering::SeqCst), seeded + 4 * pairs);
    });
}

// spec: LF-21
#[test]
fn dropping_a_non_empty_stack_drops_each_value_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let s = TreiberStack::new();
    let (n, popped) = if cfg!(miri) { (100, 30) } else { (1_000, 300) };
    for i in 0..n {
        s.push(DropCounter::new(i, &drops));
    }
    for _ in 0..popped {
        drop(s.pop());
    }
    assert_eq!(drops.load(Ordering::SeqCst), popped);
    drop(s);
    assert_eq!(drops.load(Ordering::SeqCst), n);
}
