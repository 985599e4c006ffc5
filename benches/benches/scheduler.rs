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

/// One contender's cell in group `g`: a fresh pool of `THREADS` workers, the workload
/// checked once (`check`), then timed (`sample`). Each group runs both contenders back to
/// back, so a change of the machine's speed between groups does not land on one contender.
fn stealer_cell<S: BenchStealer>(
    g: &mut Group<'_>,
    name: &str,
    case: &str,
    check: impl Fn(&S),
    sample: impl Fn(&S) -> Duration,
) {
    let pool = S::new(THREADS);
    check(&pool);
    timed_cell(g, name, case, || sample(&pool));
}

fn fib30<S: BenchStealer>(g: &mut Group<'_>, name: &str) {
    stealer_cell::<S>(
        g,
        name,
        "join",
        |pool| assert_eq!(pool.install(|| ws_fib::<S>(20)), 6765, "{name}"),
        |pool| {
            let start = Instant::now();
            black_box(pool.install(|| ws_fib::<S>(30)));
            start.elapsed()
        },
    );
}

fn sum<S: BenchStealer>(g: &mut Group<'_>, name: &str, v: &[u64], expect: u64) {
    stealer_cell::<S>(
        g,
        name,
        "join",
        |pool| assert_eq!(pool.install(|| ws_sum::<S>(v)), expect, "{name}"),
        |pool| {
            let start = Instant::now();
            black_box(pool.install(|| ws_sum::<S>(v)));
            start.elapsed()
        },
    );
}

fn quicksort<S: BenchStealer>(g: &mut Group<'_>, name: &str, input: &[u32]) {
    stealer_cell::<S>(
        g,
        name,
        "join",
        |pool| {
            let mut check = input.to_vec();
            pool.install(|| ws_quicksort::<S>(&mut check));
            assert!(check.windows(2).all(|w| w[0] <= w[1]), "{name}");
        },
        |pool| {
            let mut v = input.to_vec();
            let start = Instant::now();
            pool.install(|| ws_quicksort::<S>(&mut v));
            let took = start.elapsed();
            black_box(v);
            took
        },
    );
}

fn spawns<S: BenchStealer>(g: &mut Group<'_>, name: &str) {
    stealer_cell::<S>(
        g,
        name,
        "spawn",
        |pool| {
            ws_spawn(pool, 1_000);
        },
        |pool| ws_spawn(pool, 100_000),
    );
}

fn scope<S: BenchStealer>(g: &mut Group<'_>, name: &str) {
    stealer_cell::<S>(
        g,
        name,
        "spawn",
        |pool| {
            let sum = AtomicU64::new(0);
            pool.install(|| S::scope_spawns(1_000, &sum));
            assert_eq!(sum.load(Ordering::Relaxed), 1_000 * 999 / 2, "{name}");
        },
        |pool| {
            let sum = AtomicU64::new(0);
            let start = Instant::now();
            pool.install(|| S::scope_spawns(1_000, &sum));
            start.elapsed()
        },
    );
}

fn work_stealing(c: &mut Criterion) {
    type Ours = routines::scheduler::Scheduler;
    type Rayon = rayon::ThreadPool;

    let mut g = c.benchmark_group("ws_fib30");
    fib30::<Ours>(&mut g, "routines");
    fib30::<Rayon>(&mut g, "rayon");
    g.finish();

    let mut g = c.benchmark_group("ws_sum_1e7");
    let v: Vec<u64> = (0..10_000_000).collect();
    let expect = v.iter().sum::<u64>();
    sum::<Ours>(&mut g, "routines", &v, expect);
    sum::<Rayon>(&mut g, "rayon", &v, expect);
    g.finish();

    let mut g = c.benchmark_group("ws_quicksort_1e6");
    let input = random_u32s(1_000_000);
    quicksort::<Ours>(&mut g, "routines", &input);
    quicksort::<Rayon>(&mut g, "rayon", &input);
    g.finish();

    let mut g = c.benchmark_group("ws_spawn_1e5");
    g.throughput(Throughput::Elements(100_000));
    spawns::<Ours>(&mut g, "routines");
    spawns::<Rayon>(&mut g, "rayon");
    g.finish();

    let mut g = c.benchmark_group("ws_scope_1000");
    scope::<Ours>(&mut g, "routines");
    scope::<Rayon>(&mut g, "rayon");
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(3));
    targets = spawn_throughput, work_stealing
}
criterion_main!(benches);
