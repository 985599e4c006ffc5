//! Profiling and A/B aid for the `ThreadPool` cell: 100 000 empty jobs submitted from one
//! thread, then `join`, on one long-lived pool; prints the median of 20 runs in us. Alternate
//! processes to compare contenders on a noisy machine:
//! `cargo run --release -p routines-benches --example pool_probe -- routines|threadpool`
//! (`THREADS=n` workers, 2 by default).

use routines_benches::{pool_spawn, BenchPool};

fn run<P: BenchPool>() {
    let threads = std::env::var("THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2);
    let pool = P::new(threads);
    let mut times: Vec<f64> = (0..20)
        .map(|_| {
            let (took, sum) = pool_spawn(&pool, 100_000);
            assert_eq!(sum, 100_000 * 99_999 / 2);
            took.as_secs_f64() * 1e6
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!("{:.1}", times[times.len() / 2]);
}

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("threadpool") => run::<threadpool::ThreadPool>(),
        _ => run::<routines::scheduler::ThreadPool>(),
    }
}
