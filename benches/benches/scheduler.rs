//! Scheduling: `ThreadPool` spawn throughput vs the `threadpool` crate (rayon comparisons
//! come with the work-stealing scheduler).
//!
//! `cargo bench -p routines-benches --bench scheduler`; see `benches/README.md`.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use routines_benches::{pool_spawn, timed_cell, BenchPool};

fn cell<P: BenchPool>(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    jobs: u64,
) {
    let pool = P::new(2);
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

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(3));
    targets = spawn_throughput
}
criterion_main!(benches);
