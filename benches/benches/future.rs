//! Futures and structured concurrency: promise resolve -> wait latency vs the `oneshot`
//! crate and `std::sync::mpsc::sync_channel(1)`; `all` over 1 000 futures (with a std
//! baseline); `scope` spawn/join vs `std::thread::scope`.
//!
//! `cargo bench -p routines-benches --bench future`; see `benches/README.md`.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use routines_benches::{
    future_all, oneshot_ping_pong, scope_routines, scope_std, std_wait_each, timed_cell,
    OneshotCrate, RoutinesPromise, StdSyncChannel,
};

/// One sample: the size in, the time and a checksum out.
type Run = fn(u64) -> (Duration, u64);

fn latency(c: &mut Criterion) {
    let contenders: [(&str, Run); 3] = [
        ("routines", oneshot_ping_pong::<RoutinesPromise>),
        ("oneshot", oneshot_ping_pong::<OneshotCrate>),
        ("std", oneshot_ping_pong::<StdSyncChannel>),
    ];
    let rounds = 5_000;
    let mut g = c.benchmark_group("future_resolve_wait_pingpong");
    g.throughput(Throughput::Elements(rounds));
    for (name, run) in contenders {
        assert_eq!(run(100).1, 99 * 100 / 2, "{name}");
        timed_cell(&mut g, name, "pingpong", || run(rounds).0);
    }
    g.finish();
}

fn all_1000(c: &mut Criterion) {
    let n = 1_000;
    let mut g = c.benchmark_group("future_all_1000");
    g.throughput(Throughput::Elements(n));
    let contenders: [(&str, Run); 2] = [("routines", future_all), ("std", std_wait_each)];
    for (name, run) in contenders {
        assert_eq!(run(n).1, n * (n - 1) / 2, "{name}");
        timed_cell(&mut g, name, "all", || run(n).0);
    }
    g.finish();
}

fn scope_spawn_join(c: &mut Criterion) {
    let tasks = 64;
    let mut g = c.benchmark_group("structured_scope_64");
    g.throughput(Throughput::Elements(tasks));
    let contenders: [(&str, Run); 2] = [("routines", scope_routines), ("std", scope_std)];
    for (name, run) in contenders {
        assert_eq!(run(tasks).1, tasks * (tasks - 1) / 2, "{name}");
        timed_cell(&mut g, name, "spawn_join", || run(tasks).0);
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(2));
    targets = latency, all_1000, scope_spawn_join
}
criterion_main!(benches);
