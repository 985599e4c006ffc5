//! Mutex and RwLock: routines vs `std::sync` vs `parking_lot`, in one run.
//!
//! `cargo bench -p routines-benches --bench sync`; see `benches/README.md` for workloads and
//! how to read the ratios.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use routines_benches::{mutex_contended, rwlock_read_heavy, timed_cell, BenchMutex, BenchRwLock};

type Routines = routines::sync::Mutex<u64>;
type Std = std::sync::Mutex<u64>;
type ParkingLot = parking_lot::Mutex<u64>;
type RoutinesRw = routines::sync::RwLock<u64>;
type StdRw = std::sync::RwLock<u64>;
type ParkingLotRw = parking_lot::RwLock<u64>;

/// Operations per thread in one contended sample.
const OPS: u64 = 20_000;
/// In the read-heavy RwLock workload, one write per this many operations.
const WRITE_EVERY: u64 = 100;

fn uncontended<L: BenchMutex>(
    c: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
) {
    let lock = L::new(0);
    // Sanity check before timing.
    for _ in 0..10 {
        lock.with(|v| *v += 1);
    }
    assert_eq!(lock.with(|v| *v), 10, "{} miscounts", L::NAME);
    c.bench_function(BenchmarkId::new(L::NAME, "1 thread"), |b| {
        b.iter(|| lock.with(|v| *v = black_box(*v + 1)))
    });
}

fn contended<L: BenchMutex>(
    c: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    threads: usize,
) {
    assert_eq!(
        mutex_contended::<L>(threads, 1_000).1,
        threads as u64 * 1_000,
        "{} miscounts",
        L::NAME
    );
    timed_cell(c, L::NAME, &format!("{threads} threads"), || {
        mutex_contended::<L>(threads, OPS).0
    });
}

fn read_heavy<L: BenchRwLock>(
    c: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    threads: usize,
) {
    assert_eq!(
        rwlock_read_heavy::<L>(threads, 1_000, WRITE_EVERY).1,
        threads as u64 * 1_000 / WRITE_EVERY,
        "{} miscounts",
        L::NAME
    );
    timed_cell(c, L::NAME, &format!("{threads} threads"), || {
        rwlock_read_heavy::<L>(threads, OPS, WRITE_EVERY).0
    });
}

fn mutex(c: &mut Criterion) {
    let mut g = c.benchmark_group("mutex_uncontended");
    g.throughput(Throughput::Elements(1));
    uncontended::<Routines>(&mut g);
    uncontended::<Std>(&mut g);
    uncontended::<ParkingLot>(&mut g);
    g.finish();

    for threads in [2, 4] {
        // Bring the machine to a steady state (thread-stack caches, CPU frequency) before
        // the first contender of the group is timed.
        let warm_until = std::time::Instant::now() + Duration::from_secs(2);
        while std::time::Instant::now() < warm_until {
            mutex_contended::<Routines>(threads, OPS);
            mutex_contended::<Std>(threads, OPS);
            mutex_contended::<ParkingLot>(threads, OPS);
        }
        let mut g = c.benchmark_group(format!("mutex_contended_{threads}"));
        g.throughput(Throughput::Elements(threads as u64 * OPS));
        contended::<Routines>(&mut g, threads);
        contended::<Std>(&mut g, threads);
        contended::<ParkingLot>(&mut g, threads);
        g.finish();
    }
}

fn rwlock(c: &mut Criterion) {
    for threads in [1, 4] {
        let warm_until = std::time::Instant::now() + Duration::from_secs(2);
        while std::time::Instant::now() < warm_until {
            rwlock_read_heavy::<RoutinesRw>(threads, OPS, WRITE_EVERY);
            rwlock_read_heavy::<StdRw>(threads, OPS, WRITE_EVERY);
            rwlock_read_heavy::<ParkingLotRw>(threads, OPS, WRITE_EVERY);
        }
        let mut g = c.benchmark_group(format!("rwlock_read_heavy_{threads}"));
        g.throughput(Throughput::Elements(threads as u64 * OPS));
        read_heavy::<RoutinesRw>(&mut g, threads);
        read_heavy::<StdRw>(&mut g, threads);
        read_heavy::<ParkingLotRw>(&mut g, threads);
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    targets = mutex, rwlock
}
criterion_main!(benches);
