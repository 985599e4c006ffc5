//! Scheduling: `ThreadPool` spawn throughput vs the `threadpool` crate, and the
//! work-stealing `Scheduler` vs rayon (fib via join, recursive sum, quicksort, spawn
//! throughput, scope with 1 000 spawns).
//!
//! `cargo bench -p routines-benches --bench scheduler`; see `benches/README.md`.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use routines_benches::{
    pool_spawn, random_u32s, timed_cell, ws_fib, ws_quicksort, ws_spawn, ws_sum, BenchPool,
    BenchStealer,
};

type Group<'a> = BenchmarkGroup<'a, criterion::measurement::WallTime>;

const THREADS: usize = 2;

fn cell<P: BenchPool>(g: &mut Group<'_>, name: &str, jobs: u64) {
    let pool = P::new(THREADS);
    assert_eq!(pool_spawn(&pool, 1_000).1, 1_000 * 999 / 2, "{name}");
    timed_cell(g, name, "spawn", || pool_spawn(&pool, jobs).0);
}

fn spawn_throughput(c: &mut Criterion) {
    let jobs = 100_000;
    let mut g = c.benchmark_group("pool_spawn_100k");
    g.throughput(Throughput::Elements(jobs));
    cell::<routines::scheduler::ThreadPool>(&mut g, "routines", jobs);
    cell::<threadpool::ThreadPool>(&mut g, "threadpool", jobs);
    g.finish();
}

/// Every work-stealing cell for one contender; each workload is checked before timing.
fn stealer_cells<S: BenchStealer>(c: &mut Criterion, name: &str) {
    let pool = S::new(THREADS);

    let mut g = c.benchmark_group("ws_fib30");
    assert_eq!(pool.install(|| ws_fib::<S>(20)), 6765, "{name}");
    timed_cell(&mut g, name, "join", || {
        let start = Instant::now();
        black_box(pool.install(|| ws_fib::<S>(30)));
        start.elapsed()
    });
    g.finish();

    let mut g = c.benchmark_group("ws_sum_1e7");
    let v: Vec<u64> = (0..10_000_000).collect();
    let expect = v.iter().sum::<u64>();
    assert_eq!(pool.install(|| ws_sum::<S>(&v)), expect, "{name}");
    timed_cell(&mut g, name, "join", || {
        let start = Instant::now();
        black_box(pool.install(|| ws_sum::<S>(&v)));
        start.elapsed()
    });
    g.finish();

    let mut g = c.benchmark_group("ws_quicksort_1e6");
    let input = random_u32s(1_000_000);
    let mut check = input.clone();
    pool.install(|| ws_quicksort::<S>(&mut check));
    assert!(check.windows(2).all(|w| w[0] <= w[1]), "{name}");
    timed_cell(&mut g, name, "join", || {
        let mut v = input.clone();
        let start = Instant::now();
        pool.install(|| ws_quicksort::<S>(&mut v));
        let took = start.elapsed();
        black_box(v);
        took
    });
    g.finish();

    let mut g = c.benchmark_group("ws_spawn_1e5");
    g.throughput(Throughput::Elements(100_000));
    ws_spawn(&pool, 1_000);
    timed_cell(&mut g, name, "spawn", || ws_spawn(&pool, 100_000));
    g.finish();

    let mut g = c.benchmark_group("ws_scope_1000");
    let sum = AtomicU64::new(0);
    pool.install(|| S::scope_spawns(1_000, &sum));
    assert_eq!(sum.load(Ordering::Relaxed), 1_000 * 999 / 2, "{name}");
    timed_cell(&mut g, name, "spawn", || {
        let sum = AtomicU64::new(0);
        let start = Instant::now();
        pool.install(|| S::scope_spawns(1_000, &sum));
        start.elapsed()
    });
    g.finish();
}

fn work_stealing(c: &mut Criterion) {
    stealer_cells::<routines::scheduler::Scheduler>(c, "routines");
    stealer_cells::<rayon::ThreadPool>(c, "rayon");
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(3));
    targets = spawn_throughput, work_stealing
}
criterion_main!(benches);
