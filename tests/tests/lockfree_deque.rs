//! `routines::lockfree::{Worker, Stealer, Injector, Steal}`: the work-stealing deque.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use routines::lockfree::{Injector, Steal, Stealer, Worker};
use routines_tests::{panic_message, stress, watchdog, DropCounter};

fn drain_steals<T>(s: &Stealer<T>) -> Vec<T> {
    let mut out = Vec::new();
    loop {
        match s.steal() {
            Steal::Success(v) => out.push(v),
            Steal::Empty => return out,
            Steal::Retry => {}
        }
    }
}

// spec: LF-60
#[test]
fn owner_ends_and_thief_end() {
    let lifo = Worker::new_lifo();
    let fifo = Worker::new_fifo();
    for i in 0..5 {
        lifo.push(i);
        fifo.push(i);
    }
    assert_eq!(lifo.pop(), Some(4));
    assert_eq!(fifo.pop(), Some(0));
    assert_eq!(lifo.stealer().steal(), Steal::Success(0));
    assert_eq!(fifo.stealer().steal(), Steal::Success(1));
    assert_eq!(lifo.len(), 3);
    assert_eq!(fifo.stealer().len(), 3);
    assert_eq!(
        std::iter::from_fn(|| lifo.pop()).collect::<Vec<_>>(),
        [3, 2, 1]
    );
    assert_eq!(
        std::iter::from_fn(|| fifo.pop()).collect::<Vec<_>>(),
        [2, 3, 4]
    );
    assert!(lifo.is_empty() && fifo.stealer().is_empty());
    assert_eq!(lifo.stealer().steal(), Steal::Empty);
    assert_eq!(fifo.pop(), None);
}

// spec: LF-61
#[test]
fn the_buffer_grows_and_keeps_order() {
    for w in [Worker::new_lifo(), Worker::new_fifo()] {
        let s = w.stealer();
        for i in 0..1_000 {
            w.push(i);
            if i % 3 == 0 {
                // Move `top` along so that pushes wrap around the ring before it grows.
                assert!(s.steal().is_success());
            }
        }
        let mut rest = drain_steals(&s);
        assert_eq!(rest.len(), 1_000 - 334);
        assert!(rest.windows(2).all(|p| p[0] < p[1]), "steals oldest first");
        rest.clear();
        assert!(w.is_empty());
    }
}

// spec: LF-62
#[test]
fn batch_steals_come_out_in_the_source_order() {
    // (source LIFO?, destination LIFO?) -> what the destination pops, and what and_pop returns.
    for (src_lifo, dst_lifo) in [(false, false), (false, true), (true, false), (true, true)] {
        let make = |lifo: bool| {
            if lifo {
                Worker::new_lifo()
            } else {
                Worker::new_fifo()
            }
        };
        let src = make(src_lifo);
        (1..=4).for_each(|i| src.push(i));
        let dst = make(dst_lifo);
        assert_eq!(src.stealer().steal_batch(&dst), Steal::Success(()));
        let got: Vec<_> = std::iter::from_fn(|| dst.pop()).collect();
        // A FIFO source would pop 1, 2 first; a LIFO source's batch pops newest first.
        let want = if src_lifo { [2, 1] } else { [1, 2] };
        assert_eq!(got, want, "src lifo {src_lifo}, dst lifo {dst_lifo}");

        let src = make(src_lifo);
        (1..=6).for_each(|i| src.push(i));
        let dst = make(dst_lifo);
        let first = src.stealer().steal_batch_and_pop(&dst);
        let got: Vec<_> = std::iter::from_fn(|| dst.pop()).collect();
        if src_lifo {
            assert_eq!((first, got), (Steal::Success(3), vec![2, 1]));
        } else {
            assert_eq!((first, got), (Steal::Success(1), vec![2, 3]));
        }
        assert_eq!(src.len(), 3);
    }
}

// spec: LF-62
#[test]
fn batch_limits() {
    for src in [Worker::new_fifo(), Worker::new_lifo()] {
        (0..200).for_each(|i| src.push(i));
        let s = src.stealer();
        let dst = Worker::new_fifo();
        assert!(s.steal_batch(&dst).is_success());
        assert_eq!(dst.len(), 32, "at most 32 per batch");
        assert!(s.steal_batch_with_limit(&dst, 5).is_success());
        assert_eq!(dst.len(), 37);
        assert!(s.steal_batch_and_pop(&dst).is_success());
        assert_eq!(dst.len(), 37 + 32, "33 taken, one returned");
        assert!(s.steal_batch_with_limit_and_pop(&dst, 1).is_success());
        assert_eq!(dst.len(), 69);
        // Half of what is left, when that is fewer.
        let small = Worker::new_lifo();
        (0..5).for_each(|i| small.push(i));
        assert!(small.stealer().steal_batch(&dst).is_success());
        assert_eq!(small.len(), 2);
        // A batch into the deque itself moves nothing.
        assert_eq!(s.steal_batch(&src), Steal::Success(()));
        let before = src.len();
        assert!(s.steal_batch_and_pop(&src).is_success());
        assert_eq!(src.len(), before - 1);
        assert_eq!(
            Worker::<u8>::new_lifo()
                .stealer()
                .steal_batch(&Worker::new_lifo()),
            Steal::Empty
        );
    }
    let zero = std::panic::catch_unwind(|| {
        let w = Worker::<u8>::new_fifo();
        let _ = w.stealer().steal_batch_with_limit(&Worker::new_fifo(), 0);
    })
    .unwrap_err();
    assert!(panic_message(&*zero).contains("limit must be non-zero"));
}

// spec: LF-63
#[test]
fn injector_is_a_fifo_with_batches() {
    static EMPTY: Injector<u8> = Injector::new();
    assert!(EMPTY.is_empty());
    assert_eq!(EMPTY.steal(), Steal::Empty);
    let q = Injector::new();
    (1..=6).for_each(|i| q.push(i));
    assert_eq!(q.len(), 6);
    assert_eq!(q.steal(), Steal::Success(1));
    let lifo = Worker::new_lifo();
    assert_eq!(q.steal_batch(&lifo), Steal::Success(()));
    assert_eq!(
        (lifo.pop(), lifo.pop(), lifo.pop()),
        (Some(2), Some(3), Some(4))
    );
    let fifo = Worker::new_fifo();
    // Two left: "about half" is one, which is returned, and nothing moves.
    assert_eq!(q.steal_batch_and_pop(&fifo), Steal::Success(5));
    assert!(fifo.is_empty());
    assert_eq!(q.steal_batch(&fifo), Steal::Success(()));
    assert_eq!(fifo.pop(), Some(6));
    assert_eq!(q.steal_batch(&fifo), Steal::Empty);
    assert_eq!(q.steal_batch_and_pop(&fifo), Steal::Empty);
    assert_eq!(
        format!("{q:?} {lifo:?} {:?}", lifo.stealer()),
        "Injector { .. } Worker { .. } Stealer { .. }"
    );
}

// spec: LF-64
#[test]
fn steal_outcomes() {
    let s: Steal<u8> = [Steal::Empty, Steal::Retry, Steal::Success(3)]
        .into_iter()
        .collect();
    assert_eq!(s, Steal::Success(3));
    assert_eq!(
        [Steal::<u8>::Empty, Steal::Retry]
            .into_iter()
            .collect::<Steal<u8>>(),
        Steal::Retry
    );
    assert_eq!(
        [Steal::<u8>::Empty].into_iter().collect::<Steal<u8>>(),
        Steal::Empty
    );
    assert_eq!(
        Steal::Empty.or_else(|| Steal::Success(1)),
        Steal::Success(1)
    );
    assert_eq!(Steal::Retry.or_else(|| Steal::<u8>::Empty), Steal::Retry);
    assert_eq!(
        Steal::Success(2).or_else(|| Steal::Success(1)),
        Steal::Success(2)
    );
    assert!(Steal::<u8>::Empty.is_empty() && Steal::<u8>::Retry.is_retry());
    assert!(Steal::Success(1).is_success());
    assert_eq!(Steal::Success(1).success(), Some(1));
    assert_eq!(Steal::<u8>::Retry.success(), None);
    assert_eq!(format!("{:?}", Steal::Success(1)), "Success(..)");
}

/// How the owner uses its end while the thieves steal.
#[derive(Clone, Copy)]
enum Owner {
    /// Pushes `total` items, popping after every third push, then pops the rest.
    PopsEveryThird,
    /// The shape of `join`: pushes three items and pops three times (fewer if thieves took
    /// some), over and over, so that the deque stays at 0-3 elements and a thief's claim
    /// races the owner's pop for the same element.
    JoinShape,
}

/// The owner works its end (`owner`) with `total` items while `thieves` threads steal
/// (single, or batch-and-pop into their own deque), pausing `pause` spins after each
/// attempt, until the owner is done and the deque is empty. Every item must be seen exactly
/// once and dropped exactly once.
fn owner_and_thieves(
    lifo: bool,
    thieves: usize,
    batch: bool,
    owner: Owner,
    total: usize,
    pause: u32,
) {
    watchdog(300, move || {
        let drops = Arc::new(AtomicUsize::new(0));
        let w: Worker<DropCounter> = if lifo {
            Worker::new_lifo()
        } else {
            Worker::new_fifo()
        };
        let owner_done = AtomicBool::new(false);
        let mut seen: Vec<usize> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..thieves)
                .map(|_| {
                    let (s, owner_done) = (w.stealer(), &owner_done);
                    scope.spawn(move || {
                        let mine = Worker::new_fifo();
                        let mut got = Vec::new();
                        loop {
                            let finished = owner_done.load(Ordering::Acquire);
                            let stolen = if batch {
                                s.steal_batch_and_pop(&mine)
                            } else {
                                s.steal()
                            };
                            match stolen {
                                Steal::Success(item) => got.push(item.value),
                                Steal::Empty if finished => break,
                                Steal::Empty | Steal::Retry => std::hint::spin_loop(),
                            }
                            while let Some(item) = mine.pop() {
                                got.push(item.value);
                            }
                            (0..pause).for_each(|_| std::hint::spin_loop());
                        }
                        got
                    })
                })
                .collect();
            let mut mine = Vec::new();
            match owner {
                Owner::PopsEveryThird => {
                    for i in 0..total {
                        w.push(DropCounter::new(i, &drops));
                        if i % 3 == 2 {
                            mine.extend(w.pop().map(|item| item.value));
                        }
                    }
                }
                Owner::JoinShape => {
                    for i in (0..total).step_by(3) {
                        (i..total.min(i + 3)).for_each(|k| w.push(DropCounter::new(k, &drops)));
                        for _ in 0..3 {
                            mine.extend(w.pop().map(|item| item.value));
                        }
                    }
                }
            }
            while let Some(item) = w.pop() {
                mine.push(item.value);
            }
            owner_done.store(true, Ordering::Release);
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .chain(mine)
                .collect()
        });
        seen.sort_unstable();
        assert_eq!(seen.len(), total, "lost or duplicated items");
        assert!(
            seen.iter().enumerate().all(|(i, &v)| i == v),
            "lost or duplicated items"
        );
        drop(w);
        assert_eq!(
            drops.load(Ordering::SeqCst),
            total,
            "every item dropped once"
        );
    });
}

// spec: LF-65
#[test]
fn lifo_owner_pops_every_third_while_two_thieves_steal() {
    owner_and_thieves(true, 2, false, Owner::PopsEveryThird, stress(200_000), 0);
}

// spec: LF-65
#[test]
fn fifo_owner_pops_every_third_while_two_thieves_steal() {
    owner_and_thieves(false, 2, false, Owner::PopsEveryThird, stress(200_000), 0);
}

/// Thieves that never pause keep the owner's pops fenced (LF-67).
// spec: LF-65, LF-67
#[test]
fn lifo_owner_in_join_shape_while_two_thieves_steal() {
    owner_and_thieves(true, 2, false, Owner::JoinShape, stress(300_000), 0);
}

/// Thieves that come by now and then: between visits the owner pops without a fence, so each
/// visit's first claims race unfenced pops, ordered only by the thief's barrier (LF-67).
// spec: LF-67
#[test]
fn lifo_owner_in_join_shape_while_two_thieves_come_by() {
    // Long enough for the owner to disarm between visits (miri is ~1000x slower).
    let pause = if cfg!(miri) { 4 } else { 4_000 };
    owner_and_thieves(true, 2, false, Owner::JoinShape, stress(6_000_000), pause);
    owner_and_thieves(true, 2, true, Owner::JoinShape, stress(6_000_000), pause);
}

// spec: LF-65, LF-62
#[test]
fn lifo_owner_with_two_batch_thieves() {
    owner_and_thieves(true, 2, true, Owner::PopsEveryThird, stress(200_000), 0);
}

// spec: LF-65, LF-62
#[test]
fn fifo_owner_with_two_batch_thieves() {
    owner_and_thieves(false, 2, true, Owner::PopsEveryThird, stress(200_000), 0);
}

// spec: LF-63, LF-65
#[test]
fn injector_two_producers_two_batch_stealers() {
    let per = stress(50_000);
    watchdog(300, move || {
        let q = Injector::new();
        let taken = AtomicUsize::new(0);
        let mut seen: Vec<usize> = std::thread::scope(|scope| {
            for p in 0..2 {
                let q = &q;
                scope.spawn(move || (0..per).for_each(|i| q.push(p * per + i)));
            }
            let handles: Vec<_> = (0..2)
                .map(|_| {
                    let (q, taken) = (&q, &taken);
                    scope.spawn(move || {
                        let mine = Worker::new_lifo();
                        let mut got = Vec::new();
                        while taken.load(Ordering::Relaxed) < 2 * per {
                            if let Steal::Success(v) = q.steal_batch_and_pop(&mine) {
                                got.push(v);
                                taken.fetch_add(1, Ordering::Relaxed);
                            }
                            while let Some(v) = mine.pop() {
                                got.push(v);
                                taken.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        got
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        });
        seen.sort_unstable();
        assert_eq!(seen, (0..2 * per).collect::<Vec<_>>());
    });
}

// spec: LF-21, LF-61
#[test]
fn dropping_a_non_empty_deque_drops_each_element_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    for (pushed, stolen) in [(0, 0), (1, 0), (64, 10), (65, 0), (300, 150)] {
        drops.store(0, Ordering::SeqCst);
        let w = Worker::new_lifo();
        let s = w.stealer();
        for i in 0..pushed {
            w.push(DropCounter::new(i, &drops));
        }
        for _ in 0..stolen {
            drop(s.steal().success().unwrap());
        }
        drop(w); // the stealer keeps the deque alive
        assert_eq!(drops.load(Ordering::SeqCst), stolen);
        drop(s);
        assert_eq!(
            drops.load(Ordering::SeqCst),
            pushed,
            "{pushed} pushed, {stolen} stolen"
        );
    }
    drops.store(0, Ordering::SeqCst);
    let q = Injector::new();
    (0..100).for_each(|i| q.push(DropCounter::new(i, &drops)));
    drop(q);
    assert_eq!(drops.load(Ordering::SeqCst), 100);
}
