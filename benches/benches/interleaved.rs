//! Order-robust cross-check of the contended `sync` cells, SPSC and the deque: contenders take turns, one sample
//! each per round, in an order rotated every round, so that drift in machine state (CPU
//! frequency, other load) hits all of them alike. Prints medians and `peer / routines`.
//!
//! `cargo bench -p routines-benches --bench interleaved` (about a minute). Criterion's own
//! groups (`--bench sync`) time contenders one after another; this run checks that their
//! ratios do not come from drift between groups. The quartiles show how bimodal contended
//! workloads are on a shared 2-core machine.

use std::time::Duration;

use routines_benches::{mutex_contended, rwlock_read_heavy};

type Sample = fn() -> Duration;

const OPS: u64 = 20_000;
const ROUNDS: usize = 41;

/// (25th percentile, median, 75th percentile).
fn quartiles(mut v: Vec<Duration>) -> (Duration, Duration, Duration) {
    v.sort();
    (v[v.len() / 4], v[v.len() / 2], v[3 * v.len() / 4])
}

fn run(label: &str, contenders: &[(&str, Sample)]) {
    // Sanity: every contender runs once untimed first (warm-up).
    for (_, sample) in contenders {
        sample();
    }
    let mut samples: Vec<Vec<Duration>> = vec![Vec::with_capacity(ROUNDS); contenders.len()];
    for round in 0..ROUNDS {
        for k in 0..contenders.len() {
            let i = (round + k) % contenders.len();
            samples[i].push((contenders[i].1)());
        }
    }
    let quartiles: Vec<_> = samples.into_iter().map(quartiles).collect();
    let ours = quartiles[0].1;
    for ((name, _), (q1, m, q3)) in contenders.iter().zip(&quartiles) {
        println!(
            "{label:22} {name:12} median {:>8.1} us (quartiles {:>8.1} .. {:>8.1})   peer/routines {:.2}",
            m.as_secs_f64() * 1e6,
            q1.as_secs_f64() * 1e6,
            q3.as_secs_f64() * 1e6,
            m.as_secs_f64() / ours.as_secs_f64()
        );
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return; // `cargo test --benches` / criterion-style discovery: nothing to run
    }
    for threads in [2usize, 4] {
        let label = format!("mutex_contended_{threads}");
        let c: [(&str, Sample); 3] = match threads {
            2 => [
                ("routines", || {
                    mutex_contended::<routines::sync::Mutex<u64>>(2, OPS).0
                }),
                ("std", || mutex_contended::<std::sync::Mutex<u64>>(2, OPS).0),
                ("parking_lot", || {
                    mutex_contended::<parking_lot::Mutex<u64>>(2, OPS).0
                }),
            ],
            _ => [
                ("routines", || {
                    mutex_contended::<routines::sync::Mutex<u64>>(4, OPS).0
                }),
                ("std", || mutex_contended::<std::sync::Mutex<u64>>(4, OPS).0),
                ("parking_lot", || {
                    mutex_contended::<parking_lot::Mutex<u64>>(4, OPS).0
                }),
            ],
        };
        run(&label, &c);
    }
    run(
        "spsc_single",
        &[
            ("routines", || {
                routines_benches::spsc_routines::single(200_000, 256).0
            }),
            ("rtrb", || {
                routines_benches::spsc_rtrb::single(200_000, 256).0
            }),
        ],
    );
    run(
        "spsc_chunked",
        &[
            ("routines", || {
                routines_benches::spsc_routines::chunked(200_000, 256, 64).0
            }),
            ("rtrb", || {
                routines_benches::spsc_rtrb::chunked(200_000, 256, 64).0
            }),
        ],
    );
    use routines_benches::{deque_crossbeam as cb, deque_routines as ours};
    run(
        "deque_push_pop",
        &[
            ("routines", || ours::push_pop(64 * 2_000).0),
            ("crossbeam", || cb::push_pop(64 * 2_000).0),
        ],
    );
    run(
        "deque_steal_uncontended",
        &[
            ("routines", || ours::steal_uncontended(64 * 2_000).0),
            ("crossbeam", || cb::steal_uncontended(64 * 2_000).0),
        ],
    );
    run(
        "deque_steal_contended",
        &[
            ("routines", || ours::steal_contended(100_000).0),
            ("crossbeam", || cb::steal_contended(100_000).0),
        ],
    );
    run(
        "rwlock_read_heavy_4",
        &[
            ("routines", || {
                rwlock_read_heavy::<routines::sync::RwLock<u64>>(4, OPS, 100).0
            }),
            ("std", || {
                rwlock_read_heavy::<std::sync::RwLock<u64>>(4, OPS, 100).0
            }),
            ("parking_lot", || {
                rwlock_read_heavy::<parking_lot::RwLock<u64>>(4, OPS, 100).0
            }),
        ],
    );
}
