//! Lock-free hot paths allocate nothing (SegQueue block growth aside).

use std::sync::Arc;

use routines::lockfree::{Injector, InlineSlots, MpmcQueue, MpscQueue, SegQueue, Worker};
use routines_tests::{allocations_in, stress, watchdog, CountingAllocator};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

// spec: LF-5
#[test]
fn mpmc_push_pop_force_push_and_weak_calls_allocate_nothing() {
    let rounds = stress(10_000) as u64; // reading the environment allocates: not in the window
    let heap = MpmcQueue::new(8);
    let inline: MpmcQueue<u64, InlineSlots<u64, 8>> = MpmcQueue::new_inline();
    let n = allocations_in(|| {
        for i in 0..rounds {
            heap.push(i).unwrap();
            inline.push(i).unwrap();
            let _ = heap.force_push(i);
            assert!(heap.pop().is_some());
            assert!(inline.pop().is_some());
            inline.push_weak(i).unwrap();
            assert!(inline.pop_weak().is_some());
            assert!(inline.pop_weak().is_none());
        }
    });
    assert_eq!(n, 0);
    assert!(
        allocations_in(|| drop(MpmcQueue::<u64>::new(8))) == 1,
        "one allocation at construction"
    );
}

// spec: LF-5
#[test]
fn contended_mpmc_allocates_nothing() {
    let rounds = stress(20_000) as u64; // reading the environment allocates: not in the window
    watchdog(60, move || {
        let q = Arc::new(MpmcQueue::new(4));
        let hs: Vec<_> = (0..2)
            .map(|_| {
                let q = Arc::clone(&q);
                std::thread::spawn(move || {
                    allocations_in(|| {
                        for i in 0..rounds {
                            let _ = q.push(i);
                            let _ = q.pop();
                        }
                    })
                })
            })
            .collect();
        for h in hs {
            assert_eq!(h.join().unwrap(), 0);
        }
    });
}

/// A segmented queue: `new` allocates nothing, 630 pushes allocate about one block per 63 (the
/// first block, plus one spare linked each time a block fills), popping allocates nothing.
fn assert_block_allocations(
    new: impl Fn(),
    mut push: impl FnMut(u64),
    mut pop: impl FnMut() -> Option<u64>,
) {
    assert_eq!(allocations_in(new), 0);
    let pushes = allocations_in(|| (0..63 * 10).for_each(&mut push));
    assert!(
        (10..=11).contains(&pushes),
        "{pushes} allocations for 630 pushes"
    );
    assert_eq!(allocations_in(|| while pop().is_some() {}), 0);
}

// spec: LF-10
#[test]
fn seg_queue_allocates_one_block_per_63_pushes_and_pop_never() {
    let q = SegQueue::new();
    assert_block_allocations(|| drop(SegQueue::<u64>::new()), |i| q.push(i), || q.pop());
}

// spec: LF-50
#[test]
fn mpsc_allocates_one_block_per_63_pushes_and_pop_never() {
    let q = MpscQueue::new();
    let mut consumer = q.consumer().unwrap();
    assert_block_allocations(
        || drop(MpscQueue::<u64>::new()),
        |i| q.push(i),
        || consumer.pop(),
    );
}

// spec: LF-5, LF-30
#[test]
fn spsc_push_pop_and_chunks_allocate_nothing() {
    let (mut tx, mut rx) = routines::lockfree::spsc::SpscQueue::new(8);
    let rounds = stress(10_000);
    let n = allocations_in(|| {
        for i in 0..rounds {
            tx.push(i).unwrap();
            assert_eq!(rx.pop(), Ok(i));
            tx.write_chunk_uninit(3).unwrap().fill_from_iter(0..);
            rx.read_chunk(3).unwrap().commit_all();
        }
    });
    assert_eq!(n, 0);
}

// spec: LF-42
#[test]
fn treiber_steady_state_allocates_nothing() {
    let s = routines::lockfree::TreiberStack::new();
    for i in 0..100u64 {
        s.push(i); // grow the arena first
    }
    while s.pop().is_some() {}
    let rounds = stress(10_000) as u64;
    let n = allocations_in(|| {
        for i in 0..rounds {
            s.push(i);
            s.push(i);
            assert!(s.pop().is_some());
            assert!(s.pop().is_some());
        }
    });
    assert_eq!(n, 0);
}

// spec: LF-66
#[test]
fn deque_push_pop_steal_allocate_nothing_once_grown() {
    let rounds = stress(10_000) as u64;
    for w in [Worker::new_lifo(), Worker::new_fifo()] {
        let s = w.stealer();
        let dest = Worker::new_fifo();
        let n = allocations_in(|| {
            for i in 0..rounds {
                w.push(i);
                w.push(i);
                w.push(i);
                assert!(w.pop().is_some());
                assert!(s.steal().is_success());
                assert!(s.steal_batch_and_pop(&dest).is_success());
                while dest.pop().is_some() {}
                // A lone element: the LIFO owner takes it by CAS from the `top` side.
                w.push(i);
                assert!(w.pop().is_some());
            }
        });
        assert_eq!(n, 0);
    }
    assert_eq!(
        allocations_in(|| drop(Worker::<u64>::new_lifo())),
        3,
        "shared state, buffer header, slots"
    );
    // The injector allocates per 63 pushes (its SegQueue blocks), never per steal.
    let q = Injector::new();
    let dest = Worker::new_lifo();
    (0..62u64).for_each(|i| q.push(i));
    let n = allocations_in(|| {
        assert!(q.steal().is_success());
        assert!(q.steal_batch(&dest).is_success());
        assert!(q.steal_batch_and_pop(&dest).is_success());
    });
    assert_eq!(n, 0);
}
