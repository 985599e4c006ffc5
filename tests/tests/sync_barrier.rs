//! `routines::sync::Barrier`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use routines::sync::Barrier;
use routines_tests::{stress, watchdog};

// spec: SY-50, SY-51
#[test]
fn three_threads_two_thousand_generations_one_leader_each() {
    let generations = stress(2_000);
    watchdog(120, move || {
        let barrier = Arc::new(Barrier::new(3));
        let leaders: Arc<Vec<AtomicUsize>> =
            Arc::new((0..generations).map(|_| AtomicUsize::new(0)).collect());
        let arrived: Arc<Vec<AtomicUsize>> =
            Arc::new((0..generations).map(|_| AtomicUsize::new(0)).collect());
        let hs: Vec<_> = (0..3)
            .map(|_| {
                let (barrier, leaders, arrived) = (
                    Arc::clone(&barrier),
                    Arc::clone(&leaders),
                    Arc::clone(&arrived),
                );
                std::thread::spawn(move || {
                    for g in 0..generations {
                        arrived[g].fetch_add(1, Ordering::Relaxed);
                        if barrier.wait().is_leader() {
                            leaders[g].fetch_add(1, Ordering::Relaxed);
                        }
                        // Everyone of generation g arrived before anyone left it.
                        assert_eq!(arrived[g].load(Ordering::Relaxed), 3);
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        for (g, l) in leaders.iter().enumerate() {
            assert_eq!(l.load(Ordering::Relaxed), 1, "generation {g}");
        }
    });
}

// spec: SY-50
#[test]
fn more_threads_than_parties_form_separate_generations() {
    // Each round, 4 threads call `wait` once on a 2-party barrier: exactly two generations
    // of two, so exactly two leaders. A second barrier separates the rounds.
    let rounds = stress(300);
    watchdog(60, move || {
        let pairs = Arc::new(Barrier::new(2));
        let round_end = Arc::new(Barrier::new(4));
        let leaders: Arc<Vec<AtomicUsize>> =
            Arc::new((0..rounds).map(|_| AtomicUsize::new(0)).collect());
        let hs: Vec<_> = (0..4)
            .map(|_| {
                let (pairs, round_end, leaders) = (
                    Arc::clone(&pairs),
                    Arc::clone(&round_end),
                    Arc::clone(&leaders),
                );
                std::thread::spawn(move || {
                    for r in 0..rounds {
                        if pairs.wait().is_leader() {
                            leaders[r].fetch_add(1, Ordering::Relaxed);
                        }
                        round_end.wait();
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        for (r, l) in leaders.iter().enumerate() {
            assert_eq!(l.load(Ordering::Relaxed), 2, "round {r}");
        }
    });
}

// spec: SY-52
#[test]
fn zero_or_one_party_never_blocks() {
    for n in [0, 1] {
        let b = Barrier::new(n);
        for _ in 0..3 {
            assert!(b.wait().is_leader());
        }
    }
}

// spec: SY-4
#[test]
fn static_barrier() {
    static B: Barrier = Barrier::new(1);
    assert!(B.wait().is_leader());
}
